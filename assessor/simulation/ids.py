"""Synthetic mainland resident ID numbers (GB 11643-1999) for simulated people.

The region part is fictional: a real province prefix followed by a city code in the 90s, which
no prefecture uses, so a simulated number can never be a real person's. The check character is
the standard ISO 7064 MOD 11-2 one, so validators accept the numbers.
"""

from __future__ import annotations

from datetime import date

import numpy as np

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PROVINCES = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
              "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")


def check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def fake_region(rng: np.random.Generator) -> str:
    """A six-digit region code with a real province prefix and an unused city code (90-99)."""
    return f"{_PROVINCES[rng.integers(len(_PROVINCES))]}{rng.integers(90, 100)}{rng.integers(1, 100):02d}"


def sequence_code(rng: np.random.Generator, *, female: bool | None = None) -> int:
    """The three-digit order code; its last digit is odd for men and even for women."""
    if female is None:
        female = bool(rng.integers(2))
    return int(rng.integers(0, 500)) * 2 + (0 if female else 1)


def compose(region: str, birth: date, sequence: int) -> str:
    """An 18-character ID number: region, birth date, order code and MOD 11-2 check character."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def mask(number: str) -> str:
    """The common export mask: keep the first four and last four characters."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
