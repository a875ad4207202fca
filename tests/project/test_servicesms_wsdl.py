"""ServiceSms.asmx's WSDL and XSD (contracts/wsdl/servicesms.*): what zeep and a validating parser see, and
that every declaration names where it comes from (field-notes.md § painel, or inferred with a reason).

Read offline (conftest.py offline_transport); that the standalone XSD is the WSDL's inline schema is
checked with wbsapi's (test_wsdl.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import zeep
from lxml import etree
from zeep.transports import Transport

from smsconform.contracts.paths import contracts_dir

TNS = "http://tempuri.org/"
XS = "http://www.w3.org/2001/XMLSchema"
PROV = "https://smsconform.invalid/provenance"
ADDRESS = "http://127.0.0.1:2738/painel/ServiceSms.asmx"
SEEDS = {"000_7368c56e80c7a757.txt", "001_a90b3067a3e55622.txt", "002_aa652833008be1f5.txt",
         "003_68e2ce3a2fd1e408.txt", "field-notes.md"}
S, I = f"{{{XS}}}string", f"{{{XS}}}int"

# field-notes.md § painel: the operations and their parameters, in that order.
PARAMS: dict[str, list[tuple[str, str]]] = {
    "GetBalance": [("User", S), ("Pwd", S)],
    "GetStatus": [("User", S), ("Pwd", S), ("Id", I)],
    "GetStatusByRef": [("User", S), ("Pwd", S), ("Id", I), ("Ref", S)],
    "SendSMS": [("User", S), ("Pwd", S), ("SmsMessage", f"{{{TNS}}}SmsMessage")],
    "SetHoldSMS": [("User", S), ("Pwd", S), ("Id", I)],
    "SetReleaseSMS": [("User", S), ("Pwd", S), ("Id", I)],
}
RESULTS = {"GetBalance": S, "GetStatus": f"{{{TNS}}}DataSet", "GetStatusByRef": f"{{{TNS}}}DataSet",
           "SendSMS": S, "SetHoldSMS": S, "SetReleaseSMS": S}
MESSAGE = {"Subject": "Natal", "Msg": "Feliz Natal",
           "Destinations": {"Destination": [{"Number": "3194136747"}, {"Number": "3192450023"}]}}
SAMPLE_CALLS: dict[str, dict[str, object]] = {
    "GetBalance": dict(User="lgn", Pwd="pwd"),
    "GetStatus": dict(User="lgn", Pwd="pwd", Id=28),
    "GetStatusByRef": dict(User="lgn", Pwd="pwd", Id=28, Ref="pedido-1"),
    "SendSMS": dict(User="lgn", Pwd="pwd", SmsMessage=MESSAGE),
    "SetHoldSMS": dict(User="lgn", Pwd="pwd", Id=28),
    "SetReleaseSMS": dict(User="lgn", Pwd="pwd", Id=28),
}
# getstatus's columns (field-notes.md § painel), the named ones: the DataSet's status table.
STATUS_COLUMNS = ["delivery_id", "enqueue_time", "delivery_time", "status", "carrier", "mobile_number", "message"]


WSDL_PATH = contracts_dir() / "wsdl" / "servicesms.wsdl"
XSD_PATH = WSDL_PATH.with_suffix(".xsd")


@pytest.fixture(scope="module")
def client(offline_transport: Transport) -> zeep.Client:
    return zeep.Client(str(WSDL_PATH), transport=offline_transport)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


def _binding(client: zeep.Client, port: str):
    return client.wsdl.services["ServiceSms"].ports[port].binding


def test_one_service_with_a_soap11_and_a_soap12_port(client: zeep.Client) -> None:
    assert list(client.wsdl.services) == ["ServiceSms"]
    ports = client.wsdl.services["ServiceSms"].ports
    assert set(ports) == {"ServiceSmsSoap", "ServiceSmsSoap12"}
    assert type(ports["ServiceSmsSoap"].binding).__name__ == "Soap11Binding"
    assert type(ports["ServiceSmsSoap12"].binding).__name__ == "Soap12Binding"
    for port in ports.values():
        assert port.binding_options["address"] == ADDRESS


@pytest.mark.parametrize("port", ["ServiceSmsSoap", "ServiceSmsSoap12"])
@pytest.mark.parametrize("op", sorted(PARAMS))
def test_operation_parameters_and_result(client: zeep.Client, port: str, op: str) -> None:
    binding = _binding(client, port)
    assert set(binding._operations) == set(PARAMS)
    operation = binding._operations[op]
    assert operation.soapaction == f"{TNS}{op}"
    assert operation.style == "document"
    assert operation.input.body.qname == etree.QName(TNS, op)
    assert [(n, e.type.qname.text) for n, e in operation.input.body.type.elements] == PARAMS[op]
    assert operation.output.body.qname == etree.QName(TNS, f"{op}Response")
    assert [(n, e.type.qname.text) for n, e in operation.output.body.type.elements] == [(f"{op}Result", RESULTS[op])]


def test_sms_message_is_subject_msg_and_an_array_of_destination_numbers(client: zeep.Client) -> None:
    """field-notes.md: SmsMessage{Subject, Msg, Destinations[{Destination{Number}}]}."""
    types = client.wsdl.types
    message = types.get_type(f"{{{TNS}}}SmsMessage")
    assert [n for n, _ in message.elements] == ["Subject", "Msg", "Destinations"]
    array = types.get_type(f"{{{TNS}}}ArrayOfDestination")
    ((name, item),) = array.elements
    assert name == "Destination" and item.max_occurs == "unbounded"
    assert [n for n, _ in types.get_type(f"{{{TNS}}}Destination").elements] == ["Number"]


@pytest.mark.parametrize("port", ["ServiceSmsSoap", "ServiceSmsSoap12"])
@pytest.mark.parametrize("op", sorted(PARAMS))
def test_zeep_requests_validate_against_the_xsd(client: zeep.Client, schema: etree.XMLSchema, port: str,
                                                op: str) -> None:
    envelope = client.create_message(client.bind("ServiceSms", port), op, **SAMPLE_CALLS[op])
    body = next(child for child in envelope if etree.QName(child).localname == "Body")
    (request,) = list(body)
    schema.assertValid(request)


def test_an_id_must_be_an_int(schema: etree.XMLSchema) -> None:
    def hold(value: str) -> etree._Element:
        root = etree.Element(f"{{{TNS}}}SetHoldSMS", nsmap={None: TNS})
        for name, text in (("User", "u"), ("Pwd", "p"), ("Id", value)):
            etree.SubElement(root, f"{{{TNS}}}{name}").text = text
        return root

    assert schema.validate(hold("28"))
    assert not schema.validate(hold("vinte e oito"))
    without_id = hold("28")
    without_id.remove(without_id[-1])
    assert not schema.validate(without_id)


def test_the_dataset_tables_are_the_getstatus_columns() -> None:
    """The status table's columns are getstatus's named columns, each at its getstatus position."""
    root = etree.parse(str(XSD_PATH)).getroot()
    tables = {}
    for ctype in root.findall(f"{{{XS}}}complexType"):
        table = ctype.find(f"{{{XS}}}annotation/{{{XS}}}appinfo/{{{PROV}}}table")
        if table is not None:
            tables[table.get("name")] = (ctype, table)
    assert set(tables) == {"Table", "Erro"}
    ctype, table = tables["Table"]
    columns = [e.get("name") for e in ctype.find(f"{{{XS}}}sequence")]
    assert columns == STATUS_COLUMNS
    cells = table.get("cells").split(";")
    assert len(cells) == 13 and all(name in cells for name in columns)


def test_every_declaration_names_its_source_and_basis() -> None:
    root = etree.parse(str(XSD_PATH)).getroot()
    declarations = (root.findall(f".//{{{XS}}}element[@name]") + root.findall(f"{{{XS}}}complexType")
                    + [root])
    for decl in declarations:
        if decl.getparent() is root and decl.get("name", "").endswith("Response"):
            continue  # the .asmx answer wrapper; its Result child carries the rule
        rules = decl.findall(f"{{{XS}}}annotation/{{{XS}}}appinfo/{{{PROV}}}rule")
        assert len(rules) == 1, f"{decl.get('name')} has {len(rules)} provenance rules"
        rule = rules[0]
        assert rule.get("doc") in SEEDS and rule.get("section")
        assert rule.get("basis") in {"observed", "inferred"}, f"{decl.get('name')}: nothing here is documented"
        if rule.get("basis") == "inferred":
            assert rule.get("reason"), f"{decl.get('name')} is inferred without a reason"


def test_quotes_are_verbatim_from_their_documents() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared"
    if not (shared / "field-notes.md").exists():
        pytest.skip("the seed documents are not next to this checkout")
    root = etree.parse(str(XSD_PATH)).getroot()
    found = 0
    for rule in root.iter(f"{{{PROV}}}rule"):
        if rule.get("quote"):
            path = shared / ("field-notes.md" if rule.get("doc") == "field-notes.md" else f"seeds/{rule.get('doc')}")
            assert rule.get("quote") in path.read_text(encoding="utf-8"), rule.get("quote")
            found += 1
    assert found
