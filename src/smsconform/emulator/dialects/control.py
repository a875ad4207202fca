"""The control API under /_emulator/: what a test or a developer uses to steer the emulator.

Reset, seed accounts and credits, move the clock, inject MO replies, choose delivery outcomes, register
callback URLs, read the journal and the outbox, and inject faults (contracts/openapi/emulator-control.yaml).
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any, Callable

from ...contracts import DIALECTS
from .. import callback_targets
from ..app import Fault
from ..core import Refused
from ..core.clock import BRT, ClockError, checked, local
from ..http import Request, Response, is_text, json_text
from .control_schema import ControlSchema
from .inspect import Inspector, NoSuchMessage

PREFIX = "/_emulator"
FAULT_KINDS = ("latency", "http500", "drop", "refuse")


def _iso(moment: float) -> str:
    return local(moment).isoformat(timespec="milliseconds")


def _moment(value: Any) -> float:
    """A `set` value (epoch seconds or ISO-8601, Brasília time when it names no zone), checked."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return checked(value)
    if not isinstance(value, str):
        raise BadRequest("set is an ISO-8601 time or epoch seconds")
    try:
        dt = datetime.fromisoformat(value)
        moment = (dt if dt.tzinfo else dt.replace(tzinfo=BRT)).timestamp()
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"set: {exc}") from None
    return checked(moment)


class BadRequest(Exception):
    """400: the request itself is wrong, whatever the emulator's state."""


class Conflict(Exception):
    """409: a well-formed request the state refuses (an account it does not have, a clock move past its
    last date or backwards): the schema cannot tell, so it is not a 400."""


