"""Fuzzing the engine: any case the loader accepts is assessed without error, and the numbers add up.

Hypothesis builds cases that are valid by the schema, with random records of every kind:
registered and claimed ID numbers (valid, masked or wrong), birth dates that make the payer a
minor or an adult, face checks, payments in CNY and other currencies, sessions, login traces
and chats mixing the phrases the chat lexicon looks for with arbitrary text. Each case goes
through the loader as JSON (the typed input error, :class:`CaseInputError`, is the only
exception allowed there) and then through :func:`assessor.engine.Engine.assess`, which must not
raise at all. Invariants, from shared/spec/case-format.md section 3:

- ``probability`` is in [0, 1], is the sigmoid of ``log_odds`` and falls in its ``band``;
- ``log_odds`` = logit(``prior``) + contributions + rule weights, unless a floor or ceiling
  rule applied, in which case ``log_odds`` is that bound's logit;
- ``attributable_amount_cny`` <= ``disputed_amount_cny`` (+ 0.01 for rounding), and
  ``disputed_amount_cny`` is the sum of the disputed successful CNY payments.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assessor.engine import assess, default_engine, logit, sigmoid
from assessor.idcard import check_char
from assessor.io import CaseInputError, load_cases
from assessor.schema import Case, band_for

ZONES = ["Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "UTC", "America/Los_Angeles"]
PHRASES = ["作业写完了 先玩一会", "妈妈不让我玩 趁她出去买菜玩一会", "我二年级", "初二 怎么了", "明天月考 我先下了",
           "放暑假了 终于可以玩了", "网课开着呢 老师看不到我", "下班了 上号", "老婆睡了 再来一把", "又加班到十一点 累死了",
           "我今年12岁", "我都四十了", "你是小学生吧", "孩子终于睡了 上号清体力", "开会摸鱼中", "<script>alert(1)</script>",
           "=HYPERLINK(\"x\")", "身份证 110105194912310021 电话 13912345678", ""]
START = datetime(2019, 1, 1)


def id_number(born: date, sequence: int, region: str = "310104") -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


moments = st.integers(0, 7 * 365 * 24 * 60).map(lambda minutes: START + timedelta(minutes=minutes))
births = st.dates(date(1940, 1, 1), date(2018, 12, 31))
texts = st.sampled_from(PHRASES) | st.text(max_size=40)
record_ids = st.none() | st.text("abcdefgho0123456789-", min_size=1, max_size=6)


def stamp(moment: datetime, style: int) -> object:
    """The same moment in the forms exports use: ISO, with an offset, Chinese, or unix seconds."""
    return [moment.isoformat(), moment.isoformat() + "+08:00", moment.strftime("%Y年%m月%d日 %H:%M"),
            moment.strftime("%Y/%m/%d %H:%M:%S"), int((moment - datetime(1970, 1, 1)).total_seconds()) - 8 * 3600][style]


@st.composite
def identity(draw, born: date) -> str | None:
    number = id_number(born, draw(st.integers(0, 999)))
    kind = draw(st.sampled_from(["full", "masked", "wrong_check", "none", "fullwidth"]))
    if kind == "masked":
        return number[:4] + "*" * 10 + number[-4:]
    if kind == "wrong_check":
        return number[:-1] + ("0" if number[-1] != "0" else "1")
    if kind == "fullwidth":
        return number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    return None if kind == "none" else number


@st.composite
def payments(draw) -> list[dict]:
    out = []
    for _ in range(draw(st.integers(0, 8))):
        payment = {"at": stamp(draw(moments), draw(st.integers(0, 4))),
                   "amount": draw(st.sampled_from([0, 1, 6, 30, 68, 98, 128, 328, 648, 6480])
                                  | st.decimals(0, 100_000, places=2).map(str)),
                   "channel": draw(st.sampled_from(["wechat", "alipay", "apple_iap", "微信", "银行卡", None]))}
        optional = {"id": record_ids, "currency": st.sampled_from(["CNY", "USD", "RMB", "¥"]),
                    "status": st.sampled_from(["success", "refunded", "failed", "支付成功"]),
                    "disputed": st.booleans(), "by_minor": st.booleans(), "item": texts,
                    "payer": st.sampled_from(["微信用户***", "支付宝 13912345678", "zhang.san"]),
                    "device_id": st.sampled_from(["dev-A", "dev-B"])}
        for key, values in optional.items():
            if draw(st.booleans()):
                payment[key] = draw(values)
        out.append(payment)
    return out


@st.composite
def cases(draw) -> dict:
    minor_born = draw(births)
    guardian_born = draw(st.dates(date(1950, 1, 1), date(1995, 12, 31)))
    minor_id = draw(identity(minor_born))
    case: dict = {"case_id": draw(st.text("ABCXYZ-0123456789", min_size=1, max_size=12)),
                  "timezone": draw(st.sampled_from(ZONES)), "recharges": draw(payments())}
    if draw(st.booleans()):
        case["claim"] = {"minor_birth_date": minor_born.isoformat() if draw(st.booleans()) else None,
                         "minor_id_number": minor_id, "guardian_id_number": draw(identity(guardian_born)),
                         "relation": draw(st.sampled_from(["parent", "grandparent", "父母", None])),
                         "statement": draw(texts)}
    if draw(st.booleans()):
        holder = draw(st.sampled_from(["claimed_minor", "guardian", "other_adult", "other_minor", "unknown"]))
        registered = {"claimed_minor": minor_id, "guardian": draw(identity(guardian_born))}.get(holder)
        case["account"] = {
            "account_id": "u-1",
            "created_at": stamp(START - timedelta(days=draw(st.integers(0, 2000))), 0),
            "real_name": {"status": draw(st.sampled_from(["verified", "pending", "failed", "unverified", "guest",
                                                          "unknown", "已认证"])),
                          "holder": holder, "id_number": registered,
                          "birth_date": minor_born.isoformat() if draw(st.booleans()) else None},
            "face_checks": [{"at": stamp(draw(moments), 0),
                             "outcome": draw(st.sampled_from(["passed", "failed", "declined", "timeout"])),
                             "matched": draw(st.sampled_from(["registered_holder", "other", "unknown"]))}
                            for _ in range(draw(st.integers(0, 3)))],
        }
    sessions = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(moments)
        end = start + timedelta(minutes=draw(st.integers(0, 600))) if draw(st.booleans()) else None
        sessions.append({"start": stamp(start, 0), "end": stamp(end, 0) if end else None,
                         "device_id": draw(st.sampled_from(["dev-A", "dev-B", None]))})
    case["sessions"] = sessions
    traces = []
    for index in range(draw(st.integers(0, 3))):
        login = draw(moments)
        traces.append({"si": f"s{index}", "bt": 1, "ot": stamp(login, 4), "ct": draw(st.sampled_from([0, 2]))})
        if draw(st.booleans()):
            traces.append({"si": f"s{index}", "bt": 0, "ot": stamp(login + timedelta(hours=1), 4)})
    case["login_traces"] = traces
    case["chats"] = [{"id": draw(record_ids), "at": stamp(draw(moments), 0) if draw(st.booleans()) else None,
                      "speaker": draw(st.sampled_from(["account", "other", "本人"])), "text": draw(texts)}
                     for _ in range(draw(st.integers(0, 8)))]
    return case


def check_invariants(case: Case, prior: float):
    a = default_engine().assess(case, prior=prior)
    assert 0.0 <= a.probability <= 1.0
    assert a.probability == pytest.approx(sigmoid(a.log_odds), abs=2e-6)
    assert a.band == band_for(a.probability) or abs(a.probability - 0.85) < 1e-5 or abs(a.probability - 0.65) < 1e-5
    bound = [r for r in a.rules if r.effect in ("floor", "ceiling") and r.applied]
    terms = sum(c.weight for c in a.contributions) + sum(r.weight or 0.0 for r in a.rules if r.effect == "weight")
    tolerance = 1e-5 * (2 + len(a.contributions) + len(a.rules))
    if bound:
        assert len(bound) == 1, "at most one bound decides"
        assert a.log_odds == pytest.approx(logit(bound[0].bound), abs=1e-5)
        unbounded = logit(prior) + terms
        assert (unbounded < a.log_odds + tolerance) if bound[0].effect == "floor" else (unbounded > a.log_odds - tolerance)
    else:
        assert a.log_odds == pytest.approx(logit(prior) + terms, abs=tolerance)
    counted = [r for r in case.recharges if r.disputed and r.status.value == "success" and r.currency == "CNY"]
    assert a.disputed_amount_cny == pytest.approx(float(sum((r.amount for r in counted), Decimal(0))), abs=0.01)
    assert a.attributable_amount_cny <= a.disputed_amount_cny + 0.01
    assert a.attributable_amount_cny >= -0.01
    assert len(a.recharges) == len(case.recharges)
    assert all(0.0 <= r.minor_probability <= 1.0 for r in a.recharges)
    assert all(math.isfinite(c.weight) for c in a.contributions)
    return a


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), prior=st.floats(0.01, 0.99))
def test_any_case_the_loader_accepts_is_assessed_and_its_numbers_add_up(case, prior):
    try:
        [loaded] = load_cases(io.StringIO(json.dumps(case, ensure_ascii=False) + "\n"))
    except CaseInputError:
        return  # the typed input error: e.g. a session that ends before it starts would be one
    check_invariants(loaded, prior)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_the_library_call_raises_only_the_typed_input_error(case):
    try:
        assessment = assess(case)
    except ValidationError:  # the schema's own error for a dict that is not a case
        return
    assert assessment.case_id == case["case_id"].strip()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_verified_minor_and_an_adult_by_birth_date_hit_their_bounds(data):
    """Steer the generator into the floor and the ceiling, so the bounded branch is fuzzed too."""
    born = data.draw(st.dates(date(2008, 1, 1), date(2012, 12, 31)))
    minor_id = id_number(born, data.draw(st.integers(0, 999)))
    case = data.draw(cases())
    case["claim"] = {"minor_id_number": minor_id}
    case["account"] = {"real_name": {"status": "verified", "holder": "claimed_minor", "id_number": minor_id}}
    case["recharges"] = [*data.draw(payments()), {"id": "paid", "at": "2021-07-21T22:14:05", "amount": 648}]
    for index, record in enumerate(case["recharges"] + case["chats"]):
        record["id"] = f"r{index}"  # unique: a clash would be rejected, and this test is about the bounds
    [floor] = load_cases(io.StringIO(json.dumps(case) + "\n"))
    rules = {r.id for r in check_invariants(floor, data.draw(st.floats(0.01, 0.99))).rules}
    assert "real_name.own_verified_minor_id" in rules
    case["claim"] = {"minor_birth_date": "1990-01-01"}
    case.pop("account")
    [ceiling] = load_cases(io.StringIO(json.dumps(case) + "\n"))
    rules = {r.id for r in check_invariants(ceiling, data.draw(st.floats(0.01, 0.99))).rules}
    assert "claim.not_minor_at_payment" in rules
