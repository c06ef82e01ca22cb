"""Masking of personal information in anything the assessor prints or writes.

ID numbers, phone numbers and payer accounts are personal information (PIPL); outputs show
them masked by default. Free text (chat excerpts, statements) is scrubbed too, because people
paste ID and phone numbers into chats and complaints.
"""

from __future__ import annotations

import re

# 18-digit IDs (last char may be X), 15-digit old IDs, and mainland mobile numbers.
_ID18 = re.compile(r"(?<![0-9])([1-9]\d{3})\d{10}(\d{3}[0-9Xx])(?![0-9])")
_ID15 = re.compile(r"(?<![0-9])([1-9]\d{3})\d{8}(\d{3})(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def mask_id(number: str | None) -> str | None:
    """``11010519491231002X`` -> ``1101**********002X`` (the ID module's rule, one place)."""
    from assessor.idcard import mask

    return mask(number)


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
    text = _ID15.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
