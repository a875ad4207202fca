"""The emulator's SMPP 3.4 server, driven by smpplib as a real ESME would drive it, on a real socket.

Statuses, DLR stats, TON/NPI and fixture numbers come from contracts/smpp/profile.yaml, the catalog and
the emulator profile; the clock is moved through the control API, so receipts are those of the same core
the HTTP dialects use."""
from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp

from smsconform.contracts import load_contracts
from smsconform.emulator.core import Core
from smsconform.emulator.server import Emulator
from smsconform.emulator.smpp import pdu as codec
from smsconform.emulator.smpp.server import SmppServer

warnings.filterwarnings("ignore", category=DeprecationWarning, module="smpplib")

CONTRACTS = load_contracts()
CATALOG = CONTRACTS.catalog
SMPP = CONTRACTS.smpp
PROFILE = CONTRACTS.emulator_profile
MAIN = PROFILE["accounts"]["main"]
SYSTEM_TYPE = SMPP["system_type"]["value"]
ST = codec.Status


def _numbers(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(i["number"] if isinstance(i, dict) else i) for i in items]


NUMBERS = {name: _numbers(value)[0] for name, value in PROFILE["numbers"].items()}
VALID = _numbers(PROFILE["numbers"]["valid"])
ESME_ADDR = "5511930000000"  # the ESME's own long number (source TON 1, NPI 1, as the seed's SMPP section)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dlr_row(core_state: str) -> dict[str, Any]:
    """The profile's DLR table row a core state is reported as (through codes.yaml smpp.dlr)."""
    code = int(CATALOG.by_reason("smpp", "dlr", core_state).code)
    return next(row for row in SMPP["dlr"]["codes"] if int(row["code"]) == code)


# -- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path_factory.mktemp("smpp") / "emulator.sqlite3", port=0, smpp_port=free_port(),
                   frozen=True)
    with emu.running():
        yield emu


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10.0, trust_env=False) as client:
        yield client


@pytest.fixture(autouse=True)
def fresh(http: httpx.Client) -> None:
    assert http.post("/_emulator/reset").status_code == 200


@pytest.fixture
def control(http: httpx.Client) -> Callable[..., Any]:
    def call(method: str, path: str, body: dict | None = None, **params: str) -> Any:
        response = http.request(method, f"/_emulator{path}", json=body, params=params or None)
        assert response.status_code == 200, response.text
        return response.json()
    return call


@pytest.fixture
def esme(server: Emulator) -> Iterator[Callable[..., smpplib.client.Client]]:
    """Open (and bind) smpplib clients; every one is closed after the test."""
    opened: list[smpplib.client.Client] = []

    def connect(kind: str = "transceiver", system_id: str = MAIN["integration_user"],
                password: str = MAIN["password"], system_type: str = SYSTEM_TYPE, bind: bool = True,
                port: int | None = None) -> smpplib.client.Client:
        client = smpplib.client.Client("127.0.0.1", port or server.smpp_port, timeout=3,
                                       allow_unknown_opt_params=True)
        client.connect()
        opened.append(client)
        if bind:
            getattr(client, f"bind_{kind}")(system_id=system_id, password=password, system_type=system_type)
        return client

    yield connect
    for client in opened:
        if client._socket is not None:
            client._socket.close()
            client._socket = None


def submit(client: smpplib.client.Client, text: str | bytes = "teste", destination: str = "55" + VALID[0],
           **extra: Any) -> Any:
    """One submit_sm and its response (GSM 03.38 unless told otherwise)."""
    params: dict[str, Any] = {
        "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": ESME_ADDR,
        "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": destination,
        "data_coding": 0, "registered_delivery": 0,
    }
    if isinstance(text, str):
        params["short_message"] = codec.encode_text(text, 0)
    elif text:
        params["short_message"] = text
    params.update(extra)
    sent = client.send_message(**params)
    response = read(client, "submit_sm_resp")
    assert response.sequence == sent.sequence
    return response


