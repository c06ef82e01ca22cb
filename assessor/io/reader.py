"""Which input form a source is, and turning parsed candidates into validated cases.

Problems with the source as a whole (missing file, unreadable workbook, no `cases` table)
raise :class:`CaseInputError`; problems with one case become a :class:`CaseError` in the
stream, and reading goes on with the next case.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from assessor.io.candidate import Candidate, case_key
from assessor.io.checks import check_case, oversized_texts, replace_lone_surrogates
from assessor.io.errors import CaseError, CaseInputError, dotted, join_problems, problems
from assessor.io.headers import default_header_book
from assessor.io.jsonio import parse_line, read_json, unparsed_lines
from assessor.io.tables import Table, csv_table, read_table_set, workbook_tables
from assessor.io.tablewriter import WORKBOOK_SUFFIXES
from assessor.privacy import scrub
from assessor.schema import Case

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
Items = Iterator[Candidate | CaseError]


def read_cases(source: str | os.PathLike[str] | IO[Any], *, timezone: str | None = None) -> Iterator[Case | CaseError]:
    """Every case of any input form, lazily, with a CaseError in place of each bad case.

    ``source``: a JSON case file, JSON Lines, a JSON array, a folder of ``*.json`` files, a
    table set (folder of CSVs or an .xlsx workbook), ``"-"`` for standard input, or an open
    text/binary stream of JSON. ``timezone`` is used for cases that do not name their own.
    """
    _check_timezone(timezone)
    return _validated(_items(source), timezone)


def read_admitted(source: str | os.PathLike[str] | IO[Any], *, timezone: str | None = None,
                  unparsed: bool = False) -> Iterator[Admitted | UnparsedLine | CaseError]:
    """:func:`read_cases` before validation: what a batch hands to its workers, which finish
    each case with :func:`validate_admitted`. Same errors, same order.

    ``unparsed=True``: a JSON Lines file comes as :class:`UnparsedLine` items, not even parsed,
    so that reading costs next to nothing where it is not where the scoring is; each becomes
    an item with :func:`admit_line`, and the caller checks duplicate ids in input order
    (:class:`Duplicates`).
    """
    _check_timezone(timezone)
    if unparsed and _jsonl_file(source):
        return _unparsed(Path(source))
    return admitted(_items(source), timezone)  # missing, empty or other files: the usual messages


def _jsonl_file(source: Any) -> bool:
    if not isinstance(source, (str, os.PathLike)) or source == "-":
        return False
    path = Path(source)
    return path.suffix.lower() in JSON_LINES_SUFFIXES and path.is_file() and path.stat().st_size > 0


class UnparsedLine(NamedTuple):
    """A line of a JSON Lines file as read: bytes to send to a worker (cheap to pickle)."""

    source: str
    line: int
    raw: bytes


def _unparsed(path: Path) -> Iterator[UnparsedLine | CaseError]:
    source = str(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below, also when the caller stops early
    except OSError as exc:
        raise CaseInputError(CaseError(source, f"cannot read: {exc.strerror or exc}")) from None
    with stream:
        for entry in unparsed_lines(stream, source):
            yield entry if isinstance(entry, CaseError) else UnparsedLine(source, *entry)


def admit_line(entry: UnparsedLine, timezone: str | None) -> Admitted | CaseError:
    """What :func:`admitted` makes of one unparsed line, but for the duplicate-id check."""
    item = parse_line(entry.source, entry.line, entry.raw)
    if item is None:  # unparsed_lines() passes no blank line on
        raise ValueError(f"{entry.source} line {entry.line} is blank")
    if isinstance(item, CaseError):
        return item
    return _admit(item, case_key(item.payload.get("case_id")), timezone)


def _check_timezone(timezone: str | None) -> None:
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CaseInputError(CaseError("<timezone>", f"unknown timezone {timezone!r} (use e.g. Asia/Shanghai)")) from None


def load_cases(source: str | os.PathLike[str] | IO[Any], *,
               on_error: Literal["raise", "skip"] | Callable[[CaseError], None] = "raise",
               timezone: str | None = None) -> Iterator[Case]:
    """The valid cases of any input form, lazily.

    ``on_error``: ``"raise"`` raises :class:`CaseInputError` at the first bad case; ``"skip"``
    drops bad cases; a callable receives each :class:`CaseError` and loading goes on.
    """
    if on_error not in ("raise", "skip") and not callable(on_error):
        raise ValueError(f"on_error must be 'raise', 'skip' or a callable, not {on_error!r}")
    for item in read_cases(source, timezone=timezone):
        if isinstance(item, CaseError):
            if on_error == "raise":
                raise CaseInputError(item)
            if callable(on_error):
                on_error(item)
            continue
        yield item


def _items(source: str | os.PathLike[str] | IO[Any]) -> Items:
    """Parsed candidates of the source's form; checks the path itself at once."""
    if isinstance(source, str) and source == "-":
        return read_json(getattr(sys.stdin, "buffer", sys.stdin), "<stdin>")
    if not isinstance(source, (str, os.PathLike)):
        if not hasattr(source, "readline"):
            raise TypeError(f"read_cases needs a path or an open stream, not {type(source).__name__}")
        name = getattr(source, "name", None)
        return read_json(source, name if isinstance(name, str) else "<stream>")
    path = Path(source)
    label = os.fspath(source)
    if not path.exists():
        raise CaseInputError(CaseError(label, "no such file or folder"))
    if path.is_dir():
        return _folder(path)
    suffix = path.suffix.lower()
    if path.is_file() and path.stat().st_size == 0:
        raise CaseInputError(CaseError(label, "the file is empty"))
    if suffix in WORKBOOK_SUFFIXES:
        return _workbook(path)
    if suffix == ".xls":
        raise CaseInputError(CaseError(label, "old-style .xls workbooks are not read; save it as .xlsx"))
    if suffix == ".csv":
        sheet = default_header_book().sheet_for(path.stem)
        if sheet not in (None, "cases"):
            raise CaseInputError(CaseError(label, f"this is a {sheet} table; give the folder holding the whole table set"))
        return read_table_set({"cases": csv_table(path, "cases")}, default_header_book())
    return _json_file(path, lines=suffix in JSON_LINES_SUFFIXES)


