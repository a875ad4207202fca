"""The control API against hostile web pages and shared setups: cross-site requests, DNS rebinding, a
control token, callback targets (SSRF), and a journal that keeps no credential."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from smsconform.conformance.control import ControlClient
from smsconform.conformance.emulator_target import credentials_for
from smsconform.contracts import load_contracts
from smsconform.emulator import callback_targets, mock
from smsconform.emulator.guard import TOKEN_HEADER
from smsconform.emulator.server import Emulator

JSON = {"content-type": "application/json"}
ADVANCE = b'{"advance": 60}'


def _epoch(http: httpx.Client) -> float:
    return http.get("/_emulator/clock").json()["epoch"]


@pytest.mark.parametrize("headers, body, status", [
    ({"content-type": "text/plain"}, ADVANCE, 415),                       # a cross-site fetch or form
    ({"content-type": "application/x-www-form-urlencoded"}, ADVANCE, 415),
    ({"content-type": "multipart/form-data; boundary=x"}, ADVANCE, 415),
    ({}, ADVANCE, 415),                                                   # a body that says nothing
    (JSON | {"origin": "http://evil.example"}, ADVANCE, 403),
    (JSON | {"origin": "null"}, ADVANCE, 403),
    (JSON | {"host": "evil.example"}, ADVANCE, 403),                      # DNS rebinding
    (JSON | {"host": "127.0.0.1.evil.example:2738"}, ADVANCE, 403),
    (JSON | {"sec-fetch-site": "cross-site"}, ADVANCE, 403),
], ids=["text/plain", "form", "multipart", "no type", "foreign origin", "null origin", "foreign host",
        "lookalike host", "cross-site"])
def test_cross_site_and_rebinding_requests_change_nothing(http: httpx.Client, headers: dict[str, str],
                                                          body: bytes, status: int) -> None:
    before = _epoch(http)
    answer = http.post("/_emulator/clock", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()
    assert _epoch(http) == before


def test_a_foreign_host_cannot_read_either(http: httpx.Client) -> None:
    assert http.get("/_emulator/journal", headers={"host": "rebound.example"}).status_code == 403


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:2738", "console.localhost", "127.0.0.2", "[::1]:1"])
def test_loopback_names_and_same_origin_pages_are_served(emulator: Emulator, http: httpx.Client, host: str) -> None:
    assert http.get("/_emulator/clock", headers={"host": host}).status_code == 200
    own = f"127.0.0.1:{emulator.port}"
    moved = http.post("/_emulator/clock", content=ADVANCE,
                      headers=JSON | {"host": own, "origin": f"http://{own}", "sec-fetch-site": "same-origin"})
    assert moved.status_code == 200, moved.text
    assert http.post("/_emulator/reset").status_code == 200            # curl -X POST, no body, no type


def test_provider_dialects_stay_open_to_any_client(http: httpx.Client) -> None:
    """A provider's API is called from anywhere: the guard is the control API's only."""
    answer = http.get("/sms/send", params={"u": "d642dfa0", "n": "11991110001", "m": "x"},
                      headers={"origin": "http://evil.example", "host": "sms.provider.example"})
    assert answer.text.startswith("1;")


def test_a_control_token_is_required_when_set(tmp_path: Path) -> None:
    emu = Emulator(db=tmp_path / "e.sqlite3", port=0, smpp_port=0, frozen=True, control_token="s3cr3t-t0ken")
    with emu.running(), httpx.Client(base_url=emu.base_url, trust_env=False, timeout=10) as http:
        assert http.get("/_emulator/clock").status_code == 401
        assert http.post("/_emulator/reset", headers={TOKEN_HEADER: "wrong"}).status_code == 401
        assert http.get("/_emulator/clock", headers={TOKEN_HEADER: "s3cr3t-t0ken"}).status_code == 200
        assert http.get("/_emulator/clock", params={"token": "s3cr3t-t0ken"}).status_code == 200   # EventSource
        assert http.post("/_emulator/reset", params={"token": "s3cr3t-t0ken"}).status_code == 401    # GET only
        client = ControlClient(emu.base_url + "/_emulator", token="s3cr3t-t0ken")
        before = client.now()
        client.advance(30)
        assert client.now() == before + 30
        client.close()
        assert http.get("/sms/crdtf", params={"u": "d642dfa0"}).text.startswith("1;")  # dialects need none


def test_the_suite_client_takes_the_token_from_the_environment(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMSCONFORM_CONTROL_TOKEN", "from-env")
    emu = Emulator(db=tmp_path / "e.sqlite3", port=0, smpp_port=0, frozen=True, control_token="from-env")
    with emu.running():
        client = ControlClient(emu.base_url + "/_emulator")
        assert client.accounts()
        client.close()


def test_the_mock_sends_its_token_and_refuses_calls_without_it() -> None:
    with mock(frozen=True, control_token="mock-token") as handle:
        assert handle.control("POST", "/clock", {"advance": 5})["frozen"] is True
        assert httpx.get(handle.base_url + "/_emulator/clock").status_code == 401
        assert httpx.get(handle.base_url + "/_emulator/clock", headers={TOKEN_HEADER: "mock-token"}).status_code == 200
    with mock("https://sandbox.example", frozen=True) as handle:      # a mocked host is the mock's own address
        assert httpx.get("https://sandbox.example/_emulator/health").json() == {"ok": True}


def test_a_non_ascii_token_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ASCII"):
        Emulator(db=tmp_path / "e.sqlite3", port=0, smpp_port=0, control_token="senhã")
    done = subprocess.run([sys.executable, "-m", "smsconform.cli", "emulator", "--db", ":memory:", "--port", "0",
                           "--smpp-port", "0", "--control-token", "senhã"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "ASCII" in done.stderr and "Traceback" not in done.stderr


def test_a_non_loopback_bind_without_token_is_loud(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="smsconform.emulator"):
        Emulator(db=tmp_path / "a.sqlite3", host="0.0.0.0", port=0, smpp_port=0).core.store.close()
    assert any("WARNING" in r.getMessage() and "--control-token" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="smsconform.emulator"):
        Emulator(db=tmp_path / "b.sqlite3", host="0.0.0.0", port=0, smpp_port=0, control_token="t").core.store.close()
        Emulator(db=tmp_path / "c.sqlite3", host="127.0.0.1", port=0, smpp_port=0).core.store.close()
    assert not caplog.records


@pytest.mark.parametrize("url, status", [
    ("http://169.254.169.254/latest/meta-data/", 409), ("http://[::ffff:169.254.169.254]/", 409),
    ("http://10.0.0.1/admin", 409), ("http://internal.example/cb", 409), ("http://user:pw@127.0.0.1/cb", 409),
    ("http://127.0.0.1:99999/cb", 409), ("http:///nohost", 409),
    ("file:///etc/passwd", 400), ("gopher://127.0.0.1:25/", 400), (42, 400),
])
def test_callback_urls_that_could_forge_requests_are_refused(http: httpx.Client, url: object, status: int) -> None:
    """Not http(s) breaks the schema (400); a URL the emulator's configuration will not call is 409."""
    answer = http.post("/_emulator/callbacks", json={"dialect": "mensagem", "kind": "status", "url": url})
    assert answer.status_code == status, answer.text
    assert "url" in answer.json()["error"]


