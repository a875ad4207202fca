"""SMPP 3.4 PDU codec: framing, PDUs, TLVs, GSM 03.38 / UCS-2 text, UDH concatenation, delivery receipts.

Pure functions over bytes, no sockets and no emulator state, so the SMPP server, the conformance suite
and the tests share one codec and a malformed PDU is an ordinary value to test.

Reading a connection::

    reader = FrameReader()
    for frame in reader.feed(chunk):       # whole PDUs; PduError(fatal=True) on a bad command_length:
        try:                               #   answer generic_nack, then close (the stream cannot resync)
            pdu = decode(frame)            # -> Pdu
        except PduError as err:            # err.status is the command_status to answer with
            send(encode(error_response(err)))   # generic_nack or the request's own _resp
            continue
        if pdu.command_id == CommandId.SUBMIT_SM:
            data = user_data(pdu)                              # short_message or message_payload
            concat, body = parse_udh(data) if pdu["esm_class"] & ESM_UDHI else (None, data)
            text = decode_text(body, pdu["data_coding"])      # CodingError if undecodable
            send(encode(pdu.response(message_id="...")))

Writing: ``make("deliver_sm", seq, destination_addr="...", short_message=b"...")``,
``pdu.response(...)``, ``generic_nack(seq, status)``, ``receipt_pdu(seq, DeliveryReceipt(...), ...)``;
``encode(pdu) -> bytes``.

A :class:`Pdu` holds the header, the mandatory body fields in ``params`` (C-octet strings as ``str``,
decoded Latin-1 so any octet survives; integers as ``int``; ``short_message`` as ``bytes``, its
``sm_length`` implied) and the TLVs in ``tlvs`` (tag -> raw value octets, in wire order). Missing fields
take their defaults, so ``decode(encode(p)) == p`` for every PDU this module builds. Accessors:
``pdu["field"]``, ``pdu.tlv_int(Tag.MESSAGE_STATE)``, ``pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID)``.

Texts: ``encode_text`` / ``decode_text`` for data_coding 0 (GSM 03.38 default alphabet with its extension
table, one septet per octet, unpacked as SMPP carries it), 1 (IA5, ASCII), 3 (Latin-1) and 8 (UCS-2,
big-endian; characters beyond the BMP as UTF-16 surrogate pairs); ``choose_coding(text)``; ``split_text`` / ``join_segments`` for UDH
concatenation (IEI 0x00, 8-bit reference; ``parse_udh`` also reads IEI 0x08), ``sar_concat`` for the
sar_* TLV variant, and :class:`Reassembler` for parts arriving interleaved.
Delivery receipts: :class:`DeliveryReceipt`, ``format_receipt`` and ``parse_receipt`` for the
``id:... sub:... dlvrd:... submit date:... done date:... stat:... err:... text:...`` text.

What the profile offers (ports, system_type, DLR code -> stat) is data in contracts/smpp/profile.yaml;
this module only knows the protocol.
"""
from __future__ import annotations

import datetime as dt
import re
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Callable, Iterable, Union

__all__ = [
    "DATA_CODING_GSM", "DATA_CODING_IA5", "DATA_CODING_LATIN1", "DATA_CODING_UCS2", "TEXT_CODINGS", "ESM_DELIVERY_RECEIPT", "ESM_UDHI", "GSM_ALPHABET", "MAX_PDU_LENGTH",
    "RECEIPT_SAFE", "SMPP_VERSION_34",
    "CodingError", "CommandId", "Concat", "DeliveryReceipt", "FrameReader", "Pdu", "PduError",
    "Reassembler", "ReceiptError", "Status", "Tag", "choose_coding", "decode", "decode_text", "encode",
    "encode_text", "error_response", "format_receipt", "generic_nack", "gsm_decode", "gsm_encode",
    "gsm_septets", "join_segments", "make", "parse_receipt", "parse_udh", "receipt_pdu", "sar_concat",
    "split_text", "ucs2_decode", "ucs2_encode", "user_data",
]

HEADER = struct.Struct(">IIII")
HEADER_LENGTH = 16
MAX_PDU_LENGTH = 64 * 1024
"""Largest command_length accepted: well above any PDU this profile needs (a 64 KiB message_payload
would not fit either), small enough that a hostile length cannot make a reader buffer without bound."""

SMPP_VERSION_34 = 0x34
RESPONSE_BIT = 0x80000000
ESM_UDHI = 0x40
"""esm_class bit: short_message starts with a User Data Header."""
ESM_DELIVERY_RECEIPT = 0x04
"""esm_class message type of a deliver_sm that carries an SMSC delivery receipt."""
DATA_CODING_GSM = 0
DATA_CODING_IA5 = 1
DATA_CODING_LATIN1 = 3
DATA_CODING_UCS2 = 8
MAX_SHORT_MESSAGE = 254


class CommandId(IntEnum):
    """The PDUs of the profile (contracts/smpp/profile.yaml). Any other command_id is ESME_RINVCMDID."""

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


class Status(IntEnum):
    """SMPP 3.4 command_status values (section 5.1.3) this codec and the server use."""

    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVESMCLASS = 0x43
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


