"""wbsapi.asmx through the real emulator server, called as a real client would: zeep built from the WSDL
the emulator serves, over SOAP 1.1 and SOAP 1.2; raw HTTP only for what no SOAP client would send
(malformed XML, wrong envelopes). Expected codes and texts come from the catalog, numbers and accounts
from the emulator profile, so a test fails when the service and the contract disagree."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterator

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
GRAMMAR = CONTRACTS.grammar("mensagem")


def _numbers(value: Any) -> list[str]:
    """A profile number entry: a number, a mapping with `number`, or a list of either."""
    items = value if isinstance(value, list) else [value]
    return [str(i["number"] if isinstance(i, dict) else i) for i in items]


NUMBERS = {name: _numbers(value)[0] for name, value in PROFILE["numbers"].items()}
VALID = _numbers(PROFILE["numbers"]["valid"])
USERS = {name: a["integration_user"] for name, a in PROFILE["accounts"].items()}
MAIN = USERS["main"]
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
MD5 = re.compile(r"^[0-9a-f]{32}$")


def line(operation: str, code: str) -> str:
    """The documented `<code>;<TEXT>` answer of an operation."""
    return f"{code};{CATALOG.code('wbsapi', operation, code).text}"


# -- fixtures: one server per module, reset before each test ---------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path_factory.mktemp("wbsapi") / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10.0, trust_env=False) as client:
        yield client


@pytest.fixture(autouse=True)
def fresh(http: httpx.Client) -> None:
    assert http.post("/_emulator/reset").status_code == 200


@pytest.fixture(scope="module")
def client(server: Emulator) -> zeep.Client:
    session = requests.Session()
    session.trust_env = False
    return zeep.Client(f"{server.base_url}/wbsapi.asmx?WSDL", transport=Transport(session=session))


@pytest.fixture(scope="module", params=["1.1", "1.2"])
def soap(request: pytest.FixtureRequest, client: zeep.Client) -> Any:
    """The service through the WSDL's SOAP 1.1 port, then its SOAP 1.2 port."""
    return client.bind("WBSAPI", "WBSAPISoap" if request.param == "1.1" else "WBSAPISoap12")


@pytest.fixture(scope="module")
def soap11(client: zeep.Client) -> Any:
    return client.bind("WBSAPI", "WBSAPISoap")


@pytest.fixture
def control(http: httpx.Client) -> Callable[..., Any]:
    def call(method: str, path: str, body: dict | None = None, **params: str) -> Any:
        response = http.request(method, f"/_emulator{path}", json=body, params=params or None)
        assert response.status_code == 200, response.text
        return response.json()
    return call


def sent_hash(soap: Any, number: str | None = None, **extra: Any) -> str:
    extra.setdefault("Mensagem", "teste")
    answer = soap.sendUnique(Identificacao=MAIN, Telefone=number or VALID[0], **extra)
    code, _, digest = answer.partition(";")
    assert code == "1" and MD5.match(digest), answer
    return digest


def status_line(soap: Any, digest: str) -> list[str]:
    return soap.status(Identificacao=MAIN, Hash=digest).split(";")


# -- the service description ----------------------------------------------------------------------

@pytest.mark.parametrize("query", ["WSDL", "wsdl"])
def test_wsdl_is_the_contract_with_the_request_host(http: httpx.Client, server: Emulator, query: str) -> None:
    served = etree.fromstring(http.get(f"/wbsapi.asmx?{query}").content)
    contract = etree.parse(str(CONTRACTS.wsdl_path)).getroot()
    ns = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
          "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/"}
    addresses = served.xpath("//soap:address/@location | //soap12:address/@location", namespaces=ns)
    assert addresses == [f"{server.base_url}/wbsapi.asmx"] * 2
    ops = "//wsdl:portType/wsdl:operation/@name"
    assert served.xpath(ops, namespaces=ns) == contract.xpath(ops, namespaces=ns)
    other = http.get("/wbsapi.asmx?WSDL", headers={"host": "gateway.example:8080"}).content
    assert b'location="http://gateway.example:8080/wbsapi.asmx"' in other


