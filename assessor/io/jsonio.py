"""JSON inputs: one case, an array of cases, or JSON Lines; and writing JSON Lines.

JSON Lines are read one line at a time, so the first case of a huge file is available at
once and a bad line costs only that line. A ``.json`` file or a stream is sniffed: if its
first non-blank line is a complete object, it is JSON Lines; otherwise it is one document.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO, Any

from pydantic_core import from_json

from assessor.io import limits
from assessor.io.candidate import Candidate, candidate_or_error
from assessor.io.dump import case_payload
from assessor.io.errors import CaseError
from assessor.schema import Case

_BOM = b"\xef\xbb\xbf"
_SPACE = re.compile(r"[ \t\n\r]*")
NOT_TEXT = "not UTF-8 text (JSON must be UTF-8; GB18030 is also accepted)"

Numbered = Iterator[tuple[int, bytes | str | None]]  # None: a line over the size limit


def read_json(stream: IO[Any], source: str, *, lines: bool = False) -> Iterator[Candidate | CaseError]:
    """Cases from a binary or text stream; ``lines=True`` skips sniffing (``.jsonl`` files)."""
    numbered = _lines(stream)
    if lines:
        found = False
        for item in _jsonl(numbered, source):
            found = True
            yield item
        if not found:
            yield CaseError(source, "empty: no case found")
        return
    head: list[tuple[int, bytes | str | None]] = []
    first = None
    for number, raw in numbered:
        head.append((number, raw))
        if raw is None:
            break
        try:
            text = _decode(raw, first=number == 1)
        except UnicodeDecodeError:
            break
        if text.strip():
            first = text
            break
    else:
        yield CaseError(source, "empty: no case found")
        return
    if first is None or _is_object(first):
        yield from _jsonl(chain(head, numbered), source)
        return
    yield from _document(stream, head, source)


def _lines(stream: IO[Any]) -> Numbered:
    """Numbered lines, bounded in length: an over-long line is skipped and reported as None."""
    number = 0
    while True:
        limit = limits.MAX_LINE_BYTES
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        newline = b"\n" if isinstance(line, bytes) else "\n"
        if len(line) > limit and not line.endswith(newline):
            skipped = 0
            while line and not line.endswith(newline):
                line = stream.readline(limit + 1)
                skipped += len(line)
                if skipped > limits.MAX_DOCUMENT_BYTES:  # an endless line (/dev/zero): stop reading
                    yield number, None
                    return
            yield number, None
        else:
            yield number, line


def _decode(raw: bytes | str, *, first: bool) -> str:
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff") if first else raw
    if first:
        raw = raw.removeprefix(_BOM)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _loads(text: str) -> tuple[Any, str | None, int | None]:
    """(value, problem, line of the problem); never raises on bad text."""
    try:
        return json.loads(text), None, None
    except json.JSONDecodeError as exc:
        end = len(text.rstrip())
        if exc.pos >= end:  # the text stops before the value does: say so, not "line 2 column 1"
            return None, f"not valid JSON: {exc.msg} at the end of the text (a record cut short?)", text.count("\n", 0, end) + 1
        return None, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno
    except RecursionError:
        return None, "not valid JSON: nested too deeply", None
    except ValueError as exc:  # e.g. integers with more digits than Python converts
        return None, f"not valid JSON: {_plain(exc)}", None


def _plain(exc: ValueError) -> str:
    """Python's own wording, without advice meant for programmers (``sys.set_int_max_str_digits``)."""
    text = str(exc)
    if "integer string conversion" in text:
        return f"a number has more digits than can be read (limit {sys.get_int_max_str_digits()})"
    return text


def _is_object(line: str) -> bool:
    if not line.lstrip().startswith("{"):
        return False
    value, problem, _ = _loads(line)
    return problem is None and isinstance(value, dict)


def _jsonl(numbered: Iterable[tuple[int, bytes | str | None]], source: str) -> Iterator[Candidate | CaseError]:
    for number, raw in numbered:
        item = parse_line(source, number, raw)
        if item is not None:
            yield item


def parse_line(source: str, number: int, raw: bytes | str | None) -> Candidate | CaseError | None:
    """One line of JSON Lines: its candidate case, why it is not one, or None when it is blank.

    A line of UTF-8 bytes is read by pydantic-core's parser, in two thirds of json.loads's time,
    to the values json.loads gives (tests/test_loaders.py holds it to that). What it refuses
    (a BOM, GB18030, a lone surrogate, deep nesting, bad JSON) takes the general path: decode,
    then json.loads, which accepts a little more and words the error.
    """
    if raw is None:
        return _too_long(source, number)
    if type(raw) is bytes:
        try:
            value = from_json(raw)
        except (ValueError, RecursionError):
            pass  # not UTF-8 JSON that it reads; the general path below reads it, or says why not
        else:
            return candidate_or_error(value, source, number, size=len(raw))
    try:
        text = _decode(raw, first=number == 1)
    except UnicodeDecodeError:
        return CaseError(source, NOT_TEXT, line=number)
    if not text.strip():
        return None
    value, problem, _ = _loads(text)
    return CaseError(source, problem, line=number) if problem else candidate_or_error(value, source, number,
                                                                                       size=len(text))


