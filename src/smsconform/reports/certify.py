"""``smsconform certify``: run the suite against a target and write the three certification reports.

Exit status: 0 when CERTIFIED (zero failures), 1 when not, 2 for a usage or target error (a missing or
malformed profile, a target that does not answer on its port, a pytest usage error): the message says what,
never with a traceback.
"""
from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from ..contracts import load_contracts
from ..conformance.target import ProfileError, load_profile
from .collect import FAILED, NOT_EXERCISED_STATUS, PASSED, Collector
from .html import write_html
from .identity import EMULATOR, resolve_target
from .json_report import write_json
from .junit import write_junit
from .progress import Progress
from .redact import Redactor, find_secrets
from .results import CERTIFIED, build
from .runner import SuiteRun, run

EXIT_CERTIFIED, EXIT_NOT_CERTIFIED, EXIT_ERROR = 0, 1, 2
REPORT_FILES = {"junit": "junit.xml", "json": "results.json", "html": "report.html"}


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


def certify(suite: SuiteRun, reports_dir: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> Outcome:
    contracts = load_contracts()
    try:
        target = resolve_target(suite.target, contracts)
        preflight(suite.target, suite.dialects)
    except (ProfileError, TargetError) as exc:
        err.write(f"smsconform certify: {exc}\n")
        return Outcome(EXIT_ERROR, None, {}, None)
    progress = Progress(out)
    collector = Collector(on_progress=progress)
    out.write(f"smsconform certify: target {target.name} ({target.source}), contracts {contracts.version}\n")
    out.flush()
    try:
        status = run(suite, [collector])
    finally:
        progress.close()
    if collector.exit_status is None:
        collector.exit_status = status
    if status in (3, 4) and not collector.records:
        err.write(f"smsconform certify: pytest could not run the suite (exit status {status}); "
                  f"check the options\n")
        return Outcome(EXIT_ERROR, None, {}, None)
    results, reports = write_reports(build(collector, contracts, target, suite.describe()), reports_dir,
                                     target.secrets, err)
    _summarise(results, reports, out)
    if status in (3, 4):
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


def _summarise(results: dict[str, Any], reports: dict[str, Path], out: TextIO) -> None:
    failures = results["failures"]
    for failure in failures[:20]:
        rules = ", ".join(r["id"] for r in failure["rules"]) or "no rule named"
        out.write(f"  FAILED {failure['nodeid']} [{rules}]: {failure.get('message') or ''}\n")
    if len(failures) > 20:
        out.write(f"  ... and {len(failures) - 20} more failures (see the reports)\n")
    for error in results["collection_errors"]:
        out.write(f"  COLLECTION ERROR {error['nodeid']}\n")
    tests, rules = results["summary"]["tests"], results["summary"]["rules"]
    out.write(f"{results['verdict']}: {tests[PASSED]} tests passed, {tests[FAILED]} failed, "
              f"{tests[NOT_EXERCISED_STATUS]} not exercised; catalog rules {rules[PASSED]} passed, "
              f"{rules[FAILED]} failed, {rules[NOT_EXERCISED_STATUS]} not exercised "
              f"({results['run']['duration_s']:.1f} s)\n")
    deviations = results.get("deviations", [])
    if deviations:
        rules_deviated = len({d["rule"] for d in deviations})
        out.write(f"{len(deviations)} deviations from inferred rules ({rules_deviated} rules; reported, not judged;"
                  f" --strict to judge them): see the reports\n")
    out.write("reports: " + ", ".join(str(p) for p in reports.values()) + "\n")
    out.flush()
