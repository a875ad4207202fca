"""The wbsapi WSDL and its XSD: what a real SOAP client (zeep) and a validating parser (lxml) see.

The WSDL is read from the file with a transport that refuses any http(s) fetch (conftest.py
offline_transport), so a stray import of a remote schema fails the test instead of silently reaching the
network. The standalone-XSD check covers servicesms.wsdl too (test_servicesms_wsdl.py has the rest).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import zeep
from lxml import etree
from zeep.transports import Transport

from smsconform.contracts.paths import contracts_dir

TNS = "http://tempuri.org/"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
PROV = "https://smsconform.invalid/provenance"
ADDRESS = "http://127.0.0.1:2738/wbsapi.asmx"
SEEDS = {"000_7368c56e80c7a757.txt", "001_a90b3067a3e55622.txt", "002_aa652833008be1f5.txt",
         "003_68e2ce3a2fd1e408.txt", "field-notes.md"}

# The documented parameters, in the order the seed's "Parâmetros" tables give them, with their XSD type
# and whether the seed marks them optional "(*)".
PARAMS: dict[str, list[tuple[str, str, bool]]] = {
    "sendUnique": [
        ("Identificacao", f"{{{XS}}}string", True),
        ("Telefone", f"{{{TNS}}}TelefoneType", True),
        ("Mensagem", f"{{{XS}}}string", True),
        ("Agenda", f"{{{XS}}}dateTime", False),
        ("TipoMensagem", f"{{{TNS}}}TipoMensagemType", False),
        ("CentroCustos", f"{{{XS}}}int", False),
        ("IdExterno", f"{{{XS}}}unsignedInt", False),
    ],
    "sendMultiple": [
        ("Identificacao", f"{{{XS}}}string", True),
        ("Conteudo", f"{{{XS}}}string", True),
    ],
    "inBox": [
        ("Identificacao", f"{{{XS}}}string", True),
        ("DataInicial", f"{{{XS}}}dateTime", False),
        ("DataFinal", f"{{{XS}}}dateTime", False),
        ("Reexibir", f"{{{TNS}}}ReexibirType", False),
    ],
    "status": [("Identificacao", f"{{{XS}}}string", True), ("Hash", f"{{{XS}}}string", True)],
    "cancel": [("Identificacao", f"{{{XS}}}string", True), ("Hash", f"{{{XS}}}string", True)],
}
OPERATIONS = set(PARAMS)
MD5 = "12d609dddeccd59e392b8e2374f52d1a"

# One valid call per operation, with every parameter (optional ones included).
SAMPLE_CALLS: dict[str, dict[str, object]] = {
    "sendUnique": dict(Identificacao="126b114c", Telefone="11962160007", Mensagem="Um primeiro envio",
                       Agenda=dt.datetime(2015, 7, 12, 0, 0, 0), TipoMensagem=2, CentroCustos=622,
                       IdExterno=4294967295),
    "sendMultiple": dict(Identificacao="126b114c",
                         Conteudo="11962160007|MSG 1;11962160007|MSG 2|435;11962160007|MSG 3|436|2015-07-12 00:00:00|1|2"),
    "inBox": dict(Identificacao="126b114c", DataInicial=dt.datetime(2024, 1, 1, 0, 0),
                  DataFinal=dt.datetime(2024, 1, 1, 23, 59, 59), Reexibir=1),
    "status": dict(Identificacao="126b114c", Hash=f"{MD5};{MD5}"),
    "cancel": dict(Identificacao="126b114c", Hash=MD5),
}


@pytest.fixture(scope="module")
def wsdl_path() -> Path:
    # contracts_dir() rather than load_contracts(): the catalog is not needed to read the WSDL.
    return contracts_dir() / "wsdl" / "wbsapi.wsdl"


@pytest.fixture(scope="module")
def xsd_path(wsdl_path: Path) -> Path:
    return wsdl_path.with_suffix(".xsd")


@pytest.fixture(scope="module")
def client(wsdl_path: Path, offline_transport: Transport) -> zeep.Client:
    return zeep.Client(str(wsdl_path), transport=offline_transport)


@pytest.fixture(scope="module")
def schema(xsd_path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(xsd_path)))


def _element(op: str, **values: object) -> etree._Element:
    """A request element written by hand, values as their lexical forms, in the given order."""
    root = etree.Element(f"{{{TNS}}}{op}", nsmap={None: TNS})
    for name, value in values.items():
        etree.SubElement(root, f"{{{TNS}}}{name}").text = str(value)
    return root


def _send_unique(**overrides: object) -> etree._Element:
    values: dict[str, object] = {"Identificacao": "126b114c", "Telefone": "11962160007", "Mensagem": "Oi"}
    values.update(overrides)
    order = [name for name, _, _ in PARAMS["sendUnique"]]
    return _element("sendUnique", **{k: values[k] for k in order if k in values})


# --- zeep: service, ports, operations, parameters ---------------------------------------------------

def test_one_service_with_a_soap11_and_a_soap12_port(client: zeep.Client) -> None:
    assert list(client.wsdl.services) == ["WBSAPI"]
    ports = client.wsdl.services["WBSAPI"].ports
    assert set(ports) == {"WBSAPISoap", "WBSAPISoap12"}
    assert type(ports["WBSAPISoap"].binding).__name__ == "Soap11Binding"
    assert type(ports["WBSAPISoap12"].binding).__name__ == "Soap12Binding"
    for port in ports.values():
        assert port.binding_options["address"] == ADDRESS


@pytest.mark.parametrize("port_name", ["WBSAPISoap", "WBSAPISoap12"])
def test_each_port_exposes_exactly_the_five_operations(client: zeep.Client, port_name: str) -> None:
    binding = client.wsdl.services["WBSAPI"].ports[port_name].binding
    assert set(binding._operations) == OPERATIONS


@pytest.mark.parametrize("port_name", ["WBSAPISoap", "WBSAPISoap12"])
@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_operation_parameters_names_types_and_optionality(client: zeep.Client, port_name: str, op: str) -> None:
    operation = client.wsdl.services["WBSAPI"].ports[port_name].binding._operations[op]
    assert operation.soapaction == f"{TNS}{op}"
    assert operation.style == "document"
    assert operation.input.body.qname == etree.QName(TNS, op)
    params = [(name, elm.type.qname.text, elm.min_occurs == 1) for name, elm in operation.input.body.type.elements]
    assert params == PARAMS[op]
    # .asmx answer shape: <opResponse><opResult> string </opResult></opResponse>
    assert operation.output.body.qname == etree.QName(TNS, f"{op}Response")
    results = [(name, elm.type.qname.text) for name, elm in operation.output.body.type.elements]
    assert results == [(f"{op}Result", f"{{{XS}}}string")]


@pytest.mark.parametrize("port_name", ["WBSAPISoap", "WBSAPISoap12"])
@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_zeep_requests_validate_against_the_xsd(client: zeep.Client, schema: etree.XMLSchema,
                                                port_name: str, op: str) -> None:
    service = client.bind("WBSAPI", port_name)
    envelope = client.create_message(service, op, **SAMPLE_CALLS[op])
    body = next(child for child in envelope if etree.QName(child).localname == "Body")
    (request,) = list(body)
    assert etree.QName(request).text == f"{{{TNS}}}{op}"
    schema.assertValid(request)


def test_zeep_reads_a_response_string(client: zeep.Client) -> None:
    """The answer element deserializes to the plain string that carries the code and the protocol."""
    operation = client.wsdl.services["WBSAPI"].ports["WBSAPISoap"].binding._operations["sendUnique"]
    xml = etree.fromstring(
        f'<sendUniqueResponse xmlns="{TNS}"><sendUniqueResult>1;{MD5}</sendUniqueResult></sendUniqueResponse>')
    assert operation.output.body.parse(xml, client.wsdl.types).sendUniqueResult == f"1;{MD5}"


# --- lxml: the XSD accepts and refuses ------------------------------------------------------------

def test_minimal_requests_are_valid(schema: etree.XMLSchema) -> None:
    schema.assertValid(_send_unique())
    schema.assertValid(_element("inBox", Identificacao="126b114c"))
    schema.assertValid(_element("status", Identificacao="126b114c", Hash=MD5))


@pytest.mark.parametrize("value", ["0", "4294967295"])
def test_idexterno_bounds_accepted(schema: etree.XMLSchema, value: str) -> None:
    schema.assertValid(_send_unique(IdExterno=value))


@pytest.mark.parametrize("value", ["4294967296", "-1", "12a"])
def test_idexterno_out_of_range_rejected(schema: etree.XMLSchema, value: str) -> None:
    assert not schema.validate(_send_unique(IdExterno=value))


@pytest.mark.parametrize("value", ["119621600071", "1196216000", "1196216000a", "+5511962160007", ""])
def test_telefone_must_be_eleven_digits(schema: etree.XMLSchema, value: str) -> None:
    assert not schema.validate(_send_unique(Telefone=value))


@pytest.mark.parametrize("value,valid", [("0", True), ("1", True), ("2", True), ("3", False), ("4", False)])
def test_tipomensagem_is_0_1_or_2(schema: etree.XMLSchema, value: str, valid: bool) -> None:
    assert schema.validate(_send_unique(TipoMensagem=value)) is valid


@pytest.mark.parametrize("value,valid", [("2015-07-12T00:00:00", True), ("2015-07-12T00:00:00-03:00", True),
                                         ("2015-07-12 00:00:00", False), ("12/07/2015", False)])
def test_agenda_is_an_xs_datetime(schema: etree.XMLSchema, value: str, valid: bool) -> None:
    assert schema.validate(_send_unique(Agenda=value)) is valid


@pytest.mark.parametrize("value,valid", [("0", True), ("1", True), ("2", False)])
def test_reexibir_is_0_or_1(schema: etree.XMLSchema, value: str, valid: bool) -> None:
    assert schema.validate(_element("inBox", Identificacao="u", Reexibir=value)) is valid


def test_required_parameters_and_order_are_enforced(schema: etree.XMLSchema) -> None:
    assert not schema.validate(_element("sendUnique", Identificacao="u", Mensagem="Oi"))
    assert not schema.validate(_element("sendUnique", Telefone="11962160007", Identificacao="u", Mensagem="Oi"))
    assert not schema.validate(_element("cancel", Identificacao="u"))
    assert not schema.validate(_element("sendMultiple", Conteudo="11962160007|MSG 1"))


def test_mensagem_has_no_schema_length_limit(schema: etree.XMLSchema) -> None:
    """601 characters must reach the service, which answers code 84; a schema fault would hide it."""
    schema.assertValid(_send_unique(Mensagem="x" * 601))


# --- the two copies of the schema, and provenance --------------------------------------------------

def _canonical(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


@pytest.mark.parametrize("service", ["wbsapi", "servicesms"])
def test_standalone_xsd_is_the_inline_schema(service: str) -> None:
    wsdl_path = contracts_dir() / "wsdl" / f"{service}.wsdl"
    xsd_path = wsdl_path.with_suffix(".xsd")
    parser = etree.XMLParser(remove_blank_text=True, remove_comments=True)
    inline = etree.parse(str(wsdl_path), parser).find(f"{{{WSDL_NS}}}types/{{{XS}}}schema")
    standalone = etree.parse(str(xsd_path), parser).getroot()
    assert inline is not None
    assert _canonical(inline) == _canonical(standalone)
    etree.XMLSchema(inline)  # the inline copy compiles on its own as well


def test_every_declaration_names_its_source_and_basis(xsd_path: Path) -> None:
    root = etree.parse(str(xsd_path)).getroot()
    declarations = root.findall(f".//{{{XS}}}element[@name]") + root.findall(f"{{{XS}}}simpleType")
    described = 0
    for decl in declarations:
        is_wrapper = decl.getparent() is root and decl.get("name", "").endswith("Response")
        rules = decl.findall(f"{{{XS}}}annotation/{{{XS}}}appinfo/{{{PROV}}}rule")
        if is_wrapper:
            continue  # the .asmx answer wrapper; its Result child carries the rule
        assert len(rules) == 1, f"{decl.get('name')} has {len(rules)} provenance rules"
        rule = rules[0]
        assert rule.get("doc") in SEEDS
        assert rule.get("section")
        assert rule.get("basis") in {"documented", "observed", "inferred"}
        if rule.get("basis") == "inferred":
            assert rule.get("reason"), f"{decl.get('name')} is inferred without a reason"
        described += 1
    assert described == 3 + 5 + sum(len(p) for p in PARAMS.values()) + 5


def test_quotes_are_verbatim_from_the_seed(xsd_path: Path) -> None:
    seed = (Path(__file__).resolve().parents[3] / "shared" / "seeds" / "003_68e2ce3a2fd1e408.txt")
    if not seed.exists():
        pytest.skip("the seed documents are not next to this checkout")
    text = seed.read_text(encoding="utf-8")
    root = etree.parse(str(xsd_path)).getroot()
    quotes = {rule.get("quote") for rule in root.iter(f"{{{PROV}}}rule") if rule.get("quote")}
    assert quotes
    for quote in quotes:
        assert quote in text, quote
