"""Chat evidence: what the account's own messages say about the writer's age.

``extract(case, knowledge=None) -> Signals`` reads ``case.chats``. Only messages with
``speaker == account`` are the account's evidence; other players' messages about the account
("你是小学生吧") are weak context under their own codes. Matching is on characters against the
lexicon files in ``assessor/data/lexicon/`` (no word segmentation): each category is compiled once
into a trie-shaped regular expression. Traditional characters are mapped to simplified first,
full-width characters folded (NFKC), English lower-cased.

Speed (a case has ~150 lines, and most of them say nothing): the per-line steps (looking up
remembered readings, finding the lines that say something) run as ``map``/``compress`` chains,
C loops rather than Python ones. The messages not remembered are normalised in one go, and one
Aho-Corasick pass per language and speaker group over all of them (the "gate") tells which
categories have a term in which message. Only those categories' expressions, and the age patterns
of messages holding a number, run on a message, so the results are those of trying every
expression on every message. A message's reading is remembered by its text and side (see
``ChatKnowledge``); features and summaries are built from tables made once per lexicon.

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
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import accumulate, compress, count, repeat
from operator import add, attrgetter, getitem, is_, is_not, not_
from string import Formatter
from typing import Any

from assessor.features.base import Direction, EvidenceItem, RecordRef, Signals
from assessor.lexicon import NUM, CategoryInfo, ChatLexicon, LanguageLexicon, default_lexicon
from assessor.schema import Case, Speaker

try:  # a fast automaton for the gate; without it every category is tried on every message
    from ahocorasick_rs import AhoCorasick as _AhoCorasick
except ImportError:  # pragma: no cover - the dependency is declared; this keeps results, not speed
    _AhoCorasick = None

NAME = "chat"
MAX_RECORDS = 10  # records listed per evidence item; the count stays exact in `strength`
EXCERPT = 40
MIN_AGE, MAX_AGE, ADULT_AGE = 6, 99, 18
_CLAUSE_END = "[。.!！?？;；\n,，~…]"
# Up to the last clause end: one greedy match instead of a Python loop over every clause end.
_UP_TO_CLAUSE_END = re.compile("(?s:.*)" + _CLAUSE_END)
_CJK_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_NUM = r"[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3}"
_LATIN = re.compile(r"[a-z]")
GRADE = "\x00grade"  # the gate's label for school-year terms (no category can be named so)
_TEXT, _SPEAKER = attrgetter("text"), attrgetter("speaker")
MEMO_SIZE = 50_000  # distinct messages remembered per ChatKnowledge; forgotten all at once when full


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


def _age_gate(lexicon: LanguageLexicon) -> re.Pattern[str]:
    """Finds a digit, a Chinese numeral or a number word: every {num} needs one, and so do birth years."""
    if lexicon.numbers is None:
        return re.compile(r"[0-9零〇一二两三四五六七八九十]")
    words = sorted({*lexicon.numbers.units, *lexicon.numbers.tens}, key=len, reverse=True)
    return re.compile(r"[0-9]|" + "|".join(re.escape(w) for w in words))


_GROUP_NAME = re.compile(r"\(\?P<\w+>")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def _union(patterns: list[str]) -> re.Pattern[str] | None:
    """One expression that matches where any of ``patterns`` does (None when they cannot be joined)."""
    if not patterns or any(_BACKREFERENCE.search(p) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{_GROUP_NAME.sub('(?:', p)})" for p in patterns))
    except re.error:
        return None


def _with_numbers(pattern: str, number: str) -> re.Pattern[str]:
    """Each {num} becomes its own named group (num, num1, ...): a regex may not repeat a name."""
    pieces = pattern.split(NUM)
    out = pieces[0]
    for i, piece in enumerate(pieces[1:]):
        out += f"(?P<num{i or ''}>{number})" + piece
    return re.compile(out)


@dataclass(frozen=True, slots=True)
class _Category:
    """One category of one language: its expression and what its category info says, as plain values
    (read per hit, where a pydantic attribute would cost more than the rest of the test)."""

    name: str
    pattern: re.Pattern[str]
    minor: bool  # else adult
    own: bool  # applies to the account's own messages, else to other players'
    self_only: bool
    school: bool


@dataclass(frozen=True, slots=True)
class _Language:
    """One language's lexicon, compiled."""

    name: str
    latin: bool
    categories: tuple[_Category, ...]  # adult ones first
    negation: re.Pattern[str]
    other_subject: re.Pattern[str]
    own_child: re.Pattern[str]
    other_person: re.Pattern[str]
    first_person: re.Pattern[str]
    window: int
    ages: tuple[tuple[re.Pattern[str], bool], ...]
    births: tuple[re.Pattern[str], ...]
    grades: re.Pattern[str] | None
    grade_of: dict[str, tuple[str, tuple[str, int, int]]]  # term: code, (label, min_age, max_age)
    veto_before: tuple[str, ...]
    veto_after: tuple[str, ...]
    units: dict[str, int]
    tens: dict[str, int]
    gates: dict[bool, _Gate | None]  # by "written by the account"
    age_gate: re.Pattern[str]  # a message without a match here holds no number, so no stated age
    age_union: re.Pattern[str] | None  # all age and birth patterns in one: does any of them match?

    @classmethod
    def compile(cls, lexicon: LanguageLexicon, normalise: Any, infos: dict[str, CategoryInfo]) -> _Language:
        latin = lexicon.language == "en"
        fold = (lambda t: t.lower()) if latin else normalise
        grammar = lexicon.grammar
        categories = tuple(
            _Category(name, _terms_regex([fold(t) for group in groups.values() for t in group], latin),
                      infos[name].direction == "minor", infos[name].applies_to == "own", infos[name].self_only,
                      infos[name].school)
            for name, groups in sorted(lexicon.terms.items(), key=lambda kv: infos[kv[0]].direction != "adult"))
        applies_to = {name: info.applies_to for name, info in infos.items()}
        if latin:
            negation = re.compile(r"(?<![a-z0-9'])(?:" + _trie_regex(sorted(set(grammar.negation)))
                                  + r")\s+(?:[a-z0-9']+\s+)?$")
        else:
            gap = f"[{re.escape(grammar.negation_gap)}]?" if grammar.negation_gap else ""
            negation = re.compile("(?:" + _trie_regex(sorted({fold(c) for c in grammar.negation})) + ")" + gap + "$")
        number = _number_regex(lexicon)
        grade_of = {fold(term): ("grade_statement" if grade.min_age < ADULT_AGE else "grade_statement_adult",
                                 (grade.label, grade.min_age, grade.max_age))
                    for grade in lexicon.school_years.grades for term in grade.terms}
        numbers = lexicon.numbers
        ages = tuple((_with_numbers(p.pattern, number), p.names_speaker) for p in lexicon.ages)
        births = tuple(re.compile(p.pattern) for p in lexicon.births)
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
            ages=ages,
            births=births,
            grades=_terms_regex(list(grade_of), latin) if grade_of else None,
            grade_of=grade_of,
            veto_before=tuple(fold(v) for v in lexicon.school_years.veto_before),
            veto_after=tuple(fold(v) for v in lexicon.school_years.veto_after),
            units=dict(numbers.units) if numbers else {},
            tens=dict(numbers.tens) if numbers else {},
            gates=_gates(lexicon, fold, applies_to),
            age_gate=_age_gate(lexicon),
            age_union=_union([*(p.pattern for p, _ in ages), *(p.pattern for p in births)]),
        )

    # ----------------------------------------------------------------------- reading a match

    def age_candidates(self, texts: list[str], among: Iterable[int]) -> set[int]:
        """The messages (indices into ``texts``, ``among`` those) where an age or birth pattern may
        match: no other message need try them (most messages have no number at all)."""
        maybe = list(compress(among, map(self.age_gate.search, map(texts.__getitem__, among))))
        if self.age_union is None or not maybe:
            return set(maybe)
        return set(compress(maybe, map(self.age_union.search, map(texts.__getitem__, maybe))))

    def clause_before(self, text: str, start: int) -> str:
        """The words before ``start`` in the same clause, at most ``window`` characters."""
        prefix = text[max(0, start - self.window):start]
        last = _UP_TO_CLAUSE_END.match(prefix)
        return prefix[last.end():] if last else prefix

    def after_self_mention(self, prefix: str) -> str:
        """The part of ``prefix`` after the writer last named itself ("你知道吗我是…" -> "是")."""
        return prefix[_last_end(self.first_person, prefix):]

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


