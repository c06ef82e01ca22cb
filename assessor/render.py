"""Show an assessment to a person: a rich table on a terminal, Markdown, or JSON.

Rendering knows nothing of scoring: it reads an :class:`~assessor.schema.Assessment`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TextIO

from assessor.io.errors import printable
from assessor.privacy import mask_account, mask_id, scrub
from assessor.schema import BAND_NAMES_EN, BAND_NAMES_ZH, Assessment, Case

TEXT = {
    "zh": {
        "title": "案件 {case_id}：付款人为未成年人的可能性",
        "probability": "可能性", "band": "结论", "prior": "先验", "log_odds": "对数几率",
        "for_minor": "支持“未成年人付款”的理由", "for_adult": "支持“成年人付款”的理由",
        "findings": "监管事实（与可能性无关）", "attributable": "可归因于未成年人的金额",
        "disputed": "争议金额", "missing": "缺少的证据与提示", "records": "记录",
        "none": "无", "note": "本评估是调解参考证据，不是法律裁决。", "families": "各类证据（对数几率）",
    },
    "en": {
        "title": "Case {case_id}: likelihood the payer was a minor",
        "probability": "Probability", "band": "Band", "prior": "Prior", "log_odds": "Log-odds",
        "for_minor": "Reasons pointing to a minor", "for_adult": "Reasons pointing to an adult",
        "findings": "Regulatory findings (whatever the probability)", "attributable": "Attributable to the minor",
        "disputed": "Disputed amount", "missing": "Missing evidence and warnings", "records": "records",
        "none": "none", "note": "This assessment is evidence for mediation, not a legal ruling.",
        "families": "By evidence family (log-odds)",
    },
}


def family_line(assessment: Assessment, lang: str) -> str:
    """"chat evidence +1.30 · recharge behaviour +0.23 · …", the model's baseline left out."""
    parts = [f.summary_zh if lang == "zh" else f.summary for f in assessment.families if f.family != "model"]
    return " · ".join(parts) or TEXT[lang]["none"]


def band_name(assessment: Assessment, lang: str) -> str:
    zh, en = BAND_NAMES_ZH[assessment.band], BAND_NAMES_EN[assessment.band]
    return f"{zh} ({en})" if lang == "zh" else f"{en} ({zh})"


def shown_case_id(assessment: Assessment, redact: bool = True) -> str:
    """The case id as printed: ID and phone numbers masked (unless ``redact`` is off), controls escaped."""
    return printable((scrub(assessment.case_id) if redact else assessment.case_id) or "")


def reason_lines(assessment: Assessment, lang: str) -> tuple[list[str], list[str]]:
    """One line per principal reason, with the records it rests on."""
    by_id = {c.id: c for c in assessment.contributions} | {r.id: r for r in assessment.rules}
    sides = []
    for reasons in (assessment.top_reasons.minor, assessment.top_reasons.adult):
        lines = []
        for reason in reasons:
            summary = reason.summary_zh if lang == "zh" and reason.summary_zh else reason.summary
            source = by_id.get(reason.id)
            records = ", ".join(e.record for e in source.evidence[:4]) if source else ""
            lines.append(printable(f"{reason.weight:+.2f}  {summary}" + (f"  [{records}]" if records else "")))
        sides.append(lines)
    return sides[0], sides[1]


def to_markdown(assessment: Assessment, lang: str = "zh", *, redact: bool = True) -> str:
    t = TEXT[lang]
    minor, adult = reason_lines(assessment, lang)
    out = [
        f"## {t['title'].format(case_id=shown_case_id(assessment, redact))}",
        "",
        f"- **{t['probability']}**: {assessment.probability:.0%}",
        f"- **{t['band']}**: {band_name(assessment, lang)}",
        f"- **{t['prior']}** / **{t['log_odds']}**: {assessment.prior:g} / {assessment.log_odds:+.2f}",
        f"- **{t['attributable']}**: ¥{assessment.attributable_amount_cny:,.2f} / "
        f"{t['disputed']} ¥{assessment.disputed_amount_cny:,.2f}",
        f"- **{t['families']}**: {family_line(assessment, lang)}",
        "",
        f"### {t['for_minor']}",
        *([f"- {line}" for line in minor] or [f"- {t['none']}"]),
        "",
        f"### {t['for_adult']}",
        *([f"- {line}" for line in adult] or [f"- {t['none']}"]),
        "",
        f"### {t['findings']}",
    ]
    for finding in assessment.findings or []:
        summary = finding.summary_zh if lang == "zh" and finding.summary_zh else finding.summary
        amount = f" (¥{finding.amount_cny:,.2f})" if finding.amount_cny is not None else ""
        out.append(printable(f"- {summary}{amount} — {finding.basis or ''}"))
    if not assessment.findings:
        out.append(f"- {t['none']}")
    out += ["", f"### {t['missing']}", *([f"- {printable(w)}" for w in assessment.warnings] or [f"- {t['none']}"]),
            "", f"_{t['note']}_", ""]
    return "\n".join(out)


