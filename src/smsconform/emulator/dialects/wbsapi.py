"""wbsapi: the provider's SOAP web service `wbsapi.asmx` v1.20 (seed 003 § API – WEBSERVICE).

The same platform as the mensagem HTTP API, so the same core, accounts, credits and messages: a message
sent here is cancelled by `/sms/cacl` and the other way round. It answers as an ASP.NET .asmx service
does, because that is what the seed's pages are (the operations list, "To test the operation using the
HTTP POST protocol"):

- `POST /wbsapi.asmx`, SOAP 1.1 (`text/xml`, `SOAPAction`) and SOAP 1.2 (`application/soap+xml`, `action`
  parameter), document/literal, the operations and actions read from contracts/wsdl/wbsapi.wsdl;
- `POST /wbsapi.asmx/<operation>` with a form body, the .asmx "HTTP POST protocol" of the test pages;
- `GET /wbsapi.asmx?WSDL` the contract's WSDL with its address rewritten to the request's Host, and
  `GET /wbsapi.asmx` (`?op=<operation>`) the small operations pages .asmx serves;
- what the SOAP stack itself cannot read (malformed XML, a DTD, a wrong envelope, an unknown operation, a
  value that is not of its XSD type) is a SOAP Fault with HTTP 500, as .asmx answers: the one place a 500
  is the protocol's answer. Everything the service understands gets its documented code in the result.

Every result is one string, formatted as the mensagem API formats the same answer (the WSDL's
annotations name the grammar: `mensagem#send_answer`, `#mult_answer`, `#recv_answer`, `#cacl_answer`).

Callbacks: messages are submitted under the dialect name "mensagem", not "wbsapi". The seed documents one
call-back registration for the platform (003 § Cadastro de Call-back), none for the web service, so a
message sent by SOAP reports its status, DLR and replies through the account's mensagem call-backs, as the
same message sent by HTTP would; no second callback format is invented for wbsapi.
"""
from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, Callable
from xml.sax.saxutils import escape

from lxml import etree

from ...contracts.yamlfile import load_yaml
from ..core import Core, Refused
from ..core.accounts import Principal
from ..core.clock import BRT, local
from ..core.inbox import Inbox
from ..core.messages import KIND_BY_F, Accepted, Message, Submission
from ..http import Request, Response, parse_pairs
from .base import CodeBook
from .mensagem import MESSAGE_LEVEL, _stamp
from ..core.numbers import is_digits

NAME = "wbsapi"
PATH = "/wbsapi.asmx"
SUBMIT_AS = "mensagem"  # see the module docstring: the platform's call-backs are mensagem's
MACHINE = "wbsapi.message"

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# A protocol of a message the platform does not know: cacl's 255, the same platform's answer for a hash it
# cannot find (wbsapi's status and cancel tables print none; inferred).
NOT_FOUND = ("mensagem", "message-status", "255")
_HASH = re.compile(r"^[0-9a-fA-F]{32}$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$")
_XML_UNSAFE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ACTION = re.compile(r';\s*action\s*=\s*"?([^";]*)"?', re.IGNORECASE)


