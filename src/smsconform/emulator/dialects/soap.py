"""What an ASP.NET .asmx SOAP service is on the wire, whatever its operations: shared by wbsapi.asmx and
painel's ServiceSms.asmx.

- `POST <path>`, SOAP 1.1 (`text/xml`, `SOAPAction`) and SOAP 1.2 (`application/soap+xml`, `action`
  parameter), document/literal, the operations and actions read from the contract's WSDL;
- `GET <path>?WSDL` the contract's WSDL with its address rewritten to the request's Host and path, and
  `GET <path>` (`?op=<operation>`) the small operations pages .asmx serves;
- what the SOAP stack itself cannot read (malformed XML, a DTD, a wrong envelope, an unknown operation, a
  value that is not of its XSD type) is a SOAP Fault with HTTP 500, as .asmx answers: the one place a 500
  is the protocol's answer.

A service subclasses AsmxService and defines `run(op, element, context)`: the XML inside `<opResult>`
(`context` is what the service's `handle` passed to `soap`, such as which of its paths was called).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from ..http import Request, Response

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

HOST = re.compile(r"^[A-Za-z0-9.\-]+(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$")
XML_UNSAFE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ACTION = re.compile(r';\s*action\s*=\s*"?([^";]*)"?', re.IGNORECASE)

Params = dict[str, "str | None"]


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
        self.tree = etree.fromstring(raw, parser())
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
        tree = etree.fromstring(self.raw, parser(keep_comments=True))
        for ns in (WSDL_SOAP11, WSDL_SOAP12):
            for address in tree.iter(f"{{{ns}}}address"):
                address.set("location", location)
        return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def parser(*, keep_comments: bool = False) -> etree.XMLParser:
    """A hardened parser: no entity expansion, no network, no huge trees (XXE and entity bombs)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=not keep_comments,
                           remove_pis=not keep_comments)


# -- the transport ------------------------------------------------------------------------------------

