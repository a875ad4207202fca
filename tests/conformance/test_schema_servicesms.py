"""Family 1 (schema), servicesms: painel's SOAP web service ServiceSms.asmx (seed 002 names it;
field-notes.md § painel lists its operations and answers), through zeep over the served WSDL.

From contracts/wsdl/servicesms.wsdl: the served WSDL offers the contract's six operations with their
parameters, in SOAP 1.1 and 1.2; every answer validates against the contract's XSD (judged by the basis of
its Result declaration); the string answers follow painel#soap_answer; a GetStatus DataSet declares the
contract's table and columns and its rows are valid against its own inline schema.

Codes, state codes and limits are the generated families' (test_codes.py, test_states.py,
test_limits.py); the status and campaign machines the transitions family's (ServiceSmsFlow); one panel
through two doors test_servicesms.py's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zeep
from lark.exceptions import LarkError
from lxml import etree

from smsconform.conformance.clients.servicesms import BALANCE, CAMPAIGN, ROWS, ServiceSmsClient, read_dataset
from smsconform.conformance.judge import expect
from smsconform.contracts import load_contracts

VERSIONS = ("1.1", "1.2")
XS = "http://www.w3.org/2001/XMLSchema"
PROV = "https://smsconform.invalid/provenance"
OPERATIONS = ("GetBalance", "GetStatus", "GetStatusByRef", "SendSMS", "SetHoldSMS", "SetReleaseSMS")
STRING_ANSWERS = ("SendSMS", "SetHoldSMS", "SetReleaseSMS")
SUCCESS = {"GetBalance": BALANCE, "GetStatus": ROWS, "GetStatusByRef": ROWS, "SendSMS": CAMPAIGN,
           "SetHoldSMS": "1", "SetReleaseSMS": "1"}


def contract_path() -> Path:
    return load_contracts().service_wsdl_path("servicesms")


def contract_xsd() -> etree._Element:
    return etree.parse(str(contract_path().with_suffix(".xsd"))).getroot()


def result_basis(operation: str) -> tuple[str, str | None]:
    """The basis (and reason) of an operation's Result declaration in the contract's XSD."""
    root = contract_xsd()
    result = root.find(f".//{{{XS}}}element[@name='{operation}Result']")
    rule = result.find(f"{{{XS}}}annotation/{{{XS}}}appinfo/{{{PROV}}}rule")
    return rule.get("basis"), rule.get("reason")


def table_columns(type_name: str) -> tuple[str, list[tuple[str, str]]]:
    """A DataSet table the contract declares (tns:StatusRow, tns:ErrorRow): its name and columns."""
    ctype = contract_xsd().find(f"{{{XS}}}complexType[@name='{type_name}']")
    table = ctype.find(f"{{{XS}}}annotation/{{{XS}}}appinfo/{{{PROV}}}table").get("name")
    return table, [(e.get("name"), e.get("type").split(":")[-1]) for e in ctype.find(f"{{{XS}}}sequence")]


@pytest.fixture
def servicesms(sms_clients: Any) -> ServiceSmsClient:
    return sms_clients("servicesms")


def client_in(version: str, sms_target: Any) -> ServiceSmsClient:
    return ServiceSmsClient(sms_target, version)


# -- the service description ----------------------------------------------------------------------

@pytest.mark.dialect("servicesms")
@pytest.mark.rules(*[f"wsdl:servicesms.{op}" for op in OPERATIONS])
@pytest.mark.parametrize("version", VERSIONS)
def test_served_wsdl_offers_the_contract_operations(version: str, sms_target: Any) -> None:
    """The served WSDL binds the six operations field-notes.md lists, with their parameters in order."""
    contract = zeep.Client(str(contract_path()))
    wanted = "Soap11Binding" if version == "1.1" else "Soap12Binding"
    binding = next(b for b in contract.wsdl.bindings.values() if type(b).__name__ == wanted)
    expected = {name: tuple(n for n, _ in op.input.body.type.elements) for name, op in binding.all().items()}
    client = client_in(version, sms_target)
    try:
        if not client.speaks(version):
            return
        served = client.operations(version)
    finally:
        client.close()
    assert served == expected, (f"SOAP {version}: served {served}, the contract has {expected} (the operations and "
                                f"parameters field-notes.md § painel observes)")


# -- every operation, every version: its success, an answer valid against the XSD ----------------------

@pytest.mark.dialect("servicesms")
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("operation", [pytest.param(op, marks=pytest.mark.rules(f"wsdl:servicesms.{op}"))
                                       for op in OPERATIONS])
def test_each_operation_answers_valid_xml(operation: str, version: str, sms_target: Any, sms_control: Any) -> None:
    client = client_in(version, sms_target)
    try:
        if not client.speaks(version):
            return
        if operation == "SetReleaseSMS":
            plan = ServiceSmsClient.build_state(client, sms_control, "campaign_held", operation)
            params = plan.params
        elif operation == "SetHoldSMS":
            params = ServiceSmsClient.build_state(client, sms_control, "campaign_waiting", operation).params
        else:
            params = client.valid_request(operation)
        exchange = client.call(operation, params)
        result = client.result(operation, exchange)
    finally:
        client.close()
    success = load_contracts().catalog.code("servicesms", operation, SUCCESS[operation])
    # SendSMS, SetHoldSMS, SetReleaseSMS answer as field-notes.md observes; GetBalance's and GetStatus's
    # answers are not published, so how their success reads is inferred (the code's basis)
    if not expect(result.code == SUCCESS[operation], success,
                  f"servicesms.{operation} (SOAP {version}): a valid request must succeed, got {result} [{success.source}]"):
        return
    envelope = etree.fromstring(exchange.text.encode("utf-8"))
    body = next(c for c in envelope if isinstance(c.tag, str) and etree.QName(c).localname == "Body")
    (answer,) = [c for c in body if isinstance(c.tag, str)]
    schema = etree.XMLSchema(contract_xsd())
    basis, reason = result_basis(operation)
    errors = [] if schema.validate(answer) else [str(e) for e in schema.error_log][:3]
    expect(not errors, f"wsdl:servicesms.{operation}", f"servicesms.{operation} (SOAP {version}): the answer is "
           f"not valid against servicesms.xsd: {errors}", basis=basis, reason=reason)


@pytest.mark.dialect("servicesms")
@pytest.mark.rules("grammar:painel.soap_answer", *[f"wsdl:servicesms.{op}" for op in STRING_ANSWERS])
def test_string_answers_follow_soap_answer(servicesms: ServiceSmsClient, sms_control: Any) -> None:
    """`<id>:<TEXT>` (painel#soap_answer), on success and on failure (field-notes.md § painel)."""
    grammar = load_contracts().grammar("painel")
    seen: list[str] = []
    sent = servicesms.send([servicesms.number()])
    seen.append(sent.exchange.parsed)
    seen.append(servicesms.call("SendSMS", {"Msg": "", "Destinations": servicesms.number()}).parsed)
    for operation in ("SetHoldSMS", "SetReleaseSMS"):
        seen.append(servicesms.call(operation, {"Id": 999999999}).parsed)
    held = ServiceSmsClient.build_state(servicesms, sms_control, "campaign_held", "SetReleaseSMS")
    seen.append(servicesms.call("SetReleaseSMS", held.params).parsed)
    for text in seen:
        assert isinstance(text, str), f"a string result was due, got {text!r} [field-notes.md § painel]"
        try:
            grammar.parse(text, start="soap_answer")
        except LarkError as problem:
            raise AssertionError(f"{text!r} is not painel#soap_answer '<id>:<TEXT>' (field-notes.md § painel, "
                                 f"observed): {problem}") from None


# -- the DataSet ----------------------------------------------------------------------------------

@pytest.mark.dialect("servicesms")
@pytest.mark.rules("wsdl:servicesms.GetStatus", "wsdl:servicesms.GetStatusByRef")
def test_getstatus_dataset_has_the_contract_tables(servicesms: ServiceSmsClient) -> None:
    """A row per destination in the table and columns tns:StatusRow declares (the getstatus columns
    field-notes.md lists), valid against the DataSet's own inline schema; a failure in table Erro."""
    basis, reason = result_basis("GetStatus")
    numbers = [servicesms.number(0), servicesms.number(1)]
    campaign = servicesms.campaign(numbers)
    dataset = servicesms.dataset(campaign)
    table, columns = table_columns("StatusRow")
    expect((dataset.table, list(dataset.columns)) == (table, columns), "wsdl:servicesms.GetStatus",
           f"GetStatus: the DataSet declares table {dataset.table!r} with {list(dataset.columns)}, the contract "
           f"{table!r} with {columns}", basis=basis, reason=reason)
    expect(not dataset.problems(), "wsdl:servicesms.GetStatus",
           f"GetStatus: rows not valid against the DataSet's inline schema: {dataset.problems()}", basis=basis)
    expect([row.get("mobile_number") for row in dataset.rows] == numbers, "wsdl:servicesms.GetStatus",
           f"GetStatus of campaign {campaign}: one row per destination in request order, got {list(dataset.rows)}",
           basis=basis, reason=reason)
    failed = read_dataset(servicesms.call("GetStatus", {"Id": 999999999}).parsed)
    table, columns = table_columns("ErrorRow")
    expect(failed is not None and (failed.table, list(failed.columns)) == (table, columns),
           "wsdl:servicesms.GetStatus", f"GetStatus of an unknown campaign: a DataSet of table {table!r} "
           f"with {columns} was due, got {failed}", basis=basis, reason=reason)
