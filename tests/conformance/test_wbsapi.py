"""Family 7, wbsapi: the SOAP web service wbsapi.asmx v1.20 (seed 003 § API – WEBSERVICE) through zeep.

From the contracts: the served WSDL against contracts/wsdl/wbsapi.wsdl; the five operations in SOAP 1.1 and
SOAP 1.2; the same platform seen through two doors (a message sent by SOAP is cancelled by the HTTP API's
cacl and the other way round, as the seed presents one provider); status and cancel by hash lists, each
status code reached from the state codes.yaml names, every observed sequence a path of
machine:wbsapi.message; the limits of limits.yaml at N-1, N and N+1 (600 characters for TipoMensagem 0 and
1, 140 for 2; 1000 records; 1000 hashes; IdExterno 0..4294967295; 10..11 digits), with the credits each
accepted message costs; and inBox.

Codes reached from a valid request plus a trigger are the codes family's (test_codes.py); here are the
ones that need a state, a flow or a SOAP version.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone
from math import ceil
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest
import zeep

from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.clients.wbsapi import FAULT, SoapFault, WbsapiClient
from smsconform.conformance.codes import assert_answers
from smsconform.conformance.flows import expect_path
from smsconform.conformance.judge import expect
from smsconform.conformance.triggers import distinct_numbers, limit_value
from smsconform.contracts import Limit, load_contracts

BRT = timezone(timedelta(hours=-3))
TEXT = "smsconform wbsapi"
VERSIONS = ("1.1", "1.2")
CONTENT_TYPES = {"1.1": "text/xml", "1.2": "application/soap+xml"}
KIND_COLUMN = {0: 4, 1: 5, 2: 6}  # crdtf: Parâmetro 5 long code, 6 flash, 7 short code (003 § Consultar Créditos)
GSM7 = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                 "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = frozenset("\f^{}\\[~]|€")


def sms_parts(text: str) -> int:
    """SMS a text takes, GSM 03.38 (160, 153 per part) or UCS-2 (70, 67): the suite's own count."""
    if all(ch in GSM7 or ch in GSM7_EXT for ch in text):
        septets = sum(2 if ch in GSM7_EXT else 1 for ch in text)
        return 1 if septets <= 160 else ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else ceil(units / 67)


def catalog() -> Any:
    return load_contracts().catalog


def code_rule(operation: str, code: str) -> str:
    return catalog().code("wbsapi", operation, code).id


# -- the target's clock ---------------------------------------------------------------------------------
class Clock:
    """Moves the target's time: its control API, or real waiting bounded by the profile's max_wait."""

    def __init__(self, target: Any, control: Any) -> None:
        self.target = target
        self.control = control

    def now(self) -> datetime:
        if self.control is not None:
            return datetime.fromtimestamp(self.control.now(), BRT)
        return datetime.now(BRT)

    def until(self, done: Callable[[], bool], seconds: float) -> bool:
        """Let ``seconds`` pass (at once on a controlled clock; polling in real time) until ``done()``."""
        if self.control is not None:
            step = 0.5  # finer than any state lasts (contracts/emulator/lifecycle.yaml), so none is skipped
            moved = 0.0
            while not done() and moved < seconds:
                self.control.advance(step)  # answers once what the step made due has happened (emulator-control.yaml)
                moved += step
                if moved > 60:  # no document times a step ("O tempo de entrega é variável", 003): keep waiting
                    step = min(step * 2, 3600.0)
            return done()
        deadline = time.monotonic() + self.target.time.max_wait
        while not done() and time.monotonic() < deadline:
            time.sleep(0.5)
        return done()


@pytest.fixture
def clock(sms_target: Any, sms_control: Any) -> Clock:
    return Clock(sms_target, sms_control)


@pytest.fixture
def wbsapi(sms_clients: Any) -> WbsapiClient:
    return sms_clients("wbsapi")


def agenda(clock: Clock, days: float = 2) -> str:
    """An Agenda in the target's future, so a message stays AGUARDANDO whatever its clock does."""
    return (clock.now() + timedelta(days=days)).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def status_of(client: WbsapiClient, digest: str, version: str | None = None) -> tuple[str, str | None]:
    lines = client.statuses([digest], version=version)
    assert len(lines) == 1, f"status of one hash must answer one line, got {[ln.fields for ln in lines]}"
    return lines[0].code, lines[0].text


# -- the service description ----------------------------------------------------------------------------
@pytest.mark.rules(*[f"wsdl:wbsapi.{op}" for op in ("sendUnique", "sendMultiple", "inBox", "status", "cancel")])
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("version", VERSIONS)
def test_served_wsdl_offers_the_contract_operations(version: str, wbsapi: WbsapiClient) -> None:
    """The served WSDL binds exactly the contract's five operations, with the documented parameters in order,
    in SOAP 1.1 and SOAP 1.2 (003 § API – WEBSERVICE; contracts/wsdl/wbsapi.wsdl)."""
    contract = zeep.Client(str(load_contracts().wsdl_path))
    bindings = {type(b).__name__: b for b in contract.wsdl.bindings.values()}
    expected_binding = bindings["Soap11Binding" if version == "1.1" else "Soap12Binding"]
    expected = {name: tuple(n for n, _ in op.input.body.type.elements) for name, op in expected_binding.all().items()}
    served = wbsapi.operations(version)
    assert served == expected, f"SOAP {version}: served {served}, the contract has {expected}"


def _origin_and_path(url: str) -> tuple[str, str, str]:
    """A URL as scheme, host[:port] (both case-insensitive) and path."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower(), parts.path


@pytest.mark.rules(*[f"wsdl:wbsapi.{op}" for op in ("sendUnique", "sendMultiple", "inBox", "status", "cancel")])
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("version", VERSIONS)
def test_served_wsdl_addresses_the_url_it_is_served_from(version: str, wbsapi: WbsapiClient) -> None:
    """The served WSDL's soap:address / soap12:address is the URL it is served from, so a client generated
    from it reaches the service: every operation goes to that address (WSDL 1.1 § 3.8, § 4; 003 § API –
    WEBSERVICE serves wbsapi.asmx?WSDL). Called here through the WSDL's own port, not an address we supply."""
    binding = wbsapi.binding(version)
    ports = [(service, port) for service in wbsapi.zeep.wsdl.services.values() for port in service.ports.values()
             if port.binding.name == binding.name]
    assert ports, f"SOAP {version}: the served WSDL has no port for binding {binding.name}"
    for service, port in ports:
        address = port.binding_options.get("address", "")
        assert _origin_and_path(address) == _origin_and_path(wbsapi.address), (
            f"SOAP {version}: port {port.name} addresses {address!r}; the WSDL is served from {wbsapi.wsdl_url!r}")
    service, port = ports[0]
    proxy = wbsapi.zeep.bind(service.name, port.name)
    answer = proxy.status(Identificacao=wbsapi.credentials()["identificacao"],
                          Hash=hashlib.md5(b"smsconform: never issued").hexdigest())
    assert isinstance(answer, str) and answer.strip(), (
        f"SOAP {version}: status through the WSDL's own address answered {answer!r}")


SUCCESS = {"sendUnique": "1", "sendMultiple": "1", "inBox": "1", "status": "0", "cancel": "9"}


@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("operation", [
    pytest.param(op, marks=pytest.mark.rules(code_rule(op, ok), f"wsdl:wbsapi.{op}")) for op, ok in SUCCESS.items()
])
def test_each_operation_answers_in_each_soap_version(operation: str, version: str, sms_target: Any,
                                                     clock: Clock) -> None:
    """A valid request of each operation gets its success code, in an envelope of the version asked for."""
    ok = SUCCESS[operation]
    client = WbsapiClient(sms_target, version)
    try:
        if operation in ("status", "cancel"):  # a message that stays AGUARDANDO: scheduled ahead
            params = {"Hash": client.send_unique(Agenda=agenda(clock, 30)).hash}
        else:
            params = client.valid_request(operation)
        exchange = client.call(operation, params)
        result = client.result(operation, exchange)
        assert result.code == ok, f"wbsapi.{operation} (SOAP {version}) answered {exchange.parsed!r}"
        headers = {k.lower(): v for k, v in exchange.response_headers.items()}
        content_type = headers.get("content-type", "")
        assert content_type.split(";")[0].strip() == CONTENT_TYPES[version], (
            f"SOAP {version} answers {CONTENT_TYPES[version]}, got {content_type!r}")
        envelope = ("http://schemas.xmlsoap.org/soap/envelope/" if version == "1.1"
                    else "http://www.w3.org/2003/05/soap-envelope")
        assert envelope in exchange.text, f"SOAP {version} envelope {envelope} expected: {exchange.text[:300]!r}"
    finally:
        client.close()


