"""Table sets: CSV files in a folder, or sheets of one .xlsx workbook, grouped into cases.

The `cases` sheet has one row per case; every other sheet's rows carry a case id and are
attached to that case. Cells are tidied for what spreadsheets do to data (numbers for
ids, Excel serial dates, "¥1,280.00") before the case format validates them; value words
such as 微信 or 已认证 are left to the schema's own aliases.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from assessor.io import limits
from assessor.io.candidate import Candidate, case_key
from assessor.io.errors import CaseError, CaseInputError, dotted
from assessor.io.headers import SHEET_LISTS, HeaderBook, case_column, case_path
from assessor.schema import parse_timestamp

# Excel stores dates as days since 1899-12-30; 20000..80000 is 1954..2119.
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20000, 80000)

# How each field's cells are tidied; unlisted fields are text.
_KINDS: dict[str, dict[str, str]] = {
    "cases": {"account_created_at": "time", "real_name_verified_at": "time", "claim_minor_birth_date": "date",
              "real_name_birth_date": "date", "claim_disputed_recharge_ids": "list", "label_minor_payer": "raw"},
    "recharges": {"at": "time", "amount": "amount", "disputed": "raw", "by_minor": "raw"},
    "sessions": {"start": "time", "end": "time"},
    "chats": {"at": "time"},
    "face_checks": {"at": "time"},
    "login_traces": {"bt": "int", "ct": "int", "ot": "raw"},
}
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_MONEY_NOISE = re.compile(r"[¥￥,，\s]|元$|^RMB|^CNY", re.IGNORECASE)
_LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")
_DELIMITERS = (",", "\t", ";")


@dataclass(slots=True)
class Table:
    """One sheet: rows as (row number as a spreadsheet shows it, cells), header row included."""

    sheet: str
    source: str
    rows: Iterable[tuple[int, Sequence[Any]]]
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as written, once read


def csv_table(path: Path, sheet: str) -> Table:
    return Table(sheet, str(path), _csv_rows(path))


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    source = str(path)
    try:
        if path.stat().st_size > limits.MAX_DOCUMENT_BYTES:
            raise CaseInputError(CaseError(source, f"larger than {limits.MAX_DOCUMENT_BYTES} bytes"))
        data = path.read_bytes()
    except OSError as exc:
        raise CaseInputError(CaseError(source, f"cannot read: {exc.strerror or exc}")) from None
    text = decode_table_text(data, source)
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    number = 0
    # The csv module refuses cells over 128 KiB; the file's size is bounded already, and an
    # over-long text is better rejected with its case (limits.MAX_TEXT_CHARS) than the whole table.
    field_limit = csv.field_size_limit(max(csv.field_size_limit(), min(len(text) + 1, sys.maxsize)))
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            yield number, cells
    except csv.Error as exc:
        reason = str(exc)
        if "field larger than field limit" in reason:
            reason = f"a cell is longer than {csv.field_size_limit():,} characters"
        raise CaseInputError(CaseError(source, f"not a readable CSV table: {reason}", row=number + 1)) from None
    finally:
        csv.field_size_limit(field_limit)


def decode_table_text(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), else GB18030 (which covers GBK); never asks."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CaseInputError(CaseError(source, "not UTF-8 or GB18030/GBK text"))


def workbook_tables(workbook: Any, path: Path, book: HeaderBook) -> dict[str, Table]:
    """The workbook's sheets that name a table of the set; other sheets are ignored."""
    tables: dict[str, Table] = {}
    titles: dict[str, str] = {}
    for title in workbook.sheetnames:
        sheet = book.sheet_for(title)
        if sheet is None:
            continue
        if sheet in tables:
            raise CaseInputError(CaseError(str(path), f"two sheets hold {sheet}: {titles[sheet]!r} and {title!r}"))
        titles[sheet] = title
        tables[sheet] = Table(sheet, str(path), _sheet_rows(workbook[title], str(path), title))
    return tables


