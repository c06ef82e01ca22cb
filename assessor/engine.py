"""The engine: signals in, an explainable assessment out.

    log_odds = logit(prior) + model points + rule weights, then floors and ceilings
    probability = sigmoid(log_odds)

Every term is a contribution with an id, a family and the records behind it, so the sum can
be read out to a family and to a company. The engine knows no file formats and no terminal.
"""

from __future__ import annotations

import math
import re
import tomllib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from operator import itemgetter, neg
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

from assessor.features import chat, real_name, recharge
from assessor.features.base import Direction, EvidenceItem, PaymentValues, RecordRef, Signals
from assessor.model import Scorecard, load_model, shipped_model_path
from assessor.privacy import scrub
from assessor.rules import Rulebook, load_rulebook
from assessor.schema import (
    Assessment,
    Case,
    Coverage,
    ModelInfo,
    RechargeStatus,
    band_for,
)

# Registered extractors, each a pure function case -> Signals.
EXTRACTORS = (real_name.extract, chat.extract, recharge.extract)
MAX_RECORDS_PER_REASON = 12
TOP_REASONS = 4
FAMILY_OF_COVERAGE = {"chat": "chats", "sessions": "sessions", "recharge": "recharges",
                      "real_name": "real_name", "face_check": "face_checks"}


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass(frozen=True)
class FeatureLabel:
    label_en: str
    label_zh: str
    evidence: tuple[str, ...] = ()


@cache
def feature_catalog() -> dict[str, FeatureLabel]:
    """Readable names of model features and the evidence codes whose records back them."""
    path = resources.files("assessor") / "data" / "features.toml"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        name: FeatureLabel(entry["label_en"], entry["label_zh"], tuple(entry.get("evidence", ())))
        for name, entry in data["features"].items()
    }


@dataclass
class CaseSignals:
    """All extractors' output for one case, merged."""

    features: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, list[EvidenceItem]] = field(default_factory=lambda: defaultdict(list))
    findings: list = field(default_factory=list)
    # Each extractor's per-payment values, in the order added (a later one's value wins, as in a dict update).
    per_payment: list[PaymentValues] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, signals: Signals) -> None:
        self.features.update(signals.features)
        for item in signals.evidence:
            self.evidence[item.code].append(item)
        self.findings.extend(signals.findings)
        if signals.per_payment:
            self.per_payment.append(signals.per_payment)
        self.warnings.extend(signals.warnings)



def extract_signals(case: Case) -> CaseSignals:
    merged = CaseSignals()
    for extract in EXTRACTORS:
        merged.add(extract(case))
    return merged


def model_inputs(case: Case, signals: CaseSignals) -> dict[str, float]:
    """Features as the model sees them: a family whose records were not supplied is missing (NaN).

    Missing evidence must not move the likelihood: an absent chat log is not a silent child.
    """
    missing = _missing_families(_coverage(case))
    features = dict(signals.features)
    if missing:
        for name in features:
            if name.split(".", 1)[0] in missing:
                features[name] = math.nan
    return features


def coverage_of(case: Case) -> Coverage:
    return Coverage(**_coverage(case))


def _coverage(case: Case) -> dict[str, bool]:
    """Which evidence the case holds, as :class:`Coverage`'s fields (in their order)."""
    rn = case.account.real_name if case.account else None
    return {
        "real_name": bool(rn and (rn.status.value != "unknown" or rn.id_number or rn.birth_date)),
        "chats": bool(case.chats),
        "recharges": bool(case.recharges),
        "sessions": bool(case.sessions),
        "face_checks": bool(case.account and case.account.face_checks),
    }


def _missing_families(coverage: dict[str, bool]) -> frozenset[str]:
    """Feature families (the part of a feature's name before the dot) whose records were not supplied."""
    return frozenset(family for family, cov_field in FAMILY_OF_COVERAGE.items() if not coverage[cov_field])


# Only text holding a run of 11 digits can hold what scrub masks (mobiles are 11, IDs 15 or 18);
# one search is cheaper than scrub's three substitutions on the many excerpts that hold none.
_MAYBE_NUMBER = re.compile(r"\d{11}")