_NFKC = partial(unicodedata.normalize, "NFKC")


def _normaliser(hant: dict[int, str]) -> Any:
    def normalise(text: str) -> str:
        return unicodedata.normalize("NFKC", text).lower().translate(hant)

    return normalise


def _gate(patterns: list[str], labels: list[tuple[str, ...]]) -> _Gate | None:
    if not patterns or _AhoCorasick is None:
        return None
    return _Gate(_AhoCorasick(patterns), tuple(labels))


@dataclass(frozen=True, slots=True)
class _Gate:
    """Every term of a speaker group's categories in one Aho-Corasick automaton.

    One pass over a case's joined messages finds, for each message, which categories have a term
    in it at all; only those categories' regular expressions then run on that message. A term is
    matched without word boundaries here, so the gate may let through a message that the category's
    own expression then rejects, but never drops one it would accept.
    """

    automaton: Any
    labels: tuple[tuple[str, ...], ...]  # per term: the categories (and GRADE) it belongs to

    def candidates(self, joined: str, starts: list[int], into: list[set[str] | None]) -> set[int]:
        """Add to ``into[i]`` the categories with a term inside message ``i`` (starting at ``starts[i]``).

        Returns the messages with any term.
        """
        labels = self.labels
        touched: set[int] = set()
        for term, start, _ in self.automaton.find_matches_as_indexes(joined, overlapping=True):
            i = bisect_right(starts, start) - 1
            found = into[i]
            if found is None:
                into[i] = set(labels[term])
                touched.add(i)
            else:
                found.update(labels[term])
        return touched