def test_operations_pages(http: httpx.Client) -> None:
    page = http.get("/wbsapi.asmx")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in ("cancel", "inBox", "sendMultiple", "sendUnique", "status"):
        assert f"?op={name}" in page.text
    op = http.get("/wbsapi.asmx", params={"op": "sendUnique"}).text
    for param in ("Identificacao", "Telefone", "Mensagem", "Agenda", "TipoMensagem", "CentroCustos", "IdExterno"):
        assert f'name="{param}"' in op


# -- sendUnique -------------------------------------------------------------------------------------

def test_send_unique_success_is_visible_and_debited(soap: Any, control: Callable[..., Any]) -> None:
    before = control("GET", "/accounts")[0]["credits"]["long"]
    answer = soap.sendUnique(Identificacao=MAIN, Telefone=VALID[1], Mensagem="Olá, ação confirmada",
                             IdExterno=4294967295, CentroCustos=1)
    GRAMMAR.parse(answer, start="send_answer")
    digest = answer.split(";")[1]
    [msg] = control("GET", "/messages", hash=digest)
    assert (msg["number"], msg["external_id"], msg["kind"], msg["state"]) == (VALID[1], "4294967295", "long", "waiting")
    assert control("GET", "/accounts")[0]["credits"]["long"] == before - 1


def test_send_unique_types_and_credits(soap: Any, control: Callable[..., Any]) -> None:
    for tipo, kind in ((0, "long"), (1, "flash"), (2, "short")):
        digest = sent_hash(soap, TipoMensagem=tipo)
        assert control("GET", "/messages", hash=digest)[0]["kind"] == kind
    long_text = "a" * 400  # GSM: 3 parts of 153
    answer = soap.sendUnique(Identificacao=MAIN, Telefone=VALID[0], Mensagem=long_text)
    [msg] = control("GET", "/messages", hash=answer.split(";")[1])
    assert (msg["parts"], msg["cost"]) == (3, 3)


def _reserved(name: str) -> str:
    return NUMBERS[name]


SEND_UNIQUE_CODES = [
    ("83", {"Identificacao": USERS["mode_not_allowed"], "TipoMensagem": 2}),
    ("83", {"TipoMensagem": 4}),  # the HTTP API's short-code flash, which wbsapi does not offer
    ("84", {"Mensagem": "a" * 601, "TipoMensagem": 0}),
    ("84", {"Mensagem": "a" * 601, "TipoMensagem": 1}),
    ("84", {"Mensagem": "a" * 141, "TipoMensagem": 2}),
    ("85", {"Mensagem": "MSG|X"}),
    ("87", {"Telefone": ""}),
    ("88", {"Telefone": f"{VALID[0]};{VALID[1]}"}),
    ("89", {"Telefone": _reserved("bad_operator_prefix")}),
    ("90", {"Telefone": _reserved("blacklisted")}),
    ("91", {"Telefone": _reserved("bad_ddd")}),
    ("92", {"Telefone": _reserved("prefix_ddd_mismatch")}),
    ("93", {"Identificacao": USERS["user_and_client_disabled"]}),
    ("93", {"Identificacao": USERS["user_disabled"]}),
    ("93", {"Identificacao": USERS["client_disabled"]}),
    ("95", {"Telefone": _reserved("too_long")}),
    ("95", {"CentroCustos": 999}),
    ("96", {"Telefone": _reserved("alpha")}),
    ("97", {"Identificacao": USERS["no_credits"]}),
    ("98", {"Identificacao": "ffffffff"}),
    ("300", {"Telefone": _reserved("rejected")}),
    # reasons wbsapi prints no code for, answered as contracts/catalog/substitutes.yaml says
    ("93", {"Identificacao": USERS["no_privilege"]}),
    ("93", {"Identificacao": USERS["blocked"]}),
    ("95", {"Identificacao": USERS["cost_centre_required"]}),
    ("95", {"Mensagem": " "}),
    ("90", {"Telefone": _reserved("procon")}),
    ("300", {"Telefone": _reserved("invalidated_by_dlr")}),
]


