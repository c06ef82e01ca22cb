"""What every extractor returns: named numeric features plus evidence a mediator can check.

An extractor is a pure function ``extract(case, knowledge=None) -> Signals``: no I/O, no
global state, no model. Knowledge (lexicons, calendar, caps) is read-only data loaded once
and passed in, with a cached default when ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    """Which way an evidence item points."""

    minor = "minor"
    adult = "adult"
    neutral = "neutral"


class RecordRef:
    """A pointer to one input record: ``chats/m12``, ``recharges/ord-7``, ``face_checks/2``.

    ``record``, ``at`` (the record's time, or None) and ``excerpt``. Treat it as immutable (it is
    hashed, and compared by those three values). Not a frozen dataclass: that costs three times as
    much to build, and extractors build one for every record they cite.

    ``RecordRef(record, seconds, excerpt, zone)`` gives the time as POSIX seconds, made a
    ``datetime`` in ``zone`` when first read: the block extractors cite about 57 records a case,
    most never shown, and a ``datetime`` costs more to make than the reference itself.
    """

    __slots__ = ("record", "_at", "excerpt", "_zone")

    def __init__(self, record: str, at: datetime | int | None = None, excerpt: str | None = None,
                 zone: tzinfo | None = None) -> None:
        self.record = record
        self._at = at
        self.excerpt = excerpt
        self._zone = zone

    @property
    def at(self) -> datetime | None:
        if self._zone is not None:
            self._at = datetime.fromtimestamp(self._at, self._zone)  # type: ignore[arg-type]
            self._zone = None
        return self._at  # type: ignore[return-value]

    def _key(self) -> tuple[str, datetime | None, str | None]:
        return self.record, self.at, self.excerpt

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not RecordRef:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"RecordRef(record={self.record!r}, at={self.at!r}, excerpt={self.excerpt!r})"

    def to_dict(self) -> dict[str, Any]:
        at = self.at
        return {"record": self.record, "at": at.isoformat() if at else None, "excerpt": self.excerpt}


def record_ref(list_name: str, record: Any, index: int, *, at: datetime | None = None,
               excerpt: str | None = None, max_excerpt: int = 60) -> RecordRef:
    """Reference a record by its ``id`` when it has one, else by its position in the list."""
    rid = getattr(record, "id", None)
    key = rid if rid not in (None, "") else str(index)
    if excerpt is not None and len(excerpt) > max_excerpt:
        excerpt = excerpt[: max_excerpt - 1] + "…"
    return RecordRef(f"{list_name}/{key}", at, excerpt)


def payment_excerpt(amount: Any, currency: str, item: str | None) -> str:
    """How a payment is shown wherever it is cited: ``¥648 6480钻石``, ``4.99 USD``."""
    # str(Decimal) is format(Decimal, ""), and concatenation costs half an f-string here
    shown = "¥" + str(amount) if currency == "CNY" else f"{amount} {currency}"
    return shown + " " + item if item else shown


class EvidenceItem:
    """One readable reason, with a stable code and the records it rests on.

    ``code`` is stable across versions (reports and rulebooks refer to it). ``strength`` is
    the extractor's own count or magnitude (e.g. number of messages); the engine, not the
    extractor, decides the log-odds weight. Fields: ``code``, ``direction``, ``summary_en``,
    ``summary_zh``, ``records``, ``strength`` and ``value`` (an extracted value, e.g. a stated
    age of 13). Treat it as immutable: it is compared and hashed by those seven values.

    :meth:`deferred` builds an item whose summaries are formatted when first read: an assessment
    shows the rules' summaries, not the items', so a batch never formats most of them.
    """

    __slots__ = ("code", "direction", "_summary_en", "_summary_zh", "records", "strength", "value", "_pending")

    def __init__(self, code: str, direction: Direction, summary_en: str, summary_zh: str,
                 records: tuple[RecordRef, ...] = (), strength: float = 1.0, value: Any = None) -> None:
        self.code = code
        self.direction = direction
        self._summary_en = summary_en
        self._summary_zh = summary_zh
        self.records = records
        self.strength = strength
        self.value = value
        self._pending: tuple[Callable[[str, Any], str], Any] | None = None

    @classmethod
    def deferred(cls, code: str, direction: Direction, template_en: str, template_zh: str,
                 render: Callable[[Any, Any], str], args: Any, records: tuple[RecordRef, ...] = (),
                 strength: float = 1.0, value: Any = None) -> EvidenceItem:
        """An item whose summaries are ``render(template_en, args)`` and ``render(template_zh, args)``,
        worked out when first read."""
        item = cls(code, direction, template_en, template_zh, records, strength, value)
        item._pending = (render, args)
        return item

    def _format(self) -> None:
        render, args = self._pending  # type: ignore[misc]
        self._summary_en, self._summary_zh = render(self._summary_en, args), render(self._summary_zh, args)
        self._pending = None

    @property
    def summary_en(self) -> str:
        if self._pending is not None:
            self._format()
        return self._summary_en

    @property
    def summary_zh(self) -> str:
        if self._pending is not None:
            self._format()
        return self._summary_zh

    def _key(self) -> tuple:
        return (self.code, self.direction, self.summary_en, self.summary_zh, self.records, self.strength, self.value)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not EvidenceItem:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return ("EvidenceItem(" + ", ".join(f"{name}={value!r}" for name, value in zip(
            ("code", "direction", "summary_en", "summary_zh", "records", "strength", "value"), self._key(),
            strict=True)) + ")")


@dataclass(slots=True, unsafe_hash=True)
class FindingItem:
    """A regulatory fact reported whatever the probability (caps broken, a guest paid, ...).
    Treat it as immutable, as ``EvidenceItem``."""

    code: str
    summary_en: str
    summary_zh: str
    basis: str
    amount_cny: float | None = None
    records: tuple[RecordRef, ...] = ()


class PaymentValues(Mapping[str, dict[str, float]]):
    """One extractor's per-payment values, held by column: the payments' record keys in order
    (``records``), and one list per value name, None where a payment has no such value.

    It reads as the mapping it stands for, ``{"recharges/ord-1": {"holder_age": 12, ...}}``, each
    row made when read (values in the names' order, None left out), and equals any mapping with
    the same rows. The engine reads whole columns (:meth:`column`), a case's payments a few dicts
    fewer each: 40 rows a case per extractor cost more than the columns they are read from.
    """

    __slots__ = ("records", "_columns", "_flags", "_bits", "_index")

    def __init__(self, records: list[str] | None = None, columns: dict[str, list[Any]] | None = None) -> None:
        self.records: list[str] = records if records is not None else []
        self._columns: dict[str, list[Any]] = columns if columns is not None else {}
        self._flags: list[int] | None = None
        self._bits: dict[str, int] | None = None
        self._index: dict[str, int] | None = None

    @classmethod
    def from_flags(cls, records: list[str], flags: list[int], bits: dict[str, int]) -> PaymentValues:
        """0/1 values from each payment's bit flags: ``name`` is 1.0 where ``flags[i] & bits[name]``.
        A column is worked out when first read."""
        table = cls(records)
        table._flags, table._bits = flags, bits
        return table

    @property
    def names(self) -> list[str]:
        return list(self._bits if self._bits is not None else self._columns)

    def column(self, name: str) -> list[Any] | None:
        """The values of ``name``, one per record (None where a payment has none); None when this
        extractor gives no such value. Assigning into it changes the table."""
        found = self._columns.get(name)
        if found is None and self._bits is not None and name in self._bits:
            bit = self._bits[name]
            found = self._columns[name] = [1.0 if flags & bit else 0.0 for flags in self._flags]  # type: ignore[union-attr]
        return found

    @property
    def index(self) -> dict[str, int]:
        """Each record's place in ``records``."""
        if self._index is None:
            self._index = dict(zip(self.records, range(len(self.records)), strict=True))
        return self._index

    def position(self, record: str) -> int | None:
        """Where ``record`` is in ``records`` (None if absent)."""
        return self.index.get(record)

    def __getitem__(self, record: str) -> dict[str, float]:
        i = self.position(record)
        if i is None:
            raise KeyError(record)
        return {name: value for name in self.names if (value := self.column(name)[i]) is not None}  # type: ignore[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"PaymentValues({dict(self.items())!r})"


@dataclass(slots=True)
class Signals:
    """The output of one extractor for one case."""

    extractor: str
    version: str
    features: dict[str, float] = field(default_factory=dict)
    evidence: list[EvidenceItem] = field(default_factory=list)
    findings: list[FindingItem] = field(default_factory=list)
    # Per-payment features for attribution, keyed by the recharge's record ref ("recharges/ord-1").
    per_payment: PaymentValues = field(default_factory=PaymentValues)
    warnings: list[str] = field(default_factory=list)
