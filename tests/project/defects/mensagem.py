"""Defects of the mensagem HTTP API (seed 003 § API – HTTP) and of the platform core it shares with wbsapi."""
from __future__ import annotations

from typing import Any

from smsconform.emulator.core import Refused
from smsconform.emulator.core import messages as m
from smsconform.emulator.core.service import Core
from smsconform.emulator.dialects.mensagem import Mensagem

from .registry import Patches, around_submit, defect, in_lifecycle

SEND_LIMITS = ("limit:mensagem.send.message", "limit:mensagem.mult.message", "limit:mensagem.mult.numbers",
               "limit:mensagem.mult.records")


@defect("mensagem.mult-accepts-1001", "mensagem",
        ["limit:mensagem.mult.numbers", "limit:mensagem.mult.records", "code:mensagem.mult.88"],
        "mult counts its numbers with an off-by-one: 1001 numbers are accepted",
        "003 § Envio de SMS Múltiplo: 'máximo de mil telefones por requisição'")
def mult_accepts_1001(p: Patches) -> None:
    def _count(self: Mensagem, entries: list[str]) -> None:
        limit = self.codes.limit("mult", "n", "items")
        low, high = int(limit.min), int(limit.max)
        if len(entries) < low:
            raise Refused("too_few_numbers", str(len(entries)))
        if len(entries) > high + 1:  # the defect: the bound is exclusive of the wrong end
            raise Refused("too_many_numbers", str(len(entries)))

    p.replace(Mensagem, "_count", _count)


@defect("mensagem.send-accepts-601-chars", "mensagem",
        ["limit:mensagem.send.message", "code:mensagem.send.84"],
        "send lets a 601-character message through (the length is compared with > 600 + 1)",
        "003 § Envio de SMS Simples: 'm Mensagem com até 600 caracteres'; 84 QUANTIDADE MAXIMA DE CARACTERES EXCEDIDA")
def send_accepts_601(p: Patches) -> None:
    def _text(self: Mensagem, operation: str, text: str | None) -> str:
        text = (text or "").replace("'", " ")
        if not text.strip():
            raise Refused("empty_message")
        limit = self.codes.limit(operation, "m", "chars")
        bound = int(limit.max) + (1 if operation == "send" else 0)  # the defect
        if len(text) > bound:
            raise Refused("too_many_chars", str(len(text)))
        return text

    p.replace(Mensagem, "_text", _text)


@defect("mensagem.procon-answered-90", "mensagem",
        ["code:mensagem.send.78", "code:mensagem.mult.78"],
        "a Procon-registered number is answered with the blacklist code 90 instead of 78",
        "003 § Envio de SMS Simples, Resultados: '78 NUMERO CADASTRADO NO PROCON'")
def procon_answered_90(p: Patches) -> None:
    def factory(error: Any) -> Any:
        def patched(self: Mensagem, operation: str, reason: str) -> str:
            return error(self, operation, "blacklisted" if reason == "procon" else reason)

        return patched

    p.wrap(Mensagem, "error", factory)


@defect("mensagem.credentials-text-typo", "mensagem",
        ["code:mensagem.send.98", "code:mensagem.mult.98"],
        "98 reads 'USUARIO OU SENHA INVALIDOS' instead of the documented 'USUARIO OU SENHA INVALIDO(A)'",
        "003 § Envio de SMS Simples, Resultados: '98 USUARIO OU SENHA INVALIDO(A)'")
def credentials_text_typo(p: Patches) -> None:
    def factory(error: Any) -> Any:
        def patched(self: Mensagem, operation: str, reason: str) -> str:
            return error(self, operation, reason).replace("INVALIDO(A)", "INVALIDOS")

        return patched

    p.wrap(Mensagem, "error", factory)


@defect("mensagem.blacklisted-accepted", "mensagem",
        ["code:mensagem.send.90", "code:mensagem.mult.90"],
        "the HTTP API skips the blacklist: a blacklisted number is accepted and sent",
        "003 § Envio de SMS Simples, Resultados: '90 NUMERO DE TELEFONE EM BLACKLIST'")
def blacklisted_accepted(p: Patches) -> None:
    def change(core: Core) -> Any:
        saved = core.reserved
        core.reserved = {n: f for n, f in saved.items() if f != "blacklisted"}
        return lambda: setattr(core, "reserved", saved)

    around_submit(p, "mensagem", change)


@defect("mensagem.cancel-after-sending", "mensagem",
        ["machine:mensagem.message", "code:mensagem.cacl.1", "code:mensagem.cacl.3"],
        "cacl cancels a message already in the send queue or sent (it only refuses a cancelled one)",
        "003 § Cancelamento de Mensagens: 'Somente mensagens com status de aguardando envio estão aptas a cancelamento'")
def cancel_after_sending(p: Patches) -> None:
    def cancel(self: Core, who: Any, hash: str) -> Any:
        msg = self.message(hash=hash, client_id=who.client_id)
        if msg is None:
            return None
        if msg.state not in (m.CANCELLED, m.ERROR, m.INVALID):  # the defect: should be WAITING/PAUSED only
            self._move(msg, m.CANCELLED, self.now())
            if self.timing["credits"]["refund_on_cancel"] and msg.cost:
                self.accounts.refund(msg.client_id, msg.scope, msg.kind, msg.cost)
            return self.message(id=msg.id)
        return msg

    p.replace(Core, "cancel", cancel)


