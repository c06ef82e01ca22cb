"""The batch's column path: a chunk of JSON Lines scored from its columns (docs/columnar.md).

:func:`scored_cases` reads the chunk's raw lines into columns
(:func:`assessor.io.columnar.read_block`), gives each case the reader accepts its signals from
the three block extractors (``real_name_block``, ``chat_block``, ``recharge_block``, each the
same signals as its extractor gives on the case's models), and scores it with the engine from a
:class:`ColumnCase`: what the engine reads of a case, taken from the columns. No record becomes
a pydantic model.

A case the reader declines, or that a block extractor leaves to the usual path, is not in the
result: the batch validates and scores it as before, with today's messages for bad input. The
output is the same bytes either way (tests/test_batch_columns.py holds the batch to that on
simulated disputes, the samples and the hostile-input corpus).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from assessor.engine import CaseSignals
from assessor.features import chat_block, real_name_block, recharge_block
from assessor.io import columnar
from assessor.io.columnar import Block
from assessor.schema import Case, RechargeStatus


class Payment(NamedTuple):
    """A payment as the engine reads it (``Recharge``'s fields of the same names and values)."""

    id: str | None
    currency: str
    status: RechargeStatus
    amount: Decimal
    disputed: bool


class ColumnCase:
    """What the engine reads of a case the reader accepted: its id and account (the schema's model of
    the case's fields), its payments in file order, and whether it has chat lines and sessions (the
    engine asks only that: ``chats`` and ``sessions`` are ranges of their counts)."""

    __slots__ = ("case_id", "account", "recharges", "chats", "sessions")

    def __init__(self, head: Case, recharges: list[Payment], chats: int, sessions: int) -> None:
        self.case_id, self.account = head.case_id, head.account
        self.recharges, self.chats, self.sessions = recharges, range(chats), range(sessions)


def scored_cases(lines: Sequence[bytes], *, now: datetime, timezone: str | None = None
                 ) -> Iterator[tuple[int, ColumnCase, CaseSignals]]:
    """(position in ``lines``, the case, its signals) for each case the column path scores, in order."""
    for block in columnar.read_block(list(enumerate(lines)), timezone=timezone, now=now):
        if not block.accepted.any():
            continue
        # Case by case (each extractor's block work is done on its first case), so that one case's
        # signals are held at a time.
        given = zip(real_name_block.iter_block(block), chat_block.iter_block(block),
                    recharge_block.iter_block(block), strict=True)
        views = _Views(block)
        for c, extracted in enumerate(given):
            if None in extracted:
                continue
            signals = CaseSignals()
            for part in extracted:  # in the engine's order of extractors (engine.EXTRACTORS)
                signals.add(part)
            yield block.lines[c], views.case(c), signals


class _Views:
    """The block's columns the engine reads, as lists, for :class:`ColumnCase`."""

    def __init__(self, block: Block) -> None:
        payments = block.records["recharges"]
        rows = payments.rows
        self.block = block
        self.offsets = payments.offsets.tolist()
        self.ids = rows.field("id").to_pylist()
        # Currency and status as the block extractors read them (in time order), put back in file order.
        every = recharge_block.ordered_payments(block)
        self.currency, self.status = np.empty(len(rows), object), np.empty(len(rows), object)
        self.currency[every.order], self.status[every.order] = every.currency, every.status
        self.disputed = rows.field("disputed").fill_null(True).to_numpy(zero_copy_only=False).tolist()
        self._decimals: dict[bytes, Decimal] = {}  # each distinct amount as written, read as the schema reads it
        cases = len(block.lines)
        self.chats = np.diff(block.records["chats"].offsets).tolist()
        paired = np.bincount(recharge_block.trace_sessions(block).case, minlength=cases)  # sessions the schema pairs from traces
        self.sessions = (np.diff(block.records["sessions"].offsets) + paired).tolist()

    def case(self, c: int) -> ColumnCase:
        lo, hi = self.offsets[c], self.offsets[c + 1]
        decimals = self._decimals
        amounts = [decimals[text] if text in decimals else decimals.setdefault(text, columnar._decimal(text))
                   for text in self.block.amounts[lo:hi]]
        payments = list(map(Payment, self.ids[lo:hi], self.currency[lo:hi].tolist(), self.status[lo:hi].tolist(),
                            amounts, self.disputed[lo:hi]))
        return ColumnCase(self.block.models[c], payments, self.chats[c], self.sessions[c])
