"""Run the conformance suite against a defect (or against the unmodified emulator) and read what it said.

Shared by tests/project/test_self_check.py and scripts/detection-rate. Standard library only, so the script
can use it before anything else is imported.

A run is one subprocess: ``python -m pytest tests/conformance -p defects.plugin --defect NAME --dialect D
--defect-scope GLOB ... --junitxml PATH``. Its selection is derived from the rules the defect breaks (every
test naming a rule of the same operation, or of the same dialect's machines and callbacks), so it is broad
enough that a failure must come from the right test, and small enough to stay fast. The JUnit report gives
each test's outcome and, in its properties, the rules its marker names (plugin.py of the suite writes them).
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parents[3]
SUITE = "tests/conformance"
PLUGIN = "defects.plugin"
RUN_TIMEOUT = 300.0
# Operations whose codes are statuses observed over time: their tests live with the machines and callbacks.
STATUS_OPERATIONS = ("message-status", "callback-status", "callback-dlr", "campaign-status", "dlr")
# Modules run after the others in a selection. test_limits probes send-multiple with batches of up to
# 5000 messages on the main account and leaves them in flight; a later test that registers a callback
# receiver (transitions, callbacks) then receives all their status callbacks, and takes minutes instead
# of seconds. In the whole suite the limits' retention probes move the clock past them first; a selection
# may not hold those, so the limits run last (file order matters for speed only, never for a verdict).
RUN_LAST = ("tests/conformance/test_limits.py",)
# Environment a pytest-xdist worker passes down, which must not leak into the child pytest.
_CHILD_DROPS = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID",
                "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS", "SMSCONFORM_DEFECT")


def _operation_patterns(dialect: str, operation: str, *, schema: bool = False) -> set[str]:
    """The rules the suite checks one operation by: its codes and limits (catalog), its answer grammar,
    its WSDL operation, and with ``schema`` its OpenAPI operation (``openapi:<dialect>.<dialect>_<op>``
    and the `_post` variants). The schema family joins only a defect that names an OpenAPI rule: its
    generated requests are many, and the catalog's rules are what the other defects are about."""
    snake = operation.replace("-", "_")
    out = {f"code:{dialect}.{operation}.*", f"limit:{dialect}.{operation}.*", f"grammar:{dialect}.{snake}_*",
           f"wsdl:{dialect}.{operation}"}
    if schema:
        out |= {f"openapi:{dialect}.{dialect}_{snake}", f"openapi:{dialect}.{dialect}_{snake}_post"}
    return out


def scope_for(rules: Iterable[str]) -> list[str]:
    """The rule globs a defect's run selects: its rules, the rules of the same operation (codes, limits,
    answer grammar; the OpenAPI operation when the defect names one), and for status-like rules the
    dialect's machines and callbacks (whose tests observe statuses)."""
    patterns: set[str] = set()
    for rule in rules:
        patterns.add(rule)
        kind, _, rest = rule.partition(":")
        dialect, _, tail = rest.partition(".")
        operation = tail.split(".", 1)[0]
        if kind == "openapi":
            name = tail[len(dialect) + 1:] if tail.startswith(f"{dialect}_") else tail
            name = name[:-len("_post")] if name.endswith("_post") else name
            for candidate in {name, name.replace("_", "-")}:
                patterns |= _operation_patterns(dialect, candidate, schema=True)
        elif kind == "grammar":
            patterns |= _operation_patterns(dialect, tail.split("_", 1)[0])
        elif kind in ("code", "limit", "wsdl") and operation:
            patterns |= _operation_patterns(dialect, operation)
        if kind in ("machine", "callback") or operation in STATUS_OPERATIONS:
            patterns |= {f"machine:{dialect}.*", f"callback:{dialect}.*"}
    return sorted(patterns)


