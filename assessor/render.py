"""Show an assessment to a person: a rich table on a terminal, Markdown, or JSON.

Rendering knows nothing of scoring: it reads an :class:`~assessor.schema.Assessment`.
"""

from __future__ import annotations

import json
from typing import TextIO

from assessor.schema import BAND_NAMES_EN, BAND_NAMES_ZH, Assessment

TEXT = {
    "zh": {
        "title": "案件 {case_id}：付款人为未成年人的可能性",
        "probability": "可能性", "band": "结论", "prior": "先验", "log_odds": "对数几率",
        "for_minor": "支持“未成年人付款”的理由", "for_adult": "支持“成年人付款”的理由",
        "findings": "监管事实（与可能性无关）", "attributable": "可归因于未成年人的金额",
        "disputed": "争议金额", "missing": "缺少的证据与提示", "records": "记录",
        "none": "无", "note": "本评估是调解参考证据，不是法律裁决。",
    },
    "en": {
        "title": "Case {case_id}: likelihood the payer was a minor",
        "probability": "Probability", "band": "Band", "prior": "Prior", "log_odds": "Log-odds",
        "for_minor": "Reasons pointing to a minor", "for_adult": "Reasons pointing to an adult",
        "findings": "Regulatory findings (whatever the probability)", "attributable": "Attributable to the minor",
        "disputed": "Disputed amount", "missing": "Missing evidence and warnings", "records": "records",
        "none": "none", "note": "This assessment is evidence for mediation, not a legal ruling.",
    },
}


def band_name(assessment: Assessment, lang: str) -> str:
    zh, en = BAND_NAMES_ZH[assessment.band], BAND_NAMES_EN[assessment.band]
    return f"{zh} ({en})" if lang == "zh" else f"{en} ({zh})"


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
            lines.append(f"{reason.weight:+.2f}  {summary}" + (f"  [{records}]" if records else ""))
        sides.append(lines)
    return sides[0], sides[1]


def to_markdown(assessment: Assessment, lang: str = "zh") -> str:
    t = TEXT[lang]
    minor, adult = reason_lines(assessment, lang)
    out = [
        f"## {t['title'].format(case_id=assessment.case_id)}",
        "",
        f"- **{t['probability']}**: {assessment.probability:.0%}",
        f"- **{t['band']}**: {band_name(assessment, lang)}",
        f"- **{t['prior']}** / **{t['log_odds']}**: {assessment.prior:g} / {assessment.log_odds:+.2f}",
        f"- **{t['attributable']}**: ¥{assessment.attributable_amount_cny:,.2f} / "
        f"{t['disputed']} ¥{assessment.disputed_amount_cny:,.2f}",
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
        out.append(f"- {summary}{amount} — {finding.basis or ''}")
    if not assessment.findings:
        out.append(f"- {t['none']}")
    out += ["", f"### {t['missing']}", *([f"- {w}" for w in assessment.warnings] or [f"- {t['none']}"]),
            "", f"_{t['note']}_", ""]
    return "\n".join(out)


def render_table(assessment: Assessment, lang: str, out: TextIO) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = TEXT[lang]
    console = Console(file=out)
    minor, adult = reason_lines(assessment, lang)
    console.print(f"[bold]{t['title'].format(case_id=assessment.case_id)}[/bold]")
    console.print(f"{t['probability']}: [bold]{assessment.probability:.0%}[/bold]   "
                  f"{t['band']}: [bold]{band_name(assessment, lang)}[/bold]   "
                  f"{t['prior']}: {assessment.prior:g}")
    console.print(f"{t['attributable']}: ¥{assessment.attributable_amount_cny:,.2f} / "
                  f"{t['disputed']}: ¥{assessment.disputed_amount_cny:,.2f}")
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
            table.add_row(escape(f"{summary}{amount}"))
        console.print(table)
    if assessment.warnings:
        console.print(f"[bold]{t['missing']}[/bold]")
        for warning in assessment.warnings:
            console.print(f"  - {escape(warning)}")
    console.print(f"[dim]{t['note']}[/dim]")


def render_assessment(assessment: Assessment, *, format: str = "json", lang: str = "zh",
                      out: TextIO) -> None:
    if format == "json":
        out.write(json.dumps(assessment.model_dump(mode="json"), ensure_ascii=False) + "\n")
    elif format == "markdown":
        out.write(to_markdown(assessment, lang))
    else:
        render_table(assessment, lang, out)
