"""Real-name evidence and regulatory findings: whose ID the account is under, how old the
people in the dispute were at each payment, what face checks said, and which payments a
platform should never have taken.

``extract(case, knowledge=None) -> Signals`` is pure: knowledge (``regulations.toml`` and the
school calendar) is read once and passed in. Ages are completed years (周岁) on the payment's
local calendar date in the case's timezone; a birthday counts from 00:00 of that day.

Whose birth date: the registered ID's digits, unless the ID is masked over them or fails its
checks, then ``real_name.birth_date`` (``idcard.parse_id`` decides; a disagreement is a
warning). The holder label is corrected by the numbers: a registered ID equal to the claim's
minor or guardian ID makes the holder that person. Only masked IDs appear in any text.

Evidence codes (direction; records):

- ``real_name.holder_is_claimed_minor`` (minor): verified under the claimed minor's own ID
  (label or matching number, birth dates consistent), a minor at every counted payment.
- ``real_name.holder_is_other_minor`` (minor): verified under the ID of a minor who is not
  identified as the claimed minor, a minor at one counted payment or more.
- ``real_name.holder_adult`` (adult): verified under the ID of a person aged 18-59 at every
  counted payment (courts presume the registered adult is the party [S28]).
- ``real_name.holder_60_plus`` (minor, weak): verified under the ID of a person 60 or older
  (left-behind children on grandparents' IDs; Tencent's extra face checks [S57]). Exclusive
  of ``holder_adult`` so a rulebook weighs each pattern once.
- ``real_name.claim_implausible_age`` (adult): the claimed child was under
  ``checks.implausible_below_age`` at the first disputed payment yet the account wrote fluent
  chat or paid by a password channel, or a payment predates the claimed child's birth.
- ``claim.not_minor_at_payment`` (adult): by the claim's own birth date the person was 18+ at
  every disputed payment (also a warning).
- ``face_check.refused_before_payment`` (minor): a check declined, failed or timed out within
  ``checks.face_check_window_minutes`` before a payment (any status: a refusal often makes the
  payment fail, and the attempt is the evidence).
- ``face_check.passed_before_payment`` (adult): a check passed by the registered holder (a pass
  with ``matched`` unknown counts: a pass means the face matched the registered ID) within the
  window before a payment, while the holder was not a known minor (a verified minor passing
  points to the minor, which the holder codes already say).
- ``face_check.other_person_before_payment`` (neutral): a pass by ``matched: other``: someone
  other than the holder was at the device, which says nothing about their age.

Findings (regulatory facts, whatever the probability; only successful CNY payments count,
records ``recharges/<id or index>`` and ``sessions/<id or index>``):

- ``nppa2019.guest_paid``: payments while the account was a guest or not verified (status in
  ``not_verified_statuses``, before ``verified_at``, or inside a guest login session), from the
  first guest rule's date; amount = their total, split by the rule in force (2019: guests may
  not pay; from 2021-09-01 guest mode is abolished).
- ``nppa2019.under8_paid``: a verified holder under 8 paid; amount = all those payments.
- ``nppa2019.single_cap``: amount = sum of (amount - cap) over payments above the single cap of
  the band at their own moment (the excess, the part the rule forbade); the summary also gives
  the full total of those payments.
- ``nppa2019.monthly_cap``: per calendar month in the case's timezone, payments in time order;
  the running month total counts every successful CNY payment of the account that month (any
  band, verified or not: the cap limits the account's monthly spending). A payment judged in a
  capped band is over by ``max(0, total_after - max(cap_now, total_before))``, where ``cap_now``
  is the cap of the band in force at that payment. So a birthday mid-month raises the cap for
  later payments only, and over a month with one cap the excess is ``total - cap``. Overlaps
  with ``single_cap``: one payment can break both; do not add the two amounts.
- ``nppa.forbidden_hours_play``: a verified minor holder paid or played at an hour the play
  rule in force forbids (``calendar.minor_play_allowed``); amount = total of those payments.
Caps count the one account in the case; the rule caps a company's games together, so the
excess found is a lower bound.

Features (floats; NaN when unknown): ``real_name.status_<status>`` and
``real_name.holder_is_<holder>`` one-hots, ``real_name.id_given``, ``real_name.id_masked``,
``real_name.id_invalid``, ``real_name.birth_conflict``, ``real_name.holder_age_known``,
``real_name.holder_age_at_first_payment``, ``real_name.holder_is_minor`` (share of counted
payments made while the holder was under 18), ``real_name.holder_60_plus``,
``real_name.holder_claim_mismatch``, ``real_name.claimed_minor_age_at_first_payment``,
``real_name.claim_birth_conflict``,
``real_name.claim_implausible_age``, ``claim.not_minor_at_payment``,
``claim.adult_payment_share``, ``real_name.unverified_paid_cny``, ``real_name.under8_paid_cny``,
``real_name.single_cap_excess_cny``, ``real_name.monthly_cap_excess_cny``,
``real_name.forbidden_hour_payments``, ``real_name.forbidden_hour_sessions``,
``face_check.n_checks``, ``face_check.n_refused``, ``face_check.n_passed``,
``face_check.payments_after_refusal``, ``face_check.payments_after_pass``,
``face_check.payments_after_other_pass``.

Per payment (``per_payment["recharges/<id>"]``): ``face_refused_before``, ``face_passed_before``
(0/1), and when known ``holder_age``, ``holder_minor`` (0/1), ``claimed_minor_age``.
"""

from __future__ import annotations

import math
import tomllib
from bisect import bisect_left, bisect_right
from calendar import isleap
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import cached_property, lru_cache
from importlib import resources
from itertools import accumulate, compress, repeat
from operator import and_, attrgetter
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assessor.calendar import PlayRule, SchoolCalendar
from assessor.features.base import (
    Direction,
    EvidenceItem,
    FindingItem,
    PaymentValues,
    RecordRef,
    Signals,
    payment_excerpt,
    record_ref,
)
from assessor.idcard import IdNumber, age_at, mask, parse_id
from assessor.schema import (
    Case,
    Channel,
    Chat,
    FaceMatch,
    FaceOutcome,
    Holder,
    RealNameStatus,
    RechargeStatus,
    Speaker,
)

NAME = "real_name"
EXTRACTOR_VERSION = "1"
MAX_RECORDS = 12  # payments listed under one evidence item (the engine shows 12); counts stay exact
CNY = "CNY"
# Enum members as plain constants: member lookup on the class is slow in per-payment loops.
_SUCCESS = RechargeStatus.success
_PASSED = FaceOutcome.passed
_ACCOUNT = Speaker.account
_VERIFIED = RealNameStatus.verified
_START = attrgetter("start")
_ZERO = Decimal(0)
_OTHER_FACE = FaceMatch.other
_STATUS_ZH = {RealNameStatus.verified: "已认证", RealNameStatus.pending: "认证中", RealNameStatus.failed: "认证失败",
              RealNameStatus.unverified: "未认证", RealNameStatus.guest: "游客", RealNameStatus.unknown: "未知"}

# --------------------------------------------------------------------------- knowledge


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgeBand(_Strict):
    """One NPPA 2019 age band, [from_age, to_age) in completed years."""

    id: str = Field(min_length=1)
    from_age: int = Field(ge=0)
    to_age: int = Field(gt=0)
    paid_service: bool
    single_cny: Decimal | None = Field(default=None, gt=0)
    monthly_cny: Decimal | None = Field(default=None, gt=0)
    label_en: str
    label_zh: str
    citation: str = Field(min_length=3)

    @model_validator(mode="after")
    def _caps_fit(self) -> AgeBand:
        if self.to_age <= self.from_age:
            raise ValueError(f"band {self.id}: to_age must be above from_age")
        if self.paid_service and (self.single_cny is None or self.monthly_cny is None):
            raise ValueError(f"band {self.id}: a band with paid service needs single_cny and monthly_cny")
        if not self.paid_service and (self.single_cny is not None or self.monthly_cny is not None):
            raise ValueError(f"band {self.id}: a band without paid service has no caps")
        return self


class Caps(_Strict):
    id: str
    document: str
    title: str
    effective_from: date
    citation: str = Field(min_length=3)
    bands: list[AgeBand] = Field(min_length=1)