def _gates(lexicon: LanguageLexicon, fold: Any, applies_to: dict[str, str]) -> dict[bool, _Gate | None]:
    """The gate of the account's own messages (with school years) and the one of other players'."""
    gates: dict[bool, _Gate | None] = {}
    for own in (True, False):
        labels: dict[str, set[str]] = {}
        for name, groups in lexicon.terms.items():
            if (applies_to[name] == "own") == own:
                for group in groups.values():
                    for term in group:
                        labels.setdefault(fold(term), set()).add(name)
        if own:
            for grade in lexicon.school_years.grades:
                for term in grade.terms:
                    labels.setdefault(fold(term), set()).add(GRADE)
        terms = sorted(labels)
        gates[own] = _gate(terms, [tuple(sorted(labels[t])) for t in terms])
    return gates


@dataclass(frozen=True)
class ChatKnowledge:
    """The chat lexicon, compiled once; pass one to :func:`extract` to use an office's own lexicon.

    It also remembers what recent messages said (up to MEMO_SIZE distinct texts): game chat repeats
    itself ("来了", "666", "我妈来了"), and a message's reading depends only on its text, whether the
    account wrote it and (for a birth year such as "我是10后", which is not remembered) its year.
    """

    lexicon: ChatLexicon
    normalise: Any = field(init=False, repr=False)
    languages: tuple[_Language, ...] = field(init=False, repr=False)
    version: str = field(init=False)
    # How each evidence code is reported, and per category its place in the file, feature names,
    # whether it counts other players' messages, and its signed weight in chat.minor_lean's topic balance.
    codes: dict[str, _Code] = field(init=False, repr=False, compare=False)
    category_features: dict[str, tuple[int, str, str, str, bool, float]] = field(init=False, repr=False, compare=False)
    lean: tuple[float, float, tuple[int, ...]] = field(init=False, repr=False, compare=False)  # see LeanParams
    blank_features: dict[str, float] = field(init=False, repr=False, compare=False)  # see _blank_features
    # By text: [its reading as the account's message, as another player's] (None: not read yet).
    memo: dict[str, list[_Reading | None]] = field(init=False, repr=False, compare=False)
    _hant: dict[int, str] = field(init=False, repr=False, compare=False)
    _hant_chars: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = self.lexicon.hant.table()
        normalise = _normaliser(table)
        categories = self.lexicon.categories.categories
        category_features = {
            name: (order, name, f"chat.{name}_count", f"chat.{name}_rate", info.applies_to == "other",
                   0.0 if info.applies_to == "other" else info.lean_weight * (1 if info.direction == "minor" else -1))
            for order, (name, info) in enumerate(categories.items())}
        lean = self.lexicon.categories.minor_lean
        for name, value in {
            "normalise": normalise,
            "languages": tuple(_Language.compile(lex, normalise, categories)
                               for lex in self.lexicon.languages.values()),
            "version": self.lexicon.version,
            "codes": _codes(self.lexicon.categories),
            "category_features": category_features,
            "blank_features": _blank_features(category_features),
            "lean": (lean.scale, lean.explicit_share, tuple(lean.borderline_adult_ages)),
            "memo": {},
            "_hant": table,
            "_hant_chars": re.compile("[" + "".join(re.escape(chr(c)) for c in table) + "]") if table else None,
        }.items():
            object.__setattr__(self, name, value)

    @classmethod
    def default(cls) -> ChatKnowledge:
        return _default_knowledge()

    def normalise_all(self, texts: list[str]) -> list[str]:
        """``[normalise(t) for t in texts]``, but with one lower-casing and mapping for all of them.

        Joined with line breaks, the texts normalise exactly as they do one by one: a line break
        never combines with its neighbours, and none of these steps makes or removes one. Texts that
        contain line breaks of their own are normalised one by one. NFKC runs per text: most are
        already normalised and return at once, while on the joined texts a single full-width "？"
        would send every character through the slow full normalisation.
        """
        joined = "\n".join(map(_NFKC, texts))
        if joined.count("\n") == len(texts) - 1:
            folded = joined.lower()
            if self._hant_chars is not None and self._hant_chars.search(folded):
                folded = folded.translate(self._hant)
            pieces = folded.split("\n")
            if len(pieces) == len(texts):
                return pieces
        return [self.normalise(t) for t in texts]


