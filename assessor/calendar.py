"""School calendar for timing evidence: holidays, 调休, vacations, closures, school hours
and the national play-time rules for minors.

Why: a payment at 10:00 on a school day points away from a pupil, one at 20:30 on a
Saturday in summer does not, and whether a minor was allowed to play at that moment is
a regulatory finding. Statutory holidays and 调休 working weekends come from the
`holidays` package (State Council notices); everything an office may want to change
(term dates, closures, hours, rules with citations) lives in ``data/calendar.toml``.
"""

from __future__ import annotations

import os
import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

SPRING_FESTIVAL = "Chinese New Year (Spring Festival)"  # holiday name in holidays' en_US names
NATIONAL_REGION = "CN"
_DAY_MINUTES = 24 * 60


class TimeBand(StrEnum):
    late_night = "late_night"
    early_morning = "early_morning"
    school_hours = "school_hours"
    after_school = "after_school"
    bedtime = "bedtime"


class CalendarFileError(ValueError):
    """A calendar file is unreadable or invalid; the message names the file and the field."""


# --- value parsers -------------------------------------------------------------------


def _clock_minutes(value: Any) -> int:
    """'HH:MM' (00:00..24:00) -> minutes since midnight, so a band may end at 24:00."""
    if isinstance(value, str):
        hh, sep, mm = value.strip().partition(":")
        if sep and hh.isdigit() and mm.isdigit() and len(mm) == 2 and int(mm) < 60:
            minutes = int(hh) * 60 + int(mm)
            if minutes <= _DAY_MINUTES:
                return minutes
    raise ValueError(f"expected a clock time 'HH:MM' from 00:00 to 24:00, got {value!r}")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _month_day(value: Any) -> tuple[int, int]:
    """'MM-DD' -> (month, day); 02-29 is allowed and falls back to 02-28 in common years."""
    if isinstance(value, str):
        month, sep, day = value.strip().partition("-")
        if sep and month.isdigit() and day.isdigit():
            try:
                date(2000, int(month), int(day))
            except ValueError:
                pass
            else:
                return int(month), int(day)
    raise ValueError(f"expected a month-day 'MM-DD' such as '07-01', got {value!r}")


Clock = Annotated[int, BeforeValidator(_clock_minutes)]
MonthDay = Annotated[tuple[int, int], BeforeValidator(_month_day)]


def _on(year: int, month_day: tuple[int, int]) -> date:
    try:
        return date(year, *month_day)
    except ValueError:  # 02-29 in a common year
        return date(year, 2, 28)


def _ordered(window: tuple[date, date]) -> tuple[date, date]:
    if window[1] < window[0]:
        raise ValueError(f"end {window[1]} is before start {window[0]}")
    return window


DateRange = Annotated[tuple[date, date], AfterValidator(_ordered)]


# --- data file models ------------------------------------------------------------------


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _VacationBase(_Entry):
    name: str = Field(min_length=1)
    enabled: bool = True
    source: str = "assumption"
    by_year: dict[int, DateRange] = {}

    def window(self, year: int, festival: date | None) -> tuple[date, date] | None:
        """The vacation belonging to `year` (exact by_year dates win over the rule)."""
        return self.by_year.get(year) or self._rule_window(year, festival)

    def _rule_window(self, year: int, festival: date | None) -> tuple[date, date] | None:
        raise NotImplementedError


class AnnualVacation(_VacationBase):
    """Same month-day range every year; start after end wraps into the next year."""

    kind: Literal["annual"]
    start: MonthDay
    end: MonthDay

    def _rule_window(self, year: int, festival: date | None) -> tuple[date, date]:
        end_year = year + 1 if self.end < self.start else year
        return _on(year, self.start), _on(end_year, self.end)


class FestivalVacation(_VacationBase):
    """A window around that year's Spring Festival, so winter vacation moves with the lunar calendar."""

    kind: Literal["spring_festival"]
    days_before: int = Field(ge=0, le=90)
    days_after: int = Field(ge=0, le=90)

    def _rule_window(self, year: int, festival: date | None) -> tuple[date, date] | None:
        if festival is None:
            return None
        return festival - timedelta(days=self.days_before), festival + timedelta(days=self.days_after)


