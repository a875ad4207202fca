"""The MO inbox as the query APIs see it: replies in a time window, and "new" replies handed out once.

speedmarket's mo_new returns each received message once ("Uma vez cosultada, a mensagem não irá mais ser
retornada", 001 § Consulta por Novas Mensagens Recebidas) and every MO query is limited to a window after
reception ("a consulta fica disponível por até 32 dias após o recebimento"). This module owns the reads,
joined with the MT message each reply answers, so a dialect can filter by that message's `type` or
`campaign_id` without knowing SQL.

Why it is built this way:

- One inbox per provider. speedmarket (001) and the mensagem provider (003: the HTTP API, wbsapi and
  SMPP) are different companies that happen to share the emulator's core: what one hands out as read
  stays new for the other (``mo_reads`` keeps a read mark per provider, not one flag per reply), and a
  reply to a message sent through one provider is that provider's alone. A reply to no message (sent
  to the number unprompted) belongs to no provider's message, so each inbox shows it.
- A filter on the original message (``type``) cannot hide a reply that has none: an unprompted reply
  answers no message of any type, and mo_new with ``type`` still hands it out (dropping it would make it
  unreachable by that query for good).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .service import Core

PROVIDERS: dict[str, tuple[str, ...]] = {
    "speedmarket": ("speedmarket",),
    "mensagem": ("mensagem", "wbsapi", "smpp"),
}
"""Each provider's inbox and the dialects whose messages it answers for (the seeds' README: 001 is
SpeedMarket; 003 documents mensagem, wbsapi and SMPP of one provider)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mo_reads (
    mo_id INTEGER NOT NULL, provider TEXT NOT NULL, PRIMARY KEY (mo_id, provider)) WITHOUT ROWID;
"""

_SELECT = """
SELECT mo.id, mo.client_id, mo.number, mo.text, mo.received_at, mo.message_id,
       EXISTS (SELECT 1 FROM mo_reads r WHERE r.mo_id = mo.id AND r.provider = ?) AS fetched,
       m.campaign_id, m.type, m.operator, m.hash, m.external_id, m.dialect, m.campaign
FROM mo LEFT JOIN messages m ON m.id = mo.message_id
WHERE {where}
ORDER BY mo.id
LIMIT ?
"""


@dataclass(frozen=True)
class Inbound:
    """One received reply, with what is known of the message it answers (None when unsolicited)."""

    id: int
    client_id: int
    number: str
    text: str
    received_at: float
    message_id: int | None
    fetched: bool
    campaign_id: str | None
    type: int | None
    operator: str | None
    hash: str | None
    external_id: str | None
    dialect: str | None
    campaign: int | None

    @classmethod
    def from_row(cls, row: Any) -> "Inbound":
        return cls(
            id=row["id"], client_id=row["client_id"], number=row["number"], text=row["text"],
            received_at=row["received_at"], message_id=row["message_id"], fetched=bool(row["fetched"]),
            campaign_id=row["campaign_id"], type=row["type"], operator=row["operator"], hash=row["hash"],
            external_id=row["external_id"], dialect=row["dialect"], campaign=row["campaign"],
        )


class Inbox:
    """One provider's reads of the MO table; replies arrive only through ``Core.inject_mo``."""

    def __init__(self, core: "Core", provider: str) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"no MO inbox for provider {provider!r}: {', '.join(PROVIDERS)}")
        self.core = core
        self.provider = provider
        if not getattr(core.store, "mo_reads_ready", False):  # once per store: dialects make an Inbox per call
            core.store.db.executescript(_SCHEMA)
            core.store.mo_reads_ready = True  # type: ignore[attr-defined]

    def _query(self, where: list[str], params: list[Any], limit: int) -> list[Inbound]:
        dialects = PROVIDERS[self.provider]
        where = [*where, f"(mo.message_id IS NULL OR m.dialect IN ({','.join('?' * len(dialects))}))"]
        sql = _SELECT.format(where=" AND ".join(where))
        rows = self.core.store.db.execute(sql, (self.provider, *params, *dialects, limit))
        return [Inbound.from_row(r) for r in rows]

    def mark_read(self, found: list[Inbound]) -> None:
        """Hand the replies out: read for this provider, still new for the other."""
        if found:
            with self.core.store.transaction() as db:
                db.executemany("INSERT OR IGNORE INTO mo_reads (mo_id, provider) VALUES (?, ?)",
                               [(i.id, self.provider) for i in found])

    def unread(self, client_id: int, *, since: float, type: int | None = None, limit: int = 10000) -> list[Inbound]:
        """Replies not handed out yet (received at or after ``since``), marked as read in the same step.

        A reply filtered out by ``type`` stays unread: a later call without the filter still gets it. The
        filter is on the message replied to: a reply to no message passes it.
        """
        where = ["mo.client_id = ?", "mo.received_at >= ?",
                 "NOT EXISTS (SELECT 1 FROM mo_reads r WHERE r.mo_id = mo.id AND r.provider = ?)"]
        params: list[Any] = [client_id, since, self.provider]
        if type is not None:
            where.append("(mo.message_id IS NULL OR m.type = ?)")
            params.append(type)
        with self.core.store.transaction():
            found = self._query(where, params, limit)
            self.mark_read(found)
        return found

    def between(self, client_id: int, start: float, end: float, *, type: int | None = None,
                campaign_ids: list[str] | None = None, limit: int = 10000) -> list[Inbound]:
        """Replies received in ``[start, end]``, read or not (a period query never marks anything)."""
        where = ["mo.client_id = ?", "mo.received_at >= ?", "mo.received_at <= ?"]
        params: list[Any] = [client_id, start, end]
        if type is not None:
            where.append("(mo.message_id IS NULL OR m.type = ?)")
            params.append(type)
        if campaign_ids:
            where.append(f"m.campaign_id IN ({','.join('?' * len(campaign_ids))})")
            params.extend(campaign_ids)
        return self._query(where, params, limit)