class AsmxService:
    """The .asmx transport of one service description; subclasses run the operations."""

    def __init__(self, description: ServiceDescription) -> None:
        self.description = description
        self._wsdl_cache: dict[str, bytes] = {}

    def run(self, op: Operation, element: Any, context: Any) -> str:
        """The content of `<opResult>` (XML text, already escaped) for the operation element."""
        raise NotImplementedError

    def failure(self, request: Request) -> Response:
        """The emulator failed: a SOAP Server fault, as .asmx answers an unhandled exception."""
        version = BY_CONTENT_TYPE.get(request.content_type, SOAP11)
        return self.fault(version, SoapFault("server", "Server was unable to process request."))

    # -- GET: WSDL and pages --------------------------------------------------------------------------
    def wsdl(self, request: Request, path: str) -> Response:
        """The WSDL, its address the request's Host and ``path`` (a Host that is not a host is left out)."""
        host = request.headers.get("host", "")
        if not HOST.match(host):
            host = ""
        key = f"{host}{path}"
        if key not in self._wsdl_cache:
            self._wsdl_cache[key] = (self.description.with_address(f"http://{host}{path}") if host
                                     else self.description.raw)
        return Response(200, self._wsdl_cache[key], "text/xml; charset=utf-8")

    def page(self, op: Operation | None, path: str, *, http_post: bool = True) -> Response:
        """The .asmx help page: the operations list, or one operation's parameters (and its test form)."""
        service = html.escape(self.description.service)
        if op is None:
            items = "".join(f'<li><a href="{path}?op={html.escape(n)}">{html.escape(n)}</a></li>'
                            for n in sorted(self.description.operations, key=str.lower))
            body = (f"<p>The following operations are supported. For a formal definition, please review the "
                    f'<a href="{path}?WSDL">Service Description</a>.</p><ul>{items}</ul>')
        else:
            rows = "".join(f'<tr><td>{html.escape(p)}:</td><td><input type="text" name="{html.escape(p)}"/>'
                           "</td></tr>" for p in op.params)
            body = (f'<p>Click <a href="{path}">here</a> for a complete list of operations.</p>'
                    f"<h2>{html.escape(op.name)}</h2>")
            if http_post:
                body += ("<h3>Test</h3>"
                         "<p>To test the operation using the HTTP POST protocol, click the 'Invoke' button.</p>"
                         f'<form method="POST" action="{path}/{html.escape(op.name)}"><table>'
                         f'<tr><td>Parameter</td><td>Value</td></tr>{rows}</table>'
                         '<input type="submit" value="Invoke"/></form>')
            else:
                body += "<p>The test form is only available for methods with primitive types as parameters.</p>"
        page = (f"<!DOCTYPE html><html><head><title>{service} Web Service</title></head>"
                f"<body><h1>{service}</h1>{body}</body></html>")
        return Response(200, page.encode("utf-8"), "text/html; charset=utf-8")

    # -- SOAP ------------------------------------------------------------------------------------------
    def soap(self, request: Request, context: Any = None) -> Response:
        version = BY_CONTENT_TYPE.get(request.content_type)
        if version is None:
            return self.fault(SOAP11, SoapFault(
                "client", f"Unsupported Content-Type {request.content_type or '(none)'!r}: SOAP 1.1 is "
                "text/xml, SOAP 1.2 application/soap+xml.", 415))
        try:
            op, element = self.read_operation(request, version)
            result = self.run(op, element, context)
        except SoapFault as fault:
            return self.fault(version, fault)
        body = (f'<{op.name}Response xmlns="{escape(self.description.namespace)}">'
                f"<{op.name}Result>{result}</{op.name}Result></{op.name}Response>")
        return Response(200, envelope(version, body), version.content_type)

    def read_operation(self, request: Request, version: SoapVersion) -> tuple[Operation, Any]:
        """The operation a SOAP request names and its element in the Body; SoapFault for what .asmx
        itself would refuse (malformed XML, a DTD, a wrong envelope, an unknown operation)."""
        try:
            root = etree.fromstring(request.body, parser())
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
        return op, element

    def _operation(self, request: Request, version: SoapVersion, element: Any) -> Operation:
        """The operation: named by SOAPAction (1.1) or the action parameter (1.2) when given, and by the
        Body's element, which must agree (.asmx routes by the action)."""
        if version is SOAP11:
            action = request.headers.get("soapaction", "").strip().strip('"')
        else:
            found = ACTION.search(request.headers.get("content-type", ""))
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

    def fault(self, version: SoapVersion, fault: SoapFault) -> Response:
        message = xml_text(fault.message)
        code = version.fault_codes[fault.kind]
        if version is SOAP11:
            inner = (f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{message}</faultstring>"
                     "<detail /></soap:Fault>")
        else:
            inner = (f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code><soap:Reason>"
                     f'<soap:Text xml:lang="en">{message}</soap:Text></soap:Reason><soap:Detail /></soap:Fault>')
        return Response(fault.status, envelope(version, inner), version.content_type)


def element_params(element: Any) -> Params:
    """The operation element's children as name -> text (None for xsi:nil), the first of each name."""
    params: Params = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if child.get(f"{{{XSI_NS}}}nil") in ("true", "1"):
            params.setdefault(name, None)
        else:
            params.setdefault(name, "".join(child.itertext()))
    return params


def xml_text(text: str) -> str:
    """Text safe inside an XML element: escaped, characters XML 1.0 cannot carry removed, CR kept."""
    return escape(XML_UNSAFE.sub("", text)).replace("\r", "&#13;")


def envelope(version: SoapVersion, body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{version.envelope}" '
            f'xmlns:xsi="{XSI_NS}" xmlns:xsd="{XSD_NS}"><soap:Body>{body}</soap:Body></soap:Envelope>'
            ).encode("utf-8")
