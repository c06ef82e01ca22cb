"""Input loaders: every form a mediator or an operator hands in loads; bad input becomes a located error."""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessor.io import (
    CaseError,
    CaseInputError,
    limits,
    load_cases,
    read_cases,
    write_jsonl,
    write_table_set,
)
from assessor.io.headers import HeaderBookError, load_header_book, normalise_header
from assessor.schema import Case, Channel, RealNameStatus


def case(case_id: str, **extra) -> dict:
    return {"case_id": case_id, "recharges": [{"id": "o1", "at": "2024-07-21T22:14:05", "amount": 648}], **extra}


def jsonl(*objects) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)


def items(source, **kw) -> list:
    return list(read_cases(source, **kw))


def errors(source) -> list[CaseError]:
    return [item for item in read_cases(source) if isinstance(item, CaseError)]


# ------------------------------------------------------------------ JSON forms


def test_a_single_pretty_printed_case_file_loads(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(case("PD-1"), indent=2), encoding="utf-8")
    [loaded] = load_cases(path)
    assert loaded.case_id == "PD-1" and loaded.recharges[0].amount == 648


def test_json_lines_load_in_order(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(jsonl(case("A"), case("B"), case("C")), encoding="utf-8")
    assert [c.case_id for c in load_cases(path)] == ["A", "B", "C"]


def test_a_json_file_holding_one_object_per_line_is_read_as_json_lines(tmp_path):
    path = tmp_path / "export.json"
    path.write_text("\n" + jsonl(case("A"), case("B")), encoding="utf-8")
    assert [c.case_id for c in load_cases(path)] == ["A", "B"]


def test_a_malformed_first_line_does_not_hide_the_other_lines_of_a_json_file(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('{"case_id": "A", oops}\n' + jsonl(case("B")), encoding="utf-8")
    found = items(path)
    assert isinstance(found[0], CaseError) and found[0].line == 1
    assert isinstance(found[1], Case) and found[1].case_id == "B"


def test_a_json_array_of_cases_loads_and_errors_name_the_line_of_the_item(tmp_path):
    path = tmp_path / "many.json"
    path.write_text('[\n  {"case_id": "A"},\n  "not a case",\n  {"case_id": "B"}\n]\n', encoding="utf-8")
    found = items(path)
    assert [type(x).__name__ for x in found] == ["Case", "CaseError", "Case"]
    assert found[1].line == 3 and "got a string" in found[1].message


def test_a_folder_of_json_files_loads_sorted_by_name(tmp_path):
    for name in ["b.json", "a.json", "c.txt"]:
        (tmp_path / name).write_text(json.dumps(case(name[0].upper())), encoding="utf-8")
    assert [c.case_id for c in load_cases(tmp_path)] == ["A", "B"]


def test_stdin_is_read_when_the_source_is_a_dash(monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(jsonl(case("S1"), case("S2")).encode("utf-8")), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert [c.case_id for c in load_cases("-")] == ["S1", "S2"]


@pytest.mark.parametrize("stream", [io.StringIO(jsonl(case("T"))), io.BytesIO(jsonl(case("T")).encode())])
def test_open_text_and_binary_streams_load(stream):
    assert [c.case_id for c in load_cases(stream)] == ["T"]


def test_utf8_with_bom_and_gb18030_json_load():
    text = jsonl(case("甲", claim={"statement": "孩子偷偷充值"}))
    assert next(load_cases(io.BytesIO(b"\xef\xbb\xbf" + text.encode("utf-8")))).case_id == "甲"
    assert next(load_cases(io.BytesIO(text.encode("gb18030")))).claim.statement == "孩子偷偷充值"


def test_reading_the_first_case_of_an_endless_json_lines_stream_reads_only_a_little():
    line = jsonl(case("X", chats=[{"at": "2024-07-21 22:00", "text": "等下我妈查作业"}] * 20)).encode("utf-8")

    class Endless(io.RawIOBase):
        served = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = (line * (len(buffer) // len(line) + 1))[: len(buffer)]
            buffer[: len(chunk)] = chunk
            Endless.served += len(chunk)
            return len(chunk)

    first = next(read_cases(io.BufferedReader(Endless())))
    assert first.case_id == "X"
    assert Endless.served < 1024 * 1024


# ------------------------------------------------------------------ table sets


def write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding=encoding)


def test_a_gbk_csv_table_set_with_chinese_file_names_and_headers_loads(tmp_path):
    write_csv(tmp_path / "案件.csv", [
        ["投诉编号", "实名状态", "身份证号", "实名主体", "与未成年人关系", "争议订单号", "账号ID"],
        ["PD-9", "已认证", "110105201001010018", "孩子", "妈妈", '"1001、1002;1003"', "1001"],
    ], "gbk")
    write_csv(tmp_path / "充值记录.csv", [
        ["工单号", "交易单号", "实付金额（元）", "下单时间", "支付渠道", "是否争议"],
        ["PD-9", "1001", '"￥1,280.00"', "2024/07/21 22:14", "微信", "是"],
        ["PD-9", "1002", "6元", "2024-07-22 07:05:09", "支付宝", "否"],
    ], "gbk")
    write_csv(tmp_path / "聊天记录.csv", [["案件编号", "发言时间", "发送方", "聊天内容"],
                                          ["PD-9", "2024-07-21 22:01", "本人", "等下我妈查作业了"]], "gbk")
    [loaded] = load_cases(tmp_path)
    assert loaded.account.real_name.status is RealNameStatus.verified
    assert loaded.account.account_id == "1001"
    assert loaded.claim.disputed_recharge_ids == ["1001", "1002", "1003"]
    assert [(r.id, str(r.amount), r.channel, r.disputed) for r in loaded.recharges] == [
        ("1001", "1280.00", Channel.wechat, True), ("1002", "6", Channel.alipay, False)]
    assert loaded.recharges[0].at.isoformat() == "2024-07-21T22:14:00+08:00"
    assert loaded.chats[0].text == "等下我妈查作业了"


def test_a_utf8_bom_csv_table_set_with_english_headers_loads(tmp_path):
    write_csv(tmp_path / "cases.csv", [["Case ID", "timezone", "Label Minor Payer"], ["E1", "Asia/Urumqi", "yes"]],
              "utf-8-sig")
    write_csv(tmp_path / "sessions.csv", [["case_id", "start", "end", "device_id"],
                                          ["E1", "2024-07-21 21:30", "2024-07-21 23:05", "dev-A"]], "utf-8-sig")
    [loaded] = load_cases(tmp_path)
    assert loaded.timezone == "Asia/Urumqi" and loaded.label.minor_payer is True
    assert loaded.sessions[0].device_id == "dev-A"


def test_excel_serial_numbers_in_time_columns_become_times(tmp_path):
    write_csv(tmp_path / "cases.csv", [["case_id", "real_name_birth_date"], ["S", "40179"]], "utf-8")
    write_csv(tmp_path / "recharges.csv", [["case_id", "id", "at", "amount"], ["S", "20001", "45494.5", "30"]],
              "utf-8")
    [loaded] = load_cases(tmp_path)
    assert loaded.recharges[0].at.replace(tzinfo=None) == datetime(2024, 7, 21, 12, 0)
    assert loaded.account.real_name.birth_date.isoformat() == "2010-01-01"
    assert loaded.recharges[0].id == "20001"  # an id is never a date


def test_an_xlsx_workbook_with_chinese_sheets_numbers_and_dates_loads(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "案件信息"
    sheet.append(["案件编号", "注册时间", "游戏账号"])
    sheet.append([1001, 45494.25, 88231])
    orders = workbook.create_sheet("订单")
    orders.append(["案件编号", "订单号", "金额(元)", "充值时间", "商品"])
    orders.append([1001, 1001, 64.8, datetime(2024, 7, 21, 22, 14, 5), 648])
    workbook.create_sheet("说明").append(["this sheet is ignored"])
    workbook.save(tmp_path / "cases.xlsx")
    [loaded] = load_cases(tmp_path / "cases.xlsx")
    assert loaded.case_id == "1001" and loaded.account.account_id == "88231"
    assert loaded.account.created_at.replace(tzinfo=None) == datetime(2024, 7, 21, 6, 0)
    recharge = loaded.recharges[0]
    assert (recharge.id, str(recharge.amount), recharge.item) == ("1001", "64.8", "648")
    assert recharge.at.isoformat() == "2024-07-21T22:14:05+08:00"


def test_a_login_traces_sheet_becomes_sessions(tmp_path):
    write_csv(tmp_path / "cases.csv", [["case_id"], ["G"]], "utf-8")
    write_csv(tmp_path / "防沉迷记录.csv", [["case_id", "si", "bt", "ot", "ct"],
                                            ["G", "s1", "1", "1721568600", "2"], ["G", "s1", "0", "1721574300", "2"]],
              "utf-8")
    [loaded] = load_cases(tmp_path)
    [session] = loaded.sessions
    assert (session.start.hour, session.end.hour) == (21, 23)


def test_a_single_csv_file_is_a_cases_table(tmp_path):
    write_csv(tmp_path / "export.csv", [["工单号", "实名状态"], ["W1", "游客"]], "utf-8")
    assert next(load_cases(tmp_path / "export.csv")).account.real_name.status is RealNameStatus.guest


def test_written_table_sets_read_back_equal_and_text_never_becomes_a_formula(tmp_path):
    original = Case.model_validate(case("R1", chats=[{"at": "2024-07-21 22:01", "text": "=HYPERLINK(1)"}]))
    for target in [tmp_path / "set", tmp_path / "set.xlsx"]:
        write_table_set([original], target, chinese_headers=True)
        [back] = load_cases(target)
        assert back.model_dump() == original.model_dump()


# ------------------------------------------------------------------ errors


def test_bad_json_lines_are_reported_with_line_field_and_value_and_the_rest_load(tmp_path):
    path = tmp_path / "mixed.jsonl"
    bad = case("B")
    bad["recharges"].append({"id": "o2", "at": "2024-07-22", "amount": -5})
    path.write_text(jsonl(case("A")) + "{not json\n" + jsonl(bad, [1, 2], {"recharges": []}, case("C")),
                    encoding="utf-8")
    found = items(path)
    assert [c.case_id for c in found if isinstance(c, Case)] == ["A", "C"]
    by_line = {e.line: e for e in found if isinstance(e, CaseError)}
    assert set(by_line) == {2, 3, 4, 5}
    assert "not valid JSON" in by_line[2].message
    assert (by_line[3].case_id, by_line[3].field) == ("B", "recharges[1].amount")
    assert "greater than or equal to 0" in by_line[3].message and "(got -5)" in by_line[3].message
    assert str(by_line[3]).startswith(f"{path}:3: case B: recharges[1].amount: ")
    assert "JSON object" in by_line[4].message and "array" in by_line[4].message
    assert by_line[5].field == "case_id"


def test_a_bad_table_row_rejects_only_its_case_naming_sheet_row_and_header(tmp_path):
    write_csv(tmp_path / "cases.csv", [["案件编号"], ["OK"], ["BAD"]], "utf-8")
    write_csv(tmp_path / "recharges.csv", [["案件编号", "订单号", "金额", "充值时间"],
                                           ["OK", "1", "30", "2024-07-21 22:14"],
                                           ["BAD", "2", "30", "2024-07-21 22:14"],
                                           ["BAD", "3", "-30", "yesterday"]], "utf-8")
    found = items(tmp_path)
    assert [c.case_id for c in found if isinstance(c, Case)] == ["OK"]
    [error] = [e for e in found if isinstance(e, CaseError)]
    assert (error.sheet, error.row, error.case_id, error.field) == ("recharges", 4, "BAD", "充值时间")
    assert error.source.endswith("recharges.csv") and "'yesterday'" in error.message
    assert "recharges row 4 金额: Input should be greater than or equal to 0 (got '-30')" in error.message
    assert error.to_dict() == {"source": error.source, "row": 4, "sheet": "recharges", "field": "充值时间",
                               "case_id": "BAD", "error": error.message}


def test_rows_of_a_case_missing_from_the_cases_sheet_are_reported_once_with_the_first_row(tmp_path):
    write_csv(tmp_path / "cases.csv", [["case_id"], ["A"]], "utf-8")
    write_csv(tmp_path / "chats.csv", [["case_id", "text"], ["A", "hi"], ["Z", "a"], ["Z", "b"], ["", "c"]], "utf-8")
    found = errors(tmp_path)
    assert [(e.case_id, e.row, e.sheet) for e in found] == [(None, 5, "chats"), ("Z", 3, "chats")]
    assert "2 row(s)" in found[1].message


@pytest.mark.parametrize("form", ["jsonl", "table"])
def test_a_second_case_with_the_same_id_is_rejected_naming_the_first(tmp_path, form):
    if form == "jsonl":
        source = tmp_path / "dup.jsonl"
        source.write_text(jsonl(case("D"), case("E"), case("D")), encoding="utf-8")
        expected = "duplicate case_id, first at line 1"
    else:
        source = tmp_path
        write_csv(tmp_path / "cases.csv", [["case_id"], ["D"], ["E"], ["D"]], "utf-8")
        expected = "duplicate case_id, first at row 2"
    [error] = errors(source)
    assert error.case_id == "D" and error.message == expected


def test_error_messages_mask_id_numbers():
    bad = case("M", claim={"minor_id_number": 110105201001010018})
    [error] = errors(io.StringIO(jsonl(bad)))
    assert error.field == "claim.minor_id_number"
    assert "110105201001010018" not in str(error) and "1101**********0018" in str(error)


def test_a_line_over_the_size_limit_is_an_error_and_reading_goes_on(monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 200)
    text = jsonl(case("A"), case("HUGE", claim={"statement": "x" * 5000}), case("C"))
    found = items(io.StringIO(text))
    assert [getattr(x, "case_id", None) for x in found if isinstance(x, Case)] == ["A", "C"]
    [error] = [x for x in found if isinstance(x, CaseError)]
    assert error.line == 2 and "longer than 200 bytes" in error.message


@pytest.mark.parametrize("name, content, expected", [
    ("missing.json", None, "no such file"),
    ("empty.jsonl", b"", "empty"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "cannot read the workbook"),
    ("old.xls", b"\xd0\xcf\x11\xe0", ".xlsx"),
])
def test_unreadable_sources_raise_case_input_error(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CaseInputError) as raised:
        items(path)
    assert expected in str(raised.value) and raised.value.error.source == str(path)


def test_a_table_folder_without_a_cases_table_is_refused(tmp_path):
    write_csv(tmp_path / "recharges.csv", [["case_id", "at", "amount"]], "utf-8")
    with pytest.raises(CaseInputError, match="needs a cases table"):
        items(tmp_path)


def test_load_cases_raises_skips_or_reports_bad_cases():
    text = jsonl(case("A"), {"case_id": "B", "timezone": "Nowhere/City"}, case("C"))
    with pytest.raises(CaseInputError) as raised:
        list(load_cases(io.StringIO(text)))
    assert raised.value.error.case_id == "B" and raised.value.error.field == "timezone"
    assert [c.case_id for c in load_cases(io.StringIO(text), on_error="skip")] == ["A", "C"]
    seen = []
    assert len(list(load_cases(io.StringIO(text), on_error=seen.append))) == 2
    assert [e.line for e in seen] == [2]


def test_the_timezone_option_applies_to_cases_that_name_none():
    text = jsonl(case("A"), case("B", timezone="Asia/Urumqi"))
    assert [c.timezone for c in load_cases(io.StringIO(text), timezone="Asia/Hong_Kong")] == [
        "Asia/Hong_Kong", "Asia/Urumqi"]
    with pytest.raises(CaseInputError, match="unknown timezone"):
        read_cases(io.StringIO(text), timezone="Mars/Olympus")


@pytest.mark.parametrize(("zone", "start", "end", "loads"), [
    # A naive start is in the case's zone: 20:00 to 23:30 in Beijing, or to 19:00.
    ("Asia/Shanghai", "2024-07-21T20:00:00", "2024-07-21T21:00:00+05:30", True),
    ("Asia/Shanghai", "2024-07-21T20:00:00", "2024-07-21T11:00:00Z", False),
    # 20:00 in London (BST) is 19:00Z, so an end at 19:30Z is after it.
    ("Europe/London", "2024-07-21T20:00:00", "2024-07-21T19:30:00Z", True),
    ("Europe/London", "2024-07-21T20:00:00Z", "2024-07-21T20:30:00", False),
    ("Asia/Shanghai", "2024-07-21T20:00:00", "2024-07-21T19:59:59", False),
])
def test_a_session_with_a_naive_and_an_aware_time_is_compared_in_the_case_zone(zone, start, end, loads):
    text = jsonl({"case_id": "S-1", "timezone": zone, "sessions": [
        {"id": "s0", "start": "2024-07-21T08:00:00", "end": "2024-07-21T09:00:00"}, {"id": "s1", "start": start, "end": end}]})
    [item] = items(io.StringIO(text))
    if loads:
        assert isinstance(item, Case) and item.sessions[1].end > item.sessions[1].start
    else:
        assert isinstance(item, CaseError)
        assert item.field == "sessions[1]" and item.message.startswith("session ends before it starts")


def test_write_jsonl_reads_back_equal_without_duplicating_trace_sessions():
    original = Case.model_validate(case("W", login_traces=[{"si": "s", "bt": 1, "ot": 1721568600},
                                                           {"si": "s", "bt": 0, "ot": 1721574300}]))
    buffer = io.StringIO()
    assert write_jsonl([original], buffer) == 1
    [back] = load_cases(io.StringIO(buffer.getvalue()))
    assert back.model_dump() == original.model_dump() and len(back.sessions) == 1


# ------------------------------------------------------------------ headers.toml


@pytest.mark.parametrize("header", ["金额", "金额(元)", "金额（元）", " 实付金额 【元】", "AMOUNT", "Amount (CNY)"])
def test_header_matching_ignores_case_spaces_and_units(header):
    assert load_header_book().field_for("recharges", header) == "amount"


def test_an_office_header_file_that_gives_one_header_two_meanings_is_refused(tmp_path):
    path = tmp_path / "headers.toml"
    path.write_text('version = "2026.11.1"\n[sheets]\n[recharges]\nid = ["单号"]\nitem = ["单号（商品）"]\n',
                    encoding="utf-8")
    with pytest.raises(HeaderBookError, match="names both id and item"):
        load_header_book(path)
    path.write_text('version = "2026.11.1"\n[sheets]\n[recharges]\nprice = ["单价"]\n', encoding="utf-8")
    with pytest.raises(HeaderBookError, match="not a field"):
        load_header_book(path)


def test_normalised_headers_drop_full_width_forms():
    assert normalise_header("设备ＩＤ（IMEI）") == normalise_header("设备id") == "设备id"


# ------------------------------------------------------------------ never crashes

_FIELDS = ["case_id", "timezone", "recharges", "sessions", "chats", "login_traces", "account", "claim", "label",
           "at", "amount", "id", "start", "end", "text", "bt", "ot", "real_name", "status", "face_checks",
           "birth_date", "minor_birth_date", "disputed", "channel", "outcome", "verified_at", "created_at"]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["2024-07-21 22:14", "45494.5", "微信", "-1", "1e400", "2024-02-30"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_FIELDS) | st.text(max_size=4),
                                                                inner, max_size=6),
    max_leaves=25,
)


def _only_cases_or_errors(source) -> None:
    try:
        for item in read_cases(source):
            assert isinstance(item, (Case, CaseError))
    except CaseInputError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_a_stream_never_crash(data):
    _only_cases_or_errors(io.BytesIO(data))


@settings(max_examples=150, deadline=None)
@given(st.lists(_json_values, max_size=4))
def test_arbitrary_json_values_as_json_lines_and_arrays_never_crash(values):
    _only_cases_or_errors(io.StringIO("".join(json.dumps(v) + "\n" for v in values)))
    _only_cases_or_errors(io.StringIO(json.dumps(values, indent=1)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffix=st.sampled_from([".jsonl", ".json", ".csv"]),
       data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_arbitrary_files_never_crash(tmp_path, suffix, data):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    _only_cases_or_errors(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(["", "A", "case_id", "金额", "45494.5", "1e400", "-3", "是", '"', ",x"])
                         | st.text(max_size=6), max_size=5), max_size=6))
def test_arbitrary_csv_table_sets_never_crash(tmp_path, rows):
    text = "\n".join(",".join(row) for row in rows)
    (tmp_path / "cases.csv").write_text("case_id,timezone,real_name_birth_date\nA,,\n", encoding="utf-8")
    (tmp_path / "recharges.csv").write_text("case_id,at,amount\n" + text, encoding="utf-8", errors="surrogatepass")
    _only_cases_or_errors(tmp_path)


# ------------------------------------------------------------------ the parser agrees with json.loads

def _identical(a, b) -> bool:
    """Equal as JSON values and of the same Python types, keys in the same order, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_identical, a, b))
    if isinstance(a, float):
        return (a != a and b != b) or (a == b and str(a) == str(b))  # str tells -0.0 from 0.0
    return a == b


# Pieces of JSON and near-JSON: numbers at the edges of what a float or an int holds, escapes,
# surrogates, the non-standard constants json.loads accepts, and text it refuses.
_JSON_PIECES = st.sampled_from([
    "{", "}", "[", "]", ",", ":", " ", "\t", "\n", "\r", "\x0c", '"', '"a"', '"case_id"', "0", "-0", "-0.0", "1",
    "1.5", "1e400", "-1e400", "1e-400", "2.5e-324", "1.7976931348623157e308", "9223372036854775808",
    "18446744073709551616", "123456789012345678901234567890", "0.1", "1.", ".5", "01", "+1", "1E5", "1e",
    "NaN", "Infinity", "-Infinity", "nan", "+Infinity", "true", "false", "null", "True", '"\\ud800"',
    '"\\ud83d\\ude00"', '"\\udc00\\ud800"', '"\\u0000"', '"\\x41"', '"\\/"', '"\x1f"', '"\x7f"', '"微信"', "\ufeff",
    '"\\u00e9"', '"é"', "'a'",
])


def _read_as_text(raw: bytes, number: int):
    """What a line read as text gives: decoded (BOM, GB18030), then json.loads."""
    from assessor.io.jsonio import NOT_TEXT, _decode, parse_line

    try:
        text = _decode(raw, first=number == 1)
    except UnicodeDecodeError:
        return NOT_TEXT
    item = parse_line("in.jsonl", 2, text)  # a str line takes the general path; 2: the BOM is gone
    return item.message if isinstance(item, CaseError) else (None if item is None else item.payload)


_json_lines = (st.lists(_JSON_PIECES, max_size=14).map("".join)
               | st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                              lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.text(max_size=3), inner, max_size=4),
                              max_leaves=20).map(lambda v: json.dumps({"case_id": "A", "v": v}, ensure_ascii=False)))


@settings(max_examples=400, deadline=None)
@given(raw=_json_lines.map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=40)
       | _json_lines.map(lambda t: t.encode("gb18030", "replace")),
       number=st.sampled_from([1, 2]))
def test_a_json_line_is_read_to_exactly_what_json_loads_gives(raw, number):
    """The fast parser of byte lines must never read a line differently from decoding it and
    json.loads: same values and types, same refusals with the same message."""
    from assessor.io.jsonio import parse_line

    item = parse_line("in.jsonl", number, raw)
    expected = _read_as_text(raw, number)
    if isinstance(expected, str) or expected is None:
        got = item.message if isinstance(item, CaseError) else item
        assert got == expected
    else:
        assert not isinstance(item, CaseError) and _identical(item.payload, expected)


def test_deeply_nested_json_that_json_loads_reads_is_still_read(tmp_path):
    path = tmp_path / "deep.jsonl"  # deeper than pydantic-core's parser goes, not as deep as json.loads
    path.write_text('{"case_id": "A", "x": ' + "[" * 300 + "]" * 300 + "}\n", encoding="utf-8")
    [case] = items(path)
    assert isinstance(case, Case) and case.case_id == "A"