def render_table(assessment: Assessment, lang: str, out: TextIO, *, redact: bool = True) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = TEXT[lang]
    console = Console(file=out)
    minor, adult = reason_lines(assessment, lang)
    console.print(f"[bold]{escape(t['title'].format(case_id=shown_case_id(assessment, redact)))}[/bold]")
    console.print(f"{t['probability']}: [bold]{assessment.probability:.0%}[/bold]   "
                  f"{t['band']}: [bold]{band_name(assessment, lang)}[/bold]   "
                  f"{t['prior']}: {assessment.prior:g}")
    console.print(f"{t['attributable']}: ¥{assessment.attributable_amount_cny:,.2f} / "
                  f"{t['disputed']}: ¥{assessment.disputed_amount_cny:,.2f}")
    console.print(escape(f"{t['families']}: {family_line(assessment, lang)}"))
    for title, lines in ((t["for_minor"], minor), (t["for_adult"], adult)):
        table = Table(title=title, show_header=False, expand=False)
        table.add_column("")
        for line in lines or [t["none"]]:
            table.add_row(escape(line))
        console.print(table)
    if assessment.findings:
        table = Table(title=t["findings"], show_header=False)
        table.add_column("")
        for finding in assessment.findings:
            summary = finding.summary_zh if lang == "zh" and finding.summary_zh else finding.summary
            amount = f" ¥{finding.amount_cny:,.2f}" if finding.amount_cny is not None else ""
            table.add_row(escape(printable(f"{summary}{amount}")))
        console.print(table)
    if assessment.warnings:
        console.print(f"[bold]{t['missing']}[/bold]")
        for warning in assessment.warnings:
            console.print(f"  - {escape(printable(warning))}")
    console.print(f"[dim]{t['note']}[/dim]")


def render_assessment(assessment: Assessment, *, format: str = "json", lang: str = "zh",
                      out: TextIO, redact: bool = True) -> None:
    """Write one assessment. ``redact=False`` (``--no-redact``) leaves the case id unmasked; pass an
    assessment from :func:`reveal` to show the case's ID and phone numbers in full as well."""
    if format == "json":
        data = assessment.model_dump(mode="json")
        if redact:
            data["case_id"] = scrub(data["case_id"])  # as `assessor batch` writes it
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
    elif format == "markdown":
        out.write(to_markdown(assessment, lang, redact=redact))
    else:
        render_table(assessment, lang, out, redact=redact)


# --------------------------------------------------------------------------- --no-redact

_ID_FIELDS = (("claim", "minor_id_number"), ("claim", "guardian_id_number"), ("account", "real_name", "id_number"))


def unmasker(case: Case) -> Callable[[str], str]:
    """A function putting back, in any text, the case's personal numbers where they show masked.

    Masking happens where text is made (the engine masks chat excerpts and ID numbers in its
    summaries); ``--no-redact`` undoes it afterwards from the case itself, so no other code path
    needs to know about it. A masked form that could stand for two different values stays masked.
    """
    data = case.model_dump(mode="json")
    originals: dict[str, set[str]] = {}

    def add(masked: str | None, original: str | None) -> None:
        if masked and original and masked != original and len(masked.replace("*", "")) >= 2:
            originals.setdefault(masked, set()).add(original)

    for text in _strings(data):
        for masked, original in _masked_numbers(text):
            add(masked, original)
    for path in _ID_FIELDS:
        value = _get(data, path)
        if isinstance(value, str):
            add(mask_id(value), value)
    account_id = _get(data, ("account", "account_id"))
    if isinstance(account_id, str):
        add(mask_account(account_id), account_id)
    for payment in data.get("recharges") or []:
        payer = payment.get("payer")
        if isinstance(payer, str):
            add(mask_account(scrub(payer)), payer)
            add(mask_account(payer), payer)
    table = {masked: next(iter(found)) for masked, found in originals.items() if len(found) == 1}
    if not table:
        return lambda text: text
    pattern = re.compile("|".join(map(re.escape, sorted(table, key=len, reverse=True))))
    return lambda text: pattern.sub(lambda m: table[m.group()], text)


def reveal(assessment: Assessment, case: Case) -> Assessment:
    """The assessment with the case's ID numbers, phone numbers and payer accounts shown in full."""
    unmask = unmasker(case)
    return Assessment.model_validate(_map_strings(assessment.model_dump(mode="json"), unmask))


def _masked_numbers(text: str) -> list[tuple[str, str]]:
    """(masked, original) for each number :func:`~assessor.privacy.scrub` masks in ``text``."""
    masked = scrub(text) or ""
    if masked == text or len(masked) != len(text):  # scrub keeps lengths: position i is character i
        return []
    found = []
    i = 0
    while i < len(text):
        if masked[i] == text[i]:
            i += 1
            continue
        start, end = i, i
        while start > 0 and text[start - 1] in _NUMBER_CHARS:
            start -= 1
        while end < len(text) and text[end] in _NUMBER_CHARS:
            end += 1
        found.append((masked[start:end], text[start:end]))
        i = end
    return found


_NUMBER_CHARS = frozenset("0123456789Xx")


def _strings(value: Any) -> list[str]:
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, change) for item in value]
    return value


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node
