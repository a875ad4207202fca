"""PyPI `smpplib` (2.2), unchanged, sends a long message as its README does: smpplib.gsm.make_parts, one
submit_sm per UDH part, each with registered_delivery 1. SMPP 3.4 § 5.2.17: every part that asked for a
receipt gets one, carrying the message_id that part's submit_sm_resp gave (Appendix B)."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from emulator_process import EmulatorProcess
from interop_clients import DRIVERS, drive_esme, require_interop_python
from interop_expected import ESME_ROK, FINAL_STATS, VALID, receipt_stat

TIMEOUT = 8.0
MESSAGES = [
    {"tag": "long_gsm", "text": "Mensagem longa do smpplib, em partes com UDH. " * 5, "destination": "55" + VALID[0]},
    {"tag": "long_ucs2", "text": "Mensagem longa com acentuação: ção, não. " * 3, "destination": "55" + VALID[1]},
]


@pytest.fixture(scope="session")
def smpplib_run(emulators: Callable[[str], EmulatorProcess], account: dict[str, str]) -> dict[str, Any]:
    python = require_interop_python("smpplib")
    return drive_esme([python, str(DRIVERS / "smpplib_esme.py")], emulators(__name__), account, MESSAGES,
                      TIMEOUT)


@pytest.mark.parametrize("tag", [m["tag"] for m in MESSAGES])
def test_every_part_is_accepted_with_an_id_of_its_own(tag: str, smpplib_run: dict[str, Any]) -> None:
    parts = smpplib_run["parts"][tag]
    assert len(parts) > 1 and all(p is not None and p["status"] == ESME_ROK for p in parts), parts
    assert len({p["message_id"] for p in parts}) == len(parts), parts


@pytest.mark.parametrize("tag", [m["tag"] for m in MESSAGES])
def test_every_part_gets_its_final_receipt(tag: str, smpplib_run: dict[str, Any]) -> None:
    for part in smpplib_run["parts"][tag]:
        finals = [r["stat"] for r in smpplib_run["receipts"]
                  if r["id"] == (part or {}).get("message_id") and r["stat"] in FINAL_STATS]
        assert finals == [receipt_stat("delivered")], (part, smpplib_run["receipts"])
