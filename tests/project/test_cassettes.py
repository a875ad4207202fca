"""Cassettes: credentials never reach a cassette, recorded exchanges verify offline against the contracts,
a tampered answer is flagged precisely, an unsafe cassette is refused, and the documented exchanges
(cassettes/documented/) are current and check out.

`smsconform record` runs against a profile target (an in-process emulator reached with credentials of its
own, unique per run, through ${ENV} variables) on a few tests of the codes family (`-k`), so the test stays
quick while the exchanges are real.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import vcr
from vcr.request import Request

from smsconform.cassettes.scrub import AUTHORIZATION, PASSWORD, SECRET, USER, Scrubber
from smsconform.cassettes.store import read_cassette, write_cassette
from smsconform.cassettes.verify import verify_paths
from smsconform.contracts import load_contracts
from smsconform.emulator.server import Emulator
from smsconform.reports.redact import find_secrets

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = ROOT / "cassettes" / "documented"


def smsconform(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMSCONFORM_"))}
    return subprocess.run([sys.executable, "-m", "smsconform.cli", *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


# -- unit: what the before-record hooks leave of a request ------------------------------------------------
SECRETS = ("u7a1b2c3d", "op3rad0r-login", "S3nha/Forte 9!", "tok-5f1e2d3c4b5a")


def scrub(request: Request) -> Request | None:
    scrubber = Scrubber(SECRETS, keep=("http://target.test/",), drop=("http://target.test/_emulator",))
    before = vcr.VCR(record_mode="all", **scrubber.vcr_options()).get_merged_config(path="x")["before_record_request"]
    return before(request)


def text_of(request: Request) -> str:
    body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
    return f"{request.uri}\n{json.dumps(dict(request.headers))}\n{body}"


def test_credentials_become_placeholders_before_recording() -> None:
    basic = base64.b64encode(f"{SECRETS[1]}:{SECRETS[2]}".encode()).decode()
    cases = [
        Request("GET", f"http://target.test/sms/send?u={SECRETS[0]}&n=11991110001&m=oi", None, {}),
        Request("GET", f"http://target.test/sms/recv?h={SECRETS[0]}&di=2024-01-01", None, {}),
        Request("GET", f"http://target.test/webservice-rest/balance?user={SECRETS[1]}&password=S3nha%2FForte+9%21",
                None, {"Authorization": f"Basic {basic}"}),
        Request("POST", "http://target.test/webservice-rest/send-single",
                f"user={SECRETS[1]}&password=S3nha%2FForte+9%21&number=11991110001".encode(),
                {"Content-Type": "application/x-www-form-urlencoded"}),
        Request("POST", "http://target.test/painel/api.ashx?action=getbalance",
                json.dumps({"lgn": SECRETS[1], "pwd": SECRETS[2]}).encode(), {"Content-Type": "application/json"}),
        Request("POST", "http://target.test/webhook/api-sms", b'{"acao": "saldo"}',
                {"Authorization": f"Bearer {SECRETS[3]}", "Content-Type": "application/json"}),
        Request("POST", "http://target.test/wbsapi.asmx",
                f"<s:Envelope xmlns:s='x'><s:Body><sendUnique xmlns='http://tempuri.org/'><Identificacao>"
                f"{SECRETS[0]}</Identificacao><Telefone>11991110001</Telefone></sendUnique></s:Body></s:Envelope>"
                .encode(), {"Content-Type": "text/xml", "Content-Length": "999"}),
        Request("GET", f"http://target.test/users/{SECRETS[1]}/x", None, {"X-Login": SECRETS[1]}),
    ]
    for request in cases:
        kept = scrub(request)
        assert kept is not None
        assert not any(secret in text_of(kept) for secret in SECRETS), text_of(kept)
        assert basic not in text_of(kept)
    kept = [scrub(r) for r in cases]
    assert "u=%5BUSER%5D" in kept[0].uri or f"u={USER}" in kept[0].uri
    assert USER in kept[1].uri.replace("%5B", "[").replace("%5D", "]")
    assert kept[2].headers["Authorization"] == AUTHORIZATION
    assert PASSWORD in kept[3].body.decode() and USER in kept[3].body.decode()
    assert json.loads(kept[4].body) == {"lgn": USER, "pwd": PASSWORD}
    assert kept[5].headers["Authorization"] == AUTHORIZATION and kept[5].body == b'{"acao": "saldo"}'
    soap = kept[6].body.decode()
    assert f"<Identificacao>{USER}</Identificacao>" in soap and kept[6].headers["Content-Length"] == str(len(kept[6].body))
    assert SECRET in kept[7].uri and kept[7].headers["X-Login"] == SECRET


def test_cacl_hashes_are_kept_and_foreign_requests_dropped() -> None:
    md5 = "8eb339e2545a9e01d60e542d6798a4b5"
    kept = scrub(Request("GET", f"http://target.test/sms/cacl?u={SECRETS[0]}&h={md5}", None, {}))
    assert kept is not None and md5 in kept.uri  # h is a hash here, only recv's h is the user
    assert scrub(Request("POST", "http://target.test/_emulator/clock", b"{}", {})) is None
    assert scrub(Request("GET", "http://127.0.0.1:9999/callback?msisdn=1", None, {})) is None
    assert scrub(Request("GET", "http://target.test:80/sms/oper?u=x", None, {})) is not None  # same origin
    assert scrub(Request("GET", "https://target.test/sms/oper?u=x", None, {})) is None         # another one


def test_an_answer_that_echoes_a_credential_keeps_a_placeholder() -> None:
    scrubber = Scrubber(SECRETS)
    response = {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Length": ["40"]},
                "body": {"string": f"1;1;0;{SECRETS[1]};NOME;0;".encode()}}
    clean = scrubber.response(response)
    assert clean["body"]["string"] == f"1;1;0;{SECRET};NOME;0;".encode()
    assert clean["headers"]["Content-Length"] == [str(len(clean["body"]["string"]))]


# -- end to end: record a profile target, verify, tamper ----------------------------------------------------
LOGIN = f"cas-{uuid.uuid4().hex[:10]}"
PASSWORD_VALUE = f"Pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from smsconform.emulator.core.accounts import integration_user_for

    tmp = tmp_path_factory.mktemp("record")
    emulator = Emulator(db=tmp / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    emulator.core.accounts.create({"login": LOGIN, "password": PASSWORD_VALUE, "token": f"tok-{PASSWORD_VALUE}",
                                   "credits": {"long": 100000, "flash": 100000, "short": 100000},
                                   "cost_centres": ["PRINCIPAL"]}, "recorded")
    user = integration_user_for(LOGIN)
    contracts = load_contracts()
    numbers = contracts.emulator_profile["numbers"]
    with emulator.running():
        lines = ['name = "sandbox recorded"', "[dialects.mensagem]", f'base_url = "{emulator.base_url}"',
                 "[dialects.mensagem.credentials]", 'u = "${SC_RECORD_U}"', "[fixtures.numbers]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in numbers.items()]
        lines += ["[fixtures.accounts.no_credits.mensagem]",
                  f'u = "{contracts.emulator_profile["accounts"]["no_credits"]["integration_user"]}"',
                  "[time]", 'mode = "control"', f'control_url = "{emulator.base_url}/_emulator"']
        profile = tmp / "recorded.toml"
        profile.write_text("\n".join(lines) + "\n")
        root = tmp / "cassettes"
        proc = smsconform("record", "--target", str(profile), "--dialect", "mensagem", "--cassettes", str(root),
                          "-k", "test_code_is_answered_exactly and mensagem.send", env={"SC_RECORD_U": user})
        yield {"proc": proc, "root": root, "secrets": (user, LOGIN, PASSWORD_VALUE), "tmp": tmp}


def test_record_writes_cassettes_without_any_secret(recording: dict) -> None:
    proc = recording["proc"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    target_dir = recording["root"] / "sandbox_recorded" / "mensagem"
    cassette = target_dir / "test_codes.yaml"
    assert cassette.is_file(), sorted(p.name for p in recording["root"].rglob("*"))
    interactions, metadata = read_cassette(cassette)
    assert len(interactions) >= 10 and metadata["target"] == "sandbox recorded"
    assert all(i.meta["test"].startswith("tests/conformance/test_codes.py::") for i in interactions)
    assert not any("/_emulator" in i.request.uri for i in interactions)  # the control API is not the target's
    text = cassette.read_text(encoding="utf-8")
    assert "u=%5BUSER%5D" in text  # the credential was there, and was replaced
    assert find_secrets([recording["root"]], recording["secrets"]) == []
    assert not any(secret in text for secret in recording["secrets"])


def test_recorded_exchanges_verify_against_the_contracts(recording: dict) -> None:
    proc = smsconform("verify-cassettes", str(recording["root"]))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert " 0 differences" in proc.stdout


def test_a_tampered_code_text_is_flagged_precisely(recording: dict) -> None:
    source = recording["root"] / "sandbox_recorded" / "mensagem" / "test_codes.yaml"
    tampered = recording["tmp"] / "tampered" / "mensagem" / "test_codes.yaml"
    interactions, metadata = read_cassette(source)
    index = next(i for i, inter in enumerate(interactions) if inter.text.startswith("97;CREDITOS INSUFICIENTES"))
    body = interactions[index].response["body"]["string"]
    interactions[index].response["body"]["string"] = body.replace(b"CREDITOS INSUFICIENTES", b"CREDITO INSUFICIENTE")
    write_cassette(tampered, interactions, metadata)
    proc = smsconform("verify-cassettes", str(tampered))
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if line.startswith(str(tampered))]
    assert lines == [
        f"{tampered}#{index} mensagem.send GET /sms/send: [text] code 97 (line 1) reads 'CREDITO INSUFICIENTE'; "
        f"code:mensagem.send.97 says 'CREDITOS INSUFICIENTES' [003_68e2ce3a2fd1e408.txt § Envio de SMS Simples]"
    ]
    assert "1 differences" in proc.stdout


def test_a_changed_code_and_a_broken_format_are_flagged(recording: dict) -> None:
    source = recording["root"] / "sandbox_recorded" / "mensagem" / "test_codes.yaml"
    interactions, metadata = read_cassette(source)
    first = next(i for i, inter in enumerate(interactions) if inter.text.startswith("97;"))
    second = next(i for i, inter in enumerate(interactions) if inter.text.startswith("1;"))
    interactions[first].response["body"]["string"] = b"970;CREDITOS INSUFICIENTES"
    interactions[second].response["body"]["string"] = b"1|d41d8cd98f00b204e9800998ecf8427e"
    path = write_cassette(recording["tmp"] / "changed" / "mensagem" / "x.yaml", interactions, metadata)
    result = verify_paths([path])
    found = {(d.index, d.check) for d in result.failures}
    assert (first, "code") in found and (second, "grammar") in found, result.failures
    assert {d.index for d in result.failures} == {first, second}  # nothing else in the cassette is flagged


def test_an_unsafe_cassette_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cassette = tmp_path / "mensagem" / "evil.yaml"
    cassette.parent.mkdir()
    cassette.write_text(f"interactions:\n- request: !!python/object/apply:os.system ['touch {marker}']\n"
                        "  response: {}\nversion: 1\n")
    proc = smsconform("verify-cassettes", str(cassette))
    assert proc.returncode == 1 and "[load]" in proc.stdout and "not a safe vcrpy cassette" in proc.stdout
    assert not marker.exists()


def test_verify_cassettes_without_cassettes_is_a_usage_error(tmp_path: Path) -> None:
    assert smsconform("verify-cassettes", str(tmp_path / "missing")).returncode == 2
    assert smsconform("verify-cassettes", str(tmp_path)).returncode == 2


# -- the documented exchanges ------------------------------------------------------------------------------------
def test_documented_cassettes_are_current() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "documented-cassettes"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_documented_cassettes_verify_with_only_known_contradictions() -> None:
    result = verify_paths([DOCUMENTED])
    assert result.files == 4 and result.interactions >= 25
    assert result.failures == [], "\n".join(map(str, result.failures))
    contradictions = {c.id for c in load_contracts().catalog.contradictions}
    for difference in result.differences:  # each known one names contradictions the catalog records
        assert set(difference.known.split(", ")) <= contradictions, difference


def test_documented_cassettes_replay_in_vcrpy() -> None:
    import httpx

    cassette = DOCUMENTED / "mensagem.yaml"
    interactions, _ = read_cassette(cassette)
    first = interactions[0]
    with vcr.use_cassette(str(cassette), record_mode="none"):
        with httpx.Client() as client:
            answer = client.get(first.request.uri)
    assert answer.status_code == 200 and answer.text == first.text
