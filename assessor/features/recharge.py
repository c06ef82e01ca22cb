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
- ``recharge.tier_share``, ``recharge.top_tier_share``, ``recharge.same_item_repeat_share``,
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
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assessor.calendar import DayInfo, SchoolCalendar, TimeBand
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
    day_cache: dict[Any, tuple] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day_cache", {})
        object.__setattr__(self, "tiers", frozenset(float(t) for t in self.data.tiers.standard))
        object.__setattr__(self, "top_tiers", frozenset(float(t) for t in self.data.tiers.top))
        object.__setattr__(self, "membership_words", tuple(w.lower() for w in self.data.tiers.membership_words))

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


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class _Payment:
    key: str  # "recharges/<id or index>"
    record: Any  # the schema Recharge, for a RecordRef when evidence cites it
    at: datetime
    cny: float
    item: str
    device: str | None
    disputed: bool
    band: TimeBand
    flags: list[float]  # in FLAG_NAMES order
    _ref: RecordRef | None = None

    @property
    def ref(self) -> RecordRef:
        """Built on first use: most payments are never cited, many are cited by several items."""
        if self._ref is None:
            r = self.record
            self._ref = RecordRef(self.key, r.at, _excerpt(r))
        return self._ref

    def flag(self, name: str) -> float:
        return self.flags[_FLAG_INDEX[name]]


# Per-payment 0/1 flags; the first six depend only on the date, so they are cached per date.
FLAG_NAMES = ("after_school", "school_hours", "late_night", "day_off", "vacation", "closure", "weekend", "holiday",
              "in_burst", "night_in_evening_session")
_FLAG_INDEX = {name: i for i, name in enumerate(FLAG_NAMES)}
_BURST, _EVENING = _FLAG_INDEX["in_burst"], _FLAG_INDEX["night_in_evening_session"]


@dataclass(slots=True)
class _Session:
    record: Any
    index: int
    start: datetime
    end: datetime | None
    minutes: float | None
    school_minutes: float
    in_school: bool
    device: str | None
    ip: str | None

    @property
    def ref(self) -> RecordRef:
        return record_ref("sessions", self.record, self.index, at=self.start)


def _day_flags(k: RechargeKnowledge, d: Any) -> tuple[bool, float, float, float, float, float]:
    """(school day, day off, vacation, closure, weekend, holiday) of a date, cached on the knowledge."""
    flags = k.day_cache.get(d)
    if flags is None:
        day = k.calendar.day(d)
        weekend = day.is_weekend and not day.is_working_weekend
        flags = k.day_cache[d] = (
            day.is_school_day,
            float((weekend or day.is_statutory_holiday) and day.vacation is None and day.closure is None),
            float(day.vacation is not None), float(day.closure is not None), float(weekend),
            float(day.is_statutory_holiday),
        )
    return flags


def _payments(case: Case, k: RechargeKnowledge) -> list[_Payment]:
    band_of = k.calendar.time_band
    out = []
    for index, r in enumerate(case.recharges):
        if r.status is not _SUCCESS:
            continue
        at = r.at
        school_day, off, vacation, closure, weekend, holiday = _day_flags(k, at.date())
        band = band_of(at)
        flags = [float(school_day and band is _AFTER), float(school_day and band is _SCHOOL), float(band is _NIGHT),
                 off, vacation, closure, weekend, holiday, 0.0, 0.0]
        key = f"recharges/{r.id}" if r.id not in (None, "") else f"recharges/{index}"
        out.append(_Payment(key, r, at, float(r.amount) if r.currency == "CNY" else 0.0,
                            r.item.strip().lower() if r.item else "", r.device_id, r.disputed, band, flags))
    out.sort(key=lambda p: p.at)
    return out


def _excerpt(r: Any) -> str:
    amount = f"¥{r.amount}" if r.currency == "CNY" else f"{r.amount} {r.currency}"
    return f"{amount} {r.item}" if r.item else amount


