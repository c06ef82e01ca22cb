"""What the report says, as plain masked text: one place decides what a reader may see.

Everything personal is masked here (ID numbers, payer accounts, phone numbers in free text),
so the HTML and Markdown writers only lay out and escape. Text is *not* escaped here: each
writer escapes for its own format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from assessor import __version__
from assessor.calendar import SchoolCalendar
from assessor.idcard import age_at, parse_id
from assessor.privacy import mask_account, mask_id, scrub
from assessor.report.text import (
    CHANNEL,
    COVERAGE,
    DAY_KIND,
    HOLDER,
    PAYMENT_STATUS,
    RELATION,
    SOURCE,
    STATUS,
    TEXT,
    VACATION,
)
from assessor.schema import (
    BAND_NAMES_EN,
    BAND_NAMES_ZH,
    Assessment,
    Case,
    EvidenceRef,
    RechargeStatus,
)

MAX_QUOTES_PER_REASON = 5
MAX_STATEMENT_CHARS = 400

# Off only when the user asks (``assessor report --no-redact``); see :func:`unredacted`.
_REDACT: ContextVar[bool] = ContextVar("assessor_report_redact", default=True)
_UNMASKED_FOOTER = {
    "zh": "应用户要求（--no-redact），本报告未遮蔽身份证号、电话号码和付款账户：请按个人信息保护的要求保管。",
    "en": "At the user's request (--no-redact) ID numbers, phone numbers and payer accounts are shown in full: "
          "keep this report as personal information.",
}
_MASKED_MARKS = ("（已遮蔽）", "，已遮蔽号码", " (masked)", " (numbers masked)")


@contextmanager
def unredacted() -> Iterator[None]:
    """Reports built inside this block show ID numbers, phone numbers and payer accounts in full."""
    token = _REDACT.set(False)
    try:
        yield
    finally:
        _REDACT.reset(token)


def _masked(mask: Callable[[str | None], str | None], value: str | None) -> str:
    """``mask(value)``, or the value itself when the user asked for no redaction."""
    return (mask(value) if _REDACT.get() else value) or ""


def _label(t: dict[str, str], key: str) -> str:
    """A summary label; without redaction it no longer says "(masked)"."""
    label = t[key]
    if not _REDACT.get():
        for mark in _MASKED_MARKS:
            label = label.replace(mark, "")
    return label


@dataclass(frozen=True)
class Quote:
    record: str
    at: str | None
    excerpt: str | None


@dataclass(frozen=True)
class ReasonView:
    id: str
    weight: float
    summary: str
    quotes: list[Quote]
    more_records: int


@dataclass(frozen=True)
class FindingView:
    id: str
    summary: str
    amount: str | None
    basis: str | None
    quotes: list[Quote]
    more_records: int


@dataclass(frozen=True)
class PaymentRow:
    key: str
    time: str
    day: str
    amount: str
    item: str
    channel: str
    payer: str
    status: str
    disputed: bool
    probability: float | None
    attributable: str


@dataclass(frozen=True)
class ItemView:
    """One scored item of the appendix: a contribution or a rule."""

    id: str
    source: str
    weight: str
    summary: str
    records: str


@dataclass(frozen=True)
class CoverageView:
    family: str
    label: str
    supplied: bool
    ask_for: str


@dataclass
class ReportFacts:
    lang: str
    case_id: str
    generated: str
    summary: list[tuple[str, str]]
    probability: float
    band: str
    band_key: str
    band_names: tuple[str, str]
    meaning: str
    not_meaning: list[str]
    prior_line: str
    bound_lines: list[str]
    attributable: str
    disputed: str
    reasons_minor: list[ReasonView]
    reasons_adult: list[ReasonView]
    findings: list[FindingView]
    payments: list[PaymentRow]
    coverage: list[CoverageView]
    warnings: list[str]
    items: list[ItemView]
    footer: list[str] = field(default_factory=list)


def money(value: float | Decimal | None, currency: str = "CNY") -> str:
    if value is None:
        return ""
    text = f"{float(value):,.2f}"
    return f"¥{text}" if currency == "CNY" else f"{text} {currency}"


def percent(p: float) -> str:
    """Probabilities near 0 or 1 keep a decimal so 99.3% is not shown as a certain 100%."""
    pct = p * 100
    if 1 <= pct <= 99:
        return f"{pct:.0f}%"
    return f"{pct:.1f}%"


def local_time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else None


def _text(value: str | None) -> str:
    """Free text from the case: ID and phone numbers masked."""
    return _masked(scrub, value)


def _quote(ref: EvidenceRef) -> Quote:
    return Quote(record=_text(ref.record), at=local_time(ref.at), excerpt=_text(ref.excerpt) if ref.excerpt else None)


def _quotes(refs: list[EvidenceRef]) -> tuple[list[Quote], int]:
    # Quoted excerpts first: they are what a reader can check at a glance.
    ordered = sorted(refs, key=lambda r: r.excerpt is None)
    shown = ordered[:MAX_QUOTES_PER_REASON]
    return [_quote(r) for r in shown], len(refs) - len(shown)


def _summary(item, lang: str) -> str:
    return _text(item.summary_zh if lang == "zh" and getattr(item, "summary_zh", None) else item.summary)


def _age_text(birth: date | None, moments: list[datetime], lang: str) -> str:
    t = TEXT[lang]
    if birth is None or not moments:
        return t["unknown"]
    ages = []
    for moment in (min(moments), max(moments)):
        try:
            ages.append(age_at(birth, moment))
        except ValueError:  # payment before the birth date: the claim is inconsistent
            return t["unknown"]
    low, high = min(ages), max(ages)
    return t["age_years"].format(age=low) if low == high else t["age_range"].format(low=low, high=high)


def _birth(number: str | None, birth_date: date | None, reference: datetime | None) -> date | None:
    parsed = parse_id(number, birth_date=birth_date, reference=reference) if number else None
    if parsed is not None and parsed.birth_date is not None:
        return parsed.birth_date
    return birth_date


def _payment_moments(case: Case) -> list[datetime]:
    disputed = [r.at for r in case.recharges if r.disputed]
    return disputed or [r.at for r in case.recharges]


def case_summary(case: Case, assessment: Assessment, lang: str) -> list[tuple[str, str]]:
    t = TEXT[lang]
    rows: list[tuple[str, str]] = [(t["case_id"], _text(case.case_id))]
    account = case.account
    if account is not None:
        platform_game = " / ".join(_text(x) for x in (account.platform, account.game) if x)
        rows.append((t["platform_game"], platform_game or t["unknown"]))
        if account.account_id:
            rows.append((t["account"], _masked(mask_account, account.account_id)))
    moments = _payment_moments(case)
    reference = max(moments) if moments else None
    real = account.real_name if account is not None else None
    if real is not None:
        rows.append((t["real_name"], STATUS[lang][real.status.value]))
        rows.append((t["holder"], HOLDER[lang][real.holder.value]))
        if real.id_number:
            rows.append((_label(t, "holder_id"), _masked(mask_id, real.id_number)))
        holder_birth = _birth(real.id_number, real.birth_date, reference)
        if holder_birth is not None:
            rows.append((t["holder_age"], _age_text(holder_birth, moments, lang)))
    claim = case.claim
    if claim is not None:
        if claim.relation is not None:
            rows.append((t["claim_relation"], RELATION[lang][claim.relation.value]))
        minor_birth = _birth(claim.minor_id_number, claim.minor_birth_date, reference)
        rows.append((t["minor_age"], _age_text(minor_birth, moments, lang)))
        if claim.minor_id_number:
            rows.append((_label(t, "minor_id"), _masked(mask_id, claim.minor_id_number)))
        if claim.guardian_id_number:
            rows.append((_label(t, "guardian_id"), _masked(mask_id, claim.guardian_id_number)))
        if claim.statement:
            statement = _text(claim.statement)
            if len(statement) > MAX_STATEMENT_CHARS:
                statement = statement[: MAX_STATEMENT_CHARS - 1] + "…"
            rows.append((_label(t, "statement"), statement))
    rows.append((t["records"], t["records_value"].format(
        recharges=len(case.recharges), disputed=sum(1 for r in case.recharges if r.disputed),
        sessions=len(case.sessions), chats=len(case.chats),
        face_checks=len(account.face_checks) if account is not None else 0, traces=len(case.login_traces))))
    if case.recharges:
        first = min(r.at for r in case.recharges)
        last = max(r.at for r in case.recharges)
        rows.append((t["payment_range"], f"{local_time(first)} — {local_time(last)}"))
    rows.append((t["amounts"], t["amounts_value"].format(
        disputed=f"{assessment.disputed_amount_cny:,.2f}", attributable=f"{assessment.attributable_amount_cny:,.2f}")))
    return rows


def day_label(calendar: SchoolCalendar, moment: datetime, lang: str) -> str:
    """How the payment day counts for a pupil: school day, weekend, holiday, vacation, closure."""
    kinds = DAY_KIND[lang]
    info = calendar.day(moment.date())
    if info.closure:
        label = f"{kinds['closure']} ({info.closure})"
    elif info.is_statutory_holiday:
        label = kinds["holiday"] + (f" ({info.holiday_name})" if lang == "en" and info.holiday_name else "")
    elif info.vacation:
        label = VACATION[lang].get(info.vacation, f"{kinds['vacation']} ({info.vacation})")
    elif info.is_working_weekend:
        label = kinds["working_weekend"]
    elif info.is_weekend:
        label = kinds["weekend"]
    elif info.is_school_day:
        label = kinds["school"]
    else:
        label = kinds["weekend"]
    if info.is_school_day and calendar.is_school_hours(moment):
        label += " · " + kinds["school_hours"]
    return label


def payment_rows(case: Case, assessment: Assessment, lang: str, calendar: SchoolCalendar) -> list[PaymentRow]:
    """The case's payments in time order, joined to their attribution (same key rule as the engine)."""
    attribution = {r.id: r for r in assessment.recharges}
    rows = []
    keyed = [(r.id if r.id not in (None, "") else str(i), r) for i, r in enumerate(case.recharges)]
    for key, payment in sorted(keyed, key=lambda kr: kr[1].at):
        scored = attribution.get(key)
        p = scored.minor_probability if scored is not None else None
        counts = payment.status == RechargeStatus.success and payment.currency == "CNY" and payment.disputed
        rows.append(PaymentRow(
            key=_text(key),
            time=local_time(payment.at) or "",
            day=day_label(calendar, payment.at, lang),
            amount=money(payment.amount, payment.currency),
            item=_text(payment.item),
            channel=CHANNEL[lang][payment.channel.value] if payment.channel else "",
            payer=_masked(lambda payer: mask_account(scrub(payer)), payment.payer),
            status=PAYMENT_STATUS[lang][payment.status.value],
            disputed=payment.disputed,
            probability=p,
            attributable=money(payment.amount * Decimal(str(p))) if counts and p is not None else "",
        ))
    return rows