class Tag(IntEnum):
    """TLV tags (SMPP 3.4 section 5.3.2) the profile reads or writes; unknown tags are kept raw."""

    PAYLOAD_TYPE = 0x0019
    RECEIPTED_MESSAGE_ID = 0x001E
    USER_MESSAGE_REFERENCE = 0x0204
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427


class PduError(Exception):
    """A PDU that cannot be accepted, with the command_status to answer it with.

    ``command_id`` and ``sequence_number`` are those of the offending PDU when its header could be read
    (else None / 0). ``fatal`` is set by :class:`FrameReader` when the byte stream itself is lost (a
    command_length out of bounds): the peer gets a generic_nack and the connection is closed.
    """

    def __init__(self, status: int, detail: str, *, command_id: int | None = None,
                 sequence_number: int = 0, fatal: bool = False) -> None:
        super().__init__(f"{_status_name(status)}: {detail}")
        self.status = status
        self.detail = detail
        self.command_id = command_id
        self.sequence_number = sequence_number
        self.fatal = fatal


class CodingError(ValueError):
    """Text or a User Data Header that cannot be encoded or decoded in the requested data_coding."""


class ReceiptError(ValueError):
    """A delivery-receipt text that does not have the id:... stat:... form."""


def _status_name(status: int) -> str:
    try:
        return Status(status).name
    except ValueError:
        return f"0x{status:08X}"


# --- body layouts ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Field:
    """One mandatory body field: C-octet string (max octets including the NUL), 1-octet integer, or
    the short_message octet string preceded by its sm_length."""

    name: str
    kind: str  # "cstr" | "u8" | "sm"
    max: int = 0
    error: Status = Status.ESME_RINVCMDLEN  # what a value that breaks the field's rules is answered with


_BIND = (
    _Field("system_id", "cstr", 16, Status.ESME_RINVSYSID),
    _Field("password", "cstr", 9, Status.ESME_RINVPASWD),
    _Field("system_type", "cstr", 13, Status.ESME_RINVSYSTYP),
    _Field("interface_version", "u8"),
    _Field("addr_ton", "u8"),
    _Field("addr_npi", "u8"),
    _Field("address_range", "cstr", 41, Status.ESME_RBINDFAIL),
)
_BIND_RESP = (_Field("system_id", "cstr", 16, Status.ESME_RINVSYSID),)
_SM = (
    _Field("service_type", "cstr", 6, Status.ESME_RINVSERTYP),
    _Field("source_addr_ton", "u8"),
    _Field("source_addr_npi", "u8"),
    _Field("source_addr", "cstr", 21, Status.ESME_RINVSRCADR),
    _Field("dest_addr_ton", "u8"),
    _Field("dest_addr_npi", "u8"),
    _Field("destination_addr", "cstr", 21, Status.ESME_RINVDSTADR),
    _Field("esm_class", "u8"),
    _Field("protocol_id", "u8"),
    _Field("priority_flag", "u8"),
    _Field("schedule_delivery_time", "cstr", 17, Status.ESME_RINVSCHED),
    _Field("validity_period", "cstr", 17, Status.ESME_RINVEXPIRY),
    _Field("registered_delivery", "u8"),
    _Field("replace_if_present_flag", "u8"),
    _Field("data_coding", "u8"),
    _Field("sm_default_msg_id", "u8"),
    _Field("short_message", "sm", MAX_SHORT_MESSAGE, Status.ESME_RINVMSGLEN),
)
_SM_RESP = (_Field("message_id", "cstr", 65, Status.ESME_RINVMSGID),)

_LAYOUTS: dict[int, tuple[_Field, ...]] = {
    CommandId.GENERIC_NACK: (),
    CommandId.BIND_RECEIVER: _BIND,
    CommandId.BIND_TRANSMITTER: _BIND,
    CommandId.BIND_TRANSCEIVER: _BIND,
    CommandId.BIND_RECEIVER_RESP: _BIND_RESP,
    CommandId.BIND_TRANSMITTER_RESP: _BIND_RESP,
    CommandId.BIND_TRANSCEIVER_RESP: _BIND_RESP,
    CommandId.SUBMIT_SM: _SM,
    CommandId.DELIVER_SM: _SM,
    CommandId.SUBMIT_SM_RESP: _SM_RESP,
    CommandId.DELIVER_SM_RESP: _SM_RESP,
    CommandId.UNBIND: (),
    CommandId.UNBIND_RESP: (),
    CommandId.ENQUIRE_LINK: (),
    CommandId.ENQUIRE_LINK_RESP: (),
}
_FIELD_NAMES = {cid: frozenset(f.name for f in layout) for cid, layout in _LAYOUTS.items()}
_DEFAULTS: dict[str, object] = {"cstr": "", "u8": 0, "sm": b""}

_WITH_TLVS = frozenset({
    CommandId.SUBMIT_SM, CommandId.DELIVER_SM, CommandId.BIND_RECEIVER_RESP,
    CommandId.BIND_TRANSMITTER_RESP, CommandId.BIND_TRANSCEIVER_RESP,
})
"""PDUs that may carry TLVs in SMPP 3.4; any trailing octets on the others break command_length."""