class Control:
    name = "control"

    def __init__(self, app: Any) -> None:
        self.app = app
        self.core = app.core
        self.inspector = Inspector(app)
        self.schema = ControlSchema(self.core.contracts.openapi("emulator-control"), PREFIX)
        self.routes: dict[tuple[str, str], Callable[[Request, dict[str, Any]], Any]] = {
            ("POST", "/reset"): self.reset,
            ("GET", "/health"): lambda r, b: {"ok": True},
            ("GET", "/clock"): self.clock,
            ("POST", "/clock"): self.move_clock,
            ("GET", "/accounts"): self.accounts,
            ("POST", "/accounts"): self.add_account,
            ("POST", "/credits"): self.credits,
            ("POST", "/outcomes"): self.outcome,
            ("POST", "/message/action"): self.message_action,
            ("POST", "/mo"): self.mo,
            ("POST", "/callbacks"): self.register_callback,
            ("POST", "/antifraud"): self.antifraud,
            ("GET", "/outbox"): self.outbox,
            ("GET", "/journal"): self.journal,
            ("DELETE", "/journal"): self.clear_journal,
            ("GET", "/messages"): self.messages,
            ("GET", "/messages/page"): lambda r, b: self.inspector.page(r),
            ("GET", "/message"): lambda r, b: self.inspector.message(r),
            ("GET", "/conversation"): lambda r, b: self.inspector.conversation(r),
            ("GET", "/version"): lambda r, b: self.inspector.version(),
            ("GET", "/outcomes/list"): self.outcomes,
            ("GET", "/vocabulary"): self.vocabulary,
            ("GET", "/faults"): lambda r, b: [vars(f) for f in self.app.faults],
            ("POST", "/faults"): self.add_fault,
            ("DELETE", "/faults"): self.clear_faults,
            ("GET", "/profile"): lambda r, b: self.core.profile,
            ("GET", "/maintenance"): self.maintenance,
            ("POST", "/maintenance"): self.set_maintenance,
        }

    def matches(self, request: Request) -> bool:
        return request.path == PREFIX or request.path.startswith(PREFIX + "/")

    def failure(self, request: Request) -> Response:
        return Response.json({"error": "internal error; see the emulator's log"}, 500)

    def handle(self, request: Request) -> Response:
        refusal = self.app.control_guard.refusal(request)
        if refusal is not None:
            return refusal
        path = request.path[len(PREFIX):].rstrip("/") or "/"
        route = self.routes.get((request.method, path))
        if route is None:
            allowed = self.schema.methods(path)
            if allowed:
                response = Response.json({"error": f"{request.method} is not a method of {request.path}"}, 405)
                response.headers.append(("allow", ", ".join(allowed)))
                return response
            return Response.json({"error": f"no control route {request.method} {request.path}"}, 404)
        try:
            body = request.json() if request.method == "POST" and request.body.strip() else {}
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            if not is_text(json_text(body)):
                raise BadRequest("the body holds a lone surrogate (\\ud800-\\udfff alone is no character)")
            problem = self.schema.problem(request.method, path, request.query, body)
            if problem is not None:
                raise BadRequest(problem)
            result = route(request, body)
        except json.JSONDecodeError as exc:
            return Response.json({"error": f"malformed JSON: {exc}"}, 400)
        except (Conflict, ClockError, NoSuchMessage) as exc:
            return Response.json({"error": str(exc)}, 409)
        except (BadRequest, ValueError, KeyError, TypeError) as exc:
            return Response.json({"error": str(exc)}, 400)
        except sqlite3.IntegrityError as exc:  # a login, token or integration user already taken
            return Response.json({"error": "duplicate", "detail": str(exc)}, 409)
        except Refused as refusal:
            return Response.json({"error": refusal.reason, "detail": refusal.detail}, 409)

        return Response.json(result)

    # -- handlers -------------------------------------------------------------------------------------
    def reset(self, request: Request, body: dict[str, Any]) -> Any:
        self.core.reset()
        self.app.journal.clear()
        self.app.faults.clear()
        return {"reset": True, "clock": _iso(self.core.now())}

    def clock(self, request: Request, body: dict[str, Any]) -> Any:
        return {"now": _iso(self.core.now()), "epoch": self.core.now(), "frozen": self.core.clock.frozen}

    def move_clock(self, request: Request, body: dict[str, Any]) -> Any:
        """Every part of the move is checked before any is made: a refused move changes nothing."""
        if not {"frozen", "advance", "set"} & body.keys():
            raise BadRequest("give one of advance (seconds), set (ISO-8601 time) or frozen (boolean)")
        if "frozen" in body and not isinstance(body["frozen"], bool):
            raise BadRequest("frozen is a boolean")
        reading = self.core.clock.after(body["advance"]) if "advance" in body else self.core.now()
        if "set" in body and _moment(body["set"]) < reading:
            raise Conflict("the clock only moves forward")
        if "frozen" in body:
            self.core.freeze(body["frozen"])
        if "advance" in body:
            self.core.advance(body["advance"])
        if "set" in body:
            self.core.set_time(_moment(body["set"]))
        return self.clock(request, body)

    def _fixture_or_login(self, body: dict[str, Any]) -> Any:
        name = body.get("account", "main")
        try:
            return self.core.fixture_principal(name)
        except KeyError:
            row = self.core.store.db.execute("SELECT integration_user FROM users WHERE login = ?", (name,)).fetchone()
            if row is None:
                raise Conflict(f"no account {name!r} (a fixture name or a login)") from None
            return self.core.accounts._principal("u.integration_user = ?", row[0])

    def accounts(self, request: Request, body: dict[str, Any]) -> Any:
        rows = self.core.store.db.execute(
            "SELECT u.id, u.login, u.integration_user, u.fixture, u.active, c.active AS client_active, c.id AS client"
            " FROM users u JOIN clients c ON c.id = u.client_id ORDER BY u.id").fetchall()
        out = []
        for r in rows:
            item = dict(r)
            item["credits"] = self.core.accounts.balance(r["client"])
            out.append(item)
        return out

    def add_account(self, request: Request, body: dict[str, Any]) -> Any:
        for key in ("login", "password"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise BadRequest(f"{key} is required (a non-empty string)")
        user_id = self.core.accounts.create(body, body.get("fixture"))
        row = self.core.store.db.execute("SELECT integration_user FROM users WHERE id = ?", (user_id,)).fetchone()
        return {"user_id": user_id, "integration_user": row[0]}

    def credits(self, request: Request, body: dict[str, Any]) -> Any:
        who = self._fixture_or_login(body)
        amount = int(body["amount"])
        with self.core.store.transaction():
            total = self.core.accounts.add_credits(who.client_id, body.get("kind", "long"), amount,
                                                   body.get("scope", "client"))
        return {"kind": body.get("kind", "long"), "balance": total}

    def outcome(self, request: Request, body: dict[str, Any]) -> Any:
        self.core.set_outcome(str(body["number"]), str(body["outcome"]))
        return {"number": body["number"], "outcome": body["outcome"]}

    def message_action(self, request: Request, body: dict[str, Any]) -> Any:
        """Pause, resume or cancel one message as the platform's operators would: the edges of
        speedmarket.message (-1 -> 6 -> -1, -> -6) and smpp.dlr (0 -> 4) no client method reaches."""
        from ..core import messages as m

        if ("hash" in body) == ("id" in body):
            raise BadRequest("name the message by exactly one of hash and id")
        msg = self.core.message(hash=body["hash"]) if "hash" in body else self.core.message(id=int(body["id"]))
        if msg is None:
            raise Conflict(f"no message {body.get('hash') or body.get('id')}")
        action, allowed = body["action"], {"pause": (m.WAITING,), "resume": (m.PAUSED,),
                                           "cancel": (m.WAITING, m.PAUSED)}
        if msg.state not in allowed[action]:
            raise Conflict(f"message {msg.id} is {msg.state}: {action} needs {' or '.join(allowed[action])}")
        with self.core.store.transaction():
            if action == "pause":
                self.core.pause(msg)
            elif action == "resume":
                self.core.resume(msg)
            else:
                self.core.cancel_message(msg)
        after = self.core.message(id=msg.id)
        return {"id": msg.id, "state": after.state if after else None}

    def antifraud(self, request: Request, body: dict[str, Any]) -> Any:
        """The anti-fraud analysis decides a held message (core/antifraud.py): wbsapi.message 7 -> 3 or 7 -> 5,
        edges no client method reaches. 409 for a message not found or not held, or a release the client's
        credits cannot pay."""
        from ..core.antifraud import decide

        msg = self.core.message(hash=body["hash"])
        if msg is None:
            raise Conflict(f"no message {body['hash']}")
        try:
            with self.core.store.transaction():
                decide(self.core, msg, body["decision"])
        except ValueError as problem:
            raise Conflict(str(problem)) from None
        except Refused as refusal:
            raise Conflict(f"message {msg.id} cannot be released: {refusal.reason}") from None
        after = self.core.message(id=msg.id)
        return {"id": msg.id, "state": after.state if after else None}

    def vocabulary(self, request: Request, body: dict[str, Any]) -> Any:
        """The names the other routes take: message states, outcomes, dialects and fault kinds."""
        from ..core.service import OUTCOMES, STATES

        return {"states": list(STATES), "outcomes": list(OUTCOMES), "fault_kinds": list(FAULT_KINDS),
                "dialects": list(DIALECTS)}

    def outcomes(self, request: Request, body: dict[str, Any]) -> Any:
        rows = self.core.store.db.execute("SELECT number, outcome FROM outcomes ORDER BY number").fetchall()
        return [{"number": r[0], "outcome": r[1]} for r in rows]

    def mo(self, request: Request, body: dict[str, Any]) -> Any:
        who = self._fixture_or_login(body)
        mo_id = self.core.inject_mo(who.client_id, str(body["number"]), str(body["text"]),
                                    body.get("reply_to"), body.get("dialect"))
        return {"id": mo_id}

    def register_callback(self, request: Request, body: dict[str, Any]) -> Any:
        who = self._fixture_or_login(body)
        dialect, kind = str(body["dialect"]), str(body["kind"])
        why = None if body.get("url") is None else callback_targets.refusal(body["url"])
        if why is not None:
            raise Conflict(f"url: {why}")
        self.core.set_callback_url(who.client_id, dialect, kind, body.get("url"))
        return {"dialect": dialect, "kind": kind, "url": body.get("url")}

    def outbox(self, request: Request, body: dict[str, Any]) -> Any:
        rows = self.core.store.db.execute("SELECT * FROM outbox ORDER BY id DESC LIMIT 1000").fetchall()
        return [dict(r) for r in reversed(rows)]

    def journal(self, request: Request, body: dict[str, Any]) -> Any:
        q = dict(request.query)
        items = self.app.journal_entries()
        for key in ("dialect", "method", "status"):
            if key in q:
                items = [i for i in items if str(i[key]) == q[key]]
        if "path" in q:
            items = [i for i in items if i["path"].startswith(q["path"])]
        if "since" in q:
            items = [i for i in items if i["seq"] > int(q["since"])]
        return items[-int(q.get("limit", 1000)):]

    def clear_journal(self, request: Request, body: dict[str, Any]) -> Any:
        self.app.journal.clear()
        return {"cleared": True}

    def messages(self, request: Request, body: dict[str, Any]) -> Any:
        q = dict(request.query)
        where, params = ["1=1"], []
        if "hash" in q:  # protocols name their message id (core/messages.py Protocols): no index on hash
            where.append("id = ?")
            params.append(self.core.protocols.decode(q["hash"]) or 0)
        for key in ("hash", "number", "dialect", "state", "campaign_id"):
            if key in q:
                where.append(f"{key} = ?")
                params.append(q[key])
        msgs = self.core.messages(" AND ".join(where), params, int(q.get("limit", 1000)))
        return [{"id": m.id, "hash": m.hash, "dialect": m.dialect, "number": m.number, "state": m.state,
                 "history": [{"state": s, "at": _iso(t)} for s, t in m.states()], "parts": m.parts,
                 "cost": m.cost, "kind": m.kind, "outcome": m.outcome, "external_id": m.external_id,
                 "text": m.text}
                for m in msgs]

    def maintenance(self, request: Request, body: dict[str, Any]) -> Any:
        value = self.core.store.meta("maintenance") or ""
        return {"dialects": [d for d in value.split(",") if d]}

    def set_maintenance(self, request: Request, body: dict[str, Any]) -> Any:
        """Put dialects under maintenance (speedmarket answers 100): {"dialects": ["speedmarket"]}, [] ends it."""
        dialects = body.get("dialects", [])
        if not isinstance(dialects, list) or not all(isinstance(d, str) for d in dialects):
            raise BadRequest("dialects is a list of dialect names (or [\"all\"]); [] ends the maintenance")
        self.core.store.set_meta("maintenance", ",".join(dialects))
        return self.maintenance(request, body)

    def add_fault(self, request: Request, body: dict[str, Any]) -> Any:
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise BadRequest("kind must be latency, http500, drop or refuse")
        reason = body.get("reason")
        if kind == "refuse" and not (isinstance(reason, str) and reason):
            raise BadRequest("a refuse fault names the reason the operation answers (codes.yaml), e.g. retry")
        rate = float(body.get("rate", 1.0))
        if not 0 <= rate <= 1:
            raise BadRequest("rate is a share between 0 and 1")
        fault = Fault(kind, rate, str(body.get("path", "")), int(body.get("ms", 0)), body.get("count"),
                      reason if kind == "refuse" else None)
        self.app.faults.append(fault)
        return vars(fault)

    def clear_faults(self, request: Request, body: dict[str, Any]) -> Any:
        self.app.faults.clear()
        return {"cleared": True}


def build(app: Any) -> Control:
    return Control(app)
