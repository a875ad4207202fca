"""What the control API shows of the emulator's state for people: pages of messages, one message in full, a
number's conversation, and a version that changes whenever anything a person could see changes.

The web console (emulator/console/) reads only these routes; so can curl. Pages are cut on the server,
newest first, by an id cursor (``before``), so a page costs the same with a million messages stored; the
messages of a page are settled (Core.settle) before they are shown, as every reader's are.
"""
from __future__ import annotations

from typing import Any

from ..core.clock import local
from ..core.messages import Message
from ..core.segments import is_gsm
from ..http import Request

PAGE = 50
MAX_PAGE = 500
_FILTERS = {"number": "number = ?", "dialect": "dialect = ?", "state": "state = ?",
            "campaign_id": "campaign_id = ?"}


class BadQuery(ValueError):
    """A query parameter the control API cannot use; answered 400 with this message."""


class NoSuchMessage(LookupError):
    """A well-formed request for a message the emulator does not have: 409, as the control API answers
    every request its state refuses (emulator-control.yaml, Conflict)."""


def iso(moment: float | None) -> str | None:
    return None if moment is None else local(moment).isoformat(timespec="milliseconds")


def _moment(name: str, value: str) -> float:
    try:
        moment = float(value)
    except ValueError:
        raise BadQuery(f"{name} must be a time in epoch seconds, not {value!r}") from None
    if moment != moment:
        raise BadQuery(f"{name} must be a number")
    return moment


def _int(name: str, value: str, low: int, high: int) -> int:
    if not value.isascii() or not value.isdigit():
        raise BadQuery(f"{name} must be a whole number")
    number = int(value)
    if not low <= number <= high:
        raise BadQuery(f"{name} must be between {low} and {high}")
    return number


def encoding(text: str) -> str:
    """How a carrier would encode the text: GSM-7 when every character is in GSM 03.38, else UCS-2."""
    return "GSM-7" if is_gsm(text) else "UCS-2"


