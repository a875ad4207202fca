"""Schemathesis, every phase (examples, coverage, fuzzing, stateful), against a real emulator: the control
API with every stock check and no failure; every dialect with the stock checks that fit these APIs, no
server error and no traceback in the emulator's log. fuzzing.py runs it, and says which stock checks do
not apply to the dialects, and why.

The examples are bounded (fuzzing.MAX_EXAMPLES, a fixed seed, no example database) so that a run stays
around half a minute; `smsconform certify` runs the dialects' schema family in depth (tests/conformance/
test_schema.py), and benchmarks/fuzz_count.py runs this at length against the emulator as its own process.
What is counted: every request Schemathesis sent, every 5xx answer, every check that failed, every ERROR
record of the emulator's loggers (an unexpected exception logs its traceback there).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import fuzzing
import pytest

from smsconform.contracts import HTTP_DIALECTS
from smsconform.emulator.server import Emulator


@pytest.fixture
def served(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[Emulator, list[logging.LogRecord]]]:
    emu = Emulator(db=tmp_path / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with caplog.at_level(logging.ERROR), emu.running():
        yield emu, caplog.records


def _emulator_errors(records: list[logging.LogRecord]) -> list[str]:
    """ERROR records of the emulator and of uvicorn (an exception escaping the app logs there)."""
    return [r.getMessage()[:300] for r in records
            if r.levelno >= logging.ERROR and r.name.startswith(("smsconform.emulator", "uvicorn"))]


def test_the_control_api_passes_every_phase_and_check(served: tuple[Emulator, list[logging.LogRecord]]) -> None:
    emulator, records = served
    run = fuzzing.run(fuzzing.CONTROL, emulator.base_url)
    print(f"emulator-control: {run.requests} requests, phases {run.phases}")
    assert run.requests > 500
    assert run.phases.get("stateful") == "success", run.phases    # the document's links are followed
    assert run.failures == [], "\n".join(sorted(set(run.failures)))
    assert run.errors == [] and run.server_errors == []
    assert _emulator_errors(records) == []


@pytest.mark.parametrize("dialect", HTTP_DIALECTS)
def test_every_dialect_gives_no_server_error_and_no_traceback(served: tuple[Emulator, list[logging.LogRecord]],
                                                              dialect: str) -> None:
    emulator, records = served
    run = fuzzing.run(dialect, emulator.base_url)
    print(f"{dialect}: {run.requests} requests, phases {run.phases}")
    assert run.requests > 20
    assert run.server_errors == []
    assert _emulator_errors(records) == []
    assert run.failures == [], "\n".join(sorted(set(run.failures)))
    assert run.errors == []
