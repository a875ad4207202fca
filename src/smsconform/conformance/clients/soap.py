"""What the SOAP dialect clients share (wbsapi.asmx, painel's ServiceSms.asmx): zeep over the target's
*served* WSDL, a recording transport, hand-made envelopes.

- zeep reads `{base_url}{path}?WSDL`, not the contract's file: a target whose service description differs
  from the contract shows it at once, and every call is typed by what the target itself publishes, as a
  real client's would.
- The endpoint is the profile's `base_url` + the path, whatever address the WSDL prints: a provider WSDL
  often names an internal host, and the profile is what says where the target is.
- SOAP 1.1 by default; SOAP 1.2 on request (`version="1.2"`), each through its own binding of the WSDL.
- Every POST goes through a recording transport, so the SOAP request and answer XML are evidence in the
  report (`Exchange`), and a SOAP Fault is recorded as the answer it is, never raised past the client.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
import zeep
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport
from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding
from zeep.xsd import SkipValue

from ..exchange import RECORDED, Exchange
from ..no_redirects import NoRedirectSession
from ..target import Target
from .base import DialectClient

VERSIONS = {"1.1": Soap11Binding, "1.2": Soap12Binding}
CONTENT_TYPES = {"1.1": "text/xml; charset=utf-8", "1.2": "application/soap+xml; charset=utf-8"}
ENVELOPES = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
FAULT = "SOAP Fault"


@dataclass(frozen=True)
class SoapFault:
    """A Fault answered where a result string was expected (zeep's Fault, kept as data)."""

    code: str | None
    message: str


class RecordingTransport(Transport):
    """zeep's transport, keeping every SOAP POST and its answer as an Exchange (evidence for reports)."""

    def __init__(self, session: requests.Session, dialect: str, timeout: float = 30.0) -> None:
        super().__init__(session=session, timeout=timeout, operation_timeout=timeout)
        self.dialect = dialect
        self.operation = ""
        self.last: Exchange | None = None

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        started = time.perf_counter()
        response = super().post(address, message, headers)
        body = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        self.last = Exchange(
            dialect=self.dialect, operation=self.operation, method="POST", url=address,
            request_headers={k: str(v) for k, v in headers.items()}, request_body=body,
            status=response.status_code, response_headers=dict(response.headers),
            text=response.content.decode("utf-8", "replace"), elapsed_ms=(time.perf_counter() - started) * 1000,
        )
        RECORDED.append(self.last)
        return response


class SoapClient(DialectClient):
    """A dialect spoken through zeep over the target's served WSDL at ``base_url + path``."""

    path: str = ""

    def __init__(self, target: Target, version: str = "1.1") -> None:
        super().__init__(target)
        spec = self.spec
        if version not in VERSIONS:
            raise ValueError(f"SOAP version {version!r}: one of {', '.join(VERSIONS)}")
        self.version = version
        self.address = f"{spec.base_url}{self.path}"
        self.wsdl_url = f"{self.address}?WSDL"
        self.session = NoRedirectSession()  # the target is only what the profile names
        self.session.trust_env = False
        self.transport = RecordingTransport(self.session, self.dialect, target.http_timeout)
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

    def speaks(self, version: str) -> bool:
        """Whether a test can go on in ``version``. SOAP 1.1 is the .asmx service's own; that it answers SOAP
        1.2 too is inferred (behaviour:<dialect>.soap12: ASP.NET serves both bindings, no document names a
        version), so a served WSDL without a 1.2 binding records that deviation and the 1.2 test stops."""
        from ...contracts import load_contracts
        from ..judge import expect

        if version == "1.1":
            return True
        try:
            self.binding(version)
        except AssertionError as missing:
            rule = load_contracts().catalog.rule(f"behaviour:{self.dialect}.soap12")
            return expect(False, rule, f"{missing} [{rule.source}]")
        return True

    def operations(self, version: str | None = None) -> dict[str, tuple[str, ...]]:
        """Each operation the served WSDL binds, with its input parameters in order."""
        out: dict[str, tuple[str, ...]] = {}
        for name, op in self.binding(version).all().items():
            element = op.input.body
            params = tuple(n for n, _ in element.type.elements) if element is not None else ()
            out[name] = params
        return out

    def invoke(self, operation: str, params: dict[str, Any], version: str | None = None) -> Exchange:
        """One SOAP call through zeep, the answer kept as the Exchange's ``parsed`` (a Fault as SoapFault).

        A parameter set to None is left out of the request (a required one is skipped too, so a request
        without it can be sent and its answer judged).
        """
        args = {k: (SkipValue if v is None else v) for k, v in params.items()}
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
            raise AssertionError(f"{self.dialect}.{operation}: zeep sent nothing for {params!r}")
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

    def _namespace(self, operation: str | None = None) -> str:
        """The namespace of the operations' elements (of ``operation``, or the first the binding has), as
        the served WSDL declares it."""
        name = operation or next(iter(self.binding().all()))
        return str(self.binding().get(name).input.body.qname.namespace or "")
