"""The chat extractor over a block's columns gives, for each case the reader accepted, exactly what
the extractor gives for that case's models: every feature bit for bit and in order, every evidence
item with its records, excerpts, values and words."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pyarrow", reason="the columnar reader needs pyarrow (the `distributed` extra)")

from block_parity import compare, lines_of, sample_lines  # noqa: E402
from test_chat import copy_lexicon  # noqa: E402
from test_recharge_block import NOW, dispute_lines  # noqa: E402

from assessor.features import chat  # noqa: E402
from assessor.features import chat_block as block_path  # noqa: E402
from assessor.features.chat_block import extract_block  # noqa: E402
from assessor.io.columnar import read_block  # noqa: E402
from assessor.lexicon import load_lexicon  # noqa: E402

_REFERENCE: dict[str, chat.ChatKnowledge] = {}


def reference(knowledge: chat.ChatKnowledge | None) -> chat.ChatKnowledge:
    """The same lexicon with a memo of its own: the block path remembers what it read in its
    knowledge's memo, and the extractor must not take the block path's readings from there."""
    lexicon = knowledge.lexicon if knowledge is not None else load_lexicon()
    key = f"{id(knowledge)}"
    if key not in _REFERENCE:
        _REFERENCE[key] = chat.ChatKnowledge(lexicon)
    return _REFERENCE[key]


def check(lines: list[bytes], knowledge: chat.ChatKnowledge | None = None) -> tuple[int, set[str]]:
    """Every case the reader accepted gets the extractor's own signals; returns (cases, codes met)."""
    own = reference(knowledge)
    given_, accepted, met = compare(lines, lambda block: extract_block(block, knowledge),
                                    lambda case: chat.extract(case, own), NOW)
    assert given_ == accepted, "an accepted case left to the usual path"
    return given_, met


def test_simulated_disputes_get_the_extractors_signals_exactly():
    given_, met = check(dispute_lines(200, seed=17))
    assert given_ >= 170
    assert len(met) >= 5


def test_sample_cases_get_the_extractors_signals_exactly():
    lines = sample_lines()
    given_, met = check(lines)
    assert given_ >= 3
    assert {"chat.grade_statement", "chat.adult_life", "chat.stated_age_adult"} <= met


# ------------------------------------------------------------------ generated chat logs

LINES = [
    "我今年13岁", "我才12", "我都40了", "我不是小学生", "我是10后", "我是零九年的", "我2011年的", "初二了作业好多",
    "五年级", "班主任又拖堂", "我妈不让我玩", "被我爸发现了", "零花钱没了", "压岁钱充了", "暑假快乐",
    "上班好累", "加班到十点", "老婆不让我玩", "我儿子上初一了", "喝酒去", "出差中", "你是小学生吧",
    "i'm 14", "8th grade sucks", "my mom took my phone", "homework first lol", "work tomorrow",
    "我們老師說", "學校放假了", "１３岁", "哈哈", "666", "来了", "走走走", "好", "", "  ", "e\u0301",
    "他说他今年13岁", "我弟弟五年级", "我不上班", "作业写完了才能玩",
]
SPEAKERS = ["account", "account", "account", "other", "本人", "其他玩家", None]
DAYS = ["2019-06-12", "2021-09-03", "2023-03-15", "2024-02-10", "2025-07-20"]


def generated_case(rng: random.Random, n: int) -> dict:
    """A chat log reaching every branch: stated ages and birth years (read with each line's year, or the
    latest payment's when the line has none), school years, adult life, other players' lines, negation,
    traditional characters and full-width digits, English, ids missing, lines without a time."""
    chats = []
    for j in range(rng.choice([0, 1, 3, 8, 20])):
        text = rng.choice(LINES).strip() or "嗯"
        line: dict = {"text": text}
        speaker = rng.choice(SPEAKERS)
        if speaker is not None:
            line["speaker"] = speaker
        if rng.random() < 0.8:
            line["id"] = f"{n}-m{j}"
        if rng.random() < 0.8:
            line["at"] = f"{rng.choice(DAYS)}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00"
        chats.append(line)
    case: dict = {"case_id": f"CHAT-{n}", "chats": chats}
    if rng.random() < 0.7:
        case["recharges"] = [{"id": f"{n}-p{i}", "at": f"{rng.choice(DAYS)}T20:00:00", "amount": 6}
                             for i in range(rng.randint(1, 3))]
    return case


def generated_lines(seed: int, count: int) -> list[bytes]:
    return lines_of(generated_case, seed, count)


def test_generated_chat_logs_get_the_extractors_signals_exactly():
    given_, met = check(generated_lines(seed=3, count=400))
    assert given_ >= 350
    assert {"chat.stated_age_minor", "chat.stated_age_adult", "chat.grade_statement", "chat.adult_life",
            "chat.parent_control"} <= met, met


def test_a_birth_year_is_read_with_each_line_s_own_year():
    # "我是10后" means 14 in 2024 and 9 in 2019: the same words, read again for each line's year.
    lines = [json.dumps({"case_id": f"Y-{year}", "chats": [{"id": "m", "text": "我是10后", "at": f"{year}-03-01T20:00:00"}]},
                        ensure_ascii=False).encode() + b"\n" for year in (2019, 2024)]
    lines.append(json.dumps({"case_id": "Y-none", "chats": [{"id": "m", "text": "我是10后"}],
                             "recharges": [{"id": "p", "at": "2021-09-03T20:00:00", "amount": 6}]},
                            ensure_ascii=False).encode() + b"\n")
    assert check(lines)[0] == 3
    (block,) = read_block(list(enumerate(lines, start=1)), now=NOW)
    ages = [signals.features["chat.stated_age"] for signals in extract_block(block)]
    assert ages[0] != ages[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 20))
def test_any_generated_block_gets_the_extractors_signals_exactly(seed, count):
    check(generated_lines(seed, count))


def test_an_office_s_lexicon_is_followed(tmp_path):
    folder = copy_lexicon(tmp_path)
    path = folder / "zh.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"零花钱",', '"零花钱", "饭卡余额",', 1), encoding="utf-8")
    knowledge = chat.ChatKnowledge(load_lexicon(folder))
    line = json.dumps({"case_id": "L-1", "chats": [{"id": "m", "text": "饭卡余额不够了"}]}, ensure_ascii=False)
    given_, met = check([line.encode() + b"\n", *generated_lines(seed=9, count=50)], knowledge)
    assert "chat.pocket_money" in met


def test_a_block_too_large_for_exact_keys_is_left_to_the_usual_path(monkeypatch):
    (block,) = read_block(list(enumerate(dispute_lines(5, seed=2), start=1)), now=NOW)
    assert all(signals is not None for signals in extract_block(block))
    monkeypatch.setattr(block_path, "MAX_CASES", 4)
    assert extract_block(block) == [None] * 5
