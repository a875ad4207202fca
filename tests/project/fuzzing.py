"""Schemathesis, every phase (examples, coverage, fuzzing, stateful), against an emulator at a base URL:
what tests/project/test_hardening_schemathesis.py asserts on and benchmarks/fuzz_count.py counts at
length. One run is one OpenAPI file; what it counts: every request Schemathesis sent, every 5xx answer,
every check that failed, every error of the engine.

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
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.engine import events, from_schema

from smsconform.contracts import load_contracts

CONTROL = "emulator-control"
MAX_EXAMPLES = {CONTROL: 25, "dialect": 8}   # the project test's: a run stays around half a minute
SEED = 2738
DOES_NOT_APPLY = {"ignored_auth", "negative_data_rejection", "unsupported_method"}
FCATI_DOES_NOT_APPLY = DOES_NOT_APPLY | {"positive_data_acceptance"}
PAINEL_DOES_NOT_APPLY = DOES_NOT_APPLY | {"content_type_conformance"}


def checks(name: str) -> dict[str, Any]:
    """Schemathesis's checks setting for one OpenAPI file: every stock check for the control API, less
    those that do not apply (above) for a dialect."""
    if name == CONTROL:
        return {"positive_data_acceptance": {"expected-statuses": ["2xx", "409"]}}
    excluded = {"fcati": FCATI_DOES_NOT_APPLY, "painel": PAINEL_DOES_NOT_APPLY}.get(name, DOES_NOT_APPLY)
    return {check: {"enabled": False} for check in sorted(excluded)}


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


def run(name: str, base_url: str, max_examples: int | None = None, seed: int = SEED) -> Run:
    """Every phase of Schemathesis over one OpenAPI file (``name``: a dialect or CONTROL), with its checks."""
    examples = max_examples or MAX_EXAMPLES.get(name, MAX_EXAMPLES["dialect"])
    config: dict[str, Any] = {
        "base-url": base_url, "workers": 1, "seed": seed, "checks": checks(name),
        "generation": {"max-examples": examples, "database": "none"},
    }
    if name in _credentials():
        config["auth"] = {"openapi": _credentials()[name]}
    schema = schemathesis.openapi.from_dict(copy.deepcopy(load_contracts().openapi(name)),
                                           config=schemathesis.Config.from_dict(config))
    if name == "painel":
        def map_query(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
            return _painel_action(ctx, query)

        schema.hook(map_query)
    result = Run()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                result.requests += 1
                if interaction.response is not None and interaction.response.status_code >= 500:
                    result.server_errors.append(f"{interaction.request.method} {interaction.request.uri}")
            for node in (n for checks_ in recorder.checks.values() for n in checks_):
                if node.status.name == "FAILURE":
                    result.failures.append(f"{recorder.label}: {node.name}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            result.errors.append(repr(getattr(event, "value", None) or getattr(event, "exception", None)))
        elif isinstance(event, events.PhaseFinished):
            result.phases[event.phase.name.value if hasattr(event.phase.name, "value") else str(event.phase.name)] = \
                str(event.status)
    return result
