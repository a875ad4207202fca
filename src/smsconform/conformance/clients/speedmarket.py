"""The speedmarket client: `/webservice-rest/<method>`, JSON answers whose responseCode carries the outcome.

Authentication is the Basic Authorization header, which the document recommends ("É recomendado que todas
as requisições a API HTTP utilize para autenticação cabeçalhos Basic Authorization em vez de parâmetros
query string", 001 § Autenticação); ``user``/``password`` given as parameters (a trigger's ``set``) change
what goes into that header, so a wrong password reaches 010 the same way. Every other method sends its
parameters in the query string, as the document's examples do; send-multiple posts its JSON object with the
headers the document requires for it (001 § Headers).
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from ..control import control_of
from ..exchange import Exchange
from ..judge import expect
from .base import HttpDialectClient, NotExercised, Result

TEST_TEXT = "smsconform teste de conformidade"
PREFIX = "/webservice-rest/"
OPERATIONS = ("send-single", "send-multiple", "mt_id", "mt_date", "mo_new", "mo", "balance")
UNKNOWN_METHOD = "metodo-inexistente"  # the pseudo-operation `method`: a path that names no method
BRT = timezone(timedelta(hours=-3))
CREDENTIALS = ("user", "password")
# Parameters that are headers, not query fields: a trigger may override them.
BALANCE_KEY_BY_TYPE = {0: "balance_1", 1: "balance_2", 2: "balance_2", 3: "balance_3", 4: "balance_3",
                       5: "balance_4", 6: "balance_4", 7: "balance_4", 8: "balance_4"}


@dataclass(frozen=True)
class Sent:
    """What a send-single answered, read by the keys the document names (001 § Envio Individual)."""

    result: Result
    id: str | None
    credit: int | None
    balance: int | None
    exchange: Exchange


def _int(value: Any) -> int | None:
    """``credit`` is a string in the document and a number in a captured answer: both read as integers."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class SpeedmarketClient(HttpDialectClient):
    dialect = "speedmarket"
    list_separator = ","

    # -- the wire -------------------------------------------------------------------------------------
    def _auth_header(self, user: str, password: str) -> str:
        token = base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")
        return f"Basic {token}"

    def call(self, operation: str, params: dict[str, Any], account: str = "main") -> Exchange:
        if operation != "method":
            self.require(operation)
        creds = self.credentials(account)
        params = dict(params)
        for key in CREDENTIALS:
            if key in params:
                creds[key] = "" if params[key] is None else str(params.pop(key))
        headers = {"Accept": "application/json",
                   "Authorization": self._auth_header(creds.get("user", ""), creds.get("password", ""))}
        path = UNKNOWN_METHOD if operation == "method" else operation
        url = f"{self.spec.base_url}{PREFIX}{path}"
        if operation == "send-multiple":
            headers["Content-Type"] = "application/json"
            body = {k: v for k, v in params.items() if v is not None}
            if isinstance(body.get("messages"), str):
                body["messages"] = self._messages_from_list(body["messages"])
            return self.send(operation, "POST", url, headers=headers,
                             content=json.dumps(body, ensure_ascii=False).encode("utf-8"))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        query = "&".join(f"{k}={quote(str(v), safe=',')}" for k, v in params.items() if v is not None)
        return self.send(operation, "GET", f"{url}?{query}" if query else url, headers=headers)

    @staticmethod
    def _messages_from_list(numbers: str) -> list[dict[str, Any]]:
        """A generic trigger gives `messages` as numbers joined by the list separator (``{numbers:N}``, a
        limit's N items): the batch's JSON array carries one message object per number."""
        return [{"number": int(n) if n.strip().isdigit() else n.strip(), "content": TEST_TEXT}
                for n in numbers.split(",") if n.strip()]

    def result(self, operation: str, exchange: Exchange) -> Result:
        body = self.json(exchange)
        if not isinstance(body, dict) or "responseCode" not in body:
            return Result(f"HTTP {exchange.status}", exchange.text[:200], None)
        success = body.get("success")
        return Result(str(body["responseCode"]), body.get("responseDescription"),
                      success if isinstance(success, bool) else None)

    def item_results(self, exchange: Exchange) -> list[Result]:
        """send-multiple: the result of each message, in input order."""
        body = self.json(exchange)
        items = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return []
        return [Result(str(i.get("responseCode")), i.get("responseDescription"),
                       i.get("success") if isinstance(i.get("success"), bool) else None)
                for i in items if isinstance(i, dict)]

    @staticmethod
    def json(exchange: Exchange) -> Any:
        try:
            return json.loads(exchange.text)
        except ValueError:
            return None

    # -- valid requests -------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The target's clock (its control API when it has one), in Brasília time as the service prints."""
        control = control_of(self.target)
        if control is not None:
            return datetime.fromtimestamp(control.now(), BRT)
        return datetime.fromtimestamp(time.time(), BRT)

    def window(self, days: float = 1.0) -> dict[str, str]:
        """A query period around the target's now, well inside the 32-day window (001 § Consulta ...)."""
        now = self.now().replace(tzinfo=None)
        fmt = "%Y-%m-%dT%H:%M:%S"
        return {"start_date": (now - timedelta(days=days)).strftime(fmt),
                "end_date": (now + timedelta(days=days)).strftime(fmt)}

    def valid_request(self, operation: str) -> dict[str, Any]:
        if operation == "send-single":
            return {"type": 0, "number": self.number(), "content": TEST_TEXT}
        if operation == "send-multiple":
            return {"defaultValues": {"type": 0},
                    "messages": [{"number": int(self.number(i)), "content": TEST_TEXT} for i in range(2)]}
        if operation == "mt_id":
            sent = self.send_single(self.number())
            if sent.id is None:
                raise AssertionError(f"could not send a message to build the state: {sent.exchange.text!r}")
            return {"id": sent.id}
        if operation in ("mt_date", "mo"):
            return self.window()
        if operation in ("mo_new", "balance", "method"):
            return {}
        raise NotExercised(f"no valid request is known for speedmarket.{operation}")

    # -- states the codes family needs (states.py asks a client for the ones it does not know) ---------
    @staticmethod
    def build_state(client: "SpeedmarketClient", control: Any, state: str, operation: str) -> Any:
        """campaign_id_used: a send with a fresh campaign_id on the account the code's trigger names, so
        that the plan's second send with the same campaign_id meets the duplicate protection (001 §
        Parâmetro campaign_id: "proteção contra envios duplicados")."""
        import uuid

        from ...contracts import load_contracts
        from ..triggers import Plan

        if state != "campaign_id_used":
            raise NotExercised(f"no way to build state {state!r} for speedmarket")
        accounts = {(c.trigger or {}).get("account", "main") for c in load_contracts().catalog.codes
                    if c.dialect == "speedmarket" and c.operation == operation and (c.trigger or {}).get("state") == state}
        account = sorted(accounts)[0] if accounts else "main"
        params = {**client.valid_request(operation), "campaign_id": f"dup-{uuid.uuid4().hex[:12]}"}
        first = client.result(operation, client.call(operation, params, account))
        if not first.success:
            raise AssertionError(f"the first send with a new campaign_id was refused: {first}")
        return Plan(operation, account, params)

    # -- flows the families share ---------------------------------------------------------------------
    def send_single(self, number: str, content: str = TEST_TEXT, account: str = "main", **extra: Any) -> Sent:
        params = {"type": 0, "number": number, "content": content, **extra}
        exchange = self.call("send-single", params, account)
        body = self.json(exchange) if isinstance(self.json(exchange), dict) else {}
        ident = body.get("id")
        return Sent(self.result("send-single", exchange), None if ident is None else str(ident),
                    _int(body.get("credit")), _int(body.get("balance")), exchange)

    def balance(self, type_: int = 0, account: str = "main") -> int:
        """The balance of the service a ``type`` uses (balance_1 SMS, balance_2 SMS Interativo, ...)."""
        exchange = self.call("balance", {}, account)
        body = self.json(exchange)
        key = BALANCE_KEY_BY_TYPE[type_]
        value = _int(body.get(key)) if isinstance(body, dict) else None
        if value is None:
            raise AssertionError(f"speedmarket.balance: no integer {key} in {exchange.text[:300]!r}")
        return value

    def mo_records(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The MO records of a mo_new or mo answer. That the query succeeds is documented (200 Successful
        search, 001 § Status de Chamada); that its MOs come as a `messages` list is inferred
        (behaviour:speedmarket.mo-record-keys: no MO query answer is published): None when they do not,
        the deviation recorded."""
        exchange = self.call(operation, params)
        body = self.json(exchange)
        assert isinstance(body, dict) and str(body.get("responseCode")) == "200", (
            f"speedmarket.{operation} must answer 200 Successful search, got {exchange.text[:300]!r} "
            f"[code:speedmarket.{operation}.200]")
        records = body.get("messages")
        if not expect(isinstance(records, list), "behaviour:speedmarket.mo-record-keys",
                      f"speedmarket.{operation}: no `messages` list of MOs in {exchange.text[:300]!r}"):
            return None
        return [m for m in records if isinstance(m, dict)]

    def statuses(self, ids: list[str], account: str = "main") -> dict[str, str]:
        """id -> status of each message mt_id finds (001 § Consulta de Status por Identificador)."""
        if not ids:
            return {}
        exchange = self.call("mt_id", {"id": ",".join(ids)}, account)
        body = self.json(exchange)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise AssertionError(f"speedmarket.mt_id: no messages list in {exchange.text[:300]!r}")
        out: dict[str, str] = {}
        for item in body["messages"]:
            if isinstance(item, dict) and item.get("id") is not None:
                out[str(item["id"])] = str(item.get("status"))
        return out