@pytest.mark.rules("wsdl:wbsapi.sendUnique")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("version", VERSIONS)
def test_unreadable_envelope_is_a_soap_fault(version: str, wbsapi: WbsapiClient) -> None:
    """What the SOAP stack cannot read is a Fault of the request's SOAP version (SOAP 1.1 § 4.4, 1.2 § 5.4;
    basis inferred: the seed's .asmx pages), never a result code nor a dropped connection."""
    exchange = wbsapi.raw("sendUnique", "<soap:Envelope xmlns:soap='x'><not-closed>", version)
    assert exchange.status == 500, f"a Fault travels with HTTP 500 (SOAP 1.1 § 6.2, 1.2 § 7.5), got {exchange.status}"
    marker = "faultcode" if version == "1.1" else "Fault"
    assert marker in exchange.text, f"SOAP {version} Fault expected, got {exchange.text[:300]!r}"


# -- one platform, two doors -------------------------------------------------------------------------------
@pytest.mark.rules("code:wbsapi.status.9", "code:mensagem.cacl.9", "code:wbsapi.status.0")
@pytest.mark.dialect("wbsapi")
def test_sent_by_soap_cancelled_by_http(wbsapi: WbsapiClient, sms_clients: Any, clock: Clock) -> None:
    """The seed presents wbsapi and the HTTP API as one provider's (003): a message sent by sendUnique is
    known by its MD5 to /sms/cacl, and the cancel shows in wbsapi status."""
    mensagem = sms_clients("mensagem")
    digest = wbsapi.send_unique(Agenda=agenda(clock)).hash
    assert status_of(wbsapi, digest) == ("0", "AGUARDANDO")
    line = mensagem.call("cacl", {"h": digest}).text.strip().split(";")
    assert line[:3] == [digest, "9", "CANCELADO"], f"mensagem cacl of a wbsapi message: {';'.join(line)!r}"
    assert status_of(wbsapi, digest) == ("9", "CANCELADO")


@pytest.mark.rules("code:wbsapi.status.0", "code:wbsapi.cancel.9", "code:mensagem.cacl.9")
@pytest.mark.dialect("wbsapi")
def test_sent_by_http_cancelled_by_soap(wbsapi: WbsapiClient, sms_clients: Any) -> None:
    mensagem = sms_clients("mensagem")
    digest = mensagem.send_one(scheduled=True)
    assert status_of(wbsapi, digest) == ("0", "AGUARDANDO")
    lines = wbsapi.statuses([digest], operation="cancel")
    assert [(ln.fields[0], ln.code, ln.text) for ln in lines] == [(digest, "9", "CANCELADO")], (
        f"wbsapi cancel of a mensagem message: {[ln.fields for ln in lines]}")
    again = mensagem.call("cacl", {"h": digest}).text.strip().split(";")
    assert again[1:3] == ["9", "CANCELADO"], f"the cancel shows through mensagem cacl: {';'.join(again)!r}"


# -- status and cancel: each state's code, and the machine -----------------------------------------------
HORIZON = 3 * 86400.0  # the most time is moved waiting for a state: the documents time no step
STATUS_CASES = {
    # state name in codes.yaml triggers -> (fixture number or None for a valid one, seconds to let pass at most)
    "message_waiting": (None, 0.0), "message_queued": (None, HORIZON), "message_sent": (None, HORIZON),
    "message_error": ("outcome_error", HORIZON), "message_invalid": ("outcome_invalid", HORIZON),
    "message_held": ("antifraud", 0.0), "message_cancelled": (None, 0.0),
}


def _state_codes(operation: str) -> list[Any]:
    return [c for c in catalog().operation_codes("wbsapi", operation)
            if c.trigger and "state" in c.trigger]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "state_code" in metafunc.fixturenames:
        metafunc.parametrize("state_code", [
            pytest.param(c, id=c.id, marks=[pytest.mark.rules(c.id, "machine:wbsapi.message"),
                                           pytest.mark.dialect("wbsapi")])
            for op in ("status", "cancel") for c in _state_codes(op)
        ])
    if "message_limit" in metafunc.fixturenames:
        points = []
        for lim in catalog().limits:
            if lim.dialect == "wbsapi" and lim.param == "Mensagem":
                for n in (int(lim.max) - 1, int(lim.max), int(lim.max) + 1):
                    for alphabet in ("a", "ã"):
                        name = f"{lim.name}[{n},{'gsm' if alphabet == 'a' else 'ucs2'}]"
                        points.append(pytest.param(lim, n, alphabet, id=name, marks=[
                            pytest.mark.rules(lim.id), pytest.mark.dialect("wbsapi")]))
        metafunc.parametrize("message_limit,n,alphabet", points)