class GuestRule(_Strict):
    id: str
    document: str
    effective_from: date
    guest_mode_allowed: bool
    guest_may_pay: bool
    citation: str = Field(min_length=3)
    summary_en: str
    summary_zh: str


class CivilCode(_Strict):
    adult_age: int = Field(gt=0)
    limited_capacity_from: int = Field(gt=0)
    citation_adult: str = Field(min_length=3)


class Checks(_Strict):
    face_check_window_minutes: float = Field(gt=0)
    elderly_holder_age: int = Field(gt=0)
    implausible_below_age: int = Field(ge=0)
    fluent_message_min_chars: int = Field(gt=0)
    fluent_messages_min: int = Field(gt=0)
    password_channels: frozenset[Channel]


class Regulations(_Strict):
    """The contents of ``regulations.toml``, validated."""

    version: Annotated[str, Field(pattern=r"^\d{4}\.\d{2}\.\d+$")]
    caps: Caps
    guest_rules: list[GuestRule] = Field(min_length=1)
    not_verified_statuses: frozenset[RealNameStatus]
    civil_code: CivilCode
    checks: Checks

    @model_validator(mode="after")
    def _consistent(self) -> Regulations:
        edge = 0
        for band in self.caps.bands:
            if band.from_age != edge:
                raise ValueError(f"caps.bands: band {band.id} starts at {band.from_age}, expected {edge} (no gaps)")
            edge = band.to_age
        if edge != self.civil_code.adult_age:
            raise ValueError(f"caps.bands end at {edge}, but civil_code.adult_age is {self.civil_code.adult_age}")
        dates = [rule.effective_from for rule in self.guest_rules]
        if dates != sorted(set(dates)):
            raise ValueError("guest_rules must be in order of effective_from, one rule per date")
        if RealNameStatus.verified in self.not_verified_statuses:
            raise ValueError("not_verified_statuses may not contain 'verified'")
        return self

    def band(self, age: int) -> AgeBand | None:
        """The band of a minor aged ``age``; None for an adult."""
        return self._bands_by_age[age] if 0 <= age < len(self._bands_by_age) else None

    @cached_property
    def _bands_by_age(self) -> tuple[AgeBand, ...]:
        return tuple(band for band in self.caps.bands for _ in range(band.from_age, band.to_age))

    @cached_property
    def limits_by_age(self) -> tuple[tuple[AgeBand, Decimal | None, Decimal | None], ...]:
        """(band, single cap, monthly cap) by age, caps None without paid service (read per payment)."""
        return tuple((band, band.single_cny, band.monthly_cny) if band.paid_service else (band, None, None)
                     for band in self._bands_by_age)

    def guest_rule(self, day: date) -> GuestRule | None:
        return next((r for r in reversed(self.guest_rules) if r.effective_from <= day), None)


class RegulationsError(ValueError):
    """A regulations file that cannot be used, with the file and the field at fault."""


def load_regulations(path: str | Path | None = None) -> Regulations:
    """Read and validate a regulations file (default: the packaged one)."""
    if path is None:
        return _default_regulations()
    return _read(Path(path).read_text(encoding="utf-8"), str(path))


def _read(text: str, source: str) -> Regulations:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegulationsError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Regulations.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise RegulationsError(f"{source}: {problems}") from None


@lru_cache(maxsize=1)
def _default_regulations() -> Regulations:
    path = resources.files("assessor") / "data" / "regulations.toml"
    return _read(path.read_text(encoding="utf-8"), "assessor/data/regulations.toml")


@dataclass(frozen=True)
class RealNameKnowledge:
    """Regulations and the school calendar; build once, pass to every :func:`extract` call."""

    regulations: Regulations
    calendar: SchoolCalendar

    @property
    def version(self) -> str:
        return f"{EXTRACTOR_VERSION}+{self.regulations.version}"

    @cached_property
    def play_clock(self) -> PlayClock:
        """The calendar's play rules, answered from a per-date cache that lives as long as this knowledge."""
        return PlayClock(self.calendar)

    @classmethod
    def default(cls) -> RealNameKnowledge:
        return _default_knowledge()

    @classmethod
    def from_file(cls, path: str | Path, calendar: SchoolCalendar | None = None) -> RealNameKnowledge:
        return cls(load_regulations(path), calendar or SchoolCalendar.default())


@lru_cache(maxsize=1)
def _default_knowledge() -> RealNameKnowledge:
    return RealNameKnowledge(load_regulations(), SchoolCalendar.default())


# --------------------------------------------------------------------------- case facts


class _Payments:
    """The case's payments in time order (equal times keep their file order), as parallel lists
    read by position: one object per payment would cost more than most payments' whole analysis."""

    __slots__ = ("keys", "times", "counted", "fields", "_amounts", "_disputed", "_refs")

    def __init__(self, case: Case, tz: tzinfo, warnings: list[str]) -> None:
        # A pydantic model answers each attribute read through its __getattr__ hook; its field
        # values are plain entries of __dict__, read from there. Columns few cases need are read on demand.
        fields = [r.__dict__ for r in case.recharges]
        times = [at if (at := f["at"]).tzinfo is tz else _local(at, tz) for f in fields]
        index: range | list[int] = range(len(fields))
        if times != sorted(times):  # out of order: a stable sort by time
            index = sorted(index, key=times.__getitem__)
            fields, times = [fields[i] for i in index], [times[i] for i in index]
        self.fields = fields
        self.times = times  # local times, in order (for bisection)
        # As the engine keys per-payment signals: by id, or by position in the file without one.
        self.keys = [f"recharges/{i}" if (rid := f["id"]) is None or rid == "" else f"recharges/{rid}"
                     for i, f in zip(index, fields, strict=True)]
        self.counted = [f["status"] is _SUCCESS and f["currency"] == CNY for f in fields]  # successful, in CNY
        self._amounts: list[Decimal] | None = None
        self._disputed: list[bool] | None = None
        self._refs: dict[int, RecordRef] = {}
        if not all(self.counted):
            foreign = Counter(f["currency"] for f in fields if f["status"] is _SUCCESS and f["currency"] != CNY)
            if foreign:
                listed = ", ".join(f"{n} in {cur}" for cur, n in sorted(foreign.items()))
                warnings.append(f"payments in other currencies ({listed}) are not counted in CNY totals or caps")

    @property
    def amounts(self) -> list[Decimal]:
        if self._amounts is None:
            self._amounts = [f["amount"] for f in self.fields]
        return self._amounts

    @property
    def disputed(self) -> list[bool]:
        if self._disputed is None:
            self._disputed = [f["disputed"] for f in self.fields]
        return self._disputed

    def disputed_at(self, i: int) -> bool:
        return self.fields[i]["disputed"]

    def __len__(self) -> int:
        return len(self.times)

    def ref(self, i: int) -> RecordRef:
        """Built once, and only for payments an item or finding names; shown as the recharge extractor shows it."""
        ref = self._refs.get(i)
        if ref is None:
            f = self.fields[i]
            ref = self._refs[i] = RecordRef(self.keys[i], self.times[i],
                                            payment_excerpt(f["amount"], f["currency"], f["item"]))
        return ref

    def refs(self, positions: Iterable[int]) -> tuple[RecordRef, ...]:
        return tuple(map(self.ref, positions))

    def between(self, start: datetime, end: datetime) -> range:
        """Positions of the payments made from ``start`` to ``end``, both included (bisection)."""
        return range(bisect_left(self.times, start), bisect_right(self.times, end))

    def counted_in(self, lo: int, hi: int) -> list[int]:
        """Positions of the counted payments among [lo, hi)."""
        return list(compress(range(lo, hi), self.counted[lo:hi]))

    def channel(self, i: int) -> Channel | None:
        return self.fields[i]["channel"]

    def total(self, positions: Iterable[int]) -> Decimal:
        """The amounts summed in the order given, from 0 (as the findings have always summed them)."""
        amounts = self.amounts
        return sum((amounts[i] for i in positions), Decimal(0))


