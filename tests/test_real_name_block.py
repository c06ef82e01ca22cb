"""The real-name extractor over a block's columns (step 5 of docs/columnar.md) gives, for each case
it does not leave to the usual path, exactly what the extractor gives for that case's models:
every feature bit for bit and in order, every evidence item and finding with its records and
words, the warnings and the per-payment values."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow", reason="the columnar reader needs pyarrow (the `distributed` extra)")

from block_parity import compare, lines_of, sample_lines  # noqa: E402
from test_real_name import fictional_id  # noqa: E402
from test_recharge_block import NOW, dispute_lines, generated_case  # noqa: E402

from assessor.features import real_name  # noqa: E402
from assessor.features import real_name_block as block_path  # noqa: E402
from assessor.features.real_name_block import extract_block  # noqa: E402
from assessor.io.columnar import read_block  # noqa: E402


def check(lines: list[bytes], knowledge: real_name.RealNameKnowledge | None = None) -> tuple[int, int, set[str]]:
    """Every case the block path gives signals for gets the extractor's own; returns (cases given, cases
    the reader accepted, the evidence and finding codes met)."""
    return compare(lines, lambda block: extract_block(block, knowledge), lambda case: real_name.extract(case, knowledge),
                   NOW)


def test_simulated_disputes_get_the_extractors_signals_exactly():
    given_, accepted, met = check(dispute_lines(200, seed=13))
    assert accepted >= 170
    assert given_ == accepted  # the simulator pays in whole yuan: nothing left to the usual path
    assert {"real_name.holder_adult", "nppa2019.monthly_cap", "nppa.forbidden_hours_play"} <= met


def test_sample_cases_get_the_extractors_signals_exactly():
    lines = sample_lines()
    given_, _, _ = check(lines)
    assert given_ >= 3, f"only {given_} of {len(lines)} sample cases went through the block path"


# ------------------------------------------------------------------ generated disputes

# Under 8, 8-15 (one born on 29 February), 16-17, adults, 60+, and born after most payments.
BIRTHS = ["2016-06-30", "2012-02-29", "2010-03-15", "2008-09-02", "2006-11-20", "2005-07-21", "2003-01-31",
          "1984-02-19", "1960-05-04", "1956-01-10", "2023-08-01"]
STATUSES = ["verified"] * 5 + ["guest", "unverified", "pending", "failed", "已认证", "游客"]
HOLDERS = ["claimed_minor", "guardian", "other_adult", "other_minor", "unknown", "孩子", None]
OUTCOMES = ["passed", "passed", "failed", "declined", "timeout", "通过", "拒绝"]
CHANNELS = ["wechat", "alipay", "apple_iap", "微信", "game_card", None]
FLUENT = ["今天作业好多写不完了怎么办啊", "I think we should push mid lane now", "好", "周末一起上分吧兄弟们冲冲冲",
          "this line is long enough that a reference shows only its first fifty-nine characters and an ellipsis"]


def real_name_case(rng: random.Random, n: int) -> dict:
    """A generated dispute (tests/test_recharge_block.py) with what the real-name extractor reads:
    registrations of every status and holder, ID numbers whole, masked or failing their check, birth
    dates agreeing or not, claims, face checks near payments, guest login traces, payment channels
    and the account's own long chat lines."""
    case = generated_case(rng, n)
    payments = case["recharges"]
    for payment in payments:
        if rng.random() < 0.5:
            payment["channel"] = rng.choice(CHANNELS)
    times = [datetime.fromisoformat(p["at"][:19].replace("/", "-")) for p in payments]
    account = case.setdefault("account", {})
    birth = rng.choice(BIRTHS)
    number = fictional_id(birth, seq=f"{n % 1000:03d}")
    if rng.random() < 0.85:
        registration: dict = {"status": rng.choice(STATUSES)}
        form = rng.random()
        if form < 0.6:
            registration["id_number"] = number
        elif form < 0.7:  # masked over the birth date: the given date is read instead
            registration["id_number"] = number[:4] + "*" * 10 + number[14:]
            registration["birth_date"] = birth
        elif form < 0.75:  # failing its check character
            registration["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
        if rng.random() < 0.3:
            registration["birth_date"] = rng.choice([birth, rng.choice(BIRTHS)])
        holder = rng.choice(HOLDERS)
        if holder is not None:
            registration["holder"] = holder
        if rng.random() < 0.8 and times:
            verified = rng.choice(times) + timedelta(minutes=rng.choice([-600, -1, 0, 1, 30]))
            registration["verified_at"] = verified.strftime("%Y-%m-%dT%H:%M:%S")
        account["real_name"] = registration
    if times and rng.random() < 0.4:
        account["face_checks"] = [
            {"at": (rng.choice(times) - timedelta(minutes=rng.choice([0, 1, 9, 10, 11, 30]))).strftime(
                "%Y-%m-%dT%H:%M:%S"),
             "outcome": rng.choice(OUTCOMES), **({"matched": rng.choice(["registered_holder", "other", "他人"])}
                                                 if rng.random() < 0.7 else {}),
             **({"id": f"{n}-f{i}"} if rng.random() < 0.7 else {})}
            for i in range(rng.randint(1, 4))]
    if rng.random() < 0.8:
        claim: dict = {"minor_birth_date": rng.choice(BIRTHS)}
        if rng.random() < 0.3:
            claim["minor_id_number"] = rng.choice([number, fictional_id(claim["minor_birth_date"], seq="777")])
        if rng.random() < 0.2:
            claim["guardian_id_number"] = number
        case["claim"] = claim
    for trace in case.get("login_traces", []):
        if rng.random() < 0.5:
            trace["ct"] = rng.choice([0, 2])
    chats = []
    for j in range(rng.choice([0, 0, 2, 5])):
        chat = {"text": rng.choice(FLUENT), "speaker": rng.choice(["account", "account", "other", "本人"])}
        if rng.random() < 0.8:
            chat["id"] = f"{n}-m{j}"
        if times and rng.random() < 0.8:
            chat["at"] = rng.choice(times).strftime("%Y-%m-%dT%H:%M:%S")
        chats.append(chat)
    if chats:
        case["chats"] = chats
    return case


def real_name_lines(seed: int, count: int) -> list[bytes]:
    return lines_of(real_name_case, seed, count)


def test_generated_disputes_get_the_extractors_signals_exactly():
    given_, accepted, met = check(real_name_lines(seed=21, count=500))
    assert accepted >= 450
    assert given_ == accepted  # whole yuan only: nothing left to the usual path
    # The generator reaches every evidence code and finding (so each is held to the extractor's).
    assert met >= {
        "real_name.holder_is_claimed_minor", "real_name.holder_is_other_minor", "real_name.holder_adult",
        "real_name.holder_60_plus", "real_name.claim_implausible_age", "claim.not_minor_at_payment",
        "face_check.refused_before_payment", "face_check.passed_before_payment",
        "face_check.other_person_before_payment", "nppa2019.guest_paid", "nppa2019.under8_paid",
        "nppa2019.single_cap", "nppa2019.monthly_cap", "nppa.forbidden_hours_play"}, met


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 20))
def test_any_generated_block_gets_the_extractors_signals_exactly(seed, count):
    check(real_name_lines(seed, count))