@pytest.mark.parametrize(("code", "override"), SEND_UNIQUE_CODES,
                         ids=[f"{c}-{'-'.join(map(str, o))}" for c, o in SEND_UNIQUE_CODES])
def test_send_unique_codes(soap: Any, code: str, override: dict[str, Any]) -> None:
    request = {"Identificacao": MAIN, "Telefone": VALID[0], "Mensagem": "teste", **override}
    answer = soap.sendUnique(**request)
    assert answer == line("sendUnique", code)
    GRAMMAR.parse(answer, start="send_answer")


@pytest.mark.parametrize(("tipo", "chars"), [(0, 600), (1, 600), (2, 140)])
def test_send_unique_length_limit_itself_is_accepted(soap11: Any, tipo: int, chars: int) -> None:
    answer = soap11.sendUnique(Identificacao=MAIN, Telefone=VALID[0], Mensagem="a" * chars, TipoMensagem=tipo)
    assert answer.startswith("1;"), answer


def test_send_unique_antifraud_is_accepted_and_held(soap: Any) -> None:
    digest = sent_hash(soap, _reserved("antifraud"))
    assert status_line(soap, digest)[1:3] == line("status", "7").split(";")


def test_send_unique_schedule_waits_for_agenda(soap: Any, control: Callable[..., Any]) -> None:
    now = dt.datetime.fromisoformat(control("GET", "/clock")["now"])
    digest = sent_hash(soap, Agenda=(now + dt.timedelta(hours=1)).replace(tzinfo=None))
    control("POST", "/clock", {"advance": 3000})
    assert status_line(soap, digest)[1] == "0"
    control("POST", "/clock", {"advance": 601 + 1})
    assert status_line(soap, digest)[1] == "3"


# -- sendMultiple -----------------------------------------------------------------------------------

def test_send_multiple_seed_example(soap: Any, control: Callable[..., Any]) -> None:
    """The seed's example, with the pipes its prose describes (contracts/examples/wbsapi.yaml repair)."""
    conteudo = "11962160007|MSG 1;11962160007|MSG 2|435;11962160007|MSG 3|436|2015-07-12 00:00:00|1|2"
    answer = soap.sendMultiple(Identificacao=MAIN, Conteudo=conteudo)
    GRAMMAR.parse(answer, start="mult_answer")
    lines = answer.split("\n")
    assert [x.split(";")[0] for x in lines] == ["1", "1", "1"]
    third = control("GET", "/messages", hash=lines[2].split(";")[1])[0]
    assert (third["external_id"], third["kind"], third["number"]) == ("436", "flash", "11962160007")


def test_send_multiple_codes_per_record(soap: Any) -> None:
    records = [
        (f"{VALID[0]}|ok", "1"),
        (f"{_reserved('blacklisted')}|x", "90"),
        (f"{_reserved('bad_ddd')}|x", "91"),
        (f"{_reserved('alpha')}|x", "96"),
        (f"{_reserved('prefix_ddd_mismatch')}|x", "92"),
        (f"{_reserved('bad_operator_prefix')}|x", "89"),
        (f"{_reserved('too_long')}|x", "95"),
        (f"{_reserved('rejected')}|x", "300"),
        (f"{VALID[1]}|MSG 1|1|2015-07-12 00:00:00|0|1|X", "85"),
        (f"{VALID[1]}", "85"),
        (f"{VALID[1]}|" + "a" * 601, "84"),
        (f"{VALID[1]}|" + "a" * 141 + "|||2", "84"),
        (f"{VALID[1]}|x|abc", "95"),
        (f"{VALID[1]}|x||31/12/2030", "95"),
        (f"{VALID[1]}|x|||7", "83"),
        (f"{VALID[2]}|x|4294967295|2015-07-12T00:00:00|2|2", "1"),
    ]
    answer = soap.sendMultiple(Identificacao=MAIN, Conteudo=";".join(r for r, _ in records))
    GRAMMAR.parse(answer, start="mult_answer")
    got = answer.split("\n")
    assert len(got) == len(records)
    for (record, code), result in zip(records, got):
        fields = result.split(";")
        assert fields[0] == code, (record, result)
        if code == "1":
            assert MD5.match(fields[1]) and fields[2] == record.split("|")[0]
        else:
            assert ";".join(fields[:2]) == line("sendMultiple", code)
            assert fields[2] == record.split("|")[0]


