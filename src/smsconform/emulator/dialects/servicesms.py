"""servicesms: painel's SOAP web service ServiceSms.asmx, at `/painel/ServiceSms.asmx` (long code) and
`/shortcode/ServiceSms.asmx` (short code), as api.ashx is served twice (seed 002 names it; field-notes.md
§ painel lists its operations and answers).

The same service as api.ashx, on the same core: every operation runs painel's own (dialects/painel.py), so
a campaign sent by SendSMS is read by api.ashx getstatus and held by holdsms, and the other way round; the
credits are the account's; getstatus and GetStatus (and GetStatusByRef), getbalance and GetBalance share
one once-a-minute mark per account; the data_callback of a campaign sent here goes to the account's painel
data_callback URL (SendSMS has no url_callback parameter). The transport is soap.py's (.asmx, SOAP 1.1
and 1.2, `?WSDL` with the served address); the service has no HTTP POST protocol, its SendSMS taking a
structure (.asmx offers that protocol only to methods with primitive parameters).

Answers, from the catalog (codes.yaml servicesms.*): a string `<id>:<TEXT>` (grammar painel#soap_answer),
the campaign id in the place of `<campaign>`, the balance's digits for GetBalance's `<balance>`; GetStatus
and GetStatusByRef a .NET DataSet (servicesms.wsdl tns:DataSet) whose inline schema declares one table:
`Table` with a row per destination (the columns of tns:StatusRow, each the api.ashx getstatus cell at the
position of its name), or `Erro` with one row whose `retorno` is the `0:<TEXT>` a failure gets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from xml.sax.saxutils import quoteattr

from lxml import etree

from ..core import Core, Refused
from ..core.accounts import Principal
from ..core.campaigns import Campaign
from ..http import Request, Response
from .base import CodeBook
from .painel import Painel, nearest_code
from .soap import XSD_NS, AsmxService, Operation, ServiceDescription, SoapFault, xml_text

NAME = "servicesms"
PATHS = {"/painel/servicesms.asmx": ("long", "/painel/ServiceSms.asmx"),
         "/shortcode/servicesms.asmx": ("short", "/shortcode/ServiceSms.asmx")}
PROVENANCE = "https://smsconform.invalid/provenance"
MSDATA = "urn:schemas-microsoft-com:xml-msdata"
DIFFGRAM = "urn:schemas-microsoft-com:xml-diffgram-v1"
RATE_OF = {"GetStatus": "getstatus", "GetStatusByRef": "getstatus", "GetBalance": "getbalance"}


@dataclass(frozen=True)
class Table:
    """A DataSet table the contract declares: its name, its columns (name, XSD type) and, for the status
    table, the api.ashx getstatus cell each column takes."""

    name: str
    columns: tuple[tuple[str, str], ...]
    cell_of: dict[str, int]


def _tables(description: ServiceDescription) -> dict[str, Table]:
    """tns:StatusRow and tns:ErrorRow, read from the WSDL's schema (names, types, p:table)."""
    out: dict[str, Table] = {}
    for ctype in description.tree.iter(f"{{{XSD_NS}}}complexType"):
        table = ctype.find(f"{{{XSD_NS}}}annotation/{{{XSD_NS}}}appinfo/{{{PROVENANCE}}}table")
        if table is None:
            continue
        columns = tuple((e.get("name"), e.get("type", "s:string").split(":")[-1])
                        for e in ctype.find(f"{{{XSD_NS}}}sequence").findall(f"{{{XSD_NS}}}element"))
        cells = (table.get("cells") or "").split(";")
        cell_of = {name: cells.index(name) for name, _ in columns if name in cells}
        out[ctype.get("name")] = Table(table.get("name"), columns, cell_of)
    return out


