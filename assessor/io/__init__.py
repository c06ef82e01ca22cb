"""Loading cases from every input form, lazily, with one typed error per bad case.

``read_cases(source)`` yields ``Case`` or ``CaseError`` items; ``load_cases(source)`` yields
only cases and routes errors to ``on_error``. Nothing here raises anything but
:class:`CaseInputError` for bad user input.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError

from assessor.schema import Case

MAX_RECORD_BYTES = 64 * 1024 * 1024  # a single JSON document or line larger than this is rejected
TABLE_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass(frozen=True, slots=True)
class CaseError:
    """One rejected case: where it was, which field, and what was wrong. Not an exception."""

    source: str
    message: str
    line: int | None = None
    row: int | None = None
    sheet: str | None = None
    case_id: str | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v is not None and k != "message"}
        data["error"] = self.message
        return data

    def __str__(self) -> str:
        where = self.source
        if self.sheet:
            where += f"[{self.sheet}]"
        if self.line is not None:
            where += f":{self.line}"
        if self.row is not None:
            where += f": row {self.row}"
        parts = [where]
        if self.case_id:
            parts.append(f"case {self.case_id}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts) + f": {self.message}"


class CaseInputError(ValueError):
    """The only exception the loaders raise for bad input; ``.error`` says where and why."""

    def __init__(self, error: CaseError):
        super().__init__(str(error))
        self.error = error


def _mask_value(value: Any) -> str:
    from assessor.privacy import scrub

    text = scrub(repr(value)) or ""
    return text if len(text) <= 80 else text[:77] + "..."


def validation_error(exc: ValidationError, source: str, *, line: int | None = None, row: int | None = None,
                     sheet: str | None = None, case_id: str | None = None) -> CaseError:
    """Turn pydantic's first error into a CaseError with a dotted field path."""
    first = exc.errors(include_url=False)[0]
    path = ""
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = first["msg"]
    if "input" in first and first["type"] != "missing":
        message += f" (got {_mask_value(first['input'])})"
    return CaseError(source, message, line=line, row=row, sheet=sheet, case_id=case_id, field=path or None)


def case_from_dict(data: Any, source: str, *, line: int | None = None, timezone: str | None = None,
                   seen: dict[str, str] | None = None) -> Case | CaseError:
    """Validate one case object; duplicates of an earlier case_id in the same input are rejected."""
    if not isinstance(data, dict):
        return CaseError(source, f"a case must be a JSON object, not {type(data).__name__}", line=line)
    case_id = data.get("case_id")
    if timezone and not data.get("timezone"):
        data = {**data, "timezone": timezone}
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        return validation_error(exc, source, line=line, case_id=str(case_id) if case_id is not None else None)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        return CaseError(source, f"invalid case: {exc}", line=line,
                         case_id=str(case_id) if case_id is not None else None)
    if seen is not None:
        where = f"line {line}" if line else source
        if case.case_id in seen:
            return CaseError(source, f"duplicate case_id, first at {seen[case.case_id]}", line=line,
                             case_id=case.case_id)
        seen[case.case_id] = where
    return case


def read_cases(source: str | os.PathLike | IO, *, timezone: str | None = None) -> Iterator[Case | CaseError]:
    """Yield every case of any input form, or a CaseError in its place."""
    from assessor.io import json_source, tables

    if not isinstance(source, (str, os.PathLike)):
        yield from json_source.read_stream(source, "<stream>", timezone=timezone)
        return
    if str(source) == "-":
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else io.BytesIO(sys.stdin.read().encode())
        yield from json_source.read_stream(stream, "<stdin>", timezone=timezone)
        return
    path = Path(source)
    if not path.exists():
        yield CaseError(str(path), "no such file or folder")
        return
    if path.is_dir():
        if tables.is_table_folder(path):
            yield from tables.read_csv_folder(path, timezone=timezone)
        else:
            yield from json_source.read_folder(path, timezone=timezone)
        return
    if path.suffix.lower() in TABLE_SUFFIXES:
        yield from tables.read_workbook(path, timezone=timezone)
        return
    try:
        with open(path, "rb") as stream:
            yield from json_source.read_stream(stream, str(path), timezone=timezone)
    except OSError as exc:
        yield CaseError(str(path), f"cannot read file: {exc.strerror or exc}")


def load_cases(source: str | os.PathLike | IO, *,
               on_error: Literal["raise", "skip"] | Callable[[CaseError], None] = "raise",
               timezone: str | None = None) -> Iterator[Case]:
    """Yield the valid cases of any input form, lazily.

    ``on_error``: ``"raise"`` raises :class:`CaseInputError` at the first bad case, ``"skip"``
    drops bad cases, a callable receives each :class:`CaseError` and loading goes on.

    >>> from assessor import load_cases
    >>> [c.case_id for c in load_cases("sample_data/cases")][:2]
    ['SH-2023-0117', 'HB-2024-0309']
    """
    for item in read_cases(source, timezone=timezone):
        if isinstance(item, CaseError):
            if on_error == "raise":
                raise CaseInputError(item)
            if callable(on_error):
                on_error(item)
            continue
        yield item


def write_jsonl(cases, path_or_stream) -> int:
    """Write cases as JSON Lines (one case per line); returns how many."""
    n = 0

    def lines():
        nonlocal n
        for case in cases:
            n += 1
            yield case.model_dump_json(exclude_none=True) + "\n"

    if hasattr(path_or_stream, "write"):
        path_or_stream.writelines(lines())
    else:
        with open(path_or_stream, "w", encoding="utf-8") as fh:
            fh.writelines(lines())
    return n


__all__ = ["CaseError", "CaseInputError", "load_cases", "read_cases", "write_jsonl", "case_from_dict"]
