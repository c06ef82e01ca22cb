"""`assessor batch` as a reviewer uses it: every input form in, .jsonl/.csv/.xlsx out, nothing lost.

Rejected cases are reported (``--errors`` or standard error) and counted; the exit codes are
the contract's; spreadsheets never run a case's text as a formula; ID numbers never leave
masked; ``--jobs 2`` writes the same bytes as ``--jobs 1``; files appear atomically.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from assessor.batch import BatchSummary, run_batch
from assessor.batch_output import FORMULA_STARTS, XlsxSink, spreadsheet_text
from assessor.cli import app
from assessor.frame import COLUMNS, headers
from assessor.io import CaseInputError
from assessor.simulate import write_simulated

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_IDS = ["SH-2023-0117", "HB-2024-0309", "GZ-2024-0521", "CD-2020-0088", "SH-2024-0163", "HZ-2025-0042"]
INPUT_FORMS = ("cases", "cases.jsonl", "tables_gbk", "cases.xlsx")
runner = CliRunner()


def batch(*args: str, input: str | None = None):
    return runner.invoke(app, ["batch", *args], input=input)


def csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def xlsx_rows(path: Path) -> list[list]:
    workbook = load_workbook(path)
    try:
        return [[cell.value for cell in row] for row in workbook.active.iter_rows()]
    finally:
        workbook.close()


def all_text(path: Path) -> str:
    """Everything a file holds as text; for a workbook, every part of the zip."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return path.read_bytes().decode("utf-8-sig")


