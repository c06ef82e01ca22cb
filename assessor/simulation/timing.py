"""When simulated people pay and play: day kinds from the school calendar, hour tables per person.

A person's clock is a joint weight over (day, hour) for the disputed period: day weights from
the kind of day (school day, weekend, holiday, vacation, online-class day; workday or day off for
adults), hour tables from the data file, and, on accounts the platform treats as a minor's, the
national play-time rules. Calendar look-ups are cached per date, so 10,000 cases stay fast.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

import numpy as np

from assessor.simulation.params import Timing

# Child day kinds (indices into the child hour-table stack) and adult day kinds.
SCHOOL, WEEKEND, HOLIDAY, VACATION, ONLINE, WORKING_WEEKEND = range(6)
CHILD_KINDS = ("school", "weekend", "holiday", "vacation", "online_class", "working_weekend")
WORK, OFF, ADULT_HOLIDAY, HOME = range(4)
ADULT_KINDS = ("work", "off", "holiday", "home")


@cache
def _calendar():
    from assessor.calendar import SchoolCalendar

    return SchoolCalendar.default()


@cache
def day_kinds(day: date) -> tuple[int, int]:
    """(child kind, adult kind) of a date, from the school calendar."""
    info = _calendar().day(day)
    weekend = day.weekday() >= 5 and not info.is_working_weekend
    if info.is_statutory_holiday:
        return HOLIDAY, ADULT_HOLIDAY
    if info.closure and not weekend:
        return ONLINE, HOME
    if info.vacation:
        return VACATION, (OFF if weekend else WORK)
    if info.is_working_weekend:
        return WORKING_WEEKEND, WORK
    if info.is_school_day:
        return SCHOOL, WORK
    return WEEKEND, (OFF if weekend else WORK)


@cache
def _month_length(day: date) -> int:
    return ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day


@cache
def minor_hours(day: date) -> tuple[bool, ...]:
    """For each hour of a date: may a game serve a minor then (no national rule yet = yes)?"""
    calendar = _calendar()
    allowed = (calendar.minor_play_allowed(datetime(day.year, day.month, day.day, h, 30)) for h in range(24))
    return tuple(a is None or bool(a) for a in allowed)


@cache
def _span(first: date, last: date) -> tuple[list[date], np.ndarray]:
    """Every date of the simulated years with (child kind, adult kind, day of month, month length)."""
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    table = np.array([(*day_kinds(d), d.day, _month_length(d)) for d in dates], dtype=np.int64)
    return dates, table


class Window:
    """The disputed period: its days and their kinds, shared by everyone in the case."""

    def __init__(self, start: date, days: int, span: tuple[date, date]) -> None:
        self.start = start
        self.days = days
        all_dates, table = _span(*span)
        offset = (start - span[0]).days
        if offset < 0 or offset + days > len(all_dates):
            raise ValueError(f"window {start} + {days} days lies outside {span[0]}..{span[1]}")
        self.dates = all_dates[offset:offset + days]
        rows = table[offset:offset + days]
        self.child_kind, self.adult_kind, self.day_of_month, self.month_length = rows.T
        self._minor_mask: np.ndarray | None = None

    @property
    def end(self) -> date:
        return self.dates[-1]

    def minor_mask(self) -> np.ndarray:
        """days x 24 booleans: hours in which a verified-minor account may be served."""
        if self._minor_mask is None:
            self._minor_mask = np.array([minor_hours(d) for d in self.dates], dtype=bool)
        return self._minor_mask


def _night_boost(table: np.ndarray, factor: float) -> np.ndarray:
    boosted = table.copy()
    boosted[..., [23, 0, 1, 2, 3]] *= factor
    return boosted


class Clock:
    """A person's joint (day, hour) weights over the window; samples moments of play or payment."""

    def __init__(self, window: Window, weights: np.ndarray, restricted: bool) -> None:
        self.window = window
        self.restricted = restricted
        if restricted:
            weights = weights * window.minor_mask()
        total = weights.sum()
        self._p = (weights / total).ravel() if total > 0 else None

    @property
    def can_play(self) -> bool:
        return self._p is not None

    def sample(self, rng: np.random.Generator, n: int) -> list[datetime]:
        """n moments, each a random minute inside a drawn (day, hour) cell."""
        if n <= 0 or self._p is None:
            return []
        cells = rng.choice(self._p.size, size=n, p=self._p)
        seconds = rng.integers(0, 3600, size=n)
        out = []
        for cell, sec in zip(cells.tolist(), seconds.tolist(), strict=True):
            d = self.window.dates[cell // 24]
            out.append(datetime(d.year, d.month, d.day, cell % 24) + timedelta(seconds=sec))
        return out

    def allowed_span(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """For restricted accounts, the run of allowed hours containing ``moment``."""
        if not self.restricted:
            return None
        index = (moment.date() - self.window.start).days
        if not 0 <= index < self.window.days:
            return None
        row = self.window.minor_mask()[index]
        hour = moment.hour
        lo = hour
        while lo > 0 and row[lo - 1]:
            lo -= 1
        hi = hour
        while hi < 23 and row[hi + 1]:
            hi += 1
        base = datetime(moment.year, moment.month, moment.day)
        return base + timedelta(hours=lo), base + timedelta(hours=hi + 1) - timedelta(seconds=1)


def child_clock(window: Window, timing: Timing, *, age: int, night_owl: bool, restricted: bool) -> Clock:
    """A school child's clock: school timetable by age, free days, online classes."""
    school = timing.child_primary_school_day if age <= 11 else timing.child_secondary_school_day
    tables = np.array([
        school,                        # SCHOOL
        timing.child_free_day,         # WEEKEND
        timing.child_free_day,         # HOLIDAY
        timing.child_free_day,         # VACATION
        timing.child_online_class_day,  # ONLINE
        school,                        # WORKING_WEEKEND (调休: a school day)
    ])
    if night_owl:
        tables = _night_boost(tables, timing.night_owl_factor)
    day_w = np.array([timing.child_day_weights[k] for k in CHILD_KINDS])[window.child_kind]
    return Clock(window, day_w[:, None] * tables[window.child_kind], restricted)


def adult_clock(window: Window, timing: Timing, *, worker: str, night_owl: bool, payday: int,
                restricted: bool) -> Clock:
    """An adult's clock: work hours by worker type ('office', 'shift', 'flexible', 'retired')."""
    work_table = {
        "office": timing.adult_office_work_day,
        "shift": timing.adult_shift_work_day,
        "flexible": timing.adult_free_day,
        "retired": timing.adult_retired_day,
    }[worker]
    free_table = timing.adult_retired_day if worker == "retired" else timing.adult_free_day
    tables = np.array([work_table, free_table, free_table, free_table])
    if night_owl:
        tables = _night_boost(tables, timing.night_owl_factor)
    kind_w = np.array([timing.adult_day_weights[k] for k in ADULT_KINDS])
    if worker in ("flexible", "retired"):
        kind_w = np.full(4, kind_w.mean())
    since_payday = window.day_of_month - np.minimum(payday, window.month_length)
    day_w = kind_w[window.adult_kind] * np.where((since_payday >= 0) & (since_payday <= 2), timing.payday_boost, 1.0)
    return Clock(window, day_w[:, None] * tables[window.adult_kind], restricted)
