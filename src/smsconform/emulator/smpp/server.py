"""The SMPP 3.4 access of the mensagem provider (seed 003 § SMPP), on the same core as the HTTP dialects.

An asyncio server an ESME binds to as it would to the provider's port 9500: system_id is the integration
user, the password the account's, system_type as contracts/smpp/profile.yaml says. submit_sm goes through
``core.submit(who, "smpp", ...)``, so credits, numbering rules, reserved numbers and the virtual clock are
the HTTP dialects' own. Every wire decision that is a rule (statuses per refusal, the DLR code -> stat
table, destination formats, data codings, the 600-character limit) is read from the profile and the
catalog; the codec is :mod:`.pdu`.

Why it is built this way:

- Delivery receipts are driven by the status history. The core calls the "smpp" renderer on every status
  change of a message sent here; the renderer maps the new core state to its DLR code (codes.yaml
  ``smpp.dlr`` reasons) and the code to its receipt ``stat``/``message_state`` (the profile's DLR table),
  builds the deliver_sm and stores it in the ``smpp_outbox`` table *in the core's own transaction*.
  A pump pushes stored PDUs to a bound receiver or transceiver of the account and deletes each one when
  its deliver_sm_resp says ESME_ROK. Nothing is lost when no receiver is bound, when a connection drops
  with receipts in flight, or when the emulator restarts: they wait for the next bind.
- registered_delivery (SMPP 3.4 § 5.2.17) decides which changes become receipts: 1 the final state, 2 a
  final failure only, bit 0x10 the intermediate ones too. A change is final when the profile marks its
  code final *and* the core will not move the message again: "accepted" (6) is final in SMPP's numbering
  but a queued message still moves on, and an operator without handset DLR (outcome no_dlr) ends on
  ENROUTE, which is not final, so no final receipt is ever sent for it, as with Oi and Sercomtel.
- Long messages are reassembled before the core sees them (UDH IEI 0x00/0x08, sar_* TLVs, or a single
  message_payload), so the core counts and bills the parts as carriers do, once per message. Each part
  but the last is answered with an id of its own; the last part's id is the message's MD5 protocol, the
  id the HTTP and SOAP dialects know. registered_delivery is a field of each submit_sm, so every part
  that asked gets its own receipts, carrying the id that part was answered with (``smpp_parts``): an
  ESME that asks on part 1 only and keeps part 1's id (Kannel) gets its report.
- Throttling is per bind, on wall time (a token bucket of ``max_rate`` per second): rate limits protect a
  real service from real load, which the virtual clock does not measure.
- Several requests may be outstanding in both directions: requests are answered as they are read, and up
  to ``window`` deliver_sm wait for their responses at once.
"""
from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ..core import Core, Refused
from ..core import messages as m
from ..core.accounts import Principal
from ..core.clock import local
from ..core.messages import Accepted, Message, Submission
from . import pdu as p
from .pdu import CommandId, Pdu, PduError, Status

log = logging.getLogger("smsconform.emulator.smpp")

DIALECT = "smpp"
SMSC_SYSTEM_ID = "SMSCONFORM"
"""The system_id of bind_*_resp (SMPP 3.4 § 4.1: it identifies the SMSC); the seed names none."""
DEFAULT_MAX_RATE = 5000.0
MAX_RATE_ENV = "SMSCONFORM_SMPP_MAX_RATE"
"""submit_sm per second per bind above which ESME_RTHROTTLED is answered, when no max_rate is given."""
DEFAULT_WINDOW = 10
RECEIPT_BITS = 0x13
"""The bits of registered_delivery that ask the SMSC for a receipt (SMPP 3.4 § 5.2.17): 0-1 and 4."""
RESPONSE_TIMEOUT = 30.0
"""Seconds a deliver_sm may wait for its response before it is taken back and offered again."""
UNBIND_WAIT = 1.0
"""Seconds a stopping server waits for the ESMEs' unbind_resp before it closes their connections."""
RETRY_SECONDS = (1, 2, 5, 10, 30, 60)
"""Back-off after an ESME answers a deliver_sm with an error status (its application could not take it)."""
PASSWORD_OCTETS = 8
"""SMPP 3.4 § 4.1.1: a bind's password is at most 8 octets. The seed makes it the account's own password
("Mesmo password da conta"), which the platform does not limit to 8 characters (cadus takes any), so a
longer one is matched on the first 8 characters an ESME can send (inferred; smpplib, for one, cuts it)."""
NUMBER_REASONS = frozenset({"bad_number", "bad_ddd", "prefix_ddd_mismatch", "bad_operator_prefix",
                            "alpha_in_number", "invalid_record", "landline"})
"""Refusals of the destination number (89-92, 95, 96 in the HTTP API): codes.yaml answers them all with
the submit_sm code of reason bad_number (ESME_RINVDSTADR)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS smpp_messages (
    message_id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, registered_delivery INTEGER NOT NULL,
    source_addr TEXT NOT NULL, source_ton INTEGER NOT NULL, source_npi INTEGER NOT NULL,
    dest_addr TEXT NOT NULL, dest_ton INTEGER NOT NULL, dest_npi INTEGER NOT NULL,
    parts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS smpp_parts (
    message_id INTEGER NOT NULL, receipt_id TEXT NOT NULL, registered_delivery INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS smpp_parts_message ON smpp_parts (message_id);
CREATE TABLE IF NOT EXISTS smpp_outbox (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, kind TEXT NOT NULL, message_id INTEGER,
    pdu BLOB NOT NULL, created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, retry_at REAL);
CREATE INDEX IF NOT EXISTS smpp_outbox_client ON smpp_outbox (client_id, id);
"""


