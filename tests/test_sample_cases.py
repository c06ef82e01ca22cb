"""The shipped example disputes (sample_data/cases) are valid cases that tell the story their README says.

Mediators and operators learn the input format from these files, and other formats are generated
from them, so each one must validate, use only checksum-valid (fictional) or masked ID numbers,
and keep its timestamps where its story puts them (school days, vacations, late nights).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime, time
from functools import cache
from pathlib import Path

import holidays
import pytest

from assessor.schema import Case, FaceMatch, FaceOutcome, Holder, RealNameStatus

CASES_DIR = Path(__file__).resolve().parent.parent / "sample_data" / "cases"
EXPECTED = [
    "01_own_id_over_caps.json",
    "02_grandparent_summer.json",
    "03_adult_work_family.json",
    "04_guest_paid.json",
    "05_mixed_family_phone.json",
    "06_no_chat.json",
]

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits (computed here on purpose,
# independently of the package's own ID parser).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_FULL_ID = re.compile(r"^\d{17}[\dX]$")
_MASKED_ID = re.compile(r"^\d{4}\*{10}\d{3}[\dX]$")


def _check_char(first17: str) -> str:
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _id_is_valid(number: str) -> bool:
    if not _FULL_ID.match(number) or number[0] not in "12345678":
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return _check_char(number[:17]) == number[17]


def _masked(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:] if len(number) == 18 else "<malformed>"


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _raw(name: str) -> dict:
    return json.loads((CASES_DIR / name).read_text(encoding="utf-8"))


@cache
def _case(name: str) -> Case:
    return Case.model_validate(_raw(name))


def _working_day(day: date) -> bool:
    """A day adults work and (in term time) pupils attend school, with the State Council's swaps."""
    return holidays.China(years=day.year).is_working_day(day)


def _local(dt: datetime) -> datetime:
    return dt.replace(tzinfo=None)


# --------------------------------------------------------------------------- every sample


