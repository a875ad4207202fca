"""The OpenAPI 3.1 contracts of the four HTTP dialects (issue 2, item 1).

Why these tests: the emulator's routes, the conformance clients and the schemathesis runs all read
contracts/openapi/*.yaml, so each file must be valid OpenAPI 3.1, load in schemathesis with every operation
the documents name, carry the documented limits, keep its examples true to its schemas, name only grammars
that exist, and trace every operation to a seed section (or field-notes.md) that really says so.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from smsconform.contracts import HTTP_DIALECTS, load_contracts
from smsconform.contracts.documents import field_notes, seeds_dir

REPO = Path(__file__).resolve().parents[2]
SEEDS = seeds_dir()            # SMSCONFORM_SEEDS, or shared/seeds beside the checkout
FIELD_NOTES = field_notes()    # SMSCONFORM_FIELD_NOTES, or field-notes.md beside that folder
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BASES = {"documented", "observed", "inferred"}
DOC_URI = "urn:smsconform:openapi"

MENSAGEM_FUNCTIONS = (
    "send", "mult", "stat", "stam", "recv", "cacl", "crdtf", "cnnvl", "cnus", "cadus", "altus", "crctn",
    "cict", "cact", "oper",
)
PAINEL_ACTIONS = ("sendsms", "getstatus", "getbalance", "holdsms", "releasesms")
# operationIds are `<dialect>_<operation>` (contracts/examples/README.md refers to them by these names).
EXPECTED_OPERATIONS: dict[str, dict[str, tuple[str, str]]] = {
    "mensagem": {f: ("GET", f"/sms/{f}") for f in MENSAGEM_FUNCTIONS},
    "speedmarket": {
        "send_single": ("GET", "/webservice-rest/send-single"),
        "send_single_post": ("POST", "/webservice-rest/send-single"),
        "send_multiple": ("POST", "/webservice-rest/send-multiple"),
        "mt_id": ("GET", "/webservice-rest/mt_id"),
        "mt_id_post": ("POST", "/webservice-rest/mt_id"),
        "mt_date": ("GET", "/webservice-rest/mt_date"),
        "mo_new": ("GET", "/webservice-rest/mo_new"),
        "mo": ("GET", "/webservice-rest/mo"),
        "balance": ("GET", "/webservice-rest/balance"),
    },
    "painel": {
        **{a: ("GET", f"/painel/api.ashx#{a}") for a in PAINEL_ACTIONS},
        **{f"{a}_post": ("POST", f"/painel/api.ashx#{a}") for a in PAINEL_ACTIONS},
        "unknown_action": ("GET", "/painel/api.ashx"),
        "unknown_action_post": ("POST", "/painel/api.ashx"),
    },
    "fcati": {"webhook": ("POST", "/webhook/api-sms"), "webhook_root": ("POST", "/")},
}


# -- helpers ----------------------------------------------------------------------------------------

def doc(name: str) -> dict[str, Any]:
    """The contract as the project reads it: through the loader, never from a path of our own."""
    return load_contracts().openapi(name)


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every node of a document with its JSON pointer."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{pointer}/{index}")


def resolve_pointer(document: dict[str, Any], pointer: str) -> Any:
    """The node a JSON pointer names."""
    node: Any = document
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s of a parameter, response or request body."""
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        node = resolve_pointer(document, node["$ref"][1:])
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(kind, key, method, operation) for paths, webhooks and the callbacks of operations."""
    for kind in ("paths", "webhooks"):
        for key, item in (document.get(kind) or {}).items():
            for method in METHODS:
                if method in item:
                    op = item[method]
                    yield kind, key, method, op
                    for callback in (op.get("callbacks") or {}).values():
                        for expression, cb_item in resolve(document, callback).items():
                            for cb_method in METHODS:
                                if cb_method in cb_item:
                                    yield "callbacks", expression, cb_method, cb_item[cb_method]


def op_by_id(document: dict[str, Any], operation: str) -> dict[str, Any]:
    """An operation by its name without the `<dialect>_` prefix of its operationId."""
    operation_id = f"{document['info']['x-dialect']}_{operation}"
    for _, _, _, op in operations(document):
        if op.get("operationId") == operation_id:
            return op
    raise KeyError(operation_id)


def param(document: dict[str, Any], operation_id: str, name: str) -> dict[str, Any]:
    for raw in op_by_id(document, operation_id).get("parameters", []):
        p = resolve(document, raw)
        if p["name"] == name:
            return p
    raise KeyError(f"{operation_id} has no parameter {name}")


def param_names(document: dict[str, Any], op: dict[str, Any]) -> set[str]:
    """Names an operation accepts: its parameters, their documented variants, and its security keys."""
    names: set[str] = set()
    for raw in op.get("parameters", []):
        p = resolve(document, raw)
        names.add(p["name"])
        names.update(p.get("x-name-variants", []))
    security = op.get("security", document.get("security", []))
    schemes = document.get("components", {}).get("securitySchemes", {})
    for requirement in security:
        for scheme in requirement:
            if schemes[scheme].get("type") == "apiKey":
                names.add(schemes[scheme]["name"])
    return names


@lru_cache(maxsize=None)
def registry(name: str) -> Registry:
    return Registry().with_resource(DOC_URI, DRAFT202012.create_resource(doc(name)))


def validator_at(name: str, pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer`, resolving its `$ref`s inside the whole document."""
    return Draft202012Validator({"$ref": f"{DOC_URI}#{quote(pointer, safe='/~')}"}, registry=registry(name))


