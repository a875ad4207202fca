"""Slow and idle HTTP clients are bounded (bounded_http.py): a request that never completes is answered
408 and closed, an answered connection that stays silent is closed after the idle timeout, and a crowd of
idle connections over the cap cannot keep a normal request out.
Latency is measured by benchmarks/bench_hostile.py, not here: these tests only wait, generously."""
from __future__ import annotations

import resource
import select
import socket
import time
from pathlib import Path
from typing import BinaryIO, Iterator

import httpx
import pytest

from realmode import emulator_process
from smsconform.emulator.bounded_http import DESCRIPTOR_RESERVE, MIN_CONNECTIONS, REQUEST_TIMEOUT_ANSWER
from smsconform.emulator.server import Emulator

GENEROUS = 20.0   # seconds a socket read may wait: far above the 0.5 s deadline, so never a race
NOFILE = 160      # the descriptor limit of the capped emulator process (about 20 are its own: SQLite, sockets)
CROWD = 200       # idle connections: more than NOFILE, as 1,100 are more than 1,024
IDLE = 1.0        # the idle timeout of the `idle` fixture
CLOSED_WITHIN = 4.0   # an idle connection must be closed this soon after its last answer: well above IDLE,
                      # below uvicorn's own keep-alive default (5 s) and the emulator's (30 s), so a setting
                      # that does not reach the server fails
REQUEST = b"GET /sms/crdtf?u=d642dfa0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def bounded(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path / "e.sqlite3", port=0, smpp_port=0, frozen=True, request_timeout=0.5)
    with emu.running():
        yield emu


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[Emulator]:
    """A short idle timeout, and a request deadline too long to be what closes anything here."""
    emu = Emulator(db=tmp_path / "e.sqlite3", port=0, smpp_port=0, frozen=True, request_timeout=GENEROUS,
                   idle_timeout=IDLE)
    with emu.running():
        yield emu


def _connect(emu: Emulator) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=GENEROUS)
    return sock


def _exchange(sock: socket.socket, reader: BinaryIO) -> None:
    """One crdtf request on a kept-alive connection, its answer read whole (status, headers, body)."""
    sock.sendall(REQUEST)
    assert reader.readline().startswith(b"HTTP/1.1 200")
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    assert reader.read(length).startswith(b"1;")


def _read_to_close(sock: socket.socket) -> bytes:
    said = b""
    while chunk := sock.recv(4096):
        said += chunk
    return said


@pytest.mark.parametrize("start", [b"", b"GET /sms/crdtf?u=d642dfa0 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n",
                                   b"POST /_emulator/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{"],
                         ids=["silent", "headers never end", "body never ends"])
def test_an_incomplete_request_is_closed(bounded: Emulator, start: bytes) -> None:
    with _connect(bounded) as sock:
        sock.sendall(start)
        said = _read_to_close(sock)           # returns only because the emulator closed the connection
    if not start.startswith(b"POST"):         # once the headers are in, the answer has begun: just closed
        assert said.startswith(b"HTTP/1.1 408 "), said


def test_a_trickling_header_does_not_extend_the_deadline(bounded: Emulator) -> None:
    with _connect(bounded) as sock:
        sock.sendall(b"GET /sms/crdtf?u=d642dfa0 HTTP/1.1\r\n")
        sock.settimeout(0.2)
        said = b""
        for n in range(int(GENEROUS / 0.2)):   # a header line every 0.2 s, well inside any idle timeout
            try:
                sock.sendall(b"X-%d: a\r\n" % n)
                chunk = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            said += chunk
        else:
            pytest.fail("the emulator held a trickling request for 20 s")
    assert said.startswith(b"HTTP/1.1 408 ")