@defect("mensagem.status-moves-backwards", "mensagem",
        ["machine:mensagem.message"],
        "a queued message goes back to 0 AGUARDANDO ENVIO once (a retry that rewinds its status) before it is sent",
        "003 § Resultado do Envio consulta Simples (status ids); machines.yaml mensagem.message has no edge 3 -> 0")
def status_moves_backwards(p: Patches) -> None:
    def factory(next_: Any) -> Any:
        def patched(self: Core, msg: m.Message) -> Any:
            queued_before = [s for s, _ in msg.states()].count(m.QUEUED)
            if msg.dialect == "mensagem" and msg.state == m.QUEUED and queued_before == 1:
                return m.WAITING, (msg.next_at or self.now()) + 1
            return next_(self, msg)

        return patched

    in_lifecycle(p, factory)


@defect("mensagem.mult-wrong-delimiter", "mensagem",
        ["code:mensagem.mult.1", "grammar:mensagem.mult_answer", "openapi:mensagem.mensagem_mult"],
        "mult's success lines use ',' between fields: '1,<md5>,<number>'",
        "003 § Envio de SMS Múltiplo: 'Delimitador: Ponto e Vírgula (Semicolon)'")
def mult_wrong_delimiter(p: Patches) -> None:
    def factory(mult: Any) -> Any:
        def patched(self: Mensagem, params: dict[str, str]) -> str:
            lines = mult(self, params).split("\n")
            return "\n".join(line.replace(";", ",") if line.startswith("1;") else line for line in lines)

        return patched

    p.wrap(Mensagem, "mult", factory)


@defect("mensagem.credits-not-debited", "mensagem", SEND_LIMITS,
        "sends through the HTTP API check the balance but never debit it",
        "003 § Envio de SMS Simples: '97 CREDITOS INSUFICIENTES' (credits are spent per message); the suite "
        "holds the debit to the SMS parts accepted under every send limit (tests/conformance/test_limits.py)")
def credits_not_debited(p: Patches) -> None:
    def change(core: Core) -> Any:
        accounts = core.accounts

        def check_only(principal: Any, scope: str, needs: dict[str, int]) -> None:
            if principal.prepaid:
                have = accounts.balance(principal.client_id, scope)
                if any(amount > have.get(kind, 0) for kind, amount in needs.items()):
                    raise Refused("insufficient_credits")

        accounts.debit = check_only  # type: ignore[method-assign]
        return lambda: delattr(accounts, "debit")

    around_submit(p, "mensagem", change)


@defect("mensagem.dlr-callback-missing", "mensagem",
        ["callback:mensagem.dlr", "code:mensagem.callback-dlr.2", "code:mensagem.callback-dlr.5"],
        "the DLR call-back is never sent (only the status call-back is)",
        "003 § Cadastro de Call-back: 'Tipo de Requisição 1 = Resposta, 2 = Status, 3 = DLR'")
def dlr_callback_missing(p: Patches) -> None:
    def factory(render: Any) -> Any:
        def patched(self: Mensagem, core: Core, msg: Any, state: str, at: float) -> Any:
            return [c for c in render(self, core, msg, state, at) if c[0] != "dlr"]

        return patched

    p.wrap(Mensagem, "render_callbacks", factory)


@defect("mensagem.callback-param-renamed", "mensagem",
        ["callback:mensagem.status"],
        "the status call-back names the number 'telefone' instead of 'msisdn'",
        "003 § Parâmetros Call-back de Status: 'msisdn Telefone Número de telefone utilizado para envio da mensagem'")
def callback_param_renamed(p: Patches) -> None:
    def factory(render: Any) -> Any:
        def patched(self: Mensagem, core: Core, msg: Any, state: str, at: float) -> Any:
            out = []
            for kind, url, method, body in render(self, core, msg, state, at):
                if kind == "status":
                    url = url.replace("?msisdn=", "?telefone=").replace("&msisdn=", "&telefone=")
                out.append((kind, url, method, body))
            return out

        return patched

    p.wrap(Mensagem, "render_callbacks", factory)


@defect("mensagem.schedule-ignored", "mensagem",
        ["machine:mensagem.message"],
        "send and mult ignore `d`: a message scheduled for later is queued and sent at once",
        "003 § Envio de SMS Simples: 'd Data de agenda Data de agendamento da mensagem'; machines.yaml "
        "mensagem.message 0 -> 3 'its time (now, or the `d` schedule) is reached'")
def schedule_ignored(p: Patches) -> None:
    def factory(common: Any) -> Any:
        def patched(self: Mensagem, operation: str, params: dict[str, str], who: Any) -> dict[str, Any]:
            out = common(self, operation, params, who)
            out["schedule_at"] = None
            return out

        return patched

    p.wrap(Mensagem, "_common", factory)
