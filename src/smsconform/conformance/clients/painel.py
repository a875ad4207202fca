"""The painel client: `/painel/api.ashx?action=<action>&lgn=&pwd=...`, as the document's GET URLs do.

Answers are the real service's JSON envelope `{"status", "data", "msg"}` (field-notes.md § painel): the
code is `status`, the text `msg` (null reads as the empty text, as the catalog writes it); an unknown
action gets the plain text `0:OPERACAO INVALIDA`, read as code `0` and text `OPERACAO INVALIDA`.

getstatus and getbalance "só poderá ser solicitado de 1 em 1 minuto" (002 § Obtendo a campanha, § Saldo
do usuário): the client keeps that pace itself (pacing.py, one pace with ServiceSms.asmx's GetStatus and
GetBalance); the limit family turns pacing off to cross the limit.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from ..exchange import Exchange
from .base import HttpDialectClient, NotExercised, Result
from .pacing import OnceAMinute

TEST_TEXT = "smsconform teste de conformidade"
PATH = "/painel/api.ashx"
UNKNOWN_ACTION = "operacao-inexistente"  # the pseudo-operation `action`
BRT = timezone(timedelta(hours=-3))
STATUS_COLUMN, NUMBER_COLUMN = 6, 10  # getstatus `data`: delivery_id;?;enqueue_time;?;delivery_time;?;status;?;?;carrier;mobile_number;?;message


@dataclass(frozen=True)
class Campaign:
    result: Result
    id: int | None
    exchange: Exchange


def parse_getstatus_data(data: str) -> list[list[str]]:
    """The `;`-separated, `"`-quoted lines of getstatus `data` (field-notes.md § painel), as cells."""
    lines = [line for line in data.replace("\r\n", "\n").split("\n") if line.strip()]
    return [row for row in csv.reader(lines, delimiter=";", quotechar='"')]


class PainelClient(OnceAMinute, HttpDialectClient):
    dialect = "painel"
    list_separator = ","

    def __init__(self, target: Any) -> None:
        super().__init__(target)
        self.control_http = self.http

    # -- the wire -------------------------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any], account: str = "main", *, pace: bool = True) -> Exchange:
        if operation != "action":
            self.require(operation)
        if pace:
            self._pace(operation, account)
        params = dict(params)
        action = params.pop("action", UNKNOWN_ACTION if operation == "action" else operation)
        pairs: list[tuple[str, Any]] = [("action", action)]
        creds = self.credentials(account)
        for key in ("lgn", "pwd"):
            value = params.pop(key, creds.get(key))
            pairs.append((key, value))
        pairs += list(params.items())
        query = "&".join(f"{k}={quote(str(v), safe=',/:')}" for k, v in pairs if v is not None)
        exchange = self.send(operation, "GET", f"{self.spec.base_url}{PATH}?{query}")
        self._mark(operation, account)
        return exchange

    @staticmethod
    def envelope(exchange: Exchange) -> dict[str, Any] | None:
        return exchange.json_object()

    def result(self, operation: str, exchange: Exchange) -> Result:
        body = self.envelope(exchange)
        if body is not None and "status" in body:
            msg = body.get("msg")
            return Result(str(body["status"]), "" if msg is None else str(msg), body["status"] == 1)
        text = exchange.text.strip()
        code, sep, rest = text.partition(":")
        if sep and code.isdigit():
            return Result(code, rest, False)
        return Result(f"HTTP {exchange.status}", text[:200], None)

    # -- valid requests -------------------------------------------------------------------------------
    def schedule(self, days: float = 30) -> dict[str, str]:
        """jobdate/jobtime well in the future (DD/MM/YYYY and HH:MM, 002 § Agendamento de campanha)."""
        when = datetime.fromtimestamp(self.target_now(), BRT) + timedelta(days=days)
        return {"jobdate": when.strftime("%d/%m/%Y"), "jobtime": when.strftime("%H:%M")}

    def valid_request(self, operation: str) -> dict[str, Any]:
        if operation == "sendsms":
            return {"msg": TEST_TEXT, "numbers": self.number()}
        if operation == "getbalance":
            return {}
        if operation in ("getstatus", "holdsms"):
            return {"id": self._campaign(scheduled=True)}
        if operation == "releasesms":
            campaign = self._campaign(scheduled=True)
            held = self.result("holdsms", self.call("holdsms", {"id": campaign}))
            if held.code != "1":
                raise AssertionError(f"could not hold campaign {campaign} to build the state: {held}")
            return {"id": campaign}
        if operation == "action":
            return {"action": UNKNOWN_ACTION}
        raise NotExercised(f"no valid request is known for painel.{operation}")

    def _campaign(self, scheduled: bool) -> int:
        extra = self.schedule() if scheduled else {}
        sent = self.sendsms([self.number()], **extra)
        if sent.id is None:
            raise AssertionError(f"could not create a campaign to build the state: {sent.exchange.text!r}")
        return sent.id

    # -- states the codes family needs (states.py asks a client for the ones it does not know) ---------
    @staticmethod
    def build_state(client: "PainelClient", control: Any, state: str, operation: str) -> Any:
        """campaign_waiting (scheduled a month ahead), campaign_held (that, held), campaign_done (sent at
        once, then time passes until getstatus shows every destination in a final status)."""
        from ..triggers import Plan

        if state in ("campaign_waiting", "campaign_held"):
            campaign = client._campaign(scheduled=True)
            if state == "campaign_held":
                held = client.hold(campaign)
                if held.code != "1":
                    raise AssertionError(f"could not hold campaign {campaign} to build the state: {held}")
            return Plan(operation, "main", {"id": campaign})
        if state == "campaign_done":
            campaign = client._campaign(scheduled=False)
            client.wait_until_final(campaign)
            return Plan(operation, "main", {"id": campaign})
        raise NotExercised(f"no way to build state {state!r} for painel")

    # -- flows the families share ---------------------------------------------------------------------
    def sendsms(self, numbers: list[str], msg: str = TEST_TEXT, account: str = "main", **extra: Any) -> Campaign:
        exchange = self.call("sendsms", {"msg": msg, "numbers": ",".join(numbers), **extra}, account)
        body = self.envelope(exchange)
        data = body.get("data") if body else None
        campaign = data if isinstance(data, int) and not isinstance(data, bool) else None
        return Campaign(self.result("sendsms", exchange), campaign, exchange)

    def balance(self, account: str = "main") -> float:
        exchange = self.call("getbalance", {}, account)
        body = self.envelope(exchange)
        data = body.get("data") if body else None
        if body is None or body.get("status") != 1 or isinstance(data, bool) or not isinstance(data, (int, float)):
            raise AssertionError(f"painel.getbalance: no numeric balance in {exchange.text[:300]!r}")
        return data

    def statuses(self, campaign: int, account: str = "main") -> dict[str, str]:
        """mobile number -> status text of each destination of a campaign (getstatus `data`)."""
        exchange = self.call("getstatus", {"id": campaign}, account)
        body = self.envelope(exchange)
        if body is None or body.get("status") != 1 or not isinstance(body.get("data"), str):
            raise AssertionError(f"painel.getstatus: no data text in {exchange.text[:300]!r}")
        out: dict[str, str] = {}
        for row in parse_getstatus_data(body["data"]):
            if len(row) != 13:
                raise AssertionError(f"painel.getstatus: a line of {len(row)} columns, 13 expected: {row!r}")
            out[row[NUMBER_COLUMN]] = row[STATUS_COLUMN]
        return out

    def hold(self, campaign: int, account: str = "main") -> Result:
        return self.result("holdsms", self.call("holdsms", {"id": campaign}, account))

    def release(self, campaign: int, account: str = "main") -> Result:
        return self.result("releasesms", self.call("releasesms", {"id": campaign}, account))
