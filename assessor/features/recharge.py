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
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
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
    day_cache: dict[int, tuple] = field(init=False, repr=False, compare=False)
    band_starts: np.ndarray = field(init=False, repr=False, compare=False)
    school_band: int = field(init=False, repr=False)
    after_band: int = field(init=False, repr=False)
    night_band: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day_cache", {})
        object.__setattr__(self, "tiers", frozenset(float(t) for t in self.data.tiers.standard))
        object.__setattr__(self, "top_tiers", frozenset(float(t) for t in self.data.tiers.top))
        object.__setattr__(self, "membership_words", tuple(w.lower() for w in self.data.tiers.membership_words))
        bands = sorted(self.calendar.data.bands.items(), key=lambda item: item[1])
        names = [band for band, _ in bands]
        object.__setattr__(self, "band_starts", np.array([start for _, (start, _end) in bands], dtype=np.int64))
        object.__setattr__(self, "school_band", names.index(_SCHOOL))
        object.__setattr__(self, "after_band", names.index(_AFTER))
        object.__setattr__(self, "night_band", names.index(_NIGHT))

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


# --------------------------------------------------------------------------- records as columns
#
# Payments and sessions are held as arrays in time order (one list comprehension per attribute,
# then numpy): per-record Python objects cost more than everything else here. Evidence records
# are built only for the payments and sessions an evidence item cites.

# Per-payment 0/1 flags (columns of _Payments.flags); the per-payment output uses PER_PAYMENT of them.
FLAG_NAMES = ("after_school", "school_hours", "late_night", "day_off", "vacation", "closure", "weekend", "holiday",
              "in_burst", "night_in_evening_session")
_FLAG_INDEX = {name: i for i, name in enumerate(FLAG_NAMES)}
_AFTER_F, _SCHOOL_F, _NIGHT_F, _OFF_F = 0, 1, 2, 3
_BURST, _EVENING = _FLAG_INDEX["in_burst"], _FLAG_INDEX["night_in_evening_session"]
# Columns of a day's row: school day, then the date flags day_off..holiday in FLAG_NAMES order.
_DAY_COLUMNS = 6


def _day_row(k: RechargeKnowledge, ordinal: int) -> tuple[float, ...]:
    """(school day, day off, vacation, closure, weekend, holiday) of a date, cached on the knowledge."""
    row = k.day_cache.get(ordinal)
    if row is None:
        day = k.calendar.day(date.fromordinal(ordinal))
        weekend = day.is_weekend and not day.is_working_weekend
        row = k.day_cache[ordinal] = (
            float(day.is_school_day),
            float((weekend or day.is_statutory_holiday) and day.vacation is None and day.closure is None),
            float(day.vacation is not None), float(day.closure is not None), float(weekend),
            float(day.is_statutory_holiday),
        )
    return row


def _day_rows(k: RechargeKnowledge, ordinals: np.ndarray) -> np.ndarray:
    """One row of day flags per ordinal (computed once per distinct date)."""
    if not len(ordinals):
        return np.zeros((0, _DAY_COLUMNS))
    cache = k.day_cache
    return np.array([cache[o] if o in cache else _day_row(k, o) for o in ordinals.tolist()], dtype=float)


def _band_index(k: RechargeKnowledge, minutes: np.ndarray) -> np.ndarray:
    return np.searchsorted(k.band_starts, minutes, side="right") - 1


class _Payments:
    """The case's successful payments as columns, in time order."""

    def __init__(self, case: Case, k: RechargeKnowledge) -> None:
        counted = [(i, r) for i, r in enumerate(case.recharges) if r.status is _SUCCESS]
        counted.sort(key=lambda ir: ir[1].at)
        self.index = [i for i, _ in counted]
        self.records = records = [r for _, r in counted]
        self.n = n = len(records)
        self.at = at = [r.at for r in records]
        self.seconds = np.array([a.timestamp() for a in at], dtype=float)
        self.cny = np.array([float(r.amount) if r.currency == "CNY" else 0.0 for r in records], dtype=float)
        self.day = np.array([a.toordinal() for a in at], dtype=np.int64)
        self.band = _band_index(k, np.array([a.hour * 60 + a.minute for a in at], dtype=np.int64))
        self.disputed = np.array([r.disputed for r in records], dtype=bool)
        self.item = [r.item.strip().lower() if r.item else "" for r in records]
        self.device = [r.device_id for r in records]
        flags = np.zeros((n, len(FLAG_NAMES)))
        if n:
            days = _day_rows(k, self.day)
            school_day = days[:, 0] > 0
            flags[:, _AFTER_F] = school_day & (self.band == k.after_band)
            flags[:, _SCHOOL_F] = school_day & (self.band == k.school_band)
            flags[:, _NIGHT_F] = self.band == k.night_band
            flags[:, _OFF_F:_OFF_F + _DAY_COLUMNS - 1] = days[:, 1:]
        self.flags = flags
        self.in_session = np.zeros(n, dtype=bool)
        self._refs: dict[int, RecordRef] = {}

    def key(self, i: int) -> str:
        rid = self.records[i].id
        return f"recharges/{rid}" if rid not in (None, "") else f"recharges/{self.index[i]}"

    def ref(self, i: int) -> RecordRef:
        """Built on first use: most payments are never cited, many are cited by several items."""
        ref = self._refs.get(i)
        if ref is None:
            r = self.records[i]
            ref = self._refs[i] = RecordRef(self.key(i), r.at, _excerpt(r))
        return ref


