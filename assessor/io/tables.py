"""Table sets: ``cases``, ``recharges``, ``sessions``, ``chats``, ``face_checks`` (+ ``login_traces``)
as CSV files in a folder or as sheets of one ``.xlsx`` workbook, with Chinese headers.

Rows are grouped by ``case_id``; a bad row rejects only its case, naming sheet and row.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assessor.io import CaseError, validation_error
from assessor.schema import Case

LIST_SHEETS = ("recharges", "sessions", "chats", "face_checks", "login_traces")
TIME_FIELDS = {"at", "start", "end", "ot", "created_at", "verified_at", "account_created_at",
               "real_name_verified_at", "claim_minor_birth_date", "real_name_birth_date"}
_UNITS = re.compile(r"[（(][^）)]*[）)]")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _norm(header: str) -> str:
    return _UNITS.sub("", str(header)).strip().lower().replace(" ", "").replace("_", "")


@cache
def header_map() -> dict[str, Any]:
    """sheet -> {normalised header -> field}, and sheet aliases, from data/headers.toml."""
    data = tomllib.loads((resources.files("assessor") / "data" / "headers.toml").read_text(encoding="utf-8"))
    sheets = {_norm(alias): name for name, aliases in data["sheets"].items() for alias in [name, *aliases]}
    columns: dict[str, dict[str, str]] = {}
    for sheet in ("cases", *LIST_SHEETS):
        mapping = {_norm(f): f for f in data.get(sheet, {})}
        for field, aliases in {**data["common"], **data.get(sheet, {})}.items():
            mapping[_norm(field)] = field
            for alias in aliases:
                mapping[_norm(alias)] = field
        columns[sheet] = mapping
    return {"sheets": sheets, "columns": columns}


def sheet_name(name: str) -> str | None:
    return header_map()["sheets"].get(_norm(Path(name).stem if name.lower().endswith(".csv") else name))


def is_table_folder(folder: Path) -> bool:
    return any(sheet_name(p.name) == "cases" for p in folder.glob("*.csv"))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _csv_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(io.StringIO(_decode(path.read_bytes())))
    header = next(reader, [])
    return header, reader


def read_csv_folder(folder: Path, *, timezone: str | None = None) -> Iterator[Case | CaseError]:
    sheets: dict[str, tuple[str, list[str], Iterable[list[Any]]]] = {}
    for path in sorted(folder.glob("*.csv")):
        name = sheet_name(path.name)
        if name:
            header, rows = _csv_rows(path)
            sheets[name] = (str(path), header, rows)
    yield from _assemble(sheets, timezone=timezone)


def read_workbook(path: Path, *, timezone: str | None = None) -> Iterator[Case | CaseError]:
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that isn't a workbook
        yield CaseError(str(path), f"not a readable .xlsx workbook ({type(exc).__name__})")
        return
    try:
        sheets = {}
        for ws in book.worksheets:
            name = sheet_name(ws.title)
            if name:
                rows = ws.iter_rows(values_only=True)
                header = [str(h) if h is not None else "" for h in next(rows, ())]
                sheets[name] = (f"{path}", header, rows)
        yield from _assemble(sheets, timezone=timezone, workbook=True)
    finally:
        book.close()


def _cell(value: Any, field: str, workbook: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if field in TIME_FIELDS and isinstance(value, (int, float)) and 20000 <= value <= 80000:
        return _EXCEL_EPOCH + timedelta(days=float(value))  # an Excel serial date
    if isinstance(value, float) and value.is_integer() and field in {"id", "case_id", "device_id"}:
        return str(int(value))
    return value


def _assemble(sheets: dict, *, timezone: str | None, workbook: bool = False) -> Iterator[Case | CaseError]:
    if "cases" not in sheets:
        source = next(iter(sheets.values()))[0] if sheets else "table set"
        yield CaseError(source, "the table set has no `cases` table (案件)")
        return
    columns = header_map()["columns"]
    children: dict[str, dict[str, list[tuple[int, dict]]]] = defaultdict(lambda: defaultdict(list))
    orphans: list[CaseError] = []
    for sheet in LIST_SHEETS:
        if sheet not in sheets:
            continue
        source, header, rows = sheets[sheet]
        fields = [columns[sheet].get(_norm(h), _norm(h)) for h in header]
        for row_no, row in enumerate(rows, start=2):
            record = {f: _cell(v, f, workbook) for f, v in zip(fields, row, strict=False) if f}
            if not any(v is not None for v in record.values()):
                continue
            case_id = record.pop("case_id", None)
            if case_id is None:
                orphans.append(CaseError(source, "row has no case_id", row=row_no, sheet=sheet))
                continue
            children[str(case_id)][sheet].append((row_no, record))
    source, header, rows = sheets["cases"]
    fields = [columns["cases"].get(_norm(h), _norm(h)) for h in header]
    seen: dict[str, int] = {}
    for row_no, row in enumerate(rows, start=2):
        flat = {f: _cell(v, f, workbook) for f, v in zip(fields, row, strict=False) if f}
        if not any(v is not None for v in flat.values()):
            continue
        case_id = flat.get("case_id")
        if case_id is None:
            yield CaseError(source, "row has no case_id", row=row_no, sheet="cases")
            continue
        case_id = str(case_id)
        if case_id in seen:
            yield CaseError(source, f"duplicate case_id, first at row {seen[case_id]}", row=row_no,
                            sheet="cases", case_id=case_id)
            continue
        seen[case_id] = row_no
        data = _nest(flat)
        if timezone and not data.get("timezone"):
            data["timezone"] = timezone
        rows_of = children.pop(case_id, {})
        for sheet, records in rows_of.items():
            target = data.setdefault("account", {}) if sheet == "face_checks" else data
            target[sheet] = [r for _, r in records]
        try:
            yield Case.model_validate(data)
        except ValidationError as exc:
            yield _locate(exc, sheets, rows_of, row_no, case_id)
    yield from orphans
    for case_id, rows_of in children.items():
        for sheet, records in rows_of.items():
            yield CaseError(sheets[sheet][0], "case_id not found in the cases table", row=records[0][0],
                            sheet=sheet, case_id=case_id)


def _locate(exc: ValidationError, sheets, rows_of, case_row: int, case_id: str) -> CaseError:
    """Point at the sheet and row of the first bad record."""
    loc = exc.errors(include_url=False)[0]["loc"]
    parts = [p for p in loc if p != "account"]
    if len(parts) >= 2 and parts[0] in LIST_SHEETS and isinstance(parts[1], int):
        sheet = parts[0]
        row = rows_of[sheet][parts[1]][0]
        return validation_error(exc, sheets[sheet][0], row=row, sheet=sheet, case_id=case_id)
    return validation_error(exc, sheets["cases"][0], row=case_row, sheet="cases", case_id=case_id)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """cases-table columns (claim_*, account_*, real_name_*, label_*) -> the nested case object."""
    data: dict[str, Any] = {}
    claim, account, real_name, label = {}, {}, {}, {}
    for key, value in flat.items():
        if value is None:
            continue
        if key.startswith("claim_"):
            claim[key[6:]] = value
        elif key.startswith("real_name_"):
            real_name[key[10:]] = value
        elif key == "account_id":
            account["account_id"] = value
        elif key.startswith("account_"):
            account[key[8:]] = value
        elif key.startswith("label_"):
            label[key[6:]] = value
        else:
            data[key] = value
    if isinstance(claim.get("disputed_recharge_ids"), str):
        claim["disputed_recharge_ids"] = [s for s in re.split(r"[,，、;；\s]+", claim["disputed_recharge_ids"]) if s]
    if real_name:
        account["real_name"] = real_name
    for name, part in (("claim", claim), ("account", account), ("label", label)):
        if part:
            data[name] = part
    return data


def write_table_set(cases: Iterable[Case], path: str | Path, *, encoding: str = "utf-8-sig",
                    chinese_headers: bool = False) -> None:
    """Write cases as a folder of CSV files, or as an .xlsx workbook when ``path`` ends in .xlsx."""
    tables = _flatten(cases)
    names = header_map()
    zh_headers = {}
    if chinese_headers:
        data = tomllib.loads((resources.files("assessor") / "data" / "headers.toml").read_text(encoding="utf-8"))
        for sheet in tables:
            zh_headers[sheet] = {f: aliases[0] for f, aliases in {**data["common"], **data.get(sheet, {})}.items()
                                 if aliases}
    del names
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        for sheet, (header, rows) in tables.items():
            ws = book.create_sheet(sheet)
            ws.append([zh_headers.get(sheet, {}).get(h, h) for h in header])
            for row in rows:
                ws.append(row)
        book.save(path)
        return
    path.mkdir(parents=True, exist_ok=True)
    for sheet, (header, rows) in tables.items():
        with open(path / f"{sheet}.csv", "w", encoding=encoding, errors="strict", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([zh_headers.get(sheet, {}).get(h, h) for h in header])
            writer.writerows(rows)


def _flatten(cases: Iterable[Case]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    out: dict[str, tuple[list[str], list[list[Any]]]] = {}
    collected: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        dump = case.model_dump(mode="json", exclude_none=True)
        row: dict[str, Any] = {"case_id": dump["case_id"], "timezone": dump.get("timezone")}
        for key, value in dump.get("claim", {}).items():
            row[f"claim_{key}"] = ",".join(value) if isinstance(value, list) else value
        account = dump.get("account", {})
        for key, value in account.items():
            if key == "real_name":
                row.update({f"real_name_{k}": v for k, v in value.items()})
            elif key == "face_checks":
                collected["face_checks"].extend({"case_id": dump["case_id"], **r} for r in value)
            elif key == "account_id":
                row["account_id"] = value
            else:
                row[f"account_{key}"] = value
        for key, value in dump.get("label", {}).items():
            row[f"label_{key}"] = value
        collected["cases"].append(row)
        trace_ids = {f"trace-{t.get('si')}" for t in dump.get("login_traces", [])}
        for sheet in ("recharges", "sessions", "chats", "login_traces"):
            for record in dump.get(sheet, []):
                if sheet == "sessions" and record.get("id") in trace_ids:
                    continue  # rebuilt from the login traces on loading
                collected[sheet].append({"case_id": dump["case_id"], **record})
    for sheet, records in collected.items():
        header: list[str] = []
        for record in records:
            header.extend(k for k in record if k not in header)
        out[sheet] = (header, [[_plain(r.get(h)) for h in header] for r in records])
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