@dataclass(frozen=True, slots=True)
class _Person:
    """What the case says of one person's identity."""

    birth: date | None = None
    number: IdNumber | None = None
    conflict: bool = False  # the ID's digits and the stated birth date disagree

    @property
    def masked(self) -> str | None:
        return mask(self.number.normalized) if self.number else None

    @property
    def full_number(self) -> str | None:
        """The normalized number when it is complete and valid (for comparing people)."""
        n = self.number
        return n.normalized if n is not None and n.valid and not n.masked else None

    def age(self, moment: datetime) -> int | None:
        """Completed years at ``moment`` (its own local date); None before the birth or if unknown."""
        if self.birth is None:
            return None
        try:
            return age_at(self.birth, moment)
        except ValueError:
            return None

    def completes(self, age: int) -> date | None:
        """The date on which ``age`` years are complete (a 29 February birthday completes on 1 March
        in other years); None past the calendar's last year. Needs a birth date."""
        birth = self.birth
        year = birth.year + age
        if year > date.max.year:
            return None
        if birth.month == 2 and birth.day == 29 and not isleap(year):
            return date(year, 3, 1)
        return date(year, birth.month, birth.day)

    def age_runs(self, times: list[datetime]) -> list[tuple[int, int | None]]:
        """Ages at moments in time order, all in one timezone (the payments' local times), as runs
        ``(end, age)``: the moments before position ``end`` and from the previous run's end on.

        Born before every moment: an age only changes on a birthday, so each run is found by
        bisection at the next birthday's local midnight instead of a date sum per payment.
        Same answers as ``idcard.age_at`` (completed years; the birthday counts; 29 February
        birthdays complete on 1 March), checked equal in the tests.
        """
        birth, n = self.birth, len(times)
        if birth is None or not times:
            return [(n, None)] if n else []
        if birth > times[0].date():  # paid before the birth: rare, moment by moment
            ages = [self.age(t) for t in times]
            return [(i + 1, a) for i, a in enumerate(ages) if i + 1 == n or ages[i + 1] != a]
        runs: list[tuple[int, int | None]] = []
        key = birth.month * 100 + birth.day
        start = 0
        while start < n:
            at = times[start]
            age = at.year - birth.year - (at.month * 100 + at.day < key)
            completes = self.completes(age + 1)
            if completes is None:  # past the calendar's last year: the age holds to the end
                start = n
            else:
                start = bisect_left(times, datetime.combine(completes, time(0), tzinfo=at.tzinfo), start)
            runs.append((start, age))
        return runs


def _expand(runs: list[tuple[int, int | None]]) -> list[int | None]:
    """Runs from ``_Person.age_runs`` as one age per moment."""
    out: list[int | None] = []
    start = 0
    for end, age in runs:
        out += [age] * (end - start)
        start = end
    return out


def _local(moment: datetime, tz: tzinfo) -> datetime:
    """The case has localised its timestamps already; this guards cases built without validation."""
    if moment.tzinfo is tz:
        return moment
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _person(number: str | None, birth_date: date | None, who: str, warnings: list[str]) -> _Person:
    """A person from an ID number and/or a birth date; ``parse_id`` decides which date wins."""
    parsed = parse_id(number, birth_date=birth_date) if number else None
    if parsed is None:
        return _Person(birth=birth_date)
    if parsed.problems:
        shown = mask(parsed.normalized)
        warnings.extend(f"{who} ID {shown}: {problem}" for problem in parsed.problems)
    # The number's date won (it differs from the given one), or the given date won over a
    # number failing its checks (parse_id then lists the disagreement).
    conflict = birth_date is not None and (
        (parsed.birth_date is not None and parsed.birth_date != birth_date)
        or any("differs" in problem for problem in parsed.problems))
    return _Person(birth=parsed.birth_date, number=parsed, conflict=conflict)


def _same_number(full: str | None, other: str | None) -> bool:
    """Is ``other`` the complete number ``full``? Parses only when the plain text can't tell."""
    if full is None or not other:
        return False
    text = other.strip().upper()
    if len(text) == 18 and text.isascii():
        return text == full
    parsed = parse_id(other)
    return parsed is not None and parsed.valid is True and not parsed.masked and parsed.normalized == full


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.0f}" if amount == amount.to_integral_value() else f"¥{amount:,.2f}"


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)


# --------------------------------------------------------------------------- extraction


@dataclass(slots=True)
class _Context:
    case: Case
    k: RealNameKnowledge
    tz: tzinfo
    signals: Signals
    payments: _Payments
    times: list[datetime]  # payments.times: the payments' local times, in order (for bisection)
    holder: _Person
    holder_label: Holder
    holder_is_claimed: bool  # the registered identity is the claimed minor's, consistently
    claimed: _Person
    status: RealNameStatus
    verified_at: datetime | None
    holder_runs: list[tuple[int, int | None]] = field(default_factory=list)  # see _Person.age_runs
    claimed_runs: list[tuple[int, int | None]] = field(default_factory=list)
    holder_ages: list[int | None] = field(default_factory=list)  # the runs expanded, one per payment
    claimed_ages: list[int | None] = field(default_factory=list)
    # The counted payments with a known holder age: positions, and the ages (as the runs hold them).
    holder_positions: list[int] = field(default_factory=list)
    holder_counted_ages: list[int] = field(default_factory=list)

    @property
    def regs(self) -> Regulations:
        return self.k.regulations

    def set_ages(self, runs: tuple[list[tuple[int, int | None]], list[tuple[int, int | None]]] | None = None) -> None:
        """Both people's ages at each payment (as runs and one per payment), and the counted
        payments with a known holder age. ``runs``: the holder's and the claimed minor's runs
        (``_Person.age_runs``) when known already."""
        times, counted = self.times, self.payments.counted
        self.holder_runs, self.claimed_runs = runs or (self.holder.age_runs(times), self.claimed.age_runs(times))
        self.holder_ages, self.claimed_ages = _expand(self.holder_runs), _expand(self.claimed_runs)
        if self.holder.birth is not None:
            start = 0
            for end, age in self.holder_runs:  # built run by run with C-speed list operations
                if age is not None:
                    self.holder_positions.extend(compress(range(start, end), counted[start:end]))
                    self.holder_counted_ages.extend(
                        repeat(age, len(self.holder_positions) - len(self.holder_counted_ages)))
                start = end

    def guest_sessions(self) -> list[tuple[datetime, datetime | None]]:
        """Sessions the anti-addiction record logged as a guest's (login_traces ct=2): (start, end)."""
        if not self.case.login_traces:
            return []
        tz = self.tz
        return [(_local(s.start, tz), _local(s.end, tz) if s.end else None)
                for s in self.case.sessions if (s.__pydantic_extra__ or {}).get("guest") is True]

    def fluent_refs(self, min_chars: int) -> list[RecordRef]:
        """The account's own chat lines of ``min_chars``+ characters, cited."""
        return _fluent_chat_refs(self.case.chats, min_chars)


def extract(case: Case, knowledge: RealNameKnowledge | None = None) -> Signals:
    """Real-name features, evidence and findings of one case (codes in the module docstring)."""
    k = knowledge or RealNameKnowledge.default()
    signals = Signals(extractor=NAME, version=k.version)
    warnings = signals.warnings
    tz = ZoneInfo(case.timezone)
    payments = _Payments(case, tz, warnings)
    rn = case.account.real_name if case.account else None
    claim = case.claim
    holder = _person(rn.id_number, rn.birth_date, "registered", warnings) if rn else _Person()
    claimed = (_person(claim.minor_id_number, claim.minor_birth_date, "claimed minor's", warnings)
               if claim else _Person())
    label, is_claimed = _holder_identity(rn.holder if rn else Holder.unknown, holder, claimed,
                                         claim.guardian_id_number if claim else None, warnings)
    times = payments.times
    ctx = _Context(case=case, k=k, tz=tz, signals=signals, payments=payments, times=times, holder=holder,
                   holder_label=label, holder_is_claimed=is_claimed, claimed=claimed,
                   status=rn.status if rn else RealNameStatus.unknown,
                   verified_at=_local(rn.verified_at, tz) if rn and rn.verified_at else None)
    ctx.set_ages()
    analyse(ctx, rn is not None and bool(rn.id_number))
    return signals


