"""Real-name signals of a whole block of cases at once, from its columns: step 5 of docs/columnar.md.

``assessor batch`` uses it for the JSON Lines cases the columnar reader accepts
(:mod:`assessor.batch_columns`); one case on its own still takes
:func:`assessor.features.real_name.extract` on its models. Its contract is tested in
tests/test_real_name_block.py, its cost measured by ``benchmarks/extract.py --columnar``.

:func:`iter_block` takes a :class:`assessor.io.columnar.Block` and gives, for each of its cases,
exactly the :class:`Signals` that ``real_name.extract`` gives for that case's models (features
bit for bit and in the same order, evidence, findings, records, warnings, per-payment values), or
``None`` for a case it leaves to the usual path:

- a case the reader declined;
- a case whose successful payments in CNY are not all in whole yuan (the caps below are judged
  with integer sums).

A whole block is left to the usual path when the knowledge breaks an assumption named in
:func:`_fits` (an office's settings may), or when it holds more than ``MAX_CASES`` cases.

The work per payment and per session is done over the whole block: each payment's local date
and time of day, both people's ages, the play window of its date, the month's running total,
which payments and sessions the caps and the play rules catch and what they sum to by case and
by month, and which cases the claim check and the guest finding can only give their features
for. What is left per case is the case's identity (its ID numbers, read once each) and the items
that fire. Those run through the extractor's own functions (``real_name.analyse``), on a case
view whose payment times become ``datetime`` objects only when one is read.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from itertools import repeat
from typing import Any, overload
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from assessor.features import real_name as rn
from assessor.features import recharge_block as rb
from assessor.features.base import RecordRef, Signals
from assessor.io import columnar
from assessor.io.columnar import Block
from assessor.schema import Holder, RealNameStatus, RechargeStatus, Speaker

MAX_CASES = rb.MAX_CASES
_TZ = ZoneInfo(columnar.ZONE)  # the only zone the reader accepts
_DAY = 86400
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_NONE = -1  # an age not known (no birth date, or before the birth)
_FAR = np.iinfo(np.int64).max  # a threshold never reached
_NEVER = np.iinfo(np.int64).min  # a threshold always passed
_ZERO = Decimal(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def _fits(k: rn.RealNameKnowledge) -> bool:
    """Whether the block path can follow these settings exactly: play rules on Beijing time (the
    zone of every accepted case), and caps in whole yuan (summed here as integers)."""
    caps = [cap for band in k.regulations.caps.bands for cap in (band.single_cny, band.monthly_cny)
            if cap is not None]
    return k.calendar.data.timezone == columnar.ZONE and all(cap == cap.to_integral_value() for cap in caps)


def extract_block(block: Block, knowledge: rn.RealNameKnowledge | None = None) -> list[Signals | None]:
    """Each case's real-name signals, or None where the usual path must give them (module docstring)."""
    return list(iter_block(block, knowledge))


def iter_block(block: Block, knowledge: rn.RealNameKnowledge | None = None) -> Iterator[Signals | None]:
    """:func:`extract_block` one case at a time: the block's arrays are worked out first, then each
    case's signals as they are asked for."""
    k = knowledge or rn.RealNameKnowledge.default()
    cases = len(block.lines)
    if not block.accepted.any() or not _fits(k) or cases > MAX_CASES:
        yield from repeat(None, cases)
        return
    people = [_Identity(model) if model is not None else None for model in block.models]
    pay = _Payments(block, people)
    sessions = _Sessions(block)
    found = _Found(k, pay, sessions, people)
    exact = (block.accepted & pay.whole).tolist()
    for c in range(cases):
        if not exact[c]:
            yield None
            continue
        yield _case_signals(k, block, pay, sessions, found, people[c], c)


# --------------------------------------------------------------------------- a case's identity


class _Identity:
    """What a case says of its people, read once (the extractor's start of ``extract``)."""

    __slots__ = ("model", "warnings", "real_name", "holder", "claimed", "label", "is_claimed", "verified_at")

    def __init__(self, model: Any) -> None:
        self.model = model
        self.warnings: list[str] = []
        account, claim = model.account, model.claim
        real = self.real_name = account.real_name if account else None
        warnings = self.warnings
        self.holder = (rn._person(real.id_number, real.birth_date, "registered", warnings) if real
                       else rn._Person())
        self.claimed = (rn._person(claim.minor_id_number, claim.minor_birth_date, "claimed minor's", warnings)
                        if claim else rn._Person())
        self.label, self.is_claimed = rn._holder_identity(real.holder if real else Holder.unknown, self.holder,
                                                          self.claimed, claim.guardian_id_number if claim else None,
                                                          warnings)
        self.verified_at = rn._local(real.verified_at, _TZ) if real and real.verified_at else None

    @property
    def status(self) -> RealNameStatus:
        return self.real_name.status if self.real_name else RealNameStatus.unknown


