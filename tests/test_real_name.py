"""The real-name extractor as a mediator sees it: whose ID the account is under, how old the
people were at each payment, what the face checks said, and whether the claim's ages hold up.

Each evidence code has one case where it fires and one where it does not. ID numbers are
fictional and checksum-valid; none may ever appear unmasked in any text the extractor writes.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assessor import load_cases
from assessor.features import recharge
from assessor.features.base import Signals
from assessor.features.real_name import RealNameKnowledge, RegulationsError, extract, load_regulations
from assessor.idcard import age_at, check_char
from assessor.schema import Case

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "cases"


def fictional_id(birth: str, region: str = "310104", seq: str = "031") -> str:
    first17 = region + birth.replace("-", "") + seq
    return first17 + check_char(first17)


CHILD_ID = fictional_id("2010-03-15")
FATHER_ID = fictional_id("1984-02-19", seq="013")


def make_case(*, real_name: dict[str, Any] | None = None, claim: dict[str, Any] | None = None,
              payments: list[dict[str, Any]] | None = None, chats: list[dict[str, Any]] | None = None,
              face_checks: list[dict[str, Any]] | None = None) -> Case:
    payments = payments if payments is not None else [{"at": "2023-10-11T17:52:44", "amount": 30}]
    for i, p in enumerate(payments):
        p.setdefault("id", f"ord-{i + 1}")
    account: dict[str, Any] = {"face_checks": face_checks or []}
    if real_name is not None:
        account["real_name"] = {"status": "verified", "verified_at": "2023-01-01T09:00:00", **real_name}
    return Case.model_validate({"case_id": "T-2", "claim": claim, "account": account,
                                "recharges": payments, "chats": chats or []})


def codes(signals: Signals) -> set[str]:
    return {e.code for e in signals.evidence}


def item(signals: Signals, code: str):
    return next(e for e in signals.evidence if e.code == code)


def all_text(signals: Signals) -> str:
    parts = [*signals.warnings]
    for e in signals.evidence:
        parts += [e.summary_en, e.summary_zh, str(e.value), *(r.excerpt or "" for r in e.records)]
    for f in signals.findings:
        parts += [f.summary_en, f.summary_zh, f.basis, *(r.excerpt or "" for r in f.records)]
    return "\n".join(parts)


# --------------------------------------------------------------------------- holder


def test_verified_under_the_claimed_minors_own_id() -> None:
    s = extract(make_case(real_name={"id_number": CHILD_ID, "holder": "claimed_minor"},
                          claim={"minor_birth_date": "2010-03-15"}))
    e = item(s, "real_name.holder_is_claimed_minor")
    assert e.direction == "minor" and e.value == 13
    assert [r.record for r in e.records] == ["account/real_name", "recharges/ord-1"]
    assert s.features["real_name.holder_is_minor"] == 1.0
    assert s.features["real_name.holder_age_at_first_payment"] == 13.0
    assert s.per_payment["recharges/ord-1"]["holder_age"] == 13.0
    assert s.per_payment["recharges/ord-1"]["holder_minor"] == 1.0


def test_a_cited_payment_is_shown_with_its_amount_and_item_as_the_recharge_extractor_shows_it() -> None:
    case = make_case(real_name={"id_number": FATHER_ID, "holder": "guardian"}, payments=[
        {"at": "2023-10-11T17:52:44", "amount": 648, "item": "6480钻石"},
        {"at": "2023-10-12T20:01:02", "amount": "68.0", "item": ""},
        {"at": "2023-10-13T21:00:00", "amount": "4.99", "currency": "USD", "status": "failed"}])
    held = item(extract(case), "real_name.holder_adult")
    assert {r.record: r.excerpt for r in held.records[1:]} == {"recharges/ord-1": "¥648 6480钻石",
                                                              "recharges/ord-2": "¥68.0"}
    by_recharge = {r.record: r for e in recharge.extract(case).evidence for r in e.records}
    assert [by_recharge[r.record] for r in held.records[1:]] == list(held.records[1:])  # time and excerpt alike


def test_the_id_number_identifies_the_claimed_minor_when_the_label_is_missing() -> None:
    s = extract(make_case(real_name={"id_number": CHILD_ID}, claim={"minor_id_number": CHILD_ID}))
    assert "real_name.holder_is_claimed_minor" in codes(s)
    assert s.features["real_name.holder_is_claimed_minor"] == 1.0


def test_a_claimed_minor_label_with_another_birth_date_is_not_trusted() -> None:
    other_child = fictional_id("2011-06-01")
    s = extract(make_case(real_name={"id_number": other_child, "holder": "claimed_minor"},
                          claim={"minor_birth_date": "2010-03-15"}))
    assert "real_name.holder_is_claimed_minor" not in codes(s)
    assert "real_name.holder_is_other_minor" in codes(s)
    assert s.features["real_name.holder_claim_mismatch"] == 1.0
    assert any("differs from the claim's" in w for w in s.warnings)


def test_a_sibling_or_friends_minor_id() -> None:
    s = extract(make_case(real_name={"id_number": fictional_id("2007-05-01"), "holder": "other_minor"},
                          claim={"minor_birth_date": "2010-03-15"}))
    assert item(s, "real_name.holder_is_other_minor").value == 16
    adult = extract(make_case(real_name={"id_number": FATHER_ID, "holder": "other_minor"}))
    assert "real_name.holder_is_other_minor" not in codes(adult)


def test_verified_under_an_adults_id() -> None:
    s = extract(make_case(real_name={"id_number": FATHER_ID, "holder": "guardian"}))
    e = item(s, "real_name.holder_adult")
    assert e.direction == "adult" and e.value == 39
    assert "real_name.holder_adult" not in codes(extract(make_case(
        real_name={"id_number": FATHER_ID, "holder": "guardian", "status": "unverified"})))


def test_the_holder_label_follows_the_guardians_number() -> None:
    s = extract(make_case(real_name={"id_number": FATHER_ID, "holder": "other_adult"},
                          claim={"guardian_id_number": FATHER_ID}))
    assert s.features["real_name.holder_is_guardian"] == 1.0
    assert any("taken as guardian" in w for w in s.warnings)


def test_grandparent_aged_holder() -> None:
    # Born 1964-10-12: 60 from 2024-10-12.
    grandma = fictional_id("1964-10-12", region="421127", seq="002")
    at_60 = extract(make_case(real_name={"id_number": grandma, "holder": "other_adult"},
                              payments=[{"at": "2024-10-12T15:00:00", "amount": 68}]))
    e = item(at_60, "real_name.holder_60_plus")
    assert e.direction == "minor" and e.value == 60 and at_60.features["real_name.holder_60_plus"] == 1.0
    assert "real_name.holder_adult" not in codes(at_60)
    at_59 = extract(make_case(real_name={"id_number": grandma, "holder": "other_adult"},
                              payments=[{"at": "2024-10-11T15:00:00", "amount": 68}]))
    assert "real_name.holder_60_plus" not in codes(at_59) and "real_name.holder_adult" in codes(at_59)


# --------------------------------------------------------------------------- ID numbers


def test_a_masked_id_takes_its_age_from_the_birth_date() -> None:
    s = extract(make_case(real_name={"id_number": "4211**********0026", "birth_date": "1958-06-12",
                                     "holder": "other_adult"},
                          payments=[{"at": "2024-07-08T15:12:21", "amount": 6}]))
    assert s.features["real_name.id_masked"] == 1.0
    assert s.features["real_name.holder_age_at_first_payment"] == 66.0
    assert "real_name.holder_60_plus" in codes(s)


def test_a_masked_id_without_birth_date_leaves_the_age_unknown_with_a_warning() -> None:
    s = extract(make_case(real_name={"id_number": "4211**********0026", "holder": "other_adult"}))
    assert s.features["real_name.holder_age_known"] == 0.0
    assert math.isnan(s.features["real_name.holder_age_at_first_payment"])
    assert "holder_age" not in s.per_payment["recharges/ord-1"]
    assert any("age unknown" in w for w in s.warnings)
    assert not codes(s) & {"real_name.holder_adult", "real_name.holder_60_plus"}


def test_an_id_whose_digits_disagree_with_the_birth_date_is_a_warning_and_the_id_wins() -> None:
    s = extract(make_case(real_name={"id_number": FATHER_ID, "birth_date": "2010-03-15", "holder": "guardian"}))
    assert s.features["real_name.birth_conflict"] == 1.0
    assert s.features["real_name.holder_age_at_first_payment"] == 39.0
    assert any("differs from the one in the number" in w for w in s.warnings)


def test_an_invalid_id_is_a_warning_not_a_crash() -> None:
    bad = CHILD_ID[:-1] + ("0" if CHILD_ID[-1] != "0" else "1")
    s = extract(make_case(real_name={"id_number": bad, "holder": "claimed_minor"}))
    assert s.features["real_name.id_invalid"] == 1.0
    assert any("check digit" in w for w in s.warnings)
    assert bad not in all_text(s)
    garbage = extract(make_case(real_name={"id_number": "not an id", "holder": "guardian"}))
    assert garbage.features["real_name.id_invalid"] == 1.0 and garbage.features["real_name.holder_age_known"] == 0.0


# --------------------------------------------------------------------------- the claim


def young_claim_case(*, chats: list[str], channel: str = "wechat", birth: str = "2019-05-01") -> Case:
    return make_case(real_name={"id_number": FATHER_ID, "holder": "guardian"},
                     claim={"minor_birth_date": birth},
                     payments=[{"at": "2023-10-11T20:00:00", "amount": 328, "channel": channel}],
                     chats=[{"id": f"m{i}", "text": t} for i, t in enumerate(chats)])


FLUENT = ["今天晚上十点之后再一起打副本吧", "我这边装备还差一件没打出来", "明天下班以后再上线继续刷"]


def test_a_claimed_four_year_old_writing_fluent_chat_is_implausible() -> None:
    s = extract(young_claim_case(chats=FLUENT))
    e = item(s, "real_name.claim_implausible_age")
    assert e.direction == "adult" and e.value == 4
    assert [r.record for r in e.records] == ["chats/m0", "chats/m1", "chats/m2"]
    assert "wrote 3 messages" in e.summary_en and s.features["real_name.claim_implausible_age"] == 1.0


def test_a_claimed_four_year_old_paying_by_bank_card_is_implausible() -> None:
    s = extract(young_claim_case(chats=["哈哈"], channel="bank_card"))
    assert [r.record for r in item(s, "real_name.claim_implausible_age").records] == ["recharges/ord-1"]


def test_short_messages_and_wechat_or_an_older_child_are_plausible() -> None:
    assert "real_name.claim_implausible_age" not in codes(extract(young_claim_case(chats=["哈哈", "好", "冲"])))
    assert "real_name.claim_implausible_age" not in codes(extract(young_claim_case(chats=FLUENT, birth="2011-05-01")))


def test_payments_before_the_claimed_child_was_born_are_implausible() -> None:
    s = extract(young_claim_case(chats=[], birth="2024-01-01"))
    assert "before the claimed child was born" in item(s, "real_name.claim_implausible_age").summary_en


def test_a_claimed_minor_who_was_an_adult_at_the_payments() -> None:
    s = extract(make_case(real_name={"id_number": FATHER_ID, "holder": "guardian"},
                          claim={"minor_birth_date": "2004-01-01"}))
    e = item(s, "claim.not_minor_at_payment")
    assert e.direction == "adult" and e.value == 19 and s.features["claim.not_minor_at_payment"] == 1.0
    assert any("not a minor" in w for w in s.warnings)
    minor = extract(make_case(real_name={"id_number": FATHER_ID, "holder": "guardian"},
                              claim={"minor_birth_date": "2010-03-15"}))
    assert "claim.not_minor_at_payment" not in codes(minor)


def test_a_claimed_minor_who_turned_18_during_the_dispute_is_only_a_warning() -> None:
    s = extract(make_case(claim={"minor_birth_date": "2005-10-12"},
                          payments=[{"at": "2023-10-11T18:00:00", "amount": 30},
                                    {"at": "2023-10-13T18:00:00", "amount": 30}]))
    assert "claim.not_minor_at_payment" not in codes(s)
    assert s.features["claim.adult_payment_share"] == 0.5
    assert any("at 1 of 2 disputed payments" in w for w in s.warnings)


# --------------------------------------------------------------------------- face checks


def face_case(*checks: dict[str, Any], holder_id: str = FATHER_ID) -> Case:
    return make_case(real_name={"id_number": holder_id, "holder": "guardian"},
                     payments=[{"at": "2024-08-03T21:40:00", "amount": 648}], face_checks=list(checks))


def test_a_face_check_declined_minutes_before_a_payment() -> None:
    s = extract(face_case({"id": "fc1", "at": "2024-08-03T21:36:20", "outcome": "declined"}))
    e = item(s, "face_check.refused_before_payment")
    assert e.direction == "minor" and [r.record for r in e.records] == ["face_checks/fc1", "recharges/ord-1"]
    assert s.per_payment["recharges/ord-1"]["face_refused_before"] == 1.0


@pytest.mark.parametrize("at", ["2024-08-03T21:05:00", "2024-08-03T21:45:00"])
def test_a_refusal_long_before_or_after_the_payment_does_not_count(at: str) -> None:
    s = extract(face_case({"at": at, "outcome": "failed"}))
    assert "face_check.refused_before_payment" not in codes(s)
    assert s.features["face_check.n_refused"] == 1.0 and s.features["face_check.payments_after_refusal"] == 0.0


def test_a_face_check_passed_by_the_adult_holder_before_a_payment() -> None:
    s = extract(face_case({"at": "2024-08-03T21:37:00", "outcome": "passed", "matched": "registered_holder"}))
    assert item(s, "face_check.passed_before_payment").direction == "adult"
    assert [r.record for r in item(s, "face_check.passed_before_payment").records][0] == "face_checks/0"
    assert s.per_payment["recharges/ord-1"]["face_passed_before"] == 1.0


def test_a_pass_by_a_verified_minor_holder_is_not_adult_evidence() -> None:
    s = extract(face_case({"at": "2024-08-03T21:37:00", "outcome": "passed"}, holder_id=CHILD_ID))
    assert "face_check.passed_before_payment" not in codes(s)
    assert s.per_payment["recharges/ord-1"]["face_passed_before"] == 0.0


def test_a_pass_by_someone_else_is_neutral() -> None:
    s = extract(face_case({"at": "2024-08-03T21:37:00", "outcome": "passed", "matched": "other"}))
    assert item(s, "face_check.other_person_before_payment").direction == "neutral"
    assert "face_check.passed_before_payment" not in codes(s)


# --------------------------------------------------------------------------- status and knowledge


def test_status_one_hots_and_missing_real_name() -> None:
    s = extract(make_case(real_name={"status": "游客", "holder": "unknown"}))
    assert s.features["real_name.status_guest"] == 1.0
    assert sum(v for k, v in s.features.items() if k.startswith("real_name.status_")) == 1.0
    bare = extract(Case.model_validate({"case_id": "empty"}))
    assert bare.features["real_name.status_unknown"] == 1.0 and not bare.evidence and not bare.findings


def test_an_office_can_raise_a_cap_in_its_own_file(tmp_path: Path) -> None:
    text = (Path(load_regulations.__code__.co_filename).parent.parent / "data" / "regulations.toml").read_text(
        encoding="utf-8")
    office = tmp_path / "office.toml"
    office.write_text(text.replace("single_cny = 50", "single_cny = 60"), encoding="utf-8")
    case = make_case(real_name={"id_number": CHILD_ID, "holder": "claimed_minor"},
                     payments=[{"at": "2023-10-11T18:00:00", "amount": 68}])
    default = {f.code: f.amount_cny for f in extract(case).findings}
    own = {f.code: f.amount_cny for f in extract(case, RealNameKnowledge.from_file(office)).findings}
    assert default["nppa2019.single_cap"] == 18.0 and own["nppa2019.single_cap"] == 8.0


def test_a_broken_regulations_file_names_the_field(tmp_path: Path) -> None:
    text = (Path(load_regulations.__code__.co_filename).parent.parent / "data" / "regulations.toml").read_text(
        encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("from_age = 8\n", "from_age = 9\n", 1), encoding="utf-8")
    with pytest.raises(RegulationsError, match="band 8_15 starts at 9"):
        load_regulations(bad)


# --------------------------------------------------------------------------- sample cases and privacy


@pytest.fixture(scope="module")
def samples() -> list[Case]:
    return list(load_cases(SAMPLES))


def test_every_item_on_the_sample_cases_points_at_real_records(samples: list[Case]) -> None:
    for case in samples:
        known = {"account/real_name"}
        for name, rows in (("recharges", case.recharges), ("chats", case.chats), ("sessions", case.sessions),
                           ("face_checks", case.account.face_checks if case.account else [])):
            known |= {f"{name}/{r.id if r.id not in (None, '') else i}" for i, r in enumerate(rows)}
        s = extract(case)
        for entry in [*s.evidence, *s.findings]:
            assert entry.records, entry.code
            assert {r.record for r in entry.records} <= known, entry.code
        assert set(s.per_payment) <= known


def test_sample_cases_tell_their_stories(samples: list[Case]) -> None:
    by_id = {c.case_id: extract(c) for c in samples}
    assert {f.code for f in by_id["SH-2023-0117"].findings} >= {"nppa2019.single_cap", "nppa2019.monthly_cap"}
    assert "real_name.holder_60_plus" in codes(by_id["HB-2024-0309"])
    assert "face_check.passed_before_payment" in codes(by_id["GZ-2024-0521"])
    assert [f.code for f in by_id["CD-2020-0088"].findings] == ["nppa2019.guest_paid"]


def test_no_full_id_number_in_any_text(samples: list[Case]) -> None:
    checked = 0
    for case in samples:
        raw = json.dumps(case.model_dump(mode="json"), ensure_ascii=False)
        numbers = {n for n in (case.claim.minor_id_number, case.claim.guardian_id_number,
                               case.account.real_name.id_number) if n and "*" not in n}
        text = all_text(extract(case))
        assert all(n in raw and n not in text for n in numbers)
        checked += len(numbers)
    assert checked >= 5


ID_TEXT = st.one_of(
    st.text(alphabet="0123456789X*x ＊１２", max_size=22),
    st.builds(fictional_id, st.dates(date(1900, 1, 1), date(2030, 12, 31)).map(date.isoformat)),
    st.text(max_size=25),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    id_number=st.one_of(st.none(), ID_TEXT),
    birth=st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2030, 12, 31))),
    claim_id=st.one_of(st.none(), ID_TEXT),
    claim_birth=st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2030, 12, 31))),
    status=st.sampled_from(["verified", "pending", "failed", "unverified", "guest", "unknown", "已实名"]),
    holder=st.sampled_from(["claimed_minor", "guardian", "other_adult", "other_minor", "unknown", "奶奶"]),
    verified_at=st.one_of(st.none(), st.datetimes()),
    pay_days=st.lists(st.dates(date(2015, 1, 1), date(2026, 12, 31)), max_size=4),
)
def test_extract_never_raises_and_never_leaks_an_id(id_number, birth, claim_id, claim_birth, status, holder,
                                                    verified_at, pay_days) -> None:
    case = Case.model_validate({
        "case_id": "H",
        "claim": {"minor_id_number": claim_id, "minor_birth_date": claim_birth},
        "account": {"real_name": {"id_number": id_number, "birth_date": birth, "status": status,
                                  "holder": holder, "verified_at": verified_at},
                    "face_checks": [{"at": f"{d}T19:55:00", "outcome": "declined"} for d in pay_days[:1]]},
        "recharges": [{"id": f"r{i}", "at": f"{d}T20:00:00", "amount": 60 * (i + 1)} for i, d in enumerate(pay_days)],
    })
    s = extract(case)
    text = all_text(s)
    for number in (id_number, claim_id):
        digits = "".join(ch for ch in (number or "") if ch.isdigit())
        if len(digits) >= 15:
            assert digits not in text
    assert all(f.amount_cny is None or f.amount_cny >= 0 for f in s.findings)


@settings(max_examples=100, deadline=None)
@example(birth=date(2008, 2, 29), moments=[datetime(2025, 2, 28, 23, 59, 59), datetime(2025, 3, 1), datetime(2024, 2, 29)])
@example(birth=date(2010, 3, 15), moments=[datetime(2028, 3, 14, 23, 59, 59), datetime(2028, 3, 15),
                                           datetime(2027, 3, 15), datetime(2029, 3, 15, 0, 0, 1)])
@given(birth=st.dates(date(1950, 1, 1), date(2020, 12, 31)),
       moments=st.lists(st.one_of(
           st.datetimes(datetime(2016, 1, 1), datetime(2025, 12, 31)),
           st.builds(datetime.combine, st.dates(date(2016, 1, 1), date(2025, 12, 31)),
                     st.sampled_from([time(0), time(23, 59, 59)]))),
           min_size=1, max_size=40))
def test_the_age_at_each_payment_is_the_id_parsers_age(birth: date, moments: list[datetime]) -> None:
    # 29 February birthdays included: both must count the year complete on 1 March. A birthday
    # counts from 00:00 of its day; payments come in any order and may predate the birth.
    case = make_case(real_name={"birth_date": birth.isoformat(), "holder": "guardian"},
                     payments=[{"id": f"r{i}", "at": m.isoformat(), "amount": 6} for i, m in enumerate(moments)])
    rows = extract(case).per_payment
    for i, m in enumerate(moments):
        expected = age_at(birth, m) if birth <= m.date() else None
        assert rows[f"recharges/r{i}"].get("holder_age") == expected


_RULE_EDGES = [time(0), time(7, 59, 59), time(8), time(19, 59, 59), time(20), time(20, 59, 59), time(21),
               time(21, 59, 59), time(22), time(23, 59, 59)]


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(2019, 1, 1), date(2025, 12, 31)),
       clock_time=st.one_of(st.sampled_from(_RULE_EDGES), st.times()),
       zone=st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York", None]))
def test_the_play_clock_answers_as_the_calendar_does(day: date, clock_time: time, zone: str | None) -> None:
    # The extractor reads the play rules from a per-date cache; it must agree with the calendar
    # at every moment, rule changes and window edges included, whatever the moment's timezone.
    knowledge = RealNameKnowledge.default()
    moment = datetime.combine(day, clock_time, tzinfo=ZoneInfo(zone) if zone else None)
    assert knowledge.play_clock.allowed(moment) == knowledge.calendar.minor_play_allowed(moment)
    assert knowledge.play_clock.rule(moment) == knowledge.calendar.play_rule(moment)