def _blank_features(category_features: dict[str, tuple[int, str, str, str, bool, float]]) -> dict[str, float]:
    """Every chat feature, in the order extract() reports them, valued as for a case without evidence."""
    f = {"chat.n_own_messages": 0.0, "chat.n_other_messages": 0.0}
    for _, _, count_name, rate_name, _, _ in category_features.values():
        f[count_name] = 0.0
        f[rate_name] = 0.0
    for name in ("parent_of_pupil_count", "parent_of_pupil_rate", "stated_age_minor_count",
                 "stated_age_adult_count"):
        f[f"chat.{name}"] = 0.0
    f["chat.stated_age"] = math.nan
    f["chat.grade_statement_count"] = 0.0
    f["chat.grade_statement_adult_count"] = 0.0
    f["chat.grade_age_min"] = math.nan
    f["chat.grade_age_max"] = math.nan
    f["chat.negated_count"] = 0.0
    f["chat.minor_lean"] = 0.0
    return f


@lru_cache(maxsize=1)
def _default_knowledge() -> ChatKnowledge:
    return ChatKnowledge(default_lexicon())


# --------------------------------------------------------------------------- one message


@dataclass(frozen=True, slots=True, eq=False)
class _Reading:
    """What one message says: (code, value, excerpt) per evidence code, and how many cues were negated.

    Compared by identity (``eq=False``): a case's readings are scanned with C-level list methods,
    which then never call back into Python.
    """

    hits: tuple[tuple[str, Any, str], ...] = ()
    negated: int = 0


_NOTHING = _Reading()