def read(client: smpplib.client.Client, command: str, timeout: float = 3.0) -> Any:
    """The next PDU of a kind; deliver_sm met on the way are acknowledged and kept in client.delivered."""
    deadline = time.monotonic() + timeout
    while True:
        client._socket.settimeout(max(0.05, deadline - time.monotonic()))
        pdu = client.read_pdu()
        if pdu.command == command:
            if command == "deliver_sm":
                ack(client, pdu)
            return pdu
        if pdu.command == "deliver_sm":
            ack(client, pdu)
            getattr(client, "delivered", []).append(pdu)
        if time.monotonic() > deadline:
            raise TimeoutError(command)


def ack(client: smpplib.client.Client, pdu: Any, status: int = 0) -> None:
    resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=client, status=status)
    resp.sequence = pdu.sequence
    client.send_pdu(resp)


def nothing_arrives(client: smpplib.client.Client, within: float = 0.4) -> bool:
    client._socket.settimeout(within)
    try:
        client.read_pdu()
    except socket.timeout:
        return True
    return False


def receipt(pdu: Any) -> codec.DeliveryReceipt:
    assert pdu.esm_class & codec.ESM_DELIVERY_RECEIPT
    return codec.parse_receipt(pdu.short_message.decode("ascii"))


def message(control: Callable[..., Any], message_id: bytes | str) -> dict[str, Any]:
    digest = message_id.decode() if isinstance(message_id, bytes) else message_id
    [msg] = control("GET", "/messages", hash=digest)
    return msg


def credits(control: Callable[..., Any], login: str = MAIN["login"]) -> int:
    return next(a for a in control("GET", "/accounts") if a["login"] == login)["credits"]["long"]


# -- bind -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["transmitter", "receiver", "transceiver"])
def test_bind_kinds(esme: Callable[..., Any], kind: str) -> None:
    client = esme(bind=False)
    resp = getattr(client, f"bind_{kind}")(system_id=MAIN["integration_user"], password=MAIN["password"],
                                           system_type=SYSTEM_TYPE)
    assert resp.status == 0 and resp.sc_interface_version == SMPP["version"]["interface_version"]
    client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN  # smpplib would refuse to send a second bind
    with pytest.raises(smpplib.exceptions.PDUError) as again:
        client.bind_transceiver(system_id=MAIN["integration_user"], password=MAIN["password"],
                                system_type=SYSTEM_TYPE)
    assert again.value.args[1] == ST.ESME_RALYBND


@pytest.mark.parametrize(("override", "status"), [
    ({"password": "errada"}, ST.ESME_RINVPASWD),
    ({"system_id": "ffffffff"}, ST.ESME_RINVSYSID),
    ({"system_type": "OUTRO"}, ST.ESME_RINVSYSTYP),
    ({"system_type": ""}, ST.ESME_RINVSYSTYP),
])
def test_bind_refusals(esme: Callable[..., Any], override: dict[str, str], status: int) -> None:
    args = {"system_id": MAIN["integration_user"], "password": MAIN["password"], "system_type": SYSTEM_TYPE,
            **override}
    client = esme(bind=False)
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        client.bind_transceiver(**args)
    assert refused.value.args[1] == status


@pytest.mark.parametrize("account", ["user_disabled", "client_disabled", "user_and_client_disabled", "blocked"])
def test_bind_disabled_account(esme: Callable[..., Any], account: str) -> None:
    fixture = PROFILE["accounts"][account]
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        esme(system_id=fixture["integration_user"], password=fixture["password"])
    assert refused.value.args[1] == ST.ESME_RBINDFAIL


def test_bind_password_longer_than_smpp_allows(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    """SMPP carries 8 octets of password: a longer account password binds with its first 8 characters
    (smpplib cuts it there itself), and a wrong 8 still fails."""
    user = control("POST", "/accounts", {"login": "smpp.longa", "password": "senha-bem-longa"})
    assert esme(system_id=user["integration_user"], password="senha-bem-longa").state == \
        smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        esme(system_id=user["integration_user"], password="senha-bx")  # 8 characters, not the first 8
    assert refused.value.args[1] == ST.ESME_RINVPASWD


# -- submit_sm --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "coding"), [
    ("Hello @ £$ {braces} and €uro", 0),
    ("Ação confirmada: você já pagou, obrigado!", 8),
])
def test_submit_gsm_and_ucs2(esme: Callable[..., Any], control: Callable[..., Any], text: str, coding: int) -> None:
    client = esme()
    before = credits(control)
    resp = submit(client, codec.encode_text(text, coding), data_coding=coding)
    assert resp.status == 0
    msg = message(control, resp.message_id)
    assert (msg["number"], msg["dialect"], msg["parts"]) == (VALID[0], "smpp", 1)
    assert msg["state"] == "waiting" and credits(control) == before - 1


