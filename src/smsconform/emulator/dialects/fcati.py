"""fcati: the FCATI "API de SMS" webhook (seed 000): POST JSON with a Bearer token, `acao` saldo or enviar.

Served at the seed's `/webhook/api-sms` and at the root path `/`, where the provider's newer revision
moved it (field-notes.md); `/` answers only POSTs, so it never shadows another dialect's path. The send
body is the later revision's `{"acao": "enviar", "recipient": "5511947651152", "text": "..."}`
(field-notes.md; the seed's own send example carries the balance body, contradictions.yaml).

Successes are documented: `{"balance": N}` and `{"messageId": "<digits>", "message": ..., "remaining_balance": N}`,
`messageId` a string of digits, the balances numbers (field-notes.md). No refusal is published anywhere,
so the catalog's inferred codes answer them: the code is the HTTP status, the body `{"message": <text>}`
(openapi/fcati.yaml Refusal): a missing or wrong token, a malformed body or recipient, an unknown `acao`,
too little balance. Credits are the account's long-code pool.
"""
from __future__ import annotations

from typing import Any

from ..core import Core, Refused
from ..core.accounts import Principal
from ..core.messages import Submission
from ..http import Request, Response
from .base import CodeBook
from ..core.numbers import is_digits

NAME = "fcati"
PATHS = ("/webhook/api-sms", "/webhook/api-sms/")
KIND = "long"
RECIPIENT_LIMIT = "fcati.enviar.recipient"
COUNTRY_CODE = "55"
# Account and number refusals the fcati tables have no code for, and the fcati reason that answers them.
ACCOUNT_REASONS = frozenset({"bad_credentials", "user_disabled", "client_disabled", "user_or_client_disabled",
                             "blocked_account", "no_privilege"})


class Fcati:
    name = NAME

    def __init__(self, core: Core) -> None:
        self.core = core
        self.codes = CodeBook(core.contracts.catalog, NAME)
        self._recipient = core.contracts.catalog.limit(RECIPIENT_LIMIT)

    # -- routing --------------------------------------------------------------------------------------
    def matches(self, request: Request) -> bool:
        path = request.path.lower()
        return path in PATHS or (path == "/" and request.method == "POST")

    def handle(self, request: Request) -> Response:
        operation = "saldo"
        try:
            who = self._who(request)
            if request.method != "POST":
                raise Refused("malformed", f"{request.method} is not POST")
            body = self._body(request)
            acao = body.get("acao")
            operation = str(acao).strip().lower() if isinstance(acao, str) else ""
            if operation == "saldo":
                return Response.json({"balance": self._balance(who)})
            if operation == "enviar":
                return self.enviar(who, body)
            if not operation:
                operation = "saldo"
                raise Refused("malformed", "no acao")
            operation = "acao"
            raise Refused("unknown_method", str(acao))
        except Refused as refusal:
            return self.refusal(operation if operation in ("saldo", "enviar", "acao") else "saldo", refusal.reason)

    def failure(self, request: Request) -> Response:
        return self.refusal("saldo", "malformed")

    # -- rendering ------------------------------------------------------------------------------------
    def refusal(self, operation: str, reason: str) -> Response:
        if reason in ACCOUNT_REASONS:
            reason = "unauthorized"
        try:
            code = self.codes.for_reason(operation, reason)
        except KeyError:
            code = self.codes.for_reason(operation, "malformed") if operation != "acao" else \
                self.codes.for_reason("saldo", "malformed")
        return Response.json({"message": code.text}, int(code.code.split("/")[0]))

    # -- parsing --------------------------------------------------------------------------------------
    def _who(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "").strip()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused("unauthorized", "no Bearer token")
        return self.core.accounts.by_token(token.strip())

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise Refused("malformed", "not JSON") from None
        if not isinstance(body, dict):
            raise Refused("malformed", "not a JSON object")
        return body

    def _balance(self, who: Principal) -> int:
        return self.core.accounts.balance(who.client_id)[KIND]

    def _national(self, raw: Any) -> str:
        """The recipient as the core stores it: country code + DDD + number, the country code dropped."""
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise Refused("malformed", "recipient")
        recipient = str(raw).strip()
        low, high = int(self._recipient.min or 12), int(self._recipient.max or 13)
        if not is_digits(recipient) or not low <= len(recipient) <= high or not recipient.startswith(COUNTRY_CODE):
            raise Refused("malformed", f"recipient {recipient!r}")
        return recipient[len(COUNTRY_CODE):]

    # -- enviar ---------------------------------------------------------------------------------------
    def enviar(self, who: Principal, body: dict[str, Any]) -> Response:
        number = self._national(body.get("recipient"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refused("malformed", "text")
        result = self.core.submit(who, NAME, [Submission(number, text, kind=KIND)])[0]
        if isinstance(result, Refused):
            raise Refused(result.reason if result.reason in ACCOUNT_REASONS else
                          ("insufficient_credits" if result.reason == "insufficient_credits" else "malformed"),
                          result.detail)
        ok = self.codes.for_reason("enviar", "ok")
        return Response.json({"messageId": str(result.id), "message": ok.text,
                              "remaining_balance": self._balance(who)}, int(ok.code))


def build(app: Any) -> Fcati:
    return Fcati(app.core)
