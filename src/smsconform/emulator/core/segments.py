"""How carriers count a text: GSM 03.38 in 160-character parts (153 when concatenated), else UCS-2 in 70 (67).

Credits are debited per part, so the emulator must count exactly as a carrier would; characters of the
GSM extension table (``{}[]~|^€\\``) take two septets.
"""
from __future__ import annotations

from math import ceil

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM_BASIC)
_EXTENDED = frozenset(GSM_EXTENDED)


def is_gsm(text: str) -> bool:
    return all(ch in _BASIC or ch in _EXTENDED for ch in text)


def septets(text: str) -> int:
    return sum(2 if ch in _EXTENDED else 1 for ch in text)


def count(text: str) -> int:
    """Number of SMS parts the text takes (at least one: an empty text is never billed as zero)."""
    if text.isascii() and not any(ch in _EXTENDED for ch in text) and "`" not in text:
        n = len(text)
        return 1 if n <= 160 else ceil(n / 153)
    if is_gsm(text):
        n = septets(text)
        return 1 if n <= 160 else ceil(n / 153)
    n = len(text.encode("utf-16-be")) // 2
    return 1 if n <= 70 else ceil(n / 67)
