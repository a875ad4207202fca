"""Variants of the wbsapi SOAP web service (seed 003 § wbsapi.asmx)."""
from __future__ import annotations

from typing import Any, Callable

from smsconform.emulator.dialects.wbsapi import Wbsapi

from defects.registry import Patches

from .registry import variant
from .shared import override, slower_steps


@variant("wbsapi.unknown-hash-error", "wbsapi", ["code:wbsapi.status.255"],
         "status of a well-formed hash it never issued answers 2 ERRO (a status of its table) instead of 255",
         "003 § Método status prints no code for an unknown hash")
def unknown_hash_error(p: Patches) -> None:
    @override(p, Wbsapi, "_line")
    def line(original: Callable[..., str], self: Wbsapi, operation: str, digest: str, msg: Any, at: float) -> str:
        out = original(self, operation, digest, msg, at)
        if msg is None and operation == "status":
            code = self.codes.for_reason("status", "error")
            fields = out.split(";")
            fields[1:3] = [code.code, code.text]
            out = ";".join(fields)
        return out


@variant("wbsapi.slower-steps", "wbsapi", [],
         "a message takes 4 s, 9 s and 25 s from step to step instead of 1 s, 2 s and 5 s",
         "003 § TERMOS IMPORTANTES: 'O tempo de entrega é variável'",
         scope=("code:wbsapi.status.*", "code:wbsapi.cancel.*", "machine:wbsapi.*", "behaviour:wbsapi.*"))
def slower(p: Patches) -> None:
    slower_steps(p)