def _sheet_rows(worksheet: Any, source: str, title: str) -> Iterator[tuple[int, Sequence[Any]]]:
    """A sheet's rows, bounded: the size a sheet declares is ignored (a 2 KB file may claim a
    billion rows, or every column up to XFD). Rows are read up to ``limits.MAX_TABLE_ROWS``; a
    value in the next row refuses the sheet; columns past ``limits.MAX_TABLE_COLUMNS`` are not read."""
    worksheet.reset_dimensions()
    limit = limits.MAX_TABLE_ROWS
    width = limits.MAX_TABLE_COLUMNS
    for number, cells in enumerate(worksheet.iter_rows(min_row=1, max_row=limit + 1, values_only=True), start=1):
        if number > limit:
            if not all(_blank(cell) for cell in cells[:width]):
                raise CaseInputError(CaseError(source, f"the sheet has more than {limit:,} rows "
                                                       "(assessor.io.limits.MAX_TABLE_ROWS)", sheet=title, row=number))
            return
        yield number, cells[:width]


def read_table_set(tables: dict[str, Table], book: HeaderBook) -> Iterator[Candidate | CaseError]:
    """Cases in `cases` order, each with its rows from the other sheets, then orphan-row errors."""
    cases_table = tables["cases"]
    order: list[Candidate] = []
    provenance: dict[str, dict[str, list[int]]] = {}
    candidates: dict[str, Candidate] = {}
    for number, record, stray in _records(cases_table, book):
        payload: dict[str, Any] = {}
        for column, value in record.items():
            _put(payload, case_path(column), value)
        candidate = Candidate(payload, cases_table.source, row=number, sheet="cases")
        if stray is not None:
            candidate.problems.append(_stray_error(cases_table, number, stray))
        key = case_key(payload.get("case_id"))
        if key is not None and key not in candidates:
            candidates[key] = candidate
            provenance[key] = {}
            candidate.locate = _locator(candidate, tables, provenance[key])
        order.append(candidate)
    problems: list[CaseError] = []
    for sheet, table in tables.items():
        if sheet != "cases":
            problems.extend(_attach(table, book, candidates, provenance))
    yield from order
    yield from problems


def _stray_error(table: Table, row: int, column: int) -> CaseError:
    """A row with a value where the header has none: its cells may have slid (an unquoted comma)."""
    return CaseError(table.source, f"row has a value in column {column + 1}, which has no header "
                                   f"(the header row names {len(table.headers)} columns): a comma or tab inside "
                                   "an unquoted value? The case is not scored until the row is mended",
                     row=row, sheet=table.sheet)


def _attach(table: Table, book: HeaderBook, candidates: dict[str, Candidate],
            provenance: dict[str, dict[str, list[int]]]) -> list[CaseError]:
    """Append each row to its case; report rows without a known case once per case id."""
    path = SHEET_LISTS[table.sheet]
    orphans: dict[str, list[int]] = {}  # case id -> [first row, rows]
    missing: list[int] = []
    for number, record, stray in _records(table, book):
        key = case_key(record.pop("case_id", None))
        candidate = candidates.get(key) if key is not None else None
        records = _list_at(candidate.payload, path) if candidate is not None else None
        if key is None:
            missing.append(number)
        elif records is None:
            orphans.setdefault(key, [number, 0])[1] += 1
        else:
            records.append(record)
            provenance[key].setdefault(table.sheet, []).append(number)
            if stray is not None:
                candidate.problems.append(_stray_error(table, number, stray))
    id_header = table.headers.get("case_id", "case_id")
    errors = [
        CaseError(table.source, f"case_id is not in the cases sheet; {count} row(s) ignored", row=first,
                  sheet=table.sheet, case_id=key, field=id_header)
        for key, (first, count) in orphans.items()
    ]
    if missing:
        errors.insert(0, CaseError(table.source, f"case_id is missing; {len(missing)} row(s) ignored",
                                   row=missing[0], sheet=table.sheet, field=id_header))
    return errors


def _put(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = payload
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):  # a stray column named like a case part: let validation say so
            return
    node[path[-1]] = value


def _list_at(payload: dict[str, Any], path: tuple[str, ...]) -> list[Any] | None:
    node: Any = payload
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None
    records = node.setdefault(path[-1], [])
    return records if isinstance(records, list) else None


