"""``smsconform certify``: run the suite against a target and write the three certification reports.

Exit status: 0 when CERTIFIED (zero failures), 1 when not (NOT CERTIFIED, or INCOMPLETE: the run's time,
``--max-time``, was up before every test ran), 2 for a usage or target error (a missing or malformed
profile, a target that does not answer on its port, a pytest usage error): the message says what, never
with a traceback. results.json is rewritten as tests finish, so a run killed from outside leaves a report
of what ran; the closing lines say what would exercise the rules the run did not reach, and print the
command that reruns just the failures.
"""
from __future__ import annotations

import shlex
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from ..contracts import load_contracts
from ..conformance.target import ProfileError, load_profile
from .collect import DEVIATION, FAILED, NOT_EXERCISED_STATUS, PASSED, Collector, TestRecord
from .deadline import DEFAULT_MAX_TIME, Watchdog
from .html import write_html
from .identity import EMULATOR, resolve_target
from .json_report import write_json
from .junit import write_junit
from .progress import Progress
from .redact import Redactor, find_secrets
from .results import CERTIFIED, build
from .runner import SuiteRun, run
from .unlock import group, lines

EXIT_CERTIFIED, EXIT_NOT_CERTIFIED, EXIT_ERROR = 0, 1, 2
REPORT_FILES = {"junit": "junit.xml", "json": "results.json", "html": "report.html"}
INCOMPLETE = "INCOMPLETE"   # the deadline passed before every test ran, and nothing failed: never CERTIFIED
LIVE_EVERY = 2.0            # seconds between two rewrites of results.json while tests finish


class TargetError(Exception):
    """The target cannot be certified at all (no profile, a malformed one, nothing listening)."""


@dataclass
class Outcome:
    exit_status: int
    verdict: str | None
    reports: dict[str, Path]
    results: dict[str, Any] | None


def preflight(choice: str, dialects: tuple[str, ...], timeout: float = 5.0) -> None:
    """Every selected dialect of a profile must accept a TCP connection before the suite starts."""
    if choice == EMULATOR:
        return
    target = load_profile(Path(choice))
    for name, spec in target.dialects.items():
        if dialects and name not in dialects:
            continue
        if spec.base_url:
            parts = urlsplit(spec.base_url)
            host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        else:
            host, port = spec.host or "", int(spec.port or 0)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError as exc:
            raise TargetError(f"target {target.name}: {name} does not answer on {host}:{port} ({exc})") from None


class LiveResults:
    """results.json rewritten (atomically, redacted) as tests finish, at most every LIVE_EVERY seconds."""

    def __init__(self, contracts: Any, target: Any, run_info: dict[str, Any], path: Path) -> None:
        self.contracts, self.target, self.run_info, self.path = contracts, target, run_info, path
        self.redactor = Redactor.of(target.secrets)
        self.written = 0.0

    def __call__(self, collector: Collector, record: TestRecord) -> None:
        if time.monotonic() - self.written < LIVE_EVERY:
            return
        self.written = time.monotonic()
        raw = complete(build(collector, self.contracts, self.target, self.run_info), partial=True)
        raw["run"]["duration_s"] = round(time.time() - collector.started, 3)  # so far
        write_json(self.redactor.data(raw), self.path)


def complete(raw: dict[str, Any], *, partial: bool = False, deadline: bool = False) -> dict[str, Any]:
    """What certify adds to results.py's results: the ways to exercise what was not, and the verdict's
    INCOMPLETE (a run still going, or one the deadline cut short with nothing failed)."""
    raw["not_exercised_by"] = group(raw["rules"])
    if partial:
        raw["run"]["partial"] = True
    if (partial or deadline) and not raw["summary"]["tests"][FAILED] and not raw["collection_errors"]:
        raw["verdict"] = INCOMPLETE
    if deadline:
        raw["run"]["deadline_passed"] = True
    return raw


