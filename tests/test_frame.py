"""Assessments as pandas DataFrames: the same columns and figures as the batch CSV a reviewer opens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from assessor.cli import app
from assessor.engine import default_engine
from assessor.frame import COLUMNS, assessments_to_frame, headers
from assessor.io import load_cases

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def sample_assessments():
    engine = default_engine()
    return [engine.assess(case) for case in load_cases(SAMPLES / "cases.jsonl")]


def test_to_frame_is_one_row_with_the_main_figures():
    assessment = next(a for a in sample_assessments() if a.case_id == "GZ-2024-0521")
    frame = assessment.to_frame()
    assert list(frame.columns) == [c.key for c in COLUMNS]
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["case_id"] == "GZ-2024-0521" and row["band"] == "unlikely" and row["band_zh"] == "可能性低"
    assert row["probability"] == assessment.probability and row["log_odds"] == assessment.log_odds
    assert row["disputed_amount_cny"] == 5670.0
    assert bool(row["coverage_face_checks"]) is True
    assert row["warnings_count"] == len(assessment.warnings)


def test_many_assessments_make_a_typed_frame_in_order():
    assessments = sample_assessments()
    frame = assessments_to_frame(iter(assessments))  # any iterable, a generator too
    assert list(frame["case_id"]) == [a.case_id for a in assessments]
    assert frame["probability"].dtype == "float64"
    assert frame["findings_count"].dtype == "int64"
    assert frame["coverage_chats"].dtype == bool
    assert list(frame["coverage_chats"]) == [a.coverage.chats for a in assessments]
    # what a reviewer does with it: sort by likelihood
    assert frame.sort_values("probability").iloc[0]["case_id"] == "GZ-2024-0521"
    assert (frame["attributable_amount_cny"] <= frame["disputed_amount_cny"]).all()


def test_chinese_frame_has_the_csv_headers_and_chinese_reasons():
    frame = assessments_to_frame(sample_assessments(), lang="zh")
    assert list(frame.columns) == headers("zh")
    reasons = " ".join(frame["指向未成年人付款的主要理由"])
    assert "年级" in reasons


def test_frame_equals_the_batch_csv(tmp_path):
    out = tmp_path / "out.csv"
    assert CliRunner().invoke(app, ["batch", str(SAMPLES / "cases.jsonl"), "-o", str(out), "--lang", "en",
                                    "-q"]).exit_code == 0
    from_csv = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    frame = assessments_to_frame(sample_assessments())
    assert list(from_csv.columns) == list(frame.columns)
    for column in frame.columns:
        assert list(from_csv[column]) == list(frame[column]), column


def test_no_assessments_give_an_empty_frame_with_the_columns():
    frame = assessments_to_frame([])
    assert frame.empty and list(frame.columns) == [c.key for c in COLUMNS]
    assert frame["probability"].dtype == "float64"


def test_importing_the_schema_or_the_rows_does_not_import_pandas():
    code = ("import sys, assessor.schema, assessor.frame, assessor.batch_output; "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