def _reach(state: str, wbsapi: WbsapiClient, clock: Clock, sms_target: Any) -> tuple[str, list[str]]:
    """Send a message and bring it to ``state``; its hash and the status codes observed on the way."""
    if state not in STATUS_CASES:
        raise NotExercised(f"no flow builds state {state!r}")
    fixture, seconds = STATUS_CASES[state]
    number = wbsapi.number()
    if fixture is not None:
        number = sms_target.fixtures.number(fixture)
        if number is None:
            raise NotExercised(f"the target profile has no fixture numbers.{fixture}")
    if seconds and clock.control is None and sms_target.time.max_wait <= 0:
        raise NotExercised("time cannot pass on this target")
    scheduled = state in ("message_waiting", "message_cancelled")
    digest = (wbsapi.send_unique(number, Agenda=agenda(clock)) if scheduled else wbsapi.send_unique(number)).hash
    seen = [status_of(wbsapi, digest)[0]]
    if state == "message_cancelled":
        wbsapi.statuses([digest], operation="cancel")
        seen.append(status_of(wbsapi, digest)[0])
    elif seconds:
        wanted = {"message_queued": "3", "message_sent": "1", "message_error": "2", "message_invalid": "5"}[state]

        def there() -> bool:
            code = status_of(wbsapi, digest)[0]
            if code != seen[-1]:
                seen.append(code)
            return code == wanted

        clock.until(there, seconds)
    return digest, seen


def test_status_and_cancel_answer_each_state(state_code: Any, wbsapi: WbsapiClient, clock: Clock,
                                             sms_target: Any) -> None:
    """Each status (and cancel) code of codes.yaml reached from its state; the observed statuses are a path of
    the machine; cancel acts only on AGUARDANDO (003 § Cancelamento de Mensagens, "Somente mensagens com status
    de aguardando envio estão aptas a cancelamento")."""
    state = state_code.trigger["state"]
    digest, seen = _reach(state, wbsapi, clock, sms_target)
    lines = wbsapi.statuses([digest], operation=state_code.operation)
    assert len(lines) == 1 and lines[0].fields[0] == digest, f"one line for the hash: {[ln.fields for ln in lines]}"
    # the code and its text each by their basis (wbsapi 7 and 255 map a state to a code by inference)
    assert_answers(state_code, lines[0], f"a message in state {state} (statuses seen: {seen}): ")
    seen.append(status_of(wbsapi, digest)[0])
    machine = catalog().machine("wbsapi.message")
    # polling may miss a state (machines.yaml): the observed statuses must be a path, each broken order judged
    # by the edges that establish it (flows.path_problem)
    expect_path(machine, seen, f"{state_code.id} (observed {seen})")


@pytest.mark.rules("machine:wbsapi.message", "code:wbsapi.cancel.1")
@pytest.mark.dialect("wbsapi")
def test_cancel_after_sending_changes_nothing(wbsapi: WbsapiClient, clock: Clock, sms_target: Any) -> None:
    digest, seen = _reach("message_sent", wbsapi, clock, sms_target)
    assert seen[-1] == "1", f"the message did not reach ENVIADO: {seen}"
    lines = wbsapi.statuses([digest], operation="cancel")
    assert (lines[0].code, lines[0].text) == ("1", "ENVIADO"), f"cancel of a sent message: {lines[0].fields}"
    assert status_of(wbsapi, digest) == ("1", "ENVIADO"), "a cancel after sending must not change the status"


