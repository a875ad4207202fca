"""Drive aiosmpplib (PyPI, in .interop-venv) as an ESME of the emulator, with the library's defaults.

    aiosmpplib_esme.py HOST PORT SYSTEM_ID PASSWORD SYSTEM_TYPE TIMEOUT < messages.json

stdin: a JSON list of {"log_id", "text", "destination"} with, optionally, SubmitSm's own "encoding",
"esm_class" and "auto_message_payload" (absent: the library's defaults).
stdout: one JSON object: the bind answer, each submit_sm_resp (status, message_id) and each receipt
(parsed by the library) by log_id, and the send errors. The test judges them; this script only drives.
It stops when every accepted message has a final receipt, or after TIMEOUT seconds.
"""
from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from aiosmpplib import ESME, PhoneNumber, SubmitSm
from aiosmpplib.hook import AbstractHook
from aiosmpplib.log import WARNING
from aiosmpplib.protocol import BindTransceiverResp, DeliverSm, GenericNack, SubmitSmResp
from aiosmpplib.state import NPI, TON

SOURCE = "5511930000000"  # the ESME's own long number, TON 1 NPI 1 as the seed's SMPP section says


class Recorder(AbstractHook):
    """Keeps what the library hands the application, in the order it arrives."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {"bind": None, "submits": {}, "receipts": {}, "errors": [], "nacks": 0}
        self.changed = asyncio.Event()

    async def sending(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        pass

    async def received(self, smpp_message: Any, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, BindTransceiverResp):
            self.result["bind"] = {"status": int(smpp_message.command_status),
                                   "sc_interface_version": smpp_message.sc_interface_version}
        elif isinstance(smpp_message, SubmitSmResp):
            self.result["submits"][smpp_message.log_id] = {"status": int(smpp_message.command_status),
                                                           "message_id": smpp_message.message_id}
        elif isinstance(smpp_message, DeliverSm) and smpp_message.is_receipt():
            receipt = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                       for k, v in smpp_message.parse_receipt().items()}
            self.result["receipts"].setdefault(smpp_message.log_id or "?", []).append(receipt)
        elif isinstance(smpp_message, GenericNack):
            self.result["nacks"] += 1
        self.changed.set()

    async def send_error(self, smpp_message: Any, error: Exception, client_id: str) -> None:
        self.result["errors"].append({"log_id": getattr(smpp_message, "log_id", None), "error": repr(error)})
        self.changed.set()

    def finished(self, expected: int) -> bool:
        submits = self.result["submits"]
        if len(submits) + len(self.result["errors"]) < expected:
            return False
        accepted = [log_id for log_id, answer in submits.items() if answer["status"] == 0]
        return all(any(r.get("stat") not in ("ENROUTE", "ACCEPTD") for r in self.result["receipts"].get(i, []))
                   for i in accepted)


async def main(host: str, port: int, system_id: str, password: str, system_type: str, timeout: float) -> None:
    messages = json.load(sys.stdin)
    hook = Recorder()
    esme = ESME(smsc_host=host, smsc_port=port, system_id=system_id, password=password,
                system_type=system_type, hook=hook, log_level=WARNING)
    for item in messages:
        extra = {key: item[key] for key in ("encoding", "esm_class", "auto_message_payload") if key in item}
        await esme.broker.enqueue(SubmitSm(
            short_message=item["text"], log_id=item["log_id"],
            source=PhoneNumber(SOURCE, TON.INTERNATIONAL, NPI.ISDN),
            destination=PhoneNumber(item["destination"], TON.INTERNATIONAL, NPI.ISDN), **extra))
    task = asyncio.create_task(esme.start())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not hook.finished(len(messages)) and loop.time() < deadline and not task.done():
        hook.changed.clear()
        try:
            await asyncio.wait_for(hook.changed.wait(), max(0.01, deadline - loop.time()))
        except TimeoutError:
            break
    if task.done() and task.exception() is not None:
        hook.result["errors"].append({"log_id": None, "error": repr(task.exception())})
    await esme.stop()
    print(json.dumps(hook.result))


if __name__ == "__main__":
    host, port, system_id, password, system_type, timeout = sys.argv[1:7]
    asyncio.run(main(host, int(port), system_id, password, system_type, float(timeout)))