def analyse(ctx: _Context, id_given: bool, *, claim: Callable[[_Context], None] | None = None,
            guest: Callable[[_Context], None] | None = None, caps: Callable[[_Context], None] | None = None,
            forbidden: Callable[[_Context], None] | None = None) -> None:
    """Every feature, item and finding of a case whose context is built (its runs and positions set),
    in the extractor's order. ``claim``, ``guest``, ``caps`` and ``forbidden`` stand in for those
    steps (the block path decides them, or part of them, over a whole block)."""
    _identity_features(ctx, id_given)
    _holder_evidence(ctx)
    (claim or _claim_evidence)(ctx)
    _face_checks(ctx)
    (guest or _guest_finding)(ctx)
    (caps or _cap_findings)(ctx)
    (forbidden or _forbidden_hours)(ctx)


def _holder_identity(label: Holder, holder: _Person, claimed: _Person, guardian_number: str | None,
                     warnings: list[str]) -> tuple[Holder, bool]:
    """The holder as the numbers show it, and whether it is consistently the claimed minor."""
    number = holder.full_number
    by_number = None
    if number is not None and number == claimed.full_number:
        by_number = Holder.claimed_minor
    elif _same_number(number, guardian_number):
        by_number = Holder.guardian
    if by_number is not None and by_number != label:
        if label != Holder.unknown:
            warnings.append(f"the account is recorded as held by {label.value}, but its ID number "
                            f"{holder.masked} is the {by_number.value}'s; taken as {by_number.value}")
        label = by_number
    if label != Holder.claimed_minor:
        return label, False
    if holder.birth is not None and claimed.birth is not None and holder.birth != claimed.birth:
        warnings.append("the account is recorded as held by the claimed minor, but the registered birth date "
                        "differs from the claim's: the registration is not taken as the claimed minor's")
        return label, False
    return label, True


def _first_index(ctx: _Context, disputed_only: bool) -> int | None:
    """Position of the first counted (and disputed) payment."""
    pay = ctx.payments
    if not disputed_only:
        return next(compress(range(len(pay)), pay.counted), None)
    disputed_at = pay.disputed_at  # usually the first payment: no need for the whole disputed column
    return next((i for i, counted in enumerate(pay.counted) if counted and disputed_at(i)), None)


_STATUS_KEYS = {status: f"real_name.status_{status.value}" for status in RealNameStatus}
_HOLDER_KEYS = {holder: f"real_name.holder_is_{holder.value}" for holder in Holder}
_ONE_HOT_ZEROS = dict.fromkeys([*_STATUS_KEYS.values(), *_HOLDER_KEYS.values()], 0.0)


def _identity_features(ctx: _Context, id_given: bool) -> None:
    f = ctx.signals.features
    f.update(_ONE_HOT_ZEROS)
    f[_STATUS_KEYS[ctx.status]] = 1.0
    f[_HOLDER_KEYS[ctx.holder_label]] = 1.0
    number = ctx.holder.number
    f["real_name.id_given"] = float(id_given)
    f["real_name.id_masked"] = float(bool(number and number.masked))
    f["real_name.id_invalid"] = float(bool(number and number.valid is False))
    f["real_name.birth_conflict"] = float(ctx.holder.conflict)
    f["real_name.claim_birth_conflict"] = float(ctx.claimed.conflict)
    f["real_name.holder_claim_mismatch"] = float(ctx.holder_label == Holder.claimed_minor and not ctx.holder_is_claimed)
    f["real_name.holder_age_known"] = float(ctx.holder.birth is not None)
    first = _first_index(ctx, disputed_only=False)
    f["real_name.holder_age_at_first_payment"] = _nan_if_none(ctx.holder_ages[first] if first is not None else None)
    first_disputed = _first_index(ctx, disputed_only=True)
    f["real_name.claimed_minor_age_at_first_payment"] = _nan_if_none(
        ctx.claimed_ages[first_disputed] if first_disputed is not None else None)
    adult = ctx.regs.civil_code.adult_age
    ages = ctx.holder_counted_ages
    minors = bisect_left(ages, adult)  # ages only grow along the payments
    f["real_name.holder_is_minor"] = minors / len(ages) if ages else math.nan
    elderly = ctx.regs.checks.elderly_holder_age
    f["real_name.holder_60_plus"] = float(bool(ages) and ages[0] >= elderly)  # ages only grow
    # Per payment, by column: the face-check flags (set by _face_checks), and the ages (None unknown).
    n = len(ctx.payments)
    minor: list[float | None] = []
    start = 0
    for end, age in ctx.holder_runs:  # one value per run of equal ages (C-speed)
        minor += repeat(None if age is None else 1.0 if age < adult else 0.0, end - start)
        start = end
    ctx.signals.per_payment = PaymentValues(ctx.payments.keys, {
        "face_refused_before": [0.0] * n, "face_passed_before": [0.0] * n, "holder_age": ctx.holder_ages,
        "holder_minor": minor, "claimed_minor_age": ctx.claimed_ages})


def _identity_ref(ctx: _Context, excerpt: str) -> RecordRef:
    return RecordRef("account/real_name", ctx.verified_at, excerpt)


def _holder_evidence(ctx: _Context) -> None:
    """Who the verified registration says the payer's identity is, at the counted payments."""
    positions, ages = ctx.holder_positions, ctx.holder_counted_ages
    if ctx.status != RealNameStatus.verified or not positions:
        return
    adult = ctx.regs.civil_code.adult_age
    elderly = ctx.regs.checks.elderly_holder_age
    youngest, oldest = ages[0], ages[-1]  # payments are in time order
    minor_positions = positions[:bisect_left(ages, adult)]  # ages only grow along the payments
    shown = ctx.holder.masked or "birth date only"
    span = f"{youngest}" if youngest == oldest else f"{youngest}-{oldest}"
    excerpt = f"verified, holder {ctx.holder_label.value}, ID {shown}"
    ref = ctx.payments.ref
    records = (_identity_ref(ctx, excerpt), *map(ref, positions[:MAX_RECORDS]))
    n = len(positions)
    add = ctx.signals.evidence.append
    if ctx.holder_is_claimed and len(minor_positions) == n:
        add(EvidenceItem(
            "real_name.holder_is_claimed_minor", Direction.minor,
            f"The account is verified under the claimed minor's own ID ({shown}); they were {span} "
            f"at all {n} successful payments",
            f"账号以所称未成年人本人身份证（{shown}）实名认证；{n}笔成功付款时其为{span}周岁",
            records, strength=float(n), value=youngest))
    elif minor_positions and not ctx.holder_is_claimed:
        m = len(minor_positions)
        add(EvidenceItem(
            "real_name.holder_is_other_minor", Direction.minor,
            f"The account is verified under the ID of a minor ({shown}), under 18 at {m} of {n} successful payments",
            f"账号实名认证的身份证（{shown}）属未成年人，{n}笔成功付款中有{m}笔付款时其未满18周岁",
            (records[0], *map(ref, minor_positions[:MAX_RECORDS])), strength=float(m), value=youngest))
    elif youngest >= elderly:
        add(EvidenceItem(
            "real_name.holder_60_plus", Direction.minor,
            f"The account is verified under the ID of a person aged {span} ({shown}); children are known "
            "to use grandparents' IDs",
            f"账号实名人（{shown}）付款时{span}周岁，已满{elderly}周岁；存在未成年人借用祖辈身份证的情形",
            records, strength=1.0, value=youngest))
    elif youngest >= adult:
        add(EvidenceItem(
            "real_name.holder_adult", Direction.adult,
            f"The account is verified under an adult's ID ({shown}), aged {span} at all {n} successful payments",
            f"账号以成年人身份证（{shown}）实名认证，{n}笔成功付款时其为{span}周岁",
            records, strength=1.0, value=youngest))


