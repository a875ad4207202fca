"""ServiceSms.asmx through the real emulator server, called as a real client calls it: zeep built from the
WSDL the emulator serves (at /painel/ and /shortcode/), over SOAP 1.1 and 1.2, running every operation;
raw HTTP only for what no SOAP client sends. Expected answers come from the catalog (codes.yaml
servicesms.*), accounts and numbers from the emulator profile. The service shares painel's core: what one
interface does, the other sees (campaigns, holds, credits, the once-a-minute mark, the data_callback)."""
from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest
import requests
import zeep
from lxml import etree
from zeep.transports import Transport

from smsconform.contracts import load_contracts
from smsconform.emulator.server import Emulator

CONTRACTS = load_contracts()
CATALOG = CONTRACTS.catalog
PROFILE = CONTRACTS.emulator_profile
NUMBERS = PROFILE["numbers"]
VALID = NUMBERS["valid"]
LOGIN = {"User": "demo", "Pwd": "demo123"}
GRAMMAR = CONTRACTS.grammar("painel")
PATHS = ("/painel/ServiceSms.asmx", "/shortcode/ServiceSms.asmx")
PORTS = {"1.1": "ServiceSmsSoap", "1.2": "ServiceSmsSoap12"}
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XS = "http://www.w3.org/2001/XMLSchema"
DIFFGRAM = "urn:schemas-microsoft-com:xml-diffgram-v1"
MSDATA = "urn:schemas-microsoft-com:xml-msdata"