def test_send_multiple_mode_not_allowed_per_record(soap: Any) -> None:
    answer = soap.sendMultiple(Identificacao=USERS["mode_not_allowed"],
                               Conteudo=f"{VALID[0]}|MSG 1|||2;{VALID[1]}|MSG 2")
    first, second = answer.split("\n")
    assert first == f"{line('sendMultiple', '83')};{VALID[0]}"
    assert second.startswith("1;")


@pytest.mark.parametrize(("count", "code"), [(1, "1"), (1000, "1"), (1001, "88"), (0, "87")])
def test_send_multiple_record_limits(soap11: Any, count: int, code: str) -> None:
    conteudo = ";".join(f"{VALID[i % len(VALID)]}|msg {i}" for i in range(count))
    answer = soap11.sendMultiple(Identificacao=MAIN, Conteudo=conteudo)
    if code == "1":
        lines = answer.split("\n")
        assert len(lines) == count and all(x.startswith("1;") for x in lines)
    else:
        assert answer == line("sendMultiple", code)


@pytest.mark.parametrize(("account", "code"), [("no_credits", "97"), ("user_and_client_disabled", "93")])
def test_send_multiple_request_level_codes(soap: Any, account: str, code: str) -> None:
    answer = soap.sendMultiple(Identificacao=USERS[account], Conteudo=f"{VALID[0]}|a;{VALID[1]}|b")
    assert answer == line("sendMultiple", code)


def test_send_multiple_unknown_user(soap: Any) -> None:
    assert soap.sendMultiple(Identificacao="ffffffff", Conteudo=f"{VALID[0]}|a") == line("sendMultiple", "98")


# -- status -----------------------------------------------------------------------------------------

def test_status_follows_the_lifecycle(soap: Any, control: Callable[..., Any]) -> None:
    digest = sent_hash(soap)
    waiting = status_line(soap, digest)
    assert waiting[:3] == [digest, *line("status", "0").split(";")] and waiting[4] == VALID[0]
    control("POST", "/clock", {"advance": 1.5})
    assert status_line(soap, digest)[1:3] == line("status", "3").split(";")
    control("POST", "/clock", {"advance": 60})
    assert status_line(soap, digest)[1:3] == line("status", "1").split(";")


@pytest.mark.parametrize(("fixture", "code"), [("outcome_error", "2"), ("outcome_invalid", "5"),
                                               ("outcome_failed", "1")])
def test_status_outcomes(soap: Any, control: Callable[..., Any], fixture: str, code: str) -> None:
    digest = sent_hash(soap, _reserved(fixture))
    control("POST", "/clock", {"advance": 60})
    answer = soap.status(Identificacao=MAIN, Hash=digest)
    GRAMMAR.parse(answer, start="cacl_answer")
    assert answer.split(";")[1:3] == line("status", code).split(";")


def test_status_many_hashes_and_unknown(soap: Any, http: httpx.Client) -> None:
    mine = [sent_hash(soap, VALID[i % 5]) for i in range(3)]
    unknown = "0" * 32
    answer = soap.status(Identificacao=MAIN, Hash=";".join([*mine, unknown]))
    lines = answer.split("\n")
    assert [x.split(";")[0] for x in lines] == [*mine, unknown]
    assert lines[3].split(";")[1:3] == ["255", CATALOG.code("mensagem", "message-status", "255").text]
    # another client's protocol is not found either
    other = http.get("/sms/send", params={"u": USERS["postpaid"], "n": VALID[0], "m": "x"}).text.split(";")[1]
    assert soap.status(Identificacao=MAIN, Hash=other).split(";")[1] == "255"


