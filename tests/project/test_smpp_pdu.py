"""The SMPP 3.4 codec: round-trips, interoperability with smpplib (a real ESME library), malformed input,
text codings, UDH concatenation, delivery receipts, and its agreement with contracts/smpp/profile.yaml."""
from __future__ import annotations

import datetime as dt
import struct

import pytest
import smpplib.smpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsconform.contracts.documents import seeds_dir
from smsconform.contracts.paths import contracts_dir
from smsconform.contracts.yamlfile import load_yaml
from smsconform.emulator.smpp import pdu as smpp
from smsconform.emulator.smpp.pdu import CommandId, Status, Tag

MD5 = "12d609dddeccd59e392b8e2374f52d1a"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class EsmeSequencer:
    """What smpplib's Client gives its PDUs: a counter of sequence numbers."""

    def __init__(self, start: int = 0) -> None:
        self.sequence = start

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


def smpplib_parse(data: bytes):
    return smpplib.smpp.parse_pdu(data, client=EsmeSequencer())


def representative(command: CommandId) -> smpp.Pdu:
    """One PDU of each command with non-default values in every field, so a dropped field shows."""
    seq = 0x7FFFFF00 + int(command & 0xFF)
    name = command.name.lower()
    if name.startswith("bind_") and not command.name.endswith("_RESP"):
        return smpp.make(command, seq, system_id="integracao01", password="s3cr3t", system_type="SMPP",
                         interface_version=0x34, addr_ton=1, addr_npi=1, address_range="^55")
    if name.startswith("bind_"):
        return smpp.make(command, seq, system_id="smsconform", tlvs={Tag.SC_INTERFACE_VERSION: 0x34})
    if command in (CommandId.SUBMIT_SM, CommandId.DELIVER_SM):
        return smpp.make(command, seq, service_type="CMT", source_addr_ton=1, source_addr_npi=1,
                         source_addr="5511900000000", dest_addr_ton=1, dest_addr_npi=1,
                         destination_addr="5511962160007", esm_class=0x40, protocol_id=0, priority_flag=1,
                         schedule_delivery_time="240131120000000+", validity_period="000001000000000R",
                         registered_delivery=1, replace_if_present_flag=0, data_coding=8, sm_default_msg_id=0,
                         short_message=b"\x05\x00\x03\x2a\x02\x01" + "olá".encode("utf-16-be"),
                         tlvs={Tag.USER_MESSAGE_REFERENCE: 513, 0x1401: b"\x01\x02"})
    if command in (CommandId.SUBMIT_SM_RESP, CommandId.DELIVER_SM_RESP):
        return smpp.make(command, seq, message_id=MD5)
    return smpp.make(command, seq, Status.ESME_RINVCMDID if command == CommandId.GENERIC_NACK else 0)


# --- round trips and exact bytes -------------------------------------------------------------------

@pytest.mark.parametrize("command", list(CommandId), ids=lambda c: c.name.lower())
def test_every_pdu_round_trips(command: CommandId) -> None:
    pdu = representative(command)
    data = smpp.encode(pdu)
    assert struct.unpack(">I", data[:4])[0] == len(data)
    assert smpp.decode(data) == pdu
    assert smpp.encode(smpp.decode(data)) == data


def test_enquire_link_bytes() -> None:
    assert smpp.encode(smpp.make("enquire_link", 1)) == bytes.fromhex("00000010 00000015 00000000 00000001")


def test_submit_sm_bytes_by_hand() -> None:
    body = (b"\x00" + b"\x01\x01" + b"29000\x00" + b"\x01\x01" + b"5511962160007\x00" + b"\x00\x00\x00"
            + b"\x00" + b"\x00" + b"\x01\x00\x00\x00" + b"\x02Oi" + b"\x04\x24\x00\x00")
    data = struct.pack(">IIII", 16 + len(body), 4, 0, 9) + body
    pdu = smpp.decode(data)
    assert pdu.name == "submit_sm" and pdu.sequence_number == 9
    assert (pdu["source_addr"], pdu["destination_addr"], pdu["short_message"]) == ("29000", "5511962160007", b"Oi")
    assert pdu["registered_delivery"] == 1 and pdu.tlvs == {Tag.MESSAGE_PAYLOAD: b""}


