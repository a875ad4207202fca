"""Run the conformance suite against a benign variant and read what it said: its verdict and its deviations.

Shared by tests/project/test_variants.py and scripts/detection-rate; built on the defects runner (the same
selection by rule globs, the same JUnit reading), with the variants plugin on top. A variant passes when
its run is CERTIFIED (no test failed or errored) and, for a variant that decides an inferred rule
otherwise, when at least one deviation names one of its rules: the difference is reported, not hidden.

``mode`` "control" runs against the embedded emulator with the variant applied in the suite's process
(its clock moved through the control API); "real" serves the variant in a child process with a running
clock and runs the suite against it through a profile whose time mode is real (``serve.py``), as a
provider's sandbox would be run.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from defects.runner import (RUN_TIMEOUT, SUITE, Run, child_env, modules_for, parse_junit, rules_map,
                            scope_for)

MODES = ("control", "real")
PLUGINS = ("-p", "defects.plugin", "-p", "variants.plugin")
SERVE_TIMEOUT = 30.0


@dataclass(frozen=True)
class VariantPlan:
    key: str
    dialect: str
    scope: tuple[str, ...]
    variant: str | None
    modules: tuple[str, ...] = (SUITE,)
    mode: str = "control"
    strict: bool = False

    def command(self, junit: Path, profile: Path | None = None) -> list[str]:
        cmd = [sys.executable, "-m", "pytest", *self.modules, *PLUGINS, "-p", "no:cacheprovider",
               "--dialect", self.dialect, "-q", "-rN", "--junitxml", str(junit), "-o", "junit_family=xunit1",
               "-o", "junit_logging=no", "--defect-rules-map", str(rules_map(junit)), "--defect-no-shrink"]
        if self.variant and self.mode == "control":
            cmd += ["--variant", self.variant]
        if profile is not None:
            cmd += ["--target", str(profile)]
        if self.strict:
            cmd += ["--strict-rules"]
        for pattern in self.scope:
            cmd += ["--defect-scope", pattern]
        return cmd


def scope_of(item: Any) -> tuple[str, ...]:
    """The variant's own scope, or the one a defect breaking the same rules would get."""
    return tuple(sorted(set(item.scope) | set(scope_for(item.rules))))


def plans(variants: Iterable[Any], index: dict[str, list[str]] | None = None, mode: str = "control",
          strict: bool = False) -> dict[str, VariantPlan]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    out: dict[str, VariantPlan] = {}
    for item in variants:
        scope = scope_of(item)
        modules = (SUITE,) if index is None else modules_for(scope, index)
        out[item.name] = VariantPlan(item.name, item.dialect, scope, item.name, modules, mode, strict)
    return out


def deviations_of(junit: Path) -> dict[str, list[dict[str, Any]]]:
    """Each test's deviations, from the user property ``deviations`` the suite's plugin writes."""
    if not junit.exists():
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        for prop in case.iter("property"):
            if prop.get("name") == "deviations":
                try:
                    found = json.loads(prop.get("value") or "[]")
                except ValueError:
                    continue
                out.setdefault(f"{case.get('classname', '')}::{case.get('name', '')}", []).extend(found)
    return out


@dataclass
class VariantRun:
    run: Run
    deviations: dict[str, list[dict[str, Any]]]

    @property
    def deviated_rules(self) -> set[str]:
        return {str(d.get("rule")) for found in self.deviations.values() for d in found}


def _serve(name: str, workdir: Path) -> tuple[subprocess.Popen[str], Path]:
    """Start ``serve.py`` for the variant and wait for the profile it writes."""
    workdir.mkdir(parents=True, exist_ok=True)
    profile = workdir / f"{name}.profile.toml"
    profile.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "variants.serve", name, str(profile)], env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + SERVE_TIMEOUT
    while not profile.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"variant {name}: the server did not start: {(proc.stderr.read() if proc.stderr else '')[-800:]}")
        time.sleep(0.1)
    return proc, profile


def execute(plan: VariantPlan, workdir: Path, timeout: float = RUN_TIMEOUT) -> VariantRun:
    workdir.mkdir(parents=True, exist_ok=True)
    junit = workdir / f"{plan.key}.{plan.mode}.xml"
    junit.unlink(missing_ok=True)
    server: subprocess.Popen[str] | None = None
    profile = None
    if plan.mode == "real" and plan.variant:
        server, profile = _serve(plan.variant, workdir)
    started = time.monotonic()
    try:
        proc = subprocess.run(plan.command(junit, profile), cwd=Path(__file__).resolve().parents[3],
                              env=child_env(), capture_output=True, text=True, timeout=timeout)
        returncode, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        returncode, output = -1, f"timed out after {timeout:.0f} s"
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(10)
    run = Run(plan.key, plan.dialect, None, returncode, round(time.monotonic() - started, 2), parse_junit(junit),
              output[-3000:])
    return VariantRun(run, deviations_of(junit))


@dataclass(frozen=True)
class Verdict:
    passed: bool
    certified: bool
    deviations: tuple[str, ...]    # the rules the run reported deviations from
    reason: str


def judge(item: Any, result: VariantRun) -> Verdict:
    run = result.run
    deviated = tuple(sorted(result.deviated_rules))
    if run.returncode == 5 or not run.outcomes:
        return Verdict(False, False, deviated, f"no test ran (exit {run.returncode}): {run.output[-300:]}")
    if run.returncode not in (0, 1):
        return Verdict(False, False, deviated, f"the run did not complete (exit {run.returncode}): {run.output[-600:]}")
    if run.failures:
        shown = "; ".join(f"{o.test}: {o.message[:160]}" for o in run.failures[:3])
        return Verdict(False, False, deviated, f"NOT CERTIFIED: {len(run.failures)} failed: {shown}")
    expected = set(item.rules)
    if item.expects_deviation and not expected & set(deviated):
        return Verdict(False, True, deviated,
                       f"certified, but no deviation names {', '.join(sorted(expected))} (reported: {', '.join(deviated) or 'none'})")
    return Verdict(True, True, deviated, "certified")


def run_all(variants: dict[str, Any], mode: str = "control", jobs: int = 2) -> dict[str, VariantRun]:
    from concurrent.futures import ThreadPoolExecutor

    from defects.runner import index_suite

    with tempfile.TemporaryDirectory(prefix="smsconform-variants-") as tmp, ThreadPoolExecutor(max(1, jobs)) as pool:
        todo = plans(variants.values(), index_suite(Path(tmp)), mode)
        futures = {key: pool.submit(execute, plan, Path(tmp)) for key, plan in todo.items()}
        return {key: future.result() for key, future in futures.items()}
