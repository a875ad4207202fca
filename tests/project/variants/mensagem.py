"""Variants of the mensagem HTTP API (seed 003): where its tables leave the answer open."""
from __future__ import annotations

from typing import Callable

from smsconform.emulator.dialects.mensagem import Mensagem

from defects.registry import Patches

from .registry import variant
from .shared import flat_billing, override, replies_to_deliveries, slower_steps

STATUS_SCOPE = ("callback:mensagem.*", "machine:mensagem.*", "behaviour:mensagem.*")


@variant("mensagem.unknown-user-99", "mensagem", ["code:mensagem.send.98", "code:mensagem.mult.98"],
         "send and mult answer an integration user never issued with 99 CLIENTE INVALIDO instead of 98",
         "003 § Envio de SMS Simples: send takes only `u`; which of 98 and 99 an unknown `u` gets is not said")
def unknown_user_99(p: Patches) -> None:
    @override(p, Mensagem, "error")
    def error(original: Callable[..., str], self: Mensagem, operation: str, reason: str) -> str:
        if reason == "bad_credentials" and operation in ("send", "mult"):
            reason = "invalid_client"
        return original(self, operation, reason)


@variant("mensagem.flat-billing", "mensagem", ["behaviour:mensagem.billing"],
         "a long message costs one credit, whatever its number of parts",
         "003 § Consultar Créditos gives balances per mode, never a price per part",
         scope=("limit:mensagem.*", *STATUS_SCOPE))
def billing(p: Patches) -> None:
    flat_billing(p, "mensagem")


@variant("mensagem.replies-to-deliveries", "mensagem", [],
         "each delivered message gets a handset reply (an MO call-back)",
         "003 § TERMOS IMPORTANTES: an MO is 'originada pelo usuário (aparelho)', whenever the handset sends it", scope=STATUS_SCOPE)
def replies(p: Patches) -> None:
    replies_to_deliveries(p, "mensagem")


@variant("mensagem.slower-steps", "mensagem", [],
         "a message takes 4 s, 9 s and 25 s from step to step instead of 1 s, 2 s and 5 s",
         "003 § TERMOS IMPORTANTES: 'O tempo de entrega é variável'", scope=STATUS_SCOPE)
def slower(p: Patches) -> None:
    slower_steps(p)