def _reasons(assessment: Assessment, side: str, lang: str) -> list[ReasonView]:
    by_id = {c.id: c for c in assessment.contributions} | {r.id: r for r in assessment.rules}
    out = []
    for reason in getattr(assessment.top_reasons, side):
        source = by_id.get(reason.id)
        quotes, more = _quotes(source.evidence) if source is not None else ([], 0)
        out.append(ReasonView(id=reason.id, weight=reason.weight, summary=_summary(reason, lang),
                              quotes=quotes, more_records=more))
    return out


def _items(assessment: Assessment, lang: str) -> list[ItemView]:
    def records(refs: list[EvidenceRef]) -> str:
        shown = ", ".join(_text(r.record) for r in refs[:6])
        return shown + (f" (+{len(refs) - 6})" if len(refs) > 6 else "")

    items = [ItemView(id=c.id, source=SOURCE[lang].get(c.source, c.source), weight=f"{c.weight:+.3f}",
                      summary=_summary(c, lang), records=records(c.evidence)) for c in assessment.contributions]
    for rule in assessment.rules:
        if rule.effect == "weight":
            weight = f"{rule.weight:+.3f}"
        elif rule.effect in ("floor", "ceiling"):
            weight = f"{TEXT[lang][rule.effect]} {rule.bound:g}" + (" ✓" if rule.applied else "")
        else:
            weight = ""
        items.append(ItemView(id=rule.id, source=SOURCE[lang]["rule"], weight=weight,
                              summary=_summary(rule, lang), records=records(rule.evidence)))
    return items