def test_error_responses_have_no_body_and_answer_with_the_request_sequence() -> None:
    request = representative(CommandId.SUBMIT_SM)
    resp = request.response(Status.ESME_RTHROTTLED)
    assert resp.command_id == CommandId.SUBMIT_SM_RESP and resp.sequence_number == request.sequence_number
    assert len(smpp.encode(resp)) == 16
    assert smpp.decode(smpp.encode(resp)) == resp
    with pytest.raises(ValueError):
        resp.response()


def test_encode_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        smpp.encode(smpp.make("bind_transceiver", 1, system_id="x" * 16))
    with pytest.raises(ValueError):
        smpp.encode(smpp.make("submit_sm", 1, short_message=b"x" * 255))
    with pytest.raises(ValueError):
        smpp.encode(smpp.make("submit_sm", 1, esm_class=256))
    with pytest.raises(ValueError):
        smpp.make("submit_sm", 1, not_a_field="x")
    with pytest.raises(ValueError):
        smpp.make("query_sm", 1)


# --- smpplib, as an ESME would use it --------------------------------------------------------------

def test_smpplib_bind_transceiver_decodes() -> None:
    esme = EsmeSequencer(41)
    out = smpplib.smpp.make_pdu("bind_transceiver", client=esme, system_id="integracao01", password="s3cr3t",
                                system_type="SMPP", addr_ton=1, addr_npi=1)
    pdu = smpp.decode(out.generate())
    assert pdu.command_id == CommandId.BIND_TRANSCEIVER and pdu.sequence_number == 42
    assert pdu.params == {"system_id": "integracao01", "password": "s3cr3t", "system_type": "SMPP",
                          "interface_version": 0x34, "addr_ton": 1, "addr_npi": 1, "address_range": ""}


def test_smpplib_submit_sm_with_udh_decodes() -> None:
    parts = smpp.split_text("Olá, " * 20, smpp.DATA_CODING_UCS2, reference=7)
    assert len(parts) == 2
    pdus = [smpp.decode(smpplib.smpp.make_pdu(
        "submit_sm", client=EsmeSequencer(i), source_addr_ton=1, source_addr_npi=1, source_addr="5511900000000",
        dest_addr_ton=1, dest_addr_npi=1, destination_addr="5511962160007", esm_class=0x40,
        registered_delivery=1, data_coding=8, short_message=part).generate()) for i, part in enumerate(parts)]
    assert [p.sequence_number for p in pdus] == [1, 2]
    assert all(p["esm_class"] & smpp.ESM_UDHI and p["data_coding"] == 8 for p in pdus)
    joined = smpp.join_segments(smpp.user_data(p) for p in reversed(pdus))
    assert smpp.decode_text(joined, 8) == "Olá, " * 20


def test_smpplib_submit_sm_with_message_payload_and_sar_decodes() -> None:
    out = smpplib.smpp.make_pdu("submit_sm", client=EsmeSequencer(), source_addr="29000",
                                destination_addr="5511962160007", data_coding=0,
                                message_payload=smpp.gsm_encode("Mensagem longa {x} " * 20),
                                sar_msg_ref_num=300, sar_total_segments=2, sar_segment_seqnum=1)
    pdu = smpp.decode(out.generate())
    assert pdu["short_message"] == b""
    assert smpp.decode_text(smpp.user_data(pdu), 0) == "Mensagem longa {x} " * 20
    assert smpp.sar_concat(pdu) == smpp.Concat(300, 2, 1)


def test_our_responses_decode_in_smpplib() -> None:
    bind = smpplib_parse(smpp.encode(smpp.make("bind_transceiver_resp", 5, system_id="smsconform",
                                               tlvs={Tag.SC_INTERFACE_VERSION: 0x34})))
    assert (bind.command, bind.sequence, bind.status) == ("bind_transceiver_resp", 5, 0)
    assert bind.system_id == b"smsconform" and bind.sc_interface_version == 0x34
    refused = smpplib_parse(smpp.encode(smpp.make("bind_transmitter_resp", 6, Status.ESME_RINVPASWD)))
    assert (refused.command, refused.status) == ("bind_transmitter_resp", smpplib.consts.SMPP_ESME_RINVPASWD)
    submit = smpplib_parse(smpp.encode(smpp.make("submit_sm_resp", 7, message_id=MD5)))
    assert (submit.command, submit.sequence, submit.message_id) == ("submit_sm_resp", 7, MD5.encode())
    throttled = smpplib_parse(smpp.encode(smpp.make("submit_sm_resp", 8, Status.ESME_RTHROTTLED)))
    assert throttled.status == smpplib.consts.SMPP_ESME_RTHROTTLED
    for name in ("enquire_link", "enquire_link_resp", "unbind", "unbind_resp", "deliver_sm_resp"):
        parsed = smpplib_parse(smpp.encode(smpp.make(name, 9)))
        assert (parsed.command, parsed.sequence, parsed.status) == (name, 9, 0)
    nack = smpplib_parse(smpp.encode(smpp.generic_nack(10, Status.ESME_RINVCMDID)))
    assert (nack.command, nack.sequence, nack.status) == ("generic_nack", 10, smpplib.consts.SMPP_ESME_RINVCMDID)


