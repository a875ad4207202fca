"""Defects of painel's SOAP web service ServiceSms.asmx (seed 002; field-notes.md § painel)."""
from __future__ import annotations

from typing import Any

from smsconform.emulator.core.accounts import Principal
from smsconform.emulator.dialects.servicesms import ServiceSms
from smsconform.emulator.dialects.soap import SOAP11, SOAP12, AsmxService

from .registry import Patches, defect


@defect("servicesms.sendsms-answer-reversed", "servicesms",
        ["code:servicesms.SendSMS.<campaign>", "wsdl:servicesms.SendSMS"],
        "SendSMS answers SUCESSO:<campaign> (text first) instead of <campaign>:SUCESSO",
        "field-notes.md § painel: 'SendSMS answers \"<campaign>:SUCESSO\"'")
def sendsms_answer_reversed(p: Patches) -> None:
    def factory(send_sms: Any) -> Any:
        def patched(self: ServiceSms, who: Principal, kind: str, values: dict[str, Any]) -> str:
            campaign, _, text = send_sms(self, who, kind, values).partition(":")
            return f"{text}:{campaign}"

        return patched

    p.wrap(ServiceSms, "send_sms", factory)


@defect("servicesms.hold-failure-text-of-sendsms", "servicesms",
        ["code:servicesms.SetHoldSMS.0/not_found", "code:servicesms.SetHoldSMS.0/wrong_state",
         "code:servicesms.SetHoldSMS.0/bad_credentials"],
        "a SetHoldSMS that fails answers SendSMS's '0:ERRO OCORRIDO DURANTE O PROCESSAMENTO', not '0:ERRO OCORRIDO'",
        "field-notes.md § painel: 'hold and release \"1:SUCESSO\" or \"0:ERRO OCORRIDO\"'")
def hold_failure_text_of_sendsms(p: Patches) -> None:
    def factory(answer: Any) -> Any:
        def patched(self: ServiceSms, operation: str, reason: str, value: Any = None) -> str:
            return answer(self, "SendSMS" if operation == "SetHoldSMS" and reason != "ok" else operation, reason, value)

        return patched

    p.wrap(ServiceSms, "answer", factory)


@defect("servicesms.getstatus-every-call", "servicesms",
        ["limit:servicesms.GetStatus.rate", "code:servicesms.GetStatus.0/rate_limited",
         "code:servicesms.GetStatusByRef.0/rate_limited"],
        "GetStatus and GetStatusByRef answer every call: the web service forgets the once-a-minute rule",
        "002 § Obtendo a campanha: 'Esse comando só poderá ser solicitado de 1 em 1 minuto'")
def getstatus_every_call(p: Patches) -> None:
    def without_rate(method: Any) -> Any:
        def patched(self: ServiceSms, who: Principal, kind: str, values: dict[str, Any]) -> str:
            self.painel._rate = lambda who, action: None  # type: ignore[method-assign]  # api.ashx keeps it
            try:
                return method(self, who, kind, values)
            finally:
                del self.painel._rate

        return patched

    p.wrap(ServiceSms, "get_status", without_rate)
    p.wrap(ServiceSms, "get_status_by_ref", without_rate)


@defect("servicesms.long-door-sends-short", "servicesms",
        ["limit:servicesms.SendSMS.number"],
        "SendSMS on /painel/ServiceSms.asmx sends (and bills) short-code messages: the long-code balance "
        "GetBalance shows does not drop",
        "field-notes.md § painel: '/painel/api.ashx (long code) ... /shortcode/api.ashx (short code)'; "
        "limits.yaml servicesms.SendSMS.number: an accepted number costs its SMS parts")
def long_door_sends_short(p: Patches) -> None:
    def factory(send_sms: Any) -> Any:
        def patched(self: ServiceSms, who: Principal, kind: str, values: dict[str, Any]) -> str:
            return send_sms(self, who, "short", values)

        return patched

    p.wrap(ServiceSms, "send_sms", factory)


@defect("servicesms.soap12-answered-as-11", "servicesms",
        ["wsdl:servicesms.GetBalance", "wsdl:servicesms.SendSMS", "wsdl:servicesms.SetHoldSMS"],
        "a SOAP 1.2 request is answered in a SOAP 1.1 envelope (text/xml)",
        "servicesms.wsdl: the ServiceSmsSoap12 port binds every operation in SOAP 1.2")
def soap12_answered_as_11(p: Patches) -> None:
    def factory(soap: Any) -> Any:
        def patched(self: AsmxService, request: Any, context: Any = None) -> Any:
            response = soap(self, request, context)
            if isinstance(self, ServiceSms) and response.content_type == SOAP12.content_type:
                response.body = response.body.replace(SOAP12.envelope.encode(), SOAP11.envelope.encode())
                response.content_type = SOAP11.content_type
            return response

        return patched

    p.wrap(AsmxService, "soap", factory)