def schema_errors(name: str, pointer: str, instance: Any) -> list[str]:
    return [e.message for e in validator_at(name, pointer).iter_errors(instance)]


def pointer_of(document: dict[str, Any], target: Any) -> str:
    for pointer, node in walk(document):
        if node is target:
            return pointer
    raise LookupError("node not in document")


def media_examples(document: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(media pointer, media type, example name, example object) of every media type with examples."""
    for pointer, node in walk(document):
        if not (isinstance(node, dict) and "content" in node and isinstance(node["content"], dict)):
            continue
        for media_type, media in node["content"].items():
            if "/" not in media_type or not isinstance(media, dict):
                continue  # a schema property named `content`, not a Content object
            base = f"{pointer}/content/{media_type.replace('/', '~1')}"
            for ex_name, example in (media.get("examples") or {}).items():
                yield base, media_type, ex_name, example


def grammar_table() -> set[str]:
    """Grammar names from DEVELOPERS.md's table, expanding the `#rule` shorthand of a row."""
    text = (REPO / "DEVELOPERS.md").read_text(encoding="utf-8")
    section = text.split("## Text formats and their grammar names", 1)[1]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        current = None
        for file, rule in re.findall(r"`([a-z_]*)#(\w+)`", first_cell):
            current = file or current
            names.add(f"{current}#{rule}")
    return names


def draw_case(operation: Any) -> Any:
    """One generated case: proves schemathesis can build data for the operation's schemas."""
    drawn: list[Any] = []

    @given(operation.as_strategy())
    @settings(max_examples=1, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        drawn.append(case)

    run()
    return drawn[0]


def normalise(text: str) -> str:
    """Seed text as quoted: markdown escapes (`data\\_callback`) undone, whitespace runs collapsed."""
    return re.sub(r"\s+", " ", text.replace("\\_", "_")).strip()


def doc_request_keys(url: str) -> set[str]:
    """Query parameter names of a URL as a seed prints it (<...>, markdown links, line wraps)."""
    url = url.replace("\n", "")
    link = re.search(r"\]\((.*)\)$", url)
    url = link.group(1) if link else url
    url = url.removeprefix("GET ").strip()
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1]
    if "?" not in url:
        return set()
    return {part.split("=", 1)[0] for part in url.split("?", 1)[1].split("&") if part}


# -- validity and loading ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_validates_as_openapi_31(name: str) -> None:
    document = doc(name)
    assert document["openapi"].startswith("3.1.")
    validate(document, cls=OpenAPIV31SpecValidator)


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_holds_only_json_values(name: str) -> None:
    """YAML turns unquoted dates into datetime objects, which schemathesis cannot generate from."""
    for pointer, node in walk(doc(name)):
        assert node is None or isinstance(node, (str, int, float, bool, list, dict)), f"{pointer}: {node!r}"


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_loads_in_schemathesis_with_the_expected_operations(name: str) -> None:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(doc(name)))
    found: dict[str, tuple[str, str]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.definition.raw["operationId"]] = (operation.method.upper(), operation.path)
    assert found == {f"{name}_{op}": where for op, where in EXPECTED_OPERATIONS[name].items()}
    # the file itself, as a schemathesis command line would open it, names the same operations
    from_file = schemathesis.openapi.from_path(load_contracts().openapi_path(name))
    assert {r.ok().label for r in from_file.get_all_operations()} == {
        r.ok().label for r in schema.get_all_operations()}


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_schemathesis_generates_a_case_for_every_operation(name: str) -> None:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(doc(name)))
    for result in schema.get_all_operations():
        operation = result.ok()
        case = draw_case(operation)
        kwargs = case.as_transport_kwargs(base_url="http://127.0.0.1:2738")
        keep = {k: v for k, v in kwargs.items() if k in ("method", "url", "params", "headers", "data", "json")}
        wire = requests.Request(**keep).prepare().path_url
        assert "#" not in wire, wire
        if "#" in operation.path:
            # painel: the fragment is never sent; the action travels as the required `action` parameter.
            path, action = operation.path.split("#")
            assert case.query["action"] == action
            assert wire.startswith(f"{path}?") and f"action={action}" in wire