def test_our_delivery_receipt_decodes_in_smpplib() -> None:
    receipt = smpp.DeliveryReceipt(MD5, 1, 1, dt.datetime(2024, 1, 31, 12, 0), dt.datetime(2024, 1, 31, 12, 1),
                                   "DELIVRD", 2, "Um primeiro envio")
    data = smpp.encode(smpp.receipt_pdu(11, receipt, message_state=2, source_addr="5511962160007",
                                        destination_addr="29000"))
    parsed = smpplib_parse(data)
    assert (parsed.command, parsed.sequence, parsed.esm_class) == ("deliver_sm", 11, smpp.ESM_DELIVERY_RECEIPT)
    assert parsed.receipted_message_id == MD5.encode() and parsed.message_state == 2
    assert parsed.source_addr == b"5511962160007" and parsed.destination_addr == b"29000"
    assert smpp.parse_receipt(parsed.short_message.decode("ascii")) == receipt


def test_our_mo_deliver_sm_decodes_in_smpplib() -> None:
    text = "Sim, confirmo a operação"
    pdu = smpp.make("deliver_sm", 12, source_addr_ton=1, source_addr_npi=1, source_addr="5511962160007",
                    destination_addr="29000", data_coding=smpp.choose_coding(text),
                    short_message=smpp.encode_text(text, smpp.choose_coding(text)))
    parsed = smpplib_parse(smpp.encode(pdu))
    assert parsed.data_coding == 8 and parsed.short_message.decode("utf-16-be") == text


# --- malformed PDUs --------------------------------------------------------------------------------

def _header(length: int, command_id: int, seq: int = 77, status: int = 0) -> bytes:
    return struct.pack(">IIII", length, command_id, status, seq)


def _raw(command_id: int, body: bytes, seq: int = 77) -> bytes:
    return _header(16 + len(body), command_id, seq) + body


BIND_BODY = b"user\x00pw\x00SMPP\x00\x34\x01\x01\x00"


@pytest.mark.parametrize("data,status", [
    (b"", Status.ESME_RINVCMDLEN),
    (bytes(15), Status.ESME_RINVCMDLEN),
    (_header(17, 0x15), Status.ESME_RINVCMDLEN),                              # length says more than there is
    (_header(16, 0x15) + b"\x00", Status.ESME_RINVCMDLEN),                    # and less
    (_header(16, 0x00000103), Status.ESME_RINVCMDID),                         # data_sm: not offered
    (_header(16, 0x12345678), Status.ESME_RINVCMDID),
    (_raw(0x15, b"\x00"), Status.ESME_RINVCMDLEN),                            # enquire_link with a body
    (_raw(0x09, BIND_BODY[:-3]), Status.ESME_RINVCMDLEN),                     # truncated bind
    (_raw(0x09, b"x" * 16 + b"\x00pw\x00SMPP\x00\x34\x01\x01\x00"), Status.ESME_RINVSYSID),
    (_raw(0x09, b"user\x00" + b"p" * 9 + b"\x00SMPP\x00\x34\x01\x01\x00"), Status.ESME_RINVPASWD),
    (_raw(0x09, b"user\x00pw\x00" + b"S" * 13 + b"\x00\x34\x01\x01\x00"), Status.ESME_RINVSYSTYP),
    (_raw(0x09, BIND_BODY + b"\x02"), Status.ESME_RINVCMDLEN),               # bind takes no TLVs
])
def test_malformed_pdus_raise_the_status_to_answer(data: bytes, status: Status) -> None:
    with pytest.raises(smpp.PduError) as caught:
        smpp.decode(data)
    assert caught.value.status == status


