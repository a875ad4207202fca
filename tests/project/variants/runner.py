"""Run the conformance suite against a benign variant and read what it said: its verdict and its deviations.

Shared by tests/project/test_variants.py and scripts/detection-rate; built on the defects runner (the same
selection by rule globs, the same JUnit reading), with the variants plugin on top. A variant passes when
its run is CERTIFIED (no test failed or errored) and, for a variant that decides an inferred rule
otherwise, when at least one deviation names one of its rules: the difference is reported, not hidden.

``mode`` "control" runs against the embedded emulator with the variant applied in the suite's process
(its clock moved through the control API); "real" serves the variant in a child process with a running
clock and runs the suite against it through a profile whose time mode is real (``serve.py``), as a
provider's sandbox would be run.

Real mode waits for real time (status steps, painel's once-a-minute queries), so its runs are grouped
(``real_groups``): the variants of different dialects side by side in one server and one suite run on
their dialects, the variants that patch the shared core the same way (slower steps, handset replies)
together. A group's run judges each of its variants by the tests of its own dialect; the groups run
concurrently, since they mostly wait. In real mode a variant whose rules only a control API reaches (an
MO the suite would inject) passes when those rules were not exercised, and says so: nothing was hidden,
nothing could be seen.
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
from smsconform.reports.families import rule_dialect

MODES = ("control", "real")
PLUGINS = ("-p", "defects.plugin", "-p", "variants.plugin")
SERVE_TIMEOUT = 30.0
REAL_RUN_TIMEOUT = 900.0
# Variants that patch the shared core alike (variants/shared.py): each group holds all of one choice, so
# that a choice made for one dialect does not slow or disturb a group it was not meant for.
SHARED_CHOICES = ("slower-steps", "replies-to-deliveries")


@dataclass(frozen=True)
class VariantPlan:
    key: str
    dialect: str                  # the dialects run, comma-separated for a group
    scope: tuple[str, ...]
    variant: str | None           # the variants applied, comma-separated for a group (real mode)
    modules: tuple[str, ...] = (SUITE,)
    mode: str = "control"
    strict: bool = False

    def command(self, junit: Path, profile: Path | None = None) -> list[str]:
        dialects = [w for d in self.dialect.split(",") for w in ("--dialect", d)]
        cmd = [sys.executable, "-m", "pytest", *self.modules, *PLUGINS, "-p", "no:cacheprovider",
               *dialects, "-q", "-rN", "--junitxml", str(junit), "-o", "junit_family=xunit1",
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


def real_groups(variants: Iterable[Any]) -> list[tuple[Any, ...]]:
    """The variants side by side for real mode: each shared choice a group of its own, the others filled
    into the fewest groups with at most one variant per dialect (so a failure names its variant)."""
    items = sorted(variants, key=lambda v: v.name)
    out: list[list[Any]] = []
    for choice in SHARED_CHOICES:
        chosen = [v for v in items if v.name.endswith("." + choice)]
        if chosen:
            out.append(chosen)
    others: list[list[Any]] = []
    for item in (v for v in items if not any(v.name.endswith("." + c) for c in SHARED_CHOICES)):
        home = next((g for g in others if all(v.dialect != item.dialect for v in g)), None)
        if home is None:
            others.append([item])
        else:
            home.append(item)
    return [tuple(g) for g in out + others]


def group_plans(variants: Iterable[Any], index: dict[str, list[str]] | None = None,
                strict: bool = False) -> dict[str, tuple[VariantPlan, tuple[Any, ...]]]:
    """A real-mode plan per group (``real_groups``): the union of its variants' scopes, their dialects."""
    out: dict[str, tuple[VariantPlan, tuple[Any, ...]]] = {}
    for number, group in enumerate(real_groups(variants), 1):
        scope = tuple(sorted({p for item in group for p in scope_of(item)}))
        modules = (SUITE,) if index is None else modules_for(scope, index)
        dialects = ",".join(sorted({v.dialect for v in group}))
        key = f"real-group-{number}"
        out[key] = (VariantPlan(key, dialects, scope, ",".join(v.name for v in group), modules, "real", strict), group)
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
    mode: str = "control"
    group: tuple[str, ...] = ()   # the variants served side by side in this run (real mode)

    @property
    def deviated_rules(self) -> set[str]:
        return {str(d.get("rule")) for found in self.deviations.values() for d in found}


