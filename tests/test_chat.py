"""The chat extractor, as a mediator sees it: what a log of game chat says about the writer's age."""

from __future__ import annotations

import gzip
import json
import math
import shutil
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessor.features.base import Direction
from assessor.features.chat import ChatKnowledge, extract
from assessor.io import load_cases
from assessor.lexicon import LexiconError, load_lexicon
from assessor.schema import Case


def case_of(*texts: str, other: tuple[str, ...] = (), at: str = "2024-07-21T22:01:00") -> Case:
    chats = [{"id": f"m{i}", "at": at, "speaker": "account", "text": t} for i, t in enumerate(texts)]
    chats += [{"id": f"o{i}", "at": at, "speaker": "other", "text": t} for i, t in enumerate(other)]
    return Case.model_validate({"case_id": "PD-1", "chats": chats})


def codes(case: Case) -> dict[str, object]:
    return {item.code: item for item in extract(case).evidence}


def stated_age(text: str) -> float:
    return extract(case_of(text)).features["chat.stated_age"]


# --------------------------------------------------------------------------- stated ages


@pytest.mark.parametrize(("text", "age"), [
    ("我今年13岁", 13), ("我才12", 12), ("我今年十三岁了", 13), ("本人14周岁", 14), ("12岁了", 12),
    ("我刚满十二周岁", 12), ("我都40了", 40), ("i'm 14", 14), ("im 15 yrs old", 15), ("I am thirteen", 13),
    ("15/f", 15), ("我今年１３岁", 13), ("我今年二十五岁", 25),
])
def test_stated_age_is_extracted_as_a_value(text: str, age: int) -> None:
    assert stated_age(text) == age


@pytest.mark.parametrize("text", [
    "我都3天没玩了", "我才12点起床", "我都30级了", "我今年玩了13把", "i'm 5 minutes away", "im 6 feet tall",
    "我儿子今年13岁", "my son is 14 years old", "我不是13岁", "i'm not 14",
])
def test_numbers_that_are_not_the_writers_age_are_ignored(text: str) -> None:
    assert math.isnan(stated_age(text))


def test_minor_and_adult_ages_point_opposite_ways() -> None:
    found = codes(case_of("我今年13岁", "我都40了"))
    assert found["chat.stated_age_minor"].direction is Direction.minor
    assert found["chat.stated_age_minor"].value == 13
    assert found["chat.stated_age_adult"].direction is Direction.adult
    assert found["chat.stated_age_adult"].value == 40


def test_generation_tag_is_counted_from_the_message_date() -> None:
    found = codes(case_of("我是10后", at="2024-03-01T20:00:00"))
    assert found["chat.stated_age_minor"].value == 14


def test_stated_age_beats_vague_adult_topics() -> None:
    adultish = ["今天加班好累", "工资还没发", "老板又开会", "房贷要还了"]
    without = extract(case_of(*adultish)).features["chat.minor_lean"]
    with_age = extract(case_of(*adultish, "我今年13岁")).features["chat.minor_lean"]
    assert without < 0 < with_age


def lean(*texts: str) -> float:
    return extract(case_of(*texts)).features["chat.minor_lean"]


def test_a_claimed_18_does_not_outweigh_a_teenagers_school_talk() -> None:
    """"我都18了" is what a minor says to pass an age check: it weighs like one adult topic, not a statement."""
    school = ["明天月考 烦死了", "作业还没写完", "班主任又拖堂了"]
    claimed = extract(case_of(*school, "我都18了"))
    assert claimed.features["chat.minor_lean"] > 0
    assert claimed.features["chat.minor_lean"] < lean(*school)
    item = next(i for i in claimed.evidence if i.code == "chat.stated_age_adult")
    assert item.value == 18  # the evidence still says what was stated
    assert lean(*school, "我都35了") < 0  # a plainly adult age still decides
    assert lean("im 18 lol", "school tomorrow", "my mom is making me do homework") > 0


def test_youth_slang_is_weaker_than_school_talk() -> None:
    slang, school = lean("xswl", "yyds", "绝绝子"), lean("明天月考", "作业好多", "刚放学")
    assert 0 < slang < school


