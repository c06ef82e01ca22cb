"""The verdicts a mediator reads on the sample cases, and the engine's guarantees around them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assessor.engine import assess, default_engine, logit, sigmoid
from assessor.io import load_cases
from assessor.schema import Case

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def sample(name: str) -> Case:
    return next(iter(load_cases(SAMPLES / "cases" / name)))


def test_own_id_minor_over_the_caps_is_strong_with_findings():
    a = assess(sample("01_own_id_over_caps.json"))
    assert a.band.value == "strong"
    ids = {f.id for f in a.findings}
    assert {"nppa2019.single_cap", "nppa2019.monthly_cap"} <= ids
    assert all(f.amount_cny and f.amount_cny > 0 and f.evidence for f in a.findings)


def test_adult_who_passed_face_checks_and_writes_adult_chat_is_unlikely():
    a = assess(sample("03_adult_work_family.json"))
    assert a.band.value == "unlikely"
    adult = {r.id for r in a.top_reasons.adult}
    assert "chat.stated_age_adult" in adult and "face_check.passed_before_payment" in adult


def test_child_summer_bursts_with_a_declined_face_check_and_child_chat_is_strong():
    a = assess(sample("02_grandparent_summer.json"))
    assert a.band.value == "strong"
    rules = {r.id for r in a.rules}
    assert {"face_check.refused_before_payment", "chat.grade_statement"} <= rules
    vacation = [c for c in a.contributions if c.id.startswith("recharge.vacation")]
    assert all(c.weight > 0 for c in vacation)


def test_an_empty_case_is_inconclusive_and_one_stated_age_moves_it_up_pointing_at_its_message():
    empty = assess({"case_id": "E-1"})
    assert empty.band.value == "inconclusive" and empty.probability == pytest.approx(0.5)
    one = assess({"case_id": "E-2", "chats": [{"id": "m7", "text": "我今年12岁，六年级"}]})
    assert one.probability > empty.probability
    stated = next(r for r in one.rules if r.id == "chat.stated_age_minor")
    assert [e.record for e in stated.evidence] == ["chats/m7"]


@pytest.mark.parametrize("name", sorted(p.name for p in (SAMPLES / "cases").glob("*.json")))
def test_contributions_add_up_to_the_log_odds_unless_a_bound_applied(name):
    a = assess(sample(name))
    bound = any(r.effect in ("floor", "ceiling") and r.applied for r in a.rules)
    total = logit(a.prior) + sum(c.weight for c in a.contributions) + sum(r.weight or 0 for r in a.rules)
    if not bound:
        assert a.log_odds == pytest.approx(total, abs=1e-5)
    assert a.probability == pytest.approx(sigmoid(a.log_odds), abs=1e-6)


def test_the_same_input_always_gives_byte_identical_json():
    cases = list(load_cases(SAMPLES / "cases.jsonl"))
    first = [default_engine().assess(c).model_dump_json() for c in cases]
    again = [default_engine().assess(c).model_dump_json() for c in load_cases(SAMPLES / "cases.jsonl")]
    assert first == again


def test_a_gbk_csv_table_set_scores_exactly_like_the_same_cases_in_json():
    from_json = {c.case_id: assess(c).model_dump_json() for c in load_cases(SAMPLES / "cases")}
    from_tables = {c.case_id: assess(c).model_dump_json() for c in load_cases(SAMPLES / "tables_gbk")}
    assert from_tables.keys() == from_json.keys()
    for case_id, text in from_json.items():
        assert from_tables[case_id] == text, case_id
    assert json.loads(next(iter(from_json.values())))["format"] == "assessor.assessment/1"


def test_family_totals_add_up_and_an_assessment_reads_back_from_its_json():
    from assessor.schema import Assessment

    a = assess(sample("02_grandparent_summer.json"))
    total = sum(f.weight for f in a.families)
    assert total == pytest.approx(sum(c.weight for c in a.contributions) + sum(r.weight or 0 for r in a.rules), abs=1e-5)
    assert a.families[0].family == "chat" and a.families[0].summary.startswith("chat evidence: +")
    again = Assessment.model_validate_json(a.model_dump_json())
    assert again.model_dump_json() == a.model_dump_json()
