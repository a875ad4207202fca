"""The SMPP client: the provider's SMPP 3.4 access (seed 003 § SMPP), through smpplib.

Why it is built this way:

- smpplib builds and parses every PDU, but the session loop is ours: an SMSC may send a deliver_sm or an
  enquire_link before the response we wait for, and smpplib's blocking ``read_pdu`` would hand us the wrong
  PDU. ``request()`` reads until the response with our sequence number, answering deliver_sm (kept for
  ``deliveries()``) and enquire_link on the way; smpplib's client-side state checks are bypassed, so a
  submit_sm before bind can be sent and its ESME_RINVBNDSTS observed.
- Results carry the command_status as the catalog writes smpp codes: ``0x0000000E`` and its SMPP 3.4 name
  ``ESME_RINVPASWD`` (codes.yaml, smpp.bind / submit_sm / generic_nack).
- Delivery receipts are parsed here, from SMPP 3.4 Appendix B, not with the emulator's codec: a shared
  parser would hide a fault both made.
- Everything the profile decides (system_type, interface_version, TON/NPI, data codings) is read from
  contracts/smpp/profile.yaml; every PDU exchanged is kept as an Exchange (evidence for reports).
"""
from __future__ import annotations

import re
import select
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import smpplib.client
import smpplib.consts as C
import smpplib.gsm
import smpplib.smpp

from ...contracts import load_contracts
from ..exchange import RECORDED, Exchange
from ..target import Target
from .base import DialectClient, NotExercised, Result

TEST_TEXT = "smsconform teste de conformidade"
SOURCE_ADDR = "5511900000000"
"""The ESME's own number (TON 1 / NPI 1, as the profile's source_address): receipts come back to it."""
STATUS_NAMES: dict[int, str] = {value: name[len("SMPP_"):] for name, value in vars(C).items()
                                if name.startswith("SMPP_ESME_") and isinstance(value, int)}
BIND_COMMANDS = {"transmitter": "bind_transmitter", "receiver": "bind_receiver", "transceiver": "bind_transceiver"}
CODINGS = {"gsm": C.SMPP_ENCODING_DEFAULT, "ia5": C.SMPP_ENCODING_IA5, "latin1": C.SMPP_ENCODING_ISO88591,
           "ucs2": C.SMPP_ENCODING_ISO10646}
"""The SMPP 3.4 § 5.2.19 text codings the client writes, by name."""
OCTET_CODECS = {"ia5": "ascii", "latin1": "latin-1"}
"""One character per octet: IA5 is T.50's international reference version (ASCII), Latin 1 ISO-8859-1."""
GSM_BASIC = smpplib.gsm.GSM_CHARACTER_TABLE[:128]
GSM_EXTENSION = {i: ch for i, ch in enumerate(smpplib.gsm.GSM_CHARACTER_TABLE[128:]) if ch != "`"}
RECEIPT = re.compile(
    r"id:(?P<id>\S+)\s+sub:(?P<sub>\d{3})\s+dlvrd:(?P<dlvrd>\d{3})\s+submit date:(?P<submit>\d{10}(?:\d{2})?)\s+"
    r"done date:(?P<done>\d{10}(?:\d{2})?)\s+stat:(?P<stat>[A-Z]{7})\s+err:(?P<err>\d{3})(?:\s+text:(?P<text>.*))?",
    re.DOTALL,
)
"""SMPP 3.4 Appendix B: fixed-width sub/dlvrd/err, 10-digit dates (12 tolerated), seven-letter stat values."""


def status_result(status: int) -> Result:
    """A command_status as the catalog writes it: ``0x0000000E`` with its 3.4 name ``ESME_RINVPASWD``."""
    return Result(f"0x{status:08X}", STATUS_NAMES.get(status, f"unknown status 0x{status:08X}"), status == 0)


def gsm_decode(data: bytes) -> str:
    """GSM 03.38 default alphabet, one septet per octet (unpacked, as SMPP carries it), with escapes."""
    out, escape = [], False
    for octet in data:
        if escape:
            out.append(GSM_EXTENSION.get(octet, "?"))
            escape = False
        elif octet == 0x1B:
            escape = True
        else:
            out.append(GSM_BASIC[octet] if octet < 128 else "?")
    return "".join(out)


