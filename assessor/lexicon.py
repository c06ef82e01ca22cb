"""Chat lexicons: the word lists and patterns in ``assessor/data/lexicon/``, loaded and validated.

The files are meant to be read and adjusted by a mediator's office, so every mistake in them
(an unknown category, an empty term, a pattern that does not compile) is reported with the file
name and the place, not as a traceback from deep inside the matcher.

- ``categories.toml``: what each evidence category means (direction, summaries);
- ``zh.toml`` / ``en.toml``: the term lists, cheap grammar cues, age patterns and school years;
- ``zh_hant.toml``: the traditional-to-simplified character map applied before matching Chinese.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

VERSION_PATTERN = r"^\d{4}\.\d{2}\.\d+$"
Version = Annotated[str, Field(pattern=VERSION_PATTERN)]
Direction = Literal["minor", "adult"]
NonBlank = Annotated[str, Field(min_length=1)]
# Placeholder for a number inside age patterns; the matcher substitutes its own number pattern.
NUM = "{num}"


class LexiconError(ValueError):
    """A lexicon file is missing, not valid TOML, or breaks the rules of its format."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryInfo(_Model):
    direction: Direction
    applies_to: Literal["own", "other"] = "own"
    self_only: bool = False
    school: bool = False
    # How much one message of this category moves chat.minor_lean's topic balance (not an engine weight).
    lean_weight: float = Field(default=1.0, ge=0, le=10)
    summary_en: NonBlank
    summary_zh: NonBlank


class StatementInfo(_Model):
    direction: Direction
    summary_en: NonBlank
    summary_zh: NonBlank


class LeanParams(_Model):
    scale: float = Field(gt=0)
    explicit_share: float = Field(ge=0, le=1)
    # Stated adult ages that count as one adult topic message instead of deciding the sign.
    borderline_adult_ages: list[Annotated[int, Field(ge=18, le=99)]] = Field(default_factory=list)


REQUIRED_STATEMENTS = ("stated_age_minor", "stated_age_adult", "grade_statement", "grade_statement_adult",
                       "parent_of_pupil")


class CategoriesFile(_Model):
    version: Version
    categories: dict[str, CategoryInfo]
    statements: dict[str, StatementInfo]
    minor_lean: LeanParams

    @model_validator(mode="after")
    def _statements_present(self) -> CategoriesFile:
        missing = [name for name in REQUIRED_STATEMENTS if name not in self.statements]
        if missing:
            raise ValueError(f"[statements] lacks {', '.join(missing)}")
        clash = set(self.categories) & set(self.statements)
        if clash:
            raise ValueError(f"names used both as category and statement: {', '.join(sorted(clash))}")
        return self


class Grammar(_Model):
    negation: list[NonBlank]
    negation_gap: str = ""
    other_subject: list[NonBlank]
    own_child: list[NonBlank]
    other_person: list[NonBlank]
    first_person: list[NonBlank]
    window: int = Field(ge=1, le=60)


class AgePattern(_Model):
    example: str = ""
    # True when the pattern itself names the writer ("我…", "i'm …"): then no earlier word can
    # make the statement about someone else.
    names_speaker: bool = False
    pattern: NonBlank

    @field_validator("pattern")
    @classmethod
    def _has_number(cls, value: str) -> str:
        if NUM not in value:
            raise ValueError(f"an age pattern must contain {NUM} where the number stands")
        _compile(value.replace(NUM, r"(?P<num>\d+)", 1).replace(NUM, r"(?P<num2>\d+)"))
        return value


class BirthPattern(_Model):
    example: str = ""
    pattern: NonBlank

    @field_validator("pattern")
    @classmethod
    def _has_year(cls, value: str) -> str:
        compiled = _compile(value)
        if "yy" not in compiled.groupindex:
            raise ValueError("a birth pattern needs a named group (?P<yy>...) for the year")
        return value


