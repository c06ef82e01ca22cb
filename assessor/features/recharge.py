"""Recharge and session behaviour: when, how fast and how much the account paid and played,
judged against the school timetable.

``extract(case, knowledge=None) -> Signals`` is pure: knowledge (``recharge.toml`` and the
school calendar) is loaded once and passed in. Every time judgement comes from
:class:`assessor.calendar.SchoolCalendar` on the moment's own wall clock (the case's timezone).

Which payments count: successful ones (failed or refunded orders are not spending); amounts
are summed in CNY only. The **dispute** is the counted payments marked ``disputed`` (all of
them when none is); **history** is counted, undisputed payments before the first disputed one.

Night payments are ambiguous (children pay while parents sleep; adults pay at night), so no
evidence item here calls them either way: the late-night share, and whether a night payment
fell inside a session that began the evening before, are features the model weighs together
with everything else.

Evidence codes (direction from ``recharge.toml``; records are payments or sessions):
``recharge.school_hours`` (adult), ``recharge.after_school``, ``recharge.day_off``,
``recharge.vacation``, ``recharge.closure`` (minor), ``recharge.late_night``,
``recharge.night_in_evening_session`` (neutral), ``recharge.burst``, ``recharge.escalation``,
``recharge.repeat_membership``, ``recharge.dormant_then_active``, ``recharge.spend_spike``
(minor), ``recharge.top_tier``, ``recharge.many_devices`` (neutral),
``sessions.school_hours_play`` (adult), ``sessions.out_of_school_play`` (minor).

Features (floats; NaN when they cannot be known, e.g. shares of an empty dispute):

- ``recharge.n_payments``, ``recharge.total_cny``, ``recharge.max_amount_cny``;
- ``recharge.<when>_share`` and ``recharge.<when>_amount_share`` for ``school_hours``,
  ``after_school``, ``late_night``, ``day_off``, ``vacation``, ``closure``, ``weekend``,
  ``holiday`` (shares of the dispute's payments and of its amount);
- ``recharge.burst_share``, ``recharge.max_burst_size``, ``recharge.max_hour_share``,
  ``recharge.max_day_share``, ``recharge.active_days``;
- ``recharge.escalation_log2`` (log2 of later over earlier mean amount);
- ``recharge.top_tier_share``, ``recharge.same_item_repeat_share``,
  ``recharge.membership_repeats``;
- ``recharge.dormancy_days``, ``recharge.account_age_days``, ``recharge.spend_vs_history_log2``;
- ``recharge.n_devices``, ``sessions.n_ips``;
- ``recharge.night_in_evening_session_share`` (of late-night payments), ``recharge.in_session_share``;
- ``sessions.n_sessions``, ``sessions.school_hours_share``, ``sessions.school_minutes_share``,
  ``sessions.after_school_share``, ``sessions.late_night_share``, ``sessions.day_off_share``,
  ``sessions.median_minutes``, ``sessions.max_minutes``.

Per payment (``per_payment["recharges/<id>"]``, 0/1, for every payment in the case):
``school_hours``, ``after_school``, ``day_off``, ``vacation``, ``closure``, ``late_night``,
``in_burst``, ``night_in_evening_session``.
"""

from __future__ import annotations

import math
import tomllib
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache, reduce
from importlib import resources
from itertools import accumulate, compress, islice, repeat
from operator import add, and_, attrgetter, eq, ge, gt, itemgetter, not_, or_, sub, truediv
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assessor.calendar import SchoolCalendar, TimeBand
from assessor.features.base import Direction, EvidenceItem, PaymentValues, RecordRef, Signals, payment_excerpt
from assessor.schema import Case, RechargeStatus

NAME = "recharge"
MAX_RECORDS = 12  # records listed per evidence item; counts stay exact
WHEN = ("school_hours", "after_school", "late_night", "day_off", "vacation", "closure", "weekend", "holiday")
PER_PAYMENT = ("school_hours", "after_school", "day_off", "vacation", "closure", "late_night", "in_burst",
               "night_in_evening_session")
EVIDENCE_CODES = (
    "recharge.school_hours", "recharge.after_school", "recharge.day_off", "recharge.vacation", "recharge.closure",
    "recharge.late_night", "recharge.night_in_evening_session", "recharge.burst", "recharge.escalation",
    "recharge.repeat_membership", "recharge.top_tier", "recharge.dormant_then_active", "recharge.spend_spike",
    "recharge.many_devices", "sessions.school_hours_play", "sessions.out_of_school_play",
)
_SUCCESS = RechargeStatus.success
_SCHOOL, _AFTER, _NIGHT = TimeBand.school_hours, TimeBand.after_school, TimeBand.late_night


