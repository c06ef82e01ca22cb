"""Sheet and column names of table sets, read from ``assessor/data/headers.toml``.

The table layout is derived from the case models, so a column can only name a real field;
the data file adds the headers people actually use (案件编号, 充值金额（元）, ...).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from assessor.schema import Account, Chat, Claim, FaceCheck, Label, LoginTrace, RealName, Recharge, Session

SHEETS = ("cases", "recharges", "sessions", "chats", "face_checks", "login_traces")
RECORD_SHEETS = SHEETS[1:]
# The list each record sheet fills, as a path in the case.
SHEET_LISTS: dict[str, tuple[str, ...]] = {
    "recharges": ("recharges",),
    "sessions": ("sessions",),
    "chats": ("chats",),
    "face_checks": ("account", "face_checks"),
    "login_traces": ("login_traces",),
}

# Flattened `cases` columns and the nested case path each one fills.
_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("claim_", ("claim",)),
    ("real_name_", ("account", "real_name")),
    ("account_", ("account",)),
    ("label_", ("label",)),
)
_ACCOUNT_OWN = [name for name in Account.model_fields if name not in {"real_name", "face_checks"}]
CASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "case_id": ("case_id",),
    "timezone": ("timezone",),
    **{f"claim_{name}": ("claim", name) for name in Claim.model_fields},
    **{(name if name.startswith("account_") else f"account_{name}"): ("account", name) for name in _ACCOUNT_OWN},
    **{f"real_name_{name}": ("account", "real_name", name) for name in RealName.model_fields},
    **{f"label_{name}": ("label", name) for name in Label.model_fields},
}
_COLUMN_OF_PATH = {path: column for column, path in CASE_COLUMNS.items()}

SHEET_FIELDS: dict[str, tuple[str, ...]] = {
    "cases": tuple(CASE_COLUMNS),
    "recharges": ("case_id", *Recharge.model_fields),
    "sessions": ("case_id", *Session.model_fields),
    "chats": ("case_id", *Chat.model_fields),
    "face_checks": ("case_id", *FaceCheck.model_fields),
    "login_traces": ("case_id", *LoginTrace.model_fields),
}

_BRACKETED = re.compile(r"[(\[【〔{<《][^)\]】〕}>》]*[)\]】〕}>》]")
_IGNORED = re.compile(r"[\s_\-.·:：/\\*'\"]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def normalise_header(text: Any) -> str:
    """The matching key of a header: NFKC, lower case, no brackets/units, spaces or punctuation."""
    key = unicodedata.normalize("NFKC", str(text)).lower()
    key = _BRACKETED.sub("", key)
    return _IGNORED.sub("", key)


def case_path(column: str) -> tuple[str, ...]:
    """Where a `cases` column goes in the case: ``real_name_status`` -> account.real_name.status.

    Unknown prefixed columns (``claim_note``) go into that part as extra fields; anything
    else stays a top-level extra field.
    """
    if column in CASE_COLUMNS:
        return CASE_COLUMNS[column]
    for prefix, parent in _PREFIXES:
        if column.startswith(prefix) and len(column) > len(prefix):
            return (*parent, column[len(prefix):])
    return (column,)


def case_column(path: tuple[str, ...]) -> str:
    """Inverse of :func:`case_path`: the flat `cases` column of a nested case field."""
    if path in _COLUMN_OF_PATH:
        return _COLUMN_OF_PATH[path]
    for prefix, parent in _PREFIXES:
        if path[: len(parent)] == parent and len(path) == len(parent) + 1:
            return prefix + path[-1]
    return ".".join(path)


class HeaderBookError(ValueError):
    """headers.toml (or an office's copy) is not valid; the message names the entry."""


class HeaderBook(BaseModel):
    """The validated header file: sheet names, and accepted headers per sheet and field."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=r"^\d{4}\.\d{2}\.\d+$")
    sheets: dict[str, list[str]]
    common: dict[str, list[str]] = Field(default_factory=dict)
    cases: dict[str, list[str]] = Field(default_factory=dict)
    recharges: dict[str, list[str]] = Field(default_factory=dict)
    sessions: dict[str, list[str]] = Field(default_factory=dict)
    chats: dict[str, list[str]] = Field(default_factory=dict)
    face_checks: dict[str, list[str]] = Field(default_factory=dict)
    login_traces: dict[str, list[str]] = Field(default_factory=dict)
    _sheet_keys: dict[str, str] = PrivateAttr(default_factory=dict)
    _column_keys: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> HeaderBook:
        unknown = set(self.sheets) - set(SHEETS)
        if unknown:
            raise ValueError(f"[sheets] names unknown sheets {sorted(unknown)}; sheets are {list(SHEETS)}")
        owner: dict[str, str] = {}
        for sheet in SHEETS:
            for name in [sheet, *self.sheets.get(sheet, [])]:
                other = owner.setdefault(normalise_header(name), sheet)
                if other != sheet:
                    raise ValueError(f"sheet name {name!r} is listed for both {other} and {sheet}")
        if set(self.common) - {"case_id"}:
            raise ValueError("[common] may only hold case_id")
        self._sheet_keys = owner
        self._column_keys = {sheet: self._columns_of(sheet) for sheet in SHEETS}  # raises on clashes
        return self

    def _columns_of(self, sheet: str) -> dict[str, str]:
        entries: dict[str, list[str]] = {**self.common, **getattr(self, sheet)}
        fields = SHEET_FIELDS[sheet]
        columns: dict[str, str] = {}
        for field in fields:
            columns[normalise_header(field)] = field
        for field, headers in entries.items():
            if field not in fields:
                raise ValueError(f"[{sheet}] {field!r} is not a field of this sheet; fields are {list(fields)}")
            for header in headers:
                key = normalise_header(header)
                if not key:
                    raise ValueError(f"[{sheet}] {field}: header {header!r} is empty once normalised")
                if columns.setdefault(key, field) != field:
                    raise ValueError(f"[{sheet}] header {header!r} names both {columns[key]} and {field}")
        return columns

    def sheet_for(self, name: str) -> str | None:
        """The sheet a file stem or workbook sheet title stands for, if any."""
        return self._sheet_keys.get(normalise_header(name))

    def field_for(self, sheet: str, header: Any) -> str | None:
        """The field a column header names in ``sheet``, or None when it names none."""
        return self._column_keys[sheet].get(normalise_header(header))

    def sheet_title(self, sheet: str, chinese: bool) -> str:
        return _first_chinese(self.sheets.get(sheet, []), sheet) if chinese else sheet

    def header(self, sheet: str, field: str, chinese: bool) -> str:
        """The header written for ``field``: the field name, or its first Chinese header."""
        if not chinese:
            return field
        names = getattr(self, sheet).get(field) or self.common.get(field, [])
        return _first_chinese(names, field)


def _first_chinese(names: list[str], default: str) -> str:
    return next((name for name in names if _CJK.search(name)), default)


def load_header_book(path: str | Path | None = None) -> HeaderBook:
    """Read and validate a header file; the packaged one when ``path`` is None."""
    if path is None:
        return default_header_book()
    return _parse(Path(path).read_bytes(), str(path))


@cache
def default_header_book() -> HeaderBook:
    data = resources.files("assessor.data").joinpath("headers.toml").read_bytes()
    return _parse(data, "assessor/data/headers.toml")


def _parse(data: bytes, where: str) -> HeaderBook:
    try:
        raw = tomllib.loads(data.decode("utf-8"))
        return HeaderBook.model_validate(raw)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HeaderBookError(f"{where}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        raise HeaderBookError(f"{where}: {loc + ': ' if loc else ''}{first['msg']}") from None


__all__ = [
    "CASE_COLUMNS",
    "RECORD_SHEETS",
    "SHEETS",
    "SHEET_FIELDS",
    "SHEET_LISTS",
    "HeaderBook",
    "HeaderBookError",
    "case_column",
    "case_path",
    "default_header_book",
    "load_header_book",
    "normalise_header",
]
