"""The emulator's mensagem API through the real server: flows, lifecycle, credits, callbacks, restarts."""
from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from smsconform.emulator.core.clock import BRT

VALID = ["11991110001", "21991110002", "31991110003"]


def send(http: httpx.Client, **params: str) -> str:
    response = http.get("/sms/send", params={"u": "d642dfa0", **params})
    assert response.status_code == 200
    return response.text


def test_send_answers_its_md5_protocol_and_moves_along_the_lifecycle(http, control) -> None:
    answer = send(http, n=VALID[0], m="Olá, mundo")
    code, digest = answer.split(";")
    assert code == "1" and len(digest) == 32 and int(digest, 16) >= 0
    states = lambda: [h["state"] for h in control("GET", "/messages", hash=digest)[0]["history"]]  # noqa: E731
    assert states() == ["waiting"]
    control("POST", "/clock", {"advance": 1})
    assert states() == ["waiting", "queued"]
    control("POST", "/clock", {"advance": 2})
    assert states() == ["waiting", "queued", "sent"]
    control("POST", "/clock", {"advance": 60})
    assert states() == ["waiting", "queued", "sent", "delivered"]


def test_scheduled_message_waits_and_cancel_refunds(http, control) -> None:
    now = datetime.fromisoformat(control("GET", "/clock")["now"])
    before = http.get("/sms/crdtf", params={"u": "d642dfa0"}).text.split(";")
    when = (now + timedelta(hours=1)).astimezone(BRT).strftime("%Y-%m-%d %H:%M:%S")
    digest = send(http, n=VALID[1], m="agendada", d=when).split(";")[1]
    control("POST", "/clock", {"advance": 1800})
    assert control("GET", "/messages", hash=digest)[0]["state"] == "waiting"
    during = http.get("/sms/crdtf", params={"u": "d642dfa0"}).text.split(";")
    assert int(during[4]) == int(before[4]) - 1
    lines = http.get("/sms/cacl", params={"u": "d642dfa0", "h": digest}).text.splitlines()
    fields = lines[0].split(";")
    assert fields[:3] == [digest, "9", "CANCELADO"] and fields[4] == VALID[1]
    after = http.get("/sms/crdtf", params={"u": "d642dfa0"}).text.split(";")
    assert int(after[4]) == int(before[4])
    control("POST", "/clock", {"advance": 7200})
    assert control("GET", "/messages", hash=digest)[0]["state"] == "cancelled"


def test_cancel_after_sending_does_not_cancel(http, control) -> None:
    digest = send(http, n=VALID[0], m="já foi").split(";")[1]
    control("POST", "/clock", {"advance": 5})
    fields = http.get("/sms/cacl", params={"u": "d642dfa0", "h": digest}).text.split(";")
    assert fields[1:3] == ["1", "ENVIADO"]
    unknown = http.get("/sms/cacl", params={"u": "d642dfa0", "h": "0" * 32}).text.split(";")
    assert unknown[1:3] == ["255", "MENSAGEM NAO ENCONTRADA"]


def test_credits_are_debited_per_part(http, control) -> None:
    before = int(http.get("/sms/crdtf", params={"u": "d642dfa0"}).text.split(";")[4])
    send(http, n=VALID[0], m="a" * 161)           # GSM 03.38: 2 parts
    send(http, n=VALID[0], m="ç" * 71)            # UCS-2: 2 parts
    send(http, n=VALID[0], m="ç" * 70)            # UCS-2: 1 part
    after = int(http.get("/sms/crdtf", params={"u": "d642dfa0"}).text.split(";")[4])
    assert before - after == 5


def test_single_quote_becomes_a_space(http, control) -> None:
    digest = send(http, n=VALID[0], m="d'agua").split(";")[1]
    assert control("GET", "/messages", hash=digest)[0]["parts"] == 1
    journal = control("GET", "/journal", path="/sms/send")
    assert journal[-1]["status"] == 200


