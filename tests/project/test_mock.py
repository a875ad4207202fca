"""The in-process mocks: the same client code gets the same answers through `mock()` as through the real
server, with httpx and with requests; decorator, context manager and fixture; pass-through; faults."""
from __future__ import annotations

import asyncio
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import requests

from smsconform.contracts import load_contracts
from smsconform.emulator import mock
from smsconform.emulator.mock import EmulatorMock, emulator_mock_fixture
from smsconform.emulator.server import Emulator

PROFILE = load_contracts().emulator_profile
VALID = PROFILE["numbers"]["valid"]
DEMO = ("demo", "demo123")
TOKEN = {"Authorization": "Bearer " + PROFILE["accounts"]["main"]["token"]}
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2})?")
MD5 = re.compile(r"\b[0-9a-f]{32}\b")
EPOCH = re.compile(r'"epoch":[0-9.]+')


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path_factory.mktemp("mock") / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


class Receiver:
    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        received = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                received.append(dict(parse_qsl(urlsplit(self.path).query)))
                body = b"receiver ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()


# -- one client, two libraries ------------------------------------------------------------------------

Call = Callable[..., tuple[int, str, str]]


def httpx_call(method: str, url: str, **kw: Any) -> tuple[int, str, str]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        r = client.request(method, url, **kw)
        return r.status_code, r.headers.get("content-type", ""), r.text


def requests_call(method: str, url: str, **kw: Any) -> tuple[int, str, str]:
    if "content" in kw:
        kw["data"] = kw.pop("content")
    with requests.Session() as session:
        session.trust_env = False
        r = session.request(method, url, timeout=10, **kw)
        r.encoding = "utf-8"
        return r.status_code, r.headers.get("content-type", ""), r.text


LIBRARIES = {"httpx": httpx_call, "requests": requests_call}


def client_session(call: Call, base: str) -> list[tuple[int, str, str]]:
    """What a client does against a provider; only the base URL changes between server and mock."""
    rest = f"{base}/webservice-rest"
    out = [
        call("GET", f"{rest}/send-single", params={"user": "demo", "password": "demo123", "type": 0,
                                                   "number": VALID[0], "content": "Olá", "campaign_id": "a1"}),
        call("POST", f"{rest}/send-single.php", auth=DEMO, data={"type": "2", "number": VALID[1], "content": "form"}),
        call("POST", f"{rest}/send-multiple", auth=DEMO, content=b'{"defaultValues": {"type": 0}, "messages": '
             b'[{"number": "' + VALID[2].encode() + b'", "content": "x"}, {"number": "20991110091", "content": "y"}]}'),
        call("POST", f"{rest}/send-multiple", auth=DEMO, content=b"\x00junk"),
        call("GET", f"{rest}/nope"),
        call("POST", f"{base}/_emulator/clock", json={"advance": 60}),
        call("GET", f"{rest}/mt_id", auth=DEMO, params={"id": "1,2,3"}),
        call("GET", f"{base}/painel/api.ashx", params={"action": "sendsms", "lgn": "demo", "pwd": "demo123",
                                                      "msg": "Feliz Natal", "numbers": f"{VALID[3]},2099"}),
        call("GET", f"{base}/painel/api.ashx", params={"action": "getstatus", "lgn": "demo", "pwd": "demo123", "id": 1}),
        call("GET", f"{base}/painel/api.ashx", params={"action": "getstatus", "lgn": "demo", "pwd": "demo123", "id": 1}),
        call("GET", f"{base}/painel/api.ashx", params={"action": "voar"}),
        call("POST", f"{base}/webhook/api-sms", headers=TOKEN, json={"acao": "saldo"}),
        call("POST", f"{base}/", headers=TOKEN, json={"acao": "enviar", "recipient": "55" + VALID[4], "text": "oi"}),
        call("POST", f"{base}/", headers={"Authorization": "Bearer x"}, json={"acao": "saldo"}),
        call("GET", f"{base}/sms/send", params={"u": "d642dfa0", "n": VALID[0], "m": "mensagem"}),
        call("POST", f"{base}/_emulator/faults", json={"kind": "http500", "count": 1}),
        call("GET", f"{base}/sms/crdtf", params={"u": "d642dfa0"}),
        call("GET", f"{base}/sms/crdtf", params={"u": "d642dfa0"}),
        call("GET", f"{base}/_emulator/messages", params={"dialect": "speedmarket"}),
    ]
    return [(status, ctype.split(";")[0], EPOCH.sub('"epoch":0', MD5.sub("<md5>", TIME.sub("<time>", body)))) for status, ctype, body in out]


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_same_answers_through_mock_and_server(emulator: Emulator, library: str) -> None:
    call = LIBRARIES[library]
    assert call("POST", emulator.base_url + "/_emulator/reset")[0] == 200
    through_server = client_session(call, emulator.base_url)
    with mock(frozen=True) as handle:
        through_mock = client_session(call, handle.base_url)
    assert through_mock == through_server
    statuses = [status for status, _, _ in through_mock]
    assert 500 in statuses and 401 in statuses                        # the fault and the refusal are real
    assert through_mock[0][2].startswith('{"success":true,"responseCode":"000"')