SM_HEAD = b"\x00\x01\x01src\x00\x01\x01" + b"5511962160007\x00" + b"\x00\x00\x00"


@pytest.mark.parametrize("tail,status", [
    (b"\x00\x00\x01\x00\x00\x00\x05Oi", Status.ESME_RINVMSGLEN),               # sm_length past the end
    (b"\x00\x00\x01\x00\x00\x00\xffx", Status.ESME_RINVMSGLEN),                # sm_length 255 > 254
    (b"2401\x00\x00\x01\x00\x00\x00\x00", Status.ESME_RINVSCHED),              # not YYMMDDhhmmsstnnp
    (b"\x00" + b"1" * 16 + b"\x00\x01\x00\x00\x00\x00", Status.ESME_RINVEXPIRY),
    (b"\x00\x00\x01\x00\x00\x00\x00\x04\x27\x00", Status.ESME_RINVOPTPARSTREAM),  # truncated TLV header
    (b"\x00\x00\x01\x00\x00\x00\x00\x04\x27\x00\x05\x02", Status.ESME_RINVOPTPARSTREAM),
    (b"\x00\x00\x01\x00\x00\x00\x00\x04\x27\x00\x02\x02\x02", Status.ESME_RINVPARLEN),  # message_state is 1 octet
    (b"\x00\x00\x01\x00\x00\x00\x00\x00\x1e\x00\x03abc", Status.ESME_RINVOPTPARAMVAL),  # receipted id without NUL
])
def test_malformed_submit_sm_bodies(tail: bytes, status: Status) -> None:
    with pytest.raises(smpp.PduError) as caught:
        smpp.decode(_raw(0x04, SM_HEAD + tail))
    err = caught.value
    assert (err.status, err.command_id, err.sequence_number) == (status, CommandId.SUBMIT_SM, 77)
    answer = smpp.error_response(err)
    assert (answer.command_id, answer.sequence_number, answer.command_status) == (CommandId.SUBMIT_SM_RESP, 77, status)


def test_header_errors_are_answered_with_generic_nack() -> None:
    for data in (_header(16, 0x00000103, seq=5), _raw(0x09, BIND_BODY[:-3], seq=5)):
        with pytest.raises(smpp.PduError) as caught:
            smpp.decode(data)
        answer = smpp.error_response(caught.value)
        assert (answer.command_id, answer.sequence_number) == (CommandId.GENERIC_NACK, 5)
        assert answer.command_status == caught.value.status


def test_unknown_tlvs_are_kept_and_known_ones_typed() -> None:
    pdu = smpp.decode(_raw(0x04, SM_HEAD + b"\x00\x00\x01\x00\x00\x00\x00" + b"\x14\x01\x00\x01\x07"
                           + b"\x04\x27\x00\x01\x02" + b"\x00\x1e\x00\x04abc\x00"))
    assert pdu.tlvs[0x1401] == b"\x07"
    assert pdu.tlv_int(Tag.MESSAGE_STATE) == 2 and pdu.tlv_str(Tag.RECEIPTED_MESSAGE_ID) == "abc"


def test_short_message_and_message_payload_together_are_refused() -> None:
    pdu = smpp.make("submit_sm", 3, short_message=b"a", tlvs={Tag.MESSAGE_PAYLOAD: b"b"})
    with pytest.raises(smpp.PduError) as caught:
        smpp.user_data(pdu)
    assert caught.value.status == Status.ESME_ROPTPARNOTALLWD


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_nothing_but_pdu_error(data: bytes) -> None:
    try:
        smpp.decode(data)
    except smpp.PduError:
        pass


@FAST
@given(st.sampled_from(list(CommandId)), st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF),
       st.binary(max_size=300))
def test_valid_headers_with_arbitrary_bodies(command: CommandId, status: int, seq: int, body: bytes) -> None:
    """Past the header the decoder either refuses with PduError or gives a PDU that re-encodes stably."""
    try:
        pdu = smpp.decode(struct.pack(">IIII", 16 + len(body), command, status, seq) + body)
    except smpp.PduError:
        return
    try:
        data = smpp.encode(pdu)
    except ValueError:
        return  # e.g. a TLV our own encoder will not write on this PDU; decoding it was still safe
    assert smpp.decode(data) == pdu or (pdu.is_response and pdu.command_status)


# --- framing ---------------------------------------------------------------------------------------

