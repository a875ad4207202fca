"""``smsconform verify-cassettes``: every recorded answer held to today's contracts, offline.

For each interaction: which operation it was (``locate``); whether its HTTP status and media type are
documented answers of that operation (OpenAPI); a JSON body against the response's JSON Schema; a text body
against its grammar (the response's ``x-grammar``, or one its documented examples name); a SOAP answer
against the XSD and its result's grammar; and every code and text in it against the catalog. Each
difference names the file, the interaction, the check and what was expected, so a contract change or a
provider's changed answer shows exactly where. A difference the catalog itself records as a contradiction
of the documents (a code's note naming ``contradictions.yaml: <id>``, or a documented cassette's
``contradictions``) is reported as known and does not fail the run.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

import jsonschema
from lxml import etree
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ..contracts import DIALECTS, Code, Contracts, load_contracts
from ..contracts.grammars import GrammarError, parse
from . import answers
from .locate import SOAP_SERVICES, Located, locate
from .store import CassetteError, Interaction, read_cassette

CONTRADICTION = re.compile(r"contradictions\.yaml:\s*([\w.-]+)")
CODE_CHECKS = ("code", "text", "success")
MAX_SCHEMA_ERRORS = 5


@dataclass(frozen=True)
class Difference:
    file: Path
    index: int              # the interaction's position in its cassette, from 0
    exchange: str           # "mensagem.send GET /sms/send"
    check: str              # load | locate | status | media | json | schema | grammar | soap | code | text | success
    message: str
    known: str | None = None  # the contradiction of the documents the catalog records for it

    def __str__(self) -> str:
        known = f" (known: contradictions.yaml {self.known})" if self.known else ""
        return f"{self.file}#{self.index} {self.exchange}: [{self.check}] {self.message}{known}"


@dataclass
class Verification:
    files: int = 0
    interactions: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def failures(self) -> list[Difference]:
        return [d for d in self.differences if not d.known]


# -- OpenAPI look-ups -------------------------------------------------------------------------------
def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _at(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for token in pointer.lstrip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _resolved(document: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 20:
        pointer = node["$ref"][1:]
        node, seen = _at(document, pointer), seen + 1
    return node, pointer


@lru_cache(maxsize=8)
def _registry(dialect: str, version: str) -> Registry:
    document = load_contracts().openapi(dialect)
    return Registry().with_resource("urn:openapi", Resource.from_contents(document, DRAFT202012))


def _grammars(media: dict[str, Any]) -> list[str]:
    names = [media.get("x-grammar")]
    names += [ex.get("x-grammar") for ex in (media.get("examples") or {}).values() if isinstance(ex, dict)]
    return [n for n in dict.fromkeys(names) if n]


def _grammar_problem(root: Path, formats: list[str], text: str) -> str | None:
    """None when the text parses with one of the formats, else the first format's error (line, column)."""
    first: str | None = None
    for fmt in formats:
        try:
            parse(root, fmt, text)
            return None
        except GrammarError as exc:
            first = first or str(exc).splitlines()[0]
    return first