def _sessions(case: Case, k: RechargeKnowledge, warnings: list[str]) -> list[_Session]:
    limits = k.data.thresholds
    school_from, school_to = k.calendar.data.bands[_SCHOOL]
    longest = timedelta(hours=limits.max_session_hours)
    minimum = limits.school_play_min_minutes
    clipped = 0
    out = []
    for index, s in enumerate(case.sessions):
        start, end = s.start, s.end
        if end is not None and end < start:
            end = None  # a logout before the login is a broken record: length unknown
        if end is not None and end - start > longest:
            end, clipped = start + longest, clipped + 1
        school = 0.0
        if end is None:  # no logout: the login itself is the only activity known
            minutes = None
            in_school = _day_flags(k, start.date())[0] and school_from <= start.hour * 60 + start.minute < school_to
        else:
            minutes = (end - start).total_seconds() / 60
            day, last = start.date(), end.date()
            lo = start.hour * 60 + start.minute + start.second / 60
            while True:  # overlap with the school window of each school day the session spans
                hi = end.hour * 60 + end.minute + end.second / 60 if day == last else 24 * 60
                if _day_flags(k, day)[0]:
                    school += max(0.0, min(hi, school_to) - max(lo, school_from))
                if day >= last:
                    break
                day, lo = day + timedelta(days=1), 0.0
            in_school = school > 0 and school >= minimum
        out.append(_Session(s, index, start, end, minutes, school, in_school, s.device_id, s.ip))
    if clipped:
        warnings.append(f"{clipped} login sessions longer than {limits.max_session_hours:g} h were clipped "
                        f"(a logout was probably never recorded)")
    out.sort(key=lambda s: s.start)
    return out


# --------------------------------------------------------------------------- extraction


@dataclass
class _Context:
    case: Case
    k: RechargeKnowledge
    signals: Signals
    payments: list[_Payment]  # counted, time order
    dispute: list[_Payment]
    sessions: list[_Session]

    @property
    def features(self) -> dict[str, float]:
        return self.signals.features

    def evidence(self, code: str, items: list[Any], *, total: int | None = None, amount: float | None = None,
                 share: float | None = None, value: Any = None, strength: float | None = None) -> None:
        text = self.k.data.evidence[code]
        fields = _Fields(n=len(items), total=total if total is not None else len(self.dispute),
                         amount=_yuan(amount) if amount is not None else "?",
                         share=f"{share:.0%}" if share is not None else "?", value=value if value is not None else "?")
        self.signals.evidence.append(EvidenceItem(
            code=code, direction=text.direction,
            summary_en=text.summary_en.format_map(fields), summary_zh=text.summary_zh.format_map(fields),
            records=tuple(item.ref for item in items[:MAX_RECORDS]),
            strength=float(len(items) if strength is None else strength), value=value,
        ))


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
    payments = _payments(case, k)
    dispute = [p for p in payments if p.disputed] or payments
    ctx = _Context(case, k, signals, payments, dispute, _sessions(case, k, signals.warnings))
    _bursts(ctx)
    _night_sessions(ctx)
    _timing(ctx)
    _spending(ctx)
    _history(ctx)
    _devices(ctx)
    _session_features(ctx)
    per_payment = signals.per_payment
    wanted = [_FLAG_INDEX[name] for name in PER_PAYMENT]
    for p in payments:
        flags = p.flags
        per_payment[p.key] = {name: flags[i] for name, i in zip(PER_PAYMENT, wanted, strict=True)}
    return signals


