"""The servicesms client: painel's SOAP web service ServiceSms.asmx (seed 002 names it; field-notes.md
§ painel lists its operations and answers), through zeep over the target's served WSDL (soap.py).

- Where: the profile's `base_url` + `/painel/ServiceSms.asmx` (the long-code door, as painel's client uses
  `/painel/api.ashx`).
- Credentials: the profile's `user` and `pwd` become `User` and `Pwd` (a trigger may override either).
- SendSMS takes flat parameters, so that the catalog's triggers can set them: `Subject`, `Msg` and
  `Destinations` (numbers joined by ","), sent as `SmsMessage{Subject, Msg, Destinations[{Destination
  {Number}}]}`.
- Answers (codes.yaml servicesms.*): a `<id>:<TEXT>` string is read as code `<id>` and text `<TEXT>`,
  except that a positive campaign id before SendSMS's `:` reads as the code `<campaign>`, and GetBalance's
  bare digits as `<balance>`; a DataSet (GetStatus, GetStatusByRef) reads as `<rows>` when its table is
  `Table`, and as its `Erro` row's `retorno` otherwise. A SOAP Fault reads as code "SOAP Fault".
- GetStatus, GetStatusByRef and GetBalance are paced once a minute (pacing.py), in one group with painel's
  getstatus and getbalance: the service counts them together.
- A campaign that must stay waiting is sent through api.ashx with jobdate (SendSMS has no schedule), so a
  target without painel cannot build that state; the reference GetStatusByRef looks for is api.ashx's
  interno_key for the same reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..exchange import Exchange
from ..target import Target
from .base import NotExercised, Result
from .pacing import OnceAMinute
from .soap import FAULT, SoapClient, SoapFault

PATH = "/painel/ServiceSms.asmx"
TEST_TEXT = "smsconform teste de conformidade"
XS = "http://www.w3.org/2001/XMLSchema"
DIFFGRAM = "urn:schemas-microsoft-com:xml-diffgram-v1"
MSDATA = "urn:schemas-microsoft-com:xml-msdata"
DATASET_OPERATIONS = ("GetStatus", "GetStatusByRef")
ROWS, CAMPAIGN, BALANCE = "<rows>", "<campaign>", "<balance>"


@dataclass(frozen=True)
class DataSet:
    """A DataSet answer as a .NET reader sees it: the inline schema, the table it declares and its rows."""

    schema: Any            # the xs:schema element
    data: Any              # the diffgram's NewDataSet element, row bookkeeping attributes removed
    table: str
    columns: tuple[tuple[str, str], ...]   # (name, type) as the inline schema declares them
    rows: tuple[dict[str, str], ...]

    def problems(self) -> list[str]:
        """What keeps the rows from being valid against the DataSet's own inline schema."""
        try:
            schema = etree.XMLSchema(etree.fromstring(etree.tostring(self.schema)))
        except etree.XMLSchemaParseError as exc:
            return [f"the inline schema does not compile: {exc}"]
        if schema.validate(self.data):
            return []
        return [str(e) for e in schema.error_log][:5]


def read_dataset(parsed: Any) -> DataSet | None:
    """zeep's reading of tns:DataSet (its two xs:any parts), or None when the answer is not one."""
    return dataset_of([getattr(parsed, name, None) for name in ("_value_1", "_value_2")])


def dataset_of(parts: list[Any]) -> DataSet | None:
    """The DataSet of a Result's child elements (its inline xs:schema, then its diffgram), or None."""
    if len(parts) != 2 or any(p is None or not isinstance(getattr(p, "tag", None), str) for p in parts):
        return None
    inline, diffgram = parts
    if etree.QName(inline).text != f"{{{XS}}}schema" or etree.QName(diffgram).text != f"{{{DIFFGRAM}}}diffgram":
        return None
    tables = inline.findall(f".//{{{XS}}}choice/{{{XS}}}element")
    if len(tables) != 1:
        return None
    columns = tuple((e.get("name", ""), (e.get("type") or "").split(":")[-1])
                    for e in tables[0].iter(f"{{{XS}}}element") if e is not tables[0])
    children = [c for c in diffgram if isinstance(c.tag, str)]
    data = etree.fromstring(etree.tostring(children[0])) if children else etree.Element("NewDataSet")
    for row in data:
        for name in [n for n in row.attrib if etree.QName(n).namespace in (DIFFGRAM, MSDATA)]:
            del row.attrib[name]
    rows = tuple({etree.QName(c).localname: c.text or "" for c in row if isinstance(c.tag, str)}
                 for row in data if isinstance(row.tag, str))
    return DataSet(inline, data, tables[0].get("name", ""), columns, rows)


