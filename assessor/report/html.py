"""The mediation report as one standalone HTML file (inline CSS, inline SVG charts, no script).

Every piece of text from the case goes through :func:`e` (HTML escaping): chat excerpts and
statements are written by the parties and may hold markup.
"""

from __future__ import annotations

from html import escape

from assessor.report.charts import Charts
from assessor.report.facts import FindingView, Quote, ReasonView, ReportFacts, percent
from assessor.report.text import TEXT

CSS = """
:root { --minor: #c0392b; --adult: #2e6da4; --ink: #1f2328; --muted: #5f6670; --line: #d9dde3; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: var(--ink);
  font: 14px/1.55 "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC",
  "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 36px 40px; background: #fff; }
header { border-bottom: 3px solid var(--ink); padding-bottom: 10px; margin-bottom: 18px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 26px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 14px 0 6px; }
.meta { color: var(--muted); font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
table.summary th { width: 28%; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.verdict { display: flex; gap: 22px; align-items: center; padding: 14px 18px; border-radius: 6px;
  border: 1px solid var(--line); background: #fafbfc; }
.probability { font-size: 40px; font-weight: 700; line-height: 1; }
.band { display: inline-block; padding: 3px 12px; border-radius: 14px; color: #fff; font-weight: 600;
  font-size: 16px; }
.band-strong { background: #b03a2e; } .band-likely { background: #d9822b; }
.band-inconclusive { background: #7d8590; } .band-unlikely { background: #2e6da4; }
.reasons { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.reasons h3.minor { color: var(--minor); } .reasons h3.adult { color: var(--adult); }
.reason { border-left: 4px solid var(--line); padding: 4px 10px; margin: 0 0 10px; }
.reason.minor { border-color: var(--minor); } .reason.adult { border-color: var(--adult); }
.weight { font-variant-numeric: tabular-nums; font-weight: 600; margin-right: 6px; }
blockquote { margin: 4px 0 0; padding: 2px 8px; background: #f6f7f9; border-radius: 4px; font-size: 12.5px; }
blockquote .ref { color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; }
figure { margin: 14px 0; } figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
svg.chart { width: 100%; height: auto; display: block; }
.missing { color: var(--minor); font-weight: 600; } .supplied { color: #2d7a3e; }
.note { color: var(--muted); font-size: 12.5px; }
ul.not-meaning li { margin-bottom: 3px; }
details summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
footer { margin-top: 28px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted);
  font-size: 12px; }
tr.not-disputed td { color: var(--muted); }
@media print { body { background: #fff; } main { padding: 0; max-width: none; }
  details { display: block; } .reasons { grid-template-columns: 1fr 1fr; } h2 { break-after: avoid; }
  figure, tr, .reason { break-inside: avoid; } }
"""


def e(text: object) -> str:
    """Escape text for HTML element content and attribute values alike."""
    return escape("" if text is None else str(text), quote=True)


def _quotes(quotes: list[Quote], more: int, t: dict[str, str]) -> str:
    parts = []
    for quote in quotes:
        ref = e(quote.record) + (f" · {e(quote.at)}" if quote.at else "")
        excerpt = f"<div>“{e(quote.excerpt)}”</div>" if quote.excerpt else ""
        parts.append(f'<blockquote><div class="ref">{ref}</div>{excerpt}</blockquote>')
    if more:
        parts.append(f'<div class="note">{e(t["more_records"].format(n=more))}</div>')
    return "".join(parts)


def _reason(reason: ReasonView, side: str, t: dict[str, str]) -> str:
    return (f'<div class="reason {side}"><span class="weight">{reason.weight:+.2f}</span>{e(reason.summary)}'
            f'{_quotes(reason.quotes, reason.more_records, t)}</div>')


def _finding(finding: FindingView, t: dict[str, str]) -> str:
    amount = f' <strong>{e(finding.amount)}</strong>' if finding.amount else ""
    basis = f'<div class="note">{e(t["basis"])}: {e(finding.basis)}</div>' if finding.basis else ""
    return (f'<div class="reason minor"><div>{e(finding.summary)}{amount}</div>{basis}'
            f'{_quotes(finding.quotes, finding.more_records, t)}</div>')


def _figure(svg: str | None, caption: str, error: str | None, t: dict[str, str]) -> str:
    if svg is None:
        return f'<p class="note">{e(t["chart_failed"].format(error=error or "?"))}</p>'
    # The SVG comes from matplotlib (text drawn as paths, comments removed), not from the case.
    return f"<figure>{svg}<figcaption>{e(caption)}</figcaption></figure>"


