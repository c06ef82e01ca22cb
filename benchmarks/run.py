"""The assessor's cost per stage against the parse floor: cases/s and peak memory, by size.

The **floor** is plain ``json.loads`` of every line of the same JSON Lines file, timed in the
same interpreter as the stage it is compared with, just before and just after it (their mean);
the ratio to the floor holds on a busy machine better than seconds do. Stages, each in a fresh
process so that no stage's memory or warm caches reach another:

- ``load``: ``read_cases`` (parse, validate, check) of every line;
- ``extract``: the extractors on each loaded case (``assessor.engine.extract_signals``);
- ``score``: the engine on those signals (model points, rules, attribution, the validated
  ``Assessment``);
- ``write``: each assessment as a JSON line into an atomically written file;
- ``end to end``: ``assessor.batch.run_batch`` of the file into ``.jsonl``, as ``assessor batch`` runs it.

A stage's process runs the stages before it untimed, so its peak RSS (``getrusage``
high-water mark) is the memory of the pipeline up to that stage, next to the memory the
process had before reading the first case (interpreter, libraries, model). Cases stream one
at a time: the peak must not grow with the number of cases.

Cases are simulated disputes (``assessor simulate``), each resampled, as in
``benchmarks/extract.py``, to 40 payments and 150 chat lines (``--cases``), or to 40
payments and N chat lines for a few cases (``--chat-lines``), to show how cost grows with
the size of a case. The files are written streaming, from a pool of simulated disputes.

    python benchmarks/run.py                           # 1k and 10k cases; 10, 1k and 100k chat lines
    python benchmarks/run.py --cases 100000 --stages e2e --chat-lines   # 100k cases end to end (minutes)
    python benchmarks/run.py --cases 1000 --jobs 2     # end to end with two worker processes too
    python benchmarks/run.py --instructions 100        # callgrind instruction counts (needs valgrind)

``--data DIR`` keeps the generated files for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PAYMENTS, CHATS = 40, 150
STAGES = ("load", "extract", "score", "write", "e2e")
LABELS = {"floor": "json.loads floor", "load": "load", "extract": "extract", "score": "score",
          "write": "write", "e2e": "end to end"}
SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "cases"
POOL = 1_000  # simulated disputes resampled into the file; fresh ids and draws for every case


# --------------------------------------------------------------------------- data


def write_cases(path: Path, count: int, *, chats: int = CHATS, payments: int = PAYMENTS, seed: int = 0) -> int:
    """Write ``count`` simulated cases of exactly ``payments`` payments and ``chats`` chat lines; returns bytes."""
    from assessor.simulate import simulate

    rng = random.Random(seed)
    pool: list[dict[str, Any]] = []
    source = simulate(max(min(count, POOL) * 3, 30), seed=seed)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as out:
        for number in range(count):
            if len(pool) < POOL and number == len(pool):  # fill the pool lazily, from usable disputes only
                for raw in source:
                    if raw.get("recharges") and raw.get("chats"):
                        pool.append(raw)
                        break
            base = pool[number % len(pool)]
            case = dict(base, case_id=f"BENCH-{number:07d}")
            case.pop("label", None)  # a dispute file holds no training label
            for key, size in (("recharges", payments), ("chats", chats)):
                records = base[key]
                drawn = sorted(rng.choices(range(len(records)), k=size))
                case[key] = [{**records[i], "id": f"{key[0]}{number}-{n}"} for n, i in enumerate(drawn)]
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path.stat().st_size


def data_file(folder: Path, count: int, chats: int, seed: int) -> Path:
    path = folder / f"cases-{count}x{chats}chats-seed{seed}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        write_cases(path, count, chats=chats, seed=seed)
        print(f"  (wrote {path.name}: {path.stat().st_size / 2**20:.1f} MiB in {time.perf_counter() - started:.0f} s)",
              flush=True)
    return path


# --------------------------------------------------------------------------- one stage, in a child process


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def floor_seconds(path: Path) -> float:
    loads = json.loads
    start = time.perf_counter()
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            loads(line)
    return time.perf_counter() - start


def run_stage(stage: str, path: Path, jobs: int = 1) -> tuple[int, float]:
    """(cases, seconds spent in ``stage``); earlier stages run too, untimed."""
    from assessor.batch import run_batch
    from assessor.batch_output import assessment_line, open_sink
    from assessor.engine import default_engine, extract_signals
    from assessor.io import read_cases
    from assessor.schema import Assessment

    out = path.parent / f".bench-out-{os.getpid()}.jsonl"
    clock = time.perf_counter
    try:
        if stage == "e2e":
            from assessor.process import quieter_gc

            quieter_gc()  # as `assessor batch` does
            start = clock()
            summary = run_batch(path, out, jobs=jobs)
            seconds = clock() - start
            if not (summary.complete and summary.rejected == 0 and summary.failed == 0):
                raise SystemExit(f"batch lost or rejected cases: {summary}")
            return summary.scored, seconds
        if stage == "load":
            start = clock()
            n = sum(1 for _ in read_cases(path))
            return n, clock() - start
        engine = default_engine()
        n, spent = 0, 0.0
        with open_sink("jsonl", out, "zh") as sink:
            for case in read_cases(path):
                if not hasattr(case, "case_id"):
                    raise SystemExit(f"rejected: {case}")
                n += 1
                if stage == "extract":
                    start = clock()
                    extract_signals(case)
                    spent += clock() - start
                    continue
                signals = extract_signals(case)
                start = clock()
                assessment = Assessment.model_validate(engine.assessment_data(case, signals=signals))
                if stage == "score":
                    spent += clock() - start
                    continue
                start = clock()
                sink.write(assessment_line(assessment))
                spent += clock() - start
        return n, spent
    finally:
        out.unlink(missing_ok=True)


def child(stage: str, path: Path, jobs: int, with_floor: bool) -> dict[str, Any]:
    from assessor.batch import load_engine
    from assessor.batch_output import assessment_line
    from assessor.io import load_cases

    engine = load_engine()  # interpreter, libraries, model and rulebook: the baseline, not the stage
    for case in load_cases(SAMPLES):  # lexicons, calendars and serialisers, loaded on first use
        assessment_line(engine.assess(case))
    floor_seconds(path)  # the file into the page cache, for both readings alike
    baseline = peak_rss_mib()
    result: dict[str, Any] = {"stage": stage, "baseline_mib": baseline}
    before = floor_seconds(path) if with_floor else None
    if stage not in ("none", "floor"):
        result["cases"], result["seconds"] = run_stage(stage, path, jobs)
    if before is not None:  # before and after the stage: one reading swings by a third on a shared machine
        result["floor"] = (before + floor_seconds(path)) / 2 if stage not in ("none", "floor") else before
    result["peak_mib"] = peak_rss_mib()
    result["children_peak_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def spawn(stage: str, path: Path, jobs: int = 1) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", stage, str(path), "--jobs", str(jobs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} on {path.name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- tables


def stage_table(path: Path, count: int, chats: int, jobs: int,
                stages: tuple[str, ...] = STAGES) -> dict[str, dict[str, Any]]:
    size = path.stat().st_size / 2**20
    print(f"\n{count} cases, {PAYMENTS} payments and {chats} chat lines each, {size:.1f} MiB of JSON Lines"
          f"  (load average {os.getloadavg()[0]:.2f})")
    print(f"{'stage':<18}{'seconds':>9}{'cases/s':>10}{'x floor':>9}{'floor s':>9}{'base MiB':>10}{'peak MiB':>10}")
    rows: dict[str, dict[str, Any]] = {}
    for stage in [*stages, *(["e2e-jobs"] if jobs > 1 else [])]:
        r = spawn("e2e" if stage == "e2e-jobs" else stage, path, jobs if stage == "e2e-jobs" else 1)
        rows[stage] = r
        if stage == stages[0]:
            print(f"{LABELS['floor']:<18}{r['floor']:>9.2f}{count / r['floor']:>10.0f}{1:>9.2f}{r['floor']:>9.2f}"
                  f"{r['baseline_mib']:>10.0f}{'':>10}")
        label = f"end to end, {jobs} jobs" if stage == "e2e-jobs" else LABELS[stage]
        peak = max(r["peak_mib"], r["children_peak_mib"]) if stage == "e2e-jobs" else r["peak_mib"]
        print(f"{label:<18}{r['seconds']:>9.2f}{r['cases'] / r['seconds']:>10.0f}{r['seconds'] / r['floor']:>9.2f}"
              f"{r['floor']:>9.2f}{r['baseline_mib']:>10.0f}{peak:>10.0f}", flush=True)
    if all(s in rows for s in ("load", "extract", "score", "write")):
        parts = sum(rows[s]["seconds"] / rows[s]["floor"] for s in ("load", "extract", "score", "write"))
        print(f"{'(sum of stages)':<18}{'':>9}{'':>10}{parts:>9.2f}")
    return rows


def growth_table(results: list[tuple[int, int, dict[str, dict[str, Any]]]]) -> None:
    print("\nGrowth with chat lines per case (ms per case; e2e also in microseconds per chat line)")
    print(f"{'chat lines':>10}{'cases':>7}{'load':>10}{'extract':>10}{'score':>10}{'write':>10}{'e2e':>10}"
          f"{'us/line':>10}{'x floor':>9}{'peak MiB':>10}")
    for chats, count, rows in results:
        ms = {s: rows[s]["seconds"] / rows[s]["cases"] * 1000 for s in STAGES}
        e2e = rows["e2e"]
        print(f"{chats:>10}{count:>7}" + "".join(f"{ms[s]:>10.1f}" for s in STAGES)
              + f"{ms['e2e'] * 1000 / chats:>10.1f}{e2e['seconds'] / e2e['floor']:>9.2f}{e2e['peak_mib']:>10.0f}")


# --------------------------------------------------------------------------- instructions (callgrind)


def instructions(path: Path, count: int) -> None:
    """Instructions per case of each stage, from callgrind: a stage's process minus the one before it."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")

    def run(stage: str) -> int:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
               "--child", stage, str(path), "--no-floor"]
        if stage == "floor":
            cmd.remove("--no-floor")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        for line in proc.stderr.splitlines():
            if "Collected" in line:
                return int(line.split()[-1].replace(",", ""))
        raise SystemExit(f"callgrind gave no count for {stage}:\n{proc.stderr[-2000:]}")

    print(f"\nInstructions per case (callgrind; {count} cases, {CHATS} chat lines each; {path.name})")
    totals = {stage: run(stage) for stage in ("none", "floor", *STAGES)}
    per_case = {
        "floor": totals["floor"] - totals["none"],
        "load": totals["load"] - totals["none"],
        "extract": totals["extract"] - totals["load"],
        "score": totals["score"] - totals["extract"],
        "write": totals["write"] - totals["score"],
        "e2e": totals["e2e"] - totals["none"],
    }
    print(f"{'stage':<18}{'instructions/case':>18}{'x floor':>9}")
    for stage, value in per_case.items():
        print(f"{LABELS[stage]:<18}{value / count:>18,.0f}{value / per_case['floor']:>9.2f}")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="*", default=[1_000, 10_000],
                        help="case counts to run at 150 chat lines each (default 1000 10000; 100000 takes minutes)")
    parser.add_argument("--chat-lines", type=int, nargs="*", default=[10, 1_000, 100_000],
                        help="chat lines per case for the growth table (default 10 1000 100000)")
    parser.add_argument("--chat-cases", type=int, default=5, help="cases per chat-lines size (default 5)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES),
                        help="stages to time at --cases (default all; 'e2e' alone for 100k cases)")
    parser.add_argument("--jobs", type=int, default=1, help="also run end to end with this many worker processes")
    parser.add_argument("--instructions", type=int, metavar="N", default=0,
                        help="count instructions per stage with callgrind on N cases, instead of timing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, help="keep generated case files in this folder")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--no-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.jobs, not args.no_floor)))
        return

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="utf-8")
                if line.startswith("model name")), platform.processor())
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs ({cpu}), load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if args.instructions:
            instructions(data_file(folder, args.instructions, CHATS, args.seed), args.instructions)
            return
        for count in args.cases:
            stage_table(data_file(folder, count, CHATS, args.seed), count, CHATS, args.jobs, tuple(args.stages))
        growth = []
        for chats in args.chat_lines:
            count = args.chat_cases
            rows = stage_table(data_file(folder, count, chats, args.seed), count, chats, 1)
            growth.append((chats, count, rows))
        if growth:
            growth_table(growth)
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
