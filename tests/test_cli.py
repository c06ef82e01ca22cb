"""The command line as a mediator uses it: score, validate, schema; exit codes; no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from assessor.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
ADULT_CASE = SAMPLES / "cases" / "03_adult_work_family.json"
runner = CliRunner()


def test_score_prints_a_valid_assessment_as_json():
    result = runner.invoke(app, ["score", str(ADULT_CASE), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format"] == "assessor.assessment/1"
    assert data["case_id"] == "GZ-2024-0521"
    assert 0 <= data["probability"] <= 1
    total = sum(c["weight"] for c in data["contributions"]) + sum(r["weight"] or 0 for r in data["rules"])
    assert abs(data["log_odds"] - total) < 1e-6  # prior 0.5: logit 0


def test_adult_chat_pulls_the_adult_case_below_inconclusive():
    data = json.loads(runner.invoke(app, ["score", str(ADULT_CASE), "--format", "json"]).stdout)
    assert data["band"] == "unlikely"
    assert any(r["id"] == "chat.stated_age_adult" for r in data["rules"])


def test_score_reads_stdin_and_markdown_in_chinese():
    result = runner.invoke(app, ["score", "-", "--format", "markdown", "--lang", "zh"],
                           input=ADULT_CASE.read_text(encoding="utf-8"))
    assert result.exit_code == 0
    assert "可能性" in result.stdout and "不是法律裁决" in result.stdout


def test_prior_changes_the_probability():
    low = json.loads(runner.invoke(app, ["score", str(ADULT_CASE), "--prior", "0.2", "-f", "json"]).stdout)
    high = json.loads(runner.invoke(app, ["score", str(ADULT_CASE), "--prior", "0.8", "-f", "json"]).stdout)
    assert low["probability"] < high["probability"]


def test_validate_reports_rejected_cases_with_exit_3(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"case_id": "ok"}\n{"case_id": "x", "recharges": [{"at": "soon", "amount": 1}]}\n',
                   encoding="utf-8")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 3
    assert "bad.jsonl:2" in result.stdout and "recharges[0].at" in result.stdout


def test_validate_accepts_every_sample_form():
    for form in ("cases", "cases.jsonl", "tables_gbk", "cases.xlsx"):
        result = runner.invoke(app, ["validate", str(SAMPLES / form)])
        assert result.exit_code == 0, (form, result.output)


def test_schema_prints_json_schema():
    result = runner.invoke(app, ["schema", "case"])
    assert json.loads(result.stdout)["properties"]["case_id"]


def test_wrong_usage_exits_2():
    assert runner.invoke(app, ["score"]).exit_code == 2
    assert runner.invoke(app, ["schema", "nonsense"]).exit_code == 2


def test_missing_file_is_exit_3_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "assessor", "score", "no/such/case.json"],
                          capture_output=True, text=True)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr and "no such file" in proc.stderr


def test_help_does_not_import_pandas_or_sklearn():
    code = ("import sys; from assessor.cli import app; from typer.testing import CliRunner; "
            "CliRunner().invoke(app, ['--help']); "
            "print(any(m.split('.')[0] in ('pandas', 'sklearn') for m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr
