"""One plan for the calls a target allows only so often (painel getstatus and getbalance: once a minute).

Why a shared plan: the limit is the target's, per account, whoever calls. If each test (or each client, or
each xdist worker) kept its own last-call time, a test would be refused because another one had just
called. So the turns are booked in one record per target, a small JSON file in the temporary directory,
locked (``fcntl.flock``) while a turn is booked: every process of a run, and every run on this machine
against the same target, sees the same last call of an account and an operation.

A turn is booked before the caller waits for it, so concurrent callers get consecutive turns instead of
racing for the same one. No wait is longer than the profile's ``time.max_wait``: a turn further away is
not waited for, and the test that wanted it is reported as not exercised with the reason, never failed.
Accounts are recorded by a digest of their credentials (a login is never written to disk).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

MARGIN = 0.5  # seconds past the window: the target's clock and ours are not the same clock


class TurnTooFar(Exception):
    """The next allowed call is further away than the run may wait; the message says which and how far."""


def account_key(dialect: str, operation: str, credentials: dict[str, str]) -> str:
    """``dialect.operation@digest``: the pacing key of one account's calls of one operation."""
    digest = hashlib.sha256(json.dumps(sorted(credentials.items())).encode()).hexdigest()[:16]
    return f"{dialect}.{operation}@{digest}"


def default_path(target_address: str) -> Path:
    """The record of one target (by its address), shared by every process of this user on this machine.
    ``SMSCONFORM_PACER_DIR`` moves it (a test keeps its own)."""
    folder = Path(os.environ.get("SMSCONFORM_PACER_DIR") or tempfile.gettempdir())
    digest = hashlib.sha256(target_address.encode()).hexdigest()[:16]
    return folder / f"smsconform-pacer-{os.getuid()}-{digest}.json"


@dataclass
class Pacer:
    path: Path
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    waited: float = 0.0                          # seconds this process spent waiting for turns
    turns: int = 0
    _local: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    record = json.loads(self.path.read_text(encoding="utf-8"))
                except (FileNotFoundError, ValueError):
                    record = {}
                if not isinstance(record, dict):
                    record = {}
                yield record
                tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def book(self, key: str, window: float, max_wait: float) -> float:
        """Book the next turn of ``key`` (at least ``window`` seconds after the last one booked or made) and
        return when it is; TurnTooFar, booking nothing, if that is more than ``max_wait`` from now."""
        with self._locked() as record:
            now = self.now()
            last = float(record.get(key, 0.0))
            turn = max(now, last + window + MARGIN) if last else now
            if turn - now > max_wait:
                raise TurnTooFar(f"{key.split('@')[0]} is allowed once every {window:.0f} s; its next turn is "
                                 f"{turn - now:.0f} s away, beyond time.max_wait ({max_wait:.0f} s)")
            record[key] = turn
        return turn

    def wait_turn(self, key: str, window: float, max_wait: float) -> None:
        """Book a turn and wait for it."""
        turn = self.book(key, window, max_wait)
        delay = turn - self.now()
        if delay > 0:
            self.waited += delay
            self.sleep(delay)
        self.turns += 1

    def made(self, key: str, at: float | None = None) -> None:
        """Record a call made at ``at`` (now): a call later than its booked turn moves the next turn too."""
        at = self.now() if at is None else at
        with self._locked() as record:
            record[key] = max(float(record.get(key, 0.0)), at)

    def last(self, key: str) -> float | None:
        with self._locked() as record:
            value = record.get(key)
        return None if value is None else float(value)


_PACERS: dict[Path, Pacer] = {}


def pacer_for(target_address: str) -> Pacer:
    """The process's pacer of one target (one object per record file, so its counters add up)."""
    path = default_path(target_address)
    if path not in _PACERS:
        _PACERS[path] = Pacer(path)
    return _PACERS[path]