class DatedVacation(_Entry):
    """A one-off vacation with full dates (belongs to the year it starts in)."""

    kind: Literal["dated"]
    name: str = Field(min_length=1)
    start: date
    end: date
    enabled: bool = True
    source: str = "assumption"

    @model_validator(mode="after")
    def _check_order(self) -> DatedVacation:
        _ordered((self.start, self.end))
        return self

    def window(self, year: int, festival: date | None) -> tuple[date, date] | None:
        return (self.start, self.end) if year == self.start.year else None


Vacation = Annotated[AnnualVacation | FestivalVacation | DatedVacation, Field(discriminator="kind")]


class Closure(_Entry):
    """A region-wide school closure (children home, usually with online classes)."""

    id: str = Field(min_length=1)
    name_en: str = ""
    name_zh: str = ""
    start: date
    end: date
    region: str = Field(min_length=1)
    scope: str = ""
    source: str = Field(min_length=1)
    note: str = ""
    enabled: bool = True

    @model_validator(mode="after")
    def _check_order(self) -> Closure:
        _ordered((self.start, self.end))
        return self


class PlayRule(_Entry):
    """A national rule on when games may serve minors, with its document and citation."""

    id: str = Field(min_length=1)
    document: str
    effective_from: date
    effective_to: date | None = None
    allowed_from: time
    allowed_to: time
    weekdays: frozenset[Annotated[int, Field(ge=0, le=6)]]
    on_statutory_holidays: bool
    on_working_weekends: bool
    citation: str = Field(min_length=1)
    summary_en: str
    summary_zh: str

    @model_validator(mode="after")
    def _consistent(self) -> PlayRule:
        if self.allowed_to <= self.allowed_from:
            raise ValueError("allowed_to must be after allowed_from")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    def in_force(self, d: date) -> bool:
        return self.effective_from <= d and (self.effective_to is None or d <= self.effective_to)


class CalendarData(_Entry):
    """The validated content of a calendar file (defaults merged with an office file)."""

    version: str = Field(pattern=r"^\d{4}\.\d{2}\.\d+$")
    office: str = ""
    timezone: str = "Asia/Shanghai"
    region: str = ""
    bands: dict[TimeBand, tuple[Clock, Clock]]
    vacations: list[Vacation] = []
    closures: list[Closure] = []
    play_rules: list[PlayRule] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("bands")
    @classmethod
    def _bands_cover_day(cls, value: dict[TimeBand, tuple[int, int]]) -> dict[TimeBand, tuple[int, int]]:
        missing = [band.value for band in TimeBand if band not in value]
        if missing:
            raise ValueError(f"missing band(s): {', '.join(missing)}")
        edge = 0
        for band, (start, end) in sorted(value.items(), key=lambda item: item[1]):
            if start != edge or end <= start:
                raise ValueError(f"bands must cover 00:00-24:00 in order without gaps or overlaps: "
                                 f"{band.value} starts at {_hhmm(start)} but the band before it ends at "
                                 f"{_hhmm(edge)}")
            edge = end
        if edge != _DAY_MINUTES:
            raise ValueError("the last band must end at 24:00")
        return value

    @model_validator(mode="after")
    def _unique_and_disjoint(self) -> CalendarData:
        for label, keys in (("vacation name", [v.name for v in self.vacations]),
                            ("closure id", [c.id for c in self.closures]),
                            ("play rule id", [r.id for r in self.play_rules])):
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"duplicate {label}: {', '.join(dupes)}")
        rules = sorted(self.play_rules, key=lambda r: r.effective_from)
        for earlier, later in zip(rules, rules[1:], strict=False):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                raise ValueError(f"play rules {earlier.id} and {later.id} overlap in time")
        return self


# --- reading and merging files ------------------------------------------------------------

