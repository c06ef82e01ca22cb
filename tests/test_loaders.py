"""Every input form loads to the same cases; bad input becomes a located error, never a crash."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessor.io import CaseError, CaseInputError, load_cases, read_cases
from assessor.io.tables import write_table_set

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def _dumps(source):
    return [c.model_dump() for c in load_cases(source)]


def test_there_are_at_least_six_sample_cases():
    assert len(_dumps(SAMPLES / "cases")) >= 6


@pytest.mark.parametrize("form", ["cases.jsonl", "tables_gbk", "cases.xlsx"])
def test_every_sample_form_loads_to_equal_cases(form):
    assert _dumps(SAMPLES / form) == _dumps(SAMPLES / "cases")


def test_the_gbk_table_set_really_is_gbk_with_chinese_headers():
    raw = (SAMPLES / "tables_gbk" / "recharges.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith("案件编号,订单号,充值时间")


def test_a_single_case_file_and_stdin_stream(tmp_path):
    one = sorted((SAMPLES / "cases").glob("*.json"))[0]
    assert len(_dumps(one)) == 1
    assert len(_dumps(io.BytesIO(one.read_bytes()))) == 1


def test_bad_lines_are_rejected_with_line_and_field_and_the_rest_still_loads(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([
        json.dumps({"case_id": "A", "recharges": [{"id": "o1", "at": "2024/07/21 22:14", "amount": 30}]}),
        "{not json",
        json.dumps({"case_id": "B", "recharges": [{"id": "o1", "at": "2024-07-21", "amount": -5}]}),
        json.dumps({"case_id": "A"}),
        json.dumps({"case_id": "C", "chats": [{"text": "hi", "speaker": "alien"}]}),
    ]), encoding="utf-8")
    errors: list[CaseError] = []
    good = [c.case_id for c in load_cases(path, on_error=errors.append)]
    assert good == ["A"]
    assert [e.line for e in errors] == [2, 3, 4, 5]
    assert errors[1].field == "recharges[0].amount" and errors[1].case_id == "B"
    assert "duplicate case_id" in errors[2].message
    assert errors[3].field == "chats[0].speaker"
    with pytest.raises(CaseInputError, match="mixed.jsonl:2"):
        list(load_cases(path))


def test_table_rows_report_sheet_and_row(tmp_path):
    cases = list(load_cases(SAMPLES / "cases"))[:2]
    folder = tmp_path / "tables"
    write_table_set(cases, folder, chinese_headers=True)
    text = (folder / "recharges.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = text[3].split(",")
    cells[3] = "abc"  # amount of the third recharge row
    text[3] = ",".join(cells)
    (folder / "recharges.csv").write_text("\n".join(text), encoding="utf-8-sig")
    items = list(read_cases(folder))
    errors = [i for i in items if isinstance(i, CaseError)]
    assert len(errors) == 1 and errors[0].sheet == "recharges" and errors[0].row == 4
    assert errors[0].field == "recharges[2].amount"
    assert sum(1 for i in items if not isinstance(i, CaseError)) == 1


def test_excel_serial_dates_and_numeric_order_ids(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "案件"
    ws.append(["案件编号"])
    ws.append(["X-1"])
    rec = book.create_sheet("充值记录")
    rec.append(["案件编号", "订单号", "充值时间", "金额(元)", "支付方式"])
    rec.append(["X-1", 1001, 45494.5, 30, "支付宝"])
    book.save(tmp_path / "w.xlsx")
    (case,) = load_cases(tmp_path / "w.xlsx")
    assert case.recharges[0].id == "1001"
    assert case.recharges[0].at.isoformat() == "2024-07-21T12:00:00+08:00"
    assert case.recharges[0].channel.value == "alipay"


def test_a_file_that_is_not_a_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"not a zip")
    (error,) = read_cases(path)
    assert isinstance(error, CaseError) and "not a readable .xlsx" in error.message


def test_loading_is_lazy():
    def endless():
        yield (json.dumps({"case_id": "first"}) + "\n").encode()
        raise AssertionError("read past the first case")

    class Stream(io.RawIOBase):
        def __init__(self):
            self.lines = endless()

        def readline(self, size=-1):
            return next(self.lines)

    first = next(load_cases(Stream()))
    assert first.case_id == "first"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    for item in read_cases(io.BytesIO(data)):
        assert isinstance(item, CaseError) or item.case_id


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=20),
       st.sampled_from(["recharges", "chats", "sessions", "account", "claim", "case_id"]))
def test_arbitrary_json_values_in_case_fields_never_raise(value, field):
    line = json.dumps({"case_id": "H", field: value}) + "\n"
    for item in read_cases(io.BytesIO(line.encode())):
        assert isinstance(item, CaseError) or item.case_id


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), max_size=6), max_size=6))
def test_arbitrary_csv_tables_never_raise(tmp_path_factory, rows):
    import csv

    folder = tmp_path_factory.mktemp("t")
    for name in ("cases", "recharges"):
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["case_id", "id", "at", "amount"])
            writer.writerows(rows)
    for item in read_cases(folder):
        assert isinstance(item, CaseError) or item.case_id