@pytest.mark.parametrize(("count", "ok"), [(1000, True), (1001, False)])
def test_status_and_cancel_hash_limits(soap11: Any, count: int, ok: bool) -> None:
    digest = sent_hash(soap11)
    hashes = ";".join([digest] + [f"{i:032x}" for i in range(1, count)])
    for operation in ("status", "cancel"):
        answer = getattr(soap11, operation)(Identificacao=MAIN, Hash=hashes)
        if ok:
            assert len(answer.split("\n")) == count
        else:
            assert answer == line(operation, "86")


@pytest.mark.parametrize("operation", ["status", "cancel"])
@pytest.mark.parametrize(("identificacao", "hash_", "code"), [
    (MAIN, "nao-e-um-hash", "86"), (MAIN, "", "86"), ("ffffffff", "0" * 32, "99"),
    (USERS["user_and_client_disabled"], "0" * 32, "93"),
])
def test_status_and_cancel_request_codes(soap: Any, operation: str, identificacao: str, hash_: str, code: str) -> None:
    assert getattr(soap, operation)(Identificacao=identificacao, Hash=hash_) == line(operation, code)


# -- cancel -----------------------------------------------------------------------------------------

def test_cancel_waiting_refunds_and_sent_does_not_cancel(soap: Any, control: Callable[..., Any]) -> None:
    before = control("GET", "/accounts")[0]["credits"]["long"]
    digest = sent_hash(soap)
    answer = soap.cancel(Identificacao=MAIN, Hash=digest)
    GRAMMAR.parse(answer, start="cacl_answer")
    assert answer.split(";")[:3] == [digest, *line("cancel", "9").split(";")]
    assert control("GET", "/accounts")[0]["credits"]["long"] == before
    assert status_line(soap, digest)[1] == "9"
    sent = sent_hash(soap)
    control("POST", "/clock", {"advance": 60})
    assert soap.cancel(Identificacao=MAIN, Hash=sent).split(";")[1:3] == line("cancel", "1").split(";")


@pytest.mark.parametrize(("fixture", "code"), [("outcome_error", "2"), ("outcome_invalid", "5")])
def test_cancel_answers_a_final_status(soap: Any, control: Callable[..., Any], fixture: str, code: str) -> None:
    digest = sent_hash(soap, _reserved(fixture))
    control("POST", "/clock", {"advance": 60})
    assert soap.cancel(Identificacao=MAIN, Hash=digest).split(";")[1:3] == line("cancel", code).split(";")


# -- the same core as mensagem ----------------------------------------------------------------------

def test_sent_by_soap_cancelled_by_http(soap: Any, http: httpx.Client) -> None:
    digest = sent_hash(soap)
    cacl = http.get("/sms/cacl", params={"u": MAIN, "h": digest}).text
    assert cacl.split(";")[:3] == [digest, "9", "CANCELADO"]
    assert status_line(soap, digest)[1:3] == line("status", "9").split(";")


def test_sent_by_http_cancelled_by_soap(soap: Any, http: httpx.Client) -> None:
    digest = http.get("/sms/send", params={"u": MAIN, "n": VALID[2], "m": "via http", "id": "77"}).text.split(";")[1]
    answer = soap.cancel(Identificacao=MAIN, Hash=digest)
    assert answer.split(";")[:5] == [digest, *line("cancel", "9").split(";"), "77", VALID[2]]
    assert http.get("/sms/cacl", params={"u": MAIN, "h": digest}).text.split(";")[1] == "9"


# -- inBox ------------------------------------------------------------------------------------------

