"""Masking of personal information in anything the assessor prints or writes.

ID numbers, phone numbers and payer accounts are personal information (PIPL); outputs show
them masked by default. Free text (chat excerpts, statements) is scrubbed too, because people
paste ID and phone numbers into chats and complaints.
"""

from __future__ import annotations

import re

# 18-digit IDs (last char may be X), 15-digit old IDs, and mainland mobile numbers.
_ID18 = re.compile(r"(?<![0-9])([1-9]\d{3})\d{10}(\d{3}[0-9Xx])(?![0-9])")
_ID15 = re.compile(r"(?<![0-9])([1-9]\d{3})\d{7}(\d{4})(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def mask_id(number: str | None) -> str | None:
    """``11010519491231002X`` -> ``1101**********002X``; keeps 4 + 4 characters."""
    if number is None:
        return None
    text = str(number).strip()
    if not text:
        return text
    if "*" in text:
        return text
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_account(value: str | None) -> str | None:
    """Payer accounts and names: keep the first and last character, at most."""
    if value is None:
        return None
    text = str(value).strip()
    if "*" in text or len(text) <= 2:
        return text if "*" in text else "*" * len(text)
    return text[0] + "*" * min(len(text) - 2, 6) + text[-1]


def scrub(text: str | None) -> str | None:
    """Mask ID and mobile numbers inside free text."""
    if not text:
        return text
    text = _ID18.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    text = _ID15.sub(lambda m: m.group(1) + "*" * 7 + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