# --------------------------------------------------------------------------- knowledge


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    burst_minutes: float = Field(gt=0)
    burst_min_payments: int = Field(ge=2)
    escalation_min_payments: int = Field(ge=2)
    escalation_log2_ratio: float = Field(gt=0)
    dormancy_days: float = Field(gt=0)
    spend_spike_ratio: float = Field(gt=1)
    many_devices: int = Field(ge=2)
    many_ips: int = Field(ge=2)
    school_play_min_minutes: float = Field(ge=0)
    max_session_hours: float = Field(gt=0, le=72)
    evening_starts: time

    @field_validator("evening_starts", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return time.fromisoformat(value)
            except ValueError:
                raise ValueError(f"expected a clock time such as \"18:00\", got {value!r}") from None
        return value


class Tiers(_Strict):
    standard: list[Decimal] = Field(min_length=1)
    top: list[Decimal] = Field(min_length=1)
    membership_words: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _top_are_tiers(self) -> Tiers:
        missing = set(self.top) - set(self.standard)
        if missing:
            raise ValueError(f"top tiers {sorted(missing)} are not in the standard tiers")
        return self


class EvidenceText(_Strict):
    direction: Direction
    summary_en: str = Field(min_length=1)
    summary_zh: str = Field(min_length=1)


class RechargeData(_Strict):
    version: str = Field(min_length=1)
    thresholds: Thresholds
    tiers: Tiers
    evidence: dict[str, EvidenceText]

    @model_validator(mode="after")
    def _every_code_has_text(self) -> RechargeData:
        missing = [code for code in EVIDENCE_CODES if code not in self.evidence]
        if missing:
            raise ValueError(f"evidence texts missing for {', '.join(missing)}")
        return self


class RechargeKnowledgeError(ValueError):
    """The recharge knowledge file is unreadable or invalid; the message names the file and field."""


def load_recharge_data(path: str | Path | None = None) -> RechargeData:
    """Read and validate ``recharge.toml`` (the packaged one when ``path`` is None)."""
    if path is None:
        source = resources.files("assessor") / "data" / "recharge.toml"
        text, where = source.read_text(encoding="utf-8"), "assessor/data/recharge.toml"
    else:
        try:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise RechargeKnowledgeError(f"{path}: cannot read: {exc}") from None
    try:
        return RechargeData.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise RechargeKnowledgeError(f"{where}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RechargeKnowledgeError(f"{where}: {problems}") from None


@dataclass(frozen=True)
class RechargeKnowledge:
    """Thresholds, tiers and texts plus the school calendar; build once, pass to :func:`extract`."""

    data: RechargeData
    calendar: SchoolCalendar
    tiers: frozenset[float] = field(init=False)
    top_tiers: frozenset[float] = field(init=False)
    membership_words: tuple[str, ...] = field(init=False)
    day_cache: dict[int, tuple[bool, int, int]] = field(init=False, repr=False, compare=False)
    day_minutes: dict[int, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    kind_minutes: dict[tuple[bool, int], tuple[int, ...]] = field(init=False, repr=False, compare=False)
    minute_bits: tuple[tuple[int, ...], tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day_cache", {})
        object.__setattr__(self, "day_minutes", {})
        object.__setattr__(self, "kind_minutes", {})
        object.__setattr__(self, "tiers", frozenset(float(t) for t in self.data.tiers.standard))
        object.__setattr__(self, "top_tiers", frozenset(float(t) for t in self.data.tiers.top))
        object.__setattr__(self, "membership_words", tuple(w.lower() for w in self.data.tiers.membership_words))
        object.__setattr__(self, "minute_bits", _minute_bits(self.calendar))

    @property
    def version(self) -> str:
        return f"{self.data.version}+{self.calendar.version}"

    @classmethod
    def default(cls) -> RechargeKnowledge:
        return _default_knowledge()

    @classmethod
    def from_files(cls, path: str | Path | None = None, calendar: SchoolCalendar | None = None) -> RechargeKnowledge:
        return cls(load_recharge_data(path), calendar or SchoolCalendar.default())


@lru_cache(maxsize=1)
def _default_knowledge() -> RechargeKnowledge:
    return RechargeKnowledge(load_recharge_data(), SchoolCalendar.default())


def _minute_bits(calendar: SchoolCalendar) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Time-of-day flags of every minute of a day: ``[school_day][minute]`` (a table beats a search per record)."""
    bands = calendar.data.bands
    school, after, night = bands[_SCHOOL], bands[_AFTER], bands[_NIGHT]

    def bits(minute: int, school_day: bool) -> int:
        flags = _BIT["late_night"] if night[0] <= minute < night[1] else 0
        if school_day and school[0] <= minute < school[1]:
            flags |= _BIT["school_hours"]
        if school_day and after[0] <= minute < after[1]:
            flags |= _BIT["after_school"]
        return flags

    return tuple(tuple(bits(minute, school_day) for minute in range(24 * 60)) for school_day in (False, True))


# --------------------------------------------------------------------------- records as lists
#
# A case holds tens of payments and sessions, so they are plain lists (columns) in time order:
# numpy's cost per call outweighs the arithmetic at this size, and every pass here is linear (or
# n log n), so cases with 100k records stay cheap. Columns are built and walked with map(),
# itemgetter() and operator functions where that is as clear as a loop: a pass in C costs a
# fraction of a Python loop's bytecode per record. Evidence records are built only for the
# payments and sessions an evidence item cites.

# Flags of a payment or session, one bit each: the WHEN flags, then two per-payment ones.
FLAG_NAMES = (*WHEN, "in_burst", "night_in_evening_session")
_BIT = {name: 1 << i for i, name in enumerate(FLAG_NAMES)}
_WHEN_BITS = (1 << len(WHEN)) - 1
_NIGHT_BIT, _IN_BURST, _EVENING = _BIT["late_night"], _BIT["in_burst"], _BIT["night_in_evening_session"]
_SCHOOL_BIT, _AFTER_BIT = _BIT["school_hours"], _BIT["after_school"]
# A day without class for sessions.day_off_share: a weekend (not worked), public holiday, vacation or closure.
_NO_CLASS = _BIT["weekend"] | _BIT["holiday"] | _BIT["vacation"] | _BIT["closure"]

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_FIELDS = attrgetter("__dict__")  # a record's field dict: each pydantic attribute read costs several lookups
_TZINFO, _MICROSECONDS, _ORDINAL = attrgetter("tzinfo"), attrgetter("microsecond"), datetime.toordinal
_AT, _START, _END, _STATUS = itemgetter("at"), itemgetter("start"), itemgetter("end"), itemgetter("status")
_AMOUNT, _CURRENCY, _DISPUTED = itemgetter("amount"), itemgetter("currency"), itemgetter("disputed")
_ITEM, _DEVICE, _ID, _IP = itemgetter("item"), itemgetter("device_id"), itemgetter("id"), itemgetter("ip")


def _in_time_order(rows: list[dict], time_of: Any) -> tuple[list[dict], list[datetime], list[int] | range]:
    """Rows sorted by their time, those times, and each row's position before sorting.

    Stable (equal times keep their input order); exports usually arrive sorted, which costs one check.
    """
    times = list(map(time_of, rows))
    if not any(map(gt, times, islice(times, 1, None))):
        return rows, times, range(len(rows))
    order = sorted(range(len(rows)), key=times.__getitem__)
    return [rows[o] for o in order], [times[o] for o in order], order


def _epoch_seconds(times: list[datetime], days: list[int], minutes: list[int]) -> list[float] | list[int]:
    """``t.timestamp()`` of each time (given its date ordinal and minute of day), at a fraction of its cost.

    The schema puts a case's times in its one zone; when they share one UTC offset and carry no
    microseconds, each timestamp is a whole number, computed as an exact int from the wall clock.
    Ints below 2**53 compare, subtract and divide exactly as the floats timestamp() returns do
    (every float result is rounded once from the same exact value), so features keep their bits.
    Anything else (naive times, several zones or offsets, microseconds) goes through timestamp().
    """
    if not times:
        return []
    zone = times[0].tzinfo
    if zone is not None and list(map(_TZINFO, times)).count(zone) == len(times) and not any(map(_MICROSECONDS, times)):
        offsets = list(map(zone.utcoffset, times))
        offset = offsets[0]
        if offset is not None and not offset.microseconds and offsets.count(offset) == len(offsets):
            origin = _EPOCH_DAY * 86400 + offset.days * 86400 + offset.seconds
            return [day * 86400 + minute * 60 + t.second - origin
                    for day, minute, t in zip(days, minutes, times, strict=True)]
    return list(map(datetime.timestamp, times))


def _day_info(k: RechargeKnowledge, day: int) -> tuple[bool, int, int]:
    """(school day, date flags, month number) of a date ordinal, computed once per date on the knowledge."""
    info = k.day_cache.get(day)
    if info is None:
        d = date.fromordinal(day)
        c = k.calendar.day(d)
        weekend = c.is_weekend and not c.is_working_weekend
        flags = 0
        if (weekend or c.is_statutory_holiday) and c.vacation is None and c.closure is None:
            flags |= _BIT["day_off"]
        if c.vacation is not None:
            flags |= _BIT["vacation"]
        if c.closure is not None:
            flags |= _BIT["closure"]
        if weekend:
            flags |= _BIT["weekend"]
        if c.is_statutory_holiday:
            flags |= _BIT["holiday"]
        info = k.day_cache[day] = (c.is_school_day, flags, d.year * 12 + d.month)
    return info


def _minute_flags(k: RechargeKnowledge, days: list[int]) -> dict[int, tuple[int, ...]]:
    """Date ordinal -> the WHEN flags of each minute of that date, for (at least) ``days``.

    Cached on the knowledge; dates of one kind (school day or not, same date flags) share a table.
    """
    tables = k.day_minutes
    for day in set(days).difference(tables):
        kind = _day_info(k, day)[:2]
        table = k.kind_minutes.get(kind)
        if table is None:
            school_day, flags = kind
            table = k.kind_minutes[kind] = tuple(flags | bits for bits in k.minute_bits[school_day])
        tables[day] = table
    return tables


def _flags(k: RechargeKnowledge, days: list[int], minutes: list[int]) -> list[int]:
    """The WHEN flags of each moment: its date's flags and its time of day's on that kind of date."""
    try:
        tables = k.day_minutes
        return [tables[day][minute] for day, minute in zip(days, minutes, strict=True)]
    except KeyError:  # a date not seen before
        tables = _minute_flags(k, days)
        return [tables[day][minute] for day, minute in zip(days, minutes, strict=True)]


def _minutes_of_day(times: list[datetime]) -> list[int]:
    return [t.hour * 60 + t.minute for t in times]


def _sum(values: Any) -> float:
    """Sum in numpy's order (eight interleaved partial sums per block of up to 128, halves above),
    so features stay bit-identical to those the model was trained on.

    Lane j adds values[j], values[j + 8], ... left to right: one map(add) per row of eight.
    """
    n = len(values)
    if n < 8:
        return reduce(add, values, 0.0)
    if n <= 128:
        tail = n - n % 8
        r = values[:8]
        for i in range(8, tail, 8):
            r = list(map(add, r, values[i:i + 8]))
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        return reduce(add, values[tail:], total)
    half = n // 2
    half -= half % 8
    return _sum(values[:half]) + _sum(values[half:])


def _whole_numbers(values: list[float]) -> bool:
    """Whether every value is a whole number, none negative (nor -0.0), totalling under 2**52: then every
    partial sum in any order is a whole number a float holds exactly, so any summation order gives the same bits."""
    if not all(map(float.is_integer, values)):
        return False
    if 0.0 in values and any(math.copysign(1.0, v) < 0 for v in values):
        return False
    return min(values, default=0.0) >= 0 and sum(values, 0.0) < 2**52


# The per-payment values, as the bits of each payment's flags they are read from.
PAYMENT_BITS: dict[str, int] = {name: _BIT[name] for name in PER_PAYMENT}


class _Payments:
    """The case's successful payments as parallel lists, in time order."""

    def __init__(self, case: Case, k: RechargeKnowledge) -> None:
        rows = list(map(_FIELDS, case.recharges))
        index: list[int] | range = range(len(rows))
        if list(map(_STATUS, rows)).count(_SUCCESS) != len(rows):
            index = [i for i, fields in enumerate(rows) if fields["status"] is _SUCCESS]
            rows = [rows[i] for i in index]
        rows, at, order = _in_time_order(rows, _AT)
        self.records = rows  # the records' field dicts
        self.at = at
        self.n = n = len(rows)
        self.day = list(map(_ORDINAL, at))
        minutes = _minutes_of_day(at)
        self.seconds = _epoch_seconds(at, self.day, minutes)
        self.flags = _flags(k, self.day, minutes)  # bits of FLAG_NAMES
        # One column at a time: a map() per field costs less than a tuple per record transposed.
        self.disputed: list[bool] = list(map(_DISPUTED, rows))
        self.item: list[str | None] = list(map(_ITEM, rows))  # as recorded
        self.device: list[str | None] = list(map(_DEVICE, rows))
        amounts, currencies = list(map(_AMOUNT, rows)), list(map(_CURRENCY, rows))
        if currencies.count("CNY") == n:
            self.cny = list(map(float, amounts))
        else:
            self.cny = [float(a) if c == "CNY" else 0.0 for a, c in zip(amounts, currencies, strict=True)]
        self.whole_yuan = _whole_numbers(self.cny)
        ids = list(map(_ID, rows))
        if None in ids or "" in ids:  # no id: the position in the case's list
            index = [index[o] for o in order]
            self.keys = [f"recharges/{rid}" if rid not in (None, "") else f"recharges/{i}"
                         for rid, i in zip(ids, index, strict=True)]
        else:  # ids are text (the schema's RecordId)
            self.keys = list(map(add, repeat("recharges/"), ids))
        self.in_session = [False] * n
        self.refs: list[RecordRef | None] = [None] * n

    def key(self, i: int) -> str:
        return self.keys[i]

    def sum(self, amounts: list[float]) -> float:
        """:func:`_sum` of some of the amounts, bit for bit: whole yuan (the norm) add up exactly in any order."""
        return sum(amounts, 0.0) if self.whole_yuan else _sum(amounts)

    def ref(self, i: int) -> RecordRef:
        """Built on first use: most payments are never cited, many are cited by several items."""
        ref = self.refs[i]
        if ref is None:
            r = self.records[i]
            ref = self.refs[i] = RecordRef(self.keys[i], r["at"], payment_excerpt(r["amount"], r["currency"], r["item"]))
        return ref

    def refs_of(self, indices: list[int] | range) -> tuple[RecordRef, ...]:
        """The records an evidence item lists: the first MAX_RECORDS of ``indices``."""
        refs, ref = self.refs, self.ref
        return tuple([refs[i] or ref(i) for i in indices[:MAX_RECORDS]])


class _Sessions:
    """The case's login sessions as parallel lists, in order of start; NaN marks an unknown end."""

    def __init__(self, case: Case, k: RechargeKnowledge, warnings: list[str]) -> None:
        limits = k.data.thresholds
        rows, starts_at, self.index = _in_time_order(list(map(_FIELDS, case.sessions)), _START)
        self.records, self.start_at = rows, starts_at
        self.n = len(rows)
        self.start_day = days = list(map(_ORDINAL, starts_at))
        minute = _minutes_of_day(starts_at)
        self.start = start = _epoch_seconds(starts_at, days, minute)
        self.flags = _flags(k, days, minute)  # WHEN bits of the start
        self.end, clipped = self._ends(rows, starts_at, start, limits.max_session_hours * 3600)
        self.minutes = list(map(truediv, map(sub, self.end, start), repeat(60)))
        self.school_minutes, self.in_school = self._school_play(k, days, minute)
        if clipped:
            warnings.append(f"{clipped} login sessions longer than {limits.max_session_hours:g} h were "
                            f"clipped (a logout was probably never recorded)")
        self.id, self.device, self.ip = list(map(_ID, rows)), list(map(_DEVICE, rows)), list(map(_IP, rows))

    @staticmethod
    def _ends(rows: list[dict], starts_at: list[datetime], start: list[float],
              longest: float) -> tuple[list[float], int]:
        """End times (NaN when unknown, or a logout before the login: a broken record) and how many were clipped
        to ``longest`` seconds."""
        ends_at = list(map(_END, rows))
        if None in ends_at:
            known = [j for j, e in enumerate(ends_at) if e is not None and e >= starts_at[j]]
        elif all(map(ge, ends_at, starts_at)):
            known = range(len(rows))
        else:
            known = [j for j, e in enumerate(ends_at) if e >= starts_at[j]]
        if len(known) == len(rows):
            end = _epoch_seconds(ends_at, list(map(_ORDINAL, ends_at)), _minutes_of_day(ends_at))
        else:
            end = [math.nan] * len(rows)
            ends_at = [ends_at[j] for j in known]
            seconds = _epoch_seconds(ends_at, list(map(_ORDINAL, ends_at)), _minutes_of_day(ends_at))
            for j, value in zip(known, seconds, strict=True):
                end[j] = value
        clipped = 0
        if any(map(gt, map(sub, end, start), repeat(longest))):
            for j, (s, e) in enumerate(zip(start, end, strict=True)):
                if e - s > longest:
                    end[j], clipped = s + longest, clipped + 1
        return end, clipped

    def _school_play(self, k: RechargeKnowledge, days: list[int], minute: list[int]) -> tuple[list[float], list[bool]]:
        """Class minutes each session overlapped (0 when its end is unknown), and whether it counts as play at
        school time: at least the threshold of class minutes, or, with no known end, begun in class."""
        school_from, school_to = k.calendar.data.bands[_SCHOOL]
        least, day_cache = k.data.thresholds.school_play_min_minutes, k.day_cache
        school_minutes, in_school = [], []
        for day, m, length, flags, start_at in zip(days, minute, self.minutes, self.flags, self.start_at,
                                                   strict=True):
            if length != length:  # unknown end: whether it began in class
                school_minutes.append(0.0)
                in_school.append(bool(flags & _SCHOOL_BIT))
                continue
            lo = m + start_at.second / 60
            school_day, end_offset = day_cache[day][0], length + lo
            if end_offset <= 24 * 60:
                school = max(min(end_offset, school_to) - max(lo, school_from), 0.0) if school_day else 0.0
            else:
                school = _school_minutes(k, day, lo, end_offset, school_from, school_to)
            # Never more than the session: the two differences above can round a hair past its length.
            school = min(school, length)
            school_minutes.append(school)
            in_school.append(school > 0 and school >= least)
        return school_minutes, in_school

    def ref(self, j: int) -> RecordRef:
        rid = self.id[j]
        key = rid if rid not in (None, "") else self.index[j]
        return RecordRef(f"sessions/{key}", self.start_at[j])


def _school_minutes(k: RechargeKnowledge, day: int, lo: float, end_offset: float,
                    school_from: int, school_to: int) -> float:
    """Class minutes between ``lo`` and ``end_offset`` (minutes from the start day's midnight) of a
    session over midnight (at most a day or two), walked day by day."""
    total, offset = 0.0, 0.0
    while offset < end_offset:
        hi = min(end_offset - offset, 24 * 60)
        if _day_info(k, day)[0]:
            total += max(0.0, min(hi, school_to) - max(lo, school_from))
        day, offset, lo = day + 1, offset + 24 * 60, 0.0
    return total


# --------------------------------------------------------------------------- extraction


@dataclass
class _Context:
    case: Case
    k: RechargeKnowledge
    signals: Signals
    pay: _Payments
    sessions: _Sessions
    dispute: list[int] | range = field(init=False)  # indices into pay, time order
    total: float = field(init=False)  # CNY paid in the dispute

    def __post_init__(self) -> None:
        disputed = self.pay.disputed
        whole = all(disputed) or not any(disputed)  # none marked: all are disputed
        self.dispute = range(self.pay.n) if whole else list(compress(range(self.pay.n), disputed))
        self.total = self.pay.sum(self.of_dispute(self.pay.cny))

    @property
    def features(self) -> dict[str, float]:
        return self.signals.features

    def of_dispute(self, values: Any) -> Any:
        """``values`` of the disputed payments."""
        d = self.dispute
        return values if len(d) == len(values) else [values[i] for i in d]

    def evidence(self, code: str, refs: tuple[RecordRef, ...], *, n: int, total: int | None = None,
                 **values: Any) -> None:
        """Add an evidence item (see :func:`add_evidence`); ``total`` defaults to the dispute's size."""
        add_evidence(self.signals, self.k, code, refs, n=n,
                     total=total if total is not None else len(self.dispute), **values)


def add_evidence(signals: Signals, k: RechargeKnowledge, code: str, refs: tuple[RecordRef, ...], *, n: int,
                 total: int, amount: float | None = None, share: float | None = None, value: Any = None,
                 strength: float | None = None, shown_value: Any = None) -> None:
    """Add an evidence item to ``signals``; ``shown_value`` is the value as the summary shows it, when not
    ``value``. (Shared with the block extractor, recharge_block.py, so the two word items alike.)"""
    text = k.data.evidence[code]
    if shown_value is None:
        shown_value = value if value is not None else "?"
    signals.evidence.append(EvidenceItem.deferred(
        code, text.direction, text.summary_en, text.summary_zh, _summary, (n, total, amount, share, shown_value),
        refs, float(n if strength is None else strength), value,
    ))


def _summary(template: str, args: tuple[int, int, float | None, float | None, Any]) -> str:
    """An evidence summary from its template (formatted when the item's summary is first read)."""
    n, total, amount, share, shown_value = args
    return template.format_map(_Fields(n=n, total=total, amount=_yuan(amount) if amount is not None else "?",
                                       share=f"{share:.0%}" if share is not None else "?", value=shown_value))


class _Fields(dict):
    """Summary placeholders; an office's template may name one that this evidence lacks."""

    def __missing__(self, key: str) -> str:
        return "?"


def _yuan(amount: float) -> str:
    return f"{amount:,.2f}".rstrip("0").rstrip(".")


def extract(case: Case, knowledge: RechargeKnowledge | None = None) -> Signals:
    """Recharge-behaviour and session features and evidence of one case (codes in the module docstring)."""
    k = knowledge or RechargeKnowledge.default()
    signals = Signals(extractor=NAME, version=k.version)
    pay = _Payments(case, k)
    sessions = _Sessions(case, k, signals.warnings)
    runs = _mark_bursts(pay, k.data.thresholds)
    _mark_sessions(pay, sessions, k)
    ctx = _Context(case, k, signals, pay, sessions)
    _bursts(ctx, runs)
    _night_sessions(ctx)
    _timing(ctx)
    _spending(ctx)
    _history(ctx)
    _devices(ctx)
    _session_features(ctx)
    signals.per_payment = PaymentValues.from_flags(pay.keys, pay.flags, PAYMENT_BITS)
    return signals


def _timing(ctx: _Context) -> None:
    f, d, pay, total = ctx.features, ctx.dispute, ctx.pay, ctx.total
    n = len(d)
    amounts = ctx.of_dispute(pay.cny)
    f["recharge.n_payments"] = float(n)
    f["recharge.total_cny"] = total
    f["recharge.max_amount_cny"] = max(amounts) if n else math.nan
    # The disputed payments grouped by their WHEN flags (in order of first appearance): a handful
    # of groups, whatever n is.
    groups: dict[int, list[int]] = {}
    for i, flags in zip(d, map(and_, ctx.of_dispute(pay.flags), repeat(_WHEN_BITS)), strict=True):
        groups.setdefault(flags, []).append(i)
    cny = pay.cny
    paid_by_group = {flags: pay.sum([cny[i] for i in members]) for flags, members in groups.items()}
    texts, present = ctx.k.data.evidence, reduce(or_, groups, 0)
    for bit, share_name, amount_share_name, code in _WHEN_NAMES:
        if not bit & present:  # no payment at such a time: shares of nothing (0 / n, 0.0 / total)
            f[share_name] = 0 / n if n else math.nan
            f[amount_share_name] = 0.0 / total if total > 0 else math.nan
            continue
        chosen = [flags for flags in groups if flags & bit]
        count = sum(len(groups[flags]) for flags in chosen)
        paid = pay.sum([paid_by_group[flags] for flags in chosen])
        f[share_name] = count / n if n else math.nan
        f[amount_share_name] = paid / total if total > 0 else math.nan
        if count and code in texts:
            hits = sorted(i for flags in chosen for i in groups[flags]) if len(chosen) > 1 else groups[chosen[0]]
            ctx.evidence(code, pay.refs_of(hits), n=count, amount=paid, share=paid / total if total > 0 else None)


# Each WHEN flag's bit, its two feature names and its evidence code (named once, not per case).
_WHEN_NAMES = tuple((_BIT[name], f"recharge.{name}_share", f"recharge.{name}_amount_share", f"recharge.{name}")
                    for name in WHEN)

def _mark_bursts(pay: _Payments, limits: Thresholds) -> list[int]:
    """Flag runs of payments each within ``burst_minutes`` of the previous; returns each run's size."""
    if not pay.n:
        return []
    seconds, flags = pay.seconds, pay.flags
    gaps = map(sub, islice(seconds, 1, None), seconds)  # from each payment's predecessor
    starts = [0, *compress(range(1, pay.n), map(gt, gaps, repeat(limits.burst_minutes * 60))), pay.n]
    sizes = list(map(sub, islice(starts, 1, None), starts))
    for begin, size in zip(starts, sizes, strict=False):  # sizes: one fewer
        if size >= limits.burst_min_payments:
            flags[begin:begin + size] = [bits | _IN_BURST for bits in flags[begin:begin + size]]
    return sizes


def _bursts(ctx: _Context, runs: list[int]) -> None:
    """Quick runs of payments; the share of the amount in the busiest hour and day."""
    f, d, pay, total = ctx.features, ctx.dispute, ctx.pay, ctx.total
    n = len(d)
    amounts, seconds = ctx.of_dispute(pay.cny), ctx.of_dispute(pay.seconds)
    in_burst = list(compress(d, map(and_, ctx.of_dispute(pay.flags), repeat(_IN_BURST))))
    f["recharge.burst_share"] = len(in_burst) / n if n else math.nan
    f["recharge.max_burst_size"] = float(max(runs)) if n else math.nan
    if total > 0:
        f["recharge.max_hour_share"] = _busiest_hour(seconds, amounts) / total
    else:
        f["recharge.max_hour_share"] = math.nan
    if n:
        by_day = _by_day(ctx.of_dispute(pay.day), amounts)
        f["recharge.max_day_share"] = max(by_day) / total if total > 0 else math.nan
        f["recharge.active_days"] = float(len(by_day))
    else:
        f["recharge.max_day_share"] = f["recharge.active_days"] = math.nan
    if in_burst:
        largest = max(size for size in runs if size >= ctx.k.data.thresholds.burst_min_payments)
        ctx.evidence("recharge.burst", pay.refs_of(in_burst), n=len(in_burst),
                     amount=pay.sum([pay.cny[i] for i in in_burst]), value=largest)


def _by_day(days: list[int], amounts: list[float]) -> list[float]:
    """The amount paid on each day (each a sum from 0.0 in time order)."""
    by_day: dict[int, float] = defaultdict(float)
    for day, amount in zip(days, amounts, strict=True):
        by_day[day] += amount
    return list(by_day.values())


def _busiest_hour(seconds: list[float], amounts: list[float]) -> float:
    """The largest amount paid within one hour: for each payment, the window [t - 1 h, t] (two pointers)."""
    cumulative = list(accumulate(amounts, initial=0.0))  # cumulative[i + 1]: paid up to payment i
    best, first = -math.inf, 0
    for t, running in zip(seconds, islice(cumulative, 1, None), strict=True):
        since = t - 3600
        while seconds[first] < since:
            first += 1
        window = running - cumulative[first]
        if window > best:  # max(best, window), without the call
            best = window
    return best


def _spending(ctx: _Context) -> None:
    limits, f, d, pay = ctx.k.data.thresholds, ctx.features, ctx.dispute, ctx.pay
    n = len(d)
    amounts = ctx.of_dispute(pay.cny)
    # Escalation: later payments against earlier ones; the middle one of an odd count is left out.
    if n >= limits.escalation_min_payments:
        half = n // 2
        early, late = pay.sum(amounts[:half]) / half, pay.sum(amounts[n - half:]) / half
        ratio = math.log2((late + 1.0) / (early + 1.0))  # +1 yuan keeps ¥0 orders finite
        f["recharge.escalation_log2"] = ratio
        if ratio >= limits.escalation_log2_ratio:
            shown = f"{late / early:.1f}" if early > 0 else f"{2 ** ratio:.1f}"
            ctx.evidence("recharge.escalation", pay.refs_of(d[n - half:]), n=half, value=shown, strength=ratio)
    else:
        f["recharge.escalation_log2"] = math.nan
    top_hits = list(compress(d, map(ctx.k.top_tiers.__contains__, amounts)))
    f["recharge.top_tier_share"] = len(top_hits) / n if n else math.nan
    if top_hits:
        ctx.evidence("recharge.top_tier", pay.refs_of(top_hits), n=len(top_hits),
                     amount=pay.sum([pay.cny[i] for i in top_hits]))
    # The same item more than once on one day; memberships and passes bought twice are a child's mistake.
    recorded = ctx.of_dispute(pay.item)
    trimmed = {item: item.strip().lower() if item else "" for item in set(recorded)}  # once per distinct item
    items = list(map(trimmed.__getitem__, recorded))  # "" when none
    days = ctx.of_dispute(pay.day)
    # Repeats: payments with an item, less the distinct (day, item) pairs among them.
    pairs = len(set(zip(days, items, strict=True))) - len(set(compress(days, map(not_, items))))
    repeats = n - items.count("") - pairs
    f["recharge.same_item_repeat_share"] = repeats / n if n else math.nan
    words = ctx.k.membership_words
    memberships = {item for item in trimmed.values() if item and any(w in item for w in words)}
    membership: list[int] = []
    if repeats and memberships:
        groups: dict[tuple[int, str], list[int]] = defaultdict(list)
        for i, day, item in zip(d, days, items, strict=True):
            if item in memberships:
                groups[(day, item)].append(i)
        membership = sorted(i for g in groups.values() if len(g) > 1 for i in g)
    f["recharge.membership_repeats"] = float(len(membership)) if n else math.nan
    if membership:
        ctx.evidence("recharge.repeat_membership", pay.refs_of(membership), n=len(membership))


def _history(ctx: _Context) -> None:
    """Dormancy before the dispute, the account's age, and spending against its own earlier months."""
    limits, f, d, pay, sessions = ctx.k.data.thresholds, ctx.features, ctx.dispute, ctx.pay, ctx.sessions
    f["recharge.dormancy_days"] = f["recharge.account_age_days"] = f["recharge.spend_vs_history_log2"] = math.nan
    if not d:
        return
    first = d[0]
    seconds, disputed = pay.seconds, pay.disputed
    began = seconds[first]
    history = [i for i in range(pay.n) if not disputed[i] and seconds[i] < began]
    # Activity on days before the dispute began (the session it began in does not count).
    day_one = pay.day[first]
    last: tuple[float, RecordRef | None, int] = (-math.inf, None, 0)
    earlier_pay = [i for i in history if pay.day[i] < day_one]
    if earlier_pay:
        i = max(earlier_pay, key=seconds.__getitem__)  # the first of equal latest, as before
        last = (seconds[i], None, i)
    earlier_sessions = [j for j, day in enumerate(sessions.start_day) if day < day_one]
    if earlier_sessions:
        j = max(earlier_sessions, key=sessions.start.__getitem__)
        if sessions.start[j] > last[0]:
            last = (sessions.start[j], sessions.ref(j), 0)
    if last[0] > -math.inf:
        last_ref = last[1] if last[1] is not None else pay.ref(last[2])
        last_day = last_ref.at.toordinal() if last_ref.at is not None else day_one
        days = float(day_one - last_day)
        f["recharge.dormancy_days"] = days
        if days >= limits.dormancy_days:
            ctx.evidence("recharge.dormant_then_active", (last_ref, pay.ref(first)), n=2, value=round(days),
                         strength=days, shown_value=f"{days:.0f}")
    account = ctx.case.account
    if account is not None and account.created_at is not None:
        age = (pay.at[first] - account.created_at).total_seconds() / 86400
        if age >= 0:
            f["recharge.account_age_days"] = age
        else:
            ctx.signals.warnings.append(f"payment {pay.key(first)} is dated before the account was created "
                                        f"({account.created_at.date()}); check the clocks of the two systems")
    if history:
        k = ctx.k

        def monthly(indices: Any) -> float:
            months = {_day_info(k, pay.day[i])[2] for i in indices}
            return pay.sum([pay.cny[i] for i in indices]) / len(months)

        before, during = monthly(history), monthly(d)
        if before > 0:
            ratio = during / before
            f["recharge.spend_vs_history_log2"] = math.log2(max(ratio, 1e-3))
            if ratio >= limits.spend_spike_ratio:
                ctx.evidence("recharge.spend_spike", pay.refs_of(d), n=len(d), value=f"{ratio:.1f}",
                             strength=ratio)


def _devices(ctx: _Context) -> None:
    limits, f, pay, sessions = ctx.k.data.thresholds, ctx.features, ctx.pay, ctx.sessions
    devices = {*pay.device, *sessions.device} - _NO_ID
    ips = set(sessions.ip) - _NO_ID
    f["recharge.n_devices"] = float(len(devices)) if devices else math.nan
    f["sessions.n_ips"] = float(len(ips)) if ips else math.nan
    if len(devices) >= limits.many_devices or len(ips) >= limits.many_ips:
        first_seen: dict[str, RecordRef] = {}  # each device or IP's first record
        for i, device in enumerate(pay.device):
            if device and device not in first_seen:
                first_seen[device] = pay.ref(i)
        for j in range(sessions.n):
            for key in (sessions.device[j], sessions.ip[j]):
                if key and key not in first_seen:
                    first_seen[key] = sessions.ref(j)
        refs = sorted({r.record: r for r in first_seen.values()}.values(),
                      key=lambda r: (r.at is None, r.at or datetime.min, r.record))
        value = max(len(devices), len(ips))
        ctx.evidence("recharge.many_devices", tuple(refs[:MAX_RECORDS]), n=len(refs), value=value, strength=value)


_NO_ID = frozenset((None, ""))


def _mark_sessions(pay: _Payments, sessions: _Sessions, k: RechargeKnowledge) -> None:
    """Mark payments made inside a logged session, and late-night ones inside a session begun the evening before.

    Sessions are at most ``max_session_hours`` long and sorted by start, so the latest end among
    the sessions begun before a payment says whether any of them was still running.
    """
    if not sessions.n or not pay.n:
        return
    starts, ends = sessions.start, sessions.end
    # reach[b]: the latest end among the first b sessions (an unknown, NaN, end never is); -inf for none.
    reach = list(accumulate(ends, max, initial=-math.inf))
    begun = list(map(bisect_right, repeat(starts), pay.seconds))  # sessions begun by each payment
    pay.in_session = inside = list(map(ge, map(reach.__getitem__, begun), pay.seconds))
    limits = k.data.thresholds
    evening, longest = limits.evening_starts, limits.max_session_hours * 3600
    flags = pay.flags
    for i in compress(range(pay.n), inside):
        if flags[i] & _NIGHT_BIT:
            t, eve = pay.seconds[i], pay.day[i] - 1
            for j in range(bisect_left(starts, t - longest), begun[i]):
                if sessions.start_day[j] == eve and sessions.start_at[j].time() >= evening and ends[j] >= t:
                    flags[i] |= _EVENING
                    break


def _night_sessions(ctx: _Context) -> None:
    """Late-night payments inside a session begun the evening before, against those alone."""
    f, d, pay = ctx.features, ctx.dispute, ctx.pay
    flags = ctx.of_dispute(pay.flags)
    night = list(compress(d, map(and_, flags, repeat(_NIGHT_BIT))))
    evening = [i for i in night if pay.flags[i] & _EVENING]
    if ctx.sessions.n and d:
        f["recharge.in_session_share"] = ctx.of_dispute(pay.in_session).count(True) / len(d)
        f["recharge.night_in_evening_session_share"] = len(evening) / len(night) if night else math.nan
    else:
        f["recharge.in_session_share"] = f["recharge.night_in_evening_session_share"] = math.nan
    if evening:
        ctx.evidence("recharge.night_in_evening_session", pay.refs_of(evening), n=len(evening), total=len(night))


def _session_features(ctx: _Context) -> None:
    f, s = ctx.features, ctx.sessions
    n = s.n
    f["sessions.n_sessions"] = float(n)
    if not n:
        for name in ("school_hours_share", "school_minutes_share", "after_school_share", "late_night_share",
                     "day_off_share", "median_minutes", "max_minutes"):
            f[f"sessions.{name}"] = math.nan
        return
    known = list(compress(range(n), map(eq, s.end, s.end)))  # NaN != NaN: the end is unknown
    minutes = s.minutes if len(known) == n else [s.minutes[j] for j in known]
    school_minutes = s.school_minutes if len(known) == n else [s.school_minutes[j] for j in known]
    played = _sum(minutes)
    f["sessions.school_hours_share"] = s.in_school.count(True) / n
    f["sessions.school_minutes_share"] = _sum(school_minutes) / played if played > 0 else math.nan
    f["sessions.after_school_share"] = _count_with(s.flags, _AFTER_BIT) / n
    f["sessions.late_night_share"] = _count_with(s.flags, _NIGHT_BIT) / n
    f["sessions.day_off_share"] = _count_with(s.flags, _NO_CLASS) / n
    f["sessions.median_minutes"] = _median(minutes) if minutes else math.nan
    f["sessions.max_minutes"] = max(minutes) if minutes else math.nan
    at_school = list(compress(range(n), s.in_school))
    if at_school:
        total_minutes = round(_sum([s.school_minutes[j] for j in at_school]))
        ctx.evidence("sessions.school_hours_play", tuple(map(s.ref, at_school[:MAX_RECORDS])),
                     n=len(at_school), total=n, value=total_minutes)
    elif n >= 3 and len(known) == n:
        ctx.evidence("sessions.out_of_school_play", tuple(map(s.ref, range(min(n, MAX_RECORDS)))), n=n, total=n)


def _count_with(flags: list[int], bits: int) -> int:
    """How many of ``flags`` have any of ``bits``."""
    return len(flags) - list(map(and_, flags, repeat(bits))).count(0)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