def _too_long(source: str, number: int) -> CaseError:
    return CaseError(source, f"line is longer than {limits.MAX_LINE_BYTES} bytes; skipped", line=number)


def unparsed_lines(stream: IO[bytes], source: str) -> Iterator[tuple[int, bytes] | CaseError]:
    """The non-blank lines of a JSON Lines stream as (number, bytes), unparsed: for a batch that
    parses each line where it scores it (:func:`parse_line`). An over-long line comes as its error."""
    found = False
    for number, raw in _lines(stream):
        if raw is None:
            found = True
            yield _too_long(source, number)
        elif not _blank(raw, number):
            found = True
            yield number, raw
    if not found:
        yield CaseError(source, "empty: no case found")


def _blank(raw: bytes, number: int) -> bool:
    """Whether :func:`parse_line` would skip the line, mostly without decoding it: a line whose
    first byte past ASCII spaces is printable ASCII is not blank."""
    head = raw.lstrip()
    if not head:
        return True
    if head[0] < 0x80 and not 0x1C <= head[0] <= 0x1F:  # str.strip() also strips \x1c-\x1f and non-ASCII spaces
        return False
    try:
        return not _decode(raw, first=number == 1).strip()
    except UnicodeDecodeError:
        return False  # not blank: reported as not text where it is parsed


def _document(stream: IO[Any], head: list[tuple[int, bytes | str | None]], source: str) -> Iterator[Candidate | CaseError]:
    """The whole stream as one JSON document (an object or an array of objects)."""
    start = [raw for _, raw in head if raw is not None]
    used = sum(len(part) for part in start)
    rest = stream.read(max(limits.MAX_DOCUMENT_BYTES + 1 - used, 0))
    if used + len(rest) > limits.MAX_DOCUMENT_BYTES:
        yield CaseError(source, f"JSON document is larger than {limits.MAX_DOCUMENT_BYTES} bytes; use JSON Lines")
        return
    raw = (b"" if isinstance(rest, bytes) else "").join([*start, rest])
    try:
        text = _decode(raw, first=True)
    except UnicodeDecodeError:
        yield CaseError(source, NOT_TEXT)
        return
    if text.lstrip().startswith("["):
        yield from _array(text, source)
        return
    value, problem, line = _loads(text)
    if problem is None:
        yield candidate_or_error(value, source, None)
    elif _looks_like_lines(text):
        yield from _jsonl(enumerate(text.splitlines(keepends=True), start=1), source)
    else:
        yield CaseError(source, problem, line=line)


def _looks_like_lines(text: str) -> bool:
    """A file whose every non-blank line starts an object at column 0 and one of them is whole."""
    rows = [line for line in text.splitlines() if line.strip()]
    return len(rows) > 1 and all(line.startswith("{") for line in rows) and any(map(_is_object, rows))


def _array(text: str, source: str) -> Iterator[Candidate | CaseError]:
    """Items of a JSON array one at a time, each with the line it starts on."""
    decoder = json.JSONDecoder()
    index = _SPACE.match(text, text.index("[") + 1).end()
    line, counted = 1, 0
    if text.startswith("]", index):
        index += 1
    else:
        while True:
            line += text.count("\n", counted, index)
            counted = index
            try:
                value, end = decoder.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                yield CaseError(source, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
                return
            except RecursionError:
                yield CaseError(source, "not valid JSON: nested too deeply", line=line)
                return
            except ValueError as exc:
                yield CaseError(source, f"not valid JSON: {_plain(exc)}", line=line)
                return
            yield candidate_or_error(value, source, line)
            index = _SPACE.match(text, end).end()
            if text.startswith(",", index):
                index = _SPACE.match(text, index + 1).end()
                continue
            if text.startswith("]", index):
                index += 1
                break
            line += text.count("\n", counted, index)
            yield CaseError(source, "not valid JSON: expected ',' or ']' after an array item", line=line)
            return
    if text[index:].strip():
        line += text.count("\n", counted, index)
        yield CaseError(source, "not valid JSON: extra data after the array", line=line)


def write_jsonl(cases: Iterable[Case], path_or_stream: str | Path | IO[Any]) -> int:
    """Write cases as JSON Lines (UTF-8, one case per line); returns how many were written.

    Sessions derived from login traces are left out: reading the file derives them again.
    """
    if isinstance(path_or_stream, (str, Path)):
        with open(path_or_stream, "w", encoding="utf-8", newline="\n") as stream:
            return write_jsonl(cases, stream)
    stream = path_or_stream
    count = 0
    for case in cases:
        line = json.dumps(case_payload(case, mode="json"), ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            stream.write(line)
        except TypeError:  # a binary stream
            stream.write(line.encode("utf-8"))
        count += 1
    return count