def jsonl_with_bad_lines(tmp_path: Path) -> Path:
    """The six sample cases with a broken line and an invalid case among them."""
    lines = (SAMPLES / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    broken = [*lines[:2], '{"case_id": "BROKEN-1", "recharges": [', *lines[2:4],
              json.dumps({"case_id": "BAD-AMOUNT", "recharges": [{"id": "r1", "at": "2024-07-01 20:00", "amount": "lots"}]}),
              *lines[4:]]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- output forms


def test_jsonl_output_holds_one_full_assessment_per_case_in_input_order(tmp_path):
    out = tmp_path / "out.jsonl"
    result = batch(str(SAMPLES / "cases.jsonl"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assessments = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [a["case_id"] for a in assessments] == SAMPLE_IDS
    assert all(a["format"] == "assessor.assessment/1" and a["contributions"] for a in assessments[:5])
    by_id = {a["case_id"]: a for a in assessments}
    assert by_id["GZ-2024-0521"]["band"] == "unlikely"  # the father who paid
    assert by_id["SH-2023-0117"]["band"] == "strong"


def test_a_jsonl_line_is_what_score_prints_for_that_case(tmp_path):
    out = tmp_path / "out.jsonl"
    batch(str(SAMPLES / "cases"), "-o", str(out), "-q")
    scored = runner.invoke(app, ["score", str(SAMPLES / "cases" / "03_adult_work_family.json"), "-f", "json"])
    line = next(x for x in out.read_text(encoding="utf-8").splitlines() if '"GZ-2024-0521"' in x)
    assert json.loads(line) == json.loads(scored.stdout)


def test_the_batch_jsonl_line_is_byte_for_byte_the_assessments_own_json(tmp_path):
    """The batch writes JSON lines straight from the engine's data (no model built); the text
    must be exactly what the validated Assessment dumps, on every sample and simulated case."""
    from assessor.batch_output import assessment_data_line, assessment_line
    from assessor.engine import Engine
    from assessor.io import load_cases

    write_simulated(120, tmp_path / "sim.jsonl", seed=44)
    cases = [*load_cases(SAMPLES / "cases.jsonl"), *load_cases(tmp_path / "sim.jsonl")]
    engine = Engine.load()
    for case in cases:
        expected = assessment_line(engine.assess(case))
        assert assessment_data_line(engine.assessment_data(case)) == expected, case.case_id
        assert assessment_data_line(engine.assessment_data(case, json_times=True)) == expected, case.case_id


def test_a_layout_the_fast_line_does_not_know_falls_back_to_the_model():
    from assessor.batch_output import assessment_data_line
    from assessor.engine import Engine
    from assessor.io import load_cases

    engine = Engine.load()
    data = engine.assessment_data(next(iter(load_cases(SAMPLES / "cases.jsonl"))))
    data["contributions"][0]["extra"] = 1  # a field the schema lacks
    assert assessment_data_line(data) is None
    data = engine.assessment_data(next(iter(load_cases(SAMPLES / "cases.jsonl"))))
    data["warnings"].append(object())  # JSON cannot hold it
    assert assessment_data_line(data) is None


def test_csv_is_utf8_with_bom_and_chinese_headers_by_default(tmp_path):
    out = tmp_path / "out.csv"
    result = batch(str(SAMPLES / "cases.jsonl"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Chinese only with the BOM
    rows = csv_rows(out)
    assert rows[0] == headers("zh") and rows[0][0] == "案件编号"
    assert [r[0] for r in rows[1:]] == SAMPLE_IDS
    father = dict(zip(headers("en"), rows[1 + SAMPLE_IDS.index("GZ-2024-0521")], strict=True))
    assert father["band_zh"] == "可能性低" and father["band"] == "unlikely"
    assert "（" in father["reasons_adult"]  # the reasons are the Chinese summaries
    assert float(father["attributable_amount_cny"]) < float(father["disputed_amount_cny"]) == 5670.0


def test_csv_figures_match_the_jsonl_assessments(tmp_path):
    batch(str(SAMPLES / "cases.jsonl"), "-o", str(tmp_path / "a.jsonl"), "-q")
    batch(str(SAMPLES / "cases.jsonl"), "-o", str(tmp_path / "a.csv"), "--lang", "en", "-q")
    full = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = csv_rows(tmp_path / "a.csv")
    assert rows[0] == [c.key for c in COLUMNS]
    for assessment, row in zip(full, rows[1:], strict=True):
        cell = dict(zip(rows[0], row, strict=True))
        assert float(cell["probability"]) == assessment["probability"]
        assert float(cell["log_odds"]) == assessment["log_odds"]
        assert float(cell["attributable_amount_cny"]) == assessment["attributable_amount_cny"]
        assert int(cell["findings_count"]) == len(assessment["findings"])
        assert cell["finding_ids"] == ", ".join(dict.fromkeys(f["id"] for f in assessment["findings"]))
        assert cell["coverage_chats"] == str(assessment["coverage"]["chats"])
        assert int(cell["warnings_count"]) == len(assessment["warnings"])
        for reason in assessment["top_reasons"]["minor"]:
            assert f"{reason['summary']} ({reason['weight']:+.2f})" in cell["reasons_minor"]


def test_xlsx_has_one_typed_row_per_case(tmp_path):
    out = tmp_path / "out.xlsx"
    result = batch(str(SAMPLES / "cases.xlsx"), "-o", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    rows = xlsx_rows(out)
    assert rows[0] == headers("en")
    assert [r[0] for r in rows[1:]] == SAMPLE_IDS
    col = {c.key: i for i, c in enumerate(COLUMNS)}
    for row in rows[1:]:
        assert isinstance(row[col["probability"]], float) and 0 <= row[col["probability"]] <= 1
        assert isinstance(row[col["coverage_recharges"]], bool)
        assert isinstance(row[col["findings_count"]], int)
    workbook = load_workbook(out)
    sheet = workbook.active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:S{len(SAMPLE_IDS) + 1}"
    workbook.close()


@pytest.mark.parametrize("form", INPUT_FORMS)
def test_every_input_form_gives_the_same_rows(tmp_path, form):
    out = tmp_path / "out.csv"
    result = batch(str(SAMPLES / form), "-o", str(out), "--errors", str(tmp_path / "e.jsonl"))
    assert result.exit_code == 0, (form, result.output)
    reference = tmp_path / "reference.csv"
    batch(str(SAMPLES / "cases"), "-o", str(reference), "-q")
    assert out.read_bytes() == reference.read_bytes()  # the GBK table set scores exactly like the JSON
    assert (tmp_path / "e.jsonl").read_text(encoding="utf-8") == ""


def test_standard_input(tmp_path):
    out = tmp_path / "out.jsonl"
    result = batch("-", "-o", str(out), input=(SAMPLES / "cases.jsonl").read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(SAMPLE_IDS)


# --------------------------------------------------------------------------- rejected cases, counts, exit codes


def test_bad_cases_in_the_middle_do_not_stop_the_batch_and_counts_add_up(tmp_path):
    source = jsonl_with_bad_lines(tmp_path)
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    result = batch(str(source), "-o", str(out), "--errors", str(errors))
    assert result.exit_code == 3
    assert [json.loads(x)["case_id"] for x in out.read_text(encoding="utf-8").splitlines()] == SAMPLE_IDS
    rejected = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["case_id"]) for r in rejected] == [(3, None), (6, "BAD-AMOUNT")]
    assert rejected[0]["error"].startswith("not valid JSON")
    assert rejected[1]["field"] == "recharges[0].amount" and rejected[1]["source"] == str(source)
    assert "read 8 = scored 6 + rejected 2" in result.stderr
    assert "rejected:" not in result.stderr  # they went to the file


def test_without_errors_file_rejections_go_to_stderr_with_their_place(tmp_path):
    source = jsonl_with_bad_lines(tmp_path)
    result = batch(str(source), "-o", str(tmp_path / "out.csv"), "--quiet")
    assert result.exit_code == 3
    lines = [x for x in result.stderr.splitlines() if x.startswith("rejected:")]
    assert len(lines) == 2
    assert "mixed.jsonl:3" in lines[0] and "mixed.jsonl:6" in lines[1] and "BAD-AMOUNT" in lines[1]
    assert "read" not in result.stderr  # --quiet: no summary, but rejections are still reported


def test_table_set_with_an_orphan_row_reports_its_row(tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    for path in (SAMPLES / "tables_gbk").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    chats = folder / "chats.csv"
    header = chats.read_bytes().decode("gb18030").splitlines()[0]
    extra = ",".join(["NOSUCH-1"] + [""] * (header.count(",")))
    chats.write_bytes(chats.read_bytes() + (extra + "\r\n").encode("gb18030"))
    result = batch(str(folder), "-o", str(tmp_path / "out.xlsx"), "--errors", str(tmp_path / "e.jsonl"))
    assert result.exit_code == 3
    error = json.loads((tmp_path / "e.jsonl").read_text(encoding="utf-8"))
    assert error["source"].endswith("chats.csv") and error["row"] > 1 and error["case_id"] == "NOSUCH-1"
    assert "not in the cases sheet" in error["error"]
    assert len(xlsx_rows(tmp_path / "out.xlsx")) == 1 + len(SAMPLE_IDS)


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/out.txt"], ".jsonl, .csv or .xlsx"),
    (["-o", "{tmp}/no/such/folder/out.csv"], "does not exist"),
    (["-o", "{tmp}/out.csv", "--jobs", "0"], "jobs"),
    (["-o", "{tmp}/out.csv", "--errors", "{tmp}/out.csv"], "different files"),
    (["-o", "{tmp}/out.csv", "--model", "{tmp}/untrusted.joblib"], "model"),
])
def test_wrong_usage_exits_2_and_writes_nothing(tmp_path, args, message):
    (tmp_path / "untrusted.joblib").write_bytes(b"not a model")
    result = batch(str(SAMPLES / "cases.jsonl"), *[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["untrusted.joblib"]


def test_missing_output_option_is_usage_error():
    assert batch(str(SAMPLES / "cases.jsonl")).exit_code == 2


def test_refuses_to_overwrite_its_input(tmp_path):
    source = tmp_path / "cases.jsonl"
    source.write_bytes((SAMPLES / "cases.jsonl").read_bytes())
    result = batch(str(source), "-o", str(source))
    assert result.exit_code == 2 and "overwrite the input" in result.stderr
    assert source.read_bytes() == (SAMPLES / "cases.jsonl").read_bytes()


def test_unreadable_input_exits_3_and_writes_nothing(tmp_path):
    result = batch(str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 3 and "no such file" in result.stderr
    (tmp_path / "broken.xlsx").write_bytes(b"PK not really a workbook")
    result = batch(str(tmp_path / "broken.xlsx"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 3 and "cannot read the workbook" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.xlsx"]


def test_clean_batch_exits_0_and_summarises_bands(tmp_path):
    result = batch(str(SAMPLES / "cases"), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0
    assert "read 6 = scored 6 + rejected 0" in result.stderr
    assert "strong 4, likely 0, inconclusive 1, unlikely 1" in result.stderr
    assert "cases/s" in result.stderr


def test_input_that_breaks_part_way_keeps_what_was_read(tmp_path, monkeypatch):
    from assessor.io import CaseError
    from assessor.io.reader import read_admitted

    def breaks_after_two(source, timezone=None, unparsed=False):
        cases = read_admitted(source, unparsed=unparsed)
        yield next(cases)
        yield next(cases)
        raise CaseInputError(CaseError("tables/chats.csv", "not a readable CSV table", row=9))

    monkeypatch.setattr("assessor.batch.read_admitted", breaks_after_two)
    result = batch(str(SAMPLES / "cases.jsonl"), "-o", str(tmp_path / "out.csv"), "--errors",
                   str(tmp_path / "e.jsonl"))
    assert result.exit_code == 3
    assert [r[0] for r in csv_rows(tmp_path / "out.csv")[1:]] == SAMPLE_IDS[:2]
    assert json.loads((tmp_path / "e.jsonl").read_text(encoding="utf-8"))["row"] == 9
    assert "input stopped early" in result.stderr and "read 2 = scored 2 + rejected 0" in result.stderr


def test_a_case_the_engine_fails_on_is_reported_and_the_rest_written(tmp_path, monkeypatch):
    from assessor.engine import Engine

    real_assess = Engine.assess

    def flaky(self, case, **options):
        if case.case_id == "GZ-2024-0521":
            raise ZeroDivisionError("boom")
        return real_assess(self, case, **options)

    monkeypatch.setattr(Engine, "assess", flaky)
    errors = tmp_path / "e.jsonl"
    result = batch(str(SAMPLES / "cases.jsonl"), "-o", str(tmp_path / "out.csv"), "--errors", str(errors))
    assert result.exit_code == 1  # a bug is "unexpected", but the batch is not lost
    assert "read 6 = scored 5 + rejected 0 + failed 1" in result.stderr
    assert "GZ-2024-0521" not in [r[0] for r in csv_rows(tmp_path / "out.csv")]
    failure = json.loads(errors.read_text(encoding="utf-8"))
    assert failure["case_id"] == "GZ-2024-0521" and "ZeroDivisionError" in failure["error"]


# --------------------------------------------------------------------------- atomic output


def test_an_interrupted_batch_leaves_the_previous_output_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"yesterday's results")
    calls = {"n": 0}
    import assessor.batch as batch_module

    real = batch_module.score_chunk

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(batch_module, "score_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_batch(SAMPLES / "cases.jsonl", out, errors=tmp_path / "e.jsonl", chunk_size=2)
    assert out.read_bytes() == b"yesterday's results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]  # no temporary files left


def test_library_summary_accounts_for_every_item(tmp_path):
    rejected = []
    summary = run_batch(jsonl_with_bad_lines(tmp_path), tmp_path / "out.jsonl", lang="en", chunk_size=4,
                        on_rejected=rejected.append)
    assert isinstance(summary, BatchSummary) and summary.complete
    assert (summary.read, summary.scored, summary.rejected, summary.failed) == (8, 6, 2, 0)
    assert sum(summary.bands.values()) == summary.scored
    assert [e.line for e in rejected] == [3, 6]
    assert oct((tmp_path / "out.jsonl").stat().st_mode & 0o777) != oct(0o600)  # not the temp file's mode


# --------------------------------------------------------------------------- parallel


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "sim.jsonl"
    write_simulated(90, path, seed=11)
    return path


def test_jobs_2_writes_the_same_bytes_as_jobs_1(tmp_path, simulated):
    for suffix in ("jsonl", "csv"):
        one, two = tmp_path / f"one.{suffix}", tmp_path / f"two.{suffix}"
        assert batch(str(simulated), "-o", str(one), "--jobs", "1", "-q").exit_code == 0
        result = batch(str(simulated), "-o", str(two), "--jobs", "2", "-q")
        assert result.exit_code == 0, result.output
        assert one.read_bytes() == two.read_bytes(), suffix
    assert len((tmp_path / "one.jsonl").read_text(encoding="utf-8").splitlines()) == 90
    one, two = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    batch(str(simulated), "-o", str(one), "-q")
    batch(str(simulated), "-o", str(two), "-q", "--jobs", "2")
    assert xlsx_rows(one) == xlsx_rows(two)  # a workbook's zip stamps the time; its cells are the same


def test_jobs_2_reports_rejections_exactly_as_jobs_1(tmp_path, simulated):
    """Cases are validated in the workers; the errors file must not depend on it."""
    lines = simulated.read_text(encoding="utf-8").splitlines()
    bad = ['{"case_id": "BROKEN", "recharges": [', lines[3],  # a broken line and a duplicate id
           json.dumps({"case_id": "BAD-AMOUNT", "recharges": [{"id": "r1", "at": "2024-07-01 20:00", "amount": -5}]})]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(lines[:40] + bad + lines[40:] + bad[2:]) + "\n", encoding="utf-8")
    runs = {}
    for jobs in ("1", "2"):
        out, errors = tmp_path / f"out{jobs}.jsonl", tmp_path / f"errors{jobs}.jsonl"
        result = batch(str(mixed), "-o", str(out), "--errors", str(errors), "--jobs", jobs, "-q")
        assert result.exit_code == 3, result.output  # some cases rejected
        runs[jobs] = (out.read_bytes(), errors.read_bytes())
    assert runs["1"] == runs["2"]
    reported = [json.loads(line) for line in runs["1"][1].decode("utf-8").splitlines()]
    assert [r.get("line") for r in reported] == [41, 42, 43, 94]
    assert len(runs["1"][0].decode("utf-8").splitlines()) == 90


def test_a_batch_parses_json_lines_as_the_library_reader_does(tmp_path, simulated):
    """A batch parses JSON Lines where it scores them (in the workers with --jobs) and checks
    duplicate ids afterwards; it must reject, repair and skip exactly what read_cases does."""
    from assessor.batch import error_line
    from assessor.io import CaseError, read_cases

    lines = [line.encode("utf-8") for line in simulated.read_text(encoding="utf-8").splitlines()[:6]]
    first = json.loads(lines[0])
    invalid = json.dumps({"case_id": " DUP ", "recharges": [{"at": "2024-07-01 20:00", "amount": -5}]}).encode()
    gb = json.dumps({"case_id": "GB-1", "chats": [{"text": "我今年13岁"}]}, ensure_ascii=False).encode("gb18030")
    rows = [
        b"\xef\xbb\xbf" + lines[0],                 # a byte-order mark on line 1
        "\u3000\u3000".encode(), b"\x1c", b"  ",        # blank to str.strip(): skipped, not counted
        invalid,                                        # rejected, but its id counts as seen
        json.dumps({"case_id": "DUP"}).encode(),        # a duplicate of the rejected case
        json.dumps({"case_id": 1001}).encode(), b'{"case_id": "1001"}',  # the same id as a number and as text
        b"\xff\xfe not text", gb,                     # not UTF-8; GB18030
        b"[1, 2]", b'{"case_id": "CUT", "chats": [',  # not an object; cut short
        json.dumps({**first, "case_id": first["case_id"]}).encode(),  # a duplicate of line 1
        *lines[1:],
    ]
    path = tmp_path / "tricky.jsonl"
    path.write_bytes(b"\n".join(rows) + b"\n")

    expected_errors, expected_ids = [], []
    for item in read_cases(path):
        if isinstance(item, CaseError):
            expected_errors.append(error_line(item))
        else:
            expected_ids.append(item.case_id)
    assert len(expected_errors) == 7 and "GB-1" in expected_ids  # the file is as tricky as meant
    for jobs in ("1", "2"):
        out, errors = tmp_path / f"out{jobs}.jsonl", tmp_path / f"errors{jobs}.jsonl"
        result = batch(str(path), "-o", str(out), "--errors", str(errors), "--jobs", jobs, "-q")
        assert result.exit_code == 3, result.output
        assert errors.read_text(encoding="utf-8").splitlines() == expected_errors
        scored = [json.loads(line)["case_id"] for line in out.read_text(encoding="utf-8").splitlines()]
        assert scored == expected_ids


# --------------------------------------------------------------------------- spreadsheet safety and privacy


HOSTILE_IDS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
               "\tTAB=1", "\rCR=1", "＝1+1", "ok\x01=ctrl"]


def hostile_cases(tmp_path: Path) -> Path:
    cases = [{"case_id": case_id, "chats": [{"id": "m1", "at": "2024-07-01 20:00", "speaker": "account",
                                             "text": "=cmd|' /C calc'!A0 我今年13岁 初二"}],
              "recharges": [{"id": "r1", "at": "2024-07-01 20:05", "amount": 68}]}
             for case_id in HOSTILE_IDS]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    return path


def test_csv_cells_never_start_a_formula(tmp_path):
    out = tmp_path / "out.csv"
    result = batch(str(hostile_cases(tmp_path)), "-o", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    for row in csv_rows(out)[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    ids = [row[0] for row in csv_rows(out)[1:]]
    assert ids[0] == "'=HYPERLINK(\"http://evil.example\",\"click\")" and ids[2] == "'-2+3"
    assert ids[4] == "TAB=1" and ids[6] == "'＝1+1"  # the case format strips leading whitespace itself


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_escaped(start):
    expected = "\n" if start == "\r" else start  # line breaks are kept as LF
    assert spreadsheet_text(f"{start}1+1") == f"'{expected}1+1"
    assert spreadsheet_text(f"a{start}1") == f"a{expected}1"  # only the first character matters


def test_xlsx_holds_no_formula_cells(tmp_path):
    out = tmp_path / "out.xlsx"
    result = batch(str(hostile_cases(tmp_path)), "-o", str(out), "--lang", "en")
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    cells = [cell for row in workbook.active.iter_rows(min_row=2) for cell in row]
    workbook.close()
    assert not [c.value for c in cells if c.data_type == "f"]
    ids = [c.value for c in cells if c.column == 1]
    assert ids[0].startswith("'=HYPERLINK") and ids[-1] == "ok=ctrl"  # XML-illegal control character dropped
    assert "<f>" not in all_text(out)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=8))
def test_any_text_lands_in_a_workbook_as_text(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("fuzz") / "t.xlsx"
    sink = XlsxSink("en")
    sink.write(texts + [None] * (len(COLUMNS) - len(texts)))
    sink.save(path)
    workbook = load_workbook(path)
    cells = [c for c in next(workbook.active.iter_rows(min_row=2)) if c.value is not None]
    workbook.close()
    assert all(c.data_type == "s" for c in cells)
    written = [spreadsheet_text(t) for t in texts]
    assert [c.value for c in cells] == [w for w in written if w]
    assert not any(w.startswith(FORMULA_STARTS) for w in written)


ID_OR_PHONE = re.compile(r"(?<![0-9])(?:[1-9]\d{16}[0-9Xx]|1[3-9]\d{9})(?![0-9])")


def test_no_id_or_phone_number_from_the_input_appears_in_any_output(tmp_path):
    raw = "".join(p.read_text(encoding="utf-8") for p in (SAMPLES / "cases").glob("*.json"))
    secrets = set(ID_OR_PHONE.findall(raw))
    assert len(secrets) >= 8  # the samples do hold full ID numbers
    # a case whose id, chat and payer carry an ID and a phone number, and a bad one that does too
    leaky = [{"case_id": "110105194912310021", "chats": [{"id": "m1", "at": "2024-07-01 20:00", "speaker": "account",
                                                          "text": "我的身份证 110105194912310021 电话 13912345678"}],
              "recharges": [{"id": "r1", "at": "2024-07-01 20:05", "amount": 68, "payer": "支付宝 13912345678"}]},
             {"case_id": "13912345678", "recharges": [{"at": "never", "amount": 1}]}]
    source = tmp_path / "all.jsonl"
    source.write_text((SAMPLES / "cases.jsonl").read_text(encoding="utf-8")
                      + "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in leaky), encoding="utf-8")
    secrets |= {"110105194912310021", "13912345678"}
    for suffix in ("jsonl", "csv", "xlsx"):
        for lang in ("zh", "en"):
            out, errors = tmp_path / f"out-{lang}.{suffix}", tmp_path / f"errors-{lang}-{suffix}.jsonl"
            result = batch(str(source), "-o", str(out), "--errors", str(errors), "--lang", lang)
            assert result.exit_code == 3, result.output
            for text in (all_text(out), errors.read_text(encoding="utf-8"), result.stderr):
                assert not secrets & set(ID_OR_PHONE.findall(text)), (suffix, lang)
    stderr_only = batch(str(source), "-o", str(tmp_path / "x.csv"))
    assert "rejected:" in stderr_only.stderr and "13912345678" not in stderr_only.stderr


# --------------------------------------------------------------------------- as a user runs it


def test_real_subprocess_run_writes_all_three_forms(tmp_path):
    for suffix in ("jsonl", "csv", "xlsx"):
        out = tmp_path / f"out.{suffix}"
        proc = subprocess.run([sys.executable, "-m", "assessor", "batch", str(SAMPLES / "tables_gbk"), "-o", str(out),
                               "--errors", str(tmp_path / "e.jsonl")], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr and "\x1b[" not in proc.stderr  # piped: no progress bar
        assert "read 6 = scored 6 + rejected 0" in proc.stderr
        assert out.stat().st_size > 0


def run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the command with standard error on a pseudo-terminal, as in a mediator's shell."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "assessor", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    seen = io.BytesIO()
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command has finished
            break
        if not data:
            break
        seen.write(data)
    os.close(leader)
    return proc.wait(timeout=60), seen.getvalue().decode("utf-8", "replace")


def test_terminal_shows_a_progress_bar_and_a_summary_table_unless_quiet(tmp_path):
    code, screen = run_on_terminal(["batch", str(SAMPLES / "cases.jsonl"), "-o", str(tmp_path / "o.csv")], tmp_path)
    assert code == 0, screen
    assert "scoring" in screen and "6/6" in screen  # the progress bar, with the line count as total
    assert "高度可能 strong" in screen and "┃" in screen  # the rich summary table
    code, screen = run_on_terminal(["batch", str(SAMPLES / "cases.jsonl"), "-o", str(tmp_path / "o.csv"), "-q"],
                                   tmp_path)
    assert code == 0 and screen.strip() == ""