def _excerpt(r: Any) -> str:
    amount = f"¥{r.amount}" if r.currency == "CNY" else f"{r.amount} {r.currency}"
    return f"{amount} {r.item}" if r.item else amount


class _Sessions:
    """The case's login sessions as columns, in order of start."""

    def __init__(self, case: Case, k: RechargeKnowledge, warnings: list[str]) -> None:
        limits = k.data.thresholds
        school_from, school_to = k.calendar.data.bands[_SCHOOL]
        ordered = sorted(enumerate(case.sessions), key=lambda js: js[1].start)
        self.index = [j for j, _ in ordered]
        self.records = records = [s for _, s in ordered]
        self.n = n = len(records)
        starts = [s.start for s in records]
        self.start = np.array([a.timestamp() for a in starts], dtype=float)
        # A logout before the login is a broken record (length unknown); NaN marks an unknown end.
        end = np.array([s.end.timestamp() if s.end is not None and s.end >= s.start else math.nan for s in records],
                       dtype=float)
        longest = limits.max_session_hours * 3600
        too_long = end - self.start > longest
        if too_long.any():
            end[too_long] = self.start[too_long] + longest
            warnings.append(f"{int(too_long.sum())} login sessions longer than {limits.max_session_hours:g} h were "
                            f"clipped (a logout was probably never recorded)")
        self.end = end
        self.minutes = (end - self.start) / 60
        self.start_day = np.array([a.toordinal() for a in starts], dtype=np.int64)
        start_minute = np.array([a.hour * 60 + a.minute for a in starts], dtype=np.int64)
        self.start_band = _band_index(k, start_minute)
        self.days = _day_rows(k, self.start_day)
        school_day = self.days[:, 0] > 0 if n else np.zeros(0, dtype=bool)
        # Class minutes: one day at a time; a session over midnight (at most a day or two) is walked day by day.
        lo = start_minute + np.array([a.second / 60 for a in starts], dtype=float)
        end_offset = (end - self.start) / 60 + lo  # end in minutes from the start day's midnight
        same_day = end_offset <= 24 * 60
        school = np.where(school_day & same_day,
                          np.clip(np.minimum(end_offset, school_to) - np.maximum(lo, school_from), 0, None), 0.0)
        for j in np.flatnonzero(~same_day & ~np.isnan(end)).tolist():
            school[j] = _multi_day_school_minutes(k, int(self.start_day[j]), float(lo[j]), float(end_offset[j]),
                                                  school_from, school_to)
        self.school_minutes = np.where(np.isnan(end), 0.0, school)
        known = ~np.isnan(end)
        in_class_now = school_day & (start_minute >= school_from) & (start_minute < school_to)
        self.in_school = np.where(known, (self.school_minutes > 0) & (self.school_minutes >= limits.school_play_min_minutes),
                                  in_class_now)
        self.device = [s.device_id for s in records]
        self.ip = [s.ip for s in records]

    def ref(self, j: int) -> RecordRef:
        return record_ref("sessions", self.records[j], self.index[j], at=self.records[j].start)


def _multi_day_school_minutes(k: RechargeKnowledge, day: int, lo: float, end_offset: float,
                              school_from: int, school_to: int) -> float:
    total, offset = 0.0, 0.0
    while offset < end_offset:
        hi = min(end_offset - offset, 24 * 60)
        if _day_row(k, day)[0]:
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
    dispute: np.ndarray = field(init=False)  # indices into pay, time order

    def __post_init__(self) -> None:
        chosen = np.flatnonzero(self.pay.disputed)
        self.dispute = chosen if chosen.size else np.arange(self.pay.n)  # none marked: all are disputed

    @property
    def features(self) -> dict[str, float]:
        return self.signals.features

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
    wanted = [_FLAG_INDEX[name] for name in PER_PAYMENT]
    rows = pay.flags[:, wanted].tolist()
    per_payment = signals.per_payment
    for i, row in enumerate(rows):
        per_payment[pay.key(i)] = dict(zip(PER_PAYMENT, row, strict=True))
    return signals