@dataclass(frozen=True)
class Plan:
    """One run to make: ``defect`` None is a control run against the unmodified emulator."""

    key: str
    dialect: str
    scope: tuple[str, ...]
    defect: str | None = None
    modules: tuple[str, ...] = (SUITE,)   # where its tests are (an optimisation: the scope selects them)
    strict: bool = False                  # --strict-rules: the defect breaks only inferred rules (judge.py)

    def command(self, junit: Path) -> list[str]:
        cmd = [sys.executable, "-m", "pytest", *self.modules, "-p", PLUGIN, "-p", "no:cacheprovider",
               "--dialect", self.dialect, "-q", "-rN", "--junitxml", str(junit), "-o", "junit_family=xunit1",
               "-o", "junit_logging=no", "--defect-rules-map", str(rules_map(junit)), "--defect-no-shrink"]
        if self.defect:
            cmd += ["--defect", self.defect, "-x"]  # the plugin runs the tests naming its rules first
        if self.strict:
            cmd += ["--strict-rules"]
        for pattern in self.scope:
            cmd += ["--defect-scope", pattern]
        return cmd


@dataclass
class Outcome:
    test: str                 # classname::name, as the JUnit report gives it
    outcome: str              # passed | failed | error | skipped
    rules: list[str]
    message: str = ""


