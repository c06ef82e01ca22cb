"""The mediation report: the document a mediator attaches to the file, as HTML or Markdown.

It shows a case and its assessment: the masked case summary, the verdict and what it does and
does not mean, the reasons with the records they quote, the regulatory findings with their
legal basis, every payment with its attribution, the missing evidence, and (HTML) three charts
drawn as inline SVG, so the file stands alone. The report renders an Assessment; it does no
scoring of its own.

>>> from assessor import assess, load_cases
>>> from assessor.report import render_report
>>> case = next(load_cases("sample_data/cases/03_adult_work_family.json"))
>>> text = render_report(case, assess(case), format="markdown", lang="en")
>>> "not a legal ruling" in text
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assessor.calendar import SchoolCalendar
from assessor.report.facts import ReportFacts, build_facts
from assessor.report.text import TEXT
from assessor.schema import Assessment, Case

__all__ = ["FORMATS", "ReportFacts", "ReportResult", "build_facts", "format_for_path", "render_report",
           "write_report"]

FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


@dataclass(frozen=True)
class ReportResult:
    """What was written, and anything the reader of the command line should know."""

    path: Path | None
    format: str
    charts: bool
    notes: tuple[str, ...] = ()


def format_for_path(path: str | os.PathLike[str]) -> str:
    """``html`` or ``markdown`` from the file name; ``ValueError`` for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"the report file must end in .html or .md, not {suffix or 'no extension'!r}: {path}")
    return FORMATS[suffix]


def _render(case: Case, assessment: Assessment, format: str, lang: str, charts: bool,
            generated: datetime | None) -> tuple[str, bool, tuple[str, ...]]:
    if format not in ("html", "markdown"):
        raise ValueError(f"format must be 'html' or 'markdown', not {format!r}")
    calendar = SchoolCalendar.default()
    facts = build_facts(case, assessment, lang, calendar=calendar, generated=generated)
    if format == "markdown":
        from assessor.report.markdown import render_markdown

        return render_markdown(facts), False, ()
    from assessor.report.charts import ChartsUnavailable, draw_charts
    from assessor.report.html import render_html

    if not charts:
        return render_html(facts, None), False, ()
    try:
        drawn = draw_charts(case, assessment, lang, calendar)
    except ChartsUnavailable:
        note = TEXT[lang]["charts_unavailable"]
        return render_html(facts, None, charts_note=note), False, (note,)
    notes = tuple(f"chart {name} failed: {error}" for name, error in drawn.errors.items())
    return render_html(facts, drawn), True, notes


def render_report(case: Case, assessment: Assessment, *, format: str = "html", lang: str = "zh",
                  charts: bool = True, generated: datetime | None = None) -> str:
    """The report as text: ``format`` ``html`` (with charts when matplotlib is installed) or ``markdown``."""
    return _render(case, assessment, format, lang, charts, generated)[0]


def write_report(case: Case, assessment: Assessment, path: str | os.PathLike[str], *, lang: str = "zh",
                 charts: bool = True, generated: datetime | None = None) -> ReportResult:
    """Write the report to ``path``; the format follows the extension (.html/.htm or .md/.markdown)."""
    path = Path(path)
    format = format_for_path(path)
    text, drawn, notes = _render(case, assessment, format, lang, charts, generated)
    path.write_text(text, encoding="utf-8")
    return ReportResult(path=path, format=format, charts=drawn, notes=notes)
