"""Choices every dialect's variants make the same way: the lifecycle's timings, a handset that answers each
delivery, the billing of a long message. Each is a patch of the shared core, limited to one dialect where
the core serves several."""
from __future__ import annotations

import copy
from typing import Any, Callable

from smsconform.emulator.core import messages as m
from smsconform.emulator.core import service
from smsconform.emulator.core.service import Core

from defects.registry import Patches, one_by_one

# The emulator's steps are 1 s, 2 s and 5 s (contracts/emulator/lifecycle.yaml, inferred): a sandbox whose
# carrier is slower takes these instead, still far inside the 48 hours the documents allow a DLR.
SLOWER_STEPS = {"queue": 4, "send": 9, "dlr": 25}
REPLY_TEXT = "OK, RECEBIDO"


def override(p: Patches, owner: Any, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Replace ``owner.name`` by the decorated ``change(original, self, *args)``: the shape every variant's
    patch has (call the emulator's own method, or not, and alter what it answers)."""

    def install(change: Callable[..., Any]) -> Callable[..., Any]:
        def factory(original: Callable[..., Any]) -> Callable[..., Any]:
            def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
                return change(original, self, *args, **kwargs)

            return patched

        p.wrap(owner, name, factory)
        return change

    return install


def slower_steps(p: Patches, steps: dict[str, float] | None = None) -> None:
    """Every message takes longer from step to step (the same machine, other timings)."""

    def adjust(core: Core) -> None:
        core.timing = copy.deepcopy(core.timing)
        core.timing["seconds"].update(steps or SLOWER_STEPS)

    p.after_init(Core, adjust)


def replies_to_deliveries(p: Patches, dialect: str, text: str = REPLY_TEXT) -> None:
    """The handset answers every delivered message of ``dialect`` with an MO reply, at once: a sandbox whose
    test numbers auto-reply, which the suite never asked for."""
    one_by_one(p)

    @override(p, Core, "_move")
    def move(original: Callable[..., None], self: Core, msg: Any, state: str, at: float,
             next_at: float | None = None) -> None:
        original(self, msg, state, at, next_at)
        if state == m.DELIVERED and msg.dialect == dialect:
            self.inject_mo(msg.client_id, msg.number, text, reply_to=msg.hash)


def flat_billing(p: Patches, dialect: str) -> None:
    """A message of ``dialect`` costs one credit whatever its length (a provider that bills per message,
    not per carrier part)."""

    @override(p, Core, "submit")
    def submit(original: Callable[..., Any], self: Core, who: Any, submitted_as: str, items: Any) -> Any:
        if submitted_as != dialect:
            return original(self, who, submitted_as, items)
        counted = service.count_parts
        service.count_parts = lambda text: 1
        try:
            return original(self, who, submitted_as, items)
        finally:
            service.count_parts = counted
