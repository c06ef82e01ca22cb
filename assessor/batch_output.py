"""Where a batch writes: JSON Lines, CSV for Excel, or an .xlsx sheet; atomically, row by row.

Every file is written to a temporary file beside its target and renamed over it only when
the batch has finished, so a reader never sees half a file and an interrupted batch leaves
the old file, if any, as it was. Rows are written as they come: memory does not grow with
the number of cases (the .xlsx sheet is written in openpyxl's write-only mode).

Spreadsheet cells are escaped: text a spreadsheet would run as a formula gets a leading
``'``. Case ids come from the input and are attacker-controlled.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_json

from assessor.frame import Lang, headers
from assessor.privacy import scrub
from assessor.schema import (
    ASSESSMENT_FORMAT,
    Assessment,
    Contribution,
    Coverage,
    EvidenceRef,
    FamilyTotal,
    Finding,
    ModelInfo,
    Reason,
    RechargeAttribution,
    RuleApplied,
    RulebookInfo,
    TopReasons,
    family_total_data,
)

OutputKind = Literal["jsonl", "csv", "xlsx"]
OUTPUT_KINDS: dict[str, OutputKind] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}

# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice or
# Google Sheets; tab and CR also, as OWASP lists (and LF, which CR becomes); full-width forms
# for CJK input methods.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell
SHEET_TITLE = {"zh": "评估结果", "en": "assessments"}
# Characters XML 1.0 cannot hold; openpyxl refuses them.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class UnsupportedOutput(ValueError):
    """The output file's extension names no form the batch writes."""


def output_kind(path: Path) -> OutputKind:
    kind = OUTPUT_KINDS.get(path.suffix.lower())
    if kind is None:
        raise UnsupportedOutput(f"cannot write {path.name}: the output must end in .jsonl, .csv or .xlsx")
    return kind


def check_targets(output: Path, errors: Path | None = None, source: Any = None) -> OutputKind:
    """The output form, or UnsupportedOutput naming what is wrong with where the batch would write."""
    kind = output_kind(output)
    for target in (output, errors):
        if target is None:
            continue
        if target.is_dir():
            raise UnsupportedOutput(f"cannot write {target}: it is a folder")
        if not target.parent.is_dir():
            raise UnsupportedOutput(f"cannot write {target}: the folder {target.parent} does not exist")
        if not os.access(target.parent, os.W_OK):
            raise UnsupportedOutput(f"cannot write {target}: the folder {target.parent} is not writable")
    if errors is not None and _same_file(output, errors):
        raise UnsupportedOutput("--errors and the output must be different files")
    if isinstance(source, (str, os.PathLike)) and os.fspath(source) != "-":
        if any(target is not None and _same_file(Path(source), target) for target in (output, errors)):
            raise UnsupportedOutput(f"refusing to overwrite the input {source}")
    return kind


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def spreadsheet_text(value: str) -> str:
    """Text safe in a spreadsheet cell: no XML-illegal characters, within Excel's length, never a formula.

    Line breaks become LF, which both forms keep (XML turns a bare CR into LF anyway).
    """
    text = _XML_ILLEGAL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def spreadsheet_cell(value: Any) -> Any:
    return spreadsheet_text(value) if isinstance(value, str) else value


def assessment_line(assessment: Assessment, *, redact: bool = True) -> str:
    """One JSON Lines line (without the newline): the assessment as ``assessor score -f json`` prints it,
    written compactly by pydantic's own serializer.

    ``redact=False`` (``--no-redact``) keeps the case id as given; see :func:`assessor.render.reveal`.
    """
    if redact:  # a case id may itself be an ID or phone number
        assessment = assessment.model_copy(update={"case_id": scrub(assessment.case_id)})
    return assessment.model_dump_json()


def assessment_data_line(data: dict[str, Any], *, redact: bool = True) -> str | None:
    """The JSON line of :meth:`Engine.assessment_data <assessor.engine.Engine.assessment_data>`
    without building the :class:`Assessment`: the same text as :func:`assessment_line`.

    Building and dumping the model cost more than scoring the case. The data already holds
    every field in the model's order; each object's keys are checked against the schema, and
    ``None`` is returned, for the caller to build the model, if any differs or a value is one
    JSON does not hold.
    """
    if not (_FAMILIES_MATCH and _layout_matches(data)):
        return None
    out = {"format": ASSESSMENT_FORMAT, **data}
    out["families"] = family_total_data([(c["source"], c["weight"]) for c in data["contributions"]],
                                        [(r["id"], r["effect"], r["weight"]) for r in data["rules"]])
    if tuple(out) != _ASSESSMENT_KEYS:
        return None
    if redact:
        out["case_id"] = scrub(out["case_id"])
    try:
        # pydantic's serializer, as model_dump_json uses it: the same text (NaN as null, times as
        # pydantic writes them) at a quarter of the cost of json.dumps.
        return to_json(out, inf_nan_mode="null").decode()
    except PydanticSerializationError:  # a value JSON cannot hold: the model will say which
        return None


def _fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


