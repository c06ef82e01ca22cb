"""JSON Lines read into columns, validated per column: step 1 of docs/columnar.md.

``assessor batch`` reads JSON Lines through it (:mod:`assessor.batch_columns`): an accepted case is
scored from its columns, any other takes the usual reader (:mod:`assessor.io.reader`), which
validates each line into pydantic models and words every error. Its contract is tested in
tests/test_columnar.py, its cost measured by benchmarks/columnar_read.py.

:func:`read_block` takes a block of JSON Lines (as :func:`assessor.io.jsonio.unparsed_lines`
gives them) and reads it with pyarrow's JSON reader into one column per field of each record
list, for all the block's cases at once. Each column is then checked as the schema would check
its values. A case is **accepted** only when every one of its values is in a form whose
meaning the column path knows exactly; any other case is marked for the usual path
(``Block.fallback``), where it gets today's value or today's error message. So the column path
never guesses, and never words an error: it only declines.

What it declines (each case of the usual path is correct, just slower):
- a block pyarrow refuses (an unknown field, a type the column does not hold, bad JSON, a
  lone surrogate, invalid UTF-8, a line holding two records): split in halves and read again,
  down to ``_SMALLEST`` lines;
- a time not written ``2024-07-21T22:14:05`` / ``2024-07-21 22:14:05`` / ``2024/07/21 22:14:05``,
  with an optional ``Z`` or ``+08:00``; a login trace not in whole unix seconds;
- a case whose zone is not Asia/Shanghai, or with a time outside 1992-2037 (Beijing time has
  had one offset in that span, so wall clock and instant convert exactly);
- text with white space at either end, or blank (the schema strips and blanks it);
- a ``null`` where the schema tells ``null`` from a missing field (``"status": null``);
- an escaped ASCII character (``\\u0061``): keys must read as written for the checks above;
- a line over ``limits.MAX_TEXT_CHARS`` bytes (the usual path measures its texts);
- a case io/checks.py would refuse or repair: a time before ``limits.EARLIEST_EVENT`` or in the
  future, an amount over ``limits.MAX_AMOUNT``, an id used twice in a list, a birth date out of
  range. So an accepted case is admitted as it is.

Values the schema maps through aliases (channel, status, currency, speaker, chat channel) are
checked once per distinct value, by the schema itself. The case, claim, account and label
fields are few per case and are validated by the schema too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from assessor.io import limits
from assessor.io.checks import admits_unchanged
from assessor.schema import (
    DEFAULT_TIMEZONE,
    Case,
    Chat,
    LoginTrace,
    Recharge,
    Session,
    sessions_from_login_traces,
)

_S = pa.string()
_RECHARGE = pa.struct([("id", _S), ("at", _S), ("amount", pa.float64()), ("currency", _S), ("item", _S),
                       ("channel", _S), ("payer", _S), ("device_id", _S), ("status", _S),
                       ("disputed", pa.bool_()), ("by_minor", pa.bool_())])
_SESSION = pa.struct([("id", _S), ("start", _S), ("end", _S), ("device_id", _S), ("ip", _S)])
_TRACE = pa.struct([("si", _S), ("bt", pa.int64()), ("ot", pa.int64()), ("ct", pa.int64()), ("di", _S),
                    ("pi", _S)])
_CHAT = pa.struct([("id", _S), ("at", _S), ("speaker", _S), ("channel", _S), ("text", _S)])
_REAL_NAME = pa.struct([("status", _S), ("id_number", _S), ("birth_date", _S), ("holder", _S), ("method", _S),
                        ("verified_at", _S)])
_FACE_CHECK = pa.struct([("id", _S), ("at", _S), ("outcome", _S), ("matched", _S)])
_CLAIM = pa.struct([("minor_birth_date", _S), ("minor_id_number", _S), ("guardian_id_number", _S),
                    ("relation", _S), ("statement", _S), ("disputed_recharge_ids", pa.list_(_S))])
_ACCOUNT = pa.struct([("account_id", _S), ("platform", _S), ("game", _S), ("created_at", _S),
                      ("real_name", _REAL_NAME), ("face_checks", pa.list_(_FACE_CHECK))])
_LABEL = pa.struct([("minor_payer", pa.bool_()), ("source", _S)])
SCHEMA = pa.schema([("format", _S), ("case_id", _S), ("timezone", _S), ("claim", _CLAIM), ("account", _ACCOUNT),
                    ("recharges", pa.list_(_RECHARGE)), ("sessions", pa.list_(_SESSION)),
                    ("login_traces", pa.list_(_TRACE)), ("chats", pa.list_(_CHAT)), ("label", _LABEL)])
_HEAD = ("format", "case_id", "timezone", "claim", "account", "label")

ZONE = "Asia/Shanghai"
_OFFSET = 8 * 3600  # Beijing time, the same all year from 1992 (daylight saving ended in 1991)
_FIRST, _LAST = 694224000, 2145916800  # 1992-01-01 and 2038-01-01, UTC
_BLOCK_BYTES = 1 << 20  # pyarrow parses in blocks of this many bytes: 1 MiB read fastest here
_SMALLEST = 8  # a refused block is split down to this many lines, then takes the usual path

# Keys whose null the schema refuses while it fills in their absence: a null pyarrow reads as
# "missing" must not have been written as null.
_NULL_MATTERS = (b"status", b"holder", b"matched", b"face_checks", b"format", b"speaker", b"recharges", b"sessions",
                 b"login_traces", b"chats")
# Searched in the block's bytes reversed, so that the search starts from the rare literal "null".
_NULL_REVERSED = re.compile(rb'llun\s*:\s*"(?:' + b"|".join(key[::-1] for key in _NULL_MATTERS) + rb')"')
_ESCAPED_ASCII = re.compile(rb"\\u00[2-7][0-9a-fA-F]")
_AMOUNT = re.compile(rb'"amount"\s*:\s*([0-9][0-9.eE+-]*)')  # no sign: -0 is Decimal("0"), so declined
# White space at either end of a text: what str.strip(), str.isspace() and pydantic's strip remove.
_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_EDGE_SPACE = f"^{_SPACE}|{_SPACE}$"

Line = tuple[int, bytes]  # a line's number and its bytes


@dataclass
class Records:
    """One record list of a block's accepted and declined cases, flattened: ``offsets[k]`` to
    ``offsets[k + 1]`` are case k's rows of ``rows`` (a struct array)."""

    rows: pa.StructArray
    offsets: np.ndarray
    instants: dict[str, np.ndarray] = field(default_factory=dict)  # POSIX seconds of each time field