# Everyday lines of children and of adults, in Chinese (simplified and traditional) and in 2000s English chat.
CHILD_LINES = {
    "我妈逼我写作业": "chat.parent_control",
    "你别管我": "chat.parent_control",
    "你们大人根本不懂": "chat.family_as_child",
    "老师批评我了": "chat.school_life",
    "高考还有100天": "chat.school_life",
    "谢谢阿姨": "chat.youth_register",
    "我媽管得太嚴了": "chat.parent_control",
    "any1 wanna chat": "chat.youth_register",
    "my mom made me clean my room": "chat.parent_control",
    "gotta go to sleep school tomorrow": "chat.parent_control",
}
ADULT_LINES = {
    "老张今天又加班": "chat.adult_life",
    "年纪大了 熬不动了": "chat.adult_life",
    "孩子还小 离不开人": "chat.adult_life",
    "好好学习 别老玩手机": "chat.adult_life",
    "我們那個年代哪有手機": "chat.adult_life",
    "my husband and i just got back from church": "chat.adult_life",
    "hugs hun": "chat.adult_life",
    "im a single mom of 2": "chat.adult_identity",
}


@pytest.mark.parametrize(("text", "code"), [*CHILD_LINES.items(), *ADULT_LINES.items()])
def test_everyday_lines_point_the_right_way(text: str, code: str) -> None:
    found = codes(case_of(text))
    assert code in found
    assert extract(case_of(text)).features["chat.minor_lean"] * (1 if text in CHILD_LINES else -1) > 0


def test_a_parent_telling_a_child_to_study_is_not_school_talk() -> None:
    found = codes(case_of("快去写作业", "好好学习"))
    assert "chat.school_life" not in found and found["chat.adult_life"].strength == 2


def test_universal_chat_shorthand_is_no_evidence() -> None:
    """"lol" and a bare "u" are written by every age: they must not make a log look young."""
    assert extract(case_of("lol", "u coming?", "lol ok")).evidence == []
    assert "chat.youth_register" in codes(case_of("lol any1 wanna chat"))


# --------------------------------------------------------------------------- school years


def test_grade_gives_the_school_year_and_its_usual_ages() -> None:
    signals = extract(case_of("我是初二的"))
    item = next(i for i in signals.evidence if i.code == "chat.grade_statement")
    assert item.value == "初二"
    assert (signals.features["chat.grade_age_min"], signals.features["chat.grade_age_max"]) == (13, 14)
    assert "13–14" in item.summary_en


@pytest.mark.parametrize("text", ["再高一点", "正月初二回娘家", "你大一岁", "躲得过初一躲不过十五"])
def test_grade_words_in_other_senses_are_not_school_years(text: str) -> None:
    assert "chat.grade_statement" not in codes(case_of(text))


def test_a_parent_talking_about_their_childs_school_is_adult_evidence() -> None:
    found = codes(case_of("我儿子上初二", "闺女明天考试"))
    assert "chat.grade_statement" not in found and "chat.school_life" not in found
    assert found["chat.parent_of_pupil"].direction is Direction.adult
    assert found["chat.parent_of_pupil"].strength == 2


def test_university_year_points_to_an_adult() -> None:
    found = codes(case_of("我大二了"))
    assert found["chat.grade_statement_adult"].direction is Direction.adult


# --------------------------------------------------------------------------- grammar


def test_negation_cancels_the_cue() -> None:
    assert "chat.student_identity" in codes(case_of("我是小学生"))
    assert "chat.student_identity" not in codes(case_of("我不是小学生"))
    assert "chat.adult_life" in codes(case_of("明天上班"))
    assert "chat.adult_life" not in codes(case_of("我不上班"))
    assert "chat.school_life" in codes(case_of("i have school tomorrow"))
    assert "chat.school_life" not in codes(case_of("i'm not in school"))
    assert extract(case_of("我不是小学生")).features["chat.negated_count"] > 0
    assert extract(case_of("我是小学生")).features["chat.negated_count"] == 0


def test_calling_someone_else_a_pupil_is_not_about_the_writer() -> None:
    assert "chat.student_identity" not in codes(case_of("你是小学生吧"))
    assert "chat.student_identity" in codes(case_of("你知道吗我是小学生"))


def test_reported_speech_of_a_parent_is_still_the_writers_parent() -> None:
    found = codes(case_of("我妈说不让我玩了"))
    assert "chat.parent_control" in found