def test_frame_reader_splits_a_byte_stream() -> None:
    pdus = [representative(c) for c in CommandId]
    stream = b"".join(smpp.encode(p) for p in pdus)
    reader = smpp.FrameReader()
    frames = [f for i in range(len(stream)) for f in reader.feed(stream[i:i + 1])]
    assert [smpp.decode(f) for f in frames] == pdus and reader.pending == 0
    reader = smpp.FrameReader()
    assert [smpp.decode(f) for f in reader.feed(stream + stream[:10])] == pdus and reader.pending == 10


@pytest.mark.parametrize("length", [0, 15, 64 * 1024 + 1, 0xFFFFFFFF])
def test_frame_reader_rejects_out_of_bound_lengths_and_stays_broken(length: int) -> None:
    reader = smpp.FrameReader()
    with pytest.raises(smpp.PduError) as caught:
        reader.feed(_header(length, 0x04, seq=3))
    assert caught.value.status == Status.ESME_RINVCMDLEN and caught.value.fatal
    assert smpp.error_response(caught.value).command_id == CommandId.GENERIC_NACK
    assert smpp.error_response(caught.value).sequence_number == 3
    with pytest.raises(smpp.PduError):
        reader.feed(smpp.encode(smpp.make("enquire_link", 4)))


def test_frame_reader_accepts_the_upper_bound() -> None:
    reader = smpp.FrameReader()
    assert reader.feed(_header(64 * 1024, 0x04)) == []
    assert reader.feed(bytes(64 * 1024 - 16))[0][:4] == struct.pack(">I", 64 * 1024)


@FAST
@given(st.lists(st.binary(max_size=80), max_size=8))
def test_frame_reader_on_arbitrary_chunks_raises_only_pdu_error(chunks: list[bytes]) -> None:
    reader = smpp.FrameReader()
    try:
        for chunk in chunks:
            for frame in reader.feed(chunk):
                assert 16 <= len(frame) <= 64 * 1024
    except smpp.PduError as err:
        assert err.fatal


# --- GSM 03.38, UCS-2, UDH -------------------------------------------------------------------------

def test_gsm_known_codes() -> None:
    assert smpp.gsm_encode("@£$Ç\n") == bytes([0x00, 0x01, 0x02, 0x09, 0x0A])
    assert smpp.gsm_encode("€[]{}\\~^|") == bytes.fromhex("1b65 1b3c 1b3e 1b28 1b29 1b2f 1b3d 1b14 1b40")
    assert smpp.gsm_septets("Ola €") == 6
    assert len(smpp.GSM_ALPHABET) == 127 + 10
    with pytest.raises(smpp.CodingError):
        smpp.gsm_encode("não")
    with pytest.raises(smpp.CodingError):
        smpp.gsm_decode(b"\x80")
    with pytest.raises(smpp.CodingError):
        smpp.gsm_decode(b"a\x1b")
    assert smpp.gsm_decode(b"\x1b\x41") == "A"  # unknown extension code shows the default character


@given(st.text(alphabet=sorted(smpp.GSM_ALPHABET)))
def test_gsm_round_trips_its_alphabet(text: str) -> None:
    encoded = smpp.gsm_encode(text)
    assert all(b <= 0x7F for b in encoded)
    assert smpp.gsm_decode(encoded) == text
    assert smpp.choose_coding(text) == 0


@given(st.text())
def test_ucs2_round_trips(text: str) -> None:
    try:
        encoded = smpp.ucs2_encode(text)
    except smpp.CodingError:
        assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)  # lone surrogates have no encoding
        return
    assert smpp.ucs2_decode(encoded) == text


def test_choose_coding_for_portuguese() -> None:
    assert smpp.choose_coding("Promoção válida até amanhã") == 8
    assert smpp.choose_coding("Promocao valida ate amanha") == 0


def _split_join(text: str, coding: int, reference: int) -> None:
    parts = smpp.split_text(text, coding, reference)
    if len(parts) == 1:
        assert smpp.decode_text(parts[0], coding) == text
        assert len(parts[0]) <= (160 if coding == 0 else 140)
        return
    for part in parts:
        concat, body = smpp.parse_udh(part)
        assert concat is not None and concat.reference == reference and concat.total == len(parts)
        assert len(body) <= (153 if coding == 0 else 134)
        smpp.decode_text(body, coding)  # no escape or surrogate pair is cut in two
    assert smpp.decode_text(smpp.join_segments(parts[::-1]), coding) == text