@dataclass
class Block:
    """A block of JSON Lines read into columns.

    ``lines``: the line numbers, in order; ``accepted[k]``: whether case k was read exactly here
    (else it takes the usual path: ``fallback`` lists those lines). Columns are kept for every
    case pyarrow read, accepted or not; only accepted cases' values are meant.
    """

    lines: list[int]
    accepted: np.ndarray
    heads: list[dict[str, Any]]  # the case fields of each case, as the schema validates them
    records: dict[str, Records]
    amounts: list[bytes | None]  # each payment's amount as written (an int and a float are different decimals)
    # Each accepted case's fields as the schema's model, its record lists empty (None where declined).
    models: list[Case | None] = field(default_factory=list)
    # What the block extractors read alike (payments in order, sessions), worked out by the first to ask.
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def fallback(self) -> list[int]:
        return [line for line, ok in zip(self.lines, self.accepted.tolist(), strict=True) if not ok]

    def cases(self) -> list[Case | None]:
        """Each case as the schema's models, or None where it takes the usual path: what validating
        its line gives (tests/test_columnar.py holds it to that). Built a column at a time."""
        if not self.accepted.any():
            return [None] * len(self.lines)
        tz = ZoneInfo(ZONE)  # the only zone accepted here
        built = {name: self._all_records(name, tz) for name in _MODELS}
        out: list[Case | None] = []
        for k, head in enumerate(self.heads):
            if not self.accepted[k]:
                out.append(None)
                continue
            case = Case.model_validate(head)
            fields = case.__dict__
            for name, records in built.items():
                offsets = self.records[name].offsets
                fields[name] = records[offsets[k]:offsets[k + 1]]
            if fields["login_traces"]:  # paired as the schema pairs them (Case._localise)
                known = {session.id for session in fields["sessions"]}
                fields["sessions"] = fields["sessions"] + [
                    s for s in sessions_from_login_traces(fields["login_traces"]) if s.id not in known]
            out.append(case)
        return out

    def _all_records(self, name: str, tz: ZoneInfo) -> list[Any]:
        """Every row of a record list as its model (rows of declined cases hold placeholders)."""
        part = self.records[name]
        model, extra = _MODELS[name]
        columns: dict[str, list[Any]] = {}
        for key in model.model_fields:
            if key in part.instants:
                columns[key] = [None if s == _NO_TIME else datetime.fromtimestamp(s, tz)
                                for s in part.instants[key].tolist()]
            else:
                columns[key] = part.rows.field(key).to_pylist()
        if model is Recharge:
            columns["amount"] = [_decimal(text) for text in self.amounts]
            columns["disputed"] = [True if flag is None else flag for flag in columns["disputed"]]
        for key, read in _READ_BY_VALUE.get(model, {}).items():
            columns[key] = list(map(_by_value(read, key, columns[key]).__getitem__, columns[key]))
        keys = list(columns)
        return [_model(model, dict(zip(keys, values, strict=True)), extra)
                for values in zip(*columns.values(), strict=True)]