# --------------------------------------------------------------------------- columns


def _local_days(posix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Beijing date ordinal and second of the day of each time."""
    local = posix + columnar._OFFSET
    return local // _DAY + _EPOCH_DAY, local % _DAY


def _civil(ordinal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of each date ordinal (H. Hinnant's civil_from_days, in integers: numpy's
    datetime64 conversions cost five times as much)."""
    z = ordinal - _EPOCH_DAY + 719468  # days from 0000-03-01
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


def _ages(birth: list[date | None], case_of: np.ndarray, year: np.ndarray, month: np.ndarray,
          day: np.ndarray) -> np.ndarray:
    """Completed years at each moment's local date (``idcard.age_at``), ``_NONE`` when unknown or unborn."""
    known = np.array([b is not None for b in birth], bool)
    b_year = np.array([b.year if b else 0 for b in birth], np.int64)
    b_key = np.array([b.month * 100 + b.day if b else 0 for b in birth], np.int64)
    age = year - b_year[case_of] - ((month * 100 + day) < b_key[case_of])
    return np.where(known[case_of] & (age >= 0), age, _NONE)


def _midnight(d: date | None, default: int) -> int:
    """POSIX seconds of Beijing midnight starting ``d``."""
    return default if d is None else (d.toordinal() - _EPOCH_DAY) * _DAY - columnar._OFFSET


def _from_second(moment: datetime | None, default: int) -> int:
    """The first whole POSIX second at or after ``moment``: a payment or session (whole seconds, the
    reader's) is at or after ``moment`` exactly when it is at or after this second."""
    return default if moment is None else -((_EPOCH - moment) // _SECOND)


class _Payments:
    """Every case's payments (any status), each case's in time order (the extractor's ``_Payments``)."""

    def __init__(self, block: Block, people: list[_Identity | None]) -> None:
        part = block.records["recharges"]
        rows, offsets = part.rows, part.offsets
        cases = len(offsets) - 1
        every = rb.ordered_payments(block)  # (shared with the recharge block path)
        self.row = order = every.order
        self.case_of = case_of = rb._case_of(offsets)[order]
        self.bounds = np.searchsorted(case_of, np.arange(cases + 1)).tolist()
        self.posix = posix = part.instants["at"][order]
        self.day, self.second = _local_days(posix)
        year, month, day = _civil(self.day)
        self.month = year * 12 + month - 1
        self.currency = every.currency
        self.success = success = every.status == RechargeStatus.success
        self.counted = success & (self.currency == rn.CNY)
        self.foreign = np.bincount(case_of[success & ~self.counted], minlength=cases) > 0
        amount = rows.field("amount").fill_null(0).to_numpy(zero_copy_only=False)[order]
        whole = np.floor(amount) == amount
        self.whole = np.bincount(case_of[self.counted & ~whole], minlength=cases) == 0
        self.cny = np.where(self.counted & whole, amount, 0).astype(np.int64)  # counted whole yuan, else 0
        self.keys = every.keys
        self.excerpts = rb.payment_excerpts(block)  # (shared with the recharge block path)
        self.counted_list = self.counted.tolist()
        self.disputed_array = rows.field("disputed").fill_null(True).to_numpy(zero_copy_only=False)[order]
        self.disputed = self.disputed_array.tolist()
        self.posix_list = posix.tolist()
        self._rows = rows
        self._amounts = block.amounts
        holder = [p.holder.birth if p else None for p in people]
        claimed = [p.claimed.birth if p else None for p in people]
        self.holder_age = _ages(holder, case_of, year, month, day)
        self.claimed_age = _ages(claimed, case_of, year, month, day)
        self.holder_runs = _Runs(self.holder_age, case_of, self.bounds)
        self.claimed_runs = _Runs(self.claimed_age, case_of, self.bounds)
        self._decimals: dict[bytes | None, Decimal | None] = {}

    def amount(self, i: int) -> Decimal:
        """Payment i's amount as the schema reads it (read once per distinct text: a block holds few)."""
        text = self._amounts[self.row[i]]
        found = self._decimals.get(text)
        if found is None:
            found = self._decimals[text] = columnar._decimal(text)
        return found  # type: ignore[return-value]

    def channels(self, lo: int, hi: int) -> list[Any]:
        read = columnar._recharge_field
        return [None if v is None else read("channel", v)
                for v in self._rows.field("channel").take(pa.array(self.row[lo:hi], pa.int64())).to_pylist()]


class _Runs:
    """Each case's ages at its payments as ``_Person.age_runs`` gives them: (end, age) for each run
    of equal ages, ends counted from the case's first payment, None for an unknown age."""

    def __init__(self, age: np.ndarray, case_of: np.ndarray, bounds: list[int]) -> None:
        last = np.ones(len(age), bool)  # the last payment of each run
        last[:-1] = (age[1:] != age[:-1]) | (case_of[1:] != case_of[:-1])
        at = np.flatnonzero(last)
        self.ends = (at + 1).tolist()
        self.ages = [None if a == _NONE else a for a in age[at].tolist()]
        self.first = np.searchsorted(at, bounds).tolist()  # case c's runs: first[c]:first[c + 1]

    def of(self, c: int, lo: int) -> list[tuple[int, int | None]]:
        a, b = self.first[c], self.first[c + 1]
        return [(end - lo, age) for end, age in zip(self.ends[a:b], self.ages[a:b], strict=True)]


class _Sessions:
    """Every case's sessions in the order of the case's list: the file's, then those paired from
    login traces (as ``Case`` pairs them)."""

    def __init__(self, block: Block) -> None:
        cases = len(block.records["sessions"].offsets) - 1
        files = rb.file_sessions(block)  # (shared with the recharge block path)
        case, start, end, ids, position = files.case, files.start, files.end, files.ids, files.position
        guests = np.zeros(len(case), bool)
        paired = rb.trace_sessions(block)
        if len(paired.case):
            case = np.concatenate([case, paired.case])
            start = np.concatenate([start, paired.start])
            end = np.concatenate([end, paired.end])
            ids = pa.concat_arrays([ids, paired.ids])
            position = np.concatenate([position, np.full(len(paired.case), -1)])  # (never shown: they have ids)
            guests = np.concatenate([guests, paired.guest])
        order = np.argsort(case, kind="stable")  # a case's file sessions, then its traces', each in order
        self.case_of, self.start, self.end = case[order], start[order], end[order]
        self.bounds = np.searchsorted(self.case_of, np.arange(cases + 1)).tolist()
        self._id_array, self.position = ids.take(pa.array(order, pa.int64())), position[order]
        guests = guests[order]
        self.guest_rows = np.flatnonzero(guests)
        self.has_guest = (np.bincount(self.case_of[guests], minlength=cases) > 0).tolist()
        self.has_end = self.end != columnar._NO_TIME
        self.day, self.second = _local_days(self.start)
        last = np.where(self.has_end, self.end - 1, self.start)  # the session's last second
        self.last_day, self.last_second = _local_days(last)
        self.first_start = np.full(cases, _FAR)  # each case's first start (_FAR: no session)
        np.minimum.at(self.first_start, self.case_of, self.start)

    @cached_property
    def ids(self) -> list[str | None]:
        """The ids, made a list when a finding first cites a session."""
        return self._id_array.to_pylist()

    def ref(self, i: int, start: datetime) -> RecordRef:
        sid = self.ids[i]
        key = sid if sid is not None and sid != "" else int(self.position[i])
        return RecordRef(f"sessions/{key}", start)


# --------------------------------------------------------------------------- the play clock as arrays


_UNKNOWN, _NO_RULE = -2, -1  # a date not looked up yet; a date before any national rule
_WINDOWS: dict[int, tuple[rn.RealNameKnowledge, dict[str, Any]]] = {}


def _windows(k: rn.RealNameKnowledge, days: np.ndarray) -> dict[str, Any]:
    """The play window of every date the reader admits, filled in for ``days`` when first met:
    ``code`` (_NO_RULE before any national rule, else the rule's index in ``rules``), and the
    allowed seconds of the day [``lo``, ``hi``) (empty on a day the rule keeps shut)."""
    known = _WINDOWS.get(id(k))  # (the entry holds the knowledge: its id is not reused meanwhile)
    if known is None:
        size = rb._LAST_DAY - rb._FIRST_DAY + 1
        table = {"code": np.full(size, _UNKNOWN, np.int64), "lo": np.zeros(size), "hi": np.zeros(size),
                 "rules": [], "index": {}}
        if len(_WINDOWS) >= 8:  # knowledge is loaded once per office: a handful at most
            _WINDOWS.clear()
        _WINDOWS[id(k)] = (k, table)
    else:
        table = known[1]
    code = table["code"]
    clock = k.play_clock
    for d in columnar.distinct(days[code[days - rb._FIRST_DAY] == _UNKNOWN]).tolist():  # (once warm: none)
        moment = date.fromordinal(d)
        rule, _ = clock.day(moment)
        hours = clock.window(moment)
        at = d - rb._FIRST_DAY
        if rule is None:
            code[at] = _NO_RULE
            continue
        code[at] = table["index"].setdefault(id(rule), len(table["rules"]))
        if code[at] == len(table["rules"]):
            table["rules"].append(rule)
        table["lo"][at], table["hi"][at] = (_seconds(hours[0]), _seconds(hours[1]))
    return table


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


# --------------------------------------------------------------------------- caps and play rules


class _Found:
    """What the caps and the play rules catch in every case: the extractor's ``_cap_findings`` and
    ``_forbidden_hours`` as whole-block array operations (each case's findings are then worded by
    the extractor's own functions)."""

    def __init__(self, k: rn.RealNameKnowledge, pay: _Payments, sessions: _Sessions,
                 people: list[_Identity | None]) -> None:
        regs = k.regulations
        self.pay, self.sessions = pay, sessions
        cases = len(people)
        adult = regs.civil_code.adult_age
        verified = np.array([p is not None and p.status == RealNameStatus.verified for p in people], bool)
        verified_from = np.array([_from_second(p.verified_at if p else None, _NEVER) for p in people], np.int64)
        case_of, age = pay.case_of, pay.holder_age
        windows = _windows(k, np.concatenate([pay.day, sessions.day, sessions.last_day]))
        self.windows = windows

        # Caps: each payment judged by the band of the holder's age at it, from the caps' date and
        # the verification on, in a case verified under a holder who was a minor at some payment.
        bands = regs.limits_by_age
        youngest = np.full(cases, _FAR)
        np.minimum.at(youngest, case_of[age != _NONE], age[age != _NONE])
        applies = verified & (youngest < adult)
        caps_from = np.maximum(_midnight(regs.caps.effective_from, 0), verified_from)
        capped = applies[case_of] & (pay.posix >= caps_from[case_of]) & (age >= 0) & (age < len(bands))
        at = np.where(capped, age, 0)
        paid_service = np.array([single is not None for _, single, _ in bands] or [False], bool)[at]
        single = np.array([int(s) if s is not None else 0 for _, s, _ in bands] or [0], np.int64)[at]
        monthly = np.array([int(m) if m is not None else 0 for _, _, m in bands] or [0], np.int64)[at]
        bounds = pay.bounds
        under8 = capped & ~paid_service & pay.counted
        self.under8 = _ByCase(under8, case_of, bounds)
        self.under8_paid = _sum_by_case(under8, pay.cny, case_of, cases)
        over_single = capped & paid_service & pay.counted & (pay.cny > single)
        self.single = _ByCase(over_single, case_of, bounds, single)
        self.single_paid = _sum_by_case(over_single, pay.cny, case_of, cases)
        self.single_excess = _sum_by_case(over_single, pay.cny - single, case_of, cases)
        # The month's running total after each payment (every counted payment of the account that month).
        new_month = np.ones(len(case_of), bool)
        new_month[1:] = (np.diff(pay.month) != 0) | (np.diff(case_of) != 0)
        group = np.cumsum(new_month) - 1
        running = np.cumsum(pay.cny)
        group_start = np.flatnonzero(new_month)
        before_group = (running - pay.cny)[group_start]
        after = running - before_group[group]
        before = after - pay.cny
        over = after - np.maximum(before, monthly)
        monthly_over = capped & paid_service & (over > 0)
        self.monthly = _ByCase(monthly_over, case_of, bounds, group, monthly)
        # Per month (group): its payments' total, the excess of those over the cap, and its (year, month).
        self.group_total = _sum_by_case(np.ones(len(group), bool), pay.cny, group, len(group_start))
        self.group_over = _sum_by_case(monthly_over, over, group, len(group_start))
        self.group_month = pay.month[group_start].tolist()
        self.capped_applies = applies.tolist()
        caught = (capped & ~paid_service) | monthly_over | over_single
        self.caught = _ByCase(caught, case_of, bounds, at)  # with the band each was judged in
        self.capped_any = (np.bincount(case_of[caught], minlength=cases) > 0).tolist()

        # Play rules: a verified minor holder's payments and sessions at hours the rule then forbids.
        at_day = pay.day - rb._FIRST_DAY
        code = windows["code"][at_day]
        inside = (windows["lo"][at_day] <= pay.second) & (pay.second < windows["hi"][at_day])
        forbidden_paid = (pay.counted & (age >= 0) & (age < adult) & (pay.posix >= verified_from[case_of])
                          & (code != _NO_RULE) & ~inside)
        self.forbidden_paid = _ByCase(forbidden_paid, case_of, bounds)
        self.forbidden_total = _sum_by_case(forbidden_paid, pay.cny, case_of, cases)
        # Whether the play rules judge the account (``real_name.forbidden_hours_apply``): verified under a
        # holder of known birth date, a minor (or not yet born) at its first payment or session.
        paying = np.diff(bounds) > 0
        first_paid = np.full(cases, _FAR)  # each case's first payment (any status), _FAR for none
        first_paid[paying] = pay.posix[np.asarray(bounds[:-1])[paying]]
        first = np.minimum(sessions.first_start, first_paid)
        active = first != _FAR
        year, month, day = _civil(_local_days(np.where(active, first, 0))[0])
        first_age = _ages([p.holder.birth if p else None for p in people], np.arange(cases), year, month, day)
        known = np.array([p is not None and p.holder.birth is not None for p in people], bool)
        self.forbidden_applies = (verified & known & active & (first_age < adult)).tolist()  # (unborn: _NONE < adult)
        caught, undecided = self._sessions(people, verified_from, adult)
        self.session_caught = caught.tolist()
        self.session_looked = _ByCase(caught | undecided, sessions.case_of, sessions.bounds)
        self._claims(regs, people, cases)
        # Nothing a guest or an unverified user paid to judge (``real_name._guest_finding``'s first test):
        # a status the rules count as verified, no payment before the verification time, no guest session.
        unverified = np.array([(p.status if p else RealNameStatus.unknown) in regs.not_verified_statuses
                               for p in people], bool)
        late = (verified_from != _NEVER) & (first_paid < verified_from)
        self.no_guest_finding = (~unverified & ~late & ~np.array(sessions.has_guest, bool)).tolist()

    def _claims(self, regs: rn.Regulations, people: list[_Identity | None], cases: int) -> None:
        """The cases whose claim check (``real_name._claim_evidence``) can only give its features: no
        claimed birth date or no payment to judge; or none of the judged payments made before the
        birth or at an adult age, the first at an age the check finds plausible. Their share of
        payments at an adult age (NaN without a birth date or a payment, else 0.0)."""
        pay = self.pay
        case_of = pay.case_of
        disputed = pay.counted & pay.disputed_array
        judged = np.where((np.bincount(case_of[disputed], minlength=cases) > 0)[case_of], disputed, pay.counted)
        has_birth = np.array([p is not None and p.claimed.birth is not None for p in people], bool)
        n_judged = np.bincount(case_of[judged], minlength=cases)
        age = pay.claimed_age
        odd = judged & ((age == _NONE) | (age >= regs.civil_code.adult_age)
                        | ((age >= 0) & (age < regs.checks.implausible_below_age)))
        any_odd = np.bincount(case_of[odd], minlength=cases) > 0
        self.claim_simple = (~has_birth | (n_judged == 0) | ~any_odd).tolist()
        self.claim_share = np.where(has_birth & (n_judged > 0), 0.0, math.nan).tolist()

    def claim(self, ctx: rn._Context, c: int) -> None:
        """``real_name._claim_evidence`` for case ``c``: its features only, when decided over the block."""
        if not self.claim_simple[c]:
            rn._claim_evidence(ctx)
            return
        f = ctx.signals.features
        f["real_name.claim_implausible_age"] = 0.0
        f["claim.not_minor_at_payment"] = 0.0
        f["claim.adult_payment_share"] = self.claim_share[c]

    def guest(self, ctx: rn._Context, c: int) -> None:
        """``real_name._guest_finding`` for case ``c``, when there is anything to judge."""
        if self.no_guest_finding[c]:
            ctx.signals.features["real_name.unverified_paid_cny"] = 0.0
        else:
            rn._guest_finding(ctx)

    def _sessions(self, people: list[_Identity | None], verified_from: np.ndarray,
                  adult: int) -> tuple[np.ndarray, np.ndarray]:
        """Which sessions ``_session_forbidden`` finds forbidden, of those it judges (a minor holder's,
        verified then), decided here when the session stays within its day; the others are left to it."""
        s, windows = self.sessions, self.windows
        born = np.array([_midnight(p.holder.birth if p else None, _FAR) for p in people], np.int64)
        adult_from = np.array([_midnight(p.holder.completes(adult) if p and p.holder.birth else None, _FAR)
                               for p in people], np.int64)
        case_of = s.case_of
        judged = (s.start >= born[case_of]) & (s.start < adult_from[case_of]) & (s.start >= verified_from[case_of])
        at_day = s.day - rb._FIRST_DAY
        code, lo, hi = windows["code"][at_day], windows["lo"][at_day], windows["hi"][at_day]
        ruled = code != _NO_RULE
        same_day = s.has_end & (s.last_day == s.day)
        outside = ruled & ~((lo <= s.second) & (s.second < hi))
        # (A last second at or before the start stays inside an open window: no need to compare the two.)
        ran_past = ruled & same_day & (s.last_second >= hi)
        # Decided here: begun outside the window; no end; ended the same day. Else day by day, as the extractor.
        decided = outside | ~s.has_end | same_day
        return judged & (outside | ran_past), judged & ~decided

    def caps(self, ctx: rn._Context, c: int) -> None:
        """``real_name._cap_findings`` for case ``c``: the sums are the block's, by case and by month."""
        if not self.capped_applies[c] or not self.capped_any[c]:
            rn.add_cap_findings(ctx, [], _ZERO, None, [], {})
            return
        bands = ctx.regs.limits_by_age
        used = {band.id: band for band in (bands[b][0] for b in sorted(set(self.caught.values_of(c))))}
        single = None
        positions = self.single.of(c)
        if positions:
            single = rn.CapBreach(positions, Decimal(self.single_paid[c]), Decimal(self.single_excess[c]),
                                  list(map(Decimal, sorted(set(self.single.values_of(c))))))
        monthly = []
        positions = self.monthly.of(c)
        if positions:
            groups, caps = self.monthly.values_of(c)
            cut = 0
            for k in range(1, len(groups) + 1):  # a month's breaches are consecutive
                if k == len(groups) or groups[k] != groups[cut]:
                    g = groups[cut]
                    y, m = divmod(self.group_month[g], 12)
                    monthly.append(rn.MonthBreach(y, m + 1, Decimal(self.group_total[g]), rn.CapBreach(
                        positions[cut:k], _ZERO, Decimal(self.group_over[g]), list(map(Decimal, sorted(set(caps[cut:k])))))))
                    cut = k
        under8 = self.under8.of(c)
        rn.add_cap_findings(ctx, under8, Decimal(self.under8_paid[c]) if under8 else _ZERO, single, monthly, used)

    def forbidden(self, ctx: rn._Context, c: int) -> None:
        """``real_name._forbidden_hours`` for case ``c``."""
        if not self.forbidden_applies[c]:
            rn.add_forbidden_finding(ctx, [], [], {})
            return
        s, pay = self.sessions, self.pay
        s_lo = s.bounds[c]
        lo = pay.bounds[c]
        paid = self.forbidden_paid.of(c)
        windows = self.windows
        rules: dict[str, Any] = {}
        code = windows["code"]
        for d in dict.fromkeys(pay.day[[lo + j for j in paid]].tolist()) if paid else ():
            rule = windows["rules"][code[d - rb._FIRST_DAY]]  # (a payment caught is ruled)
            rules[rule.id] = rule
        played: list[RecordRef] = []
        looked = self.session_looked.of(c)
        if looked:
            clock = ctx.k.play_clock
            for i in looked:
                row = s_lo + i
                start = datetime.fromtimestamp(int(s.start[row]), _TZ)
                end = datetime.fromtimestamp(int(s.end[row]), _TZ) if s.has_end[row] else None
                if not self.session_caught[row] and not rn._session_forbidden(start, end, clock):
                    continue
                played.append(s.ref(row, start))
                rule = clock.rule(start) or (clock.rule(end) if end else None)
                if rule:
                    rules[rule.id] = rule
        rn.add_forbidden_finding(ctx, paid, played, rules, Decimal(self.forbidden_total[c]))


def _sum_by_case(mask: np.ndarray, values: np.ndarray, case_of: np.ndarray, cases: int) -> list[int]:
    """Sums of the whole-yuan ``values`` a mask marks, by case. Exact while a sum stays under 2**53
    (``limits.MAX_AMOUNT``, 10 million, times the payments a 64 MiB line can hold is far under it)."""
    return np.bincount(case_of[mask], weights=values[mask], minlength=cases).astype(np.int64).tolist()


class _ByCase:
    """The rows a mask marks, by case, as positions from each case's first row; and, row for row,
    the values of any arrays given (each a list, or a tuple of lists for several)."""

    __slots__ = ("_positions", "_first", "_values")

    def __init__(self, mask: np.ndarray, case_of: np.ndarray, bounds: list[int], *values: np.ndarray) -> None:
        rows = np.flatnonzero(mask)
        self._positions = (rows - np.asarray(bounds)[case_of[rows]]).tolist() if len(rows) else []
        self._first = np.searchsorted(rows, bounds).tolist()
        self._values = [v[rows].tolist() for v in values]

    def of(self, c: int) -> list[int]:
        return self._positions[self._first[c]:self._first[c + 1]]

    def values_of(self, c: int) -> Any:
        a, b = self._first[c], self._first[c + 1]
        if len(self._values) == 1:
            return self._values[0][a:b]
        return tuple(v[a:b] for v in self._values)


# --------------------------------------------------------------------------- each case


class _Times(Sequence[datetime]):
    """A case's payment times (local, in order) as the extractor's list of datetimes, each made
    when first read: most cases read only a few (bisection, the records cited)."""

    __slots__ = ("posix", "_made")

    def __init__(self, posix: list[int]) -> None:
        self.posix = posix
        self._made: dict[int, datetime] = {}

    def __len__(self) -> int:
        return len(self.posix)

    @overload
    def __getitem__(self, i: int) -> datetime: ...
    @overload
    def __getitem__(self, i: slice) -> list[datetime]: ...

    def __getitem__(self, i: int | slice) -> datetime | list[datetime]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self.posix)))]
        made = self._made.get(i)
        if made is None:
            if i < 0:
                i += len(self.posix)
            made = self._made[i] = datetime.fromtimestamp(self.posix[i], _TZ)
        return made


