"""Turn a catalog trigger into a concrete request on a target, so a code added to the catalog is tested
without new test code (DEVELOPERS.md, "Triggers")."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ..contracts import Catalog, Code, Limit
from .clients.base import NotExercised

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([^}]*))?\}|\{fixtures\.([a-z_]+)\.([a-z0-9_]+)(?:\.(\d+))?\}")


@dataclass(frozen=True)
class Plan:
    operation: str
    account: str
    params: dict[str, Any]


def distinct_numbers(client: Any, count: int) -> list[str]:
    """``count`` distinct valid numbers, built from the target's first valid number by varying its tail.

    Numbers the target reserves for other behaviours (blacklist, Procon, ...) are skipped, so a limit test
    only ever crosses the limit it is about.
    """
    seed = client.number(0)
    reserved = set()
    for value in client.target.fixtures.numbers.values():
        reserved.update(str(v) for v in (value if isinstance(value, list) else [value]))
    head = seed[:-4]
    out: list[str] = []
    tail = 0
    while len(out) < count and tail < 10000:
        candidate = f"{head}{tail:04d}"
        tail += 1
        if candidate not in reserved:
            out.append(candidate)
    if len(out) < count:
        raise NotExercised(f"cannot build {count} distinct numbers from {seed}")
    return out


def _value(template: Any, client: Any, target: Any) -> Any:
    if not isinstance(template, str):
        return template

    def sub(match: re.Match[str]) -> str:
        func, arg, group, key, index = match.groups()
        if group:
            if group == "numbers":
                value = target.fixtures.numbers.get(key)
                if isinstance(value, list) and index is not None:
                    number = str(value[int(index)]) if int(index) < len(value) else None
                else:
                    number = target.fixtures.number(key)
                if number is None:
                    raise NotExercised(f"the target profile has no fixture numbers.{key}")
                return number
            raise NotExercised(f"unknown fixture group {group!r}")
        if func == "text":
            return "a" * int(arg)
        if func == "numbers":
            return client.list_separator.join(distinct_numbers(client, int(arg)))
        if func == "hash" and arg == "unknown":
            return hashlib.md5(b"smsconform: never issued").hexdigest()
        raise NotExercised(f"unknown trigger placeholder {match.group(0)!r}")

    return _PLACEHOLDER.sub(sub, template)


def plan_for(code: Code, client: Any, catalog: Catalog) -> Plan:
    trigger = code.trigger
    if trigger is None:
        raise NotExercised(f"{code.id} has no trigger in the catalog")
    if "state" in trigger or "fault" in trigger:
        needs = trigger.get("state") or trigger["fault"]
        raise NotExercised(f"{code.id} needs state {needs!r}, built by the flow tests")
    operation = trigger.get("via", code.operation)  # a status table's code is read from the operation answering it
    params = client.valid_request(operation)
    if "limit" in trigger:
        limit = catalog.limit(trigger["limit"]["id"])
        params.update(limit_params(limit, trigger["limit"]["side"], client, code.operation))
    for key in trigger.get("drop", ()):
        params.pop(key, None)
    for key, template in (trigger.get("set") or {}).items():
        params[key] = _value(template, client, client.target)
    return Plan(operation, trigger.get("account", "main"), params)


def limit_value(limit: Limit, n: int, client: Any) -> Any:
    """A value of size ``n`` in the limit's unit."""
    if limit.unit == "chars":
        return "a" * n
    if limit.unit == "items":
        return client.list_separator.join(distinct_numbers(client, n))
    if limit.unit == "digits":
        return client.number(0)[:2] + "9" * (n - 2) if n > 2 else "9" * n
    if limit.unit == "value":
        return str(n)
    raise NotExercised(f"{limit.id}: limits in {limit.unit} are checked by their own flow test")


def limit_params(limit: Limit, side: str, client: Any, operation: str) -> dict[str, Any]:
    bound = limit.min if side == "below" else limit.max
    if bound is None:
        raise NotExercised(f"{limit.id} has no {'min' if side == 'below' else 'max'}")
    n = int(bound) - 1 if side == "below" else int(bound) + 1
    return {**(limit.overrides or {}), limit.param: limit_value(limit, n, client)}
