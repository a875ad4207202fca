"""The virtual clock under hostile moves: only finite readings it can print are accepted, a refused move
changes nothing (in memory or in the SQLite file), and a file holding a bad clock still starts."""
from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import httpx
import pytest

from smsconform.emulator.core import Core
from smsconform.emulator.core.clock import LATEST
from smsconform.emulator.server import Emulator

VALID = "11991110001"

# 400: no clock move at all (not JSON, not a number, not a date); 409: a move the clock's reading refuses.
HOSTILE_MOVES = [
    (b'{"advance": NaN}', 400),
    (b'{"advance": Infinity}', 400),
    (b'{"advance": -Infinity}', 400),
    (b'{"advance": 1e400}', 400),
    (b'{"advance": 1e12}', 409),
    (b'{"advance": -1}', 400),
    (b'{"advance": "60"}', 400),
    (b'{"advance": true}', 400),
    (b'{"advance": 99999999999999999999999999}', 409),
    (b'{"set": "10000-01-01T00:00:00"}', 400),
    (b'{"set": "9999-12-31T23:59:59"}', 409),
    (b'{"set": 1e300}', 409),
    (b'{"set": "nan"}', 400),
    (b'{"set": [1]}', 400),
    (b'{"frozen": "false"}', 400),
    (b'{"frozen": false, "advance": NaN}', 400),
    (b'{"frozen": false, "advance": 1e12}', 409),
    (b'{"advance": 60, "set": "2000-01-01T00:00:00"}', 409),
]


def _saved_clock(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()[0]


@pytest.mark.parametrize("body, status", HOSTILE_MOVES, ids=[b.decode() for b, _ in HOSTILE_MOVES])
def test_a_refused_move_changes_nothing(emulator: Emulator, http: httpx.Client, body: bytes, status: int) -> None:
    before = http.get("/_emulator/clock").json()
    saved = _saved_clock(Path(emulator.db))
    answer = http.post("/_emulator/clock", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()
    assert http.get("/_emulator/clock").json() == before
    assert _saved_clock(Path(emulator.db)) == saved
    sent = http.get("/sms/send", params={"u": "d642dfa0", "n": VALID, "m": "after"}).text
    assert sent.startswith("1;"), sent


def test_the_last_printable_moment_is_accepted_and_no_later(emulator: Emulator, http: httpx.Client) -> None:
    now = http.get("/_emulator/clock").json()["epoch"]
    assert http.post("/_emulator/clock", json={"advance": LATEST - now + 1}).status_code == 409
    moved = http.post("/_emulator/clock", json={"advance": LATEST - now})
    assert moved.status_code == 200 and moved.json()["now"].startswith("9999-01-01T00:00:00")
    assert http.get("/sms/send", params={"u": "d642dfa0", "n": VALID, "m": "late"}).text.startswith("1;")
    assert http.post("/_emulator/clock", json={"advance": 1}).status_code == 409


@pytest.mark.parametrize("state", ['{"now": NaN, "frozen": true, "offset": 0}',
                                   '{"now": 1e300, "frozen": true, "offset": 0}',
                                   '{"now": 0, "frozen": false, "offset": Infinity}',
                                   '{"now": 0, "frozen": false, "offset": 1e15}',
                                   '"not a clock"', "{broken"])
def test_a_bad_clock_in_the_file_is_reset_with_a_log_line(tmp_path: Path, state: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "emulator.sqlite3"
    core = Core(db)
    who = core.fixture_principal("main")
    balance = core.accounts.balance(who.client_id)
    core.store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'clock'", (state,))
    with caplog.at_level(logging.WARNING, logger="smsconform.emulator"):
        core = Core(db)
    assert any("clock" in r.getMessage() and "unusable" in r.getMessage() for r in caplog.records)
    assert core.accounts.balance(core.fixture_principal("main").client_id) == balance  # nothing else reset
    saved = json.loads(_saved_clock(db))
    assert saved["now"] == pytest.approx(core.now(), abs=5)
    core.store.close()
