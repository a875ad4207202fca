"""The catalog: codes, limits, status machines, callbacks, contradictions and substitutes, as typed objects.

Every rule has a stable id of the form ``kind:dialect.rest`` (``code:mensagem.send.97``,
``limit:mensagem.mult.numbers``, ``machine:mensagem.message``, ``callback:mensagem.status``). Tests name
the ids they check, and reports trace each id back to its source in the documents.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Iterator

import jsonschema

from .errors import ContractError
from .yamlfile import line_of, load_yaml

CATALOG_FILES = ("codes", "limits", "machines", "callbacks", "contradictions", "substitutes", "behaviours",
                 "isolation", "numbers")


@dataclass(frozen=True)
class Source:
    doc: str
    section: str
    quote: str | None = None

    def __str__(self) -> str:
        return f"{self.doc} § {self.section}"


@dataclass(frozen=True)
class Rule:
    """What every catalog entry shares: an id, where it comes from, and how sure we are of it."""

    id: str
    dialect: str
    source: Source
    basis: str
    reason: str | None

    @property
    def kind(self) -> str:
        return self.id.split(":", 1)[0]


@dataclass(frozen=True)
class Code(Rule):
    operation: str
    code: str
    text: str
    success: bool
    semantic: str
    trigger: dict[str, Any] | None
    note: str | None = None
    text_basis_raw: str | None = None        # the text's own basis, where it differs from the code's
    text_reason: str | None = None           # why the text is inferred
    refusal_basis: str | None = None         # that the answer is a refusal at all, where the documents say so
    refusal_source: Source | None = None     # while the code itself is inferred (fcati: no status published)

    @property
    def text_basis(self) -> str:
        """The basis of the text alone: the code's own unless the entry says otherwise."""
        return self.text_basis_raw or self.basis

    @property
    def wire(self) -> str:
        """The code as it travels: a keyed code ``0/bad_credentials`` is ``0`` on the wire."""
        return self.code.split("/", 1)[0]


@dataclass(frozen=True)
class Limit(Rule):
    name: str
    operations: tuple[str, ...]
    param: str
    unit: str
    min: float | None
    max: float | None
    below_code: str | None
    above_code: str | None
    note: str | None = None
    overrides: dict[str, Any] | None = None  # `set`: the parameters under which the limit applies
    below_basis: str | None = None           # the basis of the code answered below / above, where the
    above_basis: str | None = None           # entry gives one (which code answers is often inferred)
    below_reason: str | None = None
    above_reason: str | None = None

    def side_basis(self, side: str) -> tuple[str, str | None]:
        """(basis, reason) of the code a value on ``side`` ("below" or "above") is answered with."""
        basis = self.below_basis if side == "below" else self.above_basis
        reason = self.below_reason if side == "below" else self.above_reason
        return (basis or self.basis), (reason if basis else self.reason)


@dataclass(frozen=True)
class State:
    code: str
    name: str
    initial: bool = False
    final: bool = False
    level: str | None = None
    core: str | None = None
    status_codes: str | None = None  # the operation holding this state's code, when not the machine's


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    event: str
    basis: str                  # the edge's own (machines.yaml `basis`), else its machine's
    reason: str | None = None   # why an inferred edge was inferred


@dataclass(frozen=True)
class Machine(Rule):
    name: str
    entity: str
    status_codes: str
    states: tuple[State, ...]
    edges: tuple[Edge, ...]

    @cached_property
    def _pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset((e.source, e.target) for e in self.edges)

    @property
    def initial(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.states if s.initial)

    @property
    def finals(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.states if s.final)

    def state(self, code: str) -> State | None:
        return next((s for s in self.states if s.code == code), None)

    def allows(self, before: str, after: str) -> bool:
        return before == after or (before, after) in self._pairs

    def first_illegal_step(self, observed: Iterable[str]) -> tuple[str, str] | None:
        """The first consecutive pair of an observed status sequence that is not an edge, if any."""
        seq = list(observed)
        for before, after in zip(seq, seq[1:]):
            if not self.allows(before, after):
                return before, after
        return None


@dataclass(frozen=True)
class CallbackParam:
    name: str
    required: bool
    type: str | None = None
    format: str | None = None
    values: tuple[str, ...] = ()
    basis: str | None = None    # of its form and of what it names, where it differs from the call-back's
    reason: str | None = None   # why that part is inferred