class _MessageReader:
    """Reads one normalised message with the lexicon's regular expressions and cheap grammar.

    ``candidates`` (one set per language, from the gates) names the categories worth trying;
    a category with no term in the message cannot match, so skipping it changes nothing.
    """

    def __init__(self, knowledge: ChatKnowledge, text: str, own: bool, year: int | None) -> None:
        self.k = knowledge
        self.text = text
        self.own = own
        self.year = year
        self.hits: dict[str, tuple[int, int]] = {}
        self.values: dict[str, Any] = {}
        self.negated = 0
        self.dated = False  # whether a birth year was read against self.year

    def read(self, original: str, candidates: list[set[str] | None], ages: list[bool]) -> _Reading:
        text = self.text
        for lang, found, may_state_age in zip(self.k.languages, candidates, ages, strict=True):
            if lang.latin and not _LATIN.search(text):
                continue
            if found:
                self._categories(lang, found)
            if self.own:
                if may_state_age:
                    self._ages(lang)
                if found and GRADE in found:
                    self._grades(lang)
        if not self.hits and not self.negated:
            return _NOTHING
        quoted = original if len(original) == len(text) else text  # the text as written, when positions agree
        return _Reading(tuple([(code, self.values.get(code), _excerpt(quoted, start, end))
                               for code, (start, end) in self.hits.items()]), self.negated)

    def _categories(self, lang: _Language, found: set[str]) -> None:
        """Adult categories are read first: a minor hit inside an adult one ("辅导作业") is the adult's."""
        text, own, hits = self.text, self.own, self.hits
        adult_spans: list[tuple[int, int]] = []
        for category in lang.categories:
            name = category.name
            if name not in found or category.own != own or name in hits:
                continue
            for m in category.pattern.finditer(text):
                start, end = span = m.span()
                if category.minor and adult_spans and any(a <= start and end <= b for a, b in adult_spans):
                    continue
                prefix = lang.clause_before(text, start)
                if lang.negation.search(prefix):
                    self.negated += 1
                    continue
                code = name
                if category.self_only or category.school:
                    if category.school and lang.own_child.search(prefix):
                        code = "parent_of_pupil"
                    else:
                        about = lang.after_self_mention(prefix)
                        if lang.other_person.search(about) or (category.self_only and lang.other_subject.search(about)):
                            continue
                hits.setdefault(code, span)
                if not category.minor:
                    adult_spans.append(span)
                elif code == name:
                    break

    def _ages(self, lang: _Language) -> None:
        text = self.text
        for pattern, names_speaker in lang.ages:
            for m in pattern.finditer(text):
                token = next((v for k, v in m.groupdict().items() if k.startswith("num") and v), None)
                age = lang.number(token) if token else None
                if age is None or not self._about_writer(lang, m.start(), names_speaker):
                    continue
                self._age(age, m.span())
        for pattern in lang.births:
            for m in pattern.finditer(text):
                token = next((v for k, v in m.groupdict().items() if k.startswith("yy") and v), None)
                self.dated = self.dated or token is not None
                year = _birth_year(token, self.year) if token else None
                if year is None or not self._about_writer(lang, m.start(), True):
                    continue
                self._age(self.year - year, m.span())  # type: ignore[operator]

    def _about_writer(self, lang: _Language, start: int, names_speaker: bool) -> bool:
        prefix = lang.clause_before(self.text, start)
        if lang.negation.search(prefix):
            self.negated += 1
            return False
        if names_speaker:
            return True
        return not (lang.own_child.search(prefix) or lang.other_person.search(lang.after_self_mention(prefix)))

    def _age(self, age: int, span: tuple[int, int]) -> None:
        if not MIN_AGE <= age <= MAX_AGE:
            return
        code = "stated_age_minor" if age < ADULT_AGE else "stated_age_adult"
        if code not in self.hits:
            self.hits[code] = span
            self.values[code] = age

    def _grades(self, lang: _Language) -> None:
        if lang.grades is None:
            return
        text, hits = self.text, self.hits
        for m in lang.grades.finditer(text):
            start, end = m.span()
            if text.endswith(lang.veto_before, 0, start) or text.startswith(lang.veto_after, end):
                continue
            prefix = lang.clause_before(text, start)
            if lang.negation.search(prefix):
                self.negated += 1
                continue
            if lang.own_child.search(prefix):
                hits.setdefault("parent_of_pupil", (start, end))
                continue
            if lang.other_person.search(lang.after_self_mention(prefix)):
                continue
            code, value = lang.grade_of[m.group(0)]
            if code not in hits:
                hits[code] = (start, end)
                self.values[code] = value


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


def _read_case(knowledge: ChatKnowledge, case: Case) -> tuple[list[_Reading], list[Speaker]]:
    """One reading per message, in order, and each message's speaker.

    Every step runs over all messages at once in ``map`` (C loops): a case has ~150 lines and most
    are remembered and say nothing, so a Python loop per line would cost more than the lookups.
    The memo holds per text a pair, [as the account's, as another player's]; a speaker's
    ``is not account`` (False/True) indexes it. The messages not remembered are read by ``_read_new``.
    """
    chats = case.chats
    speakers = list(map(_SPEAKER, chats))
    pairs = map(knowledge.memo.get, map(_TEXT, chats), repeat(_UNREAD))
    readings = list(map(getitem, pairs, map(is_not, speakers, repeat(Speaker.account))))
    if None in readings:
        readings = _read_new(knowledge, case, list(map(_TEXT, chats)), speakers, readings)
    return readings, speakers


_UNREAD = (None, None)  # the memo's pair for a text not read yet


