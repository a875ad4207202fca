"""`smsconform certify`: the embedded emulator certifies (exit 0, three reports, every catalog rule in
results.json, no credential in any report), and every usage or target error exits 2 with a message that
names the key or the address, without a traceback.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from smsconform.contracts import load_contracts
from smsconform.reports.identity import emulator_secrets
from smsconform.reports.redact import find_secrets


def smsconform(*args: str, env: dict[str, str] | None = None, timeout: float = 240,
               cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMSCONFORM_"))}
    return subprocess.run([sys.executable, "-m", "smsconform.cli", *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


@pytest.fixture(scope="module")
def emulator_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    where = tmp_path_factory.mktemp("certify")  # run from here, as CI runs it from a checkout
    reports = where / "reports"
    proc = smsconform("certify", "--dialect", "mensagem", "--reports", str(reports), "-n", "2", cwd=where,
                      env={"XDG_CACHE_HOME": str(where / "cache")})
    return proc, reports


def test_certify_keeps_hypothesis_caches_out_of_the_directory_it_runs_in(emulator_run) -> None:
    proc, reports = emulator_run
    where = reports.parent
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (where / ".hypothesis").exists()
    assert (where / "cache" / "smsconform" / "hypothesis").is_dir()


def test_certify_on_the_emulator_exits_0_and_writes_the_three_reports(emulator_run) -> None:
    proc, reports = emulator_run
    failed = [line for line in proc.stdout.splitlines() if "FAILED" in line]
    assert proc.returncode == 0, "\n".join(failed[:20]) + proc.stderr[-2000:]
    assert "CERTIFIED" in proc.stdout and "NOT CERTIFIED" not in proc.stdout
    assert sorted(p.name for p in reports.iterdir()) == ["junit.xml", "report.html", "results.json"]
    results = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "CERTIFIED" and results["summary"]["tests"]["failed"] == 0
    assert results["summary"]["tests"]["passed"] > 100
    assert results["target"]["name"] == "emulator" and results["run"]["workers"] == "2"
    contracts = load_contracts()
    assert results["contracts"]["version"] == contracts.version and len(results["contracts"]["sha256"]) == 64
    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert int(suite.get("tests") or 0) == results["summary"]["tests"]["total"]
    assert 'id="verdict">CERTIFIED<' in (reports / "report.html").read_text(encoding="utf-8")


def test_results_json_has_every_catalog_rule(emulator_run) -> None:
    _, reports = emulator_run
    results = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    catalog = {r.id: r for r in load_contracts().catalog.rules()}
    by_id = {r["id"]: r for r in results["rules"]}
    assert set(by_id) == set(catalog) and len(results["rules"]) == len(catalog)
    for rule_id, entry in by_id.items():
        assert entry["status"] in ("passed", "failed", "not exercised")
        assert entry["source"]["doc"] == catalog[rule_id].source.doc and entry["basis"] == catalog[rule_id].basis
        if entry["status"] == "not exercised":
            assert entry["not_exercised"], rule_id  # always says why
        if entry["status"] == "passed":
            assert any(t["outcome"] == "passed" for t in entry["tests"]), rule_id
    # --dialect mensagem: no other dialect's rule can have passed
    assert all(r["status"] == "not exercised" for r in results["rules"] if r["dialect"] != "mensagem")
    assert any(r["status"] == "passed" for r in results["rules"] if r["dialect"] == "mensagem")


def test_reports_hold_no_credential_of_the_emulator(emulator_run) -> None:
    _, reports = emulator_run
    contracts = load_contracts()
    secrets = emulator_secrets(contracts)
    assert contracts.emulator_profile["accounts"]["main"]["password"] in secrets
    assert find_secrets([reports], secrets) == []


# -- usage and target errors: exit 2, the key named, no traceback ---------------------------------------------
BROKEN = {
    "not_toml": ("[dialects.mensagem\nbase_url = 1", "not valid TOML"),
    "bad_url": ('[dialects.mensagem]\nbase_url = 42\n', "dialects.mensagem.base_url"),
    "unknown_dialect": ('[dialects.sms]\nbase_url = "http://127.0.0.1:9"\n', "unknown key dialects.sms; did you mean 'smpp'?"),
    "no_dialects": ('name = "x"\n', "missing table [dialects]"),
    "env_missing": ('[dialects.mensagem]\nbase_url = "http://127.0.0.1:9"\n[dialects.mensagem.credentials]\n'
                    'u = "${SC_CERTIFY_NOT_SET}"\n', "dialects.mensagem.credentials.u: environment variable "
                                                     "SC_CERTIFY_NOT_SET is not set"),
    "bad_credential": ('[dialects.mensagem]\nbase_url = "http://127.0.0.1:9"\n[dialects.mensagem.credentials]\n'
                       'password = "x"\n', "dialects.mensagem.credentials: unknown credential 'password'"),
    "bad_time": ('[dialects.mensagem]\nbase_url = "http://127.0.0.1:9"\n[time]\nmode = "warp"\n', "time.mode"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_profile_exits_2_naming_the_key(case: str, tmp_path: Path) -> None:
    text, expected = BROKEN[case]
    profile = tmp_path / f"{case}.toml"
    profile.write_text(text, encoding="utf-8")
    proc = smsconform("certify", "--target", str(profile), "--reports", str(tmp_path / "reports"), timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr and str(profile) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "reports").exists()


def test_a_missing_profile_exits_2(tmp_path: Path) -> None:
    proc = smsconform("certify", "--target", str(tmp_path / "nowhere.toml"), timeout=60)
    assert proc.returncode == 2 and "no such target profile" in proc.stderr and "Traceback" not in proc.stderr


def test_a_target_that_does_not_answer_exits_2(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = tmp_path / "down.toml"
    profile.write_text(f'name = "down"\n[dialects.mensagem]\nbase_url = "http://127.0.0.1:{port}"\n')
    proc = smsconform("certify", "--target", str(profile), "--reports", str(tmp_path / "r"), timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"mensagem does not answer on 127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [("--dialect", "sms"), ("--hypothesis-profile", "fast"), ("-n", "many")])
def test_a_usage_error_exits_2(args: tuple[str, ...]) -> None:
    proc = smsconform("certify", *args, timeout=60)
    assert proc.returncode == 2 and "usage:" in proc.stderr and "Traceback" not in proc.stderr