def test_mult_layouts_and_limits(http) -> None:
    numbers = [f"1198{i:07d}" for i in range(1000)]  # clear of the reserved 119900000xx
    ok = http.get("/sms/mult", params={"u": "d642dfa0", "n": ";".join(numbers), "m": "lote"}).text.splitlines()
    assert len(ok) == 1000 and all(line.startswith("1;") for line in ok)
    too_many = http.get("/sms/mult", params={"u": "d642dfa0", "n": ";".join(numbers + ["11991110001"]), "m": "x"})
    assert too_many.text == "88;QUANTIDADE MAXIMA DE TELEFONES EXCEDIDA"
    one = http.get("/sms/mult", params={"u": "d642dfa0", "n": VALID[0], "m": "x"})
    assert one.text == "87;QUANTIDADE DE TELEFONES A BAIXO DO LIMITE MINIMO"
    layout1 = http.get("/sms/mult", params={
        "u": "d642dfa0", "l": "1", "c": f"{VALID[0]}|Primeira|544;{VALID[1]}|Segunda;11990000090|Terceira|546"})
    lines = layout1.text.splitlines()
    assert lines[0].startswith("1;") and lines[1].startswith("1;")
    assert lines[2] == "90;NUMERO DE TELEFONE EM BLACKLIST;11990000090"
    assert http.get("/sms/mult", params={"u": "d642dfa0", "l": "2", "c": "x"}).text == "86;LAYOUT INESPERADO"


def test_discontinued_queries_answer_out_of_date(http) -> None:
    for function in ("stat", "stam", "recv"):
        assert http.get(f"/sms/{function}", params={"h": "12d609dddeccd59e392b8e2374f52d1a"}).text == "OUT-OF-DATE"


def test_user_and_cost_centre_administration(http) -> None:
    added = http.get("/sms/cadus", params={"u": "d642dfa0", "n": "Eduardo Moreira", "d": "eduardo_moreira",
                                            "p": "edu1982mrr", "t": "0"}).text.split(";")
    assert added[0] == "1" and added[1].isdigit()
    again = http.get("/sms/cadus", params={"u": "d642dfa0", "n": "X", "d": "eduardo_moreira", "p": "y"}).text
    assert again == "-1;LOGIN DE USUARIO JA CADASTRADO NA PLATAFORMA"
    bad = http.get("/sms/cadus", params={"u": "d642dfa0", "n": "X", "d": "com espaço", "p": "y"}).text
    assert bad.startswith("-2;")
    changed = http.get("/sms/altus", params={"u": "d642dfa0", "id": added[1], "s": "0"}).text
    assert changed.startswith("1;")
    users = http.get("/sms/cnus", params={"u": "d642dfa0"}).text.splitlines()
    assert f"1;{added[1]};0;eduardo_moreira;Eduardo Moreira;0;" in users
    centre = http.get("/sms/cict", params={"u": "d642dfa0", "d": "Centro Via WebService",
                                            "e": "responsavel@empresa.com.br"}).text.split(";")
    assert centre[0].isdigit()
    centres = http.get("/sms/crctn", params={"u": "d642dfa0"}).text.splitlines()
    assert f"1;{centre[0]};Centro Via WebService;1;responsavel@empresa.com.br;" in centres
    levels = http.get("/sms/cnnvl", params={"u": "d642dfa0"}).text.splitlines()
    assert "1;0;USUARIO;" in levels


def test_bad_input_never_gets_a_5xx(http) -> None:
    assert http.get("/sms/nope", params={"u": "d642dfa0"}).status_code == 404
    assert http.get("/sms/send").status_code == 200
    assert http.post("/sms/send", content=bytes(range(256)) * 10).status_code == 200
    huge = http.get("/sms/send", params={"u": "d642dfa0", "n": VALID[0], "m": "x" * 20000})
    assert huge.text == "84;QUANTIDADE MAXIMA DE CARACTERES EXCEDIDA"
    latin1 = http.get("/sms/send?u=d642dfa0&n=11991110001&m=a%E7%E3o")  # ISO-8859-1 client
    assert latin1.text.startswith("1;")
    assert send(http, n=VALID[0], m="x", f="²") == "83;MODALIDADE DE ENVIO NAO PERMITIDA"
    assert send(http, n=VALID[0], m="x", id="não-uuid") == "95;REGISTRO INVALIDO"


