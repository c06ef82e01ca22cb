"""Regenerate docs/simulation.md from the simulator's parameter file: python docs/make_simulation_doc.py"""

import tomllib
from importlib import resources
from pathlib import Path

from assessor.simulation.params import SimulationParams

params = SimulationParams.default()
raw = tomllib.loads((resources.files("assessor") / "data" / "simulation.toml").read_text(encoding="utf-8"))


def value_of(key: str):
    node = raw
    for part in key.split("."):
        node = node[part]
    return node["value"] if isinstance(node, dict) and "value" in node else node


lines = [
    "# The simulated world: every assumption and its source",
    "",
    "Generated from `assessor/data/simulation.toml` by `python docs/make_simulation_doc.py`; edit the",
    "data file, not this page. Sources in brackets [S..] are listed in the project's domain notes",
    "(shared/domain.md §6); \"assumption\" marks a value no published figure supports.",
    "",
    "The shipped model is fitted on this world. Numbers measured on simulated disputes describe",
    "how well the model learned the simulator, not how accurate it is on real disputes.",
    "",
    "| parameter | value | source |",
    "|---|---|---|",
]
for key, source in params.sources.items():
    value = str(value_of(key)).replace("|", "\\|")
    if len(value) > 80:
        value = value[:77] + "..."
    lines.append(f"| `{key}` | {value} | {source.replace('|', '/')} |")
Path(__file__).with_name("simulation.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
print(f"wrote {len(params.sources)} parameters")