@pytest.mark.rules("grammar:wbsapi.hash_list", "code:wbsapi.status.0", "code:wbsapi.status.9")
@pytest.mark.dialect("wbsapi")
def test_status_of_a_hash_list_keeps_its_order(wbsapi: WbsapiClient, clock: Clock) -> None:
    waiting = [wbsapi.send_unique(wbsapi.number(i), Agenda=agenda(clock)).hash for i in range(3)]
    wbsapi.statuses([waiting[1]], operation="cancel")
    order = [waiting[2], waiting[0], waiting[1]]
    lines = wbsapi.statuses(order)
    assert [(ln.fields[0], ln.code) for ln in lines] == [(order[0], "0"), (order[1], "0"), (order[2], "9")], (
        f"status of {order}: {[ln.fields for ln in lines]}")


# -- limits ----------------------------------------------------------------------------------------------
def credits(sms_clients: Any) -> list[int]:
    """long, flash and short credits of the main account, read through mensagem crdtf (the same platform)."""
    try:
        mensagem = sms_clients("mensagem")
    except NotExercised:
        raise NotExercised("credits are read through mensagem crdtf, which the target does not offer") from None
    line = mensagem.call("crdtf", {}).text.strip().splitlines()[0].split(";")
    if line[:3] != ["1", line[1], "0"] or len(line) < 7:
        raise NotExercised(f"crdtf does not answer the general distribution here: {';'.join(line)!r}")
    return [int(line[4]), int(line[5]), int(line[6])]


def test_message_length_per_tipo(message_limit: Limit, n: int, alphabet: str, wbsapi: WbsapiClient,
                                 sms_clients: Any) -> None:
    """600 characters for TipoMensagem 0 and 1, 140 for 2 (003 § Método sendUnique); accepted messages cost
    their SMS parts in the type's credits, refused ones nothing."""
    tipo = int((message_limit.overrides or {}).get("TipoMensagem", 0))
    text = alphabet * n
    before = credits(sms_clients)
    exchange = wbsapi.call("sendUnique", {"Telefone": wbsapi.number(), "Mensagem": text, "TipoMensagem": tipo})
    result = wbsapi.result("sendUnique", exchange)
    after = credits(sms_clients)
    spent = [b - a for b, a in zip(before, after)]
    if n <= message_limit.max:
        assert result.code == "1", (
            f"{message_limit.id}: {n} characters (tipo {tipo}) must be accepted, got {exchange.parsed!r}")
        expected = [0, 0, 0]
        expected[tipo] = sms_parts(text)
        assert spent == expected, f"{n} characters ({alphabet!r}) cost {expected} (long, flash, short), debited {spent}"
    else:
        code = catalog().code("wbsapi", "sendUnique", message_limit.above_code)
        assert (result.code, result.text) == (code.code, code.text), (
            f"{message_limit.id}: {n} characters (tipo {tipo}) must get {code.code};{code.text}, "
            f"got {exchange.parsed!r}")
        assert spent == [0, 0, 0], f"a refused message must cost nothing, debited {spent}"


def _limit(name: str) -> Limit:
    return catalog().limit(name)


@pytest.fixture(scope="module")
def thousand(sms_clients: Any) -> dict[str, Any]:
    """One sendMultiple at the 1000-record maximum, its hashes kept for the hash-list limits."""
    client = sms_clients("wbsapi")
    lim = _limit("wbsapi.sendMultiple.records")
    numbers = distinct_numbers(client, int(lim.max))
    conteudo = ";".join(f"{n}|{TEXT}" for n in numbers)
    exchange = client.call("sendMultiple", {"Conteudo": conteudo})
    lines = client.lines("sendMultiple", exchange)
    return {"numbers": numbers, "lines": lines, "exchange": exchange}


@pytest.mark.rules("limit:wbsapi.sendMultiple.records")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("side", ["min-1", "min", "max", "max+1"])
def test_send_multiple_records_bounds(side: str, wbsapi: WbsapiClient, thousand: dict[str, Any]) -> None:
    """Até 1.000 mensagens por requisição (003 § Método sendMultiple): 1 and 1000 records answered one line
    each; 0 and 1001 refused with the limit's codes (87, 88)."""
    lim = _limit("wbsapi.sendMultiple.records")
    if side == "max":
        lines = thousand["lines"]
        assert len(lines) == int(lim.max) and all(ln.code == "1" for ln in lines), (
            f"{lim.max} records: {len(lines)} lines, codes {sorted({ln.code for ln in lines})}")
        assert [ln.fields[-1] for ln in lines] == thousand["numbers"], "one line per record, in input order"
        return
    n = {"min-1": int(lim.min) - 1, "min": int(lim.min), "max+1": int(lim.max) + 1}[side]
    numbers = distinct_numbers(wbsapi, n) if n else []
    exchange = wbsapi.call("sendMultiple", {"Conteudo": ";".join(f"{x}|{TEXT}" for x in numbers)})
    result = wbsapi.result("sendMultiple", exchange)
    if side == "min":
        assert result.code == "1" and len(wbsapi.lines("sendMultiple", exchange)) == n, exchange.parsed
        return
    code = catalog().code("wbsapi", "sendMultiple", lim.below_code if side == "min-1" else lim.above_code)
    assert (result.code, result.text) == (code.code, code.text), (
        f"{lim.id}: {n} records must get {code.code};{code.text}, got {str(exchange.parsed)[:200]!r}")