def test_part_yuan_amounts_are_left_to_the_usual_path():
    paid = [{"id": "a", "at": "2024-02-10T20:00:00", "amount": 6}, {"id": "b", "at": "2024-02-10T20:01:00",
                                                                      "amount": 0.99}]
    cases = [{"case_id": "PD-1", "recharges": paid}, {"case_id": "PD-2", "recharges": paid[:1]}]
    lines = [json.dumps(c).encode() + b"\n" for c in cases]
    (block,) = read_block(list(enumerate(lines, start=1)), now=NOW)
    assert block.accepted.tolist() == [True, True]
    out = extract_block(block)
    assert out[0] is None  # its caps are judged in integer yuan here: the usual path gives them
    assert out[1] is not None and list(out[1].per_payment) == ["recharges/a"]


def test_an_office_s_regulations_are_followed(tmp_path):
    default = real_name.RealNameKnowledge.default()
    regs = default.regulations
    bands = [band.model_copy(update={"single_cny": band.single_cny - 20, "monthly_cny": band.monthly_cny - 100})
             if band.paid_service else band for band in regs.caps.bands]
    office = regs.model_copy(update={
        "caps": regs.caps.model_copy(update={"bands": bands}),
        "checks": regs.checks.model_copy(update={"face_check_window_minutes": 30.5, "elderly_holder_age": 55,
                                                 "implausible_below_age": 9, "fluent_messages_min": 1})})
    knowledge = real_name.RealNameKnowledge(office, default.calendar)
    given_, accepted, met = check(real_name_lines(seed=4, count=200), knowledge)
    assert given_ >= accepted - 20
    assert {"nppa2019.single_cap", "real_name.claim_implausible_age"} <= met


