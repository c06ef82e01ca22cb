"""The additive scorecard: binned features + logistic regression + sigmoid calibration.

Why this shape: every feature's contribution in log-odds is exact (one coefficient per bin),
and Platt scaling is linear in the logit, so after calibration the contributions still add
up to the score. A missing feature (NaN: its evidence was not supplied) falls in no bin and
contributes exactly 0, in training and in use alike.

Saved models hold plain numbers only (bin edges, coefficients), written with joblib. Loading
a joblib file can run code, so :func:`load_model` checks the file's SHA-256 against the
shipped model's pinned hash, or against an explicit ``trust=True`` from the user.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FORMAT = "assessor.scorecard/1"
SHIPPED_MODEL = "default.joblib"
# SHA-256 of assessor/data/model/default.joblib. Update it (and only it) when the shipped model is retrained.
SHIPPED_MODEL_SHA256 = "db756c3b0305ace3c9fd8ef043298d6d446b366267b6173daa9c3453fd1a7bd7"


class ModelTrustError(ValueError):
    """Refused to load a model file that is neither the pinned shipped model nor explicitly trusted."""


def bin_index(X: np.ndarray, edges: list) -> np.ndarray:
    """Per sample and feature, the bin number; -1 where the value is missing (NaN).

    ``side="left"``: a value equal to an edge goes to the lower bin, so exact zeros (the
    commonest value of rate features) share a bin with the smallest values.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    idx = np.empty(X.shape, dtype=int)
    for j, feature_edges in enumerate(edges):
        column = X[:, j]
        idx[:, j] = np.searchsorted(np.asarray(feature_edges, dtype=float), column, side="left")
        idx[np.isnan(column), j] = -1
    return idx


class QuantileBinner:
    """Bins each feature at its training quantiles, one-hot; NaN -> no bin (all zeros).

    Follows scikit-learn's transformer conventions (fit/transform, learned state ends in ``_``).
    """

    def __init__(self, n_bins: int = 6):
        self.n_bins = n_bins

    def fit(self, X: np.ndarray, y: Any = None) -> QuantileBinner:
        X = np.asarray(X, dtype=float)
        self.edges_: list[np.ndarray] = []
        for column in X.T:
            values = column[~np.isnan(column)]
            if values.size == 0:
                self.edges_.append(np.array([]))
                continue
            qs = np.quantile(values, np.linspace(0, 1, self.n_bins + 1)[1:-1])
            self.edges_.append(np.unique(qs))
        self.n_bins_ = [len(e) + 1 for e in self.edges_]
        self.offsets_ = np.concatenate([[0], np.cumsum(self.n_bins_)[:-1]]).astype(int)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        idx = bin_index(X, self.edges_)
        out = np.zeros((idx.shape[0], int(sum(self.n_bins_))))
        rows = np.arange(idx.shape[0])
        for j in range(idx.shape[1]):
            present = idx[:, j] >= 0
            out[rows[present], self.offsets_[j] + idx[present, j]] = 1.0
        return out


