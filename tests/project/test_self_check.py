"""The suite checks itself: it must fail against every defect of tests/project/defects, naming a broken rule,
and pass against the unmodified emulator (issue 6, "The suite checks itself").

Each defect is run as a subprocess of the conformance suite (``python -m pytest tests/conformance -p
defects.plugin --defect NAME --dialect D --defect-scope ...``, see defects/runner.py): its dialect, and every
test naming a rule of the operations, machines or callbacks it touches. A defect is caught when a failing
test names one of the rules the defect breaks and the same test passes in the control run, the same
selection (per dialect, the union of its defects' scopes) against the unmodified emulator; a failing control
run is a false alarm and fails here too.

The runs are shared: a session computes each one once, in the background two at a time (one per worker
under pytest-xdist, whose workers share the results through files and per-run locks), so the whole module
costs about what the runs cost on this machine's two cores.
"""
from __future__ import annotations

import fcntl
import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

import pytest

from defects.registry import DIALECTS, load_all
from defects.runner import Plan, Run, control_key, execute, index_suite, judge, plans
from smsconform.contracts import load_contracts

DEFECTS = load_all()
MIN_DEFECTS = 25
RUN_TIMEOUT = 180.0
INDEX = "suite-index"


class SharedRuns:
    """Each run once per session, even across xdist workers: a JSON result file per run in a shared
    directory, written under an exclusive lock on a lock file of its own, so whoever takes the lock computes
    it and everyone else waits for the file."""

    def __init__(self, directory: Path, threads: int, offset: float) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.stop = threading.Event()
        self.index = self._shared(INDEX, lambda: json.dumps(index_suite(self.directory / "index")))
        self.plans: dict[str, Plan] = plans(DEFECTS.values(), json.loads(self.index))
        order = sorted(self.plans, key=lambda k: (not k.startswith("control-"), k))
        start = int(offset * len(order)) % max(1, len(order))
        self.order = order[start:] + order[:start]
        self.threads = [threading.Thread(target=self._prefetch, name=f"self-check-{i}", daemon=True)
                        for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def _shared(self, key: str, compute: Callable[[], str], *, wait: bool = True) -> str | None:
        result = self.directory / f"{key}.json"
        if result.exists():
            return result.read_text(encoding="utf-8")
        with open(self.directory / f"{key}.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    return None
                fcntl.flock(lock, fcntl.LOCK_EX)  # someone else computes it: wait for them
            try:
                if not result.exists():
                    text = compute()
                    partial = result.with_suffix(".partial")
                    partial.write_text(text, encoding="utf-8")
                    os.replace(partial, result)
                return result.read_text(encoding="utf-8")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _compute(self, key: str) -> str:
        return execute(self.plans[key], self.directory / "runs", RUN_TIMEOUT).to_json()

    def _prefetch(self) -> None:
        for key in self.order:
            if self.stop.is_set():
                return
            self._shared(key, lambda key=key: self._compute(key), wait=False)

    def get(self, key: str) -> Run:
        text = self._shared(key, lambda: self._compute(key))
        assert text is not None
        return Run.from_json(text)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(RUN_TIMEOUT + 30)


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[SharedRuns]:
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # xdist: every worker's basetemp is a child of the session's
        base = base.parent
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "2"))
        index = int(worker_id.lstrip("gw") or 0)
        shared = SharedRuns(base / "smsconform-self-check", threads=1, offset=index / max(1, workers))
    else:
        shared = SharedRuns(base / "smsconform-self-check", threads=2, offset=0.0)
    yield shared
    shared.close()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """xdist's worker id ("gw0", ...), or "master" without xdist (xdist's own fixture, when it is absent)."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "master"


# -- the catalogue itself ----------------------------------------------------------------------------
def test_catalogue_has_at_least_25_defects_across_all_six_interfaces() -> None:
    per_dialect = Counter(d.dialect for d in DEFECTS.values())
    assert len(DEFECTS) >= MIN_DEFECTS, f"{len(DEFECTS)} defects, at least {MIN_DEFECTS} wanted"
    assert set(per_dialect) == set(DIALECTS), f"interfaces without a defect: {set(DIALECTS) - set(per_dialect)}"


def _known_rule(rule: str) -> bool:
    """A rule id of the catalog, or of the other contracts the suite names (OpenAPI operation, grammar, WSDL,
    the SMPP profile)."""
    contracts = load_contracts()
    kind, _, rest = rule.partition(":")
    dialect, _, name = rest.partition(".")
    if kind in ("code", "limit", "machine", "callback", "credit", "accept", "select", "rate", "isolation", "number"):
        try:
            contracts.catalog.rule(rule)
            return True
        except KeyError:
            return False
    root = contracts.root
    if kind == "openapi":
        return f"operationId: {name}" in (root / "openapi" / f"{dialect}.yaml").read_text(encoding="utf-8")
    if kind == "grammar":
        text = (root / "grammars" / f"{dialect}.lark").read_text(encoding="utf-8")
        return any(line.split(":")[0].strip().lstrip("?!") == name for line in text.splitlines())
    if kind == "wsdl":
        return f'operation name="{name}"' in (root / "wsdl" / f"{dialect}.wsdl").read_text(encoding="utf-8")
    if kind == "profile":  # profile:smpp.<key>: a key of contracts/smpp/profile.yaml
        return dialect == "smpp" and name.split(".")[0] in contracts.smpp
    return False


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_defect_names_existing_rules_of_its_interface(name: str) -> None:
    defect = DEFECTS[name]
    unknown = [r for r in defect.rules if not _known_rule(r)]
    assert not unknown, f"{name}: rules not in the contracts: {unknown}"
    foreign = [r for r in defect.rules if r.partition(":")[2].split(".")[0] != defect.dialect]
    assert not foreign, f"{name} ({defect.dialect}) names rules of another interface: {foreign}"
    assert defect.violates and defect.summary, f"{name}: say what it breaks and where the documents say so"


# -- the suite against each defect -------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_suite_catches_defect(name: str, runs: SharedRuns) -> None:
    defect = DEFECTS[name]
    run = runs.get(name)
    control = runs.get(control_key(defect.dialect))
    verdict = judge(defect, run, control)
    assert verdict.caught, (
        f"the suite did not catch {name} ({defect.summary}; breaks {', '.join(defect.rules)}): {verdict.reason}")


@pytest.mark.parametrize("dialect", sorted({d.dialect for d in DEFECTS.values()}))
def test_suite_passes_against_the_unmodified_emulator(dialect: str, runs: SharedRuns) -> None:
    run = runs.get(control_key(dialect))
    failures = "; ".join(f"{o.test}: {o.message[:200]}" for o in run.failures[:5])
    assert run.returncode == 0 and not run.failures, (
        f"false alarm: the {dialect} selection fails against the unmodified emulator (exit {run.returncode}): "
        f"{failures or run.output[-800:]}")
    assert run.passed, f"the {dialect} control selection ran no test: the defects' checks would mean nothing"