class FlakyReceiver(http.server.BaseHTTPRequestHandler):
    """Fails every callback's first two attempts, then accepts; records what arrived."""

    attempts: dict[str, int] = {}
    received: list[dict[str, list[str]]] = []
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802
        query = parse_qs(urlparse(self.path).query)
        key = f"{query.get('md5')}{query.get('type')}{query.get('status')}"
        with self.lock:
            self.attempts[key] = self.attempts.get(key, 0) + 1
            ok = self.attempts[key] > 2
            if ok:
                self.received.append(query)
        self.send_response(200 if ok else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_callbacks_survive_a_failing_receiver_and_arrive_once(http, control) -> None:
    import http.server as hs

    receiver = hs.ThreadingHTTPServer(("127.0.0.1", 0), FlakyReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/callback"
    try:
        control("POST", "/callbacks", {"dialect": "mensagem", "kind": "status", "url": url})
        control("POST", "/callbacks", {"dialect": "mensagem", "kind": "dlr", "url": url})
        digests = [send(http, n=n, m="callback", id=f"ext-{i}").split(";")[1] for i, n in enumerate(VALID)]
        control("POST", "/clock", {"advance": 60})
        deadline = time.time() + 20
        while time.time() < deadline and len(FlakyReceiver.received) < 6:
            time.sleep(0.2)
        got = [(q["md5"][0], q["type"][0], q["status"][0]) for q in FlakyReceiver.received]
        assert sorted(got) == sorted([(d, "2", "1") for d in digests] + [(d, "3", "2") for d in digests])
        assert len(set(got)) == len(got)  # once each
        sample = next(q for q in FlakyReceiver.received if q["type"] == ["2"])
        assert set(sample) == {"msisdn", "status", "date", "type", "md5", "uuid"}
        time.sleep(1.5)
        assert len(FlakyReceiver.received) == 6  # nothing delivered twice after success
    finally:
        receiver.shutdown()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(db: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "smsconform.cli", "emulator", "--port", str(port), "--smpp-port", "0",
         "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=0.5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"emulator did not start: {process.stdout.read() if process.stdout else ''}")


def test_every_accepted_message_survives_kill_9(tmp_path: Path) -> None:
    db, port = tmp_path / "state.sqlite3", _free_port()
    process = _start(db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        digests = []
        with httpx.Client(base_url=base, timeout=5) as client:
            for i in range(200):
                answer = client.get("/sms/send", params={"u": "d642dfa0", "n": VALID[i % 3], "m": f"m{i}"}).text
                digests.append(answer.split(";")[1])
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        process = _start(db, port)
        with httpx.Client(base_url=base, timeout=5) as client:
            stored = {m["hash"] for m in client.get("/_emulator/messages", params={"limit": 1000}).json()}
        assert set(digests) <= stored
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert "stopped" in (process.stdout.read() if process.stdout else "")


def test_the_journal_keeps_no_credential(http, control) -> None:
    send(http, n=VALID[0], m="journal")
    envelope = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
                'envelope/"><soap:Body><sendUnique xmlns="http://tempuri.org/"><Identificacao>d642dfa0</Identificacao>'
                f'<Telefone>{VALID[0]}</Telefone><Mensagem>oi</Mensagem></sendUnique></soap:Body></soap:Envelope>')
    http.post("/wbsapi.asmx", content=envelope, headers={"Content-Type": "text/xml; charset=utf-8",
                                                         "SOAPAction": '"http://tempuri.org/sendUnique"'})
    journal = control("GET", "/journal")
    assert journal and "d642dfa0" not in str(journal)
    assert ["u", "***"] in journal[0]["query"]
