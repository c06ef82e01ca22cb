"""Regulatory findings a mediator can check by hand: the NPPA 2019 caps (国新出发〔2019〕34号),
payments by guests, and play at forbidden hours, computed exactly from the payment records.

Every expected amount below is worked out in the comment next to it from the caps of the
notice: under 8 no paid service; 8-15 at most ¥50 a payment and ¥200 a month; 16-17 at most
¥100 a payment and ¥400 a month.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assessor.features.real_name import extract
from assessor.idcard import check_char
from assessor.schema import Case


def fictional_id(birth: str, region: str = "310104", seq: str = "031") -> str:
    """A checksum-valid, made-up ID number for a birth date YYYY-MM-DD."""
    first17 = region + birth.replace("-", "") + seq
    return first17 + check_char(first17)


def pay(at: str, amount: float, **extra: Any) -> dict[str, Any]:
    return {"at": at, "amount": amount, **extra}


def make_case(payments: list[dict[str, Any]], *, birth: str | None = "2010-03-15", status: str = "verified",
              holder: str = "claimed_minor", verified_at: str | None = "2019-11-01T09:00:00",
              sessions: list[dict[str, Any]] | None = None,
              login_traces: list[dict[str, Any]] | None = None) -> Case:
    real_name: dict[str, Any] = {"status": status, "holder": holder, "verified_at": verified_at}
    if birth is not None:
        real_name["id_number"] = fictional_id(birth)
    for i, p in enumerate(payments):
        p.setdefault("id", f"ord-{i + 1}")
    return Case.model_validate({
        "case_id": "T-1", "claim": {"minor_birth_date": birth},
        "account": {"real_name": real_name}, "recharges": payments, "sessions": sessions or [],
        "login_traces": login_traces or [],
    })


def findings(case: Case) -> dict[str, Any]:
    return {f.code: f for f in extract(case).findings}


def records(finding: Any) -> list[str]:
    return [r.record for r in finding.records]


# --------------------------------------------------------------------------- single payment cap


def test_single_cap_8_to_15_reports_the_excess_and_the_full_total() -> None:
    # 13 years old. 68 -> 18 over, 30 -> under the cap, 128 -> 78 over: excess 96 of 196 paid.
    case = make_case([pay("2023-10-11T17:52:44", 68), pay("2023-10-12T18:00:00", 30),
                      pay("2023-10-14T15:20:48", 128)])
    found = findings(case)["nppa2019.single_cap"]
    assert found.amount_cny == pytest.approx(96.0)
    assert records(found) == ["recharges/ord-1", "recharges/ord-3"]
    assert "¥196" in found.summary_en and "¥196" in found.summary_zh and "¥50" in found.summary_en
    assert "国新出发〔2019〕34号" in found.basis


def test_single_cap_16_to_17_allows_exactly_100() -> None:
    # Born 2007-01-10: 16 in May 2023. 100 is at the cap; 150 -> 50 over; 198 -> 98 over.
    case = make_case([pay("2023-05-02T19:00:00", 100), pay("2023-05-03T19:00:00", 150),
                      pay("2023-05-04T19:00:00", 198)], birth="2007-01-10")
    found = findings(case)["nppa2019.single_cap"]
    assert found.amount_cny == pytest.approx(148.0)
    assert records(found) == ["recharges/ord-2", "recharges/ord-3"]
    assert "¥100" in found.summary_en


def test_single_cap_follows_the_birthday_which_counts_from_midnight() -> None:
    # Born 2008-03-15. ¥80 on the day before the 16th birthday is 30 over the ¥50 cap;
    # ¥80 at 00:05 on the birthday is under the ¥100 cap.
    case = make_case([pay("2024-03-14T23:55:00", 80), pay("2024-03-15T00:05:00", 80)], birth="2008-03-15")
    found = findings(case)["nppa2019.single_cap"]
    assert found.amount_cny == pytest.approx(30.0)
    assert records(found) == ["recharges/ord-1"]


# --------------------------------------------------------------------------- monthly cap


def test_monthly_cap_8_to_15_counts_in_time_order() -> None:
    # 13 years old, all payments within the ¥50 single cap: 50 x 4 = 200 (at the cap), then 30 and 48:
    # 230 -> 30 over, 278 -> 48 over. Excess 78.
    payments = [pay(f"2023-10-{d:02d}T18:00:00", 50) for d in (2, 9, 16, 23)]
    payments += [pay("2023-10-25T18:00:00", 30), pay("2023-10-27T18:00:00", 48)]
    found = findings(make_case(payments))
    assert "nppa2019.single_cap" not in found
    monthly = found["nppa2019.monthly_cap"]
    assert monthly.amount_cny == pytest.approx(78.0)
    assert records(monthly) == ["recharges/ord-5", "recharges/ord-6"]
    assert "2023-10: ¥278 paid, cap ¥200, ¥78 over" in monthly.summary_en


def test_monthly_cap_16_to_17_is_400() -> None:
    # Born 2007-01-10 (16): 100 x 4 = 400 at the cap; another 100 -> 100 over.
    payments = [pay(f"2023-06-{d:02d}T19:00:00", 100) for d in (1, 5, 9, 13, 17)]
    monthly = findings(make_case(payments, birth="2007-01-10"))["nppa2019.monthly_cap"]
    assert monthly.amount_cny == pytest.approx(100.0)
    assert records(monthly) == ["recharges/ord-5"]


def test_monthly_cap_when_the_16th_birthday_falls_mid_month() -> None:
    # Born 2008-03-15. March 2024, running total against the cap of the band at each payment:
    #   03-05..03-14: 50 x 4 = 200 at 15 (cap 200)      -> 0
    #   03-14 30      -> 230 at 15 (cap 200)             -> 30 over
    #   03-16 100     -> 330 at 16 (cap 400)             -> 0
    #   03-20 100     -> 430 at 16 (cap 400)             -> 30 over
    #   03-25 100     -> 530 at 16 (cap 400, 430 before) -> 100 over
    # Monthly excess 160; no payment above its own single cap (50 at 15, 100 at 16).
    payments = [pay(f"2024-03-{d:02d}T18:00:00", 50) for d in (5, 8, 11, 13)]
    payments += [pay("2024-03-14T18:30:00", 30), pay("2024-03-16T18:00:00", 100),
                 pay("2024-03-20T18:00:00", 100), pay("2024-03-25T18:00:00", 100)]
    found = findings(make_case(payments, birth="2008-03-15"))
    assert "nppa2019.single_cap" not in found
    monthly = found["nppa2019.monthly_cap"]
    assert monthly.amount_cny == pytest.approx(160.0)
    assert records(monthly) == ["recharges/ord-5", "recharges/ord-7", "recharges/ord-8"]
    assert "¥200/¥400" in monthly.summary_en


def test_the_8th_birthday_mid_month_splits_under8_from_the_capped_band() -> None:
    # Born 2015-04-10. April 2023: 04-05 ¥30 at 7 (no paid service: under-8 finding ¥30);
    # at 8: 50 (total 80), 50 (130), 100 (single: 50 over; month 230 -> 30 over).
    payments = [pay("2023-04-05T18:00:00", 30), pay("2023-04-12T18:00:00", 50),
                pay("2023-04-20T18:00:00", 50), pay("2023-04-25T18:00:00", 100)]
    found = findings(make_case(payments, birth="2015-04-10"))
    assert found["nppa2019.under8_paid"].amount_cny == pytest.approx(30.0)
    assert records(found["nppa2019.under8_paid"]) == ["recharges/ord-1"]
    assert found["nppa2019.single_cap"].amount_cny == pytest.approx(50.0)
    assert found["nppa2019.monthly_cap"].amount_cny == pytest.approx(30.0)


def test_under_8_every_payment_is_reported_and_no_cap_applies() -> None:
    # Born 2016-06-01: 7 in 2023. 6 + 30 + 68 = 104, all of it.
    payments = [pay("2023-07-01T15:00:00", 6), pay("2023-07-01T15:05:00", 30), pay("2023-07-03T15:00:00", 68)]
    found = findings(make_case(payments, birth="2016-06-01"))
    assert found["nppa2019.under8_paid"].amount_cny == pytest.approx(104.0)
    assert "Arts. 20, 144" in found["nppa2019.under8_paid"].basis
    assert "nppa2019.single_cap" not in found and "nppa2019.monthly_cap" not in found


# --------------------------------------------------------------------------- months and statuses


def test_a_payment_at_2330_on_31_march_belongs_to_march_in_shanghai() -> None:
    # March: 150 + 100 (23:30 on the 31st, written in UTC as 15:30Z) = 250 -> 50 over.
    # April: 200 at 00:10 on the 1st -> at the cap, not over.
    payments = [pay("2024-03-10T18:00:00", 50), pay("2024-03-12T18:00:00", 50), pay("2024-03-13T18:00:00", 50),
                pay("2024-03-31T15:30:00Z", 50), pay("2024-03-31T23:30:00+08:00", 50),
                pay("2024-04-01T00:10:00+08:00", 50), pay("2024-04-02T18:00:00", 50),
                pay("2024-04-03T18:00:00", 50), pay("2024-04-04T18:00:00", 50)]
    monthly = findings(make_case(payments))["nppa2019.monthly_cap"]
    assert monthly.amount_cny == pytest.approx(50.0)
    assert "2024-03" in monthly.summary_en and "2024-04" not in monthly.summary_en
    assert records(monthly) == ["recharges/ord-5"]  # the 5th is the 250th yuan of March


def test_refunded_failed_and_foreign_currency_payments_do_not_count() -> None:
    # 13 years old. Only the successful ¥150 counts: single excess 100; month 150 <= 200.
    payments = [pay("2023-10-02T18:00:00", 150), pay("2023-10-03T18:00:00", 300, status="refunded"),
                pay("2023-10-04T18:00:00", 300, status="failed"),
                pay("2023-10-05T18:00:00", 500, currency="USD")]
    signals = extract(make_case(payments))
    found = {f.code: f for f in signals.findings}
    assert found["nppa2019.single_cap"].amount_cny == pytest.approx(100.0)
    assert records(found["nppa2019.single_cap"]) == ["recharges/ord-1"]
    assert "nppa2019.monthly_cap" not in found
    assert any("USD" in w for w in signals.warnings)


def test_caps_apply_only_to_a_verified_minor_and_from_1_november_2019() -> None:
    big = [pay("2023-10-02T18:00:00", 648)]
    assert not findings(make_case(big, birth="1984-02-19", holder="guardian"))  # adult holder
    before_rule = [pay("2019-10-20T18:00:00", 648)]
    assert not findings(make_case(before_rule, verified_at="2019-10-01T09:00:00"))
    # A minor's ID whose verification is still pending: not judged by the caps, but the
    # payment is one an unverified user could not make.
    pending = findings(make_case(big, status="pending"))
    assert set(pending) == {"nppa2019.guest_paid"} and pending["nppa2019.guest_paid"].amount_cny == 648.0


# --------------------------------------------------------------------------- guests


def test_guest_payments_before_and_after_guest_mode_was_abolished() -> None:
    # 2021-08-31 23:00 ¥30 under the 2019 notice; 2021-09-01 00:30 ¥68 and 2021-09-10 ¥6 after the
    # 2021 notice abolished guest mode; a refunded ¥328 is left out. Total 104.
    payments = [pay("2021-08-31T23:00:00", 30), pay("2021-09-01T00:30:00", 68),
                pay("2021-09-10T12:00:00", 6), pay("2021-09-11T12:00:00", 328, status="refunded")]
    found = findings(make_case(payments, birth=None, status="guest", holder="unknown", verified_at=None))
    guest = found["nppa2019.guest_paid"]
    assert guest.amount_cny == pytest.approx(104.0)
    assert records(guest) == ["recharges/ord-1", "recharges/ord-2", "recharges/ord-3"]
    assert "1 (¥30) under 国新出发〔2019〕34号" in guest.summary_en
    assert "2 (¥74) under 国新出发〔2021〕14号" in guest.summary_en
    assert "国新出发〔2019〕34号" in guest.basis and "国新出发〔2021〕14号" in guest.basis
    assert set(found) == {"nppa2019.guest_paid"}


def test_guest_payments_before_the_2019_notice_are_not_judged() -> None:
    case = make_case([pay("2019-10-31T20:00:00", 30), pay("2019-11-01T10:00:00", 6)], birth=None,
                     status="guest", holder="unknown", verified_at=None)
    signals = extract(case)
    (guest,) = signals.findings
    assert guest.amount_cny == pytest.approx(6.0)
    assert any("predate 2019-11-01" in w for w in signals.warnings)


def test_payments_before_the_verification_time_are_unverified_payments() -> None:
    # Adult ID verified on 2023-10-05: the ¥68 of 10-02 was taken before any real-name check.
    case = make_case([pay("2023-10-02T18:00:00", 68), pay("2023-10-06T18:00:00", 30)], birth="1984-02-19",
                     holder="guardian", verified_at="2023-10-05T09:00:00")
    guest = findings(case)["nppa2019.guest_paid"]
    assert guest.amount_cny == pytest.approx(68.0) and records(guest) == ["recharges/ord-1"]


def test_payments_inside_a_guest_login_session_are_unverified_payments() -> None:
    # Verified adult account; the anti-addiction record logs a guest (ct=2) session 18:00-19:00 on
    # 2023-10-06 and a verified one (ct=0) the next day. Payments at 18:00, 18:30 and 19:00 fall in
    # the guest session (both ends count): 30 + 6 + 68 = 104. 19:00:01 and the next day's do not.
    def ot(at: str) -> int:
        return int(datetime.fromisoformat(at + "+08:00").timestamp())

    case = make_case([pay("2023-10-06T18:00:00", 30), pay("2023-10-06T18:30:00", 6),
                      pay("2023-10-06T19:00:00", 68), pay("2023-10-06T19:00:01", 128),
                      pay("2023-10-07T18:30:00", 328)],
                     birth="1984-02-19", holder="guardian", verified_at="2023-01-05T09:00:00",
                     login_traces=[{"si": "g", "bt": 1, "ot": ot("2023-10-06T18:00:00"), "ct": 2},
                                   {"si": "g", "bt": 0, "ot": ot("2023-10-06T19:00:00"), "ct": 2},
                                   {"si": "v", "bt": 1, "ot": ot("2023-10-07T18:00:00"), "ct": 0},
                                   {"si": "v", "bt": 0, "ot": ot("2023-10-07T19:00:00"), "ct": 0}])
    guest = findings(case)["nppa2019.guest_paid"]
    assert guest.amount_cny == pytest.approx(104.0)
    assert records(guest) == ["recharges/ord-1", "recharges/ord-2", "recharges/ord-3"]
    assert "paid inside a guest login session" in guest.summary_en
    assert "3 (¥104) under 国新出发〔2021〕14号" in guest.summary_en


def test_a_verified_account_paying_at_its_verified_time_has_no_findings() -> None:
    case = make_case([pay("2023-10-05T09:00:00", 30)], birth="1984-02-19", holder="guardian",
                     verified_at="2023-10-05T09:00:00")
    assert not findings(case)


# --------------------------------------------------------------------------- forbidden hours


def test_forbidden_hours_under_the_2019_and_2021_rules() -> None:
    payments = [
        pay("2020-05-06T23:00:00", 30),   # Wed 23:00, 2019 rule (22-08 forbidden): forbidden
        pay("2020-05-06T21:00:00", 30),   # Wed 21:00, 2019 rule: allowed
        pay("2023-10-11T17:52:00", 30),   # Wed, 2021 rule (Fri-Sun 20-21 only): forbidden
        pay("2023-10-13T20:30:00", 30),   # Fri 20:30, 2021 rule: allowed
    ]
    sessions = [
        {"id": "s1", "start": "2023-10-13T20:10:00", "end": "2023-10-13T21:20:00"},  # runs past 21:00
        {"id": "s2", "start": "2023-10-14T20:05:00", "end": "2023-10-14T20:55:00"},  # Sat, inside the hour
        {"id": "s3", "start": "2020-05-06T21:00:00", "end": "2020-05-07T00:30:00"},  # past 22:00 (2019)
        {"id": "s4", "start": "2020-05-09T10:00:00", "end": "2020-05-09T11:00:00"},  # Sat morning (2019): allowed
        # Starts and ends at allowed hours, but runs through the night between (2019 rule).
        {"id": "s5", "start": "2020-05-09T21:30:00", "end": "2020-05-10T08:30:00"},
    ]
    found = findings(make_case(payments, sessions=sessions))["nppa.forbidden_hours_play"]
    assert found.amount_cny == pytest.approx(60.0)
    assert records(found) == ["recharges/ord-1", "recharges/ord-3", "sessions/s1", "sessions/s3",
                              "sessions/s5"]
    assert "2 payments (¥60) and 3 sessions" in found.summary_en
    assert "国新出发〔2019〕34号" in found.basis and "国新出发〔2021〕14号" in found.basis


def test_forbidden_hours_need_a_verified_minor_holder() -> None:
    night = [pay("2023-10-11T23:30:00", 30)]
    assert "nppa.forbidden_hours_play" not in findings(make_case(night, birth="1984-02-19", holder="guardian"))
    assert "nppa.forbidden_hours_play" not in findings(make_case(night, status="unverified"))