_ASSESSMENT_KEYS = (*_fields(Assessment), *Assessment.model_computed_fields)
_DATA_KEYS = tuple(k for k in _fields(Assessment) if k != "format")
_NESTED = {"contributions": _fields(Contribution), "rules": _fields(RuleApplied), "findings": _fields(Finding),
           "recharges": _fields(RechargeAttribution)}
_EVIDENCE_KEYS = _fields(EvidenceRef)
_SINGLE = {"coverage": _fields(Coverage), "model": _fields(ModelInfo), "rulebook": _fields(RulebookInfo),
           "top_reasons": _fields(TopReasons)}
_REASON_KEYS = _fields(Reason)
# family_total_data writes FamilyTotal's fields as plain keys: the fast line holds only while they are these.
_FAMILIES_MATCH = _fields(FamilyTotal) == ("family", "weight", "summary", "summary_zh")


def _layout_matches(data: dict[str, Any]) -> bool:
    """Whether every object of the data has exactly its model's fields, in order (plain values only)."""
    if tuple(data) != _DATA_KEYS or type(data["prior"]) is not float or type(data["case_id"]) is not str:
        return False
    for key, keys in _NESTED.items():
        for item in data[key]:
            if type(item) is not dict or tuple(item) != keys:
                return False
            for ref in item.get("evidence", ()):
                if type(ref) is not dict or tuple(ref) != _EVIDENCE_KEYS:
                    return False
    for key, keys in _SINGLE.items():
        if type(data[key]) is not dict or tuple(data[key]) != keys:
            return False
    return all(type(r) is dict and tuple(r) == _REASON_KEYS for side in data["top_reasons"].values() for r in side)


# --------------------------------------------------------------------------- atomic files


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed over it if the block succeeds, else removed."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            temporary.unlink()
        raise


# --------------------------------------------------------------------------- sinks


class Sink(Protocol):
    def write(self, payload: Any) -> None: ...


class LinesSink:
    """JSON Lines: one line per payload (a JSON text)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, payload: str) -> None:
        self._stream.write(payload + "\n")


class CsvSink:
    """CSV for Excel: UTF-8 with BOM (so Excel reads Chinese), headers in the reviewer's language."""

    def __init__(self, stream: Any, lang: Lang) -> None:
        self._writer = csv.writer(stream)
        self._writer.writerow([spreadsheet_text(h) for h in headers(lang)])

    def write(self, row: list[Any]) -> None:
        self._writer.writerow([spreadsheet_cell(v) for v in row])


class XlsxSink:
    """One write-only sheet: bold frozen header, filters, probabilities shown as percentages."""

    def __init__(self, lang: Lang) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        from assessor.frame import COLUMNS

        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(SHEET_TITLE[lang])
        self._sheet.freeze_panes = "A2"
        self._cell = WriteOnlyCell
        self._percent = {i for i, c in enumerate(COLUMNS) if c.key in ("probability", "prior")}
        self._last_column = get_column_letter(len(COLUMNS))
        wide = {"case_id": 18, "reasons_minor": 60, "reasons_adult": 60, "finding_ids": 30}
        for i, column in enumerate(COLUMNS, start=1):
            self._sheet.column_dimensions[get_column_letter(i)].width = wide.get(column.key, 12)
        bold = Font(bold=True)
        header_cells = []
        for text in headers(lang):
            cell = WriteOnlyCell(self._sheet, spreadsheet_text(text))
            cell.font = bold
            header_cells.append(cell)
        self._sheet.append(header_cells)
        self._rows = 1

    def write(self, row: list[Any]) -> None:
        cells: list[Any] = []
        for i, value in enumerate(row):
            value = spreadsheet_cell(value)
            if i in self._percent:
                cell = self._cell(self._sheet, value)
                cell.number_format = "0.0%"
                value = cell
            cells.append(value)
        self._sheet.append(cells)
        self._rows += 1

    def save(self, path: Path) -> None:
        self._sheet.auto_filter.ref = f"A1:{self._last_column}{self._rows}"
        self._workbook.save(path)

    def discard(self) -> None:
        """Finish the sheet's temporary file and remove it now rather than at interpreter exit."""
        with suppress(Exception):
            self._sheet.close()
        out = getattr(getattr(self._sheet, "_writer", None), "out", None)
        if isinstance(out, str):
            with suppress(OSError):
                os.remove(out)


@contextmanager
def open_sink(kind: OutputKind, target: Path, lang: Lang) -> Iterator[Sink]:
    """A sink writing to ``target`` atomically: the file appears, complete, when the block ends well."""
    with atomic_path(target) as temporary:
        if kind == "xlsx":
            sheet = XlsxSink(lang)
            try:
                yield sheet
            except BaseException:
                sheet.discard()
                raise
            sheet.save(temporary)
            return
        encoding = "utf-8-sig" if kind == "csv" else "utf-8"
        with open(temporary, "w", encoding=encoding, newline="" if kind == "csv" else "\n") as stream:
            yield CsvSink(stream, lang) if kind == "csv" else LinesSink(stream)


@contextmanager
def open_lines(target: Path) -> Iterator[LinesSink]:
    """A JSON Lines file written atomically (the ``--errors`` file)."""
    with atomic_path(target) as temporary, open(temporary, "w", encoding="utf-8", newline="\n") as stream:
        yield LinesSink(stream)