@dataclass
class Run:
    key: str
    dialect: str
    defect: str | None
    returncode: int
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    output: str = ""          # the tail of stdout/stderr, for a run that went wrong
    strict: bool = False      # made with --strict-rules (inferred rules judged too)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in ("failed", "error")]

    @property
    def passed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome == "passed"]

    def naming(self, rules: Iterable[str]) -> list[Outcome]:
        """Failing tests that name one of ``rules`` (rules marker, or the rule id in the test id)."""
        wanted = set(rules)
        return [o for o in self.failures if wanted & set(o.rules) or any(r in o.test for r in wanted)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Run":
        data = json.loads(text)
        data["outcomes"] = [Outcome(**o) for o in data["outcomes"]]
        return cls(**data)


def rules_map(junit: Path) -> Path:
    return junit.with_suffix(".rules.json")


def parse_junit(path: Path) -> list[Outcome]:
    """Each test's outcome; its rules from the JUnit properties and from the plugin's map of the markers."""
    if not path.exists():
        return []
    try:
        markers: dict[str, list[str]] = json.loads(rules_map(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        markers = {}
    root = ET.parse(path).getroot()
    out: list[Outcome] = []
    for case in root.iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = (node.get("message") or node.text or "")[:500]
                break
        rules: list[str] = []
        for prop in case.iter("property"):
            if prop.get("name") == "rules":
                try:
                    rules += [str(r) for r in json.loads(prop.get("value") or "[]")]
                except ValueError:
                    pass
        rules += markers.get(test, [])
        out.append(Outcome(test, outcome, sorted(set(rules)), message))
    return out


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CHILD_DROPS}
    paths = [str(ROOT / "tests" / "project"), str(ROOT / "src")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def execute(plan: Plan, workdir: Path, timeout: float = RUN_TIMEOUT) -> Run:
    """Make one run in a subprocess and read its JUnit report. A defect that no judged check catches is run
    again with --strict-rules: it may break only what we inferred (an inferred text), which the table shows."""
    run = _execute(plan, workdir, timeout)
    if plan.defect and not plan.strict and run.returncode == 0 and not run.failures:
        return _execute(dataclasses.replace(plan, strict=True), workdir, timeout)
    return run


def _execute(plan: Plan, workdir: Path, timeout: float) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    junit = workdir / f"{plan.key}.xml"
    if not plan.modules:
        return Run(plan.key, plan.dialect, plan.defect, 5, 0.0, [], "no test of the suite names a rule of its scope")
    junit.unlink(missing_ok=True)
    rules_map(junit).unlink(missing_ok=True)
    started = time.monotonic()
    try:
        proc = subprocess.run(plan.command(junit), cwd=ROOT, env=child_env(), capture_output=True, text=True,
                              timeout=timeout)
        returncode, output = proc.returncode, (proc.stdout + proc.stderr)
    except subprocess.TimeoutExpired as exc:
        returncode = -1
        output = f"timed out after {timeout:.0f} s\n" + ((exc.stdout or b"").decode("utf-8", "replace")
                                                          if isinstance(exc.stdout, bytes) else (exc.stdout or ""))
    seconds = time.monotonic() - started
    return Run(plan.key, plan.dialect, plan.defect, returncode, round(seconds, 2), parse_junit(junit),
               output[-3000:], plan.strict)


def index_suite(workdir: Path, timeout: float = 120.0) -> dict[str, list[str]]:
    """Every test of the suite and the rules its marker names (one collect-only run of the plugin)."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / "suite-index.json"
    cmd = [sys.executable, "-m", "pytest", SUITE, "-p", PLUGIN, "-p", "no:cacheprovider", "--collect-only", "-q",
           "--defect-rules-map", str(target)]
    proc = subprocess.run(cmd, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not target.exists():
        raise RuntimeError(f"the suite does not collect (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}")
    return json.loads(target.read_text(encoding="utf-8"))


def modules_for(scope: Iterable[str], index: dict[str, list[str]]) -> tuple[str, ...]:
    """The suite modules holding a test that names a rule of ``scope`` (tests.conformance.test_x -> path),
    in file order except RUN_LAST, which goes last."""
    patterns = list(scope)
    found = {key.split("::", 1)[0] for key, rules in index.items()
             if any(fnmatchcase(rule, pattern) for rule in rules for pattern in patterns)}
    paths = sorted(f"{name.replace('.', '/')}.py" for name in found)
    return tuple(sorted(paths, key=lambda path: path in RUN_LAST))


def plans(defects: Iterable[object], index: dict[str, list[str]] | None = None) -> dict[str, Plan]:
    """A plan per defect, and a control plan per dialect covering the union of its defects' scopes.

    With the suite's ``index`` (index_suite), each run is given only the modules that hold tests of its scope,
    which saves the collection of the others; without it, the whole suite is collected and the scope selects.
    """
    out: dict[str, Plan] = {}
    by_dialect: dict[str, set[str]] = {}

    def where(scope: Iterable[str]) -> tuple[str, ...]:
        return (SUITE,) if index is None else modules_for(scope, index)

    for d in defects:
        scope = tuple(scope_for(d.rules))  # type: ignore[attr-defined]
        out[d.name] = Plan(d.name, d.dialect, scope, d.name, where(scope),  # type: ignore[attr-defined]
                           only_inferred(d.rules))  # type: ignore[attr-defined]
        by_dialect.setdefault(d.dialect, set()).update(scope)  # type: ignore[attr-defined]
    for dialect, scope in sorted(by_dialect.items()):
        out[control_key(dialect)] = Plan(control_key(dialect), dialect, tuple(sorted(scope)), None, where(scope))
    return out


def only_inferred(rules: Iterable[str]) -> bool:
    """Whether no rule of a defect can fail the verdict by default (every one inferred, with no judged part):
    such a defect is a departure from our inferences, not from the documents, and is run with --strict-rules
    (issue 18); the detection table says so."""
    from smsconform.conformance.judge import can_fail
    from smsconform.contracts import load_contracts

    catalog = load_contracts().catalog
    found = []
    for rule in rules:
        try:
            found.append(can_fail(catalog.rule(rule), False))
        except KeyError:
            return False  # an OpenAPI, grammar or WSDL rule: judged
    return not any(found)


def control_key(dialect: str) -> str:
    return f"control-{dialect}"


@dataclass(frozen=True)
class Verdict:
    """What a defect run means: caught (a test naming a broken rule failed, and passed in the control run)."""

    caught: bool
    named: tuple[str, ...]        # the failing tests that name a broken rule
    reason: str
    rules: tuple[str, ...] = ()   # the broken rules those tests name


def judge(defect: object, run: Run, control: Run | None) -> Verdict:
    rules = defect.rules  # type: ignore[attr-defined]
    if run.returncode == 5:
        return Verdict(False, (), f"no test of the suite is in its scope ({run.output[-200:].strip()})")
    if run.returncode not in (0, 1):
        return Verdict(False, (), f"the run did not complete (exit {run.returncode}): {run.output[-600:]}")
    if not run.failures:
        return Verdict(False, (), f"no test failed ({len(run.passed)} passed)")
    named = run.naming(rules)
    if not named:
        others = ", ".join(o.test for o in run.failures[:3])
        return Verdict(False, (), f"{len(run.failures)} failed, none naming {', '.join(rules)}: {others}")
    if control is not None:
        clean = {o.test for o in control.passed}
        named = [o for o in named if o.test in clean]
        if not named:
            return Verdict(False, (), "the tests naming the rules also fail without the defect (no control pass)")
    found = sorted({r for o in named for r in rules if r in o.rules or r in o.test})
    how = "caught with --strict-rules (it breaks only inferred rules)" if run.strict else "caught"
    return Verdict(True, tuple(o.test for o in named), how, tuple(found))
