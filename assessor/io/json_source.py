"""JSON inputs: one case, an array of cases, JSON Lines, a folder of JSON files, a stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from assessor.io import MAX_RECORD_BYTES, CaseError, case_from_dict
from assessor.schema import Case


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); GB18030 as a fallback for exports from Chinese systems."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # may still raise UnicodeDecodeError: callers report it


def read_stream(stream: IO, source: str, *, timezone: str | None = None) -> Iterator[Case | CaseError]:
    """Read a JSON document or JSON Lines from a stream, line by line so big files stay lazy."""
    seen: dict[str, str] = {}
    first = _read_line(stream)
    if first is None:
        yield CaseError(source, "the input is empty")
        return
    head = first.lstrip(b"\xef\xbb\xbf \t\r\n")
    # One JSON document (pretty-printed object or array) unless the first line is a whole object.
    if head.startswith(b"[") or (head.startswith(b"{") and not _is_complete_json(first)):
        rest = stream.read(MAX_RECORD_BYTES + 1)
        blob = first + (rest if isinstance(rest, bytes) else rest.encode("utf-8"))
        if len(blob) > MAX_RECORD_BYTES:
            yield CaseError(source, f"JSON document larger than {MAX_RECORD_BYTES // (1 << 20)} MiB")
            return
        try:
            data = json.loads(decode(blob))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            yield CaseError(source, f"not valid JSON: {_json_message(exc)}", line=getattr(exc, "lineno", None))
            return
        items = data if isinstance(data, list) else [data]
        for index, item in enumerate(items):
            yield case_from_dict(item, source, line=None if len(items) == 1 else index + 1,
                                 timezone=timezone, seen=seen)
        return
    line_no = 0
    line = first
    while line is not None:
        line_no += 1
        if len(line) > MAX_RECORD_BYTES:
            yield CaseError(source, f"line longer than {MAX_RECORD_BYTES // (1 << 20)} MiB", line=line_no)
        elif line.strip():
            try:
                data = json.loads(decode(line))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                yield CaseError(source, f"not valid JSON: {_json_message(exc)}", line=line_no)
            else:
                yield case_from_dict(data, source, line=line_no, timezone=timezone, seen=seen)
        line = _read_line(stream)


def read_folder(folder: Path, *, timezone: str | None = None) -> Iterator[Case | CaseError]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".json", ".jsonl", ".ndjson"})
    if not files:
        yield CaseError(str(folder), "the folder holds no .json files and no table set")
        return
    for path in files:
        with open(path, "rb") as stream:
            yield from read_stream(stream, str(path), timezone=timezone)


def _read_line(stream: IO) -> bytes | None:
    line = stream.readline(MAX_RECORD_BYTES + 1)
    if not line:
        return None
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogatepass")
    if len(line) > MAX_RECORD_BYTES:  # swallow the rest of an oversize line without holding it
        while line and not line.endswith(b"\n"):
            more = stream.readline(1 << 20)
            if not more:
                break
            line = b"x" * (MAX_RECORD_BYTES + 1) if len(line) > MAX_RECORD_BYTES else line
            if (more if isinstance(more, bytes) else more.encode()).endswith(b"\n"):
                break
    return line


def _is_complete_json(line: bytes) -> bool:
    try:
        json.loads(decode(line))
        return True
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False


def _json_message(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 or GB18030 text"
    return "nested too deeply"