def _read_new(knowledge: ChatKnowledge, case: Case, texts: list[str], speakers: list[Speaker],
              readings: list[_Reading | None]) -> list[_Reading]:
    """``readings`` with its gaps (None) filled: each distinct text not remembered is read once per
    side (the account's, another player's), and remembered.

    A reading that used the message's year (a birth year such as "我是10后") is read again with
    each line's year and not remembered: the same words dated another year may mean another age.
    """
    memo = knowledge.memo
    missing = list(compress(range(len(texts)), map(is_, readings, repeat(None))))
    if len(missing) < len(texts):
        texts = list(map(texts.__getitem__, missing))
        speakers = list(map(speakers.__getitem__, missing))
    others = list(map(is_not, speakers, repeat(Speaker.account)))  # the side of each missing message
    if len(memo) + len(missing) > MEMO_SIZE:
        memo.clear()  # what was looked up stays valid: only later lookups miss
    read: tuple[dict[str, _Reading], dict[str, _Reading]] = ({}, {})
    dated: set[tuple[str, bool]] = set()
    for side, of_side in ((0, map(not_, others)), (1, others)):
        group = list(dict.fromkeys(compress(texts, of_side)))  # distinct, in order
        if group:
            group_readings, group_dated = _read_group(knowledge, group, side == 0)
            read[side].update(zip(group, group_readings, strict=True))
            for text, reading in zip(group, group_readings, strict=True):
                memo.setdefault(text, [None, None])[side] = reading
            for i in group_dated:
                memo[group[i]][side] = None
                dated.add((group[i], bool(side)))
    filled = map(dict.__getitem__, map(read.__getitem__, others), texts)
    if len(missing) == len(readings):
        readings = list(filled)
    else:
        for index, reading in zip(missing, filled, strict=True):
            readings[index] = reading
    if dated:
        _read_dated(knowledge, case, [(index, text, other) for index, text, other
                                      in zip(missing, texts, others, strict=True) if (text, other) in dated], readings)
    return readings  # type: ignore[return-value]


def _read_dated(knowledge: ChatKnowledge, case: Case, lines: list[tuple[int, str, bool]],
                readings: list[_Reading | None]) -> None:
    """Read ``lines`` (index, text, by another player) again, each with its year (undated: the last
    payment's)."""
    case_year = max(r.at for r in case.recharges).year if case.recharges else None
    by_year: dict[tuple[str, bool, int | None], list[int]] = {}
    for index, text, other in lines:
        at = case.chats[index].at
        by_year.setdefault((text, other, at.year if at is not None else case_year), []).append(index)
    for (text, other, year), indices in by_year.items():
        (reading,), _ = _read_group(knowledge, [text], not other, [year])
        for index in indices:
            readings[index] = reading


def _read_group(knowledge: ChatKnowledge, originals: list[str], own: bool,
                years: list[int | None] | None = None) -> tuple[list[_Reading], set[int]]:
    """Readings of one speaker group's distinct messages (``own``: the account's), and which of
    them used the year (``years``: each message's; None reads no birth year)."""
    texts = knowledge.normalise_all(originals)
    starts = list(accumulate(map(add, map(len, texts), repeat(1)), initial=0))  # "\n" after each
    joined = "\n".join(texts)
    latin = _LATIN.search(joined) is not None
    everything = range(len(texts))
    latin_texts = list(compress(everything, map(_LATIN.search, texts))) if latin and own else []
    languages = knowledge.languages
    candidates: list[list[set[str] | None]] = []
    stating_age: list[set[int]] = []
    to_read: set[int] = set()
    for lang in languages:
        found: list[set[str] | None] = [None] * len(texts)
        gate = lang.gates[own]
        if lang.latin and not latin:
            pass  # English is only read in messages with latin letters
        elif gate is None:  # no automaton: every category may match
            found = [{*(category.name for category in lang.categories), GRADE}] * len(texts)
            to_read.update(everything)
        else:
            to_read.update(gate.candidates(joined, starts, found))
        candidates.append(found)
        # The account's messages may state an age without any category term.
        ages = lang.age_candidates(texts, latin_texts if lang.latin else everything) if own else set()
        stating_age.append(ages)
        to_read.update(ages)
    readings = [_NOTHING] * len(texts)
    dated = set()
    for i in sorted(to_read):
        text = texts[i]
        if text.strip():
            reader = _MessageReader(knowledge, text, own, years[i] if years else None)
            readings[i] = reader.read(originals[i], [found[i] for found in candidates],
                                      [i in ages for ages in stating_age])
            if reader.dated:
                dated.add(i)
    return readings, dated


@dataclass(slots=True)
class _Tally:
    """Messages supporting one evidence code: an exact count, the first few records, values."""

    count: int = 0
    records: list[RecordRef] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)


