"""The SMPP server under hostile or silent peers (issue 14): the profile's link_timers, connections and
bind_failures, on a server of its own with short timers, over real sockets."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from smsconform.contracts import load_contracts
from smsconform.emulator.core import Core
from smsconform.emulator.smpp import pdu as codec
from smsconform.emulator.smpp.server import SmppServer, Timers

CONTRACTS = load_contracts()
MAIN = CONTRACTS.emulator_profile["accounts"]["main"]
SYSTEM_TYPE = CONTRACTS.smpp["system_type"]["value"]
SHORT = Timers(read_deadline=0.4, idle=0.6, enquire_link_answer=0.4, max_connections=3, free_failures=2,
               first_delay=0.3, max_delay=0.6, failure_window=30)


class Running:
    """An SmppServer with SHORT timers on a loop of its own thread."""

    def __init__(self, core: Core, timers: Timers = SHORT) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = SmppServer(core, "127.0.0.1", 0, timers=timers)
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(5)
        self.stopped = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(5)


@contextlib.contextmanager
def serving(db: Path, timers: Timers = SHORT) -> Iterator[Running]:
    core = Core(db, frozen=True)
    handle = Running(core, timers)
    try:
        yield handle
    finally:
        handle.stop()
        handle.loop.call_soon_threadsafe(handle.loop.stop)
        handle.thread.join(5)
        core.store.close()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    with serving(tmp_path / "link.sqlite3") as handle:
        yield handle


@pytest.fixture
def port(running: Running) -> int:
    return running.server.port


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    return sock


def read_pdu(sock: socket.socket, timeout: float = 3.0) -> codec.Pdu | None:
    """The next PDU, or None when the server closed the connection."""
    sock.settimeout(timeout)
    head = b""
    while len(head) < 16:
        chunk = sock.recv(16 - len(head))
        if not chunk:
            return None
        head += chunk
    length = struct.unpack(">I", head[:4])[0]
    body = b""
    while len(body) < length - 16:
        chunk = sock.recv(length - 16 - len(body))
        if not chunk:
            return None
        body += chunk
    return codec.decode(head + body)


def bind(sock: socket.socket, password: str = MAIN["password"], seq: int = 1) -> None:
    sock.sendall(codec.encode(codec.make("bind_transceiver", seq, system_id=MAIN["integration_user"],
                                         password=password, system_type=SYSTEM_TYPE, interface_version=0x34)))


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closes the connection (PDUs it sends meanwhile are ignored), or None."""
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        try:
            if read_pdu(sock, max(0.05, deadline - time.monotonic())) is None:
                return time.monotonic() - started
        except socket.timeout:
            return None
        except ConnectionError:
            return time.monotonic() - started
    return None


def test_profile_declares_the_timers() -> None:
    timers = Timers.from_profile(CONTRACTS.smpp)
    assert timers.read_deadline > 0 and timers.idle > timers.read_deadline and timers.max_connections >= 10
    assert 0 < timers.first_delay <= timers.max_delay


def test_a_truncated_pdu_then_silence_is_closed(port: int) -> None:
    sock = connect(port)
    bind(sock)
    assert read_pdu(sock).command_status == 0  # type: ignore[union-attr]
    sock.sendall(struct.pack(">IIII", 40, 4, 0, 2)[:12])  # 12 octets of a 40-octet submit_sm, then nothing
    after = closed_within(sock, 3.0)
    assert after is not None and after < SHORT.read_deadline + 1.0


def test_an_idle_bound_session_gets_enquire_link_and_stays_if_it_answers(port: int) -> None:
    sock = connect(port)
    bind(sock)
    assert read_pdu(sock).command_status == 0  # type: ignore[union-attr]
    for _ in range(2):
        probe = read_pdu(sock, SHORT.idle + 1.0)
        assert probe is not None and probe.command_id == codec.CommandId.ENQUIRE_LINK
        sock.sendall(codec.encode(probe.response()))
    sock.sendall(codec.encode(codec.make("enquire_link", 9)))
    assert read_pdu(sock).command_id == codec.CommandId.ENQUIRE_LINK_RESP  # type: ignore[union-attr]