class SubmitRefused(Exception):
    """A submit_sm answered with an error command_status."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(detail)
        self.status = status


# -- the access profile -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Dlr:
    """One row of the DLR table: the provider's code, its receipt stat and 3.4 message_state."""

    code: int
    stat: str
    message_state: int
    final: bool
    success: bool


@dataclass(frozen=True)
class Address:
    """A destination format: its TON, the NPIs it may come with, and the number's pattern (whose group
    ``national`` is the DDD and number the core takes, when the address carries more)."""

    ton: int
    npis: frozenset[int]
    pattern: re.Pattern[str]

    def national(self, addr: str) -> str | None:
        found = self.pattern.match(addr)
        if found is None:
            return None
        return found.group("national") if self.pattern.groupindex else addr


@dataclass(frozen=True)
class Timers:
    """contracts/smpp/profile.yaml link_timers, connections and bind_failures."""

    read_deadline: float = 10.0
    idle: float = 60.0
    enquire_link_answer: float = 10.0
    max_connections: int = 200
    free_failures: int = 5
    first_delay: float = 0.25
    max_delay: float = 2.0
    failure_window: float = 60.0

    @classmethod
    def from_profile(cls, raw: dict[str, Any]) -> "Timers":
        link, conns, fails = raw.get("link_timers", {}), raw.get("connections", {}), raw.get("bind_failures", {})
        d = cls()
        return cls(float(link.get("read_deadline_seconds", d.read_deadline)), float(link.get("idle_seconds", d.idle)),
                   float(link.get("enquire_link_answer_seconds", d.enquire_link_answer)),
                   int(conns.get("max_open", d.max_connections)), int(fails.get("free", d.free_failures)),
                   float(fails.get("first_delay_seconds", d.first_delay)),
                   float(fails.get("max_delay_seconds", d.max_delay)),
                   float(fails.get("window_seconds", d.failure_window)))


class Profile:
    """contracts/smpp/profile.yaml and the catalog's smpp codes, as the server needs them."""

    def __init__(self, core: Core) -> None:
        raw = core.contracts.smpp
        catalog = core.contracts.catalog
        version = raw.get("interface_version") or {}
        self.interface_version = int(version.get("answered_with", raw["version"]["interface_version"]))
        self.minimum_version = int(version.get("accepted_from", self.interface_version))
        self.version_refusal = _status(version.get("below", "ESME_RBINDFAIL"))
        self.system_type = str(raw["system_type"]["value"])
        self.system_type_exact = raw["system_type"].get("match", "exact") == "exact"
        self.system_type_refusal = _status(raw["system_type"].get("refused_with", "ESME_RINVSYSTYP"))
        dest = raw["destination_address"]
        self.destinations = tuple(
            Address(int(f["ton"]), frozenset(int(n) for n in (f["npi"] if isinstance(f["npi"], list) else [f["npi"]])),
                    re.compile(f["pattern"]))
            for f in dest["formats"])
        self.destination_refusal = _status(dest.get("refused_with", "ESME_RINVDSTADR"))
        self.formats_by_ton: dict[int, tuple[Address, ...]] = {}
        for fmt in self.destinations:
            self.formats_by_ton[fmt.ton] = self.formats_by_ton.get(fmt.ton, ()) + (fmt,)
        self.ton_refusal = _status(dest.get("ton_refused_with", "ESME_RINVDSTTON"))
        self.npi_refusal = _status(dest.get("npi_refused_with", "ESME_RINVDSTNPI"))
        self.counted_failures = frozenset(_status(n) for n in raw.get("bind_failures", {}).get(
            "counted", ["ESME_RINVPASWD", "ESME_RINVSYSID"]))
        coding = raw["data_coding"]
        self.codings = frozenset(int(c["value"]) for c in coding["offered"])
        self.coding_refusal = _status(str(coding.get("other_values", "ESME_RSUBMITFAIL")).split()[-1])
        self.undecodable = _status(str(coding.get("undecodable_text", "ESME_RSUBMITFAIL")).split()[-1])
        length = raw.get("message_length", {})
        limit = next((lim for lim in catalog.limits if lim.dialect == DIALECT and "submit_sm" in lim.operations
                      and lim.unit == "chars"), None)
        self.max_chars = int(limit.max if limit and limit.max is not None else length.get("max_chars", 600))
        self.length_refusal = _status(length.get("refused_with", "ESME_RINVMSGLEN"))
        self.statuses: dict[str, dict[str, int]] = {
            op: {reason: _status(name) for reason, name in table.items() if str(name).startswith("ESME_")}
            for op, table in raw["command_status"].items()
            if isinstance(table, dict) and op not in ("source", "note")
        }
        success = {c.code: c.success for c in catalog.operation_codes(DIALECT, "dlr")}
        self.dlr_by_code = {
            int(row["code"]): Dlr(int(row["code"]), str(row["stat"]), int(row["message_state"]),
                                  bool(row["final"]), success.get(str(row["code"]), False))
            for row in raw["dlr"]["codes"]
        }
        self.not_offered = _not_offered(raw.get("pdus", {}))
        self._catalog = catalog

    def status(self, operation: str, reason: str, default: str = "ESME_RSUBMITFAIL") -> int:
        table = self.statuses.get(operation, {})
        if reason in table:
            return table[reason]
        if reason in NUMBER_REASONS and "bad_number" in table:
            return table["bad_number"]
        try:  # the catalog's own code for the reason (e.g. smpp.submit_sm rate_limited -> ESME_RTHROTTLED)
            return int(self._catalog.by_reason(DIALECT, operation, reason).code, 16)
        except (KeyError, ValueError):
            return _status(default)

    def dlr(self, state: str) -> Dlr | None:
        """The DLR row a core state is reported as (codes.yaml smpp.dlr reasons are core state names)."""
        try:
            code = int(self._catalog.by_reason(DIALECT, "dlr", state).code)
        except (KeyError, ValueError):
            return None
        return self.dlr_by_code.get(code)


