"""Mainland resident ID numbers (GB 11643-1999): checksum, birth date, sex, exact age, masking.

Layout of the 18-character form: 6-digit region code, birth date YYYYMMDD, 3-digit sequence
(odd = male, even = female), and a check character by ISO 7064 MOD 11-2. The old 15-digit
form has a 6-digit YYMMDD birth date (born 19YY) and no check character.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from assessor.privacy import mask_id

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
_CHECK = "10X98765432"


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("check_char needs exactly 17 digits")
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def upgrade15(number: str) -> str:
    """Old 15-digit ID -> 18 digits: insert the century 19 and append the check character."""
    number = number.strip()
    if len(number) != 15 or not number.isdigit():
        raise ValueError("not a 15-digit ID number")
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_char(first17)


def age_at(birth_date: date, moment: date | datetime) -> int:
    """Completed years (周岁) on the moment's local date; the birthday itself counts.

    A person born on 29 February completes a year on 1 March in non-leap years: comparing
    (month, day) pairs does exactly that, because (2, 28) < (2, 29) <= (3, 1).
    """
    day = moment.date() if isinstance(moment, datetime) else moment
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A parsed ID number. Its repr shows only the masked form."""

    raw: str = field(repr=False)
    normalized: str = field(repr=False)
    valid: bool | None
    masked: bool
    birth_date: date | None
    sex: Literal["male", "female"] | None
    region_code: str | None
    problems: tuple[str, ...] = ()

    def __str__(self) -> str:
        return mask_id(self.normalized) or ""

    def __repr__(self) -> str:
        return f"IdNumber({self}, valid={self.valid}, birth_date={self.birth_date})"

    def age_at(self, moment: date | datetime) -> int | None:
        return None if self.birth_date is None else age_at(self.birth_date, moment)


def _date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def parse_id(number: str | None, *, birth_date: date | None = None) -> IdNumber | None:
    """Parse an ID number; never raises. ``None`` for no number.

    Masked numbers (``3101**********1234``) can't be checksummed (``valid=None``); the birth
    date then comes from ``birth_date``. When the digits and ``birth_date`` disagree, the
    digits win and the conflict is listed in ``problems``.
    """
    if number is None or not str(number).strip():
        return None
    raw = str(number)
    text = raw.strip().replace(" ", "").upper()
    problems: list[str] = []
    if "*" in text:
        digits_ok = all(c.isdigit() or c in "*X" for c in text)
        born = None
        if len(text) == 18 and text[6:14].isdigit():
            born = _date(text[6:14])
        born = born or birth_date
        if not digits_ok:
            problems.append("masked ID contains characters other than digits, X and *")
        if born is None:
            problems.append("masked ID without a birth date: age unknown")
        sex = None
        if len(text) == 18 and text[16].isdigit():
            sex = "male" if int(text[16]) % 2 else "female"
        region = text[:6] if text[:6].isdigit() else None
        return IdNumber(raw, text, None, True, born, sex, region, tuple(problems))
    if len(text) == 15 and text.isdigit():
        text = upgrade15(text)
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return IdNumber(raw, text, False, False, birth_date, None, None,
                        ("not an 18-digit (or old 15-digit) ID number",))
    born = _date(text[6:14])
    if born is None or born.year < 1900:
        problems.append(f"birth date {text[6:14]} is not a real date")
    expected = check_char(text[:17])
    if text[17] != expected:
        problems.append(f"check character is {text[17]}, expected {expected}")
    if born is not None and birth_date is not None and born != birth_date:
        problems.append("the ID's birth date differs from the birth date given")
    sex = "male" if int(text[16]) % 2 else "female"
    return IdNumber(raw, text, not problems or problems == ["the ID's birth date differs from the birth date given"],
                    False, born or birth_date, sex, text[:6], tuple(problems))


def is_valid(number: str) -> bool:
    parsed = parse_id(number)
    return bool(parsed and parsed.valid)


def mask(number: str | None) -> str | None:
    """``11010519491231002X`` -> ``1101**********002X``."""
    return mask_id(number)