def _claim_evidence(ctx: _Context) -> None:
    """Is the claimed child's age consistent with the payments and the chat?"""
    f = ctx.signals.features
    checks = ctx.regs.checks
    adult = ctx.regs.civil_code.adult_age
    f["real_name.claim_implausible_age"] = 0.0
    f["claim.not_minor_at_payment"] = 0.0
    f["claim.adult_payment_share"] = math.nan
    if ctx.claimed.birth is None:
        return
    pay = ctx.payments
    everyone = range(len(pay))
    judged = list(compress(everyone, map(and_, pay.counted, pay.disputed)))  # positions
    if not judged:
        judged = list(compress(everyone, pay.counted))
    if not judged:
        return
    ages = list(map(ctx.claimed_ages.__getitem__, judged))
    # Ages only grow along the payments: unborn first (None), then the ages in order, so each
    # group below is a slice found by bisection.
    unborn = ages.count(None)
    before_birth = judged[:unborn]
    born, born_ages = judged[unborn:], ages[unborn:]
    adult_rows = born[bisect_left(born_ages, adult):]
    f["claim.adult_payment_share"] = len(adult_rows) / len(judged)
    add = ctx.signals.evidence.append
    if born and len(adult_rows) == len(judged):
        age = born_ages[len(born) - len(adult_rows)]
        f["claim.not_minor_at_payment"] = 1.0
        ctx.signals.warnings.append(f"by the claim's birth date the person was {age} or older at every disputed "
                                    "payment: not a minor (Civil Code Art. 17)")
        add(EvidenceItem(
            "claim.not_minor_at_payment", Direction.adult,
            f"By the claim's own birth date the person was already {age} at the first of {len(judged)} "
            "disputed payments: an adult",
            f"按申请所述出生日期，{len(judged)}笔争议付款中第一笔付款时当事人已满{age}周岁，为成年人",
            pay.refs(adult_rows), strength=float(len(adult_rows)), value=age))
    elif adult_rows:
        ctx.signals.warnings.append(f"by the claim's birth date the person was 18 or older at {len(adult_rows)} "
                                    f"of {len(judged)} disputed payments")
    reasons_en: list[str] = []
    reasons_zh: list[str] = []
    records: list[RecordRef] = []
    value = None
    if before_birth:
        reasons_en.append(f"{len(before_birth)} payments were made before the claimed child was born")
        reasons_zh.append(f"{len(before_birth)}笔付款早于所称未成年人出生")
        records.extend(pay.refs(before_birth))
    first_age = born_ages[0] if born else None
    if first_age is not None and first_age < checks.implausible_below_age:
        value = first_age
        min_chars = checks.fluent_message_min_chars
        fluent = ctx.fluent_refs(min_chars)
        if len(fluent) >= checks.fluent_messages_min:
            reasons_en.append(f"the account wrote {len(fluent)} messages of {min_chars}+ "
                              f"characters, though the claimed child was {first_age}")
            reasons_zh.append(f"所称未成年人当时{first_age}周岁，账号却发出{len(fluent)}条{min_chars}字以上的消息")
            records.extend(fluent)
        too_young = born[:bisect_left(born_ages, checks.implausible_below_age)]
        locked = [i for i in too_young if pay.channel(i) in checks.password_channels]
        if locked:
            names = "/".join(sorted({pay.channel(i).value for i in locked if pay.channel(i)}))
            reasons_en.append(f"{len(locked)} payments went through a password-protected channel ({names}) "
                              f"though the claimed child was {first_age}")
            reasons_zh.append(f"所称未成年人当时{first_age}周岁，却有{len(locked)}笔付款经需密码的渠道（{names}）完成")
            records.extend(pay.refs(locked))
    if reasons_en:
        f["real_name.claim_implausible_age"] = 1.0
        add(EvidenceItem(
            "real_name.claim_implausible_age", Direction.adult,
            "The claimed child's age does not fit the account: " + "; ".join(reasons_en),
            "所称未成年人的年龄与账号情况不符：" + "；".join(reasons_zh),
            tuple(records), strength=float(len(reasons_en)), value=value))


def _fluent_chat_refs(chats: list[Chat], min_chars: int) -> list[RecordRef]:
    """The account's own lines of ``min_chars``+ characters (stripped), cited as
    ``record_ref("chats", c, i, at=c.at, excerpt=c.text)`` would, inlined: this runs per chat line
    and a case can cite 100+ of them. Stripping only shortens, so a line already too short is not stripped.
    """
    # Fields read from __dict__, as in _payments: a pydantic attribute read costs ~70 ns.
    return [RecordRef(f"chats/{i}" if (cid := fields["id"]) is None or cid == "" else f"chats/{cid}", fields["at"],
                      chat_excerpt(text))
            for i, c in enumerate(chats)
            if (fields := c.__dict__)["speaker"] == _ACCOUNT and len(text := fields["text"]) >= min_chars
            and len(text.strip()) >= min_chars]


def chat_excerpt(text: str, max_excerpt: int = 60) -> str:
    """A chat line as a reference shows it: cut to ``max_excerpt`` characters with an ellipsis."""
    return text if len(text) <= max_excerpt else text[:max_excerpt - 1] + "…"


# --------------------------------------------------------------------------- face checks


_NO_FACE_CHECKS = {"face_check.n_checks": 0.0, "face_check.n_refused": 0.0, "face_check.n_passed": 0.0,
                   "face_check.payments_after_refusal": 0.0, "face_check.payments_after_pass": 0.0,
                   "face_check.payments_after_other_pass": 0.0}  # (in the order the features are set)


def _face_checks(ctx: _Context) -> None:
    """Count, per payment, the face checks in the window just before it."""
    f = ctx.signals.features
    checks = ctx.case.account.face_checks if ctx.case.account else []
    if not checks:  # most cases: nothing to count or to match against the payments
        f.update(_NO_FACE_CHECKS)
        return
    window = timedelta(minutes=ctx.regs.checks.face_check_window_minutes)
    adult = ctx.regs.civil_code.adult_age
    f["face_check.n_checks"] = float(len(checks))
    f["face_check.n_refused"] = float(sum(c.outcome is not _PASSED for c in checks))
    f["face_check.n_passed"] = float(len(checks)) - f["face_check.n_refused"]
    refused_refs: dict[int, RecordRef] = {}
    passed_refs: dict[int, RecordRef] = {}
    other_refs: dict[int, RecordRef] = {}
    hits: dict[str, set[int]] = {"refused": set(), "passed": set(), "other": set()}  # payment positions
    payments = ctx.payments
    # Few checks, many payments: find each check's payments [at, at + window] by bisection.
    for i, c in enumerate(checks):
        at = _local(c.at, ctx.tz)
        for j in payments.between(at, at + window):
            h_age = ctx.holder_ages[j]
            if c.outcome is not _PASSED:
                kind, target = "refused", refused_refs
            elif c.matched is _OTHER_FACE:
                kind, target = "other", other_refs
            elif h_age is None or h_age >= adult:
                kind, target = "passed", passed_refs
            else:
                continue
            hits[kind].add(j)
            if i not in target:
                target[i] = record_ref("face_checks", c, i, at=at,
                                       excerpt=f"{c.outcome.value}, matched {c.matched.value}")
    for kind in ("refused", "passed"):
        flags = ctx.signals.per_payment.column(f"face_{kind}_before")
        for j in hits[kind]:
            flags[j] = 1.0  # type: ignore[index]
    pay_refused, pay_passed, pay_other = ([payments.ref(j) for j in sorted(hits[kind])]
                                          for kind in ("refused", "passed", "other"))
    refused_refs, passed_refs, other_refs = ({i: refs[i] for i in sorted(refs)}
                                             for refs in (refused_refs, passed_refs, other_refs))
    f["face_check.payments_after_refusal"] = float(len(pay_refused))
    f["face_check.payments_after_pass"] = float(len(pay_passed))
    f["face_check.payments_after_other_pass"] = float(len(pay_other))
    minutes = f"{ctx.regs.checks.face_check_window_minutes:g}"
    add = ctx.signals.evidence.append
    if pay_refused:
        add(EvidenceItem(
            "face_check.refused_before_payment", Direction.minor,
            f"{len(refused_refs)} face checks were declined, failed or timed out within {minutes} minutes "
            f"before {len(pay_refused)} payments",
            f"{len(pay_refused)}笔付款前{minutes}分钟内，共有{len(refused_refs)}次人脸识别被拒绝、未通过或超时",
            (*refused_refs.values(), *pay_refused), strength=float(len(pay_refused)), value=len(refused_refs)))
    if pay_passed:
        add(EvidenceItem(
            "face_check.passed_before_payment", Direction.adult,
            f"The registered holder passed {len(passed_refs)} face checks within {minutes} minutes "
            f"before {len(pay_passed)} payments",
            f"{len(pay_passed)}笔付款前{minutes}分钟内，实名本人通过了{len(passed_refs)}次人脸识别",
            (*passed_refs.values(), *pay_passed), strength=float(len(pay_passed)), value=len(passed_refs)))
    if pay_other:
        add(EvidenceItem(
            "face_check.other_person_before_payment", Direction.neutral,
            f"Someone other than the registered holder passed {len(other_refs)} face checks within {minutes} "
            f"minutes before {len(pay_other)} payments (says nothing about their age)",
            f"{len(pay_other)}笔付款前{minutes}分钟内，有非实名本人的人通过了{len(other_refs)}次人脸识别（无法据此判断年龄）",
            (*other_refs.values(), *pay_other), strength=float(len(pay_other)), value=len(other_refs)))


