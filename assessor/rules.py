"""The rulebook: expert likelihood ratios, determinative bounds and attribution weights, as data.

``assessor/data/rulebook.toml`` is read by people (mediators, reviewers) and by this module.
Each rule has a stable id, a condition over the extractors' signals, an effect and its legal
or empirical basis. Effects:

- ``weight``: a log-likelihood ratio added to the log-odds (expert evidence the data can't teach);
- ``floor`` / ``ceiling``: a probability bound for determinative facts;
- ``finding``: a regulatory fact reported whatever the probability (the extractors compute it;
  the rule supplies its wording and citation).

The split between rules and the model is declared in the file (``[ownership]``) and checked
here: a feature the model weighs may not also be a rule's condition, so nothing counts twice.
"""

from __future__ import annotations

import fnmatch
import math
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assessor.features.base import EvidenceItem


class Condition(BaseModel):
    """Fires when an evidence item with ``evidence`` code exists, or ``feature op value`` holds."""

    model_config = ConfigDict(extra="forbid")
    evidence: str | None = None
    feature: str | None = None
    op: Literal[">", ">=", "<", "<=", "==", "!="] = ">="
    value: float = 1.0

    @model_validator(mode="after")
    def _one_subject(self) -> Condition:
        if (self.evidence is None) == (self.feature is None):
            raise ValueError("a condition names exactly one of `evidence` or `feature`")
        return self

    def holds(self, features: dict[str, float], evidence: dict[str, list[EvidenceItem]]) -> bool:
        if self.evidence is not None:
            return bool(evidence.get(self.evidence))
        x = features.get(self.feature)  # type: ignore[arg-type]
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return False
        return {
            ">": x > self.value, ">=": x >= self.value, "<": x < self.value,
            "<=": x <= self.value, "==": x == self.value, "!=": x != self.value,
        }[self.op]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    effect: Literal["weight", "floor", "ceiling"]
    source: str = Field(description="Evidence family the rule reads: real_name, chat, recharge, face_checks, claim")
    when: list[Condition] = Field(min_length=1, description="All conditions must hold")
    weight: float | None = Field(default=None, description="Log-likelihood ratio, for effect=weight")
    bound: float | None = Field(default=None, gt=0, lt=1, description="Probability bound, for floor/ceiling")
    summary_en: str
    summary_zh: str
    basis: str = Field(min_length=3, description="Regulation, article or court practice the rule rests on")
    rationale: str = Field(min_length=3, description="Why this weight or bound")

    @model_validator(mode="after")
    def _effect_has_value(self) -> Rule:
        if self.effect == "weight" and self.weight is None:
            raise ValueError(f"rule {self.id}: effect 'weight' needs `weight`")
        if self.effect in ("floor", "ceiling") and self.bound is None:
            raise ValueError(f"rule {self.id}: effect '{self.effect}' needs `bound`")
        return self


class FindingText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    basis: str
    refund_note_en: str = ""
    refund_note_zh: str = ""


class Ownership(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: list[str] = Field(description="Glob patterns of features the model weighs")
    rules: list[str] = Field(description="Glob patterns of features and evidence codes only rules weigh")


class Rulebook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    ownership: Ownership
    attribution: dict[str, float] = Field(
        default_factory=dict,
        description="Per-payment log-odds shifts, keyed by per-payment signal names (recharge timing, face checks)",
    )
    rules: list[Rule]
    findings: list[FindingText] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rulebook:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id}")
            seen.add(rule.id)
        return self

    def owned_by_model(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.ownership.model) and not any(
            fnmatch.fnmatchcase(name, pattern) for pattern in self.ownership.rules
        )

    def check_no_double_counting(self, model_features: list[str]) -> None:
        """Raise if a model feature is also a rule condition or is owned by the rules."""
        for feature in model_features:
            if not self.owned_by_model(feature):
                raise ValueError(f"model feature {feature} is not owned by the model in rulebook {self.version}")
        owned = set(model_features)
        for rule in self.rules:
            for cond in rule.when:
                if cond.feature in owned:
                    raise ValueError(f"rule {rule.id} reads {cond.feature}, which the model already weighs")


class RulebookError(ValueError):
    pass


def load_rulebook(path: str | Path | None = None) -> Rulebook:
    """Read and validate a rulebook file (default: the packaged one)."""
    if path is None:
        return _default_rulebook()
    return _read(Path(path))


@cache
def _default_rulebook() -> Rulebook:
    return _read(Path(str(resources.files("assessor") / "data" / "rulebook.toml")))


def _read(path: Path) -> Rulebook:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Rulebook.model_validate(data)
    except FileNotFoundError:
        raise RulebookError(f"rulebook not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulebookError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RulebookError(f"{path}: {where}: {first['msg']}") from None
