"""The recharge extractor over a block's columns (step 3 of docs/columnar.md) gives, for each case
it does not leave to the usual path, exactly what the extractor gives for that case's models:
every feature bit for bit and in order, every evidence item with its records and words, the
warnings and the per-payment flags."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow", reason="the columnar reader needs pyarrow (the `distributed` extra)")

from block_parity import compare, lines_of, sample_lines  # noqa: E402

from assessor.features import recharge  # noqa: E402
from assessor.features.recharge_block import FEATURES, extract_block  # noqa: E402
from assessor.io.columnar import read_block  # noqa: E402
from assessor.simulate import simulate  # noqa: E402

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def check(lines: list[bytes], knowledge: recharge.RechargeKnowledge | None = None) -> tuple[int, int]:
    """Every case the block path gives signals for gets the extractor's own; returns (cases given, cases
    the reader accepted)."""
    given_, accepted, _ = compare(lines, lambda block: extract_block(block, knowledge),
                                  lambda case: recharge.extract(case, knowledge), NOW)
    return given_, accepted


def dispute_lines(n: int, seed: int) -> list[bytes]:
    out = []
    for raw in simulate(n, seed=seed):
        raw.pop("label", None)  # a dispute file holds no label (its free text takes the usual path)
        out.append(json.dumps(raw, ensure_ascii=False).encode() + b"\n")
    return out


def test_simulated_disputes_get_the_extractors_signals_exactly():
    lines = dispute_lines(150, seed=11)
    given_, accepted = check(lines)
    assert accepted >= 130  # the reader declines a few (records repeated by an export)
    assert given_ == accepted  # the simulator pays in whole yuan: nothing left to the usual path


def test_the_feature_order_is_the_extractors():
    from assessor.schema import Case

    assert tuple(recharge.extract(Case.model_validate({"case_id": "x"})).features) == FEATURES


def test_sample_cases_get_the_extractors_signals_exactly():
    lines = sample_lines()
    given_, accepted = check(lines)
    assert given_ >= 3, f"only {given_} of {len(lines)} sample cases went through the block path"


# ------------------------------------------------------------------ generated disputes

DAYS = ["2023-03-15", "2023-03-18", "2023-07-20", "2023-10-02", "2024-01-05", "2024-02-10", "2024-02-11",
        "2024-05-06", "2024-09-02", "2021-09-03", "2019-06-12"]  # school days, weekends, vacations, holidays
CLOCKS = ["00:30:00", "02:10:00", "05:59:59", "06:00:00", "07:59:00", "08:00:00", "10:15:30", "12:00:00",
          "16:29:59", "16:30:00", "18:00:00", "19:45:10", "21:29:00", "21:30:00", "23:50:00"]
AMOUNTS = [0, 1, 6, 6, 30, 30, 68, 128, 198, 328, 648, 648, 45, 1000]
ITEMS = ["60钻石", "月卡", "12个月会员", "战令通行证", "VIP Pass", None, "648元礼包", "周卡 "]


def generated_case(rng: random.Random, n: int) -> dict:
    """A dispute shaped to reach every branch of the extractor: payments on a few days (runs, equal
    times, nights after an evening session), tiers and memberships, sessions over midnight, too long
    or without an end, login traces, devices and IPs, history before the dispute."""
    days = rng.sample(DAYS, rng.randint(1, 4))

    def moment(day: str | None = None) -> datetime:
        base = datetime.fromisoformat(f"{day or rng.choice(days)}T{rng.choice(CLOCKS)}")
        return base + timedelta(seconds=rng.choice([0, 0, 0, 5, 120, 300, 3000, 86400 * 70]))

    def written(t: datetime) -> str:
        form = rng.randrange(4)
        text = t.strftime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"][form])
        return text + "+08:00" if form == 3 else text

    payments = []
    t = moment()
    for i in range(rng.randint(0, 14)):
        if rng.random() < 0.5:
            t = moment()
        else:  # a run: the next one within minutes (sometimes at the same second)
            t = t + timedelta(seconds=rng.choice([0, 30, 240, 599, 600, 601, 1500]))
        payment = {"at": written(t), "amount": rng.choice(AMOUNTS)}
        if rng.random() < 0.9:
            payment["id"] = f"{n}-p{i}"
        if rng.random() < 0.7:
            payment["item"] = rng.choice(ITEMS[:6] + ITEMS[6:7])
        if rng.random() < 0.2:
            payment["status"] = rng.choice(["failed", "refunded", "success", "支付成功"])
        if rng.random() < 0.1:
            payment["currency"] = rng.choice(["USD", "RMB"])
        if rng.random() < 0.4:
            payment["disputed"] = rng.random() < 0.6
        if rng.random() < 0.6:
            payment["device_id"] = rng.choice(["dev-a", "dev-b", "dev-c", "dev-d"])
        payments.append(payment)
    rng.shuffle(payments) if rng.random() < 0.2 else None  # exports are not always in time order
    sessions = []
    paid_at = [datetime.fromisoformat(p["at"][:19].replace("/", "-")) for p in payments]
    for j in range(rng.choice([0, 0, 1, 2, 3, 5])):
        # Some sessions begin on the second of a payment: which is the latest activity is then a tie.
        start = rng.choice(paid_at) if paid_at and rng.random() < 0.2 else moment()
        session = {"start": written(start)}
        if rng.random() < 0.85:
            session["end"] = written(start + timedelta(minutes=rng.choice([5, 14, 15, 45, 200, 500, 1500, 2000])))
        if rng.random() < 0.8:
            session["id"] = f"{n}-s{j}"
        if rng.random() < 0.5:
            session["device_id"] = rng.choice(["dev-a", "dev-e", "dev-f"])
        if rng.random() < 0.5:
            session["ip"] = rng.choice(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
        sessions.append(session)
    traces = []
    for j in range(rng.choice([0, 0, 0, 1, 2])):
        start = int(moment().timestamp()) - 8 * 3600  # naive Beijing time as unix seconds
        si = rng.choice([f"{n}-t{j}", None])
        traces.append({"si": si, "bt": 1, "ot": start, "di": rng.choice(["dev-a", "dev-g", None])})
        if rng.random() < 0.7:
            traces.append({"si": si, "bt": 0, "ot": start + rng.choice([60, 3600, 20000])})
    if traces and rng.random() < 0.3:  # a case dumped and read again holds its trace sessions already
        first = traces[0]
        sessions.append({"id": f"trace-{first['si']}" if first["si"] else "trace-x",
                         "start": datetime.fromtimestamp(first["ot"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    case: dict = {"case_id": f"GEN-{n}", "recharges": payments, "sessions": sessions}
    if traces:
        case["login_traces"] = traces
    if rng.random() < 0.7:
        created = moment() - timedelta(days=rng.choice([-3, 0, 30, 400]))
        case["account"] = {"created_at": written(created)}
    return case


def generated_lines(seed: int, count: int) -> list[bytes]:
    return lines_of(generated_case, seed, count)


def test_generated_disputes_get_the_extractors_signals_exactly():
    given_, accepted = check(generated_lines(seed=5, count=400))
    # Those left to the usual path: a session ending before it begins (the schema refuses the case), a
    # repeated record; none here pays in part-yuan.
    assert accepted >= 300
    assert given_ == accepted


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 20))
def test_any_generated_block_gets_the_extractors_signals_exactly(seed, count):
    check(generated_lines(seed, count))


def test_part_yuan_amounts_are_left_to_the_usual_path():
    case = {"case_id": "PD-1", "recharges": [{"id": "a", "at": "2024-02-10T20:00:00", "amount": 6},
                                             {"id": "b", "at": "2024-02-10T20:01:00", "amount": 0.99}]}
    whole = {"case_id": "PD-2", "recharges": [{"id": "a", "at": "2024-02-10T20:00:00", "amount": 6}]}
    lines = [json.dumps(c).encode() + b"\n" for c in (case, whole)]
    (block,) = read_block(list(enumerate(lines, start=1)), now=NOW)
    assert block.accepted.tolist() == [True, True]
    out = extract_block(block)
    assert out[0] is None  # its sums follow numpy's order, case by case: the usual path gives them
    assert out[1] is not None and out[1].features["recharge.total_cny"] == 6.0


def test_a_creation_time_in_a_layout_the_columns_do_not_read_is_left_to_the_usual_path():
    case = {"case_id": "PD-1", "account": {"created_at": "2023-01-05"},
            "recharges": [{"id": "a", "at": "2024-02-10T20:00:00", "amount": 6}]}
    (block,) = read_block([(1, json.dumps(case).encode() + b"\n")], now=NOW)
    assert block.accepted.tolist() == [True]
    assert extract_block(block) == [None]


def test_settings_the_block_path_cannot_follow_leave_the_whole_block_to_the_usual_path():
    default = recharge.RechargeKnowledge.default()
    # Sessions capped at 6 hours cannot reach back from a 03:00 payment to an evening start at 18:00.
    short = default.data.model_copy(update={"thresholds": default.data.thresholds.model_copy(
        update={"max_session_hours": 6})})
    knowledge = recharge.RechargeKnowledge(short, default.calendar)
    (block,) = read_block(list(enumerate(dispute_lines(5, seed=2), start=1)), now=NOW)
    assert extract_block(block, knowledge) == [None] * len(block.lines)


def test_sessions_of_several_days_under_an_office_s_longer_limit_get_the_extractors_signals():
    # Class minutes of a session over midnight are summed day by day, school days only.
    default = recharge.RechargeKnowledge.default()
    long = default.data.model_copy(update={"thresholds": default.data.thresholds.model_copy(
        update={"max_session_hours": 80})})
    knowledge = recharge.RechargeKnowledge(long, default.calendar)
    case = {"case_id": "LONG-1", "recharges": [{"id": "p", "at": "2024-03-08T09:30:00", "amount": 6}],
            "sessions": [{"id": "s0", "start": "2024-03-07T07:59:30", "end": "2024-03-10T10:00:00"},  # Thu-Sun
                         {"id": "s1", "start": "2024-03-08T23:00:00", "end": "2024-03-11T09:15:45"},  # Fri-Mon
                         {"id": "s2", "start": "2024-03-09T09:00:00", "end": "2024-03-09T12:00:00"}]}
    lines = [json.dumps(case).encode() + b"\n", *generated_lines(seed=12, count=100)]
    given_, accepted = check(lines, knowledge)
    assert given_ == accepted >= 70
    (block,) = read_block([(1, lines[0])], now=NOW)
    (signals,) = extract_block(block, knowledge)
    assert [ref.record for item in signals.evidence if item.code == "sessions.school_hours_play"
            for ref in item.records] == ["sessions/s0", "sessions/s1"]


def test_an_office_s_thresholds_are_followed():
    default = recharge.RechargeKnowledge.default()
    strict = default.data.model_copy(update={"thresholds": default.data.thresholds.model_copy(
        update={"burst_minutes": 1, "burst_min_payments": 2, "dormancy_days": 5, "spend_spike_ratio": 1.5,
                "many_devices": 2, "school_play_min_minutes": 0, "escalation_log2_ratio": 0.2})})
    knowledge = recharge.RechargeKnowledge(strict, default.calendar)
    given_, accepted = check(generated_lines(seed=8, count=150), knowledge)
    assert given_ == accepted >= 100


def test_dormancy_cites_the_payment_when_a_session_began_on_the_same_second():
    case = {"case_id": "PD-1",
            "recharges": [{"id": "old", "at": "2023-03-15T20:00:00", "amount": 6, "disputed": False},
                          {"id": "new", "at": "2023-07-20T15:00:00", "amount": 648, "disputed": True}],
            "sessions": [{"id": "s1", "start": "2023-03-15T20:00:00", "end": "2023-03-15T21:00:00"}]}
    line = json.dumps(case).encode() + b"\n"
    assert check([line]) == (1, 1)
    (block,) = read_block([(1, line)], now=NOW)
    (signals,) = extract_block(block)
    (item,) = [item for item in signals.evidence if item.code == "recharge.dormant_then_active"]
    assert [ref.record for ref in item.records] == ["recharges/old", "recharges/new"]
    assert item.value == 127


@pytest.mark.parametrize("cases", [
    [{"case_id": "PD-1"}, {"case_id": "PD-2", "chats": [{"text": "作业写完了"}]}],  # nothing paid, no session
    [{"case_id": "PD-1", "recharges": [{"id": "a", "at": "2024-02-10T20:00:00", "amount": 6, "status": "failed"}],
      "sessions": [{"id": "s", "start": "2024-02-10T19:00:00"}]}],  # every payment failed; a session without end
    [{"case_id": "PD-1", "login_traces": [{"si": "x", "bt": 0, "ot": 1707566400}]}],  # a logout alone
], ids=["empty", "all-failed", "lone-logout"])
def test_blocks_with_nothing_to_count_get_the_extractors_signals(cases):
    lines = [json.dumps(case, ensure_ascii=False).encode() + b"\n" for case in cases]
    assert check(lines) == (len(cases), len(cases))


def test_a_block_too_large_for_exact_keys_is_left_to_the_usual_path(monkeypatch):
    from assessor.features import recharge_block

    (block,) = read_block(list(enumerate(dispute_lines(5, seed=2), start=1)), now=NOW)
    assert any(signals is not None for signals in extract_block(block))
    monkeypatch.setattr(recharge_block, "MAX_CASES", 4)
    assert extract_block(block) == [None] * 5


def test_an_office_s_calendar_and_evening_are_followed(tmp_path):
    from assessor.calendar import SchoolCalendar

    path = tmp_path / "calendar.toml"
    path.write_text('''version = "2024.09.1"
[bands]
late_night = ["00:00", "05:30"]
early_morning = ["05:30", "07:40"]
school_hours = ["07:40", "17:10"]
after_school = ["17:10", "22:00"]
bedtime = ["22:00", "24:00"]
[[vacations]]
name = "summer"
start = "07-10"
[[closures]]
id = "district_flood_2024"
name_en = "Schools closed for flooding"
start = 2024-05-06
end = 2024-05-10
region = "CN"
source = "district education bureau notice"
''', encoding="utf-8")
    default = recharge.RechargeKnowledge.default()
    data = default.data.model_copy(update={"thresholds": default.data.thresholds.model_copy(
        update={"evening_starts": datetime.strptime("20:30:15", "%H:%M:%S").time(), "max_session_hours": 12})})
    knowledge = recharge.RechargeKnowledge(data, SchoolCalendar.from_file(path))
    given_, accepted = check(generated_lines(seed=21, count=200), knowledge)
    assert given_ == accepted >= 150
