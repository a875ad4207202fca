"""What the interop tests expect of the emulator, read from the contracts (never written here):
the delivered receipt's stat, the version an SMSC answers a bind with, the fixture numbers."""
from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from emulator_process import EmulatorProcess
from smsconform.contracts import load_contracts
from smsconform.emulator.smpp.pdu import Status

CONTRACTS = load_contracts()
SMPP = CONTRACTS.smpp
PROFILE = CONTRACTS.emulator_profile


def _numbers(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(i["number"] if isinstance(i, dict) else i) for i in items]


VALID = _numbers(PROFILE["numbers"]["valid"])
"""National numbers (DDD first) the emulator delivers."""
ESME_ROK = int(Status.ESME_ROK)
SC_INTERFACE_VERSION = int(SMPP["version"]["interface_version"])
"""SMPP 3.4 § 5.3.2.25: the version an SMSC answers any bind with, whatever the ESME announced."""


def receipt_stat(core_state: str) -> str:
    """The receipt stat of a core state: codes.yaml smpp.dlr gives its DLR code, the profile its stat."""
    code = int(CONTRACTS.catalog.by_reason("smpp", "dlr", core_state).code)
    return str(next(row["stat"] for row in SMPP["dlr"]["codes"] if int(row["code"]) == code))


FINAL_STATS = frozenset(str(row["stat"]) for row in SMPP["dlr"]["codes"] if row["final"])


def stored_texts(emulator: EmulatorProcess, number: str) -> list[str]:
    """The texts of the SMPP messages the emulator took for ``number`` (national form), oldest first.

    Read from the emulator's own SQLite file, read-only: no dialect answers a message's text back, and
    the text is what proves a data_coding was decoded right (a receipt's text: field is cut to 20
    characters and rendered in the receipt's own alphabet). The schema is DEVELOPERS.md's: a recipients
    row under the submissions row owning ids id..last_id."""
    with contextlib.closing(sqlite3.connect(f"file:{emulator.db_path}?mode=ro", uri=True, timeout=5)) as db:
        rows = db.execute(
            "SELECT s.text FROM recipients r JOIN submissions s ON r.id BETWEEN s.id AND s.last_id "
            "WHERE r.number = ? AND s.dialect = 'smpp' ORDER BY r.id", (number,)).fetchall()
    return [str(text) for (text,) in rows]
