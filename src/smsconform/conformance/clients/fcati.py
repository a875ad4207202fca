"""The fcati client: one JSON webhook, POST with `Authorization: Bearer <token>` (000 § Introdução).

The catalog names the operations by `acao`: `saldo`, `enviar`, and the pseudo-operation `acao` (an
unknown one). Its code is the HTTP status as a string (no refusal body is published: those rules are
inferred) and its text the answer's `message` where the body has one. A parameter named `Authorization`
is the header, so that a trigger can send a wrong token.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..exchange import Exchange
from .base import HttpDialectClient, NotExercised, Result, valid_number

TEST_TEXT = "smsconform teste de conformidade"
PATH = "/webhook/api-sms"
HEADER = "Authorization"
COUNTRY_CODE = "55"


@dataclass(frozen=True)
class Sent:
    result: Result
    message_id: str | None
    remaining_balance: float | None
    exchange: Exchange


def _number(value: Any) -> float | None:
    """`balance` and `remaining_balance` are numbers (field-notes.md § fcati): a string is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


class FcatiClient(HttpDialectClient):
    dialect = "fcati"

    def call(self, operation: str, params: dict[str, Any], account: str = "main") -> Exchange:
        if operation in ("saldo", "enviar"):
            self.require(operation)
        body = dict(params)
        token = self.credentials(account).get("token", "")
        authorization = body.pop(HEADER, f"Bearer {token}")
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers[HEADER] = str(authorization)
        payload = json.dumps({k: v for k, v in body.items() if v is not None}, ensure_ascii=False)
        return self.send(operation, "POST", f"{self.spec.base_url}{PATH}", headers=headers,
                         content=payload.encode("utf-8"))

    @staticmethod
    def json(exchange: Exchange) -> dict[str, Any] | None:
        return exchange.json_object()

    def result(self, operation: str, exchange: Exchange) -> Result:
        body = self.json(exchange)
        text = body.get("message") if body is not None else None
        return Result(str(exchange.status), None if text is None else str(text), 200 <= exchange.status < 300)

    # -- valid requests -------------------------------------------------------------------------------
    def recipient(self, index: int = 0) -> str:
        """Country code + DDD + number, digits only (field-notes.md § fcati)."""
        return COUNTRY_CODE + valid_number(self.target, index)

    def valid_request(self, operation: str) -> dict[str, Any]:
        if operation in ("saldo", "acao"):
            return {"acao": "saldo"}
        if operation == "enviar":
            return {"acao": "enviar", "recipient": self.recipient(), "text": TEST_TEXT}
        raise NotExercised(f"no valid request is known for fcati.{operation}")

    # -- flows the families share ---------------------------------------------------------------------
    def balance(self, account: str = "main") -> float:
        exchange = self.call("saldo", {"acao": "saldo"}, account)
        body = self.json(exchange)
        value = _number(body.get("balance")) if body else None
        if exchange.status != 200 or value is None:
            raise AssertionError(f"fcati.saldo: no numeric balance in {exchange.status} {exchange.text[:300]!r}")
        return value

    def enviar(self, recipient: str, text: str = TEST_TEXT, account: str = "main") -> Sent:
        exchange = self.call("enviar", {"acao": "enviar", "recipient": recipient, "text": text}, account)
        body = self.json(exchange) or {}
        ident = body.get("messageId")
        return Sent(self.result("enviar", exchange), None if ident is None else str(ident),
                    _number(body.get("remaining_balance")), exchange)
