"""The columnar reader (step 1 of docs/columnar.md): a case it accepts is exactly the case the
usual loader gives, and a case the usual loader refuses is never accepted, so that the usual path
can word its error. What it cannot decide, it declines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow", reason="the columnar reader needs pyarrow (the `distributed` extra)")

import numpy as np  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from pydantic_core import from_json  # noqa: E402

from assessor.io import columnar  # noqa: E402
from assessor.io.checks import admits_unchanged, check_case  # noqa: E402
from assessor.io.columnar import Block, read_block  # noqa: E402
from assessor.io.reader import _model  # noqa: E402
from assessor.simulate import simulate  # noqa: E402

HOSTILE = Path(__file__).parent / "hostile"


def difference(a: Any, b: Any, path: str = "case") -> str | None:
    """Where two validated values differ: type, every field, extra fields, time zone and fold."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"
    if isinstance(a, BaseModel):
        if a.__pydantic_extra__ != b.__pydantic_extra__:
            return f"{path}: extra {a.__pydantic_extra__} vs {b.__pydantic_extra__}"
        if list(a.__dict__) != list(b.__dict__):
            return f"{path}: fields {list(a.__dict__)} vs {list(b.__dict__)}"
        return next((d for key in a.__dict__ if (d := difference(a.__dict__[key], b.__dict__[key], f"{path}.{key}"))), None)
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := difference(x, y, f"{path}[{i}]"))), None)
    if isinstance(a, datetime):
        same = a == b and a.tzinfo is b.tzinfo and a.fold == b.fold and a.timetuple() == b.timetuple()
        return None if same else f"{path}: {a!r} vs {b!r}"
    return None if (a == b and str(a) == str(b)) else f"{path}: {a!r} vs {b!r}"


def usual(raw: bytes, timezone: str | None = None) -> Any:
    """What the usual loader makes of a line: the case after its checks (repairs made), or why it
    refuses it (an exception, or the checks' problems)."""
    try:
        payload = from_json(raw)
        if timezone and not str(payload.get("timezone") or "").strip():
            payload = {**payload, "timezone": timezone}
        case = _model(payload)
    except Exception as exc:  # noqa: BLE001 - any refusal is a refusal
        return exc
    problems = check_case(case, NOW)
    return ValueError(problems) if problems else case


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # the moment of the read: no event may be later


def read(raws: list[bytes], timezone: str | None = None) -> list[tuple[Block, int]]:
    """(block, index) of each line, in line order."""
    blocks = read_block(list(enumerate(raws, start=1)), timezone=timezone, now=NOW)
    return [(block, k) for block in blocks for k in range(len(block.lines))]


def assert_exact_or_declined(raws: list[bytes], timezone: str | None = None) -> int:
    """Every accepted line gives the usual case; every line the usual loader refuses is declined.
    Returns how many lines were accepted."""
    placed = read(raws, timezone)
    assert [block.lines[k] for block, k in placed] == list(range(1, len(raws) + 1))
    built = {id(block): block.cases() for block in {id(b): b for b, _ in placed}.values()}
    accepted = 0
    for (block, k), raw in zip(placed, raws, strict=True):
        expected = usual(raw, timezone)
        case = built[id(block)][k]
        if not block.accepted[k]:
            assert case is None and block.lines[k] in block.fallback
            continue
        accepted += 1
        assert not isinstance(expected, Exception), f"accepted a line the usual loader refuses: {expected}"
        assert difference(case, expected) is None, difference(case, expected)
    return accepted


def dispute_lines(n: int, seed: int = 3) -> list[bytes]:
    """Simulated disputes as a dispute file holds them (no training label)."""
    lines = []
    for raw in simulate(n, seed=seed):
        raw.pop("label", None)
        lines.append(json.dumps(raw, ensure_ascii=False).encode() + b"\n")
    return lines


