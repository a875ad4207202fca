"""What the code families share: which codes are request answers, and how an answer is held to its code."""
from __future__ import annotations

from typing import Any

import pytest

from ..contracts import Code, load_contracts
from .judge import expect

# Status tables are not request answers: the transitions and callbacks families observe them.
STATUS_TABLES = ("message-status", "callback-status", "callback-dlr", "campaign-status")


def code_params(codes: list[Code]) -> list[Any]:
    """One pytest parameter per code, marked with its rule id and dialect."""
    return [pytest.param(c, id=c.id, marks=[pytest.mark.rules(c.id), pytest.mark.dialect(c.dialect)]) for c in codes]


def success_wires(code: Code) -> set[str]:
    """The wire codes by which the code's operation answers a success."""
    return {c.wire for c in load_contracts().catalog.operation_codes(code.dialect, code.operation) if c.success}


def assert_answers(code: Code, result: Any, after: str = "") -> None:
    """The answer carries the code on the wire and, where the dialect returns one, its text verbatim.

    Each part is held to its own basis (judge.py): a code the documents give fails the test when it is
    wrong, while a text we inferred is a deviation. Where the documents establish only that the answer is
    a refusal (``refusal`` in codes.yaml: fcati's "devem ser obrigatoriamente autenticadas", with no
    status published), an answer that is a success fails on that part, and another refusal than the
    inferred code is a deviation.
    """
    if code.refusal_basis and not code.success and result.code != code.wire:
        expect(result.code not in success_wires(code), code,
               f"{code.id}: {after}the documents make this a refusal, got the success {result.code!r} ({result.text!r})"
               f" [{code.refusal_source}]", basis=code.refusal_basis)
    how = code.trigger or {}  # a trigger's own basis: the code is documented, the request that reaches it inferred
    ok = expect(result.code == code.wire, code,
                f"{code.id}: {after}expected code {code.wire} ({code.text}), got {result.code!r} ({result.text!r})"
                f" [{code.source}]", basis=how.get("basis"), reason=how.get("reason"))
    if ok and result.text is not None:
        expect(result.text == code.text, code,
               f"{code.id}: code {code.wire} must read {code.text!r} verbatim, got {result.text!r} [{code.source}]",
               basis=code.text_basis, reason=code.text_reason)


def hold_outside(lim: Any, side: str, result: Any, where: str) -> bool:
    """A value ``side`` ("below" or "above") a limit: refused (the limit's basis), with the code the limit
    names for that side (the side's own basis, often inferred: "no code names the length") and that code's
    text (the text's basis). Returns whether every part held, as ``judge.expect`` does."""
    catalog = load_contracts().catalog
    operation = lim.operations[0]
    ok = {c.wire for c in catalog.operation_codes(lim.dialect, operation) if c.success}
    if not expect(result.code not in ok, lim, f"{where}: a value {side} the limit was accepted ({result.code!r}) "
                                              f"[{lim.source}]"):
        return False
    wire = lim.below_code if side == "below" else lim.above_code
    if wire is None:
        return True
    basis, reason = lim.side_basis(side)
    if not expect(result.code == wire.split("/")[0], lim, f"{where}: a value {side} the limit must get {wire}, got "
                  f"{result.code!r} ({result.text!r}) [{lim.source}]", basis=basis, reason=reason):
        return False
    if not catalog.has_code(lim.dialect, operation, wire) or result.text is None:
        return True
    code = catalog.code(lim.dialect, operation, wire)
    return expect(result.text == code.text, code, f"{where}: code {code.wire} must read {code.text!r} verbatim, got "
                  f"{result.text!r} [{code.source}]", basis=code.text_basis, reason=code.text_reason)
