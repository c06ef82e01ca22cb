"""assessor: an explainable likelihood that a disputed game recharge was paid by a minor.

Heavy modules (pandas, scikit-learn) load only when first used, so ``assessor --help``
and ``import assessor`` stay fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "assess": "assessor.engine",
    "assess_many": "assessor.engine",
    "Case": "assessor.schema",
    "Assessment": "assessor.schema",
    "load_cases": "assessor.io",
    "CaseError": "assessor.io",
    "CaseInputError": "assessor.io",
    "assessments_to_frame": "assessor.frame",
    "CaseFeaturizer": "assessor.featurizer",
}

__all__ = ["__version__", "assess", "assess_many", "Case", "Assessment", "load_cases", "CaseError", "CaseInputError",
           "assessments_to_frame", "CaseFeaturizer"]

if TYPE_CHECKING:  # pragma: no cover
    from assessor.engine import assess, assess_many
    from assessor.featurizer import CaseFeaturizer
    from assessor.frame import assessments_to_frame
    from assessor.io import CaseError, CaseInputError, load_cases
    from assessor.schema import Assessment, Case


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'assessor' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