class Inspector:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.core = app.core

    def journal(self) -> list[dict[str, Any]]:
        return self.app.journal_entries()   # credentials redacted there

    def _logins(self) -> dict[int, str]:
        return {r[0]: r[1] for r in self.core.store.db.execute("SELECT id, login FROM users")}

    def summary(self, msg: Message, logins: dict[int, str]) -> dict[str, Any]:
        return {"id": msg.id, "hash": msg.hash, "dialect": msg.dialect, "account": logins.get(msg.user_id),
                "number": msg.number, "text": msg.text, "parts": msg.parts, "encoding": encoding(msg.text),
                "kind": msg.kind, "state": msg.state, "created_at": iso(msg.created_at),
                "schedule_at": iso(msg.schedule_at), "campaign": msg.campaign, "external_id": msg.external_id,
                "cost": msg.cost}

    # -- GET /_emulator/messages/page ----------------------------------------------------------------
    def page(self, request: Request) -> dict[str, Any]:
        q = dict(request.query)
        where, params = ["1=1"], []
        for key, clause in _FILTERS.items():
            if q.get(key):
                where.append(clause)
                params.append(q[key])
        if q.get("account"):
            where.append("user_id IN (SELECT id FROM users WHERE login = ?)")
            params.append(q["account"])
        if q.get("text"):
            where.append("instr(lower(text), lower(?)) > 0")
            params.append(q["text"])
        if q.get("since"):
            where.append("created_at >= ?")
            params.append(_moment("since", q["since"]))
        if q.get("until"):
            where.append("created_at <= ?")
            params.append(_moment("until", q["until"]))
        if q.get("before"):
            where.append("id < ?")
            params.append(_int("before", q["before"], 1, 2**63 - 1))
        size = _int("limit", q["limit"], 1, MAX_PAGE) if q.get("limit") else PAGE
        found = self.core.messages(" AND ".join(where), params, size + 1, newest_first=True)
        logins = self._logins()
        items = [self.summary(m, logins) for m in found[:size]]
        return {"items": items, "next_before": items[-1]["id"] if len(found) > size else None}

    # -- GET /_emulator/message?id=N | hash=H ---------------------------------------------------------
    def message(self, request: Request) -> dict[str, Any]:
        q = dict(request.query)
        if not q.get("id"):
            raise BadQuery("give id")
        msg = self.core.message(id=_int("id", q["id"], 1, 2**63 - 1))
        if msg is None:
            raise NoSuchMessage(f"no message {q['id']}")
        out = self.summary(msg, self._logins())
        out["timeline"] = [{"state": state, "at": iso(at)} for state, at in msg.states()]
        out["outcome"] = msg.outcome
        out["callbacks"] = self._callbacks(msg.id)
        out["retry_policy"] = self._policy()
        out["exchanges"] = self._exchanges(msg)
        return out

    def _policy(self) -> dict[str, Any]:
        """The outbox's back-off (contracts/emulator/lifecycle.yaml callbacks, what Core.callback_done uses)."""
        plan = self.core.timing["callbacks"]
        return {"retry_seconds": list(plan["retry_seconds"]), "give_up_after": plan["give_up_after"]}

    def _schedule(self, attempts: int, retry_at: float | None, pending: bool) -> list[dict[str, Any]]:
        """The wall times the next attempts are planned at, should each one fail as the last did: attempt n
        failed waits retry_seconds[n-1] (the last delay repeating), and attempt give_up_after is the last."""
        if not pending or retry_at is None or attempts == 0:
            return []
        policy = self._policy()
        plan, last = policy["retry_seconds"], policy["give_up_after"]
        out, wall = [], retry_at
        for attempt in range(attempts + 1, last + 1):
            out.append({"attempt": attempt, "wall": wall})
            wall += plan[min(attempt - 1, len(plan) - 1)]
        return out

    def _callbacks(self, message_id: int) -> list[dict[str, Any]]:
        db = self.core.store.db
        rows = db.execute("SELECT * FROM outbox WHERE message_id = ? ORDER BY id", (message_id,)).fetchall()
        out = []
        for row in rows:
            attempts = db.execute("SELECT at, wall, answer, error FROM callback_attempts WHERE callback_id = ?"
                                  " ORDER BY rowid", (row["id"],)).fetchall()
            out.append({
                "id": row["id"], "kind": row["kind"], "dialect": row["dialect"], "method": row["method"],
                "url": row["url"], "body": row["body"], "created_at": iso(row["created_at"]),
                "delivered_at": iso(row["delivered_at"]), "pending": row["next_at"] is not None,
                "next_retry_wall": row["retry_at"], "last_error": row["last_error"],
                "attempts": [{"at": iso(a["at"]), "wall": a["wall"], "answer": a["answer"], "error": a["error"]}
                             for a in attempts],
                "retry_schedule": self._schedule(row["attempts"], row["retry_at"], row["next_at"] is not None),
            })
        return out

    def _exchanges(self, msg: Message) -> list[dict[str, Any]]:
        """The journal's requests and answers that name this message (its protocol, or its id where the
        dialect answers ids), credentials already redacted by the journal."""
        needles = [msg.hash, f'"id":"{msg.id}"', f'"messageId":"{msg.id}"']
        return [e for e in self.journal() if any(n in e["response"] or n in e["path"] or
                                                 any(n in v for _, v in e["query"]) for n in needles)][-20:]

    # -- GET /_emulator/conversation?number=N ---------------------------------------------------------
    def conversation(self, request: Request) -> dict[str, Any]:
        number = dict(request.query).get("number", "")
        if not number:
            raise BadQuery("give number")
        logins = self._logins()
        mt = [{"direction": "mt", **self.summary(m, logins)}
              for m in self.core.messages("number = ?", [number], MAX_PAGE, newest_first=True)]
        rows = self.core.store.db.execute(
            "SELECT mo.id, mo.text, mo.received_at, mo.message_id, u.login FROM mo"
            " LEFT JOIN users u ON u.client_id = mo.client_id AND u.id = (SELECT min(id) FROM users"
            " WHERE client_id = mo.client_id) WHERE mo.number = ? ORDER BY mo.id DESC LIMIT ?",
            (number, MAX_PAGE)).fetchall()
        mo = [{"direction": "mo", "id": r["id"], "text": r["text"], "created_at": iso(r["received_at"]),
               "reply_to": self.core.protocols.encode(r["message_id"]) if r["message_id"] else None,
               "account": r["login"]} for r in rows]
        items = sorted(mt + mo, key=lambda i: i["created_at"] or "")
        return {"number": number, "items": items[-MAX_PAGE:]}

    # -- GET /_emulator/version -------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        """Changes whenever a row is written or a request is journaled: what the console's live view
        listens for (the server-sent events of /_emulator/events carry it)."""
        frozen = self.core.clock.frozen
        return {"version": f"{self.core.store.db.total_changes}.{self.app.journal_seq}.{int(frozen)}",
                "now": iso(self.core.now()), "epoch": self.core.now(), "frozen": frozen}
