"""Hostile input gets the answer the documents give bad input, never a traceback: integers SQLite cannot
hold, JSON nested 100,000 deep, a lone surrogate, control bodies of the wrong type or duplicating a
unique value. Each case is also held to the emulator's log: no "unexpected error" line."""
from __future__ import annotations

import logging

import httpx
import pytest

from smsconform.emulator.server import Emulator

BIG = str(2**63)          # one above SQLite's largest integer
DEMO = ("demo", "demo123")
DEEP = b"[" * 100_000
JSON = {"content-type": "application/json"}


@pytest.fixture
def quiet_log(caplog: pytest.LogCaptureFixture):
    """The emulator's log must hold no unexpected error when the test ends."""
    with caplog.at_level(logging.ERROR, logger="smsconform.emulator"):
        yield
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("smsconform.emulator")]


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("path, params, name", [
    ("/sms/send", {"u": "d642dfa0", "n": "11991110001", "m": "x"}, "c"),
    ("/sms/cadus", {"u": "d642dfa0", "n": "Ana", "d": "ana.silva", "p": "x1"}, "c"),
    ("/sms/cadus", {"u": "d642dfa0", "n": "Ana", "d": "ana.silva", "p": "x1"}, "t"),
    ("/sms/altus", {"u": "d642dfa0", "n": "Ana"}, "id"),
    ("/sms/altus", {"u": "d642dfa0", "id": "1"}, "t"),
    ("/sms/cact", {"u": "d642dfa0", "s": "1"}, "id"),
], ids=["send c", "cadus c", "cadus t", "altus id", "altus t", "cact id"])
def test_mensagem_integers_beyond_sqlite(http: httpx.Client, path: str, params: dict[str, str], name: str) -> None:
    """An id too large to have been issued gets the answer of an id that is no number at all (for cadus c and
    cact id that is the retry line substitutes.yaml gives them); quiet_log proves no exception made it."""
    not_a_number = http.get(path, params=params | {name: "x"})
    too_large = http.get(path, params=params | {name: BIG})
    assert too_large.status_code == 200
    assert too_large.text == not_a_number.text


@pytest.mark.usefixtures("quiet_log")
def test_speedmarket_and_painel_ids_beyond_sqlite(http: httpx.Client) -> None:
    mt = http.get("/webservice-rest/mt_id", auth=DEMO, params={"id": BIG}).json()
    assert mt["responseCode"] == "170"                                           # Invalid search attribute
    unknown = http.get("/painel/api.ashx", params={"action": "getstatus", "lgn": "demo", "pwd": "demo123", "id": "9"})
    huge = http.get("/painel/api.ashx", params={"action": "getstatus", "lgn": "demo", "pwd": "demo123", "id": BIG})
    assert huge.status_code == 200 and huge.json() == unknown.json()            # an id that was never issued


@pytest.mark.usefixtures("quiet_log")
def test_json_nested_100000_deep_is_malformed(http: httpx.Client) -> None:
    multiple = http.post("/webservice-rest/send-multiple", auth=DEMO, content=DEEP, headers=JSON)
    flat = http.post("/webservice-rest/send-multiple", auth=DEMO, content=b"[", headers=JSON)
    assert multiple.status_code == 200 and multiple.json() == flat.json()        # as any malformed body
    fcati = http.post("/", content=DEEP, headers=JSON | {"authorization": "Bearer demo-token"})
    assert fcati.status_code == 400 and fcati.json() == {"message": "Requisição inválida"}
    control = http.post("/_emulator/accounts", content=DEEP, headers=JSON)
    assert control.status_code == 400 and "nested too deep" in control.json()["error"]


@pytest.mark.usefixtures("quiet_log")
def test_a_lone_surrogate_in_speedmarket_content_is_an_invalid_message(http: httpx.Client) -> None:
    body = b'{"type": 0, "number": "11991110001", "content": "oi \\ud800"}'
    single = http.post("/webservice-rest/send-single", auth=DEMO, content=body, headers=JSON).json()
    assert single["responseCode"] == "030"                                       # Empty or invalid message
    many = http.post("/webservice-rest/send-multiple", auth=DEMO, headers=JSON,
                     content=b'{"messages": [{"type": 0, "number": "11991110001", "content": "\\udfff"}]}')
    assert many.status_code == 200 and "030" in many.text


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("route, body, status", [
    ("/credits", {"amount": 2**63}, 400),
    ("/credits", {"amount": 1, "account": []}, 400),
    ("/credits", {"amount": "10"}, 400),
    ("/accounts", {"login": "x1", "password": "p", "token": "demo-token"}, 409),
    ("/accounts", {"login": "x2", "password": "p", "integration_user": "d642dfa0"}, 409),
    ("/accounts", {"login": "demo", "password": "p"}, 409),
    ("/accounts", {"login": "x3", "password": "p", "credits": [1]}, 400),
    ("/accounts", {"login": ["x4"], "password": "p"}, 400),
    ("/accounts", {"login": "x5", "password": "p", "name": {"a": 1}}, 400),
    ("/callbacks", {"dialect": [], "kind": "status"}, 400),
    ("/faults", {"kind": "latency", "count": "x"}, 400),
    ("/faults", {"kind": "latency", "ms": 10**12}, 400),
    ("/mo", {"number": "11991110001", "text": "x", "reply_to": 5}, 400),
    ("/mo", {"number": "11991110001", "text": "\ud800"}, 400),
    ("/maintenance", {"dialects": "speedmarket"}, 400),
    ("/outcomes", ["number"], 400),
])
def test_control_bodies_of_the_wrong_type_or_duplicating(http: httpx.Client, route: str, body: object,
                                                        status: int) -> None:
    import json

    answer = http.post("/_emulator" + route, content=json.dumps(body).encode(), headers=JSON)
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()


