"""The scorecard: exact additive contributions, calibration, and safe loading of model files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assessor.model import (
    ModelTrustError,
    Scorecard,
    ScorecardClassifier,
    file_sha256,
    load_model,
    save_model,
)


def _data(n: int = 1500, seed: int = 1):
    rng = np.random.default_rng(seed)
    vacation_share = rng.random(n)
    school_hours_share = rng.random(n)
    noise = rng.random(n)
    logit = 2.5 * (vacation_share - 0.5) - 2.0 * (school_hours_share - 0.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = np.column_stack([vacation_share, school_hours_share, noise])
    X[rng.random(n) < 0.15, 2] = np.nan  # missing evidence
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return ScorecardClassifier(["recharge.vacation_share", "recharge.school_hours_share", "chat.noise"]).fit(X, y), X, y


def test_contributions_plus_base_equal_the_score(fitted):
    model, X, _ = fitted
    card = model.scorecard_
    for prior in (0.2, 0.5, 0.8):
        total = math.log(prior / (1 - prior)) + card.base + card.contributions(X).sum(axis=1)
        np.testing.assert_allclose(total, model.decision_function(X, prior=prior), rtol=0, atol=1e-12)


def test_missing_feature_contributes_exactly_zero(fitted):
    model, X, _ = fitted
    row = X[:1].copy()
    row[0, 2] = np.nan
    assert model.scorecard_.contributions(row)[0, 2] == 0.0


def test_learned_directions_match_the_data(fitted):
    model, _, _ = fitted
    card = model.scorecard_
    vacation_points, school_points = card.points[0], card.points[1]
    assert vacation_points[-1] > vacation_points[0], "more vacation payments should point to a minor"
    assert school_points[-1] < school_points[0], "more school-hours payments should point to an adult"


def test_probabilities_are_calibrated_on_held_out_data(fitted):
    model, _, _ = fitted
    X, y = _data(4000, seed=2)
    p = model.predict_proba(X)[:, 1]
    for lo, hi in ((0.0, 0.3), (0.3, 0.7), (0.7, 1.0)):
        mask = (p >= lo) & (p < hi)
        assert abs(p[mask].mean() - y[mask].mean()) < 0.06


def test_saved_model_round_trips_and_unknown_files_are_refused(fitted, tmp_path):
    model, X, _ = fitted
    path = tmp_path / "office.joblib"
    sha = save_model(model.scorecard_, path, {"note": "test"})
    assert sha == file_sha256(path)
    assert (tmp_path / "office.manifest.json").is_file()
    with pytest.raises(ModelTrustError, match="--trust-model"):
        load_model(path)
    card, loaded_sha = load_model(path, trust=True)
    assert loaded_sha == sha
    np.testing.assert_allclose(card.contributions(X), model.scorecard_.contributions(X))


def test_a_trusted_file_that_is_not_a_scorecard_is_a_clear_error(tmp_path):
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"hello": "world"}, path)
    with pytest.raises(ModelTrustError, match="not an assessor scorecard"):
        load_model(path, trust=True)


def test_scorecard_dict_round_trip(fitted):
    model, X, _ = fitted
    again = Scorecard.from_dict(model.scorecard_.to_dict())
    np.testing.assert_array_equal(again.contributions(X), model.scorecard_.contributions(X))
