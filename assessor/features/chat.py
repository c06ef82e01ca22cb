"""Chat evidence: what the account's own messages say about the writer's age.

``extract(case, knowledge=None) -> Signals`` reads ``case.chats``. Only messages with
``speaker == account`` are the account's evidence; other players' messages about the account
("你是小学生吧") are weak context under their own codes. Matching is on characters against the
lexicon files in ``assessor/data/lexicon/`` (no word segmentation): each category is compiled once
into a trie-shaped regular expression. Traditional characters are mapped to simplified first,
full-width characters folded (NFKC), English lower-cased.

Cheap grammar, from the lexicon's ``[grammar]`` lists, applied to the words just before a hit in
the same clause: a negation ("我不是小学生", "不上班", "not in school") cancels it; for
``self_only`` categories a second or third person ("你是小学生吧") makes it about someone else;
for school categories the writer's own child ("孩子作业还没写完") turns it into adult evidence.
Reported speech keeps its speaker's point of view: "我妈说…" is still the writer's parent.

Evidence codes (direction; the value, when there is one):

- ``chat.stated_age_minor`` (minor; the stated age 6-17), ``chat.stated_age_adult`` (adult; 18-99):
  "我今年13岁", "我才十二", "12岁了", "我都40了", "i'm 14", "15/f", "我是10后" (counted from the date).
- ``chat.grade_statement`` (minor; e.g. "初二", usual ages 13-14),
  ``chat.grade_statement_adult`` (adult; a university year such as "大二").
- ``chat.school_life``, ``chat.student_identity``, ``chat.parent_control``, ``chat.anti_addiction``,
  ``chat.family_as_child``, ``chat.pocket_money``, ``chat.school_holiday``, ``chat.youth_register``
  (minor), ``chat.adult_life``, ``chat.adult_identity`` (adult): topics of the own messages.
- ``chat.parent_of_pupil`` (adult): school words about the writer's own child.
- ``chat.others_call_minor`` (minor), ``chat.others_call_adult`` (adult): weak context from others.

Features (floats): ``chat.n_own_messages``, ``chat.n_other_messages``; per category
``chat.<category>_count`` (messages with a hit) and ``chat.<category>_rate`` (per own message, or
per other message for ``others_*``); ``chat.stated_age_minor_count``, ``chat.stated_age_adult_count``,
``chat.stated_age`` (the most stated age, NaN when none), ``chat.grade_statement_count``,
``chat.grade_statement_adult_count``, ``chat.grade_age_min`` / ``chat.grade_age_max`` (NaN when none),
``chat.negated_count`` (hits cancelled by a negation) and ``chat.minor_lean`` in [-1, 1] (see
categories.toml; a stated age or school year decides its sign over vague topics).

No character n-gram "writes like a minor" model is included: it could only be trained on
text written for this project, which would mostly re-learn these lists.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from assessor.features.base import Direction, EvidenceItem, RecordRef, Signals, record_ref
from assessor.lexicon import NUM, ChatLexicon, Grade, LanguageLexicon, default_lexicon
from assessor.schema import Case, Chat, Speaker

NAME = "chat"
MAX_RECORDS = 10  # records listed per evidence item; the count stays exact in `strength`
EXCERPT = 40
MIN_AGE, MAX_AGE, ADULT_AGE = 6, 99, 18
_CLAUSE_END = re.compile(r"[。.!！?？;；\n,，~…]")
_CJK_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_NUM = r"[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_LATIN = re.compile(r"[a-z]")


# --------------------------------------------------------------------------- compiling


def _trie_regex(terms: list[str]) -> str:
    """One regex for many literal terms, shaped as a trie so each position tries few branches.

    At every node longer continuations come first and the node's own end is optional, so the
    longest term starting at a position wins.
    """
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?" if len(branches) == 1 else body + "?"
        return body

    return build(trie)


def _is_ascii_word(term: str) -> bool:
    return term.isascii() and any(ch.isalnum() for ch in term)


def _terms_regex(terms: list[str], ascii_bounds: bool) -> re.Pattern[str]:
    """CJK terms match anywhere; ASCII terms only as whole words ("work" not in "homework")."""
    ascii_terms = sorted({t for t in terms if _is_ascii_word(t)})
    other = sorted({t for t in terms if not _is_ascii_word(t)})
    parts = []
    if other:
        parts.append(_trie_regex(other) if not ascii_bounds else
                     r"(?<![a-z0-9])(?:" + _trie_regex(other) + r")(?![a-z0-9])")
    if ascii_terms:
        parts.append(r"(?<![a-z0-9])(?:" + _trie_regex(ascii_terms) + r")(?![a-z0-9])")
    return re.compile("|".join(parts))


def _cue_search(cues: list[str], latin: bool) -> re.Pattern[str]:
    """Finds any of ``cues`` in a prefix; English cues as whole words."""
    body = _trie_regex(sorted(set(cues)))
    return re.compile(r"(?<![a-z0-9'])(?:" + body + r")(?![a-z0-9'])" if latin else body)


def _number_regex(lexicon: LanguageLexicon) -> str:
    if lexicon.numbers is None:
        return _ZH_NUM
    units = sorted(lexicon.numbers.units, key=len, reverse=True)
    tens = sorted(lexicon.numbers.tens, key=len, reverse=True)
    return (r"[0-9]{1,2}|(?:" + "|".join(tens) + r")(?:[\s-](?:" + "|".join(units) + r"))?|(?:"
            + "|".join(units) + r")(?![a-z])")


def _with_numbers(pattern: str, number: str) -> re.Pattern[str]:
    """Each {num} becomes its own named group (num, num1, ...): a regex may not repeat a name."""
    pieces = pattern.split(NUM)
    out = pieces[0]
    for i, piece in enumerate(pieces[1:]):
        out += f"(?P<num{i or ''}>{number})" + piece
    return re.compile(out)


@dataclass(frozen=True, slots=True)
class _Language:
    """One language's lexicon, compiled."""

    name: str
    latin: bool
    categories: dict[str, re.Pattern[str]]
    negation: re.Pattern[str]
    other_subject: re.Pattern[str]
    own_child: re.Pattern[str]
    other_person: re.Pattern[str]
    first_person: re.Pattern[str]
    window: int
    ages: tuple[tuple[re.Pattern[str], bool], ...]
    births: tuple[re.Pattern[str], ...]
    grades: re.Pattern[str] | None
    grade_of: dict[str, Grade]
    veto_before: tuple[str, ...]
    veto_after: tuple[str, ...]
    units: dict[str, int]
    tens: dict[str, int]

    @classmethod
    def compile(cls, lexicon: LanguageLexicon, normalise: Any, direction: dict[str, str]) -> _Language:
        latin = lexicon.language == "en"
        fold = (lambda t: t.lower()) if latin else normalise
        grammar = lexicon.grammar
        categories = {name: _terms_regex([fold(t) for group in groups.values() for t in group], latin)
                      for name, groups in sorted(lexicon.terms.items(), key=lambda kv: direction[kv[0]] != "adult")}
        if latin:
            negation = re.compile(r"(?<![a-z0-9'])(?:" + _trie_regex(sorted(set(grammar.negation)))
                                  + r")\s+(?:[a-z0-9']+\s+)?$")
        else:
            gap = f"[{re.escape(grammar.negation_gap)}]?" if grammar.negation_gap else ""
            negation = re.compile("(?:" + _trie_regex(sorted({fold(c) for c in grammar.negation})) + ")" + gap + "$")
        number = _number_regex(lexicon)
        grade_of = {fold(term): grade for grade in lexicon.school_years.grades for term in grade.terms}
        numbers = lexicon.numbers
        return cls(
            name=lexicon.language,
            latin=latin,
            categories=categories,
            negation=negation,
            other_subject=_cue_search([fold(c) for c in grammar.other_subject], latin),
            own_child=_cue_search([fold(c) for c in grammar.own_child], latin),
            other_person=_cue_search([fold(c) for c in grammar.other_person], latin),
            first_person=_cue_search([fold(c) for c in grammar.first_person], latin),
            window=grammar.window,
            ages=tuple((_with_numbers(p.pattern, number), p.names_speaker) for p in lexicon.ages),
            births=tuple(re.compile(p.pattern) for p in lexicon.births),
            grades=_terms_regex(list(grade_of), latin) if grade_of else None,
            grade_of=grade_of,
            veto_before=tuple(fold(v) for v in lexicon.school_years.veto_before),
            veto_after=tuple(fold(v) for v in lexicon.school_years.veto_after),
            units=dict(numbers.units) if numbers else {},
            tens=dict(numbers.tens) if numbers else {},
        )

    # ----------------------------------------------------------------------- reading a match

    def clause_before(self, text: str, start: int) -> str:
        """The words before ``start`` in the same clause, at most ``window`` characters."""
        prefix = text[max(0, start - self.window):start]
        return prefix[_last_end(_CLAUSE_END, prefix):]

    def after_self_mention(self, prefix: str) -> str:
        """The part of ``prefix`` after the writer last named itself ("你知道吗我是…" -> "是")."""
        return prefix[_last_end(self.first_person, prefix):]

    def negated(self, text: str, start: int) -> bool:
        return self.negation.search(self.clause_before(text, start)) is not None

    def number(self, token: str) -> int | None:
        """Arabic digits, Chinese numerals (十三, 二十五, 两) or English words (fourteen, twenty-one)."""
        token = token.strip()
        if token.isdigit():
            return int(token)
        if self.latin:
            words = token.replace("-", " ").split()
            if len(words) == 2:
                return self.tens.get(words[0], 0) + self.units.get(words[1], 0) or None
            return self.units.get(token) or self.tens.get(token)
        if "十" in token:
            left, _, right = token.partition("十")
            if "十" in right or len(left) > 1 or len(right) > 1:
                return None
            tens = _CJK_DIGITS.get(left, -1) if left else 1
            ones = _CJK_DIGITS.get(right, -1) if right else 0
            return None if tens < 1 or ones < 0 else tens * 10 + ones
        return _CJK_DIGITS.get(token) if len(token) == 1 else None