_BODY_OMITTED_ON_ERROR = frozenset({
    CommandId.BIND_RECEIVER_RESP, CommandId.BIND_TRANSMITTER_RESP, CommandId.BIND_TRANSCEIVER_RESP,
    CommandId.SUBMIT_SM_RESP,
})
"""SMPP 3.4 sections 4.1.2/4.4.2: these responses have no body when command_status is not ESME_ROK."""

_TIME_RE = re.compile(r"\d{12}[0-4]\d{2}[-+R]\Z")
"""SMPP 3.4 section 7.1.1 time format YYMMDDhhmmsstnnp (absolute with +/- offset, or R relative)."""
_TIME_FIELDS = (Status.ESME_RINVSCHED, Status.ESME_RINVEXPIRY)
_TLV_HEADER = struct.Struct(">HH")


@dataclass(frozen=True, slots=True)
class _TlvSpec:
    kind: str  # "int" | "cstr" | "octets"
    min: int
    max: int


_TLV_SPECS: dict[int, _TlvSpec] = {
    Tag.PAYLOAD_TYPE: _TlvSpec("int", 1, 1),
    Tag.RECEIPTED_MESSAGE_ID: _TlvSpec("cstr", 1, 65),
    Tag.USER_MESSAGE_REFERENCE: _TlvSpec("int", 2, 2),
    Tag.SOURCE_PORT: _TlvSpec("int", 2, 2),
    Tag.DESTINATION_PORT: _TlvSpec("int", 2, 2),
    Tag.SAR_MSG_REF_NUM: _TlvSpec("int", 2, 2),
    Tag.SAR_TOTAL_SEGMENTS: _TlvSpec("int", 1, 1),
    Tag.SAR_SEGMENT_SEQNUM: _TlvSpec("int", 1, 1),
    Tag.SC_INTERFACE_VERSION: _TlvSpec("int", 1, 1),
    Tag.NETWORK_ERROR_CODE: _TlvSpec("octets", 3, 3),
    Tag.MESSAGE_PAYLOAD: _TlvSpec("octets", 0, MAX_PDU_LENGTH),
    Tag.MORE_MESSAGES_TO_SEND: _TlvSpec("int", 1, 1),
    Tag.MESSAGE_STATE: _TlvSpec("int", 1, 1),
}

ParamValue = Union[int, str, bytes]
TlvValue = Union[int, str, bytes]


# --- the PDU value ---------------------------------------------------------------------------------

@dataclass(slots=True)
class Pdu:
    """One SMPP PDU. ``params`` is completed with defaults and checked against the command's layout."""

    command_id: int
    sequence_number: int = 0
    command_status: int = 0
    params: dict[str, ParamValue] = field(default_factory=dict)
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        layout = _LAYOUTS.get(self.command_id)
        if layout is None:
            raise ValueError(f"no PDU layout for command_id 0x{self.command_id:08X}")
        unknown = set(self.params) - _FIELD_NAMES[self.command_id]
        if unknown:
            raise ValueError(f"{_command_name(self.command_id)} has no field {', '.join(sorted(unknown))}")
        if len(self.params) != len(layout):
            self.params = {f.name: self.params.get(f.name, _DEFAULTS[f.kind]) for f in layout}
        if self.tlvs and not all(type(v) is bytes for v in self.tlvs.values()):
            self.tlvs = {int(tag): _tlv_bytes(tag, value) for tag, value in self.tlvs.items()}

    @property
    def name(self) -> str:
        return _command_name(self.command_id)

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)

    def __getitem__(self, name: str) -> ParamValue:
        return self.params[name]

    def tlv_int(self, tag: int) -> int | None:
        value = self.tlvs.get(tag)
        return None if value is None else int.from_bytes(value, "big")

    def tlv_str(self, tag: int) -> str | None:
        value = self.tlvs.get(tag)
        return None if value is None else value.rstrip(b"\x00").decode("latin-1")

    def response(self, command_status: int = 0, *, tlvs: dict[int, TlvValue] | None = None,
                 **params: ParamValue) -> "Pdu":
        """This request's _resp, with the same sequence_number."""
        if self.is_response:
            raise ValueError(f"{self.name} is a response and has none")
        return Pdu(self.command_id | RESPONSE_BIT, self.sequence_number, command_status, dict(params),
                   dict(tlvs or {}))  # type: ignore[arg-type]


def make(command: CommandId | str | int, sequence_number: int = 0, command_status: int = 0, *,
         tlvs: dict[int, TlvValue] | None = None, **params: ParamValue) -> Pdu:
    """Build a PDU by command name (``"submit_sm"``) or id; unspecified fields take their defaults."""
    if isinstance(command, str):
        try:
            command_id = int(CommandId[command.upper()])
        except KeyError:
            raise ValueError(f"no PDU named {command!r}") from None
    else:
        command_id = int(command)
    return Pdu(command_id, sequence_number, command_status, dict(params), dict(tlvs or {}))  # type: ignore[arg-type]


def generic_nack(sequence_number: int, status: int) -> Pdu:
    return Pdu(CommandId.GENERIC_NACK, sequence_number, status)