class ServiceSms(AsmxService):
    name = NAME

    def __init__(self, core: Core) -> None:
        super().__init__(ServiceDescription(core.contracts.service_wsdl_path(NAME).read_bytes()))
        self.core = core
        self.codes = CodeBook(core.contracts.catalog, NAME)
        self.painel = Painel(core)
        tables = _tables(self.description)
        self.status_table, self.error_table = tables["StatusRow"], tables["ErrorRow"]
        self.handlers: dict[str, Callable[[Principal, str, Any], str]] = {
            "GetBalance": self.get_balance, "GetStatus": self.get_status, "GetStatusByRef": self.get_status_by_ref,
            "SendSMS": self.send_sms, "SetHoldSMS": self.set_hold, "SetReleaseSMS": self.set_release,
        }
        missing = set(self.description.operations) ^ set(self.handlers)
        if missing:
            raise RuntimeError(f"servicesms.wsdl and the dialect disagree on operations: {sorted(missing)}")

    # -- routing --------------------------------------------------------------------------------------
    def matches(self, request: Request) -> bool:
        return request.path.lower().rstrip("/") in PATHS

    def handle(self, request: Request) -> Response:
        kind, path = PATHS[request.path.lower().rstrip("/")]
        if request.method in ("GET", "HEAD"):
            keys = {k.lower(): v for k, v in request.query}
            if "wsdl" in keys:
                return self.wsdl(request, path)
            return self.page(self.description.operations.get(keys.get("op", "")), path, http_post=False)
        if request.method != "POST":
            response = Response.text("Method Not Allowed", 405)
            response.headers.append(("allow", "GET, POST"))
            return response
        return self.soap(request, kind)

    # -- running an operation -------------------------------------------------------------------------
    def run(self, op: Operation, element: Any, kind: str) -> str:
        """Log in, run the operation for the path's ``kind`` (long or short code); a refusal becomes the
        operation's failure answer."""
        values = _children(element)
        try:
            who = self.core.accounts.by_login(_text(values.get("User")), _text(values.get("Pwd")))
            return self.handlers[op.name](who, kind, values)
        except Refused as refusal:
            answer = self.answer(op.name, refusal.reason)
            return self._dataset_error(answer) if op.name in ("GetStatus", "GetStatusByRef") else xml_text(answer)

    def answer(self, operation: str, reason: str, value: Any = None) -> str:
        """`<id>:<TEXT>`: the code's wire form, or ``value`` where the code stands for one (`<campaign>`)."""
        code = nearest_code(self.codes, operation, reason)
        wire = str(value) if code.wire.startswith("<") and value is not None else code.wire
        return f"{wire}:{code.text}" if code.text else wire

    # -- operations -----------------------------------------------------------------------------------
    def send_sms(self, who: Principal, kind: str, values: dict[str, Any]) -> str:
        message = _children(values.get("SmsMessage"))
        destinations = values_of(message.get("Destinations"), "Destination")
        numbers = [_text(_children(d).get("Number")) for d in destinations]
        campaign = self.painel.send_campaign(who, kind, _text(message.get("Msg")), numbers)
        return xml_text(self.answer("SendSMS", "ok", campaign))

    def get_balance(self, who: Principal, kind: str, values: dict[str, Any]) -> str:
        self.painel._rate(who, RATE_OF["GetBalance"])
        balance = self.core.accounts.balance(who.client_id)[kind]
        return xml_text(self.answer("GetBalance", "ok", _number(balance)))

    def get_status(self, who: Principal, kind: str, values: dict[str, Any]) -> str:
        self.painel._rate(who, RATE_OF["GetStatus"])
        return self._dataset_rows(self._campaign(who, values))

    def get_status_by_ref(self, who: Principal, kind: str, values: dict[str, Any]) -> str:
        """GetStatus of campaign Id, if its reference (api.ashx interno_key) is Ref; else not found."""
        self.painel._rate(who, RATE_OF["GetStatusByRef"])
        campaign = self._campaign(who, values)
        if (campaign.reference or "") != _text(values.get("Ref")).strip():
            raise Refused("not_found", "reference")
        return self._dataset_rows(campaign)

    def set_hold(self, who: Principal, kind: str, values: dict[str, Any]) -> str:
        self.painel.campaigns.hold(self._campaign(who, values))
        return xml_text(self.answer("SetHoldSMS", "ok"))

    def set_release(self, who: Principal, kind: str, values: dict[str, Any]) -> str:
        self.painel.campaigns.release(self._campaign(who, values))
        return xml_text(self.answer("SetReleaseSMS", "ok"))

    def _campaign(self, who: Principal, values: dict[str, Any]) -> Campaign:
        """Id is an xs:int: what .asmx cannot read as one is a SOAP Fault, an unknown id not found."""
        raw = _text(values.get("Id")).strip()
        try:
            number = int(raw)
        except ValueError:
            raise SoapFault("client", f"Server was unable to read request: Id {raw!r} is not an integer.") from None
        return self.painel.find_campaign(who, str(number) if number >= 0 else raw)

    # -- the DataSet ----------------------------------------------------------------------------------
    def _dataset_rows(self, campaign: Campaign) -> str:
        table = self.status_table
        rows = []
        for item in self.painel.campaigns.destinations(campaign.id):
            cells = self.painel.cells(item)
            rows.append({name: cells[index] for name, index in table.cell_of.items()})
        return _dataset(table, rows)

    def _dataset_error(self, answer: str) -> str:
        table = self.error_table
        return _dataset(table, [{table.columns[0][0]: answer}])


def _dataset(table: Table, rows: list[dict[str, str]]) -> str:
    """A .NET DataSet as .asmx writes one: its inline xs:schema, then the diffgram of its rows (a column
    whose value is empty is left out, as a DataSet writes a null)."""
    columns = "".join(f'<xs:element name={quoteattr(name)} type="xs:{type_}" minOccurs="0" />'
                      for name, type_ in table.columns)
    schema = (f'<xs:schema id="NewDataSet" xmlns="" xmlns:xs="{XSD_NS}" xmlns:msdata="{MSDATA}">'
              '<xs:element name="NewDataSet" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">'
              '<xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded">'
              f'<xs:element name={quoteattr(table.name)}><xs:complexType><xs:sequence>{columns}'
              "</xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType></xs:element></xs:schema>")
    body = "".join(
        f'<{table.name} diffgr:id="{table.name}{i + 1}" msdata:rowOrder="{i}">'
        + "".join(f"<{name}>{xml_text(row[name])}</{name}>" for name, _ in table.columns if row.get(name))
        + f"</{table.name}>" for i, row in enumerate(rows))
    return (schema + f'<diffgr:diffgram xmlns:msdata="{MSDATA}" xmlns:diffgr="{DIFFGRAM}">'
            f'<NewDataSet xmlns="">{body}</NewDataSet></diffgr:diffgram>')


# -- reading the request ----------------------------------------------------------------------------

def _children(element: Any) -> dict[str, Any]:
    """An element's child elements by local name (the first of each)."""
    out: dict[str, Any] = {}
    if element is None:
        return out
    for child in element:
        if isinstance(child.tag, str):
            out.setdefault(etree.QName(child).localname, child)
    return out


def values_of(element: Any, name: str) -> list[Any]:
    """Every child element called ``name`` (an .asmx array: ArrayOfDestination's Destination items)."""
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _text(element: Any) -> str:
    return "" if element is None else "".join(element.itertext())


def _number(value: Any) -> str:
    """A balance as api.ashx writes it in `data`: an integer without a decimal point."""
    return str(int(value)) if float(value).is_integer() else str(value)


def build(app: Any) -> ServiceSms:
    return ServiceSms(app.core)


__all__ = ["ServiceSms", "build"]
