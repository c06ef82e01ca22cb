"""Train on one simulated seed, evaluate on another: the simulated world is learnable but not trivial.

Numbers here describe the simulator, not real disputes (see README, "Honest numbers").
"""

from __future__ import annotations

import json

import pytest

from assessor.engine import Engine
from assessor.model import file_sha256
from assessor.schema import Case
from assessor.simulate import simulate
from assessor.training import TrainingDataError, evaluate, train


def cases(n: int, seed: int) -> list[Case]:
    return [Case.model_validate(raw) for raw in simulate(n, seed=seed)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    path = folder / "sim.joblib"
    manifest = train(cases(900, seed=101), path, seed=3)
    return path, manifest


def test_cross_seed_auc_is_between_learnable_and_too_easy(trained):
    path, _ = trained
    report = evaluate(cases(500, seed=202), Engine.load(path, trust_model=True))
    assert 0.75 <= report["auc"] <= 0.98, report["auc"]
    assert report["brier"] < 0.2
    families = {row["family"]: row for row in report["families"]}
    assert {"chat", "recharge", "sessions"} <= set(families)
    assert families["recharge"]["cases_moved"] > 0


def test_the_manifest_describes_the_model(trained):
    path, manifest = trained
    on_disk = json.loads(path.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    assert on_disk["sha256"] == file_sha256(path) == manifest["sha256"]
    assert on_disk["n_cases"] == 900 and len(on_disk["training_data_sha256"]) == 64
    assert any(f.startswith("recharge.") for f in on_disk["features"])
    assert not any(f.startswith(("real_name.", "face_check.")) for f in on_disk["features"])  # rules own them
    assert {"python", "numpy", "scikit-learn"} <= set(on_disk["libraries"])
    assert 0.5 < on_disk["held_out_metrics"]["auc"] <= 1.0
    assert "not real-world accuracy" in on_disk["held_out_metrics"]["note"]


def test_the_same_data_and_seed_give_the_same_bytes(trained, tmp_path):
    path, _ = trained
    again = tmp_path / "again.joblib"
    train(cases(900, seed=101), again, seed=3)
    assert file_sha256(again) == file_sha256(path)


def test_one_class_only_is_a_clear_error(tmp_path):
    adults = [c for c in cases(200, seed=5) if c.label and c.label.minor_payer is False][:60]
    with pytest.raises(TrainingDataError, match="both classes"):
        train(adults, tmp_path / "m.joblib")
