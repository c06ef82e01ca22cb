"""Recharge signals of a whole block of cases at once, from its columns: step 3 of docs/columnar.md.

``assessor batch`` uses it for the JSON Lines cases the columnar reader accepts
(:mod:`assessor.batch_columns`); one case on its own still takes
:func:`assessor.features.recharge.extract` on its models. Its contract is tested in
tests/test_recharge_block.py, its cost measured by ``benchmarks/extract.py --columnar``.

:func:`extract_block` takes a :class:`assessor.io.columnar.Block` and gives, for each of its
cases, exactly the :class:`Signals` that ``recharge.extract`` gives for that case's models
(features bit for bit and in the same order, evidence, records, warnings, per-payment flags), or
``None`` for a case it leaves to the usual path:

- a case the reader declined;
- a case whose successful payments are not all in whole yuan: the extractor sums such amounts
  in numpy's order, one case at a time (whole yuan add exactly in any order, so one running sum
  serves a block);
- a case whose account creation time is not in a layout the column reader knows.

A whole block is left to the usual path when the knowledge breaks an assumption named in
:func:`_fits` (an office's settings may), or when it holds more than ``MAX_CASES`` cases (the
block keys below would lose exactness; blocks are read 256 lines at a time).

Features are whole-array operations over the block: bincounts per case, cumulative sums and
searchsorted, with each case's payments in time order. Evidence stays Python, built only for
the items that fire, from lists of the few columns they cite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cached_property
from itertools import compress, repeat
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from assessor.features import recharge as r
from assessor.features.base import PaymentValues, RecordRef, Signals, payment_excerpt
from assessor.io import columnar
from assessor.io.columnar import Block
from assessor.schema import RechargeStatus

# The order recharge.extract sets its features in (tests hold the two to it).
FEATURES = (
    "recharge.burst_share", "recharge.max_burst_size", "recharge.max_hour_share", "recharge.max_day_share",
    "recharge.active_days", "recharge.in_session_share", "recharge.night_in_evening_session_share",
    "recharge.n_payments", "recharge.total_cny", "recharge.max_amount_cny",
    *(name for when in r.WHEN for name in (f"recharge.{when}_share", f"recharge.{when}_amount_share")),
    "recharge.escalation_log2", "recharge.top_tier_share", "recharge.same_item_repeat_share",
    "recharge.membership_repeats", "recharge.dormancy_days", "recharge.account_age_days",
    "recharge.spend_vs_history_log2", "recharge.n_devices", "sessions.n_ips", "sessions.n_sessions",
    "sessions.school_hours_share", "sessions.school_minutes_share", "sessions.after_school_share",
    "sessions.late_night_share", "sessions.day_off_share", "sessions.median_minutes", "sessions.max_minutes",
)
_NAN = math.nan
_DAY = 86400
_APART = 2.0**34  # cases' times set this far apart make one sorted key of (case, time): > any span read here
MAX_CASES = 2**18  # so that a case's number times _APART stays an exact float (< 2**53)
_TZ = ZoneInfo(columnar.ZONE)  # the only zone the reader accepts


def _fits(k: r.RechargeKnowledge) -> bool:
    """Whether the block path can follow these settings exactly.

    A late-night payment inside a session begun the evening before: the extractor looks back
    ``max_session_hours`` from the payment. When that reaches back past every evening start, any
    session begun the evening before is within reach, so the block path need not look back."""
    limits = k.data.thresholds
    evening = limits.evening_starts
    night_ends = k.calendar.data.bands[r.TimeBand.late_night][1]  # minutes of the day
    lookback_needed = _DAY - (evening.hour * 3600 + evening.minute * 60 + evening.second) + night_ends * 60
    return limits.max_session_hours * 3600 >= lookback_needed and not evening.microsecond


def extract_block(block: Block, knowledge: r.RechargeKnowledge | None = None) -> list[Signals | None]:
    """Each case's recharge signals, or None where the usual path must give them (module docstring)."""
    return list(iter_block(block, knowledge))


def iter_block(block: Block, knowledge: r.RechargeKnowledge | None = None) -> Iterator[Signals | None]:
    """:func:`extract_block` one case at a time: the features of the whole block are worked out first,
    then each case's evidence as it is asked for, so a caller that writes each case out holds one at a time."""
    k = knowledge or r.RechargeKnowledge.default()
    cases = len(block.lines)
    if not block.accepted.any() or not _fits(k) or cases > MAX_CASES:
        yield from repeat(None, cases)
        return
    pay = _Paid(block, k)
    sessions = _Sessions(block, k, cases)
    created, created_ok = _created(block)
    exact = (block.accepted & pay.whole & created_ok).tolist()
    columns = _features(k, pay, sessions, created, cases)
    rows = list(zip(*(columns[name].tolist() for name in FEATURES), strict=True))
    lists = _Lists(block, pay, sessions, created)
    for c in range(cases):
        if not exact[c]:
            yield None
            continue
        signals = Signals(extractor=r.NAME, version=k.version, features=dict(zip(FEATURES, rows[c], strict=True)))
        _CaseEvidence(k, signals, lists, c).build()
        yield signals


# --------------------------------------------------------------------------- columns


def _by_distinct(array: pa.Array, read: Any) -> np.ndarray:
    """``read(value)`` of each value, asked once per distinct value (an object array)."""
    encoded = pc.dictionary_encode(array)
    readings = np.array([read(value) for value in encoded.dictionary.to_pylist()] + [read(None)], dtype=object)
    codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return readings[codes]


def _ids_by_distinct(array: pa.Array, read: Any) -> tuple[np.ndarray, list[Any]]:
    """``read(value)`` of each value as a number, one per distinct reading (values read alike share
    it), and the readings in that numbering; each distinct value is read once."""
    encoded = pc.dictionary_encode(array)
    numbers: dict[Any, int] = {}
    of_value = np.array([numbers.setdefault(read(value), len(numbers))
                         for value in [*encoded.dictionary.to_pylist(), None]], np.int64)
    codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return of_value[codes], list(numbers)