def repaired(lines: list[bytes]) -> set[int]:
    """The lines (numbered from 1) of valid cases the usual path's checks change: they repeat a
    record exactly, which is kept once. The reader declines them."""
    out = set()
    for number, raw in enumerate(lines, start=1):
        try:
            case = _model(from_json(raw))
        except ValueError:
            continue
        if not admits_unchanged(case, NOW):
            out.add(number)
    return out


def test_a_simulated_dispute_file_is_read_in_columns_exactly():
    lines = dispute_lines(60)
    # The simulator writes only forms the reader knows; a few cases repeat a record exactly (an
    # export paging with overlap), which the usual path repairs, so the reader declines them.
    unchanged = 60 - len(repaired(lines))
    assert 50 <= unchanged < 60
    assert assert_exact_or_declined(lines) == unchanged


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.jsonl")), ids=lambda p: p.name)
def test_every_hostile_line_is_read_exactly_or_declined(path):
    raws = [line for line in path.read_bytes().splitlines(keepends=True) if line.strip()]
    assert_exact_or_declined(raws)


def test_one_bad_line_sends_only_its_neighbourhood_down_the_usual_path():
    lines = dispute_lines(64, seed=5)
    lines[40] = lines[40].replace(b'"case_id"', b'"surprise": 1, "case_id"', 1)  # a field the schema keeps
    placed = read(lines)
    declined = {block.lines[k] for block, k in placed if not block.accepted[k]}
    piece = declined - repaired(lines)
    assert 41 in piece and len(piece) <= 8 and max(piece) - min(piece) < 8
    assert assert_exact_or_declined(lines) == 64 - len(declined)


def test_a_line_holding_two_cases_is_declined_with_its_piece():
    lines = dispute_lines(16, seed=7)
    lines[3] = lines[3].rstrip(b"\n") + b" " + lines[4]  # the usual loader refuses it: extra data after the case
    placed = read(lines)
    declined = {block.lines[k] for block, k in placed if not block.accepted[k]}
    assert declined - repaired(lines) == set(range(1, 9))
    assert assert_exact_or_declined(lines) == 16 - len(declined)


def test_a_null_the_schema_refuses_is_not_read_as_missing():
    base = json.loads(dispute_lines(1)[0])
    for key, edit in (("chats", lambda c: c.update(chats=None)), ("format", lambda c: c.update(format=None)),
                      ("speaker", lambda c: c["chats"][0].update(speaker=None))):
        case = json.loads(json.dumps(base))
        edit(case)
        raw = json.dumps(case, ensure_ascii=False).encode()
        assert isinstance(usual(raw), Exception), key
        [(block, k)] = read([raw])
        assert not block.accepted[k], key


def test_an_amount_keeps_the_decimal_it_was_written_as():
    case = json.loads(dispute_lines(1)[0])
    case["recharges"] = [{**case["recharges"][0], "id": f"o{i}", "amount": "AMOUNT"} for i in range(5)]
    raw = json.dumps(case, ensure_ascii=False)
    for written in ("68", "68.0", "6.5", "198.10", "1e2"):  # as an export may write them, not as json.dumps does
        raw = raw.replace('"AMOUNT"', written, 1)
    [(block, k)] = read([raw.encode()])
    assert [str(r.amount) for r in block.cases()[k].recharges] == ["68", "68.0", "6.5", "198.1", "100.0"]
    assert_exact_or_declined([raw.encode()])


# ------------------------------------------------------------------ generated lines

# Forms the reader knows: a line made only of these is accepted (when the usual loader accepts it).
CLEAN_TIMES = ["2024-07-21T22:14:05", "2024-07-21 22:14:05", "2024/07/21 22:14:05", "2024/07/21T08:00:00Z",
               "2024-07-21T22:14:05+05:30", "2024-07-21T22:14:05-03:00", "2023-02-28T23:59:59", "2024-02-29T00:00:00"]
