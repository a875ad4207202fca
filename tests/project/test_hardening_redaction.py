"""Unusual secrets (``@ : / & =`` and non-ASCII letters) sent in every encoding a request can carry them
(query string, form, JSON with any key case, XML, an HTTP Basic header, a Bearer header) and echoed
upper-cased by an answer (mensagem cnus): none survives in any file the journal, a report or a cassette
writes. Each written file is searched for every spelling of every secret, case ignored."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import vcr
import yaml

from smsconform.cassettes.scrub import Scrubber
from smsconform.contracts import load_contracts
from smsconform.emulator.core.accounts import integration_user_for
from smsconform.emulator.server import Emulator
from smsconform.reports.certify import write_reports
from smsconform.reports.collect import FAILED, Collector, TestRecord
from smsconform.reports.identity import TargetInfo
from smsconform.reports.redact import find_secrets
from smsconform.reports.results import build

LOGIN = "zoé.unusual"
PASSWORD = "Sẽ@n:h/a&=ç9"
TOKEN = "tk@:/&=Z9q-unusual"
USER = integration_user_for(LOGIN)
SECRETS = (LOGIN, PASSWORD, TOKEN, USER)
NUMBER = "11991110001"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")


def _exchanges(base: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, httpx keyword arguments): the secrets in every place and encoding a client puts them."""
    rest = f"{base}/webservice-rest"
    soap = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
            f'envelope/"><soap:Body><Status xmlns="http://tempuri.org/"><Identificacao>{USER}</Identificacao>'
            f"<Hash>{PASSWORD.replace('&', '&amp;')}</Hash></Status></soap:Body></soap:Envelope>")
    json_headers = {"content-type": "application/json"}
    return [
        ("GET", f"{rest}/send-single", {"params": {"user": LOGIN, "password": PASSWORD, "type": 0, "number": NUMBER,
                                                   "content": "oi"}}),
        ("POST", f"{rest}/send-single", {"data": {"user": LOGIN, "password": PASSWORD, "type": "0",
                                                  "number": NUMBER, "content": "form"}}),
        ("POST", f"{rest}/send-single", {"content": json.dumps({"User": LOGIN, "PASSWORD": PASSWORD, "type": 0,
                                                                "number": NUMBER, "content": "json"}).encode(),
                                         "headers": json_headers}),
        ("POST", f"{rest}/send-single", {"content": json.dumps({"user": LOGIN, "password": PASSWORD},
                                                               ensure_ascii=False).encode(), "headers": json_headers}),
        ("GET", f"{rest}/balance", {"headers": {"authorization": _basic(LOGIN, PASSWORD)}}),
        ("GET", f"{base}/painel/api.ashx", {"params": {"action": "getbalance", "lgn": LOGIN, "pwd": PASSWORD}}),
        ("POST", f"{base}/", {"json": {"acao": "saldo", "token": TOKEN},
                              "headers": {"authorization": f"Bearer {TOKEN}"}}),
        ("GET", f"{base}/sms/cnus", {"params": {"u": USER}}),                     # answers the name, upper-cased
        ("GET", f"{base}/sms/crdtf", {"params": {"U": USER}}),
        ("POST", f"{base}/wbsapi.asmx", {"content": soap.encode(), "headers": {
            "content-type": "text/xml; charset=utf-8", "soapaction": '"http://tempuri.org/Status"'}}),
    ]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    tmp = tmp_path_factory.mktemp("redaction")
    emu = Emulator(db=tmp / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    emu.core.accounts.create({"login": LOGIN, "password": PASSWORD, "token": TOKEN,
                              "credits": {"long": 1000}}, "unusual")
    with emu.running():
        yield emu


def _send_all(emulator: Emulator) -> list[dict[str, Any]]:
    """Every exchange, as a careless plugin would keep it as evidence: credentials and all."""
    evidence = []
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        for method, url, kwargs in _exchanges(emulator.base_url):
            response = http.request(method, url, **kwargs)
            request = response.request
            evidence.append({"dialect": "speedmarket", "operation": "send-single",
                             "request": {"method": method, "url": str(request.url),
                                         "headers": dict(request.headers), "body": request.content.decode()},
                             "response": {"status": response.status_code, "headers": dict(response.headers),
                                          "body": response.text}, "elapsed_ms": 1.0})
    return evidence


def _assert_clean(paths: list[Path]) -> None:
    assert paths and all(p.is_file() for p in paths)
    assert find_secrets(paths, SECRETS) == []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        assert not [s for s in SECRETS if s.lower() in text], path


def test_the_exchanges_do_carry_the_secrets(emulator: Emulator, tmp_path: Path) -> None:
    """The control for the tests below: unredacted, the evidence holds every secret, and the answer echoes
    the login upper-cased."""
    raw = tmp_path / "raw.json"
    evidence = _send_all(emulator)
    raw.write_text(json.dumps(evidence, ensure_ascii=False))
    assert len(find_secrets([raw], SECRETS)) >= 1
    assert LOGIN.upper() in raw.read_text(encoding="utf-8")
    text = raw.read_text(encoding="utf-8")
    assert all(s in text or json.dumps(s)[1:-1] in text for s in SECRETS)


def test_the_journal_keeps_no_secret(emulator: Emulator, tmp_path: Path) -> None:
    _send_all(emulator)
    journal = httpx.get(emulator.base_url + "/_emulator/journal", trust_env=False).json()
    assert len(journal) >= len(_exchanges(emulator.base_url))
    path = tmp_path / "journal.json"
    path.write_text(json.dumps(journal, ensure_ascii=False, indent=1), encoding="utf-8")
    _assert_clean([path])
    ascii_path = tmp_path / "journal-ascii.json"
    ascii_path.write_text(json.dumps(journal, indent=1), encoding="utf-8")          # \\u escapes too
    _assert_clean([ascii_path])


def test_reports_keep_no_secret(emulator: Emulator, tmp_path: Path) -> None:
    evidence = _send_all(emulator)
    record = TestRecord("tests/conformance/test_codes.py::test_code_is_answered_exactly[x]", FAILED, 0.2,
                        ["code:speedmarket.send-single.010"], "speedmarket", evidence=evidence,
                        message=f"login {LOGIN.upper()} with {PASSWORD} refused", details=f"token {TOKEN}")
    collector = Collector()
    collector.records[record.nodeid] = record
    collector.exit_status = 1
    collector.ended = collector.started + 1.0
    raw = build(collector, load_contracts(), TargetInfo("unusual", "unusual", ("speedmarket",), "control", SECRETS),
                {"dialects": ["speedmarket"]})
    results, paths = write_reports(raw, tmp_path / "reports", SECRETS, io.StringIO())
    _assert_clean(list(paths.values()))


def test_cassettes_keep_no_secret(emulator: Emulator, tmp_path: Path) -> None:
    scrubber = Scrubber(SECRETS, keep=(emulator.base_url + "/",), drop=(emulator.base_url + "/_emulator",))
    recorder = vcr.VCR(record_mode="all", **scrubber.vcr_options())
    cassette = tmp_path / "cassette.yaml"
    with recorder.use_cassette(str(cassette)):
        _send_all(emulator)
    assert cassette.read_text(encoding="utf-8").count("uri:") == len(_exchanges(emulator.base_url))
    _assert_clean([cassette])
    # YAML may hold a body as !!binary (Base64) or with \\x escapes, where no grep sees a secret: read it
    # back and search what it decodes to.
    decoded = tmp_path / "cassette-decoded.txt"
    decoded.write_text("\n".join(_strings(yaml.safe_load(cassette.read_text(encoding="utf-8")))), encoding="utf-8")
    _assert_clean([decoded])


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, bytes):
        yield node.decode("utf-8", "replace")
    elif isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def test_the_journal_cuts_a_long_query_and_still_hides_the_credential() -> None:
    """Issue 15: a mult's 12 KB query is kept cut to JOURNAL_BYTES (else 10,000 entries hold 300 MB), and the
    cut entry is still redacted."""
    from urllib.parse import urlencode

    from smsconform.emulator.app import JOURNAL_BYTES, EmulatorApp
    from smsconform.emulator.core import Core
    from smsconform.emulator.http import Request

    core = Core(":memory:", frozen=True)
    app = EmulatorApp(core)
    user = core.fixture_principal("main")
    u = core.store.db.execute("SELECT integration_user FROM users WHERE id = ?", (user.user_id,)).fetchone()[0]
    numbers = ";".join(f"1198{i:07d}" for i in range(1000))
    app.handle(Request("GET", "/sms/mult", urlencode({"u": u, "m": "longa", "n": numbers}).encode(),
                       {"host": "127.0.0.1"}))
    [kept] = list(app.journal)
    assert len(kept[3].query_string) == JOURNAL_BYTES
    [entry] = app.journal_entries()
    query = dict(entry["query"])
    assert query["u"] == "***" and query["m"] == "longa" and numbers.startswith(query["n"])
    assert u not in json.dumps(entry)
