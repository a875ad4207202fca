"""Variants of the painel API (seed 002; field-notes.md § painel): where api.ashx's answers are not published."""
from __future__ import annotations

from typing import Any, Callable

from smsconform.emulator.core import Refused
from smsconform.emulator.core.campaigns import Campaign, Campaigns
from smsconform.emulator.dialects.painel import Painel

from defects.registry import Patches

from .registry import variant
from .shared import override, replies_to_deliveries, slower_steps

FAILURES = ("code:painel.sendsms.0/bad_number", "code:painel.sendsms.0/empty_message",
            "code:painel.sendsms.0/bad_schedule", "code:painel.sendsms.0/insufficient_credits",
            "code:painel.getstatus.0/not_found", "code:painel.holdsms.0/not_found",
            "code:painel.releasesms.0/not_found", "code:painel.getstatus.0/rate_limited",
            "code:painel.getbalance.0/rate_limited")
OTHER_TEXT = "NAO FOI POSSIVEL PROCESSAR A SOLICITACAO"


@variant("painel.failure-texts", "painel", FAILURES,
         "every status-0 failure but a bad login reads another msg text",
         "field-notes.md § painel: 'other failures: {\"status\":0,\"data\":null,\"msg\":\"<text>\"}' (no text published)")
def failure_texts(p: Patches) -> None:
    @override(p, Painel, "failure_envelope")
    def envelope(original: Callable[..., dict[str, Any]], self: Painel, operation: str, reason: str) -> dict[str, Any]:
        out = original(self, operation, reason)
        if reason != "bad_credentials":
            out["msg"] = OTHER_TEXT
        return out


def _no_op_when_wrong_state(p: Patches, name: str) -> None:
    @override(p, Campaigns, name)
    def move(original: Callable[..., int], self: Campaigns, campaign: Campaign) -> int:
        try:
            return original(self, campaign)
        except Refused as refusal:
            if refusal.reason != "wrong_state":
                raise
            return 0   # nothing to move: answered as a success that changed nothing


@variant("painel.hold-finished-no-op", "painel", ["code:painel.holdsms.0/wrong_state"],
         "holdsms of a campaign with nothing left to send answers SUCESSO and changes nothing",
         "002 § Prender a campanha gives only the URL; what holding a sent campaign answers is not published",
         scope=("machine:painel.*",))
def hold_finished_no_op(p: Patches) -> None:
    _no_op_when_wrong_state(p, "hold")


@variant("painel.release-unheld-no-op", "painel", ["code:painel.releasesms.0/wrong_state"],
         "releasesms of a campaign that is not held answers SUCESSO and changes nothing",
         "002 § Liberar a campanha gives only the URL; what releasing a campaign never held answers is not published",
         scope=("machine:painel.*",))
def release_unheld_no_op(p: Patches) -> None:
    _no_op_when_wrong_state(p, "release")


@variant("painel.replies-to-deliveries", "painel", [],
         "each delivered destination answers with a handset reply: a data_callback with `resposta`",
         "002 § Parâmetros contidos no data_callback: the record carries `resposta` and `data_resposta`",
         scope=("callback:painel.*", "machine:painel.*", "behaviour:painel.*"))
def replies(p: Patches) -> None:
    replies_to_deliveries(p, "painel")


@variant("painel.slower-steps", "painel", [],
         "a destination takes 4 s, 9 s and 25 s from step to step instead of 1 s, 2 s and 5 s",
         "003 § TERMOS IMPORTANTES: 'O tempo de entrega é variável'; 002 gives no timings",
         scope=("callback:painel.*", "machine:painel.*", "behaviour:painel.*"))
def slower(p: Patches) -> None:
    slower_steps(p)


@variant("painel.carrier-names", "painel", [],
         "getstatus names the carriers otherwise (upper case, with the group: 'CLARO S.A.')",
         "field-notes.md § painel: getstatus column 10 is `carrier`, with no list of names",
         scope=("code:painel.getstatus.*", "machine:painel.*"))
def carrier_names(p: Patches) -> None:
    @override(p, Painel, "carrier")
    def carrier(original: Callable[..., str], self: Painel, operator: str | None) -> str:
        name = original(self, operator)
        return f"{name.upper()} S.A." if name else name