def test_loopback_callbacks_and_listed_hosts_are_allowed(http: httpx.Client) -> None:
    for url in ("http://127.0.0.1:9/cb", "http://localhost:9/cb", "https://[::1]:9/cb", None):
        answer = http.post("/_emulator/callbacks", json={"dialect": "mensagem", "kind": "status", "url": url})
        assert answer.status_code == 200, answer.text
    assert callback_targets.refusal("http://host.docker.internal:8000/cb", "host.docker.internal") is None
    assert callback_targets.refusal("http://10.1.2.3/cb", "10.0.0.0/8") is None
    assert callback_targets.refusal("http://anything.example/cb", "*") is None
    assert callback_targets.refusal("http://169.254.169.254/", "*") is not None     # never the metadata service


def test_painel_url_callback_to_a_forbidden_host_is_not_called(emulator: Emulator, http: httpx.Client) -> None:
    sent = http.get("/painel/api.ashx", params={"action": "sendsms", "lgn": "demo", "pwd": "demo123", "msg": "oi",
                                                "numbers": "11991110001", "url_callback": "http://169.254.169.254/x"})
    assert sent.status_code == 200
    http.post("/_emulator/clock", json={"advance": 600})
    import time

    deadline = time.monotonic() + 10
    errors: list[str] = []
    while time.monotonic() < deadline and not errors:
        errors = [i["last_error"] for i in http.get("/_emulator/outbox").json() if i["last_error"]]
        time.sleep(0.05)
    assert errors and all(e.startswith("not called:") for e in errors), errors


