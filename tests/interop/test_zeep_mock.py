"""zeep (PyPI, 4.3), unchanged, runs all five wbsapi operations through the in-process mock
`smsconform.emulator.mock()` (zeep uses requests, which the mock patches) and against a real emulator
process: the mock must serve a real SOAP client the answers the server serves it."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from interop_clients import DRIVERS, drive, require_interop_python
from emulator_process import EmulatorProcess
from wbsapi_scenario import SCENARIO, canonical, format_errors, scenario_errors

TIMEOUT = 30.0
MOCK_DEFAULT_URL = "http://127.0.0.1:2738"
"""mock()'s own default base URL: nothing listens there for these tests (the mock opens no socket, and it
runs with passthrough=False, so a request that escaped it would be refused, not sent)."""
MOCK_OTHER_URL = "http://sandbox.interop.invalid"
"""A provider host a developer would mock instead (README: mock("https://sandbox.example"))."""


def _zeep(mode: str, base_url: str, account: dict[str, str]) -> dict[str, Any]:
    python = require_interop_python("zeep")
    return drive([python, str(DRIVERS / "zeep_wbsapi.py"), mode, base_url, account["system_id"]], SCENARIO,
                 TIMEOUT)


@pytest.fixture(scope="session")
def server_answers(emulators: Callable[[str], EmulatorProcess],
                   account: dict[str, str]) -> dict[str, Any]:
    emulator_process = emulators(__name__)
    return _zeep("--server", emulator_process.base_url, account)


@pytest.fixture(scope="session")
def mock_answers(account: dict[str, str]) -> dict[str, Any]:
    return _zeep("--mock", MOCK_DEFAULT_URL, account)


def test_zeep_runs_all_five_operations_against_the_server(server_answers: dict[str, Any]) -> None:
    assert not format_errors(server_answers) + scenario_errors(server_answers), server_answers


def test_zeep_runs_all_five_operations_through_the_mock(mock_answers: dict[str, Any]) -> None:
    assert not format_errors(mock_answers) + scenario_errors(mock_answers), mock_answers


def test_the_mock_answers_zeep_as_the_server_does(server_answers: dict[str, Any],
                                                  mock_answers: dict[str, Any]) -> None:
    assert canonical(mock_answers) == canonical(server_answers)


def test_zeep_works_through_a_mock_of_another_base_url(account: dict[str, str]) -> None:
    answers = _zeep("--mock", MOCK_OTHER_URL, account)
    assert not format_errors(answers) + scenario_errors(answers), answers
