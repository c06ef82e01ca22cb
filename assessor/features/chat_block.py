"""Chat signals of a whole block of cases at once, from its columns (docs/columnar.md).

``assessor batch`` uses it for the JSON Lines cases the columnar reader accepts
(:mod:`assessor.batch_columns`); one case on its own still takes :func:`assessor.features.chat.extract`
on its models. Its contract is tested in tests/test_chat_block.py, its cost measured by
``benchmarks/extract.py --columnar``.

:func:`iter_block` takes a :class:`assessor.io.columnar.Block` and gives, for each case the
reader accepted, exactly the :class:`Signals` that ``chat.extract`` gives for that case's models
(features bit for bit and in the same order, evidence items with their records and words);
``None`` for a case the reader declined, and for every case of a block of more than ``MAX_CASES``.

A message's reading depends on its text, on whether the account wrote it, and (for a birth year
such as "我是10后") on its year. So the block's texts are numbered once (pyarrow's dictionary
encoding), each distinct (text, side) is read once, from the extractor's memo or by its reader,
and every line of the block takes its pair's reading by array indexing. A line whose reading used
its year is read again with its own year, as the extractor does. Python then touches, per case,
only the lines that say something.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import repeat
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from assessor.features import chat as ch
from assessor.features import recharge_block as rb
from assessor.features.base import RecordRef, Signals
from assessor.io import columnar
from assessor.io.columnar import Block
from assessor.schema import Speaker

MAX_CASES = rb.MAX_CASES
_TZ = ZoneInfo(columnar.ZONE)  # the only zone the reader accepts


def extract_block(block: Block, knowledge: ch.ChatKnowledge | None = None) -> list[Signals | None]:
    """Each case's chat signals, or None where the usual path must give them (module docstring)."""
    return list(iter_block(block, knowledge))


def iter_block(block: Block, knowledge: ch.ChatKnowledge | None = None) -> Iterator[Signals | None]:
    """:func:`extract_block` one case at a time: every line's reading is found first, then each case's
    signals as they are asked for."""
    k = knowledge or ch.ChatKnowledge.default()
    cases = len(block.lines)
    if not block.accepted.any() or cases > MAX_CASES:
        yield from repeat(None, cases)
        return
    lines = _Lines(block, k)
    accepted = block.accepted.tolist()
    for c in range(cases):
        yield lines.signals(k, c) if accepted[c] else None


class _Lines:
    """Every accepted case's chat lines: each line's reading, and which say something."""

    def __init__(self, block: Block, k: ch.ChatKnowledge) -> None:
        part = block.records["chats"]
        rows, offsets = part.rows, part.offsets
        cases = len(offsets) - 1
        row_case = rb._case_of(offsets)
        keep = block.accepted[row_case]
        speaker = rb.chat_speakers(block)
        other = (speaker != Speaker.account).astype(np.int64)
        self.offsets = offsets.tolist()
        self.n_own = np.bincount(row_case[other == 0], minlength=cases).tolist()
        self.n_other = np.bincount(row_case[other == 1], minlength=cases).tolist()
        encoded = pc.dictionary_encode(rows.field("text"))
        texts = encoded.dictionary.to_pylist()
        pair = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64) * 2 + other
        readings, dated = _pair_readings(k, texts, np.flatnonzero(np.bincount(pair[keep], minlength=2)).tolist())
        says = np.array([reading is not ch._NOTHING for reading in readings], bool)
        at_dated = np.isin(pair, np.array(sorted(dated), np.int64)) & keep if dated else np.zeros(len(pair), bool)
        hit = keep & (says[pair] | at_dated)
        self.rows = np.flatnonzero(hit)
        self.first = np.searchsorted(self.rows, offsets).tolist()  # case c's hits: rows first[c]:first[c + 1]
        row_readings = readings[pair[self.rows]].tolist() if len(self.rows) else []
        if dated:  # read again with each line's own year, as the extractor does
            for j in np.flatnonzero(at_dated[self.rows]).tolist():
                row = int(self.rows[j])
                year = _year(block, part, row, int(row_case[row]))
                text, own = texts[int(pair[row]) // 2], int(pair[row]) % 2 == 0
                (row_readings[j],), _ = ch._read_group(k, [text], own, [year])
        self.readings = row_readings
        taken = pa.array(self.rows, pa.int64())
        self.ids = rows.field("id").take(taken).to_pylist()
        self.at = part.instants["at"][self.rows].tolist()

    def signals(self, k: ch.ChatKnowledge, c: int) -> Signals:
        lo, hi = self.first[c], self.first[c + 1]
        base = self.offsets[c]
        rows, ids, at = self.rows, self.ids, self.at

        def cite(j: int, excerpt: str) -> RecordRef:
            index = int(rows[j]) - base
            key = ids[j] or index
            seconds = at[j]
            if seconds == columnar._NO_TIME:
                return RecordRef(f"chats/{key}", None, excerpt)
            return RecordRef(f"chats/{key}", seconds, excerpt, _TZ)

        # (A line read again for its year may say nothing after all: it adds nothing to the tallies.)
        tallies, negated = ch.tally(list(zip(range(lo, hi), self.readings[lo:hi], strict=True)), cite)
        return ch.signals_of(k, tallies, negated, self.n_own[c], self.n_other[c])


def _pair_readings(k: ch.ChatKnowledge, texts: list[str], pairs: list[int]) -> tuple[np.ndarray, set[int]]:
    """The reading of each (text, side) pair used (pair = text number * 2 + 1 if another player wrote
    it), by pair number (``_NOTHING`` for pairs not used), and the pairs whose reading used the
    line's year (to be read again per line). From the extractor's memo where it holds them; the
    others read as ``chat._read_new`` reads them, and remembered."""
    memo = k.memo
    readings = np.full(2 * len(texts) or 1, ch._NOTHING, dtype=object)
    missing: tuple[list[int], list[int]] = ([], [])
    for p in pairs:
        found = memo.get(texts[p >> 1], ch._UNREAD)[p & 1]
        if found is None:
            missing[p & 1].append(p)
        else:
            readings[p] = found
    dated: set[int] = set()
    if missing[0] or missing[1]:
        if len(memo) + len(missing[0]) + len(missing[1]) > ch.MEMO_SIZE:
            memo.clear()  # what was looked up stays valid: only later lookups miss
        for side, group_pairs in enumerate(missing):
            if not group_pairs:
                continue
            group = [texts[p >> 1] for p in group_pairs]
            group_readings, group_dated = ch._read_group(k, group, side == 0)
            for p, text, reading in zip(group_pairs, group, group_readings, strict=True):
                readings[p] = reading
                memo.setdefault(text, [None, None])[side] = reading
            for i in group_dated:
                memo[group[i]][side] = None
                dated.add(group_pairs[i])
    return readings, dated


def _year(block: Block, part: columnar.Records, row: int, c: int) -> int | None:
    """A line's year (its own, else the case's latest payment's), as ``chat._read_dated`` takes it."""
    seconds = int(part.instants["at"][row])
    if seconds != columnar._NO_TIME:
        return datetime.fromtimestamp(seconds, _TZ).year
    payments = block.records["recharges"]
    lo, hi = int(payments.offsets[c]), int(payments.offsets[c + 1])
    if lo == hi:
        return None
    return datetime.fromtimestamp(int(payments.instants["at"][lo:hi].max()), _TZ).year
