"""Hostile input: every file of tests/hostile/ (and the big ones built here) gets its stated reaction.

The reaction is a located error (file, line or row, field) for the bad case while the other
cases load, or a documented repair (tests/hostile/README.md, docs/hostile-input.md); never a
traceback, a hang, or memory growing with the input. Checked through the library
(``read_cases``, ``load_cases``) and through the real command-line entry point
(``assessor.cli.main``: exit codes 0 done, 3 some input rejected).
"""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from assessor.cli import main
from assessor.engine import default_engine
from assessor.io import CaseError, CaseInputError, limits, load_cases, read_cases
from assessor.schema import Case

HOSTILE = Path(__file__).resolve().parent / "hostile"


@dataclass(frozen=True)
class Problem:
    at: int  # line of a JSON Lines file, or row of a table
    field: str | None
    says: str
    case_id: str | None = None
    source: str | None = None  # file name, for table sets (each sheet is its own file)


@dataclass(frozen=True)
class Reaction:
    loaded: list[str]
    problems: list[Problem] = field(default_factory=list)


# What each corpus file must give: the cases that load, and each problem where it is.
CORPUS: dict[str, Reaction] = {
    "malformed_json.jsonl": Reaction(["MAL-1", "MAL-5"], [
        Problem(2, None, "not valid JSON: Expecting ',' delimiter at the end of the text (a record cut short?)"),
        Problem(3, None, "not valid JSON: Expecting property name enclosed in double quotes (column 2)"),
        Problem(4, None, "not valid JSON: Expecting property name enclosed in double quotes (column 38)"),
    ]),
    "wrong_types.jsonl": Reaction([], [
        Problem(1, "recharges[0].amount", "valid decimal (got '六百四十八元')", "TYPE-1"),
        Problem(2, "recharges", "Input should be a valid list", "TYPE-2"),
        Problem(3, "case_id", "Input should be a valid string (got ['TYPE-3'])"),
        Problem(4, "recharges[0].disputed", "valid boolean", "TYPE-4"),
        Problem(5, "account", "valid dictionary", "TYPE-5"),
        Problem(6, "chats[0].text", "valid string", "TYPE-6"),
    ]),
    "missing_fields.jsonl": Reaction(["MISS-6"], [
        Problem(1, "case_id", "is required"),
        Problem(2, "recharges[0].at", "is required", "MISS-2"),
        Problem(3, "recharges[0].amount", "is required", "MISS-3"),
        Problem(4, "chats[0].text", "is required", "MISS-4"),
        Problem(5, "account.face_checks[0].outcome", "is required", "MISS-5"),
    ]),
    "unknown_enums.jsonl": Reaction(["ENUM-6"], [
        Problem(1, "recharges[0].channel", "(got 'paypal')", "ENUM-1"),
        Problem(2, "account.real_name.status", "(got 'approved')", "ENUM-2"),
        Problem(3, "account.face_checks[0].outcome", "(got 'skipped')", "ENUM-3"),
        Problem(4, "chats[0].speaker", "(got 'npc')", "ENUM-4"),
        Problem(5, "claim.relation", "(got 'uncle')", "ENUM-5"),
    ]),
    "amounts.jsonl": Reaction(["AMT-6"], [
        Problem(1, "recharges[0].amount", "greater than or equal to 0 (got -648)", "AMT-1"),
        Problem(2, "recharges[1].amount", "1,000,000,000,000.0 CNY is more than one payment can be", "AMT-2"),
        Problem(3, "recharges[0].amount", "1.000E+999999 CNY is more than one payment can be", "AMT-3"),
        Problem(4, "recharges[0].amount", "finite number", "AMT-4"),
        Problem(5, "recharges[0].amount", "valid decimal (got '¥1,280.00')", "AMT-5"),
    ]),
    "dates.jsonl": Reaction(["DATE-6", "DATE-7"], [
        Problem(1, "recharges[0].at", "impossible date '2023-02-30T10:00:00'", "DATE-1"),
        Problem(2, "claim.minor_birth_date", "valid date", "DATE-2"),
        Problem(3, "recharges[1].at", "2999-07-21 22:14 is in the future", "DATE-3"),
        Problem(4, "login_traces[0].ot", "1970-01-01 08:00 is before 2000-01-01", "DATE-4"),
        Problem(5, "claim.minor_birth_date", "birth date 2099-05-03 is in the future", "DATE-5"),
    ]),
    "duplicates.jsonl": Reaction(["DUP-1", "DUP-3"], [
        Problem(2, None, "duplicate case_id, first at line 1", "DUP-1"),
        Problem(3, "recharges[1].id", "id 'o1' is used again by a different record (first at recharges[0])", "DUP-2"),
        Problem(5, "chats[1].id", "id 'm1' is used again by a different record (first at chats[0])", "DUP-4"),
    ]),
    "invalid_utf8.jsonl": Reaction(["UTF-1", "UTF-3"], [Problem(2, None, "not UTF-8 text")]),
    "broken_emoji.jsonl": Reaction(["EMOJI-1"]),
    "control_chars.jsonl": Reaction(["CTRL-\x1b[2J\x1b[31m-1\u202e"], [
        Problem(2, "recharges[0].at", "unrecognised timestamp 'soon'", "CTRL-2\nrejected: forged line"),
    ]),
    "blank.jsonl": Reaction([], [Problem(None, None, "empty: no case found")]),  # type: ignore[arg-type]
    "ragged_csv": Reaction(["RAG-2"], [
        Problem(3, None, "row has a value in column 7, which has no header", "RAG-1", "recharges.csv"),
        Problem(4, None, "row has a value in column 4, which has no header", "RAG-3", "cases.csv"),
    ]),
}
# Files nothing can be read from: the whole source is refused with one clear message.
UNREADABLE = {
    "empty.jsonl": "the file is empty",
    "not_a_workbook.xlsx": "cannot read the workbook: BadZipFile",
}


