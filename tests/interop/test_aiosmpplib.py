"""PyPI `aiosmpplib` (0.7) as an ESME, unchanged: its default GSM 03.38, Latin-1 and UCS-2 (the
encodings SubmitSm takes), and long messages the three ways it sends them: message_payload (its default
above 254 octets), UDH segments (esm_class 0x40) and SAR segments.

SMPP 3.4 § 5.2.19 (data_coding 0, 3, 8), § 5.2.17 (a receipt for every submit_sm that asked for one: the
library asks on every segment and hands the application a segmented message's receipt only once every
segment has had its own, matched by the id that segment's submit_sm_resp gave), Appendix B."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from interop_clients import DRIVERS, drive_esme, require_interop_python
from emulator_process import EmulatorProcess
from interop_expected import ESME_ROK, FINAL_STATS, VALID, receipt_stat, stored_texts

TIMEOUT = 8.0
LONG = "Mensagem longa de interop, parte por parte: " * 7  # 308 GSM characters: 2 segments, > 254 octets
MESSAGES = [
    {"log_id": "gsm", "text": "Ola, mundo: teste de interop", "destination": "55" + VALID[0]},
    {"log_id": "latin1", "text": "Olá, ação e opção às 10h", "destination": "55" + VALID[1], "encoding": "latin_1"},
    {"log_id": "ucs2", "text": "Olá ✓ confirmação", "destination": "55" + VALID[2], "encoding": "ucs2"},
    {"log_id": "long_payload", "text": LONG, "destination": "55" + VALID[3]},
    {"log_id": "long_udh", "text": LONG.upper(), "destination": "55" + VALID[4], "esm_class": 0x40,
     "auto_message_payload": False},
    {"log_id": "long_sar", "text": LONG.lower(), "destination": "55" + VALID[0], "auto_message_payload": False},
]
BY_ID = {m["log_id"]: m for m in MESSAGES}


@pytest.fixture(scope="session")
def session(emulators: Callable[[str], EmulatorProcess], account: dict[str, str]) -> dict[str, Any]:
    python = require_interop_python("aiosmpplib")
    return drive_esme([python, str(DRIVERS / "aiosmpplib_esme.py")], emulators(__name__), account, MESSAGES,
                      TIMEOUT)


def test_bind_is_accepted(session: dict[str, Any]) -> None:
    assert session["bind"] is not None and session["bind"]["status"] == ESME_ROK, session


@pytest.mark.parametrize("log_id", BY_ID)
def test_each_message_is_accepted_and_decoded(log_id: str, session: dict[str, Any],
                                              emulator_process: EmulatorProcess) -> None:
    answer = session["submits"].get(log_id)
    assert answer is not None and answer["status"] == ESME_ROK, (answer, session)
    message = BY_ID[log_id]
    assert message["text"] in stored_texts(emulator_process, message["destination"][2:])


@pytest.mark.parametrize("log_id", BY_ID)
def test_each_message_gets_its_final_receipt(log_id: str, session: dict[str, Any]) -> None:
    """The library hands the application a receipt only once it has matched it with the message_id it
    was given (for a segmented message, once every segment's receipt has come)."""
    receipts = session["receipts"].get(log_id, [])
    finals = [r["stat"] for r in receipts if r.get("stat") in FINAL_STATS]
    assert finals == [receipt_stat("delivered")], (session["submits"].get(log_id), session["receipts"])
    if "auto_message_payload" not in BY_ID[log_id]:  # one submit_sm: its receipt carries its id
        assert receipts[-1]["id"] == session["submits"][log_id]["message_id"]
