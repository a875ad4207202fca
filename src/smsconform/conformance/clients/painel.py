"""The painel client: `/painel/api.ashx?action=<action>&lgn=&pwd=...`, as the document's GET URLs do.

Answers are the real service's JSON envelope `{"status", "data", "msg"}` (field-notes.md § painel): the
code is `status`, the text `msg` (null reads as the empty text, as the catalog writes it); an unknown
action gets the plain text `0:OPERACAO INVALIDA`, read as code `0` and text `OPERACAO INVALIDA`.

getstatus and getbalance "só poderá ser solicitado de 1 em 1 minuto" (002 § Obtendo a campanha, § Saldo
do usuário): the client keeps that pace itself, as a conformant client must, letting the target's clock
move (its control API) or, in real time, taking turns from the run's one pacer (conformance/pacer.py), so
no test is refused because another test, client or worker called first; the limit family turns pacing
off to cross the limit (its calls are still recorded as made).
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from ...contracts import load_contracts
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
        self._answered: dict[str, float] = {}  # pacing key -> when a call of it was last answered (status 1)

    def made_elsewhere(self, url: str) -> None:
        """A call another client made (schemathesis's session): a rate-limited action of an account moves
        that account's next turn, so the next paced call is not refused because of it."""
        from urllib.parse import parse_qs, urlsplit

        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
        action = query.get("action", "")
        self._mark(action, credentials={"lgn": query.get("lgn", ""), "pwd": query.get("pwd", "")})

    # -- the wire -------------------------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any], account: str = "main", *, pace: bool = True) -> Exchange:
        if operation != "action":
            self.require(operation)
        params = dict(params)
        action = params.pop("action", UNKNOWN_ACTION if operation == "action" else operation)
        pairs: list[tuple[str, Any]] = [("action", action)]
        creds = self.credentials(account)
        sent = {key: params.pop(key, creds.get(key)) for key in ("lgn", "pwd")}
        pairs += list(sent.items()) + list(params.items())
        if pace:
            self.pace(operation, account, sent)
        query = "&".join(f"{k}={quote(str(v), safe=',/:')}" for k, v in pairs if v is not None)
        exchange = self.send(operation, "GET", f"{self.spec.base_url}{PATH}?{query}")
        self._mark(operation, account, sent)
        if self.target.time.mode != "control" and self._rate_window(operation) is not None \
                and (self.envelope(exchange) or {}).get("status") == 1:
            self._answered[self.pace_key(operation, account, sent)] = time.monotonic()
        return exchange

    def answered_within(self, operation: str, seconds: float, account: str = "main") -> bool:
        """Whether this client had a call of a rate-limited ``operation`` answered in the last ``seconds``
        (real time): a test crossing the limit can take that call as the minute's first, instead of
        waiting a minute to make its own."""
        at = self._answered.get(self.pace_key(operation, account))
        return at is not None and time.monotonic() - at < seconds

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
            if client.target.time.mode == "control":
                client.wait_until_final(campaign)
                return Plan(operation, "main", {"id": campaign})
            # Real time: each look is a paced getstatus (a minute apart), and all of it within max_wait.
            finals = set(load_contracts().catalog.machine("painel.message").finals)
            deadline = time.monotonic() + client.target.time.max_wait
            while time.monotonic() < deadline:
                time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
                if set(client.statuses(campaign).values()) <= finals:
                    return Plan(operation, "main", {"id": campaign})
            raise NotExercised(f"campaign {campaign} reached no final status within time.max_wait "
                               f"({client.target.time.max_wait:.0f} s)")
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