def _status(name: str | int) -> int:
    return int(name) if isinstance(name, int) else int(Status[str(name)])


def _not_offered(pdus: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """profile.yaml pdus.not_offered: request command_id -> (the answer's command_id, its status). A
    request with a response PDU of its own gets that _resp; outbind and alert_notification, which have
    none, get generic_nack."""
    answers: dict[int, tuple[int, int]] = {}
    for row in pdus.get("not_offered", []):
        command_id = int(row["command_id"])
        answer = str(row.get("answer", "generic_nack"))
        answer_id = int(CommandId.GENERIC_NACK) if answer == "generic_nack" else command_id | p.RESPONSE_BIT
        answers[command_id] = (answer_id, _status(row.get("status", "ESME_RINVCMDID")))
    return answers


# -- one connection ---------------------------------------------------------------------------------

BIND_KINDS = {
    CommandId.BIND_TRANSMITTER: "transmitter",
    CommandId.BIND_RECEIVER: "receiver",
    CommandId.BIND_TRANSCEIVER: "transceiver",
}


@dataclass(eq=False)
class Session:
    """One ESME connection: its bind, its sequence numbers, its window and its rate budget."""

    id: int
    writer: asyncio.StreamWriter
    max_rate: float
    bound: str | None = None
    who: Principal | None = None
    closing: bool = False
    peer: str = ""
    enquiring: bool = False
    enquired_at: float = 0.0
    answer_due: float = 0.0
    last_read: float = field(default_factory=time.monotonic)
    frames: p.FrameReader = field(default_factory=p.FrameReader)
    reassembler: p.Reassembler = field(default_factory=p.Reassembler)
    inflight: dict[int, tuple[int, float]] = field(default_factory=dict)  # seq -> (outbox id, sent at)
    _seq: int = 0
    _tokens: float = -1.0
    _refilled: float = field(default_factory=time.monotonic)

    @property
    def can_transmit(self) -> bool:
        return self.bound in ("transmitter", "transceiver")

    @property
    def can_receive(self) -> bool:
        return self.bound in ("receiver", "transceiver")

    def next_sequence(self) -> int:
        self._seq = self._seq % 0x7FFFFFFF + 1
        return self._seq

    def allow(self) -> bool:
        """Token bucket: ``max_rate`` requests per second, bursts up to one second's worth."""
        now = time.monotonic()
        capacity = max(1.0, self.max_rate)
        if self._tokens < 0:
            self._tokens = capacity
        self._tokens = min(capacity, self._tokens + (now - self._refilled) * self.max_rate)
        self._refilled = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def send(self, pdu: Pdu) -> None:
        if not self.writer.is_closing():
            self.writer.write(p.encode(pdu))

    def send_raw(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)


# -- the server -------------------------------------------------------------------------------------

class SmppServer:
    """``await start()`` listens (port 0 picks a free one, then ``.port`` tells it); ``await stop()``."""

    def __init__(self, core: Core, host: str = "127.0.0.1", port: int = 9500, *,
                 max_rate: float | None = None, window: int = DEFAULT_WINDOW, timers: Timers | None = None) -> None:
        self.core = core
        self.host = host
        self.port = port
        if max_rate is None:  # the environment sets it for an emulator started by the CLI
            max_rate = float(os.environ.get(MAX_RATE_ENV) or DEFAULT_MAX_RATE)
        self.max_rate = float(max_rate)
        self.window = max(1, int(window))
        self.profile = Profile(core)
        self.timers = timers or Timers.from_profile(core.contracts.smpp)
        self.sessions: set[Session] = set()
        self._failures: dict[str, collections.deque[float]] = {}
        self._ids = itertools.count(1)
        self._parts = itertools.count(1)
        self._part_nonce = os.urandom(8).hex()  # part ids carry receipts: none may repeat after a restart
        self._inflight: set[int] = set()
        self._server: asyncio.base_events.Server | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._handlers: dict[int, Callable[[Session, Pdu], None]] = {
            CommandId.BIND_TRANSMITTER: self._bind, CommandId.BIND_RECEIVER: self._bind,
            CommandId.BIND_TRANSCEIVER: self._bind, CommandId.SUBMIT_SM: lambda s, q: self._submit_batch(s, [q]),
            CommandId.ENQUIRE_LINK: self._enquire_link, CommandId.UNBIND: self._unbind,
            CommandId.DELIVER_SM_RESP: self._delivered, CommandId.GENERIC_NACK: self._nacked,
            CommandId.UNBIND_RESP: self._unbind_resp, CommandId.ENQUIRE_LINK_RESP: lambda s, q: None,
        }
        self.core.store.db.executescript(SCHEMA)
        _add_parts_column(self.core.store.db)
        core.renderers[DIALECT] = self._render_receipt
        core.renderers[f"{DIALECT}:mo"] = self._render_mo

    # -- lifecycle ------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._pump_task = asyncio.create_task(self._pump())
        self._watch_task = asyncio.create_task(self._watch())
        self._wake.set()  # receipts stored before a restart wait for a bind

    async def stop(self, unbind_wait: float = UNBIND_WAIT) -> None:
        """Stop listening; unbind every bound session (the SMSC ends the session, SMPP 3.4 § 4.2), give
        their ESMEs ``unbind_wait`` seconds to answer, then close whatever is left."""
        self._stopped = True
        if self._server is not None:
            self._server.close()
        bound = [s for s in self.sessions if s.bound is not None and not s.closing]
        for session in bound:
            session.send(p.make(CommandId.UNBIND, session.next_sequence()))
        deadline = time.monotonic() + (unbind_wait if bound else 0.0)
        while any(s in self.sessions for s in bound) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for session in list(self.sessions):
            session.closing = True
            session.writer.close()
        if self._pump_task is not None:
            # the pump ends on _stopped: Python 3.11's wait_for can swallow a cancel that races the
            # wake-up the closed sessions cause, which left stop() waiting for ever
            if self._wake is not None:
                self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._pump_task), 2.0)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                self._pump_task.cancel()
        if self._watch_task is not None:
            self._watch_task.cancel()
        if self._server is not None:
            await self._server.wait_closed()
        self._loop = None

    # -- a connection ---------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self.sessions) >= self.timers.max_connections:  # profile connections.max_open
            log.warning("SMPP connection refused: %d connections open", len(self.sessions))
            writer.close()
            return
        peer = writer.get_extra_info("peername")
        session = Session(next(self._ids), writer, self.max_rate, peer=str(peer[0]) if peer else "")
        self.sessions.add(session)
        try:
            while not session.closing:
                data = await reader.read(65536)
                if not data:
                    break
                session.last_read, session.enquiring = time.monotonic(), False  # any PDU shows the link alive
                try:
                    frames = session.frames.feed(data)
                except PduError as err:  # a command_length that loses the stream: nack, then close
                    session.send(p.generic_nack(err.sequence_number, err.status))
                    session.closing = True
                    frames = []
                self._handle_frames(session, frames)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            await self._drop(session)

    async def _watch(self) -> None:
        """The profile's link_timers for every session, from one task (nothing is paid per read): a PDU
        begun must be finished within the read deadline; a silent bound session gets an enquire_link, and
        is closed when that goes unanswered; an unbound one is closed when idle."""
        timers = self.timers
        tick = min(1.0, max(0.05, min(timers.read_deadline, timers.idle, timers.enquire_link_answer) / 4))
        while not self._stopped:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for session in list(self.sessions):
                if session.closing:
                    continue
                if session.answer_due > now:  # a slowed answer of ours is still to go out
                    continue
                quiet = now - session.last_read
                if session.frames.pending and quiet > timers.read_deadline:
                    self._expire(session, "a PDU left unfinished")
                elif session.enquiring and now - session.enquired_at > timers.enquire_link_answer:
                    self._expire(session, "no answer to enquire_link")
                elif not session.enquiring and quiet > timers.idle:
                    if session.bound is None:
                        self._expire(session, "never bound")
                    else:
                        session.enquiring, session.enquired_at = True, now
                        session.send(p.make(CommandId.ENQUIRE_LINK, session.next_sequence()))

    @staticmethod
    def _expire(session: Session, why: str) -> None:
        log.info("SMPP session %d closed: %s", session.id, why)
        session.closing = True
        session.writer.close()  # the session's pending read ends, and _serve drops it

    async def _drop(self, session: Session) -> None:
        """A connection ends (unbind, a drop, a stop): its receipts in flight go back to the outbox."""
        self.sessions.discard(session)
        for outbox_id, _ in session.inflight.values():
            self._inflight.discard(outbox_id)
        session.inflight.clear()
        session.bound = None
        self._notify()
        try:
            session.writer.close()
            await session.writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    def _handle_frames(self, session: Session, frames: list[bytes]) -> None:
        """The PDUs of one read, in order; consecutive submit_sm are accepted as one batch (one core
        transaction for all of them, answered in order), which is what a window of outstanding requests
        makes possible."""
        batch: list[Pdu] = []
        for frame in frames:
            if session.closing:
                break
            try:
                pdu = p.decode(frame)
            except PduError as err:
                self._submit_batch(session, batch)
                batch = []
                self._refuse_undecoded(session, err)
                continue
            if pdu.command_id == CommandId.SUBMIT_SM:
                batch.append(pdu)
                continue
            self._submit_batch(session, batch)
            batch = []
            self._dispatch(session, pdu)
        self._submit_batch(session, batch)

    def _refuse_undecoded(self, session: Session, err: PduError) -> None:
        """A PDU the codec could not take: a 3.4 request the profile does not offer gets the answer the
        profile names (its own _resp with ESME_RINVCMDID); anything else the codec's answer."""
        offered = (self.profile.not_offered.get(err.command_id)
                   if err.command_id is not None and err.status == Status.ESME_RINVCMDID else None)
        if offered is None:
            session.send(p.error_response(err))
        else:
            session.send_raw(p.header_only(offered[0], offered[1], err.sequence_number))

    def _dispatch(self, session: Session, pdu: Pdu) -> None:
        handler = self._handlers.get(pdu.command_id)
        if handler is None:
            if not pdu.is_response:  # a PDU only an SMSC sends (deliver_sm, *_resp of ours we never sent)
                session.send(p.generic_nack(pdu.sequence_number, Status.ESME_RINVCMDID))
            return
        try:
            handler(session, pdu)
        except Exception:  # never a dead connection for one bad PDU: log it, answer a system error
            log.exception("SMPP %s failed", pdu.name)
            if not pdu.is_response:
                session.send(pdu.response(self.profile.status("submit_sm", "retry", "ESME_RSYSERR")))

    # -- bind, enquire_link, unbind -------------------------------------------------------------------
    def _bind(self, session: Session, pdu: Pdu) -> None:
        refusal = self._check_bind(session, pdu)
        if refusal is not None:
            delay = self._failure_delay(session.peer) if refusal in self.profile.counted_failures else 0.0
            if delay > 0 and self._loop is not None:  # answers may come out of order (matched by sequence)
                session.answer_due = max(session.answer_due, time.monotonic() + delay)
                self._loop.call_later(delay, self._answer_late, session, pdu.response(refusal))
            else:
                session.send(pdu.response(refusal))
            return
        session.bound = BIND_KINDS[CommandId(pdu.command_id)]
        session.send(pdu.response(system_id=SMSC_SYSTEM_ID,
                                  tlvs={p.Tag.SC_INTERFACE_VERSION: self.profile.interface_version}))
        if session.can_receive:
            self._notify()

    @staticmethod
    def _answer_late(session: Session, answer: Pdu) -> None:
        """A slowed bind refusal goes out; the idle clock starts from it, not from the request, so a delay
        longer than the idle timer never closes the link before its answer."""
        session.send(answer)
        session.last_read = max(session.last_read, time.monotonic())

    def _check_bind(self, session: Session, pdu: Pdu) -> int | None:
        """The bind's refusal status, or None; sets ``session.who`` on success. The password is checked
        before the account's state, so a disabled account tells nothing to a wrong password."""
        status = self.profile.status
        if session.bound is not None:
            return status("bind", "already_bound", "ESME_RALYBND")
        if int(pdu["interface_version"]) < self.profile.minimum_version:  # later ones are answered 0x34
            return self.profile.version_refusal
        system_type = str(pdu["system_type"])
        expected = self.profile.system_type
        if (system_type != expected if self.profile.system_type_exact else system_type.lower() != expected.lower()):
            return self.profile.system_type_refusal
        row = self.core.store.db.execute("SELECT login, password FROM users WHERE integration_user = ?",
                                         (str(pdu["system_id"]).strip().lower(),)).fetchone()
        if row is None:
            return status("bind", "user_not_found", "ESME_RINVSYSID")
        login, stored = row[0], row[1]
        given = str(pdu["password"])
        if len(stored) > PASSWORD_OCTETS and given == stored[:PASSWORD_OCTETS]:
            given = stored
        try:
            who = self.core.accounts.by_login(login, given)
        except Refused as refusal:
            return status("bind", refusal.reason, "ESME_RBINDFAIL")
        if who.blocked:
            return status("bind", "blocked_account", "ESME_RBINDFAIL")
        session.who = who
        return None

    def _failure_delay(self, peer: str) -> float:
        """Count a failed bind from ``peer`` (profile bind_failures) and return how long its answer waits:
        nothing for the first ``free`` in the window, then a delay doubling up to ``max_delay``."""
        timers = self.timers
        now = time.monotonic()
        recent = self._failures.setdefault(peer, collections.deque())
        while recent and recent[0] < now - timers.failure_window:
            recent.popleft()
        recent.append(now)
        if len(self._failures) > 10_000:  # forget the quietest sources first
            for key in [k for k, v in self._failures.items() if not v or v[-1] < now - timers.failure_window]:
                del self._failures[key]
        beyond = len(recent) - timers.free_failures
        if beyond <= 0:
            return 0.0
        return min(timers.max_delay, timers.first_delay * 2 ** min(beyond - 1, 30))

    def _enquire_link(self, session: Session, pdu: Pdu) -> None:
        session.send(pdu.response())

    def _unbind(self, session: Session, pdu: Pdu) -> None:
        if session.bound is None:
            session.send(pdu.response(self.profile.status("submit_sm", "not_bound", "ESME_RINVBNDSTS")))
            return
        session.send(pdu.response())
        session.closing = True

    def _unbind_resp(self, session: Session, pdu: Pdu) -> None:
        session.closing = True

    # -- submit_sm ------------------------------------------------------------------------------------
    def _submit_batch(self, session: Session, pdus: list[Pdu]) -> None:
        """Answer submit_sm PDUs in order: each is checked and reassembled on its own, the whole messages
        among them go to the core together, and their protocols are recorded for receipts and replies."""
        if not pdus:
            return
        try:
            answers: list[Pdu | tuple[Pdu, Whole]] = [self._prepare(session, q) for q in pdus]
            pending = [(i, a) for i, a in enumerate(answers) if isinstance(a, tuple)]
            if pending:
                results = self._submit_items(session, [whole.submission for _, (_, whole) in pending])
                rows, parts = [], []
                for (i, (pdu, whole)), result in zip(pending, results):
                    if isinstance(result, Refused):
                        answers[i] = pdu.response(self.profile.status("submit_sm", result.reason))
                    else:
                        answers[i] = pdu.response(message_id=result.hash)
                        rows.append((result.id, session.who.client_id, int(pdu["registered_delivery"]),  # type: ignore[union-attr]
                                     str(pdu["source_addr"]), int(pdu["source_addr_ton"]),
                                     int(pdu["source_addr_npi"]), str(pdu["destination_addr"]),
                                     int(pdu["dest_addr_ton"]), int(pdu["dest_addr_npi"]), len(whole.parts)))
                        parts.extend((result.id, part_id, wanted) for part_id, wanted in whole.parts)
                if rows:
                    with self.core.store.transaction() as db:
                        db.executemany("INSERT OR REPLACE INTO smpp_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                       rows)
                        if parts:
                            db.executemany("INSERT INTO smpp_parts VALUES (?, ?, ?)", parts)
                        self._announce_scheduled([r for r in results
                                                  if isinstance(r, Accepted) and r.scheduled])
        except Exception:  # never a dead connection for a failure of ours: a system error for each
            log.exception("SMPP submit_sm failed")
            retry = self.profile.status("submit_sm", "retry", "ESME_RSYSERR")
            answers = [q.response(retry) for q in pdus]
        session.send_raw(b"".join(p.encode(answer) for answer in answers))  # type: ignore[arg-type]

    def _submit_items(self, session: Session, items: list[Submission]) -> list[Accepted | Refused]:
        """One core call for the batch; the core refuses a batch whose cost exceeds the balance whole, but
        these are separate requests, so then each is submitted alone and judged on its own."""
        who = session.who
        assert who is not None
        try:
            return self.core.submit(who, DIALECT, items)
        except Refused as refusal:
            if len(items) == 1:
                return [refusal]
        results: list[Accepted | Refused] = []
        for item in items:
            try:
                results.extend(self.core.submit(who, DIALECT, [item]))
            except Refused as refusal:
                results.append(refusal)
        return results

    def _prepare(self, session: Session, pdu: Pdu) -> Pdu | tuple[Pdu, Whole]:
        """A submit_sm's immediate answer (a refusal, or the id of a part that does not complete its
        message), or the whole message to submit."""
        status = self.profile.status
        if not session.can_transmit or session.who is None:
            return pdu.response(status("submit_sm", "not_bound", "ESME_RINVBNDSTS"))
        if not session.allow():
            return pdu.response(status("submit_sm", "throttled", "ESME_RTHROTTLED"))
        try:
            item = self._accept(session, pdu)
        except SubmitRefused as refused:
            return pdu.response(refused.status)
        if isinstance(item, str):
            return pdu.response(message_id=item)
        return pdu, item

    def _accept(self, session: Session, pdu: Pdu) -> Whole | str:
        """Validate and reassemble one submit_sm: the whole message, or the id answering a part.

        Every part is answered with an id of its own and remembers its registered_delivery (SMPP 3.4
        § 5.2.17 is per submit_sm): the part that completes the message gets the message's protocol,
        the others' ids and requests come back in ``Whole.parts``, so each gets the receipts it asked
        for (Kannel asks on part 1 only and keeps part 1's id; smpplib asks on every part)."""
        profile = self.profile
        coding = int(pdu["data_coding"])
        if coding not in profile.codings:
            raise SubmitRefused(profile.coding_refusal, f"data_coding {coding}")
        number = self._destination(pdu)
        try:
            data = p.user_data(pdu)
        except PduError as err:
            raise SubmitRefused(err.status, err.detail) from None
        try:
            if int(pdu["esm_class"]) & p.ESM_UDHI:
                concat, body = p.parse_udh(data)
            else:
                concat, body = p.sar_concat(pdu), data
            others: list[tuple[str, int]] = []
            if concat is not None and concat.total > 1:
                key = (pdu["source_addr"], pdu["destination_addr"], coding)
                part_id = hashlib.md5(f"{self.core.secret}:smpp-part:{self._part_nonce}:{next(self._parts)}"
                                      .encode()).hexdigest()
                parts = session.reassembler.add_part(key, concat, body, (part_id, int(pdu["registered_delivery"])))
                if parts is None:
                    return part_id
                body = b"".join(part for part, _ in parts)
                others = [tag for _, tag in parts if tag[0] != part_id and tag[1]]  # type: ignore[index,misc]
            text = p.decode_text(body, coding)
        except p.CodingError as err:
            raise SubmitRefused(profile.undecodable, str(err)) from None
        if not text.strip():
            raise SubmitRefused(profile.status("submit_sm", "empty_message", "ESME_RINVMSGLEN"))
        if len(text) > profile.max_chars:
            raise SubmitRefused(profile.status("submit_sm", "too_many_chars", "ESME_RINVMSGLEN"))
        schedule_at = _schedule(str(pdu["schedule_delivery_time"]), self.core.now())
        # A message no part of which asked for a receipt has no observer of its status changes but a reader
        # (query_sm, a reply): the core settles it lazily in bulk instead of moving it step by step.
        observed = _asks_receipts(int(pdu["registered_delivery"])) or any(_asks_receipts(w) for _, w in others)
        return Whole(Submission(number, text, kind="long", type=0, schedule_at=schedule_at, observed=observed),
                     others)

    def _destination(self, pdu: Pdu) -> str:
        """The national number (DDD first) of a destination in one of the profile's formats: a TON no
        format has is ESME_RINVDSTTON, an NPI the TON does not take ESME_RINVDSTNPI, a number that fits
        no format of its TON and NPI ESME_RINVDSTADR."""
        ton, npi, addr = int(pdu["dest_addr_ton"]), int(pdu["dest_addr_npi"]), str(pdu["destination_addr"])
        formats = self.profile.formats_by_ton.get(ton)
        if not formats:
            raise SubmitRefused(self.profile.ton_refusal, f"dest_addr_ton {ton}")
        known_npi = False
        for fmt in formats:
            if npi in fmt.npis:
                known_npi = True
                national = fmt.national(addr)
                if national is not None:
                    return national
        if not known_npi:
            raise SubmitRefused(self.profile.npi_refusal, f"dest_addr_npi {npi} with TON {ton}")
        raise SubmitRefused(self.profile.destination_refusal, f"destination {ton}/{npi}/{addr}")

    # -- receipts and MO: rendering (called by the core, in its transaction) --------------------------
    def _announce_scheduled(self, accepted: list[Accepted]) -> None:
        """A scheduled message starts in DLR 0 (agendada): no status change ever reports it, so an ESME that
        asked for intermediate receipts (registered_delivery 0x10) gets its SCHEDULED one at once."""
        for result in accepted:
            msg = self.core.message(id=result.id)
            if msg is not None and msg.state == m.WAITING:
                self._render_receipt(self.core, msg, m.WAITING, self.core.now())

    def _render_receipt(self, core: Core, msg: Message, state: str, at: float) -> list[Any]:
        row = core.store.db.execute("SELECT * FROM smpp_messages WHERE message_id = ?", (msg.id,)).fetchone()
        if row is None:
            return []
        state = _reported_state(msg, state)
        dlr = self.profile.dlr(state) if state is not None else None
        if dlr is None:
            return []
        final = dlr.final and msg.next_at is None
        wants = [(msg.hash, row["registered_delivery"])]
        if row["parts"]:  # the other parts of a long message that asked for receipts, each with its own id
            wants += [(r[0], r[1]) for r in core.store.db.execute(
                "SELECT receipt_id, registered_delivery FROM smpp_parts WHERE message_id = ?", (msg.id,))]
        for receipt_id, wanted in wants:
            if _receipt_wanted(wanted, dlr, final):
                receipt = p.DeliveryReceipt(
                    id=receipt_id, sub=1, dlvrd=1 if state == m.DELIVERED else 0,
                    submit_date=local(msg.created_at).replace(tzinfo=None), done_date=local(at).replace(tzinfo=None),
                    stat=dlr.stat, err=dlr.code, text=msg.text)
                pdu = p.receipt_pdu(0, receipt, message_state=dlr.message_state, source_addr=row["dest_addr"],
                                    destination_addr=row["source_addr"], source_ton=row["dest_ton"],
                                    source_npi=row["dest_npi"], dest_ton=row["source_ton"], dest_npi=row["source_npi"])
                self._store(core, msg.client_id, "receipt", msg.id, pdu, at)
        return []

    def _render_mo(self, core: Core, mo: dict[str, Any], state: str, at: float) -> list[Any]:
        """A reply as deliver_sm: from the handset to the address the ESME sent the original from (when
        it was sent here), in the number form the ESME used; short_message when it fits one SMS, else
        message_payload."""
        original: Message | None = mo.get("original")
        row = None
        if original is not None:
            row = core.store.db.execute("SELECT * FROM smpp_messages WHERE message_id = ?",
                                        (original.id,)).fetchone()
        number = str(mo["number"])
        if row is not None and row["dest_addr"] == number:  # the ESME wrote the national form
            source, source_ton, source_npi = number, row["dest_ton"], row["dest_npi"]
        else:
            source, source_ton, source_npi = "55" + number, 1, 1
        destination = row["source_addr"] if row is not None else ""
        dest_ton, dest_npi = (row["source_ton"], row["source_npi"]) if row is not None else (1, 1)
        text = str(mo["text"])
        coding = p.choose_coding(text)
        data = p.encode_text(text, coding)
        single = len(p.split_text(text, coding, 0)) == 1
        pdu = p.make(CommandId.DELIVER_SM, 0, source_addr_ton=source_ton, source_addr_npi=source_npi,
                     source_addr=source, dest_addr_ton=dest_ton, dest_addr_npi=dest_npi,
                     destination_addr=destination, data_coding=coding,
                     short_message=data if single else b"",
                     tlvs=None if single else {p.Tag.MESSAGE_PAYLOAD: data})
        self._store(core, int(mo["client_id"]), "mo", original.id if original else None, pdu, at)
        return []

    def _store(self, core: Core, client_id: int, kind: str, message_id: int | None, pdu: Pdu, at: float) -> None:
        core.store.db.execute(
            "INSERT INTO smpp_outbox (client_id, kind, message_id, pdu, created_at) VALUES (?, ?, ?, ?, ?)",
            (client_id, kind, message_id, p.encode(pdu), at))
        self._notify()

    def _notify(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        if threading.get_ident() == self._loop_thread:
            wake.set()
        else:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # the loop is closed: the rows wait in the outbox for the next start
                pass

    # -- receipts and MO: delivery --------------------------------------------------------------------
    async def _pump(self) -> None:
        assert self._wake is not None
        while not self._stopped:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                self._expire_inflight()
                self._deliver()
            except Exception:  # keep pushing; a failure is logged and the rows retried next turn
                log.exception("SMPP outbox delivery failed")
            await asyncio.sleep(0)

    def _expire_inflight(self) -> None:
        limit = time.monotonic() - RESPONSE_TIMEOUT
        for session in list(self.sessions):
            for seq, (outbox_id, sent) in list(session.inflight.items()):
                if sent < limit:
                    del session.inflight[seq]
                    self._inflight.discard(outbox_id)

    def _deliver(self) -> None:
        """Offer stored deliver_sm to the receiving sessions of their accounts, window permitting."""
        receivers: dict[int, list[Session]] = {}
        for session in self.sessions:
            if session.can_receive and session.who is not None and not session.closing:
                receivers.setdefault(session.who.client_id, []).append(session)
        db = self.core.store.db
        now = time.time()
        for client_id, sessions in receivers.items():
            free = sum(self.window - len(s.inflight) for s in sessions)
            if free <= 0:
                continue
            rows = db.execute(
                "SELECT id, pdu FROM smpp_outbox WHERE client_id = ? AND (retry_at IS NULL OR retry_at <= ?)"
                " ORDER BY id LIMIT ?", (client_id, now, free + len(self._inflight))).fetchall()
            targets = itertools.cycle(sessions)
            for row in rows:
                if row["id"] in self._inflight:
                    continue
                session = next((s for s in itertools.islice(targets, len(sessions))
                                if len(s.inflight) < self.window), None)
                if session is None:
                    break
                seq = session.next_sequence()
                data = bytes(row["pdu"])
                session.send_raw(data[:12] + seq.to_bytes(4, "big") + data[16:])
                session.inflight[seq] = (row["id"], time.monotonic())
                self._inflight.add(row["id"])

    def _delivered(self, session: Session, pdu: Pdu) -> None:
        entry = session.inflight.pop(pdu.sequence_number, None)
        if entry is None:
            return
        outbox_id, _ = entry
        self._inflight.discard(outbox_id)
        db = self.core.store.db
        if pdu.command_status == Status.ESME_ROK:
            db.execute("DELETE FROM smpp_outbox WHERE id = ?", (outbox_id,))
        else:
            attempts = (db.execute("SELECT attempts FROM smpp_outbox WHERE id = ?", (outbox_id,)).fetchone()
                        or (0,))[0] + 1
            delay = RETRY_SECONDS[min(attempts - 1, len(RETRY_SECONDS) - 1)]
            db.execute("UPDATE smpp_outbox SET attempts = ?, retry_at = ? WHERE id = ?",
                       (attempts, time.time() + delay, outbox_id))
        self._notify()

    def _nacked(self, session: Session, pdu: Pdu) -> None:
        """An ESME's generic_nack of one of our deliver_sm: a failed delivery, retried later."""
        if pdu.sequence_number in session.inflight:
            self._delivered(session, Pdu(CommandId.DELIVER_SM_RESP, pdu.sequence_number,
                                         pdu.command_status or Status.ESME_RSYSERR))


# -- helpers ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Whole:
    """A message whose last missing part has arrived: what goes to the core, and the other parts that
    asked for receipts (their ids and registered_delivery)."""

    submission: Submission
    parts: list[tuple[str, int]]


def _reported_state(msg: Message, state: str) -> str | None:
    """The state a receipt reports: a message the platform paused is still accepted and will be sent (DLR 6,
    so a cancel then is 6 -> 4); when it is resumed, waiting and queued again tell the ESME nothing new."""
    if state == m.PAUSED:
        return m.QUEUED
    if state in (m.WAITING, m.QUEUED) and msg.entered(m.PAUSED) is not None:
        return None
    return state
def _asks_receipts(wanted: int) -> bool:
    """Whether a registered_delivery (SMPP 3.4 § 5.2.17) asks the SMSC for any receipt at all: a final one
    (bits 0-1) or the intermediate notifications (bit 4); bits 2-3 ask for SME acknowledgements, which
    the SMSC does not send."""
    return bool(wanted & RECEIPT_BITS)


def _receipt_wanted(wanted: int, dlr: Dlr, final: bool) -> bool:
    """registered_delivery (SMPP 3.4 § 5.2.17): bits 0-1 the final receipt (1 always, 2 on failure only),
    bit 4 (0x10) the intermediate notifications too."""
    if not _asks_receipts(wanted):
        return False
    if final:
        mode = wanted & 0x03
        return mode == 1 or (mode == 2 and not dlr.success)
    return bool(wanted & 0x10)


def _add_parts_column(db: Any) -> None:
    """A database written before long messages kept their parts' receipts lacks smpp_messages.parts."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(smpp_messages)")}
    if "parts" not in columns:
        db.execute("ALTER TABLE smpp_messages ADD COLUMN parts INTEGER NOT NULL DEFAULT 0")


def _schedule(value: str, now: float) -> float | None:
    """schedule_delivery_time (SMPP 3.4 § 7.1.1, YYMMDDhhmmsstnnp) as epoch seconds: absolute with its
    quarter-hour offset, or relative ("R") to now. The codec has checked the shape."""
    if not value:
        return None
    try:
        fields = [int(value[i:i + 2]) for i in range(0, 12, 2)]
        tenths, quarters, sign = int(value[12]), int(value[13:15]), value[15]
        if sign == "R":
            years, months, days, hours, minutes, seconds = fields
            return now + timedelta(days=years * 365 + months * 30 + days, hours=hours, minutes=minutes,
                                   seconds=seconds).total_seconds()
        offset = timedelta(minutes=15 * quarters) * (-1 if sign == "-" else 1)
        year, month, day, hour, minute, second = fields
        moment = datetime(2000 + year, month, day, hour, minute, second, tenths * 100000, timezone(offset))
        return moment.timestamp()
    except (ValueError, IndexError):
        raise SubmitRefused(Status.ESME_RINVSCHED, f"schedule_delivery_time {value!r}") from None


__all__ = ["SmppServer", "Profile", "Session", "Timers"]
