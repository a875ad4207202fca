"""Kannel 1.4 (Debian's bearerbox + smsbox), the gateway the field uses, as an SMPP ESME of the emulator.

Messages go in through smsbox's sendsms HTTP interface, as an application sends them, each with dlr-mask
31 (every report: delivered, failed, buffered, SMSC accepted, SMSC rejected) and a dlr-url of its own on a
loopback receiver. Kannel keeps its SMPP defaults (tests/interop/kannel.py): a number without "+" goes out
as dest_addr_ton 2 (national) NPI 1, a long message as UDH-concatenated parts with a receipt asked for on
part 1 (registered_delivery 0x11), and a receipt is matched by the message_id of the part that asked.

SMPP 3.4 § 5.2.5 (TON 2 national), § 5.2.17 (a receipt for every submit_sm that asked for one, with the id
its submit_sm_resp gave), § 5.2.19 (data_coding 8, UCS-2), Appendix B (the receipt's stat)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

from interop_clients import require
from emulator_process import EmulatorProcess
from interop_expected import VALID, receipt_stat, stored_texts
from dlr_receiver import HttpReceiver
from kannel_gateway import BEARERBOX, SMSBOX, Kannel, SmscAccount

REPORT_TIMEOUT = 15.0
SENDER = "5511930000000"  # the application's long number (from=), as the seed's SMPP section numbers it
# Kannel's DLR types (dlr-mask bits, the %d of a dlr-url): 1 delivered, 2 failed, 4 buffered, 8 SMSC
# accepted the submit_sm, 16 SMSC rejected it.
DELIVERED, FAILED, SMSC_ACCEPTED, SMSC_REJECTED = "1", "2", "8", "16"
FINAL_TYPES = {DELIVERED, FAILED, SMSC_REJECTED}
LONG = ("Mensagem longa enviada pelo Kannel ao emulador: ela passa de 160 caracteres GSM, por isso vai em "
        "duas partes concatenadas por UDH, e cada parte que pediu recibo deve recebe-lo. Fim.")
MESSAGES = {
    "gsm": {"to": VALID[0], "text": "Teste GSM: 100% {ok} [sim] @ 10h"},
    "ucs2": {"to": VALID[1], "text": "Olá, ação às 10h: confirmação ✓", "coding": "2", "charset": "UTF-8"},
    "long": {"to": VALID[2], "text": LONG},
}


@pytest.fixture(scope="session")
def receiver() -> Iterator[HttpReceiver]:
    rec = HttpReceiver()
    yield rec
    rec.close()


@pytest.fixture(scope="session")
def kannel(emulators: Callable[[str], EmulatorProcess], account: dict[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kannel]:
    require("Debian's kannel (bearerbox, smsbox)", BEARERBOX.exists() and SMSBOX.exists())
    emulator_process = emulators(__name__)
    gateway = Kannel(Path(tmp_path_factory.mktemp("kannel")),
                     SmscAccount(emulator_process.smpp_port, account["system_id"], account["password"],
                                 account["system_type"]))
    try:
        gateway.start()
        yield gateway
    finally:
        gateway.stop()


def test_every_message_gets_every_report_at_its_dlr_url(kannel: Kannel, receiver: HttpReceiver,
                                                        emulator_process: EmulatorProcess) -> None:
    assert len(LONG) > 160
    for tag, message in MESSAGES.items():
        params = {k: v for k, v in message.items() if k != "to"}
        answer = kannel.sendsms(to=message["to"], **{"from": SENDER, "dlr-mask": "31",
                                "dlr-url": f"{receiver.url}/dlr/{tag}?type=%d&answer=%A&id=%F"}, **params)
        assert answer.status_code == 202, f"sendsms {tag}: {answer.status_code} {answer.text}\n{kannel.logs()}"

    def reports(tag: str, received: list[tuple[str, dict[str, str]]]) -> list[dict[str, str]]:
        return [query for path, query in received if path == f"/dlr/{tag}"]

    def all_final(received: list[tuple[str, dict[str, str]]]) -> bool:
        return all(FINAL_TYPES & {r["type"] for r in reports(tag, received)} for tag in MESSAGES)

    with emulator_process.clock_running():
        received = receiver.wait_until(all_final, REPORT_TIMEOUT)

    problems = []
    for tag, message in MESSAGES.items():
        got = reports(tag, received)
        types = [r["type"] for r in got]
        delivered = [r for r in got if r["type"] == DELIVERED]
        if SMSC_ACCEPTED not in types or SMSC_REJECTED in types or FAILED in types:
            problems.append(f"{tag}: the SMSC's answers were {got}")
        elif not delivered or f"stat:{receipt_stat('delivered')}" not in delivered[0]["answer"]:
            problems.append(f"{tag}: no delivery report at its dlr-url (reports: {got})")
        texts = stored_texts(emulator_process, message["to"])
        if texts != [message["text"]]:
            problems.append(f"{tag}: the emulator took {texts!r}, Kannel was given {message['text']!r}")
    tons = set(re.findall(r"dest_addr_ton: (\d+)", kannel.smsc_log()))
    assert tons == {"2"}, f"Kannel was to send its default TON 2, it sent {tons}"
    assert not problems, "\n".join(problems) + "\n" + kannel.logs() + "\n--- emulator ---\n" + emulator_process.log()
