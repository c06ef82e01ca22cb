"""Re-create the shipped model from simulated disputes, byte for byte.

    python models/train_default.py            # writes assessor/data/model/default.joblib (+ manifest)
    python models/train_default.py --check    # rebuilds in a temporary folder, compares with the shipped file

The model is fitted on simulated disputes (`assessor simulate`, seed 2026): its accuracy on real
disputes is unknown until an office evaluates it on its own labelled cases. After a deliberate
retrain, pin the printed SHA-256 in assessor/model.py (SHIPPED_MODEL_SHA256): the package refuses
a shipped model whose hash differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from assessor.io import load_cases
from assessor.model import SHIPPED_MODEL_SHA256, file_sha256, shipped_model_path
from assessor.simulate import write_simulated
from assessor.training import train

CASES, SEED = 4000, 2026


def build(output: Path) -> dict:
    """Exactly `assessor simulate 4000 -o sim.jsonl --seed 2026 && assessor train sim.jsonl -o OUT --seed 2026`."""
    with tempfile.TemporaryDirectory() as folder:
        sim = Path(folder) / "sim.jsonl"
        write_simulated(CASES, sim, seed=SEED)
        return train(load_cases(sim), output, seed=SEED)  # the loader's checks, as the CLI applies them


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary folder and compare")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as folder:
            manifest = build(Path(folder) / "default.joblib")
        same = manifest["sha256"] == file_sha256(shipped_model_path())
        print(f"rebuilt {manifest['sha256']}; shipped {file_sha256(shipped_model_path())}: "
              f"{'identical' if same else 'DIFFERENT'}")
        return 0 if same else 1
    manifest = build(shipped_model_path())
    metrics = manifest["held_out_metrics"]
    print(f"wrote {shipped_model_path()} sha256 {manifest['sha256']}")
    print(f"held-out (simulated) AUC {metrics['auc']}, Brier {metrics['brier']} on {metrics['n']} cases")
    if manifest["sha256"] != SHIPPED_MODEL_SHA256:
        print("pin this SHA-256 in assessor/model.py (SHIPPED_MODEL_SHA256)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