def test_caps_in_part_yuan_or_a_calendar_off_beijing_time_leave_the_block_to_the_usual_path():
    default = real_name.RealNameKnowledge.default()
    regs = default.regulations
    bands = [band.model_copy(update={"single_cny": band.single_cny - real_name.Decimal("0.5")})
             if band.paid_service else band for band in regs.caps.bands]
    part_yuan = real_name.RealNameKnowledge(regs.model_copy(update={"caps": regs.caps.model_copy(
        update={"bands": bands})}), default.calendar)
    (block,) = read_block(list(enumerate(dispute_lines(5, seed=2), start=1)), now=NOW)
    assert extract_block(block, part_yuan) == [None] * len(block.lines)
    calendar = default.calendar
    elsewhere = type(calendar)(calendar.data.model_copy(update={"timezone": "Asia/Tokyo"}))
    assert extract_block(block, real_name.RealNameKnowledge(regs, elsewhere)) == [None] * len(block.lines)
    assert any(signals is not None for signals in extract_block(block))


@pytest.mark.parametrize("cases", [
    [{"case_id": "PD-1"}, {"case_id": "PD-2", "chats": [{"text": "作业写完了"}]}],  # nothing paid, no session
    [{"case_id": "PD-1", "account": {"real_name": {"status": "verified", "id_number": fictional_id("2012-05-01")}},
      "sessions": [{"id": "s", "start": "2024-02-10T19:00:00"}]}],  # a minor's session, nothing paid
    [{"case_id": "PD-1", "login_traces": [{"si": "x", "bt": 1, "ot": 1707566400, "ct": 2}],
      "recharges": [{"id": "a", "at": "2024-02-10T20:30:00", "amount": 6}]}],  # paid in a guest's open session
], ids=["empty", "sessions-only", "guest-trace"])
def test_blocks_with_little_to_judge_get_the_extractors_signals(cases):
    lines = [json.dumps(case, ensure_ascii=False).encode() + b"\n" for case in cases]
    given_, accepted, _ = check(lines)
    assert given_ == accepted == len(cases)


def minor(birth: str, sessions: list[tuple[str, str | None]], verified_at: str = "2019-01-01T00:00:00") -> dict:
    """A case of a verified holder born on ``birth`` who played ``sessions`` (start, end) and paid once."""
    return {"case_id": f"EDGE-{birth}-{len(sessions)}",
            "account": {"real_name": {"status": "verified", "id_number": fictional_id(birth),
                                      "verified_at": verified_at}},
            "recharges": [{"id": "p", "at": sessions[0][0], "amount": 6}],
            "sessions": [{"id": f"s{i}", "start": start, **({"end": end} if end else {})}
                         for i, (start, end) in enumerate(sessions)]}


def test_sessions_at_the_edges_of_age_verification_and_the_rules_get_the_extractors_signals():
    cases = [
        # Adult from the 18th birthday's midnight: the session a second before is a minor's, the one then is not.
        minor("2006-09-03", [("2024-09-02T23:59:59", "2024-09-03T00:30:00"), ("2024-09-03T00:00:00", None)]),
        # Born at midnight, played from it (an absurd record, judged all the same).
        minor("2019-11-02", [("2019-11-02T00:00:00", "2019-11-02T00:10:00")]),
        # A Friday's hour under the 2021 rule: ending at 21:00:00 stays inside it, a second later does not.
        minor("2010-03-15", [("2021-09-03T20:30:00", "2021-09-03T21:00:00"), ("2021-09-03T20:30:00",
                                                                              "2021-09-03T21:00:01")]),
        # From the last evening before any rule into the 2019 rule's first night.
        minor("2010-03-15", [("2019-10-31T23:30:00", "2019-11-01T02:00:00")]),
        # Begun on the second of the verification.
        minor("2010-03-15", [("2023-03-18T23:00:00", "2023-03-18T23:30:00")], verified_at="2023-03-18T23:00:00"),
    ]
    lines = [json.dumps(case).encode() + b"\n" for case in cases]
    given_, accepted, met = check(lines)
    assert given_ == accepted == len(cases)
    assert "nppa.forbidden_hours_play" in met
    (block,) = read_block(list(enumerate(lines, start=1)), now=NOW)
    played = [[ref.record for item in signals.findings for ref in item.records if ref.record.startswith("sessions/")]
              for signals in extract_block(block)]
    assert played == [["sessions/s0"], ["sessions/s0"], ["sessions/s1"], ["sessions/s0"], ["sessions/s0"]]


