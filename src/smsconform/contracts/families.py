"""The behaviour families of the catalog: credits, acceptance, selectors and rate boundaries.

Codes and limits say what a refusal looks like; these families say what a conformant service *does* with
what it accepts, so that an implementation cannot pass by refusing correctly and billing, accepting or
finding wrongly (issue 12). Each entry is a rule with its source and basis like every other catalog rule:

- ``credit:<dialect>.<operation>.parts`` (credits.yaml, family ``parts``): what a send of N characters in
  an alphabet costs, per message and per part, read from the dialect's balance before and after;
- ``credit:<dialect>.<operation>.refund`` (credits.yaml, family ``refund``): a cancelled message gives its
  debit back;
- ``accept:<dialect>.<operation>.<param>.<value>`` (acceptance.yaml): a documented value is accepted for an
  account allowed every mode; with a ``pool`` it also yields ``credit:<dialect>.<operation>.<param>.<value>``,
  the balance that value's send draws from (and no other);
- ``select:<dialect>.<operation>.<param>`` (selectors.yaml): a query by that selector, one value and a list,
  finds exactly the items it names;
- ``rate:<limit id>.<seconds>s`` (rates.yaml): a second call that many seconds after the first is refused or
  answered, at the boundaries of a per-minute limit.

The suite's families (tests/conformance/test_credits.py, test_acceptance.py, test_selectors.py,
test_rate_limits.py) are generated from these entries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .catalog import Rule

FAMILY_FILES = ("credits", "acceptance", "selectors", "rates")


@dataclass(frozen=True)
class PartsCase:
    """A text of ``chars`` characters in ``alphabet`` (gsm or ucs2) and the parts a carrier counts for it."""

    alphabet: str
    chars: int
    parts: int


@dataclass(frozen=True)
class CreditRule(Rule):
    """credit:... : a debit, a pool or a refund (``family``), read through ``reading`` (dialect.operation)."""

    family: str                      # parts | pool | refund
    operation: str
    reading: str                     # where the balance is read: mensagem.crdtf, speedmarket.balance, ...
    pool: str                        # the balance the send draws from, as the reading names it
    per_part: int | None = None      # credits per part (parts)
    cases: tuple[PartsCase, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)   # parameters of the send (pool: the value)
    note: str | None = None


@dataclass(frozen=True)
class AcceptRule(Rule):
    """accept:... : one documented value of a parameter, which a conformant service accepts."""

    operation: str
    param: str
    value: Any
    overrides: dict[str, Any] = field(default_factory=dict)   # what else the send needs for this value
    note: str | None = None


@dataclass(frozen=True)
class SelectRule(Rule):
    """select:... : a query selector (one value and a list) that must find exactly what it names."""

    operation: str
    param: str
    separator: str
    counts: tuple[int, ...]
    note: str | None = None


@dataclass(frozen=True)
class RateRule(Rule):
    """rate:... : a second call ``after`` seconds after the first is ``answered`` (or refused)."""

    limit: str
    operation: str
    after: float
    answered: bool
    note: str | None = None


def _provenance(raw: dict[str, Any], entry: dict[str, Any], source: Callable[[dict[str, Any]], Any]
                ) -> dict[str, Any]:
    """A value's own source/basis/reason where it has them, else its entry's."""
    return {"source": source(raw.get("source", entry["source"])), "basis": raw.get("basis", entry["basis"]),
            "reason": raw.get("reason", entry.get("reason"))}


def build_credits(entry: dict[str, Any], source: Callable[[dict[str, Any]], Any]) -> list[Any]:
    dialect, operation, family = entry["dialect"], entry["operation"], entry["family"]
    cases = tuple(PartsCase(c["alphabet"], int(c["chars"]), int(c["parts"])) for c in entry.get("cases", ()))
    return [CreditRule(id=f"credit:{dialect}.{operation}.{family}", dialect=dialect, family=family,
                       operation=operation, reading=entry["reading"], pool=str(entry["pool"]),
                       per_part=entry.get("per_part"), cases=cases, overrides=dict(entry.get("set") or {}),
                       note=entry.get("note"), **_provenance(entry, entry, source))]


def build_acceptance(entry: dict[str, Any], source: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """One accept: rule per documented value; a value with a ``pool`` also gives its credit: pool rule."""
    dialect, operation, param = entry["dialect"], entry["operation"], entry["param"]
    out: list[Any] = []
    for raw in entry["values"]:
        value = raw["value"]
        tail = f"{dialect}.{operation}.{param}.{value}"
        overrides = {**(entry.get("set") or {}), **(raw.get("set") or {})}
        out.append(AcceptRule(id=f"accept:{tail}", dialect=dialect, operation=operation, param=param, value=value,
                              overrides=overrides, note=raw.get("note"), **_provenance(raw, entry, source)))
        pool = raw.get("pool")
        if pool is not None:
            billed = pool if isinstance(pool, dict) else {"name": pool}
            prov = {"source": source(billed.get("source", raw.get("source", entry["source"]))),
                    "basis": billed.get("basis", raw.get("basis", entry["basis"])),
                    "reason": billed.get("reason", raw.get("reason", entry.get("reason")))}
            out.append(CreditRule(id=f"credit:{tail}", dialect=dialect, family="pool", operation=operation,
                                  reading=entry["reading"], pool=str(billed["name"]),
                                  overrides={**overrides, param: value}, note=billed.get("note"), **prov))
    return out


def build_selectors(entry: dict[str, Any], source: Callable[[dict[str, Any]], Any]) -> list[Any]:
    dialect, operation, param = entry["dialect"], entry["operation"], entry["param"]
    return [SelectRule(id=f"select:{dialect}.{operation}.{param}", dialect=dialect, operation=operation,
                       param=param, separator=entry["separator"], counts=tuple(int(c) for c in entry["counts"]),
                       note=entry.get("note"), **_provenance(entry, entry, source))]


def build_rates(entry: dict[str, Any], source: Callable[[dict[str, Any]], Any]) -> list[Any]:
    dialect, limit = entry["dialect"], entry["limit"]
    out: list[Any] = []
    for raw in entry["calls"]:
        after = raw["after"]
        out.append(RateRule(id=f"rate:{limit}.{after:g}s", dialect=dialect, limit=limit,
                            operation=entry["operation"], after=float(after), answered=bool(raw["answered"]),
                            note=raw.get("note"), **_provenance(raw, entry, source)))
    return out


FAMILY_BUILDERS: dict[str, Callable[[dict[str, Any], Callable[[dict[str, Any]], Any]], list[Any]]] = {
    "credits": build_credits,
    "acceptance": build_acceptance,
    "selectors": build_selectors,
    "rates": build_rates,
}