def split(source) -> tuple[list[Case], list[CaseError]]:
    items = list(read_cases(source))
    assert all(isinstance(item, (Case, CaseError)) for item in items)
    return [i for i in items if isinstance(i, Case)], [i for i in items if isinstance(i, CaseError)]


def cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """Run the installed entry point in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["assessor", *map(str, args)])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return exited.value.code or 0, out, err


def test_the_corpus_and_its_expectations_name_the_same_files():
    files = {path.name for path in HOSTILE.iterdir() if path.name != "README.md"}
    assert files == set(CORPUS) | set(UNREADABLE)
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files), "every corpus file is described in README.md"


# --------------------------------------------------------------------------- library


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_hostile_file_loads_its_good_cases_and_locates_each_problem(name):
    expected = CORPUS[name]
    cases, errors = split(HOSTILE / name)
    assert [case.case_id for case in cases] == expected.loaded
    assert len(errors) == len(expected.problems), [str(e) for e in errors]
    for error, problem in zip(errors, expected.problems, strict=True):
        assert (error.row if name.endswith("csv") else error.line) == problem.at, str(error)
        assert error.field == problem.field, str(error)
        assert problem.says in error.message, str(error)
        assert error.case_id == problem.case_id
        assert Path(error.source).name == (problem.source or name) or error.source.endswith(name)
        assert str(error).startswith(error.source)


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_an_unreadable_file_is_refused_as_a_whole_with_its_reason(name):
    with pytest.raises(CaseInputError) as raised:
        list(read_cases(HOSTILE / name))
    assert UNREADABLE[name] in str(raised.value) and raised.value.error.source == str(HOSTILE / name)


def test_load_cases_raises_at_the_first_problem_skips_or_reports_each():
    source = HOSTILE / "amounts.jsonl"
    with pytest.raises(CaseInputError) as raised:
        list(load_cases(source))
    assert raised.value.error.line == 1 and raised.value.error.field == "recharges[0].amount"
    assert [c.case_id for c in load_cases(source, on_error="skip")] == ["AMT-6"]
    seen: list[CaseError] = []
    assert [c.case_id for c in load_cases(source, on_error=seen.append)] == ["AMT-6"]
    assert [e.case_id for e in seen] == ["AMT-1", "AMT-2", "AMT-3", "AMT-4", "AMT-5"]


def test_repairs_are_the_documented_ones():
    cases = {c.case_id: c for c in load_cases(HOSTILE / "duplicates.jsonl", on_error="skip")}
    assert [r.id for r in cases["DUP-3"].recharges] == ["o1", "o2"], "an exact repeat is kept once"
    [emoji] = load_cases(HOSTILE / "broken_emoji.jsonl")
    assert emoji.chats[0].text == "哈哈\ufffd", "half an emoji becomes the replacement character"
    [ragged] = load_cases(HOSTILE / "ragged_csv", on_error="skip")
    assert [(r.id, r.item, r.channel) for r in ragged.recharges] == [(
        "o3", None, None), ("o4", "6元宝", "alipay")], "missing trailing cells are blank; blank extra cells ignored"
    amounts = next(c for c in load_cases(HOSTILE / "amounts.jsonl", on_error="skip"))
    assert [str(r.amount) for r in amounts.recharges] == ["0", "6480.00"]
    [alias] = load_cases(HOSTILE / "unknown_enums.jsonl", on_error="skip")
    assert (alias.recharges[0].channel.value, alias.recharges[0].status.value) == ("wechat", "success")


def test_mixed_timezones_become_one_local_time():
    case = next(c for c in load_cases(HOSTILE / "dates.jsonl", on_error="skip") if c.case_id == "DATE-7")
    moments = {r.id: r.at for r in case.recharges}
    assert len(set(moments.values())) == 1, moments  # one instant written five ways
    assert all(str(moment.tzinfo) == "Asia/Shanghai" and moment.hour == 22 for moment in moments.values())


def test_a_local_time_in_the_repeated_hour_of_a_clock_change_keeps_which_one_it_is():
    """Library callers may hand in datetimes: the second 01:30 of a night when clocks go back
    (fold=1) is an hour after the first, and a pandas Timestamp stays one."""
    import pandas as pd

    case = Case.model_validate({"case_id": "DST-1", "timezone": "America/New_York", "chats": [
        {"id": "m1", "text": "a", "at": datetime(2024, 11, 3, 1, 30)},
        {"id": "m2", "text": "b", "at": datetime(2024, 11, 3, 1, 30, fold=1)},
        {"id": "m3", "text": "c", "at": pd.Timestamp("2024-11-03 12:00")}]})
    first, second, stamp = (chat.at for chat in case.chats)
    assert second - first == timedelta(0) and second.timestamp() - first.timestamp() == 3600
    assert (first.utcoffset(), second.utcoffset()) == (timedelta(hours=-4), timedelta(hours=-5))
    assert isinstance(stamp, pd.Timestamp) and str(stamp.tzinfo) == "America/New_York"


def test_a_payment_before_the_account_existed_loads_and_the_assessment_warns():
    case = next(c for c in load_cases(HOSTILE / "dates.jsonl", on_error="skip") if c.case_id == "DATE-6")
    warnings = default_engine().assess(case).warnings
    assert any("before the account was created (2024-08-01)" in w for w in warnings), warnings


def test_a_case_with_only_an_id_is_scored_and_says_what_is_missing():
    [case] = [c for c in load_cases(HOSTILE / "missing_fields.jsonl", on_error="skip")]
    assessment = default_engine().assess(case)
    assert assessment.band.value == "inconclusive" and not any(assessment.coverage.model_dump().values())
    assert any("recharge records were not supplied" in w for w in assessment.warnings)


# --------------------------------------------------------------------------- built at run time: big and deep


def test_a_50_mb_chat_line_is_rejected_with_its_place_and_bounded_memory(tmp_path):
    path = tmp_path / "huge_chat.jsonl"
    text = "妈妈查作业了" * (50 * 1024 * 1024 // 18)  # 50 MB of UTF-8 in one message
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(json.dumps({"case_id": "OK-1"}) + "\n")
        stream.write(json.dumps({"case_id": "HUGE-1", "chats": [{"id": "m1", "at": "2024-07-21T22:01:00",
                                                                 "text": text}]}, ensure_ascii=False) + "\n")
        stream.write(json.dumps({"case_id": "OK-2"}) + "\n")
    del text
    size = path.stat().st_size
    assert size > 50 * 1024 * 1024 - 100
    tracemalloc.start()
    try:
        cases, errors = split(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [c.case_id for c in cases] == ["OK-1", "OK-2"]
    [error] = errors
    assert (error.line, error.case_id, error.field) == (2, "HUGE-1", "chats[0].text")
    assert "text of 17,476,266 characters is longer than the limit of 100,000" in error.message
    assert peak < 5 * size, f"reading one line took {peak / size:.1f} times its size"


def test_a_line_over_the_line_limit_is_skipped_in_pieces_so_memory_stays_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 1024 * 1024)
    path = tmp_path / "long_line.jsonl"
    with open(path, "w", encoding="utf-8") as stream:
        stream.write('{"case_id": "LONG-1", "chats": [{"text": "' + "x" * (30 * 1024 * 1024) + '"}]}\n')
        stream.write('{"case_id": "OK-1"}\n')
    tracemalloc.start()
    try:
        cases, errors = split(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [c.case_id for c in cases] == ["OK-1"]
    assert errors[0].line == 1 and "longer than 1048576 bytes; skipped" in errors[0].message
    assert peak < 8 * 1024 * 1024


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("form", ["jsonl", "json-lines-in-a-json-file", "json-document", "json-array"])
def test_json_nested_100k_levels_deep_is_an_error_and_the_rest_is_read(tmp_path, form):
    deep = '{"case_id": "DEEP-1", "claim": {"note": ' + _deep(100_000) + "}}"
    good = '{"case_id": "OK-1"}'
    if form == "jsonl":
        path, text, at = tmp_path / "deep.jsonl", f"{good}\n{deep}\n{good.replace('OK-1', 'OK-2')}\n", 2
    elif form == "json-lines-in-a-json-file":
        path, text, at = tmp_path / "deep.json", f"{good}\n{deep}\n", 2
    elif form == "json-document":
        path, text, at = tmp_path / "deep.json", deep, None
    else:
        path, text, at = tmp_path / "deep.json", f"[\n{good},\n{deep}\n]", 3
    path.write_text(text, encoding="utf-8")
    cases, errors = split(path)
    assert [c.case_id for c in cases] == {"jsonl": ["OK-1", "OK-2"], "json-document": []}.get(form, ["OK-1"])
    [error] = errors
    assert error.message == "not valid JSON: nested too deeply" and error.line == at


def test_a_json_array_of_100k_nested_levels_alone_is_an_error_not_a_crash():
    cases, errors = split(io.StringIO(_deep(100_000)))
    assert not cases and errors[0].message == "not valid JSON: nested too deeply"


def test_deep_but_parseable_nesting_in_an_extra_field_still_loads_and_scores():
    [case] = load_cases(io.StringIO('{"case_id": "DEEPISH-1", "claim": {"note": ' + _deep(500) + "}}\n"))
    assert default_engine().assess(case).case_id == "DEEPISH-1"


def test_a_csv_cell_longer_than_the_csv_module_allows_rejects_only_its_case(tmp_path):
    (tmp_path / "cases.csv").write_text("case_id\nCELL-1\nCELL-2\n", encoding="utf-8")
    (tmp_path / "chats.csv").write_text(f"case_id,id,text\nCELL-1,m1,{'长' * 200_000}\nCELL-2,m2,好的\n",
                                        encoding="utf-8")
    cases, errors = split(tmp_path)
    assert [c.case_id for c in cases] == ["CELL-2"]
    [error] = errors
    assert (Path(error.source).name, error.row, error.field, error.case_id) == ("chats.csv", 2, "text", "CELL-1")
    assert "longer than the limit of 100,000" in error.message


# --------------------------------------------------------------------------- workbooks that are not


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "cases"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _rewrite_sheet(path: Path, change) -> None:
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = change(parts["xl/worksheets/sheet1.xml"].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "case_id,amount\n")
    with pytest.raises(CaseInputError, match="cannot read the workbook"):
        list(read_cases(path))


@pytest.mark.parametrize("declared", ["A1:A1000000000", "A1:XFD1048576"])
def test_a_workbook_declaring_a_billion_rows_or_every_column_is_read_as_it_is(tmp_path, declared):
    """Openpyxl trusts a sheet's declared size and would hand out a billion empty rows (a hang)."""
    path = _workbook(tmp_path / "lying.xlsx", [["case_id", "timezone"], ["BIG-SHEET-1", "Asia/Shanghai"]])

    def declare(xml: str) -> str:
        start = xml.index("<dimension ")
        return xml[:start] + f'<dimension ref="{declared}" />' + xml[xml.index("/>", start) + 2:]

    _rewrite_sheet(path, declare)
    cases, errors = split(path)
    assert [c.case_id for c in cases] == ["BIG-SHEET-1"] and not errors