def test_inbox_shows_replies_once_unless_reexibir(soap: Any, control: Callable[..., Any]) -> None:
    digest = sent_hash(soap, IdExterno=12)
    control("POST", "/mo", {"account": "main", "number": VALID[0], "text": "SIM; quero", "reply_to": digest})
    control("POST", "/mo", {"account": "main", "number": VALID[1], "text": "sem pergunta"})
    answer = soap.inBox(Identificacao=MAIN)
    GRAMMAR.parse(answer, start="inbox_answer")
    first, second = answer.split("\n")
    assert first.split(";")[:2] == ["1", digest]
    assert first.split(";")[3:6] == [VALID[0], "SIM  quero", "12"]
    assert MD5.match(second.split(";")[1]) and second.split(";")[3:5] == [VALID[1], "sem pergunta"]
    assert soap.inBox(Identificacao=MAIN) == line("inBox", "1"), "nothing new: the success code alone"
    assert len(soap.inBox(Identificacao=MAIN, Reexibir=1).split("\n")) == 2


def test_inbox_window(soap: Any, control: Callable[..., Any]) -> None:
    control("POST", "/mo", {"account": "main", "number": VALID[0], "text": "oi"})
    now = dt.datetime.fromisoformat(control("GET", "/clock")["now"]).replace(tzinfo=None)
    assert soap.inBox(Identificacao=MAIN, DataInicial=now + dt.timedelta(minutes=1)) == line("inBox", "1")
    assert soap.inBox(Identificacao=MAIN, DataInicial=now - dt.timedelta(minutes=1),
                      DataFinal=now + dt.timedelta(minutes=1)).startswith("1;")


@pytest.mark.parametrize(("account", "code"), [("user_and_client_disabled", "93"), (None, "99")])
def test_inbox_codes(soap: Any, account: str | None, code: str) -> None:
    assert soap.inBox(Identificacao=USERS[account] if account else "ffffffff") == line("inBox", code)


# -- what the SOAP stack refuses: Faults, never a traceback -----------------------------------------

def _post(http: httpx.Client, body: bytes | str, content_type: str, action: str | None = None) -> httpx.Response:
    headers = {"content-type": content_type}
    if action is not None:
        headers["soapaction"] = action
    return http.post("/wbsapi.asmx", content=body, headers=headers)


def _fault(response: httpx.Response, version: str) -> str:
    """The fault code of a SOAP Fault answered with HTTP 500; checks the envelope of the version."""
    assert response.status_code in (500, 415)
    assert b"Traceback" not in response.content and b'File "' not in response.content
    env = SOAP11_ENV if version == "1.1" else SOAP12_ENV
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{env}}}Envelope"
    if version == "1.1":
        assert response.headers["content-type"].startswith("text/xml")
        return root.findtext(f".//{{{env}}}Fault/faultcode")
    assert response.headers["content-type"].startswith("application/soap+xml")
    return root.findtext(f".//{{{env}}}Fault/{{{env}}}Code/{{{env}}}Value")


def _envelope(env: str, body: str) -> str:
    return f'<?xml version="1.0"?><s:Envelope xmlns:s="{env}"><s:Body>{body}</s:Body></s:Envelope>'


SEND = f'<sendUnique xmlns="http://tempuri.org/"><Identificacao>{MAIN}</Identificacao>' \
       f"<Telefone>{VALID[0]}</Telefone><Mensagem>x</Mensagem></sendUnique>"