def _case_of(offsets: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _day_and_minute(posix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local date ordinal, minute of the day and second of each time (Beijing time: one offset)."""
    local = posix + columnar._OFFSET
    return local // _DAY + r._EPOCH_DAY, (local % _DAY) // 60, local % 60


def _when(k: r.RechargeKnowledge, day: np.ndarray, minute: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The extractor's WHEN flags of each moment, and whether its date is a school day."""
    if not len(day):
        return np.zeros(0, np.int64), np.zeros(0, bool)
    kind_of_date, table, school = _date_kinds(k)
    kind = kind_of_date[day - _FIRST_DAY]
    return table[kind, minute], school[kind]


_FIRST_DAY = r._EPOCH_DAY + columnar._FIRST // _DAY - 1  # the reader's window, in local date ordinals
_LAST_DAY = r._EPOCH_DAY + columnar._LAST // _DAY + 1
_KINDS: dict[int, tuple[r.RechargeKnowledge, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}


def _date_kinds(k: r.RechargeKnowledge) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the knowledge's calendar: the kind of each date the reader admits (school day or not, and
    its WHEN flags), each kind's flags by minute of the day, and whether it is a school day. Worked out
    once per knowledge (about 17,000 dates)."""
    known = _KINDS.get(id(k))  # (the entry holds the knowledge: its id is not reused meanwhile)
    if known is not None:
        return known[1]
    kinds: dict[tuple[bool, int], int] = {}
    kind_of_date = np.array([kinds.setdefault(r._day_info(k, d)[:2], len(kinds))
                             for d in range(_FIRST_DAY, _LAST_DAY + 1)], np.intp)
    table = np.empty((len(kinds), 24 * 60), np.int64)
    school = np.empty(len(kinds), bool)
    for (school_day, flags), row in kinds.items():
        table[row] = np.array(k.minute_bits[school_day], np.int64) | flags
        school[row] = school_day
    if len(_KINDS) >= 8:  # knowledge is loaded once per office: a handful at most
        _KINDS.clear()
    _KINDS[id(k)] = (k, (kind_of_date, table, school))
    return kind_of_date, table, school


class _Paid:
    """Every accepted case's successful payments, each case's in time order (the extractor's ``_Payments``)."""

    def __init__(self, block: Block, k: r.RechargeKnowledge) -> None:
        part = block.records["recharges"]
        rows, offsets = part.rows, part.offsets
        cases = len(offsets) - 1
        row_case = _case_of(offsets)
        every = ordered_payments(block)
        success = every.status == RechargeStatus.success
        order = every.order[success]  # (the successful ones of all in order are in order)
        self.of_every = np.flatnonzero(success)  # each payment's place among all in order
        self.case_of = case_of = row_case[order]
        self.bounds = np.searchsorted(case_of, np.arange(cases + 1))  # case c: bounds[c]:bounds[c + 1]
        self.posix = posix = part.instants["at"][order]
        self.day, minute, _ = _day_and_minute(posix)
        self.flags = _when(k, self.day, minute)[0]
        self.currency = every.currency[success]
        amount = rows.field("amount").fill_null(0).to_numpy(zero_copy_only=False)[order]
        self.cny = np.where(self.currency == "CNY", amount, 0.0)
        not_whole = np.floor(self.cny) != self.cny
        self.whole = np.bincount(case_of[not_whole], minlength=cases) == 0
        self.marked = rows.field("disputed").fill_null(True).to_numpy(zero_copy_only=False)[order]
        none_marked = np.bincount(case_of[self.marked], minlength=cases) == 0
        self.dispute = self.marked | none_marked[case_of]  # none marked: all are disputed
        self.n = np.bincount(case_of[self.dispute], minlength=cases)  # payments in each dispute
        self.paid = np.where(self.dispute, self.cny, 0.0)
        self.total = np.bincount(case_of, weights=self.paid, minlength=cases)
        taken = pa.array(order, pa.int64())
        self.keys = list(compress(every.keys, success.tolist()))
        self.item_array = rows.field("item").take(taken)
        self.device_array = rows.field("device_id").take(taken)
        # What the features find, for the evidence to cite: set by _features (per payment: in_burst, top,
        # membership, history; per case: run_max, age, ratio, n_devices, n_ips).
        self.in_burst = self.top = self.membership = self.history = np.zeros(len(order), bool)
        self.run_max = self.age = self.ratio = self.n_devices = self.n_ips = np.zeros(cases)

    @cached_property
    def devices(self) -> list[str | None]:
        """Each payment's device, made a list when the evidence first cites one."""
        return self.device_array.to_pylist()


class _Sessions:
    """Every accepted case's sessions (the file's, then those paired from login traces), each case's in
    order of start (the extractor's ``_Sessions``)."""

    def __init__(self, block: Block, k: r.RechargeKnowledge, cases: int) -> None:
        part = block.records["sessions"]
        files = file_sessions(block)
        f_rows, case, start, ids, position = files.rows, files.case, files.start, files.ids, files.position
        end = files.end.astype(np.float64)
        # No end is NaN; an end before its start never comes here: the reader declines it (as the schema does).
        end[files.end == columnar._NO_TIME] = _NAN
        taken = pa.array(f_rows, pa.int64())
        devices = part.rows.field("device_id").take(taken)
        ips = part.rows.field("ip").take(taken)
        paired = trace_sessions(block)
        if len(paired.case):
            case = np.concatenate([case, paired.case])
            start = np.concatenate([start, paired.start])
            end = np.concatenate([end, np.where(paired.end == columnar._NO_TIME, _NAN, paired.end)])
            ids = pa.concat_arrays([ids, paired.ids])
            devices = pa.concat_arrays([devices, paired.devices])
            ips = pa.concat_arrays([ips, pa.nulls(len(paired.case), pa.string())])
            position = np.concatenate([position, np.full(len(paired.case), -1)])
        order = np.lexsort((np.arange(len(case)), start, case))  # stable by start within each case
        self.case_of, self.start = case[order], start[order]
        self.bounds = np.searchsorted(self.case_of, np.arange(cases + 1))
        picked = pa.array(order, pa.int64())
        # Arrays for the counts; lists (made when first read) for the few records the evidence cites.
        self.id_array, self.device_array, self.ip_array = ids.take(picked), devices.take(picked), ips.take(picked)
        self._position = position[order]
        end = end[order]
        longest = k.data.thresholds.max_session_hours * 3600
        with np.errstate(invalid="ignore"):
            self.clipped = end - self.start > longest
        self.end = np.where(self.clipped, self.start + longest, end)
        self.minutes = (self.end - self.start) / 60
        self.day, minute, second = _day_and_minute(self.start)
        self.seconds_of_day = minute * 60 + second
        self.flags, school_day = _when(k, self.day, minute)
        self.school_minutes, self.in_school = self._school_play(k, minute, second, school_day)

    @cached_property
    def ids(self) -> list[str | None]:
        return self.id_array.to_pylist()

    @cached_property
    def devices(self) -> list[str | None]:
        return self.device_array.to_pylist()

    @cached_property
    def ips(self) -> list[str | None]:
        return self.ip_array.to_pylist()

    @cached_property
    def position(self) -> list[int]:
        return self._position.tolist()

    def _school_play(self, k: r.RechargeKnowledge, minute: np.ndarray, second: np.ndarray,
                     school_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As ``recharge._Sessions._school_play``: class minutes overlapped, and play at school time."""
        school_from, school_to = k.calendar.data.bands[r.TimeBand.school_hours]
        lo = minute + second / 60
        end_offset = self.minutes + lo
        known = ~np.isnan(self.minutes)
        with np.errstate(invalid="ignore"):
            school = np.where(known & school_day,
                              np.maximum(np.minimum(end_offset, school_to) - np.maximum(lo, school_from), 0.0), 0.0)
            over = np.flatnonzero(known & (end_offset > 24 * 60))
            if len(over):
                school[over] = _over_midnight(k, self.day[over], lo[over], end_offset[over], school_from, school_to)
            school = np.fmin(school, self.minutes)  # never more than the session (fmin: an unknown length keeps 0)
            least = k.data.thresholds.school_play_min_minutes
            in_school = np.where(known, (school > 0) & (school >= least), (self.flags & r._SCHOOL_BIT) != 0)
        return school, in_school


def _over_midnight(k: r.RechargeKnowledge, day: np.ndarray, lo: np.ndarray, end_offset: np.ndarray,
                   school_from: int, school_to: int) -> np.ndarray:
    """``recharge._school_minutes`` of sessions over midnight, a day at a time for all of them: the
    same float operations in the same order, so the same bits. (Every day is in the table of dates:
    the reader declines an end past its window, and clipping only shortens a session.)"""
    kind_of_date, _, school_day = _date_kinds(k)
    total = np.zeros(len(day))
    offset, start = 0.0, lo
    for d in range(int(end_offset.max() // (24 * 60)) + 1):
        hi = np.minimum(end_offset - offset, 24 * 60)
        minutes = np.maximum(0.0, np.minimum(hi, school_to) - np.maximum(start, school_from))
        total = np.where((offset < end_offset) & school_day[kind_of_date[day + d - _FIRST_DAY]], total + minutes, total)
        offset, start = offset + 24 * 60, 0.0
    return total


def _kept(block: Block, name: str, make: Callable[[], Any]) -> Any:
    """``make()``, worked out by the first block extractor to ask and kept on the block for the others."""
    found = block.derived.get(name)
    if found is None:
        found = block.derived[name] = make()
    return found


def ordered_payments(block: Block) -> SimpleNamespace:
    """Every accepted case's payments (any status), each case's in time order (equal times in file
    order): ``order`` (rows of the block's list), ``status`` and ``currency`` as the schema reads them,
    and ``keys`` (``recharges/<id or position>``). Worked out once per block, for both block extractors."""
    return _kept(block, "payments", lambda: _ordered_payments(block))


def _ordered_payments(block: Block) -> SimpleNamespace:
    part = block.records["recharges"]
    rows, offsets = part.rows, part.offsets
    row_case = _case_of(offsets)
    order = np.flatnonzero(block.accepted[row_case])
    order = order[np.lexsort((part.instants["at"][order], row_case[order]))]  # stable
    taken = pa.array(order, pa.int64())
    # A record without an id is named by its position in the case's list (the reader declines blank ids).
    ids = pc.coalesce(rows.field("id").take(taken), pc.cast(pa.array(order - offsets[row_case[order]]), pa.string()))
    currency, currencies = _ids_by_distinct(rows.field("currency"), lambda v: columnar._recharge_field("currency", v))
    return SimpleNamespace(
        order=order,
        status=_by_distinct(rows.field("status"), lambda v: columnar._recharge_field("status", v))[order],
        currency=np.array(currencies, object)[currency[order]], currency_code=currency[order], currencies=currencies,
        keys=pc.binary_join_element_wise("recharges/", ids, "").to_pylist())


def payment_excerpts(block: Block) -> list[str]:
    """Each payment's excerpt (any status, in the order of ``ordered_payments``), as the extractors
    show a payment cited (``base.payment_excerpt``). Worked out once per block, for both block extractors."""
    return _kept(block, "payment_excerpts", lambda: _payment_excerpts(block))


def _payment_excerpts(block: Block) -> list[str]:
    # Worded once per distinct (amount as written, currency, item): a game sells a few items at a few prices.
    every = ordered_payments(block)
    order = every.order
    texts = pc.dictionary_encode(pa.array(list(map(block.amounts.__getitem__, order.tolist())), pa.binary()))
    items = pc.dictionary_encode(block.records["recharges"].rows.field("item").take(pa.array(order, pa.int64())))
    amount_of, item_of = texts.indices.to_numpy(), items.indices.fill_null(len(items.dictionary)).to_numpy()
    amounts, names = texts.dictionary.to_pylist(), [*items.dictionary.to_pylist(), None]
    n_currencies, n_items = len(every.currencies), len(names)
    combined = (amount_of.astype(np.int64) * n_currencies + every.currency_code) * n_items + item_of
    encoded = pc.dictionary_encode(pa.array(combined))  # (hashing: cheaper here than np.unique's sort)
    shown = []
    for key in encoded.dictionary.to_pylist():
        rest, item = divmod(key, n_items)
        amount, currency = divmod(rest, n_currencies)
        shown.append(payment_excerpt(columnar._decimal(amounts[amount]), every.currencies[currency], names[item]))
    return np.array(shown, object)[encoded.indices.to_numpy()].tolist()


def chat_speakers(block: Block) -> np.ndarray:
    """Each chat line's speaker as the schema reads it (an object array over the block's lines), worked
    out once per block for the chat and real-name block extractors."""
    return _kept(block, "chat_speakers", lambda: _by_distinct(
        block.records["chats"].rows.field("speaker"), lambda v: columnar._chat_field("speaker", v)))


def file_sessions(block: Block) -> SimpleNamespace:
    """Every accepted case's sessions as the file gives them, in file order: their ``rows``, ``case``,
    ``start`` and ``end`` (POSIX seconds, ``_NO_TIME`` for none), ``ids`` (an array) and ``position``
    in the case's list. Worked out once per block."""
    return _kept(block, "file_sessions", lambda: _file_sessions(block))


def _file_sessions(block: Block) -> SimpleNamespace:
    part = block.records["sessions"]
    f_case = _case_of(part.offsets)
    f_rows = np.flatnonzero(block.accepted[f_case])
    return SimpleNamespace(
        rows=f_rows, case=f_case[f_rows], start=part.instants["start"][f_rows], end=part.instants["end"][f_rows],
        ids=part.rows.field("id").take(pa.array(f_rows, pa.int64())), position=f_rows - part.offsets[f_case[f_rows]])


def trace_sessions(block: Block) -> SimpleNamespace:
    """``_paired_traces`` of the block's file sessions, worked out once per block."""
    files = file_sessions(block)
    return _kept(block, "trace_sessions", lambda: _paired_traces(block, files.case, files.ids))


def _paired_traces(block: Block, f_case: np.ndarray, file_ids: pa.Array) -> SimpleNamespace:
    """The sessions the schema pairs from each accepted case's login traces (``sessions_from_login_traces``),
    less those whose id a file session already has, as columns: ``case``, ``start`` and ``end`` (POSIX
    seconds, ``_NO_TIME`` for none), ``ids`` and ``devices`` (string arrays), ``guest``. (A trace session
    always has an id, so its position in the case's list is never shown.)"""
    part = block.records["login_traces"]
    t_case = _case_of(part.offsets)
    cases_with = np.flatnonzero(np.bincount(t_case[block.accepted[t_case]], minlength=len(block.lines))).tolist()
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [])  # case, start, end, id, device, guest
    if not cases_with:
        return _trace_columns(*columns)
    si, bt = part.rows.field("si").to_pylist(), part.rows.field("bt").to_pylist()
    di, ot = part.rows.field("di").to_pylist(), part.instants["ot"].tolist()
    ct = part.rows.field("ct").to_pylist()
    wanted = np.isin(f_case, cases_with)
    known_by_case: dict[int, set] = {}
    known_ids = file_ids.filter(pa.array(wanted)).to_pylist()
    for c, rid in zip(f_case[wanted].tolist(), known_ids, strict=True):
        known_by_case.setdefault(c, set()).add(rid)
    t_case, t_start, t_end, t_id, t_device, t_guest = columns
    for c in cases_with:
        lo, hi = int(part.offsets[c]), int(part.offsets[c + 1])
        paired: list[tuple[int, int | None]] = []  # (login row, logout row)
        logins: dict[str, int] = {}
        for i in sorted(range(lo, hi), key=ot.__getitem__):
            key = si[i] or ""
            if bt[i] == 1:
                if key in logins:
                    paired.append((logins.pop(key), None))
                logins[key] = i
            elif key in logins:
                paired.append((logins.pop(key), i))
        paired.extend((login, None) for login in logins.values())
        known = known_by_case.get(c, set())
        for login, logout in paired:
            rid = f"trace-{si[login] or datetime.fromtimestamp(ot[login], _TZ).strftime('%Y%m%d%H%M%S')}"
            if rid in known:
                continue
            t_case.append(c)
            t_start.append(ot[login])
            t_end.append(columnar._NO_TIME if logout is None else ot[logout])
            t_id.append(rid)
            t_device.append(di[login])
            t_guest.append(ct[login] == 2)
    return _trace_columns(*columns)


def _trace_columns(case: list[int], start: list[int], end: list[int], ids: list[str], devices: list[str | None],
                   guest: list[bool]) -> SimpleNamespace:
    return SimpleNamespace(case=np.array(case, np.int64), start=np.array(start, np.int64), end=np.array(end, np.int64),
                           ids=pa.array(ids, pa.string()), devices=pa.array(devices, pa.string()),
                           guest=np.array(guest, bool))


def _created(block: Block) -> tuple[np.ndarray, np.ndarray]:
    """Each case's account creation time in POSIX seconds (``_NO_TIME`` when none), and whether it was read."""
    texts = []
    for head in block.heads:
        account = head.get("account") or {}
        value = account.get("created_at")
        texts.append(value if isinstance(value, str) else None)
    posix, bad = columnar._times(pa.array(texts, pa.string()), required=False)
    return posix, ~bad


# --------------------------------------------------------------------------- features


def _per_case_max(values: np.ndarray, case_of: np.ndarray, cases: int) -> np.ndarray:
    out = np.full(cases, -math.inf)
    np.maximum.at(out, case_of, values)
    return out


def _features(k: r.RechargeKnowledge, pay: _Paid, s: _Sessions, created: np.ndarray,
              cases: int) -> dict[str, np.ndarray]:
    """Every recharge feature of every case."""
    limits = k.data.thresholds
    case_of, n, total, dispute = pay.case_of, pay.n, pay.total, pay.dispute
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        def share(mask: np.ndarray) -> np.ndarray:
            return np.where(n > 0, np.bincount(case_of[mask & dispute], minlength=cases) / n, _NAN)

        def amount_share(mask: np.ndarray) -> np.ndarray:
            return np.where(total > 0, np.bincount(case_of, weights=np.where(mask, pay.paid, 0.0),
                                                   minlength=cases) / total, _NAN)

        # Bursts: runs of payments (disputed or not) each within burst_minutes of the one before.
        first = np.ones(len(case_of), bool)
        first[1:] = (np.diff(pay.posix) > limits.burst_minutes * 60) | (np.diff(case_of) != 0)
        run = np.cumsum(first) - 1
        size = np.bincount(run) if len(run) else np.zeros(0, np.int64)
        pay.in_burst = size[run] >= limits.burst_min_payments
        pay.flags = pay.flags | np.where(pay.in_burst, r._IN_BURST, 0)
        run_case = case_of[first]
        pay.run_max = _per_case_max(size.astype(float), run_case, cases)
        out["recharge.burst_share"] = share(pay.in_burst)
        out["recharge.max_burst_size"] = np.where(n > 0, pay.run_max, _NAN)
        # The busiest hour: what was paid in the hour up to each disputed payment (whole yuan add exactly
        # in any order, so one running sum serves every case).
        d_case, d_time, d_paid = case_of[dispute], pay.posix[dispute], pay.cny[dispute]
        key = d_case * _APART + d_time
        running = np.concatenate(([0.0], np.cumsum(d_paid)))
        window = running[1:] - running[np.searchsorted(key, key - 3600, side="left")]
        out["recharge.max_hour_share"] = np.where(total > 0, _per_case_max(window, d_case, cases) / total, _NAN)
        d_day = pay.day[dispute]
        new_day = np.ones(len(d_case), bool)
        new_day[1:] = (np.diff(d_day) != 0) | (np.diff(d_case) != 0)
        by_day = np.bincount(np.cumsum(new_day) - 1, weights=d_paid) if len(d_case) else np.zeros(0)
        out["recharge.max_day_share"] = np.where(total > 0, _per_case_max(by_day, d_case[new_day], cases) / total,
                                                 _NAN)
        out["recharge.active_days"] = np.where(n > 0, np.bincount(d_case[new_day], minlength=cases), _NAN)
        _in_sessions(k, pay, s, cases, out)
        out["recharge.n_payments"] = n.astype(float)
        out["recharge.total_cny"] = total
        out["recharge.max_amount_cny"] = np.where(n > 0, _per_case_max(d_paid, d_case, cases), _NAN)
        for name in r.WHEN:
            hit = (pay.flags & r._BIT[name]) != 0
            out[f"recharge.{name}_share"], out[f"recharge.{name}_amount_share"] = share(hit), amount_share(hit)
        _spending(k, pay, cases, out)
        _history(k, pay, s, created, cases, out)
        _devices(pay, s, cases, out)
        _session_features(s, cases, out)
    return out


def _in_sessions(k: r.RechargeKnowledge, pay: _Paid, s: _Sessions, cases: int, out: dict[str, np.ndarray]) -> None:
    """Payments inside a logged session, and late-night ones inside a session begun the evening before."""
    n_s = np.diff(s.bounds)
    # The latest end among each case's sessions begun by a payment reaches it (cases set apart: one running max).
    reach = np.fmax.accumulate(np.where(np.isnan(s.end), -np.inf, s.end) + s.case_of * _APART) if len(s.end) \
        else s.end
    key = pay.case_of * _APART + pay.posix
    begun = np.searchsorted(s.case_of * _APART + s.start, key, side="right")
    inside = (begun > 0) & (reach[np.maximum(begun - 1, 0)] >= key) if len(reach) \
        else np.zeros(len(key), bool)
    has = (n_s > 0) & (pay.n > 0)
    out["recharge.in_session_share"] = np.where(
        has, np.bincount(pay.case_of[pay.dispute & inside], minlength=cases) / pay.n, _NAN)
    # A session begun the evening before is within reach of the payment (_fits): the latest end among each
    # case's sessions begun that evening must reach it.
    evening = k.data.thresholds.evening_starts
    began_evening = s.seconds_of_day >= evening.hour * 3600 + evening.minute * 60 + evening.second
    night = (pay.flags & r._NIGHT_BIT) != 0
    day_key = s.case_of[began_evening] * 2**32 + s.day[began_evening]
    groups, group_of = np.unique(day_key, return_inverse=True)
    marked = np.zeros(len(key), bool)
    if len(groups):
        latest_end = np.full(len(groups), -np.inf)
        np.fmax.at(latest_end, group_of.reshape(-1), s.end[began_evening])
        eve = pay.case_of * 2**32 + pay.day - 1
        at = np.minimum(np.searchsorted(groups, eve), len(groups) - 1)
        marked = night & (groups[at] == eve) & (latest_end[at] >= pay.posix)  # (so inside a session)
    pay.flags = pay.flags | np.where(marked, r._EVENING, 0)
    d_night = night & pay.dispute
    nights = np.bincount(pay.case_of[d_night], minlength=cases)
    out["recharge.night_in_evening_session_share"] = np.where(
        has & (nights > 0), np.bincount(pay.case_of[d_night & marked], minlength=cases) / nights, _NAN)


def _spending(k: r.RechargeKnowledge, pay: _Paid, cases: int, out: dict[str, np.ndarray]) -> None:
    """Escalation, top tiers and the same item bought twice on one day."""
    limits, n, dispute = k.data.thresholds, pay.n, pay.dispute
    d_case, d_paid = pay.case_of[dispute], pay.cny[dispute]
    start = np.concatenate(([0], np.cumsum(n)))
    rank = np.arange(len(d_case)) - start[d_case]
    halves = n // 2
    early = np.bincount(d_case, weights=np.where(rank < halves[d_case], d_paid, 0.0), minlength=cases)
    late = np.bincount(d_case, weights=np.where(rank >= (n - halves)[d_case], d_paid, 0.0), minlength=cases)
    out["recharge.escalation_log2"] = np.array(
        [math.log2((lt / h + 1.0) / (e / h + 1.0)) if count >= limits.escalation_min_payments else _NAN
         for count, h, e, lt in zip(n.tolist(), halves.tolist(), early.tolist(), late.tolist(), strict=True)])
    pay.top = np.isin(pay.cny, np.array(sorted(k.top_tiers))) if k.top_tiers else np.zeros(len(pay.cny), bool)
    out["recharge.top_tier_share"] = np.where(
        n > 0, np.bincount(pay.case_of[pay.top & dispute], minlength=cases) / n, _NAN)
    # The same item on one day: payments with an item, less their distinct (day, item) pairs.
    item_id, names = _ids_by_distinct(pay.item_array, lambda v: v.strip().lower() if v else "")
    named = np.array([name != "" for name in names], bool)[item_id]
    words = k.membership_words
    member_item = np.array([bool(name) and any(w in name for w in words) for name in names], bool)
    d_named, d_day, d_item = named[dispute], pay.day[dispute], item_id[dispute]
    day0 = int(d_day.min(initial=0))
    span, width = int(d_day.max(initial=0)) - day0 + 1, max(len(names), 1)
    same = (d_case * span + (d_day - day0)) * width + d_item  # one key per (case, day, item)
    pairs = columnar.distinct(same[d_named]) // (span * width)
    repeats = np.bincount(d_case[d_named], minlength=cases) - np.bincount(pairs, minlength=cases)
    out["recharge.same_item_repeat_share"] = np.where(n > 0, repeats / n, _NAN)
    member = member_item[d_item] & d_named
    _, group_of, group_size = np.unique(same[member], return_inverse=True, return_counts=True)
    twice = np.zeros(len(d_case), bool)
    twice[np.flatnonzero(member)] = group_size[group_of.reshape(-1)] > 1
    pay.membership = np.zeros(len(pay.case_of), bool)
    pay.membership[np.flatnonzero(dispute)] = twice
    count = np.bincount(d_case[twice], minlength=cases)
    out["recharge.membership_repeats"] = np.where(n > 0, count, _NAN)


def _history(k: r.RechargeKnowledge, pay: _Paid, s: _Sessions, created: np.ndarray, cases: int,
             out: dict[str, np.ndarray]) -> None:
    """Dormancy before the dispute, the account's age at its first payment, spending against earlier months."""
    index = np.arange(len(pay.case_of))
    first = np.full(cases, len(index))
    np.minimum.at(first, pay.case_of[pay.dispute], index[pay.dispute])
    has = first < len(index)
    first_c = np.minimum(first, max(len(index) - 1, 0))
    began = pay.posix[first_c] if len(index) else np.zeros(cases, np.int64)
    day_one = pay.day[first_c] if len(index) else np.zeros(cases, np.int64)
    history = ~pay.marked & (pay.posix < began[pay.case_of])
    pay.history = history
    # The latest activity on a day before the dispute began: a payment, or a later session start.
    last_time, last_day = _last(history & (pay.day < day_one[pay.case_of]), pay.case_of, pay.posix, pay.day,
                                cases)
    s_time, s_day = _last(s.day < day_one[s.case_of], s.case_of, s.start, s.day, cases)
    later = s_time > last_time
    last_time, last_day = np.where(later, s_time, last_time), np.where(later, s_day, last_day)
    out["recharge.dormancy_days"] = np.where(has & (last_time > -np.inf), day_one - last_day, _NAN).astype(float)
    age = (began - created) / _DAY
    pay.age = np.where(has & (created != columnar._NO_TIME), age, _NAN)
    out["recharge.account_age_days"] = np.where(pay.age >= 0, pay.age, _NAN)
    # Calendar months since 1970 (the extractor counts distinct year * 12 + month: the same grouping).
    month = (pay.day - r._EPOCH_DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)

    def monthly(mask: np.ndarray) -> np.ndarray:
        paid = np.bincount(pay.case_of, weights=np.where(mask, pay.cny, 0.0), minlength=cases)
        if not mask.any():
            return paid
        low = int(month[mask].min())
        span = int(month[mask].max()) - low + 1
        months = np.bincount(columnar.distinct(pay.case_of[mask] * span + (month[mask] - low)) // span, minlength=cases)
        return paid / np.maximum(months, 1)

    before, during = monthly(history), monthly(pay.dispute)
    with_history = has & (np.bincount(pay.case_of[history], minlength=cases) > 0) & (before > 0)
    pay.ratio = np.where(with_history, during / np.where(before > 0, before, 1.0), _NAN)
    out["recharge.spend_vs_history_log2"] = np.array(
        [math.log2(max(ratio, 1e-3)) if ratio == ratio else _NAN for ratio in pay.ratio.tolist()])


def _last(mask: np.ndarray, case_of: np.ndarray, time: np.ndarray, day: np.ndarray,
          cases: int) -> tuple[np.ndarray, np.ndarray]:
    """Time and date of each case's latest record in ``mask`` (-inf and 0 for none); records are in time order."""
    last = np.full(cases, -1)
    np.maximum.at(last, case_of[mask], np.flatnonzero(mask))
    found = last >= 0
    if not len(time):
        return np.full(cases, -np.inf), np.zeros(cases, np.int64)
    return np.where(found, time[last].astype(float), -np.inf), np.where(found, day[last], 0)


def _distinct(keys: pa.Array, case_of: np.ndarray, cases: int) -> np.ndarray:
    """How many distinct given keys each case has (the reader declines blank ones: null is none)."""
    ids = pc.dictionary_encode(keys).indices.fill_null(0).to_numpy(zero_copy_only=False)
    given = keys.is_valid().to_numpy(zero_copy_only=False)
    width = int(ids[given].max(initial=0)) + 1 if given.any() else 1
    return np.bincount(columnar.distinct(case_of[given] * width + ids[given]) // width, minlength=cases)


def _devices(pay: _Paid, s: _Sessions, cases: int, out: dict[str, np.ndarray]) -> None:
    devices = _distinct(pa.concat_arrays([pay.device_array, s.device_array]), np.concatenate([pay.case_of, s.case_of]),
                        cases)
    ips = _distinct(s.ip_array, s.case_of, cases)
    pay.n_devices, pay.n_ips = devices, ips
    out["recharge.n_devices"] = np.where(devices > 0, devices, _NAN).astype(float)
    out["sessions.n_ips"] = np.where(ips > 0, ips, _NAN).astype(float)


def _session_features(s: _Sessions, cases: int, out: dict[str, np.ndarray]) -> None:
    n_s = np.diff(s.bounds)
    out["sessions.n_sessions"] = n_s.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        def of_sessions(mask: np.ndarray) -> np.ndarray:
            return np.where(n_s > 0, np.bincount(s.case_of[mask], minlength=cases) / n_s, _NAN)

        out["sessions.school_hours_share"] = of_sessions(s.in_school)
        school_share, median, longest = np.full(cases, _NAN), np.full(cases, _NAN), np.full(cases, _NAN)
        minutes, school = s.minutes.tolist(), s.school_minutes.tolist()
        bounds = s.bounds.tolist()
        unknown = (np.bincount(s.case_of[np.isnan(s.minutes)], minlength=cases) > 0).tolist()
        for c in np.flatnonzero(n_s).tolist():  # sums in numpy's order, as the model was trained on them
            lo, hi = bounds[c], bounds[c + 1]
            if not unknown[c]:  # every end known (most cases): the case's slices
                played, school_of = minutes[lo:hi], school[lo:hi]
            else:
                played = [m for m in minutes[lo:hi] if m == m]
                school_of = [school[j] for j in range(lo, hi) if minutes[j] == minutes[j]]
            if played:
                total = r._sum(played)
                school_share[c] = r._sum(school_of) / total if total > 0 else _NAN
                median[c], longest[c] = r._median(played), max(played)
        out["sessions.school_minutes_share"] = school_share
        out["sessions.after_school_share"] = of_sessions((s.flags & r._AFTER_BIT) != 0)
        out["sessions.late_night_share"] = of_sessions((s.flags & r._NIGHT_BIT) != 0)
        out["sessions.day_off_share"] = of_sessions((s.flags & r._NO_CLASS) != 0)
        out["sessions.median_minutes"], out["sessions.max_minutes"] = median, longest


# --------------------------------------------------------------------------- evidence


class _Hits:
    """Which payments of each case a mask holds, as lists cut from one list of the block's indices."""

    def __init__(self, mask: np.ndarray, bounds: np.ndarray) -> None:
        indices = np.flatnonzero(mask)
        self.indices = indices.tolist()
        self.cuts = np.searchsorted(indices, bounds).tolist()

    def of(self, c: int) -> list[int]:
        return self.indices[self.cuts[c]:self.cuts[c + 1]]


class _Lists:
    """The block's columns as Python lists, for the few records each firing evidence item cites."""

    def __init__(self, block: Block, pay: _Paid, s: _Sessions, created: np.ndarray) -> None:
        self.pay, self.sessions, self.created = pay, s, created.tolist()
        cases = len(pay.n)
        self.bounds, self.s_bounds = pay.bounds.tolist(), s.bounds.tolist()
        self.flags, self.cny, self.posix = pay.flags.tolist(), pay.cny.tolist(), pay.posix.tolist()
        self.day = pay.day.tolist()
        self.total, self.age = pay.total.tolist(), pay.age.tolist()
        self.ratio, self.run_max = pay.ratio.tolist(), pay.run_max.tolist()
        self.n_devices, self.n_ips = pay.n_devices.tolist(), pay.n_ips.tolist()
        self.history = pay.history.tolist()
        every = payment_excerpts(block)  # (of all payments: those of the successful ones)
        self.excerpts = every if len(every) == len(pay.of_every) else list(map(every.__getitem__, pay.of_every.tolist()))
        self.s_start, self.s_end, self.s_day = s.start.tolist(), s.end.tolist(), s.day.tolist()
        self.in_school, self.school_minutes = s.in_school.tolist(), s.school_minutes.tolist()
        self.s_clipped = np.bincount(s.case_of[s.clipped], minlength=cases).tolist()
        # The disputed payments of each case, and those each evidence item may cite.
        dispute, flags = pay.dispute, pay.flags
        self.dispute = _Hits(dispute, pay.bounds)
        # Each time-of-payment item's disputed payments by case, what they paid (whole yuan: exact in any
        # order), and which items each case has any of, as bits (most cases have a few).
        self.when, present = [], np.zeros(cases, np.int64)
        for k, (bit, _, _, code) in enumerate(r._WHEN_NAMES):
            hit = dispute & ((flags & bit) != 0)
            paid = np.bincount(pay.case_of[hit], weights=pay.cny[hit], minlength=cases)
            present |= (np.bincount(pay.case_of[hit], minlength=cases) > 0).astype(np.int64) << k
            self.when.append((code, _Hits(hit, pay.bounds), paid.tolist()))
        self.when_present = present.tolist()
        self.burst = _Hits(dispute & pay.in_burst, pay.bounds)
        night = dispute & ((flags & r._NIGHT_BIT) != 0)
        self.night = np.bincount(pay.case_of[night], minlength=cases).tolist()
        self.evening = _Hits(night & ((flags & r._EVENING) != 0), pay.bounds)
        self.top = _Hits(dispute & pay.top, pay.bounds)
        self.membership = _Hits(pay.membership, pay.bounds)
        self.at_school = _Hits(s.in_school, s.bounds)

    def pay_refs_of(self, c: int) -> list[RecordRef]:
        """The references of a case's payments (most are cited: build them all at once)."""
        lo, hi = self.bounds[c], self.bounds[c + 1]
        return list(map(RecordRef, self.pay.keys[lo:hi], self.posix[lo:hi], self.excerpts[lo:hi], repeat(_TZ)))

    def session_ref(self, j: int) -> RecordRef:
        s = self.sessions
        rid = s.ids[j]
        key = rid if rid not in (None, "") else s.position[j]
        return RecordRef(f"sessions/{key}", self.s_start[j], None, _TZ)


class _CaseEvidence:
    """One case's evidence and warnings, in the order and words of ``recharge.extract``."""

    def __init__(self, k: r.RechargeKnowledge, signals: Signals, lists: _Lists, c: int) -> None:
        self.k, self.signals, self.lists, self.c = k, signals, lists, c
        self.lo, self.hi = lists.bounds[c], lists.bounds[c + 1]
        self.d = lists.dispute.of(c)
        self._refs: list[RecordRef] | None = None

    def case_refs(self) -> list[RecordRef]:
        """The case's payment references, built on the first item that cites one."""
        if self._refs is None:
            self._refs = self.lists.pay_refs_of(self.c)
        return self._refs

    def pay_ref(self, i: int) -> RecordRef:
        return self.case_refs()[i - self.lo]

    def pay_refs(self, indices: list[int]) -> tuple[RecordRef, ...]:
        """The records an evidence item lists: the first MAX_RECORDS of ``indices``."""
        refs, lo = self.case_refs(), self.lo
        return tuple([refs[i - lo] for i in indices[:r.MAX_RECORDS]])

    def evidence(self, code: str, refs: tuple[RecordRef, ...], *, n: int, total: int | None = None,
                 **values: Any) -> None:
        r.add_evidence(self.signals, self.k, code, refs, n=n, total=len(self.d) if total is None else total,
                       **values)

    def paid(self, indices: list[int]) -> float:
        cny = self.lists.cny
        return sum([cny[i] for i in indices], 0.0)  # whole yuan: exact in any order

    def build(self) -> None:
        lists, c, limits = self.lists, self.c, self.k.data.thresholds
        if lists.s_clipped[c]:
            self.signals.warnings.append(
                f"{lists.s_clipped[c]} login sessions longer than {limits.max_session_hours:g} h were "
                f"clipped (a logout was probably never recorded)")
        in_burst = lists.burst.of(c)
        if in_burst:  # the largest run is then one of those in burst
            self.evidence("recharge.burst", self.pay_refs(in_burst), n=len(in_burst), amount=self.paid(in_burst),
                          value=int(lists.run_max[c]))
        evening = lists.evening.of(c)
        if evening:
            self.evidence("recharge.night_in_evening_session", self.pay_refs(evening), n=len(evening),
                          total=lists.night[c])
        self.timing()
        self.spending()
        self.history()
        self.devices()
        self.sessions()
        self.signals.per_payment = PaymentValues.from_flags(lists.pay.keys[self.lo:self.hi],
                                                            lists.flags[self.lo:self.hi], r.PAYMENT_BITS)

    def timing(self) -> None:
        lists, c, texts = self.lists, self.c, self.k.data.evidence
        total, present = lists.total[c], lists.when_present[c]
        for k, (code, hits_of, paid_by_case) in enumerate(lists.when):
            if present >> k & 1 and code in texts:
                hits, paid = hits_of.of(c), paid_by_case[c]
                self.evidence(code, self.pay_refs(hits), n=len(hits), amount=paid,
                              share=paid / total if total > 0 else None)

    def spending(self) -> None:
        lists, c, d, limits = self.lists, self.c, self.d, self.k.data.thresholds
        ratio = self.signals.features["recharge.escalation_log2"]  # NaN below escalation_min_payments
        if ratio >= limits.escalation_log2_ratio:  # then the means, for the summary only
            n = len(d)
            half = n // 2
            early, late = self.paid(d[:half]) / half, self.paid(d[n - half:]) / half
            shown = f"{late / early:.1f}" if early > 0 else f"{2 ** ratio:.1f}"
            self.evidence("recharge.escalation", self.pay_refs(d[n - half:]), n=half, value=shown, strength=ratio)
        top = lists.top.of(c)
        if top:
            self.evidence("recharge.top_tier", self.pay_refs(top), n=len(top), amount=self.paid(top))
        membership = lists.membership.of(c)
        if membership:
            self.evidence("recharge.repeat_membership", self.pay_refs(membership), n=len(membership))

    def history(self) -> None:
        lists, c, d, limits, pay = self.lists, self.c, self.d, self.k.data.thresholds, self.lists.pay
        if not d:
            return
        first = d[0]
        days = self.signals.features["recharge.dormancy_days"]
        if days == days and days >= limits.dormancy_days:
            self.evidence("recharge.dormant_then_active", (self.last_activity(first), self.pay_ref(first)), n=2,
                          value=round(days), strength=days, shown_value=f"{days:.0f}")
        created = lists.created[c]
        if created != columnar._NO_TIME and lists.age[c] < 0:
            day = datetime.fromtimestamp(created, _TZ).date()
            self.signals.warnings.append(f"payment {pay.keys[first]} is dated before the account was created "
                                         f"({day}); check the clocks of the two systems")
        ratio = lists.ratio[c]
        if ratio == ratio and ratio >= limits.spend_spike_ratio:
            self.evidence("recharge.spend_spike", self.pay_refs(d), n=len(d), value=f"{ratio:.1f}", strength=ratio)

    def last_activity(self, first: int) -> RecordRef:
        """The latest payment or session on a day before the dispute began (the first of equal latest)."""
        lists = self.lists
        day_one, history, day, posix = lists.day[first], lists.history, lists.day, lists.posix
        best, payment_time = -1, -math.inf
        for i in range(self.lo, self.hi):
            if history[i] and day[i] < day_one and posix[i] > payment_time:
                best, payment_time = i, posix[i]
        latest_start, latest = -math.inf, -1
        for j in range(lists.s_bounds[self.c], lists.s_bounds[self.c + 1]):
            if lists.s_day[j] < day_one and lists.s_start[j] > latest_start:
                latest_start, latest = lists.s_start[j], j
        if latest >= 0 and latest_start > payment_time:
            return lists.session_ref(latest)
        return self.pay_ref(best)

    def devices(self) -> None:
        lists, c, limits, pay, s = self.lists, self.c, self.k.data.thresholds, self.lists.pay, self.lists.sessions
        n_devices, n_ips = lists.n_devices[c], lists.n_ips[c]
        if n_devices < limits.many_devices and n_ips < limits.many_ips:
            return
        first_seen: dict[str, RecordRef] = {}
        for i in range(self.lo, self.hi):
            device = pay.devices[i]
            if device and device not in first_seen:
                first_seen[device] = self.pay_ref(i)
        for j in range(lists.s_bounds[c], lists.s_bounds[c + 1]):
            for key in (s.devices[j], s.ips[j]):
                if key and key not in first_seen:
                    first_seen[key] = lists.session_ref(j)
        refs = sorted({ref.record: ref for ref in first_seen.values()}.values(),
                      key=lambda ref: (ref.at is None, ref.at or datetime.min, ref.record))
        value = max(n_devices, n_ips)
        self.evidence("recharge.many_devices", tuple(refs[:r.MAX_RECORDS]), n=len(refs), value=value,
                      strength=value)

    def sessions(self) -> None:
        lists, c = self.lists, self.c
        lo, hi = lists.s_bounds[c], lists.s_bounds[c + 1]
        n = hi - lo
        at_school = lists.at_school.of(c)
        if at_school:
            minutes = round(r._sum([lists.school_minutes[j] for j in at_school]))
            self.evidence("sessions.school_hours_play", tuple(map(lists.session_ref, at_school[:r.MAX_RECORDS])),
                          n=len(at_school), total=n, value=minutes)
        elif n >= 3 and all(e == e for e in lists.s_end[lo:hi]):
            self.evidence("sessions.out_of_school_play",
                          tuple(map(lists.session_ref, range(lo, lo + min(n, r.MAX_RECORDS)))), n=n, total=n)
