"""What the block extractors' tests compare: one extractor's signals for one case, from the models
and from the columns, field by field (features bit for bit and in order)."""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from assessor.features.base import Signals


def bits(value: float) -> bytes:
    return struct.pack("<d", value)


def difference(want: Signals, got: Signals) -> str | None:
    """Where two extractors' signals for one case differ (None when they are the same)."""
    if list(want.features) != list(got.features):
        return f"feature order {list(want.features)} vs {list(got.features)}"
    for name, value in want.features.items():
        if bits(value) != bits(got.features[name]):
            return f"{name}: {value!r} vs {got.features[name]!r}"
    if (want.extractor, want.version) != (got.extractor, got.version):
        return "extractor or version"
    if [item.code for item in want.evidence] != [item.code for item in got.evidence]:
        return f"evidence {[i.code for i in want.evidence]} vs {[i.code for i in got.evidence]}"
    for a, b in zip(want.evidence, got.evidence, strict=True):
        if a != b or type(a.value) is not type(b.value) or type(a.strength) is not type(b.strength):
            return f"{a.code}: {a} vs {b}"
        for x, y in zip(a.records, b.records, strict=True):
            if x.at is not None and (x.at.tzinfo is not y.at.tzinfo or x.at.isoformat() != y.at.isoformat()):
                return f"{a.code}: {x.record} at {x.at!r} vs {y.at!r}"
    if want.findings != got.findings:
        return "findings"
    if list(want.per_payment.items()) != list(got.per_payment.items()):
        return "per-payment flags"
    if want.warnings != got.warnings:
        return f"warnings {want.warnings} vs {got.warnings}"
    return None


def compare(lines: list[bytes], extract_block: Callable[[Any], list[Signals | None]],
            extract: Callable[[Any], Signals], now: datetime) -> tuple[int, int, set[str]]:
    """Read ``lines`` in blocks as the batch would; a case the reader declined must get no signals
    from the block path, and every case it gives signals for must get exactly ``extract(case)``'s.
    Returns (cases given signals, cases the reader accepted, evidence and finding codes met)."""
    from assessor.io.columnar import read_block

    given, accepted, met = 0, 0, set()
    for block in read_block(list(enumerate(lines, start=1)), now=now):
        models = block.cases()  # what the usual loader gives (tests/test_columnar.py holds them to it)
        for case, signals in zip(models, extract_block(block), strict=True):
            if case is None:
                assert signals is None, "signals for a case the reader declined"
                continue
            accepted += 1
            if signals is None:
                continue
            given += 1
            found = difference(extract(case), signals)
            assert found is None, f"{case.case_id}: {found}"
            met |= {item.code for item in signals.evidence} | {item.code for item in signals.findings}
    return given, accepted, met


def lines_of(make: Callable[[random.Random, int], dict], seed: int, count: int) -> list[bytes]:
    """``count`` cases from ``make(rng, n)``, as JSON Lines."""
    rng = random.Random(seed)
    return [json.dumps(make(rng, n), ensure_ascii=False).encode() + b"\n" for n in range(count)]


def sample_lines() -> list[bytes]:
    """The hand-written sample cases as JSON Lines, without their labels (a dispute file has none)."""
    lines = []
    for path in sorted((Path(__file__).resolve().parents[1] / "sample_data" / "cases").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw.pop("label", None)
        lines.append(json.dumps(raw, ensure_ascii=False).encode() + b"\n")
    return lines
