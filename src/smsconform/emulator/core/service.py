"""The core facade: one object the dialects, the control API and the SMPP server all talk to."""
from __future__ import annotations

import json
import logging
import re
import secrets
import time
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ...contracts import Contracts, load_contracts
from ...contracts.yamlfile import load_yaml
from . import messages as m
from .accounts import Accounts, Principal
from .clock import VirtualClock
from .messages import Accepted, Message, Submission
from .numbers import Numbering
from .refusal import Refused
from .segments import count as count_parts
from .store import Store

log = logging.getLogger("smsconform.emulator")

# A dialect registers how its callbacks look: (message, new state, time) -> [(kind, url, method, body)].
CallbackRenderer = Callable[["Core", Message, str, float], list[tuple[str, str, str, str | None]]]

NUMBER_REFUSALS = {
    "blacklisted": "blacklisted",
    "procon": "procon",
    "invalidated_by_dlr": "number_invalidated_by_dlr",
    "rejected": "rejected",
}
NUMBER_BLOCKS = {"blacklisted": "blacklisted", "landline": "landline", "no_coverage": "no_coverage",
                 "content_blocked": "content_blocked"}
NUMBER_OUTCOMES = {
    "outcome_failed": m.UNDELIVERED,
    "outcome_no_dlr": "no_dlr",
    "outcome_delayed": "delayed",
    "outcome_expired": m.EXPIRED,
    "outcome_error": m.ERROR,
    "outcome_invalid": m.INVALID,
    "outcome_rejected": m.REJECTED,
    "outcome_operator_rejected": "operator_rejected",
    "outcome_network_error": "network_error",
}
# What the control API lets a number's messages end in (POST /_emulator/outcomes).
OUTCOMES = tuple(sorted({m.DELIVERED, m.UNDELIVERED, "no_dlr", "delayed", m.EXPIRED, m.ERROR, m.INVALID,
                         m.REJECTED, "operator_rejected", "network_error"}))
# Outcomes that end a message before it is sent (queued -> the outcome; `blocked` is a block rule's, speedmarket's
# negative statuses, which its machine puts after preparation: 3 -> -9, -8, -7, -5, -4), and those that end a sent message
# in another state than their name once its DLR is due: the operator rejects it, or its network fails.
UNSENT_OUTCOMES = (m.ERROR, m.INVALID, m.REJECTED, m.BLOCKED)
SENT_FINALS = {"operator_rejected": m.REJECTED, "network_error": m.ERROR}
# Every core state, in lifecycle order (DEVELOPERS.md): what a message can be in.
STATES = (m.WAITING, m.QUEUED, m.HELD, m.PAUSED, m.SENT, m.DELIVERED, m.UNDELIVERED, m.EXPIRED, m.ERROR,
          m.INVALID, m.REJECTED, m.BLOCKED, m.CANCELLED)
FALLBACK_OPERATORS = ("55320", "55321", "55323", "55331")
# How many unobserved messages one settling transaction brings up to the clock (Core.settle): about 20 ms.
SETTLE_CHUNK = 5000
# A read whose condition names what settling changes must see every unobserved message settled first.
_READS_LIFECYCLE = re.compile(r"\b(state|next_at|history|outcome)\b")
# Dialects whose status changes only a callback URL of the client can observe; painel (campaign callbacks)
# always moves message by message, SMPP (delivery receipts to a bind) does for the messages that asked for a
# receipt, and says so per message (Submission.observed).
LAZY_DIALECTS = frozenset({"mensagem", "speedmarket", "fcati", "wbsapi"})