# --------------------------------------------------------------------------- findings


_LATE_REASON = ("paid before the real-name verification time", "付款早于实名认证时间")
_GUEST_SESSION_REASON = ("paid inside a guest login session", "付款发生在游客登录时段内")


def _unverified_runs(ctx: _Context, guest_sessions: list[tuple[datetime, datetime | None]]
                     ) -> list[tuple[int, int, tuple[str, str]]]:
    """Runs [lo, hi) of payments (by position in time order) made unverified, each with its reason.

    Not verified now: all of them. Verified: those before the verification time (a prefix), then
    each later one inside a guest login session.
    """
    n = len(ctx.payments)
    if ctx.status in ctx.regs.not_verified_statuses:
        return [(0, n, (f"real-name status {ctx.status.value}", f"实名状态为{_STATUS_ZH[ctx.status]}"))]
    late = bisect_left(ctx.times, ctx.verified_at) if ctx.status == _VERIFIED and ctx.verified_at is not None else 0
    runs = [(0, late, _LATE_REASON)] if late else []
    if guest_sessions:
        runs.extend((i, i + 1, _GUEST_SESSION_REASON) for i in range(late, n)
                    if any(start <= ctx.times[i] and (end is None or ctx.times[i] <= end)
                           for start, end in guest_sessions))
    return runs


def _guest_finding(ctx: _Context) -> None:
    """Payments a guest or an unverified user could not lawfully make."""
    regs = ctx.regs
    guest_sessions = ctx.guest_sessions()
    late = ctx.verified_at is not None and bool(ctx.times) and ctx.times[0] < ctx.verified_at
    if ctx.status not in regs.not_verified_statuses and not late and not guest_sessions:
        ctx.signals.features["real_name.unverified_paid_cny"] = 0.0
        return
    by_rule: dict[str, list[int]] = defaultdict(list)  # positions
    rules: dict[str, GuestRule] = {}
    early = 0
    reasons: set[tuple[str, str]] = set()
    for lo, hi, reason in _unverified_runs(ctx, guest_sessions):
        # Split the run by the guest rule in force on each payment's local date (rules sorted by date).
        bounds = [lo, *(bisect_left(ctx.times, datetime.combine(rule.effective_from, time(0), tzinfo=ctx.tz), lo, hi)
                        for rule in regs.guest_rules), hi]
        if bounds[1] > bounds[0]:
            early += sum(ctx.payments.counted[bounds[0]:bounds[1]])
        for k, rule in enumerate(regs.guest_rules):  # in force over [bounds[k + 1], bounds[k + 2])
            counted = ctx.payments.counted_in(bounds[k + 1], bounds[k + 2])
            if counted and not rule.guest_may_pay:
                reasons.add(reason)
                by_rule[rule.id].extend(counted)
                rules[rule.id] = rule
    if early:
        ctx.signals.warnings.append(f"{early} payments by a guest or unverified account predate "
                                    f"{regs.guest_rules[0].effective_from}: no NPPA rule to judge them by")
    if not by_rule:
        ctx.signals.features["real_name.unverified_paid_cny"] = 0.0
        return
    paid = [p for ps in by_rule.values() for p in ps]
    total = ctx.payments.total(paid)
    ctx.signals.features["real_name.unverified_paid_cny"] = float(total)
    parts_en, parts_zh = [], []
    for rule_id, ps in by_rule.items():
        rule = rules[rule_id]
        sub = _yuan(ctx.payments.total(ps))
        parts_en.append(f"{len(ps)} ({sub}) under {rule.document}, in force from {rule.effective_from}: "
                        f"{rule.summary_en}")
        parts_zh.append(f"{len(ps)}笔（{sub}）适用{rule.document}（{rule.effective_from}起施行）：{rule.summary_zh}")
    why_en = "; ".join(sorted(en for en, _ in reasons))
    why_zh = "；".join(sorted(zh for _, zh in reasons))
    ctx.signals.findings.append(FindingItem(
        "nppa2019.guest_paid",
        f"{len(paid)} successful payments totalling {_yuan(total)} were taken from a guest or unverified "
        f"account ({why_en}): " + "; ".join(parts_en),
        f"游客或未实名账号成功付款{len(paid)}笔，共{_yuan(total)}（{why_zh}）：" + "；".join(parts_zh),
        " ; ".join(rules[r].citation for r in by_rule),
        float(total), ctx.payments.refs(paid)))


def _cap_findings(ctx: _Context) -> None:
    """NPPA 2019 paid-service rules for a verified minor holder, each payment by its own band."""
    if not caps_apply(ctx):
        add_cap_findings(ctx, [], _ZERO, None, [], {})
        return
    under8: list[int] = []  # positions
    single: list[tuple[int, Decimal, Decimal]] = []  # position, cap, excess
    monthly: dict[tuple[int, int], list[tuple[int, Decimal, Decimal]]] = defaultdict(list)
    bands_used: dict[str, AgeBand] = {}
    months = _MonthTotals(ctx)
    payments = ctx.payments
    for lo, hi, (band, single_cny, monthly_cny) in _capped_runs(ctx):
        if single_cny is None:  # a band without paid service
            under8.extend(payments.counted_in(lo, hi))
            bands_used[band.id] = band
            continue
        for month, base, first, last, amounts, totals in months.split(lo, hi):
            # payment base + j: amount amounts[j] (0 if not counted), month's total after it totals[j + 1]
            if max(amounts[first:last]) > single_cny:
                single.extend((base + j, single_cny, amounts[j] - single_cny)
                              for j in range(first, last) if amounts[j] > single_cny)
                bands_used[band.id] = band
            # Totals only grow: the payments before the first to take the month past the cap are within it.
            for j in range(bisect_right(totals, monthly_cny, first + 1, last + 1) - 1, last):
                before, after = totals[j], totals[j + 1]
                over = after - (before if before > monthly_cny else monthly_cny)
                if over > _ZERO:  # an uncounted payment leaves the total as it was: never over
                    monthly[month].append((base + j, monthly_cny, over))
                    bands_used[band.id] = band
    over_single = None
    if single:
        positions = [i for i, _, _ in single]
        over_single = CapBreach(positions, payments.total(positions), sum((e for _, _, e in single), _ZERO),
                                sorted({c for _, c, _ in single}))
    over_month = [MonthBreach(y, m, months.total(y, m), CapBreach(
        [i for i, _, _ in rows], _ZERO, sum((e for _, _, e in rows), _ZERO), sorted({c for _, c, _ in rows})))
        for (y, m), rows in sorted(monthly.items())]
    add_cap_findings(ctx, under8, payments.total(under8), over_single, over_month, bands_used)


def caps_apply(ctx: _Context) -> bool:
    """Whether the caps judge this account: verified, and its holder a minor at some payment."""
    youngest = next((a for _, a in ctx.holder_runs if a is not None), None)  # ages only grow
    return ctx.status == _VERIFIED and youngest is not None and youngest < ctx.regs.civil_code.adult_age


@dataclass(slots=True)
class CapBreach:
    """Payments over one cap (positions in time order): what they paid, by how much they exceeded
    it, and the caps they broke (sorted; a band change can bring two)."""

    positions: list[int]
    paid: Decimal  # (not needed for a month's breach: the month's total is shown instead)
    excess: Decimal
    caps: list[Decimal]