class _Amounts(Sequence[Decimal]):
    """A case's amounts, each read when asked for (the findings sum a few)."""

    __slots__ = ("_pay", "_lo", "_hi")

    def __init__(self, pay: _Payments, lo: int, hi: int) -> None:
        self._pay, self._lo, self._hi = pay, lo, hi

    def __len__(self) -> int:
        return self._hi - self._lo

    def __getitem__(self, i: int) -> Decimal:  # type: ignore[override]
        if not 0 <= i < self._hi - self._lo:
            raise IndexError(i)
        return self._pay.amount(self._lo + i)


class _CasePayments(rn._Payments):
    """The extractor's ``_Payments`` of one case, read from the block's lists."""

    __slots__ = ("_pay", "_lo", "_hi", "_channels")

    def __init__(self, pay: _Payments, c: int) -> None:  # (not super().__init__: it reads models)
        lo, hi = pay.bounds[c], pay.bounds[c + 1]
        self._pay, self._lo, self._hi = pay, lo, hi
        self.keys = pay.keys[lo:hi]
        self.times = _Times(pay.posix_list[lo:hi])
        self.counted = pay.counted_list[lo:hi]
        self._disputed = pay.disputed[lo:hi]
        self._amounts = None
        self._refs = {}
        self._channels: list[Any] | None = None

    @property
    def amounts(self) -> _Amounts:  # type: ignore[override]
        return _Amounts(self._pay, self._lo, self._hi)

    @property
    def disputed(self) -> list[bool]:
        return self._disputed

    def disputed_at(self, i: int) -> bool:
        return self._disputed[i]

    def ref(self, i: int) -> RecordRef:
        ref = self._refs.get(i)
        if ref is None:
            pay, at = self._pay, self._lo + i
            ref = self._refs[i] = RecordRef(self.keys[i], pay.posix_list[at], pay.excerpts[at], _TZ)
        return ref

    def between(self, start: datetime, end: datetime) -> range:
        """As the extractor's, on the POSIX seconds (whole: the reader's): from the first second at
        or after ``start`` to the last at or before ``end``."""
        posix = self.times.posix
        return range(bisect_left(posix, _from_second(start, 0)), bisect_right(posix, (end - _EPOCH) // _SECOND))

    def channel(self, i: int) -> Any:
        if self._channels is None:
            self._channels = self._pay.channels(self._lo, self._hi)
        return self._channels[i]


class _CaseView:
    """The parts of a ``Case`` the extractor's functions read: the account (the rest, the chat lines
    a claim may cite, is read from the columns by ``_CaseContext``)."""

    __slots__ = ("account",)

    def __init__(self, model: Any) -> None:
        self.account = model.account


class _CaseContext(rn._Context):
    """The extractor's context for a case of the block."""

    __slots__ = ("guests", "block", "c")

    def guest_sessions(self) -> list[tuple[datetime, datetime | None]]:
        return self.guests

    def fluent_refs(self, min_chars: int) -> list[RecordRef]:
        """``real_name._fluent_chat_refs`` from the columns (the reader admits only text the schema keeps as it is)."""
        part = self.block.records["chats"]
        lo, hi = int(part.offsets[self.c]), int(part.offsets[self.c + 1])
        rows = part.rows.slice(lo, hi - lo)
        texts = rows.field("text").to_pylist()
        fluent = [i for i in np.flatnonzero(rb.chat_speakers(self.block)[lo:hi] == Speaker.account).tolist()
                  if len(text := texts[i]) >= min_chars and len(text.strip()) >= min_chars]
        if not fluent:
            return []
        ids, at = rows.field("id").to_pylist(), part.instants["at"][lo:hi].tolist()
        refs = []
        for i in fluent:
            key = i if ids[i] is None or ids[i] == "" else ids[i]
            seconds = at[i]
            refs.append(RecordRef(f"chats/{key}", None, rn.chat_excerpt(texts[i])) if seconds == columnar._NO_TIME
                        else RecordRef(f"chats/{key}", seconds, rn.chat_excerpt(texts[i]), _TZ))
        return refs


def _case_signals(k: rn.RealNameKnowledge, block: Block, pay: _Payments, sessions: _Sessions, found: _Found,
                  person: _Identity, c: int) -> Signals:
    signals = Signals(extractor=rn.NAME, version=k.version)
    warnings = signals.warnings
    payments = _CasePayments(pay, c)
    if pay.foreign[c]:
        warnings.append(_foreign_warning(pay, c))
    warnings.extend(person.warnings)
    real = person.real_name
    ctx = _CaseContext(case=_CaseView(person.model), k=k, tz=_TZ, signals=signals, payments=payments,
                       times=payments.times, holder=person.holder, holder_label=person.label,
                       holder_is_claimed=person.is_claimed, claimed=person.claimed, status=person.status,
                       verified_at=person.verified_at)
    ctx.guests, ctx.block, ctx.c = _guest_sessions(sessions, c), block, c
    lo = pay.bounds[c]
    ctx.set_ages((pay.holder_runs.of(c, lo), pay.claimed_runs.of(c, lo)))
    rn.analyse(ctx, real is not None and bool(real.id_number), claim=lambda ctx: found.claim(ctx, c),
               guest=lambda ctx: found.guest(ctx, c), caps=lambda ctx: found.caps(ctx, c),
               forbidden=lambda ctx: found.forbidden(ctx, c))
    return signals


def _foreign_warning(pay: _Payments, c: int) -> str:
    """As ``real_name._Payments`` words it: successful payments in other currencies."""
    lo, hi = pay.bounds[c], pay.bounds[c + 1]
    counts: dict[Any, int] = {}
    for currency in pay.currency[lo:hi][pay.success[lo:hi] & ~pay.counted[lo:hi]].tolist():
        counts[currency] = counts.get(currency, 0) + 1
    listed = ", ".join(f"{n} in {cur}" for cur, n in sorted(counts.items()))
    return f"payments in other currencies ({listed}) are not counted in CNY totals or caps"


def _guest_sessions(sessions: _Sessions, c: int) -> list[tuple[datetime, datetime | None]]:
    """The case's guest sessions (login traces with ct=2), in the order of its list: (start, end)."""
    if not sessions.has_guest[c]:
        return []
    rows = sessions.guest_rows
    out = []
    for i in rows[np.searchsorted(rows, sessions.bounds[c]):np.searchsorted(rows, sessions.bounds[c + 1])].tolist():
        end = datetime.fromtimestamp(int(sessions.end[i]), _TZ) if sessions.has_end[i] else None
        out.append((datetime.fromtimestamp(int(sessions.start[i]), _TZ), end))
    return out