def _locator(candidate: Candidate, tables: dict[str, Table], rows: dict[str, list[int]]):
    """Where a validation problem came from: the sheet and row of the record, and its column header."""

    def locate(loc: tuple[Any, ...]) -> dict[str, Any]:
        for sheet, path in SHEET_LISTS.items():
            n = len(path)
            if loc[:n] == path and len(loc) > n and isinstance(loc[n], int) and sheet in tables:
                numbers = rows.get(sheet, [])
                if loc[n] < len(numbers):
                    rest = loc[n + 1:]
                    header = tables[sheet].headers.get(rest[0]) if rest and isinstance(rest[0], str) else None
                    return {"source": tables[sheet].source, "sheet": sheet, "row": numbers[loc[n]],
                            "field": header or dotted(rest) or None}
        headers = tables["cases"].headers
        for end in range(len(loc), 0, -1):
            column = case_column(tuple(str(part) for part in loc[:end]))
            if column in headers:
                return {"field": headers[column] + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[end:])}
        return {"field": dotted(loc) or None}

    return locate


def _records(table: Table, book: HeaderBook) -> Iterator[tuple[int, dict[str, Any], int | None]]:
    """Non-blank rows as (row number, {field: tidied value}, first column holding a value but no header).

    Fills ``table.headers`` from the header row. A row shorter than the header is read with
    blanks for its missing cells (exports drop trailing empty cells); a value under no header
    is reported, because it usually means the row's cells slid.
    """
    columns: list[tuple[int, str, str]] | None = None
    unheaded: list[int] = []
    width = 0
    for number, cells in table.rows:
        if all(_blank(cell) for cell in cells):
            continue
        if columns is None:
            columns = _columns(table, cells, book)
            width = len(cells)
            unheaded = [index for index, cell in enumerate(cells) if _blank(cell)]
            continue
        record: dict[str, Any] = {}
        for index, name, kind in columns:
            if index < len(cells):
                value = tidy(cells[index], kind)
                if value is not None:
                    record[name] = value
        stray = next((i for i in unheaded if i < len(cells) and not _blank(cells[i])), None)
        if stray is None and len(cells) > width:
            stray = next((i for i in range(width, len(cells)) if not _blank(cells[i])), None)
        yield number, record, stray


def _columns(table: Table, cells: Sequence[Any], book: HeaderBook) -> list[tuple[int, str, str]]:
    """(index, field or extra name, kind) per non-blank header; a second column for a field is extra."""
    kinds = _KINDS.get(table.sheet, {})
    columns = []
    for index, cell in enumerate(cells):
        if _blank(cell):
            continue
        header = tidy(cell, "text")
        name = book.field_for(table.sheet, header) or header
        if name in table.headers:
            name = header
            if name in table.headers:
                continue
        table.headers[name] = header
        columns.append((index, name, kinds.get(name, "text")))
    return columns


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def tidy(value: Any, kind: str) -> Any:
    """One cell as the case format wants it; None for a blank cell."""
    if _blank(value):
        return None
    if isinstance(value, str):
        value = value.strip()
    if kind == "time":
        return _time(value)
    if kind == "date":
        return _date(value)
    if kind == "amount":
        return _amount(value)
    if kind == "int":
        number = _number(value)
        return int(number) if number is not None and number.is_integer() else value
    if kind == "list":
        items = [item.strip() for item in _LIST_SEPARATORS.split(_text(value)) if item.strip()]
        return items or None
    if kind == "raw":
        return value
    return _text(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value) and len(value) < 40:
        return float(value)
    return None


def _excel_serial(value: Any) -> datetime | None:
    number = _number(value)
    if number is None or not EXCEL_SERIAL_RANGE[0] <= number <= EXCEL_SERIAL_RANGE[1]:
        return None
    return EXCEL_EPOCH + timedelta(seconds=round(number * 86400))


def _time(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return _excel_serial(value) or value


def _date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    serial = _excel_serial(value)
    if serial is not None:
        return serial.date()
    if isinstance(value, str) and _number(value) is None:
        try:
            parsed = parse_timestamp(value)
        except (ValueError, OverflowError):
            return value
        if isinstance(parsed, datetime) and parsed.tzinfo is None and parsed.time() == datetime.min.time():
            return parsed.date()
    return value


def _amount(value: Any) -> Any:
    if isinstance(value, str):
        cleaned = _MONEY_NOISE.sub("", value)
        return cleaned if _NUMBER.match(cleaned) else value
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