class SoapFault(Exception):
    """What the SOAP stack answers before the service runs: `kind` is client, server, version or
    must_understand (rendered soap:Client / soap:Sender, ... per version)."""

    def __init__(self, kind: str, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SoapVersion:
    name: str
    envelope: str
    content_type: str
    fault_codes: dict[str, str]


SOAP11 = SoapVersion("1.1", SOAP11_ENV, "text/xml; charset=utf-8",
                     {"client": "soap:Client", "server": "soap:Server", "version": "soap:VersionMismatch",
                      "must_understand": "soap:MustUnderstand"})
SOAP12 = SoapVersion("1.2", SOAP12_ENV, "application/soap+xml; charset=utf-8",
                     {"client": "soap:Sender", "server": "soap:Receiver", "version": "soap:VersionMismatch",
                      "must_understand": "soap:MustUnderstand"})
BY_CONTENT_TYPE = {"text/xml": SOAP11, "application/soap+xml": SOAP12}
BY_ENVELOPE = {SOAP11_ENV: SOAP11, SOAP12_ENV: SOAP12}


# -- the contract's service description ------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    name: str
    actions: frozenset[str]
    params: tuple[str, ...]


class ServiceDescription:
    """What the WSDL says the service is: its namespace, operations, their SOAP actions and parameters."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.tree = etree.fromstring(raw, _parser())
        self.namespace: str = self.tree.get("targetNamespace", "")
        self.service: str = self.tree.find(f"{{{WSDL_NS}}}service").get("name", "WBSAPI")
        elements = {e.get("name"): e for e in self.tree.iter(f"{{{XSD_NS}}}element") if e.get("name")}
        actions: dict[str, set[str]] = {}
        for op in self.tree.iter(f"{{{WSDL_NS}}}operation"):
            for ns in (WSDL_SOAP11, WSDL_SOAP12):
                soap_op = op.find(f"{{{ns}}}operation")
                if soap_op is not None and soap_op.get("soapAction"):
                    actions.setdefault(op.get("name"), set()).add(soap_op.get("soapAction"))
        port_type = self.tree.find(f"{{{WSDL_NS}}}portType")
        self.operations: dict[str, Operation] = {}
        for op in port_type.iter(f"{{{WSDL_NS}}}operation"):
            name = op.get("name")
            element = elements.get(name)
            params = tuple(p.get("name") for p in element.iter(f"{{{XSD_NS}}}element") if p is not element
                           and p.get("name")) if element is not None else ()
            self.operations[name] = Operation(name, frozenset(actions.get(name, ())), params)
        self.by_lower = {name.lower(): op for name, op in self.operations.items()}
        self.by_action = {a: op for op in self.operations.values() for a in op.actions}

    def with_address(self, location: str) -> bytes:
        """The WSDL with every soap:address / soap12:address pointing at ``location``."""
        tree = etree.fromstring(self.raw, _parser(keep_comments=True))
        for ns in (WSDL_SOAP11, WSDL_SOAP12):
            for address in tree.iter(f"{{{ns}}}address"):
                address.set("location", location)
        return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def _parser(*, keep_comments: bool = False) -> etree.XMLParser:
    """A hardened parser: no entity expansion, no network, no huge trees (XXE and entity bombs)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=not keep_comments,
                           remove_pis=not keep_comments)


# -- the dialect ------------------------------------------------------------------------------------

Params = dict[str, "str | None"]


