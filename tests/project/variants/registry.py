"""The catalogue of benign variants: implementations that differ from the emulator only where the documents
are silent, so that a suite judging by the documents must certify each of them (issue 18).

A defect (tests/project/defects) must make the suite fail; a variant must not. Each variant names the
inferred rules whose choice it makes differently (``rules``: the suite must report at least one deviation
naming one of them, so the difference is seen, not hidden) and quotes why the documents allow it
(``leaves_open``). Variants are patches applied to the emulator classes, like the defects, with the same
``Patches`` (whose undo and loud failure a variant needs as much as a defect does).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from defects.registry import DIALECTS, Patches


@dataclass(frozen=True)
class Variant:
    """One conformant variant of the emulator.

    ``rules`` are the inferred rules (catalog ids) it decides otherwise (none: it does only what the
    documents allow and the catalog holds no rule about); ``scope`` the rule globs whose tests
    its run selects (by default those of its rules' operations, as for a defect); ``leaves_open`` the words
    of the documents (or their silence) that allow the choice; ``apply`` installs it.
    """

    name: str
    dialect: str
    rules: tuple[str, ...]
    summary: str
    leaves_open: str
    scope: tuple[str, ...] = ()
    apply: Callable[[Patches], None] = field(default=lambda p: None, repr=False, compare=False)

    @property
    def expects_deviation(self) -> bool:
        """A variant that decides a catalog rule otherwise must be reported; one that only does what the
        documents allow and the catalog states nothing about (a handset reply, a slower carrier) need not."""
        return bool(self.rules)


REGISTRY: dict[str, Variant] = {}


def variant(name: str, dialect: str, rules: tuple[str, ...] | list[str], summary: str, leaves_open: str,
            scope: tuple[str, ...] | list[str] = ()) -> Callable[[Callable[[Patches], None]], Callable[[Patches], None]]:
    """Register the decorated ``apply(patches)`` function as the variant ``name``."""
    if dialect not in DIALECTS:
        raise ValueError(f"{name}: unknown dialect {dialect!r}")

    def register(apply: Callable[[Patches], None]) -> Callable[[Patches], None]:
        if name in REGISTRY:
            raise ValueError(f"variant {name!r} registered twice")
        REGISTRY[name] = Variant(name, dialect, tuple(rules), summary, leaves_open, tuple(scope), apply)
        return apply

    return register


def load_all() -> dict[str, Variant]:
    """Import every dialect module of the catalogue (registration happens on import)."""
    from . import fcati, mensagem, painel, smpp, speedmarket, wbsapi  # noqa: F401

    return REGISTRY
