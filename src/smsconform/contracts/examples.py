"""The exchanges the documents quote (contracts/examples/), and their check against grammars and schemas."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .grammars import GrammarError, parse
from .yamlfile import load_yaml


def load_examples(root: Path) -> list[dict[str, Any]]:
    examples = []
    for path in sorted((root / "examples").glob("*.yaml")):
        examples += load_yaml(path)[0]["examples"]
    return examples


def substitute(text: str, placeholders: dict[str, str] | None) -> str:
    """Replace the document's placeholders by concrete values, longest first, in one pass."""
    if not placeholders:
        return text
    keys = sorted(placeholders, key=len, reverse=True)
    return re.sub("|".join(map(re.escape, keys)), lambda m: placeholders[m.group(0)], text)


def query_params(url: str) -> dict[str, str]:
    """The query parameters as a server sees them: split on `&` and the first `=`, then %-decoded."""
    pairs = (item.partition("=") for item in url.partition("?")[2].split("&") if item)
    return {key: unquote(value) for key, _, value in pairs}


def accepts(root: Path, fmt: str, text: str) -> bool:
    try:
        parse(root, fmt, text)
    except GrammarError:
        return False
    return True


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                yield path, method, op
    for name, item in (document.get("webhooks") or {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                yield f"webhooks/{name}", method, op


def response_validator(document: dict[str, Any], operation_id: str, status: str) -> jsonschema.Validator | None:
    """A JSON Schema validator for an operation's JSON answer, resolving the document's own $refs."""
    for path, method, op in _operations(document):
        if op["operationId"] != operation_id:
            continue
        content = (op.get("responses", {}).get(status) or {}).get("content", {})
        media = next((m for m in content if "json" in m), None)
        if media is None:
            return None
        base = "paths/" + path.replace("~", "~0").replace("/", "~1") if not path.startswith("webhooks/") \
            else "webhooks/" + path.split("/", 1)[1]
        pointer = f"urn:openapi#/{base}/{method}/responses/{status}/content/{media.replace('/', '~1')}/schema"
        registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, DRAFT202012))
        return jsonschema.Draft202012Validator({"$ref": pointer}, registry=registry)
    raise KeyError(f"no operation {operation_id!r}")


def problems(root: Path, example: dict[str, Any], openapi: Any) -> list[str]:
    """What is wrong with one example against today's contracts (empty when it checks out)."""
    out: list[str] = []
    valid = example.get("expect", "valid") == "valid"
    placeholders = example.get("placeholders")
    if "grammar" in example:
        text = substitute(example["text"], placeholders)
        if accepts(root, example["grammar"], text) is not valid:
            out.append(f"{example['grammar']} {'rejects' if valid else 'accepts'} {text!r}")
    if "params" in example and "url" in example:
        params = query_params(substitute(example["url"], placeholders))
        for param, fmt in example["params"].items():
            expected = param not in example.get("broken", ())
            if param in params and accepts(root, fmt, params[param]) is not expected:
                out.append(f"{param}={params[param]!r} as {fmt}")
    if "repaired" in example and "grammar" in example:
        if not accepts(root, example["grammar"], substitute(example["repaired"], placeholders)):
            out.append(f"the repaired sample does not parse as {example['grammar']}")
    schema = example.get("schema") or {}
    if example.get("media") == "application/json" and "openapi" in schema and "status" in schema:
        raw = example.get("repaired") or example.get("text") or example.get("body")
        try:
            data = json.loads(substitute(raw, placeholders))
        except json.JSONDecodeError as exc:
            out.append(f"not JSON: {exc}")
        else:
            validator = response_validator(openapi(schema["openapi"]), schema["operation"], str(schema["status"]))
            if validator is not None:
                out += [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                        for e in validator.iter_errors(data)]
    return out


def check_examples(contracts: Any) -> int:
    examples = load_examples(contracts.root)
    failures = []
    for example in examples:
        failures += [f"{example['id']}: {p}" for p in problems(contracts.root, example, contracts.openapi)]
    if failures:
        raise ValueError("; ".join(failures[:8]) + (f" (+{len(failures) - 8} more)" if len(failures) > 8 else ""))
    return len(examples)
