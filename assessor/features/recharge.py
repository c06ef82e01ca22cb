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
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assessor.calendar import SchoolCalendar, TimeBand
from assessor.features.base import Direction, EvidenceItem, RecordRef, Signals, record_ref
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
    minute_bits: tuple[tuple[int, ...], tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day_cache", {})
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
# A case holds tens of payments and sessions, so they are plain lists in time order walked by
# plain loops: numpy's cost per call outweighs the arithmetic at this size, and every loop here
# is linear (or n log n), so cases with 100k records stay cheap. Evidence records are built only
# for the payments and sessions an evidence item cites.

# Flags of a payment or session, one bit each: the WHEN flags, then two per-payment ones.
FLAG_NAMES = (*WHEN, "in_burst", "night_in_evening_session")
_BIT = {name: 1 << i for i, name in enumerate(FLAG_NAMES)}
_WHEN_BITS = (1 << len(WHEN)) - 1
_NIGHT_BIT, _IN_BURST, _EVENING = _BIT["late_night"], _BIT["in_burst"], _BIT["night_in_evening_session"]
# A day without class for sessions.day_off_share: a weekend (not worked), public holiday, vacation or closure.
_NO_CLASS = _BIT["weekend"] | _BIT["holiday"] | _BIT["vacation"] | _BIT["closure"]

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_MICROSECOND = timedelta(microseconds=1)
_offset_microseconds: dict[timedelta, int] = {}  # a zone has a handful of UTC offsets


def _seconds(at: datetime, day: int, minute: int) -> float:
    """``at.timestamp()`` bit for bit, at a fraction of its cost, given ``at``'s ordinal day and minute of day.

    timestamp() builds timedeltas and Python ints; here the zone's offset comes straight from
    the tzinfo, and the exact microsecond count is divided once (correctly rounded, as timestamp() does).
    """
    tz = at.tzinfo
    offset = tz.utcoffset(at) if tz is not None else None
    if offset is None:  # naive: timestamp() reads the machine's own zone
        return at.timestamp()
    shift = _offset_microseconds.get(offset)
    if shift is None:
        shift = _offset_microseconds[offset] = offset // _MICROSECOND
    wall = ((day - _EPOCH_DAY) * 1440 + minute) * 60 + at.second
    return (wall * 1_000_000 + at.microsecond - shift) / 1_000_000


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


def _flags(k: RechargeKnowledge, day: int, minute: int) -> int:
    """The WHEN flags of a moment: its date's flags and its time of day's on that kind of date."""
    school_day, flags, _month = _day_info(k, day)
    return flags | k.minute_bits[school_day][minute]


def _sum(values: Any) -> float:
    """Sum in numpy's order (eight interleaved partial sums per block of up to 128, halves above),
    so features stay bit-identical to those the model was trained on."""
    n = len(values)
    if n < 8:
        total = 0.0
        for v in values:
            total += v
        return total
    if n <= 128:
        r = list(values[:8])
        tail = n - n % 8
        for i in range(8, tail, 8):
            for j in range(8):
                r[j] += values[i + j]
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(tail, n):
            total += values[i]
        return total
    half = n // 2
    half -= half % 8
    return _sum(values[:half]) + _sum(values[half:])


_PAYMENT_ROWS: dict[int, dict[str, float]] = {}  # per-payment output of each flag combination


def _payment_row(flags: int) -> dict[str, float]:
    """The per-payment 0/1 output of a payment's flags (a fresh dict: each payment owns its own)."""
    row = _PAYMENT_ROWS.get(flags)
    if row is None:
        row = _PAYMENT_ROWS[flags] = {name: 1.0 if flags & _BIT[name] else 0.0 for name in PER_PAYMENT}
    return row.copy()


class _Payments:
    """The case's successful payments as parallel lists, in time order."""

    def __init__(self, case: Case, k: RechargeKnowledge) -> None:
        counted = []
        for i, record in enumerate(case.recharges):
            fields = record.__dict__  # read once: each pydantic attribute read costs several lookups
            if fields["status"] is _SUCCESS:
                counted.append((fields["at"], i, fields))
        counted.sort(key=_first)  # stable: payments at the same moment keep their input order
        self.index = [i for _, i, _ in counted]
        self.records = [fields for _, _, fields in counted]  # the records' field dicts
        self.at = [at for at, _, _ in counted]
        self.n = len(counted)
        self.seconds: list[float] = []
        self.day: list[int] = []
        self.flags: list[int] = []  # bits of FLAG_NAMES
        self.cny: list[float] = []
        self.disputed: list[bool] = []
        self.item: list[str] = []  # trimmed, lower case; "" when none
        self.device: list[str | None] = []
        self.keys: list[str] = []  # "recharges/<id>"
        for at, i, fields in counted:
            day, minute = at.toordinal(), at.hour * 60 + at.minute
            self.seconds.append(_seconds(at, day, minute))
            self.day.append(day)
            self.flags.append(_flags(k, day, minute))
            self.cny.append(float(fields["amount"]) if fields["currency"] == "CNY" else 0.0)
            self.disputed.append(fields["disputed"])
            item = fields["item"]
            self.item.append(item.strip().lower() if item else "")
            self.device.append(fields["device_id"])
            rid = fields["id"]
            self.keys.append(f"recharges/{rid}" if rid not in (None, "") else f"recharges/{i}")
        self.in_session = [False] * self.n
        self._refs: dict[int, RecordRef] = {}

    def key(self, i: int) -> str:
        return self.keys[i]

    def ref(self, i: int) -> RecordRef:
        """Built on first use: most payments are never cited, many are cited by several items."""
        ref = self._refs.get(i)
        if ref is None:
            r = self.records[i]
            ref = self._refs[i] = RecordRef(self.keys[i], r["at"], _excerpt(r["amount"], r["currency"], r["item"]))
        return ref


def _first(row: tuple) -> Any:
    return row[0]


def _excerpt(amount: Decimal, currency: str, item: str | None) -> str:
    shown = f"¥{amount}" if currency == "CNY" else f"{amount} {currency}"
    return f"{shown} {item}" if item else shown


class _Sessions:
    """The case's login sessions as parallel lists, in order of start; NaN marks an unknown end."""

    def __init__(self, case: Case, k: RechargeKnowledge, warnings: list[str]) -> None:
        limits = k.data.thresholds
        school_from, school_to = k.calendar.data.bands[_SCHOOL]
        longest = limits.max_session_hours * 3600
        ordered = []
        for j, record in enumerate(case.sessions):
            fields = record.__dict__
            ordered.append((fields["start"], j, fields))
        ordered.sort(key=_first)
        self.index = [j for _, j, _ in ordered]
        self.records = [fields for _, _, fields in ordered]
        self.n = len(ordered)
        self.start: list[float] = []
        self.end: list[float] = []
        self.start_day: list[int] = []
        self.flags: list[int] = []  # WHEN bits of the start
        self.minutes: list[float] = []
        self.school_minutes: list[float] = []
        self.in_school: list[bool] = []
        clipped = 0
        for start_at, _, fields in ordered:
            day, minute = start_at.toordinal(), start_at.hour * 60 + start_at.minute
            start = _seconds(start_at, day, minute)
            end_at = fields["end"]
            # A logout before the login is a broken record (length unknown).
            if end_at is not None and end_at >= start_at:
                end = _seconds(end_at, end_at.toordinal(), end_at.hour * 60 + end_at.minute)
                if end - start > longest:
                    end, clipped = start + longest, clipped + 1
            else:
                end = math.nan
            school_day, day_flags, _month = _day_info(k, day)
            flags = day_flags | k.minute_bits[school_day][minute]
            self.start.append(start)
            self.end.append(end)
            self.start_day.append(day)
            self.flags.append(flags)
            self.minutes.append((end - start) / 60)
            if end == end:  # known end: class minutes it overlapped, at least the threshold
                lo = minute + start_at.second / 60
                school = _school_minutes(k, day, school_day, lo, (end - start) / 60 + lo, school_from, school_to)
                self.school_minutes.append(school)
                self.in_school.append(school > 0 and school >= limits.school_play_min_minutes)
            else:  # unknown end: whether it began in class
                self.school_minutes.append(0.0)
                self.in_school.append(bool(flags & _BIT["school_hours"]))
        if clipped:
            warnings.append(f"{clipped} login sessions longer than {limits.max_session_hours:g} h were "
                            f"clipped (a logout was probably never recorded)")
        self.device = [fields["device_id"] for fields in self.records]
        self.ip = [fields["ip"] for fields in self.records]

    def ref(self, j: int) -> RecordRef:
        fields = self.records[j]
        return record_ref("sessions", _Record(fields["id"]), self.index[j], at=fields["start"])


class _Record:
    """Just the id of a record, for :func:`record_ref`."""

    __slots__ = ("id",)

    def __init__(self, rid: Any) -> None:
        self.id = rid


def _school_minutes(k: RechargeKnowledge, day: int, school_day: bool, lo: float, end_offset: float,
                    school_from: int, school_to: int) -> float:
    """Class minutes between ``lo`` and ``end_offset`` (minutes from the start day's midnight);
    a session over midnight (at most a day or two) is walked day by day."""
    if end_offset <= 24 * 60:
        return max(min(end_offset, school_to) - max(lo, school_from), 0.0) if school_day else 0.0
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
    dispute: list[int] = field(init=False)  # indices into pay, time order

    def __post_init__(self) -> None:
        chosen = [i for i, disputed in enumerate(self.pay.disputed) if disputed]
        self.dispute = chosen or list(range(self.pay.n))  # none marked: all are disputed

    @property
    def features(self) -> dict[str, float]:
        return self.signals.features

    def of_dispute(self, values: list) -> list:
        """``values`` of the disputed payments."""
        d = self.dispute
        return values if len(d) == len(values) else [values[i] for i in d]

    def evidence(self, code: str, refs: list[RecordRef] | Any, *, n: int, total: int | None = None,
                 amount: float | None = None, share: float | None = None, value: Any = None,
                 strength: float | None = None) -> None:
        text = self.k.data.evidence[code]
        fields = _Fields(n=n, total=total if total is not None else len(self.dispute),
                         amount=_yuan(amount) if amount is not None else "?",
                         share=f"{share:.0%}" if share is not None else "?", value=value if value is not None else "?")
        self.signals.evidence.append(EvidenceItem(
            code=code, direction=text.direction,
            summary_en=text.summary_en.format_map(fields), summary_zh=text.summary_zh.format_map(fields),
            records=tuple(refs), strength=float(n if strength is None else strength), value=value,
        ))

    def payment_refs(self, indices: Any) -> list[RecordRef]:
        return [self.pay.ref(i) for i in list(indices)[:MAX_RECORDS]]


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
    per_payment = signals.per_payment
    for key, flags in zip(pay.keys, pay.flags, strict=True):
        per_payment[key] = _payment_row(flags)
    return signals


def _timing(ctx: _Context) -> None:
    f, d, pay = ctx.features, ctx.dispute, ctx.pay
    n = len(d)
    amounts = ctx.of_dispute(pay.cny)
    total = _sum(amounts)
    f["recharge.n_payments"] = float(n)
    f["recharge.total_cny"] = total
    f["recharge.max_amount_cny"] = max(amounts) if n else math.nan
    # The disputed payments grouped by their WHEN flags: a handful of groups, whatever n is.
    groups: dict[int, list[int]] = {}
    for i in d:
        groups.setdefault(pay.flags[i] & _WHEN_BITS, []).append(i)
    cny = pay.cny
    paid_by_group = {flags: _sum([cny[i] for i in members]) for flags, members in groups.items()}
    texts = ctx.k.data.evidence
    for when in WHEN:
        bit = _BIT[when]
        chosen = [flags for flags in groups if flags & bit]
        count = sum(len(groups[flags]) for flags in chosen)
        paid = _sum([paid_by_group[flags] for flags in chosen])
        f[f"recharge.{when}_share"] = count / n if n else math.nan
        f[f"recharge.{when}_amount_share"] = paid / total if total > 0 else math.nan
        code = f"recharge.{when}"
        if count and code in texts:
            hits = sorted(i for flags in chosen for i in groups[flags])
            ctx.evidence(code, ctx.payment_refs(hits), n=count, amount=paid,
                         share=paid / total if total > 0 else None)


def _mark_bursts(pay: _Payments, limits: Thresholds) -> list[int]:
    """Flag runs of payments each within ``burst_minutes`` of the previous; returns each run's size."""
    if not pay.n:
        return []
    gap, seconds, flags = limits.burst_minutes * 60, pay.seconds, pay.flags
    starts = [0] + [i for i in range(1, pay.n) if seconds[i] - seconds[i - 1] > gap] + [pay.n]
    sizes = []
    for begin, end in zip(starts, starts[1:], strict=False):
        sizes.append(end - begin)
        if end - begin >= limits.burst_min_payments:
            for i in range(begin, end):
                flags[i] |= _IN_BURST
    return sizes


def _bursts(ctx: _Context, runs: list[int]) -> None:
    """Quick runs of payments; the share of the amount in the busiest hour and day."""
    f, d, pay = ctx.features, ctx.dispute, ctx.pay
    n = len(d)
    amounts, seconds = ctx.of_dispute(pay.cny), ctx.of_dispute(pay.seconds)
    total = _sum(amounts)
    in_burst = [i for i in d if pay.flags[i] & _IN_BURST]
    f["recharge.burst_share"] = len(in_burst) / n if n else math.nan
    f["recharge.max_burst_size"] = float(max(runs)) if n else math.nan
    if total > 0:
        f["recharge.max_hour_share"] = _busiest_hour(seconds, amounts) / total
    else:
        f["recharge.max_hour_share"] = math.nan
    if n:
        by_day: dict[int, float] = defaultdict(float)
        for day, amount in zip(ctx.of_dispute(pay.day), amounts, strict=True):
            by_day[day] += amount
        f["recharge.max_day_share"] = max(by_day.values()) / total if total > 0 else math.nan
        f["recharge.active_days"] = float(len(by_day))
    else:
        f["recharge.max_day_share"] = f["recharge.active_days"] = math.nan
    if in_burst:
        largest = max(size for size in runs if size >= ctx.k.data.thresholds.burst_min_payments)
        ctx.evidence("recharge.burst", ctx.payment_refs(in_burst), n=len(in_burst),
                     amount=_sum([pay.cny[i] for i in in_burst]), value=largest)


def _busiest_hour(seconds: list[float], amounts: list[float]) -> float:
    """The largest amount paid within one hour: for each payment, the window [t - 1 h, t] (two pointers)."""
    best, running, cumulative, first = -math.inf, 0.0, [0.0], 0
    for t, amount in zip(seconds, amounts, strict=True):
        running += amount
        cumulative.append(running)
        since = t - 3600
        while seconds[first] < since:
            first += 1
        best = max(best, running - cumulative[first])
    return best


def _spending(ctx: _Context) -> None:
    limits, f, d, pay = ctx.k.data.thresholds, ctx.features, ctx.dispute, ctx.pay
    n = len(d)
    amounts = ctx.of_dispute(pay.cny)
    # Escalation: later payments against earlier ones; the middle one of an odd count is left out.
    if n >= limits.escalation_min_payments:
        half = n // 2
        early, late = _sum(amounts[:half]) / half, _sum(amounts[n - half:]) / half
        ratio = math.log2((late + 1.0) / (early + 1.0))  # +1 yuan keeps ¥0 orders finite
        f["recharge.escalation_log2"] = ratio
        if ratio >= limits.escalation_log2_ratio:
            shown = f"{late / early:.1f}" if early > 0 else f"{2 ** ratio:.1f}"
            ctx.evidence("recharge.escalation", ctx.payment_refs(d[n - half:]), n=half, value=shown, strength=ratio)
    else:
        f["recharge.escalation_log2"] = math.nan
    top = ctx.k.top_tiers
    top_hits = [i for i, a in zip(d, amounts, strict=True) if a in top]
    f["recharge.top_tier_share"] = len(top_hits) / n if n else math.nan
    if top_hits:
        ctx.evidence("recharge.top_tier", ctx.payment_refs(top_hits), n=len(top_hits),
                     amount=_sum([pay.cny[i] for i in top_hits]))
    # The same item more than once on one day; memberships and passes bought twice are a child's mistake.
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    days, items = pay.day, pay.item
    for i in d:
        if items[i]:
            groups[(days[i], items[i])].append(i)
    repeats = sum(len(g) - 1 for g in groups.values())
    f["recharge.same_item_repeat_share"] = repeats / n if n else math.nan
    words = ctx.k.membership_words
    membership = sorted(i for (_, item), g in groups.items() if len(g) > 1 and any(w in item for w in words)
                        for i in g)
    f["recharge.membership_repeats"] = float(len(membership)) if n else math.nan
    if membership:
        ctx.evidence("recharge.repeat_membership", ctx.payment_refs(membership), n=len(membership))


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
    earlier_sessions = [j for j in range(sessions.n) if sessions.start_day[j] < day_one]
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
            ctx.evidence("recharge.dormant_then_active", [last_ref, pay.ref(first)], n=2, value=round(days),
                         strength=days)
            item = ctx.signals.evidence[-1]
            fields = _Fields(value=f"{days:.0f}", n=2, total=len(d))
            text = ctx.k.data.evidence["recharge.dormant_then_active"]
            ctx.signals.evidence[-1] = EvidenceItem(item.code, item.direction, text.summary_en.format_map(fields),
                                                    text.summary_zh.format_map(fields), item.records, item.strength,
                                                    item.value)
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

        def monthly(indices: list[int]) -> float:
            months = {_day_info(k, pay.day[i])[2] for i in indices}
            return _sum([pay.cny[i] for i in indices]) / len(months)

        before, during = monthly(history), monthly(d)
        if before > 0:
            ratio = during / before
            f["recharge.spend_vs_history_log2"] = math.log2(max(ratio, 1e-3))
            if ratio >= limits.spend_spike_ratio:
                ctx.evidence("recharge.spend_spike", ctx.payment_refs(d), n=len(d), value=f"{ratio:.1f}",
                             strength=ratio)


def _devices(ctx: _Context) -> None:
    limits, f, pay, sessions = ctx.k.data.thresholds, ctx.features, ctx.pay, ctx.sessions
    devices = {x for x in pay.device if x} | {x for x in sessions.device if x}
    ips = {x for x in sessions.ip if x}
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
        ctx.evidence("recharge.many_devices", refs[:MAX_RECORDS], n=len(refs), value=value, strength=value)


def _mark_sessions(pay: _Payments, sessions: _Sessions, k: RechargeKnowledge) -> None:
    """Mark payments made inside a logged session, and late-night ones inside a session begun the evening before.

    Sessions are at most ``max_session_hours`` long and sorted by start, so the latest end among
    the sessions begun before a payment says whether any of them was still running.
    """
    if not sessions.n or not pay.n:
        return
    starts, ends = sessions.start, sessions.end
    running_end, latest = [], -math.inf
    for end in ends:
        if end > latest:  # an unknown (NaN) end never is
            latest = end
        running_end.append(latest)
    limits = k.data.thresholds
    evening, longest = limits.evening_starts, limits.max_session_hours * 3600
    for i, t in enumerate(pay.seconds):
        begun = bisect_right(starts, t)  # sessions begun by the payment
        if not begun or running_end[begun - 1] < t:
            continue
        pay.in_session[i] = True
        if pay.flags[i] & _NIGHT_BIT:
            eve = pay.day[i] - 1
            for j in range(bisect_left(starts, t - longest), begun):
                if (sessions.start_day[j] == eve and sessions.records[j]["start"].time() >= evening
                        and ends[j] >= t):
                    pay.flags[i] |= _EVENING
                    break


def _night_sessions(ctx: _Context) -> None:
    """Late-night payments inside a session begun the evening before, against those alone."""
    f, d, pay = ctx.features, ctx.dispute, ctx.pay
    night = [i for i in d if pay.flags[i] & _NIGHT_BIT]
    evening = [i for i in night if pay.flags[i] & _EVENING]
    if ctx.sessions.n and d:
        f["recharge.in_session_share"] = sum(1 for i in d if pay.in_session[i]) / len(d)
        f["recharge.night_in_evening_session_share"] = len(evening) / len(night) if night else math.nan
    else:
        f["recharge.in_session_share"] = f["recharge.night_in_evening_session_share"] = math.nan
    if evening:
        ctx.evidence("recharge.night_in_evening_session", ctx.payment_refs(evening), n=len(evening), total=len(night))


def _session_features(ctx: _Context) -> None:
    f, s = ctx.features, ctx.sessions
    n = s.n
    f["sessions.n_sessions"] = float(n)
    if not n:
        for name in ("school_hours_share", "school_minutes_share", "after_school_share", "late_night_share",
                     "day_off_share", "median_minutes", "max_minutes"):
            f[f"sessions.{name}"] = math.nan
        return
    known = [j for j in range(n) if s.end[j] == s.end[j]]  # NaN != NaN: the end is unknown
    minutes = [s.minutes[j] for j in known]
    played = _sum(minutes)
    f["sessions.school_hours_share"] = sum(s.in_school) / n
    f["sessions.school_minutes_share"] = _sum([s.school_minutes[j] for j in known]) / played if played > 0 else math.nan
    f["sessions.after_school_share"] = sum(1 for flags in s.flags if flags & _BIT["after_school"]) / n
    f["sessions.late_night_share"] = sum(1 for flags in s.flags if flags & _NIGHT_BIT) / n
    f["sessions.day_off_share"] = sum(1 for flags in s.flags if flags & _NO_CLASS) / n
    f["sessions.median_minutes"] = _median(minutes) if minutes else math.nan
    f["sessions.max_minutes"] = max(minutes) if minutes else math.nan
    at_school = [j for j in range(n) if s.in_school[j]]
    if at_school:
        total_minutes = round(_sum([s.school_minutes[j] for j in at_school]))
        ctx.evidence("sessions.school_hours_play", [s.ref(j) for j in at_school[:MAX_RECORDS]],
                     n=len(at_school), total=n, value=total_minutes)
    elif n >= 3 and len(known) == n:
        ctx.evidence("sessions.out_of_school_play", [s.ref(j) for j in range(min(n, MAX_RECORDS))], n=n, total=n)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
