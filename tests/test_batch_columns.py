"""The batch's column path (assessor.batch_columns): JSON Lines cases the columnar reader accepts are
scored from their columns, and the batch writes exactly what it writes when every case takes the
usual path (validated into models, then extracted and scored)."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest

pytest.importorskip("pyarrow", reason="the column path needs pyarrow")

from block_parity import sample_lines  # noqa: E402
from test_batch import xlsx_rows  # noqa: E402
from test_recharge_block import dispute_lines  # noqa: E402

from assessor import batch  # noqa: E402
from assessor.batch import run_batch  # noqa: E402

HOSTILE = Path(__file__).parent / "hostile"


def disputes(tmp_path: Path) -> Path:
    """Simulated disputes as a mediator's file holds them (no training label; some payments not saying
    whether they are disputed), with a few lines the column path declines among them: a label, an
    amount written as text, bad JSON, a future date; then the samples and the hostile corpus."""
    lines = dispute_lines(120, seed=21)
    odd = json.loads(lines[5])
    odd["label"] = {"minor_payer": True, "source": "mediation"}
    lines[5] = json.dumps(odd, ensure_ascii=False).encode() + b"\n"
    odd = json.loads(lines[17])
    if odd.get("recharges"):
        odd["recharges"][0]["amount"] = str(odd["recharges"][0]["amount"])
    lines[17] = json.dumps(odd, ensure_ascii=False).encode() + b"\n"
    lines[40] = b'{"case_id": "BROKEN", "recharges": [\n'
    odd = json.loads(lines[60])
    if odd.get("recharges"):
        odd["recharges"][0]["at"] = "2999-07-21T22:14:05"
    lines[60] = json.dumps(odd, ensure_ascii=False).encode() + b"\n"
    for at in range(70, 80):  # payments that do not say whether they are disputed (the schema: they are)
        case = json.loads(lines[at])
        for payment in case.get("recharges", [])[::2]:
            payment.pop("disputed", None)
        lines[at] = json.dumps(case, ensure_ascii=False).encode() + b"\n"
    path = tmp_path / "disputes.jsonl"
    path.write_bytes(b"".join([*lines, *sample_lines()]) + b"".join(p.read_bytes() for p in sorted(HOSTILE.glob("*.jsonl"))))
    return path


@pytest.fixture
def taken(monkeypatch):
    """How many cases the column path scored in the batches run since."""
    real = batch._from_columns
    count = [0]

    def counting(*args, **kwargs):
        out = real(*args, **kwargs)
        count[0] += len(out)
        return out

    monkeypatch.setattr(batch, "_from_columns", counting)
    return count


@pytest.mark.parametrize("kind", ["jsonl", "csv", "xlsx"])
def test_the_column_path_writes_what_the_usual_path_writes(tmp_path, monkeypatch, taken, kind):
    source = disputes(tmp_path)
    fast = run_batch(source, tmp_path / f"fast.{kind}", errors=tmp_path / "fast.err", lang="en", chunk_size=50)
    assert taken[0] >= 90  # most of the 120 simulated disputes were scored from their columns
    monkeypatch.setattr(batch, "_from_columns", lambda *args, **kwargs: {})
    usual = run_batch(source, tmp_path / f"usual.{kind}", errors=tmp_path / "usual.err", lang="en", chunk_size=50)
    if kind == "xlsx":  # (a workbook's zip records when it was written: compare the cells)
        assert xlsx_rows(tmp_path / "fast.xlsx") == xlsx_rows(tmp_path / "usual.xlsx")
    else:
        assert filecmp.cmp(tmp_path / f"fast.{kind}", tmp_path / f"usual.{kind}", shallow=False)
    assert (fast.read, fast.scored, fast.rejected, fast.failed) == (usual.read, usual.scored, usual.rejected,
                                                                    usual.failed)
    assert fast.rejected >= 3 and fast.complete
    fast_errors = [{k: v for k, v in json.loads(line).items() if k != "error" or "future" not in v}
                   for line in (tmp_path / "fast.err").read_text(encoding="utf-8").splitlines()]
    usual_errors = [{k: v for k, v in json.loads(line).items() if k != "error" or "future" not in v}
                    for line in (tmp_path / "usual.err").read_text(encoding="utf-8").splitlines()]
    assert fast_errors == usual_errors  # (a date in the future is worded with the moment of the read)


def test_a_fault_in_the_column_path_costs_no_case(tmp_path, monkeypatch):
    from assessor import batch_columns

    source = disputes(tmp_path)
    monkeypatch.setattr(batch, "_from_columns", lambda *args, **kwargs: {})
    usual = run_batch(source, tmp_path / "usual.jsonl")
    monkeypatch.undo()

    real = batch_columns.scored_cases

    def broken(lines, **kwargs):  # gives two cases, then fails
        found = real(lines, **kwargs)
        yield next(found)
        yield next(found)
        raise RuntimeError("a bug in the column path")

    monkeypatch.setattr(batch_columns, "scored_cases", broken)
    summary = run_batch(source, tmp_path / "fault.jsonl")
    assert (summary.read, summary.scored, summary.failed) == (usual.read, usual.scored, 0)
    assert filecmp.cmp(tmp_path / "fault.jsonl", tmp_path / "usual.jsonl", shallow=False)


def test_unmasked_output_takes_the_usual_path(tmp_path, taken):
    # --no-redact reveals from the case's own records: the column path does not hold them as models.
    run_batch(disputes(tmp_path), tmp_path / "plain.jsonl", redact=False)
    assert taken[0] == 0


def test_a_chunk_closes_at_its_byte_budget(tmp_path, monkeypatch):
    # Giant cases keep memory flat: a chunk holds at most CHUNK_BYTES of raw lines (or one line).
    sizes = []
    real = batch.score_chunk

    def recording(entries, *args, **kwargs):
        sizes.append([len(entry.raw) for entry in entries])
        return real(entries, *args, **kwargs)

    monkeypatch.setattr(batch, "score_chunk", recording)
    monkeypatch.setattr(batch, "CHUNK_BYTES", 40_000)
    lines = dispute_lines(30, seed=4)
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(lines))
    summary = run_batch(path, tmp_path / "out.jsonl")
    assert summary.scored == 30 and sum(map(len, sizes)) == 30 and len(sizes) > 1
    assert all(sum(chunk[:-1]) < 40_000 for chunk in sizes)  # closed by the line that reached the budget


def test_without_pyarrow_every_case_takes_the_usual_path(tmp_path, monkeypatch, taken):
    import sys

    source = disputes(tmp_path)
    with_columns = run_batch(source, tmp_path / "columns.jsonl")
    assert taken[0] > 0
    taken[0] = 0
    monkeypatch.setitem(sys.modules, "assessor.batch_columns", None)  # (its import then raises ImportError)
    summary = run_batch(source, tmp_path / "plain.jsonl")
    assert taken[0] == 0 and summary.scored == with_columns.scored
    assert filecmp.cmp(tmp_path / "plain.jsonl", tmp_path / "columns.jsonl", shallow=False)