class Grade(_Model):
    label: NonBlank
    terms: list[NonBlank] = Field(min_length=1)
    min_age: int = Field(ge=3, le=40)
    max_age: int = Field(ge=3, le=40)

    @model_validator(mode="after")
    def _ordered(self) -> Grade:
        if self.min_age > self.max_age:
            raise ValueError(f"grade {self.label}: min_age {self.min_age} > max_age {self.max_age}")
        return self


class SchoolYears(_Model):
    veto_before: list[NonBlank] = Field(default_factory=list)
    veto_after: list[NonBlank] = Field(default_factory=list)
    grades: list[Grade]


class Numbers(_Model):
    units: dict[str, int]
    tens: dict[str, int]


class LanguageLexicon(_Model):
    version: Version
    language: Literal["zh", "en"]
    terms: dict[str, dict[str, list[NonBlank]]]
    grammar: Grammar
    ages: list[AgePattern]
    births: list[BirthPattern] = Field(default_factory=list)
    school_years: SchoolYears
    numbers: Numbers | None = None

    @field_validator("terms")
    @classmethod
    def _groups_not_empty(cls, value: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        for category, groups in value.items():
            if not any(groups.values()):
                raise ValueError(f"category {category} has no terms")
        return value


class HantMap(_Model):
    version: Version
    pairs: list[str]

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for pair in value:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise ValueError(f"{pair!r}: each entry is a traditional character then a different simplified one")
            if pair[0] in seen:
                raise ValueError(f"{pair[0]!r} is listed twice")
            seen[pair[0]] = pair[1]
        return value

    def table(self) -> dict[int, str]:
        """A ``str.translate`` table: one character for one character, so positions are kept."""
        return {ord(pair[0]): pair[1] for pair in self.pairs}


class ChatLexicon(_Model):
    """Everything the chat extractor knows, validated and cross-checked."""

    categories: CategoriesFile
    languages: dict[str, LanguageLexicon]
    hant: HantMap

    @model_validator(mode="after")
    def _known_categories(self) -> ChatLexicon:
        for lang, lexicon in self.languages.items():
            unknown = set(lexicon.terms) - set(self.categories.categories)
            if unknown:
                raise ValueError(f"{lang}.toml: categories not described in categories.toml: {', '.join(sorted(unknown))}")
        return self

    @property
    def version(self) -> str:
        """The newest version among the files: any edit to any lexicon file must bump its version."""
        versions = [self.categories.version, self.hant.version, *(lex.version for lex in self.languages.values())]
        return max(versions, key=lambda v: tuple(int(part) for part in v.split(".")))


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern does not compile ({exc}): {pattern}") from None


def _read(name: str, folder: Path | None) -> dict:
    try:
        if folder is None:
            text = (resources.files("assessor") / "data" / "lexicon" / name).read_text(encoding="utf-8")
        else:
            text = (folder / name).read_text(encoding="utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise LexiconError(f"lexicon file {name} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{name} is not valid TOML: {exc}") from None


def _validated(model: type[_Model], name: str, data: dict) -> _Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
                             for err in exc.errors())
        raise LexiconError(f"{name}: {problems}") from None


def load_lexicon(folder: str | Path | None = None) -> ChatLexicon:
    """Load and check the chat lexicon from ``folder`` (default: the packaged files).

    An office may keep its own edited copy of the folder and pass its path.
    """
    path = Path(folder) if folder is not None else None
    categories = _validated(CategoriesFile, "categories.toml", _read("categories.toml", path))
    languages = {lang: _validated(LanguageLexicon, f"{lang}.toml", _read(f"{lang}.toml", path)) for lang in ("zh", "en")}
    hant = _validated(HantMap, "zh_hant.toml", _read("zh_hant.toml", path))
    try:
        return ChatLexicon(categories=categories, languages=languages, hant=hant)
    except ValidationError as exc:
        raise LexiconError("; ".join(err["msg"] for err in exc.errors())) from None


@lru_cache(maxsize=1)
def default_lexicon() -> ChatLexicon:
    """The packaged lexicon, loaded once per process."""
    return load_lexicon()