def test_submit_text_reaches_the_core_exactly(esme: Callable[..., Any], server: Emulator) -> None:
    client = esme()
    for text, coding in (("Olá, ação! 😀", 8), ("Preco: 10€ ~ [ok] ^ \\ |", 0)):
        resp = submit(client, codec.encode_text(text, coding), data_coding=coding)
        assert resp.status == 0
        stored = server.core.store.db.execute("SELECT text FROM messages WHERE hash = ?",
                                              (resp.message_id.decode(),)).fetchone()[0]
        assert stored == text


@pytest.mark.parametrize(("text", "encoding", "parts"), [
    ("Mensagem longa em GSM. " * 18, smpplib.consts.SMPP_ENCODING_DEFAULT, 3),     # 414 septets: 153 x 3
    ("Mensagem longa com acentuação: ção. " * 5, smpplib.consts.SMPP_ENCODING_ISO10646, 3),  # 180 chars UCS-2
])
def test_long_message_by_udh(esme: Callable[..., Any], control: Callable[..., Any], text: str,
                             encoding: int, parts: int) -> None:
    client = esme()
    before = credits(control)
    pieces, coding, esm_class = smpplib.gsm.make_parts(text, encoding)  # what an smpplib application sends
    assert len(pieces) == parts
    ids = [submit(client, piece, data_coding=coding, esm_class=esm_class).message_id for piece in pieces]
    assert len(set(ids)) == parts
    msg = message(control, ids[-1])
    assert (msg["parts"], msg["cost"]) == (parts, parts)
    assert credits(control) == before - parts
    assert len(control("GET", "/messages")) == 1


def test_long_message_by_sar_tlvs_out_of_order(esme: Callable[..., Any], server: Emulator) -> None:
    client = esme()
    text = "Partes SAR fora de ordem. " * 10
    data = codec.encode_text(text, 0)
    chunks = [data[i:i + 153] for i in range(0, len(data), 153)]
    responses = [submit(client, chunk, sar_msg_ref_num=0x1234, sar_total_segments=len(chunks),
                        sar_segment_seqnum=index) for index, chunk in reversed(list(enumerate(chunks, 1)))]
    digest = responses[-1].message_id.decode()
    stored = server.core.store.db.execute("SELECT text FROM messages WHERE hash = ?", (digest,)).fetchone()[0]
    assert stored == text


