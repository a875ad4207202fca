"""Defects of the speedmarket REST API (seed 001; field-notes.md § speedmarket)."""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from smsconform.emulator.core import messages as m
from smsconform.emulator.core.inbox import Inbox
from smsconform.emulator.core.numbers import Numbering
from smsconform.emulator.core.service import Core
from smsconform.emulator.dialects.speedmarket import Speedmarket

from .registry import DefectError, Patches, around_submit, defect, in_lifecycle

SEND_LIMITS = ("limit:speedmarket.send-multiple.messages", "limit:speedmarket.send-single.type",
               "limit:speedmarket.send-single.caption")
SEND_SINGLE_SCHEMA = ("openapi:speedmarket.speedmarket_send_single", "openapi:speedmarket.speedmarket_send_single_post")


@defect("speedmarket.send-multiple-accepts-5001", "speedmarket",
        ["limit:speedmarket.send-multiple.messages", "code:speedmarket.send-multiple.120"],
        "send-multiple's message count is checked against 5001: a batch of 5001 is processed",
        "001 § Envio em Lote: 'Não é permitido o envio de mais de 5000 mensagens por requisição'; "
        "120 Message array cannot exceed 5000")
def send_multiple_accepts_5001(p: Patches) -> None:
    def adjust(self: Speedmarket) -> None:
        self._message_limit = dataclasses.replace(self._message_limit, max=self._message_limit.max + 1)

    p.after_init(Speedmarket, adjust)


@defect("speedmarket.balance-field-missing", "speedmarket",
        ["code:speedmarket.send-single.000", *SEND_SINGLE_SCHEMA],
        "send-single's success answer leaves out `balance`",
        "001 § Envio Individual: the answer carries 'balance Este campo indica o saldo atual de créditos'")
def balance_field_missing(p: Patches) -> None:
    def factory(send_single: Any) -> Any:
        def patched(self: Speedmarket, who: Any, params: dict[str, Any], body: Any) -> dict[str, Any]:
            out = send_single(self, who, params, body)
            out.pop("balance", None)
            return out

        return patched

    p.wrap(Speedmarket, "send_single", factory)


@defect("speedmarket.balance-keys-numbers", "speedmarket",
        ["code:speedmarket.balance.200", "openapi:speedmarket.speedmarket_balance"],
        "balance answers balance_1..balance_4 as JSON numbers instead of strings",
        "001 § Consulta de Saldo: 'balance_1 Este campo indica o saldo atual do serviço SMS. string'")
def balance_keys_numbers(p: Patches) -> None:
    def factory(balance: Any) -> Any:
        def patched(self: Speedmarket, who: Any, params: dict[str, Any], body: Any) -> dict[str, Any]:
            out = balance(self, who, params, body)
            return {k: (int(v) if k.startswith("balance_") else v) for k, v in out.items()}

        return patched

    p.wrap(Speedmarket, "balance", factory)


@defect("speedmarket.wrong-key-order", "speedmarket",
        ["code:speedmarket.send-single.000", *SEND_SINGLE_SCHEMA],
        "send-single's success answer puts `id` first: {id, success, responseCode, ...}",
        "field-notes.md § speedmarket: clients 'rely on the key order success, responseCode, "
        "responseDescription, credit, balance, id'")
def wrong_key_order(p: Patches) -> None:
    def factory(send_single: Any) -> Any:
        def patched(self: Speedmarket, who: Any, params: dict[str, Any], body: Any) -> dict[str, Any]:
            out = send_single(self, who, params, body)
            if "id" not in out:
                return out
            return {"id": out["id"], **{k: v for k, v in out.items() if k != "id"}}

        return patched

    p.wrap(Speedmarket, "send_single", factory)


@defect("speedmarket.status-moves-backwards", "speedmarket",
        ["machine:speedmarket.message", "callback:speedmarket.status"],
        "a delivered message (1) falls back to 0 'Message received to operator' before being delivered again",
        "001 § Status de Envio: the handset level (1) follows the operator level (0); machines.yaml "
        "speedmarket.message has no edge 1 -> 0")
def status_moves_backwards(p: Patches) -> None:
    def factory(next_: Any) -> Any:
        def patched(self: Core, msg: m.Message) -> Any:
            if msg.dialect == "speedmarket" and msg.outcome == m.DELIVERED:
                seen = [s for s, _ in msg.states()]
                at = (msg.next_at or self.now())
                if msg.state == m.SENT and m.DELIVERED not in seen:
                    return m.DELIVERED, at + 1
                if msg.state == m.DELIVERED and seen.count(m.SENT) == 1:
                    return m.SENT, at + 1
            return next_(self, msg)

        return patched

    in_lifecycle(p, factory)


@defect("speedmarket.landline-not-blocked", "speedmarket",
        ["code:speedmarket.message-status.-4"],
        "a landline number is sent like a mobile instead of getting -4 'Blocked – landline Number'",
        "001 § Status de Envio: '-4 Blocked – landline Number'")