_NO_TIME = np.iinfo(np.int64).min
_set = object.__setattr__


def _decimal(text: bytes | None) -> Decimal | None:
    """An amount as the schema reads it from its JSON: an integer exactly, a float through its repr."""
    if text is None:
        return None
    if any(c in text for c in b".eE"):
        return Decimal(repr(float(text)))
    return Decimal(text.decode())


def _model(model: type, values: dict[str, Any], extra: dict | None) -> Any:
    """A record as the schema builds it from valid input, without validating it again."""
    record = model.__new__(model)
    _set(record, "__dict__", values)
    _set(record, "__pydantic_fields_set__", {key for key, value in values.items() if value is not None})
    _set(record, "__pydantic_extra__", None if extra is None else dict(extra))
    _set(record, "__pydantic_private__", None)
    return record


_REFUSED = object()  # the reading of a value the schema refuses (its case is declined)


def _by_value(read: Any, name: str, values: Iterable[Any]) -> dict[Any, Any]:
    """The schema's reading of each distinct value, or ``_REFUSED``."""
    out = {}
    for value in set(values):
        try:
            out[value] = read(name, value)
        except ValueError:
            out[value] = _REFUSED
    return out


_PROBE = {"at": "2020-01-01T00:00:00", "amount": 0}


@lru_cache(maxsize=4096)  # bounded: a hostile file may hold a million distinct values
def _recharge_field(name: str, value: Any) -> Any:
    """The schema's reading of one value of a payment field (raises ValueError when it refuses it)."""
    return getattr(Recharge.model_validate({**_PROBE, name: value}), name)


@lru_cache(maxsize=4096)
def _chat_field(name: str, value: Any) -> Any:
    payload = {"text": ""} if value is None else {"text": "", name: value}
    return getattr(Chat.model_validate(payload), name)


def read_block(lines: Sequence[Line], *, timezone: str | None = None, now: datetime | None = None) -> list[Block]:
    """The block's lines read into columns: one :class:`Block` per piece pyarrow read (a block
    it refuses is split), in line order. ``timezone``: for cases naming none (as the reader's);
    ``now``: the moment no event may be later than (give one per read, as the reader does)."""
    blocks: list[Block] = []
    if not lines:
        return blocks
    plausible = _Plausible(now or datetime.now(UTC))
    for piece, table, data in _read(list(lines)):
        blocks.append(_block(piece, table, data, timezone or DEFAULT_TIMEZONE, plausible))
    return blocks


@dataclass(frozen=True)
class _Plausible:
    """What io/checks.py admits unchanged, for columns: times in its window, amounts under its
    limit, one record per id. A case it would refuse or repair is declined to the usual path."""

    now: datetime

    @property
    def window(self) -> tuple[int, float]:
        """The POSIX seconds no time may be before or after (the earliest in Beijing time)."""
        earliest = limits.EARLIEST_EVENT
        earliest = earliest if earliest.tzinfo else earliest.replace(tzinfo=ZoneInfo(ZONE))
        now = self.now if self.now.tzinfo else self.now.replace(tzinfo=UTC)
        return int(earliest.timestamp()), (now + limits.FUTURE_TOLERANCE).timestamp()

    def rows(self, name: str, rows: pa.StructArray, part: Records) -> np.ndarray:
        earliest, latest = self.window
        bad = np.zeros(len(rows), bool)
        for instants in part.instants.values():
            bad |= (instants != _NO_TIME) & ((instants < earliest) | (instants > latest))
        if name == "recharges":
            bad |= rows.field("amount").fill_null(0).to_numpy(zero_copy_only=False) > limits.MAX_AMOUNT
        return bad

    @staticmethod
    def repeated_ids(ids: pa.Array, case_of: np.ndarray, n: int) -> np.ndarray:
        """Whether each case holds an id twice in the list (a repeat is repaired, a conflict refused)."""
        given = _valid(ids)
        if not given.any():
            return np.zeros(n, bool)
        codes = pc.dictionary_encode(ids.filter(pa.array(given))).indices.to_numpy(zero_copy_only=False)
        width = int(codes.max()) + 1
        keys = np.sort(case_of[given] * width + codes)
        return np.bincount(keys[1:][keys[1:] == keys[:-1]] // width, minlength=n) > 0  # a key met twice


def _read(lines: list[Line]) -> Iterable[tuple[list[Line], pa.Table | None, bytes]]:
    """The lines read by pyarrow (None for a piece it refuses), split in halves around refusals."""
    data = b"".join(raw if raw.endswith(b"\n") else raw + b"\n" for _, raw in lines)
    block_size = max(_BLOCK_BYTES, max(len(raw) for _, raw in lines) + 2)  # pyarrow's blocks hold whole lines
    try:
        table = pj.read_json(pa.BufferReader(data), read_options=pj.ReadOptions(use_threads=False,
                                                                               block_size=block_size),
                             parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="error"))
        table.validate(full=True)  # the reader does not check that text is UTF-8
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        table = None
    if table is not None and table.num_rows == len(lines):  # else a line held two records, or none
        yield lines, table, data
    elif len(lines) <= _SMALLEST:
        yield lines, None, data
    else:
        half = len(lines) // 2
        yield from _read(lines[:half])
        yield from _read(lines[half:])


