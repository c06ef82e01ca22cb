"""What every extractor returns: named numeric features plus evidence a mediator can check.

An extractor is a pure function ``extract(case, knowledge=None) -> Signals``: no I/O, no
global state, no model. Knowledge (lexicons, calendar, caps) is read-only data loaded once
and passed in, with a cached default when ``None``.
"""

from __future__ import annotations

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


@dataclass(slots=True, unsafe_hash=True)
class EvidenceItem:
    """One readable reason, with a stable code and the records it rests on.

    Treat it as immutable (it is hashed). Not ``frozen``, as ``RecordRef``: a frozen dataclass
    costs four times as much to build (1.1 µs against 0.25), and a case holds about ten.

    ``code`` is stable across versions (reports and rulebooks refer to it). ``strength`` is
    the extractor's own count or magnitude (e.g. number of messages); the engine, not the
    extractor, decides the log-odds weight.
    """

    code: str
    direction: Direction
    summary_en: str
    summary_zh: str
    records: tuple[RecordRef, ...] = ()
    strength: float = 1.0
    value: Any = None  # an extracted value, e.g. a stated age of 13


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


@dataclass(slots=True)
class Signals:
    """The output of one extractor for one case."""

    extractor: str
    version: str
    features: dict[str, float] = field(default_factory=dict)
    evidence: list[EvidenceItem] = field(default_factory=list)
    findings: list[FindingItem] = field(default_factory=list)
    # Per-payment features for attribution, keyed by the recharge's record ref ("recharges/ord-1").
    per_payment: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
