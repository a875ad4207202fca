"""The defect catalogue's machinery: what a defect is, how it is registered, and how it patches the emulator.

A defect is a small, named, realistic mistake an implementer could make (an off-by-one at a limit, a code or
text rendered wrong, a status moving backwards, a field of the wrong type, ...), applied to the emulator by
monkeypatching one method or one contract look-up before the emulator starts. Each defect names the catalog
rules it breaks, so the self-check can demand that the conformance suite not only fails against it, but
fails in a test that names one of those rules: a suite that fails for the wrong reason has not caught it.

Patches are applied on classes (or instances built at start-up), never on the loaded contracts the suite
itself reads: the suite must keep judging by the true catalog.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

DIALECTS = ("mensagem", "speedmarket", "painel", "fcati", "wbsapi", "smpp", "servicesms")
_MISSING = object()


class DefectError(Exception):
    """A defect that cannot be applied: its target moved. Loud on purpose, so no defect silently vanishes."""


class Patches:
    """Monkeypatches with their undo, refusing to patch what does not exist."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, new: Any) -> None:
        try:
            old = inspect.getattr_static(owner, name)
        except AttributeError:
            raise DefectError(f"{getattr(owner, '__qualname__', owner)!r} has no attribute {name!r}") from None
        if inspect.isclass(owner) and name not in owner.__dict__:
            old = _MISSING  # inherited: undo removes our override
        self._undo.append((owner, name, old))
        setattr(owner, name, new)

    def wrap(self, owner: Any, name: str, factory: Callable[[Any], Any]) -> None:
        """Replace ``owner.name`` by ``factory(original)``; the original stays callable from the wrapper."""
        original = getattr(owner, name, _MISSING)
        if original is _MISSING:
            raise DefectError(f"{getattr(owner, '__qualname__', owner)!r} has no attribute {name!r}")
        self.replace(owner, name, factory(original))

    def after_init(self, cls: type, adjust: Callable[[Any], None]) -> None:
        """Run ``adjust(instance)`` after ``cls.__init__``: for what a dialect reads from the catalog at start-up."""

        def factory(init: Callable[..., None]) -> Callable[..., None]:
            def patched(self: Any, *args: Any, **kwargs: Any) -> None:
                init(self, *args, **kwargs)
                adjust(self)

            return patched

        self.wrap(cls, "__init__", factory)

    def undo(self) -> None:
        while self._undo:
            owner, name, old = self._undo.pop()
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


def applied(apply: Callable[[Patches], None]) -> Patches:
    """The patches ``apply`` installs; on a DefectError the ones already made are undone before it is raised."""
    patches = Patches()
    try:
        apply(patches)
    except DefectError:
        patches.undo()
        raise
    return patches


@dataclass(frozen=True)
class Defect:
    """One non-conformant variant of the emulator.

    ``rules`` are the catalog rule ids the defect breaks (a failing test must name one of them); ``violates``
    quotes where the documents say what the defect gets wrong; ``apply`` installs it.
    """

    name: str
    dialect: str
    rules: tuple[str, ...]
    summary: str
    violates: str
    apply: Callable[[Patches], None] = field(repr=False, compare=False)


REGISTRY: dict[str, Defect] = {}


def defect(name: str, dialect: str, rules: tuple[str, ...] | list[str], summary: str, violates: str
           ) -> Callable[[Callable[[Patches], None]], Callable[[Patches], None]]:
    """Register the decorated ``apply(patches)`` function as the defect ``name``."""
    if dialect not in DIALECTS:
        raise ValueError(f"{name}: unknown dialect {dialect!r}")
    if not rules:
        raise ValueError(f"{name}: a defect must name the rules it breaks")

    def register(apply: Callable[[Patches], None]) -> Callable[[Patches], None]:
        if name in REGISTRY:
            raise ValueError(f"defect {name!r} registered twice")
        REGISTRY[name] = Defect(name, dialect, tuple(rules), summary, violates, apply)
        return apply

    return register


def load_all() -> dict[str, Defect]:
    """Import every dialect module of the catalogue (registration happens on import)."""
    from . import coverage, fcati, mensagem, painel, servicesms, smpp, speedmarket, wbsapi  # noqa: F401
    from . import acceptance, credits, rates, selectors  # noqa: F401  (issue 12 items 1-4)

    return REGISTRY


def around_submit(p: Patches, dialect: str, change: Callable[[Any], Callable[[], None]]) -> None:
    """Wrap ``Core.submit`` so that, for submissions of ``dialect`` only, ``change(core)`` alters the core for
    the length of the call (it returns the undo): a defect of one interface in what the platform shares."""
    from smsconform.emulator.core.service import Core

    def factory(submit: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, who: Any, submitted_as: str, items: Any) -> Any:
            if submitted_as != dialect:
                return submit(self, who, submitted_as, items)
            restore = change(self)
            try:
                return submit(self, who, submitted_as, items)
            finally:
                restore()

        return patched

    p.wrap(Core, "submit", factory)


def in_lifecycle(p: Patches, factory: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Wrap ``Core._next`` (where a due message goes next) with ``factory``, for every message.

    The core settles messages nobody listens to in bulk, with one SQL statement that encodes what ``_next``
    does; a defect of the lifecycle is a defect of both, so the bulk path is turned off and ``_next`` moves
    every message.
    """
    from smsconform.emulator.core.service import Core

    p.wrap(Core, "_next", factory)
    one_by_one(p)


def one_by_one(p: Patches) -> None:
    """Turn the core's bulk settling off, so that every step of every message goes through ``_next`` and
    ``_move`` (the bulk SQL encodes the plain lifecycle only)."""
    from smsconform.emulator.core.service import Core

    def tick_factory(tick: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["bulk"] = False
            return tick(self, *args, **kwargs)

        return patched

    p.wrap(Core, "tick", tick_factory)
    p.wrap(Core, "settle", tick_factory)