def _payments(facts: ReportFacts, t: dict[str, str]) -> str:
    if not facts.payments:
        return f"<p>{e(t['no_payments'])}</p>"
    numeric = ("col_amount", "col_probability", "col_attributable")
    head = "".join(('<th class="num">' if k in numeric else "<th>") + f"{e(t[k])}</th>"
                   for k in ("col_time", "col_day", "col_id", "col_amount", "col_item", "col_channel", "col_payer",
                             "col_status", "col_disputed", "col_probability", "col_attributable"))
    rows = []
    for p in facts.payments:
        probability = percent(p.probability) if p.probability is not None else ""
        rows.append(
            f'<tr class="{"disputed" if p.disputed else "not-disputed"}"><td>{e(p.time)}</td><td>{e(p.day)}</td>'
            f"<td>{e(p.key)}</td><td class=\"num\">{e(p.amount)}</td><td>{e(p.item)}</td><td>{e(p.channel)}</td>"
            f"<td>{e(p.payer)}</td><td>{e(p.status)}</td><td>{e(t['yes'] if p.disputed else t['no'])}</td>"
            f'<td class="num">{e(probability)}</td><td class="num">{e(p.attributable)}</td></tr>')
    return f'<table class="payments"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_html(facts: ReportFacts, charts: Charts | None, *, charts_note: str | None = None) -> str:
    """The whole report page. ``charts`` None means they could not be drawn; ``charts_note`` says why."""
    t = TEXT[facts.lang]
    chart_error = (charts.errors if charts else {})

    def figure(name: str, caption_key: str) -> str:
        if charts is None:
            return ""
        return _figure(getattr(charts, name), t[caption_key], chart_error.get(name), t)

    summary_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts.summary)
    not_meaning = "".join(f"<li>{e(line)}</li>" for line in facts.not_meaning)
    bounds = "".join(f"<p class=\"note\">{e(line)}</p>" for line in facts.bound_lines)
    minor = "".join(_reason(r, "minor", t) for r in facts.reasons_minor) or f"<p>{e(t['no_reasons'])}</p>"
    adult = "".join(_reason(r, "adult", t) for r in facts.reasons_adult) or f"<p>{e(t['no_reasons'])}</p>"
    findings = "".join(_finding(f, t) for f in facts.findings) or f"<p>{e(t['no_findings'])}</p>"
    coverage = "".join(
        f'<tr><td>{e(c.label)}</td><td class="{"supplied" if c.supplied else "missing"}">'
        f'{e(t["coverage_ok"] if c.supplied else t["coverage_missing"])}</td>'
        f'<td>{"" if c.supplied else e(t["ask_for"] + ": " + c.ask_for)}</td></tr>'
        for c in facts.coverage)
    warnings = "".join(f"<li>{e(w)}</li>" for w in facts.warnings)
    items = "".join(
        f"<tr><td><code>{e(i.id)}</code></td><td>{e(i.source)}</td><td class=\"num\">{e(i.weight)}</td>"
        f"<td>{e(i.summary)}</td><td>{e(i.records)}</td></tr>" for i in facts.items)
    note = f'<p class="note">{e(charts_note)}</p>' if charts_note else ""
    band_title = f"{facts.band_names[0]} / {facts.band_names[1]}"
    html_lang = "zh-CN" if facts.lang == "zh" else "en"
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="assessor">
<title>{e(t["title"])} · {e(facts.case_id)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header>
<h1>{e(t["title"])}</h1>
<div class="meta">{e(t["subtitle"].format(case_id=facts.case_id))} · {e(t["generated"])} {e(facts.generated)}</div>
</header>

<section id="summary">
<h2>{e(t["summary"])}</h2>
<table class="summary"><tbody>{summary_rows}</tbody></table>
</section>

<section id="verdict">
<h2>{e(t["verdict"])}</h2>
<div class="verdict">
<div><div class="meta">{e(t["verdict_line"])}</div><div class="probability">{e(percent(facts.probability))}</div></div>
<div><div class="meta">{e(t["band"])}</div><span class="band band-{e(facts.band_key)}" title="{e(band_title)}">{e(facts.band)}</span>
<span class="meta">{e(facts.band_names[1] if facts.lang == "zh" else facts.band_names[0])}</span></div>
</div>
<h3>{e(t["what_it_means"])}</h3>
<p>{e(facts.meaning)}</p>
<p class="note">{e(facts.prior_line)}</p>
{bounds}
<h3>{e(t["what_it_does_not_mean"])}</h3>
<ul class="not-meaning">{not_meaning}</ul>
</section>

<section id="reasons">
<h2>{e(t["reasons"])}</h2>
<div class="reasons">
<div><h3 class="minor">{e(t["for_minor"])}</h3>{minor}</div>
<div><h3 class="adult">{e(t["for_adult"])}</h3>{adult}</div>
</div>
{note}
{figure("waterfall", "waterfall_caption")}
</section>

<section id="findings">
<h2>{e(t["findings"])}</h2>
<p class="note">{e(t["findings_note"])}</p>
{findings}
</section>

<section id="payments">
<h2>{e(t["payments"])}</h2>
<p class="note">{e(t["payments_note"])}</p>
{figure("calendar", "calendar_caption")}
{figure("heatmap", "heatmap_caption")}
{_payments(facts, t)}
</section>

<section id="missing">
<h2>{e(t["missing"])}</h2>
<table class="coverage"><tbody>{coverage}</tbody></table>
{f'<h3>{e(t["engine_notes"])}</h3><ul>{warnings}</ul>' if warnings else ""}
</section>

<section id="appendix">
<details>
<summary>{e(t["appendix"])}</summary>
<p class="note">{e(t["appendix_note"])}</p>
<table class="items"><thead><tr><th>{e(t["col_item_id"])}</th><th>{e(t["col_source"])}</th>
<th class="num">{e(t["weight"])}</th><th>{e(t["col_summary"])}</th><th>{e(t["col_evidence"])}</th></tr></thead>
<tbody>{items}</tbody></table>
</details>
</section>

<footer>{"".join(f"<p>{e(line)}</p>" for line in facts.footer)}</footer>
</main>
</body>
</html>
"""
