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


def _carrying(client: Any, operation: str, params: dict[str, Any], text: str) -> int:
    """How many MO records of the answer carry ``text``. No MO query answer is published: that the text is
    under `content` (the MO call-back's name) is the inferred rule behaviour:speedmarket.mo-record-keys,
    held through judge.expect; the record is found by its text whatever the field is named."""
    exchange = client.call(operation, params)
    body = client.json(exchange)
    assert isinstance(body, dict) and isinstance(body.get("messages"), list), (
        f"speedmarket.{operation}: no messages list in {exchange.text[:300]!r}")
    assert str(body.get("responseCode")) == "200", f"speedmarket.{operation} refused: {exchange.text[:300]!r}"
    found = [m for m in body["messages"] if isinstance(m, dict) and text in (str(v) for v in m.values())]
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
    assert _carrying(client, "mo_new", {}, text), "the injected reply is not new for mo_new"
    found = _carrying(client, "mo", client.window(), text)
    assert found == 1, (
        f"code:speedmarket.mo.200: the period query must return every reply of the period once, found this one "
        f"{found} times [001 § Consulta de Mensagens Recebidas por Período]")
