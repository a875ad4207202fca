"""The lifecycle of messages nobody listens to is settled lazily; what any client observes must not change.

A message whose client has no callback URL moves only when read or while the emulator is idle
(Core.settle). These tests hold that shortcut to the step-by-step behaviour a client would see, and the
callback sender to each message's order of statuses.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from smsconform.emulator.app import EmulatorApp
from smsconform.emulator.core import Core
from smsconform.emulator.core.messages import Submission
from smsconform.emulator.server import Emulator

NUMBER = "11991110001"


def test_a_callback_url_registered_late_sees_only_the_changes_after_it() -> None:
    core = EmulatorApp(Core(":memory:", frozen=True)).core  # the app registers the dialects' callback renderers
    who = core.fixture_principal("main")
    [accepted] = core.submit(who, "mensagem", [Submission(NUMBER, "late listener")])
    core.clock.advance(1.5)  # due to be queued at +1, but nobody read it: still stored as waiting
    registered_at = core.now()
    core.set_callback_url(who.client_id, "mensagem", "status", "http://127.0.0.1:9/status")
    core.advance(60)
    msg = core.message(id=accepted.id)
    assert msg is not None and [s for s, _ in msg.states()] == ["waiting", "queued", "sent", "delivered"]
    queued_at = msg.entered("queued")
    assert queued_at is not None and queued_at < registered_at
    sent = core.store.db.execute("SELECT created_at FROM outbox WHERE message_id = ?", (accepted.id,)).fetchall()
    assert sent, "the changes after the registration were not called back"
    assert all(at > registered_at for (at,) in sent), "a change from before the registration was called back"


def test_a_read_settles_what_it_reads_and_a_state_condition_settles_all() -> None:
    core = Core(":memory:", frozen=True)
    who = core.fixture_principal("main")
    first = core.submit(who, "mensagem", [Submission(f"1199111{i:04d}", "um") for i in range(2, 12)])
    core.submit(who, "mensagem", [Submission(f"1199112{i:04d}", "dois") for i in range(2, 12)])
    core.clock.advance(60)

    def stored() -> dict[str, set[str]]:
        by_text: dict[str, set[str]] = defaultdict(set)
        for text, state in core.store.db.execute("SELECT text, state FROM messages"):
            by_text[text].add(state)
        return dict(by_text)

    read = core.messages("id BETWEEN ? AND ?", (first[0].id, first[-1].id))
    assert {m.state for m in read} == {"delivered"}
    assert stored() == {"um": {"delivered"}, "dois": {"waiting"}}  # the other submission waits for a reader
    delivered = core.messages("state = ?", ("delivered",))
    assert len(delivered) == 20 and stored() == {"um": {"delivered"}, "dois": {"delivered"}}


def test_an_idle_emulator_settles_unobserved_messages_without_a_read(emulator: Emulator, http: httpx.Client) -> None:
    numbers = ";".join(f"1199111{i:04d}" for i in range(2, 50))
    answer = http.get("/sms/mult", params={"u": "d642dfa0", "n": numbers, "m": "idle"}).text
    assert answer.startswith("1;"), answer
    emulator.core.clock.advance(60)  # moves the clock without a tick, as a running clock does
    deadline = time.monotonic() + 5
    states: list[str] = []
    while time.monotonic() < deadline:
        with emulator.core.store.lock:  # a raw read of the stored rows: the view does not settle anything
            states = [r[0] for r in emulator.core.store.db.execute("SELECT state FROM messages WHERE text = 'idle'")]
        if states and set(states) == {"delivered"}:
            break
        time.sleep(0.1)
    assert len(states) == 48 and set(states) == {"delivered"}, sorted(set(states))


def test_each_message_s_callbacks_arrive_in_the_order_of_its_statuses(http: httpx.Client, control: Any,
                                                                        receiver: Any) -> None:
    receiver.calls.clear()
    control("POST", "/callbacks", {"dialect": "speedmarket", "kind": "status", "url": f"{receiver.url}/ordered"})
    batch = {"messages": [{"number": f"1199111{i:04d}", "content": "ordem", "type": 0} for i in range(2, 32)]}
    answer = http.post("/webservice-rest/send-multiple", json=batch, auth=("demo", "demo123")).json()
    assert answer["totalSuccess"] == "30", answer
    control("POST", "/clock", {"advance": 60})  # every step of every message is due in the same tick
    produced: dict[str, list[str]] = defaultdict(list)  # message id -> statuses, in the emulator's order
    for row in control("GET", "/outbox"):
        query = dict(parse_qsl(urlsplit(row["url"]).query))
        produced[query["id"]].append(query["status"])
    assert len(produced) == 30 and all(len(statuses) == 2 for statuses in produced.values()), produced
    received: dict[str, list[str]] = defaultdict(list)
    for call in receiver.wait(60, timeout=10):
        if call["_path"] == "/ordered":
            received[call["id"]].append(call["status"])
    assert received == produced


# The first release's table, verbatim: a file it wrote must open, with every message as it was.
LEGACY_MESSAGES = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, user_id INTEGER NOT NULL, dialect TEXT NOT NULL,
    hash TEXT NOT NULL, number TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL,
    type INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, schedule_at REAL, state TEXT NOT NULL,
    next_at REAL, outcome TEXT NOT NULL DEFAULT 'delivered', operator TEXT, external_id TEXT,
    cost_centre INTEGER, campaign_id TEXT, campaign INTEGER, parts INTEGER NOT NULL, cost INTEGER NOT NULL,
    scope TEXT NOT NULL DEFAULT 'client', file TEXT, priority INTEGER NOT NULL DEFAULT 0,
    history TEXT NOT NULL);
CREATE INDEX messages_due ON messages (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX messages_client_created ON messages (client_id, created_at);
"""