# -- the checks ---------------------------------------------------------------------------------------
class Checker:
    def __init__(self, contracts: Contracts) -> None:
        self.contracts = contracts
        self.catalog = contracts.catalog

    def interaction(self, inter: Interaction, hint: str | None) -> Iterator[tuple[str, str, str | None]]:
        """(check, message, known contradiction) for each difference of one interaction."""
        located = locate(inter, self.contracts, hint)
        if located is None:
            yield "locate", f"no operation of the contracts answers {inter.label()}", None
            return
        if located.dialect in SOAP_SERVICES:
            yield from self.soap(inter, located)
            return
        yield from self.http(inter, located)

    def http(self, inter: Interaction, located: Located) -> Iterator[tuple[str, str, str | None]]:
        document = self.contracts.openapi(located.dialect)
        assert located.route is not None
        op_pointer = "/" + "/".join(_escape(t) for t in located.route.pointer)
        operation = _at(document, op_pointer)
        responses = operation.get("responses") or {}
        status = str(inter.status)
        key = status if status in responses else f"{status[0]}XX" if f"{status[0]}XX" in responses else \
            "default" if "default" in responses else None
        if key is None:
            yield "status", (f"HTTP {status} is not a documented answer of {located.operation_id} "
                             f"(documented: {', '.join(sorted(responses))})"), None
            return
        response, pointer = _resolved(document, responses[key], f"{op_pointer}/responses/{_escape(key)}")
        content = (response or {}).get("content") or {}
        media = inter.media_type
        if content and media not in content:
            yield "media", (f"the answer is {media or 'without a Content-Type'}; {located.operation_id} "
                            f"{key} documents {', '.join(content)}"), None
            return
        text = inter.text
        spec = content.get(media, {}) if media else {}
        body: Any = None
        if media and "json" in media:
            body = answers.json_body(text)
            if body is None:
                yield "json", f"the body is not JSON: {text[:120]!r}", None
                return
            if "schema" in spec:
                validator = jsonschema.Draft202012Validator(
                    {"$ref": f"urn:openapi#{pointer}/content/{_escape(media)}/schema"},
                    registry=_registry(located.dialect, self.contracts.version))
                errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
                for error in errors[:MAX_SCHEMA_ERRORS]:
                    where = "/".join(map(str, error.absolute_path)) or "(top)"
                    yield "schema", f"{located.operation_id} {key} {media}: {where}: {error.message}", None
        elif media and media.startswith("text/"):
            problem = _grammar_problem(self.contracts.root, _grammars(spec), text)
            if problem:
                yield "grammar", problem, None
        yield from self.codes(located, inter, text, body)

    def codes(self, located: Located, inter: Interaction, text: str, body: Any) -> Iterator[tuple[str, str, str | None]]:
        dialect, operation = located.dialect, located.operation
        if dialect == "mensagem":
            items = answers.mensagem(operation, text, self.catalog)
        elif dialect == "speedmarket":
            items = answers.speedmarket(operation, body)
        elif dialect == "painel":
            items = answers.painel(operation, text, body)
        elif dialect == "fcati":
            items = answers.fcati(operation, inter.status, body)
        else:
            items = []
        for item in items:
            yield from self.code(dialect, item.operation or operation, item)

    def code(self, dialect: str, operation: str, item: answers.Answer) -> Iterator[tuple[str, str, str | None]]:
        table = self.catalog.operation_codes(dialect, operation)
        candidates = [c for c in table if c.wire == item.code]
        if not candidates:  # codes any operation may answer: speedmarket 160, painel's unknown action
            for shared in ("method", "action"):
                candidates = [c for c in self.catalog.operation_codes(dialect, shared) if c.wire == item.code]
                if candidates:
                    break
        where = f" ({item.where})" if item.where else ""
        if not candidates:
            known = sorted({c.wire for c in table})
            yield "code", (f"code {item.code!r}{where} is not in the catalog for {dialect}.{operation} "
                           f"(catalog: {', '.join(known) or 'none'})"), None
            return
        if item.text is not None and not any(c.text == item.text for c in candidates):
            yield "text", f"code {item.code}{where} reads {item.text!r}; {_expected_texts(candidates)}", \
                _contradiction(candidates)
        if item.success is not None and all(c.success != item.success for c in candidates):
            rule = candidates[0]
            yield "success", (f"code {item.code}{where} says success {str(item.success).lower()}; {rule.id} "
                              f"has success {str(rule.success).lower()} [{rule.source}]"), _contradiction(candidates)

    # -- the SOAP services (wbsapi, servicesms) ----------------------------------------------------------
    def soap(self, inter: Interaction, located: Located) -> Iterator[tuple[str, str, str | None]]:
        operation, dialect = located.operation, located.dialect
        xsd = self.contracts.root / "wsdl" / f"{dialect}.xsd"
        if operation == "page":
            return
        if operation == "wsdl":
            if inter.status != 200 or b"definitions" not in inter.text.encode("utf-8"):
                yield "soap", f"GET ?WSDL answered HTTP {inter.status} without a WSDL document", None
            return
        if operation == "?":
            yield "locate", "a SOAP request whose operation is none of " + ", ".join(SOAP_SERVICES[dialect]), None
            return
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            root = etree.fromstring(inter.text.encode("utf-8"), parser)
        except etree.XMLSyntaxError as exc:
            yield "soap", f"the answer is not XML: {exc}", None
            return
        if etree.QName(root).localname == "string":  # the .asmx HTTP POST protocol: <string>result</string>
            result = root.text or ""
        else:
            body = next((el for el in root if etree.QName(el).localname == "Body"), None)
            child = next(iter(body), None) if body is not None else None
            if child is None:
                yield "soap", "no SOAP Body element with an answer", None
                return
            name = etree.QName(child).localname
            if name == "Fault":
                if inter.status != 500:
                    yield "soap", f"a SOAP Fault answered with HTTP {inter.status} (SOAP 1.1 over HTTP: 500)", None
                return
            if name != f"{operation}Response":
                yield "soap", f"the Body holds {name}, {operation} answers {operation}Response", None
                return
            errors = _xsd_errors(xsd, child)
            for message in errors[:MAX_SCHEMA_ERRORS]:
                yield "schema", f"{operation}Response: {message}", None
            found = next((el for el in child if etree.QName(el).localname == f"{operation}Result"), None)
            result = (found.text or "") if found is not None else ""
            if dialect == "servicesms" and found is not None and len(found):
                yield from self.dataset(operation, found)
                return
        fmt = _result_grammar(xsd, f"{operation}Result")
        if fmt:
            problem = _grammar_problem(self.contracts.root, [fmt], result)
            if problem:
                yield "grammar", problem, None
        if dialect == "servicesms":
            yield from self.code(dialect, operation, answers.servicesms(operation, result))
            return
        shape = answers.WBSAPI_SHAPES.get(operation)
        if shape:
            for item in answers.mensagem(operation, result, self.catalog, dialect="wbsapi", shape=shape):
                yield from self.code("wbsapi", operation, item)

    def dataset(self, operation: str, result: Any) -> Iterator[tuple[str, str, str | None]]:
        """A servicesms DataSet: its rows valid against its own inline schema; a table Erro's retorno is
        a `0:<TEXT>` answer of the operation's codes, a table Table the operation's `<rows>`."""
        from ..conformance.clients.servicesms import dataset_of

        dataset = dataset_of([el for el in result if isinstance(el.tag, str)])
        if dataset is None:
            yield "schema", f"{operation}Result is not a DataSet of one table (xs:schema, diffgram)", None
            return
        for message in dataset.problems()[:MAX_SCHEMA_ERRORS]:
            yield "schema", f"{operation}Result rows: {message}", None
        if dataset.table == "Table":
            yield from self.code("servicesms", operation, answers.Answer("<rows>", None, True))
        elif dataset.rows and dataset.columns:
            retorno = dataset.rows[0].get(dataset.columns[0][0], "")
            yield from self.code("servicesms", operation, answers.servicesms(operation, retorno))


