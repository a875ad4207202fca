"""Variants of the fcati webhook (seed 000): no refusal is published (field-notes.md § fcati)."""
from __future__ import annotations

import json
from typing import Any, Callable

from smsconform.emulator.dialects.fcati import Fcati
from smsconform.emulator.http import Response

from defects.registry import Patches

from .registry import variant
from .shared import override

UNAUTHORIZED = ("code:fcati.saldo.401", "code:fcati.enviar.401")
NO_REFUSAL_PUBLISHED = "field-notes.md § fcati: 'No error body or HTTP status for a bad token or insufficient balance is published anywhere.'"


def _refusal(p: Patches, change: Callable[[Response, str], Response]) -> None:
    @override(p, Fcati, "refusal")
    def refusal(original: Callable[..., Response], self: Fcati, operation: str, reason: str) -> Response:
        return change(original(self, operation, reason), reason)


@variant("fcati.forbidden-bad-token", "fcati", UNAUTHORIZED,
         "a missing or wrong token is refused with HTTP 403 instead of 401", NO_REFUSAL_PUBLISHED)
def forbidden(p: Patches) -> None:
    _refusal(p, lambda answer, reason: Response.json({"message": "Acesso negado"}, 403)
             if answer.status == 401 else answer)


@variant("fcati.refusal-texts", "fcati",
         [*UNAUTHORIZED, "code:fcati.saldo.400", "code:fcati.enviar.400", "code:fcati.enviar.402",
          "code:fcati.acao.400"],
         "every refusal keeps its HTTP status but says it in other words", NO_REFUSAL_PUBLISHED)
def refusal_texts(p: Patches) -> None:
    _refusal(p, lambda answer, reason: Response.json({"message": f"Falha: {reason.replace('_', ' ')}"}, answer.status))


@variant("fcati.no-balance-400", "fcati", ["code:fcati.enviar.402"],
         "a send beyond the balance is refused with HTTP 400 instead of 402", NO_REFUSAL_PUBLISHED)
def no_balance_400(p: Patches) -> None:
    _refusal(p, lambda answer, reason: Response.json({"message": "Saldo insuficiente"}, 400)
             if answer.status == 402 else answer)


@variant("fcati.send-answer-extra-key", "fcati", [],
         "the send answer carries one more key after the documented ones (`status`)",
         "000 § Envio de Mensagens lists the keys it answers; nothing says there are no others",
         scope=("code:fcati.enviar.*", "openapi:fcati.*"))
def send_answer_extra_key(p: Patches) -> None:
    @override(p, Fcati, "enviar")
    def enviar(original: Callable[..., Response], self: Fcati, who: Any, body: dict[str, Any]) -> Response:
        answer = original(self, who, body)
        data = json.loads(answer.body)
        data["status"] = "queued"
        return Response.json(data, answer.status)
