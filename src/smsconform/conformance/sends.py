"""One send per operation, with a parameter's value and a text of the suite's choosing, for the credits and
acceptance families: they differ only in what they hold the answer and the balances to.

``send(clients, dialect, operation, params, text)`` answers a ``Sent``: whether the target accepted every
destination, how many destinations the request had, the handles (hashes, ids) it gave, and the answer
as evidence. The value of a catalog parameter travels where its dialect carries it: a query or SOAP
parameter, the fifth field of a wbsapi sendMultiple record, painel's jobdate/jobtime, an SMPP PDU field.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from .clients.base import NotExercised
from .clients.mensagem import MD5

BRT = timezone(timedelta(hours=-3))
# painel schedule values of acceptance.yaml: how far ahead jobdate/jobtime put the campaign.
SCHEDULE_OFFSETS = {"hour-ahead": timedelta(hours=1), "day-ahead": timedelta(days=1),
                    "month-ahead": timedelta(days=30)}
SMPP_TEXT_CODINGS = {0: "gsm", 1: "gsm", 3: "gsm", 8: "ucs2"}  # plain ASCII text is the same octets in 0, 1, 3


@dataclass
class Sent:
    accepted: bool
    destinations: int
    handles: list[str] = field(default_factory=list)
    answer: str = ""


def _mensagem(clients: Callable[[str], Any], operation: str, params: dict[str, Any], text: str) -> Sent:
    client = clients("mensagem")
    count = 2 if operation == "mult" else 1
    numbers = ";".join(client.number(i) for i in range(count))
    exchange = client.call(operation, {"n": numbers, "m": text, **params})
    lines = [ln.split(";") for ln in exchange.text.strip().splitlines() if ln.strip()]
    ok = len(lines) == count and all(f[0] == "1" and len(f) > 1 and MD5.fullmatch(f[1]) for f in lines)
    return Sent(ok, count, [f[1] for f in lines if len(f) > 1 and MD5.fullmatch(f[1])], exchange.text)


def _wbsapi(clients: Callable[[str], Any], operation: str, params: dict[str, Any], text: str) -> Sent:
    client = clients("wbsapi")
    if operation == "sendMultiple":
        tipo = params.get("TipoMensagem", "")
        records = ";".join(f"{client.number(i)}|{text}|||{tipo}" for i in range(2))
        exchange = client.call("sendMultiple", {"Conteudo": records})
        count = 2
    else:
        exchange = client.call("sendUnique", {"Telefone": client.number(), "Mensagem": text, **params})
        count = 1
    lines = client.lines(operation, exchange)
    ok = len(lines) == count and all(ln.code == "1" and len(ln.fields) > 1 for ln in lines)
    return Sent(ok, count, [ln.fields[1] for ln in lines if ln.code == "1" and len(ln.fields) > 1],
                str(exchange.parsed))


def _speedmarket(clients: Callable[[str], Any], operation: str, params: dict[str, Any], text: str) -> Sent:
    client = clients("speedmarket")
    if operation == "send-multiple":
        request = client.valid_request("send-multiple")
        content = params.pop("content", text)   # a media type's URL is each message's content
        request["defaultValues"] = {**request["defaultValues"], **params}
        for message in request["messages"]:
            message["content"] = content
        exchange = client.call("send-multiple", request)
        items = client.item_results(exchange)
        body = client.json(exchange)
        ok = client.result(operation, exchange).success is True and len(items) == 2 and all(i.success for i in items)
        ids = [str(m.get("id")) for m in (body or {}).get("messages", []) if isinstance(m, dict) and m.get("id")]
        return Sent(ok, 2, ids, exchange.text)
    sent = client.send_single(client.number(), **{"content": text, **params})
    return Sent(sent.result.success is True and sent.id is not None, 1, [sent.id] if sent.id else [],
                sent.exchange.text)


def _fcati(clients: Callable[[str], Any], operation: str, params: dict[str, Any], text: str) -> Sent:
    client = clients("fcati")
    sent = client.enviar(client.recipient(), text)
    return Sent(sent.result.code == "200" and sent.message_id is not None, 1,
                [sent.message_id] if sent.message_id else [], sent.exchange.text)


def _painel(clients: Callable[[str], Any], operation: str, params: dict[str, Any], text: str) -> Sent:
    client = clients("painel")
    extra = dict(params)
    offset = SCHEDULE_OFFSETS.get(str(extra.pop("schedule", "")))
    if offset is not None:
        when = datetime.fromtimestamp(client.target_now(), BRT) + offset
        extra.update({"jobdate": when.strftime("%d/%m/%Y"), "jobtime": when.strftime("%H:%M")})
    campaign = client.sendsms([client.number()], text, **extra)
    return Sent(campaign.result.code == "1" and campaign.id is not None, 1,
                [str(campaign.id)] if campaign.id is not None else [], campaign.exchange.text)


def _smpp(clients: Callable[[str], Any], operation: str, params: dict[str, Any], text: str) -> Sent:
    client = clients("smpp")
    fields = dict(params)
    coding_value = fields.pop("data_coding", None)
    coding = "auto" if coding_value is None else SMPP_TEXT_CODINGS.get(int(coding_value), "gsm")
    number = client.number()
    ton = fields.get("dest_addr_ton")
    if ton is not None and int(ton) == 1:
        number = "55" + number  # International: the country code leads (SMPP 3.4 § 5.2.5)
    session = client.session("transmitter")
    try:
        submitted = session.submit(number, text, coding=coding, registered_delivery=0,
                                   data_coding=None if coding_value is None else int(coding_value),
                                   **{k: int(v) for k, v in fields.items()})
    finally:
        session.close()
    parts = submitted.parts
    ok = bool(parts) and all(p.success for p in parts)
    answer = json.dumps([p.code for p in parts])
    return Sent(ok, 1, [i for i in submitted.ids if i], answer)


SENDERS: dict[str, Callable[[Callable[[str], Any], str, dict[str, Any], str], Sent]] = {
    "mensagem": _mensagem, "wbsapi": _wbsapi, "speedmarket": _speedmarket, "fcati": _fcati,
    "painel": _painel, "smpp": _smpp,
}


def send(clients: Callable[[str], Any], dialect: str, operation: str, params: dict[str, Any], text: str) -> Sent:
    sender = SENDERS.get(dialect)
    if sender is None:
        raise NotExercised(f"no way to send through {dialect}.{operation}")
    return sender(clients, operation, {k: v for k, v in params.items()}, text)


def text_of(alphabet: str, chars: int) -> str:
    """``chars`` characters in GSM 03.38 (plain ASCII letters) or forcing UCS-2 (one 'ã', which GSM lacks)."""
    base = "smsconform conta partes "
    filler = (base * (chars // len(base) + 1))[:chars]
    if alphabet == "ucs2":
        return "ã" + filler[1:]
    return filler
