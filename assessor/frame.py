"""One row per case with the main figures: the batch CSV/XLSX row and the pandas view of assessments.

The row is what a reviewer sorts in a spreadsheet: the likelihood, the band, the amounts,
which findings and evidence families there are, and the principal reasons on each side as
text. The same columns serve ``assessor batch -o OUT.csv|.xlsx``, :meth:`Assessment.to_frame`
and :func:`assessments_to_frame`, so a developer's DataFrame and a reviewer's sheet agree.

pandas is imported only by the two frame functions: the batch writers use the rows alone.

>>> from assessor import assess
>>> from assessor.frame import assessments_to_frame
>>> frame = assessments_to_frame([assess({"case_id": "demo-1"}), assess({"case_id": "demo-2"})])
>>> list(frame["case_id"]), list(frame["band"])
(['demo-1', 'demo-2'], ['inconclusive', 'inconclusive'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from assessor.privacy import scrub
from assessor.schema import BAND_NAMES_EN, BAND_NAMES_ZH, Assessment, Reason

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

Lang = Literal["zh", "en"]
REASON_SEPARATOR = " | "


@dataclass(frozen=True)
class Column:
    key: str  # the English header, and the DataFrame column with lang="en"
    zh: str
    dtype: str  # pandas dtype of the frame column


COLUMNS: tuple[Column, ...] = (
    Column("case_id", "案件编号", "str"),
    Column("probability", "未成年人付款可能性", "float64"),
    Column("band", "结论代码", "str"),
    Column("band_zh", "结论", "str"),
    Column("band_en", "结论（英文）", "str"),
    Column("log_odds", "对数几率", "float64"),
    Column("prior", "先验", "float64"),
    Column("attributable_amount_cny", "可归因于未成年人的金额（元）", "float64"),
    Column("disputed_amount_cny", "争议金额（元）", "float64"),
    Column("findings_count", "监管事实数", "int64"),
    Column("finding_ids", "监管事实", "str"),
    Column("coverage_real_name", "有实名信息", "bool"),
    Column("coverage_chats", "有聊天记录", "bool"),
    Column("coverage_recharges", "有充值记录", "bool"),
    Column("coverage_sessions", "有登录记录", "bool"),
    Column("coverage_face_checks", "有人脸识别记录", "bool"),
    Column("reasons_minor", "指向未成年人付款的主要理由", "str"),
    Column("reasons_adult", "指向成年人付款的主要理由", "str"),
    Column("warnings_count", "提示数", "int64"),
)


def headers(lang: Lang = "en") -> list[str]:
    """Column headers in the reviewer's language; English headers are the field names."""
    return [c.zh if lang == "zh" else c.key for c in COLUMNS]


def summary_row(assessment: Assessment, lang: Lang = "en", *, redact: bool = True) -> list[Any]:
    """The main figures of one assessment, in :data:`COLUMNS` order; text masked (unless ``redact`` is off), not escaped."""
    coverage = assessment.coverage
    values = {
        "case_id": scrub(assessment.case_id) if redact else assessment.case_id,
        "probability": assessment.probability,
        "band": assessment.band.value,
        "band_zh": BAND_NAMES_ZH[assessment.band],
        "band_en": BAND_NAMES_EN[assessment.band],
        "log_odds": assessment.log_odds,
        "prior": assessment.prior,
        "attributable_amount_cny": assessment.attributable_amount_cny,
        "disputed_amount_cny": assessment.disputed_amount_cny,
        "findings_count": len(assessment.findings),
        "finding_ids": ", ".join(dict.fromkeys(f.id for f in assessment.findings)),
        "coverage_real_name": coverage.real_name,
        "coverage_chats": coverage.chats,
        "coverage_recharges": coverage.recharges,
        "coverage_sessions": coverage.sessions,
        "coverage_face_checks": coverage.face_checks,
        "reasons_minor": reasons_text(assessment.top_reasons.minor, lang, redact=redact),
        "reasons_adult": reasons_text(assessment.top_reasons.adult, lang, redact=redact),
        "warnings_count": len(assessment.warnings),
    }
    return [values[c.key] for c in COLUMNS]


def reasons_text(reasons: list[Reason], lang: Lang, *, redact: bool = True) -> str:
    """``该账号本人提到所在年级（五年级） (+1.20) | …``: summary first, so no cell starts with a sign."""
    parts = []
    for reason in reasons:
        summary = reason.summary_zh if lang == "zh" and reason.summary_zh else reason.summary
        parts.append(f"{scrub(summary) if redact else summary} ({reason.weight:+.2f})")
    return REASON_SEPARATOR.join(parts)


def assessments_to_frame(assessments: Iterable[Assessment], *, lang: Lang = "en") -> pd.DataFrame:
    """A pandas DataFrame with one row per assessment and the columns of the batch CSV.

    ``lang`` picks the headers and the language of the reason texts (``"en"``: the headers
    are the field names such as ``probability``). Values are the assessment's own, not
    escaped for spreadsheets: escape before handing text to Excel yourself, or use
    ``assessor batch -o OUT.xlsx``.
    """
    import pandas as pd

    rows = [summary_row(a, lang) for a in assessments]
    names = headers(lang)
    columns = {
        name: pd.Series([row[i] for row in rows], dtype=column.dtype)
        for i, (name, column) in enumerate(zip(names, COLUMNS, strict=True))
    }
    return pd.DataFrame(columns)


def assessment_to_frame(assessment: Assessment, *, lang: Lang = "en") -> pd.DataFrame:
    """One assessment as a one-row DataFrame (what :meth:`Assessment.to_frame` returns)."""
    return assessments_to_frame([assessment], lang=lang)
