"""How fast a columnar read of a case file could be: the measurement behind issue 3's next step.

Not the product's path. ``assessor`` reads each case into pydantic models, and its extractors
read every field back out of them, one Python call per value; that alone costs about as much as
the parse floor (benchmarks/RESULTS.md). This script measures the alternative: the case file read
by pyarrow's JSON reader into Arrow columns (no Python object per record), and the first
recharge features computed on those columns with numpy, for all cases at once.

It prints, against the parse floor (``json.loads`` of every line, as in the other benchmarks):

- the columnar read of the whole file (chats included), on one thread and on all cores;
- the payment times parsed (after a warm-up on one case: pyarrow loads its time-zone data once) (the three layouts the simulator writes: ISO, ISO with an offset,
  ``2024/07/21 22:14:05``), naive ones put in the case's zone, and three features per case
  (``recharge.n_payments``, ``recharge.total_cny``, ``recharge.late_night_share``);
- how many cases get exactly the values ``assessor``'s own extractor gives (a sample of them).

The file is the ``simulated`` mix of benchmarks/extract.py (40 payments, 150 chat lines a case).

    python benchmarks/columnar_read.py [--cases 10000] [--check 300]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract import simulated_mix  # noqa: E402
from run import floor_seconds  # noqa: E402

from assessor.calendar import TimeBand  # noqa: E402
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
    """POSIX seconds and case-local wall-clock seconds of each time (the case's zone for naive ones)."""
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


def features(table: pa.Table, knowledge: recharge.RechargeKnowledge) -> dict[str, np.ndarray]:
    """Three recharge features of every case, from the columns."""
    night_from, night_to = knowledge.calendar.data.bands[TimeBand.late_night]
    payments = table.column("recharges").combine_chunks()
    offsets = payments.offsets.to_numpy()
    rows = pc.list_flatten(payments)
    cases = len(offsets) - 1
    case_of = np.repeat(np.arange(cases), np.diff(offsets))
    zones, zone_index = np.unique(table.column("timezone").to_numpy(zero_copy_only=False).astype(str),
                                  return_inverse=True)
    _, local = posix_and_local(rows.field("at"), zone_index.reshape(-1)[case_of], zones.tolist())
    minute = (local % 86400) // 60
    success = pc.equal(rows.field("status"), "success").to_numpy(zero_copy_only=False)
    cny = np.where(pc.equal(rows.field("currency"), "CNY").to_numpy(zero_copy_only=False),
                   rows.field("amount").to_numpy(zero_copy_only=False), 0.0)
    disputed = rows.field("disputed").to_numpy(zero_copy_only=False) & success
    marked = np.bincount(case_of[disputed], minlength=cases)
    dispute = success & (disputed | (marked == 0)[case_of])  # none marked: every successful one
    n = np.bincount(case_of[dispute], minlength=cases)
    night = dispute & (minute >= night_from) & (minute < night_to)
    with np.errstate(invalid="ignore", divide="ignore"):
        late = np.where(n > 0, np.bincount(case_of[night], minlength=cases) / n, math.nan)
    return {"recharge.n_payments": n.astype(float),
            "recharge.total_cny": np.bincount(case_of, weights=np.where(dispute, cny, 0.0), minlength=cases),
            "recharge.late_night_share": late}


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
    print(f"payment times + 3 recharge features of every case: {computed:.3f} s = {computed / floor:.3f}x floor")
    print(f"same values as assessor's extractor: {same} of {min(args.check, args.cases)} cases checked")


if __name__ == "__main__":
    main()