def _json_file(path: Path, *, lines: bool) -> Items:
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below, also when the caller stops early
    except OSError as exc:
        raise CaseInputError(CaseError(str(path), f"cannot read: {exc.strerror or exc}")) from None
    with stream:
        yield from read_json(stream, str(path), lines=lines)


def _json_files(paths: list[Path]) -> Items:
    for path in paths:
        try:
            with open(path, "rb") as stream:
                yield from read_json(stream, str(path), lines=path.suffix.lower() in JSON_LINES_SUFFIXES)
        except OSError as exc:
            yield CaseError(str(path), f"cannot read: {exc.strerror or exc}")


def _folder(folder: Path) -> Items:
    """A folder is a CSV table set when it holds a `cases` table, else a folder of JSON cases."""
    book = default_header_book()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    tables: dict[str, Path] = {}
    for path in files:
        sheet = book.sheet_for(path.stem) if path.suffix.lower() == ".csv" else None
        if sheet is None:
            continue
        if sheet in tables:
            raise CaseInputError(CaseError(str(folder), f"two files hold the {sheet} table: {tables[sheet].name}, {path.name}"))
        tables[sheet] = path
    if "cases" in tables:
        return read_table_set({sheet: csv_table(path, sheet) for sheet, path in tables.items()}, book)
    cases = [p for p in files if p.suffix.lower() == ".json"]
    if cases:
        return _json_files(cases)
    if tables:
        raise CaseInputError(CaseError(str(folder), "a table set needs a cases table (cases.csv or 案件.csv); "
                                                    f"found {', '.join(p.name for p in tables.values())}"))
    raise CaseInputError(CaseError(str(folder), "no case files here (*.json files, or a table set of CSV files)"))


