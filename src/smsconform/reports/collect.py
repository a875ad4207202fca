"""Listening to a suite run: one record per test, whatever the phase it ended in and whichever worker ran it.

``Collector`` is a plain pytest plugin object (``pytest.main(args, plugins=[collector])``). Under
pytest-xdist it lives in the controller, which receives every worker's reports with their
``user_properties`` (the smsconform plugin puts ``rules``, ``dialect`` and ``evidence`` there), so it works the
same with and without ``-n``. A test is failed if any phase failed, not exercised if it was skipped (the
plugin turns ``NotExercised`` into a skip whose reason starts with "not exercised: "), passed otherwise.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from ..conformance.plugin import NOT_EXERCISED

PASSED, FAILED, NOT_EXERCISED_STATUS = "passed", "failed", "not exercised"
DEVIATION = "deviation"  # a rule status: an inferred check did not hold (reported, never judged)
MAX_MESSAGE = 6000


@dataclass
class TestRecord:
    """What one test did."""

    nodeid: str
    outcome: str = PASSED
    duration: float = 0.0
    rules: list[str] = field(default_factory=list)
    dialect: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None           # why it was not exercised
    message: str | None = None          # the failure's one-line cause
    details: str | None = None          # the failure's report, shortened
    phase: str | None = None            # the phase that failed (setup, call, teardown)
    transitions: list[list[str]] = field(default_factory=list)  # observed machine edges, if a test reports them
    deviations: list[dict[str, Any]] = field(default_factory=list)  # inferred checks that did not hold (judge.py)

    __test__ = False  # not a test class, for pytest's collector

    @property
    def module(self) -> str:
        return self.nodeid.split("::", 1)[0]


@dataclass
class CollectError:
    nodeid: str
    message: str


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """Without terminal colours and without the control characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", _ANSI.sub("", text))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return text.removeprefix("Skipped: ")


def _crash_message(report: Any) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message).splitlines()[0][:500] if crash.message else ""
    text = getattr(report, "longreprtext", "") or ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return (lines[-1] if lines else "failed")[:500]


class Collector:
    """Gathers per-test outcome, duration, rules, dialect, evidence and not-exercised reasons."""

    def __init__(self, on_progress: Callable[["Collector", TestRecord], None] | None = None) -> None:
        self.records: dict[str, TestRecord] = {}
        self.collect_errors: list[CollectError] = []
        self.total: int | None = None
        self.finished = 0
        self.started = time.time()
        self.ended: float | None = None
        self.exit_status: int | None = None
        self.on_progress = on_progress
        self._done: set[str] = set()

    # -- how many tests there are -------------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.config.pluginmanager.hasplugin("dsession"):
            return  # under xdist the controller collects nothing; the workers say how many
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.total = max(self.total or 0, len(ids))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(CollectError(report.nodeid or "(collection)",
                                                    clean(str(report.longrepr))[-MAX_MESSAGE:]))

    # -- what each test did -------------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.setdefault(report.nodeid, TestRecord(report.nodeid))
        record.duration += float(report.duration or 0.0)
        self._properties(record, report.user_properties)
        if report.failed and record.outcome != FAILED:
            record.outcome, record.phase = FAILED, report.when
            record.message = clean(_crash_message(report))
            record.details = clean(report.longreprtext or "")[-MAX_MESSAGE:]
        elif report.skipped and record.outcome == PASSED:
            record.outcome = NOT_EXERCISED_STATUS
            reason = _skip_reason(report)
            reason = clean(reason)
            record.reason = reason.removeprefix(NOT_EXERCISED) if reason.startswith(NOT_EXERCISED) else \
                f"skipped: {reason}"
        if report.when == "teardown" and report.nodeid not in self._done:
            self._done.add(report.nodeid)
            self.finished += 1
            if self.on_progress:
                self.on_progress(self, record)

    @staticmethod
    def _properties(record: TestRecord, properties: list[tuple[str, Any]]) -> None:
        for name, value in properties or ():
            if name == "rules":
                record.rules = [str(r) for r in _json(value, [])]
            elif name == "dialect":
                record.dialect = str(value)
            elif name == "evidence":
                record.evidence = [e for e in _json(value, []) if isinstance(e, dict)]
            elif name == "deviations":
                record.deviations = [d for d in _json(value, []) if isinstance(d, dict) and "rule" in d]
            elif name == "transitions":
                record.transitions = [list(map(str, t)) for t in _json(value, []) if isinstance(t, (list, tuple))]

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.ended = time.time()
        self.exit_status = int(exitstatus)

    # -- summaries ------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {PASSED: 0, FAILED: 0, NOT_EXERCISED_STATUS: 0}
        for record in self.records.values():
            out[record.outcome] += 1
        return out


def _json(value: Any, default: Any) -> Any:
    if not isinstance(value, str):
        return value if value is not None else default
    try:
        return json.loads(value)
    except ValueError:
        return default
