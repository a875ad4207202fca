"""Defects of credits (issue 12, "Credits across the lifecycle"): a send billed to the wrong pool, or a
batch priced wrong. Each is caught by test_credits.py under a documented credit: rule (what we inferred,
a per-part price or a refund, is a deviation there and cannot catch a defect by design)."""
from __future__ import annotations

from typing import Any

from smsconform.emulator.core.service import Core
from smsconform.emulator.dialects.mensagem import Mensagem
from smsconform.emulator.dialects.speedmarket import Speedmarket

from .registry import Patches, around_submit, defect


def _mensagem_kind(p: Patches, f: str, kind: str) -> None:
    """mensagem sends with ``f`` bill the ``kind`` pool."""

    def factory(common: Any) -> Any:
        def patched(self: Mensagem, operation: str, params: dict[str, str], who: Any) -> dict[str, Any]:
            out = common(self, operation, params, who)
            if params.get("f", "").strip() == f:
                out["kind"] = kind
            return out

        return patched

    p.wrap(Mensagem, "_common", factory)


def _speedmarket_kind(p: Patches, types: set[int], kind: str) -> None:
    """speedmarket messages of ``types`` bill the ``kind`` pool."""

    def factory(item: Any) -> Any:
        def patched(self: Speedmarket, *args: Any, **kwargs: Any) -> Any:
            submission = item(self, *args, **kwargs)
            if submission.type in types:
                submission.kind = kind
            return submission

        return patched

    p.wrap(Speedmarket, "_item", factory)


@defect("credits.mensagem-flash-billed-as-long", "mensagem", ["credit:mensagem.send.f.1", "credit:mensagem.mult.f.1"],
        "a flash message (f=1) is debited from the Long code credits, leaving the Flash credits untouched",
        "003 § Consultar Créditos: 'Parâmetro 6: Quantidade de créditos SMS Flash'; f '1 = Comum Flash'")
def mensagem_flash_billed_as_long(p: Patches) -> None:
    _mensagem_kind(p, "1", "long")


@defect("credits.mensagem-short-billed-as-long", "mensagem", ["credit:mensagem.send.f.2", "credit:mensagem.mult.f.2"],
        "a short-code message (f=2) is debited from the Long code credits",
        "003 § Consultar Créditos: 'Parâmetro 7: Quantidade de créditos SMS Short code'; f '2 SMS Short'")
def mensagem_short_billed_as_long(p: Patches) -> None:
    _mensagem_kind(p, "2", "long")


@defect("credits.speedmarket-interactive-billed-as-sms", "speedmarket",
        ["credit:speedmarket.send-single.type.1", "credit:speedmarket.send-single.type.2"],
        "SMS Interativo (type 1 and 2) is debited from balance_1 (SMS) instead of balance_2",
        "001 § Consulta de Saldo: 'balance_2 Este campo indica o saldo atual do serviço SMS Interativo'")
def speedmarket_interactive_billed_as_sms(p: Patches) -> None:
    _speedmarket_kind(p, {1, 2}, "long")


@defect("credits.speedmarket-voice-billed-as-whatsapp", "speedmarket",
        ["credit:speedmarket.send-single.type.3", "credit:speedmarket.send-single.type.4"],
        "Torpedo de Voz (type 3 and 4) is debited from balance_4 (Whatsapp) instead of balance_3",
        "001 § Consulta de Saldo: 'balance_3 Este campo indica o saldo atual do serviço Torpedo de Voz'")
def speedmarket_voice_billed_as_whatsapp(p: Patches) -> None:
    _speedmarket_kind(p, {3, 4}, "whatsapp")


@defect("credits.speedmarket-whatsapp-media-billed-as-sms", "speedmarket",
        ["credit:speedmarket.send-single.type.6", "credit:speedmarket.send-single.type.7",
         "credit:speedmarket.send-single.type.8"],
        "Whatsapp image, audio and video (types 6-8) are debited from balance_1 (SMS); only text bills balance_4",
        "001 § Consulta de Saldo: 'balance_4 Este campo indica o saldo atual do serviço Whatsapp'")
def speedmarket_whatsapp_media_billed_as_sms(p: Patches) -> None:
    _speedmarket_kind(p, {6, 7, 8}, "long")


@defect("credits.speedmarket-batch-priced-as-one", "speedmarket", ["credit:speedmarket.send-multiple.message"],
        "send-multiple debits one credit per batch, whatever the number of messages in it",
        "001 § Envio em Lote: a batch of two one-part messages answers '\"credit\": \"2\"', each '\"credit\": \"1\"'")
def speedmarket_batch_priced_as_one(p: Patches) -> None:
    def change(core: Core) -> Any:
        accounts = core.accounts
        debit = accounts.debit

        def once(principal: Any, scope: str, needs: dict[str, int]) -> None:
            debit(principal, scope, {kind: min(amount, 1) for kind, amount in needs.items()})

        accounts.debit = once  # type: ignore[method-assign]
        return lambda: delattr(accounts, "debit")

    around_submit(p, "speedmarket", change)