@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("operation", [pytest.param(op, marks=pytest.mark.rules(f"limit:wbsapi.{op}.hashes"))
                                       for op in ("status", "cancel")])
@pytest.mark.parametrize("count", [999, 1000, 1001])
def test_hash_list_bounds(operation: str, count: int, wbsapi: WbsapiClient, thousand: dict[str, Any]) -> None:
    """Até 1.000 registros na requisição (003 § Método status, § Método cancel): up to 1000 hashes answered
    one line each, in order; 1001 is the limit's code (86)."""
    lim = _limit(f"wbsapi.{operation}.hashes")
    hashes = [ln.fields[1] for ln in thousand["lines"] if ln.code == "1"]
    assert len(hashes) == int(lim.max), "the 1000-record send did not give 1000 hashes"
    if count > lim.max:
        hashes = hashes + [wbsapi.send_unique().hash]
    hashes = hashes[:count]
    exchange = wbsapi.call(operation, {"Hash": ";".join(hashes)})
    if count <= lim.max:
        lines = wbsapi.lines(operation, exchange)
        assert [ln.fields[0] for ln in lines] == hashes, f"{count} hashes: {len(lines)} lines, or out of order"
    else:
        result = wbsapi.result(operation, exchange)
        code = catalog().code("wbsapi", operation, lim.above_code)
        assert (result.code, result.text) == (code.code, code.text), (
            f"{lim.id}: {count} hashes must get {code.code};{code.text}, got {str(exchange.parsed)[:200]!r}")


@pytest.mark.rules("limit:wbsapi.sendUnique.IdExterno")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("value", [-1, 0, 4294967295, 4294967296])
def test_idexterno_bounds(value: int, wbsapi: WbsapiClient) -> None:
    """IdExterno "de 0 até 4294967295" (003 § Método sendUnique): the bounds accepted; outside, xs:unsignedInt
    cannot hold it, so the SOAP layer refuses it with a Fault (limits.yaml note), never a send."""
    lim = _limit("wbsapi.sendUnique.IdExterno")
    exchange = wbsapi.call("sendUnique", {"Telefone": wbsapi.number(), "Mensagem": TEXT, "IdExterno": value})
    result = wbsapi.result("sendUnique", exchange)
    if lim.min <= value <= lim.max:
        assert result.code == "1", f"IdExterno {value} must be accepted, got {exchange.parsed!r}"
    else:
        assert result.code == FAULT and isinstance(exchange.parsed, SoapFault), (
            f"IdExterno {value} is outside xs:unsignedInt: a SOAP Fault expected, got {exchange.parsed!r}")


@pytest.mark.rules("limit:wbsapi.sendUnique.IdExterno")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("value", [0, 4294967295, 4294967296])
def test_idexterno_bounds_in_a_record(value: int, wbsapi: WbsapiClient) -> None:
    """The same bounds for a record's third field (limits.yaml: "in sendMultiple the third field of a
    record"); inside a string no Fault can refuse it, so an outside value must at least be refused."""
    lim = _limit("wbsapi.sendUnique.IdExterno")
    exchange = wbsapi.call("sendMultiple", {"Conteudo": f"{wbsapi.number()}|{TEXT}|{value}"})
    result = wbsapi.result("sendMultiple", exchange)
    if lim.min <= value <= lim.max:
        assert result.code == "1", f"Id externo {value} must be accepted, got {exchange.parsed!r}"
    else:
        assert result.code != "1" and result.success is False, (
            f"Id externo {value} is beyond {int(lim.max)}: it must be refused, got {exchange.parsed!r}")