@FAST
@given(st.text(alphabet=sorted(smpp.GSM_ALPHABET), max_size=700), st.integers(0, 255))
def test_udh_split_join_round_trips_gsm(text: str, reference: int) -> None:
    _split_join(text, 0, reference)


@FAST
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=400), st.integers(0, 255))
def test_udh_split_join_round_trips_ucs2(text: str, reference: int) -> None:
    _split_join(text, 8, reference)


def test_split_boundaries() -> None:
    assert len(smpp.split_text("a" * 160, 0, 1)) == 1
    assert len(smpp.split_text("a" * 161, 0, 1)) == 2
    assert len(smpp.split_text("a" * 306, 0, 1)) == 2 and len(smpp.split_text("a" * 307, 0, 1)) == 3
    assert len(smpp.split_text("ã" * 70, 8, 1)) == 1 and len(smpp.split_text("ã" * 71, 8, 1)) == 2
    parts = smpp.split_text("a" * 152 + "€" + "a" * 10, 0, 1)  # the escape pair does not fit in part 1
    assert smpp.parse_udh(parts[0])[1] == b"a" * 152
    assert smpp.parse_udh(parts[1])[1] == b"\x1b\x65" + b"a" * 10


def test_join_refuses_incomplete_or_mixed_parts() -> None:
    parts = smpp.split_text("x" * 400, 0, 9)
    for bad in (parts[:-1], parts + parts[:1], parts[:1] + smpp.split_text("y" * 400, 0, 8)[1:], [b"plain"]):
        with pytest.raises(smpp.CodingError):
            smpp.join_segments(bad)


def test_reassembler_handles_interleaved_messages() -> None:
    first, second = smpp.split_text("a" * 300, 0, 1), smpp.split_text("b" * 300, 0, 1)
    asm = smpp.Reassembler()
    results = []
    for key, part in [("bind-1", first[1]), ("bind-2", second[0]), ("bind-1", first[0]), ("bind-2", second[1])]:
        concat, body = smpp.parse_udh(part)
        results.append(asm.add(key, concat, body))
    assert results == [None, None, b"a" * 300, b"b" * 300]


def test_16_bit_reference_udh() -> None:
    concat, body = smpp.parse_udh(bytes([6, 0x08, 4, 0x12, 0x34, 2, 1]) + b"hi")
    assert concat == smpp.Concat(0x1234, 2, 1) and body == b"hi"
    with pytest.raises(smpp.CodingError):
        smpp.parse_udh(bytes([9, 0x00, 3, 1, 2, 1]))


# --- delivery receipts -----------------------------------------------------------------------------

RECEIPT = smpp.DeliveryReceipt(MD5, 1, 1, dt.datetime(2024, 1, 31, 12, 0), dt.datetime(2024, 1, 31, 12, 5),
                               "DELIVRD", 2, "Um primeiro envio")


def test_receipt_text_form() -> None:
    assert smpp.format_receipt(RECEIPT) == (
        f"id:{MD5} sub:001 dlvrd:001 submit date:2401311200 done date:2401311205 stat:DELIVRD err:002 "
        "text:Um primeiro envio")
    assert smpp.parse_receipt(smpp.format_receipt(RECEIPT)) == RECEIPT


def test_receipt_text_is_cut_to_20_characters_readable_as_ascii_and_gsm() -> None:
    text = smpp.format_receipt(smpp.DeliveryReceipt("1", 1, 0, RECEIPT.submit_date, RECEIPT.done_date, "UNDELIV",
                                                    5, "Olá @todos_ {ok} e mais texto"))
    assert text.endswith(" text:Ol? ?todos? ?ok? e m")
    assert smpp.gsm_decode(text.encode("ascii")) == text


def test_parse_receipts_from_other_smscs() -> None:
    other = smpp.parse_receipt("id:0123456789 sub:001 dlvrd:000 submit date:240131120000 "
                               "done date:240131120130 stat:undeliv err:005 Text:\x00")
    assert (other.id, other.stat, other.err, other.dlvrd) == ("0123456789", "UNDELIV", 5, 0)
    assert other.done_date == dt.datetime(2024, 1, 31, 12, 1, 30)
    assert smpp.parse_receipt("id:7 sub:1 dlvrd:1 submit date:2401311200 done date:2401311200 stat:DELIVRD err:0").text == ""