def _timing(ctx: _Context) -> None:
    f, dispute = ctx.features, ctx.dispute
    n = len(dispute)
    amounts = np.fromiter((p.cny for p in dispute), dtype=float, count=n)
    total = float(amounts.sum())
    f["recharge.n_payments"] = float(n)
    f["recharge.total_cny"] = total
    f["recharge.max_amount_cny"] = float(amounts.max()) if n else math.nan
    flags = np.array([p.flags for p in dispute], dtype=float).reshape(n, len(FLAG_NAMES))
    counts, paid = flags.sum(axis=0), amounts @ flags
    texts = ctx.k.data.evidence
    for when in WHEN:
        i = _FLAG_INDEX[when]
        f[f"recharge.{when}_share"] = float(counts[i]) / n if n else math.nan
        f[f"recharge.{when}_amount_share"] = float(paid[i]) / total if total > 0 else math.nan
        code = f"recharge.{when}"
        if counts[i] and code in texts:
            hits = [p for p in dispute if p.flags[i]]
            ctx.evidence(code, hits, amount=float(paid[i]), share=float(paid[i]) / total if total > 0 else None)


def _bursts(ctx: _Context) -> None:
    """Runs of payments each within ``burst_minutes`` of the previous; the largest hour and day."""
    limits = ctx.k.data.thresholds
    gap = timedelta(minutes=limits.burst_minutes)
    f, dispute = ctx.features, ctx.dispute
    runs: list[list[_Payment]] = []
    run: list[_Payment] = []
    for p in ctx.payments:
        if run and p.at - run[-1].at <= gap:
            run.append(p)
        else:
            run = [p]
            runs.append(run)
    bursts = [r for r in runs if len(r) >= limits.burst_min_payments]
    for r in bursts:
        for p in r:
            p.flags[_BURST] = 1.0
    n = len(dispute)
    total = sum(p.cny for p in dispute)
    in_burst = [p for p in dispute if p.flags[_BURST]]
    f["recharge.burst_share"] = len(in_burst) / n if n else math.nan
    f["recharge.max_burst_size"] = float(max((len(r) for r in runs), default=0)) if n else math.nan
    f["recharge.max_hour_share"] = _max_window(dispute, timedelta(hours=1)) / total if total > 0 else math.nan
    by_day: dict[Any, float] = defaultdict(float)
    for p in dispute:
        by_day[p.at.date()] += p.cny
    f["recharge.max_day_share"] = max(by_day.values()) / total if total > 0 else math.nan
    f["recharge.active_days"] = float(len(by_day)) if n else math.nan
    if in_burst:
        ctx.evidence("recharge.burst", in_burst, amount=sum(p.cny for p in in_burst),
                     value=max(len(r) for r in bursts))


def _max_window(payments: list[_Payment], width: timedelta) -> float:
    """The largest amount paid within any window of ``width`` (two pointers over time order)."""
    best = running = 0.0
    lo = 0
    for hi, p in enumerate(payments):
        running += p.cny
        while p.at - payments[lo].at > width:
            running -= payments[lo].cny
            lo += 1
        best = max(best, running)
    return best


def _spending(ctx: _Context) -> None:
    limits, f, dispute = ctx.k.data.thresholds, ctx.features, ctx.dispute
    n = len(dispute)
    amounts = [p.cny for p in dispute]
    # Escalation: later payments against earlier ones; the middle one of an odd count is left out.
    if n >= limits.escalation_min_payments:
        half = n // 2
        early, late = sum(amounts[:half]) / half, sum(amounts[n - half:]) / half
        ratio = math.log2((late + 1.0) / (early + 1.0))  # +1 yuan keeps ¥0 orders finite
        f["recharge.escalation_log2"] = ratio
        if ratio >= limits.escalation_log2_ratio:
            shown = f"{late / early:.1f}" if early > 0 else f"{2 ** ratio:.1f}"
            ctx.evidence("recharge.escalation", dispute[n - half:], value=shown, strength=ratio)
    else:
        f["recharge.escalation_log2"] = math.nan
    tiers, top = ctx.k.tiers, ctx.k.top_tiers
    f["recharge.tier_share"] = sum(a in tiers for a in amounts) / n if n else math.nan
    top_hits = [p for p in dispute if p.cny in top]
    f["recharge.top_tier_share"] = len(top_hits) / n if n else math.nan
    if top_hits:
        ctx.evidence("recharge.top_tier", top_hits, amount=sum(p.cny for p in top_hits))
    # The same item more than once on one day; memberships and passes bought twice are a child's mistake.
    groups: dict[tuple[Any, str], list[_Payment]] = defaultdict(list)
    for p in dispute:
        if p.item:
            groups[(p.at.date(), p.item)].append(p)
    repeats = sum(len(g) - 1 for g in groups.values())
    f["recharge.same_item_repeat_share"] = repeats / n if n else math.nan
    words = ctx.k.membership_words
    membership = [p for (_, item), g in groups.items() if len(g) > 1 and any(w in item for w in words) for p in g]
    f["recharge.membership_repeats"] = float(len(membership)) if n else math.nan
    if membership:
        membership.sort(key=lambda p: p.at)
        ctx.evidence("recharge.repeat_membership", membership)