def _block(lines: list[Line], table: pa.Table | None, data: bytes, default_zone: str,
           plausible: _Plausible) -> Block:
    numbers = [number for number, _ in lines]
    if table is None:
        return Block(numbers, np.zeros(len(lines), bool), [], {}, [])
    n = len(lines)
    ok = np.array([len(raw) <= limits.MAX_TEXT_CHARS for _, raw in lines], bool)
    ok &= ~_lines_matching(lines, data)
    heads = table.select(list(_HEAD)).to_pylist()
    models: list[Case | None] = [None] * n
    for k, head in enumerate(heads):
        if ok[k] and (head["timezone"] or default_zone) == ZONE:
            models[k] = _head_model(head, default_zone, plausible.now)
        ok[k] = models[k] is not None
    records: dict[str, Records] = {}
    for name in ("recharges", "sessions", "login_traces", "chats"):
        column = table.column(name).combine_chunks()
        offsets = column.offsets.to_numpy()
        offsets = offsets - offsets[0]  # list_flatten's rows start at the first list's first row
        # A null list is a missing one (no list is written null: _NULL_MATTERS): no records.
        rows = pc.list_flatten(column)
        part = Records(rows, offsets)
        case_of = np.repeat(np.arange(n), np.diff(offsets))
        bad = _ROW_CHECKS[name](rows, part) | plausible.rows(name, rows, part)
        ok &= ~_per_case(bad, case_of, n)
        if name != "login_traces":  # a trace's si pairs a login with its logout: it comes twice
            ok &= ~plausible.repeated_ids(rows.field("id"), case_of, n)
        records[name] = part
    amounts = _amount_texts(lines, records["recharges"], ok)
    return Block(numbers, ok, heads, records, amounts, [m if keep else None for m, keep in zip(models, ok.tolist(),
                                                                                          strict=True)])


def _lines_matching(lines: list[Line], data: bytes) -> np.ndarray:
    """Which lines hold a null the schema tells from a missing field, or an escaped ASCII character.

    ``data``: the lines joined, each ending in a newline."""
    ends = np.cumsum([len(raw) + (not raw.endswith(b"\n")) for _, raw in lines])
    found = [len(data) - match.end() for match in _NULL_REVERSED.finditer(data[::-1])]
    found += [match.start() for match in _ESCAPED_ASCII.finditer(data)]
    out = np.zeros(len(lines), bool)
    out[np.searchsorted(ends, np.array(found, np.int64), side="right")] = True
    return out


def _head_model(head: dict[str, Any], default_zone: str, now: datetime) -> Case | None:
    """The case fields as the schema's model, when they validate as given (nulls that mean "missing"
    dropped, the default zone filled in) and io/checks.py admits them unchanged; else None. The head
    is then what :meth:`Block.cases` validates again."""
    _drop_missing(head)
    if head.get("timezone") is None:
        head["timezone"] = default_zone
    try:
        model = Case.model_validate(head)
    except ValueError:
        return None
    return model if admits_unchanged(model, now) else None