def landline_not_blocked(p: Patches) -> None:
    class NoLandlines(Numbering):
        def is_landline(self, number: str) -> bool:
            return False

    def change(core: Core) -> Any:
        numbering, reserved = core.numbering, core.reserved
        core.numbering = NoLandlines(numbering.ddds)
        core.reserved = {n: f for n, f in reserved.items() if f != "landline"}

        def restore() -> None:
            core.numbering, core.reserved = numbering, reserved

        return restore

    around_submit(p, "speedmarket", change)


@defect("speedmarket.mo-new-returns-twice", "speedmarket",
        ["code:speedmarket.mo_new.200"],
        "mo_new never marks what it returned: the same MO comes back on the next call",
        "001 § Consulta por Novas Mensagens Recebidas: 'Uma vez cosultada, a mensagem não irá mais ser retornada'")
def mo_new_returns_twice(p: Patches) -> None:
    def unread(self: Inbox, client_id: int, *, since: float, type: int | None = None, limit: int = 10000) -> Any:
        where = ["mo.client_id = ?", "mo.received_at >= ?",
                 "NOT EXISTS (SELECT 1 FROM mo_reads r WHERE r.mo_id = mo.id AND r.provider = ?)"]
        params: list[Any] = [client_id, since, self.provider]
        if type is not None:
            where.append("(mo.message_id IS NULL OR m.type = ?)")
            params.append(type)
        return self._query(where, params, limit)  # the defect: nothing is marked as read

    p.replace(Inbox, "unread", unread)


@defect("speedmarket.schedule-ignored", "speedmarket",
        ["code:speedmarket.send-single.002", "code:speedmarket.send-multiple.002", "machine:speedmarket.message"],
        "`schedule` is validated but ignored: a message for later is sent at once and answered 000",
        "001 § Envio Individual: 'schedule Data e hora em que a mensagem deve ser enviada'; 002 Scheduled")
def schedule_ignored(p: Patches) -> None:
    def factory(schedule: Any) -> Any:
        def patched(self: Speedmarket, raw: Any, tz_raw: Any) -> float | None:
            schedule(self, raw, tz_raw)  # still refuses a malformed date (040)
            return None

        return patched

    p.wrap(Speedmarket, "_schedule", factory)


@defect("speedmarket.mo-callback-missing", "speedmarket",
        ["callback:speedmarket.mo"],
        "replies (MO) are never called back",
        "001 § Callback de Mensagem Recebida: 'Nossa plataforma envia ao sistema do cliente uma requisição para "
        "cada mensagem recebida de um celular'")
def mo_callback_missing(p: Patches) -> None:
    p.replace(Speedmarket, "render_mo_callback", lambda self, core, mo, state, at: [])


@defect("speedmarket.caption-not-enforced", "speedmarket",
        ["limit:speedmarket.send-single.caption"],
        "a WhatsApp caption longer than 490 characters is accepted",
        "001 § Envio Individual: 'caption (WHATSAPP): Texto com até 490 caracteres para legenda de imagem ou vídeo'")
def caption_not_enforced(p: Patches) -> None:
    def adjust(self: Speedmarket) -> None:
        self._caption_limit = dataclasses.replace(self._caption_limit, max=None)

    p.after_init(Speedmarket, adjust)


@defect("speedmarket.credits-debited-twice", "speedmarket",
        [*SEND_LIMITS, "code:speedmarket.send-single.000"],
        "every accepted message is debited twice (the answer's `credit` says once)",
        "001 § Envio Individual: 'credit Este campo indica quantos créditos foram debitados em sua conta'")
def credits_debited_twice(p: Patches) -> None:
    def change(core: Core) -> Any:
        accounts = core.accounts
        debit = accounts.debit

        def twice(principal: Any, scope: str, needs: dict[str, int]) -> None:
            debit(principal, scope, needs)
            debit(principal, scope, needs)

        accounts.debit = twice  # type: ignore[method-assign]
        return lambda: delattr(accounts, "debit")

    around_submit(p, "speedmarket", change)


TYPE_FILTER = "(mo.message_id IS NULL OR m.type = ?)"
"""core/inbox.py's `type` filter: on the message replied to, passed by a reply to no message."""


@defect("speedmarket.mo-type-filter-hides-unreplied-mo", "speedmarket",
        ["code:speedmarket.mo_new.200", "code:speedmarket.mo.200"],
        "mo_new and mo with `type` compare the type of the message replied to, which a reply to no message "
        "lacks (NULL): such a reply is hidden under every type",
        "001 § Consulta por Novas Mensagens Recebidas and § Consulta de Mensagens Recebidas por Período: `type` "
        "is the 'tipo de serviço' of the query, a field of the MT message, not of the reply")
def mo_type_filter_hides_unreplied_mo(p: Patches) -> None:
    if TYPE_FILTER not in inspect.getsource(Inbox.unread) or TYPE_FILTER not in inspect.getsource(Inbox.between):
        raise DefectError(f"Inbox.unread/between no longer filter by {TYPE_FILTER!r}")

    def factory(query: Any) -> Any:
        def patched(self: Inbox, where: list[str], params: list[Any], limit: int) -> Any:
            return query(self, ["m.type = ?" if w == TYPE_FILTER else w for w in where], params, limit)

        return patched

    p.wrap(Inbox, "_query", factory)