def header_only(command_id: int, command_status: int, sequence_number: int) -> bytes:
    """A PDU of header alone: the answer to a request this SMSC does not offer, whose _resp (query_sm_resp,
    cancel_sm_resp, ...) has no layout here. SMPP 3.4 gives an error response no body to read."""
    return HEADER.pack(HEADER_LENGTH, command_id, command_status, sequence_number)


def error_response(err: PduError) -> Pdu:
    """What to answer a PDU that failed to decode.

    SMPP 3.4 section 4.3: generic_nack answers an invalid command_length or an unknown command_id (and
    anything whose command is not known); a known request whose body is wrong gets its own _resp with
    the error status, so the ESME can match it to the request it sent.
    """
    cid = err.command_id
    if (cid is None or cid not in _LAYOUTS or cid & RESPONSE_BIT
            or err.status in (Status.ESME_RINVCMDLEN, Status.ESME_RINVCMDID)):
        return generic_nack(err.sequence_number, err.status)
    return Pdu(cid | RESPONSE_BIT, err.sequence_number, err.status)


def user_data(pdu: Pdu) -> bytes:
    """The message octets of a submit_sm/deliver_sm: short_message, or the message_payload TLV.

    SMPP 3.4 section 5.3.2.32: message_payload replaces short_message (sm_length 0); both at once is
    refused with ESME_ROPTPARNOTALLWD.
    """
    short = pdu.params["short_message"]
    payload = pdu.tlvs.get(Tag.MESSAGE_PAYLOAD)
    if payload is None:
        return short  # type: ignore[return-value]
    if short:
        raise PduError(Status.ESME_ROPTPARNOTALLWD, "short_message and message_payload both present",
                       command_id=pdu.command_id, sequence_number=pdu.sequence_number)
    return payload


def _command_name(command_id: int) -> str:
    try:
        return CommandId(command_id).name.lower()
    except ValueError:
        return f"command 0x{command_id:08X}"


def _tlv_bytes(tag: int, value: TlvValue) -> bytes:
    """A TLV value as octets: ints sized by the tag's spec, strings NUL-terminated for C-string tags."""
    if isinstance(value, bytes):
        return value
    spec = _TLV_SPECS.get(tag)
    if spec is None:
        raise ValueError(f"TLV 0x{tag:04X} is not known: give its value as bytes")
    if isinstance(value, int) and spec.kind == "int":
        return value.to_bytes(spec.max, "big")
    if isinstance(value, str) and spec.kind == "cstr":
        return value.encode("latin-1") + b"\x00"
    raise ValueError(f"TLV 0x{tag:04X} ({spec.kind}) cannot hold {value!r}")


# --- encode ----------------------------------------------------------------------------------------

def encode(pdu: Pdu) -> bytes:
    """The PDU's octets. Raises ValueError for a value that does not fit its field."""
    parts: list[bytes] = []
    cid = pdu.command_id
    if not (pdu.command_status and cid in _BODY_OMITTED_ON_ERROR):
        params = pdu.params
        for f in _LAYOUTS[cid]:
            value = params[f.name]
            if f.kind == "u8":
                if not isinstance(value, int) or not 0 <= value <= 0xFF:
                    raise ValueError(f"{f.name} must be an integer 0..255, not {value!r}")
                parts.append(bytes((value,)))
            elif f.kind == "cstr":
                raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
                if b"\x00" in raw or len(raw) >= f.max:
                    raise ValueError(f"{f.name} must be under {f.max} octets without NUL, not {value!r}")
                parts.append(raw + b"\x00")
            else:
                raw = bytes(value)  # type: ignore[arg-type]
                if len(raw) > f.max:
                    raise ValueError(f"short_message is {len(raw)} octets, over {f.max}: use message_payload")
                parts.append(bytes((len(raw),)) + raw)
        if pdu.tlvs:
            if cid not in _WITH_TLVS:
                raise ValueError(f"{pdu.name} carries no TLVs")
            for tag, raw in pdu.tlvs.items():
                if not 0 <= tag <= 0xFFFF or len(raw) > 0xFFFF:
                    raise ValueError(f"TLV 0x{tag:X} does not fit")
                parts.append(_TLV_HEADER.pack(tag, len(raw)) + raw)
    body = b"".join(parts)
    if not (0 <= pdu.sequence_number <= 0xFFFFFFFF and 0 <= pdu.command_status <= 0xFFFFFFFF):
        raise ValueError("sequence_number and command_status are 32-bit unsigned")
    length = HEADER_LENGTH + len(body)
    if length > MAX_PDU_LENGTH:
        raise ValueError(f"PDU of {length} octets exceeds {MAX_PDU_LENGTH}")
    return HEADER.pack(length, cid, pdu.command_status, pdu.sequence_number) + body


# --- decode ----------------------------------------------------------------------------------------

