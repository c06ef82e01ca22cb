"""The simulated dispute world behaves as its parameter file declares."""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from datetime import date, datetime

import pytest

from assessor.calendar import SchoolCalendar
from assessor.schema import Case
from assessor.simulate import SimulationParams, simulate, write_simulated
from assessor.simulation.params import ParameterFileError

N = 2000
SEED = 20240


@pytest.fixture(scope="module")
def world() -> list[tuple[dict, Case]]:
    cases = list(simulate(N, seed=SEED))
    return [(raw, Case.model_validate(raw)) for raw in cases]


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _unique(recharges):
    """Exports may repeat a row; a payment is counted once by its order id."""
    seen = {}
    for r in recharges:
        seen.setdefault(r.id, r)
    return list(seen.values())


def _binomial_ok(hits: int, n: int, p: float, z: float = 4.0) -> bool:
    return abs(hits / n - p) <= z * math.sqrt(p * (1 - p) / n)


def test_same_seed_gives_identical_cases_and_another_seed_differs():
    first = list(simulate(40, seed=7))
    assert first == list(simulate(40, seed=7))
    other = list(simulate(40, seed=8))
    assert sum(a != b for a, b in zip(first, other, strict=True)) >= 35


def test_case_k_does_not_depend_on_how_many_are_asked_for():
    assert list(simulate(5, seed=3)) == list(simulate(30, seed=3))[:5]


def test_every_case_is_valid_and_labelled(world):
    for raw, case in world:
        assert raw["format"] == "assessor.case/1"
        assert case.label.minor_payer in (True, False) and case.label.source == "simulated"
        assert case.recharges and all(r.by_minor is not None for r in case.recharges)
        assert case.claim.minor_birth_date is not None


def test_label_is_the_majority_of_disputed_successful_amount(world):
    for _, case in world:
        paid = [r for r in _unique(case.recharges) if r.disputed and r.status.value == "success"]
        minor = sum(r.amount for r in paid if r.by_minor)
        assert case.label.minor_payer == (2 * minor > sum(r.amount for r in paid)), case.case_id


def test_label_and_scenario_shares_match_the_parameters(world):
    sc = SimulationParams.default().scenario
    labels = sum(case.label.minor_payer for _, case in world)
    assert _binomial_ok(labels, N, sc.expected_minor_share)
    counts = defaultdict(int)
    for raw, _ in world:
        counts[raw["label"]["scenario"]] += 1
    for name, share in (("child_paid", sc.child_paid), ("adult_false_claim", sc.adult_false_claim),
                        ("mixed", sc.mixed)):
        assert _binomial_ok(counts[name], N, share), name


def test_changing_the_scenario_parameters_changes_the_label_share():
    base = SimulationParams.default()
    scenario = base.scenario.model_copy(update={"child_paid": 0.2, "adult_false_claim": 0.7, "mixed": 0.1})
    params = base.model_copy(update={"scenario": scenario})
    n = 400
    labels = sum(c["label"]["minor_payer"] for c in simulate(n, seed=1, params=params))
    assert _binomial_ok(labels, n, scenario.expected_minor_share)


def test_caps_hold_for_verified_minor_accounts_on_compliant_platforms(world):
    caps = SimulationParams.default().caps
    checked = 0
    for raw, case in world:
        w = raw["label"]["world"]
        if not (w["compliant_platform"] and w["minor_rules_from"]):
            continue
        rules_from = datetime.fromisoformat(w["minor_rules_from"])
        monthly: dict[tuple[int, int], float] = defaultdict(float)
        for r in _unique(case.recharges):
            at = r.at.replace(tzinfo=None)
            if r.status.value != "success" or at < rules_from:
                continue
            single, month_cap = caps.for_age(_age(case.claim.minor_birth_date, at.date()))
            assert float(r.amount) <= single, (case.case_id, r.id)
            monthly[(at.year, at.month)] += float(r.amount)
            assert monthly[(at.year, at.month)] <= month_cap, (case.case_id, at)
            checked += 1
    assert checked >= 100  # the rule was actually exercised


def test_non_compliant_platforms_let_minor_accounts_pay_over_the_caps(world):
    caps = SimulationParams.default().caps
    over = 0
    for raw, case in world:
        w = raw["label"]["world"]
        if w["compliant_platform"] or w["registered_holder"] != "child" or w["minor_rules_from"] is None:
            continue
        birth = case.claim.minor_birth_date
        over += sum(float(r.amount) > caps.for_age(_age(birth, r.at.date()))[0]
                    for r in case.recharges if r.status.value == "success")
    assert over > 0


