"""How loaders report bad input: a CaseError value per rejected case, CaseInputError when raising.

Messages are plain English, name where the problem is (file, line or row, sheet, field) and
quote the offending value briefly, with ID and phone numbers masked.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from assessor.io import limits
from assessor.privacy import scrub

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
# Characters that would act on a terminal or a log rather than show: C0/C1 controls (ANSI
# escapes, bell, line breaks that forge log lines), bidirectional overrides, line separators.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def printable(text: str) -> str:
    """Text from the input made safe to print on one line: controls shown as ``\\x1b``, ``\\u202e``."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True, slots=True)
class CaseError:
    """One rejected case (or unreadable part of an input). Not an exception: loaders yield it."""

    source: str
    message: str
    line: int | None = None
    row: int | None = None
    sheet: str | None = None
    case_id: str | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """One line of an ``--errors`` file: location keys that apply, ``case_id``, ``error``."""
        data = {k: v for k, v in asdict(self).items() if v is not None and k not in {"message", "case_id"}}
        data["case_id"] = self.case_id
        data["error"] = self.message
        return data

    def __str__(self) -> str:
        where = self.source
        if self.sheet and not where.lower().endswith(".csv"):
            where += f"[{self.sheet}]"
        if self.line is not None:
            where += f":{self.line}"
        if self.row is not None:
            where += f": row {self.row}"
        parts = [where]
        if self.case_id:
            parts.append(f"case {scrub(self.case_id)}")  # a case id may itself be a phone or ID number
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return printable(": ".join(parts))


class CaseInputError(ValueError):
    """The only exception loaders raise for bad user input; ``.error`` says what and where."""

    def __init__(self, error: CaseError) -> None:
        super().__init__(str(error))
        self.error = error


def quote(value: Any) -> str:
    """A short, masked rendering of an offending value for an error message."""
    text = scrub(repr(value)) or ""
    limit = limits.MAX_QUOTED_CHARS
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dotted(loc: tuple[Any, ...]) -> str:
    """A pydantic location as a path people read: ``("recharges", 3, "amount")`` -> ``recharges[3].amount``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# How pydantic names the members of a union in an error's location (``at.datetime``); no field
# of the case format has one of these names.
_UNION_TAGS = frozenset({"datetime", "date", "str", "int", "float", "decimal", "bool", "none", "list", "dict"})


def problems(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """Each validation problem as (location, plain message with the bad value quoted).

    A value a union field rejects in each of its forms (a timestamp: strict ISO 8601, then the
    other forms) is one problem: the message of the form that explains most (our own value
    errors) is kept, once.
    """
    found: dict[tuple[Any, ...], tuple[bool, str]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"]
                    if isinstance(p, int) or ("[" not in str(p) and str(p) not in _UNION_TAGS))
        msg = err["msg"]
        for prefix in _PYDANTIC_PREFIXES:
            msg = msg.removeprefix(prefix)
        if err["type"] == "missing":
            msg = "is required"
        elif "input" in err:
            msg += f" (got {quote(err['input'])})"
        own = err["type"] == "value_error"
        if loc not in found or (own and not found[loc][0]):
            found[loc] = (own, scrub(msg) or msg)
    return [(loc, msg) for loc, (_, msg) in found.items()]


def join_problems(first: str, rest: list[str]) -> str:
    """The first problem, then up to MAX_EXTRA_PROBLEMS others, then how many more."""
    shown = rest[: limits.MAX_EXTRA_PROBLEMS]
    text = first
    if shown:
        text += "; also " + "; ".join(shown)
    if len(rest) > len(shown):
        text += f"; and {len(rest) - len(shown)} more"
    return text