def answer(operation: str, code: str) -> str:
    """The catalog's `<id>:<TEXT>` for a code of an operation."""
    entry = CATALOG.code("servicesms", operation, code)
    return f"{entry.wire}:{entry.text}" if entry.text else entry.wire


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One server for the module (conftest.py's http and control use it), reset before each test."""
    emu = Emulator(db=tmp_path_factory.mktemp("servicesms") / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


@pytest.fixture(autouse=True)
def fresh(control: Any) -> None:
    control("POST", "/reset")


def advance(http: httpx.Client, seconds: float) -> None:
    assert http.post("/_emulator/clock", json={"advance": seconds}).status_code == 200


@pytest.fixture(scope="module")
def clients(emulator: Emulator) -> Iterator[dict[str, zeep.Client]]:
    session = requests.Session()
    session.trust_env = False
    built = {path: zeep.Client(f"{emulator.base_url}{path}?WSDL", transport=Transport(session=session))
             for path in PATHS}
    yield built
    session.close()


def service(clients: dict[str, zeep.Client], version: str = "1.1", path: str = PATHS[0]) -> Any:
    return clients[path].bind("ServiceSms", PORTS[version])


def message(*numbers: str, text: str = "Feliz Natal") -> dict[str, Any]:
    return {"Subject": "teste", "Msg": text, "Destinations": {"Destination": [{"Number": n} for n in numbers]}}


def send(svc: Any, *numbers: str, login: dict[str, str] = LOGIN, text: str = "Feliz Natal") -> int:
    result = svc.SendSMS(**login, SmsMessage=message(*numbers, text=text))
    GRAMMAR.parse(result, start="soap_answer")
    campaign, _, status = result.partition(":")
    assert status == CATALOG.code("servicesms", "SendSMS", "<campaign>").text and int(campaign) > 0, result
    return int(campaign)


def rows(dataset: Any) -> tuple[str, list[dict[str, str]]]:
    """A DataSet answer read as a .NET client reads it: its table (from the inline schema) and its rows,
    after checking the rows against that inline schema."""
    inline, diffgram = dataset._value_1, dataset._value_2
    assert etree.QName(inline).text == f"{{{XS}}}schema" and etree.QName(diffgram).text == f"{{{DIFFGRAM}}}diffgram"
    (data,) = list(diffgram)
    data = etree.fromstring(etree.tostring(data))
    for row in data:  # a DataSet reader ignores the diffgram's row bookkeeping (diffgr:id, msdata:rowOrder)
        for name in [n for n in row.attrib if etree.QName(n).namespace in (DIFFGRAM, MSDATA)]:
            del row.attrib[name]
    etree.XMLSchema(etree.fromstring(etree.tostring(inline))).assertValid(data)
    table = inline.find(f".//{{{XS}}}choice/{{{XS}}}element").get("name")
    return table, [{etree.QName(c).localname: c.text or "" for c in row} for row in data]


def api(http: httpx.Client, action: str, path: str = "/painel/api.ashx", **params: Any) -> Any:
    response = http.get(path, params={"action": action, "lgn": "demo", "pwd": "demo123", **params})
    assert response.status_code == 200, response.text
    return response.json()


# -- the service description ----------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS)
def test_wsdl_is_served_with_its_address(http: httpx.Client, emulator: Emulator, path: str) -> None:
    for query in ("WSDL", "wsdl"):
        response = http.get(f"{path}?{query}")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
        tree = etree.fromstring(response.content)
        locations = {a.get("location") for a in tree.iter() if etree.QName(a).localname == "address"}
        assert locations == {f"{emulator.base_url}{path}"}
    page = http.get(path)
    assert page.status_code == 200 and "SendSMS" in page.text and f"{path}?WSDL" in page.text


def test_served_wsdl_is_the_contract(clients: dict[str, zeep.Client]) -> None:
    contract = zeep.Client(str(CONTRACTS.service_wsdl_path("servicesms")))
    expected = {n: [p for p, _ in op.input.body.type.elements]
                for n, op in contract.wsdl.services["ServiceSms"].ports["ServiceSmsSoap"].binding._operations.items()}
    for client in clients.values():
        for port in PORTS.values():
            ops = client.wsdl.services["ServiceSms"].ports[port].binding._operations
            assert {n: [p for p, _ in op.input.body.type.elements] for n, op in ops.items()} == expected


# -- every operation, both versions, both paths -------------------------------------------------------

@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("path", PATHS)
def test_every_operation_through_zeep(http: httpx.Client, clients: dict[str, zeep.Client], version: str,
                                      path: str) -> None:
    svc = service(clients, version, path)
    balance = svc.GetBalance(**LOGIN)
    assert balance.isdigit()
    campaign = send(svc, VALID[0], VALID[1])
    assert svc.SetHoldSMS(**LOGIN, Id=campaign) == answer("SetHoldSMS", "1")
    assert svc.SetReleaseSMS(**LOGIN, Id=campaign) == answer("SetReleaseSMS", "1")
    table, found = rows(svc.GetStatus(**LOGIN, Id=campaign))
    assert table == "Table"
    assert [r["mobile_number"] for r in found] == [VALID[0], VALID[1]]
    assert all(r["message"] == "Feliz Natal" and r["status"] == "Aguardando envio" for r in found)
    advance(http, 61)
    table, found = rows(svc.GetStatusByRef(**LOGIN, Id=campaign, Ref=""))
    assert table == "Table" and len(found) == 2
    advance(http, 61)
    kind = "short" if path.startswith("/shortcode") else "long"
    after = svc.GetBalance(**LOGIN)
    assert int(balance) - int(after) == 2, f"two one-part SMS must cost two {kind} credits"


def test_failures_answer_their_catalog_text(http: httpx.Client, clients: dict[str, zeep.Client]) -> None:
    svc = service(clients)
    bad = {"User": "demo", "Pwd": "senha-errada"}
    assert svc.SendSMS(**bad, SmsMessage=message(VALID[0])) == answer("SendSMS", "0/bad_credentials")
    assert svc.SendSMS(**LOGIN, SmsMessage=message(VALID[0], text=" ")) == answer("SendSMS", "0/empty_message")
    assert svc.SendSMS(**LOGIN, SmsMessage=message(NUMBERS["bad_ddd"][:9])) == answer("SendSMS", "0/bad_number")
    assert svc.SendSMS(**LOGIN, SmsMessage=message()) == answer("SendSMS", "0/bad_number")
    no_credits = PROFILE["accounts"]["no_credits"]
    assert (svc.SendSMS(User=no_credits["login"], Pwd=no_credits["password"], SmsMessage=message(VALID[0]))
            == answer("SendSMS", "0/insufficient_credits"))
    assert svc.SetHoldSMS(**LOGIN, Id=999999999) == answer("SetHoldSMS", "0/not_found")
    assert svc.SetReleaseSMS(**bad, Id=1) == answer("SetReleaseSMS", "0/bad_credentials")
    assert svc.GetBalance(**bad) == answer("GetBalance", "0/bad_credentials")
    table, found = rows(svc.GetStatus(**LOGIN, Id=999999999))
    assert (table, found) == ("Erro", [{"retorno": answer("GetStatus", "0/not_found")}])
    campaign = send(svc, VALID[0])
    advance(http, 61)
    assert svc.SetReleaseSMS(**LOGIN, Id=campaign) == answer("SetReleaseSMS", "0/wrong_state")
    table, found = rows(svc.GetStatusByRef(**LOGIN, Id=campaign, Ref="outra"))
    assert (table, found) == ("Erro", [{"retorno": answer("GetStatusByRef", "0/not_found")}])


def test_once_a_minute_is_shared_with_api_ashx(http: httpx.Client, clients: dict[str, zeep.Client]) -> None:
    svc = service(clients)
    assert api(http, "getbalance")["status"] == 1
    assert svc.GetBalance(**LOGIN) == answer("GetBalance", "0/rate_limited")
    advance(http, 61)
    campaign = send(svc, VALID[0])
    assert rows(svc.GetStatus(**LOGIN, Id=campaign))[0] == "Table"
    assert api(http, "getstatus", id=campaign)["status"] == 0
    assert rows(svc.GetStatusByRef(**LOGIN, Id=campaign, Ref=""))[1] == [{"retorno": answer("GetStatusByRef", "0/rate_limited")}]
    advance(http, 61)
    assert api(http, "getstatus", id=campaign)["status"] == 1


def test_one_campaign_through_both_interfaces(http: httpx.Client, clients: dict[str, zeep.Client]) -> None:
    """Sent by SOAP, held by api.ashx, released by SOAP, read by api.ashx; and the other way round."""
    svc = service(clients)
    campaign = send(svc, VALID[0], "123")
    assert api(http, "holdsms", id=campaign)["msg"] == "SUCESSO"
    assert svc.SetHoldSMS(**LOGIN, Id=campaign) == answer("SetHoldSMS", "0/wrong_state")   # held already
    assert svc.SetReleaseSMS(**LOGIN, Id=campaign) == answer("SetReleaseSMS", "1")
    data = api(http, "getstatus", id=campaign)["data"]
    GRAMMAR.parse(data, start="getstatus_data")
    cells = [line.split(";") for line in data.splitlines()]
    assert [(c[10], c[6]) for c in cells] == [(VALID[0], "Aguardando envio"), ("123", "Numero invalido")]
    advance(http, 61)                     # every destination final now; and a new minute for getstatus
    cells = [line.split(";") for line in api(http, "getstatus", id=campaign)["data"].splitlines()]
    advance(http, 61)
    _, found = rows(svc.GetStatus(**LOGIN, Id=campaign))
    assert len(found) == len(cells) == 2
    for row, line in zip(found, cells):   # the DataSet's columns are the getstatus cells
        names = ("delivery_id", "enqueue_time", "delivery_time", "status", "carrier", "mobile_number", "message")
        assert [row.get(k, "") for k in names] == [line[i] for i in (0, 2, 4, 6, 9, 10, 12)]
    by_api = api(http, "sendsms", msg="ola", numbers=VALID[1], interno_key="pedido-7")["data"]
    assert svc.SetHoldSMS(**LOGIN, Id=by_api) == answer("SetHoldSMS", "1")
    assert api(http, "releasesms", id=by_api)["msg"] == "SUCESSO"
    advance(http, 61)
    table, found = rows(svc.GetStatusByRef(**LOGIN, Id=by_api, Ref="pedido-7"))
    assert table == "Table" and [r["mobile_number"] for r in found] == [VALID[1]]


def test_data_callback_of_a_soap_campaign(http: httpx.Client, clients: dict[str, zeep.Client], receiver: Any) -> None:
    receiver.calls.clear()
    registered = http.post("/_emulator/callbacks", json={"dialect": "painel", "kind": "data_callback",
                                                         "url": receiver.url + "/retorno"})
    assert registered.status_code == 200, registered.text
    campaign = send(service(clients), VALID[0])
    advance(http, 2)
    advance(http, 10)
    calls = receiver.wait(1)
    assert calls, "a campaign sent through ServiceSms must report through painel's data_callback"
    record = calls[-1]["data_callback"]
    GRAMMAR.parse(record, start="data_callback")
    assert record.split(";")[:2] == [str(campaign), VALID[0]]


# -- what no SOAP client sends ------------------------------------------------------------------------

def test_an_id_that_is_no_int_is_a_client_fault(http: httpx.Client) -> None:
    body = (f'<?xml version="1.0"?><soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body>'
            '<SetHoldSMS xmlns="http://tempuri.org/"><User>demo</User><Pwd>demo123</Pwd><Id>abc</Id></SetHoldSMS>'
            "</soap:Body></soap:Envelope>")
    response = http.post(PATHS[0], content=body, headers={"content-type": "text/xml; charset=utf-8",
                                                         "soapaction": '"http://tempuri.org/SetHoldSMS"'})
    assert response.status_code == 500
    assert etree.fromstring(response.content).findtext(".//faultcode") == "soap:Client"


@pytest.mark.parametrize("body", [b"", b"<not-xml", b"\x00\xff" * 20, b"<a/>"])
def test_junk_is_a_fault_never_a_traceback(http: httpx.Client, body: bytes) -> None:
    response = http.post(PATHS[1], content=body, headers={"content-type": "text/xml"})
    assert response.status_code == 500
    assert etree.fromstring(response.content).findtext(".//faultcode") == "soap:Client"


def test_the_journal_hides_the_password(http: httpx.Client, clients: dict[str, zeep.Client]) -> None:
    service(clients).GetBalance(**LOGIN)
    entries = http.get("/_emulator/journal", params={"dialect": "servicesms"}).json()
    posted = [e for e in entries if e["method"] == "POST"]
    assert posted and all("demo123" not in e["body"] and ">demo<" not in e["body"] for e in posted)


def test_zeep_through_the_in_process_mock() -> None:
    """mock() routes requests (zeep's transport) to the same app: the served WSDL, a send, and the campaign's
    DataSet answer as the server does."""
    from smsconform.emulator import mock

    with mock():
        svc = zeep.Client("http://127.0.0.1:2738/painel/ServiceSms.asmx?WSDL").service
        assert svc.GetBalance(**LOGIN).isdigit()
        campaign = send(svc, VALID[0], VALID[1])
        table, found = rows(svc.GetStatus(**LOGIN, Id=campaign))
        assert table == "Table" and [r["mobile_number"] for r in found] == [VALID[0], VALID[1]]
