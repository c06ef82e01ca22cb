"""The report's three charts, drawn with matplotlib and returned as inline SVG text.

matplotlib is imported only when a chart is drawn (never when the CLI starts) and always with
the non-interactive Agg machinery. Text is drawn as paths, so the SVG shows the same glyphs on
any machine without fonts. Chinese labels need a CJK font on the machine that draws the chart;
without one the charts are labelled in English, and Chinese stays in the report's text.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from assessor.calendar import SchoolCalendar, TimeBand
from assessor.privacy import scrub
from assessor.report.text import CHART, WEEKDAYS
from assessor.schema import BAND_INCONCLUSIVE_ABOVE, BAND_THRESHOLDS, Assessment, Band, Case, RechargeStatus

# Families known to carry CJK glyphs, most readable first; any of them will do.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Sarasa Gothic SC", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB",
    "Heiti SC", "SimHei", "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN", "Noto Serif CJK SC",
)
_CJK_FILE = re.compile(r"(cjk|wqy|wenquanyi|sourcehan|simhei|msyh|yahei|pingfang|droidsansfallback|uming|ukai)",
                       re.IGNORECASE)
_NOT_LATIN = re.compile(r"[^\x00-\u024f\u2000-\u206f\u20a0-\u20bf]+")

MINOR_RED = "#c0392b"
ADULT_BLUE = "#2e6da4"
TOTAL_GREY = "#6b6b6b"
DAY_COLOURS = {
    "school": "#ffffff", "weekend": "#e4e4e4", "holiday": "#f5c2c2", "vacation": "#cfe8c8", "closure": "#ddd0ee",
}
SCHOOL_HOURS_COLOUR = "#fde3c2"
WATERFALL_ITEMS = 12


class ChartsUnavailable(RuntimeError):
    """matplotlib is not installed: the report is written without charts."""


@dataclass(frozen=True)
class Charts:
    waterfall: str | None
    calendar: str | None
    heatmap: str | None
    errors: dict[str, str]


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise ChartsUnavailable("matplotlib is not installed") from None
    matplotlib.use("Agg", force=False)  # no display: never open a window
    return matplotlib


@cache
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs that matplotlib can use, or None."""
    _matplotlib()
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    # matplotlib's font cache may predate a font installed later: look at the files themselves.
    for path in font_manager.findSystemFonts():
        if _CJK_FILE.search(path):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):
                continue
    return None


def chart_lang(lang: str) -> str:
    return lang if lang == "en" or cjk_font() else "en"


def _label(text: str, lang: str) -> str:
    """Case text on a chart: masked, and stripped of glyphs the chart font cannot draw."""
    text = scrub(text) or ""
    if lang == "en" and not cjk_font():
        text = _NOT_LATIN.sub("…", text)
    return text.replace("$", r"\$")  # '$' would start matplotlib mathtext


def _short(text: str, limit: int = 44) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def _style(lang: str) -> Iterator[Any]:
    matplotlib = _matplotlib()
    import matplotlib.pyplot as plt

    family = ["DejaVu Sans"] + ([cjk_font()] if cjk_font() else [])
    rc = {
        "font.family": family, "font.size": 9, "axes.titlesize": 10, "svg.fonttype": "path",
        "svg.hashsalt": "assessor-report", "axes.unicode_minus": False, "axes.spines.top": False,
        "axes.spines.right": False, "figure.dpi": 100,
    }
    with matplotlib.rc_context(rc):
        yield plt


