"""Drive zeep (PyPI, in .interop-venv) through all five wbsapi operations, from the served WSDL.

    zeep_wbsapi.py --server BASE_URL IDENTIFICACAO < scenario.json    # a running emulator process
    zeep_wbsapi.py --mock BASE_URL IDENTIFICACAO < scenario.json      # smsconform.emulator.mock()

With --mock no socket is opened: zeep's requests session is answered in-process by mock() (it patches
requests through responses), which is what a client developer's test does. stdout: one JSON object, each
operation's result string. The test compares the two runs; this script only drives.
"""
from __future__ import annotations

import contextlib
import json
import sys
from datetime import datetime
from typing import Any, Iterator

import requests
import zeep


def run(base_url: str, identificacao: str, scenario: dict[str, Any]) -> dict[str, str]:
    client = zeep.Client(f"{base_url}/wbsapi.asmx?WSDL")
    service = client.bind("WBSAPI", "WBSAPISoap")
    first = lambda answer: answer.split(";")[1]  # noqa: E731 (the hash of "1;<md5>[;number]")
    out: dict[str, str] = {}
    out["sendUnique"] = service.sendUnique(Identificacao=identificacao, Telefone=scenario["unique"]["number"],
                                           Mensagem=scenario["unique"]["text"])
    out["sendUniqueScheduled"] = service.sendUnique(
        Identificacao=identificacao, Telefone=scenario["scheduled"]["number"],
        Mensagem=scenario["scheduled"]["text"], Agenda=datetime.fromisoformat(scenario["scheduled"]["at"]))
    out["sendMultiple"] = service.sendMultiple(Identificacao=identificacao, Conteudo=scenario["multiple"])
    hashes = [first(out["sendUnique"]), *(first(line) for line in out["sendMultiple"].splitlines() if line)]
    out["status"] = service.status(Identificacao=identificacao, Hash=";".join(hashes))
    out["cancel"] = service.cancel(Identificacao=identificacao, Hash=first(out["sendUniqueScheduled"]))
    mo = requests.post(f"{base_url}/_emulator/mo", timeout=10,
                       json={"number": scenario["unique"]["number"], "text": scenario["mo"],
                             "reply_to": first(out["sendUnique"])})
    mo.raise_for_status()
    out["inBox"] = service.inBox(Identificacao=identificacao)
    return out


@contextlib.contextmanager
def in_process(base_url: str) -> Iterator[None]:
    from smsconform.emulator import mock

    # passthrough=False: a request that escaped the mock would be refused, never sent to a real port.
    with mock(base_url, frozen=True, passthrough=False):
        yield


def main(mode: str, base_url: str, identificacao: str) -> None:
    scenario = json.load(sys.stdin)
    context = in_process(base_url) if mode == "--mock" else contextlib.nullcontext()
    with context:
        print(json.dumps(run(base_url, identificacao, scenario)))


if __name__ == "__main__":
    main(*sys.argv[1:4])
