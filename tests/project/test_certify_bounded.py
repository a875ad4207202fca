"""certify always ends in a verdict: against hostile targets within --max-time, INCOMPLETE when time is up,
with results.json written as tests finish; no client follows a redirect; init-profile's template is complete.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Iterator

import pytest

from smsconform.conformance.profile_template import fixtures_named, template, trigger_counts
from smsconform.conformance.target import load_profile
from smsconform.contracts import DIALECTS

from hostile import BEHAVIOURS, Listener, hostile
from realmode import real_profile
from test_certify import smsconform

MAX_TIME = 25          # seconds: small, so that each hostile run stays fast (collection counts too)
GRACE = 2              # reports/deadline.py grace_of(25)
STARTUP = 120          # interpreter, contracts, collection of the suite, reports: generous on a shared machine


def profile(tmp_path: Path, url: str, *, timeout: float = 1.0) -> Path:
    port = int(url.rsplit(":", 1)[1])
    return real_profile(tmp_path / "hostile.toml", port, port, name="hostile", dialects=("mensagem", "wbsapi", "smpp"),
                        max_wait=2, timeout=timeout)


@pytest.fixture(params=BEHAVIOURS)
def target(request: pytest.FixtureRequest) -> Iterator[tuple[str, Listener, Listener]]:
    for pair in hostile(request.param):
        yield (request.param, *pair)


def test_a_hostile_target_gets_a_verdict_within_the_deadline(target, tmp_path: Path) -> None:
    behaviour, fake, second = target
    reports = tmp_path / "reports"
    started = time.monotonic()
    proc = smsconform("certify", "--target", str(profile(tmp_path, fake.url)), "--reports", str(reports),
                      "--max-time", str(MAX_TIME), timeout=MAX_TIME + GRACE + STARTUP + 60,
                      env={"SMSCONFORM_PACER_DIR": str(tmp_path / "pacer"), "XDG_CACHE_HOME": str(tmp_path / "c")})
    wall = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    results = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] in ("NOT CERTIFIED", "INCOMPLETE") and results["verdict"] in proc.stdout
    assert results["summary"]["tests"]["passed"] == 0 or behaviour != "silent", "nothing can pass on silence"
    # The run itself (from certify's start to the session's end) is what --max-time bounds; the process's
    # start-up on a loaded machine is not, so the wall time is only bounded by the subprocess timeout.
    assert results["run"]["duration_s"] <= MAX_TIME + GRACE + 5, (behaviour, results["run"]["duration_s"], wall)
    assert fake.requests > 0, "the suite did call the target"
    assert second.requests == 0, f"{behaviour}: the listener a redirect named got {second.requests} requests"
    if results["failures"]:
        assert f"rerun the failures: smsconform certify --target {tmp_path / 'hostile.toml'} --test " in proc.stdout
    if behaviour == "redirect":
        located = [f for f in results["failures"] if f"redirecting to '{second.url}/stolen'" in (f["message"] or "")]
        assert located, [f["message"] for f in results["failures"]][:5]
    if results["verdict"] == "INCOMPLETE" or results["run"].get("deadline_passed"):
        assert any((t.get("reason") or "").startswith("deadline") for t in results["tests"])
        by = {g["key"]: g for g in results["not_exercised_by"]}
        assert "certify --max-time" in by
        assert "<table id='ways'>" in (reports / "report.html").read_text(encoding="utf-8")


def test_the_deadline_gives_incomplete_never_certified(tmp_path: Path) -> None:
    """The embedded emulator would certify; with no time, what did not run is `deadline` and the verdict
    INCOMPLETE (exit 1). results.json was written while tests finished (run.partial on the live copies)."""
    reports = tmp_path / "reports"
    proc = smsconform("certify", "--dialect", "mensagem", "--reports", str(reports), "--max-time", "4",
                      timeout=240, env={"XDG_CACHE_HOME": str(tmp_path / "c")})
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "INCOMPLETE" and "INCOMPLETE" in proc.stdout
    assert results["run"]["deadline_passed"] and not results["run"].get("partial")
    reasons = [t.get("reason", "") for t in results["tests"] if t["outcome"] == "not exercised"]
    assert any(r.startswith("deadline") for r in reasons)
    assert "more time for the run (certify --max-time)" in proc.stdout


def test_the_template_loads_and_names_every_fixture_a_trigger_needs(tmp_path: Path, monkeypatch) -> None:
    text = template()
    for var in set(re.findall(r"\$\{([A-Z0-9_]+)\}", text)):
        monkeypatch.setenv(var, "x")
    path = tmp_path / "sandbox.toml"
    path.write_text(text, encoding="utf-8")
    target = load_profile(path)
    assert set(target.dialects) == set(DIALECTS)
    accounts, numbers, _ = trigger_counts()
    named = fixtures_named(text)
    assert set(accounts) <= named["accounts"], set(accounts) - named["accounts"]
    assert set(numbers) <= named["numbers"], set(numbers) - named["numbers"]
    # Uncommented, every fixture line still loads: the template writes no key the loader refuses.
    head, fixtures = text.split("[fixtures.numbers]", 1)
    uncommented = head + "[fixtures.numbers]" + "\n".join(
        line[2:] if line.startswith(("# [", "# control_url")) or re.match(r"# [a-z_]+ = ", line) else line
        for line in fixtures.splitlines())
    path.write_text(uncommented, encoding="utf-8")
    full = load_profile(path)
    assert set(full.fixtures.accounts) >= set(accounts) and set(full.fixtures.numbers) >= set(numbers)


def test_init_profile_writes_the_template_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    first = smsconform("init-profile", str(path), timeout=60)
    assert first.returncode == 0 and path.read_text(encoding="utf-8") == template()
    again = smsconform("init-profile", str(path), timeout=60)
    assert again.returncode == 2 and "exists" in again.stderr


def test_rule_and_test_select_as_pytest_does(tmp_path: Path) -> None:
    """--rule keeps the tests whose rules marker names the rule; --test runs one node id; -k filters names."""
    reports = tmp_path / "reports"
    proc = smsconform("certify", "--rule", "code:mensagem.send.97", "--reports", str(reports), timeout=240,
                      env={"XDG_CACHE_HOME": str(tmp_path / "c")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    tests = json.loads((reports / "results.json").read_text(encoding="utf-8"))["tests"]
    assert tests and all("code:mensagem.send.97" in t["rules"] for t in tests), [t["nodeid"] for t in tests]
    one = tests[0]["nodeid"]
    again = smsconform("certify", "--test", one, "-k", "send", "--reports", str(reports), timeout=240,
                       env={"XDG_CACHE_HOME": str(tmp_path / "c")})
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    rerun = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    assert [t["nodeid"] for t in rerun["tests"]] == [one] and rerun["run"]["tests"] == [one]
