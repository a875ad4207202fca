"""Variants of the speedmarket REST API (seed 001; field-notes.md § speedmarket)."""
from __future__ import annotations

from typing import Any, Callable

from smsconform.emulator.core import Refused
from smsconform.emulator.dialects.speedmarket import Speedmarket

from defects.registry import Patches

from .registry import variant
from .shared import flat_billing, override, replies_to_deliveries, slower_steps

STATUS_SCOPE = ("callback:speedmarket.*", "machine:speedmarket.*", "behaviour:speedmarket.*")


@variant("speedmarket.flat-billing", "speedmarket", ["behaviour:speedmarket.billing"],
         "a long message costs one credit, whatever its number of parts (`credit` says so)",
         "001 § Envio Individual: 'credit Este campo indica quantos créditos foram debitados' (no price per part)",
         scope=("limit:speedmarket.*", "code:speedmarket.send-single.000", "code:speedmarket.send-multiple.001",
                *STATUS_SCOPE))
def billing(p: Patches) -> None:
    flat_billing(p, "speedmarket")


@variant("speedmarket.replies-to-deliveries", "speedmarket", [],
         "each delivered message gets a handset reply: an MO call-back (status 4 with content) and an mo_new entry",
         "field-notes.md § speedmarket: '`status=4` with `content` marks an inbound reply (MO)'",
         scope=(*STATUS_SCOPE, "code:speedmarket.mo_new.*", "code:speedmarket.mo.*"))
def replies(p: Patches) -> None:
    replies_to_deliveries(p, "speedmarket")


@variant("speedmarket.slower-steps", "speedmarket", [],
         "a message takes 4 s, 9 s and 25 s from step to step instead of 1 s, 2 s and 5 s",
         "001 gives three levels of status and no timings", scope=STATUS_SCOPE)
def slower(p: Patches) -> None:
    slower_steps(p)


@variant("speedmarket.mo-text-field", "speedmarket", ["behaviour:speedmarket.mo-record-keys"],
         "mo_new and mo name an MO's text `message` instead of `content`",
         "001 § Consulta por Novas Mensagens Recebidas prints no answer; `content` is the call-back's name",
         scope=("code:speedmarket.mo_new.*", "code:speedmarket.mo.*", "openapi:speedmarket.speedmarket_mo*",
                *STATUS_SCOPE))
def mo_text_field(p: Patches) -> None:
    @override(p, Speedmarket, "_render_mo")
    def render(original: Callable[..., dict[str, Any]], self: Speedmarket, item: Any, tz: Any) -> dict[str, Any]:
        return {("message" if key == "content" else key): value for key, value in original(self, item, tz).items()}


@variant("speedmarket.mo-new-unknown-type-empty", "speedmarket", ["code:speedmarket.mo_new.170"],
         "mo_new with a `type` outside 0-8 answers an empty list (200) instead of 170",
         "001 § Consulta por Novas Mensagens Recebidas: 'definição do tipo de serviço, através do parâmetro type' "
         "(what an unknown type gets is not said)")
def mo_new_unknown_type_empty(p: Patches) -> None:
    @override(p, Speedmarket, "mo_new")
    def mo_new(original: Callable[..., dict[str, Any]], self: Speedmarket, who: Any, params: dict[str, Any],
               body: Any) -> dict[str, Any]:
        try:
            return original(self, who, params, body)
        except Refused as refusal:
            if refusal.reason != "bad_search":
                raise
            return self._mo_answer("mo_new", [], None)


@variant("speedmarket.duplicate-campaign-110", "speedmarket", ["code:speedmarket.send-single.070/duplicate"],
         "a second send with a used campaign_id is refused with 110 instead of 070",
         "001 § Envio Individual offers the duplicate protection by campaign_id but prints no code for it")
def duplicate_110(p: Patches) -> None:
    @override(p, Speedmarket, "code")
    def code(original: Callable[..., tuple[str, str, bool]], self: Speedmarket, operation: str, reason: str,
             *also: str) -> tuple[str, str, bool]:
        return original(self, operation, "processing_error" if reason == "duplicate" else reason, *also)