class _RefCache:
    """Evidence references of one case as plain dicts, each record scrubbed once.

    The same record backs several reasons (a message counts for a feature's count and its
    rate); the assessment is built from plain data and validated once, in one pass.
    """

    __slots__ = ("_done", "_json_times")

    def __init__(self, *, json_times: bool = False) -> None:
        self._done: dict[int, dict[str, Any]] = {}
        self._json_times = json_times

    def ref(self, ref: RecordRef) -> dict[str, Any]:
        key = id(ref)  # the RecordRef lives in the case's signals for as long as this cache does
        out = self._done.get(key)
        if out is None:
            excerpt = ref.excerpt
            if excerpt and _MAYBE_NUMBER.search(excerpt):
                excerpt = scrub(excerpt)
            at = ref.at
            if self._json_times and at is not None:
                at = to_jsonable_python(at)  # once per record, not once per reason citing it
            out = self._done[key] = {"record": ref.record, "at": at, "excerpt": excerpt}
        return out

    def refs(self, items: Iterable[EvidenceItem], direction: Direction | None = None) -> list[dict[str, Any]]:
        """At most MAX_RECORDS_PER_REASON distinct records of the items (of one direction, or neutral)."""
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        done = self._done
        for item in items:
            if direction is not None and item.direction not in (direction, Direction.neutral):
                continue
            for ref in item.records:
                record = ref.record
                if record in seen:
                    continue
                seen.add(record)
                out.append(done.get(id(ref)) or self.ref(ref))
                if len(out) >= MAX_RECORDS_PER_REASON:
                    return out
        return out


@dataclass(frozen=True)
class _ModelFeature:
    """Everything about one model feature that does not depend on the case, worked out once per engine."""

    name: str
    source: str
    edges: list[float]  # bin edges, ascending: bisect_left gives numpy's searchsorted(side="left")
    points: list[float]  # log-odds per bin
    label: FeatureLabel
    # Per bin: (weight as reported, the direction whose evidence backs it), or None for a bin that adds nothing.
    bins: tuple[tuple[float, Direction] | None, ...] = ()
    zero_reads_none: bool = False  # a zero reads "none found" (see _shown_value)
    as_percent: bool = False

    @classmethod
    def of(cls, name: str, edges: list, points: list, label: FeatureLabel) -> _ModelFeature:
        points = [float(p) for p in points]
        bins = tuple(None if p == 0.0 else (round(p, 6), Direction.minor if p > 0 else Direction.adult)
                     for p in points)
        return cls(name, name.split(".", 1)[0], [float(e) for e in edges], points, label, bins,
                   _zero_reads_none(name), _as_percent(name))