@dataclass(frozen=True)
class Callback(Rule):
    name: str
    method: str
    when: str
    encoding: str | None
    params: tuple[CallbackParam, ...]
    example: str | None = None


@dataclass(frozen=True)
class Isolation(Rule):
    """An operation asked by a second account for the main account's object (isolation.yaml)."""

    operation: str
    state: str | None
    answer: str                               # a code of the same operation the foreign caller gets
    conceals_number: bool
    owner_after: dict[str, str] | None        # the owner's own call afterwards: {operation, code}
    note: str | None = None


@dataclass(frozen=True)
class NumberShape(Rule):
    """One shape of number given to an operation's number parameter, and what it gets (numbers.yaml)."""

    operation: str
    param: str
    shape: str
    answer: str                               # a code of the same operation
    note: str | None = None


@dataclass(frozen=True)
class Contradiction:
    id: str
    description: str
    sources: tuple[Source, ...]
    choice: str
    basis: str | None


@dataclass(frozen=True)
class Substitute:
    """For a reason an operation documents no code for, the reasons whose code it answers with instead."""

    dialect: str          # a dialect, or "*" for all
    reason: str           # a semantic reason, or "*" for any
    answer_as: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Behaviour(Rule):
    """What a target does beyond one answer (what a message costs, what an MO record's fields are named, ...):
    a rule of its own, so that no such assumption hides in test code (behaviours.yaml)."""

    statement: str
    note: str | None = None


