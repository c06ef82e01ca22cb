"""Writing cases as a table set: a folder of CSV files, or one .xlsx workbook.

What is written reads back to equal cases. Times are written as local wall-clock time in
the case's timezone (the `timezone` column says which), as offices' exports do; login
trace times stay unix seconds, as the anti-addiction system reports them.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from assessor.io.dump import case_payload
from assessor.io.headers import (
    SHEET_FIELDS,
    SHEET_LISTS,
    SHEETS,
    HeaderBook,
    case_column,
    default_header_book,
)
from assessor.schema import (
    CHANNEL_ALIASES,
    FACE_MATCH_ALIASES,
    FACE_OUTCOME_ALIASES,
    HOLDER_ALIASES,
    RECHARGE_STATUS_ALIASES,
    RELATION_ALIASES,
    SPEAKER_ALIASES,
    STATUS_ALIASES,
    Case,
)

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Value words the schema already understands; a Chinese table set uses them (微信, 已认证, ...).
_VALUE_WORDS: dict[tuple[str, str], dict[str, str]] = {
    ("recharges", "channel"): CHANNEL_ALIASES,
    ("recharges", "status"): RECHARGE_STATUS_ALIASES,
    ("cases", "real_name_status"): STATUS_ALIASES,
    ("cases", "real_name_holder"): HOLDER_ALIASES,
    ("cases", "claim_relation"): RELATION_ALIASES,
    ("face_checks", "outcome"): FACE_OUTCOME_ALIASES,
    ("face_checks", "matched"): FACE_MATCH_ALIASES,
    ("chats", "speaker"): SPEAKER_ALIASES,
}
_CHINESE_WORD = {
    key: {code: word for word, code in reversed(aliases.items()) if _CJK.search(word)}
    for key, aliases in _VALUE_WORDS.items()
}
_CASE_PARTS = {"format", "claim", "account", "label", *(path[0] for path in SHEET_LISTS.values())}


def write_table_set(cases: Iterable[Case], path: str | Path, *, encoding: str = "utf-8-sig",
                    chinese_headers: bool = False, book: HeaderBook | None = None) -> int:
    """Write cases as a table set; ``path`` ending in .xlsx makes a workbook, else a folder of CSVs.

    ``chinese_headers`` writes a Chinese office export: Chinese headers, sheet titles and value
    words (微信, 已认证, 是/否). CSV file names stay English (cases.csv, ...) so they travel well.
    ``encoding`` applies to CSV files (e.g. "gbk" for the exports of many Chinese systems).
    Every sheet is written, empty ones with their header only. Returns the number of cases.
    """
    book = book or default_header_book()
    rows: dict[str, list[dict[str, Any]]] = {sheet: [] for sheet in SHEETS}
    count = 0
    for case in cases:
        _add_case(case, rows, chinese_headers)
        count += 1
    tables = {sheet: _table(sheet, records, book, chinese_headers) for sheet, records in rows.items()}
    target = Path(path)
    if target.suffix.lower() in WORKBOOK_SUFFIXES:
        _write_workbook(tables, target, book, chinese_headers)
    else:
        target.mkdir(parents=True, exist_ok=True)
        for sheet, (header, body) in tables.items():
            with open(target / f"{sheet}.csv", "w", encoding=encoding, newline="") as stream:
                writer = csv.writer(stream)
                writer.writerow(header)
                writer.writerows([_csv_text(value) for value in row] for row in body)
    return count


def _add_case(case: Case, rows: dict[str, list[dict[str, Any]]], chinese: bool) -> None:
    data = case_payload(case, mode="python")
    tz = ZoneInfo(case.timezone)
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("claim", "label") and isinstance(value, dict):
            flat.update({case_column((key, k)): v for k, v in value.items()})
        elif key == "account" and isinstance(value, dict):
            for k, v in value.items():
                if k == "real_name" and isinstance(v, dict):
                    flat.update({case_column(("account", "real_name", k2)): v2 for k2, v2 in v.items()})
                elif k != "face_checks":
                    flat[case_column(("account", k))] = v
        elif key not in _CASE_PARTS:
            flat[key] = value
    rows["cases"].append({k: _value("cases", k, v, tz, chinese) for k, v in flat.items()})
    for sheet, path in SHEET_LISTS.items():
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        for record in node or []:
            row = {"case_id": case.case_id}
            row.update({k: _value(sheet, k, v, tz, chinese) for k, v in record.items()})
            rows[sheet].append(row)


def _value(sheet: str, field: str, value: Any, tz: ZoneInfo, chinese: bool) -> Any:
    """A cell value: local naive times, plain numbers, words for enums and booleans."""
    if isinstance(value, Enum):
        code = str(value.value)
        return _CHINESE_WORD.get((sheet, field), {}).get(code, code) if chinese else code
    if isinstance(value, bool):
        return ("是" if value else "否") if chinese else value
    if isinstance(value, datetime):
        if sheet == "login_traces" and field == "ot":
            seconds = value.timestamp()
            return int(seconds) if seconds.is_integer() else seconds
        return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, list) and field == "claim_disputed_recharge_ids":
        return ",".join(str(item) for item in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _table(sheet: str, records: list[dict[str, Any]], book: HeaderBook, chinese: bool) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: the sheet's fields in model order, then extra fields as first seen."""
    columns = list(SHEET_FIELDS[sheet])
    known = set(columns)
    for record in records:
        for key in record:
            if key not in known:
                known.add(key)
                columns.append(key)
    fields = set(SHEET_FIELDS[sheet])
    header = [book.header(sheet, name, chinese) if name in fields else name for name in columns]
    return header, [[record.get(name) for name in columns] for record in records]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_workbook(tables: dict[str, tuple[list[str], list[list[Any]]]], path: Path, book: HeaderBook,
                    chinese: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils.exceptions import IllegalCharacterError

    workbook = Workbook(write_only=True)
    for sheet, (header, body) in tables.items():
        worksheet = workbook.create_sheet(book.sheet_title(sheet, chinese))
        worksheet.append(header)
        for number, row in enumerate(body, start=2):
            cells = []
            for value in row:
                try:
                    cell = WriteOnlyCell(worksheet, value=value)
                except IllegalCharacterError:
                    raise ValueError(f"{sheet} row {number}: a value has control characters a workbook cannot "
                                     "hold; write a CSV table set instead") from None
                if isinstance(value, str) and cell.data_type == "f":
                    cell.data_type = "s"  # text such as "=)" in a chat is not a formula
                cells.append(cell)
            worksheet.append(cells)
    workbook.save(path)