def _excerpt(text: str, start: int, end: int) -> str:
    """At most EXCERPT characters around the hit (a longer hit is cut with "…", as record_ref does)."""
    if len(text) <= EXCERPT:  # most chat lines: the window below would be the whole text
        return text.strip()
    room = max(0, EXCERPT - (end - start))
    lo = max(0, start - room // 2)
    hi = min(len(text), end + (room - (start - lo)))
    lo = max(0, min(lo, hi - EXCERPT))
    excerpt = text[lo:hi].strip()
    return excerpt if len(excerpt) <= EXCERPT else excerpt[:EXCERPT - 1] + "…"


def _most_common(values: list[Any]) -> Any:
    """The value stated most often; on a tie, the one stated first."""
    if len(values) == 1:
        return values[0]
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)


def extract(case: Case, knowledge: ChatKnowledge | None = None) -> Signals:
    """Chat features and evidence of one case (see the module docstring for the codes)."""
    knowledge = knowledge or ChatKnowledge.default()
    chats = case.chats
    readings, speakers = _read_case(knowledge, case)
    n_own = speakers.count(Speaker.account)
    read = [(index, readings[index]) for index in compress(count(), map(is_not, readings, repeat(_NOTHING)))]
    # What record_ref makes (the excerpt is already short), built directly: this runs per hit.
    tallies, negated = tally(read, lambda index, excerpt: RecordRef(f"chats/{chats[index].id or index}",
                                                                     chats[index].at, excerpt))
    return signals_of(knowledge, tallies, negated, n_own, len(chats) - n_own)


def tally(read: list[tuple[int, _Reading]], cite: Callable[[int, str], RecordRef]) -> tuple[dict[str, _Tally], int]:
    """The messages behind each evidence code, and the negated cues, from the readings that say something
    (message index, reading), in order; ``cite(index, excerpt)`` references a message. Shared with the
    block extractor (chat_block.py)."""
    tallies: dict[str, _Tally] = {}
    negated = 0
    for index, reading in read:
        negated += reading.negated
        for code, value, excerpt in reading.hits:
            found = tallies.get(code)
            if found is None:
                found = tallies[code] = _Tally()
            found.count += 1
            if found.count <= MAX_RECORDS:
                found.records.append(cite(index, excerpt))
            if value is not None:
                found.values.append(value)
    return tallies, negated


@dataclass(frozen=True, slots=True)
class _Code:
    """How one evidence code is reported, looked up once rather than per case."""

    code: str  # "chat.school_life"
    direction: Direction
    of_others: bool  # counted over other players' messages
    summary_en: _Template
    summary_zh: _Template


def _codes(meta: Any) -> dict[str, _Code]:
    infos = {**meta.statements, **meta.categories}
    return {name: _Code(f"chat.{name}", Direction(info.direction), getattr(info, "applies_to", "own") == "other",
                        _Template.parse(info.summary_en), _Template.parse(info.summary_zh))
            for name, info in infos.items()}


@dataclass(frozen=True, slots=True)
class _Template:
    """A summary template, parsed once: ``str.format_map`` parses the whole template on every call.

    ``parts`` holds (literal text, field name or None, format spec) when every field is a plain
    ``{name}`` or ``{name:spec}``; any other template is left to ``format_map``.
    """

    text: str
    parts: tuple[tuple[str, str | None, str], ...] | None

    @classmethod
    def parse(cls, text: str) -> _Template:
        try:
            parsed = list(Formatter().parse(text))
        except ValueError:
            return cls(text, None)
        plain = all(name is None or (name.isidentifier() and conversion is None and "{" not in spec)
                    for _, name, spec, conversion in parsed)
        return cls(text, tuple((literal, name, spec or "") for literal, name, spec, _ in parsed) if plain else None)

    def render(self, fields: _Fields) -> str:
        """``text.format_map(fields)``."""
        if self.parts is None:
            return self.text.format_map(fields)
        out = []
        for literal, name, spec in self.parts:
            out.append(literal)
            if name is not None:
                out.append(format(fields[name], spec))
        return "".join(out)


