"""The objects every extractor returns keep one meaning however they were built: a reference whose
time came as POSIX seconds, an evidence item whose summaries are formatted when read, and
per-payment values held by column all read, compare and hash as their plain forms do."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from assessor.features.base import Direction, EvidenceItem, PaymentValues, RecordRef

BEIJING = ZoneInfo("Asia/Shanghai")
seconds = st.integers(694224000, 2145916800)  # the span the column reader admits
texts = st.one_of(st.none(), st.text(max_size=12))


@given(record=st.text(min_size=1, max_size=20), at=seconds, excerpt=texts)
def test_a_reference_timed_in_seconds_is_the_reference_timed_by_its_datetime(record, at, excerpt):
    lazy = RecordRef(record, at, excerpt, BEIJING)
    eager = RecordRef(record, datetime.fromtimestamp(at, BEIJING), excerpt)
    assert hash(lazy) == hash(eager)
    assert lazy == eager and eager == lazy
    assert lazy.at == eager.at and lazy.at.tzinfo is BEIJING
    assert lazy.to_dict() == eager.to_dict() == {"record": record, "at": eager.at.isoformat(), "excerpt": excerpt}
    assert repr(RecordRef(record, at, excerpt, BEIJING)) == repr(eager)
    assert pickle.loads(pickle.dumps(RecordRef(record, at, excerpt, BEIJING))) == eager


def test_references_differ_by_record_time_or_excerpt():
    at = datetime(2024, 2, 10, 20, 0, tzinfo=BEIJING)
    ref = RecordRef("recharges/a", at, "¥6")
    assert ref != RecordRef("recharges/b", at, "¥6")
    assert ref != RecordRef("recharges/a", at.astimezone(UTC).replace(hour=1), "¥6")
    assert ref != RecordRef("recharges/a", at, None)
    assert ref != ("recharges/a", at, "¥6")  # not a tuple


def _summary(template: str, n: int) -> str:
    return template.format(n=n)


@given(n=st.integers(0, 10**6), strength=st.floats(allow_nan=False), value=st.one_of(st.none(), st.integers()))
def test_an_item_formatted_when_read_is_the_item_formatted_at_once(n, strength, value):
    records = (RecordRef("chats/m1", None, "作业"),)
    deferred = EvidenceItem.deferred("chat.school_life", Direction.minor, "{n} lines", "{n}条", _summary, n,
                                     records, strength, value)
    eager = EvidenceItem("chat.school_life", Direction.minor, f"{n} lines", f"{n}条", records, strength, value)
    assert hash(deferred) == hash(eager)
    assert deferred == eager
    assert (deferred.summary_en, deferred.summary_zh) == (f"{n} lines", f"{n}条")
    assert repr(deferred) == repr(eager)


def test_per_payment_values_read_as_rows_and_equal_the_mapping_of_rows():
    table = PaymentValues(["recharges/a", "recharges/b"], {"face_refused_before": [0.0, 1.0],
                                                           "holder_age": [13, None]})
    rows = {"recharges/a": {"face_refused_before": 0.0, "holder_age": 13},
            "recharges/b": {"face_refused_before": 1.0}}  # a value a payment lacks is left out
    assert table == rows and dict(table.items()) == rows
    assert list(table) == ["recharges/a", "recharges/b"] and len(table) == 2
    assert table.position("recharges/b") == 1 and table.position("recharges/z") is None
    assert table.column("holder_age") == [13, None] and table.column("holder_minor") is None


def test_per_payment_flags_are_made_from_each_payment_s_bits_when_read():
    table = PaymentValues.from_flags(["recharges/a", "recharges/b", "recharges/c"], [0b01, 0b10, 0b11],
                                     {"school_hours": 0b01, "in_burst": 0b10})
    assert table.names == ["school_hours", "in_burst"]
    assert table.column("in_burst") == [0.0, 1.0, 1.0]
    assert table["recharges/c"] == {"school_hours": 1.0, "in_burst": 1.0}
    assert table == {"recharges/a": {"school_hours": 1.0, "in_burst": 0.0},
                     "recharges/b": {"school_hours": 0.0, "in_burst": 1.0},
                     "recharges/c": {"school_hours": 1.0, "in_burst": 1.0}}
