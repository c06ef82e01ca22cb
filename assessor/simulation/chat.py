"""Simulated chat lines and claim statements from the simulator's own templates."""

from __future__ import annotations

import re

import numpy as np

from assessor.simulation.params import ChatTemplates

_SLOT = re.compile(r"{(\w+)}")
_GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三", "高一", "高二", "高三")
_NUMBERS = ("两", "三", "四", "五", "十")


def grade_for(age: int) -> str:
    """The school year a child of this age is usually in (6 = first year of primary)."""
    if age < 6:
        return "幼儿园大班"
    return _GRADES[min(age - 6, len(_GRADES) - 1)]


class Writer:
    """Fills register templates; one per case, so a child's grade stays consistent."""

    def __init__(self, templates: ChatTemplates, *, child_age: int) -> None:
        self._t = templates
        self._fixed = {"grade": grade_for(child_age), "age": str(child_age)}

    def _fill(self, template: str, rng: np.random.Generator) -> str:
        values: dict[str, str] = {}
        for slot in _SLOT.findall(template):
            if slot in self._fixed:
                values[slot] = self._fixed[slot]
            elif slot == "n":
                values[slot] = _NUMBERS[rng.integers(len(_NUMBERS))]
            else:
                choices = self._t.slots.get(slot) or self._t.statements.get(slot)
                if not choices:
                    raise KeyError(f"chat template slot {{{slot}}} has no values")
                values[slot] = choices[rng.integers(len(choices))]
        return template.format(**values) if values else template

    def line(self, register: str, rng: np.random.Generator) -> str:
        options = self._t.registers[register]
        return self._fill(options[rng.integers(len(options))], rng)

    def statement(self, rng: np.random.Generator, *, season: str | None) -> str:
        options = self._t.statements["templates"]
        text = options[rng.integers(len(options))]
        if season is not None and "{season}" in text:
            text = text.replace("{season}", season)
        return self._fill(text, rng)