def _workbook(path: Path) -> Items:
    """All sheets are read, grouped and closed before the first case is handed out."""
    from openpyxl import load_workbook

    label = str(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open a user's file is bad input
        raise CaseInputError(CaseError(label, f"cannot read the workbook: {type(exc).__name__}: {exc}")) from None
    try:
        book = default_header_book()
        tables = workbook_tables(workbook, path, book)
        if "cases" not in tables:
            raise CaseInputError(CaseError(label, "no cases sheet (named cases or 案件); sheets: "
                                                  + ", ".join(workbook.sheetnames)))
        items = list(read_table_set(tables, book))
    except CaseInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt sheet XML surfaces while rows are read
        raise CaseInputError(CaseError(label, f"cannot read the workbook: {type(exc).__name__}: {exc}")) from None
    finally:
        workbook.close()
    yield from items


def cases_of_tables(tables: dict[str, Table], *, timezone: str | None = None) -> Iterator[Case | CaseError]:
    """The cases of a table set already in memory (``Table`` rows with a header row first), as
    :func:`read_cases` gives them for files: what :mod:`assessor.distributed` scores."""
    if "cases" not in tables:
        raise CaseInputError(CaseError("<tables>", "a table set needs a cases table"))
    return _validated(read_table_set(tables, default_header_book()), timezone)


def _validated(items: Iterable[Candidate | CaseError], timezone: str | None) -> Iterator[Case | CaseError]:
    """Validate each candidate; the second case with an id already seen is rejected."""
    now = datetime.now(UTC)  # one "now" per read, so every case of a batch meets the same bound
    for item in admitted(items, timezone):
        yield item if isinstance(item, CaseError) else validate_admitted(item, now)


class Admitted(NamedTuple):
    """A candidate past the checks that need the whole input (duplicate ids), to be validated alone:
    in this process or, for a parallel batch, in a worker."""

    item: Candidate
    payload: dict[str, Any]
    key: str | None


def admitted(items: Iterable[Candidate | CaseError], timezone: str | None) -> Iterator[Admitted | CaseError]:
    """The candidates that may be validated, in order; a second case with an id already seen,
    or one with problems found while gathering it, is rejected here."""
    duplicates = Duplicates()
    for item in items:
        if isinstance(item, CaseError):
            yield item
            continue
        key = case_key(item.payload.get("case_id"))
        duplicate = duplicates.check(key, item.source, item.where())
        yield item.error(duplicate, case_id=key) if duplicate else _admit(item, key, timezone)


def _admit(item: Candidate, key: str | None, timezone: str | None) -> Admitted | CaseError:
    if item.problems:
        return _gathering_error(item.problems, key)
    payload = item.payload
    if timezone is not None and not str(payload.get("timezone") or "").strip():
        payload = {**payload, "timezone": timezone}
    return Admitted(item, payload, key)


class Duplicates:
    """Case ids seen so far, in input order: the second case with an id already seen is rejected."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str]] = {}

    def check(self, key: str | None, source: str, where: str) -> str | None:
        """Why the case ``key`` at ``where`` of ``source`` is rejected, or None (then its id is seen)."""
        if key is None:
            return None
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = (source, where)
            return None
        first_source, first_where = first
        if first_source != source and first_where != first_source:
            first_where += f" of {first_source}"
        return f"duplicate case_id, first at {first_where}"


def validate_admitted(entry: Admitted, now: datetime) -> Case | CaseError:
    """The validated case, or why it was rejected (``now`` bounds its times: one per read)."""
    return _validate(entry.item, entry.payload, entry.key, now)


def _validate(item: Candidate, payload: dict[str, Any], key: str | None, now: datetime) -> Case | CaseError:
    found = oversized_texts(payload, item.size)
    if found:
        return _located(item, found, key)
    try:
        case = _model(payload)
    except ValidationError as exc:
        return _located(item, problems(exc), key)
    except Exception as exc:  # noqa: BLE001 - a validator choking on odd input is still bad input
        return item.error(f"cannot read this case: {type(exc).__name__}: {scrub(str(exc))[:160]}", case_id=key)
    found = check_case(case, now, lambda loc: _label(item, loc).strip())
    return _located(item, found, key) if found else case


def _model(payload: dict[str, Any]) -> Case:
    """The validated case; text with lone surrogates (an emoji cut in half) is repaired and tried again."""
    try:
        return Case.model_validate(payload)
    except ValidationError as exc:
        if not any(err["type"] == "string_unicode" for err in exc.errors(include_url=False)):
            raise
    return Case.model_validate(replace_lone_surrogates(payload))


def _located(item: Candidate, found: list[tuple[tuple[Any, ...], str]], key: str | None) -> CaseError:
    """One CaseError for a case's problems: the first located, the others listed briefly."""
    (loc, text), rest = found[0], found[1:]
    where = item.locate(loc) if item.locate else {"field": dotted(loc) or None}
    return CaseError(
        where.get("source", item.source),
        join_problems(text, [f"{_label(item, other)}: {message}" for other, message in rest]),
        line=item.line,
        row=where.get("row", item.row),
        sheet=where.get("sheet", item.sheet),
        case_id=key,
        field=where.get("field"),
    )


def _gathering_error(found: list[CaseError], key: str | None) -> CaseError:
    first = found[0]
    rest = [f"{other.sheet or other.source} row {other.row}: {other.message}" for other in found[1:]]
    return CaseError(first.source, join_problems(first.message, rest), line=first.line, row=first.row,
                     sheet=first.sheet, case_id=key, field=first.field)


def _label(item: Candidate, loc: tuple[Any, ...]) -> str:
    if item.locate is None:
        return dotted(loc) or "case"
    where = item.locate(loc)
    prefix = f"{where['sheet']} row {where['row']} " if "row" in where else ""
    return prefix + (where.get("field") or "")
