"""Loader throughput: ``list(load_cases(path))`` against bare ``json.loads`` of each JSON Lines line.

Writes N sample-shaped cases (default 10,000; each with ~40 payments, ~150 chat lines and
~30 sessions drawn from the records of sample_data/cases, with new ids) to a temporary JSON
Lines file, then times both ways of reading it and prints cases per second and the ratio.
The difference is the price of validation: timestamps localised, enums and amounts checked.

    python benchmarks/load_cases.py [--cases 10000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from assessor.io import load_cases

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "cases"


def synthesise(count: int, seed: int, path: Path) -> int:
    """Write ``count`` cases built from the sample records; returns the file size in bytes."""
    rng = random.Random(seed)
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.json"))]
    if not samples:
        raise SystemExit(f"no sample cases in {SAMPLES}")
    pools = {key: [r for s in samples for r in s.get(key, [])] for key in ("recharges", "chats", "sessions")}
    sizes = {"recharges": 40, "chats": 150, "sessions": 30}
    with open(path, "w", encoding="utf-8") as out:
        for number in range(count):
            base = rng.choice(samples)
            case = {k: v for k, v in base.items() if k not in {"login_traces", *pools}}
            case["case_id"] = f"BENCH-{number:06d}"
            if isinstance(case.get("claim"), dict):
                case["claim"] = {**case["claim"], "disputed_recharge_ids": None}
            for key, pool in pools.items():
                drawn = rng.choices(pool, k=rng.randint(sizes[key] * 3 // 4, sizes[key] * 5 // 4)) if pool else []
                case[key] = [{**record, "id": f"{key[0]}{number}-{i}"} for i, record in enumerate(drawn)]
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        size = synthesise(args.cases, args.seed, path)

        start = time.perf_counter()
        with open(path, encoding="utf-8") as stream:
            raw = [json.loads(line) for line in stream]
        bare = time.perf_counter() - start
        records = sum(len(c["recharges"]) + len(c["chats"]) + len(c["sessions"]) for c in raw)
        del raw

        start = time.perf_counter()
        loaded = list(load_cases(path))
        full = time.perf_counter() - start
    assert len(loaded) == args.cases
    print(f"{args.cases} cases, {records} records ({records / args.cases:.0f} per case), {size / 2**20:.1f} MiB")
    print(f"json.loads per line:     {bare:7.2f} s  {args.cases / bare:9.0f} cases/s")
    print(f"list(load_cases(path)):  {full:7.2f} s  {args.cases / full:9.0f} cases/s  "
          f"({records / full:.0f} records/s)")
    print(f"load_cases / json.loads: {full / bare:.1f}x the time")


if __name__ == "__main__":
    main()
