"""Rule families: the columns of the certification matrix.

A catalog rule's family follows from its kind (``code:`` -> codes, ``limit:`` -> limits, ``machine:`` ->
transitions, ``callback:`` -> callbacks). A test's family is its module's when the module is named after
a family (``test_schema*`` -> schema, ``test_grammar*`` -> grammar, ``test_callbacks`` -> callbacks,
``test_transitions`` -> transitions, ...), whatever rules it names (a callback test also names the status
codes it waits for); otherwise (``test_wbsapi``, ``test_smpp``) the kind its rules name most. A new test
module needs no change here as long as it follows that naming.
"""
from __future__ import annotations

from typing import Iterable

FAMILIES = ("codes", "limits", "transitions", "schema", "grammar", "callbacks")
KIND_FAMILY = {"code": "codes", "limit": "limits", "machine": "transitions", "callback": "callbacks"}
_MODULE_WORDS = (
    ("schema", "schema"), ("openapi", "schema"), ("grammar", "grammar"), ("code", "codes"), ("limit", "limits"),
    ("transition", "transitions"), ("machine", "transitions"), ("stateful", "transitions"),
    ("callback", "callbacks"),
)
FORMAT_FAMILIES = ("schema", "grammar")
_TIE_ORDER = ("codes", "limits", "callbacks", "transitions")


def rule_family(rule_id: str) -> str:
    return KIND_FAMILY.get(rule_id.split(":", 1)[0], "other")


def module_family(module: str) -> str | None:
    name = module.rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_")
    for word, family in _MODULE_WORDS:
        if word in name:
            return family
    return None


def family_of_test(module: str, rule_ids: Iterable[str]) -> str:
    by_module = module_family(module)
    if by_module is not None:
        return by_module
    kinds = [rule_family(r) for r in rule_ids]
    known = [k for k in kinds if k != "other"]
    if known:  # the most named kind; a tie goes to the family that needs the most state to reach
        return max(dict.fromkeys(known), key=lambda k: (known.count(k), _TIE_ORDER.index(k)))
    return "other"


def rule_dialect(rule_id: str) -> str | None:
    """``code:mensagem.send.97`` -> ``mensagem``."""
    kind, sep, rest = rule_id.partition(":")
    return rest.split(".", 1)[0] if sep and rest else None