def _serve(key: str, name: str, workdir: Path) -> tuple[subprocess.Popen[str], Path]:
    """Start ``serve.py`` for the variants ``name`` (comma-separated) and wait for the profile it writes."""
    workdir.mkdir(parents=True, exist_ok=True)
    profile = workdir / f"{key}.profile.toml"
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
        server, profile = _serve(plan.key, plan.variant, workdir)
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
    group = tuple(plan.variant.split(",")) if plan.variant and plan.mode == "real" else ()
    return VariantRun(run, deviations_of(junit), plan.mode, group)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    certified: bool
    deviations: tuple[str, ...]    # the rules the run reported deviations from
    reason: str


def _concerns(outcome: Any, dialect: str) -> bool:
    """Whether a test's outcome is the variant's of ``dialect`` in a group run: it names a rule of that
    dialect, or no rule of any dialect (then it is every variant's)."""
    dialects = {rule_dialect(r) for r in outcome.rules} - {None}
    return not dialects or dialect in dialects


def judge(item: Any, result: VariantRun) -> Verdict:
    run = result.run
    deviated = tuple(sorted(result.deviated_rules))
    if run.returncode == 5 or not run.outcomes:
        return Verdict(False, False, deviated, f"no test ran (exit {run.returncode}): {run.output[-300:]}")
    if run.returncode not in (0, 1):
        return Verdict(False, False, deviated, f"the run did not complete (exit {run.returncode}): {run.output[-600:]}")
    failures = [o for o in run.failures if not result.group or _concerns(o, item.dialect)]
    if failures:
        shown = "; ".join(f"{o.test}: {o.message[:160]}" for o in failures[:3])
        return Verdict(False, False, deviated, f"NOT CERTIFIED: {len(failures)} failed: {shown}")
    expected = set(item.rules)
    if item.expects_deviation and not expected & set(deviated):
        reached = [o for o in run.outcomes if o.outcome == "passed" and expected & set(o.rules)]
        if result.mode == "real" and not reached:
            return Verdict(True, True, deviated, f"certified; {', '.join(sorted(expected))} not exercised in real "
                           "time (no passed test names them: they need a control API or a fixture)")
        return Verdict(False, True, deviated,
                       f"certified, but no deviation names {', '.join(sorted(expected))} (reported: {', '.join(deviated) or 'none'})")
    return Verdict(True, True, deviated, "certified")


def run_real(variants: Iterable[Any], workdir: Path, index: dict[str, list[str]] | None = None,
             timeout: float = REAL_RUN_TIMEOUT) -> dict[str, VariantRun]:
    """Every group's real-mode run at once (they wait for real time far more than they compute); each
    variant's result is its group's run."""
    from concurrent.futures import ThreadPoolExecutor

    todo = group_plans(variants, index)
    with ThreadPoolExecutor(max(1, len(todo))) as pool:
        futures = {key: pool.submit(execute, plan, workdir, timeout) for key, (plan, _) in todo.items()}
        done = {key: future.result() for key, future in futures.items()}
    return {item.name: done[key] for key, (_, group) in todo.items() for item in group}


def run_all(variants: dict[str, Any], mode: str = "control", jobs: int = 2) -> dict[str, VariantRun]:
    from concurrent.futures import ThreadPoolExecutor

    from defects.runner import index_suite

    with tempfile.TemporaryDirectory(prefix="smsconform-variants-") as tmp:
        if mode == "real":
            return run_real(variants.values(), Path(tmp), index_suite(Path(tmp) / "index"))
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            todo = plans(variants.values(), index_suite(Path(tmp)), mode)
            futures = {key: pool.submit(execute, plan, Path(tmp)) for key, plan in todo.items()}
            return {key: future.result() for key, future in futures.items()}
