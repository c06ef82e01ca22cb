"""The sample disputes load to the same cases in every input form a mediator may receive.

The forms are generated from sample_data/cases/*.json by sample_data/make_forms.py; if this
fails after the JSON cases changed, run that script again.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from assessor.io import load_cases
from assessor.io.headers import SHEETS

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
JSON_CASES = sorted((SAMPLE_DATA / "cases").glob("*.json"))


def dumps(source) -> list[dict]:
    return [case.model_dump() for case in load_cases(source)]  # a bad sample raises here


@pytest.fixture(scope="module")
def reference() -> list[dict]:
    cases = dumps(SAMPLE_DATA / "cases")
    assert len(cases) >= 6, "sample_data/cases should hold at least six hand-written disputes"
    return cases


def test_there_are_at_least_six_sample_cases_with_distinct_ids(reference):
    assert len(JSON_CASES) >= 6
    assert len({case["case_id"] for case in reference}) == len(reference) == len(JSON_CASES)


@pytest.mark.parametrize("form", ["cases.jsonl", "tables_gbk", "cases.xlsx"])
def test_every_sample_case_loads_equal_from_each_generated_form(reference, form):
    assert dumps(SAMPLE_DATA / form) == reference


def test_each_sample_case_file_loads_on_its_own(reference):
    assert [dumps(path)[0] for path in JSON_CASES] == reference


def test_the_csv_table_set_is_a_gbk_export_with_chinese_headers_and_words():
    raw = (SAMPLE_DATA / "tables_gbk" / "recharges.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.startswith("案件编号,订单号,充值时间,金额")
    assert ",微信," in text and ",成功," in text


def test_the_workbook_holds_every_sheet_of_a_table_set():
    workbook = openpyxl.load_workbook(SAMPLE_DATA / "cases.xlsx", read_only=True)
    try:
        assert workbook.sheetnames == list(SHEETS)
    finally:
        workbook.close()