@dataclass(slots=True)
class MonthBreach:
    """A calendar month whose running total passed the monthly cap."""

    year: int
    month: int
    total: Decimal  # every counted payment of the month
    over: CapBreach


def add_cap_findings(ctx: _Context, under8: list[int], under8_paid: Decimal, single: CapBreach | None,
                     monthly: list[MonthBreach], bands_used: dict[str, AgeBand]) -> None:
    """The cap features and findings from the payments found over the caps (positions in time order):
    ``under8`` (paying ``under8_paid``), the single-payment breaches, the monthly breaches in month
    order, and the bands they were judged in. Shared with the block path."""
    regs, payments = ctx.regs, ctx.payments
    caps = regs.caps
    f = ctx.signals.features
    single_excess = single.excess if single else _ZERO
    monthly_excess = sum((m.over.excess for m in monthly), _ZERO)
    f["real_name.under8_paid_cny"] = float(under8_paid)
    f["real_name.single_cap_excess_cny"] = float(single_excess)
    f["real_name.monthly_cap_excess_cny"] = float(monthly_excess)
    if not under8 and not single and not monthly:
        return
    shown = ctx.holder.masked or "birth date on record"
    add = ctx.signals.findings.append

    def basis(*band_ids: str) -> str:
        cites = [bands_used[b].citation for b in band_ids if b in bands_used]
        return " ; ".join(cites) or caps.citation

    if under8:
        add(FindingItem(
            "nppa2019.under8_paid",
            f"The account is verified under the ID of a child under 8 ({shown}), yet {len(under8)} payments "
            f"totalling {_yuan(under8_paid)} were taken; no paid service is allowed under 8 ({caps.document})",
            f"账号实名人（{shown}）未满8周岁，平台仍收取{len(under8)}笔付款共{_yuan(under8_paid)}；"
            f"{caps.document}规定不得为未满8周岁用户提供付费服务",
            basis("under_8"), float(under8_paid), payments.refs(under8)))
    if single:
        limits = "/".join(map(_yuan, single.caps))
        add(FindingItem(
            "nppa2019.single_cap",
            f"{len(single.positions)} payments of a verified minor ({shown}) exceeded the single-payment cap "
            f"({limits}): {_yuan(single_excess)} over the cap, out of {_yuan(single.paid)} paid in those payments",
            f"实名未成年人（{shown}）有{len(single.positions)}笔付款超过单次限额（{limits}）：超出限额"
            f"{_yuan(single_excess)}，这些付款合计{_yuan(single.paid)}",
            basis("8_15", "16_17"), float(single_excess), payments.refs(single.positions)))
    if monthly:
        parts_en, parts_zh, refs = [], [], []
        for m in monthly:
            y, month, over = m.year, m.month, m.over
            limits = "/".join(map(_yuan, over.caps))
            parts_en.append(f"{y}-{month:02d}: {_yuan(m.total)} paid, cap {limits}, {_yuan(over.excess)} over")
            parts_zh.append(f"{y}年{month}月：付款{_yuan(m.total)}，限额{limits}，超出{_yuan(over.excess)}")
            refs.extend(payments.refs(over.positions))
        add(FindingItem(
            "nppa2019.monthly_cap",
            f"A verified minor's ({shown}) monthly payments exceeded the monthly cap by {_yuan(monthly_excess)} "
            f"in {len(monthly)} months (each payment judged by the band at its own date; overlaps the "
            "single-payment finding): " + "; ".join(parts_en),
            f"实名未成年人（{shown}）有{len(monthly)}个月累计付款超过月度限额，共超出{_yuan(monthly_excess)}"
            "（每笔按付款当日年龄段计；与单次限额认定可能重叠）：" + "；".join(parts_zh),
            basis("8_15", "16_17"), float(monthly_excess), tuple(refs)))


def _capped_runs(ctx: _Context) -> list[tuple[int, int, tuple[AgeBand, Decimal | None, Decimal | None]]]:
    """Runs [lo, hi) of payments (by position) the caps judge, with the holder's band and caps then:
    a minor's age, the account verified (from verified_at on, if known), the caps in force."""
    regs = ctx.regs
    limits_by_age = regs.limits_by_age
    times = ctx.times
    first = bisect_left(times, datetime.combine(regs.caps.effective_from, time(0), tzinfo=ctx.tz))
    if ctx.verified_at is not None:
        first = max(first, bisect_left(times, ctx.verified_at))
    out = []
    start = 0
    for end, age in ctx.holder_runs:
        lo = max(start, first)
        if age is not None and 0 <= age < len(limits_by_age) and lo < end:
            out.append((lo, end, limits_by_age[age]))
        start = end
    return out


