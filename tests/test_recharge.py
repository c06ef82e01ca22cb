"""Recharge-behaviour extractor: timing against the school calendar, bursts, tiers, history, devices, sessions.

Each evidence code has a case where it fires and one where it doesn't, on payment records shaped
like an operator's export (order ids, local times, yuan amounts, item names).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assessor.features import recharge
from assessor.features.base import Direction
from assessor.features.recharge import (
    EVIDENCE_CODES,
    RechargeKnowledge,
    RechargeKnowledgeError,
    load_recharge_data,
)
from assessor.schema import Case

# Dates used below: 2024-03-12 is a Tuesday in term; 2024-03-16 a Saturday in term; 2024-07-15 is in
# the summer vacation; 2020-03-10 is in the 2020 national online-class closure.


def case(payments=(), sessions=(), created=None, **extra) -> Case:
    """payments: (local time, yuan, item[, disputed[, device]]); sessions: (start, end[, device, ip])."""
    recharges = []
    for i, p in enumerate(payments):
        at, amount, item = p[:3]
        recharges.append({"id": f"ord-{i + 1}", "at": at, "amount": amount, "item": item, "channel": "wechat",
                          "disputed": p[3] if len(p) > 3 else True, "device_id": p[4] if len(p) > 4 else "dev-a"})
    rows = [{"id": f"s{i + 1}", "start": s[0], "end": s[1], "device_id": s[2] if len(s) > 2 else "dev-a",
             "ip": s[3] if len(s) > 3 else None} for i, s in enumerate(sessions)]
    account = {"account_id": "u-1", "created_at": created} if created else None
    return Case.model_validate({"case_id": "T-1", "recharges": recharges, "sessions": rows, "account": account,
                                **extra})


def codes(c: Case) -> dict[str, object]:
    return {e.code: e for e in recharge.extract(c).evidence}


def one(at: str, amount: float = 30, item: str = "300钻石") -> Case:
    return case([(at, amount, item)])


EVENING_SESSIONS = [("2024-03-12 18:00", "2024-03-12 19:30"), ("2024-03-13 18:10", "2024-03-13 19:00"),
                    ("2024-03-16 10:00", "2024-03-16 12:00")]

FIRES = {
    "recharge.school_hours": (one("2024-03-12 10:05"), one("2024-03-12 19:05")),
    "recharge.after_school": (one("2024-03-12 19:05"), one("2024-03-12 10:05")),
    "recharge.day_off": (one("2024-03-16 15:00"), one("2024-07-13 15:00")),
    "recharge.vacation": (one("2024-07-15 15:00"), one("2024-03-12 19:05")),
    "recharge.closure": (one("2020-03-10 10:00"), one("2021-03-10 19:00")),
    "recharge.late_night": (one("2024-03-16 02:10"), one("2024-03-16 20:10")),
    "recharge.night_in_evening_session": (
        case([("2024-03-16 01:30", 68, "680钻石")], [("2024-03-15 20:00", "2024-03-16 03:00")]),
        case([("2024-03-16 01:30", 68, "680钻石")], [("2024-03-16 01:00", "2024-03-16 03:00")])),
    "recharge.burst": (
        case([("2024-07-15 15:00", 6, "60钻石"), ("2024-07-15 15:03", 30, "300钻石"), ("2024-07-15 15:07", 68, "680钻石")]),
        case([("2024-07-15 15:00", 6, "60钻石"), ("2024-07-15 15:30", 30, "300钻石"), ("2024-07-15 16:10", 68, "680钻石")])),
    "recharge.escalation": (
        case([(f"2024-07-{d:02d} 15:00", a, "钻石") for d, a in zip(range(10, 16), (6, 6, 30, 68, 128, 328), strict=True)]),
        case([(f"2024-07-{d:02d} 15:00", 30, "钻石") for d in range(10, 16)])),
    "recharge.repeat_membership": (
        case([("2024-07-15 15:00", 198, "12个月会员"), ("2024-07-15 15:02", 198, "12个月会员")]),
        case([("2024-07-15 15:00", 198, "12个月会员"), ("2024-08-15 15:02", 198, "12个月会员")])),
    "recharge.top_tier": (one("2024-07-15 15:00", 648, "6480钻石"), one("2024-07-15 15:00", 30)),
    "recharge.dormant_then_active": (
        case([("2023-10-01 20:00", 30, "月卡", False), ("2024-03-12 19:00", 328, "钻石")]),
        case([("2024-03-01 20:00", 30, "月卡", False), ("2024-03-12 19:00", 328, "钻石")])),
    "recharge.spend_spike": (
        case([("2024-01-10 20:00", 30, "月卡", False), ("2024-03-12 19:00", 328, "钻石"),
              ("2024-03-13 19:00", 328, "钻石")]),
        case([("2024-01-10 20:00", 30, "月卡", False), ("2024-03-12 19:00", 30, "月卡")])),
    "recharge.many_devices": (
        case([("2024-07-15 15:00", 30, "钻石", True, "dev-a"), ("2024-07-16 15:00", 30, "钻石", True, "dev-b"),
              ("2024-07-17 15:00", 30, "钻石", True, "dev-c")]),
        case([("2024-07-15 15:00", 30, "钻石", True, "dev-a"), ("2024-07-16 15:00", 30, "钻石", True, "dev-a")])),
    "sessions.school_hours_play": (
        case([("2024-03-12 19:00", 30, "钻石")], [("2024-03-12 09:00", "2024-03-12 10:30")]),
        case([("2024-03-12 19:00", 30, "钻石")], [("2024-03-12 18:00", "2024-03-12 19:30")])),
    "sessions.out_of_school_play": (
        case([("2024-03-12 19:00", 30, "钻石")], EVENING_SESSIONS),
        case([("2024-03-12 19:00", 30, "钻石")], [*EVENING_SESSIONS, ("2024-03-14 09:00", "2024-03-14 11:00")])),
}


def test_every_evidence_code_has_a_firing_and_a_quiet_case():
    assert set(FIRES) == set(EVIDENCE_CODES)


@pytest.mark.parametrize("code", sorted(FIRES))
def test_evidence_fires_only_where_it_should(code):
    firing, quiet = FIRES[code]
    assert code in codes(firing), f"{code} should fire"
    assert code not in codes(quiet), f"{code} should not fire"


@pytest.mark.parametrize("code", sorted(FIRES))
def test_every_item_points_at_records_of_its_case(code):
    firing, _ = FIRES[code]
    item = codes(firing)[code]
    known = {f"recharges/{r.id}" for r in firing.recharges} | {f"sessions/{s.id}" for s in firing.sessions}
    assert item.records, code
    assert {r.record for r in item.records} <= known
    assert item.summary_en and item.summary_zh


def test_school_hours_and_after_school_shares_count_payments_and_amounts():
    c = case([("2024-03-12 10:05", 30, "钻石"), ("2024-03-12 19:05", 90, "钻石"), ("2024-03-13 19:30", 0, "签到")])
    f = recharge.extract(c).features
    assert f["recharge.school_hours_share"] == pytest.approx(1 / 3)
    assert f["recharge.school_hours_amount_share"] == pytest.approx(30 / 120)
    assert f["recharge.after_school_share"] == pytest.approx(2 / 3)
    assert f["recharge.after_school_amount_share"] == pytest.approx(90 / 120)


def test_a_working_weekend_is_a_school_day():
    # Sunday 2024-04-07 was worked (and taught) in exchange for the Qingming holiday (调休).
    item = codes(one("2024-04-07 10:00"))
    assert "recharge.school_hours" in item and "recharge.day_off" not in item


def test_night_payments_alone_point_neither_way():
    c = case([("2024-03-16 02:10", 648, "6480钻石"), ("2024-03-17 01:40", 648, "6480钻石")])
    found = codes(c)
    assert found["recharge.late_night"].direction == Direction.neutral
    assert all(e.direction == Direction.neutral for e in found.values() if "night" in e.code)
    assert recharge.extract(c).features["recharge.late_night_share"] == 1.0


def test_failed_orders_are_not_spending():
    c = Case.model_validate({"case_id": "T", "recharges": [
        {"id": "a", "at": "2024-07-15 15:00", "amount": 648, "status": "failed"},
        {"id": "b", "at": "2024-07-15 15:05", "amount": 30},
    ]})
    signals = recharge.extract(c)
    assert signals.features["recharge.total_cny"] == 30
    assert set(signals.per_payment) == {"recharges/b"}


def test_per_payment_flags_cover_every_successful_payment():
    c = FIRES["recharge.burst"][0]
    per = recharge.extract(c).per_payment
    assert set(per) == {f"recharges/{r.id}" for r in c.recharges}
    assert all(row["in_burst"] == 1.0 and row["vacation"] == 1.0 and row["school_hours"] == 0.0 for row in per.values())


def test_undisputed_history_is_kept_out_of_the_dispute_features():
    c = FIRES["recharge.spend_spike"][0]
    f = recharge.extract(c).features
    assert f["recharge.n_payments"] == 2
    assert f["recharge.total_cny"] == 656
    assert f["recharge.spend_vs_history_log2"] == pytest.approx(math.log2(656 / 30))


def test_account_age_and_a_payment_before_the_account_existed():
    ok = recharge.extract(case([("2024-03-12 19:00", 30, "钻石")], created="2024-03-02 19:00"))
    assert ok.features["recharge.account_age_days"] == pytest.approx(10)
    bad = recharge.extract(case([("2024-03-12 19:00", 30, "钻石")], created="2024-04-01 10:00"))
    assert math.isnan(bad.features["recharge.account_age_days"])
    assert any("before the account was created" in w for w in bad.warnings)


def test_broken_sessions_are_survived_and_reported():
    c = case([("2024-03-12 19:00", 30, "钻石")], [
        ("2024-03-13 18:00", "2024-03-16 18:00"),   # three days: a missing logout
        ("2024-03-14 09:30", None),                 # never logged out, began in class time
    ])
    signals = recharge.extract(c)
    assert any("clipped" in w for w in signals.warnings)
    assert signals.features["sessions.max_minutes"] == 24 * 60
    assert "sessions.school_hours_play" in {e.code for e in signals.evidence}


def test_session_school_minutes_span_midnight_and_school_days():
    # 2024-03-12 14:00 to 2024-03-13 12:00: 2.5 h of class on the 12th plus 4 h on the 13th, of 22 h.
    f = recharge.extract(case([], [("2024-03-12 14:00", "2024-03-13 12:00")])).features
    assert f["sessions.school_minutes_share"] == pytest.approx(6.5 / 22)


def test_an_empty_case_has_no_evidence_and_unknown_shares():
    signals = recharge.extract(Case.model_validate({"case_id": "E"}))
    assert signals.evidence == []
    assert signals.features["recharge.n_payments"] == 0
    assert math.isnan(signals.features["recharge.vacation_share"])
    assert math.isnan(signals.features["sessions.school_hours_share"])


def test_an_office_can_change_the_burst_window(tmp_path):
    text = load_recharge_text().replace("burst_minutes = 10", "burst_minutes = 45")
    path = tmp_path / "office_recharge.toml"
    path.write_text(text, encoding="utf-8")
    office = RechargeKnowledge.from_files(path)
    slow = FIRES["recharge.burst"][1]
    assert "recharge.burst" in {e.code for e in recharge.extract(slow, office).evidence}
    assert "recharge.burst" not in codes(slow)


def test_a_broken_knowledge_file_names_the_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(load_recharge_text().replace("burst_min_payments = 3", "burst_min_payments = 1"), encoding="utf-8")
    with pytest.raises(RechargeKnowledgeError, match=r"bad.toml: thresholds.burst_min_payments"):
        load_recharge_data(path)
    path.write_text(load_recharge_text().replace('[evidence."recharge.burst"]', '[evidence."recharge.bursts"]'),
                    encoding="utf-8")
    with pytest.raises(RechargeKnowledgeError, match="recharge.burst"):
        load_recharge_data(path)


def load_recharge_text() -> str:
    from importlib import resources

    return (resources.files("assessor") / "data" / "recharge.toml").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- properties

moments = st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2026, 6, 30))
payments = st.lists(st.tuples(moments, st.sampled_from([0, 1, 6, 30, 68, 128, 328, 648, 12.5]),
                              st.sampled_from(["", "月卡", "12个月会员", "钻石"]), st.booleans(),
                              st.sampled_from([None, "d1", "d2", "d3"])), max_size=25)
sessions = st.lists(st.tuples(moments, st.one_of(st.none(), st.integers(0, 3000))), max_size=15)


@settings(max_examples=120, deadline=None)
@given(payments, sessions)
@example(pays=[], sess=[(datetime(2019, 3, 1, 8, 20, 40), 12)])  # class minutes rounded past the session's
def test_any_records_give_bounded_features_and_real_record_refs(pays, sess):
    c = case([(at.isoformat(sep=" "), amount, item, disputed, device) for at, amount, item, disputed, device in pays],
             [(start.isoformat(sep=" "), None if minutes is None else (start + timedelta(minutes=minutes)).isoformat(sep=" "))
              for start, minutes in sess])
    signals = recharge.extract(c)
    for name, value in signals.features.items():
        assert isinstance(value, float), name
        if name.endswith("_share") and not math.isnan(value):
            assert 0.0 <= value <= 1.0, (name, value)
    known = {f"recharges/{r.id}" for r in c.recharges} | {f"sessions/{s.id}" for s in c.sessions}
    for item in signals.evidence:
        assert item.records and {r.record for r in item.records} <= known, item.code
    assert set(signals.per_payment) == {f"recharges/{r.id}" for r in c.recharges}