def read_answer(operation: str, text: str) -> Result:
    """A `<id>:<TEXT>` string (painel#soap_answer) as the catalog's code and text: a positive campaign id
    before SendSMS's `:` is the code `<campaign>`, GetBalance's bare digits `<balance>`."""
    code, sep, rest = text.strip().partition(":")
    if operation == "GetBalance" and not sep and code.replace(".", "", 1).isdigit():
        return Result(BALANCE, "", True)
    if operation == "SendSMS" and sep and code.isdigit() and int(code) > 0:
        return Result(CAMPAIGN, rest, None)
    return Result(code, rest if sep else None, None)


@dataclass(frozen=True)
class Campaign:
    result: Result
    id: int | None
    exchange: Exchange


class ServiceSmsClient(OnceAMinute, SoapClient):
    dialect = "servicesms"
    path = PATH
    list_separator = ","
    RATE_GROUP = {"GetStatus": "getstatus", "GetStatusByRef": "getstatus", "GetBalance": "getbalance"}

    def __init__(self, target: Target, version: str = "1.1") -> None:
        super().__init__(target, version)

    # -- calls ----------------------------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any], account: str = "main", version: str | None = None,
             *, pace: bool = True) -> Exchange:
        self.require(operation)
        if pace:
            self.pace(operation, account)
        creds = self.credentials(account)
        args: dict[str, Any] = {"User": creds.get("user", ""), "Pwd": creds.get("pwd", "")}
        flat = dict(params)
        if operation == "SendSMS":
            numbers = flat.pop("Destinations", "")
            if isinstance(numbers, str):
                numbers = [n for n in numbers.split(self.list_separator) if n != ""]
            args["SmsMessage"] = {"Subject": flat.pop("Subject", "smsconform"), "Msg": flat.pop("Msg", ""),
                                  "Destinations": {"Destination": [{"Number": str(n)} for n in numbers]}}
        args.update(flat)
        exchange = self.invoke(operation, args, version)
        self._mark(operation, account)
        return exchange

    # -- reading answers ------------------------------------------------------------------------------
    def result(self, operation: str, exchange: Exchange) -> Result:
        parsed = exchange.parsed
        if isinstance(parsed, SoapFault):
            return Result(FAULT, parsed.message, False)
        if operation in DATASET_OPERATIONS:
            dataset = read_dataset(parsed)
            if dataset is None:
                return Result("", None, None)
            if dataset.table == "Table":
                return Result(ROWS, "", True)
            retorno = dataset.rows[0].get(dataset.columns[0][0], "") if dataset.rows and dataset.columns else ""
            return self._answer(operation, retorno)
        return self._answer(operation, parsed if isinstance(parsed, str) else "")

    @staticmethod
    def _answer(operation: str, text: str) -> Result:
        return read_answer(operation, text)

    # -- valid requests -------------------------------------------------------------------------------
    def valid_request(self, operation: str) -> dict[str, Any]:
        if operation == "SendSMS":
            return {"Subject": "smsconform", "Msg": TEST_TEXT, "Destinations": self.number()}
        if operation == "GetBalance":
            return {}
        if operation in ("GetStatus", "SetHoldSMS", "SetReleaseSMS"):
            return {"Id": self.campaign()}
        if operation == "GetStatusByRef":
            return {"Id": self.campaign(), "Ref": ""}
        raise NotExercised(f"no valid request is known for servicesms.{operation}")

    def campaign(self, numbers: list[str] | None = None) -> int:
        sent = self.send(numbers or [self.number()])
        if sent.id is None:
            raise AssertionError(f"could not create a campaign to build the state: {sent.exchange.text[:300]!r}")
        return sent.id

    # -- states the codes family needs ----------------------------------------------------------------
    @staticmethod
    def build_state(client: "ServiceSmsClient", control: Any, state: str, operation: str) -> Any:
        """campaign_waiting / campaign_held (through api.ashx: scheduled a month ahead, held by SetHoldSMS),
        campaign_done (sent now, time passes until every destination is final), campaign_with_reference
        (api.ashx sendsms with an interno_key)."""
        from ..triggers import Plan

        if state in ("campaign_waiting", "campaign_held", "campaign_with_reference"):
            painel = client.painel()
            try:
                extra = {"interno_key": "smsconform-ref"} if state == "campaign_with_reference" else painel.schedule()
                sent = painel.sendsms([client.number()], **extra)
            finally:
                painel.close()
            if sent.id is None:
                raise AssertionError(f"could not create a campaign through api.ashx: {sent.exchange.text[:300]!r}")
            if state == "campaign_held":
                held = client.result("SetHoldSMS", client.call("SetHoldSMS", {"Id": sent.id}))
                if held.code != "1":
                    raise AssertionError(f"could not hold campaign {sent.id} to build the state: {held}")
            params: dict[str, Any] = {"Id": sent.id}
            if state == "campaign_with_reference":
                params["Ref"] = extra["interno_key"]
            return Plan(operation, "main", params)
        if state == "campaign_done":
            campaign = client.campaign()
            client.wait_until_final(campaign)
            return Plan(operation, "main", {"Id": campaign})
        raise NotExercised(f"no way to build state {state!r} for servicesms")

    def painel(self) -> Any:
        """The same service's api.ashx, for what SendSMS cannot ask (a schedule, a reference)."""
        from .painel import PainelClient

        try:
            return PainelClient(self.target)
        except NotExercised:
            raise NotExercised("a campaign that stays waiting, or has a reference, is sent through api.ashx "
                               "(SendSMS has neither a schedule nor a reference): the target offers no painel") from None

    # -- flows the families share ---------------------------------------------------------------------
    def send(self, numbers: list[str], msg: str = TEST_TEXT, account: str = "main", version: str | None = None) -> Campaign:
        exchange = self.call("SendSMS", {"Msg": msg, "Destinations": numbers}, account, version)
        text = exchange.parsed if isinstance(exchange.parsed, str) else ""
        head = text.partition(":")[0]
        campaign = int(head) if head.isdigit() and int(head) > 0 else None
        return Campaign(self.result("SendSMS", exchange), campaign, exchange)

    def balance(self, account: str = "main") -> float:
        exchange = self.call("GetBalance", {}, account)
        text = exchange.parsed.strip() if isinstance(exchange.parsed, str) else ""
        if self.result("GetBalance", exchange).code != BALANCE:
            raise AssertionError(f"servicesms.GetBalance: no balance in {exchange.text[:300]!r}")
        return float(text) if "." in text else int(text)

    def dataset(self, campaign: int, account: str = "main", operation: str = "GetStatus", **extra: Any) -> DataSet:
        exchange = self.call(operation, {"Id": campaign, **extra}, account)
        dataset = read_dataset(exchange.parsed)
        if dataset is None:
            raise AssertionError(f"servicesms.{operation}: no DataSet in {exchange.text[:300]!r}")
        return dataset

    def statuses(self, campaign: int, account: str = "main") -> dict[str, str]:
        """mobile number -> status of each destination (GetStatus's table Table)."""
        dataset = self.dataset(campaign, account)
        if dataset.table != "Table":
            raise AssertionError(f"servicesms.GetStatus of campaign {campaign}: table {dataset.table!r}, "
                                 f"rows {list(dataset.rows)[:2]!r}")
        return {row.get("mobile_number", ""): row.get("status", "") for row in dataset.rows}

    def hold(self, campaign: int, account: str = "main") -> Result:
        return self.result("SetHoldSMS", self.call("SetHoldSMS", {"Id": campaign}, account))

    def release(self, campaign: int, account: str = "main") -> Result:
        return self.result("SetReleaseSMS", self.call("SetReleaseSMS", {"Id": campaign}, account))