class _MonthTotals:
    """Running totals of the account's counted payments per calendar month (the case's timezone),
    built for a month when a capped run first reaches it."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.starts: dict[tuple[int, int], int] = {}  # month -> position of its first payment
        self.ends: dict[tuple[int, int], int] = {}
        self.totals: dict[tuple[int, int], list[Decimal]] = {}  # month -> [0, after 1st, after 2nd, ...]
        self.amounts: dict[tuple[int, int], list[Decimal]] = {}  # counted amounts, 0 for the others

    def split(self, lo: int, hi: int) -> list[tuple[tuple[int, int], int, int, int, list[Decimal], list[Decimal]]]:
        """Payments [lo, hi) by month, as (month, base, first, last, amounts, totals): the month's
        payments [first, last) are payments[base + first:base + last]."""
        out = []
        times = self.ctx.times
        while lo < hi:
            at = times[lo]
            month = (at.year, at.month)
            if month not in self.starts:
                self._build(month, lo)
            base, end = self.starts[month], self.ends[month]
            out.append((month, base, lo - base, min(hi, end) - base, self.amounts[month], self.totals[month]))
            lo = end
        return out

    def _build(self, month: tuple[int, int], inside: int) -> None:
        times, tz, payments = self.ctx.times, self.ctx.tz, self.ctx.payments
        year, m = month
        start = bisect_left(times, datetime(year, m, 1, tzinfo=tz), 0, inside)
        end = bisect_left(times, datetime(year + m // 12, m % 12 + 1, 1, tzinfo=tz), inside) if year < 9999 or m < 12 \
            else len(times)
        amounts = [amount if counted else _ZERO
                   for amount, counted in zip(payments.amounts[start:end], payments.counted[start:end], strict=True)]
        self.starts[month], self.ends[month] = start, end
        self.amounts[month] = amounts
        # Summed in time order from 0, as a running total per payment (same Decimal sums).
        self.totals[month] = list(accumulate(amounts, initial=_ZERO))

    def total(self, year: int, month: int) -> Decimal:
        return self.totals[(year, month)][-1]


# The allowed hours [from, to) of a Beijing date, from PlayClock.window: a date before any
# national rule gets _NO_RULE (recognised by identity), a closed day a window no time falls in.
_NO_RULE = (time.min, time.max)
_CLOSED = (time.min, time.min)


class PlayClock:
    """``calendar.play_rule`` and ``calendar.minor_play_allowed``, one calendar look-up per date.

    The rules give each day one allowed window [allowed_from, allowed_to) and decide by the date
    alone whether that day's window is open, so a date's answer is cached as (rule, window open)
    and a moment costs a dict look-up and a time comparison (this runs per payment and session).
    Equal answers to the calendar's are checked in the tests.
    """

    __slots__ = ("calendar", "zone", "_days", "_windows")

    def __init__(self, calendar: SchoolCalendar) -> None:
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.data.timezone)
        self._days: dict[date, tuple[PlayRule | None, bool | None]] = {}
        self._windows: dict[date, tuple[time, time]] = {}

    def day(self, d: date) -> tuple[PlayRule | None, bool | None]:
        """The rule in force on Beijing date ``d`` and whether its window opens that day."""
        found = self._days.get(d)
        if found is None:
            zone, calendar = self.zone, self.calendar
            rule = calendar.play_rule(datetime.combine(d, time(0), tzinfo=zone))
            is_open = calendar.minor_play_allowed(datetime.combine(d, rule.allowed_from, tzinfo=zone)) if rule else None
            found = self._days[d] = (rule, is_open)
        return found

    def window(self, d: date) -> tuple[time, time]:
        """The hours [from, to) a minor may play on Beijing date ``d``: ``_CLOSED`` on a day the
        rule keeps shut, ``_NO_RULE`` before any national rule."""
        found = self._windows.get(d)
        if found is None:
            rule, is_open = self.day(d)
            found = self._windows[d] = (_NO_RULE if rule is None
                                        else (rule.allowed_from, rule.allowed_to) if is_open else _CLOSED)
        return found

    def rule(self, moment: datetime) -> PlayRule | None:
        if moment.tzinfo is not None and moment.tzinfo is not self.zone:
            moment = moment.astimezone(self.zone)  # a naive moment is on the rules' clock already
        d = moment.date()
        return (self._days.get(d) or self.day(d))[0]

    def allowed(self, moment: datetime) -> bool | None:
        """Whether a game could lawfully serve a minor then; None before any national rule."""
        if moment.tzinfo is not None and moment.tzinfo is not self.zone:
            moment = moment.astimezone(self.zone)
        d = moment.date()
        hours = self._windows.get(d) or self.window(d)
        return None if hours is _NO_RULE else hours[0] <= moment.time() < hours[1]

    def forbidden(self, moments: list[datetime]) -> list[bool]:
        """``allowed(m) is False`` for each moment (on the rules' clock already, or aware)."""
        zone, windows = self.zone, self._windows
        out = []
        for m in moments:
            if m.tzinfo is not zone and m.tzinfo is not None:
                m = m.astimezone(zone)
            hours = windows.get(d := m.date()) or self.window(d)
            out.append(hours is not _NO_RULE and not hours[0] <= m.time() < hours[1])
        return out


def _crossings(start: datetime, last: datetime, clock: PlayClock) -> list[datetime]:
    """Moments inside (start, last] where a play rule can turn from allowed to forbidden:
    each midnight and each day's allowed_to (at most 14 days, enough for any real session)."""
    out = []
    day = start.date()
    end_day = min(last.date(), day + timedelta(days=14))
    while day <= end_day:
        midnight = datetime.combine(day, time(0), tzinfo=start.tzinfo)
        rule = clock.rule(midnight)
        for moment in (midnight, datetime.combine(day, rule.allowed_to, tzinfo=start.tzinfo) if rule else None):
            if moment is not None and start < moment <= last:
                out.append(moment)
        day += timedelta(days=1)
    return out


_SECOND = timedelta(seconds=1)


def _session_forbidden(start: datetime, end: datetime | None, clock: PlayClock) -> bool:
    """Did any part of the session fall at a forbidden hour (rules run on Beijing time)?"""
    zone = clock.zone
    if start.tzinfo is not zone:
        start = start.astimezone(zone)
    day = start.date()
    hours = clock._windows.get(day) or clock.window(day)
    if hours is not _NO_RULE:
        if not hours[0] <= start.time() < hours[1]:
            return True
        if end is None:
            return False
        last = (end if end.tzinfo is zone else end.astimezone(zone)) - _SECOND
        if last.date() == day:
            # A day has one allowed window, closing before midnight: inside it unless it ran past the close.
            return last > start and last.time() >= hours[1]
    elif end is None:
        return False
    else:
        last = (end if end.tzinfo is zone else end.astimezone(zone)) - _SECOND
    if last <= start:
        return False
    if clock.allowed(last) is False:
        return True
    return any(clock.allowed(m) is False for m in _crossings(start, last, clock))


def _forbidden_hours(ctx: _Context) -> None:
    """A verified minor holder served at hours the play rule in force forbids."""
    sessions = ctx.case.sessions
    # (min keeps the first of equal moments, as over one list)
    if not forbidden_hours_apply(ctx, min(map(_START, sessions)) if sessions else None):
        add_forbidden_finding(ctx, [], [], {})
        return
    adult = ctx.regs.civil_code.adult_age
    clock = ctx.k.play_clock
    verified_at = ctx.verified_at  # verified then: the account is verified, from verified_at on if known
    rules: dict[str, PlayRule] = {}
    paid = _forbidden_payments(ctx, clock, adult)
    times = ctx.times
    for moment in {times[i].date(): times[i] for i in paid}.values():  # one look-up per day
        rule = clock.rule(moment)
        if rule:
            rules[rule.id] = rule
    played = []
    tz = ctx.tz
    # A minor from the birth date's midnight until the day adult age completes (ages as idcard.age_at).
    born_at = datetime.combine(ctx.holder.birth, time(0), tzinfo=tz)
    adult_on = ctx.holder.completes(adult)
    adult_at = datetime.combine(adult_on, time(0), tzinfo=tz) if adult_on else None
    for i, s in enumerate(sessions):
        fields = s.__dict__  # as in _payments: a pydantic attribute read costs ~70 ns
        start = fields["start"]
        if start.tzinfo is not tz:
            start = _local(start, tz)
        if start < born_at or (adult_at is not None and start >= adult_at) \
                or (verified_at is not None and start < verified_at):
            continue
        end = fields["end"]
        if end is not None and end.tzinfo is not tz:
            end = _local(end, tz)
        if _session_forbidden(start, end, clock):
            sid = fields["id"]
            played.append(RecordRef(f"sessions/{i}" if sid is None or sid == "" else f"sessions/{sid}", start))
            rule = clock.rule(start) or (clock.rule(end) if end else None)
            if rule:
                rules[rule.id] = rule
    add_forbidden_finding(ctx, paid, played, rules)


def forbidden_hours_apply(ctx: _Context, first_session: datetime | None) -> bool:
    """Whether the play rules judge this account: verified under a holder of known birth date who
    was a minor at its first activity (payment or session, ``first_session`` the earliest start)."""
    if ctx.status != _VERIFIED or ctx.holder.birth is None or not (ctx.times or first_session):
        return False
    starts = ctx.times[:1]
    if first_session is not None:
        starts.append(first_session)
    first_age = ctx.holder.age(min(starts))
    return first_age is None or first_age < ctx.regs.civil_code.adult_age


def add_forbidden_finding(ctx: _Context, paid: list[int], played: list[RecordRef], rules: dict[str, PlayRule],
                          total: Decimal | None = None) -> None:
    """The forbidden-hour features and finding from the payments (positions, paying ``total`` when
    known) and sessions found, and the rules that forbade them (in the order met). Shared with the
    block path."""
    f = ctx.signals.features
    f["real_name.forbidden_hour_payments"] = float(len(paid))
    f["real_name.forbidden_hour_sessions"] = float(len(played))
    if not paid and not played:
        return
    if total is None:
        total = ctx.payments.total(paid)
    shown = ctx.holder.masked or "birth date on record"
    in_force = [rules[r] for r in sorted(rules, key=lambda r: rules[r].effective_from)]
    ctx.signals.findings.append(FindingItem(
        "nppa.forbidden_hours_play",
        f"A verified minor ({shown}) was served at hours the play rules forbid: {len(paid)} payments "
        f"({_yuan(total)}) and {len(played)} sessions. "
        + " ".join(f"From {r.effective_from} ({r.document}): {r.summary_en}." for r in in_force),
        f"实名未成年人（{shown}）在规定禁止时段获得服务：付款{len(paid)}笔（{_yuan(total)}），游戏时段{len(played)}次。"
        + "".join(f"{r.effective_from}起（{r.document}）：{r.summary_zh}。" for r in in_force),
        " ; ".join(r.citation for r in in_force), float(total),
        (*ctx.payments.refs(paid), *played)))


def _forbidden_payments(ctx: _Context, clock: PlayClock, adult: int) -> list[int]:
    """Positions of the counted payments of the holder as a verified minor at a forbidden hour, in time order."""
    # Ages only grow along the payments, and verification holds from verified_at on: the
    # payments to judge are the runs of minor ages from the first verified position.
    verified_from = bisect_left(ctx.times, ctx.verified_at) if ctx.verified_at is not None else 0
    payments = ctx.payments
    judged = []
    start = 0
    for end, age in ctx.holder_runs:
        if age is not None and age < adult and end > verified_from:
            judged.extend(payments.counted_in(max(start, verified_from), end))
        start = end
    times = ctx.times
    return list(compress(judged, clock.forbidden([times[i] for i in judged])))
