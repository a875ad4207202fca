"""Family 1, schema: schemathesis over the four HTTP dialects' OpenAPI files, against the target.

Generated from contracts/openapi/*.yaml: every operation is fuzzed with positive data (what the schema
allows) and negative data (what it forbids), through the real wire, with the target's credentials injected
per security scheme; every answer must have a documented status code and content type, validate against
its response schema and, where the contract names a grammar (`x-grammar`), parse with it. A stateful run
follows the OpenAPI links (send -> cancel or status by id or hash; campaign -> status, hold, release).

Stock checks that the providers' documented behaviour makes inapplicable are excluded per dialect (see
EXCLUDED and why); no check and no contract is loosened. Rule ids: `openapi:<dialect>.<operationId>`
(outside the catalog: an OpenAPI operation is the rule), dialect markers as everywhere.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable

import pytest
import schemathesis
from hypothesis import given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks

from smsconform.conformance.clients.base import NotExercised, valid_number
from smsconform.conformance.exchange import RECORDED, Exchange
from smsconform.conformance.formats import expect_parses, format_basis
from smsconform.conformance.no_redirects import NoRedirectSession
from smsconform.conformance.judge import expect
from smsconform.contracts import HTTP_DIALECTS, load_contracts
from smsconform.contracts.grammars import GrammarError, parse

load_all_checks()
from schemathesis.specs.openapi import checks as stock  # noqa: E402  (registered by load_all_checks)

METHODS = ("get", "post", "put", "delete", "patch", "head", "options")
MODES = {"positive": GenerationMode.POSITIVE, "negative": GenerationMode.NEGATIVE}
TEST_TEXT = "smsconform teste de conformidade"
PAINEL_ACTIONS = ("sendsms", "getstatus", "getbalance", "holdsms", "releasesms")
UNKNOWN_ACTION = "operacao-inexistente"

# Why each exclusion (documented behaviour, never a loosened contract):
# - ignored_auth expects 401/403 without credentials. mensagem answers a wrong or missing user in the body,
#   HTTP 200 ("98 USUARIO OU SENHA INVALIDO(A)", 003 § Envio de SMS Simples; "success is judged by HTTP 200",
#   field-notes.md § mensagem, wbsapi, smpp); speedmarket "Logical errors (bad credentials, ...) come back
#   as HTTP 200 with success: false" (field-notes.md § speedmarket); painel's bad login is
#   {"status":0,...,"msg":"FALHA AO REALIZAR LOGIN"} (field-notes.md § painel). codes.yaml holds those codes;
#   the codes family checks them exactly.
# - negative_data_rejection expects a 4xx for schema-invalid data. The same three dialects refuse in the
#   body with HTTP 200 (the same sources; mensagem.yaml x-http-status), so the status cannot tell; the
#   answer must still be documented, schema-valid and grammatical, which the remaining checks hold.
# fcati signals its refusals by HTTP status (codes.yaml fcati: 400, 401, 402), so nothing is excluded there.
EXCLUDED: dict[str, list[Callable[..., Any]]] = {
    "mensagem": [stock.ignored_auth, stock.negative_data_rejection],
    "speedmarket": [stock.ignored_auth, stock.negative_data_rejection],
    "painel": [stock.ignored_auth, stock.negative_data_rejection],
    "fcati": [],
}


# -- the contract, read once -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    dialect: str
    operation_id: str
    method: str
    path: str

    @property
    def rule(self) -> str:
        return f"openapi:{self.dialect}.{self.operation_id}"


@cache
def operations() -> tuple[Operation, ...]:
    out = []
    for dialect in HTTP_DIALECTS:
        doc = load_contracts().openapi(dialect)
        for path, item in (doc.get("paths") or {}).items():
            for method in METHODS:
                if method in item:
                    out.append(Operation(dialect, item[method]["operationId"], method, path))
    return tuple(out)


def linked_dialects() -> list[str]:
    """Dialects whose OpenAPI file defines links (fcati's webhook has none)."""
    found = []
    for dialect in HTTP_DIALECTS:
        doc = load_contracts().openapi(dialect)
        if any(resp.get("links") for item in (doc.get("paths") or {}).values() for m in METHODS if m in item
               for resp in (item[m].get("responses") or {}).values()):
            found.append(dialect)
    return found


def link_rules(dialect: str) -> list[str]:
    doc = load_contracts().openapi(dialect)
    rules = set()
    for item in (doc.get("paths") or {}).values():
        for method in METHODS:
            op = item.get(method)
            for resp in ((op or {}).get("responses") or {}).values():
                for link in (resp.get("links") or {}).values():
                    rules.add(f"openapi:{dialect}.{op['operationId']}")
                    rules.add(f"openapi:{dialect}.{link['operationId']}")
    return sorted(rules)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "schema_operation" in metafunc.fixturenames:
        metafunc.parametrize("schema_operation,mode", [
            pytest.param(op, mode, id=f"{op.operation_id}-{mode}",
                         marks=[pytest.mark.rules(op.rule), pytest.mark.dialect(op.dialect)])
            for op in operations() for mode in MODES
        ])
    if "linked_dialect" in metafunc.fixturenames:
        metafunc.parametrize("linked_dialect", [
            pytest.param(d, id=d, marks=[pytest.mark.rules(*link_rules(d)), pytest.mark.dialect(d)])
            for d in linked_dialects()
        ])


# -- the schemas, pointed at the target ----------------------------------------------------------------
def _auth(dialect: str, creds: dict[str, str]) -> dict[str, dict[str, str]]:
    """The target's credentials per security scheme, as each OpenAPI file names its schemes."""
    if dialect == "mensagem":
        return {"u": {"api_key": creds.get("u", "")}}
    if dialect == "speedmarket":  # Basic is the documented recommendation (001 § Autenticação)
        return {"basicAuth": {"username": creds.get("user", ""), "password": creds.get("password", "")}}
    if dialect == "painel":
        return {"lgn": {"api_key": creds.get("lgn", "")}, "pwd": {"api_key": creds.get("pwd", "")}}
    return {"bearerAuth": {"bearer": creds.get("token", "")}}


def _load(dialect: str, target: Any, hooks: list[Callable[..., Any]]) -> Any:
    spec = target.dialect(dialect)
    if spec is None or not spec.base_url:
        raise NotExercised(f"the target does not offer {dialect}")
    config = schemathesis.Config.from_dict({
        "base-url": spec.base_url,
        "auth": {"openapi": _auth(dialect, spec.credentials)},
        # Only the contract's links: inferred ones would test what no document promises.
        "phases": {"stateful": {"inference": {"algorithms": []}}},
    })
    schema = schemathesis.openapi.from_dict(copy.deepcopy(load_contracts().openapi(dialect)), config=config)
    for hook in hooks:
        schema.hook(hook)
    return schema


def _painel_action(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    """painel: `action` is the operation's address, not data (painel.yaml x-path-convention: each action is
    its own path item, `/painel/api.ashx#<action>`). A request whose generated `action` names another
    action is that other operation's request; keep every case on the operation under test."""
    if query is None or ctx.operation is None:
        return query
    action = next((p for p in ctx.operation.query if p.name == "action"), None)
    if action is None:
        return query
    const = (action.definition.get("schema") or {}).get("const")
    if const is not None:
        query["action"] = const
    elif query.get("action") in PAINEL_ACTIONS:
        query["action"] = UNKNOWN_ACTION
    return query


def _action_hooks(dialect: str) -> list[Callable[..., Any]]:
    if dialect != "painel":
        return []

    def map_query(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
        return _painel_action(ctx, query)

    return [map_query]


@pytest.fixture(scope="module")
def schemas(sms_target: Any) -> Callable[[str], Any]:
    cache_: dict[str, Any] = {}

    def get(dialect: str) -> Any:
        if dialect not in cache_:
            cache_[dialect] = _load(dialect, sms_target, _action_hooks(dialect))
        return cache_[dialect]

    return get


@pytest.fixture(scope="module")
def session() -> Any:
    """requests for schemathesis, following no redirect: a redirect fails, naming its Location."""
    http = NoRedirectSession()
    yield http
    http.close()


# -- what every answer must satisfy beyond the stock checks ------------------------------------------------
def _media(raw_operation: dict[str, Any], status: int, content_type: str) -> dict[str, Any] | None:
    responses = raw_operation.get("responses") or {}
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if not isinstance(response, dict):
        return None
    media = (response.get("content") or {}).get(content_type.split(";")[0].strip())
    return media if isinstance(media, dict) else None


def _grammar_properties(schema: Any, doc: dict[str, Any], seen: frozenset[str] = frozenset()) -> dict[str, str]:
    """Property name -> x-grammar, for every property of a response schema that names a grammar."""
    found: dict[str, str] = {}
    if not isinstance(schema, dict):
        return found
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return _grammar_properties(node, doc, seen | {ref})
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key) or []:
            found.update(_grammar_properties(sub, doc, seen))
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and isinstance(prop.get("x-grammar"), str):
            found[name] = prop["x-grammar"]
    return found


def grammar_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """A text/plain answer parses with its `x-grammar`; a JSON property that names one (painel getstatus
    `data`) parses with it too (DEVELOPERS.md "Text formats and their grammar names")."""
    raw = case.operation.definition.raw
    content_type = (response.headers.get("content-type") or response.headers.get("Content-Type") or [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    media = _media(raw, response.status_code, content_type)
    if media is None:
        return None
    if isinstance(media.get("x-grammar"), str):
        # judged by the format's basis (formats.py): mensagem's send answer `1;<md5>` and mult lines are inferred
        expect_parses(format_basis(media["x-grammar"]), response.text, case.operation.label)
        return True
    doc = case.operation.schema.raw_schema
    grammars = _grammar_properties(media.get("schema"), doc)
    if grammars:
        try:
            body = response.json()
        except ValueError:
            return None  # the stock response_schema_conformance reports a body that is not JSON
        for name, fmt in grammars.items():
            if isinstance(body, dict) and isinstance(body.get(name), str):
                expect_parses(format_basis(fmt), body[name], f"{case.operation.label}: `{name}`")
    return True


def _resolve(schema: Any, doc: dict[str, Any]) -> Any:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return _resolve(node, doc)
    return schema


def _key_orders(schema: Any, doc: dict[str, Any], depth: int = 0
                ) -> tuple[list[tuple[list[str], str, str | None]], dict[str, Any]]:
    """The `x-key-order` lists a schema (and its allOf/oneOf/anyOf) declares, each with its basis
    (`x-key-order-basis`, observed unless the schema says otherwise) and reason, and its property schemas."""
    schema = _resolve(schema, doc)
    if not isinstance(schema, dict) or depth > 8:
        return [], {}
    orders = [(list(schema["x-key-order"]), str(schema.get("x-key-order-basis", "observed")),
               schema.get("x-key-order-reason"))] if isinstance(schema.get("x-key-order"), list) else []
    props = dict(schema.get("properties") or {})
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key) or []:
            sub_orders, sub_props = _key_orders(sub, doc, depth + 1)
            orders += sub_orders
            for name, prop in sub_props.items():
                props.setdefault(name, prop)
    return orders, props


def _check_order(body: Any, schema: Any, doc: dict[str, Any], where: str, rule: str) -> None:
    if isinstance(body, list):
        items = (_resolve(schema, doc) or {}).get("items") if isinstance(_resolve(schema, doc), dict) else None
        for index, item in enumerate(body[:50]):
            _check_order(item, items, doc, f"{where}[{index}]", rule)
        return
    if not isinstance(body, dict):
        return
    orders, props = _key_orders(schema, doc)
    keys = list(body)
    for order, basis, reason in orders:
        present = [k for k in keys if k in order]
        expected = [k for k in order if k in body]
        expect(present == expected, rule, f"{where or 'the body'}: keys in the order {expected} (x-key-order), got "
               f"{present}", basis=basis, reason=reason)
    for name, value in body.items():
        if name in props and isinstance(value, (dict, list)):
            _check_order(value, props[name], doc, f"{where}.{name}", rule)


def key_order_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """JSON keys in the order `x-key-order` gives: real clients parse by position (speedmarket: "Some clients
    parse the JSON by position and rely on the key order success, responseCode, ...", painel: "a JSON
    envelope with keys in the order status, data, msg", field-notes.md)."""
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type") or [""]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    media = _media(case.operation.definition.raw, response.status_code, content_type)
    if media is None or "json" not in content_type:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    raw = case.operation.definition.raw
    dialect = str(raw.get("operationId", "")).split("_", 1)[0]
    _check_order(body, media.get("schema"), case.operation.schema.raw_schema, "",
                 f"openapi:{dialect}.{raw.get('operationId', '')}")
    return True


CHECKS = [grammar_conformance, key_order_conformance]


def _record(dialect: str, operation: str, response: Any) -> None:
    request = response.request
    body = request.body or b""
    RECORDED.append(Exchange(
        dialect=dialect, operation=operation, method=str(request.method), url=str(request.url),
        request_headers={k: str(v) for k, v in request.headers.items()},
        request_body=body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body),
        status=response.status_code,
        response_headers={k: (v[0] if isinstance(v, list) else str(v)) for k, v in response.headers.items()},
        text=response.text, elapsed_ms=float(getattr(response, "elapsed", 0.0) or 0.0) * 1000,
    ))


def _valid_recipient(target: Any) -> str:
    return "55" + valid_number(target, 0)


def _positive_fcati(case: Any, target: Any) -> None:
    """fcati answers every refusal, semantic ones included, with an HTTP status (codes.yaml fcati.enviar:
    400 "also an invalid recipient (limits.yaml fcati.enviar.recipient) or an empty text"). A schema cannot
    say which numbers exist (DDD table, reserved numbers) nor that a text of spaces is empty, so positive
    data sends the target's valid recipient and a visible text; every other field stays generated."""
    body = case.body
    if isinstance(body, dict) and body.get("acao") == "enviar":
        body["recipient"] = _valid_recipient(target)
        if not str(body.get("text", "")).strip():
            body["text"] = TEST_TEXT


# -- the tests --------------------------------------------------------------------------------------------
def test_operation_conforms_to_its_schema(schema_operation: Operation, mode: str, schemas: Any, sms_target: Any,
                                          session: Any, sms_clients: Any) -> None:
    """Positive and negative cases of one operation: documented status and content type, response schema,
    grammar, no server error (schemathesis's stock checks minus EXCLUDED, plus grammar_conformance)."""
    op = schemas(schema_operation.dialect).find_operation_by_id(schema_operation.operation_id)
    excluded = EXCLUDED[schema_operation.dialect]

    @given(case=op.as_strategy(generation_mode=MODES[mode]))
    @hsettings(database=None)
    def check(case: Any) -> None:
        if schema_operation.dialect == "fcati" and mode == "positive":
            _positive_fcati(case, sms_target)
        response = case.call(session=session, timeout=sms_target.http_timeout)
        _record(schema_operation.dialect, schema_operation.operation_id, response)
        if schema_operation.dialect == "painel":  # a getstatus/getbalance here uses up the account's turn
            sms_clients("painel").made_elsewhere(str(response.request.url))
        case.validate_response(response, excluded_checks=excluded, additional_checks=CHECKS)

    check()


# -- stateful: the OpenAPI links --------------------------------------------------------------------------
_TEXT_PARAMS = {"mensagem": "m", "speedmarket": "content", "painel": "msg"}
_NUMBER_PARAMS = {"mensagem": "n", "speedmarket": "number", "painel": "numbers"}
_SENDS = {"mensagem_send", "speedmarket_send_single", "speedmarket_send_single_post", "painel_sendsms",
          "painel_sendsms_post"}


# What a schema cannot make valid in a send (a calendar date, an existing cost centre, a media URL for
# the media types, a country the account may send to), left out or made plain so the flow can start.
_UNSCHEMABLE = {"mensagem": ("d", "c"), "speedmarket": ("schedule", "timezone", "country_code"),
                "painel": ("jobdate", "jobtime")}
_MEDIA_TYPES = (4, 6, 7, 8)  # 001 § Parâmetro type: áudio, imagem, vídeo take the URL of a file as content


def _flow_hooks(dialect: str, target: Any) -> list[Callable[..., Any]]:
    """For the links to carry a flow, the sends that start one must be accepted: the number is the target's
    valid one (a schema cannot say which numbers exist), a blank text becomes a visible one, and the fields
    of _UNSCHEMABLE are left out. Every other field stays generated, and every answer is checked."""
    valid = target.fixtures.numbers_of("valid")

    def fix(container: dict[str, Any] | None, ctx: Any) -> dict[str, Any] | None:
        if container is None or ctx.operation is None or not valid:
            return container
        if ctx.operation.definition.raw.get("operationId") not in _SENDS:
            return container
        number = _NUMBER_PARAMS[dialect]
        if number in container:
            container[number] = int(valid[0]) if dialect == "speedmarket" else valid[0]
        text = _TEXT_PARAMS[dialect]
        if text in container and not str(container[text]).strip():
            container[text] = TEST_TEXT
        for name in _UNSCHEMABLE[dialect]:
            container.pop(name, None)
        if dialect == "speedmarket" and container.get("type") in _MEDIA_TYPES:
            container["type"] = 0
        return container

    def map_query(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
        return fix(_painel_action(ctx, query) if dialect == "painel" else query, ctx)

    def map_body(ctx: Any, body: Any) -> Any:
        return fix(body, ctx) if isinstance(body, dict) else body

    return [map_query, map_body]


_LINK_NAME = re.compile(r"\] (?P<name>.+?) -> ")


def _x_parameters(parent: Any, response: Any, transition_id: str) -> dict[str, Any]:
    """A link's `x-parameters` (mensagem.yaml: a value a runtime expression cannot address in a text body,
    taken with the grammar): {param: {from: $response.body, grammar, field}} -> {param: value}."""
    found = _LINK_NAME.search(transition_id)
    if found is None:
        return {}
    raw = parent.operation.definition.raw
    link = (((raw.get("responses") or {}).get(str(response.status_code)) or {}).get("links") or {}).get(found["name"])
    spec = (link or {}).get("x-parameters") or {}
    values: dict[str, Any] = {}
    for name, how in spec.items():
        if how.get("from") != "$response.body" or not how.get("grammar"):
            continue
        try:
            tree = parse(load_contracts().root, how["grammar"], response.text)
        except GrammarError:
            continue  # a refusal carries no value: the link then runs with generated data, as schemathesis does
        token = next((t for t in tree.scan_values(lambda v: getattr(v, "type", "").lower() == how["field"])), None)
        if token is not None:
            values[name] = str(token)
    return values


def test_links_hold_in_stateful_sequences(linked_dialect: str, sms_target: Any, session: Any, sms_clients: Any) -> None:
    """schemathesis's state machine over the contract's links, every step held to the same checks."""
    dialect = linked_dialect
    schema = _load(dialect, sms_target, _flow_hooks(dialect, sms_target))
    excluded = EXCLUDED[dialect]
    parents: dict[str, tuple[Any, Any]] = {}
    profile = hsettings()

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input: Any) -> Any:
            transition = input.transition
            if transition is not None and transition.parent_id in parents:
                parent, response = parents[transition.parent_id]
                extra = _x_parameters(parent, response, transition.id)
                if extra:
                    input.case.query = {**(input.case.query or {}), **extra}
            return super().step(input)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"session": session, "timeout": sms_target.http_timeout}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            parents[case.id] = (case, response)
            _record(dialect, str(case.operation.definition.raw.get("operationId")), response)
            if dialect == "painel":
                sms_clients("painel").made_elsewhere(str(response.request.url))

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=excluded, additional_checks=CHECKS,
                                   transport_kwargs=kwargs or None, recorder=self.recorder)

    Links.run(settings=hsettings(max_examples=profile.max_examples, derandomize=profile.derandomize,
                                 stateful_step_count=6, deadline=None, database=None,
                                 suppress_health_check=list(profile.suppress_health_check)))
