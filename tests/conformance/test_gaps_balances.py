"""Gap found by the self-check (tests/project/defects): a send's answer must report the balance *after* it.

The documents define the balance fields of the send answers by what they mean, not only by their type:
fcati's `remaining_balance` is "o recálculo do seu novo saldo após o abatimento do custo do SMS" (000 §
Envio de Mensagens); speedmarket's `balance` is "o saldo atual de créditos em sua conta" and `credit` "quantos
créditos foram debitados em sua conta" (001 § Envio Individual; send-multiple answers the same fields for the
batch, 001 § Envio em Lote). The schema family checks their types and the limits family the debit itself;
these tests hold each field to the balance the dialect's own balance query shows right after the send, so
an answer computed before the debit, or a `credit` that is not what was taken, fails under the success code
whose answer it is.
"""
from __future__ import annotations

from typing import Any

import pytest

from smsconform.conformance.clients.base import NotExercised


def _top_up(control: Any, kind: str = "long") -> None:
    """Enough credits for one send on a target the suite can steer (a sandbox pays for real)."""
    if control is not None:
        control.credits(100, kind)


@pytest.mark.rules("code:fcati.enviar.200")
@pytest.mark.dialect("fcati")
def test_fcati_remaining_balance_is_the_balance_after_the_send(sms_clients: Any, sms_control: Any) -> None:
    client = sms_clients("fcati")
    _top_up(sms_control)
    before = client.balance()
    sent = client.enviar(client.recipient())
    assert sent.result.code == "200", (f"precondition: fcati.enviar must accept a valid send [code:fcati.enviar.200]: "
                                       f"{sent.exchange.text[:300]!r}")
    after = client.balance()
    assert after < before, (f"fcati.enviar: the balance did not drop ({before} -> {after}) [behaviour:fcati.debit, "
                            f"000 § Envio de Mensagens]")
    assert sent.remaining_balance == after, (
        f"code:fcati.enviar.200: remaining_balance is {sent.remaining_balance!r}, the balance after the send is "
        f"{after} (before: {before}) [000 § Envio de Mensagens: 'recálculo do seu novo saldo após o abatimento']")


@pytest.mark.rules("code:speedmarket.send-single.000")
@pytest.mark.dialect("speedmarket")
def test_speedmarket_send_single_reports_its_debit_and_the_new_balance(sms_clients: Any, sms_control: Any) -> None:
    client = sms_clients("speedmarket")
    _top_up(sms_control)
    before = client.balance(0)
    sent = client.send_single(client.number(0))
    # which success code answers is code:speedmarket.send-single.000's own check (its mapping is inferred)
    assert sent.result.success and sent.id is not None, (
        f"precondition: speedmarket.send-single must accept a valid send (success true, field-notes.md § speedmarket): "
        f"{sent.exchange.text[:300]!r}")
    after = client.balance(0)
    assert after < before, (f"speedmarket.send-single: balance_1 did not drop ({before} -> {after}) "
                            f"[behaviour:speedmarket.debit]")
    assert sent.balance == after, (
        f"code:speedmarket.send-single.000: `balance` is {sent.balance!r}, balance_1 after the send is {after} "
        "[001 § Envio Individual: 'o saldo atual de créditos em sua conta']")
    assert sent.credit == before - after, (
        f"code:speedmarket.send-single.000: `credit` is {sent.credit!r}, the balance dropped by {before - after} "
        "[001 § Envio Individual: 'quantos créditos foram debitados em sua conta']")


@pytest.mark.rules("code:speedmarket.send-multiple.001")
@pytest.mark.dialect("speedmarket")
def test_speedmarket_send_multiple_reports_its_debit_and_the_new_balance(sms_clients: Any, sms_control: Any) -> None:
    client = sms_clients("speedmarket")
    _top_up(sms_control)
    before = client.balance(0)
    exchange = client.call("send-multiple", client.valid_request("send-multiple"))
    body = client.json(exchange)
    if not isinstance(body, dict):
        raise AssertionError(f"speedmarket.send-multiple answered no JSON object: {exchange.text[:300]!r}")
    assert str(body.get("responseCode")) == "001", (
        f"precondition: send-multiple must process a valid batch (001 Batch processed, 001 § Envio em Lote's example): "
        f"{exchange.text[:300]!r}")
    after = client.balance(0)
    if after == before:
        raise NotExercised("the batch cost nothing on this target; nothing to compare")
    assert _as_int(body.get("balance")) == after, (
        f"code:speedmarket.send-multiple.001: `balance` is {body.get('balance')!r}, balance_1 after the batch is "
        f"{after} [001 § Envio em Lote]")
    assert _as_int(body.get("credit")) == before - after, (
        f"code:speedmarket.send-multiple.001: `credit` is {body.get('credit')!r}, the balance dropped by "
        f"{before - after} [001 § Envio em Lote]")


def _as_int(value: Any) -> int | None:
    """The document prints these fields as strings, a captured answer `credit` as a number: both count."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