def _drop_missing(head: dict[str, Any]) -> None:
    """pyarrow gives a missing field as null; for these the schema's default differs from null
    (an explicit null was ruled out by ``_NULL_MATTERS``)."""
    for key in ("format", "claim", "account", "label"):
        if head.get(key) is None:
            head.pop(key, None)
    account = head.get("account")
    if account is not None:
        if account.get("face_checks") is None:
            account.pop("face_checks")
        real_name = account.get("real_name")
        if real_name is not None:
            for key in ("status", "holder"):
                if real_name.get(key) is None:
                    real_name.pop(key)
        for check in account.get("face_checks") or ():
            if check.get("matched") is None:
                check.pop("matched")


def _per_case(bad: np.ndarray, case_of: np.ndarray, n: int) -> np.ndarray:
    """Whether each case holds a bad row (``case_of``: the case of each row)."""
    return np.bincount(case_of[bad], minlength=n) > 0


def _valid(array: pa.Array) -> np.ndarray:
    return array.is_valid().to_numpy(zero_copy_only=False)


def _text_bad(array: pa.Array, *, blank_ok: bool = False) -> np.ndarray:
    """A text the schema would strip or blank (null is fine: it reads as missing)."""
    edge = pc.match_substring_regex(array, _EDGE_SPACE).fill_null(False).to_numpy(zero_copy_only=False)
    if blank_ok:
        return edge
    return edge | (pc.utf8_length(array).fill_null(1).to_numpy(zero_copy_only=False) == 0)


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
_ZERO, _DASH, _SLASH, _COLON = (np.uint8(ord(c)) for c in "0-/:")


