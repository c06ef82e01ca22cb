"""Each rule of the rulebook, seen through the engine: when it fires, what it adds, what it points at.

Every rule id in the packaged rulebook must have a case here, so a new rule cannot land untested.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from assessor.engine import Engine, default_engine, logit, sigmoid
from assessor.idcard import check_char
from assessor.rules import load_rulebook
from assessor.schema import Case


def fictional_id(birth: str, region: str = "310104", seq: str = "031") -> str:
    first17 = region + birth.replace("-", "") + seq
    return first17 + check_char(first17)


CHILD_ID, FATHER_ID = fictional_id("2010-03-15"), fictional_id("1984-02-19", seq="013")
GRANDMA_ID, SISTER_ID = fictional_id("1955-06-01", seq="024"), fictional_id("2008-09-09", seq="042")
PAYMENT = {"id": "ord-1", "at": "2023-10-14T15:20:00", "amount": 30, "item": "300钻石", "channel": "wechat"}


def build(*, holder: str | None = None, id_number: str | None = None, claim_birth: str = "2010-03-15",
          chats: tuple[str, ...] = (), face: str | None = None, payments: list[dict[str, Any]] | None = None,
          claim_id: str | None = CHILD_ID) -> Case:
    account: dict[str, Any] = {"account_id": "u-1", "face_checks": []}
    if id_number:
        account["real_name"] = {"status": "verified", "id_number": id_number, "holder": holder,
                                "verified_at": "2022-01-01T09:00:00"}
    if face:
        account["face_checks"] = [{"id": "fc-1", "at": "2023-10-14T15:17:00", "outcome": face,
                                   "matched": "registered_holder" if face == "passed" else "unknown"}]
    return Case.model_validate({
        "case_id": "RULE-1",
        "claim": {"minor_birth_date": claim_birth, "minor_id_number": claim_id, "relation": "parent"},
        "account": account,
        "recharges": payments or [dict(PAYMENT)],
        "chats": [{"id": f"m{i + 1}", "at": "2023-10-14T15:00:00", "text": t} for i, t in enumerate(chats)],
    })


CASES = {
    "chat.stated_age_minor": build(chats=("我今年13岁，初一",)),
    "chat.stated_age_adult": build(chats=("我都40了，还玩这个",)),
    "chat.grade_statement": build(chats=("我初二了，作业好多",)),
    "chat.grade_statement_adult": build(chats=("我大二，下午没课",)),
    "face_check.refused_before_payment": build(id_number=FATHER_ID, holder="guardian", face="declined"),
    "face_check.passed_before_payment": build(id_number=FATHER_ID, holder="guardian", face="passed"),
    "real_name.holder_60_plus": build(id_number=GRANDMA_ID, holder="other_adult"),
    "real_name.holder_is_other_minor": build(id_number=SISTER_ID, holder="other_minor"),
    "real_name.claim_implausible_age": build(claim_birth="2020-01-05", claim_id=None,
                                             chats=("这把我们先去打龙，然后推中路，稳住别浪", "等我复活再团，别急着开团啊兄弟们",
                                                    "刚才那波操作太秀了，下把继续一起开黑")),
    "real_name.own_verified_minor_id": build(id_number=CHILD_ID, holder="claimed_minor"),
    "claim.not_minor_at_payment": build(claim_birth="2001-05-05", claim_id=None),
}


def test_every_rule_in_the_rulebook_has_a_case_here():
    rulebook = load_rulebook()
    scored = {r.id for r in rulebook.rules if r.effect != "finding"}
    assert scored == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_with_its_weight_or_bound_and_its_records(rule_id):
    rule = next(r for r in load_rulebook().rules if r.id == rule_id)
    assessment = default_engine().assess(CASES[rule_id])
    applied = [r for r in assessment.rules if r.id == rule_id]
    assert len(applied) == 1, f"{rule_id} did not fire"
    entry = applied[0]
    assert entry.basis == rule.basis and entry.summary and entry.summary_zh
    assert entry.evidence, "a rule must point at the records behind it"
    if rule.effect == "weight":
        assert entry.weight == rule.weight
    else:
        assert entry.bound == rule.bound


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_stays_quiet_on_a_plain_case(rule_id):
    plain = build(id_number=FATHER_ID, holder="guardian", chats=("集合打团", "666"))
    assert rule_id not in {r.id for r in default_engine().assess(plain).rules}


def test_a_floor_lifts_and_a_ceiling_caps_the_likelihood():
    floor = default_engine().assess(CASES["real_name.own_verified_minor_id"])
    assert floor.probability >= 0.9 - 1e-9
    ceiling = default_engine().assess(CASES["claim.not_minor_at_payment"])
    assert ceiling.probability <= 0.05 + 1e-9


def test_weights_add_to_the_log_odds_unless_bounded():
    for rule_id, case in CASES.items():
        a = default_engine().assess(case)
        if any(r.effect in ("floor", "ceiling") and r.applied for r in a.rules):
            continue
        total = logit(a.prior) + sum(c.weight for c in a.contributions) + sum(r.weight or 0 for r in a.rules)
        assert a.log_odds == pytest.approx(total, abs=1e-5), rule_id
        assert a.probability == pytest.approx(sigmoid(a.log_odds), abs=1e-6), rule_id


def test_an_office_rulebook_changes_one_weight(tmp_path):
    from importlib import resources

    text = (resources.files("assessor") / "data" / "rulebook.toml").read_text(encoding="utf-8")
    path = tmp_path / "office.toml"
    path.write_text(text.replace("weight = 2.0", "weight = 3.0", 1), encoding="utf-8")
    office = Engine.load(rulebook_path=path)
    case = CASES["chat.stated_age_minor"]
    base, changed = default_engine().assess(case), office.assess(case)
    assert changed.log_odds - base.log_odds == pytest.approx(1.0, abs=1e-5)
    assert math.isfinite(changed.probability)