def _history(ctx: _Context) -> None:
    """Dormancy before the dispute, the account's age, and spending against its own earlier months."""
    limits, f, dispute = ctx.k.data.thresholds, ctx.features, ctx.dispute
    f["recharge.dormancy_days"] = f["recharge.account_age_days"] = f["recharge.spend_vs_history_log2"] = math.nan
    if not dispute:
        return
    first = dispute[0]
    history = [p for p in ctx.payments if not p.disputed and p.at < first.at]
    # Activity on days before the dispute began (the session it began in does not count).
    day_one = first.at.date()
    earlier: list[tuple[datetime, Any]] = [(p.at, p) for p in history if p.at.date() < day_one]
    earlier += [(s.start, s) for s in ctx.sessions if s.start.date() < day_one]
    if earlier:
        last_at, last = max(earlier, key=lambda e: e[0])
        days = float((day_one - last_at.date()).days)
        f["recharge.dormancy_days"] = days
        if days >= limits.dormancy_days:
            ctx.signals.evidence.append(_dormancy_item(ctx, days, (last.ref, first.ref)))
    account = ctx.case.account
    if account is not None and account.created_at is not None:
        age = (first.at - account.created_at).total_seconds() / 86400
        if age >= 0:
            f["recharge.account_age_days"] = age
        else:
            ctx.signals.warnings.append(f"payment {first.key} is dated before the account was created "
                                        f"({account.created_at.date()}); check the clocks of the two systems")
    if history:
        def monthly(payments: list[_Payment]) -> float:
            return sum(p.cny for p in payments) / len({(p.at.year, p.at.month) for p in payments})

        before, during = monthly(history), monthly(dispute)
        if before > 0:
            ratio = during / before
            f["recharge.spend_vs_history_log2"] = math.log2(max(ratio, 1e-3))
            if ratio >= limits.spend_spike_ratio:
                ctx.evidence("recharge.spend_spike", dispute, value=f"{ratio:.1f}", strength=ratio)


def _dormancy_item(ctx: _Context, days: float, refs: tuple[RecordRef, RecordRef]) -> EvidenceItem:
    text = ctx.k.data.evidence["recharge.dormant_then_active"]
    fields = _Fields(value=f"{days:.0f}", n=2, total=len(ctx.dispute))
    return EvidenceItem("recharge.dormant_then_active", text.direction, text.summary_en.format_map(fields),
                        text.summary_zh.format_map(fields), refs, strength=days, value=round(days))


def _devices(ctx: _Context) -> None:
    limits, f = ctx.k.data.thresholds, ctx.features
    devices = {p.device for p in ctx.payments if p.device}
    devices |= {s.device for s in ctx.sessions if s.device}
    ips = {s.ip for s in ctx.sessions if s.ip}
    f["recharge.n_devices"] = float(len(devices)) if devices else math.nan
    f["sessions.n_ips"] = float(len(ips)) if ips else math.nan
    if len(devices) >= limits.many_devices or len(ips) >= limits.many_ips:
        first_seen: dict[str, Any] = {}  # each device or IP's first record
        for p in ctx.payments:
            if p.device:
                first_seen.setdefault(p.device, p)
        for s in ctx.sessions:
            for key in (s.device, s.ip):
                if key:
                    first_seen.setdefault(key, s)
        refs = sorted({id(r): r.ref for r in first_seen.values()}.values(),
                      key=lambda r: (r.at is None, r.at or datetime.min, r.record))
        ctx.signals.evidence.append(_records_item(ctx, "recharge.many_devices", refs,
                                                  value=max(len(devices), len(ips))))


