"""The smsconform pytest plugin: the options, fixtures and markers of the conformance suite, in one place.

Options: ``--target`` (a profile path, or ``emulator``, the default), ``--dialect`` (repeatable),
``--hypothesis-home`` (where hypothesis keeps its caches; certify points it at the user's cache), and the
hypothesis profiles ``ci`` (derandomized, quick; the default) and ``thorough``, chosen with hypothesis's own
``--hypothesis-profile``. Markers: ``rules(*ids)`` names the catalog rules a test checks; ``dialect(name)``
the interface it speaks. A test that cannot run on a target raises ``NotExercised`` and is reported as not
exercised, never as passed.
"""
from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

from ..contracts import DIALECTS, Contracts, load_contracts
from .clients.base import NotExercised
from .exchange import RECORDED
from .exercised import EXERCISED
from .flows import OBSERVED
from .judge import DEVIATIONS, set_strict
from .target import ProfileError, Target, load_profile

settings.register_profile("ci", max_examples=25, derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("thorough", max_examples=500, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NOT_EXERCISED = "not exercised: "


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smsconform", "SMS-gateway conformance")
    group.addoption("--target", default="emulator",
                    help="target profile (a TOML file) or 'emulator' (the embedded emulator, default)")
    group.addoption("--dialect", action="append", default=[], choices=DIALECTS,
                    help="only this dialect (repeatable); default: every dialect the target offers")
    group.addoption("--strict-rules", action="store_true", default=False, dest="sms_strict",
                    help="judge inferred rules too: a deviation from one fails the run (default: reported)")
    group.addoption("--hypothesis-home", default=None,
                    help="directory for hypothesis's caches and examples (default: .hypothesis/ here)")
    group.addoption("--rule", action="append", default=[], dest="sms_rules", metavar="ID",
                    help="only the tests whose rules marker names this rule id (repeatable)")
    group.addoption("--sms-deadline", type=float, default=None, dest="sms_deadline", metavar="EPOCH",
                    help="no test starts after this moment (seconds since the epoch): it is not exercised, "
                         "with the reason `deadline` (certify --max-time)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rules(*ids): the contract rule ids this test checks")
    config.addinivalue_line("markers", "dialect(name): the interface this test speaks")
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("ci")
    set_strict(config.getoption("sms_strict", False))
    if config.getoption("hypothesis_home", None):
        set_hypothesis_home_dir(config.getoption("hypothesis_home"))


def _item_rules(item: pytest.Item) -> set[str]:
    return {r for m in item.iter_markers("rules") for r in m.args}


def _real_time(config: pytest.Config) -> bool:
    choice = config.getoption("target", "emulator")
    if choice == "emulator":
        return False
    try:
        return load_profile(Path(choice)).time.mode != "control"
    except ProfileError:
        return False  # the sms_target fixture reports it


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("sms_rules", None) or ())
    if wanted:
        kept = [i for i in items if wanted & _item_rules(i)]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
    if _real_time(config):  # tests that need a rate-limited turn go through the run at even intervals
        from .run_plan import needs_turn, spread

        items[:] = spread(items, lambda item: needs_turn(sorted(_item_rules(item))))
    chosen = set(config.getoption("dialect") or ())
    if not chosen:
        return
    for item in items:
        marker = item.get_closest_marker("dialect")
        if marker and marker.args[0] not in chosen:
            item.add_marker(pytest.mark.skip(reason=f"{NOT_EXERCISED}dialect {marker.args[0]} not selected"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(NotExercised):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"{NOT_EXERCISED}{call.excinfo.value}")
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        rules = [rule for marker in item.iter_markers("rules") for rule in marker.args]
        rules += [rule for rule in EXERCISED if rule not in rules]  # reached at run time (exercised.py)
        properties = [("rules", json.dumps(rules))]
        marker = item.get_closest_marker("dialect")
        if marker:
            properties.append(("dialect", marker.args[0]))
        if OBSERVED:
            properties.append(("transitions", json.dumps(OBSERVED)))
        if DEVIATIONS:
            properties.append(("deviations", json.dumps(DEVIATIONS, ensure_ascii=False)))
        if report.failed:
            secrets = getattr(item.config, "_sms_secrets", [])
            evidence = [e.evidence(secrets) for e in RECORDED[-5:]]
            properties.append(("evidence", json.dumps(evidence, ensure_ascii=False)))
        # On this report for in-process collectors, and on the item so the teardown report carries them
        # too: that is the one pytest's own --junitxml writes properties from.
        report.user_properties.extend(properties)
        item.user_properties.extend(properties)


DEADLINE = "deadline"  # the not-exercised reason of a test certify's --max-time left no time for


def pytest_runtest_setup(item: pytest.Item) -> None:
    RECORDED.clear()
    OBSERVED.clear()
    DEVIATIONS.clear()
    EXERCISED.clear()
    deadline = item.config.getoption("sms_deadline", None)
    if deadline is not None and time.time() >= deadline:
        raise NotExercised(f"{DEADLINE}: the run's time (certify --max-time) was up before this test started")


@pytest.fixture(scope="session")
def sms_contracts() -> Contracts:
    return load_contracts()


@pytest.fixture(scope="session")
def sms_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The implementation under test: the embedded emulator (one per xdist worker) or a profile's target."""
    choice = request.config.getoption("target")
    if choice == "emulator":
        from .emulator_target import running_emulator

        with running_emulator() as target:
            request.config._sms_secrets = target.secrets()  # type: ignore[attr-defined]
            yield target
        return
    try:
        target = load_profile(Path(choice))
    except ProfileError as exc:
        raise pytest.UsageError(str(exc)) from None
    request.config._sms_secrets = target.secrets()  # type: ignore[attr-defined]
    if target.strict:  # the profile's `strict = true`: judge inferred rules too, as --strict-rules does
        set_strict(True)
    yield target


@pytest.fixture(scope="session")
def sms_clients(sms_target: Target) -> Iterator[Any]:
    """``sms_clients("mensagem")``: the dialect client for the target (raises NotExercised if not offered)."""
    from .clients import client_for

    cache: dict[str, Any] = {}

    def get(dialect: str) -> Any:
        if dialect not in cache:
            cache[dialect] = client_for(sms_target, dialect)
        return cache[dialect]

    yield get
    for client in cache.values():
        with contextlib.suppress(Exception):
            client.close()


@pytest.fixture(scope="session")
def sms_control(sms_target: Target) -> Iterator[Any]:
    """The target's control API, or None when time passes for real there."""
    if sms_target.time.mode != "control" or not sms_target.time.control_url:
        yield None
        return
    from .control import ControlClient

    client = ControlClient(sms_target.time.control_url)
    yield client
    client.close()


@pytest.fixture
def sms_emulator() -> Iterator[Any]:
    """The in-process emulator mock for client tests: httpx and requests calls to the emulator's address
    are answered in process, with a frozen clock; the handle steers it (``advance``, ``control``)."""
    from ..emulator.mock import emulator_mock_fixture

    yield from emulator_mock_fixture()