def decode_text(data: bytes, coding: int) -> str:
    if coding == C.SMPP_ENCODING_ISO10646:
        return data.decode("utf-16-be", "replace")
    if coding == C.SMPP_ENCODING_DEFAULT:
        return gsm_decode(data)
    if coding == C.SMPP_ENCODING_IA5:
        return data.decode("ascii", "replace")
    return data.decode("latin-1")


def encode_text(text: str, coding: str) -> bytes:
    if coding == "ucs2":
        return text.encode("utf-16-be")
    if coding in OCTET_CODECS:
        return text.encode(OCTET_CODECS[coding])
    return smpplib.gsm.gsm_encode(text)


def fits_gsm(text: str) -> bool:
    try:
        smpplib.gsm.gsm_encode(text)
    except UnicodeError:
        return False
    return True


@dataclass(frozen=True)
class Receipt:
    id: str
    sub: str
    dlvrd: str
    submit_date: str
    done_date: str
    stat: str
    err: str
    text: str


@dataclass(frozen=True)
class Delivery:
    """A deliver_sm the SMSC sent: a delivery receipt (esm_class 0x04) or an MO message."""

    source_addr: str
    source_ton: int
    source_npi: int
    destination_addr: str
    esm_class: int
    data_coding: int
    text: str
    receipted_message_id: str | None
    message_state: int | None
    raw: str

    @property
    def is_receipt(self) -> bool:
        return bool(self.esm_class & 0x3C == 0x04)

    @property
    def receipt(self) -> Receipt | None:
        found = RECEIPT.fullmatch(self.text.strip("\x00").strip())
        if found is None:
            return None
        return Receipt(found["id"], found["sub"], found["dlvrd"], found["submit"], found["done"], found["stat"],
                       found["err"], found["text"] or "")


@dataclass
class Submitted:
    """What one message's submit_sm(s) got: one result per part, in order; the message id is the last one's."""

    parts: list[Result] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)

    @property
    def result(self) -> Result:
        """The message's answer: the first refused part, else the last part's (which names the message)."""
        return next((r for r in self.parts if r.success is False), self.parts[-1])

    @property
    def message_id(self) -> str | None:
        return self.ids[-1] if self.ids and self.result.success else None


class SmppError(AssertionError):
    """The SMSC broke the session (closed, or answered nothing in time)."""