def _expected_texts(codes: list[Code]) -> str:
    """What the catalog says instead: each distinct text once, with the rule (and how many more share it)."""
    by_text: dict[str, list[Code]] = {}
    for code in codes:
        by_text.setdefault(code.text, []).append(code)
    parts = []
    for text, same in by_text.items():
        more = f" and {len(same) - 1} more say" if len(same) > 1 else " says"
        parts.append(f"{same[0].id}{more} {text!r} [{same[0].source}]")
    return " or ".join(parts)


def _contradiction(codes: Iterable[Code]) -> str | None:
    for code in codes:
        found = CONTRADICTION.search(code.note or "")
        if found:
            return found.group(1)
    return None


@lru_cache(maxsize=2)
def _xsd(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def _xsd_errors(path: Path, element: Any) -> list[str]:
    schema = _xsd(path)
    document = etree.ElementTree(etree.fromstring(etree.tostring(element)))
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


@lru_cache(maxsize=16)
def _result_grammar(path: Path, element: str) -> str | None:
    tree = etree.parse(str(path))
    for node in tree.iter("{http://www.w3.org/2001/XMLSchema}element"):
        if node.get("name") == element:
            rule = next((r for r in node.iter() if etree.QName(r).localname == "rule" and r.get("grammar")), None)
            return rule.get("grammar") if rule is not None else None
    return None


# -- files ----------------------------------------------------------------------------------------------
def cassette_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            out.append(path)
    return out


def _hint(path: Path, meta: dict[str, Any], cassette: dict[str, Any]) -> str | None:
    for value in (meta.get("dialect"), cassette.get("dialect")):
        if value in DIALECTS:
            return str(value)
    for part in reversed(path.with_suffix("").parts):
        if part in DIALECTS:
            return part
    return None


def verify_paths(paths: Iterable[Path], contracts: Contracts | None = None) -> Verification:
    contracts = contracts or load_contracts()
    checker = Checker(contracts)
    result = Verification()
    for path in cassette_files(paths):
        result.files += 1
        try:
            interactions, metadata = read_cassette(path)
        except CassetteError as exc:
            result.differences.append(Difference(path, -1, "(file)", "load", str(exc)))
            continue
        for index, inter in enumerate(interactions):
            result.interactions += 1
            hint = _hint(path, inter.meta, metadata)
            documented = [str(c) for c in inter.meta.get("contradictions") or []]
            try:
                found = list(checker.interaction(inter, hint))
            except Exception as exc:  # a broken interaction is a difference, not a crash of the whole check
                found = [("load", f"cannot check this interaction: {type(exc).__name__}: {exc}", None)]
            label = inter.label()
            located = locate(inter, contracts, hint)
            if located is not None:
                label = f"{located.dialect}.{located.operation} {label}"
            for check, message, known in found:
                if known is None and documented and check in CODE_CHECKS:
                    known = ", ".join(documented)
                result.differences.append(Difference(path, index, label, check, message, known))
    return result


def main(paths: list[Path], show_known: bool = False, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    missing = [p for p in paths if not p.exists()]
    if missing:
        err.write(f"smsconform verify-cassettes: no such file or directory: {', '.join(map(str, missing))}\n")
        return 2
    contracts = load_contracts()
    result = verify_paths(paths, contracts)
    if result.files == 0:
        err.write(f"smsconform verify-cassettes: no cassette (*.yaml) under {', '.join(map(str, paths))}\n")
        return 2
    for difference in result.differences:
        if difference.known and not show_known:
            continue
        out.write(f"{difference}\n")
    known = len(result.differences) - len(result.failures)
    out.write(f"{result.files} cassettes, {result.interactions} exchanges checked against contracts "
              f"{contracts.version}: {len(result.failures)} differences"
              + (f", {known} known contradictions of the documents" + ("" if show_known else " (--show-known lists them)")
                 if known else "") + "\n")
    return 1 if result.failures else 0
