"""Schemathesis, every phase (examples, coverage, fuzzing, stateful), against a real emulator: the control
API with every stock check and no failure; every dialect with the stock checks that fit these APIs, no
server error and no traceback in the emulator's log.

The examples are bounded (MAX_EXAMPLES, a fixed seed, no example database) so that a run stays around
half a minute; `smsconform certify` runs the dialects' schema family in depth (tests/conformance/
test_schema.py). What is counted: every request Schemathesis sent, every 5xx answer, every check that
failed, every ERROR record of the emulator's loggers (an unexpected exception logs its traceback there).

Stock checks that do not apply to the providers' dialects (none is excluded for the control API):

- ``ignored_auth`` expects 401/403 without credentials: mensagem, speedmarket and painel answer a wrong
  or missing credential with HTTP 200 and a code in the body (98 USUARIO OU SENHA INVALIDO(A); speedmarket
  010; painel FALHA AO REALIZAR LOGIN: field-notes.md § mensagem, § speedmarket, § painel).
- ``negative_data_rejection`` expects a 4xx for schema-invalid input: the same three refuse it with HTTP
  200 and a code (the same sources), so the status cannot tell.
- ``unsupported_method`` expects 405 for a method the document does not declare: no document says what a
  provider answers then, and their clients use GET and POST forms alike on the same address.
- ``positive_data_acceptance`` expects a 2xx for schema-valid input: fcati refuses a schema-valid send
  whose recipient does not exist or whose text is blank with 400 (codes.yaml fcati.enviar); a schema
  cannot say which numbers exist. (The other dialects answer 200 anyway.)
- ``content_type_conformance`` for painel only: painel serves every operation on one address, told
  apart by ``action`` (painel.yaml x-path-convention). A case whose ``action`` the coverage phase or
  negative data changed (no hook reaches those) is another operation's request, and gets that
  operation's content type (JSON, or the text ``0:OPERACAO INVALIDA``); the suite's schema family
  (tests/conformance/test_schema.py) holds painel's content types action by action.

For the control API, a well-formed request the state refuses (an account it does not have, a clock move
backwards or past 9999-01-01, a callback host its configuration refuses) is 409, which the document
gives as the answer a schema-valid request may get; so ``positive_data_acceptance`` accepts 2xx and 409.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
import schemathesis
from schemathesis.engine import events, from_schema

from smsconform.contracts import HTTP_DIALECTS, load_contracts
from smsconform.emulator.server import Emulator

MAX_EXAMPLES = {"emulator-control": 25, "dialect": 8}
SEED = 2738
DOES_NOT_APPLY = {"ignored_auth", "negative_data_rejection", "unsupported_method"}
FCATI_DOES_NOT_APPLY = DOES_NOT_APPLY | {"positive_data_acceptance"}
PAINEL_DOES_NOT_APPLY = DOES_NOT_APPLY | {"content_type_conformance"}


def _credentials() -> dict[str, dict[str, Any]]:
    """The emulator's main account, per security scheme as each OpenAPI file names its schemes."""
    main = load_contracts().emulator_profile["accounts"]["main"]
    return {
        "mensagem": {"u": {"api_key": main["integration_user"]}},
        "speedmarket": {"basicAuth": {"username": main["login"], "password": main["password"]}},
        "painel": {"lgn": {"api_key": main["login"]}, "pwd": {"api_key": main["password"]}},
        "fcati": {"bearerAuth": {"bearer": main["token"]}},
    }


def _painel_action(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    """painel's `action` is the operation's address (painel.yaml x-path-convention), not data: every case
    of `/painel/api.ashx#<action>` keeps its action, as tests/conformance/test_schema.py does."""
    if query is None or ctx.operation is None:
        return query
    action = next((p for p in ctx.operation.query if p.name == "action"), None)
    const = (action.definition.get("schema") or {}).get("const") if action is not None else None
    if const is not None:
        query["action"] = const
    return query


@dataclass
class Run:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    phases: dict[str, str] = field(default_factory=dict)


def _run(name: str, base_url: str, checks: dict[str, Any]) -> Run:
    config: dict[str, Any] = {
        "base-url": base_url, "workers": 1, "seed": SEED, "checks": checks,
        "generation": {"max-examples": MAX_EXAMPLES.get(name, MAX_EXAMPLES["dialect"]), "database": "none"},
    }
    if name in _credentials():
        config["auth"] = {"openapi": _credentials()[name]}
    schema = schemathesis.openapi.from_dict(copy.deepcopy(load_contracts().openapi(name)),
                                           config=schemathesis.Config.from_dict(config))
    if name == "painel":
        def map_query(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
            return _painel_action(ctx, query)

        schema.hook(map_query)
    run = Run()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                run.requests += 1
                if interaction.response is not None and interaction.response.status_code >= 500:
                    run.server_errors.append(f"{interaction.request.method} {interaction.request.uri}")
            for node in (n for checks_ in recorder.checks.values() for n in checks_):
                if node.status.name == "FAILURE":
                    run.failures.append(f"{recorder.label}: {node.name}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            run.errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", None)))
        elif isinstance(event, events.PhaseFinished):
            run.phases[event.phase.name.value if hasattr(event.phase.name, "value") else str(event.phase.name)] = \
                str(event.status)
    return run


@pytest.fixture
def served(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[Emulator, list[logging.LogRecord]]]:
    emu = Emulator(db=tmp_path / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with caplog.at_level(logging.ERROR), emu.running():
        yield emu, caplog.records


def _emulator_errors(records: list[logging.LogRecord]) -> list[str]:
    """ERROR records of the emulator and of uvicorn (an exception escaping the app logs there)."""
    return [r.getMessage()[:300] for r in records
            if r.levelno >= logging.ERROR and r.name.startswith(("smsconform.emulator", "uvicorn"))]


def test_the_control_api_passes_every_phase_and_check(served: tuple[Emulator, list[logging.LogRecord]]) -> None:
    emulator, records = served
    run = _run("emulator-control", emulator.base_url,
               {"positive_data_acceptance": {"expected-statuses": ["2xx", "409"]}})
    print(f"emulator-control: {run.requests} requests, phases {run.phases}")
    assert run.requests > 500
    assert run.phases.get("stateful") == "success", run.phases    # the document's links are followed
    assert run.failures == [], "\n".join(sorted(set(run.failures)))
    assert run.errors == [] and run.server_errors == []
    assert _emulator_errors(records) == []


@pytest.mark.parametrize("dialect", HTTP_DIALECTS)
def test_every_dialect_gives_no_server_error_and_no_traceback(served: tuple[Emulator, list[logging.LogRecord]],
                                                              dialect: str) -> None:
    emulator, records = served
    excluded = {"fcati": FCATI_DOES_NOT_APPLY, "painel": PAINEL_DOES_NOT_APPLY}.get(dialect, DOES_NOT_APPLY)
    run = _run(dialect, emulator.base_url, {name: {"enabled": False} for name in sorted(excluded)})
    print(f"{dialect}: {run.requests} requests, phases {run.phases}")
    assert run.requests > 20
    assert run.server_errors == []
    assert _emulator_errors(records) == []
    assert run.failures == [], "\n".join(sorted(set(run.failures)))
    assert run.errors == []
