"""Rule families: the columns of the certification matrix.

A catalog rule's family follows from its kind (``code:`` -> codes, ``limit:`` -> limits, ``machine:`` ->
transitions, ``callback:`` -> callbacks, ``credit:`` -> credits, ``accept:`` -> acceptance, ``select:`` ->
selectors, ``rate:`` -> rates, ``isolation:`` -> isolation, ``number:`` -> numbers, ``behaviour:`` ->
behaviours). Each catalog file is a family of its own because each says something different about a target
(what it refuses, what it charges, what it finds, who may see what): a QA reader of the matrix should see
a failing price apart from a failing code, not both under "other". A test's family is its module's when the
module is named after a family (``test_schema*`` -> schema, ``test_grammar*`` -> grammar,
``test_rate_limits`` -> rates, ...), whatever rules it names (a callback test also names the status codes
it waits for); otherwise (``test_wbsapi``, ``test_smpp``) the kind its rules name most. A new test module
needs no change here as long as it follows that naming; a new rule kind needs its line in KIND_FAMILY
(tests/project/test_reports.py holds every catalog kind to a family).
"""
from __future__ import annotations

from typing import Iterable

FAMILIES = ("codes", "limits", "transitions", "schema", "grammar", "callbacks", "credits", "acceptance",
            "selectors", "rates", "isolation", "numbers", "behaviours")
KIND_FAMILY = {"code": "codes", "limit": "limits", "machine": "transitions", "callback": "callbacks",
               "credit": "credits", "accept": "acceptance", "select": "selectors", "rate": "rates",
               "isolation": "isolation", "number": "numbers", "behaviour": "behaviours"}
# Checked in order: "rate" before "limit" (test_rate_limits is the rates family, not the limits one).
_MODULE_WORDS = (
    ("schema", "schema"), ("openapi", "schema"), ("grammar", "grammar"), ("rate", "rates"), ("code", "codes"),
    ("limit", "limits"), ("transition", "transitions"), ("machine", "transitions"), ("stateful", "transitions"),
    ("callback", "callbacks"), ("credit", "credits"), ("acceptance", "acceptance"), ("selector", "selectors"),
    ("isolation", "isolation"), ("number", "numbers"), ("behaviour", "behaviours"),
)
FORMAT_FAMILIES = ("schema", "grammar")
# A tie between kinds a test names goes to the family that needs the most state to reach.
_TIE_ORDER = ("codes", "limits", "numbers", "acceptance", "selectors", "rates", "credits", "behaviours",
              "isolation", "callbacks", "transitions")


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
    known = [k for k in kinds if k in _TIE_ORDER]
    if known:
        return max(dict.fromkeys(known), key=lambda k: (known.count(k), _TIE_ORDER.index(k)))
    return "other"


def rule_dialect(rule_id: str) -> str | None:
    """``code:mensagem.send.97`` -> ``mensagem``."""
    kind, sep, rest = rule_id.partition(":")
    return rest.split(".", 1)[0] if sep and rest else None