def decode(data: bytes) -> Pdu:
    """One whole PDU (as FrameReader yields it) -> Pdu; raises PduError with the status to answer."""
    raw = bytes(data)
    if len(raw) < HEADER_LENGTH:
        raise PduError(Status.ESME_RINVCMDLEN, f"{len(raw)} octets, shorter than a header")
    length, cid, status, seq = HEADER.unpack_from(raw)
    if length != len(raw) or length > MAX_PDU_LENGTH:
        raise PduError(Status.ESME_RINVCMDLEN, f"command_length {length} for {len(raw)} octets",
                       command_id=cid, sequence_number=seq)
    layout = _LAYOUTS.get(cid)
    if layout is None:
        raise PduError(Status.ESME_RINVCMDID, f"unknown command_id 0x{cid:08X}", command_id=cid,
                       sequence_number=seq)
    if length == HEADER_LENGTH and (cid & RESPONSE_BIT) and status:
        return Pdu(cid, seq, status)  # an error response without its body (SMPP 3.4 section 4)
    try:
        params, pos = _decode_fields(layout, raw)
        if pos < length and cid not in _WITH_TLVS:
            raise PduError(Status.ESME_RINVCMDLEN, f"{length - pos} octets after the body")
        tlvs = _decode_tlvs(raw, pos) if pos < length else {}
    except PduError as err:
        err.command_id, err.sequence_number = cid, seq
        raise
    return Pdu(cid, seq, status, params, tlvs)


def _decode_fields(layout: tuple[_Field, ...], raw: bytes) -> tuple[dict[str, ParamValue], int]:
    """The mandatory fields, read from offset 16; returns them and the offset after them."""
    params: dict[str, ParamValue] = {}
    pos, end = HEADER_LENGTH, len(raw)
    for f in layout:
        if f.kind == "u8":
            if pos >= end:
                raise PduError(Status.ESME_RINVCMDLEN, f"body ends before {f.name}")
            params[f.name] = raw[pos]
            pos += 1
        elif f.kind == "cstr":
            nul = raw.find(b"\x00", pos, pos + f.max)
            if nul < 0:
                if end - pos < f.max:
                    raise PduError(Status.ESME_RINVCMDLEN, f"body ends inside {f.name}")
                raise PduError(f.error, f"{f.name} longer than {f.max - 1} octets")
            text = raw[pos:nul].decode("latin-1")
            if f.error in _TIME_FIELDS and text and not _TIME_RE.match(text):
                raise PduError(f.error, f"{f.name} {text!r} is not YYMMDDhhmmsstnnp")
            params[f.name] = text
            pos = nul + 1
        else:
            if pos >= end:
                raise PduError(Status.ESME_RINVCMDLEN, "body ends before sm_length")
            sm_length = raw[pos]
            if sm_length > f.max or pos + 1 + sm_length > end:
                raise PduError(f.error, f"sm_length {sm_length} with {end - pos - 1} octets left")
            params[f.name] = raw[pos + 1:pos + 1 + sm_length]
            pos += 1 + sm_length
    return params, pos


def _decode_tlvs(raw: bytes, pos: int) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    end = len(raw)
    while pos < end:
        if end - pos < 4:
            raise PduError(Status.ESME_RINVOPTPARSTREAM, "truncated TLV header")
        tag, length = _TLV_HEADER.unpack_from(raw, pos)
        pos += 4
        if pos + length > end:
            raise PduError(Status.ESME_RINVOPTPARSTREAM, f"TLV 0x{tag:04X} runs past the PDU")
        value = raw[pos:pos + length]
        spec = _TLV_SPECS.get(tag)
        if spec is not None:
            if not spec.min <= length <= spec.max:
                raise PduError(Status.ESME_RINVPARLEN, f"TLV 0x{tag:04X} of length {length}")
            if spec.kind == "cstr" and value.find(b"\x00") != length - 1:
                raise PduError(Status.ESME_RINVOPTPARAMVAL, f"TLV 0x{tag:04X} is not a C-octet string")
        tlvs[tag] = value  # SMPP 3.4 section 3.2.4: unknown TLVs are ignored, so they are kept, not refused
        pos += length
    return tlvs


# --- framing ---------------------------------------------------------------------------------------