@dataclass
class Scorecard:
    """A fitted scorecard as plain numbers: what is saved, loaded and scored.

    ``points[j][b]`` is the calibrated log-odds contribution of feature j in bin b.
    ``base`` is the calibrated intercept minus the training prior's logit, so that
    ``logit(prior) + base + sum(points)`` is the posterior log-odds under any prior.
    """

    features: list[str]
    edges: list[list[float]]
    points: list[list[float]]
    base: float
    train_prior: float
    metadata: dict[str, Any]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per sample and feature, the log-odds points (0 where the feature is missing)."""
        idx = bin_index(X, self.edges)
        out = np.zeros(idx.shape)
        for j, pts in enumerate(self.points):
            table = np.asarray(pts, dtype=float)
            present = idx[:, j] >= 0
            out[present, j] = table[idx[present, j]]
        return out

    def max_swing(self) -> dict[str, float]:
        """How far each feature can move the log-odds: used to say which missing evidence matters most."""
        return {f: (max(p) - min(p)) if p else 0.0 for f, p in zip(self.features, self.points, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "features": self.features,
            "edges": self.edges,
            "points": self.points,
            "base": self.base,
            "train_prior": self.train_prior,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not an assessor scorecard (expected format {MODEL_FORMAT})")
        return cls(
            features=list(data["features"]),
            edges=[list(map(float, e)) for e in data["edges"]],
            points=[list(map(float, p)) for p in data["points"]],
            base=float(data["base"]),
            train_prior=float(data["train_prior"]),
            metadata=dict(data.get("metadata", {})),
        )


class ScorecardClassifier:
    """scikit-learn style estimator: ``fit(X, y)``, ``predict_proba(X)``, ``scorecard_``.

    Fits an L2 logistic regression on one-hot quantile bins, then a sigmoid (Platt)
    calibration on out-of-fold logits; scikit-learn advises sigmoid over isotonic below
    about 1,000 calibration samples, and sigmoid keeps contributions additive.
    """

    def __init__(self, feature_names: list[str], n_bins: int = 6, C: float = 0.3, cv: int = 5,
                 random_state: int = 0):
        self.feature_names = feature_names
        self.n_bins = n_bins
        self.C = C
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> ScorecardClassifier:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_predict
        from sklearn.pipeline import make_pipeline

        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=int)
        binner = QuantileBinner(self.n_bins).fit(X)
        Z = binner.transform(X)
        lr = LogisticRegression(C=self.C, max_iter=2000)
        oof = cross_val_predict(make_pipeline(LogisticRegression(C=self.C, max_iter=2000)), Z, y,
                                cv=self.cv, method="decision_function")
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof.reshape(-1, 1), y)
        a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
        lr.fit(Z, y)
        coef = lr.coef_[0]
        points = [
            [a * float(c) for c in coef[binner.offsets_[j]: binner.offsets_[j] + binner.n_bins_[j]]]
            for j in range(X.shape[1])
        ]
        train_prior = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
        base = a * float(lr.intercept_[0]) + b - _logit(train_prior)
        self.binner_ = binner
        self.calibration_ = (a, b)
        self.scorecard_ = Scorecard(
            features=list(self.feature_names),
            edges=[e.tolist() for e in binner.edges_],
            points=points,
            base=base,
            train_prior=train_prior,
            metadata={"n_bins": self.n_bins, "C": self.C, "calibration": {"method": "sigmoid", "a": a, "b": b}},
        )
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: np.ndarray, prior: float | None = None) -> np.ndarray:
        card = self.scorecard_
        prior = card.train_prior if prior is None else prior
        return _logit(prior) + card.base + card.contributions(X).sum(axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def get_feature_names_out(self) -> np.ndarray:
        return np.asarray(self.feature_names, dtype=object)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_model_path() -> Path:
    return Path(str(resources.files("assessor") / "data" / "model" / SHIPPED_MODEL))


def save_model(card: Scorecard, path: Path, manifest: dict[str, Any]) -> str:
    """Write the model and ``<path>.manifest.json`` next to it; returns the file's SHA-256."""
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    joblib.dump(card.to_dict(), tmp)
    tmp.replace(path)
    sha = file_sha256(path)
    manifest = {**manifest, "sha256": sha, "file": path.name}
    manifest_path = manifest_path_for(path)
    tmp_manifest = manifest_path.with_name(manifest_path.name + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    tmp_manifest.replace(manifest_path)
    return sha


def manifest_path_for(path: Path) -> Path:
    return Path(path).with_suffix(".manifest.json")


def load_model(path: Path | None = None, *, trust: bool = False) -> tuple[Scorecard, str]:
    """Load a scorecard; returns it with the file's SHA-256.

    The shipped model loads only if its hash equals the pinned one (a tampered package is
    refused). Any other file loads only with ``trust=True``.
    """
    import joblib

    shipped = path is None
    path = shipped_model_path() if shipped else Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "No such model file", str(path))
    sha = file_sha256(path)
    if sha != SHIPPED_MODEL_SHA256 and not trust:
        if shipped:
            raise ModelTrustError(
                f"the shipped model {path} does not match its pinned SHA-256 (got {sha[:12]}…): "
                "the installation may have been tampered with; reinstall assessor"
            )
        raise ModelTrustError(
            f"refusing to load {path}: loading a model file can run code, and this one is not the "
            f"shipped model (SHA-256 {sha[:12]}…). Pass --trust-model (library: trust=True) if you made it."
        )
    try:
        data = joblib.load(path)
        return Scorecard.from_dict(data), sha
    except Exception as exc:  # a trusted but broken file is still the user's input error
        raise ModelTrustError(f"cannot read model {path}: {exc}") from None
