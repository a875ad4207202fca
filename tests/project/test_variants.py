"""The other half of the self-check: the suite must certify every benign variant of the emulator (issue 18).

A variant (tests/project/variants) differs from the emulator only where the documents leave the choice
open: another text for an inferred text, another HTTP status for an unpublished refusal, a no-op where a
refusal was our inference, a handset that replies to each delivery, slower carriers, a flat price for a
long message, ... A suite that judges by the documents certifies each of them, and reports a deviation for
every inferred rule the variant decides otherwise (so the difference is seen, not hidden).

Each variant is one subprocess run of the part of the suite that concerns it (variants/runner.py), in
control mode: the embedded emulator with the variant applied. The real-mode path (variants/serve.py, a
profile with ``time.mode = "real"``) is run by ``scripts/detection-rate --mode real``.
"""
from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest

from defects.runner import index_suite
from smsconform.contracts import load_contracts
from variants.registry import load_all
from variants.runner import VariantRun, execute, judge, plans

VARIANTS = load_all()
MIN_VARIANTS = 20
RUN_TIMEOUT = 240.0


class Runs:
    """Each variant's run once per module, two at a time in the background (this machine has two cores);
    under pytest-xdist each worker makes the runs of its own tests, on first use."""

    def __init__(self, directory: Path, prefetch: bool) -> None:
        self.directory = directory
        self.plans = plans(VARIANTS.values(), index_suite(directory / "index"), "control")
        self.pool = ThreadPoolExecutor(max_workers=2 if prefetch else 1)
        self.futures: dict[str, Future[VariantRun]] = {}
        if prefetch:
            for name in sorted(self.plans):
                self._submit(name)

    def _submit(self, name: str) -> Future[VariantRun]:
        if name not in self.futures:
            self.futures[name] = self.pool.submit(execute, self.plans[name], self.directory / "runs", RUN_TIMEOUT)
        return self.futures[name]

    def get(self, name: str) -> VariantRun:
        return self._submit(name).result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Runs]:
    under_xdist = getattr(request.config, "workerinput", None) is not None
    shared = Runs(tmp_path_factory.mktemp("variants"), prefetch=not under_xdist)
    yield shared
    shared.close()


def test_catalogue_has_at_least_20_variants() -> None:
    per_dialect = Counter(v.dialect for v in VARIANTS.values())
    assert len(VARIANTS) >= MIN_VARIANTS, f"{len(VARIANTS)} variants, at least {MIN_VARIANTS} wanted"
    assert len(per_dialect) >= 5, f"variants cover only {sorted(per_dialect)}"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_names_inferred_rules_of_its_interface(name: str) -> None:
    """A variant may only decide otherwise what the catalog marks inferred: a documented or observed rule
    changed would be a defect, not a variant."""
    item = VARIANTS[name]
    catalog = load_contracts().catalog
    assert item.summary and item.leaves_open, f"{name}: say what it changes and why the documents allow it"
    for rule_id in item.rules:
        rule = catalog.rule(rule_id)  # KeyError: not a catalog rule
        assert rule.dialect == item.dialect, f"{name} ({item.dialect}) names {rule_id} of another interface"
        bases = {rule.basis, getattr(rule, "text_basis", rule.basis)}
        assert "inferred" in bases, f"{name}: {rule_id} is {rule.basis}; a variant may only change inferred rules"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_suite_certifies_variant(name: str, runs: Runs) -> None:
    item = VARIANTS[name]
    result = runs.get(name)
    verdict = judge(item, result)
    detail = json.dumps(sorted(result.deviated_rules))
    assert verdict.passed, f"{name} ({item.summary}): {verdict.reason}; deviations reported: {detail}"