def _last_end(pattern: re.Pattern[str], text: str) -> int:
    """Where the last match of ``pattern`` in ``text`` ends (0 when none)."""
    end = 0
    for m in pattern.finditer(text):
        end = m.end()
    return end


def _normaliser(hant: dict[int, str]) -> Any:
    def normalise(text: str) -> str:
        return unicodedata.normalize("NFKC", text).lower().translate(hant)

    return normalise


@dataclass(frozen=True)
class ChatKnowledge:
    """The chat lexicon, compiled once; pass one to :func:`extract` to use an office's own lexicon."""

    lexicon: ChatLexicon
    normalise: Any = field(init=False, repr=False)
    languages: tuple[_Language, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        normalise = _normaliser(self.lexicon.hant.table())
        object.__setattr__(self, "normalise", normalise)
        direction = {name: info.direction for name, info in self.lexicon.categories.categories.items()}
        object.__setattr__(self, "languages", tuple(_Language.compile(lex, normalise, direction)
                                                    for lex in self.lexicon.languages.values()))

    @property
    def version(self) -> str:
        return self.lexicon.version

    @classmethod
    def default(cls) -> ChatKnowledge:
        return _default_knowledge()


@lru_cache(maxsize=1)
def _default_knowledge() -> ChatKnowledge:
    return ChatKnowledge(default_lexicon())


# --------------------------------------------------------------------------- per message


@dataclass(slots=True)
class _Tally:
    """Messages supporting one evidence code: an exact count, the first few records, values."""

    count: int = 0
    records: list[RecordRef] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def add(self, ref: RecordRef, value: Any = None) -> None:
        self.count += 1
        if len(self.records) < MAX_RECORDS:
            self.records.append(ref)
        if value is not None:
            self.values.append(value)


def _excerpt(original: str, normalised: str, start: int, end: int) -> str:
    """At most EXCERPT characters around the hit, from the text as written when positions agree."""
    text = original if len(original) == len(normalised) else normalised
    room = max(0, EXCERPT - (end - start))
    lo = max(0, start - room // 2)
    hi = min(len(text), end + (room - (start - lo)))
    lo = max(0, min(lo, hi - EXCERPT))
    return text[lo:hi].strip()


class _Reader:
    """Reads one case's messages into tallies; holds no state beyond the case."""

    def __init__(self, knowledge: ChatKnowledge, case: Case) -> None:
        self.k = knowledge
        self.case = case
        self.tallies: dict[str, _Tally] = {}
        self.negated = 0
        self._reference_year: int | None = None

    def tally(self, code: str) -> _Tally:
        tally = self.tallies.get(code)
        if tally is None:
            tally = self.tallies[code] = _Tally()
        return tally

    def reference_year(self, chat: Chat) -> int | None:
        """The year a birth year is counted from: the message's date, else the case's last payment."""
        if chat.at is not None:
            return chat.at.year
        if self._reference_year is None and self.case.recharges:
            self._reference_year = max(r.at for r in self.case.recharges).year
        return self._reference_year

    def read(self, chat: Chat, index: int) -> None:
        original = chat.text or ""
        text = self.k.normalise(original)
        if not text.strip():
            return
        own = chat.speaker == Speaker.account
        hits: dict[str, tuple[int, int]] = {}
        values: dict[str, Any] = {}
        for lang in self.k.languages:
            if lang.latin and not _LATIN.search(text):
                continue
            self._categories(lang, text, own, hits)
            if own:
                self._ages(lang, text, chat, hits, values)
                self._grades(lang, text, hits, values)
        for code, (start, end) in hits.items():
            ref = record_ref("chats", chat, index, at=chat.at, excerpt=_excerpt(original, text, start, end),
                             max_excerpt=EXCERPT)
            self.tally(code).add(ref, values.get(code))

    def _categories(self, lang: _Language, text: str, own: bool, hits: dict[str, tuple[int, int]]) -> None:
        """Adult categories are read first: a minor hit inside an adult one ("辅导作业") is the adult's."""
        adult_spans: list[tuple[int, int]] = []
        for name, pattern in lang.categories.items():
            info = self.k.lexicon.categories.categories[name]
            if (info.applies_to == "own") != own or name in hits:
                continue
            for m in pattern.finditer(text):
                if info.direction == "minor" and any(a <= m.start() and m.end() <= b for a, b in adult_spans):
                    continue
                if lang.negated(text, m.start()):
                    self.negated += 1
                    continue
                code = name
                if info.self_only or info.school:
                    prefix = lang.clause_before(text, m.start())
                    if info.school and lang.own_child.search(prefix):
                        code = "parent_of_pupil"
                    elif lang.other_person.search(lang.after_self_mention(prefix)) or (
                            info.self_only and lang.other_subject.search(lang.after_self_mention(prefix))):
                        continue
                hits.setdefault(code, m.span())
                if info.direction == "adult":
                    adult_spans.append(m.span())
                elif code == name:
                    break

    def _ages(self, lang: _Language, text: str, chat: Chat, hits: dict[str, tuple[int, int]],
              values: dict[str, Any]) -> None:
        for pattern, names_speaker in lang.ages:
            for m in pattern.finditer(text):
                token = next((v for k, v in m.groupdict().items() if k.startswith("num") and v), None)
                age = lang.number(token) if token else None
                if age is None or not self._about_writer(lang, text, m.start(), names_speaker):
                    continue
                self._age(age, m.span(), hits, values)
        for pattern in lang.births:
            for m in pattern.finditer(text):
                token = next((v for k, v in m.groupdict().items() if k.startswith("yy") and v), None)
                year = _birth_year(token, self.reference_year(chat)) if token else None
                if year is None or not self._about_writer(lang, text, m.start(), True):
                    continue
                self._age(self.reference_year(chat) - year, m.span(), hits, values)  # type: ignore[operator]

    def _about_writer(self, lang: _Language, text: str, start: int, names_speaker: bool) -> bool:
        if lang.negated(text, start):
            self.negated += 1
            return False
        if names_speaker:
            return True
        prefix = lang.clause_before(text, start)
        return not (lang.own_child.search(prefix) or lang.other_person.search(lang.after_self_mention(prefix)))

    @staticmethod
    def _age(age: int, span: tuple[int, int], hits: dict[str, tuple[int, int]], values: dict[str, Any]) -> None:
        if not MIN_AGE <= age <= MAX_AGE:
            return
        code = "stated_age_minor" if age < ADULT_AGE else "stated_age_adult"
        if code not in hits:
            hits[code] = span
            values[code] = age

    def _grades(self, lang: _Language, text: str, hits: dict[str, tuple[int, int]], values: dict[str, Any]) -> None:
        if lang.grades is None:
            return
        for m in lang.grades.finditer(text):
            before, after = text[:m.start()], text[m.end():]
            if any(before.endswith(v) for v in lang.veto_before) or any(after.startswith(v) for v in lang.veto_after):
                continue
            if lang.negated(text, m.start()):
                self.negated += 1
                continue
            prefix = lang.clause_before(text, m.start())
            if lang.own_child.search(prefix):
                hits.setdefault("parent_of_pupil", m.span())
                continue
            if lang.other_person.search(lang.after_self_mention(prefix)):
                continue
            grade = lang.grade_of[m.group(0)]
            code = "grade_statement" if grade.min_age < ADULT_AGE else "grade_statement_adult"
            if code not in hits:
                hits[code] = m.span()
                values[code] = (grade.label, grade.min_age, grade.max_age)


def _birth_year(token: str, reference: int | None) -> int | None:
    """'2011' -> 2011; '10' or '零九' -> 2010 / 2009 when that is not after the reference year, else 19xx."""
    if reference is None:
        return None
    digits = "".join(str(_CJK_DIGITS[c]) if c in _CJK_DIGITS else c for c in token)
    if not digits.isdigit():
        return None
    if len(digits) == 4:
        return int(digits)
    year = 2000 + int(digits)
    return year if year <= reference else year - 100


# --------------------------------------------------------------------------- the case


def _most_common(values: list[Any]) -> Any:
    """The value stated most often; on a tie, the one stated first."""
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)


def extract(case: Case, knowledge: ChatKnowledge | None = None) -> Signals:
    """Chat features and evidence of one case (see the module docstring for the codes)."""
    knowledge = knowledge or ChatKnowledge.default()
    reader = _Reader(knowledge, case)
    n_own = n_other = 0
    for index, chat in enumerate(case.chats):
        if chat.speaker == Speaker.account:
            n_own += 1
        else:
            n_other += 1
        reader.read(chat, index)
    return _signals(knowledge, reader, n_own, n_other)


def _signals(knowledge: ChatKnowledge, reader: _Reader, n_own: int, n_other: int) -> Signals:
    meta = knowledge.lexicon.categories
    signals = Signals(extractor=NAME, version=knowledge.version)
    f = signals.features
    f["chat.n_own_messages"] = float(n_own)
    f["chat.n_other_messages"] = float(n_other)
    topic = 0
    for name, info in meta.categories.items():
        count = reader.tallies[name].count if name in reader.tallies else 0
        total = n_own if info.applies_to == "own" else n_other
        f[f"chat.{name}_count"] = float(count)
        f[f"chat.{name}_rate"] = count / total if total else 0.0
        if info.applies_to == "own":
            topic += count if info.direction == "minor" else -count
    pupil = reader.tallies["parent_of_pupil"].count if "parent_of_pupil" in reader.tallies else 0
    f["chat.parent_of_pupil_count"] = float(pupil)
    f["chat.parent_of_pupil_rate"] = pupil / n_own if n_own else 0.0
    topic -= pupil

    def count(code: str) -> int:
        return reader.tallies[code].count if code in reader.tallies else 0

    minor_ages = reader.tallies["stated_age_minor"].values if "stated_age_minor" in reader.tallies else []
    adult_ages = reader.tallies["stated_age_adult"].values if "stated_age_adult" in reader.tallies else []
    all_ages = minor_ages + adult_ages
    f["chat.stated_age_minor_count"] = float(count("stated_age_minor"))
    f["chat.stated_age_adult_count"] = float(count("stated_age_adult"))
    f["chat.stated_age"] = float(_most_common(all_ages)) if all_ages else math.nan
    grades = [g for code in ("grade_statement", "grade_statement_adult") if code in reader.tallies
              for g in reader.tallies[code].values]
    grade = _most_common(grades) if grades else None
    f["chat.grade_statement_count"] = float(count("grade_statement"))
    f["chat.grade_statement_adult_count"] = float(count("grade_statement_adult"))
    f["chat.grade_age_min"] = float(grade[1]) if grade else math.nan
    f["chat.grade_age_max"] = float(grade[2]) if grade else math.nan
    f["chat.negated_count"] = float(reader.negated)

    lean = meta.minor_lean
    topic_lean = math.tanh(lean.scale * topic / n_own) if n_own else 0.0
    explicit = (count("stated_age_minor") + count("grade_statement")
                - count("stated_age_adult") - count("grade_statement_adult"))
    f["chat.minor_lean"] = (lean.explicit_share * math.copysign(1.0, explicit)
                            + (1 - lean.explicit_share) * topic_lean) if explicit else topic_lean

    for code, tally in reader.tallies.items():
        info = meta.categories.get(code) or meta.statements[code]
        total = n_other if getattr(info, "applies_to", "own") == "other" else n_own
        value: Any = None
        fields: dict[str, Any] = {"n": tally.count, "total": total}
        if tally.values:
            value = _most_common(tally.values)
            if isinstance(value, tuple):  # a school year: (label, min_age, max_age)
                fields["ages"] = f"{value[1]}–{value[2]}"
                value = value[0]
            fields["value"] = value
        signals.evidence.append(EvidenceItem(
            code=f"chat.{code}",
            direction=Direction(info.direction),
            summary_en=info.summary_en.format_map(_Fields(fields)),
            summary_zh=info.summary_zh.format_map(_Fields(fields)),
            records=tuple(tally.records),
            strength=float(tally.count),
            value=value,
        ))
    return signals


class _Fields(dict):
    """Summary placeholders; an office's template may name one that this evidence lacks."""

    def __missing__(self, key: str) -> str:
        return "?"