def _records_item(ctx: _Context, code: str, refs: list[RecordRef], *, value: Any) -> EvidenceItem:
    text = ctx.k.data.evidence[code]
    fields = _Fields(value=value, n=len(refs), total=len(ctx.dispute))
    return EvidenceItem(code, text.direction, text.summary_en.format_map(fields), text.summary_zh.format_map(fields),
                        tuple(refs[:MAX_RECORDS]), strength=float(value), value=value)


def _night_sessions(ctx: _Context) -> None:
    """Late-night payments inside a session begun the evening before, against those alone."""
    limits, f = ctx.k.data.thresholds, ctx.features
    sessions = ctx.sessions
    starts = [s.start for s in sessions]
    longest = timedelta(hours=limits.max_session_hours)
    in_session = 0
    for p in ctx.payments:
        lo = bisect_left(starts, p.at - longest)
        hi = bisect_right(starts, p.at)
        containing = [s for s in sessions[lo:hi] if s.end is not None and p.at <= s.end]
        if containing and (p.disputed or ctx.dispute is ctx.payments):
            in_session += 1
        if p.band is _NIGHT and any(
                s.start.date() == p.at.date() - timedelta(days=1) and s.start.time() >= limits.evening_starts
                for s in containing):
            p.flags[_EVENING] = 1.0
    dispute = ctx.dispute
    night = [p for p in dispute if p.band is _NIGHT]
    evening = [p for p in night if p.flags[_EVENING]]
    if sessions and dispute:
        f["recharge.in_session_share"] = in_session / len(dispute)
        f["recharge.night_in_evening_session_share"] = len(evening) / len(night) if night else math.nan
    else:
        f["recharge.in_session_share"] = f["recharge.night_in_evening_session_share"] = math.nan
    if evening:
        ctx.evidence("recharge.night_in_evening_session", evening, total=len(night))


def _session_features(ctx: _Context) -> None:
    f, sessions = ctx.features, ctx.sessions
    n = len(sessions)
    f["sessions.n_sessions"] = float(n)
    if not n:
        for name in ("school_hours_share", "school_minutes_share", "after_school_share", "late_night_share",
                     "day_off_share", "median_minutes", "max_minutes"):
            f[f"sessions.{name}"] = math.nan
        return
    calendar = ctx.k.calendar
    at_school = [s for s in sessions if s.in_school]
    minutes = [s.minutes for s in sessions if s.minutes is not None]
    f["sessions.school_hours_share"] = len(at_school) / n
    f["sessions.school_minutes_share"] = (sum(s.school_minutes for s in sessions if s.minutes is not None)
                                          / sum(minutes)) if minutes and sum(minutes) > 0 else math.nan
    days = [calendar.day(s.start.date()) for s in sessions]
    bands = [calendar.time_band(s.start) for s in sessions]
    f["sessions.after_school_share"] = sum(d.is_school_day and b is _AFTER for d, b in zip(days, bands)) / n
    f["sessions.late_night_share"] = sum(b is _NIGHT for b in bands) / n
    f["sessions.day_off_share"] = sum(((d.is_weekend and not d.is_working_weekend) or d.is_statutory_holiday
                                       or d.vacation is not None) for d in days) / n
    f["sessions.median_minutes"] = median(minutes) if minutes else math.nan
    f["sessions.max_minutes"] = max(minutes) if minutes else math.nan
    if at_school:
        total_minutes = round(sum(s.school_minutes for s in at_school))
        ctx.evidence("sessions.school_hours_play", at_school, total=n, value=total_minutes)
    elif len(sessions) >= 3 and all(s.end is not None for s in sessions):
        ctx.evidence("sessions.out_of_school_play", sessions, total=n)