def test_no_socket_is_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the mock opened a socket")

    with mock(frozen=True):
        monkeypatch.setattr(socket.socket, "connect", refuse)
        assert httpx.get("http://127.0.0.1:2738/_emulator/health").json() == {"ok": True}
        assert requests.get("http://127.0.0.1:2738/_emulator/health").json() == {"ok": True}


def test_state_clock_and_control_are_shared_by_both_libraries() -> None:
    with mock(frozen=True) as handle:
        sent = httpx.get("http://127.0.0.1:2738/webservice-rest/send-single", auth=DEMO,
                         params={"type": 0, "number": VALID[0], "content": "x"}).json()
        found = requests.get("http://127.0.0.1:2738/webservice-rest/mt_id", auth=DEMO, params={"id": sent["id"]}).json()
        assert found["messages"][0]["status"] == "-1"
        handle.advance(60)
        assert handle.control("GET", "/messages")[0]["state"] == "delivered"
        found = requests.get("http://127.0.0.1:2738/webservice-rest/mt_id", auth=DEMO, params={"id": sent["id"]}).json()
        assert found["messages"][0]["status"] == "1"
        assert handle.core is not None and handle.app is not None and handle.core.clock.frozen
        assert len(handle.core.messages()) == 1


def test_each_entry_is_a_fresh_emulator() -> None:
    handle = mock(frozen=True)
    for _ in range(2):
        with handle:
            answer = httpx.get("http://127.0.0.1:2738/webservice-rest/send-single", auth=DEMO,
                               params={"type": 0, "number": VALID[0], "content": "x"}).json()
            assert answer["id"] == "1"


@mock("http://127.0.0.1:2738", "http://54.233.99.254", frozen=True)
def test_decorator_with_more_urls(sms_emulator: EmulatorMock) -> None:
    assert isinstance(sms_emulator, EmulatorMock) and sms_emulator.active
    assert httpx.get("http://54.233.99.254/webservice-rest/balance", auth=DEMO).json()["responseCode"] == "200"
    assert requests.get("http://127.0.0.1:2738/webservice-rest/balance", auth=DEMO).json()["responseCode"] == "200"


@mock()
def test_decorator_without_handle() -> None:
    assert requests.post("http://127.0.0.1:2738/", json={"acao": "saldo"}, headers=TOKEN).status_code == 200


def test_async_decorator() -> None:
    @mock("https://n8n.fcati.com.br", frozen=True)
    async def client(sms_emulator: EmulatorMock) -> dict[str, Any]:
        async with httpx.AsyncClient() as session:
            response = await session.post("https://n8n.fcati.com.br/webhook/api-sms", headers=TOKEN,
                                          json={"acao": "enviar", "recipient": "55" + VALID[0], "text": "async"})
            return response.json()

    assert asyncio.run(client())["messageId"] == "1"