def test_a_sheet_longer_than_the_row_limit_is_refused_naming_the_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TABLE_ROWS", 5)
    path = _workbook(tmp_path / "long.xlsx", [["case_id"], *[[f"ROW-{i}"] for i in range(8)]])
    with pytest.raises(CaseInputError) as raised:
        list(read_cases(path))
    assert "more than 5 rows" in str(raised.value) and (raised.value.error.sheet, raised.value.error.row) == ("cases", 6)


def test_a_value_under_no_header_in_a_workbook_rejects_its_case(tmp_path):
    path = _workbook(tmp_path / "ragged.xlsx", [["case_id", None, "timezone"], ["WB-1", "stray", "Asia/Shanghai"],
                                                ["WB-2", None, "Asia/Shanghai"]])
    cases, errors = split(path)
    assert [c.case_id for c in cases] == ["WB-2"]
    assert (errors[0].sheet, errors[0].row, errors[0].case_id) == ("cases", 2, "WB-1")
    assert "value in column 2, which has no header" in errors[0].message


@pytest.mark.parametrize("name", ["cases.csv", "cases.json", "cases.xlsx", "folder"])
def test_empty_inputs_of_every_form_are_refused_with_a_reason(tmp_path, name):
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"")
    with pytest.raises(CaseInputError, match="empty|no case files"):
        list(read_cases(path))


