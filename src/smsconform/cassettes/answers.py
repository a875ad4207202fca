"""Reading the codes out of a recorded answer, dialect by dialect, the way the documents print them.

Each reader returns ``Answer`` items: the code as it travels, the text beside it (None where the dialect
prints none, or where the catalog does not speak of it: a success line carrying a protocol, a listing's
records) and the success flag where the answer has one. ``verify`` then holds each to the catalog.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..contracts import Catalog

MD5 = re.compile(r"^[0-9a-f]{32}$")
LISTINGS = ("crdtf", "cnnvl", "cnus", "crctn")
# wbsapi results are formatted as the same provider's HTTP answers (the XSD annotations name the grammars)
WBSAPI_SHAPES = {"sendUnique": "send", "sendMultiple": "mult", "status": "cacl", "cancel": "cacl", "inBox": "recv"}


@dataclass(frozen=True)
class Answer:
    code: str
    text: str | None
    success: bool | None = None
    where: str = ""          # which part of the answer (line 2, messages[1], ...)
    operation: str | None = None  # when it is another operation's table (speedmarket's per-message codes)


def _lines(text: str) -> list[str]:
    return [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def mensagem(operation: str, text: str, catalog: Catalog, dialect: str = "mensagem", shape: str | None = None) -> list[Answer]:
    shape = shape or operation
    lines = _lines(text)
    if not lines:
        return []
    word = lines[0].strip()
    if len(lines) == 1 and not re.fullmatch(r"-?\d+", word) and catalog.has_code(dialect, operation, word):
        return [Answer(word, word)]  # an answer that is a code by itself (stat, stam, recv: OUT-OF-DATE)
    out: list[Answer] = []
    for number, line in enumerate(lines, 1):
        fields = line.split(";")
        where = f"line {number}"
        code = fields[0]
        if shape in ("stat", "stam", "recv") and not re.fullmatch(r"-?\d+", code):
            return []  # the historical status lines carry no result code (their grammar is checked)
        if shape == "oper":
            if line.startswith("CODIGO DA OPERADORA;"):
                return [Answer("NNNNN", None, where=where)]
            return [Answer(code, fields[1] if len(fields) > 1 else None, where=where)]
        if shape in LISTINGS:
            return [Answer("1", None, where=where)] if code == "1" else \
                [Answer(code, fields[1] if len(fields) > 1 else None, where=where)]
        if shape == "cacl" and len(fields) >= 3 and MD5.match(fields[0]):
            out.append(Answer(fields[1], fields[2], where=where))
            continue
        if shape == "cadus" and code == "1" and len(fields) >= 3:
            return [Answer(code, fields[2], where=where)]
        if shape == "cict" and code.isdigit() and not catalog.has_code(dialect, operation, code):
            return [Answer("NNNN", fields[1] if len(fields) > 1 else None, where=where)]
        if shape in ("send", "mult", "recv") and code == "1" and len(fields) >= 2 and MD5.match(fields[1]):
            out.append(Answer("1", None, where=where))
            continue
        out.append(Answer(code, fields[1] if len(fields) > 1 else None, where=where))
        if shape not in ("send", "mult", "cacl", "recv"):
            break  # one result line; what follows (if anything) is records
    return out


def speedmarket(operation: str, body: Any) -> list[Answer]:
    if not isinstance(body, dict) or "responseCode" not in body:
        return []  # mt_date and the searches answer their records without a responseCode on success
    success = body.get("success") if isinstance(body.get("success"), bool) else None
    out = [Answer(str(body["responseCode"]), body.get("responseDescription"), success)]
    for index, item in enumerate(body.get("messages") or []):
        if isinstance(item, dict) and "responseCode" in item:
            ok = item.get("success") if isinstance(item.get("success"), bool) else None
            out.append(Answer(str(item["responseCode"]), item.get("responseDescription"), ok, f"messages[{index}]"))
    return out


def painel(operation: str, text: str, body: Any) -> list[Answer]:
    if isinstance(body, dict) and "status" in body:
        msg = body.get("msg")
        return [Answer(str(body["status"]), "" if msg is None else str(msg), body["status"] == 1)]
    code, sep, rest = text.strip().partition(":")
    if sep and code.isdigit():
        return [Answer(code, rest, False, operation="action" if operation == "action" else None)]
    return []


def fcati(operation: str, status: int, body: Any) -> list[Answer]:
    text = body.get("message") if isinstance(body, dict) else None
    return [Answer(str(status), None if text is None else str(text), 200 <= status < 300)]


def json_body(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def servicesms(operation: str, text: str) -> Answer:
    """A ServiceSms.asmx string `<id>:<TEXT>` (painel#soap_answer), read as the servicesms client reads it."""
    from ..conformance.clients.servicesms import read_answer

    result = read_answer(operation, text)
    return Answer(result.code, result.text)