_KEYED_LISTS = {"vacations": "name", "closures": "id", "play_rules": "id"}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CalendarFileError(f"calendar file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CalendarFileError(f"calendar file {path}: not valid TOML: {exc}") from None


def _merge_entries(base: list[Any], office: Any, key: str, fieldwise: bool) -> Any:
    """Office entries replace (or, for vacations of the same kind, update) same-keyed defaults."""
    if not isinstance(office, list):
        return office  # let validation report the wrong type
    merged = list(base)
    index = {item.get(key): i for i, item in enumerate(merged) if isinstance(item, dict)}
    for item in office:
        i = index.get(item.get(key)) if isinstance(item, dict) else None
        if i is None:
            merged.append(item)
        elif fieldwise and item.get("kind", merged[i].get("kind")) == merged[i].get("kind"):
            merged[i] = {**merged[i], **item}
        else:
            merged[i] = item
    return merged


def _merge(base: dict[str, Any], office: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **office}
    if isinstance(office.get("bands"), dict):
        merged["bands"] = {**base["bands"], **office["bands"]}
    for name, key in _KEYED_LISTS.items():
        if name in office:
            merged[name] = _merge_entries(base.get(name, []), office[name], key, fieldwise=name == "vacations")
    return merged


def _where(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """Turn a pydantic location into 'vacations[summer].start' (names, not list indexes)."""
    parts: list[str] = []
    node: Any = raw
    skip_tag = False
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            field = parts[-1] if parts else ""
            label = node.get(_KEYED_LISTS.get(field, ""), step) if isinstance(node, dict) else step
            parts[-1:] = [f"{field}[{label}]"]
            skip_tag = field == "vacations"
            continue
        if skip_tag and isinstance(node, dict) and step == node.get("kind"):
            skip_tag = False  # discriminator tag added by pydantic, not a field
            continue
        skip_tag = False
        node = node.get(step) if isinstance(node, dict) else None
        parts.append(str(step))
    return ".".join(parts) or "(file)"


def _validate(raw: dict[str, Any], source: Path) -> CalendarData:
    try:
        return CalendarData.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            got = f" (got {err['input']!r})" if err["type"] not in ("missing", "value_error") else ""
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{_where(err['loc'], raw)}: {msg}{got}")
        raise CalendarFileError(f"calendar file {source}: " + "; ".join(lines)) from None


def _default_path() -> Path:
    return Path(str(resources.files("assessor") / "data" / "calendar.toml"))


@cache
def _default_raw() -> dict[str, Any]:
    return _read_toml(_default_path())


# --- holiday data per year ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Year:
    holidays: dict[date, str]
    working_weekends: frozenset[date]
    festival: date | None


@cache
def _china_year(year: int) -> _Year:
    """One holidays.China population per year: names, 调休 working weekends, Spring Festival day."""
    table = holidays.China(years=year, language="en_US")
    return _Year(
        holidays={d: name for d, name in table.items() if d.year == year},
        working_weekends=frozenset(d for d in table.weekend_workdays if d.year == year),
        festival=min(table.get_named(SPRING_FESTIVAL, lookup="exact"), default=None),
    )


# --- the calendar ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayInfo:
    date: date
    weekday: int  # Mon=0
    is_weekend: bool
    is_statutory_holiday: bool
    holiday_name: str | None  # English name from the holidays package
    is_working_weekend: bool  # 调休: a Saturday/Sunday worked (and taught) in exchange for a holiday
    vacation: str | None  # "summer" | "winter" | office-defined name
    closure: str | None  # closure id from the calendar file
    is_school_day: bool


class SchoolCalendar:
    """Answers per date and per moment; build once (``default()`` / ``from_file()``), reuse in hot loops."""

    def __init__(self, data: CalendarData, *, version: str | None = None) -> None:
        self.data = data
        self.version = version or data.version
        self._tz = ZoneInfo(data.timezone)
        order = sorted(data.bands.items(), key=lambda item: item[1])
        self._band_starts = [start for _, (start, _end) in order]
        self._band_names = [band for band, _ in order]
        self._school_window = data.bands[TimeBand.school_hours]
        self._vacations = [v for v in data.vacations if v.enabled]
        self._closures = [
            (c.start, c.end, c.id) for c in data.closures
            if c.enabled and (not data.region or c.region in (NATIONAL_REGION, data.region))
        ]
        self._rules = sorted(data.play_rules, key=lambda r: r.effective_from)
        self._days: dict[date, DayInfo] = {}
        self._vacation_windows: dict[int, list[tuple[date, date, str]]] = {}
        self._rule_by_day: dict[date, PlayRule | None] = {}

    @classmethod
    def default(cls) -> SchoolCalendar:
        """The packaged defaults (one shared instance, so its day cache is shared too)."""
        return _default_calendar()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> SchoolCalendar:
        """Defaults with an office calendar file merged over them (see the data file's header)."""
        path = Path(path)
        office = _read_toml(path)
        if "version" not in office:
            raise CalendarFileError(f"calendar file {path}: version: missing (an office file states its own "
                                    f"version, e.g. version = \"2024.09.1\")")
        data = _validate(_merge(_default_raw(), office), path)
        return cls(data, version=f"{_default_raw().get('version')}+{data.version}")

    # per date

    def day(self, d: date) -> DayInfo:
        if isinstance(d, datetime):
            d = d.date()
        info = self._days.get(d)
        if info is None:
            info = self._days[d] = self._compute_day(d)
        return info

    def _compute_day(self, d: date) -> DayInfo:
        year = _china_year(d.year)
        weekday = d.weekday()
        holiday = year.holidays.get(d)
        working_weekend = d in year.working_weekends
        vacation = next((name for start, end, name in self._windows(d.year) if start <= d <= end), None)
        closure = next((cid for start, end, cid in self._closures if start <= d <= end), None)
        normally_taught = working_weekend or (weekday < 5 and holiday is None)
        return DayInfo(
            date=d, weekday=weekday, is_weekend=weekday >= 5,
            is_statutory_holiday=holiday is not None, holiday_name=holiday,
            is_working_weekend=working_weekend, vacation=vacation, closure=closure,
            is_school_day=normally_taught and vacation is None and closure is None,
        )

    def _windows(self, year: int) -> list[tuple[date, date, str]]:
        """Vacation windows touching `year` (a winter window may start the December before)."""
        windows = self._vacation_windows.get(year)
        if windows is None:
            first, last = date(year, 1, 1), date(year, 12, 31)
            windows = []
            for vacation in self._vacations:
                for owner in (year - 1, year, year + 1):
                    window = vacation.window(owner, _china_year(owner).festival)
                    if window and window[0] <= last and window[1] >= first:
                        windows.append((window[0], window[1], vacation.name))
            self._vacation_windows[year] = windows
        return windows

    def vacation_window(self, name: str, year: int) -> tuple[date, date] | None:
        """The dates of vacation `name` belonging to `year` (for reports and checks)."""
        vacation = next((v for v in self._vacations if v.name == name), None)
        return vacation.window(year, _china_year(year).festival) if vacation else None

    # per moment

    def time_band(self, moment: datetime) -> TimeBand:
        minutes = moment.hour * 60 + moment.minute
        return self._band_names[bisect_right(self._band_starts, minutes) - 1]

    def is_school_hours(self, moment: datetime) -> bool:
        start, end = self._school_window
        return start <= moment.hour * 60 + moment.minute < end and self.day(moment.date()).is_school_day

    def _beijing(self, moment: datetime) -> datetime:
        """National play rules run on Beijing wall-clock time; naive moments are taken as such."""
        if moment.tzinfo is None or moment.tzinfo is self._tz:
            return moment
        return moment.astimezone(self._tz)

    def _rule_on(self, d: date) -> PlayRule | None:
        try:
            return self._rule_by_day[d]
        except KeyError:
            rule = self._rule_by_day[d] = next((r for r in self._rules if r.in_force(d)), None)
            return rule

    def play_rule(self, moment: datetime) -> PlayRule | None:
        return self._rule_on(self._beijing(moment).date())

    def minor_play_allowed(self, moment: datetime) -> bool | None:
        """Whether a game could lawfully serve a minor then; None before any national rule."""
        local = self._beijing(moment)
        rule = self._rule_on(local.date())
        if rule is None:
            return None
        if not rule.allowed_from <= local.time() < rule.allowed_to:
            return False
        info = self.day(local.date())
        if info.is_statutory_holiday:
            return rule.on_statutory_holidays or info.weekday in rule.weekdays
        if info.is_working_weekend and not rule.on_working_weekends:
            return False
        return info.weekday in rule.weekdays

    # data coverage

    def coverage_warning(self, year: int) -> str | None:
        """Say what the holiday data cannot tell for `year`; answers keep coming regardless."""
        data = _china_year(year)
        problems = []
        if not data.working_weekends:
            problems.append(f"no 调休 data for {year}: working weekends unknown "
                            f"(holidays {holidays.__version__}); statutory holidays are rule-based estimates")
        if data.festival is None and any(isinstance(v, FestivalVacation) for v in self._vacations):
            problems.append(f"no Spring Festival date for {year}: winter vacation unknown")
        return "; ".join(problems) or None


@cache
def _default_calendar() -> SchoolCalendar:
    return SchoolCalendar(_validate(_default_raw(), _default_path()))
