"""Which text format each answer has, and on what basis: a format the documents print is judged, a format we
inferred (wbsapi's result strings, mensagem's `1;<md5>` and mult lines) is reported as a deviation.

The format of an answer comes from the contracts: the OpenAPI files' `x-grammar` (mensagem, painel) and the
WSDL's `p:rule grammar` annotations (wbsapi, whose own basis and reason are the annotation's: the web
service prints no answer, so every wbsapi result string is inferred even where the HTTP API prints the same
format). A format's basis is its start rule's comment in the grammar file (`<doc> § <section> — <basis>:
...`): a rule whose comment begins "documented" (or "observed") is judged, though a nuance it adds as
"inferred" (an empty optional field, a line ending) is judged with it; one that begins "inferred" is not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from lxml import etree

from ..contracts import load_contracts
from ..contracts.grammars import GrammarError, parse, split_format
from .judge import expect

PROVENANCE = "https://smsconform.invalid/provenance"
XSD = "http://www.w3.org/2001/XMLSchema"
_COMMENT = re.compile(r"^//\s*(?P<doc>\S+)\s+§\s+(?P<section>.+?)\s+—\s+(?P<basis>documented|observed|inferred)"
                      r"(?::\s*(?P<reason>.*))?$")


@dataclass(frozen=True)
class AnswerFormat:
    """An answer's text format (``<file>#<start>``) and the basis on which it is held."""

    fmt: str
    basis: str
    reason: str | None = None

    @property
    def rule(self) -> str:
        name, start = split_format(self.fmt)
        return f"grammar:{name}.{start}"


@cache
def format_basis(fmt: str) -> AnswerFormat:
    """The basis of a format, read from the comment above its start rule in contracts/grammars/."""
    name, start = split_format(fmt)
    lines = (load_contracts().root / "grammars" / f"{name}.lark").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(rf"^\??{re.escape(start)}\s*:", line) and index and (found := _COMMENT.match(lines[index - 1])):
            reason = found.group("reason") if found.group("basis") == "inferred" else None
            return AnswerFormat(fmt, found.group("basis"), reason)
    return AnswerFormat(fmt, "documented")


@cache
def answer_formats() -> dict[tuple[str, str], AnswerFormat]:
    """(dialect, catalog operation) -> the format of its text answer, with its basis."""
    found: dict[tuple[str, str], AnswerFormat] = {}
    contracts = load_contracts()
    for dialect in ("mensagem", "painel"):
        doc = contracts.openapi(dialect)
        for item in (doc.get("paths") or {}).values():
            op = item.get("get")
            if not op:
                continue
            media = ((op.get("responses") or {}).get("200") or {}).get("content", {}).get("text/plain") or {}
            if isinstance(media.get("x-grammar"), str):
                operation = op.get("x-operation")
                # painel's text answer belongs to no action: the catalog's pseudo-operation `action`
                found[(dialect, "action" if operation == "unknown_action" else operation)] = format_basis(media["x-grammar"])
    tree = etree.parse(str(contracts.wsdl_path))
    for element in tree.iter(f"{{{XSD}}}element"):
        name = element.get("name") or ""
        if not name.endswith("Result"):
            continue
        for annotation in element.iter(f"{{{PROVENANCE}}}rule"):
            if annotation.get("grammar"):
                own = format_basis(annotation.get("grammar"))
                basis = annotation.get("basis") or own.basis
                found[("wbsapi", name[: -len("Result")])] = AnswerFormat(
                    own.fmt, basis, annotation.get("reason") if basis == "inferred" else None)
    return found


def answer_format(dialect: str, operation: str) -> AnswerFormat:
    return answer_formats()[(dialect, operation)]


def expect_format(form: AnswerFormat, ok: bool, message: str) -> bool:
    """Hold what an answer's format fixes (its lines, their order, a field's place) to the format's basis."""
    return expect(ok, form.rule, message, basis=form.basis, reason=form.reason)


def expect_parses(form: AnswerFormat, text: str, what: str) -> Any:
    """The parse tree of ``text`` in its format; a text that does not parse fails on a judged format and is a
    deviation (None) on an inferred one."""
    try:
        return parse(load_contracts().root, form.fmt, text)
    except GrammarError as err:
        expect_format(form, False, f"{what}: the answer is not {form.fmt}: {err}")
        return None
