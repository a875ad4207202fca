"""Family 7, servicesms: painel's ServiceSms.asmx and api.ashx are two doors of one panel. The seed offers
the web service for who needs one ("Caso você precise enviar sms utilizando integração por Webservice",
002 § Plataforma- Manual da API): one campaign is sent through one door and seen, held and released
through the other; the balance is the same. That the two doors share their state is inferred, so a
mismatch is a deviation, not a failure (judge.expect).

The service description, the answers' XML and the DataSet are test_schema_servicesms.py's.
"""
from __future__ import annotations

from typing import Any

import pytest
from lark.exceptions import LarkError

from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.clients.servicesms import ServiceSmsClient
from smsconform.conformance.judge import expect
from smsconform.conformance.receiver import CallbackReceiver
from smsconform.contracts import load_contracts


@pytest.fixture
def servicesms(sms_clients: Any) -> ServiceSmsClient:
    return sms_clients("servicesms")


# -- one panel through two doors ------------------------------------------------------------------

SAME_SERVICE = ("the seed offers ServiceSms.asmx as the web-service door of the same panel; that both doors "
                "share campaigns, credits and the minute is inferred")


@pytest.mark.dialect("servicesms")
@pytest.mark.rules("code:servicesms.SetHoldSMS.1", "code:servicesms.SetReleaseSMS.1", "machine:painel.campaign")
def test_one_campaign_through_both_doors(servicesms: ServiceSmsClient, sms_clients: Any) -> None:
    """Sent by SOAP, seen and held by api.ashx, released by SOAP; sent by api.ashx, held by SOAP."""
    painel = sms_clients("painel")
    number = servicesms.number()
    campaign = servicesms.campaign([number])
    seen = painel.statuses(campaign)
    expect(number in seen, "machine:painel.campaign", f"api.ashx getstatus does not know campaign {campaign} sent "
           f"by SendSMS: {seen}", basis="inferred", reason=SAME_SERVICE)
    scheduled = painel.sendsms([number], **painel.schedule())
    assert scheduled.id is not None, (f"precondition: api.ashx sendsms must accept a scheduled campaign "
                                      f"[code:painel.sendsms.1]: {scheduled.exchange.text[:200]!r}")
    held = servicesms.hold(scheduled.id)
    expect(held.code == "1", "code:servicesms.SetHoldSMS.1", f"SetHoldSMS of api.ashx campaign {scheduled.id}: "
           f"{held}", basis="inferred", reason=SAME_SERVICE)
    if held.code == "1":
        again = painel.hold(scheduled.id)
        expect(again.code != "1", "machine:painel.campaign", f"api.ashx holdsms of a campaign SetHoldSMS held "
               f"already succeeded: {again}", basis="inferred", reason=SAME_SERVICE)
        released = servicesms.release(scheduled.id)
        assert released.code == "1", (f"SetReleaseSMS of a campaign SetHoldSMS held: {released} "
                                      f"[code:servicesms.SetReleaseSMS.1, field-notes.md § painel]")


@pytest.mark.dialect("servicesms")
@pytest.mark.rules("code:servicesms.GetBalance.<balance>")
def test_the_balance_is_the_panels(servicesms: ServiceSmsClient, sms_clients: Any) -> None:
    painel = sms_clients("painel")
    soap, ashx = servicesms.balance(), painel.balance()
    expect(soap == ashx, "code:servicesms.GetBalance.<balance>", f"GetBalance says {soap}, api.ashx getbalance "
           f"{ashx}", basis="inferred", reason=SAME_SERVICE)


@pytest.mark.dialect("servicesms")
@pytest.mark.rules("code:servicesms.SendSMS.<campaign>")
def test_a_soap_campaign_reports_through_the_data_callback(servicesms: ServiceSmsClient, sms_control: Any) -> None:
    """SendSMS has no url_callback: its campaign reports through the account's painel data_callback, the
    record of callbacks.yaml painel.data_callback (grammar painel#data_callback)."""
    if sms_control is None:
        raise NotExercised("registering the account's data_callback URL needs the target's control API")
    grammar = load_contracts().grammar("painel")
    with CallbackReceiver() as rx:
        sms_control.register_callback("painel", "data_callback", rx.url("/t/servicesms"))
        try:
            number = servicesms.number()
            campaign = servicesms.campaign([number])
            records: list[str] = []
            for _ in range(40):  # half a second at a time: no status of the lifecycle is skipped
                sms_control.advance(0.5)  # answers once the callbacks it made due are delivered
                records = [r.params().get("data_callback", "") for r in rx.received("/t/servicesms")]
                if any(rec.startswith(f"{campaign};") for rec in records):
                    break
        finally:
            sms_control.register_callback("painel", "data_callback", None)
    mine = [rec for rec in records if rec.startswith(f"{campaign};")]
    expect(bool(mine), "code:servicesms.SendSMS.<campaign>", f"campaign {campaign} sent by SendSMS sent no "
           f"data_callback to the account's URL (got {records[:3]})", basis="inferred", reason=SAME_SERVICE)
    for record in mine:
        try:
            grammar.parse(record, start="data_callback")
        except LarkError as problem:
            raise AssertionError(f"{record!r} is not painel#data_callback [callback:painel.data_callback]: {problem}") from None
        assert record.split(";")[1] == number, (f"data_callback of campaign {campaign}: {record!r}, celular is not "
                                                f"{number} [002 § Parâmetros contidos no data_callback]")