@dataclass
class Catalog:
    codes: list[Code] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    machines: list[Machine] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    contradictions: list[Contradiction] = field(default_factory=list)
    substitutes: list[Substitute] = field(default_factory=list)
    families: list[Any] = field(default_factory=list)  # credit:, accept:, select:, rate: rules (families.py)
    behaviours: list[Behaviour] = field(default_factory=list)
    isolation: list[Isolation] = field(default_factory=list)
    numbers: list[NumberShape] = field(default_factory=list)

    # -- look-ups ---------------------------------------------------------------------------------
    @cached_property
    def _codes(self) -> dict[tuple[str, str, str], Code]:
        return {(c.dialect, c.operation, c.code): c for c in self.codes}

    @cached_property
    def _by_semantic(self) -> dict[tuple[str, str, str], Code]:
        index: dict[tuple[str, str, str], Code] = {}
        for c in self.codes:
            index.setdefault((c.dialect, c.operation, c.semantic), c)
        return index

    @cached_property
    def _rules(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules()}

    def code(self, dialect: str, operation: str, code: str) -> Code:
        try:
            return self._codes[(dialect, operation, code)]
        except KeyError:
            raise KeyError(f"no code {code!r} for {dialect}.{operation} in the catalog") from None

    def has_code(self, dialect: str, operation: str, code: str) -> bool:
        return (dialect, operation, code) in self._codes

    def by_reason(self, dialect: str, operation: str, semantic: str) -> Code:
        """The code an operation answers for a semantic reason (``insufficient_credits``, ...)."""
        try:
            return self._by_semantic[(dialect, operation, semantic)]
        except KeyError:
            raise KeyError(f"{dialect}.{operation} has no code for reason {semantic!r}") from None

    def substitutes_for(self, dialect: str, reason: str) -> tuple[str, ...]:
        """The reasons to try, in order, when an operation of ``dialect`` documents no code for ``reason``:
        the dialect's own substitutes, then the shared ones, then the last resort."""
        order = ((dialect, reason), ("*", reason), ("*", "*"))
        return tuple(r for key in order for s in self.substitutes if (s.dialect, s.reason) == key
                     for r in s.answer_as)

    def operation_codes(self, dialect: str, operation: str) -> list[Code]:
        return [c for c in self.codes if c.dialect == dialect and c.operation == operation]

    def limit(self, limit_id: str) -> Limit:
        for lim in self.limits:
            if lim.name == limit_id:
                return lim
        raise KeyError(f"no limit {limit_id!r} in the catalog")

    def machine(self, machine_id: str) -> Machine:
        for m in self.machines:
            if m.name == machine_id:
                return m
        raise KeyError(f"no machine {machine_id!r} in the catalog")

    def callback(self, callback_id: str) -> Callback:
        for cb in self.callbacks:
            if cb.name == callback_id:
                return cb
        raise KeyError(f"no callback {callback_id!r} in the catalog")

    def rule(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def rules(self) -> Iterator[Rule]:
        yield from self.codes
        yield from self.limits
        yield from self.machines
        yield from self.callbacks
        yield from self.families
        yield from self.behaviours
        yield from self.isolation
        yield from self.numbers


# -- loading ----------------------------------------------------------------------------------------

def _source(raw: dict[str, Any]) -> Source:
    return Source(raw["doc"], raw["section"], raw.get("quote"))


def _validator(schema_path: Path) -> jsonschema.Draft202012Validator:
    schema, _ = load_yaml(schema_path)
    return jsonschema.Draft202012Validator(schema)


def _check(validator: jsonschema.Draft202012Validator, path: Path) -> tuple[dict[str, Any], Any]:
    data, node = load_yaml(path)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise ContractError(path, line_of(node, err.absolute_path), f"{where}: {err.message}")
    return data, node


def load_catalog(directory: Path) -> Catalog:
    validator = _validator(directory / "schema.yaml")
    catalog = Catalog()
    builders = {**_BUILDERS, **_family_builders()}
    for name in builders:  # CATALOG_FILES, then the behaviour families' files
        path = directory / f"{name}.yaml"
        if not path.exists():
            raise ContractError(path, None, "missing catalog file")
        data, node = _check(validator, path)
        if data["kind"] != name:
            raise ContractError(path, line_of(node, ["kind"]), f"kind must be {name!r}")
        builder = builders[name]
        for index, entry in enumerate(data["entries"]):
            try:
                builder(catalog, entry)
            except (KeyError, ValueError) as exc:
                raise ContractError(path, line_of(node, ["entries", index]), str(exc)) from exc
    _check_duplicates(catalog, directory)
    return catalog


def _add_codes(catalog: Catalog, entry: dict[str, Any]) -> None:
    dialect, operation = entry["dialect"], entry["operation"]
    for raw in entry["codes"]:
        catalog.codes.append(
            Code(
                id=f"code:{dialect}.{operation}.{raw['code']}",
                dialect=dialect,
                source=_source(raw.get("source", entry["source"])),
                basis=raw.get("basis", entry["basis"]),
                reason=raw.get("reason_inferred", entry.get("reason")),
                operation=operation,
                code=raw["code"],
                text=raw["text"],
                success=raw["success"],
                semantic=raw["reason"],
                trigger=raw.get("trigger"),
                note=raw.get("note"),
                text_basis_raw=raw.get("text_basis", entry.get("text_basis")),
                text_reason=raw.get("text_reason_inferred"),
                refusal_basis=(raw.get("refusal") or {}).get("basis"),
                refusal_source=_source(raw["refusal"]["source"]) if raw.get("refusal") else None,
            )
        )


def _add_limit(catalog: Catalog, entry: dict[str, Any]) -> None:
    catalog.limits.append(
        Limit(
            id=f"limit:{entry['id']}",
            dialect=entry["dialect"],
            source=_source(entry["source"]),
            basis=entry["basis"],
            reason=entry.get("reason"),
            name=entry["id"],
            operations=tuple(entry["operations"]),
            param=entry["param"],
            unit=entry["unit"],
            min=entry.get("min"),
            max=entry.get("max"),
            below_code=(entry.get("below") or {}).get("code"),
            above_code=(entry.get("above") or {}).get("code"),
            note=entry.get("note"),
            overrides=entry.get("set"),
            below_basis=(entry.get("below") or {}).get("basis"),
            above_basis=(entry.get("above") or {}).get("basis"),
            below_reason=(entry.get("below") or {}).get("reason"),
            above_reason=(entry.get("above") or {}).get("reason"),
        )
    )


def _add_machine(catalog: Catalog, entry: dict[str, Any]) -> None:
    states = tuple(
        State(s["code"], s["name"], s.get("initial", False), s.get("final", False), s.get("level"), s.get("core"),
              s.get("status_codes"))
        for s in entry["states"]
    )
    known = {s.code for s in states}
    edges = []
    for e in entry["edges"]:
        for end in (e["from"], e["to"]):
            if end not in known:
                raise ValueError(f"machine {entry['id']}: edge names unknown state {end!r}")
        edges.append(Edge(e["from"], e["to"], e["event"], e.get("basis", entry["basis"]),
                          e.get("reason") or (entry.get("reason") if "basis" not in e else None)))
    catalog.machines.append(
        Machine(
            id=f"machine:{entry['id']}",
            dialect=entry["dialect"],
            source=_source(entry["source"]),
            basis=entry["basis"],
            reason=entry.get("reason"),
            name=entry["id"],
            entity=entry["entity"],
            status_codes=entry["status_codes"],
            states=states,
            edges=tuple(edges),
        )
    )


def _add_callback(catalog: Catalog, entry: dict[str, Any]) -> None:
    catalog.callbacks.append(
        Callback(
            id=f"callback:{entry['id']}",
            dialect=entry["dialect"],
            source=_source(entry["source"]),
            basis=entry["basis"],
            reason=entry.get("reason"),
            name=entry["id"],
            method=entry["method"],
            when=entry["when"],
            encoding=entry.get("encoding"),
            params=tuple(
                CallbackParam(p["name"], p["required"], p.get("type"), p.get("format"), tuple(p.get("values", ())),
                              p.get("basis"), p.get("reason"))
                for p in entry["params"]
            ),
            example=entry.get("example"),
        )
    )


def _add_contradiction(catalog: Catalog, entry: dict[str, Any]) -> None:
    catalog.contradictions.append(
        Contradiction(
            id=entry["id"],
            description=entry["description"],
            sources=tuple(_source(s) for s in entry["sources"]),
            choice=entry["choice"],
            basis=entry.get("basis"),
        )
    )


def _add_substitute(catalog: Catalog, entry: dict[str, Any]) -> None:
    catalog.substitutes.append(Substitute(entry["dialect"], entry["reason"], tuple(entry["answer_as"]), entry["why"]))


def _add_behaviour(catalog: Catalog, entry: dict[str, Any]) -> None:
    catalog.behaviours.append(Behaviour(
        id=f"behaviour:{entry['id']}", dialect=entry["dialect"], source=_source(entry["source"]),
        basis=entry["basis"], reason=entry.get("reason"), statement=entry["statement"], note=entry.get("note")))
def _provenance(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    """What every rule built from one catalog entry shares: its id, dialect, source and basis."""
    return {"id": f"{kind}:{entry['id']}", "dialect": entry["dialect"], "source": _source(entry["source"]),
            "basis": entry["basis"], "reason": entry.get("reason")}


def _add_isolation(catalog: Catalog, entry: dict[str, Any]) -> None:
    catalog.isolation.append(
        Isolation(
            **_provenance("isolation", entry),
            operation=entry["operation"],
            state=entry.get("state"),
            answer=entry["answer"],
            conceals_number=bool(entry.get("conceals_number", False)),
            owner_after=entry.get("owner_after"),
            note=entry.get("note"),
        )
    )


def _add_numbers(catalog: Catalog, entry: dict[str, Any]) -> None:
    for raw in entry["shapes"]:
        own = {"id": f"{entry['dialect']}.{entry['operation']}.{raw['shape']}",
               **{k: raw[k] for k in ("basis", "reason") if k in raw}}  # a shape's basis may be its own
        catalog.numbers.append(
            NumberShape(
                **_provenance("number", {**entry, **own}),
                operation=entry["operation"], param=entry["param"], shape=raw["shape"], answer=raw["answer"],
                note=raw.get("note"),
            )
        )


_BUILDERS = {
    "codes": _add_codes,
    "limits": _add_limit,
    "machines": _add_machine,
    "callbacks": _add_callback,
    "contradictions": _add_contradiction,
    "substitutes": _add_substitute,
    "behaviours": _add_behaviour,
    "isolation": _add_isolation,
    "numbers": _add_numbers,
}


def _family_builders() -> dict[str, Any]:
    """The behaviour families' files (families.py, which builds on Rule, hence imported here)."""
    from .families import FAMILY_BUILDERS

    return {name: (lambda catalog, entry, build=build: catalog.families.extend(build(entry, _source)))
            for name, build in FAMILY_BUILDERS.items()}


def _check_duplicates(catalog: Catalog, directory: Path) -> None:
    seen: set[str] = set()
    for rule in catalog.rules():
        if rule.id in seen:
            raise ContractError(directory, None, f"rule {rule.id} is defined twice")
        seen.add(rule.id)