class SmppSession:
    """One TCP connection to the SMSC, with our own read loop (see the module docstring)."""

    def __init__(self, client: "SmppClient", timeout: float = 10.0) -> None:
        self.client = client
        self.timeout = timeout
        self.smpp = smpplib.client.Client(client.host, client.port, timeout=timeout, allow_unknown_opt_params=True)
        self.smpp.connect()
        self.inbox: list[Delivery] = []
        self.closed = False
        self.bind_resp: Any = None

    # -- the wire -----------------------------------------------------------------------------------
    @property
    def socket(self) -> socket.socket:
        return self.smpp._socket

    def write(self, pdu: Any) -> None:
        self.socket.sendall(pdu.generate())

    def write_raw(self, data: bytes) -> None:
        self.socket.sendall(data)

    def read_header(self, timeout: float) -> tuple[int, int, int, bytes] | None:
        """The next PDU as (command_id, command_status, sequence_number, body), read off the socket without
        smpplib, which parses no cancel_sm_resp, replace_sm_resp or submit_multi_resp; None if nothing
        arrives in ``timeout``; SmppError if the SMSC closed the connection."""
        ready, _, _ = select.select([self.socket], [], [], timeout)
        if not ready:
            return None
        header = self._recv_exact(16, timeout)
        length, command_id, status, sequence = struct.unpack(">IIII", header)
        body = self._recv_exact(max(0, length - 16), timeout)
        return command_id, status, sequence, body

    def _recv_exact(self, size: int, timeout: float) -> bytes:
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < size:
            ready, _, _ = select.select([self.socket], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise SmppError(f"a PDU left unfinished: {len(data)} of {size} octets in {timeout}s")
            chunk = self.socket.recv(size - len(data))
            if not chunk:
                self.closed = True
                raise SmppError(f"the SMSC closed the connection ({len(data)} of {size} octets read)")
            data += chunk
        return data

    def read(self, timeout: float | None = None) -> Any | None:
        """The next PDU, None if none arrives in ``timeout``; SmppError if the SMSC closed the connection."""
        wait = self.timeout if timeout is None else timeout
        ready, _, _ = select.select([self.socket], [], [], wait)
        if not ready:
            return None
        try:
            pdu = self.smpp.read_pdu()
        except (smpplib.exceptions.ConnectionError, OSError) as exc:
            self.closed = True
            raise SmppError(f"the SMSC closed the connection ({exc})") from None
        self._on_incoming(pdu)
        return pdu

    def _on_incoming(self, pdu: Any) -> None:
        """Answer what the SMSC asks of us; keep deliver_sm for ``deliveries()``."""
        if pdu.command == "deliver_sm":
            self.inbox.append(self._delivery(pdu))
            resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=self.smpp, status=0)
            resp.sequence = pdu.sequence
            self.write(resp)
        elif pdu.command == "enquire_link":
            resp = smpplib.smpp.make_pdu("enquire_link_resp", client=self.smpp)
            resp.sequence = pdu.sequence
            self.write(resp)
        elif pdu.command == "unbind":
            resp = smpplib.smpp.make_pdu("unbind_resp", client=self.smpp)
            resp.sequence = pdu.sequence
            self.write(resp)

    def request(self, pdu: Any, label: str | None = None) -> Any:
        """Send ``pdu`` and return its response (or the generic_nack naming its sequence number)."""
        started = time.perf_counter()
        self.write(pdu)
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            answer = self.read(max(left, 0.0)) if left > 0 else None
            if answer is None:
                raise SmppError(f"no answer to {pdu.command} (sequence {pdu.sequence}) in {self.timeout}s")
            if answer.sequence == pdu.sequence and (answer.command == f"{pdu.command}_resp"
                                                    or answer.command == "generic_nack"):
                self._record(label or pdu.command, pdu, answer, started)
                return answer

    def _record(self, operation: str, request: Any, answer: Any, started: float) -> None:
        def describe(p: Any) -> str:
            names = [n for n in getattr(p, "params_order", ()) if getattr(p, n, None) not in (None, b"", "")]
            return f"{p.command} seq={p.sequence} " + " ".join(f"{n}={getattr(p, n)!r}" for n in names)

        RECORDED.append(Exchange(
            dialect="smpp", operation=operation, method="SMPP", url=f"smpp://{self.client.host}:{self.client.port}",
            request_headers={}, request_body=describe(request), status=int(answer.status),
            response_headers={}, text=f"{STATUS_NAMES.get(int(answer.status), answer.status)} {describe(answer)}",
            elapsed_ms=(time.perf_counter() - started) * 1000, parsed=answer,
        ))

    def make(self, command: str, **fields: Any) -> Any:
        """A PDU with exactly ``fields``: smpplib keeps a class default (interface_version 0x34, ...) over a
        keyword argument, so each field is set on the instance."""
        pdu = smpplib.smpp.make_pdu(command, client=self.smpp)
        for name, value in fields.items():
            setattr(pdu, name, value)
        return pdu

    # -- operations -----------------------------------------------------------------------------------
    def bind(self, mode: str = "transceiver", account: str = "main", **overrides: Any) -> Result:
        """bind_* with the account's system_id and password and the profile's system_type and version;
        ``overrides`` replace any field (a wrong password, another system_type, ...)."""
        creds = self.client.credentials(account)
        profile = self.client.profile
        fields = {"system_id": creds.get("system_id", ""), "password": creds.get("password", ""),
                  "system_type": str(profile["system_type"]["value"]),
                  "interface_version": int(profile["version"]["interface_version"]),
                  "addr_ton": int(profile["source_address"]["ton"]), "addr_npi": int(profile["source_address"]["npi"]),
                  "address_range": ""}
        fields.update(overrides)
        answer = self.request(self.make(BIND_COMMANDS[mode], **fields), "bind")
        self.bind_resp = answer
        return status_result(int(answer.status))

    def enquire_link(self) -> Result:
        return status_result(int(self.request(self.make("enquire_link"), "enquire_link").status))

    def unbind(self, close: bool = True) -> Result:
        result = status_result(int(self.request(self.make("unbind"), "unbind").status))
        if close:
            self.close()
        return result

    def closed_by_peer(self, timeout: float = 3.0) -> bool:
        """Whether the SMSC closes the connection within ``timeout`` (PDUs it sends meanwhile are handled)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.read(max(deadline - time.monotonic(), 0.0))
        except SmppError:
            return True
        return False

    def submit(self, destination_addr: str, short_message: str = TEST_TEXT, *, coding: str = "auto",
               long: str = "udh", registered_delivery: int = 1, international: bool = False,
               data_coding: int | None = None, part_registered_delivery: list[int] | None = None,
               **extra: Any) -> Submitted:
        """Submit one message, split as SMPP needs: one submit_sm when it fits, else UDH parts (``udh``),
        sar_* TLV parts (``sar``), or one submit_sm with message_payload (``payload``).

        ``destination_addr`` is the national number (DDD first); ``international`` sends it as TON 1 with
        the country code, else TON 0 (both are the profile's destination formats).
        ``part_registered_delivery`` gives each part its own registered_delivery, as real ESMEs do
        (Kannel asks on part 1 only: ``[0x11, 0]``).
        """
        if coding == "auto":
            coding = "gsm" if fits_gsm(short_message) else "ucs2"
        encoded = encode_text(short_message, coding)
        single = 160 if coding == "gsm" else 140  # septets for GSM, octets for the others
        part_size = 153 if coding == "gsm" else 134
        dest = destination_addr
        ton = 0
        if international:
            dest, ton = ("55" + destination_addr, 1)
        base = {"source_addr_ton": int(self.client.profile["source_address"]["ton"]),
                "source_addr_npi": int(self.client.profile["source_address"]["npi"]),
                "source_addr": SOURCE_ADDR, "dest_addr_ton": ton, "dest_addr_npi": 1, "destination_addr": dest,
                "registered_delivery": registered_delivery,
                "data_coding": CODINGS[coding] if data_coding is None else data_coding, "esm_class": 0}
        base.update(extra)
        out = Submitted()
        if len(encoded) <= single or long == "payload":
            if len(encoded) <= 254 and long != "payload":
                pdus = [self.make("submit_sm", short_message=encoded, **base)]
            else:
                pdus = [self.make("submit_sm", short_message=None, message_payload=encoded, **base)]
        elif long == "udh":
            chunks = [encoded[i:i + part_size] for i in range(0, len(encoded), part_size)]
            ref = int(time.monotonic_ns() % 255) + 1
            pdus = [self.make("submit_sm", short_message=bytes([5, 0, 3, ref, len(chunks), n]) + chunk,
                              **{**base, "esm_class": base["esm_class"] | C.SMPP_GSMFEAT_UDHI})
                    for n, chunk in enumerate(chunks, start=1)]
        elif long == "sar":
            chunks = [encoded[i:i + part_size] for i in range(0, len(encoded), part_size)]
            ref = int(time.monotonic_ns() % 65535) + 1
            pdus = [self.make("submit_sm", short_message=chunk, sar_msg_ref_num=ref, sar_total_segments=len(chunks),
                              sar_segment_seqnum=n, **base) for n, chunk in enumerate(chunks, start=1)]
        else:
            raise ValueError(f"long={long!r}: udh, sar or payload")
        if part_registered_delivery is not None:
            if len(part_registered_delivery) != len(pdus):
                raise ValueError(f"{len(pdus)} parts, {len(part_registered_delivery)} registered_delivery values")
            for pdu, wanted in zip(pdus, part_registered_delivery):
                pdu.registered_delivery = wanted
        for pdu in pdus:
            answer = self.request(pdu, "submit_sm")
            out.parts.append(status_result(int(answer.status)))
            ident = getattr(answer, "message_id", None)
            out.ids.append(None if not ident else ident.decode() if isinstance(ident, bytes) else str(ident))
            if int(answer.status) != 0:
                break
        return out

    # -- what the SMSC sends -------------------------------------------------------------------------
    def _delivery(self, pdu: Any) -> Delivery:
        def text_of(value: Any) -> str:
            return value.decode("latin-1") if isinstance(value, bytes) else ("" if value is None else str(value))

        data = pdu.short_message or getattr(pdu, "message_payload", None) or b""
        data = data if isinstance(data, bytes) else str(data).encode("latin-1")
        coding = int(pdu.data_coding or 0)
        if int(pdu.esm_class or 0) & C.SMPP_GSMFEAT_UDHI and data:
            data = data[data[0] + 1:]
        receipted = getattr(pdu, "receipted_message_id", None)
        state = getattr(pdu, "message_state", None)
        return Delivery(
            source_addr=text_of(pdu.source_addr), source_ton=int(pdu.source_addr_ton or 0),
            source_npi=int(pdu.source_addr_npi or 0), destination_addr=text_of(pdu.destination_addr),
            esm_class=int(pdu.esm_class or 0), data_coding=coding, text=decode_text(data, coding),
            receipted_message_id=None if receipted is None else text_of(receipted).rstrip("\x00"),
            message_state=None if state is None else int(state), raw=data.hex(),
        )

    def deliveries(self, until: Callable[[list[Delivery]], bool], timeout: float,
                   nudge: Callable[[], None] | None = None) -> list[Delivery]:
        """Read what the SMSC sends until ``until(inbox)`` holds or ``timeout`` passes; ``nudge`` is called
        between reads (to move a controlled clock)."""
        deadline = time.monotonic() + timeout
        while not until(self.inbox) and time.monotonic() < deadline:
            if nudge is not None:
                nudge()
            self.read(min(0.2, max(deadline - time.monotonic(), 0.0)))
        return list(self.inbox)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.smpp.disconnect()
            except Exception:  # the SMSC may have closed first
                pass
        self.smpp._socket = None


class SmppClient(DialectClient):
    dialect = "smpp"

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        spec = self.spec
        if not spec.host or not spec.port:
            raise NotExercised("the target does not offer smpp")
        self.host = spec.host
        self.port = int(spec.port)
        self.profile: dict[str, Any] = load_contracts().smpp
        self._sessions: list[SmppSession] = []

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    def connect(self, timeout: float | None = None) -> SmppSession:
        """A connection whose every wait for an answer is bounded by ``timeout`` (the profile's http.timeout)."""
        session = SmppSession(self, self.target.http_timeout if timeout is None else timeout)
        self._sessions.append(session)
        return session

    def session(self, mode: str = "transceiver", account: str = "main", timeout: float | None = None) -> SmppSession:
        """A connection bound as ``mode``; AssertionError if the bind is refused."""
        session = self.connect(timeout)
        result = session.bind(mode, account)
        if result.code != status_result(0).code:
            session.close()
            raise AssertionError(f"smpp bind_{mode} as {account!r} refused: {result.text}")
        return session

    def sessions(self) -> Iterator[SmppSession]:
        yield from self._sessions

    # -- the families' shared vocabulary --------------------------------------------------------------
    def valid_request(self, operation: str) -> dict[str, Any]:
        if operation == "bind":
            return {}
        if operation in ("submit_sm", "dlr"):
            return {"destination_addr": self.number(), "short_message": TEST_TEXT}
        raise NotExercised(f"no valid request is known for smpp.{operation}")

    @staticmethod
    def result(status: int) -> Result:
        return status_result(status)

    @staticmethod
    def header(length: int, command_id: int, status: int = 0, sequence: int = 1) -> bytes:
        """A raw PDU header, for malformed PDUs smpplib would never write."""
        return struct.pack(">IIII", length, command_id, status, sequence)