# Forms it declines, or that the usual loader refuses.
ODD_TIMES = ["2023-02-30T10:00:00", "2023-04-31 10:00:00", "2024-07-21T24:00:00", "2024-07-21T23:59:60",
             "2024-07-21T22:14", "2024-07-21T22:14:05.250", "2024-07-21t22:14:05", "2024-07-21T22:14:05z",
             "2024-7-21 22:14:05", "2024年7月21日 22:14", "1989-06-01T12:00:00", "2040-01-01T00:00:00",
             "1991-12-31T20:00:00+00:00", "2024-07-21T22:14:05+24:00", " 2024-07-21T22:14:05", "", 1_700_000_000,
             "2024.07-21 22:14:05", "2024-07.21 22:14:05", "2024-07-21T22.14.05",
             "1999-12-31T23:59:59", "2026-12-01T12:00:01Z", "2030-01-01T00:00:00"]  # before 2000, or to come
CLEAN_TEXTS = st.sampled_from(["r1", "dev-1", "648钻石", "微信用户(尾号9415)"]) | st.text(min_size=1, max_size=6).filter(
    lambda s: s == s.strip() and s.strip("\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") == s)
ODD_TEXTS = st.sampled_from([" padded", "padded ", "a\u3000", "\u3000", "", "  ", "\x1c"]) | st.text(max_size=6)
CLEAN = {
    "time": st.sampled_from(CLEAN_TIMES), "text": CLEAN_TEXTS | st.none(),
    "channel": st.sampled_from(["wechat", "alipay", "微信", "WeChat Pay", None]),
    "status": st.sampled_from(["success", "refunded", "支付成功", None]),
    "currency": st.sampled_from(["CNY", "cny", "RMB", "¥", "USD", None]),
    "speaker": st.sampled_from(["account", "other", "本人"]),
    "amount": st.sampled_from([0, 6, 68, 648, 68.0, 6.5, 1e2]) | st.floats(0, 1e7),
    "flag": st.sampled_from([True, False, None]), "bt": st.sampled_from([0, 1]),
    "ot": st.integers(1_500_000_000, 1_800_000_000), "case_id": st.sampled_from(["PD-1", "PD-3"]),
    "format": st.just("assessor.case/1"), "timezone": st.sampled_from(["Asia/Shanghai", None]),
    "nullable_list": lambda s: st.lists(s, max_size=4),
}
ODD = {
    "time": st.sampled_from(CLEAN_TIMES + ODD_TIMES) | st.none(), "text": CLEAN_TEXTS | ODD_TEXTS | st.none(),
    "channel": st.sampled_from(["wechat", "微信", "paypal", "", None, " wechat"]),
    "status": st.sampled_from(["success", "支付成功", "approved", None, ""]),
    "currency": st.sampled_from(["CNY", "¥", "", None, " CNY"]),
    "speaker": st.sampled_from(["account", "本人", "npc", None]),
    "amount": st.sampled_from([0, 68, 68.0, 1e308, -1, -0.0, "68", None]) | st.floats(0, 1e7),
    "flag": st.sampled_from([True, False, None, "是", 1]), "bt": st.sampled_from([0, 1, 2, None]),
    "ot": st.integers(0, 2_000_000_000) | st.sampled_from(CLEAN_TIMES),
    "case_id": st.sampled_from(["PD-1", " PD-2", ""]), "format": st.sampled_from(["assessor.case/1", "x", None]),
    "timezone": st.sampled_from(["Asia/Shanghai", "Asia/Tokyo", "", None, "Mars/Base"]),
    "nullable_list": lambda s: st.lists(s, max_size=4) | st.none(),
}
def record(**fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=fields)