# --------------------------------------------------------------------------- limits are settings


def test_every_plausibility_limit_is_a_setting(monkeypatch):
    line = json.dumps({"case_id": "L-1", "claim": {"statement": "孩子偷偷充值" * 10},
                       "recharges": [{"id": "o1", "at": "2024-07-21T22:14:05", "amount": 648}]}) + "\n"
    assert len(list(load_cases(io.StringIO(line)))) == 1
    for name, value, says in [
        ("MAX_AMOUNT", 100, "limit 100"),
        ("EARLIEST_EVENT", datetime(2025, 1, 1), "is before 2025-01-01"),
        ("FUTURE_TOLERANCE", timedelta(days=-365 * 10), "is in the future"),
        ("MAX_TEXT_CHARS", 20, "longer than the limit of 20"),
    ]:
        with monkeypatch.context() as patch:
            patch.setattr(limits, name, value)
            [error] = [e for e in read_cases(io.StringIO(line)) if isinstance(e, CaseError)]
            assert says in error.message, (name, error.message)


def test_a_long_text_loads_when_the_text_limit_is_raised(monkeypatch):
    line = json.dumps({"case_id": "LOG-1", "chats": [{"id": "m1", "text": "哈" * 150_000}]}) + "\n"
    assert not list(load_cases(io.StringIO(line), on_error="skip"))
    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 200_000)
    [case] = load_cases(io.StringIO(line))
    assert len(case.chats[0].text) == 150_000


