"""Which dialect and operation a recorded request was: the OpenAPI routes, then the SOAP service.

The HTTP dialects are found from their OpenAPI files (paths, methods, painel's ``#action`` path keys and
its /shortcode alias, speedmarket's ``.php`` suffix, fcati's two addresses), so a route added to a contract
is found with no change here. A path may carry a prefix (a sandbox served under /some/prefix/), except the
fcati root ``/``, which must match exactly. wbsapi is the SOAP service ``*.asmx`` (its operation from the
body's element or the SOAPAction header).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..contracts import HTTP_DIALECTS, Contracts
from .store import Interaction

SOAP_OPERATIONS = ("sendUnique", "sendMultiple", "inBox", "status", "cancel")
# The SOAP services and their operations (contracts/wsdl/<dialect>.wsdl), told apart by the .asmx file name.
SOAP_SERVICES = {"wbsapi": SOAP_OPERATIONS,
                 "servicesms": ("GetBalance", "GetStatus", "GetStatusByRef", "SendSMS", "SetHoldSMS", "SetReleaseSMS")}


@dataclass(frozen=True)
class Route:
    dialect: str
    path: str
    action: str | None     # painel: the `action` a `#action` path key stands for
    method: str
    operation_id: str
    operation: str          # the catalog's operation name (x-operation)
    pointer: tuple[str, ...]  # where the operation object is in its document


@dataclass(frozen=True)
class Located:
    dialect: str
    operation: str          # the catalog's operation name (fcati: saldo / enviar / acao; painel: action name)
    operation_id: str | None
    route: Route | None


def _aliases(document: dict[str, Any]) -> dict[str, list[str]]:
    raw = (document.get("info") or {}).get("x-path-aliases") or {}
    return {k: list(v) for k, v in raw.items() if k.startswith("/") and isinstance(v, list)}


@lru_cache(maxsize=4)
def _routes(root: str, version: str) -> tuple[Route, ...]:
    from ..contracts import load_contracts

    contracts = load_contracts()
    routes: list[Route] = []
    for dialect in HTTP_DIALECTS:
        document = contracts.openapi(dialect)
        aliases = _aliases(document)
        for key, item in (document.get("paths") or {}).items():
            path, _, action = key.partition("#")
            for method, op in item.items():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                for p in [path, *aliases.get(path, [])]:
                    routes.append(Route(dialect, p, action or None, method.upper(), op["operationId"],
                                        str(op.get("x-operation") or op["operationId"].split("_", 1)[-1]),
                                        ("paths", key, method)))
    return tuple(routes)


def routes(contracts: Contracts) -> tuple[Route, ...]:
    return _routes(str(contracts.root), contracts.version)


def _path_matches(route_path: str, path: str) -> bool:
    if route_path == "/":
        return path == "/"
    return path == route_path or path.endswith(route_path)


def _fcati_operation(interaction: Interaction) -> str:
    try:
        body = json.loads(interaction.request_text() or "null")
    except ValueError:
        return "acao"
    acao = body.get("acao") if isinstance(body, dict) else None
    if acao in (None, "saldo"):
        return "saldo"  # a body without acao is a malformed balance query (catalog: fcati.saldo.400)
    return "enviar" if acao == "enviar" else "acao"


def _soap_operation(interaction: Interaction, operations: tuple[str, ...] = SOAP_OPERATIONS) -> str | None:
    action = (interaction.request_header("soapaction") or "").strip('"').rsplit("/", 1)[-1]
    if action in operations:
        return action
    content_type = interaction.request_header("content-type") or ""
    found = re.search(r'action="?[^";]*/(\w+)"?', content_type)  # SOAP 1.2 carries it in the media type
    if found and found.group(1) in operations:
        return found.group(1)
    body = re.search(r"<(?:[\w.-]+:)?Body[^>]*>\s*<(?:[\w.-]+:)?(\w+)", interaction.request_text())
    return body.group(1) if body and body.group(1) in operations else None


def locate(interaction: Interaction, contracts: Contracts, hint: str | None = None) -> Located | None:
    """The dialect and operation of a recorded request, or None when no contract describes it.

    The hint (the cassette's dialect) is tried first; a test of one dialect may build its state through
    another (a wbsapi test reading mensagem's cost centres), so without a match every dialect is tried.
    """
    found = _locate(interaction, contracts, hint)
    if found is None and hint is not None:
        found = _locate(interaction, contracts, None)
    return found


def _locate(interaction: Interaction, contracts: Contracts, hint: str | None) -> Located | None:
    path = re.sub(r"\.php$", "", interaction.path)
    asmx = re.search(r"(\w+)\.asmx(?:/(\w+))?$", path, re.IGNORECASE)
    service = "servicesms" if asmx and asmx.group(1).lower() == "servicesms" else "wbsapi"
    if hint in (None, service) and asmx:
        if interaction.method == "GET":  # the WSDL (?WSDL) or the service's operation pages: no operation
            return Located(service, "wsdl" if "wsdl" in interaction.query_keys() else "page", None, None)
        operations = SOAP_SERVICES[service]
        operation = asmx.group(2) if asmx.group(2) in operations else _soap_operation(interaction, operations)
        return Located(service, operation or "?", None, None)
    action = interaction.query().get("action") or interaction.form().get("action")
    candidates = [r for r in routes(contracts) if (hint is None or r.dialect == hint)
                  and r.method == interaction.method and _path_matches(r.path, path)]
    if not candidates:
        return None
    # the longest matching path wins (/webservice-rest/mt_id over a shorter suffix), then painel's action
    candidates.sort(key=lambda r: len(r.path), reverse=True)
    longest = [r for r in candidates if len(r.path) == len(candidates[0].path)]
    by_action = [r for r in longest if r.action and r.action == action]
    plain = [r for r in longest if not r.action]
    route = (by_action or plain or [None])[0]
    if route is None:
        return None
    operation = route.operation
    if route.dialect == "fcati":
        operation = _fcati_operation(interaction)
    elif route.dialect == "painel" and route.action is None:
        operation = "action"  # the catalog keeps painel's answer to an unknown action under `action`
    return Located(route.dialect, operation, route.operation_id, route)
