"""The certification reports: honest accounting per rule, no credential in any file, and an HTML report
that a real browser (Debian's headless Chromium, installed by scripts/ensure-chromium) renders offline
with its verdict, its matrix and its failures.

The end-to-end part certifies a profile target, an in-process emulator reached with credentials of its own
(unique per run, given through ${ENV} variables), on a restricted copy of the suite (the codes family,
through SMSCONFORM_SUITE) and with one fixture deliberately wrong, so that a real failure, with its real
exchange, reaches the reports.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Iterator

import pytest
from lxml import html as lxml_html

from smsconform.contracts import DIALECTS, load_contracts
from smsconform.emulator.server import Emulator
from smsconform.reports.certify import write_reports
from smsconform.reports.collect import FAILED, NOT_EXERCISED_STATUS, PASSED, Collector, TestRecord
from smsconform.reports.families import FAMILIES, family_of_test, rule_family
from smsconform.reports.html import FAMILY_TITLES
from smsconform.reports.identity import TargetInfo
from smsconform.reports.redact import find_secrets
from smsconform.reports.results import CERTIFIED, NOT_CERTIFIED, build

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CODES = "tests/conformance/test_codes.py::test_code_is_answered_exactly"


# -- unit: accounting ---------------------------------------------------------------------------------
def _collector(*records: TestRecord, exit_status: int = 0) -> Collector:
    collector = Collector()
    for record in records:
        collector.records[record.nodeid] = record
    collector.exit_status = exit_status
    collector.ended = collector.started + 1.5
    return collector


def _target(secrets: tuple[str, ...] = ()) -> TargetInfo:
    return TargetInfo("unit", "unit test", ("mensagem",), "control", secrets)


def test_a_rule_passes_only_when_a_test_passed_and_none_failed() -> None:
    contracts = load_contracts()
    a, b, c = "code:mensagem.send.97", "code:mensagem.send.90", "code:mensagem.send.78"
    collector = _collector(
        TestRecord(f"{CODES}[a]", PASSED, 0.1, [a], "mensagem"),
        TestRecord(f"{CODES}[b1]", PASSED, 0.1, [b], "mensagem"),
        TestRecord(f"{CODES}[b2]", FAILED, 0.1, [b], "mensagem", message="expected 90"),
        TestRecord(f"{CODES}[c]", NOT_EXERCISED_STATUS, 0.0, [c], "mensagem", reason="no fixture number procon"),
        exit_status=1,
    )
    results = build(collector, contracts, _target(), {"dialects": ["mensagem"]})
    rules = {r["id"]: r for r in results["rules"]}
    assert set(rules) == {r.id for r in contracts.catalog.rules()}  # every catalog rule, once
    assert rules[a]["status"] == PASSED
    assert rules[b]["status"] == FAILED and rules[b]["failures"] == [f"{CODES}[b2]"]
    assert rules[c]["status"] == NOT_EXERCISED_STATUS and rules[c]["not_exercised"] == ["no fixture number procon"]
    untested = rules["limit:mensagem.mult.numbers"]
    assert untested["status"] == NOT_EXERCISED_STATUS and untested["not_exercised"] == ["no test names this rule"]
    speedmarket = next(r for r in results["rules"] if r["dialect"] == "speedmarket")
    assert speedmarket["not_exercised"] == ["dialect not selected"]
    assert results["verdict"] == NOT_CERTIFIED
    assert results["matrix"]["mensagem"]["codes"]["status"] == FAILED
    assert results["matrix"]["mensagem"]["codes"][PASSED] == 2
    assert results["coverage"]["codes"]["exercised"] == 2  # a and b; c was not exercised
    assert results["failures"][0]["rules"][0]["source"]["doc"] == "003_68e2ce3a2fd1e408.txt"


@pytest.mark.parametrize("outcomes, exit_status, verdict", [
    ((PASSED, PASSED, NOT_EXERCISED_STATUS), 0, CERTIFIED),
    ((PASSED, FAILED), 1, NOT_CERTIFIED),
    ((NOT_EXERCISED_STATUS,), 0, NOT_CERTIFIED),  # nothing passed: nothing is certified
    ((), 5, NOT_CERTIFIED),
])
def test_certified_only_with_zero_failures(outcomes: tuple[str, ...], exit_status: int, verdict: str) -> None:
    records = [TestRecord(f"{CODES}[{i}]", o, 0.0, ["code:mensagem.send.1"]) for i, o in enumerate(outcomes)]
    results = build(_collector(*records, exit_status=exit_status), load_contracts(), _target(), {})
    assert results["verdict"] == verdict


@pytest.mark.parametrize("module, rules, family", [
    ("tests/conformance/test_codes.py", ["code:mensagem.send.97"], "codes"),
    ("tests/conformance/test_limits.py", ["limit:mensagem.mult.numbers"], "limits"),
    ("tests/conformance/test_transitions.py", ["machine:mensagem.message", "code:mensagem.cacl.9"], "transitions"),
    ("tests/conformance/test_callbacks.py", ["callback:mensagem.status", "code:mensagem.callback-status.1"],
     "callbacks"),
    ("tests/conformance/test_schema.py", ["code:mensagem.send.97"], "schema"),
    ("tests/conformance/test_grammar_inputs.py", [], "grammar"),
    ("tests/conformance/test_wbsapi.py", ["limit:wbsapi.sendMultiple.records"], "limits"),
    ("tests/conformance/test_rate_limits.py", ["rate:painel.getstatus.rate.30s"], "rates"),
    ("tests/conformance/test_credits.py", ["credit:mensagem.send.parts"], "credits"),
    ("tests/conformance/test_acceptance.py", ["accept:speedmarket.send-single.type.1"], "acceptance"),
    ("tests/conformance/test_selectors.py", ["select:mensagem.cacl.h"], "selectors"),
    ("tests/conformance/test_isolation.py", ["isolation:mensagem.cacl"], "isolation"),
    ("tests/conformance/test_numbers.py", ["number:mensagem.send.national"], "numbers"),
    ("tests/conformance/test_gaps_balances.py", ["behaviour:mensagem.billing", "behaviour:mensagem.debits"],
     "behaviours"),
])
def test_family_from_rule_kind_and_module(module: str, rules: list[str], family: str) -> None:
    assert family_of_test(module, rules) == family


def test_every_catalog_rule_kind_has_a_family_of_its_own() -> None:
    """A kind added to the catalog lands in a matrix column, never in "other" (issue 18)."""
    kinds = {rule.id.split(":", 1)[0] for rule in load_contracts().catalog.rules()}
    homeless = sorted(kind for kind in kinds if rule_family(f"{kind}:x.y") not in FAMILIES)
    assert homeless == []
    assert set(FAMILY_TITLES) == set(FAMILIES)


# -- unit: no credential in any report ------------------------------------------------------------------
SECRET_USER, SECRET_PASSWORD = "sandbox-user-7f3a", "S3nh@ Secreta/9!"


def _leaky_results() -> dict:
    """Results as a careless plugin could hand them over: the secrets in clear, encoded and in Basic auth."""
    import base64
    from urllib.parse import quote

    basic = base64.b64encode(f"{SECRET_USER}:{SECRET_PASSWORD}".encode()).decode()
    evidence = [{"dialect": "speedmarket", "operation": "send-single",
                 "request": {"method": "GET",
                             "url": f"http://sandbox/webservice-rest/send-single?user={SECRET_USER}"
                                    f"&password={quote(SECRET_PASSWORD, safe='')}",
                             "headers": {"Authorization": f"Basic {basic}", "X-Echo": SECRET_PASSWORD},
                             "body": json.dumps({"password": SECRET_PASSWORD})},
                 "response": {"status": 200, "headers": {}, "body": f"hello {SECRET_USER}"}, "elapsed_ms": 1.0}]
    record = TestRecord(f"{CODES}[x]", FAILED, 0.2, ["code:speedmarket.send-single.010"], "speedmarket",
                        evidence=evidence, message=f"login {SECRET_USER} refused",
                        details=f"URL ...password={quote(SECRET_PASSWORD, safe='')}")
    return build(_collector(record, exit_status=1), load_contracts(),
                 _target((SECRET_USER, SECRET_PASSWORD)), {"dialects": ["speedmarket"]})


def test_reports_hold_no_secret_of_the_profile(tmp_path: Path) -> None:
    raw = _leaky_results()
    control = tmp_path / "control.json"
    control.write_text(json.dumps(raw, ensure_ascii=False, indent=2))
    leaks = find_secrets([control], (SECRET_USER, SECRET_PASSWORD))
    assert len(leaks) >= 5 and any(leak.how == "in an HTTP Basic header" for leak in leaks)  # the check sees them
    err = tmp_path / "err.txt"
    with err.open("w") as stream:
        results, paths = write_reports(raw, tmp_path / "reports", (SECRET_USER, SECRET_PASSWORD), stream)
    assert sorted(p.name for p in paths.values()) == ["junit.xml", "report.html", "results.json"]
    assert find_secrets(paths.values(), (SECRET_USER, SECRET_PASSWORD)) == []
    assert err.read_text() == ""  # redacted before writing, not repaired after
    assert "<redacted>" in paths["json"].read_text()


def test_junit_counts_and_outcomes(tmp_path: Path) -> None:
    records = [TestRecord(f"{CODES}[ok]", PASSED, 0.1, ["code:mensagem.send.1"], "mensagem"),
               TestRecord(f"{CODES}[ko]", FAILED, 0.1, ["code:mensagem.send.90"], "mensagem", message="got 1",
                          details="assert '1' == '90'"),
               TestRecord(f"{CODES}[ne]", NOT_EXERCISED_STATUS, 0.0, ["code:mensagem.send.78"], "mensagem",
                          reason="no fixture number procon")]
    raw = build(_collector(*records, exit_status=1), load_contracts(), _target(), {})
    _, paths = write_reports(raw, tmp_path, ())
    suite = ET.parse(paths["junit"]).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    failure = cases["test_code_is_answered_exactly[ko]"].find("failure")
    assert failure is not None and failure.get("message") == "got 1" and "'90'" in (failure.text or "")
    skipped = cases["test_code_is_answered_exactly[ne]"].find("skipped")
    assert skipped is not None and skipped.get("message") == "not exercised: no fixture number procon"
    rules = [p.get("value") for p in cases["test_code_is_answered_exactly[ko]"].iter("property") if p.get("name") == "rule"]
    assert rules == ["code:mensagem.send.90"]


def test_a_deviation_is_reported_everywhere_and_never_fails_the_verdict(tmp_path: Path) -> None:
    """Issue 18: a check of an inferred rule that did not hold is listed in results.json (rule status, the
    top-level list, the counts per basis), in JUnit as a property of a passed testcase, and in the HTML
    report's matrix column and section with the inference's reason; the verdict stays CERTIFIED."""
    rule = "code:fcati.enviar.401"
    deviation = {"rule": rule, "basis": "inferred", "message": "expected code 401, got '403'",
                 "reason": "no refusal is published (field-notes.md)"}
    records = [TestRecord(f"{CODES}[fcati-401]", PASSED, 0.1, [rule], "fcati", deviations=[deviation]),
               TestRecord(f"{CODES}[ok]", PASSED, 0.1, ["code:fcati.enviar.200"], "fcati")]
    raw = build(_collector(*records), load_contracts(), _target(), {})
    results, paths = write_reports(raw, tmp_path, ())
    assert results["verdict"] == CERTIFIED
    by_id = {r["id"]: r for r in results["rules"]}
    assert by_id[rule]["status"] == "deviation" and by_id[rule]["can_fail_verdict"] is True  # its refusal part
    assert by_id["code:painel.holdsms.0/wrong_state"]["can_fail_verdict"] is False
    assert [d["rule"] for d in results["deviations"]] == [rule]
    bases = results["summary"]["bases"]
    assert set(bases) == {"documented", "observed", "inferred"}
    assert bases["inferred"]["deviations"] == 1
    assert 0 < bases["inferred"]["can_fail_verdict"] < bases["inferred"]["rules"]
    assert bases["documented"]["can_fail_verdict"] == bases["documented"]["rules"]
    assert sum(b["rules"] for b in bases.values()) == len(results["rules"])
    cases = {c.get("name"): c for c in ET.parse(paths["junit"]).getroot().iter("testcase")}
    case = cases["test_code_is_answered_exactly[fcati-401]"]
    assert case.find("failure") is None and case.find("skipped") is None
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert json.loads(props["deviations"])[0]["rule"] == rule
    page = lxml_html.fromstring(paths["html"].read_text(encoding="utf-8"))
    cell = page.xpath('//table[@id="matrix"]//td[@data-dialect="fcati"][@data-family="deviations"]')
    assert cell and cell[0].text_content().startswith("1")
    section = page.get_element_by_id("deviations").text_content()
    assert rule in section and "no refusal is published" in section and "not judged" in section


# -- end to end: a failing certification of a profile target ---------------------------------------------
LOGIN = f"rep-{uuid.uuid4().hex[:10]}"
PASSWORD = f"Pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, str]]:
    from smsconform.emulator.core.accounts import integration_user_for

    tmp = tmp_path_factory.mktemp("sandbox")
    emulator = Emulator(db=tmp / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    emulator.core.accounts.create({"login": LOGIN, "password": PASSWORD, "token": f"tok-{PASSWORD}",
                                   "credits": {"long": 100000, "flash": 100000, "short": 100000},
                                   "cost_centres": ["PRINCIPAL"]}, "sandbox")
    with emulator.running():
        yield emulator, integration_user_for(LOGIN)


def profile_text(base_url: str, numbers: dict, wrong: dict[str, str] | None = None) -> str:
    """A mensagem profile for the sandbox; its user comes from ${SC_SANDBOX_U}; `wrong` replaces fixtures.
    The state-dependent codes use the emulator's own fixture accounts (no_credits, user_disabled, ...)."""
    lines = ['name = "sandbox-e2e"', "", "[dialects.mensagem]", f'base_url = "{base_url}"',
             "[dialects.mensagem.credentials]", 'u = "${SC_SANDBOX_U}"', "", "[fixtures.numbers]"]
    for key, value in {**numbers, **(wrong or {})}.items():
        lines.append(f"{key} = {json.dumps(value)}")
    for name, account in load_contracts().emulator_profile["accounts"].items():
        if name != "main":
            lines += ["", f"[fixtures.accounts.{name}.mensagem]", f'u = "{account["integration_user"]}"']
    lines += ["", "[time]", 'mode = "control"', f'control_url = "{base_url}/_emulator"']
    return "\n".join(lines) + "\n"


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMSCONFORM_"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def failing_run(sandbox: tuple[Emulator, str], tmp_path_factory: pytest.TempPathFactory) -> dict:
    emulator, user = sandbox
    tmp = tmp_path_factory.mktemp("failing")
    suite = tmp / "suite"
    suite.mkdir()
    shutil.copy(ROOT / "tests" / "conformance" / "test_codes.py", suite / "test_codes.py")
    numbers = load_contracts().emulator_profile["numbers"]
    profile = tmp / "sandbox.toml"
    # the "blacklisted" fixture names a valid number: the target (rightly) accepts it, code 90 is not answered
    profile.write_text(profile_text(emulator.base_url, numbers, {"blacklisted": numbers["valid"][0]}))
    reports = tmp / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "smsconform.cli", "certify", "--target", str(profile), "--dialect", "mensagem",
         "--reports", str(reports)],
        env=env_for(SMSCONFORM_SUITE=str(suite), SC_SANDBOX_U=user), capture_output=True, text=True, timeout=120)
    return {"proc": proc, "reports": reports, "secrets": (user, LOGIN, PASSWORD), "tmp": tmp}


