"""The MO inbox as the query APIs see it: replies in a time window, and "new" replies handed out once.

speedmarket's mo_new returns each received message once ("Uma vez cosultada, a mensagem não irá mais ser
retornada", 001 § Consulta por Novas Mensagens Recebidas) and every MO query is limited to a window after
reception ("a consulta fica disponível por até 32 dias após o recebimento"). The `mo` table of the store
already has a `fetched` flag; this module owns the reads, joined with the MT message each reply answers,
so a dialect can filter by that message's `type` or `campaign_id` without knowing SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .service import Core

_SELECT = """
SELECT mo.id, mo.client_id, mo.number, mo.text, mo.received_at, mo.message_id, mo.fetched,
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
    """Reads of the MO table for one core; writes happen only through ``Core.inject_mo``."""

    def __init__(self, core: "Core") -> None:
        self.core = core

    def _query(self, where: list[str], params: list[Any], limit: int) -> list[Inbound]:
        sql = _SELECT.format(where=" AND ".join(where))
        return [Inbound.from_row(r) for r in self.core.store.db.execute(sql, (*params, limit))]

    def unread(self, client_id: int, *, since: float, type: int | None = None, limit: int = 10000) -> list[Inbound]:
        """Replies not handed out yet (received at or after ``since``), marked as read in the same step.

        A reply filtered out by ``type`` stays unread: a later call without the filter still gets it.
        """
        where = ["mo.client_id = ?", "mo.fetched = 0", "mo.received_at >= ?"]
        params: list[Any] = [client_id, since]
        if type is not None:
            where.append("m.type = ?")
            params.append(type)
        with self.core.store.transaction() as db:
            found = self._query(where, params, limit)
            if found:
                db.executemany("UPDATE mo SET fetched = 1 WHERE id = ?", [(i.id,) for i in found])
        return found

    def between(self, client_id: int, start: float, end: float, *, type: int | None = None,
                campaign_ids: list[str] | None = None, limit: int = 10000) -> list[Inbound]:
        """Replies received in ``[start, end]``, read or not (a period query never marks anything)."""
        where = ["mo.client_id = ?", "mo.received_at >= ?", "mo.received_at <= ?"]
        params: list[Any] = [client_id, start, end]
        if type is not None:
            where.append("m.type = ?")
            params.append(type)
        if campaign_ids:
            where.append(f"m.campaign_id IN ({','.join('?' * len(campaign_ids))})")
            params.extend(campaign_ids)
        return self._query(where, params, limit)