# --------------------------------------------------------------------------- through the command line


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_validate_lists_every_problem_with_its_place_and_exits_3(monkeypatch, capsys, name):
    code, out, err = cli(monkeypatch, capsys, "validate", HOSTILE / name)
    expected = CORPUS[name]
    assert code == (3 if expected.problems else 0)
    assert f"{len(expected.loaded)} valid, {len(expected.problems)} rejected" in err
    listed = out.splitlines()
    assert len(listed) == len(expected.problems)
    for line, problem in zip(listed, expected.problems, strict=True):
        place = f":{problem.at}:" if name.endswith(".jsonl") and problem.at else f": row {problem.at}:"
        assert (problem.at is None or place in line) and problem.says in line, line
        assert problem.field is None or problem.field in line


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_commands_refuse_an_unreadable_file_with_exit_3(monkeypatch, capsys, tmp_path, name):
    for command in (["validate"], ["score", "-f", "json"], ["batch", "-o", tmp_path / "out.jsonl"]):
        code, out, err = cli(monkeypatch, capsys, *command[:1], HOSTILE / name, *command[1:])
        assert code == 3, (command, err)
        assert f"rejected: {HOSTILE / name}: {UNREADABLE[name]}" in err and not out
    assert not (tmp_path / "out.jsonl").exists()


def test_score_prints_the_good_cases_and_reports_the_bad_on_stderr(monkeypatch, capsys):
    code, out, err = cli(monkeypatch, capsys, "score", HOSTILE / "dates.jsonl", "-f", "json")
    assert code == 3
    assert [json.loads(line)["case_id"] for line in out.splitlines()] == ["DATE-6", "DATE-7"]
    rejected = [line for line in err.splitlines() if line.startswith("rejected: ")]
    assert len(rejected) == 5 and all("dates.jsonl:" in line for line in rejected)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_batch_accounts_for_every_case_and_writes_each_rejection_with_its_place(monkeypatch, capsys, tmp_path, name):
    output, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    code, _, err = cli(monkeypatch, capsys, "batch", HOSTILE / name, "-o", output, "--errors", errors)
    expected = CORPUS[name]
    assert code == (3 if expected.problems else 0)
    scored = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(scored) == len(expected.loaded)
    rejected = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert len(rejected) == len(expected.problems)
    for entry, problem in zip(rejected, expected.problems, strict=True):
        assert entry.get("row" if name.endswith("csv") else "line") == problem.at and problem.says in entry["error"]
    total = len(expected.loaded) + len(expected.problems)
    assert f"read {total} = scored {len(expected.loaded)} + rejected {len(expected.problems)}" in err


