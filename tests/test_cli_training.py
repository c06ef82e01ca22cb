"""simulate, train and evaluate from the command line, as an office re-fits the model on its own cases."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from assessor.cli import app

runner = CliRunner()


def test_simulate_train_evaluate_round_trip(tmp_path):
    sim = tmp_path / "sim.jsonl"
    result = runner.invoke(app, ["simulate", "300", "-o", str(sim), "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert len(sim.read_text(encoding="utf-8").splitlines()) == 300

    again = tmp_path / "again.jsonl"
    runner.invoke(app, ["simulate", "300", "-o", str(again), "--seed", "4"])
    assert again.read_bytes() == sim.read_bytes()  # deterministic for a seed

    model = tmp_path / "office.joblib"
    result = runner.invoke(app, ["train", str(sim), "-o", str(model), "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert model.is_file() and (tmp_path / "office.manifest.json").is_file()

    test = tmp_path / "test.jsonl"
    runner.invoke(app, ["simulate", "200", "-o", str(test), "--seed", "5"])
    result = runner.invoke(app, ["evaluate", str(test), "--model", str(model), "--trust-model", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 200 and 0.5 < report["auc"] <= 1.0
    assert {row["family"] for row in report["families"]} >= {"recharge", "chat"}

    table = runner.invoke(app, ["evaluate", str(test), "--model", str(model), "--trust-model", "--format", "table"])
    assert table.exit_code == 0 and "Per evidence family" in table.stdout


def test_an_untrusted_model_file_is_refused_with_exit_2(tmp_path):
    sim = tmp_path / "sim.jsonl"
    runner.invoke(app, ["simulate", "120", "-o", str(sim), "--seed", "8"])
    model = tmp_path / "m.joblib"
    assert runner.invoke(app, ["train", str(sim), "-o", str(model)]).exit_code == 0
    result = runner.invoke(app, ["score", "sample_data/cases/02_grandparent_summer.json", "--model", str(model)])
    assert result.exit_code == 2
    assert "--trust-model" in result.output


def test_too_few_labelled_cases_to_train_is_exit_3_naming_the_minimum(tmp_path):
    target = tmp_path / "m.joblib"
    result = runner.invoke(app, ["train", "sample_data/tables_gbk", "-o", str(target)])
    assert result.exit_code == 3
    assert "at least 40 labelled cases" in result.output and "got 6" in result.output
    assert not target.exists()
