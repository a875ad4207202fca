"""ServiceSms.asmx in cassettes: `smsconform record` keeps its SOAP exchanges without the login or the
password (User and Pwd travel in the body), and `verify-cassettes` checks them offline against
servicesms.xsd, painel#soap_answer and the catalog's servicesms codes; a tampered text is flagged.

Recorded against a profile target: an in-process emulator reached with an account of its own, unique per
run, its credentials given through ${ENV} variables, on the codes family's servicesms tests (`-k`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from smsconform.cassettes.store import read_cassette, write_cassette
from smsconform.cassettes.verify import verify_paths
from smsconform.contracts import load_contracts
from smsconform.emulator.server import Emulator
from smsconform.reports.redact import find_secrets

LOGIN = f"soap-{uuid.uuid4().hex[:10]}"
PASSWORD_VALUE = f"Pw-{uuid.uuid4().hex}"


def smsconform(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMSCONFORM_"))}
    return subprocess.run([sys.executable, "-m", "smsconform.cli", *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("record-servicesms")
    emulator = Emulator(db=tmp / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    emulator.core.accounts.create({"login": LOGIN, "password": PASSWORD_VALUE, "token": f"tok-{PASSWORD_VALUE}",
                                   "credits": {"long": 100000, "flash": 100000, "short": 100000},
                                   "cost_centres": ["PRINCIPAL"]}, "recorded")
    contracts = load_contracts()
    profile_accounts = contracts.emulator_profile["accounts"]
    with emulator.running():
        lines = ['name = "sandbox soap"', "[dialects.servicesms]", f'base_url = "{emulator.base_url}"',
                 "[dialects.servicesms.credentials]", 'user = "${SC_LGN}"', 'pwd = "${SC_PWD}"', "[fixtures.numbers]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in contracts.emulator_profile["numbers"].items()]
        lines += ["[fixtures.accounts.no_credits.servicesms]", f'user = "{profile_accounts["no_credits"]["login"]}"',
                  f'pwd = "{profile_accounts["no_credits"]["password"]}"',
                  "[time]", 'mode = "control"', f'control_url = "{emulator.base_url}/_emulator"']
        profile = tmp / "soap.toml"
        profile.write_text("\n".join(lines) + "\n")
        root = tmp / "cassettes"
        proc = smsconform("record", "--target", str(profile), "--dialect", "servicesms", "--cassettes", str(root),
                          "-k", "test_code_is_answered_exactly and servicesms",
                          env={"SC_LGN": LOGIN, "SC_PWD": PASSWORD_VALUE})
        yield {"proc": proc, "root": root, "tmp": tmp}


def cassette(recording: dict) -> Path:
    return recording["root"] / "sandbox_soap" / "servicesms" / "test_codes.yaml"


def test_record_keeps_soap_exchanges_without_the_login(recording: dict) -> None:
    proc = recording["proc"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    interactions, _ = read_cassette(cassette(recording))
    soap = [i for i in interactions if i.method == "POST" and "ServiceSms.asmx" in i.request.uri]
    assert len(soap) >= 10
    assert find_secrets([recording["root"]], (LOGIN, PASSWORD_VALUE)) == []


def test_recorded_soap_exchanges_verify(recording: dict) -> None:
    proc = smsconform("verify-cassettes", str(recording["root"]))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert " 0 differences" in proc.stdout


def test_a_tampered_hold_text_is_flagged(recording: dict) -> None:
    interactions, metadata = read_cassette(cassette(recording))
    index = next(i for i, inter in enumerate(interactions) if ">0:ERRO OCORRIDO<" in inter.text)
    body = interactions[index].response["body"]["string"]
    interactions[index].response["body"]["string"] = body.replace(b">0:ERRO OCORRIDO<", b">0:ERRO<")
    path = write_cassette(recording["tmp"] / "tampered" / "servicesms" / "x.yaml", interactions, metadata)
    result = verify_paths([path])
    assert [(d.index, d.check) for d in result.failures] == [(index, "text")], result.failures