def test_failing_certification_is_reported_without_secrets(failing_run: dict) -> None:
    proc = failing_run["proc"]
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "NOT CERTIFIED" in proc.stdout and "Traceback" not in proc.stderr
    reports: Path = failing_run["reports"]
    files = [reports / n for n in ("junit.xml", "results.json", "report.html")]
    assert all(f.is_file() for f in files)
    results = json.loads((reports / "results.json").read_text())
    assert {r["id"] for r in results["rules"]} == {r.id for r in load_contracts().catalog.rules()}
    status = {r["id"]: r["status"] for r in results["rules"]}
    assert status["code:mensagem.send.90"] == FAILED and status["code:mensagem.send.97"] == PASSED
    assert results["target"] == {"name": "sandbox-e2e", "source": str((failing_run["tmp"] / "sandbox.toml").resolve()),
                                 "dialects": ["mensagem"], "time": "control"}
    failure = next(f for f in results["failures"] if "code:mensagem.send.90" in f["nodeid"])
    assert failure["evidence"] and "u=<redacted>" in failure["evidence"][-1]["request"]["url"]
    assert find_secrets(files, failing_run["secrets"]) == []


# -- the HTML report in a real browser -----------------------------------------------------------------------
def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"chromium-{uuid.uuid4().hex[:8]}"
    profile.mkdir()
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90)


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit non-interlaced RGB(A) PNG (what Chromium writes) into rows of raw pixels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6) and chunk[12] == 0
            channels = 4 if color == 6 else 3
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append(b"".join(bytes(line[j:j + 3]) for j in range(0, stride, channels)))
        previous = line
    return width, height, rows


