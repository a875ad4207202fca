"""Defects of the FCATI webhook (seed 000; field-notes.md § fcati)."""
from __future__ import annotations

import json
import unicodedata
from typing import Any

from smsconform.emulator.core import Refused
from smsconform.emulator.core.accounts import Accounts, Principal
from smsconform.emulator.dialects.fcati import Fcati
from smsconform.emulator.http import Request, Response

from .registry import Patches, defect

WEBHOOK_SCHEMA = ("openapi:fcati.fcati_webhook", "openapi:fcati.fcati_webhook_root")


def _rewrite_json(response: Response, change: Any) -> Response:
    body = json.loads(response.body.decode("utf-8"))
    changed = Response.json(change(body), response.status)
    changed.headers = list(response.headers)
    return changed


@defect("fcati.wrong-token-accepted", "fcati",
        ["code:fcati.saldo.401", "code:fcati.enviar.401"],
        "an unknown Bearer token is taken as the demo account's",
        "000 § Introdução: Autenticação: 'Todas as chamadas ... devem ser obrigatoriamente autenticadas "
        "utilizando um Token Bearer'")
def wrong_token_accepted(p: Patches) -> None:
    def factory(by_token: Any) -> Any:
        def patched(self: Accounts, token: str) -> Principal:
            try:
                return by_token(self, token)
            except Refused:
                return self._principal("u.fixture = ?", "main")  # the defect: a fallback account

        return patched

    p.wrap(Accounts, "by_token", factory)


@defect("fcati.accent-dropped", "fcati",
        ["code:fcati.saldo.400", "code:fcati.enviar.400", "code:fcati.saldo.401", "code:fcati.enviar.401",
         "code:fcati.acao.400"],
        "refusal texts lose their accents ('Requisicao invalida', 'Token ausente ou invalido')",
        "codes.yaml fcati: the texts are verbatim Portuguese, 'Requisição inválida', 'Token ausente ou inválido'")
def accent_dropped(p: Patches) -> None:
    def strip(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))

    def factory(refusal: Any) -> Any:
        def patched(self: Fcati, operation: str, reason: str) -> Response:
            return _rewrite_json(refusal(self, operation, reason),
                                 lambda body: {k: strip(v) if isinstance(v, str) else v for k, v in body.items()})

        return patched

    p.wrap(Fcati, "refusal", factory)


@defect("fcati.remaining-balance-before-debit", "fcati",
        ["code:fcati.enviar.200"],
        "remaining_balance is the balance read before the SMS was paid for",
        "000 § Envio de Mensagens: 'o recálculo do seu novo saldo após o abatimento do custo do SMS "
        "(remaining_balance)'")
def remaining_balance_before_debit(p: Patches) -> None:
    def factory(enviar: Any) -> Any:
        def patched(self: Fcati, who: Principal, body: dict[str, Any]) -> Response:
            before = self._balance(who)
            response = enviar(self, who, body)
            if response.status != 200:
                return response
            return _rewrite_json(response, lambda out: {**out, "remaining_balance": before})

        return patched

    p.wrap(Fcati, "enviar", factory)


@defect("fcati.message-id-number", "fcati",
        ["code:fcati.enviar.200", *WEBHOOK_SCHEMA],
        "messageId is sent as a JSON number instead of a string of digits",
        "000 § Envio de Mensagens: '\"messageId\": \"227336587\"'; field-notes.md: 'messageId is a string of digits'")
def message_id_number(p: Patches) -> None:
    def factory(enviar: Any) -> Any:
        def patched(self: Fcati, who: Principal, body: dict[str, Any]) -> Response:
            response = enviar(self, who, body)
            if response.status != 200:
                return response
            return _rewrite_json(response, lambda out: {**out, "messageId": int(out["messageId"])})

        return patched

    p.wrap(Fcati, "enviar", factory)


@defect("fcati.balance-as-string", "fcati",
        ["code:fcati.saldo.200", *WEBHOOK_SCHEMA],
        "saldo answers the balance as a string: {\"balance\": \"998\"}",
        "000 § Consultar Saldo: '{\"balance\": 998}'; field-notes.md: 'balance and remaining_balance are numbers'")
def balance_as_string(p: Patches) -> None:
    def factory(handle: Any) -> Any:
        def patched(self: Fcati, request: Request) -> Response:
            response = handle(self, request)
            if response.status != 200:
                return response
            return _rewrite_json(response, lambda out: {k: (str(v) if k == "balance" else v) for k, v in out.items()})

        return patched

    p.wrap(Fcati, "handle", factory)
