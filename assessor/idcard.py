"""Mainland resident ID numbers (GB 11643-1999): validation, birth date, sex and age.

An ID number is often the only hard evidence of who registered an account and how old they
were when a payment was made, so it is parsed carefully but never trusted blindly: every
doubt becomes a plain-English entry in ``IdNumber.problems`` instead of an exception.

Layout of the 18-character form: 6-digit region code (GB/T 2260), 8-digit birth date
YYYYMMDD, 3-digit sequence (odd = male, even = female) and an ISO 7064 MOD 11-2 check
character. The old 15-character form (GB 11643-1989) has a YYMMDD date in 19YY and no check
character. The region code is only checked for its shape: GB/T 2260 is revised every year and
numbers issued under retired codes stay valid for life.

Privacy: ``IdNumber`` never shows its raw number in ``repr``/``str``, ``mask`` hides the
birth date, and no problem text or error message quotes a digit that ``mask`` would hide.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from operator import mul
from typing import Literal

__all__ = ["IdNumber", "age_at", "check_char", "is_valid", "mask", "parse_id", "upgrade15"]

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK = "10X98765432"  # weighted sum mod 11 -> check character
_ZERO_WEIGHT = ord("0") * sum(_WEIGHTS)  # what the byte codes add over the digit values
_ID18 = re.compile(r"[0-9]{17}[0-9X]")
_ID15 = re.compile(r"[0-9]{15}")
_MASKED = re.compile(r"[0-9*]*[0-9X*]")  # digits and '*', X only last
_OTHER = re.compile(r"[^0-9X*]")
_ONE_RUN = re.compile(r"([0-9]*)\*+([0-9]*X?)")
_EARLIEST = date(1900, 1, 1)

Sex = Literal["male", "female"]


def _clean(number: object) -> str:
    """Full-width digits and '＊' to ASCII, whitespace removed, x -> X."""
    text = number if isinstance(number, str) else str(number)
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _as_date(value: date | datetime) -> date:
    """A datetime's own (local) calendar date; comparing date with datetime would raise."""
    return value.date() if isinstance(value, datetime) else value


def age_at(birth_date: date, moment: date | datetime) -> int:
    """Completed years (周岁) at ``moment``; the birthday itself counts.

    Pure integer arithmetic because it runs once per payment. A datetime counts by its own
    calendar date: the caller has already put it into the case's timezone.

    Someone born on 29 February completes a year on 1 March in non-leap years. Reason: under
    the Civil Code (Art. 202) a year counted from 29 February ends on the last day of February
    when that month has no 29th, so the new year of age begins the next day, 1 March; and when
    in doubt the person stays a minor for one more day, which is the protective reading for
    minors' payments. Raises ``ValueError`` if ``moment`` is before the birth.
    """
    years = moment.year - birth_date.year
    if moment.month * 100 + moment.day < birth_date.month * 100 + birth_date.day:
        years -= 1
    if years < 0:
        raise ValueError("moment is before the birth date")
    return years


@dataclass(frozen=True, slots=True, repr=False)
class IdNumber:
    """A parsed ID number. ``repr``/``str`` show only the masked form."""

    raw: str
    normalized: str
    valid: bool | None
    masked: bool
    birth_date: date | None
    sex: Sex | None
    region_code: str | None
    problems: tuple[str, ...]

    def age_at(self, moment: date | datetime) -> int | None:
        """Completed years at ``moment``; None if the birth date is unknown or after ``moment``."""
        birth = self.birth_date
        if birth is None:
            return None
        try:
            return age_at(birth, moment)
        except ValueError:
            return None

    def __str__(self) -> str:
        return mask(self.normalized) or ""

    def __repr__(self) -> str:
        return (f"IdNumber({str(self)!r}, valid={self.valid!r}, masked={self.masked!r}, "
                f"sex={self.sex!r}, problems={len(self.problems)})")


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_char needs exactly 17 ASCII digits")
    # Digit values as byte codes minus ord("0"), summed in C: this runs for every ID parsed.
    return _CHECK[(sum(map(mul, first17.encode("ascii"), _WEIGHTS)) - _ZERO_WEIGHT) % 11]


def upgrade15(number: str) -> str:
    """Old 15-digit form -> 18 characters: insert "19" before the year, append the check char.

    Only the shape is checked here; whether the birth date is real is ``parse_id``'s job.
    """
    text = _clean(number)
    if not _ID15.fullmatch(text):
        raise ValueError("upgrade15 needs a 15-digit number")
    first17 = text[:6] + "19" + text[6:]
    return first17 + check_char(first17)


def is_valid(number: str, *, reference: date | datetime | None = None) -> bool:
    """True only for an unmasked number that passes every check (15-digit forms included)."""
    parsed = parse_id(number, reference=reference)
    return parsed is not None and parsed.valid is True


def mask(number: str | None) -> str | None:
    """``11010519491231002X`` -> ``1101**********002X``: first 4 and last 4 kept.

    The kept tail never reaches the birth-date positions: a 15-digit number keeps its last 3
    (``1101********002``), other lengths of 16-17 keep fewer, anything shorter than 15 becomes
    all ``*``. Already-masked input (any ``*``) is returned as given, whitespace removed.
    """
    if number is None:
        return None
    text = _clean(number)
    if "*" in text:
        return text
    size = len(text)
    if size < 15:
        return "*" * size
    tail = 3 if size == 15 else min(4, size - 14)
    return text[:4] + "*" * (size - 4 - tail) + text[size - tail:]


