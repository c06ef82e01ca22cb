"""Checks a case must pass beyond its schema: bounded sizes, plausible values, one record per id.

The schema says what a value may look like; these say what no genuine export holds: a chat
message of 50 MB, a payment of a trillion yuan, a payment dated 1970 or 2999, two different
orders under one order number. Each problem is a (location, message) pair, located like a
validation error so the loader can name the file, line or row, and field.

One repair is made, and documented: a record repeated exactly under the same id (an export
that pages with overlap) is kept once. Lone UTF-16 surrogates (an emoji cut in half by the
exporting system) become U+FFFD, the Unicode replacement character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

from assessor.io import limits
from assessor.schema import Case

Location = tuple[Any, ...]
Problem = tuple[Location, str]

# The record lists whose ids name records (``recharges/ord-7``), as paths in the case.
_RECORD_LISTS: tuple[tuple[str, ...], ...] = (("recharges",), ("sessions",), ("chats",), ("account", "face_checks"))
# Text the engine reads as language, record by record (ids and device ids are only compared;
# the line limit bounds them). Single records (claim, account, ...) have all their text checked.
_READ_TEXT = ((("recharges",), ("item", "payer")), (("chats",), ("text",)))
_ID = attrgetter("id")
_AMOUNT = attrgetter("amount")
_GETTERS = {name: attrgetter(name) for name in ("at", "start", "end", "ot", "created_at", "verified_at")}


# --------------------------------------------------------------------------- before validation


def oversized_texts(payload: dict[str, Any], size: int | None = None) -> list[Problem]:
    """Text longer than ``limits.MAX_TEXT_CHARS``, found before validation copies it.

    Checked: every text of the case, claim, account and real-name record, and the text the
    engine reads as language in each record (``_READ_TEXT``); ids and device ids are only
    compared, and the line limit bounds them. ``size``, the characters of the JSON text the
    case came from, skips the check when no text in it can be that long.
    """
    limit = limits.MAX_TEXT_CHARS
    if size is not None and size <= limit:
        return []
    found: list[Problem] = []
    singles: list[tuple[Location, Any]] = [((), payload)]
    for path in (("claim",), ("account",), ("account", "real_name")):
        singles.append((path, _at(payload, path)))
    for path, record in singles:
        if isinstance(record, dict):
            found += [((*path, key), _too_long(value)) for key, value in record.items()
                      if isinstance(value, str) and len(value) > limit]
    for path, names in _READ_TEXT:
        records = _at(payload, path)
        if not isinstance(records, list):
            continue
        for name in names:
            try:  # in C: every record a dict holding text here (the common case), ...
                longest = max(map(len, map(itemgetter(name), records)), default=0)
            except (KeyError, TypeError):
                try:  # ... or some without it ...
                    longest = max(map(len, filter(None, map(methodcaller("get", name), records))), default=0)
                except (AttributeError, TypeError):  # ... or odd records, which validation will name
                    longest = limit + 1
            if longest > limit:
                found += [((*path, index, name), _too_long(record[name])) for index, record in enumerate(records)
                          if isinstance(record, dict) and isinstance(record.get(name), str)
                          and len(record[name]) > limit][:1]
    return found


def _too_long(text: str) -> str:
    return (f"text of {len(text):,} characters is longer than the limit of {limits.MAX_TEXT_CHARS:,} "
            "(assessor.io.limits.MAX_TEXT_CHARS)")


def _at(payload: Any, path: tuple[str, ...]) -> Any:
    node = payload
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def replace_lone_surrogates(value: Any) -> Any:
    """The payload with every lone surrogate in its text replaced by U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {replace_lone_surrogates(key): replace_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(item) for item in value]
    return value


# --------------------------------------------------------------------------- after validation
#
# These run on every case of a batch, so each check is a pass over attribute values in C
# (attrgetter, min, max, set) and looks for the offending record only when there is one.


def check_case(case: Case, now: datetime, place: Callable[[Location], str] | None = None) -> list[Problem]:
    """Implausible values and conflicting duplicate ids; drops exact repeats of a record (the repair).

    ``place`` names a location for a message (``chats row 5``); the default is the dotted path.
    """
    problems, repeats = _duplicates(case, place or _dotted)
    problems += _amounts(case)
    problems += _times(case, now)
    problems += _birth_dates(case, now)
    if not problems:  # repaired last: the problems above are located by the records' places as given
        for path, records in repeats:
            _set(case, path, records)
    return problems


def admits_unchanged(case: Case, now: datetime) -> bool:
    """Whether :func:`check_case` would find no problem and repair nothing: the test the columnar
    reader (assessor/io/columnar.py) applies to the case fields it validates as models."""
    problems, repeats = _duplicates(case, _dotted)
    return not (problems or repeats or _amounts(case) or _times(case, now) or _birth_dates(case, now))


def _records(case: Case, path: tuple[str, ...]) -> list[Any]:
    node: Any = case
    for part in path:
        node = getattr(node, part, None) if node is not None else None
    return node if isinstance(node, list) else []


def _from_traces(record: Any) -> bool:
    return (record.model_extra or {}).get("source") == "login_traces"


def _dotted(loc: Location) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
                   for i, part in enumerate(loc))


