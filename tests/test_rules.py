"""The rulebook is data an office can read and adjust; bad edits fail loudly with the field named."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from assessor.rules import RulebookError, load_rulebook


def test_packaged_rulebook_loads_and_every_rule_cites_a_basis():
    book = load_rulebook()
    assert book.version
    assert book.rules
    for rule in book.rules:
        assert rule.basis.strip() and rule.rationale.strip()
        assert rule.summary_zh.strip() and rule.summary_en.strip()


def test_rules_and_model_never_weigh_the_same_feature():
    book = load_rulebook()
    with pytest.raises(ValueError, match="not owned by the model"):
        book.check_no_double_counting(["chat.stated_age_minor"])
    book.check_no_double_counting(["recharge.share_vacation", "chat.school_life_rate"])


def _edited(tmp_path, edit):
    text = (resources.files("assessor") / "data" / "rulebook.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    edit(data)
    path = tmp_path / "office_rulebook.toml"
    path.write_text(_dump(data), encoding="utf-8")
    return path


def _dump(data) -> str:
    import json

    # TOML via JSON-compatible inline tables is enough for these small edits.
    lines = [f'version = {json.dumps(data["version"])}',
             f'ownership = {{ model = {json.dumps(data["ownership"]["model"])}, rules = {json.dumps(data["ownership"]["rules"])} }}']
    for rule in data["rules"]:
        parts = []
        for key, value in rule.items():
            if key == "when":
                conds = ", ".join("{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in c.items()) + " }" for c in value)
                parts.append(f"when = [{conds}]")
            else:
                parts.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        lines.append("[[rules]]\n" + "\n".join(parts))
    return "\n".join(lines) + "\n"


def test_an_office_can_change_a_weight(tmp_path):
    def lower(data):
        data["rules"][0]["weight"] = 1.5

    book = load_rulebook(_edited(tmp_path, lower))
    assert book.rules[0].weight == 1.5


def test_a_weight_rule_without_weight_names_the_rule(tmp_path):
    def drop(data):
        del data["rules"][0]["weight"]

    with pytest.raises(RulebookError, match="needs `weight`"):
        load_rulebook(_edited(tmp_path, drop))


def test_a_rule_without_basis_is_rejected(tmp_path):
    def drop(data):
        del data["rules"][1]["basis"]

    with pytest.raises(RulebookError, match=r"rules\.1\.basis"):
        load_rulebook(_edited(tmp_path, drop))


def test_duplicate_rule_ids_are_rejected(tmp_path):
    def dup(data):
        data["rules"].append(dict(data["rules"][0]))

    with pytest.raises(RulebookError, match="duplicate rule id"):
        load_rulebook(_edited(tmp_path, dup))


def test_broken_toml_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("version = \n", encoding="utf-8")
    with pytest.raises(RulebookError, match="not valid TOML"):
        load_rulebook(path)