def _timing(ctx: _Context) -> None:
    f, d = ctx.features, ctx.dispute
    n = len(d)
    amounts, flags = ctx.pay.cny[d], ctx.pay.flags[d]
    total = float(amounts.sum())
    f["recharge.n_payments"] = float(n)
    f["recharge.total_cny"] = total
    f["recharge.max_amount_cny"] = float(amounts.max()) if n else math.nan
    counts, paid = flags.sum(axis=0), amounts @ flags
    texts = ctx.k.data.evidence
    for when in WHEN:
        i = _FLAG_INDEX[when]
        f[f"recharge.{when}_share"] = float(counts[i]) / n if n else math.nan
        f[f"recharge.{when}_amount_share"] = float(paid[i]) / total if total > 0 else math.nan
        code = f"recharge.{when}"
        if counts[i] and code in texts:
            hits = d[flags[:, i] > 0]
            ctx.evidence(code, ctx.payment_refs(hits), n=len(hits), amount=float(paid[i]),
                         share=float(paid[i]) / total if total > 0 else None)


def _mark_bursts(pay: _Payments, limits: Thresholds) -> np.ndarray:
    """Flag runs of payments each within ``burst_minutes`` of the previous; returns each run's size."""
    if not pay.n:
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([True], np.diff(pay.seconds) > limits.burst_minutes * 60))
    run_of = np.cumsum(starts) - 1
    sizes = np.bincount(run_of)
    pay.flags[:, _BURST] = sizes[run_of] >= limits.burst_min_payments
    return sizes


def _bursts(ctx: _Context, runs: np.ndarray) -> None:
    """Quick runs of payments; the share of the amount in the busiest hour and day."""
    f, d, pay = ctx.features, ctx.dispute, ctx.pay
    n = len(d)
    amounts, seconds = pay.cny[d], pay.seconds[d]
    total = float(amounts.sum())
    in_burst = d[pay.flags[d, _BURST] > 0]
    f["recharge.burst_share"] = len(in_burst) / n if n else math.nan
    f["recharge.max_burst_size"] = float(runs.max()) if n else math.nan
    if total > 0:
        cumulative = np.concatenate(([0.0], np.cumsum(amounts)))
        first = np.searchsorted(seconds, seconds - 3600, side="left")  # window [t - 1 h, t]
        f["recharge.max_hour_share"] = float((cumulative[1:] - cumulative[first]).max()) / total
    else:
        f["recharge.max_hour_share"] = math.nan
    if n:
        by_day: dict[int, float] = defaultdict(float)
        for day, amount in zip(pay.day[d].tolist(), amounts.tolist(), strict=True):
            by_day[day] += amount
        f["recharge.max_day_share"] = max(by_day.values()) / total if total > 0 else math.nan
        f["recharge.active_days"] = float(len(by_day))
    else:
        f["recharge.max_day_share"] = f["recharge.active_days"] = math.nan
    if len(in_burst):
        largest = int(runs[runs >= ctx.k.data.thresholds.burst_min_payments].max())
        ctx.evidence("recharge.burst", ctx.payment_refs(in_burst), n=len(in_burst),
                     amount=float(pay.cny[in_burst].sum()), value=largest)


