"""The mediation report as Markdown: the same sections as the HTML, charts left out with a note.

Text from the case is escaped so that a Markdown viewer shows it as written: HTML tags become
entities (many viewers would otherwise run them) and Markdown punctuation is backslashed.
"""

from __future__ import annotations

import re

from assessor.report.facts import Quote, ReportFacts, percent
from assessor.report.text import TEXT

# Characters that change meaning inline or in a table cell; case text never starts a line.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def md(text: object) -> str:
    """Escape text for Markdown (inline and table cells)."""
    value = "" if text is None else str(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return " ".join(value.split())  # a newline would end a table row or a list item


def _quotes(quotes: list[Quote], more: int, t: dict[str, str]) -> list[str]:
    lines = []
    for quote in quotes:
        where = md(quote.record) + (f" · {md(quote.at)}" if quote.at else "")
        lines.append(f"  - {where}" + (f": “{md(quote.excerpt)}”" if quote.excerpt else ""))
    if more:
        lines.append(f"  - {md(t['more_records'].format(n=more))}")
    return lines


def render_markdown(facts: ReportFacts, *, charts_note: str | None = None) -> str:
    t = TEXT[facts.lang]
    out = [
        f"# {md(t['title'])}",
        "",
        f"{md(t['subtitle'].format(case_id=facts.case_id))} · {md(t['generated'])} {md(facts.generated)}",
        "",
        f"## {md(t['summary'])}",
        "",
        "| | |",
        "|---|---|",
        *[f"| {md(k)} | {md(v)} |" for k, v in facts.summary],
        "",
        f"## {md(t['verdict'])}",
        "",
        f"**{md(t['verdict_line'])} {md(percent(facts.probability))}** · "
        f"**{md(t['band'])}: {md(facts.band_names[0])} ({md(facts.band_names[1])})**",
        "",
        f"### {md(t['what_it_means'])}",
        "",
        md(facts.meaning),
        "",
        md(facts.prior_line),
        *[f"\n{md(line)}" for line in facts.bound_lines],
        "",
        f"### {md(t['what_it_does_not_mean'])}",
        "",
        *[f"- {md(line)}" for line in facts.not_meaning],
        "",
        f"## {md(t['reasons'])}",
    ]
    for title, reasons in ((t["for_minor"], facts.reasons_minor), (t["for_adult"], facts.reasons_adult)):
        out += ["", f"### {md(title)}", ""]
        if not reasons:
            out.append(f"- {md(t['no_reasons'])}")
        for reason in reasons:
            out.append(f"- **{reason.weight:+.2f}** {md(reason.summary)}")
            out += _quotes(reason.quotes, reason.more_records, t)
    out += ["", f"_{md(charts_note or t['charts_note'])}_", "", f"## {md(t['findings'])}", "",
            md(t["findings_note"]), ""]
    if not facts.findings:
        out.append(md(t["no_findings"]))
    for finding in facts.findings:
        amount = f" **{md(finding.amount)}**" if finding.amount else ""
        out.append(f"- {md(finding.summary)}{amount}")
        if finding.basis:
            out.append(f"  - {md(t['basis'])}: {md(finding.basis)}")
        out += _quotes(finding.quotes, finding.more_records, t)
    out += ["", f"## {md(t['payments'])}", "", md(t["payments_note"]), ""]
    if facts.payments:
        columns = ("col_time", "col_day", "col_id", "col_amount", "col_item", "col_channel", "col_payer",
                   "col_status", "col_disputed", "col_probability", "col_attributable")
        out.append("| " + " | ".join(md(t[c]) for c in columns) + " |")
        out.append("|" + "|".join("---:" if c in ("col_amount", "col_probability", "col_attributable") else "---"
                                  for c in columns) + "|")
        for p in facts.payments:
            cells = (p.time, p.day, p.key, p.amount, p.item, p.channel, p.payer, p.status,
                     t["yes"] if p.disputed else t["no"],
                     percent(p.probability) if p.probability is not None else "", p.attributable)
            out.append("| " + " | ".join(md(c) for c in cells) + " |")
    else:
        out.append(md(t["no_payments"]))
    out += ["", f"## {md(t['missing'])}", ""]
    for c in facts.coverage:
        state = t["coverage_ok"] if c.supplied else t["coverage_missing"]
        ask = "" if c.supplied else f" — {md(t['ask_for'])}: {md(c.ask_for)}"
        out.append(f"- {md(c.label)}: **{md(state)}**{ask}")
    if facts.warnings:
        out += ["", f"### {md(t['engine_notes'])}", "", *[f"- {md(w)}" for w in facts.warnings]]
    out += ["", f"## {md(t['appendix'])}", "", md(t["appendix_note"]), "",
            f"| {md(t['col_item_id'])} | {md(t['col_source'])} | {md(t['weight'])} | {md(t['col_summary'])} "
            f"| {md(t['col_evidence'])} |",
            "|---|---|---:|---|---|",
            *[f"| {md(i.id)} | {md(i.source)} | {md(i.weight)} | {md(i.summary)} | {md(i.records)} |"
              for i in facts.items],
            "", "---", "", *[f"_{md(line)}_  " for line in facts.footer], ""]
    return "\n".join(out)
