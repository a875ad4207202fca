"""Brazilian number validation, driven by contracts/emulator/numbering.yaml."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .refusal import Refused

_NON_DIGIT = re.compile(r"[^0-9]")
_MOBILE = re.compile(r"[0-9]{2}9[0-9]{8}")


def is_digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²" and other scripts' digits, which int() refuses."""
    return text.isascii() and text.isdigit()


ROW_ID_MAX = 2**63 - 1  # SQLite's largest integer: an id above it was never issued, and cannot be looked up


def is_row_id(text: str) -> bool:
    """ASCII digits naming an id SQLite can hold (ids, cost centres, campaigns are its rowids)."""
    return is_digits(text) and int(text) <= ROW_ID_MAX


@dataclass(frozen=True)
class Numbering:
    ddds: frozenset[str]

    @classmethod
    def from_contract(cls, data: dict[str, Any]) -> "Numbering":
        return cls(frozenset(f"{d:02d}" for d in data["ddds"]))

    def cleanup(self, raw: str) -> str:
        """The Anatel clean-up of ``z=1``: keep digits, drop carrier selection and country code, add the 9."""
        digits = _NON_DIGIT.sub("", raw)
        if digits.startswith("0") and len(digits) >= 12:
            digits = digits[3:] if len(digits) in (13, 14) else digits[1:]
        elif digits.startswith("0"):
            digits = digits[1:]
        if digits.startswith("55") and len(digits) in (12, 13):
            digits = digits[2:]
        if len(digits) == 10 and digits[2] in "6789":
            digits = digits[:2] + "9" + digits[2:]
        return digits

    def validate(self, raw: str, *, cleanup: bool = False, allow_landline: bool = False) -> str:
        """The number as stored, or :class:`Refused` with the reason the numbering plan gives."""
        number = self.cleanup(raw) if cleanup else raw.strip()
        if self.is_plain_mobile(number):
            return number
        if not number:
            raise Refused("invalid_record", "empty number")
        if not (number.isascii() and number.isdigit()):  # is_digits, inlined: this runs per message
            raise Refused("alpha_in_number", number)
        if len(number) not in (10, 11):
            raise Refused("invalid_record", f"{len(number)} digits")
        if number[:2] not in self.ddds:
            raise Refused("bad_ddd", number[:2])
        subscriber = number[2:]
        if len(number) == 11 and subscriber[0] != "9":
            raise Refused("prefix_ddd_mismatch", number)
        if len(number) == 10 and subscriber[0] in "01":
            raise Refused("bad_operator_prefix", number)
        if len(number) == 10 and subscriber[0] in "2345" and not allow_landline:
            raise Refused("landline", number)
        return number

    def is_plain_mobile(self, number: str) -> bool:
        """A valid mobile as written (a known DDD, the ninth digit, eight more): most numbers, checked at once."""
        return _MOBILE.fullmatch(number) is not None and number[:2] in self.ddds

    def is_landline(self, number: str) -> bool:
        return len(number) == 10 and number[2] in "2345"
