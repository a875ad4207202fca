"""Campaigns: one send request to many numbers, held and released as a whole (painel, seed 002).

painel's sendsms answers a campaign id ("o sistema irá retornar o ID da campanha gerado. Com esse ID você
consegue saber o status da campanha em um todo"), and holdsms/releasesms ("Prender/Liberar a campanha")
act on every message of it. The core stores messages with their campaign id; this module keeps the
campaign row (owner, state, call-back URL, the client's reference) and the destinations the numbering plan
refused, because the real service lists those too in getstatus ("Numero invalido", field-notes.md) while
the core never stores a refused message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Union

from . import messages as m
from .messages import Message
from .refusal import Refused

if TYPE_CHECKING:
    from .service import Core

# Campaign states, in the core's vocabulary (machines.yaml painel.campaign renders them): waiting from its
# creation, held between holdsms and releasesms. Its messages meanwhile are paused, one by one.
WAITING, HELD = m.WAITING, m.HELD

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaign_refusals (
    campaign INTEGER NOT NULL, position INTEGER NOT NULL, number TEXT NOT NULL, reason TEXT NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (campaign, position));
"""


@dataclass(frozen=True)
class Campaign:
    id: int
    client_id: int
    dialect: str
    state: str
    created_at: float
    callback_url: str | None
    reference: str | None


@dataclass(frozen=True)
class Refusal:
    """A destination of the request that the rules refused: listed, never sent, never billed."""

    position: int
    number: str
    reason: str
    created_at: float


Destination = Union[Message, Refusal]


class Campaigns:
    def __init__(self, core: "Core") -> None:
        self.core = core
        core.store.db.executescript(_SCHEMA)

    def create(self, client_id: int, dialect: str, *, callback_url: str | None = None,
               reference: str | None = None) -> int:
        """A new campaign row; call inside the transaction that submits its messages."""
        cur = self.core.store.db.execute(
            "INSERT INTO campaigns (client_id, dialect, state, created_at, callback_url, reference)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (client_id, dialect, WAITING, self.core.now(), callback_url or None, reference or None),
        )
        return int(cur.lastrowid)

    def discard(self, campaign_id: int) -> None:
        """Forget a campaign whose messages were all refused (nothing was created for the client)."""
        db = self.core.store.db
        db.execute("DELETE FROM campaign_refusals WHERE campaign = ?", (campaign_id,))
        db.execute("DELETE FROM campaigns WHERE id = ?", (campaign_id,))

    def record_refusals(self, campaign_id: int, refusals: Iterable[tuple[int, str, str]]) -> None:
        """Keep the refused destinations, as (position in the request, number as sent, reason)."""
        now = self.core.now()
        self.core.store.db.executemany(
            "INSERT OR REPLACE INTO campaign_refusals VALUES (?, ?, ?, ?, ?)",
            [(campaign_id, pos, number, reason, now) for pos, number, reason in refusals],
        )

    def get(self, client_id: int, campaign_id: int) -> Campaign | None:
        row = self.core.store.db.execute(
            "SELECT * FROM campaigns WHERE id = ? AND client_id = ?", (campaign_id, client_id)).fetchone()
        if row is None:
            return None
        return Campaign(row["id"], row["client_id"], row["dialect"], row["state"], row["created_at"],
                        row["callback_url"], row["reference"])

    def by_id(self, campaign_id: int) -> Campaign | None:
        row = self.core.store.db.execute("SELECT client_id FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
        return self.get(row[0], campaign_id) if row else None

    def messages(self, campaign_id: int) -> list[Message]:
        """The campaign's messages in request order, after moving the clock's due steps."""
        self.core.tick()
        return self._stored(campaign_id)

    def _stored(self, campaign_id: int) -> list[Message]:
        """Without a tick: safe inside a transaction (a tick opens its own)."""
        rows = self.core.store.db.execute("SELECT * FROM messages WHERE campaign = ? ORDER BY id", (campaign_id,))
        return [Message.from_row(r) for r in rows]

    def destinations(self, campaign_id: int) -> list[Destination]:
        """Every destination in request order: the stored messages and the refused numbers between them."""
        refused = {r.position: r for r in (
            Refusal(row[0], row[1], row[2], row[3]) for row in self.core.store.db.execute(
                "SELECT position, number, reason, created_at FROM campaign_refusals WHERE campaign = ?"
                " ORDER BY position", (campaign_id,)))}
        sent = iter(self.messages(campaign_id))
        out: list[Destination] = []
        total = len(refused) + self.core.store.db.execute(
            "SELECT COUNT(*) FROM messages WHERE campaign = ?", (campaign_id,)).fetchone()[0]
        for position in range(total):
            item = refused.get(position) or next(sent, None)
            if item is not None:
                out.append(item)
        return out

    def _set_state(self, campaign_id: int, state: str) -> None:
        self.core.store.db.execute("UPDATE campaigns SET state = ? WHERE id = ?", (state, campaign_id))

    def hold(self, campaign: Campaign) -> int:
        """Pause the campaign's waiting messages; returns how many moved.

        Only a campaign with something still to send can be held, and only once (machines.yaml
        painel.campaign: waiting -> held); otherwise ``Refused("wrong_state")``.
        """
        self.core.tick()
        with self.core.store.transaction():
            waiting = [msg for msg in self._stored(campaign.id) if msg.state == m.WAITING]
            if campaign.state == HELD or not waiting:
                raise Refused("wrong_state", campaign.state)
            for msg in waiting:
                self.core.pause(msg)
            self._set_state(campaign.id, HELD)
        return len(waiting)

    def release(self, campaign: Campaign) -> int:
        """Send a held campaign on: a message whose schedule is still ahead waits for it again (machines.yaml
        painel.campaign held -> waiting); one whose schedule is reached, or that has none, goes to the send
        queue at once (held -> sending), since nothing is left to wait for."""
        self.core.tick()
        with self.core.store.transaction():
            if campaign.state != HELD:
                raise Refused("wrong_state", campaign.state)
            paused = [msg for msg in self._stored(campaign.id) if msg.state == m.PAUSED]
            now = self.core.now()
            for msg in paused:
                if msg.schedule_at is not None and msg.schedule_at > now:
                    self.core.resume(msg)
                else:
                    self.core._move(msg, m.QUEUED, now, next_at=now + self.core.timing["seconds"]["send"])
            self._set_state(campaign.id, WAITING)
        return len(paused)