@pytest.mark.parametrize("bad", ["", "hello", "id:1 sub:001 dlvrd:001 stat:DELIVRD err:000",
                                 "id:1 sub:001 dlvrd:001 submit date:2413311200 done date:2401311200 stat:DELIVRD err:000"])
def test_parse_receipt_refuses_other_texts(bad: str) -> None:
    with pytest.raises(smpp.ReceiptError):
        smpp.parse_receipt(bad)


# --- the profile agrees with the codec -------------------------------------------------------------

STATS = {"ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"}
SEEDS = {"000_7368c56e80c7a757.txt", "001_a90b3067a3e55622.txt", "002_aa652833008be1f5.txt",
         "003_68e2ce3a2fd1e408.txt", "field-notes.md"}


@pytest.fixture(scope="module")
def profile() -> dict:
    """Read directly, not through load_contracts(), so a catalog being edited cannot fail these tests."""
    return load_yaml(contracts_dir() / "smpp" / "profile.yaml")[0]


def test_profile_documented_values(profile: dict) -> None:
    assert profile["port"]["value"] == 9500
    assert profile["version"]["value"] == "3.4" and profile["version"]["interface_version"] == smpp.SMPP_VERSION_34
    assert profile["system_type"]["value"] == "SMPP"
    assert (profile["source_address"]["ton"], profile["source_address"]["npi"]) == (1, 1)
    assert Status[profile["system_type"]["refused_with"]] == Status.ESME_RINVSYSTYP


def test_profile_pdus_are_the_codecs(profile: dict) -> None:
    offered = {p["name"]: p["command_id"] for p in profile["pdus"]["offered"]}
    assert offered == {c.name.lower(): int(c) for c in CommandId}


def test_profile_dlr_table(profile: dict) -> None:
    codes = profile["dlr"]["codes"]
    assert [c["code"] for c in codes] == list(range(10))
    for entry in codes:
        assert entry["stat"] in STATS and 1 <= entry["message_state"] <= 8
        smpp.format_receipt(smpp.DeliveryReceipt("x", 1, 1, RECEIPT.submit_date, RECEIPT.done_date,
                                                 entry["stat"], entry["code"]))
    by_code = {c["code"]: c for c in codes}
    assert [by_code[n]["stat"] for n in range(1, 9)] == [
        "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"]
    assert [by_code[n]["message_state"] for n in range(1, 9)] == list(range(1, 9))


def _rules(node: object, path: str = ""):
    if isinstance(node, dict):
        if "basis" in node:
            yield path, node
        for key, value in node.items():
            yield from _rules(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _rules(value, f"{path}[{i}]")


def test_profile_rules_name_source_and_basis(profile: dict) -> None:
    rules = dict(_rules(profile))
    assert len(rules) >= 10 + 12
    for path, rule in rules.items():
        assert rule["source"]["doc"] in SEEDS and rule["source"]["section"], path
        assert rule["basis"] in {"documented", "observed", "inferred"}, path
        if rule["basis"] == "inferred":
            assert rule.get("reason"), f"{path} is inferred without a reason"
    for pdu_name in ("bind", "submit_sm"):
        assert all(status in Status.__members__ for status in profile["command_status"][pdu_name].values())


def test_profile_quotes_are_verbatim_from_the_seed(profile: dict) -> None:
    seeds = seeds_dir()
    if not seeds.is_dir():
        pytest.skip("the provider documents are not on this machine (set SMSCONFORM_SEEDS)")
    quotes = [(path, rule["source"]["doc"], rule["source"]["quote"])
              for path, rule in _rules(profile) if "quote" in rule["source"]]
    assert len(quotes) >= 7
    for path, doc, quote in quotes:
        assert quote in (seeds / doc).read_text(encoding="utf-8"), path


def test_profile_rule_ids_the_suite_names_exist(profile: dict) -> None:
    """Every `profile:smpp.<key>` the conformance suite names is a rule of profile.yaml (a renamed key would
    leave tests reporting on a rule nobody can look up)."""
    import re

    suite = (contracts_dir().parent / "tests" / "conformance" / "test_smpp.py").read_text(encoding="utf-8")
    named = set(re.findall(r'profile:smpp\.([a-z_]+)', suite)) | set(re.findall(r'hold\([^,]+, "([a-z_]+)"', suite))
    assert named and named <= set(profile), sorted(named - set(profile))