def test_a_file_written_by_the_first_release_opens_with_its_messages(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    core = Core(path, frozen=True)
    who = core.fixture_principal("main")
    core.store.close()
    old = sqlite3.connect(path)
    old.executescript("DROP VIEW messages; DROP TABLE recipients; DROP TABLE submissions;" + LEGACY_MESSAGES)
    old.execute("INSERT INTO messages (id, client_id, user_id, dialect, hash, number, text, kind, created_at, state,"
                " next_at, parts, cost, history, external_id) VALUES (7, ?, ?, 'mensagem', 'x', ?, 'antiga', 'long',"
                " 1000.0, 'waiting', 1001.0, 1, 1, 'waiting@1000.0', 'ext-7')", (who.client_id, who.user_id, NUMBER))
    old.commit()
    old.close()
    reopened = Core(path, frozen=True)
    msg = reopened.message(id=7)
    assert msg is not None and (msg.text, msg.number, msg.external_id) == ("antiga", NUMBER, "ext-7")
    assert [s for s, _ in msg.states()] == ["waiting", "queued", "sent", "delivered"]  # it moves on, observed
    [accepted] = reopened.submit(who, "mensagem", [Submission(NUMBER, "nova")])
    assert accepted.id == 8



def _settle_work(settled_before: int) -> int:
    """SQLite VM steps (in hundreds) one settling chunk takes when ``settled_before`` one-message submissions
    (an SMPP run's shape) are already settled and ten more are due."""
    core = Core(":memory:", frozen=True)
    core.store.db.execute("UPDATE credits SET amount = 10000000")
    who = core.fixture_principal("main")
    core.submit(who, "mensagem", [Submission(f"1199{i:07d}", f"antes {i}") for i in range(settled_before)])
    core.clock.advance(60)
    core.settle()
    core.submit(who, "mensagem", [Submission(f"1198{i:07d}", f"agora {i}") for i in range(10)])
    core.clock.advance(60)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    core.store.db.set_progress_handler(count, 100)
    assert core.settle(limit=5000) == 10
    core.store.db.set_progress_handler(None, 100)
    return steps[0]


def test_a_settling_chunk_costs_what_is_due_not_what_was_settled_before() -> None:
    """Issue 15: the chunk's query read every submission, settled or not, so a sustained SMPP run (one
    submission a message) slowed as it went; it reads the due ones through their index."""
    few, many = _settle_work(100), _settle_work(20_000)
    assert many < few * 2, (few, many)


def test_a_submission_larger_than_a_chunk_is_settled_in_parts() -> None:
    """A chunk smaller than a mult (settle_pace.py shrinks chunks on a loaded machine) settles part of it, the
    next chunk the rest, and every message ends as a whole settle would leave it."""
    core = Core(":memory:", frozen=True)
    who = core.fixture_principal("main")
    core.submit(who, "mensagem", [Submission(f"1199111{i:04d}", "parte") for i in range(2, 52)])
    core.clock.advance(60)

    def delivered() -> int:
        return core.store.db.execute("SELECT count(*) FROM recipients WHERE state = 'delivered'").fetchone()[0]

    assert core.settle(limit=20) == 1 and delivered() == 20
    assert core.settle(limit=20) == 1 and delivered() == 40
    assert core.settle(limit=20) == 1 and delivered() == 50
    assert core.settle(limit=20) == 0
    assert {m.state for m in core.messages("text = ?", ("parte",))} == {"delivered"}