def test_other_players_words_are_weak_context_not_the_accounts_evidence() -> None:
    signals = extract(case_of("来了", other=("你是小学生吧", "小学生别玩了")))
    found = {i.code: i for i in signals.evidence}
    assert "chat.student_identity" not in found and "chat.school_life" not in found
    assert found["chat.others_call_minor"].strength == 2
    assert {r.record for r in found["chat.others_call_minor"].records} == {"chats/o0", "chats/o1"}
    assert signals.features["chat.n_own_messages"] == 1
    assert signals.features["chat.n_other_messages"] == 2
    assert signals.features["chat.others_call_minor_rate"] == 1.0


def test_traditional_characters_match_the_same_cues() -> None:
    found = codes(case_of("作業還沒寫完", "媽媽不讓我玩"))
    assert found["chat.school_life"].strength == 1
    assert "chat.parent_control" in found
    excerpt = found["chat.school_life"].records[0].excerpt
    assert excerpt == "作業還沒寫完"  # the excerpt quotes the text as written


# --------------------------------------------------------------------------- features and records


def test_rates_do_not_grow_with_the_length_of_the_log() -> None:
    log = ["等下我妈查作业了 先下了", "来了", "666", "加班到现在", "集合"]
    short = extract(case_of(*log)).features
    long = extract(case_of(*(log * 20))).features
    for name in ("chat.school_life_rate", "chat.adult_life_rate", "chat.parent_control_rate"):
        assert long[name] == pytest.approx(short[name])
    assert long["chat.minor_lean"] == pytest.approx(short["chat.minor_lean"])
    assert long["chat.school_life_count"] == 20 * short["chat.school_life_count"]
    assert long["chat.n_own_messages"] == 100


def test_evidence_records_point_at_real_messages_with_short_excerpts() -> None:
    long_text = "今天" * 40 + "我妈不让我玩了" + "哈" * 40
    case = Case.model_validate({"case_id": "PD-2", "chats": [
        {"at": "2024-07-21T22:01:00", "text": "你好"},
        {"id": "m7", "at": "2024-07-21T22:02:00", "text": long_text},
        {"at": "2024-07-21T22:03:00", "text": "明天考试"},
    ]})
    found = codes(case)
    parent = found["chat.parent_control"].records[0]
    assert parent.record == "chats/m7"
    assert parent.at is not None and parent.at.isoformat() == "2024-07-21T22:02:00+08:00"
    assert len(parent.excerpt) <= 40 and "不让" in parent.excerpt
    assert found["chat.school_life"].records[0].record == "chats/2"  # no id: its position


def test_summaries_are_bilingual_and_count_messages() -> None:
    item = codes(case_of("明天考试", "来了"))["chat.school_life"]
    assert "1 of its 2" in item.summary_en
    assert "2条发言中有1条" in item.summary_zh


def test_empty_and_missing_chats_give_zero_rates() -> None:
    signals = extract(Case(case_id="PD-3"))
    assert signals.evidence == []
    assert signals.features["chat.n_own_messages"] == 0
    assert signals.features["chat.minor_lean"] == 0
    assert signals.extractor == "chat" and signals.version == load_lexicon().version


# One message where each code fires and a close one where it doesn't (speaker "other" for others_*).
FIRES = {
    "chat.stated_age_minor": ("我今年13岁", "我今年13级"),
    "chat.stated_age_adult": ("我都40了", "我都40级了"),
    "chat.grade_statement": ("我上五年级", "我儿子上五年级"),
    "chat.grade_statement_adult": ("我大三", "再大一点"),
    "chat.school_life": ("明天月考", "明天月初"),
    "chat.student_identity": ("我是初中生", "你是初中生吧"),
    "chat.parent_control": ("手机被没收了", "手机没电了"),
    "chat.anti_addiction": ("又被防沉迷踢了", "又被对面踢了"),
    "chat.family_as_child": ("我奶奶叫我", "你奶奶叫你"),
    "chat.pocket_money": ("压岁钱全充了", "工资全充了"),
    "chat.school_holiday": ("放暑假了", "放完假了"),
    "chat.youth_register": ("奥特曼好帅", "这英雄好帅"),
    "chat.adult_life": ("刚下班", "刚下课"),
    "chat.adult_identity": ("我一个打工人", "你一个打工人"),
    "chat.parent_of_pupil": ("送孩子上学去了", "我上学去了"),
    "chat.others_call_minor": ("小屁孩别玩了", "大佬别走"),
    "chat.others_call_adult": ("大叔你好", "大佬你好"),
}