def test_the_journal_keeps_no_speedmarket_password_in_a_json_body(http: httpx.Client) -> None:
    http.post("/webservice-rest/send-single", json={"user": "demo", "password": "demo123", "type": 0,
                                                    "number": "11991110001", "content": "oi"})
    http.post("/webservice-rest/send-single", json={"USER": "demo", "Password": "demo123", "type": 0})
    http.post("/webservice-rest/send-single", json={"x": "DEMO123", "y": "basic ZGVtbzpkZW1vMTIz"},
              headers={"authorization": "Basic ZGVtbzpkZW1vMTIz"})
    journal = http.get("/_emulator/journal", params={"dialect": "speedmarket"}).json()
    assert len(journal) == 3
    text = str(journal)
    assert "demo123" not in text.lower() and "ZGVtbzpkZW1vMTIz" not in text
    assert '"password":"***"' in journal[0]["body"] and '"Password":"***"' in journal[1]["body"]



def _inline(table: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{key} = {json.dumps(value)}" for key, value in table.items()) + " }"


def test_a_token_guarded_emulator_is_certified_with_the_token_from_the_environment(tmp_path: Path) -> None:
    """Every client of the suite that steers the target (the clock, an injected MO, a paced turn) goes
    through the run's one control client, which carries $SMSCONFORM_CONTROL_TOKEN: none calls the control
    API on its own without it (wbsapi's inBox, painel's and ServiceSms's turns, speedmarket's clock did)."""
    profile = load_contracts().emulator_profile
    dialects = ("wbsapi", "painel", "speedmarket", "servicesms")
    emu = Emulator(db=tmp_path / "e.sqlite3", port=0, smpp_port=0, frozen=True, control_token="t0ken-of-the-ci")
    with emu.running():
        lines = ['name = "guarded-emulator"']
        for dialect in dialects:
            lines += [f"[dialects.{dialect}]", f'base_url = "{emu.base_url}"',
                      f"credentials = {_inline(credentials_for(profile['accounts']['main'])[dialect])}"]
        lines += ["[fixtures.numbers]"] + [f"{key} = {json.dumps(value)}" for key, value in profile["numbers"].items()]
        lines += ["[time]", 'mode = "control"', f'control_url = "{emu.base_url}/_emulator"']
        target = tmp_path / "guarded.toml"
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMSCONFORM_"))}
        env["SMSCONFORM_CONTROL_TOKEN"] = "t0ken-of-the-ci"
        run = subprocess.run([sys.executable, "-m", "smsconform.cli", "certify", "--target", str(target),
                              "--reports", str(tmp_path / "reports"), "-k", STEERED]
                             + [f"--dialect={d}" for d in dialects],
                             env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    results = json.loads((tmp_path / "reports" / "results.json").read_text(encoding="utf-8"))
    passed = {t["nodeid"] for t in results["tests"] if t["outcome"] == "passed"}
    for word in ("inbox", "getstatus", "speedmarket"):
        assert any(word in nodeid.lower() for nodeid in passed), (word, sorted(passed))


STEERED = "inbox or InBox or getstatus or GetStatus or (speedmarket and (window or date or mt_date))"
