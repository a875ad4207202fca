"""npm `smpp` (node-smpp 0.5) as an ESME, unchanged and with its defaults: it binds with
interface_version 0x50 and picks data_coding from the text (0x01 ASCII, 0x03 LATIN1, 0x08 UCS2).

SMPP 3.4 § 2.2 and § 5.3.2.25: an SMSC answers a bind from a later version with its own version in
sc_interface_version; § 5.2.19 defines data_coding 1, 3 and 8; § 5.2.17 a receipt for a message that asked
for one, carrying the message_id submit_sm_resp gave (Appendix B id:)."""
from __future__ import annotations

import subprocess
from typing import Any, Callable

import pytest

from interop_clients import NODE_DIR, drive_esme, require_node_package
from emulator_process import EmulatorProcess
from interop_expected import (ESME_ROK, FINAL_STATS, SC_INTERFACE_VERSION, VALID, receipt_stat,
                              stored_texts)

TIMEOUT = 8.0
MESSAGES = [
    {"tag": "ascii", "text": "Ola, mundo: teste de interop", "destination": "55" + VALID[0], "encoding": "ASCII"},
    {"tag": "latin1", "text": "Olá, ação e opção às 10h", "destination": "55" + VALID[1], "encoding": "LATIN1"},
    {"tag": "ucs2", "text": "Olá ✓ confirmação", "destination": "55" + VALID[2], "encoding": "UCS2"},
]
BY_TAG = {m["tag"]: m for m in MESSAGES}


@pytest.fixture(scope="session")
def session(emulators: Callable[[str], EmulatorProcess], account: dict[str, str]) -> dict[str, Any]:
    """One node-smpp session: bind, submit every message, wait for their receipts (the clock moving)."""
    node = require_node_package("smpp")
    return drive_esme([node, str(NODE_DIR / "smpp_esme.js")], emulators(__name__), account, MESSAGES, TIMEOUT)


def test_bind_with_the_library_default_version_is_answered_with_3_4(session: dict[str, Any]) -> None:
    assert session["bind"] == {"status": ESME_ROK, "sc_interface_version": SC_INTERFACE_VERSION}, session


@pytest.mark.parametrize("tag", BY_TAG)
def test_the_library_picks_the_data_coding_under_test(tag: str) -> None:
    """Guards the other tests: each message is one node-smpp encodes in the coding it is named for."""
    node = require_node_package("smpp")
    script = "process.stdout.write(require('smpp').encodings.detect(process.argv[1]))"
    detected = subprocess.run([node, "-e", script, BY_TAG[tag]["text"]], cwd=NODE_DIR, capture_output=True,
                              text=True, check=True)
    assert detected.stdout == BY_TAG[tag]["encoding"]


@pytest.mark.parametrize("tag", BY_TAG)
def test_each_data_coding_is_accepted_and_decoded(tag: str, session: dict[str, Any],
                                                  emulator_process: EmulatorProcess) -> None:
    answer = session["submits"].get(tag)
    assert answer is not None and answer["status"] == ESME_ROK, (answer, session)
    assert stored_texts(emulator_process, BY_TAG[tag]["destination"][2:]) == [BY_TAG[tag]["text"]]


@pytest.mark.parametrize("tag", BY_TAG)
def test_each_message_gets_its_final_receipt(tag: str, session: dict[str, Any]) -> None:
    answer = session["submits"].get(tag) or {}
    receipts = [r for r in session["receipts"] if r["id"] == answer.get("message_id")]
    finals = [r for r in receipts if r["stat"] in FINAL_STATS]
    assert answer.get("status") == ESME_ROK and [r["stat"] for r in finals] == [receipt_stat("delivered")], \
        (answer, session["receipts"])
