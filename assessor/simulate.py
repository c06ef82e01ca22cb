"""Labelled simulated disputes: training and test data where no public labelled set exists.

``simulate(n, seed=s)`` yields cases in the contract's format (assessor.case/1), each with
``label = {"minor_payer": ..., "source": "simulated", ...}`` and ``by_minor`` on every recharge.
The world and every assumption behind it live in ``assessor/data/simulation.toml`` (values with
their sources) and ``assessor/data/chat_templates.toml``. Case ``k`` depends only on (seed, k),
so the first 100 cases are the same whether 100 or 10,000 are asked for.

``label.minor_payer`` is true when the minor paid more than half of the disputed, successful
amount. ``label.scenario`` says which story the case came from (child_paid, adult_false_claim,
mixed) and ``label.world`` keeps facts the evidence may not show (for tests and analysis only;
the scorer never reads labels).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from assessor.simulation.params import SimulationParams, default_chat_templates
from assessor.simulation.world import CaseBuilder

__all__ = ["SimulationParams", "simulate", "write_simulated"]


def simulate(n: int, *, seed: int = 0, params: SimulationParams | None = None) -> Iterator[dict[str, Any]]:
    """Yield ``n`` simulated dispute cases (plain dicts, ready for JSON), deterministic per seed."""
    if n < 0:
        raise ValueError("n must be zero or more")
    builder = CaseBuilder(params or SimulationParams.default(), default_chat_templates())
    for k in range(n):
        yield builder.build(seed, k)


def write_simulated(n: int, path_or_stream: str | Path | IO[str], *, seed: int = 0,
                    params: SimulationParams | None = None) -> int:
    """Write ``n`` simulated cases as JSON Lines (UTF-8) to a path or text stream; return the count."""
    if isinstance(path_or_stream, (str, Path)):
        with open(path_or_stream, "w", encoding="utf-8") as stream:
            return _write(n, stream, seed, params)
    return _write(n, path_or_stream, seed, params)


def _write(n: int, stream: IO[str], seed: int, params: SimulationParams | None) -> int:
    written = 0
    for case in simulate(n, seed=seed, params=params):
        stream.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
        written += 1
    return written
