"""Batch throughput and memory: cases/s and peak RSS of ``run_batch`` to .jsonl, .csv and .xlsx.

For each size (default 1,000 and 10,000 sample-shaped cases from ``load_cases.synthesise``)
and each output form, one fresh process runs the batch and reports its wall time and its
peak resident memory (``getrusage`` high-water mark), next to the memory it had before the
batch started (interpreter, libraries, engine). Streaming means the peak does not grow with
the number of cases.

    python benchmarks/batch.py [--cases 1000 10000] [--forms jsonl csv xlsx] [--jobs 1] [--seed 0]

With ``--jobs N`` the peak is the parent process's; each loky worker holds one chunk at a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(source: Path, output: Path, jobs: int) -> dict[str, float]:
    """Runs inside the child process: one batch, timed, with the memory before and at peak."""
    from assessor.batch import load_engine, run_batch

    load_engine()  # the engine's memory belongs to the baseline, not to the batch
    before = peak_rss_mib()
    start = time.perf_counter()
    summary = run_batch(source, output, lang="zh", jobs=jobs)
    seconds = time.perf_counter() - start
    assert summary.complete and summary.rejected == 0 and summary.failed == 0, summary
    return {"cases": summary.scored, "seconds": seconds, "rate": summary.scored / seconds,
            "baseline_mib": before, "peak_mib": peak_rss_mib(), "output_mib": output.stat().st_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--forms", nargs="+", default=["jsonl", "csv", "xlsx"], choices=["jsonl", "csv", "xlsx"])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), Path(args.child[1]), args.jobs)))
        return

    from load_cases import synthesise

    print(f"python {platform.python_version()} on {platform.machine()}, jobs={args.jobs}")
    print(f"{'cases':>7} {'form':>5} {'input MiB':>9} {'seconds':>8} {'cases/s':>8} "
          f"{'baseline MiB':>12} {'peak MiB':>9} {'growth MiB':>10} {'output MiB':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for count in args.cases:
            source = Path(folder) / f"cases-{count}.jsonl"
            size = synthesise(count, args.seed, source) / 2**20
            for form in args.forms:
                output = Path(folder) / f"out-{count}.{form}"
                proc = subprocess.run([sys.executable, __file__, "--jobs", str(args.jobs), "--child",
                                       str(source), str(output)], capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    raise SystemExit(f"batch of {count} to {form} failed:\n{proc.stderr}")
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"{count:>7} {form:>5} {size:>9.1f} {r['seconds']:>8.1f} {r['rate']:>8.1f} "
                      f"{r['baseline_mib']:>12.0f} {r['peak_mib']:>9.0f} {r['peak_mib'] - r['baseline_mib']:>10.0f} "
                      f"{r['output_mib']:>10.1f}", flush=True)
                output.unlink()
            source.unlink()


if __name__ == "__main__":
    main()