def certify(suite: SuiteRun, reports_dir: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
            max_time: float = DEFAULT_MAX_TIME) -> Outcome:
    contracts = load_contracts()
    try:
        target = resolve_target(suite.target, contracts)
        preflight(suite.target, suite.dialects)
    except (ProfileError, TargetError) as exc:
        err.write(f"smsconform certify: {exc}\n")
        return Outcome(EXIT_ERROR, None, {}, None)
    progress = Progress(out)
    watchdog = Watchdog(max_time)
    suite = replace(suite, deadline=watchdog.deadline)
    live = LiveResults(contracts, target, suite.describe(), reports_dir / REPORT_FILES["json"])

    def on_progress(collector: Collector, record: TestRecord) -> None:
        progress(collector, record)
        live(collector, record)

    collector = Collector(on_progress=on_progress)
    out.write(f"smsconform certify: target {target.name} ({target.source}), contracts {contracts.version}, "
              f"at most {max_time:g} s\n")
    out.flush()
    try:
        with watchdog:
            status = run(suite, [collector, watchdog])
    finally:
        progress.close()
    if collector.exit_status is None:
        collector.exit_status = status
    if status in (3, 4) and not collector.records:
        err.write(f"smsconform certify: pytest could not run the suite (exit status {status}); "
                  f"check the options\n")
        return Outcome(EXIT_ERROR, None, {}, None)
    cut = watchdog.fill_unrun(collector) > 0 or watchdog.interrupted or any(
        (r.reason or "").startswith("deadline") for r in collector.records.values())
    raw = complete(build(collector, contracts, target, suite.describe()), deadline=cut)
    results, reports = write_reports(raw, reports_dir, target.secrets, err)
    _summarise(results, reports, out, suite)
    if status in (3, 4) and not cut:
        return Outcome(EXIT_ERROR, results["verdict"], reports, results)
    return Outcome(EXIT_CERTIFIED if results["verdict"] == CERTIFIED else EXIT_NOT_CERTIFIED, results["verdict"],
                   reports, results)


def write_reports(raw: dict[str, Any], reports_dir: Path, secrets: tuple[str, ...],
                  err: TextIO = sys.stderr) -> tuple[dict[str, Any], dict[str, Path]]:
    """Redact the results once, write the three reports from the redacted copy, then prove them clean."""
    redactor = Redactor.of(secrets)
    results = redactor.data(raw)
    reports = {
        "junit": write_junit(results, reports_dir / REPORT_FILES["junit"]),
        "json": write_json(results, reports_dir / REPORT_FILES["json"]),
        "html": write_html(results, reports_dir / REPORT_FILES["html"]),
    }
    for leak in find_secrets(reports.values(), secrets):  # a redaction bug must not ship a credential
        leak.path.write_text(redactor.text(leak.path.read_text(encoding="utf-8")), encoding="utf-8")
        err.write(f"smsconform: redacted a credential left in {leak.path}\n")
    return results, reports


def rerun_command(suite: SuiteRun, failures: list[dict[str, Any]]) -> str:
    """The certify command that runs just these failed tests again, against the same target."""
    words = ["smsconform", "certify", "--target", suite.target]
    for dialect in suite.dialects:
        words += ["--dialect", dialect]
    if suite.strict:
        words.append("--strict")
    for failure in failures:
        words += ["--test", failure["nodeid"]]
    return " ".join(shlex.quote(w) for w in words)


def _summarise(results: dict[str, Any], reports: dict[str, Path], out: TextIO, suite: SuiteRun | None = None) -> None:
    failures = results["failures"]
    for failure in failures[:20]:
        rules = ", ".join(r["id"] for r in failure["rules"]) or "no rule named"
        out.write(f"  FAILED {failure['nodeid']} [{rules}]: {failure.get('message') or ''}\n")
    if len(failures) > 20:
        out.write(f"  ... and {len(failures) - 20} more failures (see the reports)\n")
    for error in results["collection_errors"]:
        out.write(f"  COLLECTION ERROR {error['nodeid']}\n")
    for line in lines(results.get("not_exercised_by") or []):
        out.write(line + "\n")
    if failures and suite is not None:
        out.write(f"rerun the failures: {rerun_command(suite, failures)}\n")
    if results["run"].get("deadline_passed"):
        out.write("the run's time was up (--max-time): the tests it left are not exercised, reason `deadline`\n")
    tests, rules = results["summary"]["tests"], results["summary"]["rules"]
    out.write(f"{results['verdict']}: {tests[PASSED]} tests passed, {tests[FAILED]} failed, "
              f"{tests[NOT_EXERCISED_STATUS]} not exercised; catalog rules {rules[PASSED]} passed, "
              f"{rules.get(DEVIATION, 0)} deviations, {rules[FAILED]} failed, {rules[NOT_EXERCISED_STATUS]} not exercised "
              f"({results['run']['duration_s']:.1f} s)\n")
    deviations = results.get("deviations", [])
    if deviations:
        rules_deviated = len({d["rule"] for d in deviations})
        out.write(f"{len(deviations)} deviations from inferred rules ({rules_deviated} rules; reported, not judged;"
                  f" --strict to judge them): see the reports\n")
    out.write("reports: " + ", ".join(str(p) for p in reports.values()) + "\n")
    out.flush()
