"""Drive smpplib (PyPI, in .interop-venv) as an ESME of the emulator, the way its README sends a long
message: smpplib.gsm.make_parts, then one submit_sm per part, each asking for a receipt.

    smpplib_esme.py HOST PORT SYSTEM_ID PASSWORD SYSTEM_TYPE TIMEOUT < messages.json

stdin: a JSON list of {"tag", "text", "destination"}. stdout: one JSON object: each message's parts (the
status and message_id of each part's submit_sm_resp) and every receipt (receipted_message_id, the stat of
its text). The test judges them; this script only drives. It stops when every accepted part has a final
receipt, or after TIMEOUT seconds.
"""
from __future__ import annotations

import json
import re
import select
import sys
import time
import warnings
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.gsm

warnings.filterwarnings("ignore", category=DeprecationWarning)
SOURCE = "5511930000000"  # the ESME's own long number, TON 1 NPI 1 as the seed's SMPP section says
INTERMEDIATE = {"ENROUTE", "ACCEPTD"}


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value or "")


def main(host: str, port: int, system_id: str, password: str, system_type: str, timeout: float) -> None:
    messages = json.load(sys.stdin)
    result: dict[str, Any] = {"parts": {}, "receipts": []}
    by_sequence: dict[int, tuple[str, int]] = {}
    client = smpplib.client.Client(host, port, timeout=timeout, allow_unknown_opt_params=True)

    def sent(pdu: Any) -> None:
        tag, index = by_sequence[pdu.sequence]
        result["parts"][tag][index] = {"status": pdu.status, "message_id": _text(pdu.message_id)}

    def received(pdu: Any) -> None:
        text = _text(pdu.short_message)
        stat = re.search(r"stat:(\w+)", text)
        result["receipts"].append({"id": _text(pdu.receipted_message_id) or None,
                                   "stat": stat.group(1) if stat else None})

    client.set_message_sent_handler(sent)
    client.set_message_received_handler(received)
    client.connect()
    client.bind_transceiver(system_id=system_id, password=password, system_type=system_type)
    for item in messages:
        parts, coding, esm_class = smpplib.gsm.make_parts(item["text"])
        result["parts"][item["tag"]] = [None] * len(parts)
        for index, part in enumerate(parts):
            pdu = client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_INTL, source_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                source_addr=SOURCE, dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN, destination_addr=item["destination"],
                short_message=part, data_coding=coding, esm_class=esm_class, registered_delivery=True)
            by_sequence[pdu.sequence] = (item["tag"], index)

    def finished() -> bool:
        answers = [a for parts in result["parts"].values() for a in parts]
        if None in answers:
            return False
        final = {r["id"] for r in result["receipts"] if r["stat"] not in INTERMEDIATE}
        return all(a["message_id"] in final for a in answers if a["status"] == 0)

    deadline = time.monotonic() + timeout
    while not finished() and time.monotonic() < deadline:
        readable, _, _ = select.select([client._socket], [], [], max(0.0, min(0.2, deadline - time.monotonic())))
        if readable:
            client.read_once()
    print(json.dumps(result))
    client.unbind()
    client.disconnect()


if __name__ == "__main__":
    host, port, system_id, password, system_type, timeout = sys.argv[1:7]
    main(host, int(port), system_id, password, system_type, float(timeout))