@pytest.mark.parametrize(("version", "content_type", "client_code"), [
    ("1.1", "text/xml; charset=utf-8", "soap:Client"),
    ("1.2", 'application/soap+xml; charset=utf-8; action="http://tempuri.org/sendUnique"', "soap:Sender"),
])
@pytest.mark.parametrize("body", [
    b"<soap:Envelope", b"", b"not xml at all", "<Envelope><Body/></Envelope>",  # the last: VersionMismatch
    "<a:foo xmlns:a='http://schemas.xmlsoap.org/soap/envelope/'/>",
    "ENV_NO_BODY", "ENV_UNKNOWN_OP", "ENV_TWO_OPS", "ENV_WRONG_NS_OP", "ENV_XXE",
])
def test_unreadable_requests_get_a_fault(http: httpx.Client, version: str, content_type: str,
                                         client_code: str, body: Any) -> None:
    env = SOAP11_ENV if version == "1.1" else SOAP12_ENV
    bodies = {
        "ENV_NO_BODY": f'<s:Envelope xmlns:s="{env}"><s:Header/></s:Envelope>',
        "ENV_UNKNOWN_OP": _envelope(env, '<sendEverything xmlns="http://tempuri.org/"/>'),
        "ENV_TWO_OPS": _envelope(env, SEND + SEND),
        "ENV_WRONG_NS_OP": _envelope(env, '<sendUnique xmlns="urn:other"/>'),
        "ENV_XXE": '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   + _envelope(env, SEND.replace("<Mensagem>x", "<Mensagem>&x;")).split("?>", 1)[1],
    }
    payload = bodies.get(body, body) if isinstance(body, str) else body
    action = None if version == "1.2" or body == "ENV_UNKNOWN_OP" else '"http://tempuri.org/sendUnique"'
    response = _post(http, payload, content_type, action)
    # SOAP 1.1 § 4.4 / 1.2 § 5.4.7: an Envelope of another (here no) namespace is a version error
    expected = "soap:VersionMismatch" if body == "<Envelope><Body/></Envelope>" else client_code
    assert _fault(response, version) == expected
    assert b"root:" not in response.content


def test_version_mismatch_unknown_action_and_must_understand(http: httpx.Client) -> None:
    response = _post(http, _envelope(SOAP12_ENV, SEND), "text/xml", '"http://tempuri.org/sendUnique"')
    assert _fault(response, "1.1") == "soap:VersionMismatch"
    response = _post(http, _envelope(SOAP11_ENV, SEND), "application/soap+xml")
    assert _fault(response, "1.2") == "soap:VersionMismatch"
    response = _post(http, _envelope(SOAP11_ENV, SEND), "text/xml", '"http://tempuri.org/nada"')
    assert _fault(response, "1.1") == "soap:Client"
    header = (f'<s:Envelope xmlns:s="{SOAP11_ENV}"><s:Header><h:Auth xmlns:h="urn:x" s:mustUnderstand="1"/>'
              f"</s:Header><s:Body>{SEND}</s:Body></s:Envelope>")
    assert _fault(_post(http, header, "text/xml", '"http://tempuri.org/sendUnique"'), "1.1") == "soap:MustUnderstand"
    response = _post(http, _envelope(SOAP11_ENV, SEND), "application/json")
    assert response.status_code == 415 and _fault(response, "1.1") == "soap:Client"


@pytest.mark.parametrize(("field", "value"), [("TipoMensagem", "dois"), ("IdExterno", "4294967296"),
                                              ("IdExterno", "-1"), ("Agenda", "amanha"), ("CentroCustos", "x")])
def test_values_not_of_their_type_get_a_fault(http: httpx.Client, field: str, value: str) -> None:
    body = _envelope(SOAP11_ENV, SEND.replace("</sendUnique>", f"<{field}>{value}</{field}></sendUnique>"))
    assert _fault(_post(http, body, "text/xml", '"http://tempuri.org/sendUnique"'), "1.1") == "soap:Client"


def test_raw_soap11_without_action_routes_by_body_and_reaches_codes(http: httpx.Client) -> None:
    body = _envelope(SOAP11_ENV, SEND.replace(VALID[0], NUMBERS["alpha"]))
    response = _post(http, body, "text/xml")
    assert response.status_code == 200
    result = etree.fromstring(response.content).findtext(".//{http://tempuri.org/}sendUniqueResult")
    assert result == line("sendUnique", "96")


def test_http_post_protocol_of_the_test_pages(http: httpx.Client) -> None:
    response = http.post("/wbsapi.asmx/sendUnique", data={"Identificacao": MAIN, "Telefone": VALID[0],
                                                          "Mensagem": "pelo formulario"})
    assert response.status_code == 200
    result = etree.fromstring(response.content)
    assert result.tag == "{http://tempuri.org/}string" and result.text.startswith("1;")
    assert http.post("/wbsapi.asmx/nada", data={}).status_code == 500