def _evicted(crowd: list[socket.socket], at_least: int) -> int:
    """How many of ``crowd`` the emulator has closed, waiting (up to GENEROUS) until ``at_least`` are."""
    closed: set[socket.socket] = set()
    deadline = time.monotonic() + GENEROUS
    while len(closed) < at_least and (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([s for s in crowd if s not in closed], [], [], min(left, 0.5))
        for sock in readable:
            try:
                if sock.recv(4096) == b"":
                    closed.add(sock)
            except ConnectionError:
                closed.add(sock)
    return len(closed)


@pytest.fixture
def few_descriptors(tmp_path: Path) -> Iterator[int]:
    """`smsconform emulator` in its own process under a descriptor limit of NOFILE, with its default cap
    (the limit less DESCRIPTOR_RESERVE) and a request deadline longer than any wait here: only the cap
    can free a descriptor while the test runs. Its HTTP port."""
    def few() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))

    with emulator_process(tmp_path, "--frozen", "--request-timeout", str(GENEROUS * 10), preexec_fn=few) as ports:
        yield ports[0]


def test_normal_requests_are_served_past_the_descriptor_limit(few_descriptors: int) -> None:
    """Issue 14: under a 1,024 descriptor limit, 1,100 idle connections made every normal request fail.
    Here CROWD idle connections against a limit of NOFILE: without the cap the emulator runs out of
    descriptors and a new connection is dropped at accept or waits for one the deadline frees (long after
    GENEROUS); with it, each new connection closes the longest-idle one, and every normal request is served."""
    cap = max(MIN_CONNECTIONS, NOFILE - DESCRIPTOR_RESERVE)
    crowd = [socket.create_connection(("127.0.0.1", few_descriptors), timeout=GENEROUS) for _ in range(CROWD)]
    try:
        assert _evicted(crowd, CROWD - cap) >= CROWD - cap    # all of the crowd but the cap's worth, closed
        with httpx.Client(trust_env=False, timeout=GENEROUS) as client:
            for _ in range(5):
                answer = client.get(f"http://127.0.0.1:{few_descriptors}/sms/crdtf", params={"u": "d642dfa0"},
                                    headers={"connection": "close"})   # a new connection each
                assert answer.text.startswith("1;"), answer.text
    finally:
        for sock in crowd:
            sock.close()


def test_an_idle_kept_alive_connection_outlives_the_request_deadline(bounded: Emulator) -> None:
    """The deadline runs while a request arrives, not while the connection waits between requests
    (the idle timeout, 30 s by default, closes those)."""
    with _connect(bounded) as sock:
        reader = sock.makefile("rb")
        for _ in range(2):
            _exchange(sock, reader)
            time.sleep(1.0)                     # twice the request deadline, idle between two requests


@pytest.mark.parametrize("answers", [1, 3], ids=["after its only answer", "after a later answer"])
def test_an_answered_connection_that_stays_silent_is_closed_after_the_idle_timeout(idle: Emulator,
                                                                                   answers: int) -> None:
    """Each answer restarts the idle timer: the connection serves requests spaced inside it, then, silent
    after its last answer, is closed without a word, IDLE seconds later (not the request deadline: 20 s)."""
    with _connect(idle) as sock:
        reader = sock.makefile("rb")
        for n in range(answers):
            if n:
                time.sleep(IDLE * 0.4)
            _exchange(sock, reader)
        answered = time.monotonic()
        said = reader.read()                    # returns only because the emulator closed the connection
        waited = time.monotonic() - answered
    assert said == b""
    assert waited < CLOSED_WITHIN, f"an idle connection was held {waited:.1f} s (idle timeout {IDLE} s)"


def test_a_stray_line_break_after_an_answer_does_not_hold_the_connection(bounded: Emulator) -> None:
    """A byte after an answer stops the idle timer; one that begins no request (a CRLF, which the parser
    skips) must start the request deadline, or the connection would be held by no timer at all."""
    with _connect(bounded) as sock:
        reader = sock.makefile("rb")
        _exchange(sock, reader)
        sock.sendall(b"\r\n")
        said = _read_to_close(sock)             # returns only because the emulator closed the connection
    assert said == REQUEST_TIMEOUT_ANSWER, said
