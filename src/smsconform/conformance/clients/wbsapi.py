"""The wbsapi client: the SOAP web service `wbsapi.asmx` v1.20 (seed 003 § API – WEBSERVICE), through zeep.

Why it is built this way:

- zeep reads the target's *served* WSDL (`{base_url}/wbsapi.asmx?WSDL`), not the contract's file: a target
  whose service description differs from contracts/wsdl/wbsapi.wsdl shows it at once (the family-7 tests
  compare the two), and every call is typed by what the target itself publishes, as a real client's would.
- The endpoint is the profile's `base_url` + `/wbsapi.asmx`, whatever address the WSDL prints: a provider
  WSDL often names an internal host, and the profile is what says where the target is.
- SOAP 1.1 by default; SOAP 1.2 on request (`version="1.2"`), each through its own binding of the WSDL.
- No redirect is followed (its session is no_redirects.NoRedirectSession): a redirect fails, naming where.
- Every POST goes through a recording transport, so the SOAP request and answer XML are evidence in the
  report (`Exchange`), and a SOAP Fault is recorded as the answer it is, never raised past the client:
  the families compare it with the code that was due.
- `result()` reads each answer as the catalog's `field` notes for wbsapi say (codes.yaml): sendUnique and
  inBox "code first; on success `1` with the MD5 hash"; sendMultiple "one result per record, code first";
  status and cancel "the status of each hash" (lines `hash;status;TEXT;...`, mensagem#cacl_answer) or a
  request-level `code;TEXT` line.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
import zeep
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport
from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding
from zeep.xsd import SkipValue

from ...contracts import load_contracts
from ..exchange import RECORDED, Exchange
from ..no_redirects import NoRedirectSession
from ..target import Target
from .base import DialectClient, NotExercised, Result

PATH = "/wbsapi.asmx"
TEST_TEXT = "smsconform teste de conformidade"
MD5 = re.compile(r"[0-9a-f]{32}")
OPERATIONS = ("sendUnique", "sendMultiple", "inBox", "status", "cancel")
VERSIONS = {"1.1": Soap11Binding, "1.2": Soap12Binding}
CONTENT_TYPES = {"1.1": "text/xml; charset=utf-8", "1.2": "application/soap+xml; charset=utf-8"}
ENVELOPES = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
FAULT = "SOAP Fault"


@dataclass(frozen=True)
class SoapFault:
    """A Fault answered where a result string was expected (zeep's Fault, kept as data)."""

    code: str | None
    message: str


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


class RecordingTransport(Transport):
    """zeep's transport, keeping every SOAP POST and its answer as an Exchange (evidence for reports)."""

    def __init__(self, session: requests.Session, timeout: float = 30.0) -> None:
        super().__init__(session=session, timeout=timeout, operation_timeout=timeout)
        self.operation = ""
        self.last: Exchange | None = None

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        started = time.perf_counter()
        response = super().post(address, message, headers)
        body = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        self.last = Exchange(
            dialect="wbsapi", operation=self.operation, method="POST", url=address,
            request_headers={k: str(v) for k, v in headers.items()}, request_body=body,
            status=response.status_code, response_headers=dict(response.headers),
            text=response.content.decode("utf-8", "replace"), elapsed_ms=(time.perf_counter() - started) * 1000,
        )
        RECORDED.append(self.last)
        return response


class WbsapiClient(DialectClient):
    dialect = "wbsapi"

    def __init__(self, target: Target, version: str = "1.1") -> None:
        super().__init__(target)
        spec = self.spec
        if version not in VERSIONS:
            raise ValueError(f"SOAP version {version!r}: one of {', '.join(VERSIONS)}")
        self.version = version
        self.address = f"{spec.base_url}{PATH}"
        self.wsdl_url = f"{self.address}?WSDL"
        self.session = NoRedirectSession()
        self.transport = RecordingTransport(self.session, target.http_timeout)
        self._zeep: zeep.Client | None = None
        self._services: dict[str, Any] = {}

    def close(self) -> None:
        self.session.close()

    # -- the service description ------------------------------------------------------------------------
    @property
    def zeep(self) -> zeep.Client:
        """zeep over the target's served WSDL (loaded on first use, so building a client costs nothing)."""
        if self._zeep is None:
            settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True)
            self._zeep = zeep.Client(self.wsdl_url, transport=self.transport, settings=settings)
        return self._zeep

    def binding(self, version: str | None = None) -> Any:
        wanted = VERSIONS[version or self.version]
        found = [b for b in self.zeep.wsdl.bindings.values() if type(b) is wanted]
        if not found:
            raise AssertionError(f"the served WSDL has no SOAP {version or self.version} binding "
                                 f"(bindings: {', '.join(str(q) for q in self.zeep.wsdl.bindings)})")
        return found[0]

    def service(self, version: str | None = None) -> Any:
        version = version or self.version
        if version not in self._services:
            self._services[version] = self.zeep.create_service(self.binding(version).name, self.address)
        return self._services[version]

    def operations(self, version: str | None = None) -> dict[str, tuple[str, ...]]:
        """Each operation the served WSDL binds, with its input parameters in order."""
        out: dict[str, tuple[str, ...]] = {}
        for name, op in self.binding(version).all().items():
            element = op.input.body
            params = tuple(n for n, _ in element.type.elements) if element is not None else ()
            out[name] = params
        return out

    # -- calls ------------------------------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any], account: str = "main",
             version: str | None = None) -> Exchange:
        """One SOAP call; ``params`` by the WSDL's parameter names (a trigger may override Identificacao).

        A parameter set to None is left out of the request (a required one is skipped too, so a request
        without it can be sent and its answer judged).
        """
        self.require(operation)
        merged: dict[str, Any] = {"Identificacao": self.credentials(account).get("identificacao", ""), **params}
        args = {k: (SkipValue if v is None else v) for k, v in merged.items()}
        service = self.service(version)
        self.transport.operation = operation
        self.transport.last = None
        parsed: Any
        try:
            parsed = getattr(service, operation)(**args)
        except Fault as fault:
            parsed = SoapFault(None if fault.code is None else str(fault.code), str(fault.message))
        except TransportError as err:
            parsed = SoapFault(None, f"HTTP {err.status_code}: {err.message}")
        exchange = self.transport.last
        if exchange is None:  # zeep refused to build the request: nothing went on the wire
            raise AssertionError(f"wbsapi.{operation}: zeep sent nothing for {params!r}")
        exchange.parsed = parsed
        return exchange

    def raw(self, operation: str, body: bytes | str, version: str | None = None,
            headers: dict[str, str] | None = None) -> Exchange:
        """POST a hand-made envelope (malformed XML, out-of-range values zeep would not send)."""
        version = version or self.version
        content_type = CONTENT_TYPES[version]
        action = self.binding(version).get(operation).soapaction or ""
        sent = {"Content-Type": content_type if version == "1.1" else f'{content_type}; action="{action}"'}
        if version == "1.1":
            sent["SOAPAction"] = f'"{action}"'
        sent.update(headers or {})
        data = body.encode("utf-8") if isinstance(body, str) else body
        started = time.perf_counter()
        response = self.session.post(self.address, data=data, headers=sent, timeout=self.target.http_timeout)
        exchange = Exchange(
            dialect=self.dialect, operation=operation, method="POST", url=self.address, request_headers=sent,
            request_body=data.decode("utf-8", "replace"), status=response.status_code,
            response_headers=dict(response.headers), text=response.content.decode("utf-8", "replace"),
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )
        RECORDED.append(exchange)
        return exchange

    def envelope(self, operation: str, params: dict[str, str], version: str | None = None) -> str:
        """A document/literal envelope for ``operation`` with ``params`` as written (no typing)."""
        from xml.sax.saxutils import escape

        ns = self._namespace(operation)
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in params.items())
        env = ENVELOPES[version or self.version]
        return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{env}"><soap:Body>'
                f'<{operation} xmlns="{ns}">{inner}</{operation}></soap:Body></soap:Envelope>')

    def _namespace(self, operation: str = "sendUnique") -> str:
        """The namespace of the operations' elements, as the served WSDL declares it."""
        return str(self.binding().get(operation).input.body.qname.namespace or "")

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
        control = self.target.time.control_url
        if self.target.time.mode != "control" or not control:
            return
        response = self.session.post(f"{control.rstrip('/')}/mo", timeout=30,
                                     json={"number": self.number(), "text": "SMSCONFORM RESPOSTA", "account": "main"})
        response.raise_for_status()

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