@pytest.mark.rules("limit:wbsapi.sendUnique.Telefone")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("digits", [9, 10, 11, 12])
def test_telefone_digits(digits: int, wbsapi: WbsapiClient) -> None:
    lim = _limit("wbsapi.sendUnique.Telefone")
    number = limit_value(lim, digits, wbsapi)
    exchange = wbsapi.call("sendUnique", {"Telefone": number, "Mensagem": TEXT})
    result = wbsapi.result("sendUnique", exchange)
    if lim.min <= digits <= lim.max:
        assert result.code == "1", f"{digits} digits ({number}) must be accepted, got {exchange.parsed!r}"
    else:
        code = catalog().code("wbsapi", "sendUnique", lim.below_code if digits < lim.min else lim.above_code)
        assert (result.code, result.text) == (code.code, code.text), (
            f"{lim.id}: {digits} digits must get {code.code};{code.text}, got {exchange.parsed!r}")


@pytest.mark.rules("limit:wbsapi.sendMultiple.records", "code:wbsapi.sendMultiple.1")
@pytest.mark.dialect("wbsapi")
def test_send_multiple_costs_each_accepted_record(wbsapi: WbsapiClient, sms_clients: Any, sms_target: Any) -> None:
    """Credits are debited for what was accepted, record by record: a refused record costs nothing."""
    blacklisted = sms_target.fixtures.number("blacklisted")
    if blacklisted is None:
        raise NotExercised("the target profile has no fixture numbers.blacklisted")
    long_text = "b" * 200  # two GSM parts
    conteudo = f"{wbsapi.number(0)}|{TEXT};{blacklisted}|{TEXT};{wbsapi.number(1)}|{long_text}"
    before = credits(sms_clients)
    lines = wbsapi.lines("sendMultiple", wbsapi.call("sendMultiple", {"Conteudo": conteudo}))
    after = credits(sms_clients)
    assert [ln.code for ln in lines][:2] == ["1", catalog().by_reason("wbsapi", "sendMultiple", "blacklisted").code], (
        [ln.fields for ln in lines])
    assert len(lines) == 3, f"one line per record: {[ln.fields for ln in lines]}"
    accepted_long = sum(sms_parts(t) for ok, t in zip(lines, [TEXT, TEXT, long_text]) if ok.code == "1")
    spent = [b - a for b, a in zip(before, after)]
    assert spent[0] == accepted_long, f"long credits: {accepted_long} due for the accepted records, {spent[0]} debited"


# -- inBox -------------------------------------------------------------------------------------------------
@pytest.mark.rules("code:wbsapi.inBox.1", "grammar:mensagem.recv_answer")
@pytest.mark.dialect("wbsapi")
def test_inbox_shows_a_reply_once_unless_reexibir(wbsapi: WbsapiClient, sms_control: Any, clock: Clock) -> None:
    """Reexibir "0 = default, 1 = Reexibe" (003 § Método inBox): a reply is shown once, again only with 1,
    and only inside DataInicial..DataFinal (today when omitted)."""
    if sms_control is None:
        raise NotExercised("replies are injected through the control API, which the target does not have")
    sent = wbsapi.send_unique(Agenda=agenda(clock))
    marker = f"RESPOSTA {sent.hash[:8]}"
    sms_control.inject_mo(wbsapi.number(), marker, reply_to=sent.hash)

    def shown(**params: Any) -> list[list[str]]:
        text = wbsapi.text(wbsapi.call("inBox", params)) or ""
        return [ln.split(";") for ln in text.splitlines() if marker in ln]

    first = shown(Reexibir=0)
    assert len(first) == 1 and first[0][0] == "1" and first[0][3] == wbsapi.number(), f"the reply, once: {first}"
    assert first[0][1] == sent.hash, f"the reply names the message it answers ({sent.hash}): {first[0]}"
    assert shown(Reexibir=0) == [], "a reply already shown must not come back without Reexibir=1"
    assert len(shown(Reexibir=1)) == 1, "Reexibir=1 shows it again"
    yesterday = (clock.now() - timedelta(days=1)).replace(tzinfo=None)
    window = {"DataInicial": (yesterday - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"),
              "DataFinal": (yesterday - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "Reexibir": 1}
    assert shown(**window) == [], "a reply outside DataInicial..DataFinal must not be shown"