def dispute(pool: dict) -> st.SearchStrategy:
    """A case whose values come from ``pool`` (CLEAN or ODD); any field may be missing."""
    time, text, flag = pool["time"], pool["text"], pool["flag"]
    recharge = record(id=text, at=time, amount=pool["amount"], currency=pool["currency"], item=text,
                      channel=pool["channel"], payer=text, device_id=text, status=pool["status"], disputed=flag,
                      by_minor=flag)
    session = record(id=text, start=time, end=time, device_id=text, ip=text)
    trace = st.fixed_dictionaries({"bt": pool["bt"], "ot": pool["ot"]}, optional={
        "si": text, "ct": st.sampled_from([0, 2, None]), "di": text})
    chat = st.fixed_dictionaries({"text": text.filter(lambda t: t is not None) if pool is CLEAN else text},
                                 optional={"id": text, "at": time, "speaker": pool["speaker"], "channel": text})
    real_name = record(status=st.sampled_from(["verified", "guest", "已认证"]), holder=st.sampled_from(
        ["guardian", "孩子"]), id_number=text)
    face_check = st.fixed_dictionaries({"at": time, "outcome": st.sampled_from(["passed", "超时"])},
                                       optional={"matched": st.sampled_from(["other", "本人"])})
    return st.fixed_dictionaries({"case_id": pool["case_id"]}, optional={
        "format": pool["format"], "timezone": pool["timezone"],
        "recharges": pool["nullable_list"](recharge), "sessions": st.lists(session, max_size=3),
        "login_traces": st.lists(trace, max_size=3), "chats": pool["nullable_list"](chat),
        "account": record(created_at=time, real_name=real_name, face_checks=st.lists(face_check, max_size=2)),
        "claim": record(minor_birth_date=st.sampled_from(["2012-05-01", "2009-11-30"]),
                        relation=st.sampled_from(["parent", "父亲"])),
    })


CASE = st.booleans().flatmap(lambda odd: dispute(ODD if odd else CLEAN))


def line(case: dict, *, escape: bool, extra: bool) -> bytes:
    text = json.dumps(case, ensure_ascii=False)
    if escape:  # a key written with an escape reads the same to a JSON parser
        text = text.replace('"speaker"', '"\\u0073peaker"').replace('"format"', '"\\u0066ormat"')
    if extra:
        text = text.replace('"at"', '"note": "x", "at"', 1)
    return text.encode() + b"\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(st.tuples(CASE, st.booleans(), st.booleans()), min_size=1, max_size=12),
       timezone=st.sampled_from([None, "Asia/Shanghai", "Europe/London"]))
def test_a_generated_line_is_read_exactly_or_declined(cases, timezone):
    raws = [line(case, escape=escape and i % 3 == 0, extra=extra and i % 4 == 0)
            for i, (case, escape, extra) in enumerate(cases)]
    assert_exact_or_declined(raws, timezone)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.datetimes(datetime(2000, 1, 2), datetime(2026, 11, 26)),  # the checks' window
                          st.sampled_from(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"]),
                          st.sampled_from(["", "Z", "+08:00", "-05:00", "+13:45"])), min_size=1, max_size=20))
def test_a_well_formed_time_in_range_is_always_accepted(times):
    chats = [{"id": f"m{i}", "at": moment.strftime(layout) + zone, "text": "hi"}
             for i, (moment, layout, zone) in enumerate(times)]
    raw = json.dumps({"case_id": "T-1", "chats": chats}).encode()
    [(block, k)] = read([raw])
    assert block.accepted[k]
    assert difference(block.cases()[k], usual(raw)) is None