class Engine:
    """Scores cases with one model and one rulebook. One engine serves one case or a million."""

    def __init__(self, scorecard: Scorecard | None, rulebook: Rulebook, model_info: ModelInfo):
        self.scorecard = scorecard
        self.rulebook = rulebook
        self.model_info = model_info
        self._swing_by_family: dict[str, float] = defaultdict(float)
        self._model_features: list[_ModelFeature] = []
        if scorecard is not None:
            rulebook.check_no_double_counting(scorecard.features)
            for name, swing in scorecard.max_swing().items():
                self._swing_by_family[name.split(".", 1)[0]] += swing
            catalog = feature_catalog()
            self._model_features = [
                _ModelFeature.of(name, edges, points, catalog.get(name) or _fallback_label(name))
                for name, edges, points in zip(scorecard.features, scorecard.edges, scorecard.points, strict=True)
            ]
        self._finding_texts = {f.id: f for f in rulebook.findings}

    @classmethod
    def load(cls, model_path: str | Path | None = None, *, trust_model: bool = False,
             rulebook_path: str | Path | None = None) -> Engine:
        if model_path is None and rulebook_path is None:
            return default_engine()
        card, sha = load_model(Path(model_path) if model_path else None, trust=trust_model)
        info = ModelInfo(name="default" if model_path is None else Path(model_path).stem,
                         version=str(card.metadata.get("version", "")) or None, sha256=sha)
        return cls(card, load_rulebook(rulebook_path), info)

    # ------------------------------------------------------------------ scoring

    def assess(self, case: Case, *, prior: float = 0.5, signals: CaseSignals | None = None) -> Assessment:
        # Built as plain data and validated in one pass: building each of the hundreds of
        # reasons and record references as a model of its own cost more than scoring.
        return Assessment.model_validate(self.assessment_data(case, prior=prior, signals=signals))

    def assess_many(self, cases: Iterable[Case], *, prior: float = 0.5) -> Iterator[Assessment]:
        for case in cases:
            yield self.assess(case, prior=prior)

    def assessment_data(self, case: Case, *, prior: float = 0.5, signals: CaseSignals | None = None,
                        json_times: bool = False) -> dict[str, Any]:
        """The assessment of ``case`` as the plain data :class:`Assessment` validates.

        Every object holds all its model's fields, in the model's order, so that a batch can write
        it as JSON without building the model (:func:`assessor.batch_output.assessment_data_line`,
        which checks the layout). ``signals``: the case's :func:`extract_signals`, if already
        extracted (benchmarks time the two apart). ``json_times``: evidence times as pydantic's
        JSON text instead of datetimes (for writing JSON at once; the model reads either).
        """
        if not 0.0 < prior < 1.0:
            raise ValueError(f"prior must be strictly between 0 and 1 (got {prior})")
        if signals is None:
            signals = extract_signals(case)
        coverage = _coverage(case)
        cache = _RefCache(json_times=json_times)
        contributions = self._model_contributions(signals, _missing_families(coverage), cache)
        rules, floors, ceilings = self._apply_rules(signals, cache)
        log_odds = logit(prior) + sum(map(_WEIGHT, contributions)) + sum(r["weight"] or 0.0 for r in rules)
        log_odds, bound_rules = self._bound(log_odds, floors, ceilings)
        probability = sigmoid(log_odds)
        payments, attributable, disputed = self._attribute(case, signals, log_odds)
        contributions = _largest_first(contributions)
        all_rules = sorted(rules, key=lambda r: -abs(r["weight"] or 0.0)) + bound_rules
        return {
            "case_id": case.case_id,
            "probability": round(probability, 6),
            "band": band_for(probability),
            "log_odds": round(log_odds, 6),
            "prior": prior,
            "contributions": contributions,
            "rules": all_rules,
            "findings": self._findings(signals, cache),
            "recharges": payments,
            "attributable_amount_cny": round(float(attributable), 2),
            "disputed_amount_cny": round(float(disputed), 2),  # sum([]) is the int 0
            "coverage": coverage,
            "warnings": self._warnings(case, signals, coverage),
            "model": self.model_info.model_dump(),
            "rulebook": {"version": self.rulebook.version},
            "top_reasons": _top_reasons(contributions, all_rules),
        }

    def _model_contributions(self, signals: CaseSignals, missing: frozenset[str],
                             cache: _RefCache) -> list[dict[str, Any]]:
        card = self.scorecard
        if card is None:
            return []
        features = signals.features
        nan = math.nan
        # Each value as the model reads it (numpy's float conversion: None is missing).
        values = [nan if spec.source in missing or (value := features.get(spec.name)) is None else float(value)
                  for spec in self._model_features]
        if all(v != v for v in values):  # NaN != NaN
            return []  # no behavioural or chat evidence at all: the model has nothing to say
        out = [{"id": "model.baseline", "source": "model", "weight": round(float(card.base), 6),
                "summary": "Model baseline (calibration offset against the prior)",
                "summary_zh": "模型基线（相对先验的校准偏移）", "evidence": []}]
        evidence = signals.evidence
        cited: dict[tuple[tuple[str, ...], Direction], list[dict[str, Any]]] = {}
        for spec, value in zip(self._model_features, values, strict=True):
            if value != value:
                continue  # missing: falls in no bin, contributes nothing
            bin_ = spec.bins[bisect_left(spec.edges, value)]
            if bin_ is None:
                continue  # a zero weight
            weight, direction = bin_
            label = spec.label
            shown, shown_zh = _shown_value(spec, value)
            out.append({
                "id": spec.name,
                "source": spec.source,
                "weight": weight,
                "summary": f"{label.label_en}: {shown}",
                "summary_zh": f"{label.label_zh}：{shown_zh}",
                "evidence": _cited(cited, label.evidence, direction, evidence, cache) if label.evidence else [],
            })
        return out

    def _apply_rules(self, signals: CaseSignals, cache: _RefCache):
        applied: list[dict[str, Any]] = []
        floors: list[tuple[float, dict[str, Any]]] = []
        ceilings: list[tuple[float, dict[str, Any]]] = []
        for rule in self.rulebook.rules:
            if not all(c.holds(signals.features, signals.evidence) for c in rule.when):
                continue
            items = [item for c in rule.when if c.evidence for item in signals.evidence.get(c.evidence, ())]
            entry = {
                "id": rule.id, "effect": rule.effect, "weight": rule.weight if rule.effect == "weight" else None,
                "bound": rule.bound, "applied": True, "summary": _fill(rule.summary_en, items),
                "summary_zh": _fill(rule.summary_zh, items), "basis": rule.basis, "evidence": cache.refs(items),
            }
            if rule.effect == "weight":
                applied.append(entry)
            elif rule.effect == "floor":
                floors.append((rule.bound, entry))  # type: ignore[arg-type]
            else:
                ceilings.append((rule.bound, entry))  # type: ignore[arg-type]
        return applied, floors, ceilings

    @staticmethod
    def _bound(log_odds: float, floors, ceilings) -> tuple[float, list[dict[str, Any]]]:
        """Apply the strongest floor and the weakest ceiling; report whether each changed the result.

        A floor and a ceiling that contradict each other cancel out: determinative facts that
        disagree are for the mediator to weigh, not for the arithmetic.
        """
        reported: list[dict[str, Any]] = []
        floor = max(floors, key=lambda f: f[0], default=None)
        ceiling = min(ceilings, key=lambda c: c[0], default=None)
        if floor and ceiling and floor[0] > ceiling[0]:
            for _, entry in (*floors, *ceilings):
                reported.append({**entry, "applied": False})
            return log_odds, reported
        for bounds, pick, is_floor in ((floors, floor, True), (ceilings, ceiling, False)):
            for bound, entry in bounds:
                limit = logit(bound)
                binds = entry is pick[1] and (log_odds < limit if is_floor else log_odds > limit)
                if binds:
                    log_odds = limit
                reported.append({**entry, "applied": binds})
        return log_odds, reported

    def _attribute(self, case: Case, signals: CaseSignals, log_odds: float):
        """Per-payment probability: the case's log-odds shifted by how each payment differs from the rest.

        Shifts are the rulebook's per-payment weights, centred on the amount-weighted mean
        of the disputed payments, so a case whose payments all look alike gives each the
        case probability; in a mixed-use case the weekday-night monthly card and the
        vacation-afternoon burst part ways.
        """
        success = RechargeStatus.success
        keys = [payment.id if payment.id not in (None, "") else str(index)
                for index, payment in enumerate(case.recharges)]
        shifts = payment_shifts([f"recharges/{key}" for key in keys], signals.per_payment,
                                list(self.rulebook.attribution.items()))
        rows = []
        for key, payment, shift in zip(keys, case.recharges, shifts, strict=True):
            is_cny = payment.currency == "CNY"
            counts = payment.status == success and is_cny
            amount = float(payment.amount) if is_cny else None
            rows.append((key, payment, counts and payment.disputed, amount, shift))
        disputed_rows = [r for r in rows if r[2]]
        total = sum(r[3] for r in disputed_rows)
        if total > 0:
            centre = sum(r[3] * r[4] for r in disputed_rows) / total
        else:
            centre = sum(r[4] for r in disputed_rows) / len(disputed_rows) if disputed_rows else 0.0
        out: list[dict[str, Any]] = []
        attributable = Decimal(0)
        # Payments that look alike share a shift, hence a probability: work each out once per case.
        by_shift: dict[float, list[Any]] = {}
        for key, payment, disputed, amount, shift in rows:
            known = by_shift.get(shift)
            if known is None:
                known = by_shift[shift] = [round(sigmoid(log_odds + shift - centre), 6), None]
            out.append({"id": key, "minor_probability": known[0], "amount_cny": amount, "disputed": disputed})
            if disputed:
                if known[1] is None:
                    known[1] = Decimal(str(known[0]))  # the rounded probability, exactly as written
                attributable += payment.amount * known[1]
        return out, float(min(attributable, Decimal(str(total)))), total

    def _findings(self, signals: CaseSignals, cache: _RefCache) -> list[dict[str, Any]]:
        texts = self._finding_texts
        out = []
        for item in signals.findings:
            text = texts.get(item.code)
            out.append({
                "id": item.code, "summary": item.summary_en, "summary_zh": item.summary_zh,
                "basis": item.basis or (text.basis if text else None),
                "amount_cny": None if item.amount_cny is None else round(float(item.amount_cny), 2),
                "evidence": [cache.ref(r) for r in item.records[:MAX_RECORDS_PER_REASON]],
            })
        return out

    def _warnings(self, case: Case, signals: CaseSignals, coverage: dict[str, bool]) -> list[str]:
        warnings = list(dict.fromkeys(signals.warnings))
        missing = []
        for family, cov_field in FAMILY_OF_COVERAGE.items():
            if not coverage[cov_field]:
                swing = self._swing_by_family.get(family, 0.0) if self.scorecard else 0.0
                missing.append((swing, cov_field))
        for swing, cov_field in sorted(missing, reverse=True):
            what = MISSING_TEXT[cov_field]
            if swing > 0:
                warnings.append(f"{what} (could move the log-odds by up to {swing:.1f}; ask the operator for them)")
            else:
                warnings.append(what)
        if not case.recharges:
            warnings.append("no recharges in the case: nothing to attribute")
        return warnings


