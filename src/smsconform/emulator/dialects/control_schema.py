"""The control API holds each request to its own contract (contracts/openapi/emulator-control.yaml) before
acting on it: a body or a query parameter the document does not allow is a 400 naming what is wrong,
never a half-made change or an exception deep in the core (a login that is a list, 2**64 credits).

The document stays the one description of the API: a constraint added there is enforced here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema

METHODS = ("get", "post", "put", "patch", "delete")


def _inlined(node: Any, document: dict[str, Any]) -> Any:
    """The schema with every local ``$ref`` replaced by what it names (the document has no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part]
            return _inlined(target, document)
        return {k: _inlined(v, document) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(v, document) for v in node]
    return node


@dataclass(frozen=True)
class Operation:
    body: jsonschema.protocols.Validator | None
    query: dict[str, dict[str, Any]]


def _query_value(raw: str, schema: dict[str, Any]) -> Any:
    """A query string value as the type its schema names (integers: ASCII digits, an optional sign;
    numbers: what float() reads, finite)."""
    if schema.get("type") == "integer":
        digits = raw[1:] if raw[:1] in "+-" else raw
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError("an integer")
        return int(raw)
    if schema.get("type") == "number":
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("a finite number")
        return value
    return raw


class ControlSchema:
    def __init__(self, document: dict[str, Any], prefix: str) -> None:
        self.operations: dict[tuple[str, str], Operation] = {}
        for path, item in (document.get("paths") or {}).items():
            route = path[len(prefix):] or "/"
            for method in METHODS:
                spec = item.get(method)
                if spec is None:
                    continue
                body = (((spec.get("requestBody") or {}).get("content") or {}).get("application/json") or {})
                schema = _inlined(body.get("schema"), document) if "schema" in body else None
                validator = jsonschema.Draft202012Validator(schema) if schema is not None else None
                query = {p["name"]: _inlined(p.get("schema") or {}, document)
                         for p in (_inlined(spec.get("parameters") or [], document)) if p.get("in") == "query"}
                self.operations[(method.upper(), route)] = Operation(validator, query)

    def methods(self, route: str) -> list[str]:
        """The methods the document gives a route (for 405's Allow)."""
        return sorted(m for m, r in self.operations if r == route)

    def problem(self, method: str, route: str, query: list[tuple[str, str]], body: Any) -> str | None:
        """What in the request breaks the operation's schema (the first thing found), or None."""
        operation = self.operations.get((method, route))
        if operation is None:
            return None
        for name, raw in query:
            schema = operation.query.get(name)
            if schema is None:
                continue
            try:
                value = _query_value(raw, schema)
            except ValueError as exc:
                return f"query parameter {name} must be {exc}"
            error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
            if error is not None:
                return f"query parameter {name}: {error.message}"
        if operation.body is not None:
            error = jsonschema.exceptions.best_match(operation.body.iter_errors(body))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path)
                return f"body{' at ' + where if where else ''}: {error.message}"
        return None
