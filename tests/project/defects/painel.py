"""Defects of the painel API `/painel/api.ashx?action=...` (seed 002; field-notes.md § painel)."""
from __future__ import annotations

from typing import Any

from smsconform.emulator.core import Refused
from smsconform.emulator.core.campaigns import HELD, Campaign, Campaigns
from smsconform.emulator.dialects.painel import Painel
from smsconform.emulator.http import Request, Response

from .registry import Patches, defect

ACTIONS = ("sendsms", "getstatus", "getbalance", "holdsms", "releasesms")


@defect("painel.rate-limit-ignored", "painel",
        ["limit:painel.getstatus.rate", "limit:painel.getbalance.rate", "code:painel.getstatus.0/rate_limited",
         "code:painel.getbalance.0/rate_limited"],
        "getstatus and getbalance answer every call, however often",
        "002 § Obtendo a campanha / Saldo do usuário: 'Esse comando só poderá ser solicitado de 1 em 1 minuto'")
def rate_limit_ignored(p: Patches) -> None:
    p.replace(Painel, "_rate", lambda self, who, action: None)


@defect("painel.login-text-wrong", "painel",
        [f"code:painel.{action}.0/bad_credentials" for action in ACTIONS],
        "a bad login reads 'FALHA AO REALIZAR O LOGIN' instead of 'FALHA AO REALIZAR LOGIN'",
        "field-notes.md § painel: 'bad login: {\"status\":0,\"data\":null,\"msg\":\"FALHA AO REALIZAR LOGIN\"}'")
def login_text_wrong(p: Patches) -> None:
    def factory(envelope: Any) -> Any:
        def patched(self: Painel, operation: str, reason: str) -> dict[str, Any]:
            out = envelope(self, operation, reason)
            if reason == "bad_credentials":
                out["msg"] = "FALHA AO REALIZAR O LOGIN"
            return out

        return patched

    p.wrap(Painel, "failure_envelope", factory)


@defect("painel.hold-without-waiting", "painel",
        ["code:painel.holdsms.0/wrong_state", "machine:painel.campaign"],
        "holdsms 'holds' a campaign that has nothing left to send (answers SUCESSO)",
        "002 § Prender a campanha; machines.yaml painel.campaign: only a waiting campaign can be held")
def hold_without_waiting(p: Patches) -> None:
    def hold(self: Campaigns, campaign: Campaign) -> int:
        self.core.tick()
        with self.core.store.transaction():
            if campaign.state == HELD:
                raise Refused("wrong_state", campaign.state)
            waiting = [msg for msg in self._stored(campaign.id) if msg.state == "waiting"]
            for msg in waiting:
                self.core.pause(msg)
            self._set_state(campaign.id, HELD)  # the defect: held even with nothing waiting
        return len(waiting)

    p.replace(Campaigns, "hold", hold)


@defect("painel.data-callback-fields-swapped", "painel",
        ["callback:painel.data_callback"],
        "data_callback sends celular first and codigo_campanha second",
        "002 § Parâmetros contidos no data_callback: 'codigo_campanha;celular;resposta;data_resposta;status;interno_key'")
def data_callback_fields_swapped(p: Patches) -> None:
    def factory(record: Any) -> Any:
        def patched(self: Painel, *args: Any, **kwargs: Any) -> str:
            fields = record(self, *args, **kwargs).split(";")
            fields[0], fields[1] = fields[1], fields[0]
            return ";".join(fields)

        return patched

    p.wrap(Painel, "_record", factory)


@defect("painel.long-number-truncated", "painel",
        ["limit:painel.sendsms.number", "code:painel.sendsms.0/bad_number"],
        "sendsms keeps the last 11 digits of a longer number (as if stripping a country code) and sends to it",
        "002 § Enviando SMS pela API: 'não é permitido colocar o código do país, ex: 553199999999'; "
        "field-notes.md: 'Numbers: 10 or 11 digits'")
def long_number_truncated(p: Patches) -> None:
    def factory(sendsms: Any) -> Any:
        def patched(self: Painel, who: Any, kind: str, params: dict[str, str]) -> dict[str, Any]:
            numbers = [n.strip() for n in params.get("numbers", "").split(",")]
            fixed = [n[-11:] if n.isdigit() and len(n) > 11 else n for n in numbers]
            return sendsms(self, who, kind, {**params, "numbers": ",".join(fixed)})

        return patched

    p.wrap(Painel, "sendsms", factory)


@defect("painel.unknown-action-json", "painel",
        ["code:painel.action.0", "grammar:painel.invalid_operation", "openapi:painel.painel_unknown_action",
         "openapi:painel.painel_unknown_action_post"],
        "an unknown action is answered with the JSON envelope instead of the plain text '0:OPERACAO INVALIDA'",
        "field-notes.md § painel: 'an unknown action: the plain text 0:OPERACAO INVALIDA (not JSON)'")
def unknown_action_json(p: Patches) -> None:
    def factory(handle: Any) -> Any:
        def patched(self: Painel, request: Request) -> Response:
            action = request.params(lower=True).get("action", "").strip().lower()
            if action not in self.actions:
                code = self.codes.for_reason("action", "unknown_method")
                return Response.json({"status": int(code.code), "data": None, "msg": code.text})
            return handle(self, request)

        return patched

    p.wrap(Painel, "handle", factory)
