"""What the block extractors' tests compare: one extractor's signals for one case, from the models
and from the columns, field by field (features bit for bit and in order)."""

from __future__ import annotations

import struct

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