def test_every_code_in_the_lexicon_has_a_case_here() -> None:
    meta = load_lexicon().categories
    assert {f"chat.{c}" for c in [*meta.categories, *meta.statements]} == set(FIRES)


@pytest.mark.parametrize("code", sorted(FIRES))
def test_each_code_fires_on_its_cue_and_not_on_a_near_miss(code: str) -> None:
    fires, misses = FIRES[code]
    if code.startswith("chat.others_"):
        assert code in codes(case_of("来了", other=(fires,)))
        assert code not in codes(case_of("来了", other=(misses,)))
        assert code not in codes(case_of(fires))  # the account's own words are not "others"
    else:
        assert code in codes(case_of(fires))
        assert code not in codes(case_of(misses))


# --------------------------------------------------------------------------- lexicon files


def test_lexicon_has_hundreds_of_terms_per_language() -> None:
    lexicon = load_lexicon()
    for lang, lex in lexicon.languages.items():
        n = sum(len(group) for groups in lex.terms.values() for group in groups.values())
        assert n >= 300, lang


def copy_lexicon(tmp_path: Path) -> Path:
    folder = tmp_path / "lexicon"
    shutil.copytree(Path(str(resources.files("assessor") / "data" / "lexicon")), folder)
    return folder


def test_an_unknown_category_in_an_office_copy_is_reported_with_its_file(tmp_path: Path) -> None:
    folder = copy_lexicon(tmp_path)
    path = folder / "zh.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[terms.gossip]\nwords = ["八卦"]\n', encoding="utf-8")
    with pytest.raises(LexiconError, match="zh.toml.*gossip"):
        load_lexicon(folder)


def test_an_office_copy_with_a_new_term_is_used(tmp_path: Path) -> None:
    folder = copy_lexicon(tmp_path)
    path = folder / "zh.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"零花钱",', '"零花钱", "饭卡余额",', 1),
                    encoding="utf-8")
    knowledge = ChatKnowledge(load_lexicon(folder))
    assert "chat.pocket_money" in {i.code for i in extract(case_of("饭卡余额不够了"), knowledge).evidence}
    assert "chat.pocket_money" not in codes(case_of("饭卡余额不够了"))


def test_a_bad_age_pattern_is_reported(tmp_path: Path) -> None:
    folder = copy_lexicon(tmp_path)
    path = folder / "en.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('pattern = "\\\\b(?:just turned', 'pattern = "(\\\\b(?:just turned', 1),
                    encoding="utf-8")
    with pytest.raises(LexiconError, match="en.toml"):
        load_lexicon(folder)


# --------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=80), st.sampled_from(["account", "other"])), max_size=8))
def test_extract_never_raises_on_arbitrary_text(messages: list[tuple[str, str]]) -> None:
    case = Case.model_validate({"case_id": "PD-H", "chats": [{"text": t, "speaker": s} for t, s in messages]})
    signals = extract(case)
    assert -1.0 <= signals.features["chat.minor_lean"] <= 1.0
    assert all(v >= 0 or math.isnan(v) for k, v in signals.features.items() if k != "chat.minor_lean")


def test_a_huge_log_keeps_evidence_small_and_counts_exact() -> None:
    case = case_of(*(["我妈不让我玩", "来了"] * 10_000))
    item = codes(case)["chat.parent_control"]
    assert item.strength == 10_000
    assert len(item.records) <= 10


# --------------------------------------------------------------------------- same results as before

REFERENCE = Path(__file__).parent / "data" / "chat_reference"


def reference_case(row: dict) -> Case:
    chats = [{"id": cid, "at": at, "speaker": speaker, "text": text} for cid, at, speaker, text in row["chats"]]
    recharges = ([{"id": "last", "at": row["last_payment"], "amount": 6, "channel": "wechat"}]
                 if row["last_payment"] else [])
    return Case.model_validate({"case_id": row["case_id"], "chats": chats, "recharges": recharges})