class Wbsapi:
    name = NAME

    def __init__(self, core: Core) -> None:
        self.core = core
        self.codes = CodeBook(core.contracts.catalog, NAME)
        self.description = ServiceDescription(core.contracts.wsdl_path.read_bytes())
        self.handlers: dict[str, Callable[[Params], str]] = {
            "sendUnique": self.send_unique, "sendMultiple": self.send_multiple, "inBox": self.inbox,
            "status": self.status, "cancel": self.cancel,
        }
        missing = set(self.description.operations) ^ set(self.handlers)
        if missing:
            raise RuntimeError(f"wbsapi.wsdl and the dialect disagree on operations: {sorted(missing)}")
        self._code = lru_cache(maxsize=256)(self._lookup)
        self._wsdl_cache: dict[str, bytes] = {}

    # -- routing --------------------------------------------------------------------------------------
    def matches(self, request: Request) -> bool:
        path = request.path.lower()
        return path == PATH or path.startswith(PATH + "/")

    def handle(self, request: Request) -> Response:
        rest = request.path[len(PATH):].strip("/")
        if request.method in ("GET", "HEAD"):
            return self._get(request, rest)
        if request.method != "POST":
            response = Response.text("Method Not Allowed", 405)
            response.headers.append(("allow", "GET, POST"))
            return response
        if rest:
            return self._http_post(request, rest)
        return self._soap(request)

    def failure(self, request: Request) -> Response:
        """The emulator failed: a SOAP Server fault, as .asmx answers an unhandled exception."""
        version = BY_CONTENT_TYPE.get(request.content_type, SOAP11)
        return self._fault(version, SoapFault("server", "Server was unable to process request."))

    # -- GET: WSDL and pages --------------------------------------------------------------------------
    def _get(self, request: Request, rest: str) -> Response:
        keys = {k.lower(): v for k, v in request.query}
        if not rest and "wsdl" in keys:
            host = request.headers.get("host", "")
            if not _HOST.match(host):
                host = ""
            if host not in self._wsdl_cache:
                self._wsdl_cache[host] = (self.description.with_address(f"http://{host}{PATH}") if host
                                          else self.description.raw)
            return Response(200, self._wsdl_cache[host], "text/xml; charset=utf-8")
        if not rest and keys.get("op") in self.description.operations:
            return self._page(self.description.operations[keys["op"]])
        if not rest:
            return self._page(None)
        return Response.text("Request format is unrecognized for URL unexpectedly ending in "
                             f"'/{rest}'.", 500)

    def _page(self, op: Operation | None) -> Response:
        """The .asmx help page: the operations list, or one operation's parameters and test form."""
        service = html.escape(self.description.service)
        if op is None:
            items = "".join(f'<li><a href="{PATH}?op={html.escape(n)}">{html.escape(n)}</a></li>'
                            for n in sorted(self.description.operations, key=str.lower))
            body = (f"<p>The following operations are supported. For a formal definition, please review the "
                    f'<a href="{PATH}?WSDL">Service Description</a>.</p><ul>{items}</ul>')
        else:
            rows = "".join(f'<tr><td>{html.escape(p)}:</td><td><input type="text" name="{html.escape(p)}"/>'
                           "</td></tr>" for p in op.params)
            body = (f'<p>Click <a href="{PATH}">here</a> for a complete list of operations.</p>'
                    f"<h2>{html.escape(op.name)}</h2><h3>Test</h3>"
                    "<p>To test the operation using the HTTP POST protocol, click the 'Invoke' button.</p>"
                    f'<form method="POST" action="{PATH}/{html.escape(op.name)}"><table>'
                    f'<tr><td>Parameter</td><td>Value</td></tr>{rows}</table>'
                    '<input type="submit" value="Invoke"/></form>')
        page = (f"<!DOCTYPE html><html><head><title>{service} Web Service</title></head>"
                f"<body><h1>{service}</h1>{body}</body></html>")
        return Response(200, page.encode("utf-8"), "text/html; charset=utf-8")

    # -- the HTTP POST protocol of the test pages -----------------------------------------------------
    def _http_post(self, request: Request, operation: str) -> Response:
        op = self.description.by_lower.get(operation.lower())
        if op is None:
            return Response.text(f"System.InvalidOperationException: {operation} Web Service method name "
                                 "is not valid.", 500)
        params: Params = {k: v for k, v in reversed(parse_pairs(request.body) + request.query)}
        try:
            result = self._invoke(op, params)
        except SoapFault as fault:
            return Response.text(f"System.InvalidOperationException: {fault.message}", 500)
        ns = escape(self.description.namespace, {'"': "&quot;"})
        text = f'<?xml version="1.0" encoding="utf-8"?>\n<string xmlns="{ns}">{_xml_text(result)}</string>'
        return Response.xml(text)

    # -- SOAP ------------------------------------------------------------------------------------------
    def _soap(self, request: Request) -> Response:
        version = BY_CONTENT_TYPE.get(request.content_type)
        if version is None:
            return self._fault(SOAP11, SoapFault(
                "client", f"Unsupported Content-Type {request.content_type or '(none)'!r}: SOAP 1.1 is "
                "text/xml, SOAP 1.2 application/soap+xml.", 415))
        try:
            op, params = self._read_envelope(request, version)
            result = self._invoke(op, params)
        except SoapFault as fault:
            return self._fault(version, fault)
        body = (f'<{op.name}Response xmlns="{escape(self.description.namespace)}">'
                f"<{op.name}Result>{_xml_text(result)}</{op.name}Result></{op.name}Response>")
        return Response(200, _envelope(version, body), version.content_type)

    def _read_envelope(self, request: Request, version: SoapVersion) -> tuple[Operation, Params]:
        try:
            root = etree.fromstring(request.body, _parser())
        except etree.XMLSyntaxError as exc:
            raise SoapFault("client", f"Server was unable to read request. There is an error in XML "
                            f"document: {exc.msg}") from None
        if root is None:
            raise SoapFault("client", "Server was unable to read request: the document is empty.")
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise SoapFault("client", "A SOAP message must not contain a Document Type Declaration.")
        qname = etree.QName(root)
        if qname.localname != "Envelope":
            raise SoapFault("client", f"The root element is {qname.localname!r}, not a SOAP Envelope.")
        if qname.namespace != version.envelope:
            raise SoapFault("version", f"Possible SOAP version mismatch: Envelope namespace "
                            f"{qname.namespace or '(none)'} was unexpected. Expecting {version.envelope}.")
        header = root.find(f"{{{version.envelope}}}Header")
        if header is not None:
            for block in header:
                if isinstance(block.tag, str) and block.get(f"{{{version.envelope}}}mustUnderstand") in ("1", "true"):
                    raise SoapFault("must_understand", f"SOAP header {etree.QName(block).localname} was not "
                                    "understood.")
        body = root.find(f"{{{version.envelope}}}Body")
        if body is None:
            raise SoapFault("client", "The SOAP Envelope has no Body.")
        children = [c for c in body if isinstance(c.tag, str)]
        if len(children) != 1:
            raise SoapFault("client", f"The SOAP Body must hold one operation element, not {len(children)}.")
        element = children[0]
        op = self._operation(request, version, element)
        params: Params = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if child.get(f"{{{XSI_NS}}}nil") in ("true", "1"):
                params.setdefault(name, None)
            else:
                params.setdefault(name, "".join(child.itertext()))
        return op, params

    def _operation(self, request: Request, version: SoapVersion, element: Any) -> Operation:
        """The operation: named by SOAPAction (1.1) or the action parameter (1.2) when given, and by the
        Body's element, which must agree (.asmx routes by the action)."""
        if version is SOAP11:
            action = request.headers.get("soapaction", "").strip().strip('"')
        else:
            found = _ACTION.search(request.headers.get("content-type", ""))
            action = found.group(1).strip() if found else ""
        qname = etree.QName(element)
        if qname.namespace not in (self.description.namespace, None):
            raise SoapFault("client", f"Unknown operation element {{{qname.namespace}}}{qname.localname}: "
                            f"operations are in the namespace {self.description.namespace}.")
        by_element = self.description.by_lower.get(qname.localname.lower())
        if action:
            op = self.description.by_action.get(action)
            if op is None:
                raise SoapFault("client", f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
            if by_element is not op:
                raise SoapFault("client", f"The Body element {qname.localname} does not match the action {action}.")
            return op
        if by_element is None:
            raise SoapFault("client", f"Server did not recognize the operation {qname.localname}.")
        return by_element

    def _invoke(self, op: Operation, params: Params) -> str:
        """Run one operation; a refusal is rendered as the operation's `<code>;<TEXT>` line."""
        try:
            return self.handlers[op.name](params)
        except Refused as refusal:
            return self.error(op.name, refusal.reason)

    def _fault(self, version: SoapVersion, fault: SoapFault) -> Response:
        message = _xml_text(fault.message)
        code = version.fault_codes[fault.kind]
        if version is SOAP11:
            inner = (f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{message}</faultstring>"
                     "<detail /></soap:Fault>")
        else:
            inner = (f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code><soap:Reason>"
                     f'<soap:Text xml:lang="en">{message}</soap:Text></soap:Reason><soap:Detail /></soap:Fault>')
        return Response(fault.status, _envelope(version, inner), version.content_type)

    # -- codes ----------------------------------------------------------------------------------------
    def _lookup(self, operation: str, reason: str) -> tuple[str, str]:
        code = self.codes.for_reason(operation, reason)  # substitutes.yaml, or KeyError -> Server fault
        return code.code, code.text

    def error(self, operation: str, reason: str) -> str:
        code, text = self._code(operation, reason)
        return f"{code};{text}"

    def _who(self, params: Params) -> Principal:
        return self.core.accounts.by_integration_user(params.get("Identificacao") or "")

    # -- typed parameters (what .asmx deserializes; a value not of its XSD type is a Fault) -----------
    @staticmethod
    def _int(params: Params, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
        raw = params.get(name)
        if raw is None or not raw.strip():
            return None
        try:
            value = int(raw.strip())
        except ValueError:
            raise SoapFault("client", f"Server was unable to read request: {name} {raw!r} is not an integer.") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise SoapFault("client", f"Server was unable to read request: {name} {value} is out of range.")
        return value

    @staticmethod
    def _datetime(params: Params, name: str) -> float | None:
        raw = params.get(name)
        if raw is None or not raw.strip():
            return None
        return _moment(raw.strip(), name)

    @cached_property
    def _idexterno_range(self) -> tuple[int, int]:
        return self.codes.bounds("wbsapi.sendUnique.IdExterno")

    @cached_property
    def _text_limits(self) -> dict[str, int]:
        """Mensagem's maximum length per TipoMensagem, from limits.yaml (its `set` names the type)."""
        limits: dict[str, int] = {}
        raw = load_yaml(self.core.contracts.root / "catalog" / "limits.yaml")[0]
        for entry in raw.get("entries", []):
            if (entry.get("dialect") == NAME and "sendUnique" in entry.get("operations", ())
                    and entry.get("param") == "Mensagem" and entry.get("unit") == "chars"
                    and entry.get("max") is not None):
                tipo = str((entry.get("set") or {}).get("TipoMensagem", "0"))
                limits[tipo] = int(entry["max"])
        return limits

    def _text(self, text: str | None, tipo: int, *, pipes_allowed: bool = True) -> str:
        """The message as stored: blank is refused, the single quote becomes a space (003 § LEIA ANTES DE
        INICIAR; inferred for wbsapi: the reason given, old handsets, holds for every interface), and the
        TipoMensagem's limit gives 84 (600 for 0 or 1, 140 for 2: "Mensagem com até 600 caracteres para
        tipo 0 ou 1 e até 140 caracteres tipo 2")."""
        text = (text or "").replace("'", " ")
        if not text.strip():
            raise Refused("empty_message")
        if not pipes_allowed and "|" in text:
            raise Refused("bad_inner_delimiter")
        limits = self._text_limits
        limit = limits.get(str(tipo), limits.get("0"))
        if limit is not None and len(text) > limit:
            raise Refused("too_many_chars", str(len(text)))
        return text

    def _tipo(self, value: int | None) -> int:
        tipo = 0 if value is None else value
        if tipo not in KIND_BY_F or tipo > 2:  # TipoMensagem 0, 1, 2 (wbsapi has no 4: contradictions.yaml)
            raise Refused("mode_not_allowed", str(tipo))
        return tipo

    def _centre(self, who: Principal, centre: int | None) -> int | None:
        if centre is not None and not self.core.accounts.cost_centre_active(who.client_id, centre):
            raise Refused("invalid_record", "CentroCustos")
        return centre

    # -- sendUnique -----------------------------------------------------------------------------------
    def send_unique(self, params: Params) -> str:
        """One message. The number is validated here, not by the schema, so 91/95/96 come back as codes;
        an empty Telefone is 87 and a list of numbers 88 (inferred: the only ways one number can be too
        few or too many)."""
        tipo_raw = self._int(params, "TipoMensagem")
        centre = self._int(params, "CentroCustos")
        low, high = self._idexterno_range
        external = self._int(params, "IdExterno", low=low, high=high)
        schedule_at = self._datetime(params, "Agenda")
        who = self._who(params)
        tipo = self._tipo(tipo_raw)
        self.core.check_can_send(who, KIND_BY_F[tipo])
        number = (params.get("Telefone") or "").strip()
        if not number:
            raise Refused("too_few_numbers")
        if len([n for n in re.split(r"[;,|]", number) if n.strip()]) > 1:
            raise Refused("too_many_numbers")
        text = self._text(params.get("Mensagem"), tipo, pipes_allowed=False)
        item = Submission(number, text, kind=KIND_BY_F[tipo], type=tipo, schedule_at=schedule_at,
                          external_id=None if external is None else str(external),
                          cost_centre=self._centre(who, centre))
        result = self.core.submit(who, SUBMIT_AS, [item])[0]
        if isinstance(result, Refused):
            raise result
        return f"{self._code('sendUnique', 'ok')[0]};{result.hash}"

    # -- sendMultiple ---------------------------------------------------------------------------------
    def send_multiple(self, params: Params) -> str:
        """Records `number|message[|id externo[|agenda[|tipo[|centro]]]]` joined by ";" (wbsapi#conteudo),
        1..1000; one answer line per record in input order (mensagem#mult_answer), or one request line."""
        who = self._who(params)
        records = [r for r in (params.get("Conteudo") or "").split(";") if r.strip()]
        low, high = self.codes.bounds("wbsapi.sendMultiple.records")
        if len(records) < low:
            raise Refused("too_few_numbers", str(len(records)))
        if len(records) > high:
            raise Refused("too_many_numbers", str(len(records)))
        items: list[Submission] = []
        pre: dict[int, Refused] = {}
        for index, record in enumerate(records):
            fields = record.split("|")
            try:
                items.append(self._record(who, fields))
            except Refused as refusal:
                pre[index] = refusal
                items.append(Submission(fields[0].strip(), ""))
        valid = [(i, item) for i, item in enumerate(items) if i not in pre]
        accepted = self.core.submit(who, SUBMIT_AS, [item for _, item in valid]) if valid else []
        results: dict[int, Accepted | Refused] = dict(pre)
        for (i, _), result in zip(valid, accepted):
            results[i] = result
        ok = self._code("sendMultiple", "ok")[0]
        lines = []
        for i, item in enumerate(items):
            result = results[i]
            if isinstance(result, Refused):
                lines.append(f"{self.error('sendMultiple', result.reason)};{item.number}")
            else:
                lines.append(f"{ok};{result.hash};{result.number}")
        return "\n".join(lines)

    def _record(self, who: Principal, fields: list[str]) -> Submission:
        if not 2 <= len(fields) <= 6:
            raise Refused("bad_inner_delimiter", str(len(fields)))
        fields = [f.strip() for f in fields[:1]] + fields[1:2] + [f.strip() for f in fields[2:]]
        fields += [""] * (6 - len(fields))
        number, message, external, agenda, tipo_raw, centre_raw = fields
        if tipo_raw and not is_digits(tipo_raw):
            raise Refused("invalid_record", "TipoMensagem")
        tipo = self._tipo(int(tipo_raw) if tipo_raw else None)
        text = self._text(message, tipo)
        low, high = self._idexterno_range
        if external and not (is_digits(external) and low <= int(external) <= high):
            raise Refused("invalid_record", "Id externo")
        schedule_at = None
        if agenda:
            try:
                schedule_at = _moment(agenda, "Agenda")
            except SoapFault:
                raise Refused("invalid_record", "Agenda") from None
        if centre_raw and not is_digits(centre_raw):
            raise Refused("invalid_record", "CentroCustos")
        centre = self._centre(who, int(centre_raw) if centre_raw else None)
        return Submission(number, text, kind=KIND_BY_F[tipo], type=tipo, schedule_at=schedule_at,
                          external_id=str(int(external)) if external else None, cost_centre=centre)

    # -- inBox ----------------------------------------------------------------------------------------
    def inbox(self, params: Params) -> str:
        """Replies received between DataInicial and DataFinal (today 00:00:00.000 to 23:59:59.999 on the
        virtual clock when omitted); Reexibir 1 shows again what was already shown, 0 only new ones.

        Lines are recv's seven fields (mensagem#recv_answer): `1;<md5>;<date>;<sender>;<message>;<id
        externo>;<referencia>`. The MD5 is the protocol of the message replied to; an unsolicited reply
        has none, so it gets an MD5 protocol of its own (inferred: every line carries one). `;` and line
        breaks in a reply become spaces, the format having no escape. No reply: the code and text of a
        query that succeeded, `1;SUCESSO` (003 § Método inBox lists "1 SUCESSO" as the method's result; an
        empty string carries no code at all; mensagem#inbox_answer).
        """
        start = self._datetime(params, "DataInicial")
        end = self._datetime(params, "DataFinal")
        again = self._int(params, "Reexibir") == 1
        who = self._who(params)
        today = local(self.core.now()).replace(hour=0, minute=0, second=0, microsecond=0)
        start = today.timestamp() if start is None else start
        end = (today + timedelta(days=1)).timestamp() - 0.001 if end is None else end
        inbox = Inbox(self.core, "mensagem")  # the 003 provider's inbox, not speedmarket's
        found = [mo for mo in inbox.between(who.client_id, start, end) if again or not mo.fetched]
        inbox.mark_read(found)
        ok, ok_text = self._code("inBox", "ok")
        lines = []
        for mo in found:
            digest = mo.hash or hashlib.md5(f"{self.core.secret}:mo:{mo.id}".encode()).hexdigest()
            text = re.sub(r"[;\r\n]", " ", mo.text)
            lines.append(f"{ok};{digest};{_stamp(mo.received_at)};{mo.number};{text};{mo.external_id or ''};")
        return "\n".join(lines) if lines else f"{ok};{ok_text}"

    # -- status and cancel ----------------------------------------------------------------------------
    def _hashes(self, operation: str, params: Params) -> list[str]:
        """Up to 1000 MD5 protocols joined by ";" (wbsapi#hash_list); anything else is 86 LAYOUT INESPERADO."""
        hashes = [h.strip().lower() for h in (params.get("Hash") or "").split(";") if h.strip()]
        _, high = self.codes.bounds(f"wbsapi.{operation}.hashes")
        if not hashes or len(hashes) > high or not all(_HASH.match(h) for h in hashes):
            raise Refused("bad_layout", "Hash")
        return hashes

    def _line(self, operation: str, digest: str, msg: Message | None, at: float) -> str:
        """`<hash>;<status>;<TEXT>;<id externo>;<number>;<yyyy-MM-dd HH:mm:ss.fff>` (mensagem#cacl_answer)."""
        if msg is None:
            code = self.codes.catalog.code(*NOT_FOUND)
            return f"{digest};{code.code};{code.text};;;{_stamp(at)}"
        state = MESSAGE_LEVEL.get(msg.state, msg.state)
        status = self.codes.state_code(MACHINE, state) or self.codes.state_code(MACHINE, "waiting") or "0"
        table = operation if self.codes.catalog.has_code(NAME, operation, status) else "status"
        text = self.codes.code(table, status).text
        return f"{digest};{status};{text};{msg.external_id or ''};{msg.number};{_stamp(at)}"

    def status(self, params: Params) -> str:
        """Each hash's status, at the time it entered it; another client's message is not found."""
        hashes = self._hashes("status", params)
        who = self._who(params)
        ids = [i for i in self.core.ids_for(hashes) if i is not None]  # a protocol names its message id
        marks = ",".join("?" * len(ids))
        found = {m.hash: m for m in self.core.messages(f"client_id = ? AND id IN ({marks})",
                                                        [who.client_id, *ids], len(ids))} if ids else {}
        now = self.core.now()
        lines = []
        for digest in hashes:
            msg = found.get(digest)
            lines.append(self._line("status", digest, msg, (msg.states()[-1][1] if msg else now)))
        return "\n".join(lines)

    def cancel(self, params: Params) -> str:
        """Cancel each hash; only a waiting message cancels (003 § Cancelamento de Mensagens), the others
        answer their current status. The date is the command's, as cacl's; one transaction for all."""
        hashes = self._hashes("cancel", params)
        who = self._who(params)
        now = self.core.now()
        with self.core.store.transaction():
            return "\n".join(self._line("cancel", digest, self.core.cancel(who, digest), now) for digest in hashes)


# -- helpers ----------------------------------------------------------------------------------------

def _moment(text: str, name: str) -> float:
    """An xs:dateTime (or the seed's `yyyy-MM-dd HH:mm:ss`) as epoch seconds; without an offset it is
    Brasília time, the providers' clock."""
    try:
        value = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise SoapFault("client", f"Server was unable to read request: {name} {text!r} is not a valid "
                        "xs:dateTime.") from None
    return (value if value.tzinfo else value.replace(tzinfo=BRT)).timestamp()


def _xml_text(text: str) -> str:
    """Text safe inside an XML element: escaped, characters XML 1.0 cannot carry removed, CR kept."""
    return escape(_XML_UNSAFE.sub("", text)).replace("\r", "&#13;")


def _envelope(version: SoapVersion, body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{version.envelope}" '
            f'xmlns:xsi="{XSI_NS}" xmlns:xsd="{XSD_NS}"><soap:Body>{body}</soap:Body></soap:Envelope>'
            ).encode("utf-8")


def build(app: Any) -> Wbsapi:
    return Wbsapi(app.core)


__all__ = ["Wbsapi", "ServiceDescription", "SoapFault", "build"]
