"""Fitting and evaluating the scorecard on labelled cases (any input form).

The model sees only the features the rulebook gives it (``[ownership].model``), so rules
and model never weigh the same thing. Metrics are computed on a held-out split and written
to the model's manifest; on simulated data they measure how well the model learned the
simulator, not real-world accuracy.
"""

from __future__ import annotations

import hashlib
import math
import platform
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assessor.engine import Engine, extract_signals, model_inputs
from assessor.model import ScorecardClassifier, save_model
from assessor.rules import load_rulebook
from assessor.schema import Case


class TrainingDataError(ValueError):
    """The labelled data can't train or evaluate a model (too few cases, one class only)."""


def feature_matrix(cases: Iterable[Case], features: list[str] | None = None):
    """Rows of model-owned features (NaN where missing) and labels; discovers features if not given."""
    rulebook = load_rulebook()
    rows, labels, ids = [], [], []
    for case in cases:
        if case.label is None or case.label.minor_payer is None:
            continue
        rows.append({k: v for k, v in model_inputs(case, extract_signals(case)).items() if rulebook.owned_by_model(k)})
        labels.append(int(case.label.minor_payer))
        ids.append(case.case_id)
    if features is None:
        features = sorted({k for row in rows for k in row})
    X = np.array([[float(row.get(f, math.nan)) for f in features] for row in rows], dtype=float).reshape(
        len(rows), len(features))
    return X, np.array(labels, dtype=int), features, ids


def train(cases: Iterable[Case], output: Path, *, seed: int = 0, holdout: float = 0.25) -> dict[str, Any]:
    """Fit on labelled cases, write the model and its manifest; returns the manifest."""
    import sklearn

    X, y, features, ids = feature_matrix(cases)
    if len(y) < 40 or y.min() == y.max():
        raise TrainingDataError(f"need at least 40 labelled cases of both classes (got {len(y)})")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_test = max(10, int(len(y) * holdout))
    test, fit = order[:n_test], order[n_test:]
    held_out = ScorecardClassifier(features, random_state=seed).fit(X[fit], y[fit])
    metrics = metrics_for(y[test], held_out.predict_proba(X[test])[:, 1])
    final = ScorecardClassifier(features, random_state=seed).fit(X, y)
    fingerprint = hashlib.sha256("\n".join(sorted(ids)).encode() + X.tobytes() + y.tobytes()).hexdigest()
    version = datetime.now(UTC).strftime("%Y.%m.%d")
    final.scorecard_.metadata["version"] = version
    manifest = {
        "format": "assessor.model-manifest/1",
        "version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_cases": int(len(y)),
        "minor_share": float(y.mean()),
        "training_data_sha256": fingerprint,
        "features": features,
        "rulebook_version": load_rulebook().version,
        "held_out_metrics": {**metrics, "n": int(len(test)),
                             "note": "held-out split of the training data; on simulated data this is not real-world accuracy"},
        "libraries": {"python": platform.python_version(), "numpy": np.__version__,
                      "scikit-learn": sklearn.__version__},
    }
    manifest["sha256"] = save_model(final.scorecard_, output, manifest)
    return manifest


def metrics_for(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict[str, Any]:
    """ROC AUC, Brier score, log loss and a reliability table (predicted vs observed per bin)."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    p = np.clip(p, 1e-6, 1 - 1e-6)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    calibration = [
        {"bin": f"{b / n_bins:.1f}-{(b + 1) / n_bins:.1f}", "n": int((bins == b).sum()),
         "predicted": round(float(p[bins == b].mean()), 4), "observed": round(float(y[bins == b].mean()), 4)}
        for b in range(n_bins) if (bins == b).any()
    ]
    return {
        "auc": round(float(roc_auc_score(y, p)), 4) if y.min() != y.max() else None,
        "brier": round(float(brier_score_loss(y, p)), 4),
        "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 4),
        "calibration": calibration,
    }


def evaluate(cases: Iterable[Case], engine: Engine, *, prior: float = 0.5) -> dict[str, Any]:
    """Score labelled cases with the full engine (model + rules) and measure it."""
    y, p = [], []
    for case in cases:
        if case.label is None or case.label.minor_payer is None:
            continue
        y.append(int(case.label.minor_payer))
        p.append(engine.assess(case, prior=prior).probability)
    if not y:
        raise TrainingDataError("no case carries label.minor_payer")
    return {"n": len(y), **metrics_for(np.array(y), np.array(p))}