def test_guest_accounts_never_pay_after_guest_mode_was_abolished(world):
    abolished = SimulationParams.default().dates.guest_abolished
    guests = 0
    for _, case in world:
        real_name = case.account.real_name
        if real_name is None or real_name.status.value != "guest":
            continue
        guests += 1
        assert all(r.at.date() < abolished for r in case.recharges), case.case_id
        assert case.account.created_at.date() < abolished
    assert guests > 0


def test_minor_payments_fall_more_often_outside_school_hours_than_adult_payments(world):
    calendar = SchoolCalendar.default()
    counts = {True: [0, 0], False: [0, 0]}  # by_minor -> [payments, payments in school hours]
    for _, case in world:
        for r in _unique(case.recharges):
            if r.status.value != "success":
                continue
            day = calendar.day(r.at.date())
            minutes = r.at.hour * 60 + r.at.minute
            in_school = day.is_school_day and 8 * 60 <= minutes < 16 * 60 + 30
            counts[r.by_minor][0] += 1
            counts[r.by_minor][1] += in_school
    (n1, s1), (n0, s0) = counts[True], counts[False]
    p1, p0 = s1 / n1, s0 / n0
    pooled = (s1 + s0) / (n1 + n0)
    z = (p0 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    assert z > 4, (p1, p0)
    assert s1 > 0  # mostly outside school hours, but not all


def test_id_numbers_have_valid_check_characters_and_match_the_child(world):
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    checked = 0
    for _, case in world:
        numbers = [case.claim.minor_id_number, case.claim.guardian_id_number]
        if case.account.real_name is not None:
            numbers.append(case.account.real_name.id_number)
        for number in numbers:
            if number is None or "*" in number:
                continue
            assert len(number) == 18 and number[:17].isdigit()
            assert "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11] == number[17]
            assert 90 <= int(number[2:4]) <= 99  # fictional city code
            checked += 1
        minor_id = case.claim.minor_id_number
        if minor_id and "*" not in minor_id:
            assert minor_id[6:14] == case.claim.minor_birth_date.strftime("%Y%m%d")
    assert checked >= 500


def test_children_are_5_to_17_and_disputes_span_2019_to_2025(world):
    years = set()
    for _, case in world:
        first = min(r.at for r in case.recharges)
        assert 5 <= _age(case.claim.minor_birth_date, first.date()) <= 17
        years.add(first.year)
    assert years == set(range(2019, 2026))


def test_evidence_bundles_are_sometimes_incomplete(world):
    without_chats = sum(not case.chats for _, case in world)
    without_sessions = sum(not case.sessions for _, case in world)
    with_traces = sum(bool(case.login_traces) for _, case in world)
    assert 0.2 * N < without_chats < 0.7 * N
    assert 0.1 * N < without_sessions < 0.6 * N
    assert with_traces > 0


def test_written_json_lines_read_back_as_the_same_cases():
    stream = io.StringIO()
    assert write_simulated(12, stream, seed=5) == 12
    lines = stream.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == list(simulate(12, seed=5))


def test_a_parameter_without_a_source_is_rejected_with_its_name():
    text = """
version = "2025.01.1"
[scenario]
child_paid = { value = 0.5, source = "" }
"""
    with pytest.raises(ParameterFileError, match="scenario.child_paid"):
        SimulationParams.from_toml(text)


def test_every_packaged_parameter_states_its_source():
    params = SimulationParams.default()
    sections = [name for name in type(params).model_fields if name not in ("version", "sources")]
    for section in sections:
        for key in type(getattr(params, section)).model_fields:
            note = params.sources[f"{section}.{key}"]
            assert "[S" in note or "assumption" in note or "regulation" in note, f"{section}.{key}"


def test_the_simulation_doc_lists_every_parameter_with_its_source():
    from pathlib import Path

    from assessor.simulation.params import SimulationParams

    doc = (Path(__file__).resolve().parent.parent / "docs" / "simulation.md").read_text(encoding="utf-8")
    for key in SimulationParams.default().sources:
        assert f"`{key}`" in doc, f"{key} missing from docs/simulation.md: run python docs/make_simulation_doc.py"
