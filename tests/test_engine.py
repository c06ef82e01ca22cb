"""The engine's arithmetic a mediator can check: contributions add up, bands follow the spec, money adds up."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assessor import assess, load_cases
from assessor.schema import band_for

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "cases"


@pytest.fixture(scope="module")
def cases():
    return list(load_cases(SAMPLES))


def test_log_odds_is_prior_plus_contributions_plus_rules(cases):
    for case in cases:
        for prior in (0.3, 0.5):
            a = assess(case, prior=prior)
            total = math.log(prior / (1 - prior)) + sum(c.weight for c in a.contributions) + sum(
                r.weight or 0 for r in a.rules if r.effect == "weight")
            bounded = any(r.applied and r.effect in ("floor", "ceiling") for r in a.rules)
            if not bounded:
                assert a.log_odds == pytest.approx(total, abs=1e-5)
            assert a.probability == pytest.approx(1 / (1 + math.exp(-a.log_odds)), abs=1e-5)
            assert a.band == band_for(a.probability)


def test_attributable_amount_never_exceeds_the_disputed_amount(cases):
    for case in cases:
        a = assess(case)
        assert 0 <= a.attributable_amount_cny <= a.disputed_amount_cny + 1e-6
        assert len(a.recharges) == len(case.recharges)


def test_non_disputed_payments_are_not_in_the_disputed_amount(cases):
    mixed = next(c for c in cases if c.case_id == "SH-2024-0163")
    a = assess(mixed)
    expected = sum(float(r.amount) for r in mixed.recharges if r.disputed and r.status.value == "success")
    assert a.disputed_amount_cny == pytest.approx(expected)


def test_missing_evidence_is_named(cases):
    no_chat = next(c for c in cases if c.case_id == "HZ-2025-0042")
    a = assess(no_chat)
    assert a.coverage.chats is False and a.coverage.recharges is True
    assert any("chat logs were not supplied" in w for w in a.warnings)


def test_an_empty_case_scores_at_the_prior():
    a = assess({"case_id": "empty"}, prior=0.4)
    assert a.probability == pytest.approx(0.4)
    assert a.band.value == "inconclusive"


def test_evidence_points_at_real_records(cases):
    for case in cases:
        ids = {f"chats/{c.id}" for c in case.chats} | {f"recharges/{r.id}" for r in case.recharges}
        a = assess(case)
        for item in [*a.contributions, *a.rules]:
            for ref in item.evidence:
                if ref.record.split("/")[0] in ("chats", "recharges"):
                    assert ref.record in ids


def test_a_bad_prior_is_refused():
    with pytest.raises(ValueError, match="prior"):
        assess({"case_id": "x"}, prior=1.0)


def _record_ids(case) -> set[str]:
    """Every record a reference may name: list/id, and list/position for records without an id."""
    ids = set()
    lists = {"chats": case.chats, "recharges": case.recharges, "sessions": case.sessions,
             "face_checks": case.account.face_checks if case.account else []}
    for name, records in lists.items():
        for i, record in enumerate(records):
            ids.add(f"{name}/{record.id}" if getattr(record, "id", None) else f"{name}/{i}")
    ids |= {"account/real_name", "claim", "account"}
    return ids


def test_every_evidence_item_of_every_extractor_points_at_records_of_its_sample(cases):
    from assessor.engine import extract_signals

    for case in cases:
        known = _record_ids(case)
        signals = extract_signals(case)
        items = [item for group in signals.evidence.values() for item in group]
        assert items, case.case_id
        for item in items:
            assert item.records, (case.case_id, item.code)
            for ref in item.records:
                assert ref.record in known or ref.record.split("/")[0] in ("account", "claim"), \
                    (case.case_id, item.code, ref.record)
        for finding in signals.findings:
            assert finding.records and all(r.record in known for r in finding.records), finding.code


def _shifts_merged(case, signals, weights) -> list[float]:
    """Each payment's shift as the engine once worked it out: the extractors' per-payment rows merged
    into one dict per payment (a later extractor's value wins), then the weights term by term."""
    merged: dict[str, dict] = {}
    for table in signals.per_payment:
        for record, row in table.items():
            merged.setdefault(record, {}).update(row)
    skip_zeros = all(math.isfinite(w) for _, w in weights)
    out = []
    for index, payment in enumerate(case.recharges):
        values = merged.get(f"recharges/{payment.id if payment.id not in (None, '') else index}") or {}
        if skip_zeros:
            shift = 0.0
            for name, w in weights:
                if values.get(name, 0.0) != 0:
                    shift += w * float(values.get(name, 0.0))
        else:
            shift = sum([w * float(values.get(name, 0.0)) for name, w in weights])
        out.append(shift)
    return out


@pytest.mark.parametrize("change", [{}, {"in_burst": math.inf}, {"school_hours": 0.0, "face_passed_before": -2.5}],
                         ids=["rulebook", "an-infinite-weight", "a-zero-weight"])
def test_each_payment_is_shifted_by_the_rulebook_weights_of_its_own_values(change):
    # The engine reads the extractors' per-payment columns; each payment's shift must be what
    # merging them into one row per payment gives, bit for bit, whatever the weights.
    import struct

    from assessor.engine import default_engine, extract_signals, payment_shifts
    from assessor.schema import Case
    from assessor.simulate import simulate

    weights = list({**default_engine().rulebook.attribution, **change}.items())
    seen = 0
    for raw in simulate(40, seed=21):
        raw.pop("label", None)
        case = Case.model_validate(raw)
        signals = extract_signals(case)
        records = [f"recharges/{p.id if p.id not in (None, '') else i}" for i, p in enumerate(case.recharges)]
        got = payment_shifts(records, signals.per_payment, weights)
        want = _shifts_merged(case, signals, weights)
        assert [struct.pack("<d", x) for x in got] == [struct.pack("<d", x) for x in want]
        seen += sum(1 for x in got if x != 0)
    assert seen > 100  # payments that some weight moved