class FrameReader:
    """Splits a TCP byte stream into whole PDUs, bounded by command_length 16..max_length.

    A command_length out of bounds cannot be skipped (nothing says where the next PDU starts), so it
    raises PduError(ESME_RINVCMDLEN, fatal=True) and the reader stays broken: every later feed raises.
    """

    def __init__(self, max_length: int = MAX_PDU_LENGTH) -> None:
        self._buffer = bytearray()
        self._max = max_length
        self._broken: PduError | None = None

    @property
    def pending(self) -> int:
        """Octets received that do not yet make a whole PDU."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        if self._broken is not None:
            raise self._broken
        buf = self._buffer
        buf += data
        frames: list[bytes] = []
        pos, size = 0, len(buf)
        while size - pos >= 4:
            length = int.from_bytes(buf[pos:pos + 4], "big")
            if length < HEADER_LENGTH or length > self._max:
                head = bytes(buf[pos:pos + HEADER_LENGTH])
                cid = int.from_bytes(head[4:8], "big") if len(head) >= 8 else None
                seq = int.from_bytes(head[12:16], "big") if len(head) == HEADER_LENGTH else 0
                del buf[:]
                self._broken = PduError(Status.ESME_RINVCMDLEN, f"command_length {length}",
                                        command_id=cid, sequence_number=seq, fatal=True)
                raise self._broken
            if size - pos < length:
                break
            frames.append(bytes(buf[pos:pos + length]))
            pos += length
        if pos:
            del buf[:pos]
        return frames


# --- GSM 03.38 and UCS-2 ---------------------------------------------------------------------------

_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
                  0x40: "|", 0x65: "€"}
_ESC = 0x1B
assert len(_GSM_BASIC) == 128
_GSM_ENCODE: dict[str, bytes] = {ch: bytes((i,)) for i, ch in enumerate(_GSM_BASIC) if i != _ESC}
_GSM_ENCODE.update({ch: bytes((_ESC, code)) for code, ch in _GSM_EXTENSION.items()})
GSM_ALPHABET = frozenset(_GSM_ENCODE)
"""Every character data_coding 0 can carry (default alphabet and extension table)."""


def gsm_encode(text: str) -> bytes:
    """GSM 03.38 default alphabet, one septet per octet (unpacked); extension characters as ESC + code."""
    try:
        return b"".join(_GSM_ENCODE[ch] for ch in text)
    except KeyError as exc:
        raise CodingError(f"{exc.args[0]!r} is not in the GSM 03.38 alphabet") from None


def gsm_decode(data: bytes) -> str:
    """Unpacked GSM 03.38 septets -> text. An unknown extension code shows the default character
    (3GPP TS 23.038 6.2.1.1); an octet over 0x7F or a trailing ESC is a CodingError."""
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b > 0x7F:
            raise CodingError(f"octet 0x{b:02X} is not a GSM 7-bit septet")
        if b == _ESC:
            if i + 1 >= n:
                raise CodingError("GSM escape at the end of the text")
            nxt = data[i + 1]
            if nxt > 0x7F:
                raise CodingError(f"octet 0x{nxt:02X} is not a GSM 7-bit septet")
            out.append(_GSM_EXTENSION.get(nxt) or (" " if nxt == _ESC else _GSM_BASIC[nxt]))
            i += 2
        else:
            out.append(_GSM_BASIC[b])
            i += 1
    return "".join(out)


def gsm_septets(text: str) -> int:
    """Septets the text takes in GSM 03.38 (extension characters count two)."""
    return len(gsm_encode(text))


def ucs2_encode(text: str) -> bytes:
    """UCS-2 big-endian; a character beyond the BMP becomes a UTF-16 surrogate pair, as handsets expect."""
    try:
        return text.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise CodingError(str(exc)) from None


def ucs2_decode(data: bytes) -> str:
    try:
        return bytes(data).decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise CodingError(str(exc)) from None


def choose_coding(text: str) -> int:
    """0 when the text fits the GSM alphabet, else 8 (Portuguese ã, õ, ç, á ... need UCS-2)."""
    return DATA_CODING_GSM if all(ch in GSM_ALPHABET for ch in text) else DATA_CODING_UCS2


def _octet_codec(name: str) -> tuple[Callable[[str], bytes], Callable[[bytes], str]]:
    """An 8-bit character set of SMPP 3.4 § 5.2.19, one character per octet."""
    def encode(text: str) -> bytes:
        try:
            return text.encode(name)
        except UnicodeEncodeError as exc:
            raise CodingError(f"{text[exc.start]!r} is not in {name}") from None

    def decode(data: bytes) -> str:
        try:
            return bytes(data).decode(name)
        except UnicodeDecodeError as exc:
            raise CodingError(f"octet 0x{data[exc.start]:02X} is not {name}") from None

    return encode, decode


_TEXT_CODECS: dict[int, tuple[Callable[[str], bytes], Callable[[bytes], str]]] = {
    DATA_CODING_GSM: (gsm_encode, gsm_decode),
    DATA_CODING_IA5: _octet_codec("ascii"),      # IA5 (CCITT T.50), the international reference version: ASCII
    DATA_CODING_LATIN1: _octet_codec("latin-1"),  # ISO-8859-1: every octet is a character
    DATA_CODING_UCS2: (ucs2_encode, ucs2_decode),
}
TEXT_CODINGS = frozenset(_TEXT_CODECS)
"""The data_coding values this codec reads and writes as text (SMPP 3.4 § 5.2.19: 0, 1, 3, 8)."""


def encode_text(text: str, data_coding: int) -> bytes:
    try:
        return _TEXT_CODECS[data_coding][0](text)
    except KeyError:
        raise CodingError(f"data_coding {data_coding} is not a text coding of this codec (0, 1, 3, 8)") from None


def decode_text(data: bytes, data_coding: int) -> str:
    try:
        decode = _TEXT_CODECS[data_coding][1]
    except KeyError:
        raise CodingError(f"data_coding {data_coding} is not a text coding of this codec (0, 1, 3, 8)") from None
    return decode(data)


# --- UDH concatenation -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Concat:
    """Concatenation information of one part: shared reference, number of parts, this part (1-based)."""

    reference: int
    total: int
    index: int


_SINGLE_CAPACITY = {DATA_CODING_GSM: 160, DATA_CODING_IA5: 140, DATA_CODING_LATIN1: 140, DATA_CODING_UCS2: 140}
_PART_CAPACITY = {DATA_CODING_GSM: 153, DATA_CODING_IA5: 134, DATA_CODING_LATIN1: 134, DATA_CODING_UCS2: 134}
"""Per part, in the units short_message carries for the coding: septets for GSM (160 without a header;
153 when the 6-octet UDH takes 7 septets), octets for the 8-bit sets and UCS-2 (140; 134 after the UDH)."""


def split_text(text: str, data_coding: int, reference: int) -> list[bytes]:
    """short_message values for the text: one without a UDH when it fits, else parts each starting with
    the concatenation UDH (05 00 03 ref total index), to be sent with esm_class |= ESM_UDHI.

    Parts never split a GSM escape pair or a UTF-16 surrogate pair, so every part decodes on its own.
    """
    if not 0 <= reference <= 0xFF:
        raise ValueError("the 8-bit concatenation reference is 0..255")
    units = [encode_text(ch, data_coding) for ch in text]
    whole = b"".join(units)
    if len(whole) <= _SINGLE_CAPACITY[data_coding]:
        return [whole]
    capacity = _PART_CAPACITY[data_coding]
    chunks: list[bytes] = []
    current = bytearray()
    for unit in units:
        if len(current) + len(unit) > capacity:
            chunks.append(bytes(current))
            current = bytearray()
        current += unit
    chunks.append(bytes(current))
    if len(chunks) > 255:
        raise ValueError(f"{len(chunks)} parts: more than a UDH can number")
    total = len(chunks)
    return [bytes((5, 0, 3, reference, total, i)) + chunk for i, chunk in enumerate(chunks, start=1)]


def parse_udh(short_message: bytes) -> tuple[Concat | None, bytes]:
    """Split a short_message sent with ESM_UDHI into its concatenation info (IEI 0x00 or 0x08, if any)
    and the user data after the header."""
    if not short_message:
        raise CodingError("UDHI set on an empty message")
    udhl = short_message[0]
    if 1 + udhl > len(short_message):
        raise CodingError(f"UDH length {udhl} exceeds the message")
    header, body = short_message[1:1 + udhl], short_message[1 + udhl:]
    concat: Concat | None = None
    i = 0
    while i < len(header):
        if i + 2 > len(header):
            raise CodingError("truncated information element")
        iei, length = header[i], header[i + 1]
        value = header[i + 2:i + 2 + length]
        if len(value) != length:
            raise CodingError(f"information element 0x{iei:02X} runs past the UDH")
        if iei == 0x00 and length == 3:
            concat = Concat(value[0], value[1], value[2])
        elif iei == 0x08 and length == 4:
            concat = Concat((value[0] << 8) | value[1], value[2], value[3])
        i += 2 + length
    if concat is not None and not (concat.total >= 1 and 1 <= concat.index <= concat.total):
        raise CodingError(f"part {concat.index} of {concat.total}")
    return concat, body


def join_segments(parts: Iterable[bytes]) -> bytes:
    """The user data of a concatenated message from its parts (short_message values with UDH), in any
    order. Raises CodingError unless the parts are exactly one whole message."""
    found: dict[int, bytes] = {}
    key: tuple[int, int] | None = None
    for part in parts:
        concat, body = parse_udh(part)
        if concat is None:
            raise CodingError("a part without concatenation information")
        if key is None:
            key = (concat.reference, concat.total)
        elif key != (concat.reference, concat.total):
            raise CodingError("parts of different messages")
        if concat.index in found:
            raise CodingError(f"part {concat.index} twice")
        found[concat.index] = body
    if key is None or len(found) != key[1]:
        raise CodingError(f"{len(found)} parts of {key[1] if key else '?'}")
    return b"".join(found[i] for i in range(1, key[1] + 1))


class Reassembler:
    """Collects parts of concatenated messages that may arrive interleaved (UDH or sar_* TLVs).

    ``key`` identifies the sender's stream (e.g. bind, source and destination address); at most
    ``max_pending`` incomplete messages are kept, the oldest dropped first.
    """

    def __init__(self, max_pending: int = 1024) -> None:
        self._pending: dict[tuple[object, int, int], dict[int, tuple[bytes, object]]] = {}
        self._max = max_pending

    def add(self, key: object, concat: Concat, body: bytes) -> bytes | None:
        """Record a part; return the whole user data when this part completes its message."""
        parts = self.add_part(key, concat, body)
        return None if parts is None else b"".join(body for body, _ in parts)

    def add_part(self, key: object, concat: Concat, body: bytes, tag: object = None) -> list[tuple[bytes, object]] | None:
        """Record a part with a ``tag`` of the caller's (what each part asked for, the id it was answered
        with); when this part completes its message, every part's (body, tag) in part order."""
        if not 1 <= concat.index <= concat.total:
            raise CodingError(f"part {concat.index} of {concat.total}")
        slot = (key, concat.reference, concat.total)
        parts = self._pending.setdefault(slot, {})
        parts[concat.index] = (body, tag)
        if len(parts) == concat.total:
            del self._pending[slot]
            return [parts[i] for i in range(1, concat.total + 1)]
        while len(self._pending) > self._max:
            del self._pending[next(iter(self._pending))]
        return None


