"""The wbsapi client: the SOAP web service `wbsapi.asmx` v1.20 (seed 003 § API – WEBSERVICE), through zeep.

Why it is built this way:

- As every SOAP client here (soap.py): zeep over the target's *served* WSDL
  (`{base_url}/wbsapi.asmx?WSDL`), so a target whose service description differs from
  contracts/wsdl/wbsapi.wsdl shows it at once (the family-7 tests compare the two); the endpoint is the
  profile's; SOAP 1.1 or 1.2; every exchange recorded, a Fault kept as the answer it is, which the families
  compare with the code that was due; no redirect is followed (soap.py's session is
  no_redirects.NoRedirectSession): a redirect fails, naming where.
- `result()` reads each answer as the catalog's `field` notes for wbsapi say (codes.yaml): sendUnique and
  inBox "code first; on success `1` with the MD5 hash"; sendMultiple "one result per record, code first";
  status and cancel "the status of each hash" (lines `hash;status;TEXT;...`, mensagem#cacl_answer) or a
  request-level `code;TEXT` line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ...contracts import load_contracts
from ..control import control_of
from ..exchange import Exchange
from .base import NotExercised, Result
from .soap import CONTENT_TYPES, ENVELOPES, FAULT, VERSIONS, SoapClient, SoapFault

__all__ = ["CONTENT_TYPES", "ENVELOPES", "FAULT", "VERSIONS", "SoapFault", "WbsapiClient"]

PATH = "/wbsapi.asmx"
TEST_TEXT = "smsconform teste de conformidade"
MD5 = re.compile(r"[0-9a-f]{32}")
OPERATIONS = ("sendUnique", "sendMultiple", "inBox", "status", "cancel")


@dataclass(frozen=True)
class Line:
    """One line of a result: its code, its text (None when the line carries a protocol instead) and fields."""

    code: str
    text: str | None
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Sent:
    result: Result
    hash: str | None
    exchange: Exchange


class WbsapiClient(SoapClient):
    dialect = "wbsapi"
    path = PATH

    # -- calls ------------------------------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any], account: str = "main",
             version: str | None = None) -> Exchange:
        """One SOAP call; ``params`` by the WSDL's parameter names (a trigger may override Identificacao);
        None leaves a parameter out (SoapClient.invoke)."""
        self.require(operation)
        merged: dict[str, Any] = {"Identificacao": self.credentials(account).get("identificacao", ""), **params}
        return self.invoke(operation, merged, version)

    # -- reading answers --------------------------------------------------------------------------------
    @staticmethod
    def text(exchange: Exchange) -> str | None:
        """The result string (None for a Fault or an absent result element)."""
        return exchange.parsed if isinstance(exchange.parsed, str) else None

    @staticmethod
    def lines(operation: str, exchange: Exchange) -> list[Line]:
        """Each line of the result, read as the catalog's `field` note for the operation says."""
        text = exchange.parsed if isinstance(exchange.parsed, str) else ""
        out = []
        for raw in text.replace("\r\n", "\n").split("\n"):
            if not raw.strip():
                continue
            fields = tuple(raw.split(";"))
            if operation in ("status", "cancel") and MD5.fullmatch(fields[0]) and len(fields) >= 3:
                out.append(Line(fields[1], fields[2], fields))  # hash;status;TEXT;id externo;number;date
            elif fields[0] == "1" and len(fields) >= 2 and MD5.fullmatch(fields[1]):
                out.append(Line("1", None, fields))  # 1;<md5>[;...]: success carries the protocol, not its text
            else:
                out.append(Line(fields[0], fields[1] if len(fields) > 1 else None, fields))
        return out

    def result(self, operation: str, exchange: Exchange) -> Result:
        """The answer's code and text; a multi-record answer is read at its first refused line, since a
        trigger mixes a valid record with the one that must be refused."""
        if isinstance(exchange.parsed, SoapFault):
            return Result(FAULT, exchange.parsed.message, False)
        lines = self.lines(operation, exchange)
        if not lines:
            return Result("", None, None)
        ok = ("1",) if operation != "cancel" else ("9",)
        line = next((ln for ln in lines if ln.code not in ok), lines[0]) if operation == "sendMultiple" else lines[0]
        catalog = load_contracts().catalog
        success = (catalog.code(self.dialect, operation, line.code).success
                   if catalog.has_code(self.dialect, operation, line.code) else None)
        return Result(line.code, line.text, success)

    # -- valid requests -------------------------------------------------------------------------------
    def valid_request(self, operation: str) -> dict[str, Any]:
        if operation == "sendUnique":
            return {"Telefone": self.number(), "Mensagem": TEST_TEXT}
        if operation == "sendMultiple":
            return {"Conteudo": f"{self.number(0)}|{TEST_TEXT};{self.number(1)}|{TEST_TEXT}"}
        if operation == "inBox":
            self._ensure_inbox()
            return {"Reexibir": 1}
        if operation in ("status", "cancel"):
            return {"Hash": self.send_unique().hash}
        raise NotExercised(f"no valid request is known for wbsapi.{operation}")

    def _ensure_inbox(self) -> None:
        """A reply in today's inbox, so that inBox answers records (code 1): the control API injects one
        where the target has it; elsewhere the inbox is taken as it is."""
        control = control_of(self.target)
        if control is not None:
            control.inject_mo(self.number(), "SMSCONFORM RESPOSTA", account="main")

    # -- flows the families share ---------------------------------------------------------------------
    def send_unique(self, number: str | None = None, text: str = TEST_TEXT, account: str = "main",
                    version: str | None = None, **extra: Any) -> Sent:
        """Send one message; AssertionError unless it is accepted with an MD5 protocol."""
        exchange = self.call("sendUnique", {"Telefone": number or self.number(), "Mensagem": text, **extra},
                             account, version)
        lines = self.lines("sendUnique", exchange)
        if not lines or lines[0].code != "1" or len(lines[0].fields) < 2:
            raise AssertionError(f"wbsapi.sendUnique did not accept the message: {exchange.parsed!r}")
        return Sent(self.result("sendUnique", exchange), lines[0].fields[1], exchange)

    def send_one(self, account: str = "main", number: str | None = None, scheduled: bool = False,
                 **extra: Any) -> str:
        """Send one message and return its MD5 protocol, for the flows that build a message's state.

        ``scheduled`` puts it a day ahead (Agenda, an xs:dateTime in Brasília time), so it stays waiting
        whatever the target's clock does."""
        if scheduled:
            extra.setdefault("Agenda", datetime.now(timezone(timedelta(hours=-3))) + timedelta(days=1))
        return self.send_unique(number=number, account=account, **extra).hash

    def cancel_one(self, digest: str) -> None:
        self.call("cancel", {"Hash": digest})

    def hash_param(self, operation: str) -> str:
        return "Hash"

    def statuses(self, hashes: list[str], operation: str = "status", account: str = "main",
                 version: str | None = None) -> list[Line]:
        """status (or cancel) of ``hashes``: one line per hash, in input order."""
        exchange = self.call(operation, {"Hash": ";".join(hashes)}, account, version)
        return self.lines(operation, exchange)