def test_base_url_with_a_path_prefix() -> None:
    with mock("http://gateway.test/api/v1"):
        answer = httpx.get("http://gateway.test/api/v1/webservice-rest/balance", auth=DEMO).json()
        assert answer["responseCode"] == "200"
        assert requests.get("http://gateway.test/api/v1/painel/api.ashx?action=x").text == "0:OPERACAO INVALIDA"


def test_other_urls_pass_through(receiver: Receiver) -> None:
    with mock():
        assert httpx.get(receiver.url + "/ping").text == "receiver ok"
        assert requests.get(receiver.url + "/ping").text == "receiver ok"


def test_other_urls_refused_without_pass_through(receiver: Receiver) -> None:
    with mock(passthrough=False):
        with pytest.raises(Exception):
            httpx.get(receiver.url + "/ping")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(receiver.url + "/ping")
        with pytest.raises(requests.exceptions.ConnectionError):    # a longer port is another address
            requests.get("http://127.0.0.1:27380/_emulator/health")


def test_dropped_connection_and_latency_faults() -> None:
    with mock() as handle:
        handle.control("POST", "/faults", {"kind": "drop", "count": 2})
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get("http://127.0.0.1:2738/webservice-rest/balance", auth=DEMO)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get("http://127.0.0.1:2738/webservice-rest/balance", auth=DEMO)
        assert httpx.get("http://127.0.0.1:2738/webservice-rest/balance", auth=DEMO).status_code == 200
        handle.control("POST", "/faults", {"kind": "latency", "ms": 150, "count": 1})
        elapsed = httpx.get("http://127.0.0.1:2738/webservice-rest/balance", auth=DEMO).elapsed.total_seconds()
        assert elapsed >= 0.15


def test_callbacks_are_delivered_to_real_receivers(receiver: Receiver) -> None:
    receiver.calls.clear()
    with mock(frozen=True) as handle:
        handle.control("POST", "/callbacks", {"dialect": "speedmarket", "kind": "status", "url": receiver.url + "/cb"})
        blocked = requests.get("http://127.0.0.1:2738/webservice-rest/send-single", auth=DEMO,
                               params={"type": 0, "number": PROFILE["numbers"]["blacklisted"], "content": "x"}).json()
        sent = httpx.get("http://127.0.0.1:2738/webservice-rest/send-single", auth=DEMO,
                         params={"type": 0, "number": VALID[0], "content": "x"}).json()
        assert receiver.calls == []                  # queued (001's preparation level): nothing is called back
        handle.advance(3)                            # at the operator, or blocked there (-1 -> 3 -> -5)
        assert sorted((c["id"], c["status"]) for c in receiver.calls) == sorted([(blocked["id"], "-5"),
                                                                                 (sent["id"], "0")])
        handle.advance(10)
        assert [c["status"] for c in receiver.calls if c["id"] == sent["id"]] == ["0", "1"]
        assert handle.control("GET", "/outbox")[-1]["delivered_at"] is not None


def test_fixture_generator_and_patches_removed() -> None:
    generator = emulator_mock_fixture()
    handle = next(generator)
    assert handle.active and handle.core is not None and handle.core.clock.frozen
    assert httpx.get("http://127.0.0.1:2738/_emulator/health").json() == {"ok": True}
    with pytest.raises(StopIteration):
        next(generator)
    assert not handle.active
    with mock("http://127.0.0.1:1"):
        assert httpx.get("http://127.0.0.1:1/_emulator/health").status_code == 200
    with pytest.raises(httpx.ConnectError):                             # nothing listens there without the mock
        httpx.get("http://127.0.0.1:1/_emulator/health", timeout=2)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://127.0.0.1:1/_emulator/health", timeout=2)
