"""A parsed but not yet validated case, with where it came from (for error messages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assessor.io.errors import CaseError

# Maps a pydantic location to where it came from: keys source, sheet, row, field.
Locator = Callable[[tuple[Any, ...]], dict[str, Any]]


@dataclass(slots=True)
class Candidate:
    payload: dict[str, Any]
    source: str
    line: int | None = None
    row: int | None = None
    sheet: str | None = None
    locate: Locator | None = None
    # Characters (or bytes, never fewer) of the JSON text the payload came from, when known: no text in it
    # can be longer.
    size: int | None = None
    # Problems found while gathering the payload (e.g. a table row wider than its header).
    problems: list[CaseError] = field(default_factory=list)

    def where(self) -> str:
        """How a later duplicate names this one: ``line 3``, ``row 5`` or the file."""
        if self.line is not None:
            return f"line {self.line}"
        if self.row is not None:
            return f"row {self.row}"
        return self.source

    def error(self, message: str, *, case_id: str | None = None, field: str | None = None) -> CaseError:
        return CaseError(self.source, message, line=self.line, row=self.row, sheet=self.sheet,
                         case_id=case_id, field=field)


def case_key(value: Any) -> str | None:
    """The case id as text, the way the schema reads it (1001.0 from a spreadsheet is "1001")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


JSON_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
                   bool: "a boolean", type(None): "null"}


def candidate_or_error(value: Any, source: str, line: int | None, size: int | None = None) -> Candidate | CaseError:
    """A case must be a JSON object; anything else is rejected with its JSON type named."""
    if isinstance(value, dict):
        return Candidate(value, source, line=line, size=size)
    kind = JSON_TYPE_NAMES.get(type(value), type(value).__name__)
    return CaseError(source, f"expected a JSON object (one case), got {kind}", line=line)