# One odd value in an otherwise clean case: each check of the reader is what stands between that
# value and a wrong case.
ODD_VALUES: dict[tuple[str, str], list[Any]] = {
    ("recharges", "at"): [*ODD_TIMES, "2024-07-21T22:14:05X", "2024-07-21T22:14:05+08:0a", None],
    ("recharges", "amount"): [1e308, -1, -0.0, "68", None, True, 10_000_001, 10_000_000.5],
    ("recharges", "currency"): ["", " CNY", "  "],
    ("recharges", "channel"): ["paypal", "", " wechat"],
    ("recharges", "status"): ["approved", "", None],
    ("recharges", "disputed"): ["是", 1, "true"],
    ("recharges", "id"): ["", " r1", "r1\u3000", 12, "r-first"],  # r-first: the id of the first payment
    ("recharges", "item"): ["", "648钻石 ", "\x1c"],
    ("sessions", "start"): [*ODD_TIMES, None],
    # A naive start and an aware end are compared in the case's zone: 23:30 and 19:00 in Beijing.
    ("sessions", "end"): ["2000-01-01T00:00:00", "2024-13-01T00:00:00", "", "2024-07-21T21:00:00+05:30",
                          "2024-07-21T11:00:00Z"],
    ("sessions", "ip"): ["", " 10.0.0.1"],
    ("login_traces", "bt"): [2, None, "1", -1],
    ("login_traces", "ot"): [0, 100_000_000_001, "2024-07-21T22:14:05", 1.5e9, None],
    ("login_traces", "si"): ["", " s1", 7],
    ("chats", "text"): [None, " hi", "hi\u3000", 5],
    ("chats", "speaker"): ["npc", None, ""],
    ("chats", "at"): [*ODD_TIMES],
    ("chats", "channel"): ["", " team"],
    ("chats", "id"): ["c-first"],
    ("sessions", "id"): ["s-first"],
    ("case", "case_id"): [" PD-2", "", 12, None],
    ("case", "timezone"): ["Asia/Tokyo", "", "Mars/Base", "UTC"],
    ("case", "format"): ["x", None],
    ("case", "recharges"): [None, {}],
    ("case", "chats"): [None],
    ("case", "sessions"): [None],
    ("case", "login_traces"): [None],
    ("account", "created_at"): ["1999-12-31T00:00:00", "2026-12-05T00:00:00", "2024-02-30T00:00:00"],
    ("claim", "minor_birth_date"): ["2027-01-01", "1899-12-31", "2012-02-30"],
}
PLAIN = {"recharges": {"at": "2024-07-21T22:14:05", "amount": 6}, "sessions": {"start": "2024-07-21T20:00:00"},
         "login_traces": {"bt": 1, "ot": 1_721_563_200}, "chats": {"text": "作业写完了"}}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=dispute(CLEAN), data=st.data())
def test_one_odd_value_in_a_clean_case_is_read_exactly_or_declined(case, data):
    where, name = target = data.draw(st.sampled_from(sorted(ODD_VALUES)))
    if where == "case":
        holder = case
    elif where in ("account", "claim"):
        holder = case[where] = case.get(where) or {}
    else:
        records = case.get(where) or [dict(PLAIN[where])]
        case[where] = records
        holder = records[data.draw(st.integers(0, len(records) - 1))]
    holder[name] = data.draw(st.sampled_from(ODD_VALUES[target]))
    clean = json.dumps(case, ensure_ascii=False).encode()
    assert_exact_or_declined([clean, dispute_lines(1)[0]])


@pytest.mark.parametrize(("target", "value"), [(t, v) for t, values in ODD_VALUES.items() for v in values],
                         ids=lambda x: repr(x)[:40])
def test_each_odd_value_in_a_simulated_dispute_is_read_exactly_or_declined(target, value):
    where, name = target
    case = json.loads(dispute_lines(1, seed=11)[0])
    assert assert_exact_or_declined([json.dumps(case).encode()]) == 1  # accepted before the odd value
    for name_, plain in PLAIN.items():
        case[name_] = case.get(name_) or [dict(plain)]
    case["recharges"][0]["id"], case["chats"][0]["id"], case["sessions"][0]["id"] = "r-first", "c-first", "s-first"
    if where in ("account", "claim"):
        holder = case.setdefault(where, {}) or {}
        case[where] = holder
    else:
        holder = case if where == "case" else case[where][-1]
    holder[name] = value
    assert_exact_or_declined([json.dumps(case, ensure_ascii=False).encode()])


@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=300))
def test_distinct_keys_are_numpys_unique(keys):
    array = np.array(keys, dtype=np.int64)
    assert columnar.distinct(array).tolist() == np.unique(array).tolist()