def sar_concat(pdu: Pdu) -> Concat | None:
    """Concatenation info carried by the sar_* TLVs instead of a UDH, if all three are present."""
    ref = pdu.tlv_int(Tag.SAR_MSG_REF_NUM)
    total = pdu.tlv_int(Tag.SAR_TOTAL_SEGMENTS)
    index = pdu.tlv_int(Tag.SAR_SEGMENT_SEQNUM)
    if ref is None or total is None or index is None:
        return None
    return Concat(ref, total, index)


# --- delivery receipts -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """The SMPP 3.4 Appendix B receipt text; ``stat`` is a value such as DELIVRD, ``err`` 0..999."""

    id: str
    sub: int
    dlvrd: int
    submit_date: dt.datetime
    done_date: dt.datetime
    stat: str
    err: int
    text: str = ""


RECEIPT_TEXT_LENGTH = 20
RECEIPT_SAFE = frozenset(ch for i, ch in enumerate(_GSM_BASIC) if ch.isascii() and ord(ch) == i and ch.isprintable())
"""Characters whose GSM 03.38 code equals their ASCII code: a receipt made of them reads the same both ways."""
_RECEIPT_RE = re.compile(
    r"id:(?P<id>\S{1,64})\s+sub:(?P<sub>\d{1,3})\s+dlvrd:(?P<dlvrd>\d{1,3})\s+"
    r"submit date:(?P<submit>\d{10}(?:\d{2})?)\s+done date:(?P<done>\d{10}(?:\d{2})?)\s+"
    r"stat:(?P<stat>[A-Z]{1,9})\s+err:(?P<err>\d{1,3})(?:\s+text:(?P<text>.*))?",
    re.IGNORECASE | re.DOTALL,
)


