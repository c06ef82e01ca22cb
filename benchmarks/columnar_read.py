"""How fast a columnar read of a case file could be: the measurement behind issue 3's next step.

Not the product's path. ``assessor`` reads each case into pydantic models, and its extractors
read every field back out of them, one Python call per value; that alone costs about as much as
the parse floor (benchmarks/RESULTS.md). This script measures the alternative: the case file read
by pyarrow's JSON reader into Arrow columns (no Python object per record), and the first
recharge features computed on those columns with numpy, for all cases at once: every feature
that rests on payments alone (28 of them). Those that need sessions or the account's history
are not covered (``NOT_COVERED``), nor is evidence. The calendar is the extractor's own.

It prints, against the parse floor (``json.loads`` of every line, as in the other benchmarks):

- the columnar read of the whole file (chats included), on one thread and on all cores;
- the payment times parsed (after a warm-up on one case: pyarrow loads its time-zone data once) (the three layouts the simulator writes: ISO, ISO with an offset,
  ``2024/07/21 22:14:05``), naive ones put in the case's zone, and the 28 features of every case;
- how many cases get exactly the values ``assessor``'s own extractor gives (a sample of them).

The file is the ``simulated`` mix of benchmarks/extract.py (40 payments, 150 chat lines a case).

    python benchmarks/columnar_read.py [--cases 10000] [--check 300]
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract import simulated_mix  # noqa: E402
from run import floor_seconds  # noqa: E402

from assessor.features import recharge  # noqa: E402
from assessor.schema import Case  # noqa: E402

PAYMENT = pa.struct([("id", pa.string()), ("at", pa.string()), ("amount", pa.float64()), ("currency", pa.string()),
                     ("item", pa.string()), ("status", pa.string()), ("disputed", pa.bool_()),
                     ("device_id", pa.string())])
SESSION = pa.struct([("id", pa.string()), ("start", pa.string()), ("end", pa.string()), ("device_id", pa.string()),
                     ("ip", pa.string())])
CHAT = pa.struct([("id", pa.string()), ("at", pa.string()), ("speaker", pa.string()), ("text", pa.string())])
SCHEMA = pa.schema([("case_id", pa.string()), ("timezone", pa.string()), ("recharges", pa.list_(PAYMENT)),
                    ("sessions", pa.list_(SESSION)), ("chats", pa.list_(CHAT))])


def read(path: Path, threads: bool) -> pa.Table:
    return pj.read_json(path, read_options=pj.ReadOptions(use_threads=threads, block_size=64 << 20),
                        parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore"))


def posix_and_local(text: pa.Array, zone_of: np.ndarray, zones: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """POSIX seconds and case-local wall-clock seconds of each time (the case's zone for naive ones).

    Only the simulator's three layouts; the schema reads more (its parser would move here)."""
    iso = pc.replace_substring(pc.replace_substring(text, "/", "-"), " ", "T")
    naive = pc.strptime(iso, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
    aware = pc.strptime(iso, format="%Y-%m-%dT%H:%M:%S%z", unit="s", error_is_null=True)
    posix = np.full(len(text), np.iinfo(np.int64).min)
    local = posix.copy()
    for z, zone in enumerate(zones):  # a handful of zones; almost always one
        mask = zone_of == z
        as_local = pc.assume_timezone(pc.filter(naive, mask), timezone=zone, ambiguous="earliest",
                                      nonexistent="earliest")
        utc = pc.if_else(pc.is_null(as_local), pc.filter(aware, mask).cast(pa.timestamp("s", "UTC")),
                         as_local.cast(pa.timestamp("s", "UTC")))
        posix[mask] = utc.cast(pa.int64()).to_numpy(zero_copy_only=False)
        local[mask] = pc.local_timestamp(utc.cast(pa.timestamp("s", zone))).cast(pa.int64()).to_numpy(
            zero_copy_only=False)
    return posix, local


def _date_flags(knowledge: recharge.RechargeKnowledge, ordinal: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """The extractor's WHEN flags of each moment, from its local date ordinal and minute of day."""
    dates, inverse = np.unique(ordinal, return_inverse=True)
    kinds: dict[tuple[bool, int], int] = {}
    rows = []
    for day in dates.tolist():
        school_day, flags, _ = recharge._day_info(knowledge, day)
        rows.append(kinds.setdefault((school_day, flags), len(kinds)))
    table = np.zeros((len(kinds), 24 * 60), np.int64)
    for (school_day, flags), row in kinds.items():
        table[row] = np.array(knowledge.minute_bits[school_day]) | flags
    return table[np.array(rows, np.intp)[inverse.reshape(-1)], minute]


def _per_case_max(values: np.ndarray, case_of: np.ndarray, cases: int) -> np.ndarray:
    out = np.full(cases, -math.inf)
    np.maximum.at(out, case_of, values)
    return out


def features(table: pa.Table, knowledge: recharge.RechargeKnowledge) -> dict[str, np.ndarray]:
    """Every payment-based recharge feature of every case, from the columns (sessions and the
    account's history are not covered: see NOT_COVERED)."""
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
    flags = _date_flags(knowledge, ordinal, minute)
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
        half = (n // 2)[d_case]
        early = np.bincount(d_case, weights=np.where(rank < half, d_paid, 0.0), minlength=cases)
        late = np.bincount(d_case, weights=np.where(rank >= n[d_case] - half, d_paid, 0.0), minlength=cases)
        halves = n // 2
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
    return out


NOT_COVERED = ("recharge.dormancy_days", "recharge.account_age_days", "recharge.spend_vs_history_log2",
               "recharge.n_devices", "sessions.*", "recharge.night_in_evening_session_share",
               "recharge.in_session_share")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--check", type=int, default=300, help="cases compared with assessor's extractor")
    parser.add_argument("--seed", type=int, default=0)
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
    print(f"{args.cases} cases, {size / 2**20:.1f} MiB; json.loads floor {floor:.2f} s")
    print(f"columnar read (pyarrow), one thread: {timings[False]:.2f} s = {timings[False] / floor:.2f}x floor")
    print(f"columnar read (pyarrow), all cores:  {timings[True]:.2f} s = {timings[True] / floor:.2f}x floor")
    print(f"payment times + {len(columns)} recharge features of every case: {computed:.3f} s = "
          f"{computed / floor:.3f}x floor (not covered: {', '.join(NOT_COVERED)})")
    print(f"same values as assessor's extractor: {same} of {min(args.check, args.cases)} cases checked")


if __name__ == "__main__":
    main()
