"""Variants of the SMPP 3.4 access (seed 003 § SMPP; the standard for what the seed leaves out)."""
from __future__ import annotations

from typing import Callable

from smsconform.emulator.smpp.server import Profile

from defects.registry import Patches

from .registry import variant
from .shared import override, replies_to_deliveries

BINDFAIL = 0x0000000D


@variant("smpp.bad-password-bindfail", "smpp", ["code:smpp.bind.0x0000000E"],
         "a bind with a wrong password is refused with ESME_RBINDFAIL instead of ESME_RINVPASWD",
         "003 § SMPP gives only the access profile; SMPP 3.4 § 5.1.3 allows either refusal of a bind")
def bad_password_bindfail(p: Patches) -> None:
    @override(p, Profile, "status")
    def status(original: Callable[..., int], self: Profile, operation: str, reason: str,
               default: str = "ESME_RSUBMITFAIL") -> int:
        if operation == "bind" and reason == "bad_credentials":
            return BINDFAIL
        return original(self, operation, reason, default)


@variant("smpp.replies-to-deliveries", "smpp", [],
         "each delivered message gets a handset reply: a deliver_sm that is not a receipt",
         "003 § SMPP: a receiver bind gets MOs; nothing says only when asked",
         scope=("code:smpp.dlr.*", "machine:smpp.*", "callback:smpp.*", "behaviour:smpp.*"))
def replies(p: Patches) -> None:
    replies_to_deliveries(p, "smpp")