def test_painel_models_each_action_as_its_own_path_item() -> None:
    paths = doc("painel")["paths"]
    for action in PAINEL_ACTIONS:
        for op in paths[f"/painel/api.ashx#{action}"].values():
            p = param(doc("painel"), op["operationId"].removeprefix("painel_"), "action")
            assert p["required"] is True and p["schema"]["const"] == action
    unknown = param(doc("painel"), "unknown_action", "action")["schema"]
    assert sorted(unknown["not"]["enum"]) == sorted(PAINEL_ACTIONS)


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_operation_ids_are_unique(name: str) -> None:
    """One declaration per id; a call-back `$ref`-ed by a GET and a POST is still one declaration."""
    declared = {id(op): op["operationId"] for _, _, _, op in operations(doc(name)) if "operationId" in op}
    ids = list(declared.values())
    assert len(ids) == len(set(ids))


# -- sources and bases --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_every_operation_names_its_source_and_basis(name: str) -> None:
    for kind, key, method, op in operations(doc(name)):
        assert op.get("x-source"), f"{kind} {key} {method}: no x-source"
        assert op.get("x-basis") in BASES, f"{kind} {key} {method}: x-basis {op.get('x-basis')!r}"


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_every_basis_is_known_and_inferred_says_why(name: str) -> None:
    for pointer, node in walk(doc(name)):
        if isinstance(node, dict) and "x-basis" in node:
            assert node["x-basis"] in BASES, pointer
            if node["x-basis"] == "inferred":
                assert isinstance(node.get("x-reason"), str) and node["x-reason"].strip(), pointer


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the provider documents are not on this machine (set SMSCONFORM_SEEDS)")
@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_sources_cite_real_sections_and_verbatim_quotes(name: str) -> None:
    """A cited section must be a heading of the cited file, and a quote must be in it word for word."""
    texts = {p.name: normalise(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    texts["field-notes.md"] = normalise(FIELD_NOTES.read_text(encoding="utf-8"))
    cited = 0
    for pointer, node in walk(doc(name)):
        if not (isinstance(node, dict) and "x-source" in node):
            continue
        sources = node["x-source"] if isinstance(node["x-source"], list) else [node["x-source"]]
        for source in sources:
            text = texts[source["doc"]]
            assert normalise(source["section"]) in text, f"{pointer}: section {source['section']!r}"
            if "quote" in source:
                assert normalise(source["quote"]) in text, f"{pointer}: quote {source['quote']!r}"
            cited += 1
        if "x-quote" in node:
            assert any(normalise(node["x-quote"]) in texts[s["doc"]] for s in sources), f"{pointer}: x-quote"
    assert cited >= 5


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_documented_request_urls_use_only_declared_parameters(name: str) -> None:
    """Every query parameter in a URL the documents print is one the operation declares."""
    document = doc(name)
    checked = 0
    for kind, key, method, op in operations(document):
        for request in op.get("x-doc-requests", []):
            if request["url"].startswith("curl"):
                continue
            keys = doc_request_keys(request["url"]) - {"action"}
            assert keys <= param_names(document, op), f"{key} {method}: {keys - param_names(document, op)}"
            checked += 1
    assert checked > 0 or name == "fcati"


# -- grammars ---------------------------------------------------------------------------------------

def test_grammar_table_is_parsed() -> None:
    names = grammar_table()
    assert {"mensagem#send_answer", "mensagem#stam_answer", "mensagem#crctn_answer", "painel#data_callback"} <= names
    assert len(names) >= 25


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_every_grammar_named_is_in_the_developers_table(name: str) -> None:
    table = grammar_table()
    for pointer, node in walk(doc(name)):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.startswith("x-") and key.endswith("grammar"):
                    assert value in table, f"{pointer}/{key}: {value!r}"
                    assert value.split("#")[0] == name, f"{pointer}/{key}: another dialect's grammar"


@pytest.mark.parametrize("name", ("mensagem", "painel"))
def test_every_grammar_named_is_a_start_rule_of_its_file(name: str) -> None:
    """Runs once contracts/grammars/ and its loader exist (another part of issue 2)."""
    if not (REPO / "contracts" / "grammars" / f"{name}.lark").exists():
        pytest.skip(f"contracts/grammars/{name}.lark is not written yet")
    starts = set(load_contracts().grammar(name).options.start)
    for pointer, node in walk(doc(name)):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.startswith("x-") and key.endswith("grammar"):
                    assert value.split("#")[1] in starts, f"{pointer}/{key}: {value!r}"


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_every_text_answer_names_its_grammar(name: str) -> None:
    for pointer, node in walk(doc(name)):
        if isinstance(node, dict) and isinstance(node.get("content"), dict) and "text/plain" in node["content"]:
            assert node["content"]["text/plain"].get("x-grammar"), pointer


@pytest.mark.parametrize("name", ("mensagem", "painel"))
def test_text_examples_parse_with_their_grammar(name: str) -> None:
    """Runs once contracts/grammars/ and its loader exist (another part of issue 2)."""
    if not (REPO / "contracts" / "grammars" / f"{name}.lark").exists():
        pytest.skip(f"contracts/grammars/{name}.lark is not written yet")
    contracts = load_contracts()
    document = doc(name)
    for base, media_type, ex_name, example in media_examples(document):
        if media_type != "text/plain":
            continue
        media = resolve_pointer(document, base)
        grammar_name = example.get("x-grammar", media["x-grammar"])
        file, start = grammar_name.split("#")
        if example.get("x-expect") == "document_error":
            # the seed's own sample breaks its format (x-note says how): the grammar must say so too
            with pytest.raises(Exception):
                contracts.grammar(file).parse(example["value"], start=start)
        else:
            contracts.grammar(file).parse(example["value"], start=start)


# -- examples -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_json_examples_validate_against_their_schemas(name: str) -> None:
    document = doc(name)
    checked = 0
    for base, media_type, ex_name, example in media_examples(document):
        if "schema" not in resolve_pointer(document, base) or media_type == "text/plain":
            continue
        errors = schema_errors(name, f"{base}/schema", example["value"])
        assert not errors, f"{base} example {ex_name}: {errors}"
        checked += 1
    assert checked >= (0 if name == "mensagem" else 2)  # mensagem answers only delimited text


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_parameter_examples_validate_against_their_schemas(name: str) -> None:
    document = doc(name)
    for pointer, node in walk(document):
        if isinstance(node, dict) and "in" in node and "schema" in node and "name" in node:
            for ex_name, example in (node.get("examples") or {}).items():
                assert not schema_errors(name, f"{pointer}/schema", example["value"]), f"{pointer} {ex_name}"
        if isinstance(node, dict) and isinstance(node.get("examples"), list) and "type" in node:
            for value in node["examples"]:
                assert not schema_errors(name, pointer, value), f"{pointer}: {value!r}"


def key_orders(document: dict[str, Any], schema: Any, seen: frozenset[int] = frozenset()) -> Iterator[Any]:
    """Schema nodes carrying `x-key-order`, reached through $ref, oneOf, anyOf and allOf."""
    if not isinstance(schema, dict) or id(schema) in seen:
        return
    seen = seen | {id(schema)}
    if "x-key-order" in schema:
        yield schema
    if "$ref" in schema:
        yield from key_orders(document, resolve(document, schema), seen)
    for keyword in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(keyword, []):
            yield from key_orders(document, sub, seen)


@pytest.mark.parametrize("name", ("speedmarket", "painel", "fcati"))
def test_json_examples_keep_the_documented_key_order(name: str) -> None:
    """Some clients parse answers by position (field-notes.md): the examples must show the order."""
    document = doc(name)
    checked = 0
    for base, media_type, ex_name, example in media_examples(document):
        if media_type != "application/json" or not isinstance(example["value"], dict):
            continue
        value = example["value"]
        matching = []
        for node in key_orders(document, resolve_pointer(document, base)["schema"]):
            if not schema_errors(name, pointer_of(document, node), value):
                matching.append(node["x-key-order"])
        for order in matching:
            assert list(value) == [k for k in order if k in value], f"{base} {ex_name}: {list(value)} vs {order}"
            assert set(value) <= set(order), f"{base} {ex_name}: keys outside {order}"
            checked += 1
    assert checked > 0


def restore_commas(text: str) -> str:
    """Insert the commas the seed's samples leave out between `"key" : value` lines, nothing else."""
    return re.sub(r'("|\d|true|false|null)\n(\s*")', r"\1,\n\2", text)


@pytest.mark.parametrize("name", HTTP_DIALECTS)
def test_verbatim_examples_differ_from_their_value_only_by_commas(name: str) -> None:
    checked = 0
    for _, _, ex_name, example in media_examples(doc(name)):
        if "x-verbatim" in example:
            verbatim = example["x-verbatim"]
            try:
                parsed = json.loads(verbatim)
            except json.JSONDecodeError:
                parsed = json.loads(restore_commas(verbatim))
            assert parsed == example["value"], ex_name
            assert list(parsed) == list(example["value"]), ex_name
            checked += 1
    assert checked > 0 or name != "speedmarket"


# -- documented limits ------------------------------------------------------------------------------

def accepts(name: str, operation_id: str, parameter: str, value: Any) -> bool:
    document = doc(name)
    p = param(document, operation_id, parameter)
    return not schema_errors(name, pointer_of(document, p) + "/schema", value)


def test_mensagem_limits() -> None:
    m = doc("mensagem")
    assert m["servers"][0]["url"] == "http://127.0.0.1:2738"
    assert m["components"]["securitySchemes"]["u"] == {**m["components"]["securitySchemes"]["u"],
                                                       "type": "apiKey", "in": "query", "name": "u"}
    assert op_by_id(m, "recv")["security"] == [{"h": []}]
    assert m["components"]["securitySchemes"]["h"]["name"] == "h"
    for fn in ("send", "mult"):
        assert accepts("mensagem", fn, "m", "x" * 600) and not accepts("mensagem", fn, "m", "x" * 601)
        assert resolve(m, param(m, fn, "f")["schema"])["enum"] == [0, 1, 2, 4]
    assert param(m, "send", "id")["schema"]["maxLength"] == 40
    assert accepts("mensagem", "send", "id", "a" * 40) and not accepts("mensagem", "send", "id", "a" * 41)
    assert accepts("mensagem", "send", "n", "11987654321")
    for bad in ("119876543210", "11a8765432", "1", ""):
        assert not accepts("mensagem", "send", "n", bad), bad
    numbers = [f"119{i:08d}" for i in range(1001)]
    assert not accepts("mensagem", "mult", "n", numbers[0])
    assert accepts("mensagem", "mult", "n", ";".join(numbers[:2]))
    assert accepts("mensagem", "mult", "n", ";".join(numbers[:1000]))
    assert not accepts("mensagem", "mult", "n", ";".join(numbers))
    mult_n = param(m, "mult", "n")["schema"]
    assert (mult_n["x-minItems"], mult_n["x-maxItems"], mult_n["x-separator"]) == (2, 1000, ";")
    assert accepts("mensagem", "mult", "c", "11987654321|Primeira|544;1187654321|Segunda")
    assert not accepts("mensagem", "mult", "c", "11987654321|Primeira")
    assert accepts("mensagem", "cict", "d", "x" * 50) and not accepts("mensagem", "cict", "d", "x" * 51)
    for fn in ("cict", "cact"):
        address = lambda n: "x" * (n - len("@empresa.com.br")) + "@empresa.com.br"  # noqa: E731
        assert accepts("mensagem", fn, "e", address(999)) and not accepts("mensagem", fn, "e", address(1000))
        assert not accepts("mensagem", fn, "e", "sem arroba")  # crctn joins addresses by pipes
    for login in ("eduardo_moreira", "A.b-C@d_9"):
        assert accepts("mensagem", "cadus", "d", login)
    for login in ("eduardo moreira", "josé", "a;b", ""):
        assert not accepts("mensagem", "cadus", "d", login), login
    assert accepts("mensagem", "cadus", "c", "6|47|52") and not accepts("mensagem", "cadus", "c", "6;47")
    assert accepts("mensagem", "cacl", "h", "8eb339e2545a9e01d60e542d6798a4b5;7a487fdb33f8047d391637fb8d6beecf")
    assert not accepts("mensagem", "stam", "h", "8cbacfc4719d05b8c57ec392049b995")  # the seed's 31-digit typo
    assert op_by_id(m, "stat")["security"] == [] and op_by_id(m, "stam")["security"] == []


def test_speedmarket_limits() -> None:
    s = doc("speedmarket")
    schemes = s["components"]["securitySchemes"]
    assert schemes["basicAuth"]["scheme"] == "basic"
    assert (schemes["user"]["name"], schemes["password"]["name"]) == ("user", "password")
    assert s["security"] == [{"basicAuth": []}, {"user": [], "password": []}]
    body = "/paths/~1webservice-rest~1send-multiple/post/requestBody/content/application~1json/schema"
    message = {"number": 11987654321, "content": "x"}
    assert not schema_errors("speedmarket", body, {"defaultValues": {"type": 0}, "messages": [message] * 5000})
    assert schema_errors("speedmarket", body, {"defaultValues": {"type": 0}, "messages": [message] * 5001})
    assert schema_errors("speedmarket", body, {"defaultValues": {"type": 0}, "messages": []})
    assert schema_errors("speedmarket", body, {"messages": [message]})  # type* given nowhere
    assert not schema_errors("speedmarket", body, {"messages": [{**message, "type": 2}]})
    assert accepts("speedmarket", "send_single", "caption", "x" * 490)
    assert not accepts("speedmarket", "send_single", "caption", "x" * 491)
    assert resolve(s, param(s, "send_single", "type")["schema"])["enum"] == list(range(9))
    assert not accepts("speedmarket", "send_single", "type", 9)
    codes = s["components"]["schemas"]["ResponseCode"]["enum"]
    assert len(codes) == 21 and {"000", "080", "120", "160", "200"} <= set(codes)
    for op in ("mt_id", "mt_id_post", "mt_date", "mo_new", "mo"):
        assert op_by_id(s, op)["x-query-window-days"] == 32
    for value in ("2020-11-01 15:00:00", "2024-05-01T10:05:00-03:00"):
        assert accepts("speedmarket", "send_single", "schedule", value)
    assert not accepts("speedmarket", "send_single", "schedule", "01/11/2020 15:00")
    assert accepts("speedmarket", "send_single", "timezone", "-03:00")
    answer = "/paths/~1webservice-rest~1send-single/get/responses/200/content/application~1json/schema"
    ok = {"success": True, "responseCode": "000", "responseDescription": "Success queued", "credit": 1,
          "balance": "7", "id": "6"}
    assert not schema_errors("speedmarket", answer, ok)
    assert schema_errors("speedmarket", answer, {k: v for k, v in ok.items() if k != "id"})
    assert schema_errors("speedmarket", answer, {**ok, "credit": True})


def test_painel_limits() -> None:
    p = doc("painel")
    assert p["security"] == [{"lgn": [], "pwd": []}]
    assert accepts("painel", "sendsms", "numbers", "3194136747,31992450023")
    for bad in ("553199999999", "3194136747;3192450023", "319413674", ""):
        assert not accepts("painel", "sendsms", "numbers", bad), bad
    assert accepts("painel", "sendsms", "jobdate", "24/12/2013")
    assert not accepts("painel", "sendsms", "jobdate", "2013-12-24")
    assert accepts("painel", "sendsms", "jobtime", "16:00")
    assert not accepts("painel", "sendsms", "jobtime", "16:00:00")
    for op in ("getstatus", "getstatus_post", "getbalance", "getbalance_post"):
        limit = op_by_id(p, op)["x-rate-limit"]
        assert (limit["calls"], limit["per_seconds"], limit["scope"]) == (1, 60, "account")
    for op in ("sendsms", "holdsms", "releasesms"):
        assert "x-rate-limit" not in op_by_id(p, op)
    envelope = p["components"]["schemas"]["Envelope"]
    assert envelope["x-key-order"] == ["status", "data", "msg"]
    answer = "/paths/~1painel~1api.ashx#sendsms/get/responses/200/content/application~1json/schema"
    assert not schema_errors("painel", answer, {"status": 1, "data": 28, "msg": None})
    assert schema_errors("painel", answer, {"status": 1, "data": None, "msg": None})
    assert schema_errors("painel", answer, {"status": 0, "data": 28, "msg": "FALHA AO REALIZAR LOGIN"})
    assert "/shortcode/api.ashx" in p["info"]["x-path-aliases"]["/painel/api.ashx"]
    assert p["info"]["x-not-covered"][0]["interface"] == "ServiceSms.asmx"


def test_fcati_contract() -> None:
    f = doc("fcati")
    assert f["components"]["securitySchemes"]["bearerAuth"] == {
        **f["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    body = "/components/requestBodies/Webhook/content/application~1json/schema"
    assert not schema_errors("fcati", body, {"acao": "saldo"})
    assert not schema_errors("fcati", body, {"acao": "enviar", "recipient": "5511947651152", "text": "oi"})
    for bad in ({"acao": "enviar", "recipient": "+55 11 94765-1152", "text": "oi"},
                {"acao": "enviar", "text": "oi"}, {"acao": "consultar"}, {}):
        assert schema_errors("fcati", body, bad), bad
    assert op_by_id(f, "webhook")["requestBody"] == op_by_id(f, "webhook_root")["requestBody"]
    for code in ("400", "401"):
        assert resolve(f, op_by_id(f, "webhook")["responses"][code])["x-basis"] == "inferred"


# -- stateful flows and callbacks -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "source", "targets", "parameter", "expression"), [
    ("mensagem", "send", {"cacl"}, "h", None),
    ("speedmarket", "send_single", {"mt_id"}, "id", "$response.body#/id"),
    ("speedmarket", "send_single_post", {"mt_id"}, "id", "$response.body#/id"),
    ("painel", "sendsms", {"getstatus", "holdsms", "releasesms"}, "id", "$response.body#/data"),
    ("painel", "sendsms_post", {"getstatus", "holdsms", "releasesms"}, "id", "$response.body#/data"),
])
def test_links_of_the_stateful_flows(name: str, source: str, targets: set[str], parameter: str,
                                     expression: str | None) -> None:
    document = doc(name)
    links = op_by_id(document, source)["responses"]["200"]["links"]
    assert {f"{name}_{t}" for t in targets} <= {link["operationId"] for link in links.values()}
    for link in links.values():
        target = op_by_id(document, link["operationId"].removeprefix(f"{name}_"))
        for key in {**link.get("parameters", {}), **link.get("x-parameters", {})}:
            assert key in param_names(document, target), f"{link['operationId']} has no {key}"
        if link["operationId"].removeprefix(f"{name}_") in targets and expression and parameter in link.get("parameters", {}):
            assert link["parameters"][parameter] == expression
    if expression is None:  # text answer: the hash is taken with the grammar
        assert links["cancel"]["x-parameters"]["h"]["grammar"] == "mensagem#send_answer"


@pytest.mark.parametrize(("name", "hook", "expected"), [
    ("speedmarket", "status", {"campaign_id", "id", "status", "date", "carrier", "number", "content"}),
    ("speedmarket", "mo", {"number", "content", "campaign_id", "id", "status", "date", "carrier"}),
    ("mensagem", "status", {"msisdn", "status", "date", "type", "md5", "uuid"}),
    ("mensagem", "dlr", {"msisdn", "status", "date", "type", "md5", "uuid"}),
    ("mensagem", "mo", {"msisdn", "message", "date", "type", "md5", "uuid"}),
])
def test_callbacks_carry_their_documented_parameters(name: str, hook: str, expected: set[str]) -> None:
    document = doc(name)
    op = document["webhooks"][hook]["get"]
    assert param_names(document, op) == expected
    assert op["x-rule"] == f"callback:{name}.{hook}"
    assert op["security"] == []  # the provider calls the client: none of the API's credentials


def test_callback_status_values() -> None:
    m, s = doc("mensagem"), doc("speedmarket")
    assert param(m, "callback_status", "status")["schema"]["enum"] == [1, 2, 5, 9]
    assert param(m, "callback_dlr", "status")["schema"]["enum"] == [2, 5, 8]
    assert [param(m, f"callback_{h}", "type")["schema"]["const"] for h in ("mo", "status", "dlr")] == [1, 2, 3]
    assert -1 not in param(s, "callback_status", "status")["schema"]["enum"]  # preparation: never called back
    assert param(s, "callback_mo", "status")["schema"]["const"] == 4


def test_painel_data_callback_goes_to_url_callback() -> None:
    p = doc("painel")
    for op_id in ("sendsms", "sendsms_post"):
        callback = resolve(p, op_by_id(p, op_id)["callbacks"]["data_callback"])["{$request.query.url_callback}"]["get"]
        assert callback["operationId"] == "painel_data_callback" and callback["security"] == []
        assert param(p, op_id, "url_callback")["required"] is False
        record = callback["parameters"][0]
        assert record["name"] == "data_callback" and record["schema"]["x-grammar"] == "painel#data_callback"
