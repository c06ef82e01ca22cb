"""How fast a columnar read of a case file could be: the measurement behind issue 3's next step.

Not the product's path. ``assessor`` reads each case into pydantic models, and its extractors
read every field back out of them, one Python call per value: a large part of what extraction
costs (benchmarks/RESULTS.md). This script measures the alternative: the case file read by
pyarrow's JSON reader into Arrow columns (no Python object per record), and all 43 recharge
features computed on those columns with numpy, for all cases at once. That includes sessions
(from the file, or paired from login traces as the schema pairs them) and the account's
history. Evidence is not covered. The calendar is the extractor's own.

It prints, against the parse floor (``json.loads`` of every line, as in the other benchmarks):

- the columnar read of the whole file (chats included), on one thread and on all cores;
- the record times parsed, in the three layouts the simulator writes (ISO, ISO with an offset,
  ``2024/07/21 22:14:05``), with naive ones put in the case's zone; and the 43 features of every
  case. A warm-up on one case comes first: pyarrow loads its time-zone data once.
- how many cases get exactly the values ``assessor``'s own extractor gives (a sample of them).

The file is the ``simulated`` mix of benchmarks/extract.py (40 payments, 150 chat lines a case).

    python benchmarks/columnar_read.py [--cases 10000] [--check 300]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract import simulated_mix  # noqa: E402
from pydantic_core import from_json  # noqa: E402
from run import floor_seconds  # noqa: E402

from assessor.calendar import TimeBand  # noqa: E402
from assessor.features import recharge  # noqa: E402
from assessor.io.checks import check_case  # noqa: E402
from assessor.io.columnar import read_block  # noqa: E402
from assessor.io.jsonio import unparsed_lines  # noqa: E402
from assessor.schema import Case  # noqa: E402

PAYMENT = pa.struct([("id", pa.string()), ("at", pa.string()), ("amount", pa.float64()), ("currency", pa.string()),
                     ("item", pa.string()), ("status", pa.string()), ("disputed", pa.bool_()),
                     ("device_id", pa.string())])
SESSION = pa.struct([("id", pa.string()), ("start", pa.string()), ("end", pa.string()), ("device_id", pa.string()),
                     ("ip", pa.string())])
CHAT = pa.struct([("id", pa.string()), ("at", pa.string()), ("speaker", pa.string()), ("text", pa.string())])
SCHEMA = pa.schema([("case_id", pa.string()), ("timezone", pa.string()), ("recharges", pa.list_(PAYMENT)),
                    ("sessions", pa.list_(SESSION)), ("chats", pa.list_(CHAT)),
                    ("account", pa.struct([("created_at", pa.string())])),
                    ("login_traces", pa.list_(pa.struct([("si", pa.string()), ("bt", pa.int64()), ("ot", pa.int64()),
                                                         ("di", pa.string())])))])
NO_TIME = np.iinfo(np.int64).min  # a time that is missing


def read(path: Path, threads: bool) -> pa.Table:
    return pj.read_json(path, read_options=pj.ReadOptions(use_threads=threads, block_size=64 << 20),
                        parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore"))


def posix_and_local(text: pa.Array, zone_of: np.ndarray, zones: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """POSIX seconds and case-local wall-clock seconds of each time (the case's zone for naive ones).

    Only the simulator's three layouts; the schema reads more (its parser would move here)."""
    iso = pc.replace_substring(pc.replace_substring(text, "/", "-"), " ", "T")
    naive = pc.strptime(iso, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
    aware = pc.strptime(iso, format="%Y-%m-%dT%H:%M:%S%z", unit="s", error_is_null=True)
    posix = np.full(len(text), NO_TIME)
    local = posix.copy()
    for z, zone in enumerate(zones):  # a handful of zones; almost always one
        mask = zone_of == z
        as_local = pc.assume_timezone(pc.filter(naive, mask), timezone=zone, ambiguous="earliest",
                                      nonexistent="earliest")
        utc = pc.if_else(pc.is_null(as_local), pc.filter(aware, mask).cast(pa.timestamp("s", "UTC")),
                         as_local.cast(pa.timestamp("s", "UTC")))
        posix[mask] = utc.cast(pa.int64()).fill_null(NO_TIME).to_numpy(zero_copy_only=False)
        local[mask] = pc.local_timestamp(utc.cast(pa.timestamp("s", zone))).cast(pa.int64()).fill_null(
            NO_TIME).to_numpy(zero_copy_only=False)
    return posix, local


def _date_flags(knowledge: recharge.RechargeKnowledge, ordinal: np.ndarray,
                minute: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The extractor's WHEN flags of each moment, from its local date ordinal and minute of day, and
    whether its date is a school day."""
    dates, inverse = np.unique(ordinal, return_inverse=True)
    kinds: dict[tuple[bool, int], int] = {}
    rows = []
    for day in dates.tolist():
        school_day, flags, _ = recharge._day_info(knowledge, day)
        rows.append(kinds.setdefault((school_day, flags), len(kinds)))
    table, school = np.zeros((len(kinds), 24 * 60), np.int64), np.zeros(len(kinds), bool)
    for (school_day, flags), row in kinds.items():
        table[row], school[row] = np.array(knowledge.minute_bits[school_day]) | flags, school_day
    of_moment = np.array(rows, np.intp)[inverse.reshape(-1)]
    return table[of_moment, minute], school[of_moment]


def _per_case_max(values: np.ndarray, case_of: np.ndarray, cases: int) -> np.ndarray:
    out = np.full(cases, -math.inf)
    np.maximum.at(out, case_of, values)
    return out


def features(table: pa.Table, knowledge: recharge.RechargeKnowledge) -> dict[str, np.ndarray]:
    """Every recharge feature of every case, from the columns."""
    limits = knowledge.data.thresholds
    payments = table.column("recharges").combine_chunks()
    offsets = payments.offsets.to_numpy()
    rows = pc.list_flatten(payments)
    cases = len(offsets) - 1
    case_of = np.repeat(np.arange(cases), np.diff(offsets))
    zones, zone_index = np.unique(table.column("timezone").to_numpy(zero_copy_only=False).astype(str),
                                  return_inverse=True)
    posix, local = posix_and_local(rows.field("at"), zone_index.reshape(-1)[case_of], zones.tolist())
    # The extractor's payments: successful ones, each case's in time order (a stable sort).
    keep = pc.equal(rows.field("status"), "success").to_numpy(zero_copy_only=False)
    order = np.flatnonzero(keep)[np.lexsort((posix[keep], case_of[keep]))]
    case_of, posix, local = case_of[order], posix[order], local[order]
    cny = np.where(pc.equal(rows.field("currency"), "CNY").to_numpy(zero_copy_only=False),
                   rows.field("amount").to_numpy(zero_copy_only=False), 0.0)[order]
    marked = rows.field("disputed").to_numpy(zero_copy_only=False)[order]
    dispute = marked | (np.bincount(case_of[marked], minlength=cases) == 0)[case_of]  # none marked: all
    ordinal, minute = local // 86400 + date(1970, 1, 1).toordinal(), (local % 86400) // 60
    flags = _date_flags(knowledge, ordinal, minute)[0]
    paid = np.where(dispute, cny, 0.0)
    n = np.bincount(case_of[dispute], minlength=cases)
    total = np.bincount(case_of, weights=paid, minlength=cases)
    with np.errstate(invalid="ignore", divide="ignore"):
        def share(mask: np.ndarray) -> np.ndarray:
            return np.where(n > 0, np.bincount(case_of[mask & dispute], minlength=cases) / n, math.nan)

        def amount_share(mask: np.ndarray) -> np.ndarray:
            return np.where(total > 0, np.bincount(case_of, weights=np.where(mask, paid, 0.0),
                                                   minlength=cases) / total, math.nan)

        out = {"recharge.n_payments": n.astype(float), "recharge.total_cny": total,
               "recharge.max_amount_cny": np.where(n > 0, _per_case_max(cny[dispute], case_of[dispute], cases),
                                                   math.nan)}
        for name in recharge.WHEN:
            hit = (flags & recharge._BIT[name]) != 0
            out[f"recharge.{name}_share"], out[f"recharge.{name}_amount_share"] = share(hit), amount_share(hit)
        # Bursts: runs of payments (disputed or not) each within burst_minutes of the one before.
        first = np.ones(len(posix), bool)
        first[1:] = (np.diff(posix) > limits.burst_minutes * 60) | (np.diff(case_of) != 0)
        run = np.cumsum(first) - 1
        size = np.bincount(run)
        out["recharge.burst_share"] = share(size[run] >= limits.burst_min_payments)
        out["recharge.max_burst_size"] = np.where(n > 0, _per_case_max(size, case_of[first], cases), math.nan)
        # The busiest hour: for each disputed payment, what was paid in the hour up to it (whole yuan add
        # exactly in any order, so one running sum serves every case).
        d_case, d_time, d_paid = case_of[dispute], posix[dispute], cny[dispute]
        assert np.all(d_paid == np.floor(d_paid)) and d_paid.sum() < 2**53, "one running sum needs whole yuan"
        key = d_case * (1 << 40) + d_time
        running = np.concatenate(([0.0], np.cumsum(d_paid)))
        window = running[1:] - running[np.searchsorted(key, key - 3600, side="left")]
        out["recharge.max_hour_share"] = np.where(total > 0, _per_case_max(window, d_case, cases) / total, math.nan)
        new_day = np.ones(len(d_case), bool)
        new_day[1:] = (np.diff(ordinal[dispute]) != 0) | (np.diff(d_case) != 0)
        by_day = np.bincount(np.cumsum(new_day) - 1, weights=d_paid)
        out["recharge.max_day_share"] = np.where(total > 0, _per_case_max(by_day, d_case[new_day], cases) / total,
                                                 math.nan)
        out["recharge.active_days"] = np.where(n > 0, np.bincount(d_case[new_day], minlength=cases), math.nan)
        # Escalation: the mean of the last half of the disputed payments against the first half.
        rank = np.arange(len(d_case)) - np.concatenate(([0], np.cumsum(n)))[d_case]
        halves = n // 2
        half = halves[d_case]
        early = np.bincount(d_case, weights=np.where(rank < half, d_paid, 0.0), minlength=cases)
        late = np.bincount(d_case, weights=np.where(rank >= n[d_case] - half, d_paid, 0.0), minlength=cases)
        out["recharge.escalation_log2"] = np.array(
            [math.log2((lt / h + 1.0) / (e / h + 1.0)) if count >= limits.escalation_min_payments else math.nan
             for count, h, e, lt in zip(n.tolist(), halves.tolist(), early.tolist(), late.tolist(), strict=True)])
        out["recharge.top_tier_share"] = share(np.isin(cny, np.array(sorted(knowledge.top_tiers))))
        # The same item twice on one day (payments with an item, less their distinct (day, item) pairs).
        item = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(rows.field("item"), "")))
        item_id = pc.dictionary_encode(item).indices.to_numpy(zero_copy_only=False)[order][dispute]
        named = (pc.not_equal(item, "").to_numpy(zero_copy_only=False)[order])[dispute]
        d_ordinal = ordinal[dispute]
        span, items = int(d_ordinal.max(initial=0) - d_ordinal.min(initial=0)) + 1, int(item_id.max(initial=0)) + 1
        assert cases * span * items < 2**62, "(case, day, item) keys must fit in 64 bits"
        same = (d_case * span + (d_ordinal - d_ordinal.min(initial=0))) * items + item_id  # one key per (case, day, item)
        pairs = np.unique(same[named]) // (span * items)  # the case of each distinct pair
        repeats = np.bincount(d_case[named], minlength=cases) - np.bincount(pairs, minlength=cases)
        out["recharge.same_item_repeat_share"] = np.where(n > 0, repeats / n, math.nan)
        words = "|".join(re.escape(word) for word in knowledge.membership_words)
        member = pc.match_substring_regex(item, words).to_numpy(zero_copy_only=False)[order][dispute] & named
        _, group_of, group_size = np.unique(same[member], return_inverse=True, return_counts=True)
        twice = group_size[group_of.reshape(-1)] > 1
        out["recharge.membership_repeats"] = np.where(
            n > 0, np.bincount(d_case[member][twice], minlength=cases), math.nan)
        pay = _Paid(case_of, posix, local, ordinal, flags, cny, marked, dispute, n, total,
                    rows.field("device_id").take(pa.array(order)))
        out |= _session_features(table, knowledge, pay, zone_index.reshape(-1), zones.tolist())
    return out


class _Paid(NamedTuple):
    """Each case's successful payments, in time order (as the extractor sees them)."""

    case_of: np.ndarray
    posix: np.ndarray
    local: np.ndarray
    ordinal: np.ndarray
    flags: np.ndarray
    cny: np.ndarray
    marked: np.ndarray  # marked disputed in the file
    dispute: np.ndarray  # in the dispute (all of a case's when none is marked)
    n: np.ndarray  # per case: payments in the dispute
    total: np.ndarray  # per case: CNY in the dispute
    device: pa.Array


def _session_features(table: pa.Table, knowledge: recharge.RechargeKnowledge, pay: _Paid, zone_of_case: np.ndarray,
                      zones: list[str]) -> dict[str, np.ndarray]:
    """The session, in-session, history and device features of every case."""
    limits, cases = knowledge.data.thresholds, len(pay.n)
    s_case, start, start_local, end, devices, ips = _all_sessions(table, zone_of_case, zones, cases)
    end[end < start] = math.nan  # a logout before the login
    longest = limits.max_session_hours * 3600
    end = np.where(end - start > longest, start + longest, end)
    minutes = (end - start) / 60
    s_ordinal = start_local // 86400 + date(1970, 1, 1).toordinal()
    minute_of_day, second = (start_local % 86400) // 60, start_local % 60
    s_flags, school_day = _date_flags(knowledge, s_ordinal, minute_of_day)
    school_from, school_to = knowledge.calendar.data.bands[TimeBand.school_hours]
    lo = minute_of_day + second / 60
    end_offset = minutes + lo
    with np.errstate(invalid="ignore"):
        school = np.where(school_day, np.maximum(np.minimum(end_offset, school_to) - np.maximum(lo, school_from), 0.0),
                          0.0)
        for j in np.flatnonzero(end_offset > 24 * 60).tolist():  # over midnight: the extractor's day walk
            school[j] = recharge._school_minutes(knowledge, int(s_ordinal[j]), float(lo[j]), float(end_offset[j]),
                                                 school_from, school_to)
        known = ~np.isnan(minutes)
        in_school = np.where(known, (school > 0) & (school >= limits.school_play_min_minutes),
                             (s_flags & recharge._BIT["school_hours"]) != 0)
    n_s = np.bincount(s_case, minlength=cases)
    bounds = np.concatenate(([0], np.cumsum(n_s)))
    out: dict[str, np.ndarray] = {"sessions.n_sessions": n_s.astype(float)}
    with np.errstate(invalid="ignore", divide="ignore"):
        def of_sessions(mask: np.ndarray) -> np.ndarray:
            return np.where(n_s > 0, np.bincount(s_case[mask], minlength=cases) / n_s, math.nan)

        out["sessions.school_hours_share"] = of_sessions(in_school)
        for name, bits in (("after_school", recharge._AFTER_BIT), ("late_night", recharge._NIGHT_BIT),
                           ("day_off", recharge._NO_CLASS)):
            out[f"sessions.{name}_share"] = of_sessions((s_flags & bits) != 0)
        # Sums of minutes in numpy's pairwise order, per case, as the model was trained on them.
        share, median, longest_play = np.full(cases, math.nan), np.full(cases, math.nan), np.full(cases, math.nan)
        for c in np.flatnonzero(n_s).tolist():
            lo_c, hi_c = bounds[c], bounds[c + 1]
            played = minutes[lo_c:hi_c][known[lo_c:hi_c]]
            if played.size:
                total_played = played.sum()
                share[c] = school[lo_c:hi_c][known[lo_c:hi_c]].sum() / total_played if total_played > 0 else math.nan
                ordered = np.sort(played)
                middle = len(ordered) // 2
                median[c] = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
                longest_play[c] = ordered[-1]
        out["sessions.school_minutes_share"], out["sessions.median_minutes"] = share, median
        out["sessions.max_minutes"] = longest_play
        # Payments inside a session: the latest end among the sessions begun by then reaches them.
        # (Cases apart by 2**34 s, more than any span of times here, so one running max serves all.)
        apart = 2.0**34
        reach = np.fmax.accumulate(np.where(np.isnan(end), -np.inf, end) + s_case * apart) if end.size else end
        key = pay.case_of * apart + pay.posix
        begun = np.searchsorted(s_case * apart + start, key, side="right")
        inside = (begun > 0) & (reach[np.maximum(begun - 1, 0)] >= key)
        has = (n_s > 0) & (pay.n > 0)
        out["recharge.in_session_share"] = np.where(
            has, np.bincount(pay.case_of[pay.dispute & inside], minlength=cases) / pay.n, math.nan)
        night = pay.dispute & ((pay.flags & recharge._NIGHT_BIT) != 0)
        # Night payments inside a session begun the evening before: the latest end among each case's
        # sessions begun on a day after evening_starts reaches the payment. (Such a session began at most
        # a night before, within max_session_hours.)
        evening_starts = limits.evening_starts.hour * 3600 + limits.evening_starts.minute * 60
        assert limits.max_session_hours * 3600 >= 24 * 3600 - evening_starts + 6 * 3600, "a shorter session limit"
        began_evening = (start_local % 86400) >= evening_starts
        day_key = s_case * 2**32 + s_ordinal  # (case, date of start)
        groups, group_of = np.unique(day_key[began_evening], return_inverse=True)
        latest_end = np.full(len(groups), -np.inf)
        np.fmax.at(latest_end, group_of.reshape(-1), end[began_evening])
        eve = pay.case_of * 2**32 + pay.ordinal - 1
        evening = np.zeros(len(eve), bool)
        if len(groups):
            at = np.minimum(np.searchsorted(groups, eve), len(groups) - 1)
            evening = night & inside & (groups[at] == eve) & (latest_end[at] >= pay.posix)
        nights = np.bincount(pay.case_of[night], minlength=cases)
        out["recharge.night_in_evening_session_share"] = np.where(
            has & (nights > 0), np.bincount(pay.case_of[evening & night], minlength=cases) / nights, math.nan)
    out |= _history(table, pay, s_case, start, s_ordinal, zone_of_case, zones)
    # Devices and IPs: distinct non-empty ones per case.
    out["recharge.n_devices"] = _distinct(pa.concat_arrays([pay.device, devices[0]]),
                                          np.concatenate([pay.case_of, devices[1]]), cases)
    out["sessions.n_ips"] = _distinct(*ips, cases)
    return out


def _all_sessions(table: pa.Table, zone_of_case: np.ndarray, zones: list[str], cases: int) -> tuple:
    """Every case's sessions in order of start (stable): the file's sessions, then those the schema pairs
    from login traces (a login with the next logout of the same ``si``; a login without one stays open).
    Returns case, start, local start, end (NaN: unknown), and (device ids, their cases), (IPs, their cases).
    A trace session whose id repeats one of the file's sessions is not dropped here, as the schema would."""
    sessions = table.column("sessions").combine_chunks()
    rows = pc.list_flatten(sessions)
    f_case = np.repeat(np.arange(cases), np.diff(sessions.offsets.to_numpy()))
    f_start, f_local = posix_and_local(rows.field("start"), zone_of_case[f_case], zones)
    f_end = posix_and_local(rows.field("end"), zone_of_case[f_case], zones)[0].astype(np.float64)
    f_end[f_end == NO_TIME] = math.nan
    traces = table.column("login_traces").combine_chunks()
    events = pc.list_flatten(traces)
    e_case = np.repeat(np.arange(cases), np.diff(traces.offsets.to_numpy()))
    si = pc.dictionary_encode(pc.fill_null(events.field("si"), "")).indices.to_numpy(zero_copy_only=False)
    ot = events.field("ot").to_numpy(zero_copy_only=False)
    o = np.lexsort((ot, si, e_case))  # each case's traces by session id, then time (stable)
    login = events.field("bt").to_numpy(zero_copy_only=False)[o] == 1
    same_session = (e_case[o][1:] == e_case[o][:-1]) & (si[o][1:] == si[o][:-1])
    paired = np.append(login[:-1] & ~login[1:] & same_session, False)  # the next event is its logout
    t_case, t_start = e_case[o][login], ot[o][login]
    t_end = np.where(paired, np.append(ot[o][1:], 0), math.nan)[login]
    t_local = np.full(len(t_start), NO_TIME)
    for z, zone in enumerate(zones):
        mask = zone_of_case[t_case] == z
        t_local[mask] = pc.local_timestamp(pa.array(t_start[mask]).cast(pa.timestamp("s", zone))).cast(
            pa.int64()).to_numpy(zero_copy_only=False)
    case, start = np.concatenate([f_case, t_case]), np.concatenate([f_start, t_start])
    order = np.lexsort((np.arange(len(case)), start, case))  # the file's first on equal starts
    devices = (pa.concat_arrays([rows.field("device_id"), events.field("di").take(pa.array(o[login]))]), case)
    return (case[order], start[order], np.concatenate([f_local, t_local])[order],
            np.concatenate([f_end, t_end])[order], devices, (rows.field("ip"), f_case))


def _distinct(keys: pa.Array, case_of: np.ndarray, cases: int) -> np.ndarray:
    """How many distinct non-empty keys each case has (NaN for none)."""
    text = pc.fill_null(keys, "")
    ids = pc.dictionary_encode(text).indices.to_numpy(zero_copy_only=False)
    given = pc.not_equal(text, "").to_numpy(zero_copy_only=False)
    width = int(ids.max(initial=0)) + 1
    count = np.bincount(np.unique(case_of[given] * width + ids[given]) // width, minlength=cases)
    return np.where(count > 0, count, math.nan)


def _last(mask: np.ndarray, case_of: np.ndarray, time: np.ndarray, day: np.ndarray,
          cases: int) -> tuple[np.ndarray, np.ndarray]:
    """Time and date of each case's last record in ``mask`` (-inf and 0 for none)."""
    if not len(time):
        return np.full(cases, -np.inf), np.zeros(cases, np.int64)
    last = np.full(cases, -1)
    np.maximum.at(last, case_of[mask], np.flatnonzero(mask))
    found = last >= 0  # (where none is, last is -1: a real record, masked out here)
    return np.where(found, time[last], -np.inf), np.where(found, day[last], 0)


def _history(table: pa.Table, pay: _Paid, s_case: np.ndarray, start: np.ndarray, s_ordinal: np.ndarray,
             zone_of_case: np.ndarray, zones: list[str]) -> dict[str, np.ndarray]:
    """Dormancy before the dispute, the account's age at its first payment, and spending against earlier months."""
    cases = len(pay.n)
    out = {name: np.full(cases, math.nan) for name in
           ("recharge.dormancy_days", "recharge.account_age_days", "recharge.spend_vs_history_log2")}
    if not len(pay.case_of):
        return out
    index = np.arange(len(pay.case_of))
    first = np.full(cases, len(index))
    np.minimum.at(first, pay.case_of[pay.dispute], index[pay.dispute])
    has = first < len(index)
    first_c = np.minimum(first, len(index) - 1)
    began, day_one = pay.posix[first_c], pay.ordinal[first_c]
    history = ~pay.marked & (pay.posix < began[pay.case_of])
    # The latest activity on a day before the dispute began: a payment, or a later session. Records are
    # in time order within a case, so the latest is the last position.
    last_time, last_day = _last(history & (pay.ordinal < day_one[pay.case_of]), pay.case_of, pay.posix,
                                pay.ordinal, cases)
    s_latest, s_day = _last(s_ordinal < day_one[s_case], s_case, start, s_ordinal, cases)
    later = s_latest > last_time
    last_time, last_day = np.where(later, s_latest, last_time), np.where(later, s_day, last_day)
    out["recharge.dormancy_days"] = np.where(has & (last_time > -np.inf), day_one - last_day, math.nan)
    created_text = table.column("account").combine_chunks().field("created_at")
    created = posix_and_local(created_text, zone_of_case, zones)[1]
    age = (pay.local[first_c] - created) / 86400
    out["recharge.account_age_days"] = np.where(has & (created != NO_TIME) & (age >= 0), age, math.nan)
    month = (pay.ordinal - date(1970, 1, 1).toordinal()).astype("datetime64[D]").astype("datetime64[M]").astype(
        np.int64)

    def monthly(mask: np.ndarray) -> np.ndarray:
        paid = np.bincount(pay.case_of, weights=np.where(mask, pay.cny, 0.0), minlength=cases)
        span = int(month.max() - month.min()) + 1
        months = np.bincount(np.unique(pay.case_of[mask] * span + (month[mask] - month.min())) // span,
                             minlength=cases)
        return paid / np.maximum(months, 1)

    before, during = monthly(history), monthly(pay.dispute)
    with_history = has & (np.bincount(pay.case_of[history], minlength=cases) > 0) & (before > 0)
    out["recharge.spend_vs_history_log2"] = np.array(
        [math.log2(max(d / b, 1e-3)) if h else math.nan
         for h, d, b in zip(with_history.tolist(), during.tolist(), before.tolist(), strict=True)])
    return out


def validated_reads(path: Path, block: int) -> dict[str, tuple[float, int]]:
    """(seconds, cases accepted) of the two ways to a validated and checked case: the usual loader's
    parse, schema validation (pydantic) and plausibility checks (io/checks.py), and
    assessor.io.columnar.read_block in blocks of ``block`` lines."""
    now = datetime.now(UTC)
    cases = 0
    start = time.perf_counter()
    with open(path, "rb") as stream:
        for _, raw in unparsed_lines(stream, str(path)):
            check_case(Case.model_validate(from_json(raw)), now)
            cases += 1
    usual = time.perf_counter() - start
    start = time.perf_counter()
    accepted = 0
    with open(path, "rb") as stream:  # streamed a block at a time, as a batch would read
        lines = unparsed_lines(stream, str(path))
        while chunk := list(islice(lines, block)):
            accepted += sum(int(piece.accepted.sum()) for piece in read_block(chunk, now=now))
    return {"usual": (usual, cases), "columnar": (time.perf_counter() - start, accepted)}


def without_labels(path: Path, out: Path) -> None:
    """The file as a dispute file holds it: no training label (its free-form fields take the usual path)."""
    with open(path, encoding="utf-8") as source, open(out, "w", encoding="utf-8") as target:
        for line in source:
            case = json.loads(line)
            case.pop("label", None)
            target.write(json.dumps(case, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--check", type=int, default=300, help="cases compared with assessor's extractor")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--block", type=int, default=256, help="lines per block of the validated columnar read")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        size = simulated_mix(args.cases, args.seed, path)
        floor = floor_seconds(path)
        timings = {}
        for threads in (False, True):
            start = time.perf_counter()
            table = read(path, threads)
            timings[threads] = time.perf_counter() - start
        # Knowledge, and pyarrow's time-zone database, loaded outside the timing (as in extract.py).
        knowledge = recharge.RechargeKnowledge.default()
        features(table.slice(0, 1), knowledge)
        start = time.perf_counter()
        columns = features(table, knowledge)
        computed = time.perf_counter() - start
        same = 0
        with open(path, encoding="utf-8") as stream:
            for i, line in zip(range(args.check), stream, strict=False):
                expected = recharge.extract(Case.model_validate_json(line)).features
                same += all(columns[name][i] == expected[name]
                            or (math.isnan(columns[name][i]) and math.isnan(expected[name])) for name in columns)
        disputes = Path(folder) / "disputes.jsonl"
        without_labels(path, disputes)
        read_block([(1, disputes.read_bytes().split(b"\n", 1)[0])])  # pyarrow's kernels loaded outside the timing
        dispute_floor = floor_seconds(disputes)
        validated = validated_reads(disputes, args.block)
    print(f"{args.cases} cases, {size / 2**20:.1f} MiB; json.loads floor {floor:.2f} s")
    print(f"columnar read (pyarrow), one thread: {timings[False]:.2f} s = {timings[False] / floor:.2f}x floor")
    print(f"columnar read (pyarrow), all cores:  {timings[True]:.2f} s = {timings[True] / floor:.2f}x floor")
    print(f"record times + all {len(columns)} recharge features of every case: {computed:.3f} s = "
          f"{computed / floor:.3f}x floor")
    print(f"same values as assessor's extractor: {same} of {min(args.check, args.cases)} cases checked")
    print(f"validated reads of the same cases without their training labels (floor {dispute_floor:.2f} s):")
    for name, label in (("usual", "usual loader: parse + schema validation (pydantic) + checks"),
                        ("columnar", f"columnar read + validation per column, blocks of {args.block} lines")):
        seconds, accepted = validated[name]
        print(f"  {label}: {seconds:.2f} s = {seconds / dispute_floor:.2f}x floor; {accepted} cases read")


if __name__ == "__main__":
    main()