def test_all_six_samples_are_shipped() -> None:
    assert sorted(p.name for p in CASES_DIR.glob("*.json")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_sample_validates_as_a_case(name: str) -> None:
    case = Case.model_validate(_raw(name))
    assert case.format == "assessor.case/1"
    assert case.recharges, "every story has payments"


@pytest.mark.parametrize("name", EXPECTED)
def test_sample_carries_a_truth_label_and_a_parent_statement(name: str) -> None:
    case = _case(name)
    assert case.label is not None and case.label.minor_payer is not None
    assert case.label.source in {"mediation", "court"}
    assert case.claim is not None and re.search(r"[\u4e00-\u9fff]{10,}", case.claim.statement or "")


def test_case_ids_are_distinct() -> None:
    ids = [_case(name).case_id for name in EXPECTED]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("name", EXPECTED)
def test_record_ids_are_unique_within_each_list(name: str) -> None:
    case = _case(name)
    for records in (case.recharges, case.sessions, case.chats, case.account.face_checks):
        ids = [r.id for r in records if r.id is not None]
        assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("name", EXPECTED)
def test_id_numbers_are_checksum_valid_or_masked_with_a_birth_date(name: str) -> None:
    case = _case(name)
    real_name = case.account.real_name
    numbered = [
        (case.claim.minor_id_number, case.claim.minor_birth_date),
        (case.claim.guardian_id_number, None),
        (real_name.id_number, real_name.birth_date),
    ]
    problems = []
    for number, birth in numbered:
        if number is None:
            continue
        if "*" in number:
            if not _MASKED_ID.match(number) or birth is None:
                problems.append(f"masked {number} needs the 3101**********1234 form and a birth_date")
        elif not _id_is_valid(number):
            problems.append(f"invalid ID {_masked(number)}")
        elif birth is not None and number[6:14] != birth.strftime("%Y%m%d"):
            problems.append(f"ID {_masked(number)} disagrees with birth date {birth}")
    assert problems == []


def test_the_checksum_used_here_rejects_a_wrong_check_char() -> None:
    good = "11010519491231002X"  # the spec's example number
    assert _id_is_valid(good)
    assert not _id_is_valid(good[:17] + "3")
    assert not _id_is_valid("110105194902300021")  # 30 February


def test_at_least_one_sample_uses_a_masked_id_with_an_explicit_birth_date() -> None:
    masked = [n for n in EXPECTED if "*" in (_case(n).account.real_name.id_number or "")]
    assert masked and all(_case(n).account.real_name.birth_date for n in masked)


@pytest.mark.parametrize("name", EXPECTED)
def test_payers_are_masked_never_named(name: str) -> None:
    payers = {r.payer for r in _case(name).recharges}
    assert payers and all(p and "*" in p for p in payers)


@pytest.mark.parametrize("name", EXPECTED)
def test_claimed_child_is_a_minor_at_every_payment(name: str) -> None:
    case = _case(name)
    ages = {_age(case.claim.minor_birth_date, r.at.date()) for r in case.recharges}
    assert ages and max(ages) < 18 and min(ages) >= 8


# --------------------------------------------------------------------------- the stories


def test_case1_child_verified_under_own_id_and_paid_above_both_caps() -> None:
    case = _case("01_own_id_over_caps.json")
    rn = case.account.real_name
    assert rn.status == RealNameStatus.verified and rn.holder == Holder.claimed_minor
    assert rn.id_number == case.claim.minor_id_number
    assert {_age(case.claim.minor_birth_date, r.at.date()) for r in case.recharges} == {13}
    by_month: dict[tuple[int, int], list[float]] = defaultdict(list)
    for r in case.recharges:
        by_month[(r.at.year, r.at.month)].append(float(r.amount))
    assert len(by_month) == 2
    for amounts in by_month.values():  # 8-16: at most 50 per payment, 200 per month (国新出发〔2019〕34号)
        assert sum(amounts) > 200 and max(amounts) > 50


def test_case1_payments_fall_after_school_or_on_days_off() -> None:
    for r in _case("01_own_id_over_caps.json").recharges:
        at = _local(r.at)
        assert not _working_day(at.date()) or at.time() >= time(16, 30), at


def test_case2_grandparent_id_and_summer_vacation_bursts() -> None:
    case = _case("02_grandparent_summer.json")
    rn = case.account.real_name
    assert rn.holder == Holder.other_adult and rn.birth_date == date(1958, 6, 12)
    assert {_age(case.claim.minor_birth_date, r.at.date()) for r in case.recharges} == {10}
    for r in case.recharges:
        at = _local(r.at)
        assert (at.year, at.month) in {(2024, 7), (2024, 8)} and time(13) <= at.time() <= time(22, 30)
    same_day = defaultdict(list)
    for r in case.recharges:
        same_day[r.at.date()].append(r.at)
    bursts = [d for d, ts in same_day.items() if len(ts) >= 3 and (max(ts) - min(ts)).seconds <= 15 * 60]
    assert len(bursts) >= 4


def test_case2_face_check_declined_minutes_before_the_largest_payment() -> None:
    case = _case("02_grandparent_summer.json")
    largest = max((r for r in case.recharges if r.status == "success"), key=lambda r: r.amount)
    declined = [f for f in case.account.face_checks if f.outcome == FaceOutcome.declined]
    assert any(0 < (largest.at - f.at).total_seconds() <= 10 * 60 for f in declined)


def test_case2_chats_speak_of_grandma_homework_and_grade() -> None:
    texts = " ".join(c.text for c in _case("02_grandparent_summer.json").chats if c.speaker == "account")
    for phrase in ("奶奶在睡觉", "暑假作业还没写完", "班主任", "四年级"):
        assert phrase in texts


def test_case3_adult_pattern_registered_to_the_father() -> None:
    case = _case("03_adult_work_family.json")
    rn = case.account.real_name
    assert rn.holder == Holder.guardian and rn.id_number == case.claim.guardian_id_number
    assert case.label.minor_payer is False
    school_hours = [r for r in case.recharges
                    if _working_day(r.at.date()) and time(10) <= r.at.time() <= time(15)]
    late_night = [r for r in case.recharges if r.at.time() >= time(23) or r.at.time() < time(2)]
    assert len(school_hours) >= 10 and len(late_night) >= 4
    assert len(school_hours) + len(late_night) == len(case.recharges)


def test_case3_every_face_check_passed_by_the_holder_just_before_a_payment() -> None:
    case = _case("03_adult_work_family.json")
    assert case.account.face_checks
    for check in case.account.face_checks:
        assert check.outcome == FaceOutcome.passed and check.matched == FaceMatch.registered_holder
        assert any(0 < (r.at - check.at).total_seconds() <= 5 * 60 for r in case.recharges)


def test_case3_chats_are_an_adults_talk() -> None:
    texts = " ".join(c.text for c in _case("03_adult_work_family.json").chats if c.speaker == "account")
    for phrase in ("加班", "开会", "工资", "老婆", "我儿子", "喝酒", "我都四十了"):
        assert phrase in texts


def test_case4_guest_paid_during_the_2020_online_classes() -> None:
    case = _case("04_guest_paid.json")
    assert case.account.real_name.status == RealNameStatus.guest
    assert {_age(case.claim.minor_birth_date, r.at.date()) for r in case.recharges} == {8}
    for r in case.recharges:
        at = _local(r.at)
        assert date(2020, 2, 10) <= at.date() <= date(2020, 4, 30)  # before 2021-09-01: guests could not pay
        assert _working_day(at.date()) and time(8) <= at.time() <= time(17)


def test_case4_has_guest_login_traces_instead_of_sessions() -> None:
    raw = _raw("04_guest_paid.json")
    assert "sessions" not in raw
    assert {t["ct"] for t in raw["login_traces"]} == {2}
    assert all(isinstance(t["ot"], int) for t in raw["login_traces"])
    case = _case("04_guest_paid.json")
    assert len(case.sessions) == len(raw["login_traces"]) // 2
    assert all(s.end is not None and s.end > s.start for s in case.sessions)
    for r in case.recharges:  # every payment happened inside a logged guest session
        assert any(s.start <= r.at <= s.end for s in case.sessions), r.id


def test_case5_mothers_own_monthly_cards_are_undisputed() -> None:
    case = _case("05_mixed_family_phone.json")
    mothers = [r for r in case.recharges if not r.disputed]
    assert mothers and all(r.by_minor is False and r.amount == 30 for r in mothers)
    assert len({(r.at.year, r.at.month) for r in mothers}) == len(mothers)  # one a month
    for r in mothers:
        assert _working_day(r.at.date()) and time(22, 30) <= r.at.time() <= time(23, 30)
    disputed = [r.id for r in case.recharges if r.disputed]
    assert case.claim.disputed_recharge_ids == disputed
    assert all(r.by_minor is True for r in case.recharges if r.disputed)


def test_case5_sons_payments_are_weekend_afternoons_or_winter_vacation() -> None:
    case = _case("05_mixed_family_phone.json")
    sons = [r for r in case.recharges if r.by_minor]
    vacation = (date(2024, 1, 27), date(2024, 2, 18))
    for r in sons:
        day = r.at.date()
        assert not _working_day(day) or vacation[0] <= day <= vacation[1], r.id
        assert time(13) <= r.at.time() <= time(17), r.id
    assert sum(vacation[0] <= r.at.date() <= vacation[1] for r in sons) >= 10
    assert len({r.device_id for r in sons}) == 2
    texts = " ".join(c.text for c in case.chats)
    assert "妈妈不让我玩" in texts and "下班了 上号" in texts


def test_case6_has_no_chats_sessions_or_face_checks() -> None:
    raw = _raw("06_no_chat.json")
    assert not {"chats", "sessions", "login_traces"} & raw.keys()
    assert "face_checks" not in raw["account"]
    case = _case("06_no_chat.json")
    assert case.claim.minor_id_number is None and case.account.real_name.holder == Holder.guardian


def test_case6_apple_payments_on_weekend_afternoons_and_around_spring_festival_2025() -> None:
    case = _case("06_no_chat.json")
    assert {r.channel for r in case.recharges} == {"apple_iap"}
    vacation = (date(2025, 1, 18), date(2025, 2, 16))
    for r in case.recharges:
        day = r.at.date()
        assert not _working_day(day) or vacation[0] <= day <= vacation[1], r.id
        assert time(13) <= r.at.time() <= time(17), r.id
    assert sum(r.at.date() == date(2025, 1, 29) for r in case.recharges) >= 3