def test_an_idle_session_that_does_not_answer_is_closed(port: int) -> None:
    sock = connect(port)
    bind(sock)
    assert read_pdu(sock).command_status == 0  # type: ignore[union-attr]
    probe = read_pdu(sock, SHORT.idle + 1.0)
    assert probe is not None and probe.command_id == codec.CommandId.ENQUIRE_LINK
    assert closed_within(sock, SHORT.enquire_link_answer + 1.0) is not None


def test_a_connection_that_never_binds_is_closed(port: int) -> None:
    sock = connect(port)
    assert closed_within(sock, SHORT.idle + 1.0) is not None


def test_connections_beyond_the_cap_are_closed_and_bound_ones_served(port: int) -> None:
    held = [connect(port) for _ in range(SHORT.max_connections)]
    bind(held[0])
    assert read_pdu(held[0]).command_status == 0  # type: ignore[union-attr]
    time.sleep(0.1)
    extra = connect(port)
    assert closed_within(extra, 1.0) is not None
    held[0].sendall(codec.encode(codec.make("enquire_link", 5)))
    assert read_pdu(held[0]).command_id == codec.CommandId.ENQUIRE_LINK_RESP  # type: ignore[union-attr]
    for sock in held:
        sock.close()


GUESSER = Timers(read_deadline=0.4, idle=0.6, enquire_link_answer=0.4, max_connections=3, free_failures=2,
                 first_delay=1.0, max_delay=2.0, failure_window=30)


def test_failed_binds_slow_a_guesser_but_not_a_good_bind(tmp_path: Path) -> None:
    """Delays of a second and more, so the gap between an answer at once and a slowed one stays wide on
    a loaded CI runner."""
    with serving(tmp_path / "guesser.sqlite3", GUESSER) as handle:
        port = handle.server.port
        waits = []
        for attempt in range(GUESSER.free_failures + 2):
            sock = connect(port)
            started = time.monotonic()
            bind(sock, password="errada", seq=attempt + 1)
            answer = read_pdu(sock)
            waits.append(time.monotonic() - started)
            assert answer is not None and answer.command_status == codec.Status.ESME_RINVPASWD
            sock.close()
        assert all(w < GUESSER.first_delay * 0.8 for w in waits[:GUESSER.free_failures]), waits
        assert waits[GUESSER.free_failures] >= GUESSER.first_delay * 0.9, waits
        assert waits[GUESSER.free_failures + 1] >= min(GUESSER.max_delay, GUESSER.first_delay * 2) * 0.9, waits
        sock = connect(port)
        started = time.monotonic()
        bind(sock)
        answer = read_pdu(sock)
        assert answer is not None and answer.command_status == 0
        assert time.monotonic() - started < GUESSER.first_delay * 0.8, "a good bind is answered at once"


def test_a_slowed_refusal_longer_than_the_idle_timer_still_arrives(tmp_path: Path) -> None:
    """The idle timer of an unbound link counts from the server's last word: a refusal slowed beyond
    it is sent, then the link may close (CI once saw the link closed first, under load)."""
    slow = Timers(read_deadline=0.4, idle=0.2, enquire_link_answer=0.4, max_connections=3, free_failures=0,
                  first_delay=0.7, max_delay=0.7, failure_window=30)
    with serving(tmp_path / "slow.sqlite3", slow) as handle:
        sock = connect(handle.server.port)
        bind(sock, password="errada")
        answer = read_pdu(sock)
        assert answer is not None and answer.command_status == codec.Status.ESME_RINVPASWD
        assert closed_within(sock, slow.idle + 1.0) is not None


def test_a_stopping_smsc_unbinds_its_sessions(running: Running) -> None:
    """Unbind from the SMSC's side (SMPP 3.4 § 4.2): a stopping server sends unbind to a bound ESME,
    which answers unbind_resp, and then closes the connection."""
    sock = connect(running.server.port)
    bind(sock)
    assert read_pdu(sock).command_status == 0  # type: ignore[union-attr]
    stopping = threading.Thread(target=running.stop)
    stopping.start()
    unbind = read_pdu(sock)
    assert unbind is not None and unbind.command_id == codec.CommandId.UNBIND
    sock.sendall(codec.encode(unbind.response()))
    assert closed_within(sock, 3.0) is not None
    stopping.join(5)
