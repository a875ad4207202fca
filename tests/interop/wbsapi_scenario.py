"""The wbsapi scenario every SOAP client under test runs (all five operations), and how its answers are
judged: each result in the grammar the WSDL annotates it with, and compared across clients and runs with
what differs by nature (MD5 protocols, clock readings) put in canonical form."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from interop_expected import CONTRACTS, VALID
from smsconform.contracts.grammars import parse

OPERATIONS = ("sendUnique", "sendMultiple", "inBox", "status", "cancel")
SCENARIO: dict[str, Any] = {
    "unique": {"number": VALID[0], "text": "Olá, interop: ação"},
    "scheduled": {"number": VALID[1], "text": "agendada para amanhã",
                  "at": (datetime.now() + timedelta(days=2)).replace(microsecond=0).isoformat()},
    "multiple": f"{VALID[2]}|primeira mensagem|11;{VALID[3]}|segunda mensagem|12",
    "mo": "SIM, confirmo",
}
RESULTS = {"sendUnique": "sendUnique", "sendUniqueScheduled": "sendUnique", "sendMultiple": "sendMultiple",
           "status": "status", "cancel": "cancel", "inBox": "inBox"}
"""Each key a driver answers with, and the operation whose result it is."""
_XS = "http://www.w3.org/2001/XMLSchema"
_PROVENANCE = "https://smsconform.invalid/provenance"
_MD5 = re.compile(r"\b[0-9a-f]{32}\b")
_CLOCK = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?\b")


def result_format(operation: str) -> str:
    """The grammar contracts/wsdl/wbsapi.wsdl names for ``<operation>Result``."""
    tree = etree.parse(str(CONTRACTS.wsdl_path))
    element = tree.find(f".//{{{_XS}}}element[@name='{operation}Result']")
    rule = element.find(f".//{{{_PROVENANCE}}}rule[@grammar]")
    return str(rule.get("grammar"))


def format_errors(answers: dict[str, str]) -> list[str]:
    """Every result that does not parse in its operation's grammar, or that a key is missing for."""
    errors = []
    for key, operation in RESULTS.items():
        if key not in answers:
            errors.append(f"{key}: no answer")
            continue
        try:
            parse(CONTRACTS.root, result_format(operation), answers[key])
        except Exception as exc:  # the grammar's error names the format and the position
            errors.append(f"{key}: {exc}")
    return errors


def scenario_errors(answers: dict[str, str]) -> list[str]:
    """What the scenario itself implies: both sends accepted (code 1 with a protocol), status answering the
    three hashes in order, cancel answering the scheduled message's hash, inBox holding the MO."""
    first = lambda answer: answer.split(";")[1] if ";" in answer else ""  # noqa: E731
    errors = []
    lines = answers.get("sendMultiple", "").splitlines()
    sent = [first(answers.get("sendUnique", "")), *(first(line) for line in lines)]
    if not all(_MD5.fullmatch(h) for h in sent) or len(lines) != 2:
        errors.append(f"sends not all accepted: {answers.get('sendUnique')!r} / {answers.get('sendMultiple')!r}")
    status_hashes = [line.split(";")[0] for line in answers.get("status", "").splitlines()]
    if status_hashes != sent:
        errors.append(f"status answered {status_hashes}, asked for {sent}")
    if answers.get("cancel", "").split(";")[0] != first(answers.get("sendUniqueScheduled", "")):
        errors.append(f"cancel answered {answers.get('cancel')!r}")
    if SCENARIO["mo"] not in answers.get("inBox", ""):
        errors.append(f"inBox lacks the MO: {answers.get('inBox')!r}")
    return errors


def canonical(answers: dict[str, str]) -> dict[str, str]:
    """The answers with each MD5 protocol renamed by order of first appearance and clock readings masked."""
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        return names.setdefault(match.group(0), f"<hash {len(names) + 1}>")

    return {key: _CLOCK.sub("<clock>", _MD5.sub(rename, answers[key])) for key in RESULTS if key in answers}
