"""Gap found by the self-check (tests/project/defects): speedmarket's mo_new hands out each reply once.

"Retorna a lista de novas mensagens recebidas. Uma vez cosultada, a mensagem não irá mais ser retornada na
chamada deste serviço." (001 § Consulta por Novas Mensagens Recebidas), while the period query returns "cada
MO recebido num determinado período de tempo" (001 § Consulta de Mensagens Recebidas por Período), read by
mo_new or not. The limits family checks the 32-day window of both; these tests check what "new" means. A
reply is made to arrive through the target's control API (`inject_mo`); without one there is no way to make
a handset answer, so the rule is not exercised.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.judge import expect


def _carrying(client: Any, operation: str, params: dict[str, Any], text: str) -> int | None:
    """How many MO records of the answer carry ``text`` (None when its MOs cannot be read: the deviation is
    recorded and the test stops). No MO query answer is published: that the MOs are a `messages` list and
    the text is under `content` (the MO call-back's name) is the inferred rule
    behaviour:speedmarket.mo-record-keys, held through judge.expect; the record is found by its text
    whatever the field is named."""
    records = client.mo_records(operation, params)
    if records is None:
        return None
    found = [m for m in records if text in (str(v) for v in m.values())]
    for record in found:
        expect(record.get("content") == text, "behaviour:speedmarket.mo-record-keys",
               f"speedmarket.{operation}: the reply's text is not under `content`: {record}")
    return len(found)


def _inject(control: Any, client: Any) -> str:
    if control is None:
        raise NotExercised("making a handset reply needs the target's control API (inject_mo)")
    text = f"smsconform resposta {uuid.uuid4().hex[:12]}"
    control.inject_mo(client.number(0), text, dialect="speedmarket")
    return text


@pytest.mark.rules("code:speedmarket.mo_new.200")
@pytest.mark.dialect("speedmarket")
def test_mo_new_returns_a_reply_once(sms_clients: Any, sms_control: Any) -> None:
    client = sms_clients("speedmarket")
    text = _inject(sms_control, client)
    first = _carrying(client, "mo_new", {}, text)
    if first is None:
        return
    assert first == 1, (
        f"code:speedmarket.mo_new.200: a new reply must be returned once by mo_new, found {first} "
        "times [001 § Consulta por Novas Mensagens Recebidas]")
    assert _carrying(client, "mo_new", {}, text) == 0, (
        "code:speedmarket.mo_new.200: a reply already returned by mo_new came back on the next call "
        "[001 § Consulta por Novas Mensagens Recebidas: 'Uma vez cosultada, a mensagem não irá mais ser retornada']")


@pytest.mark.rules("code:speedmarket.mo.200")
@pytest.mark.dialect("speedmarket")
def test_mo_by_period_still_returns_a_reply_mo_new_handed_out(sms_clients: Any, sms_control: Any) -> None:
    client = sms_clients("speedmarket")
    text = _inject(sms_control, client)
    new = _carrying(client, "mo_new", {}, text)
    if new is None:
        return
    assert new, ("precondition: the injected reply is new for mo_new [code:speedmarket.mo_new.200, 001 § Consulta por "
                 "Novas Mensagens Recebidas]")
    found = _carrying(client, "mo", client.window(), text)
    if found is None:
        return
    assert found == 1, (
        f"code:speedmarket.mo.200: the period query must return every reply of the period once, found this one "
        f"{found} times [001 § Consulta de Mensagens Recebidas por Período]")


# -- issue 13: a reply to no message, and one inbox per provider ---------------------------------------
UNPROMPTED = ("001 gives `type` as a filter of the MO queries, a field of the message replied to; a reply to "
              "no message has no type, and hiding it under every type would make it unreachable by that query")
TWO_PROVIDERS = ("001 (SpeedMarket) and 003 (mensagem, wbsapi, SMPP) are two providers' documents; 'Uma vez "
                 "cosultada ... na chamada deste serviço' marks a reply read for one service, not another's")
def _inject_unprompted(control: Any, client: Any) -> str:
    if control is None:
        raise NotExercised("making a handset reply needs the target's control API (inject_mo)")
    text = f"smsconform espontanea {uuid.uuid4().hex[:12]}"
    control.inject_mo(client.number(1), text)  # replies to no message, through no dialect in particular
    return text


@pytest.mark.rules("code:speedmarket.mo_new.200", "code:speedmarket.mo.200")
@pytest.mark.dialect("speedmarket")
@pytest.mark.parametrize("operation", ["mo_new", "mo"])
def test_type_filter_does_not_hide_a_reply_to_no_message(operation: str, sms_clients: Any, sms_control: Any) -> None:
    """mo_new and mo filter by `type`, a field of the message replied to (001 § Consulta por Novas
    Mensagens Recebidas, § Consulta de Mensagens Recebidas por Período); a reply that answers no message
    has none, so the filter cannot hide it: with any documented type it is still returned."""
    client = sms_clients("speedmarket")
    text = _inject_unprompted(sms_control, client)
    params: dict[str, Any] = {"type": 0} if operation == "mo_new" else {"type": 0, **client.window()}
    found = _carrying(client, operation, params, text)
    if found is None:
        return
    expect(found == 1, f"code:speedmarket.{operation}.200",
           f"code:speedmarket.{operation}.200: a reply to no message is hidden by type=0, found {found} "
           "times: the filter is on the original message, which such a reply lacks", basis="inferred",
           reason=UNPROMPTED)


@pytest.mark.rules("code:speedmarket.mo_new.200", "code:wbsapi.inBox.1")
@pytest.mark.parametrize("first", [  # each direction belongs to the dialect whose answer it judges
    pytest.param("speedmarket", marks=pytest.mark.dialect("wbsapi")),
    pytest.param("wbsapi", marks=pytest.mark.dialect("speedmarket")),
])
def test_reading_one_providers_inbox_leaves_the_others_new(first: str, sms_clients: Any, sms_control: Any) -> None:
    """speedmarket (001) and the mensagem provider's wbsapi inBox (003) are two providers' inboxes: a reply
    handed out as read by one is still new for the other (001: "Uma vez cosultada, a mensagem não irá
    mais ser retornada na chamada deste serviço": this service's calls, not another company's).

    Read through speedmarket first, the check is wbsapi inBox's answer, so that case is a wbsapi test (a
    run of the wbsapi dialect alone still judges it); read through wbsapi first, it is speedmarket's."""
    speedmarket = sms_clients("speedmarket")
    wbsapi = sms_clients("wbsapi")
    text = _inject_unprompted(sms_control, speedmarket)

    def inbox_texts() -> list[str]:
        """The inBox lines that carry the text, wherever their format puts it (recv's lines are inferred)."""
        exchange = wbsapi.call("inBox", {"Reexibir": 0})
        return [text for line in str(exchange.parsed or "").splitlines() if text in line]

    if first == "speedmarket":
        new = _carrying(speedmarket, "mo_new", {}, text)
        if new is None:
            return
        assert new, "precondition: the injected reply is new for mo_new [code:speedmarket.mo_new.200]"
        expect(text in inbox_texts(), "code:wbsapi.inBox.1",
               "wbsapi inBox (Reexibir 0) lost a reply that speedmarket mo_new handed out", basis="inferred",
               reason=TWO_PROVIDERS)
    else:
        assert text in inbox_texts(), ("precondition: the reply injected through the control API is in wbsapi inBox "
                                       "[code:wbsapi.inBox.1, emulator-control.yaml inject_mo]")
        expect(bool(_carrying(speedmarket, "mo_new", {}, text)), "code:speedmarket.mo_new.200",
               "code:speedmarket.mo_new.200: a reply wbsapi inBox showed is no longer new for speedmarket mo_new",
               basis="inferred", reason=TWO_PROVIDERS)
