"""certify --max-time: a run that ends, whatever the target does.

Two bounds. From the deadline on, no test starts (the plugin's ``--sms-deadline``: a test that would start
is not exercised, with the reason ``deadline``). A test still running past the deadline plus a grace is
interrupted (SIGINT to this process, which also breaks a blocking read), so that a target that never
answers, or a wait that never ends, still gives a verdict. Tests that never reported (the interrupted one,
and under an interrupted session those not yet run) are recorded as not exercised with the same reason.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..conformance.plugin import DEADLINE
from .collect import FAILED, NOT_EXERCISED_STATUS, Collector, TestRecord

DEFAULT_MAX_TIME = 1800.0  # 30 minutes: fits a CI job's usual hour with room for install and reports


def grace_of(max_time: float) -> float:
    """How long a test running at the deadline may still finish before it is interrupted."""
    return min(60.0, max(2.0, 0.05 * max_time))


@dataclass
class Watchdog:
    """Collects which tests exist and interrupts the run at deadline + grace (a plain pytest plugin)."""

    max_time: float
    started: float = field(default_factory=time.time)
    interrupted: bool = False
    collected: dict[str, list[str]] = field(default_factory=dict)   # node id -> the rules it names
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def deadline(self) -> float:
        return self.started + self.max_time

    def passed(self) -> bool:
        return time.time() >= self.deadline

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.collected[item.nodeid] = [r for m in item.iter_markers("rules") for r in m.args]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        for nodeid in ids:
            self.collected.setdefault(nodeid, [])

    def __enter__(self) -> "Watchdog":
        self._thread = threading.Thread(target=self._watch, name="smsconform-deadline", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()

    def _watch(self) -> None:
        if not self._stop.wait(max(0.0, self.deadline + grace_of(self.max_time) - time.time())):
            self.interrupted = True
            os.kill(os.getpid(), signal.SIGINT)

    def fill_unrun(self, collector: Collector) -> int:
        """Record every collected test that never reported as not exercised (deadline); how many."""
        count = 0
        for nodeid, rules in self.collected.items():
            record = collector.records.get(nodeid)
            if record is not None and nodeid in collector._done:
                continue
            if record is None:
                record = collector.records[nodeid] = TestRecord(nodeid, rules=list(rules))
            if record.outcome == FAILED:
                continue
            record.outcome = NOT_EXERCISED_STATUS
            record.reason = (f"{DEADLINE}: the run's time (certify --max-time {self.max_time:g} s) was up "
                             "before this test finished")
            count += 1
        return count
