"""Our features as a scikit-learn transformer, so a Python user can fit their own estimator on them.

>>> from assessor.featurizer import CaseFeaturizer
>>> from assessor.io import load_cases
>>> cases = list(load_cases("sample_data/cases.jsonl"))
>>> X = CaseFeaturizer().fit_transform(cases)
>>> X.shape[0], "recharge.vacation_share" in CaseFeaturizer().fit(cases).get_feature_names_out()
(6, True)

Rows follow the input order. A feature whose evidence family was not supplied (no chat log,
no sessions) is NaN, as the shipped model sees it: use an imputer or a NaN-aware estimator
(e.g. ``HistGradientBoostingClassifier``). By default only the features the rulebook gives the
model are produced; ``model_owned=False`` adds the real-name and explicit-statement features too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from assessor.engine import _as_case, extract_signals, model_inputs
from assessor.rules import load_rulebook
from assessor.schema import Case


class CaseFeaturizer(TransformerMixin, BaseEstimator):
    """Cases (``Case``, dicts in the case format, or paths) in, a float matrix of named features out.

    Parameters
    ----------
    features : list of str or None
        Columns to produce, in order. ``None`` learns them in :meth:`fit` (every feature seen, sorted).
    model_owned : bool
        Keep only features the rulebook's ``[ownership].model`` gives the model (the default).
    """

    def __init__(self, features: list[str] | None = None, model_owned: bool = True):
        self.features = features
        self.model_owned = model_owned

    def fit(self, X: Iterable[Any], y: Any = None) -> CaseFeaturizer:
        if self.features is not None:
            self.feature_names_out_ = np.asarray(list(self.features), dtype=object)
            return self
        names: set[str] = set()
        for row in self._rows(X):
            names.update(row)
        self.feature_names_out_ = np.asarray(sorted(names), dtype=object)
        return self

    def transform(self, X: Iterable[Any]) -> np.ndarray:
        if not hasattr(self, "feature_names_out_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("CaseFeaturizer is not fitted yet: call fit (or fit_transform) first")
        names = list(self.feature_names_out_)
        rows = [[float(row.get(name, math.nan)) for name in names] for row in self._rows(X)]
        return np.array(rows, dtype=float).reshape(len(rows), len(names))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        if not hasattr(self, "feature_names_out_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("CaseFeaturizer is not fitted yet: call fit first")
        return self.feature_names_out_.copy()

    def _rows(self, X: Iterable[Any]) -> Iterable[dict[str, float]]:
        rulebook = load_rulebook() if self.model_owned else None
        for item in X:
            case = item if isinstance(item, Case) else _as_case(item)
            features = model_inputs(case, extract_signals(case))
            if rulebook is not None:
                features = {k: v for k, v in features.items() if rulebook.owned_by_model(k)}
            yield features


def labels(cases: Iterable[Case]) -> np.ndarray:
    """``label.minor_payer`` of each case as 0/1 (a case without a label is an error)."""
    out = []
    for case in cases:
        if case.label is None or case.label.minor_payer is None:
            raise ValueError(f"case {case.case_id} has no label.minor_payer")
        out.append(int(case.label.minor_payer))
    return np.array(out, dtype=int)