def _birth(year: int, month: int, day: int, reference: date) -> tuple[date | None, str | None]:
    """The birth date written in the number, or the reason it cannot be one."""
    try:
        born = date(year, month, day)
    except ValueError:
        return None, "birth date in the number is not a real date"
    if born < _EARLIEST:
        return None, "birth date in the number is before 1900"
    if born > reference:
        return None, f"birth date in the number is after the reference date {reference.isoformat()}"
    return born, None


def _sex(digit: str) -> Sex | None:
    return None if digit == "*" else ("male" if int(digit) % 2 else "female")


def _positions(text: str) -> tuple[str, bool, str | None]:
    """Masked text -> (characters by position, '*' = hidden; 15-digit form?; problem).

    Exactly 18 (or 15 without X) characters: every visible character sits where it stands.
    Other lengths must be one run of ``*`` between a prefix and a suffix; they are read as an
    18-character number with the prefix at the start and the suffix at the end.
    """
    if len(text) == 18 or (len(text) == 15 and not text.endswith("X")):
        return text, len(text) == 15, None
    run = _ONE_RUN.fullmatch(text)
    if run is None:
        return text, False, "masked number has several runs of '*' and is not 18 characters long"
    head, tail = run.groups()
    if len(head) + len(tail) > 17:
        return text, False, "masked number shows more characters than an ID number has"
    return head + "*" * (18 - len(head) - len(tail)) + tail, False, None


def _read(text: str, reference: date) -> tuple[str, bool | None, bool, date | None, Sex | None,
                                               str | None, list[str]]:
    """Number text -> (normalized, valid, masked, birth, sex, region, number problems)."""
    if _ID18.fullmatch(text):
        born, issue = _birth(int(text[6:10]), int(text[10:12]), int(text[12:14]), reference)
        problems = [issue] if issue else []
        expected = check_char(text[:17])
        if text[17] != expected:
            problems.append(f"check digit is {text[17]}, expected {expected}")
        return text, not problems, False, born, _sex(text[16]), text[:6], problems
    if _ID15.fullmatch(text):
        born, issue = _birth(1900 + int(text[6:8]), int(text[8:10]), int(text[10:12]), reference)
        return (upgrade15(text), issue is None, False, born, _sex(text[14]), text[:6],
                [issue] if issue else [])
    if "*" in text and _MASKED.fullmatch(text):
        chars, old, placing = _positions(text)
        if placing:
            return text, False, True, None, None, None, [placing]
        ymd, sex_at = ("19" + chars[6:12], 14) if old else (chars[6:14], 16)
        born, issue = None, None
        if "*" not in ymd:
            born, issue = _birth(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]), reference)
        region = chars[:6] if "*" not in chars[:6] else None
        return text, (False if issue else None), True, born, _sex(chars[sex_at]), region, [issue] if issue else []
    if _OTHER.search(text):
        problem = "contains characters other than digits, X and *"
    elif "X" in text[:-1]:
        problem = "X may only be the last character"
    else:
        problem = f"expected 18 characters (or 15 for the old form), got {len(text)}"
    return text, False, "*" in text, None, None, None, [problem]


def _given_birth(value: object, reference: date) -> tuple[date | None, str | None]:
    """An explicitly given birth date, checked like the number's own."""
    if value is None:
        return None, None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None, "given birth date is not a date (expected YYYY-MM-DD)"
    if not isinstance(value, date):
        return None, "given birth date is not a date"
    try:
        value = _as_date(value)
        outside = value < _EARLIEST or value > reference
    except (TypeError, ValueError):  # e.g. pandas NaT, which poses as a datetime
        return None, "given birth date is not a date"
    if outside:
        return None, f"given birth date {value.isoformat()} is before 1900 or after {reference.isoformat()}"
    return value, None


def parse_id(number: str | None, *, birth_date: date | None = None,
             reference: date | datetime | None = None) -> IdNumber | None:
    """Parse an ID number; never raises on bad input, returns None for None or blank text.

    ``reference`` (default: today) is the latest possible birth date. ``birth_date`` is a
    birth date known from elsewhere (e.g. the real-name record); it fills in what a masked
    number hides. When it disagrees with the date written in the number (masked or not), the
    number wins: it is what was registered, and its check character vouches for its digits.
    If the number fails its checks (some digit is mistyped), the given date wins. Either way
    the disagreement is listed in ``problems``.
    """
    if number is None:
        return None
    raw = number if isinstance(number, str) else str(number)
    ref = _as_date(reference) if reference is not None else date.today()
    text = _clean(raw)
    if not text:
        return None
    normalized, valid, masked, born, sex, region, problems = _read(text, ref)
    given, issue = _given_birth(birth_date, ref)
    if issue:
        problems.append(issue)
    if given is not None and born is not None and given != born:
        if valid is False:
            problems.append(f"given birth date {given.isoformat()} differs from the one in the number;"
                            " the number fails its checks, so the given date is used")
            born = given
        else:
            problems.append(f"given birth date {given.isoformat()} differs from the one in the number;"
                            " the number's date is used")
    born = born if born is not None else given
    if masked and born is None and valid is None:
        problems.append("the mask hides the birth date and none was given: age unknown")
    return IdNumber(raw=raw, normalized=normalized, valid=valid, masked=masked, birth_date=born, sex=sex,
                    region_code=region, problems=tuple(problems))
