"""Judging by basis: what the documents state decides the verdict; what we inferred is reported.

A check that the documents (``documented``) or the field notes (``observed``) establish fails the test when
it does not hold. A check resting on our own inference (``inferred``) records a *deviation* instead: the
test goes on, the reports list it with the inference's reason, and the verdict stays what the judged checks
make it. ``--strict`` (or ``strict = true`` in a profile) judges inferred checks too, for an implementation
that wants to match the emulator where the documents are silent.

Tests never compare by hand where a rule decides: ``expect(ok, rule, message)`` is the one place a rule's
basis turns a mismatch into a failure or a deviation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BASES = ("documented", "observed", "inferred")
JUDGED_BASES = ("documented", "observed")

# Deviations the running test recorded; the plugin clears it before each test and attaches it to the
# test's report as the user property "deviations".
DEVIATIONS: list[dict[str, Any]] = []


@dataclass
class _Mode:
    strict: bool = False


MODE = _Mode()


def set_strict(strict: bool) -> None:
    MODE.strict = bool(strict)


def judged(basis: str | None) -> bool:
    """Whether a mismatch on a check of this basis fails the test (rather than being a deviation)."""
    return MODE.strict or basis in JUDGED_BASES


def can_fail(rule: Any, strict: bool | None = None) -> bool:
    """Whether a mismatch on this rule can turn the verdict: its basis is judged, or a part of it is (a code
    whose refusal the documents establish, whose text is inferred or not: ``refusal``, ``text_basis``)."""
    if MODE.strict if strict is None else strict:
        return True
    parts = (rule.basis, getattr(rule, "refusal_basis", None), getattr(rule, "text_basis_raw", None))
    return any(basis in JUDGED_BASES for basis in parts)


def _identity(rule: Any, basis: str | None, reason: str | None) -> tuple[str, str | None, str | None]:
    if isinstance(rule, str):
        rule_id = rule
        if basis is None:
            from ..contracts import load_contracts

            try:
                found = load_contracts().catalog.rule(rule)
            except KeyError:
                found = None
            if found is not None:
                basis, reason = found.basis, reason or found.reason
        return rule_id, basis or "documented", reason
    return rule.id, basis or rule.basis, reason or rule.reason


def expect(ok: bool, rule: Any, message: str, *, basis: str | None = None, reason: str | None = None) -> bool:
    """Hold a check to its rule: a judged mismatch raises AssertionError, an inferred one is recorded.

    ``rule`` is a catalog Rule or a rule id (looked up in the catalog for its basis; an id outside the
    catalog, such as ``openapi:...``, is judged unless ``basis`` says otherwise). ``basis`` overrides the
    rule's own, for a part of a rule that rests on another basis (a code documented, its text inferred).
    Returns ``ok``, so a test can skip what depends on a check that deviated.
    """
    if ok:
        return True
    rule_id, basis, reason = _identity(rule, basis, reason)
    if judged(basis):
        raise AssertionError(message)
    entry = {"rule": rule_id, "basis": basis, "message": message}
    if reason:
        entry["reason"] = reason
    if entry not in DEVIATIONS:
        DEVIATIONS.append(entry)
    return False
