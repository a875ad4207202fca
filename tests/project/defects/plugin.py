"""pytest plugin that runs the conformance suite against a defective emulator: ``-p defects.plugin``.

Options (with ``tests/project`` on PYTHONPATH):

- ``--defect NAME`` (or the environment variable ``SMSCONFORM_DEFECT``): apply the defect ``NAME`` of the
  catalogue to the emulator classes before the suite starts its embedded emulator (the built-in target
  starts it in this process, so the patch is what the suite talks to);
- ``--defect-scope GLOB`` (repeatable): keep only the tests whose ``rules`` marker names a rule id matching
  one of the globs (``code:mensagem.mult.*``); the others are deselected. This is how the self-check runs
  the part of the suite a defect concerns, by the rules it breaks rather than by file names, so that a
  test added to any family for those rules is part of the check with no change here. With a defect, the
  tests naming one of its rules run first (in their order), so that ``-x`` stops at the first failure
  without changing the verdict: if any test naming a broken rule fails, the first failure is one of them;
- ``--defect-rules-map PATH``: write, for every selected test, the rules its marker names, keyed as the
  JUnit report names the test (``classname::name``). The suite's plugin attaches the rules to its reports
  as user properties; this map is read from the markers themselves, so the self-check does not depend on
  how a report carries them;
- ``--defect-no-shrink``: hypothesis keeps its active profile (``ci``: its examples and its derandomized
  seed) but does not shrink a failing example. Shrinking only makes a failure smaller, never finds one, and
  a stateful test over HTTP can shrink for minutes: the self-check wants the verdict, not the minimal case.
"""
from __future__ import annotations

import json
import os
import re
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from .registry import DefectError, Patches, applied, load_all

ENV = "SMSCONFORM_DEFECT"
_PATCHES = pytest.StashKey[Patches]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smsconform-defects", "non-conformant variants of the emulator (self-check)")
    group.addoption("--defect", default=os.environ.get(ENV) or None, metavar="NAME",
                    help=f"apply this defect to the emulator (default: ${ENV})")
    group.addoption("--defect-scope", action="append", default=[], metavar="GLOB",
                    help="only tests whose rules marker names a rule matching this glob (repeatable)")
    group.addoption("--defect-no-shrink", action="store_true", default=False,
                    help="hypothesis: keep the active profile, without the shrink phase")
    group.addoption("--defect-rules-map", default=None, metavar="PATH",
                    help="write {junit classname::name: [rules]} of the selected tests to PATH (JSON)")


@pytest.hookimpl(trylast=True)  # after the suite's plugin and hypothesis's have loaded their profile
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("defect_no_shrink"):
        from hypothesis import Phase, settings

        phases = tuple(phase for phase in settings.default.phases if phase is not Phase.shrink)
        name = f"{settings.get_current_profile_name()}-no-shrink"
        settings.register_profile(name, phases=phases)
        settings.load_profile(name)
    name = config.getoption("defect")
    if not name:
        return
    defects = load_all()
    if name not in defects:
        raise pytest.UsageError(f"--defect: unknown defect {name!r}; known: {', '.join(sorted(defects))}")
    try:
        config.stash[_PATCHES] = applied(defects[name].apply)
    except DefectError as exc:
        raise pytest.UsageError(f"--defect {name}: cannot be applied: {exc}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    patches = config.stash.get(_PATCHES, None)
    if patches is not None:
        patches.undo()


def pytest_report_header(config: pytest.Config) -> list[str]:
    name = config.getoption("defect")
    lines = []
    if name:
        defect = load_all()[name]
        lines.append(f"smsconform defect: {name} ({defect.dialect}) breaks {', '.join(defect.rules)}")
    scope = config.getoption("defect_scope")
    if scope:
        lines.append(f"smsconform defect scope: {', '.join(scope)}")
    return lines


def rules_of(item: pytest.Item) -> list[str]:
    return [rule for marker in item.iter_markers("rules") for rule in marker.args]


def junit_key(nodeid: str) -> str:
    """``classname::name`` as pytest's JUnit report writes a test (tests/a/test_b.py::t[x] -> tests.a.test_b::t[x])."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return f"{'.'.join(names[:-1])}::{names[-1]}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    patterns = config.getoption("defect_scope")
    if patterns:
        keep, drop = [], []
        for item in items:
            named = rules_of(item)
            in_scope = any(fnmatchcase(rule, pattern) for rule in named for pattern in patterns)
            (keep if in_scope else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    name = config.getoption("defect")
    if name:
        broken = set(load_all()[name].rules)
        items.sort(key=lambda item: 0 if broken & set(rules_of(item)) else 1)  # stable: file order kept
    target = config.getoption("defect_rules_map")
    if target:
        mapping = {junit_key(item.nodeid): rules_of(item) for item in items}
        Path(target).write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