def _svg(fig, prefix: str) -> str:
    """The figure as inline SVG: no XML prolog, no comments, ids unique to this chart."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    # Several charts share one page: keep each chart's ids (glyphs, clip paths) to itself.
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    if ids:
        pattern = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
                             + r')(?=["\)])')
        text = pattern.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    text = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1', text, count=1)
    return text.replace("<svg ", f'<svg role="img" class="chart" aria-label="{prefix}" ', 1)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


# --------------------------------------------------------------------------- waterfall


def waterfall_steps(assessment: Assessment, lang: str, limit: int = WATERFALL_ITEMS) -> list[tuple[str, float]]:
    """(label, log-odds step) from the prior to the result; the steps add up to ``log_odds``.

    The largest items by size are shown one by one, the rest together; a floor or ceiling
    rule that binds appears as its own step, so the bars always end at the reported log-odds.
    """
    labels = CHART[lang]
    items = [(c.summary_zh if lang == "zh" and c.summary_zh else c.summary, c.weight)
             for c in assessment.contributions]
    items += [(r.summary_zh if lang == "zh" and r.summary_zh else r.summary, r.weight or 0.0)
              for r in assessment.rules if r.effect == "weight" and r.weight]
    items = [(text, w) for text, w in items if abs(w) > 1e-9]
    items.sort(key=lambda tw: -abs(tw[1]))
    shown, rest = items[:limit], items[limit:]
    steps = [(_short(_label(text, lang)), w) for text, w in shown]
    if rest:
        steps.append((labels["others"].format(n=len(rest)), sum(w for _, w in rest)))
    start = _logit(assessment.prior)
    gap = assessment.log_odds - (start + sum(w for _, w in steps))
    if abs(gap) > 1e-3:
        bound = next((r for r in assessment.rules if r.effect in ("floor", "ceiling") and r.applied), None)
        name = (bound.summary_zh if lang == "zh" and bound.summary_zh else bound.summary) if bound else labels["bound"]
        steps.append((_short(_label(name, lang)), gap))
    return steps


def waterfall(assessment: Assessment, lang: str) -> str:
    lang = chart_lang(lang)
    labels = CHART[lang]
    steps = waterfall_steps(assessment, lang)
    start = _logit(assessment.prior)
    with _style(lang) as plt:
        rows = len(steps) + 2
        fig, ax = plt.subplots(figsize=(9.5, 0.34 * rows + 1.6))
        names = [labels["prior"].format(p=f"{assessment.prior:.0%}")]
        lefts, widths, colours = [0.0], [start], [TOTAL_GREY]
        level = start
        for name, w in steps:
            names.append(name)
            lefts.append(level)
            widths.append(w)
            colours.append(MINOR_RED if w > 0 else ADULT_BLUE)
            level += w
        names.append(labels["final"].format(p=f"{assessment.probability:.1%}"))
        lefts.append(0.0)
        widths.append(assessment.log_odds)
        colours.append(TOTAL_GREY)
        y = list(range(rows))
        values = [0.0, start, assessment.log_odds] + [left + width for left, width in zip(lefts, widths, strict=True)]
        lo, hi = min(values + [-3.0]) - 0.6, max(values + [3.0]) + 0.6
        _band_background(ax, lo, hi, labels, label_y=-1.0)
        ax.barh(y, widths, left=lefts, color=colours, height=0.6, zorder=3)
        for yi, left, width in zip(y, lefts, widths, strict=True):
            end = left + width
            ax.text(end + (0.06 if width >= 0 else -0.06), yi, f"{width:+.2f}", va="center",
                    ha="left" if width >= 0 else "right", fontsize=7.5, zorder=4)
        for yi in range(rows - 1):  # connectors between steps
            level_after = lefts[yi] + widths[yi] if yi else start
            ax.plot([level_after, level_after], [yi + 0.3, yi + 0.7], color="#999999", lw=0.7, zorder=2)
        ax.set_yticks(y, names)
        ax.set_ylim(rows - 0.5, -1.5)  # top to bottom, with a spare row for the band names
        ax.set_xlim(lo, hi)
        ax.axvline(0, color="#444444", lw=0.8, zorder=2)
        ax.set_xlabel(labels["log_odds"])
        top = ax.secondary_xaxis("top", functions=(lambda x: x, lambda x: x))
        ticks = [p for p in (0.01, 0.05, 0.2, 0.35, 0.5, 0.65, 0.85, 0.95, 0.99) if lo <= _logit(p) <= hi]
        top.set_xticks([_logit(p) for p in ticks], [f"{p:.0%}" for p in ticks])
        top.set_xlabel(labels["probability"])
        fig.tight_layout()
        return _svg(fig, "waterfall")


def _band_background(ax, lo: float, hi: float, labels: dict, label_y: float) -> None:
    edges = [lo, _logit(BAND_INCONCLUSIVE_ABOVE), _logit(BAND_THRESHOLDS[Band.likely]),
             _logit(BAND_THRESHOLDS[Band.strong]), hi]
    shades = ["#e3edf7", "#f3f3f3", "#fbeee6", "#f7dcdc"]
    for (left, right), shade, name in zip(zip(edges, edges[1:], strict=False), shades, labels["bands"], strict=True):
        if right <= lo or left >= hi:
            continue
        ax.axvspan(max(left, lo), min(right, hi), color=shade, zorder=0, lw=0)
        ax.text((max(left, lo) + min(right, hi)) / 2, label_y, name, ha="center", va="center", fontsize=7.5,
                color="#666666", clip_on=True)


# --------------------------------------------------------------------------- calendar strip


def _day_kind(calendar: SchoolCalendar, d: date) -> str:
    info = calendar.day(d)
    if info.closure:
        return "closure"
    if info.is_statutory_holiday:
        return "holiday"
    if info.vacation:
        return "vacation"
    if info.is_school_day:
        return "school"
    return "weekend"


def _runs(days: list[date], key) -> list[tuple[date, date, str]]:
    """Consecutive days with the same key as (first, last, key)."""
    runs: list[tuple[date, date, str]] = []
    for d in days:
        k = key(d)
        if runs and runs[-1][2] == k:
            runs[-1] = (runs[-1][0], d, k)
        else:
            runs.append((d, d, k))
    return runs


def _hours(moment: datetime) -> float:
    return moment.hour + moment.minute / 60 + moment.second / 3600


def _session_pieces(case: Case) -> Iterator[tuple[date, float, float]]:
    """Each session as (day, start hour, end hour), split at midnight."""
    for session in case.sessions:
        if session.end is None:
            continue
        start, end = session.start, session.end  # the case has put both in its own timezone
        while start < end:
            midnight = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), tzinfo=start.tzinfo)
            piece_end = min(end, midnight)
            yield start.date(), _hours(start), 24.0 if piece_end == midnight else _hours(piece_end)
            start = piece_end


def calendar_strip(case: Case, assessment: Assessment, lang: str, calendar: SchoolCalendar) -> str:
    lang = chart_lang(lang)
    labels = CHART[lang]
    with _style(lang) as plt:
        from matplotlib.colors import Normalize
        from matplotlib.patches import Patch

        fig, ax = plt.subplots(figsize=(10, 3.6))
        if not case.recharges:
            ax.text(0.5, 0.5, labels["no_payments"], ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _svg(fig, "calendar")
        import matplotlib.dates as mdates

        first = min(r.at for r in case.recharges).date() - timedelta(days=2)
        last = max(r.at for r in case.recharges).date() + timedelta(days=2)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        for start, end, kind in _runs(days, lambda d: _day_kind(calendar, d)):
            ax.axvspan(mdates.date2num(start), mdates.date2num(end + timedelta(days=1)), color=DAY_COLOURS[kind],
                       lw=0, zorder=0)
        school_start, school_end = (m / 60 for m in calendar.data.bands[TimeBand.school_hours])
        for start, end, kind in _runs(days, lambda d: _day_kind(calendar, d)):
            if kind == "school":
                ax.fill_between([mdates.date2num(start), mdates.date2num(end + timedelta(days=1))],
                                school_start, school_end, color=SCHOOL_HOURS_COLOUR, lw=0, zorder=1)
        for day, top, bottom in _session_pieces(case):
            if first <= day <= last:
                x = mdates.date2num(day) + 0.5
                ax.plot([x, x], [top, bottom], color="#8a8a8a", lw=2.2, alpha=0.55, zorder=2,
                        solid_capstyle="butt")
        probability = {r.id: r.minor_probability for r in assessment.recharges}
        xs, ys, sizes, colours, hollow = [], [], [], [], []
        for index, payment in enumerate(case.recharges):
            key = payment.id if payment.id not in (None, "") else str(index)
            x = mdates.date2num(payment.at.date()) + 0.5  # the day's column; the hour is on the y axis
            size = 14 + 5 * math.sqrt(float(payment.amount))
            if payment.status != RechargeStatus.success or not payment.disputed:
                hollow.append((x, _hours(payment.at), size))
                continue
            xs.append(x)
            ys.append(_hours(payment.at))
            sizes.append(size)
            colours.append(probability.get(key, assessment.probability))
        norm = Normalize(0, 1)
        points = ax.scatter(xs, ys, s=sizes, c=colours, cmap="coolwarm", norm=norm, edgecolors="#222222",
                            linewidths=0.5, zorder=4)
        if hollow:
            hx, hy, hs = zip(*hollow, strict=True)
            ax.scatter(hx, hy, s=hs, facecolors="none", edgecolors="#222222", linewidths=0.8, zorder=4)
        colourbar = fig.colorbar(points, ax=ax, pad=0.01, fraction=0.03)
        colourbar.set_label(labels["minor_p"])
        ax.set_ylim(24.6, -0.6)
        ax.set_yticks(range(0, 25, 3))
        ax.set_ylabel(labels["hour"])
        ax.set_xlim(mdates.date2num(first), mdates.date2num(last + timedelta(days=1)))
        locator = mdates.AutoDateLocator(minticks=4, maxticks=12)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        ax.tick_params(axis="x", labelsize=7.5)
        legend = [Patch(facecolor=DAY_COLOURS[k], edgecolor="#bbbbbb", label=labels[k])
                  for k in ("school", "weekend", "holiday", "vacation", "closure")]
        legend.append(Patch(facecolor=SCHOOL_HOURS_COLOUR, label=labels["school_hours"]))
        legend.append(Patch(facecolor="#8a8a8a", alpha=0.55, label=labels["session"]))
        ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=7, fontsize=7.5,
                  frameon=False)
        fig.tight_layout()
        return _svg(fig, "calendar")


# --------------------------------------------------------------------------- heatmap


def hour_weekday_counts(case: Case) -> tuple[list[list[float]], list[list[float]]]:
    """Payments (count) and time online (hours) per weekday (rows, Monday first) and hour (columns)."""
    payments = [[0.0] * 24 for _ in range(7)]
    for payment in case.recharges:
        payments[payment.at.weekday()][payment.at.hour] += 1
    online = [[0.0] * 24 for _ in range(7)]
    for day, top, bottom in _session_pieces(case):
        hour = top
        while hour < bottom:
            slot = int(hour)
            step = min(bottom, slot + 1) - hour
            online[day.weekday()][slot] += step
            hour += step
    return payments, online


def heatmap(case: Case, calendar: SchoolCalendar, lang: str) -> str:
    lang = chart_lang(lang)
    labels = CHART[lang]
    payments, online = hour_weekday_counts(case)
    school_start, school_end = (m / 60 for m in calendar.data.bands[TimeBand.school_hours])
    with _style(lang) as plt:
        from matplotlib.patches import Rectangle

        fig, axes = plt.subplots(1, 2, figsize=(10, 2.9), sharey=True)
        for ax, grid, title, cmap in ((axes[0], payments, labels["payments_heat"], "Reds"),
                                      (axes[1], online, labels["sessions_heat"], "Blues")):
            peak = max(max(row) for row in grid) or 1.0
            image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=peak, extent=(0, 24, 6.5, -0.5))
            ax.add_patch(Rectangle((school_start, -0.5), school_end - school_start, 5, fill=False,
                                   edgecolor="#e08a1e", lw=1.2, ls="--"))
            ax.set_title(title)
            ax.set_xticks(range(0, 25, 3))
            ax.set_xlabel(labels["hour"])
            ax.spines[["top", "right"]].set_visible(True)
            fig.colorbar(image, ax=ax, pad=0.01, fraction=0.05)
            if grid is payments:
                for row in range(7):
                    for col in range(24):
                        if grid[row][col]:
                            ax.text(col + 0.5, row, f"{grid[row][col]:.0f}", ha="center", va="center",
                                    fontsize=6.5, color="white" if grid[row][col] > peak / 2 else "#333333")
        axes[0].set_yticks(range(7), WEEKDAYS[lang])
        fig.tight_layout()
        return _svg(fig, "heatmap")


def draw_charts(case: Case, assessment: Assessment, lang: str, calendar: SchoolCalendar | None = None) -> Charts:
    """All three charts; one that fails is reported by name instead of stopping the report.

    Raises :class:`ChartsUnavailable` when matplotlib is not installed.
    """
    _matplotlib()
    calendar = calendar or SchoolCalendar.default()
    drawn: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for name, draw in (("waterfall", lambda: waterfall(assessment, lang)),
                       ("calendar", lambda: calendar_strip(case, assessment, lang, calendar)),
                       ("heatmap", lambda: heatmap(case, calendar, lang))):
        try:
            drawn[name] = draw()
        except Exception as exc:  # noqa: BLE001 - a chart must not cost the mediator the whole report
            drawn[name] = None
            errors[name] = f"{type(exc).__name__}: {exc}"
    return Charts(waterfall=drawn["waterfall"], calendar=drawn["calendar"], heatmap=drawn["heatmap"],
                  errors=errors)
