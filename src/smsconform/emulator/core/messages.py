"""Messages: what a client submits, what the core accepts, and how each one is stored and found again."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

# Core states (DEVELOPERS.md); each dialect's machine in contracts/catalog/machines.yaml renders them.
WAITING, QUEUED, HELD, PAUSED = "waiting", "queued", "held", "paused"
SENT, ERROR, INVALID, CANCELLED = "sent", "error", "invalid", "cancelled"
DELIVERED, UNDELIVERED, EXPIRED, REJECTED = "delivered", "undelivered", "expired", "rejected"
BLOCKED = "blocked"  # refused by a block rule after acceptance (speedmarket's negative statuses)

KIND_BY_F = {0: "long", 1: "flash", 2: "short", 4: "short"}


@dataclass(slots=True)
class Submission:
    """One message as a dialect understood it, before the core's rules."""

    number: str
    text: str
    kind: str = "long"
    type: int = 0
    schedule_at: float | None = None
    external_id: str | None = None
    cost_centre: int | None = None
    campaign_id: str | None = None
    campaign: int | None = None
    file: str | None = None
    priority: bool = False
    cleanup: bool = False
    allow_landline: bool = False
    block_as_status: bool = False   # speedmarket: blocked numbers are accepted, then get a blocked status
    block: str | None = None        # a block the dialect found itself (speedmarket -7: no WhatsApp); with block_as_status
    # Whether anyone watches its status changes: None lets the core decide (LAZY_DIALECTS and the client's
    # callback URLs); False settles it lazily in bulk (SMPP: a message no part of which asked for a receipt).
    observed: bool | None = None


@dataclass(slots=True)
class Accepted:
    id: int
    number: str
    parts: int
    cost: int
    state: str
    scheduled: bool
    block: str | None
    protocols: "Protocols" = field(repr=False, compare=False)

    @property
    def hash(self) -> str:
        """The protocol a send answers with, computed only for the dialects that answer one (not speedmarket)."""
        return self.protocols.encode(self.id)


@dataclass
class Message:
    id: int
    client_id: int
    user_id: int
    dialect: str
    hash: str
    number: str
    text: str
    kind: str
    type: int
    created_at: float
    schedule_at: float | None
    state: str
    next_at: float | None
    outcome: str
    operator: str | None
    external_id: str | None
    cost_centre: int | None
    campaign_id: str | None
    campaign: int | None
    parts: int
    cost: int
    scope: str
    file: str | None
    priority: int
    history: str
    lazy: int = 0   # 1: nobody listens to it, so its lifecycle is settled when read (Core.settle)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> "Message":
        return cls(**{k: row[k] for k in row.keys()})

    def states(self) -> list[tuple[str, float]]:
        """The status history: every state the message went through, with the time it entered it."""
        out = []
        for item in self.history.split(";"):
            if item:
                state, _, at = item.partition("@")
                out.append((state, float(at)))
        return out

    def entered(self, state: str) -> float | None:
        for name, at in self.states():
            if name == state:
                return at
        return None


# Failures an operator reports after it took the message (outcomes operator_rejected, network_error).
LATE_FAILURES = frozenset({ERROR, REJECTED})


def message_level(msg: "Message", state: str | None = None) -> str:
    """The state a message-level status shows (mensagem stat/cacl, wbsapi status, painel getstatus): a
    message the operator failed after it was sent stays sent there, because their "sent" status is final
    and what happened next is the delivery report's to tell (mensagem.delivery, SMPP DLR, speedmarket's
    handset level)."""
    state = state or msg.state
    if state in LATE_FAILURES and msg.entered(SENT) is not None:
        return SENT
    return state


class Protocols:
    """The MD5-format protocol a send answers with (32 lowercase hex digits, 128 bits).

    It is a keyed bijection of the message id (multiply by odd secret constants modulo 2**128, xor-shift,
    multiply again, xor-shift): opaque to a client and as varied as an MD5 digest, yet the emulator
    recovers the id from it, so finding a message by its protocol needs no index on a random key (which
    cost more than half the insert time of a large mult). It is not a cryptographic secret, and an
    emulator needs none.
    """

    BITS = 128
    MASK = (1 << 128) - 1

    def __init__(self, secret: str) -> None:
        seed = hashlib.blake2b(secret.encode(), digest_size=48).digest()
        self._k1 = int.from_bytes(seed[:16], "big") | 1
        self._k2 = int.from_bytes(seed[16:32], "big") | 1
        self._add = int.from_bytes(seed[32:], "big")
        self._k1_inverse = pow(self._k1, -1, 1 << 128)
        self._k2_inverse = pow(self._k2, -1, 1 << 128)

    def encode(self, message_id: int) -> str:
        x = (message_id * self._k1 + self._add) & self.MASK
        x ^= x >> 67
        x = (x * self._k2) & self.MASK
        x ^= x >> 71
        return f"{x:032x}"

    def decode(self, protocol: str) -> int | None:
        """The message id a protocol names, or None for a string no send of ours could have answered."""
        text = protocol.strip().lower()
        if len(text) != 32:
            return None
        try:
            x = int(text, 16)
        except ValueError:
            return None
        x ^= x >> 71          # a shift of half the width or more undoes itself
        x = (x * self._k2_inverse) & self.MASK
        x ^= x >> 67
        message_id = ((x - self._add) * self._k1_inverse) & self.MASK
        return message_id if 0 < message_id < (1 << 63) else None