def format_receipt(receipt: DeliveryReceipt) -> str:
    """``id:<id> sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000
    text:<first 20 characters>``.

    The text keeps only characters that have the same code in ASCII and in the GSM default alphabet
    (letters, digits, space and most punctuation), others become "?": receipts are read as ASCII by
    most ESMEs and as GSM 03.38 by the profile's data_coding 0, and both readings must agree.
    """
    if not receipt.id or any(ch.isspace() for ch in receipt.id) or not receipt.id.isascii():
        raise ValueError(f"receipt id {receipt.id!r} must be non-empty ASCII without spaces")
    if not re.fullmatch(r"[A-Z]{1,9}", receipt.stat):
        raise ValueError(f"stat {receipt.stat!r} must be 1..9 capital letters")
    for name in ("sub", "dlvrd", "err"):
        if not 0 <= getattr(receipt, name) <= 999:
            raise ValueError(f"{name} must be 0..999")
    text = "".join(ch if ch in RECEIPT_SAFE else "?" for ch in receipt.text[:RECEIPT_TEXT_LENGTH])
    return (f"id:{receipt.id} sub:{receipt.sub:03d} dlvrd:{receipt.dlvrd:03d} "
            f"submit date:{receipt.submit_date:%y%m%d%H%M} done date:{receipt.done_date:%y%m%d%H%M} "
            f"stat:{receipt.stat} err:{receipt.err:03d} text:{text}")


def parse_receipt(text: str) -> DeliveryReceipt:
    """Read a receipt text; accepts 10- or 12-digit dates and any letter case in the keys."""
    m = _RECEIPT_RE.fullmatch(text.strip("\x00").strip())
    if m is None:
        raise ReceiptError(f"not a delivery receipt: {text[:80]!r}")
    return DeliveryReceipt(
        id=m["id"], sub=int(m["sub"]), dlvrd=int(m["dlvrd"]),
        submit_date=_receipt_date(m["submit"]), done_date=_receipt_date(m["done"]),
        stat=m["stat"].upper(), err=int(m["err"]), text=m["text"] or "",
    )


def _receipt_date(value: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value, "%y%m%d%H%M%S" if len(value) == 12 else "%y%m%d%H%M")
    except ValueError:
        raise ReceiptError(f"invalid receipt date {value!r}") from None


def receipt_pdu(sequence_number: int, receipt: DeliveryReceipt, *, message_state: int, source_addr: str,
                destination_addr: str, source_ton: int = 1, source_npi: int = 1, dest_ton: int = 1,
                dest_npi: int = 1) -> Pdu:
    """The deliver_sm carrying a receipt: esm_class 0x04, the receipt text in short_message
    (data_coding 0; the text is ASCII and GSM 03.38 at once, see format_receipt), and the
    receipted_message_id and message_state TLVs.

    Addresses are those of the receipt's direction: ``source_addr`` is the handset the message went
    to, ``destination_addr`` the ESME's original source address.
    """
    return make(
        CommandId.DELIVER_SM, sequence_number,
        source_addr_ton=source_ton, source_addr_npi=source_npi, source_addr=source_addr,
        dest_addr_ton=dest_ton, dest_addr_npi=dest_npi, destination_addr=destination_addr,
        esm_class=ESM_DELIVERY_RECEIPT, data_coding=DATA_CODING_GSM,
        short_message=format_receipt(receipt).encode("ascii"),
        tlvs={Tag.RECEIPTED_MESSAGE_ID: receipt.id, Tag.MESSAGE_STATE: message_state},
    )
