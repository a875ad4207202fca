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


@dataclass
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


@dataclass
class Accepted:
    id: int
    hash: str
    number: str
    parts: int
    cost: int
    state: str
    scheduled: bool
    block: str | None = None


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


class Protocols:
    """The MD5-format protocol a send answers with (32 lowercase hex digits, 128 bits).

    It is a keyed permutation of the message id (a 4-round Feistel network over 128 bits, BLAKE2b as the
    round function): as opaque and unguessable as an MD5 digest to a client, yet the emulator recovers
    the id from it, so finding a message by its protocol needs no index on a random key, which would
    cost more than half the insert time of a large mult.
    """

    ROUNDS = 4
    MASK = (1 << 64) - 1

    def __init__(self, secret: str) -> None:
        self._keys = [hashlib.blake2b(f"{secret}:{r}".encode(), digest_size=16).digest() for r in range(self.ROUNDS)]

    def _f(self, half: int, key: bytes) -> int:
        digest = hashlib.blake2b(half.to_bytes(8, "big"), key=key, digest_size=8).digest()
        return int.from_bytes(digest, "big")

    def encode(self, message_id: int) -> str:
        left, right = 0, message_id & self.MASK
        for key in self._keys:
            left, right = right, left ^ self._f(right, key)
        return f"{left:016x}{right:016x}"

    def decode(self, protocol: str) -> int | None:
        """The message id a protocol names, or None for a string no send of ours could have answered."""
        text = protocol.strip().lower()
        if len(text) != 32:
            return None
        try:
            left, right = int(text[:16], 16), int(text[16:], 16)
        except ValueError:
            return None
        for key in reversed(self._keys):
            left, right = right ^ self._f(left, key), left
        return right if left == 0 else None