class Core:
    def __init__(self, db: str | Path = ":memory:", *, contracts: Contracts | None = None,
                 seed: bool = True, frozen: bool = False) -> None:
        self.contracts = contracts or load_contracts()
        self.store = Store(db)
        self.accounts = Accounts(self.store)
        root = self.contracts.root / "emulator"
        self.numbering = Numbering.from_contract(load_yaml(root / "numbering.yaml")[0])
        self.timing = load_yaml(root / "lifecycle.yaml")[0]
        # A cancel gives the debit back where the catalog says so (credits.yaml, family refund; inferred).
        self._refunds_on_cancel = any(getattr(r, "family", None) == "refund" for r in self.contracts.catalog.families)
        self.profile = self.contracts.emulator_profile
        self.reserved = self._reserved_numbers()
        self.renderers: dict[str, CallbackRenderer] = {}
        self._outcomes: dict[str, str] | None = None
        self.backlog = True   # unobserved messages may be due: the background loop settles them in chunks
        self._observed_clients: set[int] | None = None
        self._operator_pools = self._pools()
        self.clock = self._restore_clock(frozen)
        self.secret = self.store.meta("secret") or secrets.token_hex(8)
        self.store.set_meta("secret", self.secret)
        self.protocols = m.Protocols(self.secret)
        self.store.db.create_function("protocol", 1, self.protocols.encode, deterministic=True)
        self._next_id = (self.store.db.execute("SELECT MAX(id) FROM recipients").fetchone()[0] or 0) + 1
        if seed and self.store.meta("seeded") is None:
            self.seed_profile()

    # -- setup ----------------------------------------------------------------------------------------
    def _reserved_numbers(self) -> dict[str, str]:
        reserved: dict[str, str] = {}
        for name, value in (self.profile.get("numbers") or {}).items():
            for number in value if isinstance(value, list) else [value]:
                if isinstance(number, dict):
                    number = number.get("number")
                if number is not None and name != "valid":
                    reserved[str(number)] = name
        return reserved

    def _restore_clock(self, frozen: bool) -> VirtualClock:
        saved = self.store.meta("clock")
        try:
            clock = VirtualClock.from_state(json.loads(saved)) if saved else VirtualClock()
        except (ValueError, TypeError) as exc:  # a file written before the clock checked its moves
            log.warning("the clock saved in %s is unusable (%s): it starts again at the real time; every other "
                        "state is kept", self.store.path, exc)
            clock = VirtualClock()
        if frozen:
            clock.freeze()
        self._save_clock(clock)
        return clock

    def _save_clock(self, clock: VirtualClock | None = None) -> None:
        self.store.set_meta("clock", json.dumps((clock or self.clock).state()))

    def seed_profile(self) -> None:
        for fixture, spec in (self.profile.get("accounts") or {}).items():
            self.accounts.create(spec, fixture)
        self.store.set_meta("seeded", "1")

    def reset(self) -> None:
        self.store.wipe()
        self.accounts.invalidate()
        self.store.set_meta("secret", self.secret)
        self._next_id = 1
        self._outcomes = self._observed_clients = None
        self.clock = VirtualClock(frozen_at=self.clock.now()) if self.clock.frozen else VirtualClock()
        self._save_clock()
        self.seed_profile()

    def fixture_principal(self, fixture: str = "main") -> Principal:
        row = self.store.db.execute("SELECT integration_user FROM users WHERE fixture = ?", (fixture,)).fetchone()
        if row is None:
            raise KeyError(f"no account fixture {fixture!r}")
        return self.accounts._principal("u.integration_user = ?", row[0])

    # -- clock ----------------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        self.clock.advance(seconds)
        self._save_clock()
        self._moved()
        return self.clock.now()

    def set_time(self, moment: float) -> float:
        self.clock.set(moment)
        self._save_clock()
        self._moved()
        return self.clock.now()

    def _moved(self) -> None:
        """After a clock move: observed messages move now (their callbacks are due); unobserved ones are
        left to readers and to the server's background loop, which settles them in bounded chunks, so a
        move of a day over millions of messages neither holds the database in one transaction nor keeps a
        status read waiting behind it."""
        self.tick(settle=False)
        self.backlog = True

    def freeze(self, frozen: bool) -> None:
        self.clock.freeze() if frozen else self.clock.run()
        self._save_clock()

    # -- sending --------------------------------------------------------------------------------------
    def check_can_send(self, who: Principal, kind: str) -> None:
        if who.blocked:
            raise Refused("blocked_account")
        if not who.can_send:
            raise Refused("no_privilege")
        if kind not in who.allowed_kinds:
            raise Refused("mode_not_allowed", kind)

    def validate_number(self, item: Submission) -> tuple[str, str | None]:
        """The stored number and, for a number the profile reserves, its fixture name."""
        number = self.numbering.validate(item.number, cleanup=item.cleanup,
                                         allow_landline=item.allow_landline or item.block_as_status)
        fixture = self.reserved.get(number)
        if fixture in NUMBER_REFUSALS and not (item.block_as_status and fixture in NUMBER_BLOCKS):
            raise Refused(NUMBER_REFUSALS[fixture], number)
        return number, fixture

    def submit(self, who: Principal, dialect: str, items: Sequence[Submission]) -> list[Accepted | Refused]:
        """Accept what the rules allow, atomically debiting what is accepted; refusals are per item.

        A batch whose accepted part costs more than the balance is refused whole with
        ``insufficient_credits`` (inferred: the documents answer 97 per request, not per number).
        """
        now = self.now()
        results: list[Accepted | Refused] = []
        submissions: list[list[Any]] = []   # one per run of items that share every request-level field
        rows: list[tuple[Any, ...]] = []    # one per accepted number
        needs: dict[tuple[str, str], int] = defaultdict(int)
        queue_delay = self.timing["seconds"]["queue"]
        history_of = {state: f"{state}@{now!r}" for state in (m.WAITING, m.HELD, m.BLOCKED)}
        # Bound once: this loop runs per message, 100,000 times a second.
        validate, is_landline, operator_of, protocols = (self.validate_number, self.numbering.is_landline,
                                                         self._operator, self.protocols)
        outcomes = self._outcome_table()
        reserved = self.reserved
        plain_mobile = self.numbering.is_plain_mobile  # the common number, without validate()'s full walk
        with self.store.transaction():
            unobserved = int(dialect in LAZY_DIALECTS and not self._observed(who.client_id))
            lazy = unobserved
            allowed: dict[str, Refused | None] = {}
            run: tuple[Any, ...] | None = None
            submission: list[Any] = []
            parts, scope, run_next_at, scheduled = 0, "client", now, False
            for index, item in enumerate(items):
                try:
                    if item.kind not in allowed:
                        try:
                            self.check_can_send(who, item.kind)
                            allowed[item.kind] = None
                        except Refused as refusal:
                            allowed[item.kind] = refusal
                    if allowed[item.kind] is not None:
                        raise Refused(allowed[item.kind].reason)  # type: ignore[union-attr]
                    if who.requires_cost_centre and not item.cost_centre:
                        raise Refused("cost_centre_required")
                    number = item.number
                    if item.cleanup or not plain_mobile(number) or number in reserved:
                        number, fixture = validate(item)
                    else:
                        fixture = None
                except Refused as refusal:
                    refusal.index = index
                    results.append(refusal)
                    continue
                message_id = self._next_id
                self._next_id += 1
                key = (item.text, item.kind, item.type, item.schedule_at, item.cost_centre, item.campaign, item.file,
                       item.priority, item.observed)
                if key != run:   # what the items of a run share is computed (and stored) once
                    run, parts, scope = key, count_parts(item.text), self._scope(who, item)
                    lazy = unobserved if item.observed is None else int(not item.observed)
                    run_next_at = max(now, item.schedule_at or now) + queue_delay
                    scheduled = bool(item.schedule_at and item.schedule_at > now)
                    submission = [message_id, message_id, who.client_id, who.user_id, dialect, item.text, item.kind,
                                  item.type, now, item.schedule_at, item.cost_centre, item.campaign, parts, scope,
                                  item.file, int(item.priority), run_next_at if lazy else None]
                    submissions.append(submission)
                else:
                    submission[1] = message_id
                if item.block_as_status and len(number) == 10 and is_landline(number):
                    fixture = "landline"
                block = (item.block or NUMBER_BLOCKS.get(fixture or "")) if item.block_as_status else None
                if fixture == "antifraud":
                    state, next_at, cost = m.HELD, None, 0
                elif block:  # prepared like any message, blocked when it would go to the operator; free
                    state, next_at, cost = m.WAITING, run_next_at, 0
                else:
                    state, next_at, cost = m.WAITING, run_next_at, parts
                needs[(scope, item.kind)] += cost
                outcome = m.BLOCKED if block else (outcomes.get(number) or (
                    NUMBER_OUTCOMES.get(fixture, m.DELIVERED) if fixture else m.DELIVERED))
                rows.append((message_id, submission[0], number, state, next_at, outcome, operator_of(number, fixture),
                             item.external_id, item.campaign_id, cost, history_of[state], lazy))
                results.append(Accepted(message_id, number, parts, cost, state, scheduled, block, protocols))
            if rows:
                try:
                    for (scope, kind), amount in needs.items():
                        self.accounts.debit(who, scope, {kind: amount})
                except Refused:
                    self._next_id -= len(rows)
                    raise
                # a single send is one row each: execute() skips executemany's per-call setup
                for sql, values in (("INSERT INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", submissions),
                                    ("INSERT INTO recipients VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)):
                    if len(values) == 1:
                        self.store.db.execute(sql, values[0])
                    else:
                        self.store.db.executemany(sql, values)
        return results

    def _observed(self, client_id: int) -> bool:
        """Whether a callback URL of the client would see its messages' status changes."""
        if self._observed_clients is None:
            self._observed_clients = {r[0] for r in self.store.db.execute("SELECT client_id FROM callback_urls")}
        return client_id in self._observed_clients

    def set_callback_url(self, client_id: int, dialect: str, kind: str, url: str | None) -> None:
        """Register (or, with no URL, remove) a callback URL.

        The client's unobserved messages are settled first, then watched: a URL registered now sees the
        status changes that happen from now on, never a replay of the ones it missed.
        """
        with self.store.transaction() as db:
            if url:
                self.settle(client_id=client_id)
                for first, last in db.execute("SELECT id, last_id FROM submissions WHERE client_id = ?"
                                              " AND due_at IS NOT NULL", (client_id,)).fetchall():
                    db.execute("UPDATE recipients SET lazy = 0 WHERE id BETWEEN ? AND ? AND lazy = 1", (first, last))
                db.execute("UPDATE submissions SET due_at = NULL WHERE client_id = ?", (client_id,))
            self.accounts.set_callback_url(client_id, dialect, kind, url)
            self._observed_clients = None

    def _scope(self, who: Principal, item: Submission) -> str:
        if who.distribution == 1:
            return f"user:{who.user_id}"
        if who.distribution == 2 and item.cost_centre:
            return f"cc:{item.cost_centre}"
        return "client"

    def _outcome_table(self) -> dict[str, str]:
        """The outcomes set per number through the control API (else the fixture's, else delivered)."""
        if self._outcomes is None:
            self._outcomes = dict(self.store.db.execute("SELECT number, outcome FROM outcomes").fetchall())
        return self._outcomes

    def _operator(self, number: str, fixture: str | None) -> str:
        """The operator of a number: one without handset DLR (Oi, Sercomtel) for the no-DLR outcome."""
        pool = self._operator_pools[fixture == "outcome_no_dlr"]
        return pool[zlib.crc32(number.encode()) % len(pool)]

    def _pools(self) -> dict[bool, tuple[str, ...]]:
        mobiles = [o for o in self.profile.get("operators", []) if o.get("mobile")]
        pools = {}
        for no_dlr in (False, True):
            pool = tuple(str(o["code"]) for o in mobiles if bool(o.get("dlr", True)) != no_dlr)
            pools[no_dlr] = pool or FALLBACK_OPERATORS
        return pools

    def set_outcome(self, number: str, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        self._outcomes = None
        self.settle()  # a message already past queued on the clock keeps the outcome it had
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO outcomes VALUES (?, ?)", (number, outcome))
            db.execute("UPDATE recipients SET outcome = ? WHERE number = ? AND state IN ('waiting','queued')"
                       " AND outcome != 'blocked'",  # a block rule is the number's, not an outcome to replace
                       (outcome, number))

    # -- finding --------------------------------------------------------------------------------------
    def message(self, *, hash: str | None = None, id: int | None = None, client_id: int | None = None) -> Message | None:
        if hash is not None:
            id = self.protocols.decode(hash)
            if id is None:
                return None
        self.tick(settle=False)
        if id is not None:
            self.settle(ids=[id])
        row = self.store.db.execute("SELECT * FROM messages WHERE id = ?", (id,)).fetchone()
        if row is not None and hash is not None and row["hash"] != hash.strip().lower():
            return None
        if row is None or (client_id is not None and row["client_id"] != client_id):
            return None
        return Message.from_row(row)

    def ids_for(self, hashes: Iterable[str]) -> list[int | None]:
        """The message ids a list of protocols names (None where a protocol names none of ours)."""
        return [self.protocols.decode(h) for h in hashes]

    def messages(self, where: str = "1=1", params: Sequence[Any] = (), limit: int = 10000, *,
                 newest_first: bool = False) -> list[Message]:
        """The messages a condition selects, each settled first: only those read, unless the condition reads
        what settling changes (state, next_at, history), when every unobserved message is settled first."""
        self.tick(settle=False)
        query = f"SELECT {{}} FROM messages WHERE {where} ORDER BY id {'DESC' if newest_first else ''} LIMIT ?"
        if _READS_LIFECYCLE.search(where):
            self.settle()
        else:
            self.settle(ids=[r[0] for r in self.store.db.execute(query.format("id"), (*params, limit))])
        return [Message.from_row(r) for r in self.store.db.execute(query.format("*"), (*params, limit))]

    # -- changing state -------------------------------------------------------------------------------
    def cancel(self, who: Principal, hash: str) -> Message | None:
        """Cancel one message; only a waiting one cancels (003 § Cancelamento de Mensagens)."""
        msg = self.message(hash=hash, client_id=who.client_id)
        if msg is None:
            return None
        return self.cancel_message(msg)

    def cancel_message(self, msg: Message) -> Message | None:
        """Cancel a message found already (a client's cancel, or the control API's, which names no account)."""
        if msg.state in (m.WAITING, m.PAUSED):
            self._move(msg, m.CANCELLED, self.now())
            if self._refunds_on_cancel and msg.cost:
                self.accounts.refund(msg.client_id, msg.scope, msg.kind, msg.cost)
            return self.message(id=msg.id)
        return msg

    def pause(self, msg: Message) -> None:
        if msg.state == m.WAITING:
            self._move(msg, m.PAUSED, self.now(), next_at=None)

    def resume(self, msg: Message) -> None:
        if msg.state == m.PAUSED:
            start = max(self.now(), msg.schedule_at or 0)
            self._move(msg, m.WAITING, self.now(), next_at=start + self.timing["seconds"]["queue"])

    def _move(self, msg: Message, state: str, at: float, next_at: float | None = None) -> None:
        history = f"{msg.history};{state}@{at!r}"
        self.store.db.execute("UPDATE recipients SET state = ?, next_at = ?, history = ? WHERE id = ?",
                              (state, next_at, history, msg.id))
        msg.state, msg.next_at, msg.history = state, next_at, history
        if msg.lazy and next_at is not None:  # a resumed lazy message: its submission is due again
            self.store.db.execute("UPDATE submissions SET due_at = MIN(IFNULL(due_at, :at), :at)"
                                  " WHERE id = (SELECT submission FROM recipients WHERE id = :id)",
                                  {"at": next_at, "id": msg.id})
        self._enqueue_callbacks(msg, state, at)

    # -- the lifecycle --------------------------------------------------------------------------------
    def _next(self, msg: Message) -> tuple[str, float | None]:
        """Where a due message goes next, and when it is due again."""
        s = self.timing["seconds"]
        at = msg.next_at or self.now()
        if msg.state == m.WAITING:
            return m.QUEUED, at + s["send"]
        if msg.state == m.QUEUED:
            if msg.outcome in UNSENT_OUTCOMES:
                return msg.outcome, None
            if msg.outcome == "no_dlr":
                return m.SENT, None
            if msg.outcome == "delayed":
                return m.SENT, at + s["dlr_delayed"]
            if msg.outcome == m.EXPIRED:
                return m.SENT, at + s["expire"]
            return m.SENT, at + s["dlr"]
        if msg.state == m.SENT:
            if msg.outcome == m.EXPIRED:
                return m.EXPIRED, None
            if msg.outcome in SENT_FINALS:
                return SENT_FINALS[msg.outcome], None
            return (m.UNDELIVERED if msg.outcome == m.UNDELIVERED else m.DELIVERED), None
        return msg.state, None

    # A message nobody listens to (its dialect is in LAZY_DIALECTS and its client had no callback URL when it
    # was sent: the `lazy` column) has no observer of its status changes but a reader. So it is not moved as
    # its clock comes due, but settled when read (message(), messages(), a clock move) or while the emulator
    # is idle: a client still reads exactly what a step-by-step lifecycle would show, and a burst of a
    # million messages costs its sender no lifecycle work. Lazy messages are found through their
    # submission's `due_at` (one index entry per request, not per number) and moved by id range.
    #
    # _SETTLE moves each due message through every step due by :now at once (one row write, however many
    # steps): `queued_at`, `sent_at` and `final_at` are when its next three steps fall, as _next() would
    # schedule them; tests/project/test_core_units.py runs both encodings on every outcome and compares.
    _SETTLE = """
        UPDATE recipients SET state = step.state, next_at = step.next_at, history = history || step.added
        FROM (
          SELECT id,
            CASE WHEN final_at <= :now THEN final WHEN sent_at <= :now THEN sent WHEN queued_at <= :now THEN 'queued'
              END AS state,
            CASE WHEN final_at <= :now THEN NULL WHEN sent_at <= :now THEN final_at WHEN queued_at <= :now THEN sent_at
              END AS next_at,
            CASE WHEN queued_at <= :now THEN ';queued@' || queued_at ELSE '' END
              || CASE WHEN sent_at <= :now THEN ';' || sent || '@' || sent_at ELSE '' END
              || CASE WHEN final_at <= :now THEN ';' || final || '@' || final_at ELSE '' END AS added
          FROM (
            SELECT id, queued_at, sent_at, sent, final,
              CASE WHEN state = 'sent' THEN next_at ELSE sent_at + CASE outcome
                WHEN 'error' THEN NULL WHEN 'invalid' THEN NULL WHEN 'rejected' THEN NULL WHEN 'blocked' THEN NULL
                WHEN 'no_dlr' THEN NULL
                WHEN 'delayed' THEN :dlr_delayed WHEN 'expired' THEN :expire ELSE :dlr END END AS final_at
            FROM (
              SELECT id, state, next_at, outcome,
                CASE state WHEN 'waiting' THEN next_at END AS queued_at,
                CASE state WHEN 'waiting' THEN next_at + :send WHEN 'queued' THEN next_at END AS sent_at,
                CASE WHEN outcome IN ('error', 'invalid', 'rejected', 'blocked') THEN outcome ELSE 'sent' END AS sent,
                CASE outcome WHEN 'expired' THEN 'expired' WHEN 'undelivered' THEN 'undelivered'
                  WHEN 'operator_rejected' THEN 'rejected' WHEN 'network_error' THEN 'error'
                  ELSE 'delivered' END AS final
              FROM recipients
              WHERE id BETWEEN :low AND :high AND lazy = 1 AND next_at IS NOT NULL AND next_at <= :now
                AND state IN ('waiting', 'queued', 'sent'))))
          AS step
        WHERE recipients.id = step.id
    """
    _NEXT_DUE = """
        UPDATE submissions SET due_at = (SELECT MIN(next_at) FROM recipients
          WHERE id BETWEEN submissions.id AND submissions.last_id AND lazy = 1 AND next_at IS NOT NULL)
        WHERE id = ?
    """
    # For _step_each, the one-by-one path (bulk=False): tests only, so a scan of the lazy rows is fine.
    _SCOPES = {
        "all": "",
        "client": " AND client_id = :client_id",
        "ids": " AND id IN (SELECT value FROM json_each(:ids))",
        "chunk": " AND id IN (SELECT id FROM recipients WHERE lazy = 1 AND next_at IS NOT NULL AND next_at <= :now"
                 " ORDER BY next_at LIMIT :limit)",
    }
    _DUE = {
        "observed": "SELECT * FROM messages WHERE lazy = 0 AND next_at IS NOT NULL AND next_at <= :now",
        "lazy": "SELECT * FROM messages WHERE lazy = 1 AND next_at IS NOT NULL AND next_at <= :now",
    }

    def tick(self, *, settle: bool = True, bulk: bool = True) -> int:
        """Move every message whose next step is due on the virtual clock; returns how many moved or settled.

        ``settle=False`` moves only the observed messages (the server's background loop and its per-request
        tick); ``bulk=False`` settles lazy messages one by one through _next() too, for the tests that
        hold the two encodings of the machine to one another.
        """
        done = self.settle(bulk=bulk) if settle else 0
        return done + self._step_each("observed", "", {})

    def settle(self, *, client_id: int | None = None, ids: Sequence[int] | None = None, limit: int | None = None,
               bulk: bool = True) -> int:
        """Bring unobserved messages up to the clock: all, one client's, the given ones, or about ``limit``
        messages of the oldest due submissions (the idle loop's unit, so a request never waits long behind it).

        Returns how many submissions (or id ranges) it brought up to date: 0 means nothing was due.
        Settling all (no ``ids``, no ``limit``) goes in transactions of about SETTLE_CHUNK messages each,
        so the write-ahead log stays small and other connections see progress.
        """
        if bulk and ids is None and limit is None:
            total = 0
            while done := self.settle(client_id=client_id, limit=SETTLE_CHUNK):
                total += done
            if client_id is None:
                self.backlog = False
            return total
        if not bulk:
            scope, params = "all", {}
            if ids is not None:
                scope, params = "ids", {"ids": json.dumps(list(ids))}
            elif client_id is not None:
                scope, params = "client", {"client_id": client_id}
            elif limit is not None:
                scope, params = "chunk", {"limit": limit}
            return self._step_each("lazy", self._SCOPES[scope], params)
        now = self.now()
        params: dict[str, Any] = {"now": now, **{k: self.timing["seconds"][k]
                                                 for k in ("send", "dlr", "dlr_delayed", "expire")}}
        with self.store.transaction() as db:
            if ids is not None:  # a read's rows: their submissions' due_at is left for a later full settle
                due, ranges = [], _adjacent_merged([(i, i) for i in sorted(ids)])
            else:
                where = "due_at <= ?" + (" AND client_id = ?" if client_id is not None else "")
                args = (now, client_id) if client_id is not None else (now,)
                # In due order, through the submissions_due index: ORDER BY id scanned every submission, settled
                # or not, each chunk (a sustained SMPP run, one submission a message, slowed as it went).
                due = db.execute(f"SELECT id, last_id FROM submissions WHERE {where} ORDER BY due_at, id"
                                 + (f" LIMIT {int(limit)}" if limit is not None else ""), args).fetchall()
                if limit is not None:  # about `limit` messages: as many submissions as add up to it
                    size = 0
                    for count, (first, last) in enumerate(due, 1):
                        size += last - first + 1
                        if size >= limit:
                            due = due[:count]
                            break
                ranges = _adjacent_merged([(first, last) for first, last in sorted(due, key=lambda row: row[0])])
                if limit is not None and len(ranges) == 1 and ranges[0][1] - ranges[0][0] + 1 > limit:
                    ranges = [self._first_due_part(db, *ranges[0], limit, now)]
            for low, high in ranges:
                db.execute(self._SETTLE, {**params, "low": low, "high": high})
            db.executemany(self._NEXT_DUE, [(first,) for first, _ in due])
        return len(due) or len(ranges)

    @staticmethod
    def _first_due_part(db: Any, first: int, last: int, limit: int, now: float) -> tuple[int, int]:
        """The ``limit`` ids of a submission larger than a chunk from its first due one on: a mult of 1000
        numbers is settled in parts when a loaded machine makes chunks small; its due_at (_NEXT_DUE) stays
        due until the last part is done."""
        low = db.execute("SELECT MIN(id) FROM recipients WHERE id BETWEEN ? AND ? AND lazy = 1 AND next_at <= ?",
                         (first, last, now)).fetchone()[0]
        low = first if low is None else low
        return low, min(last, low + limit - 1)

    def _step_each(self, which: str, scope: str, params: dict[str, Any]) -> int:
        """Move due messages one step at a time through _next(), with their callbacks."""
        steps = 0
        now = self.now()
        query = self._DUE[which] + scope + " ORDER BY next_at LIMIT 2000"
        while True:
            rows = self.store.db.execute(query, {**params, "now": now}).fetchall()
            if not rows:
                return steps
            with self.store.transaction():
                for row in rows:
                    msg = Message.from_row(row)
                    at = msg.next_at or now
                    state, next_at = self._next(msg)
                    self._move(msg, state, at, next_at)
                    steps += 1

    # -- callbacks and MO -----------------------------------------------------------------------------
    def _enqueue_callbacks(self, msg: Message, state: str, at: float) -> None:
        renderer = self.renderers.get(msg.dialect)
        if renderer is None:
            return
        for kind, url, method, body in renderer(self, msg, state, at):
            self.store.db.execute(
                "INSERT INTO outbox (client_id, dialect, kind, url, method, body, message_id, created_at, next_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (msg.client_id, msg.dialect, kind, url, method, body, msg.id, at, at),
            )

    def inject_mo(self, client_id: int, number: str, text: str, reply_to: str | None = None,
                  dialect: str | None = None) -> int:
        original = self.message(hash=reply_to) if reply_to else None
        with self.store.transaction() as db:
            mo_id = int(db.execute(
                "INSERT INTO mo (client_id, number, text, received_at, message_id) VALUES (?, ?, ?, ?, ?)",
                (client_id, number, text, self.now(), original.id if original else None),
            ).lastrowid)
            target = dialect or (original.dialect if original else None)
            renderer = self.renderers.get(f"{target}:mo")
            if renderer is not None:
                mo = {"id": mo_id, "client_id": client_id, "number": number, "text": text,
                      "received_at": self.now(), "original": original}
                for kind, url, method, body in renderer(self, mo, "mo", self.now()):  # type: ignore[arg-type]
                    db.execute(
                        "INSERT INTO outbox (client_id, dialect, kind, url, method, body, message_id, created_at,"
                        " next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (client_id, target, kind, url, method, body, original.id if original else None,
                         self.now(), self.now()),
                    )
        return mo_id

    def due_callbacks(self, limit: int = 200) -> list[dict[str, Any]]:
        """Callbacks to deliver now, oldest first; a message's callback waits while an earlier one of the same
        message is still pending (retrying), so a receiver sees each message's statuses in order."""
        rows = self.store.db.execute(
            "SELECT * FROM outbox o WHERE next_at IS NOT NULL AND next_at <= ?"
            " AND (retry_at IS NULL OR retry_at <= ?)"
            " AND (message_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox e WHERE e.message_id = o.message_id"
            "      AND e.id < o.id AND e.next_at IS NOT NULL))"
            " ORDER BY id LIMIT ?",
            (self.now(), time.time(), limit)).fetchall()
        return [dict(r) for r in rows]

    def callback_done(self, callback_id: int, error: str | None, answer: str | None = None) -> None:
        """Record one delivery attempt; a failure is retried with back-off until it gives up.

        The back-off runs on wall time, not the virtual clock: a receiver that is down is a real-world
        fact, and a frozen clock must not hold its retries back forever. Every attempt is kept, with the
        receiver's answer, so a developer can see why a callback was retried.
        """
        with self.store.transaction() as db:
            row = db.execute("SELECT attempts FROM outbox WHERE id = ?", (callback_id,)).fetchone()
            if row is None:
                return
            db.execute("INSERT INTO callback_attempts (callback_id, at, wall, answer, error) VALUES (?, ?, ?, ?, ?)",
                       (callback_id, self.now(), time.time(), (answer or "")[:500] or None,
                        error[:500] if error else None))
            attempts = row[0] + 1
            if error is None:
                db.execute("UPDATE outbox SET attempts = ?, next_at = NULL, delivered_at = ?, last_error = NULL"
                           " WHERE id = ?", (attempts, self.now(), callback_id))
                return
            plan = self.timing["callbacks"]["retry_seconds"]
            delay = plan[min(attempts - 1, len(plan) - 1)]
            give_up = attempts >= self.timing["callbacks"]["give_up_after"]
            db.execute("UPDATE outbox SET attempts = ?, next_at = ?, retry_at = ?, last_error = ? WHERE id = ?",
                       (attempts, None if give_up else self.now(), time.time() + delay, error[:500], callback_id))


def _adjacent_merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Id ranges sorted by start, with ranges that touch joined: a million one-message submissions in a
    row are settled by one UPDATE over their ids, not a million."""
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        if merged and low == merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged
