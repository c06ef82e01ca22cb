"""What the extractors' outputs alone cost, against the parse floor: a lower bound for any design.

Issue 3 asks for signal extraction at or under ``json.loads`` of the same file. Whatever reads the
records (models or columns), each case's signals are Python objects: a features dict, evidence
items and findings with the records they cite (a ``RecordRef`` each), and each extractor's
per-payment values (a ``PaymentValues`` table: one list per value). This script times building
**only those objects**, as the three extractors return them for each case: no deciding, no
arithmetic and no formatting (each summary's text is reused as it is), and each per-payment
column copied from a ready one. References take their time as integer seconds, made a
``datetime`` when read, as the block paths give them.

It writes the ``simulated`` mix of benchmarks/extract.py (40 payments, 150 chat lines a case),
runs the extractors once (not timed) to learn each case's outputs, then times:

- the floor: ``json.loads`` of every line;
- rebuilding each case's outputs, one case at a time.

    python benchmarks/outputs.py [--cases 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from itertools import repeat
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract import EXTRACTORS, simulated_mix  # noqa: E402

from assessor.features.base import EvidenceItem, FindingItem, PaymentValues, RecordRef, Signals  # noqa: E402
from assessor.schema import Case  # noqa: E402


def recipe(signals: Signals) -> tuple:
    """What it takes to build one extractor's output for a case: its parts, as plain values."""
    distinct = {id(ref): ref for item in [*signals.evidence, *signals.findings] for ref in item.records}
    timed = [r for r in distinct.values() if r.at is not None]  # by kind, so each kind is built in one C-level pass
    untimed = [r for r in distinct.values() if r.at is None]
    ref_parts = ([r.record for r in timed], [int(r.at.timestamp()) for r in timed], [r.at.tzinfo for r in timed],
                 [r.excerpt for r in timed], [r.record for r in untimed], [r.excerpt for r in untimed])
    index = {id(r): i for i, r in enumerate([*timed, *untimed])}  # each reference's place in build()'s list
    evidence = [(e.code, e.direction, e.summary_en, e.summary_zh, [index[id(r)] for r in e.records], e.strength,
                 e.value) for e in signals.evidence]
    findings = [(f.code, f.summary_en, f.summary_zh, f.basis, f.amount_cny, [index[id(r)] for r in f.records])
                for f in signals.findings]
    table = signals.per_payment
    rows = (list(table.records), {name: list(table.column(name)) for name in table.names})
    return (signals.extractor, signals.version, list(signals.features), list(signals.features.values()), ref_parts,
            evidence, findings, rows, list(signals.warnings))


def build(parts: tuple) -> Signals:
    """The output of one extractor from its parts: the objects, and nothing else."""
    name, version, keys, values, ref_parts, evidence, findings, rows, warnings = parts
    records, seconds, zones, excerpts, bare, bare_excerpts = ref_parts
    refs = [*map(RecordRef, records, seconds, excerpts, zones), *map(RecordRef, bare, repeat(None), bare_excerpts)]
    return Signals(
        name, version, dict(zip(keys, values, strict=True)),
        [EvidenceItem(code, direction, en, zh, tuple([refs[i] for i in cited]), strength, value)
         for code, direction, en, zh, cited, strength, value in evidence],
        [FindingItem(code, en, zh, basis, amount, tuple([refs[i] for i in cited]))
         for code, en, zh, basis, amount, cited in findings],
        PaymentValues(list(rows[0]), {name: list(column) for name, column in rows[1].items()}), list(warnings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        simulated_mix(args.cases, args.seed, path)
        lines = path.read_text(encoding="utf-8").splitlines()
    start = time.perf_counter()
    for line in lines:
        json.loads(line)
    floor = time.perf_counter() - start
    recipes = []
    for line in lines:
        case = Case.model_validate_json(line)
        recipes.append({name: recipe(extract(case)) for name, extract in EXTRACTORS.items()})
    spent = dict.fromkeys(EXTRACTORS, 0.0)
    counts = dict.fromkeys(("refs", "evidence", "findings", "payments with per-payment values"), 0)
    clock = time.perf_counter
    for parts in recipes:
        for name, one in parts.items():
            start = clock()
            build(one)
            spent[name] += clock() - start
            counts["refs"] += len(one[4][0]) + len(one[4][4])
            counts["evidence"] += len(one[5])
            counts["findings"] += len(one[6])
            counts["payments with per-payment values"] += len(one[7][0])
    n = len(lines)
    print(f"{n} cases; json.loads floor {floor:.2f} s ({floor / n * 1e6:.0f} us a case)")
    print("objects a case: " + ", ".join(f"{count / n:.1f} {what}" for what, count in counts.items()))
    for name, seconds in spent.items():
        print(f"  {name:<10} outputs alone {seconds:6.2f} s  ({seconds / floor:.2f}x floor)")
    total = sum(spent.values())
    print(f"all three outputs alone: {total:.2f} s ({total / floor:.2f}x floor)")


if __name__ == "__main__":
    main()
