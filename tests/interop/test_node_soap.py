"""npm `soap` (node-soap 1.13), unchanged: it builds its client from the WSDL the emulator serves
(/wbsapi.asmx?WSDL, its address rewritten to the emulator's own) and runs all five wbsapi operations, over
SOAP 1.1 (port WBSAPISoap, text/xml) and SOAP 1.2 (port WBSAPISoap12, application/soap+xml)."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from interop_clients import NODE_DIR, drive, require_node_package
from emulator_process import EmulatorProcess
from wbsapi_scenario import SCENARIO, canonical, format_errors, scenario_errors

TIMEOUT = 20.0
ENVELOPES = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/ text/xml",
             "1.2": "http://www.w3.org/2003/05/soap-envelope application/soap+xml"}
"""SOAP 1.1 § 4 / § 6.1.1 and SOAP 1.2 Part 1 § 5, Part 2 § 7.1.4: each version's envelope and media type."""


@pytest.fixture(scope="session")
def runs(emulators: Callable[[str], EmulatorProcess],
         account: dict[str, str]) -> dict[str, dict[str, Any]]:
    emulator_process = emulators(__name__)
    node = require_node_package("soap")
    return {version: drive([node, str(NODE_DIR / "wbsapi_soap.js"), emulator_process.base_url,
                            account["system_id"], version], SCENARIO, TIMEOUT)
            for version in ENVELOPES}


@pytest.mark.parametrize("version", ENVELOPES)
def test_the_client_speaks_the_version_asked_for(version: str, runs: dict[str, dict[str, Any]]) -> None:
    assert runs[version]["envelopes"] == [ENVELOPES[version]]


@pytest.mark.parametrize("version", ENVELOPES)
def test_all_five_operations_answer_in_their_formats(version: str, runs: dict[str, dict[str, Any]]) -> None:
    answers = runs[version]
    assert not format_errors(answers) + scenario_errors(answers), answers


def test_soap_1_1_and_1_2_get_the_same_answers(runs: dict[str, dict[str, Any]]) -> None:
    assert canonical(runs["1.1"]) == canonical(runs["1.2"])