def _spending(ctx: _Context) -> None:
    limits, f, d, pay = ctx.k.data.thresholds, ctx.features, ctx.dispute, ctx.pay
    n = len(d)
    amounts = pay.cny[d]
    # Escalation: later payments against earlier ones; the middle one of an odd count is left out.
    if n >= limits.escalation_min_payments:
        half = n // 2
        early, late = float(amounts[:half].mean()), float(amounts[n - half:].mean())
        ratio = math.log2((late + 1.0) / (early + 1.0))  # +1 yuan keeps ¥0 orders finite
        f["recharge.escalation_log2"] = ratio
        if ratio >= limits.escalation_log2_ratio:
            shown = f"{late / early:.1f}" if early > 0 else f"{2 ** ratio:.1f}"
            ctx.evidence("recharge.escalation", ctx.payment_refs(d[n - half:]), n=half, value=shown, strength=ratio)
    else:
        f["recharge.escalation_log2"] = math.nan
    values = amounts.tolist()
    top = ctx.k.top_tiers
    top_hits = [int(i) for i, a in zip(d.tolist(), values, strict=True) if a in top]
    f["recharge.top_tier_share"] = len(top_hits) / n if n else math.nan
    if top_hits:
        ctx.evidence("recharge.top_tier", ctx.payment_refs(top_hits), n=len(top_hits),
                     amount=float(pay.cny[top_hits].sum()))
    # The same item more than once on one day; memberships and passes bought twice are a child's mistake.
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    days = pay.day.tolist()
    for i in d.tolist():
        if pay.item[i]:
            groups[(days[i], pay.item[i])].append(i)
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
    if not len(d):
        return
    first = int(d[0])
    history = np.flatnonzero(~pay.disputed & (pay.seconds < pay.seconds[first]))
    # Activity on days before the dispute began (the session it began in does not count).
    day_one = int(pay.day[first])
    last: tuple[float, RecordRef | None, int] = (-math.inf, None, 0)
    earlier_pay = history[pay.day[history] < day_one]
    if len(earlier_pay):
        i = int(earlier_pay[np.argmax(pay.seconds[earlier_pay])])
        last = (float(pay.seconds[i]), None, i)
    earlier_sessions = np.flatnonzero(sessions.start_day < day_one)
    if len(earlier_sessions):
        j = int(earlier_sessions[np.argmax(sessions.start[earlier_sessions])])
        if sessions.start[j] > last[0]:
            last = (float(sessions.start[j]), sessions.ref(j), 0)
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
    if len(history):
        def monthly(indices: np.ndarray) -> float:
            months = {(pay.at[i].year, pay.at[i].month) for i in indices.tolist()}
            return float(pay.cny[indices].sum()) / len(months)

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
    ends = np.where(np.isnan(sessions.end), -np.inf, sessions.end)
    running_end = np.maximum.accumulate(ends)
    begun = np.searchsorted(sessions.start, pay.seconds, side="right")
    inside = (begun > 0) & (running_end[np.maximum(begun - 1, 0)] >= pay.seconds)
    pay.in_session = inside
    evening = k.data.thresholds.evening_starts
    night = np.flatnonzero(inside & (pay.flags[:, _NIGHT_F] > 0))
    for i in night.tolist():
        at = pay.at[i]
        eve = at.toordinal() - 1
        lo = np.searchsorted(sessions.start, pay.seconds[i] - k.data.thresholds.max_session_hours * 3600, side="left")
        for j in range(int(lo), int(begun[i])):
            start = sessions.records[j].start
            if (sessions.start_day[j] == eve and start.time() >= evening and sessions.end[j] >= pay.seconds[i]):
                pay.flags[i, _EVENING] = 1.0
                break


def _night_sessions(ctx: _Context) -> None:
    """Late-night payments inside a session begun the evening before, against those alone."""
    f, d, pay = ctx.features, ctx.dispute, ctx.pay
    night = d[pay.flags[d, _NIGHT_F] > 0]
    evening = night[pay.flags[night, _EVENING] > 0]
    if ctx.sessions.n and len(d):
        f["recharge.in_session_share"] = float(pay.in_session[d].mean())
        f["recharge.night_in_evening_session_share"] = len(evening) / len(night) if len(night) else math.nan
    else:
        f["recharge.in_session_share"] = f["recharge.night_in_evening_session_share"] = math.nan
    if len(evening):
        ctx.evidence("recharge.night_in_evening_session", ctx.payment_refs(evening), n=len(evening), total=len(night))


def _session_features(ctx: _Context) -> None:
    f, s, k = ctx.features, ctx.sessions, ctx.k
    n = s.n
    f["sessions.n_sessions"] = float(n)
    if not n:
        for name in ("school_hours_share", "school_minutes_share", "after_school_share", "late_night_share",
                     "day_off_share", "median_minutes", "max_minutes"):
            f[f"sessions.{name}"] = math.nan
        return
    known = ~np.isnan(s.end)
    minutes = s.minutes[known]
    played = float(minutes.sum())
    f["sessions.school_hours_share"] = float(s.in_school.mean())
    f["sessions.school_minutes_share"] = float(s.school_minutes[known].sum()) / played if played > 0 else math.nan
    school_day = s.days[:, 0] > 0
    f["sessions.after_school_share"] = float((school_day & (s.start_band == k.after_band)).mean())
    f["sessions.late_night_share"] = float((s.start_band == k.night_band).mean())
    # no class that day: weekend (not worked), public holiday, vacation or closure (day-row columns 4, 5, 2, 3)
    f["sessions.day_off_share"] = float((s.days[:, 2:6].sum(axis=1) > 0).mean())
    f["sessions.median_minutes"] = float(np.median(minutes)) if len(minutes) else math.nan
    f["sessions.max_minutes"] = float(minutes.max()) if len(minutes) else math.nan
    at_school = np.flatnonzero(s.in_school)
    if len(at_school):
        total_minutes = round(float(s.school_minutes[at_school].sum()))
        ctx.evidence("sessions.school_hours_play", [s.ref(j) for j in at_school[:MAX_RECORDS].tolist()],
                     n=len(at_school), total=n, value=total_minutes)
    elif n >= 3 and known.all():
        ctx.evidence("sessions.out_of_school_play", [s.ref(j) for j in range(min(n, MAX_RECORDS))], n=n, total=n)