def test_long_message_by_message_payload(esme: Callable[..., Any], control: Callable[..., Any], server: Emulator) -> None:
    client = esme()
    text = "Carga útil longa: " + "x" * 400
    resp = submit(client, b"", data_coding=8, message_payload=codec.encode_text(text, 8))
    assert resp.status == 0
    msg = message(control, resp.message_id)
    assert msg["parts"] == -(-len(text) // 67)
    stored = server.core.store.db.execute("SELECT text FROM messages WHERE hash = ?",
                                          (resp.message_id.decode(),)).fetchone()[0]
    assert stored == text


def test_submit_refusals(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    status = SMPP["command_status"]["submit_sm"]
    client = esme()
    cases = [
        ({"text": "x" * 601, "message_payload": None}, "ESME_RINVMSGLEN"),
        ({"text": b"", "message_payload": codec.encode_text("y" * 601, 0)}, "ESME_RINVMSGLEN"),
        ({"text": "   "}, status["empty_message"]),
        ({"destination": "55" + NUMBERS["bad_ddd"]}, status["bad_ddd"]),
        ({"destination": "55" + NUMBERS["prefix_ddd_mismatch"]}, "ESME_RINVDSTADR"),
        ({"destination": NUMBERS["alpha"], "dest_addr_ton": 0}, status["alpha_in_number"]),
        ({"destination": VALID[0]}, "ESME_RINVDSTADR"),  # TON 1 without the country code
        ({"destination": "55" + NUMBERS["blacklisted"]}, status["blacklisted"]),
        ({"destination": "55" + NUMBERS["procon"]}, status["procon"]),
        ({"data_coding": 2}, "ESME_RSUBMITFAIL"),  # binary: refused (profile data_coding.refused)
        ({"data_coding": 6}, "ESME_RSUBMITFAIL"),
        ({"data_coding": 0xF0}, "ESME_RSUBMITFAIL"),  # reserved in 3.4
        ({"text": b"\x80\x81", "data_coding": 0}, "ESME_RSUBMITFAIL"),
        ({"text": b"caf\xe9", "data_coding": 1}, "ESME_RSUBMITFAIL"),  # IA5 is 7-bit
        ({"destination": VALID[0], "dest_addr_ton": 5}, "ESME_RINVDSTTON"),
        ({"destination": VALID[0], "dest_addr_ton": 2, "dest_addr_npi": 9}, "ESME_RINVDSTNPI"),
        ({"destination": "55" + VALID[0], "dest_addr_ton": 2}, "ESME_RINVDSTADR"),  # national TON with 55
        ({"text": b"abc", "data_coding": 8}, "ESME_RSUBMITFAIL"),
    ]
    for case, expected in cases:
        args = dict(case)
        text = args.pop("text", "teste")
        if args.get("message_payload") is None:
            args.pop("message_payload", None)
        if len(text) > 254:  # too long for short_message: the 601 characters go as message_payload
            args["message_payload"], text = codec.encode_text(text, 0), b""
        assert submit(client, text, **args).status == ST[expected], case
    assert submit(client, "ok", destination=VALID[1], dest_addr_ton=0).status == 0  # national form, TON 0
    assert len(control("GET", "/messages")) == 1


def test_submit_needs_credits_and_a_transmitter(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    poor = PROFILE["accounts"]["no_credits"]
    client = esme(system_id=poor["integration_user"], password=poor["password"])
    assert submit(client).status == ST[SMPP["command_status"]["submit_sm"]["insufficient_credits"]]
    receiver = esme("receiver")
    with pytest.raises(smpplib.exceptions.PDUError):  # smpplib itself refuses a submit_sm when receiver-bound
        submit(receiver)
    receiver.state = smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX  # so it sends one anyway
    assert submit(receiver).status == ST.ESME_RINVBNDSTS


def test_window_of_outstanding_submits(esme: Callable[..., Any]) -> None:
    client = esme()
    sent = [client.send_message(source_addr_ton=1, source_addr_npi=1, source_addr=ESME_ADDR, dest_addr_ton=1,
                                dest_addr_npi=1, destination_addr="55" + VALID[i % 5],
                                short_message=f"janela {i}".encode()) for i in range(10)]
    responses = [read(client, "submit_sm_resp") for _ in sent]
    assert [r.sequence for r in responses] == [s.sequence for s in sent]
    assert all(r.status == 0 for r in responses) and len({r.message_id for r in responses}) == 10


# -- receipts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fixture", "core_state", "advance"), [
    ("valid", "delivered", 10), ("outcome_failed", "undelivered", 10), ("outcome_error", "error", 10),
    ("outcome_invalid", "invalid", 10), ("outcome_expired", "expired", 90000),
])
def test_receipt_stat_follows_the_profile(esme: Callable[..., Any], control: Callable[..., Any],
                                          fixture: str, core_state: str, advance: int) -> None:
    client = esme()
    number = VALID[0] if fixture == "valid" else NUMBERS[fixture]
    resp = submit(client, "Recibo por favor", destination="55" + number, registered_delivery=1)
    assert nothing_arrives(client, 0.2)
    control("POST", "/clock", {"advance": advance})
    pdu = read(client, "deliver_sm")
    got = receipt(pdu)
    row = dlr_row(core_state)
    assert (got.id, got.stat, got.err) == (resp.message_id.decode(), row["stat"], int(row["code"]))
    assert got.dlvrd == (1 if core_state == "delivered" else 0) and got.text == "Recibo por favor"
    assert pdu.receipted_message_id == resp.message_id and pdu.message_state == row["message_state"]
    assert (pdu.source_addr, pdu.destination_addr) == (("55" + number).encode(), ESME_ADDR.encode())
    assert nothing_arrives(client)
    if core_state == "delivered":
        assert (got.stat, got.err) == ("DELIVRD", 2)  # the seed's code 2, "ENTREGUE COM SUCESSO"


def test_receipt_for_a_cancel_by_another_dialect(esme: Callable[..., Any], http: httpx.Client) -> None:
    client = esme()
    resp = submit(client, registered_delivery=1)
    cancelled = http.post("/wbsapi.asmx/cancel", data={"Identificacao": MAIN["integration_user"],
                                                       "Hash": resp.message_id.decode()})
    assert ";9;CANCELADO;" in cancelled.text
    got = receipt(read(client, "deliver_sm"))
    assert (got.stat, got.err) == (dlr_row("cancelled")["stat"], int(dlr_row("cancelled")["code"]))


def test_registered_delivery_choices(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    client = esme()
    submit(client, destination="55" + VALID[0], registered_delivery=0)
    submit(client, destination="55" + VALID[1], registered_delivery=2)            # failures only
    failed = submit(client, destination="55" + NUMBERS["outcome_failed"], registered_delivery=2)
    submit(client, destination="55" + NUMBERS["outcome_no_dlr"], registered_delivery=1)  # Oi: no handset DLR
    control("POST", "/clock", {"advance": 10})
    got = receipt(read(client, "deliver_sm"))
    assert got.id == failed.message_id.decode() and got.stat == dlr_row("undelivered")["stat"]
    assert nothing_arrives(client)


def test_intermediate_receipts(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    client = esme()
    submit(client, registered_delivery=0x11)
    control("POST", "/clock", {"advance": 10})
    stats = [receipt(read(client, "deliver_sm")).stat for _ in range(3)]
    assert stats == [dlr_row(s)["stat"] for s in ("queued", "sent", "delivered")]


def test_receipts_wait_for_a_receiver_after_a_dropped_connection(esme: Callable[..., Any], control: Callable[..., Any],
                                                                  server: Emulator) -> None:
    sender = esme("transmitter")
    resp = submit(sender, registered_delivery=1)
    sender._socket.close()  # dropped, no unbind
    sender._socket = None
    control("POST", "/clock", {"advance": 10})
    deadline = time.monotonic() + 2
    while len(server._smpp.sessions) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not server._smpp.sessions
    receiver = esme("receiver")
    receiver._socket.settimeout(3)
    first = receiver.read_pdu()  # not acknowledged: the receiver drops with it in flight
    assert receipt(first).id == resp.message_id.decode()
    receiver._socket.close()
    receiver._socket = None
    again = esme("receiver")
    assert receipt(read(again, "deliver_sm")).id == resp.message_id.decode()
    assert nothing_arrives(again)


def test_receipt_refused_by_the_esme_is_retried(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    client = esme()
    submit(client, registered_delivery=1)
    control("POST", "/clock", {"advance": 10})
    client._socket.settimeout(3)
    first = client.read_pdu()
    ack(client, first, status=0x64)  # ESME_RX_T_APPN: the ESME's application cannot take it now
    second = read(client, "deliver_sm", timeout=4)  # the back-off's first step is one second
    assert receipt(second).id == receipt(first).id


# -- MO ---------------------------------------------------------------------------------------------

def test_mo_reply_as_deliver_sm(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    client = esme()
    resp = submit(client, "Confirma?")
    control("POST", "/mo", {"account": "main", "number": VALID[0], "text": "Não, obrigado",
                            "reply_to": resp.message_id.decode()})
    pdu = read(client, "deliver_sm")
    assert not pdu.esm_class & codec.ESM_DELIVERY_RECEIPT
    assert (pdu.source_addr, pdu.destination_addr) == (("55" + VALID[0]).encode(), ESME_ADDR.encode())
    assert pdu.data_coding == 8 and codec.decode_text(pdu.short_message, 8) == "Não, obrigado"


def test_mo_unsolicited_and_long(esme: Callable[..., Any], control: Callable[..., Any]) -> None:
    client = esme("receiver")
    text = "Resposta longa " * 20
    control("POST", "/mo", {"account": "main", "number": VALID[1], "text": text, "dialect": "smpp"})
    pdu = read(client, "deliver_sm")
    assert pdu.source_addr == ("55" + VALID[1]).encode() and pdu.data_coding == 0
    assert codec.decode_text(pdu.message_payload, 0) == text


# -- the link ---------------------------------------------------------------------------------------

def test_enquire_link_and_unbind(esme: Callable[..., Any]) -> None:
    client = esme()
    link = smpplib.smpp.make_pdu("enquire_link", client=client)
    client.send_pdu(link)
    resp = read(client, "enquire_link_resp")
    assert resp.sequence == link.sequence and resp.status == 0
    assert client.unbind().command == "unbind_resp"
    client._socket.settimeout(2)
    assert client._socket.recv(1) == b""  # the SMSC closes the connection after unbind_resp


def test_enquire_link_before_bind_and_submit_before_bind(esme: Callable[..., Any]) -> None:
    client = esme(bind=False)
    client._socket.sendall(codec.encode(codec.make("enquire_link", 7)))
    resp = codec.decode(_raw_read(client))
    assert (resp.command_id, resp.sequence_number, resp.command_status) == (codec.CommandId.ENQUIRE_LINK_RESP, 7, 0)
    client._socket.sendall(codec.encode(codec.make("submit_sm", 8, destination_addr="55" + VALID[0],
                                                   dest_addr_ton=1, dest_addr_npi=1, short_message=b"x")))
    assert codec.decode(_raw_read(client)).command_status == ST.ESME_RINVBNDSTS


def _raw_read(client: smpplib.client.Client) -> bytes:
    client._socket.settimeout(3)
    head = client._socket.recv(4, socket.MSG_WAITALL)
    length = struct.unpack(">I", head)[0]
    return head + client._socket.recv(length - 4, socket.MSG_WAITALL)


def test_malformed_pdus_get_generic_nack(esme: Callable[..., Any]) -> None:
    client = esme()
    client._socket.sendall(struct.pack(">IIII", 16, 0x00000099, 0, 41))  # unknown command_id
    nack = client.read_pdu()
    assert (nack.command, nack.status, nack.sequence) == ("generic_nack", ST.ESME_RINVCMDID, 41)
    truncated = codec.encode(codec.make("submit_sm", 42, destination_addr="x"))[:24]
    client._socket.sendall(struct.pack(">I", len(truncated)) + truncated[4:])  # a body that ends too soon
    nack = client.read_pdu()
    assert (nack.command, nack.status, nack.sequence) == ("generic_nack", ST.ESME_RINVCMDLEN, 42)
    assert submit(client).status == 0  # the stream is still in step
    client._socket.sendall(struct.pack(">IIII", 8, 4, 0, 43))  # command_length 8: the stream is lost
    nack = client.read_pdu()
    assert (nack.command, nack.status) == ("generic_nack", ST.ESME_RINVCMDLEN)
    client._socket.settimeout(2)
    assert client._socket.recv(1) == b""


# -- throttling (its own server, to set the rate) ---------------------------------------------------

@pytest.fixture
def throttled_port(tmp_path: Path) -> Iterator[int]:
    core = Core(tmp_path / "throttle.sqlite3", frozen=True)
    loop = asyncio.new_event_loop()
    server = SmppServer(core, "127.0.0.1", 0, max_rate=5)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(5)
    yield server.port
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    core.store.close()


def test_throttling_above_the_rate(esme: Callable[..., Any], throttled_port: int) -> None:
    client = esme(port=throttled_port)
    sent = [client.send_message(source_addr_ton=1, source_addr_npi=1, source_addr=ESME_ADDR, dest_addr_ton=1,
                                dest_addr_npi=1, destination_addr="55" + VALID[0], short_message=b"rapido")
            for _ in range(20)]
    statuses = [read(client, "submit_sm_resp").status for _ in sent]
    assert statuses.count(0) <= 6 and statuses.count(ST.ESME_RTHROTTLED) >= 14
    time.sleep(0.5)
    assert submit(client).status == 0  # the budget refills with time


# -- issue 13: what real clients send ---------------------------------------------------------------

def _long_parts(text: str) -> list[bytes]:
    return codec.split_text(text, 0, 0x42)


@pytest.mark.parametrize(("asked", "label"), [
    ([0x11, 0], "kannel: part 1 only, intermediate and final"),
    ([1, 1], "smpplib: every part"),
    ([0, 1], "last part only"),
])
def test_every_part_that_asked_gets_its_own_receipt(esme: Callable[..., Any], control: Callable[..., Any],
                                                    asked: list[int], label: str) -> None:
    """SMPP 3.4 § 5.2.17: registered_delivery is per submit_sm; each part that asked gets the receipts it
    asked for, each carrying the id that part was answered with."""
    client = esme()
    parts = _long_parts("Mensagem longa em duas partes. " * 8)
    assert len(parts) == len(asked)
    ids = [submit(client, piece, esm_class=codec.ESM_UDHI, registered_delivery=rd).message_id.decode()
           for piece, rd in zip(parts, asked)]
    assert len(set(ids)) == len(ids), label
    control("POST", "/clock", {"advance": 10})
    got = [receipt(pdu) for pdu in drain(client)]
    for part_id, rd in zip(ids, asked):
        stats = [r.stat for r in got if r.id == part_id]
        expected = ([dlr_row(s)["stat"] for s in ("queued", "sent")] if rd & 0x10 else []) + \
            (["DELIVRD"] if rd & 0x03 else [])
        assert stats == expected, f"{label}: part {part_id} (registered_delivery {rd:#x}) got {stats}"
    assert {r.id for r in got} <= set(ids), label


def drain(client: smpplib.client.Client, quiet: float = 0.5) -> list[Any]:
    """Every deliver_sm that arrives until none has for ``quiet`` seconds, each acknowledged."""
    out = []
    while True:
        client._socket.settimeout(quiet)
        try:
            pdu = client.read_pdu()
        except socket.timeout:
            return out
        if pdu.command == "deliver_sm":
            ack(client, pdu)
            out.append(pdu)


@pytest.mark.parametrize(("coding", "text", "octets"), [
    (1, "IA5: @ {x} [y] ~ \\ | ^ $", None),                     # ASCII codes, not GSM's (@ is 0x40, GSM ¡)
    (3, "Latin-1: ação às três, pé, já", None),
    (0, "GSM: @£$¥ {x} [y] ~ \\ | ^ €", None),
    (8, "UCS-2: ação 😀", None),
    (3, "Olá", b"Ol\xe1"),
])
def test_text_codings_decode_right(esme: Callable[..., Any], server: Emulator, coding: int, text: str,
                                   octets: bytes | None) -> None:
    """profile data_coding.offered: 0, 1, 3 and 8, each decoded by its own table (SMPP 3.4 § 5.2.19)."""
    client = esme()
    resp = submit(client, octets if octets is not None else codec.encode_text(text, coding), data_coding=coding)
    assert resp.status == 0
    stored = server.core.store.db.execute("SELECT text FROM messages WHERE hash = ?",
                                          (resp.message_id.decode(),)).fetchone()[0]
    assert stored == text


@pytest.mark.parametrize(("ton", "npi", "destination"), [
    (2, 1, VALID[0]),          # Kannel's default: national, E.164
    (0, 0, VALID[0]),          # unknown/unknown, national
    (0, 1, "55" + VALID[0]),   # unknown TON, an international number
    (1, 1, "55" + VALID[0]),
])
def test_destination_ton_npi_accepted(esme: Callable[..., Any], server: Emulator, ton: int, npi: int,
                                      destination: str) -> None:
    resp = submit(esme(), destination=destination, dest_addr_ton=ton, dest_addr_npi=npi)
    assert resp.status == 0, (ton, npi, destination)
    number = server.core.store.db.execute("SELECT number FROM messages WHERE hash = ?",
                                          (resp.message_id.decode(),)).fetchone()[0]
    assert number == VALID[0]


@pytest.mark.parametrize(("version", "status"), [(0x34, 0), (0x50, 0), (0x33, ST.ESME_RBINDFAIL)])
def test_interface_version_negotiation(esme: Callable[..., Any], version: int, status: int) -> None:
    """profile interface_version: a later version is answered with sc_interface_version 0x34."""
    client = esme(bind=False)
    pdu = smpplib.smpp.make_pdu("bind_transceiver", client=client, system_id=MAIN["integration_user"],
                                password=MAIN["password"], system_type=SYSTEM_TYPE)
    pdu.interface_version = version
    client.send_pdu(pdu)
    resp = read(client, "bind_transceiver_resp")
    assert resp.status == status
    if status == 0:
        assert resp.sc_interface_version == SMPP["interface_version"]["answered_with"]


def test_every_fixture_account_can_send_its_password_in_a_bind(esme: Callable[..., Any]) -> None:
    """contracts/smpp/profile.yaml password_octets: a bind carries 8 octets of password, so every fixture
    account's password fits, and none is refused as a wrong password (issue 12 item 8)."""
    limit = SMPP["password_octets"]["max"]
    for name, account in PROFILE["accounts"].items():
        assert len(account["password"].encode("latin-1")) <= limit, f"{name}: {account['password']!r}"
        client = esme(bind=False)
        pdu = smpplib.smpp.make_pdu("bind_transceiver", client=client, system_id=account["integration_user"],
                                    password=account["password"], system_type=SYSTEM_TYPE)
        client.send_pdu(pdu)
        assert read(client, "bind_transceiver_resp").status != ST.ESME_RINVPASWD, name


def test_a_database_of_before_part_receipts_gains_its_column(tmp_path: Path) -> None:
    """smpp_messages written before every part kept its receipts has no `parts` column: it is added."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE smpp_messages (message_id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL,"
                   " registered_delivery INTEGER NOT NULL, source_addr TEXT NOT NULL, source_ton INTEGER NOT NULL,"
                   " source_npi INTEGER NOT NULL, dest_addr TEXT NOT NULL, dest_ton INTEGER NOT NULL,"
                   " dest_npi INTEGER NOT NULL)")
        db.execute("INSERT INTO smpp_messages VALUES (1, 1, 1, 'a', 1, 1, 'b', 1, 1)")
    core = Core(path, frozen=True)
    try:
        SmppServer(core, "127.0.0.1", 0)
        row = core.store.db.execute("SELECT parts FROM smpp_messages WHERE message_id = 1").fetchone()
        assert row[0] == 0
    finally:
        core.store.close()


# -- messages nobody asked a receipt for ------------------------------------------------------------

def _lazy(server: Emulator, message_id: bytes) -> int:
    """The stored lazy flag of a message (a raw read: the view settles nothing)."""
    with server.core.store.lock:
        return server.core.store.db.execute("SELECT lazy FROM recipients WHERE id = ?",
                                            (server.core.protocols.decode(message_id.decode()),)).fetchone()[0]


def test_a_message_no_part_of_which_asked_a_receipt_settles_lazily(esme: Callable[..., Any], control: Callable[..., Any],
                                                                  server: Emulator) -> None:
    """Issue 15: the background loop does not move a message step by step when nobody asked for its
    receipts (registered_delivery 0, or only the SME acknowledgement bits 2-3, SMPP 3.4 § 5.2.17); it is
    settled in bulk, and a reader still sees the lifecycle of the one that asked."""
    client = esme()
    quiet = submit(client, destination="55" + VALID[0], registered_delivery=0)
    sme_ack = submit(client, destination="55" + VALID[1], registered_delivery=0x04)
    asked = submit(client, destination="55" + VALID[2], registered_delivery=1)
    parts = _long_parts("Mensagem longa em duas partes. " * 8)
    first_asked = [submit(client, piece, destination="55" + VALID[3], esm_class=codec.ESM_UDHI,
                          registered_delivery=rd) for piece, rd in zip(parts, [1, 0])][-1]
    none_asked = [submit(client, piece, destination="55" + VALID[4], esm_class=codec.ESM_UDHI,
                         registered_delivery=0) for piece in parts][-1]
    assert [_lazy(server, r.message_id) for r in (quiet, sme_ack, asked, first_asked, none_asked)] == [1, 1, 0, 0, 1]
    control("POST", "/clock", {"advance": 10})
    got = [receipt(pdu) for pdu in drain(client)]
    assert sorted(r.stat for r in got) == ["DELIVRD", "DELIVRD"]  # the single message and part 1 of the long one
    histories = {r.message_id: [h["state"] for h in message(control, r.message_id)["history"]]
                 for r in (quiet, sme_ack, asked, none_asked)}
    assert len({tuple(h) for h in histories.values()}) == 1, histories
    assert histories[asked.message_id][-1] == "delivered"
