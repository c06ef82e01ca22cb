"""The featurizer is a scikit-learn transformer: a Python user fits their own estimator on our features."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from assessor.featurizer import CaseFeaturizer, labels
from assessor.io import load_cases
from assessor.schema import Case
from assessor.simulate import simulate


def test_rows_follow_input_order_and_columns_are_named():
    cases = list(load_cases("sample_data/cases.jsonl"))
    featurizer = CaseFeaturizer().fit(cases)
    names = list(featurizer.get_feature_names_out())
    X = featurizer.transform(cases)
    assert X.shape == (len(cases), len(names))
    no_chat = [i for i, c in enumerate(cases) if not c.chats]
    assert no_chat, "a sample without chats is expected"
    chat_cols = [j for j, n in enumerate(names) if n.startswith("chat.")]
    assert all(math.isnan(X[i, j]) for i in no_chat for j in chat_cols)  # missing, not zero
    vac = names.index("recharge.vacation_share")
    grandparent = next(i for i, c in enumerate(cases) if c.case_id == "HB-2024-0309")
    assert X[grandparent, vac] == 1.0


def test_by_default_only_model_owned_features_come_out():
    cases = list(load_cases("sample_data/cases.jsonl"))
    owned = set(CaseFeaturizer().fit(cases).get_feature_names_out())
    everything = set(CaseFeaturizer(model_owned=False).fit(cases).get_feature_names_out())
    assert not any(n.startswith(("real_name.", "face_check.")) for n in owned)
    assert any(n.startswith("real_name.") for n in everything) and owned < everything


def test_fixed_columns_and_dicts_as_input():
    cases = [c.model_dump(mode="json") for c in load_cases("sample_data/cases.jsonl")]
    X = CaseFeaturizer(features=["recharge.n_payments", "no.such_feature"]).fit_transform(cases)
    assert X.shape == (6, 2) and (X[:, 0] > 0).all() and np.isnan(X[:, 1]).all()


def test_unfitted_use_is_a_clear_error():
    with pytest.raises(NotFittedError):
        CaseFeaturizer().transform([])


def test_fits_in_a_pipeline_with_a_third_party_estimator():
    cases = [Case.model_validate(c) for c in simulate(240, seed=5)]
    y = labels(cases)
    pipeline = make_pipeline(CaseFeaturizer(), SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                             LogisticRegression(C=0.3, max_iter=2000))
    scores = cross_val_score(clone(pipeline), cases, y, cv=3, scoring="roc_auc")
    assert scores.mean() > 0.7  # simulated disputes: the features carry the simulator's signal