MISSING_TEXT = {
    "chats": "chat logs were not supplied",
    "sessions": "login sessions were not supplied",
    "recharges": "recharge records were not supplied",
    "real_name": "the account's real-name registration was not supplied",
    "face_checks": "no face-check records were supplied",
}


def _top_reasons(contributions: list[dict[str, Any]], rules: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """At most four principal reasons on each side, like credit-decision 'principal reasons'."""
    reasons = [c for c in contributions if c["source"] != "model"]
    reasons += [r for r in rules if r["effect"] == "weight" and r["weight"]]
    # Largest weight first, ties in the order given (a reverse sort keeps ties in order); NaN is on neither side.
    minor = sorted([r for r in reasons if r["weight"] > 0], key=_WEIGHT, reverse=True)[:TOP_REASONS]
    adult = sorted([r for r in reasons if r["weight"] < 0], key=_WEIGHT)[:TOP_REASONS]
    return {"minor": [_reason(r) for r in minor], "adult": [_reason(r) for r in adult]}


def _reason(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": entry["id"], "weight": round(entry["weight"], 3), "summary": entry["summary"],
            "summary_zh": entry["summary_zh"]}


_WEIGHT = itemgetter("weight")


def _largest_first(contributions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contributions by absolute weight, largest first, ties in the order given.

    The same stable sort as ``sort(key=lambda c: -abs(c["weight"]))``, with the keys worked
    out by C-level maps rather than a Python call per contribution.
    """
    keys = list(map(neg, map(abs, map(_WEIGHT, contributions))))
    return list(map(contributions.__getitem__, sorted(range(len(keys)), key=keys.__getitem__)))


FAMILY_ZH = {"chat": "聊天", "recharge": "充值", "sessions": "登录", "real_name": "实名", "face_check": "人脸识别"}


def _fallback_label(name: str) -> FeatureLabel:
    """A readable label for a feature the catalog doesn't name yet; its evidence code shares the stem."""
    family, _, rest = name.partition(".")
    words = rest.replace("_", " ")
    return FeatureLabel(f"{family.replace('_', ' ').capitalize()}: {words}",
                        f"{FAMILY_ZH.get(family, family)}：{words}", (name,))


def payment_shifts(records: list[str], tables: list[PaymentValues], weights: list[tuple[str, float]]) -> list[float]:
    """Each payment's log-odds shift: the attribution weights times the payment's values, term by
    term in the rulebook's order (``records``: the payments' keys; ``tables``: the extractors'
    per-payment values, in the order given, a later one's value winning as a dict update would)."""
    # A zero signal adds nothing to a shift that starts at +0.0, so it is skipped; unless a
    # weight is infinite or NaN (inf * 0 is NaN), which only the full sum gets right.
    skip_zeros = all(math.isfinite(w) for _, w in weights)
    tables = tables[::-1]
    columns = [(w, [(k, column) for k, table in enumerate(tables) if (column := table.column(name)) is not None])
               for name, w in weights]
    single = all(len(found) <= 1 for _, found in columns)  # as when every extractor gives its own names
    flat = [(w, found[0][0] if found else -1, found[0][1] if found else ()) for w, found in columns]
    positions = [list(map(table.index.get, records)) for table in tables]  # per table: each record's place
    shifts = []
    for j in range(len(records)):
        at = [places[j] for places in positions]
        if single and skip_zeros:  # the same sum, term by term in the rulebook's order, as below
            shift = 0.0
            for w, k, column in flat:
                if k >= 0:
                    i = at[k]
                    if i is not None:
                        value = column[i]
                        if value:  # (none, or a zero, adds nothing)
                            shift += w * float(value)
            shifts.append(shift)
            continue
        values = []
        for w, found in columns:  # the payment's value of each weight's name, 0.0 when none gives one
            value = 0.0
            for k, column in found:
                i = at[k]
                if i is not None and column[i] is not None:
                    value = column[i]
                    break
            values.append((w, value))
        if skip_zeros:
            shift = 0.0
            for w, value in values:
                if value != 0:
                    shift += w * float(value)
        else:
            shift = sum([w * float(value) for w, value in values])
        shifts.append(shift)
    return shifts


def _fill(template: str, items: list[EvidenceItem]) -> str:
    """Rule summaries may say {value} (e.g. a stated age) and {n} (how many records)."""
    values = [i.value for i in items if i.value is not None]
    n = sum(len(i.records) for i in items)
    try:
        return template.format(value=values[0] if values else "", n=n)
    except (KeyError, IndexError, ValueError):
        return template


def _zero_reads_none(name: str) -> bool:
    return "count" in name or name.startswith(("chat.n_", "recharge.n_", "sessions.n_"))


def _as_percent(name: str) -> bool:
    return "share" in name or "rate" in name


def _shown_value(spec: _ModelFeature, value: float) -> tuple[str, str]:
    """The feature's value as read out (en, zh); a zero count reads "none found" (its absence is the reason)."""
    if value == 0 and spec.zero_reads_none:
        return "none found", "未发现"
    if spec.as_percent:
        shown = f"{value:.0%}"
    elif value.is_integer():
        shown = f"{int(value)}"
    else:
        shown = f"{value:.2f}"
    return shown, shown


def _cited(cited: dict, codes: tuple[str, ...], direction: Direction, evidence: dict[str, list[EvidenceItem]],
           cache: _RefCache) -> list[dict[str, Any]]:
    """The records behind evidence ``codes`` pointing in ``direction``, worked out once per case:
    a feature's count and its rate cite the same records."""
    key = (codes, direction)
    refs = cited.get(key)
    if refs is None:
        items = [item for code in codes for item in evidence.get(code, ())]
        refs = cited[key] = cache.refs(items, direction) if items else []
    return list(refs)  # each contribution its own list: callers may edit the data


@cache
def default_engine() -> Engine:
    """The shipped model and rulebook; without a shipped model, rules and coverage only."""
    if not shipped_model_path().is_file():
        return Engine(None, load_rulebook(), ModelInfo(name="none"))
    card, sha = load_model(None)
    info = ModelInfo(name="default", version=str(card.metadata.get("version", "")) or None, sha256=sha)
    return Engine(card, load_rulebook(), info)


def assess(case: Case | dict | str | Path, *, prior: float = 0.5, model: str | Path | None = None,
           trust_model: bool = False) -> Assessment:
    """Assess one case (a Case, a dict in the case format, or a path to a case file).

    >>> from assessor import assess
    >>> a = assess({"case_id": "demo"})
    >>> a.band.value, a.coverage.recharges
    ('inconclusive', False)
    """
    engine = Engine.load(model, trust_model=trust_model)
    return engine.assess(_as_case(case), prior=prior)


def assess_many(cases: Iterable[Case | dict], *, prior: float = 0.5, model: str | Path | None = None,
                trust_model: bool = False) -> Iterator[Assessment]:
    """Assess many cases lazily (a generator); the same engine as :func:`assess`."""
    engine = Engine.load(model, trust_model=trust_model)
    for case in cases:
        yield engine.assess(_as_case(case), prior=prior)


def _as_case(case: Case | dict | str | Path) -> Case:
    if isinstance(case, Case):
        return case
    if isinstance(case, dict):
        return Case.model_validate(case)
    from assessor.io import load_cases

    cases = list(load_cases(case))
    if len(cases) != 1:
        raise ValueError(f"{case} holds {len(cases)} cases; use assess_many for several")
    return cases[0]