@pytest.mark.usefixtures("quiet_log")
@pytest.mark.parametrize("route", ["/journal", "/messages"])
def test_control_query_integers_beyond_sqlite(http: httpx.Client, route: str) -> None:
    for params in ({"limit": BIG}, {"limit": "0"}, {"limit": "ten"}):
        assert http.get("/_emulator" + route, params=params).status_code == 400, params
    assert http.get("/_emulator" + route, params={"limit": "5"}).status_code == 200


def test_an_undocumented_method_is_405_with_allow(emulator: Emulator, http: httpx.Client) -> None:
    answer = http.request("PATCH", "/_emulator/clock")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, POST"
    assert http.get("/_emulator/nothing").status_code == 404
    too_large = http.post("/_emulator/clock", content=b" " * (17 * 1024 * 1024), headers=JSON)
    assert too_large.status_code == 413                                          # documented as TooLarge


@pytest.mark.usefixtures("quiet_log")
def test_a_non_ascii_bearer_token_is_a_wrong_token_and_cannot_be_created(http: httpx.Client) -> None:
    """RFC 6750 § 2.1: a Bearer token is a b64token, ASCII. The emulator reads header bytes as Latin-1, so a
    UTF-8 token arriving raw is answered as any wrong token (401), and the control API creates none."""
    for raw in ("Bearer tökén".encode("utf-8"), "Bearer tökén".encode("latin-1"), b"Bearer \xff\xfe"):
        answer = http.post("/", json={"acao": "saldo"}, headers={"authorization": raw})
        assert answer.status_code == 401, answer.text
    refused = http.post("/_emulator/accounts", json={"login": "tk1", "password": "p", "token": "tökén"})
    assert refused.status_code == 400 and "token" in refused.json()["error"]
    made = http.post("/_emulator/accounts", json={"login": "tk2", "password": "p", "token": "abc-DEF_1.2~3+4/5=="})
    assert made.status_code == 200
    assert http.post("/", json={"acao": "saldo"}, headers={"authorization": "Bearer abc-DEF_1.2~3+4/5=="}
                     ).status_code == 200


def test_the_suite_control_client_speaks_the_documented_control_api(emulator: Emulator) -> None:
    """Every call of ControlClient (the suite's) passes the control API's schema checks."""
    from smsconform.conformance.control import ControlClient

    client = ControlClient(emulator.base_url + "/_emulator")
    try:
        client.advance(1)
        client.set_outcome("11991110002", "undelivered")
        client.register_callback("mensagem", "status", None)
        client.register_callback("speedmarket", "status", "http://127.0.0.1:9/cb")
        client.inject_mo("11991110001", "SIM")
        client.inject_mo("11991110001", "SIM", dialect="speedmarket")
        client.credits(10)
        client.maintenance([])
        assert client.accounts() and client.messages() == [] and client.now() > 0
    finally:
        client.close()


@pytest.mark.usefixtures("quiet_log")
def test_a_schedule_or_timezone_that_is_an_object_or_a_list_is_refused(http: httpx.Client) -> None:
    """Found by Schemathesis (send-multiple, 100 examples): a JSON object or list as schedule or timezone
    was used as a cache key. Each is refused with its documented code, 040 or 140."""
    for field, value, code in (("schedule", {"a": 1}, "040"), ("schedule", [1], "040"),
                               ("timezone", {"a": 1}, "140"), ("timezone", [], "140")):
        body = {"messages": [{"type": 0, "number": "11991110001", "content": "x", field: value}]}
        answer = http.post("/webservice-rest/send-multiple", auth=DEMO, json=body)
        assert answer.status_code == 200 and code in answer.text, (field, value, answer.text)