def signals_of(knowledge: ChatKnowledge, tallies: dict[str, _Tally], negated: int, n_own: int,
               n_other: int) -> Signals:
    f = dict(knowledge.blank_features)  # every feature in order, valued as for a case without evidence
    f["chat.n_own_messages"] = float(n_own)
    f["chat.n_other_messages"] = float(n_other)
    counts = {code: tally.count for code, tally in tallies.items()}

    # Features of the categories with hits only: a category without any keeps its blank 0.0, and
    # adding its 0.0 to the topic balance would not change the sum (file order is kept for the others).
    topic = 0.0
    features_of = knowledge.category_features
    for _, name, count_name, rate_name, of_others, weight in sorted(features_of[name] for name in counts
                                                                    if name in features_of):
        n = counts[name]
        total = n_other if of_others else n_own
        f[count_name] = float(n)
        f[rate_name] = n / total if total else 0.0
        topic += weight * n
    pupil = counts.get("parent_of_pupil", 0)
    if pupil:
        f["chat.parent_of_pupil_count"] = float(pupil)
        f["chat.parent_of_pupil_rate"] = pupil / n_own if n_own else 0.0
        topic -= pupil

    adult_ages: list[int] = []
    if tallies.keys() & _STATEMENT_CODES:
        adult_ages = _statement_features(f, tallies, counts)
    f["chat.negated_count"] = float(negated)

    scale, explicit_share, borderline_ages = knowledge.lean
    borderline = sum(1 for age in adult_ages if age in borderline_ages) if adult_ages else 0
    topic -= borderline  # "我18了": one adult topic message, not a decisive statement
    topic_lean = math.tanh(scale * topic / n_own) if n_own else 0.0
    explicit = (counts.get("stated_age_minor", 0) + counts.get("grade_statement", 0)
                - (counts.get("stated_age_adult", 0) - borderline) - counts.get("grade_statement_adult", 0))
    f["chat.minor_lean"] = (explicit_share * math.copysign(1.0, explicit)
                            + (1 - explicit_share) * topic_lean) if explicit else topic_lean
    return Signals(extractor=NAME, version=knowledge.version, features=f,
                   evidence=[_evidence(knowledge.codes[name], tally, n_own, n_other)
                             for name, tally in tallies.items()])


_STATEMENT_CODES = frozenset({"stated_age_minor", "stated_age_adult", "grade_statement", "grade_statement_adult"})


def _statement_features(f: dict[str, float], tallies: dict[str, _Tally], counts: dict[str, int]) -> list[int]:
    """The stated-age and school-year features (their blanks are 0.0 and NaN); returns the adult ages."""
    minor_ages = tallies["stated_age_minor"].values if "stated_age_minor" in tallies else []
    adult_ages = tallies["stated_age_adult"].values if "stated_age_adult" in tallies else []
    all_ages = minor_ages + adult_ages
    f["chat.stated_age_minor_count"] = float(counts.get("stated_age_minor", 0))
    f["chat.stated_age_adult_count"] = float(counts.get("stated_age_adult", 0))
    f["chat.stated_age"] = float(_most_common(all_ages)) if all_ages else math.nan
    grades = [g for code in ("grade_statement", "grade_statement_adult") if code in tallies
              for g in tallies[code].values]
    grade = _most_common(grades) if grades else None
    f["chat.grade_statement_count"] = float(counts.get("grade_statement", 0))
    f["chat.grade_statement_adult_count"] = float(counts.get("grade_statement_adult", 0))
    f["chat.grade_age_min"] = float(grade[1]) if grade else math.nan
    f["chat.grade_age_max"] = float(grade[2]) if grade else math.nan
    return adult_ages


def _evidence(spec: _Code, tally: _Tally, n_own: int, n_other: int) -> EvidenceItem:
    value: Any = None
    fields: dict[str, Any] = {"n": tally.count, "total": n_other if spec.of_others else n_own}
    if tally.values:
        value = _most_common(tally.values)
        if isinstance(value, tuple):  # a school year: (label, min_age, max_age)
            fields["ages"] = f"{value[1]}–{value[2]}"
            value = value[0]
        fields["value"] = value
    return EvidenceItem.deferred(spec.code, spec.direction, spec.summary_en, spec.summary_zh,  # type: ignore[arg-type]
                                 _render, _Fields(fields), records=tuple(tally.records),
                                 strength=float(tally.count), value=value)


def _render(template: _Template, fields: _Fields) -> str:
    """An evidence summary from its template (formatted when the item's summary is first read)."""
    return template.render(fields)


class _Fields(dict):
    """Summary placeholders; an office's template may name one that this evidence lacks."""

    def __missing__(self, key: str) -> str:
        return "?"