def as_reference(signals) -> dict:
    """The same compact form tests/data/chat_reference/make_reference.py stored."""
    return {
        "features": {k: (None if math.isnan(v) else v) for k, v in signals.features.items() if v != 0},
        "evidence": [[e.code, e.direction.value, e.summary_en, e.summary_zh, e.strength,
                      list(e.value) if isinstance(e.value, tuple) else e.value,
                      [[r.record, r.at.isoformat() if r.at else None, r.excerpt] for r in e.records]]
                     for e in signals.evidence],
    }


def test_results_equal_those_of_the_per_message_reader_on_samples_simulations_and_stress_text() -> None:
    """The fast reader must give what the per-message reader of commit cee2559 gave, to the last record.

    Same lexicon (frozen copy, 2025.06.1) on the sample cases, simulated cases and generated messages
    built from every term, grammar cue, number form and school year; see make_reference.py.
    """
    with gzip.open(REFERENCE / "reference.json.gz", "rt", encoding="utf-8") as stream:
        reference = json.load(stream)
    knowledge = ChatKnowledge(load_lexicon(REFERENCE / "lexicon"))
    assert knowledge.version == reference["lexicon_version"]
    differing = []
    for row in reference["cases"]:
        signals = extract(reference_case(row["case"]), knowledge)
        assert list(signals.features) == reference["feature_names"]
        if as_reference(signals) != row["expected"]:
            differing.append(row["case"]["case_id"])
    assert not differing, f"{len(differing)} of {len(reference['cases'])} cases differ: {differing[:10]}"


def test_a_case_read_again_with_remembered_messages_gives_the_same_result() -> None:
    cases = list(load_cases(Path(__file__).parents[1] / "sample_data" / "cases"))
    knowledge = ChatKnowledge(load_lexicon())
    first = [as_reference(extract(case, knowledge)) for case in cases]
    remembered = len(knowledge.memo)
    assert remembered > 0
    again = [as_reference(extract(case, knowledge)) for case in reversed(cases)][::-1]
    assert again == first
    assert len(knowledge.memo) == remembered  # the second reading came from memory
    knowledge.memo.clear()
    assert [as_reference(extract(case, knowledge)) for case in cases] == first


# Words that matter (cues, negations, numbers, school years) mixed with line breaks, full-width and
# traditional characters and combining marks: the pieces where reading a whole log at once could
# go wrong at the borders between messages.
PIECES = ["我妈", "不让我玩", "不是", "小学生", "你", "我今年", "13岁", "十三", "初二", "作业", "作業", "加班",
          "孩子", "上学", "我是10后", "\n", "，", "！", "１３", "ｌｏｌ", "…", "e\u0301", "Σ", "ß", "İ", "im 14",
          "not", "in school", "my son", "homework", "lol", "omg", " ", "大二", "正月初二", "哈哈"]


FRESH = ChatKnowledge(load_lexicon())


def read_fresh(case: Case):
    """Extract with nothing remembered from earlier reads."""
    FRESH.memo.clear()
    return extract(case, FRESH)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=6).map("".join),
                          st.sampled_from(["account", "other"])), min_size=1, max_size=6))
def test_a_log_reads_as_the_sum_of_its_messages(messages: list[tuple[str, str]]) -> None:
    """Each message counts on its own: a whole log gives the counts of its messages read one by one."""
    chats = [{"id": f"m{i}", "at": "2024-03-01T20:00:00", "text": t, "speaker": s} for i, (t, s) in enumerate(messages)]
    whole = read_fresh(Case.model_validate({"case_id": "PD-S", "chats": chats}))
    alone = [read_fresh(Case.model_validate({"case_id": "PD-S", "chats": [chat]})) for chat in chats]
    for item in whole.evidence:
        parts = [e for signals in alone for e in signals.evidence if e.code == item.code]
        assert item.strength == sum(e.strength for e in parts)
        assert item.records == tuple(r for e in parts for r in e.records)[:10]
    assert {e.code for e in whole.evidence} == {e.code for signals in alone for e in signals.evidence}
    assert whole.features["chat.negated_count"] == sum(s.features["chat.negated_count"] for s in alone)
