"""The anti-fraud analysis deciding a held message: what leaves wbsapi's EM ESPERA (7).

A message to the reserved `antifraud` number is kept held and costs nothing (codes.yaml mensagem.send 61).
No document says when or how the analysis ends, so the emulator never decides on its own: the control API
(POST /_emulator/antifraud) releases a held message to the send queue (machines.yaml wbsapi.message 7 -> 3,
then its outcome as any message) or refuses it (7 -> 5 INVALIDO). A released message is debited then,
as any message is when it is accepted for sending; a refused one never costs anything.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import messages as m

if TYPE_CHECKING:
    from .messages import Message
    from .service import Core

DECISIONS = ("release", "refuse")


def decide(core: "Core", msg: "Message", decision: str) -> None:
    """Release or refuse one held message, in the caller's transaction; a Refused (the client has no
    credits left for it) leaves the message held."""
    if msg.state != m.HELD:
        raise ValueError(f"message {msg.id} is {msg.state}, not held by the anti-fraud analysis")
    now = core.now()
    if decision == "refuse":
        core._move(msg, m.INVALID, now, next_at=None)
        return
    who = core.accounts._principal("u.id = ?", msg.user_id)
    core.accounts.debit(who, msg.scope, {msg.kind: msg.parts})
    core.store.db.execute("UPDATE recipients SET cost = ? WHERE id = ?", (msg.parts, msg.id))
    core._move(msg, m.QUEUED, now, next_at=now + core.timing["seconds"]["send"])
