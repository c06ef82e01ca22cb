"""The benchmark harness measures what it says: cases of the stated shape, every case accounted for.

Speed itself is never asserted here (see benchmarks/RESULTS.md); only that the figures are
figures of the right work.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from assessor.io import CaseError, read_cases

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_cases_have_exactly_the_stated_records_and_all_load(run, tmp_path):
    path = tmp_path / "cases.jsonl"
    run.write_cases(path, 7, chats=12, payments=5, seed=3)
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [len(c["recharges"]) for c in raw] == [5] * 7
    assert [len(c["chats"]) for c in raw] == [12] * 7
    assert len({c["case_id"] for c in raw}) == 7
    loaded = list(read_cases(path))
    assert not [c for c in loaded if isinstance(c, CaseError)]
    assert all(len({r.id for r in c.recharges}) == 5 for c in loaded), "record ids are fresh, not repeats"


def test_the_same_seed_writes_the_same_file(run, tmp_path):
    run.write_cases(tmp_path / "a.jsonl", 4, chats=3, seed=9)
    run.write_cases(tmp_path / "b.jsonl", 4, chats=3, seed=9)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


@pytest.mark.parametrize("stage", ["load", "extract", "score", "write", "e2e"])
def test_every_stage_processes_every_case(run, tmp_path, stage):
    path = tmp_path / "cases.jsonl"
    run.write_cases(path, 3, chats=4, seed=1)
    cases, seconds = run.run_stage(stage, path)
    assert cases == 3
    assert seconds > 0
    assert not list(tmp_path.glob(".bench-out-*")), "the stage's output file is cleaned up"


def test_the_columnar_read_benchmark_reads_every_case_both_ways(tmp_path):
    # benchmarks/columnar_read.py compares the usual loader with the columnar reader; the figures
    # compare like with like only if both read every case of the file.
    pytest.importorskip("pyarrow", reason="the columnar benchmark needs pyarrow (pip install -e '.[distributed]')")
    import sys

    sys.path.insert(0, str(RUN.parent))
    spec = importlib.util.spec_from_file_location("bench_columnar", RUN.parent / "columnar_read.py")
    columnar = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(columnar)
    path = tmp_path / "cases.jsonl"
    columnar.simulated_mix(30, 5, path)
    assert columnar.read(path, threads=False).num_rows == 30
    timings = columnar.validated_reads(path, block=8)
    assert timings["usual"][1] == 30
    assert 25 <= timings["columnar"][1] <= 30  # the reader declines the few cases the checks would repair


def test_signals_on_columns_time_every_case_and_count_those_left_to_the_usual_path(tmp_path):
    # benchmarks/extract.py --columnar: each case's signals come from the columns, or (timed too)
    # from the usual extractor; a case must not go missing from the figure.
    pytest.importorskip("pyarrow", reason="the columnar path needs pyarrow (pip install -e '.[distributed]')")
    spec = importlib.util.spec_from_file_location("bench_extract", RUN.parent / "extract.py")
    extract = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extract)
    path = tmp_path / "bench.jsonl"
    extract.simulated_mix(12, 4, path)
    assert all("label" not in json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    part_yuan = {"case_id": "PD-9", "recharges": [{"id": "a", "at": "2024-02-10T20:00:00", "amount": 0.99}]}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(part_yuan) + "\n")
    timings = extract.on_columns(path, block_lines=5)
    assert set(timings) == {"recharge", "real_name", "chat"}
    assert all(seconds > 0 for seconds, _ in timings.values())
    assert timings["recharge"][1] == timings["real_name"][1] == 1  # the part-yuan case
    assert timings["chat"][1] == 0  # amounts do not matter to the chat


def test_the_outputs_benchmark_rebuilds_exactly_what_the_extractors_return(tmp_path):
    # benchmarks/outputs.py times building the extractors' outputs alone: a lower bound for any
    # design only if what it builds is the whole output, object for object.
    spec = importlib.util.spec_from_file_location("bench_outputs", RUN.parent / "outputs.py")
    outputs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(outputs)
    path = tmp_path / "bench.jsonl"
    outputs.simulated_mix(8, 2, path)
    from assessor.schema import Case

    seen = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        case = Case.model_validate_json(line)
        for extract in outputs.EXTRACTORS.values():
            signals = extract(case)
            rebuilt = outputs.build(outputs.recipe(signals))
            assert rebuilt == signals
            assert [r.at for e in rebuilt.evidence for r in e.records] == [r.at for e in signals.evidence for r in e.records]
            seen += len(signals.evidence) + len(signals.per_payment)
    assert seen > 100
