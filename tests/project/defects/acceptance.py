"""Defects of acceptance (issue 12, "Every documented value is accepted"): a documented value refused, for
an account allowed every mode. Each is caught by test_acceptance.py under the value's accept: rule."""
from __future__ import annotations

from typing import Any

from smsconform.emulator.core import Refused
from smsconform.emulator.dialects.mensagem import Mensagem
from smsconform.emulator.dialects.painel import Painel
from smsconform.emulator.dialects.speedmarket import Speedmarket
from smsconform.emulator.dialects.wbsapi import Wbsapi

from .registry import Patches, defect


def _refuse_when(p: Patches, owner: type, name: str, refused: Any, reason: str) -> None:
    """Wrap ``owner.name`` so that the calls ``refused(*args)`` picks raise Refused(reason) first."""

    def factory(original: Any) -> Any:
        def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
            if refused(self, *args):
                raise Refused(reason, "a documented value refused (defect)")
            return original(self, *args, **kwargs)

        return patched

    p.wrap(owner, name, factory)


@defect("acceptance.mensagem-f4-refused", "mensagem", ["accept:mensagem.send.f.4"],
        "send refuses f=4 (SMS Short Flash) with 83 MODALIDADE DE ENVIO NAO PERMITIDA, an answer the grammar allows",
        "003 § Envio de SMS Simples: 'f Tipo de SMS 0=Comum, 1 = Comum Flash, 2 SMS Short, 4 = SMS Short Flash'")
def mensagem_f4_refused(p: Patches) -> None:
    _refuse_when(p, Mensagem, "_common",
                 lambda self, operation, params, who: operation == "send" and params.get("f", "").strip() == "4",
                 "mode_not_allowed")


@defect("acceptance.mensagem-mult-flash-refused", "mensagem", ["accept:mensagem.mult.f.1"],
        "mult refuses f=1 (Comum Flash): flash was only wired for send",
        "003 § Envio de SMS Múltiplo: 'f Tipo de SMS 0=Comum, 1 = Comum Flash, 2 SMS Short, 4 = SMS Short Flash'")
def mensagem_mult_flash_refused(p: Patches) -> None:
    _refuse_when(p, Mensagem, "_common",
                 lambda self, operation, params, who: operation == "mult" and params.get("f", "").strip() == "1",
                 "mode_not_allowed")


@defect("acceptance.wbsapi-flash-refused", "wbsapi", ["accept:wbsapi.sendUnique.TipoMensagem.1"],
        "sendUnique refuses TipoMensagem 1 (Flash)",
        "003 § Método sendUnique: 'TipoMensagem ... 0 = Comum, 1 = Flash, 2 = Short Code'")
def wbsapi_flash_refused(p: Patches) -> None:
    _refuse_when(p, Wbsapi, "send_unique", lambda self, params: self._int(params, "TipoMensagem") == 1,
                 "mode_not_allowed")


@defect("acceptance.wbsapi-multiple-short-refused", "wbsapi", ["accept:wbsapi.sendMultiple.TipoMensagem.2"],
        "sendMultiple refuses a record of TipoMensagem 2 (Short Code)",
        "003 § Método sendMultiple: '- TipoMensagem [integer] (*)', the values of sendUnique")
def wbsapi_multiple_short_refused(p: Patches) -> None:
    _refuse_when(p, Wbsapi, "_record", lambda self, who, fields: len(fields) > 4 and fields[4].strip() == "2",
                 "mode_not_allowed")


@defect("acceptance.speedmarket-whatsapp-text-refused", "speedmarket", ["accept:speedmarket.send-single.type.5"],
        "send-single refuses type 5 (Whatsapp, text only) with 020 Empty or invalid type",
        "001 § Parâmetro type: '5 Whatsapp (Apenas Texto)' among 'os valores aceitos para este parâmetro'")
def speedmarket_whatsapp_text_refused(p: Patches) -> None:
    _refuse_when(p, Speedmarket, "_item", lambda self, fields, *rest: str(fields.get("type")) == "5", "bad_type")


@defect("acceptance.speedmarket-voice-text-refused", "speedmarket", ["accept:speedmarket.send-single.type.3"],
        "send-single refuses type 3 (Torpedo de Voz, text only): voice is taken to need an audio URL",
        "001 § Parâmetro type: '3 Torpedo de Voz (Apenas Texto)'")
def speedmarket_voice_text_refused(p: Patches) -> None:
    _refuse_when(p, Speedmarket, "_item",
                 lambda self, fields, *rest: str(fields.get("type")) == "3"
                 and not str(fields.get("content", "")).startswith("http"), "empty_message")


@defect("acceptance.painel-near-schedule-refused", "painel", ["accept:painel.sendsms.schedule.hour-ahead"],
        "sendsms refuses a jobdate/jobtime less than two hours ahead as a bad schedule",
        "002 § Agendamento de campanha: 'Caso você precise enviar a campanha com agendamento de data e hora, use "
        "os comandos &jobdate e &jobtime' (no minimum notice)")
def painel_near_schedule_refused(p: Patches) -> None:
    def factory(schedule: Any) -> Any:
        def patched(self: Painel, params: dict[str, str]) -> float | None:
            at = schedule(self, params)
            if at is not None and at - self.core.now() < 2 * 3600:
                raise Refused("bad_schedule", "less than two hours ahead (defect)")
            return at

        return patched

    p.wrap(Painel, "_schedule", factory)
