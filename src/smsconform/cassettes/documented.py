"""cassettes/documented/: the exchanges the documents quote, as vcrpy cassettes, built from contracts/examples/.

Each answer the documents (or field-notes.md) print becomes one interaction, paired with the request the
same section prints for it: the example whose id shares the answer's stem (``mensagem.stat.answer.1`` with
``mensagem.stat.request.1``), else one for the same operation, else a request built from the OpenAPI
operation (the document's server, the path; marked ``synthesized``). Placeholders take the concrete values
the examples give them; a sample the document printed broken is used as repaired, and one with no repair
is left out (listed by the generator). Answers with no HTTP operation (painel's ServiceSms.asmx, which the
contracts leave for later) are left out too. Each interaction notes its example ids, source and the
contradictions of the documents that concern it, so ``verify-cassettes`` can tell a known contradiction
from a regression.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcr.request import Request

from ..contracts import Contracts
from ..contracts.examples import load_examples, substitute
from .store import Interaction, write_cassette

REQUEST_KINDS = ("request", "endpoint")


@dataclass
class Built:
    cassettes: dict[str, list[Interaction]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _stem(example_id: str) -> tuple[str, str]:
    stem, _, suffix = example_id.partition(".answer")
    return stem, suffix


def _operation(document: dict[str, Any], operation_id: str) -> tuple[str, str] | None:
    for path, item in (document.get("paths") or {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return path, method.upper()
    return None


def _pick_request(answer: dict[str, Any], requests: list[dict[str, Any]]) -> dict[str, Any] | None:
    stem, suffix = _stem(answer["id"])
    operation = (answer.get("schema") or {}).get("operation")
    def rank(example: dict[str, Any]) -> tuple[int, int, int, int]:
        same_stem = example["id"].startswith(stem + ".")
        same_suffix = bool(suffix) and example["id"].endswith(suffix)
        return (0 if same_stem else 1, 0 if same_suffix else 1, 0 if example["what"] == "request" else 1,
                0 if example.get("basis") == "documented" else 1)
    candidates = [r for r in requests
                  if r["id"].startswith(stem + ".") or (operation and (r.get("schema") or {}).get("operation") == operation)]
    return min(candidates, key=rank) if candidates else None


def _headers(example: dict[str, Any], placeholders: dict[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in example.get("headers") or []:
        name, _, value = substitute(line, placeholders).partition(":")
        out[name.strip()] = value.strip()
    return out


def _request(answer: dict[str, Any], chosen: dict[str, Any] | None, contracts: Contracts) -> tuple[Request, str]:
    schema = answer.get("schema") or {}
    document = contracts.openapi(schema["openapi"])
    found = _operation(document, schema.get("operation", ""))
    if chosen is not None and chosen.get("url"):
        placeholders = chosen.get("placeholders")
        url = substitute(chosen.get("repaired") or chosen["url"], placeholders)
        body = chosen.get("body")
        data = substitute(body, placeholders).encode("utf-8") if body else None
        headers = _headers(chosen, placeholders)
        if data and "content-type" not in {k.lower() for k in headers}:
            headers["Content-Type"] = chosen.get("media", "text/plain")
        return Request(chosen.get("method", "GET"), url, data, headers), chosen["id"]
    if found is None:
        raise LookupError(f"{answer['id']}: no operation {schema.get('operation')!r} in openapi/{schema['openapi']}.yaml")
    path, method = found
    path, _, action = path.partition("#")
    server = (document.get("servers") or [{"url": "http://127.0.0.1"}])[-1]["url"].rstrip("/")
    url = f"{server}{path}" + (f"?action={action}" if action else "")
    if chosen is not None and chosen.get("body"):  # a documented body without a URL (field-notes.md's fcati send)
        body = substitute(chosen["body"], chosen.get("placeholders")).encode("utf-8")
        return Request(method, url, body, {"Content-Type": chosen.get("media", "application/json")}), \
            f"{chosen['id']} (on the operation's documented address)"
    return Request(method, url, None, {}), "synthesized from the OpenAPI operation"


def _contradictions(contracts: Contracts, *examples: dict[str, Any]) -> list[str]:
    texts = [substitute(str(e.get(k) or ""), e.get("placeholders")) for e in examples for k in ("text", "url", "body")]
    quoted = [c.id for c in contracts.catalog.contradictions
              if any(s.quote and any(s.quote in t for t in texts) for s in c.sources)]
    if quoted:
        return quoted
    places = set()
    for example in examples:
        source = example.get("source") or {}
        for part in str(source.get("section", "")).split(" > "):
            places.add((source.get("doc"), part.strip()))
    return [c.id for c in contracts.catalog.contradictions if any((s.doc, s.section) in places for s in c.sources)]


def build(contracts: Contracts) -> Built:
    examples = load_examples(contracts.root)
    requests = [e for e in examples if e.get("what") in REQUEST_KINDS]
    built = Built()
    grouped: dict[str, list[Interaction]] = defaultdict(list)
    for answer in examples:
        schema = answer.get("schema") or {}
        if answer.get("what") != "answer":
            continue
        if "openapi" not in schema or "status" not in schema:
            built.skipped.append(f"{answer['id']}: no HTTP operation in the contracts")
            continue
        if answer.get("expect", "valid") != "valid" and not answer.get("repaired"):
            built.skipped.append(f"{answer['id']}: printed broken ({answer.get('defect')}) with no repair")
            continue
        chosen = _pick_request(answer, requests)
        request, request_from = _request(answer, chosen, contracts)
        text = substitute(answer.get("repaired") or answer["text"], answer.get("placeholders"))
        media = answer.get("media", "text/plain")
        response = {"status": {"code": int(schema["status"]), "message": "OK"},
                    "headers": {"Content-Type": [f"{media}; charset=utf-8"]},
                    "body": {"string": text.encode("utf-8")}}
        meta = {"example": answer["id"], "request": request_from, "dialect": answer.get("dialect") or schema["openapi"],
                "source": answer["source"], "basis": answer.get("basis")}
        if answer.get("repaired"):
            meta["repaired"] = answer.get("defect") or True
        if answer.get("note"):
            meta["note"] = " ".join(str(answer["note"]).split())
        related = _contradictions(contracts, answer, *([chosen] if chosen else []))
        if related:
            meta["contradictions"] = related
        grouped[schema["openapi"]].append(Interaction(request, response, meta))
    built.cassettes = dict(grouped)
    return built


def write(contracts: Contracts, directory: Path) -> tuple[list[Path], list[str]]:
    built = build(contracts)
    written = []
    for dialect, interactions in sorted(built.cassettes.items()):
        metadata = {"dialect": dialect, "what": "the exchanges the documents quote (contracts/examples/)",
                    "generator": "scripts/documented-cassettes"}
        written.append(write_cassette(directory / f"{dialect}.yaml", interactions, metadata))
    return written, built.skipped