def _duplicates(case: Case, place: Callable[[Location], str]) -> tuple[list[Problem], list[tuple[tuple[str, ...], list[Any]]]]:
    """Records that reuse another's id with other content; and each list without its exact repeats."""
    problems: list[Problem] = []
    repeats: list[tuple[tuple[str, ...], list[Any]]] = []
    for path in _RECORD_LISTS:
        records = _records(case, path)
        if len(records) < 2:
            continue
        ids = list(map(_ID, records))
        blank = ids.count(None)
        if len(set(ids)) - (1 if blank else 0) == len(ids) - blank:
            continue  # every id once: the common case, decided in C
        first: dict[str, int] = {}
        keep: list[Any] = []
        for index, record in enumerate(records):
            key = record.id
            if key is None or _from_traces(record):
                keep.append(record)
            elif key not in first:
                first[key] = index
                keep.append(record)
            elif records[first[key]] != record:
                where = place((*path, first[key]))
                problems.append(((*path, index, "id"), f"id {key!r} is used again by a different record "
                                                       f"(first at {where}); one id must name one record"))
        if len(keep) < len(records):
            repeats.append((path, keep))
    return problems, repeats


def _set(case: Case, path: tuple[str, ...], records: list[Any]) -> None:
    node: Any = case
    for part in path[:-1]:
        node = getattr(node, part)
    setattr(node, path[-1], records)


def _amounts(case: Case) -> list[Problem]:
    limit = Decimal(limits.MAX_AMOUNT)
    if not case.recharges or max(map(_AMOUNT, case.recharges)) <= limit:
        return []
    for index, payment in enumerate(case.recharges):
        if payment.amount > limit:
            more = sum(1 for p in case.recharges[index + 1:] if p.amount > limit)
            return [(("recharges", index, "amount"),
                     f"{_amount_text(payment.amount)} {payment.currency} is more than one payment can be "
                     f"(limit {limits.MAX_AMOUNT:,}; assessor.io.limits.MAX_AMOUNT): a unit or parsing error?"
                     + (f" {more} more payment(s) also exceed it" if more else ""))]
    return []


def _amount_text(amount: Decimal) -> str:
    return f"{amount:,f}" if amount < Decimal("1e15") else f"{amount:.3E}"


def _event_times(case: Case) -> Iterator[tuple[tuple[Any, ...], str, list[Any]]]:
    """(path of the list, time field, records) for every kind of event time in the case."""
    if case.account is not None:
        yield ("account",), "created_at", [case.account]
        if case.account.real_name is not None:
            yield ("account", "real_name"), "verified_at", [case.account.real_name]
        yield ("account", "face_checks"), "at", case.account.face_checks
    yield ("recharges",), "at", case.recharges
    given = len(case.sessions)  # sessions paired from login traces come last: checked as the traces
    while given and _from_traces(case.sessions[given - 1]):
        given -= 1
    yield ("sessions",), "start", case.sessions[:given]
    yield ("sessions",), "end", case.sessions[:given]
    yield ("login_traces",), "ot", case.login_traces
    yield ("chats",), "at", case.chats


def _times(case: Case, now: datetime) -> list[Problem]:
    earliest = limits.EARLIEST_EVENT
    earliest = earliest if earliest.tzinfo else earliest.replace(tzinfo=case.tz)
    latest = _aware(now) + limits.FUTURE_TOLERANCE
    lists = list(_event_times(case))
    moments: list[Any] = []
    for _, name, records in lists:
        moments += map(_GETTERS[name], records)
    moments = list(filter(None, moments))  # a datetime is never false; missing ones are None
    if not moments or (earliest <= min(moments) and max(moments) <= latest):
        return []  # all plausible: the common case, decided in C
    early: list[tuple[Location, datetime]] = []
    late: list[tuple[Location, datetime]] = []
    for path, name, records in lists:
        single = path[-1] in ("account", "real_name")
        for index, record in enumerate(records):
            moment = getattr(record, name)
            if moment is None:
                continue
            loc = (*path, name) if single else (*path, index, name)
            if moment < earliest:
                early.append((loc, moment))
            elif moment > latest:
                late.append((loc, moment))
    problems: list[Problem] = []
    if early:
        loc, moment = early[0]
        more = f"; {len(early) - 1} more time(s) also" if len(early) > 1 else ""
        problems.append((loc, f"{_local(moment, case)} is before {earliest:%Y-%m-%d} "
                              "(assessor.io.limits.EARLIEST_EVENT), earlier than any game payment or login it "
                              f"could record: a zero or placeholder time in the export?{more}"))
    if late:
        loc, moment = late[0]
        more = f"; {len(late) - 1} more time(s) also" if len(late) > 1 else ""
        problems.append((loc, f"{_local(moment, case)} is in the future (later than {latest.astimezone(case.tz):%Y-%m-%d %H:%M}): "
                              f"a wrong year, or day and month read the wrong way round?{more}"))
    return problems


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _local(moment: datetime, case: Case) -> str:
    try:
        moment = moment.astimezone(case.tz)
    except (OverflowError, ValueError):  # year 1 or 9999 in another zone
        pass
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment.hour:02d}:{moment.minute:02d}"


def _birth_dates(case: Case, now: datetime) -> list[Problem]:
    today = now.astimezone(case.tz).date() if now.tzinfo else now.date()
    found: list[tuple[Location, date | None]] = []
    if case.claim is not None:
        found.append((("claim", "minor_birth_date"), case.claim.minor_birth_date))
    if case.account is not None and case.account.real_name is not None:
        found.append((("account", "real_name", "birth_date"), case.account.real_name.birth_date))
    problems: list[Problem] = []
    for loc, born in found:
        if born is None:
            continue
        if born > today:
            problems.append((loc, f"birth date {born} is in the future"))
        elif born < limits.EARLIEST_BIRTH:
            problems.append((loc, f"birth date {born} is before {limits.EARLIEST_BIRTH} "
                                  "(assessor.io.limits.EARLIEST_BIRTH)"))
    return problems