def test_control_characters_in_the_input_never_reach_the_terminal(monkeypatch, capsys):
    source = HOSTILE / "control_chars.jsonl"
    for args in (["validate", source], ["score", source, "-f", "table"], ["score", source, "-f", "markdown"]):
        _, out, err = cli(monkeypatch, capsys, *args)
        for text in (out, err):
            assert "\x1b" not in text and "\u202e" not in text and "\a" not in text, args
        assert not any(line.startswith("rejected: forged line") for line in (out + err).splitlines()), args
    _, out, _ = cli(monkeypatch, capsys, "score", source, "-f", "markdown")
    assert "CTRL-\\x1b[2J\\x1b[31m-1\\u202e" in out, "the id is shown, its controls spelled out"
    _, out, _ = cli(monkeypatch, capsys, "score", source, "-f", "json")  # JSON is data: escaped, and exact
    assert "\x1b" not in out and json.loads(out)["case_id"] == CORPUS["control_chars.jsonl"].loaded[0]


def test_a_50_mb_line_through_the_command_line(monkeypatch, capsys, tmp_path):
    path = tmp_path / "huge.jsonl"
    path.write_text(json.dumps({"case_id": "HUGE-2", "chats": [{"id": "m1", "text": "x" * (50 * 1024 * 1024)}]})
                    + "\n" + json.dumps({"case_id": "OK-3"}) + "\n", encoding="utf-8")
    code, out, err = cli(monkeypatch, capsys, "score", path, "-f", "json")
    assert code == 3 and [json.loads(line)["case_id"] for line in out.splitlines()] == ["OK-3"]
    assert f"rejected: {path}:1: case HUGE-2: chats[0].text: text of 52,428,800 characters" in err


# --------------------------------------------------------------------------- a tampered shipped model


class _MakesAFolderWhenUnpickled:
    """A model file as an attacker would write it: loading it runs code (here: makes a folder)."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    def __reduce__(self):
        import os

        return os.mkdir, (self.folder,)


@pytest.fixture
def shipped_model(tmp_path, monkeypatch):
    """A copy of the package's model that the package takes for its own; caches are reset around the test."""
    import assessor.batch
    import assessor.engine
    import assessor.model

    copy = tmp_path / "default.joblib"
    copy.write_bytes(assessor.model.shipped_model_path().read_bytes())
    monkeypatch.setattr(assessor.model, "shipped_model_path", lambda: copy)
    monkeypatch.setattr(assessor.engine, "shipped_model_path", lambda: copy)
    caches = (assessor.engine.default_engine, assessor.batch.load_engine)
    for cached in caches:
        cached.cache_clear()
    yield copy
    for cached in caches:
        cached.cache_clear()


def test_the_untouched_copy_loads(shipped_model):
    from assessor.model import load_model

    card, sha = load_model(None)
    assert card.features and sha == default_engine().model_info.sha256


@pytest.mark.parametrize("tamper", ["flip a byte", "truncate", "code in a pickle"])
def test_a_tampered_shipped_model_is_refused_saying_why(shipped_model, tmp_path, monkeypatch, capsys, tamper):
    import joblib

    from assessor.model import ModelTrustError, load_model

    marker = tmp_path / "code-ran"
    data = bytearray(shipped_model.read_bytes())
    if tamper == "flip a byte":
        data[len(data) // 2] ^= 0x01
        shipped_model.write_bytes(bytes(data))
    elif tamper == "truncate":
        shipped_model.write_bytes(bytes(data[: len(data) // 2]))
    else:
        joblib.dump(_MakesAFolderWhenUnpickled(marker), shipped_model)
    with pytest.raises(ModelTrustError) as raised:
        load_model(None)
    message = str(raised.value)
    assert "does not match its pinned SHA-256" in message and "tampered" in message and "reinstall" in message
    code, out, err = cli(monkeypatch, capsys, "score", HOSTILE / "dates.jsonl", "-f", "json")
    assert code != 0 and not out
    assert "error: the shipped model" in err and "does not match its pinned SHA-256" in err
    code, _, err = cli(monkeypatch, capsys, "batch", HOSTILE / "dates.jsonl", "-o", tmp_path / "out.jsonl")
    assert code != 0 and "does not match its pinned SHA-256" in err and not (tmp_path / "out.jsonl").exists()
    assert not marker.exists(), "the file was refused before anything in it ran"
