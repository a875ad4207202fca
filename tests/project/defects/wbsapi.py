"""Defects of the wbsapi SOAP web service (seed 003 § API – WEBSERVICE)."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from smsconform.emulator.core.inbox import PROVIDERS, Inbox
from smsconform.emulator.dialects.wbsapi import SoapFault, Wbsapi

from .registry import Patches, defect


@defect("wbsapi.idexterno-overflow", "wbsapi",
        ["limit:wbsapi.sendUnique.IdExterno"],
        "IdExterno is checked against 2^32 inclusive: 4294967296 is accepted",
        "003 § Método sendUnique: 'IdExterno ulong Identificação externa da mensagem de 0 até 4294967295'")
def idexterno_overflow(p: Patches) -> None:
    p.replace(Wbsapi, "_idexterno_range", property(lambda self: (0, 4294967296)))


@defect("wbsapi.type2-accepts-141-chars", "wbsapi",
        ["limit:wbsapi.sendUnique.message_short"],
        "TipoMensagem 2 is held to the 600 characters of types 0 and 1: 141 to 600 characters are accepted",
        "003 § Método sendUnique: 'Mensagem com até 600 caracteres para tipo 0 ou 1 e até 140 caracteres tipo 2'")
def type2_accepts_141(p: Patches) -> None:
    original = Wbsapi.__dict__["_text_limits"]

    def limits(self: Wbsapi) -> dict[str, int]:
        found = dict(original.func(self))
        found.pop("2", None)  # the defect: type 2 falls back to type 0's limit
        return found

    replacement = cached_property(limits)
    replacement.__set_name__(Wbsapi, "_text_limits")
    p.replace(Wbsapi, "_text_limits", replacement)


@defect("wbsapi.fault-for-blacklist", "wbsapi",
        ["code:wbsapi.sendUnique.90", "wsdl:wbsapi.sendUnique"],
        "a blacklisted Telefone makes sendUnique answer a SOAP Server fault instead of its result 90",
        "003 § Método sendUnique, Resultados: '90 NUMERO DE TELEFONE EM BLACKLIST'")
def fault_for_blacklist(p: Patches) -> None:
    def factory(invoke: Any) -> Any:
        def patched(self: Wbsapi, op: Any, params: Any) -> str:
            result = invoke(self, op, params)
            if op.name == "sendUnique" and result.startswith("90;"):
                raise SoapFault("server", "Server was unable to process request. ---> Telefone em blacklist")
            return result

        return patched

    p.wrap(Wbsapi, "_invoke", factory)


@defect("wbsapi.send-multiple-accepts-1001", "wbsapi",
        ["limit:wbsapi.sendMultiple.records", "code:wbsapi.sendMultiple.88"],
        "sendMultiple processes a Conteudo of 1001 records (the last one in a second pass)",
        "003 § Método sendMultiple: '(**) Até 1.000 mensagens por requisição'; 88 QUANTIDADE MAXIMA DE "
        "TELEFONES EXCEDIDA")
def send_multiple_accepts_1001(p: Patches) -> None:
    def factory(send_multiple: Any) -> Any:
        def patched(self: Wbsapi, params: dict[str, Any]) -> str:
            records = [r for r in (params.get("Conteudo") or "").split(";") if r.strip()]
            if len(records) != 1001:
                return send_multiple(self, params)
            head = send_multiple(self, {**params, "Conteudo": ";".join(records[:-1])})
            tail = send_multiple(self, {**params, "Conteudo": records[-1]})
            return f"{head}\n{tail}"

        return patched

    p.wrap(Wbsapi, "send_multiple", factory)


@defect("wbsapi.status-text-of-mensagem", "wbsapi",
        ["code:wbsapi.status.3"],
        "status 3 reads 'EM FILA DE ENVIO' (the HTTP API's text) instead of wbsapi's 'EM FILA'",
        "003 § Método status, Resultados: '3 EM FILA'")
def status_text_of_mensagem(p: Patches) -> None:
    def factory(line: Any) -> Any:
        def patched(self: Wbsapi, operation: str, digest: str, msg: Any, at: float) -> str:
            return line(self, operation, digest, msg, at).replace(";3;EM FILA;", ";3;EM FILA DE ENVIO;")

        return patched

    p.wrap(Wbsapi, "_line", factory)


@defect("inbox.shared-across-providers", "wbsapi",
        ["code:wbsapi.inBox.1"],
        "one read mark per reply for the whole platform: a reply speedmarket mo_new handed out is no longer in "
        "wbsapi inBox (Reexibir 0), as if the two providers shared one inbox",
        "003 § Método inBox (Reexibir 0: the replies this service has not shown yet) and 001 § Consulta por "
        "Novas Mensagens Recebidas ('não irá mais ser retornada na chamada deste serviço'): two providers' "
        "services, each with its own reads")
def inbox_shared_across_providers(p: Patches) -> None:
    def mark_read(self: Inbox, found: list[Any]) -> None:
        if found:
            with self.core.store.transaction() as db:
                db.executemany("INSERT OR IGNORE INTO mo_reads (mo_id, provider) VALUES (?, ?)",
                               [(i.id, provider) for i in found for provider in PROVIDERS])

    p.replace(Inbox, "mark_read", mark_read)
