"""How fast a case file reads into columns: the raw read, and the validated read of the product.

``assessor`` reads each case into pydantic models. This script measures the columnar
alternative (docs/columnar.md), against the parse floor (``json.loads`` of every line, as in the
other benchmarks):

- the case file read by pyarrow's JSON reader into Arrow columns, chats included (no Python
  object per record), on one thread and on all cores;
- the two ways to a validated and checked case (the file holds no training label, as a dispute
  file holds none): the usual loader (parse, schema validation, io/checks.py), and
  ``assessor.io.columnar.read_block`` in blocks of ``--block`` lines, with how many cases each read.

Signals from those columns are measured by ``benchmarks/extract.py --columnar`` (the recharge
extractor on columns, ``assessor.features.recharge_block``). An earlier version of this script
computed the 43 recharge features from a raw read as a spike (commit b2733f0); the block
extractor replaced it, evidence included.

The file is the ``simulated`` mix of benchmarks/extract.py (40 payments, 150 chat lines a case).

    python benchmarks/columnar_read.py [--cases 10000] [--block 256]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pj

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract import simulated_mix  # noqa: E402
from pydantic_core import from_json  # noqa: E402
from run import floor_seconds  # noqa: E402

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


def read(path: Path, threads: bool) -> pa.Table:
    return pj.read_json(path, read_options=pj.ReadOptions(use_threads=threads, block_size=64 << 20),
                        parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore"))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
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
            rows = read(path, threads).num_rows
            timings[threads] = time.perf_counter() - start
        read_block([(1, path.read_bytes().split(b"\n", 1)[0])])  # pyarrow's kernels loaded outside the timing
        validated = validated_reads(path, args.block)
    print(f"{args.cases} cases, {size / 2**20:.1f} MiB; json.loads floor {floor:.2f} s")
    print(f"columnar read (pyarrow), one thread: {timings[False]:.2f} s = {timings[False] / floor:.2f}x floor; "
          f"{rows} cases")
    print(f"columnar read (pyarrow), all cores:  {timings[True]:.2f} s = {timings[True] / floor:.2f}x floor")
    print("validated reads (a dispute file's cases: no training label):")
    for name, label in (("usual", "usual loader: parse + schema validation (pydantic) + checks"),
                        ("columnar", f"columnar read + validation per column, blocks of {args.block} lines")):
        seconds, accepted = validated[name]
        print(f"  {label}: {seconds:.2f} s = {seconds / floor:.2f}x floor; {accepted} cases read")


if __name__ == "__main__":
    main()