def test_a_verification_a_fraction_of_a_second_after_a_payment_leaves_it_unverified():
    # Payments and sessions are read to the second; a verification time may carry a fraction. A payment
    # in the same second but before it was made unverified (not judged by the caps), as the extractor says.
    cases = []
    for verified in ("2023-03-18T23:00:00.5", "2023-03-18T23:00:00.999999", "2023-03-18T22:59:59.5",
                     "2023-03-18T23:00:00"):
        case = minor("2010-03-15", [("2023-03-18T23:00:00", "2023-03-18T23:30:00")], verified_at=verified)
        case["case_id"] += verified
        case["recharges"] = [{"id": "p", "at": "2023-03-18T23:00:00", "amount": 648},
                             {"id": "q", "at": "2023-03-18T23:00:01", "amount": 100}]
        cases.append(case)
    lines = [json.dumps(case).encode() + b"\n" for case in cases]
    given_, accepted, _ = check(lines)
    assert given_ == accepted == len(cases)
    (block,) = read_block(list(enumerate(lines, start=1)), now=NOW)
    assert [s.features["real_name.single_cap_excess_cny"] for s in extract_block(block)] == [50.0, 50.0, 648.0, 648.0]


def test_face_checks_a_fraction_of_a_second_from_the_window_s_edges_get_the_extractors_signals():
    # Payments at whole seconds (the reader's), 30 minutes apart (the window), face checks at fractions:
    # a check half a second after a payment is not before it, and a window ending half a second after a
    # payment still holds it.
    def case(check_at: str, outcome: str) -> dict:
        return {"case_id": f"FACE-{check_at}", "account": {
            "real_name": {"status": "verified", "id_number": fictional_id("1984-02-19"), "verified_at": "2023-01-01T00:00:00"},
            "face_checks": [{"at": check_at, "outcome": outcome}]},
            "recharges": [{"id": "p1", "at": "2023-10-11T17:52:44", "amount": 6},
                          {"id": "p2", "at": "2023-10-11T18:22:44", "amount": 6}]}
    cases = [case("2023-10-11T17:52:44.500000", "declined"), case("2023-10-11T17:52:44.999999", "passed"),
             case("2023-10-11T17:52:44.000001", "declined"), case("2023-10-11T17:52:44", "declined"),
             case("2023-10-11T17:52:43.500000", "declined"), case("2023-10-11T17:52:45.000000+08:00", "passed")]
    lines = [json.dumps(c).encode() + b"\n" for c in cases]
    given_, accepted, _ = check(lines)
    assert given_ == accepted == len(cases)
    (block,) = read_block(list(enumerate(lines, start=1)), now=NOW)
    after = [(s.features["face_check.payments_after_refusal"], s.features["face_check.payments_after_pass"])
             for s in extract_block(block)]
    assert after == [(1.0, 0.0), (0.0, 1.0), (1.0, 0.0), (2.0, 0.0), (1.0, 0.0), (0.0, 1.0)]  # (see above)


def test_a_block_too_large_for_exact_keys_is_left_to_the_usual_path(monkeypatch):
    (block,) = read_block(list(enumerate(dispute_lines(5, seed=2), start=1)), now=NOW)
    assert any(signals is not None for signals in extract_block(block))
    monkeypatch.setattr(block_path, "MAX_CASES", 4)
    assert extract_block(block) == [None] * 5