def _count_colour(rows: list[bytes], rgb: tuple[int, int, int]) -> int:
    needle = bytes(rgb)
    return sum(sum(1 for j in range(0, len(row), 3) if row[j:j + 3] == needle) for row in rows)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed: run scripts/ensure-chromium")
def test_html_report_renders_offline_in_chromium(failing_run: dict, tmp_path: Path) -> None:
    report = failing_run["reports"] / "report.html"
    tree = lxml_html.fromstring(report.read_text(encoding="utf-8"))
    # self-contained: nothing to fetch (no script, stylesheet link, image or frame; no url() or @import)
    assert not tree.xpath("//script | //link | //img | //iframe | //object | //embed")
    assert not [e for e in tree.iter() if e.get("src") or e.get("srcset") or not (e.get("href") or "#").startswith("#")]
    assert "url(" not in "".join(tree.xpath("//style/text()")) and "@import" not in "".join(tree.xpath("//style/text()"))

    dom = _chromium(tmp_path, "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = lxml_html.fromstring(dom.stdout)
    assert page.get_element_by_id("verdict").text_content().strip() == "NOT CERTIFIED"
    matrix = page.get_element_by_id("matrix")
    cells = {(td.get("data-dialect"), td.get("data-family")): td for td in matrix.iter("td")}
    assert len(cells) == len(DIALECTS) * (len(FAMILIES) + 1)  # every dialect x every family, and its deviations
    assert cells[("mensagem", "codes")].get("class") == "failed"
    assert cells[("speedmarket", "codes")].get("class") in ("notex", "none")
    overview = page.get_element_by_id("overview").text_content()
    assert "code:mensagem.send.90" in overview and "003_68e2ce3a2fd1e408.txt" in overview
    failures = page.get_element_by_id("failures").text_content()
    assert "code:mensagem.send.90" in failures and "NUMERO DE TELEFONE EM BLACKLIST" in failures
    assert "003_68e2ce3a2fd1e408.txt § Envio de SMS Simples" in " ".join(failures.split())
    assert "/sms/send?" in failures and "u=<redacted>" in failures

    shot = tmp_path / "report.png"
    result = _chromium(tmp_path, "--window-size=1280,1400", f"--screenshot={shot}", report.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    width, height, rows = _png_pixels(shot)
    assert (width, height) == (1280, 1400)
    # what a reader sees: the red verdict banner, red (failed) and amber (not exercised) matrix cells
    assert _count_colour(rows, (0xCF, 0x22, 0x2E)) > 2000      # --ko: the NOT CERTIFIED banner
    assert _count_colour(rows, (0xFF, 0xEB, 0xE9)) > 2000      # --ko-bg: failed cells and failure boxes
    assert _count_colour(rows, (0xFF, 0xF8, 0xC5)) > 2000      # --ne-bg: not-exercised cells
    shutil.copy(shot, failing_run["tmp"] / "report.png")       # kept for a look by hand


# -- the console progress --------------------------------------------------------------------------------------
def test_progress_is_one_rewritten_line_on_a_terminal_and_plain_lines_elsewhere() -> None:
    import io

    from smsconform.reports.progress import Progress

    for tty in (True, False):
        stream = io.StringIO()
        progress = Progress(stream, tty=tty)
        collector = Collector(on_progress=progress)
        collector.total = 20
        for i in range(20):
            record = TestRecord(f"{CODES}[{i}]", FAILED if i == 7 else PASSED, message="boom" if i == 7 else None)
            collector.records[record.nodeid] = record
            collector.finished += 1
            progress(collector, record)
        progress.close()
        out = stream.getvalue()
        if tty:
            assert out.count("\r") == 20 and out.count("\n") == 1 and "20/20 100%" in out
        else:
            lines = out.splitlines()
            assert "\r" not in out and f"FAILED {CODES}[7]: boom" in lines
            assert lines[-1].startswith("[20/20 100%] 19 passed, 1 failed") and len(lines) == 12
