"""Writes reference.json.gz: what the chat extractor of commit cee2559 (the per-message reader) returned.

tests/test_chat.py checks that the current extractor, given the lexicon files frozen in ./lexicon
(version 2025.06.1), returns exactly the same features and evidence for the same chats. The chats are
the sample cases, the first 150 of 300 simulated cases (`assessor simulate 300 --seed 3` at that commit) and a stress set
of generated messages built from the lexicon's own terms, grammar cues, numbers, school years,
traditional and full-width characters, so that every matching path is exercised.

    git show cee2559:assessor/features/chat.py > /tmp/chat_old.py
    assessor simulate 300 -o /tmp/sim.jsonl --seed 3
    python tests/data/chat_reference/make_reference.py /tmp/chat_old.py /tmp/sim.jsonl
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import random
import sys
import tomllib
from pathlib import Path

from assessor.io import load_cases
from assessor.lexicon import load_lexicon
from assessor.schema import Case

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[2] / "sample_data" / "cases"


def stress_texts(rng: random.Random) -> list[str]:
    zh = tomllib.loads((HERE / "lexicon" / "zh.toml").read_text(encoding="utf-8"))
    en = tomllib.loads((HERE / "lexicon" / "en.toml").read_text(encoding="utf-8"))
    hant = tomllib.loads((HERE / "lexicon" / "zh_hant.toml").read_text(encoding="utf-8"))
    to_hant = {pair[1]: pair[0] for pair in hant["pairs"]}

    def pools(lex: dict) -> dict[str, list[str]]:
        g = lex["grammar"]
        return {
            "term": [t for groups in lex["terms"].values() for group in groups.values() for t in group],
            "cue": g["negation"] + g["other_subject"] + g["own_child"] + g["other_person"] + g["first_person"],
            "grade": [t for grade in lex["school_years"]["grades"] for t in grade["terms"]],
            "veto": lex["school_years"]["veto_before"] + lex["school_years"]["veto_after"],
        }

    zp, ep = pools(zh), pools(en)
    zh_fill = ["哈哈", "，", "。", "的", "了", "是", "我", "你", "今年", "才", "都", "岁", "周岁", "后", "年的",
               "13", "十三", "40", "二十五", "12", "10", "零九", "2011", "！", "？", " ", "~", "在", "一", "个", "吗",
               "年龄：", "年龄15", "级", "点", "天", "把", "１３", "ＡＢ", "ｌｏｌ"]
    en_fill = ["i'm", "im", "i am", "my", "your", "not", "no", "14", "fifteen", "twenty one", "years old", "yrs",
               "/f", "/m", "m/", "just turned", "i turn", "age:", "lol", ".", ",", "!", "?", "5 minutes", "feet",
               "my son is", "my sister", "the", "and", "so", "really", "18", "40", "13", "o'clock", "'", "-"]
    texts = []
    for _ in range(1800):
        parts = [rng.choice(zp[rng.choice(["term", "term", "term", "cue", "grade", "veto"])]) if rng.random() < 0.55
                 else rng.choice(zh_fill) for _ in range(rng.randint(1, 7))]
        text = "".join(parts)
        if rng.random() < 0.15:
            text = "".join(to_hant.get(ch, ch) for ch in text)
        texts.append(text)
    for _ in range(900):
        parts = [rng.choice(ep[rng.choice(["term", "term", "term", "cue", "grade"])]) if rng.random() < 0.55
                 else rng.choice(en_fill) for _ in range(rng.randint(1, 8))]
        text = " ".join(parts)
        if rng.random() < 0.2:
            text = text.upper() if rng.random() < 0.5 else text.capitalize()
        texts.append(text)
    for _ in range(300):  # mixed-language messages
        texts.append(rng.choice(zp["term"]) + rng.choice(["", " "]) + rng.choice(ep["term"]) + rng.choice(zh_fill))
    return texts


def stress_cases(rng: random.Random) -> list[dict]:
    texts = stress_texts(rng)
    cases = []
    for start in range(0, len(texts), 12):
        dated = rng.random() < 0.8
        chats = [{"id": f"s{start + i}" if rng.random() < 0.9 else None,
                  "at": f"20{rng.randint(19, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T20:00:00" if dated else None,
                  "speaker": "account" if rng.random() < 0.8 else "other", "text": t}
                 for i, t in enumerate(texts[start:start + 12])]
        recharges = [] if dated or rng.random() < 0.3 else [
            {"id": "r1", "at": "2023-05-01T10:00:00", "amount": 6, "channel": "wechat"}]
        cases.append({"case_id": f"STRESS-{start}", "chats": chats, "recharges": recharges})
    return cases


def compact(case: Case) -> dict:
    """Only what the chat extractor reads: the chats, and the last payment (a birth year's reference)."""
    last = max((r.at for r in case.recharges), default=None)
    return {"case_id": case.case_id,
            "chats": [[c.id, c.at.isoformat() if c.at else None, c.speaker.value, c.text] for c in case.chats],
            "last_payment": last.isoformat() if last else None}


def output(signals) -> dict:
    return {
        # Zero features are left out (most are zero); the full list of names is stored once.
        "features": {k: (None if math.isnan(v) else v) for k, v in signals.features.items() if v != 0},
        "evidence": [[e.code, e.direction.value, e.summary_en, e.summary_zh, e.strength,
                      list(e.value) if isinstance(e.value, tuple) else e.value,
                      [[r.record, r.at.isoformat() if r.at else None, r.excerpt] for r in e.records]]
                     for e in signals.evidence],
    }


def main() -> None:
    module_path, sim_path = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("chat_reference_impl", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    knowledge = module.ChatKnowledge(load_lexicon(HERE / "lexicon"))
    cases = [*load_cases(SAMPLES), *list(load_cases(Path(sim_path)))[:150],
             *(Case.model_validate(c) for c in stress_cases(random.Random(20250601)))]
    rows = [{"case": compact(c), "expected": output(module.extract(c, knowledge))} for c in cases if c.chats]
    names = list(module.extract(cases[0], knowledge).features)
    with gzip.open(HERE / "reference.json.gz", "wt", encoding="utf-8") as out:
        json.dump({"lexicon_version": knowledge.version, "feature_names": names, "cases": rows}, out,
                  ensure_ascii=False, separators=(",", ":"))
    print(f"{len(rows)} cases, {sum(len(r['case']['chats']) for r in rows)} messages")


if __name__ == "__main__":
    main()
