"""Group commit (emulator/group_commit.py, Store.group) and the one-write response (bounded_http.py).

An answered send must be durable (the kill -9 test): a grouped request is answered only after the commit
that holds it, a request that fails inside a group is undone alone, and a group whose commit fails
answers none of its requests as a success.
"""
from __future__ import annotations

import asyncio
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest

from smsconform.emulator.app import EmulatorApp
from smsconform.emulator.bounded_http import OneWriteTransport
from smsconform.emulator.core import Core
from smsconform.emulator.core.store import Store
from smsconform.emulator.group_commit import GroupCommit
from smsconform.emulator.http import Request


def stored(path: Path, sql: str) -> list[tuple]:
    """What another connection to the file sees: only committed rows."""
    other = sqlite3.connect(path)
    try:
        return other.execute(sql).fetchall()
    finally:
        other.close()


def test_a_group_is_one_commit_and_a_failed_transaction_inside_is_undone_alone(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = Store(path)
    store.db.execute("CREATE TABLE t (n INTEGER)")
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    with store.group():
        with store.transaction() as db:
            db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError):
            with store.transaction() as db:
                db.execute("INSERT INTO t VALUES (2)")
                raise ValueError("this request fails")
        with store.transaction() as db:
            db.execute("INSERT INTO t VALUES (3)")
            with store.transaction() as inner:   # a nested transaction joins its request's savepoint
                inner.execute("INSERT INTO t VALUES (4)")
        assert stored(path, "SELECT n FROM t") == []   # nothing is visible (or durable) before the commit
    assert stored(path, "SELECT n FROM t ORDER BY n") == [(1,), (3,), (4,)]
    assert statements.count("COMMIT") == 1 and statements.count("BEGIN IMMEDIATE") == 1
    with store.transaction() as db:   # outside a group a transaction commits on its own again
        db.execute("INSERT INTO t VALUES (5)")
    assert stored(path, "SELECT count(*) FROM t") == [(4,)]


def test_a_group_cannot_open_inside_a_transaction(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    with store.transaction():
        with pytest.raises(RuntimeError):
            with store.group():
                pass


def send(n: int) -> Request:
    return Request("GET", "/sms/send", f"u=d642dfa0&n=11991110001&m=grouped{n}".encode(), {"host": "x"})


def test_requests_of_one_turn_are_answered_together_after_their_one_commit(tmp_path: Path) -> None:
    path = tmp_path / "emulator.sqlite3"
    app = EmulatorApp(Core(path, seed=True, frozen=True))
    groups = GroupCommit(app)
    events: list[str] = []
    app.core.store.db.set_trace_callback(lambda sql: events.append(sql) if sql == "COMMIT" else None)

    async def answered(n: int) -> bytes:
        outcome = await groups.handle(send(n))
        events.append(f"answered {n}")
        assert stored(path, "SELECT count(*) FROM submissions WHERE text = 'grouped%d'" % n) == [(1,)]
        return outcome.response.body

    async def all_of_them() -> list[bytes]:
        return await asyncio.gather(*(answered(n) for n in range(5)))

    answers = asyncio.run(all_of_them())
    assert all(a.startswith(b"1;") for a in answers), answers
    assert events == ["COMMIT"] + [f"answered {n}" for n in range(5)]   # one commit, and it came first


def test_a_failed_group_commit_answers_no_request_as_a_success(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "emulator.sqlite3"
    app = EmulatorApp(Core(path, seed=True, frozen=True))
    groups = GroupCommit(app)
    group = Store.group

    @contextmanager
    def failing_commit(store: Store) -> Iterator[None]:
        with group(store):
            yield
            raise sqlite3.OperationalError("disk I/O error")   # as COMMIT would fail: the group rolls back

    monkeypatch.setattr(Store, "group", failing_commit)

    async def both() -> list[bytes]:
        return [o.response.body for o in await asyncio.gather(groups.handle(send(1)), groups.handle(send(2)))]

    answers = asyncio.run(both())
    retry = app.failure(send(1))   # mensagem's documented "try again" answer
    assert answers == [retry.body, retry.body] and not retry.body.startswith(b"1;")
    assert stored(path, "SELECT count(*) FROM submissions WHERE text LIKE 'grouped%'") == [(0,)]


class Writes:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_headers_and_body_leave_in_one_write_and_100_continue_at_once() -> None:
    transport, cycle = Writes(), SimpleNamespace(response_started=False, response_complete=False)
    one = OneWriteTransport(transport, cycle)  # type: ignore[arg-type]
    one.write(b"HTTP/1.1 100 Continue\r\n\r\n")          # before the answer starts: written at once
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    cycle.response_started = True
    one.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
    assert len(transport.writes) == 1                     # the headers wait for the body
    one.write(b"1;ok")
    assert transport.writes[1:] == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n1;ok"]
    one.write(b"more")                                    # later chunks (a stream) go as they come
    assert transport.writes[2:] == [b"more"] and not one.is_closing()


def test_an_answer_with_no_body_write_still_sends_its_headers() -> None:
    transport, cycle = Writes(), SimpleNamespace(response_started=True, response_complete=False)
    one = OneWriteTransport(transport, cycle)  # type: ignore[arg-type]
    one.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")   # HEAD: uvicorn writes no body
    one.flush()                                                   # what the response's completion calls
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n"]
    closing = OneWriteTransport(Writes(), cycle)  # type: ignore[arg-type]
    closing.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
    closing.close()                                               # closing never loses held headers
    assert closing._transport.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"]  # type: ignore[attr-defined]
