"""How loaders report bad input: a CaseError value per rejected case, CaseInputError when raising.

Messages are plain English, name where the problem is (file, line or row, sheet, field) and
quote the offending value briefly, with ID and phone numbers masked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from assessor.io import limits
from assessor.privacy import scrub

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


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
            parts.append(f"case {self.case_id}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


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


def problems(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """Each validation problem as (location, plain message with the bad value quoted)."""
    found = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or "[" not in str(p))
        msg = err["msg"]
        for prefix in _PYDANTIC_PREFIXES:
            msg = msg.removeprefix(prefix)
        if err["type"] == "missing":
            msg = "is required"
        elif "input" in err:
            msg += f" (got {quote(err['input'])})"
        found.append((loc, scrub(msg) or msg))
    return found


def join_problems(first: str, rest: list[str]) -> str:
    """The first problem, then up to MAX_EXTRA_PROBLEMS others, then how many more."""
    shown = rest[: limits.MAX_EXTRA_PROBLEMS]
    text = first
    if shown:
        text += "; also " + "; ".join(shown)
    if len(rest) > len(shown):
        text += f"; and {len(rest) - len(shown)} more"
    return text
