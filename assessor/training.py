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
from collections import defaultdict
from collections.abc import Iterable
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
    # Named by its training data, not the clock: the same data and seed give the same bytes.
    version = f"data-{fingerprint[:12]}"
    final.scorecard_.metadata["version"] = version
    manifest = {
        "format": "assessor.model-manifest/1",
        "version": version,
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
    """Score labelled cases with the full engine (model + rules) and measure it.

    ``families`` says which evidence family carries the signal: per family (chat, recharge,
    sessions, real_name, face_checks, claim), the ROC AUC of that family's summed log-odds
    (model points and rule weights) and how many cases it moved at all.
    """
    y, p = [], []
    family_scores: list[dict[str, float]] = []
    for case in cases:
        if case.label is None or case.label.minor_payer is None:
            continue
        assessment = engine.assess(case, prior=prior)
        y.append(int(case.label.minor_payer))
        p.append(assessment.probability)
        scores: dict[str, float] = defaultdict(float)
        for c in assessment.contributions:
            if c.id != "model.baseline":
                scores[c.source] += c.weight
        for r in assessment.rules:
            if r.effect == "weight" and r.weight:
                scores[FAMILY_OF_RULE_SOURCE.get(r.id.split(".", 1)[0], r.id.split(".", 1)[0])] += r.weight
        family_scores.append(scores)
    if not y:
        raise TrainingDataError("no case carries label.minor_payer")
    labels = np.array(y)
    return {"n": len(y), **metrics_for(labels, np.array(p)), "families": _family_metrics(labels, family_scores)}


FAMILY_OF_RULE_SOURCE = {"face_check": "face_checks"}


def _family_metrics(y: np.ndarray, scores: list[dict[str, float]]) -> list[dict[str, Any]]:
    """AUC of each family's log-odds alone (0 where the family said nothing)."""
    from sklearn.metrics import roc_auc_score

    out = []
    for family in sorted({f for row in scores for f in row}):
        column = np.array([row.get(family, 0.0) for row in scores])
        moved = int((column != 0).sum())
        auc = float(roc_auc_score(y, column)) if y.min() != y.max() and moved else None
        out.append({"family": family, "auc": None if auc is None else round(auc, 4), "cases_moved": moved,
                    "mean_abs_log_odds": round(float(np.abs(column).mean()), 4)})
    return out