def _times(array: pa.StringArray, *, required: bool) -> tuple[np.ndarray, np.ndarray]:
    """POSIX seconds of each time (``_NO_TIME`` for null), and which are bad: not in a known layout,
    not a real date and time, or outside the years Beijing time has one offset.

    Read straight from the column's bytes: each layout has its characters at fixed places
    (``2024-07-21T22:14:05``, ``/`` or ``-`` in the date, ``T`` or a space before the time, then
    nothing, ``Z`` or an offset ``+08:00``)."""
    n = len(array)
    present = _valid(array)
    buffer = array.buffers()[2] if n else None
    data = np.frombuffer(buffer, np.uint8) if buffer is not None else np.zeros(0, np.uint8)
    if not len(data):  # no text at all (every time null or empty): nothing present is a time
        return np.full(n, _NO_TIME), present | (~present if required else np.zeros(n, bool))
    offsets = np.frombuffer(array.buffers()[1], np.int32)[array.offset:array.offset + n + 1]
    start, size = offsets[:-1].astype(np.intp), np.diff(offsets)
    last = len(data) - 1

    def char(i: int) -> np.ndarray:
        return data[np.minimum(start + i, last)]

    def number(first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The number written at ``first`` (``count`` digits), and whether they are all digits."""
        value, digits = np.zeros(n, np.int64), np.ones(n, bool)
        for i in range(first, first + count):
            digit = char(i) - _ZERO  # a byte below "0" wraps round past 9
            digits &= digit <= 9
            value = value * 10 + digit
        return value, digits

    (year, y_ok), (month, mo_ok), (day, d_ok) = number(0, 4), number(5, 2), number(8, 2)
    (hour, h_ok), (minute, mi_ok), (second, s_ok) = number(11, 2), number(14, 2), number(17, 2)
    ok = present & ((size == 19) | (size == 20) | (size == 25)) & y_ok & mo_ok & d_ok & h_ok & mi_ok & s_ok
    ok &= (char(4) == _DASH) | (char(4) == _SLASH)
    ok &= (char(7) == _DASH) | (char(7) == _SLASH)
    ok &= (char(10) == ord("T")) | (char(10) == ord(" "))
    ok &= (char(13) == _COLON) & (char(16) == _COLON)
    offset = np.full(n, _OFFSET, np.int64)  # naive: Beijing time
    zoned = size == 20
    ok &= ~zoned | (char(19) == ord("Z"))
    offset[zoned] = 0
    shifted = size == 25
    if shifted.any():
        sign = char(19)
        (hours, hh_ok), (minutes, mm_ok) = number(20, 2), number(23, 2)
        ok &= ~shifted | (((sign == ord("+")) | (sign == _DASH)) & (char(22) == _COLON) & hh_ok & mm_ok
                          & (hours <= 23) & (minutes <= 59))
        offset = np.where(shifted, np.where(sign == _DASH, -1, 1) * (hours * 3600 + minutes * 60), offset)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    posix = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    ok &= (posix >= _FIRST) & (posix < _LAST)
    bad = present & ~ok
    if required:
        bad |= ~present
    return np.where(ok, posix, _NO_TIME), bad


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each date (H. Hinnant's algorithm, proleptic Gregorian)."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _distinct_bad(array: pa.Array, read: Any, name: str) -> np.ndarray:
    """Whether each value is one the schema refuses, asking the schema once per distinct value."""
    readings = _by_value(read, name, pc.unique(array).to_pylist())
    refused = {value for value, reading in readings.items() if reading is _REFUSED}
    if not refused:
        return np.zeros(len(array), bool)
    return pc.is_in(array, value_set=pa.array([v for v in refused if v is not None], _S)).fill_null(
        None in refused).to_numpy(zero_copy_only=False)


def _recharge_rows(rows: pa.StructArray, part: Records) -> np.ndarray:
    at, bad = _times(rows.field("at"), required=True)
    part.instants["at"] = at
    amount = rows.field("amount")
    yuan = amount.fill_null(-1).to_numpy(zero_copy_only=False)
    bad |= ~np.isfinite(yuan) | (yuan < 0)
    for name in ("id", "item", "payer", "device_id"):
        bad |= _text_bad(rows.field(name))
    for name in ("currency", "channel", "status"):
        bad |= _distinct_bad(rows.field(name), _recharge_field, name)
    return bad


def _session_rows(rows: pa.StructArray, part: Records) -> np.ndarray:
    start, bad = _times(rows.field("start"), required=True)
    end, end_bad = _times(rows.field("end"), required=False)
    part.instants["start"], part.instants["end"] = start, end
    bad |= end_bad | ((end != _NO_TIME) & (end < start))  # as the schema compares them, in the case's zone
    for name in ("id", "device_id", "ip"):
        bad |= _text_bad(rows.field(name))
    return bad


def _trace_rows(rows: pa.StructArray, part: Records) -> np.ndarray:
    bt, ot = rows.field("bt"), rows.field("ot")
    seconds = ot.fill_null(0).to_numpy(zero_copy_only=False)
    bad = ~_valid(bt) | ~_valid(ot) | (seconds < _FIRST) | (seconds >= _LAST)
    bad |= ~pc.is_in(bt, value_set=pa.array([0, 1])).fill_null(False).to_numpy(zero_copy_only=False)
    part.instants["ot"] = np.where(bad, _NO_TIME, seconds)
    for name in ("si", "di", "pi"):
        bad |= _text_bad(rows.field(name))
    return bad


def _chat_rows(rows: pa.StructArray, part: Records) -> np.ndarray:
    at, bad = _times(rows.field("at"), required=False)
    part.instants["at"] = at
    text = rows.field("text")
    bad |= ~_valid(text) | _text_bad(text, blank_ok=True)
    bad |= _text_bad(rows.field("id"))
    for name in ("speaker", "channel"):
        bad |= _distinct_bad(rows.field(name), _chat_field, name)
    return bad


_MODELS: dict[str, tuple[type, dict | None]] = {  # each record list's model, and its extra fields when kept
    "recharges": (Recharge, {}), "sessions": (Session, {}), "login_traces": (LoginTrace, {}), "chats": (Chat, None)}
_READ_BY_VALUE = {Recharge: {"currency": _recharge_field, "channel": _recharge_field, "status": _recharge_field},
                  Chat: {"speaker": _chat_field, "channel": _chat_field}}
_ROW_CHECKS = {"recharges": _recharge_rows, "sessions": _session_rows, "login_traces": _trace_rows,
               "chats": _chat_rows}


def _amount_texts(lines: list[Line], payments: Records, ok: np.ndarray) -> list[bytes | None]:
    """Each payment's amount as written, read from its line: pyarrow gives 198 and 198.0 alike, and
    the schema keeps them apart (Decimal("198") and Decimal("198.0")). A case whose amounts cannot
    be lined up with its payments is declined."""
    out: list[bytes | None] = []
    offsets = payments.offsets
    for k, (_, raw) in enumerate(lines):
        found = _AMOUNT.findall(raw) if ok[k] else []
        want = int(offsets[k + 1] - offsets[k])
        if ok[k] and len(found) != want:
            ok[k] = False
        out += found if ok[k] else [None] * want
    return out


def distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted (``np.unique(keys)``), by sorting: numpy 2's
    ``np.unique`` hashes, and on a block's ten thousand keys that costs three or four times as much."""
    ordered = np.sort(keys)
    if len(ordered) < 2:
        return ordered
    first = np.empty(len(ordered), bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]