def build_facts(case: Case, assessment: Assessment, lang: str = "zh", *,
                calendar: SchoolCalendar | None = None, generated: datetime | None = None) -> ReportFacts:
    """Everything the report shows, masked (unless built inside :func:`unredacted`), in ``lang`` (``zh`` or ``en``)."""
    from assessor.report.text import BAND_MEANING, NOT_MEANING

    if lang not in TEXT:
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    t = TEXT[lang]
    calendar = calendar or SchoolCalendar.default()
    generated = generated or datetime.now().astimezone()
    band_zh, band_en = BAND_NAMES_ZH[assessment.band], BAND_NAMES_EN[assessment.band]
    bound_lines = [
        t["bound_line"].format(rule=_summary(r, lang), kind=t[r.effect], bound=percent(r.bound or 0.0),
                               applied=t["bound_applied"] if r.applied else t["bound_not_applied"])
        for r in assessment.rules if r.effect in ("floor", "ceiling")
    ]
    findings = []
    for finding in assessment.findings:
        quotes, more = _quotes(finding.evidence)
        findings.append(FindingView(id=finding.id, summary=_summary(finding, lang),
                                    amount=money(finding.amount_cny) if finding.amount_cny is not None else None,
                                    basis=_text(finding.basis) or None, quotes=quotes, more_records=more))
    coverage = [CoverageView(family=name, label=COVERAGE[lang][name][0],
                             supplied=bool(getattr(assessment.coverage, name)), ask_for=COVERAGE[lang][name][1])
                for name in ("real_name", "recharges", "sessions", "chats", "face_checks")]
    model = assessment.model
    footer = [
        t["footer_model"].format(name=model.name, version=model.version or "-", sha=(model.sha256 or "-")[:12],
                                 rulebook=assessment.rulebook.version or "-", assessor=__version__),
        t["footer_honesty"],
        t["footer_privacy"] if _REDACT.get() else _UNMASKED_FOOTER[lang],
    ]
    return ReportFacts(
        lang=lang,
        case_id=_text(assessment.case_id),
        generated=generated.strftime("%Y-%m-%d %H:%M %Z").strip(),
        summary=case_summary(case, assessment, lang),
        probability=assessment.probability,
        band=band_zh if lang == "zh" else band_en,
        band_key=assessment.band.value,
        band_names=(band_zh, band_en),
        meaning=BAND_MEANING[lang][assessment.band],
        not_meaning=list(NOT_MEANING[lang]),
        prior_line=t["prior_line"].format(prior=percent(assessment.prior), log_odds=f"{assessment.log_odds:+.2f}"),
        bound_lines=bound_lines,
        attributable=money(assessment.attributable_amount_cny),
        disputed=money(assessment.disputed_amount_cny),
        reasons_minor=_reasons(assessment, "minor", lang),
        reasons_adult=_reasons(assessment, "adult", lang),
        findings=findings,
        payments=payment_rows(case, assessment, lang, calendar),
        coverage=coverage,
        warnings=[_text(w) for w in assessment.warnings],
        items=_items(assessment, lang),
        footer=footer,
    )
