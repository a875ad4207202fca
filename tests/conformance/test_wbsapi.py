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
from smsconform.conformance.clients.wbsapi import FAULT, MD5, SoapFault, WbsapiClient
from smsconform.conformance.codes import assert_answers, hold_outside
from smsconform.conformance.flows import expect_path
from smsconform.conformance.formats import answer_format, expect_format
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


def behaviour(name: str) -> Any:
    return catalog().rule(f"behaviour:wbsapi.{name}")


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
    """The status code and text of one hash. That they come as one line is the inferred answer format
    (wbsapi status prints only its codes); that some status is answered is documented."""
    lines = client.statuses([digest], version=version)
    assert lines, f"wbsapi status of {digest} answered nothing [003 § Método status]"
    expect_format(answer_format("wbsapi", "status"), len(lines) == 1,
                  f"status of one hash must answer one line, got {[ln.fields for ln in lines]}")
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
    if not wbsapi.speaks(version):
        return
    served = wbsapi.operations(version)
    assert served == expected, (f"SOAP {version}: served {served}, the contract has {expected} (the operations and "
                                f"parameters in order, 003 § API – WEBSERVICE)")


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
    if not wbsapi.speaks(version):
        return
    binding = wbsapi.binding(version)
    ports = [(service, port) for service in wbsapi.zeep.wsdl.services.values() for port in service.ports.values()
             if port.binding.name == binding.name]
    assert ports, f"SOAP {version}: the served WSDL has no port for binding {binding.name} (WSDL 1.1 § 2.6)"
    for service, port in ports:
        address = port.binding_options.get("address", "")
        assert _origin_and_path(address) == _origin_and_path(wbsapi.address), (
            f"SOAP {version}: port {port.name} addresses {address!r}; the service is {wbsapi.address!r} "
            f"(003 § API – WEBSERVICE: 'Endereço: url.com.br/wbsapi.asmx')")
    service, port = ports[0]
    proxy = wbsapi.zeep.bind(service.name, port.name)
    answer = proxy.status(Identificacao=wbsapi.credentials()["identificacao"],
                          Hash=hashlib.md5(b"smsconform: never issued").hexdigest())
    assert isinstance(answer, str) and answer.strip(), (
        f"SOAP {version}: status through the WSDL's own address answered {answer!r} (003 § Método status: a result)")


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
        if not client.speaks(version):
            return
        if operation in ("status", "cancel"):  # a message that stays AGUARDANDO: scheduled ahead
            params = {"Hash": client.send_unique(Agenda=agenda(clock, 30)).hash}
        else:
            params = client.valid_request(operation)
        exchange = client.call(operation, params)
        result = client.result(operation, exchange)
        assert result.code == ok, (f"wbsapi.{operation} (SOAP {version}) answered {exchange.parsed!r}, its success is "
                                   f"{ok} [{code_rule(operation, ok)}, 003 § Método {operation}]")
        headers = {k.lower(): v for k, v in exchange.response_headers.items()}
        content_type = headers.get("content-type", "")
        assert content_type.split(";")[0].strip() == CONTENT_TYPES[version], (
            f"SOAP {version} answers {CONTENT_TYPES[version]} (SOAP 1.1 § 6.1.1, SOAP 1.2 part 2 § 7.1.4), got "
            f"{content_type!r}")
        envelope = ("http://schemas.xmlsoap.org/soap/envelope/" if version == "1.1"
                    else "http://www.w3.org/2003/05/soap-envelope")
        assert envelope in exchange.text, (f"SOAP {version} envelope {envelope} expected (SOAP 1.1 § 4.1.2, "
                                           f"SOAP 1.2 § 5.4.7): {exchange.text[:300]!r}")
    finally:
        client.close()


@pytest.mark.rules("wsdl:wbsapi.sendUnique")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("version", VERSIONS)
def test_unreadable_envelope_is_a_soap_fault(version: str, wbsapi: WbsapiClient) -> None:
    """What the SOAP stack cannot read is a Fault of the request's SOAP version (SOAP 1.1 § 4.4, 1.2 § 5.4),
    never a result code nor a dropped connection. SOAP 1.1 sends a Fault with HTTP 500 (§ 6.2); SOAP 1.2 with
    400 for a Sender fault and 500 otherwise (part 2 § 7.5.2.2, table 20): .asmx answers 500 for both."""
    if not wbsapi.speaks(version):
        return
    exchange = wbsapi.raw("sendUnique", "<soap:Envelope xmlns:soap='x'><not-closed>", version)
    allowed = (500,) if version == "1.1" else (400, 500)
    assert exchange.status in allowed, (
        f"a SOAP {version} Fault travels with HTTP {' or '.join(map(str, allowed))} (SOAP 1.1 § 6.2, 1.2 part 2 § 7.5), "
        f"got {exchange.status}")
    marker = "faultcode" if version == "1.1" else "Fault"
    assert marker in exchange.text, f"SOAP {version} Fault expected (SOAP 1.1 § 4.4, 1.2 § 5.4), got {exchange.text[:300]!r}"


# -- one platform, two doors -------------------------------------------------------------------------------
def _shared(ok: bool, message: str) -> bool:
    shared = behaviour("shared-messages")
    return expect(ok, shared, f"{message} [{shared.source}]")


@pytest.mark.rules("code:wbsapi.status.9", "code:mensagem.cacl.9", "code:wbsapi.status.0", "behaviour:wbsapi.shared-messages")
@pytest.mark.dialect("wbsapi")
def test_sent_by_soap_cancelled_by_http(wbsapi: WbsapiClient, sms_clients: Any, clock: Clock) -> None:
    """The seed presents wbsapi and the HTTP API as one provider's (003): a message sent by sendUnique is
    known by its MD5 to /sms/cacl, and the cancel shows in wbsapi status. That the two doors share their
    messages is inferred (behaviour:wbsapi.shared-messages); each door's own answers are documented."""
    mensagem = sms_clients("mensagem")
    digest = wbsapi.send_unique(Agenda=agenda(clock)).hash
    assert status_of(wbsapi, digest) == ("0", "AGUARDANDO"), (
        f"precondition: a message scheduled ahead is 0 AGUARDANDO [code:wbsapi.status.0, 003 § Método status]")
    line = mensagem.call("cacl", {"h": digest}).text.strip().split(";")
    if not _shared(line[1:3] == ["9", "CANCELADO"], f"mensagem cacl of a wbsapi message: {';'.join(line)!r}"):
        return
    _shared(status_of(wbsapi, digest) == ("9", "CANCELADO"), "the cancel by cacl does not show in wbsapi status")


@pytest.mark.rules("code:wbsapi.status.0", "code:wbsapi.cancel.9", "code:mensagem.cacl.9", "behaviour:wbsapi.shared-messages")
@pytest.mark.dialect("wbsapi")
def test_sent_by_http_cancelled_by_soap(wbsapi: WbsapiClient, sms_clients: Any) -> None:
    mensagem = sms_clients("mensagem")
    digest = mensagem.send_one(scheduled=True)
    if not _shared(status_of(wbsapi, digest) == ("0", "AGUARDANDO"),
                   f"wbsapi status does not know the mensagem message {digest} as 0 AGUARDANDO"):
        return
    lines = wbsapi.statuses([digest], operation="cancel")
    if not _shared([(ln.code, ln.text) for ln in lines] == [("9", "CANCELADO")],
                   f"wbsapi cancel of a mensagem message: {[ln.fields for ln in lines]}"):
        return
    expect_format(answer_format("wbsapi", "cancel"), lines[0].fields[0] == digest,
                  f"wbsapi cancel's line names its hash first: {lines[0].fields}")
    again = mensagem.call("cacl", {"h": digest}).text.strip().split(";")
    _shared(again[1:3] == ["9", "CANCELADO"], f"the cancel does not show through mensagem cacl: {';'.join(again)!r}")


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
    assert lines, f"{state_code.id}: wbsapi {state_code.operation} answered nothing [{state_code.source}]"
    expect_format(answer_format("wbsapi", state_code.operation), len(lines) == 1 and lines[0].fields[0] == digest,
                  f"one line for the hash, naming it first: {[ln.fields for ln in lines]}")
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
    assert seen[-1] == "1", f"precondition: a valid message reaches 1 ENVIADO [code:wbsapi.status.1]: {seen}"
    lines = wbsapi.statuses([digest], operation="cancel")
    assert lines, "wbsapi cancel answered nothing [003 § Método cancel]"
    assert_answers(catalog().code("wbsapi", "cancel", "1"), lines[0], "cancel of a sent message: ")
    assert status_of(wbsapi, digest) == ("1", "ENVIADO"), (
        f"a cancel after sending must not change the status: ENVIADO is final [machine:wbsapi.message, 003 § Método status]")


@pytest.mark.rules("grammar:wbsapi.hash_list", "code:wbsapi.status.0", "code:wbsapi.status.9")
@pytest.mark.dialect("wbsapi")
def test_status_of_a_hash_list_keeps_its_order(wbsapi: WbsapiClient, clock: Clock) -> None:
    waiting = [wbsapi.send_unique(wbsapi.number(i), Agenda=agenda(clock)).hash for i in range(3)]
    wbsapi.statuses([waiting[1]], operation="cancel")
    order = [waiting[2], waiting[0], waiting[1]]
    lines = wbsapi.statuses(order)
    due = {order[0]: "0", order[1]: "0", order[2]: "9"}
    expect_format(answer_format("wbsapi", "status"), [(ln.fields[0], ln.code) for ln in lines] == list(due.items()),
                  f"status of {order}: one line per hash in the order asked, got {[ln.fields for ln in lines]}")
    named = {ln.fields[0]: ln.code for ln in lines if ln.fields[0] in due}
    if len(named) == len(due):  # lines that name their hash: each hash's status is documented (0, 9)
        assert named == due, f"status of {order}: {named}, due {due} [code:wbsapi.status.0, code:wbsapi.status.9]"


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
    billing = behaviour("billing")  # the price per part, and that crdtf shows wbsapi's credits: inferred
    if n <= message_limit.max:
        assert result.code == "1", (
            f"{message_limit.id}: {n} characters (tipo {tipo}) must be accepted, got {exchange.parsed!r} "
            f"[{message_limit.source}]")
        expected = [0, 0, 0]
        expected[tipo] = sms_parts(text)
        expect(spent == expected, billing,
               f"{n} characters ({alphabet!r}) cost {expected} (long, flash, short), debited {spent}")
    else:
        hold_outside(message_limit, "above", result, f"{message_limit.id}: {n} characters (tipo {tipo})")
        expect(spent == [0, 0, 0], billing, f"a refused message must cost nothing, debited {spent}")


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
    form = answer_format("wbsapi", "sendMultiple")  # one line per record, in input order: inferred
    if side == "max":
        lines = thousand["lines"]
        assert lines and all(ln.code == "1" for ln in lines), (
            f"{lim.max} records must be accepted, codes {sorted({ln.code for ln in lines})} [{lim.source}]")
        expect_format(form, len(lines) == int(lim.max), f"{lim.max} records: {len(lines)} lines")
        expect_format(form, [ln.fields[-1] for ln in lines] == thousand["numbers"], "one line per record, in input order")
        return
    n = {"min-1": int(lim.min) - 1, "min": int(lim.min), "max+1": int(lim.max) + 1}[side]
    numbers = distinct_numbers(wbsapi, n) if n else []
    exchange = wbsapi.call("sendMultiple", {"Conteudo": ";".join(f"{x}|{TEXT}" for x in numbers)})
    result = wbsapi.result("sendMultiple", exchange)
    if side == "min":
        assert result.code == "1", f"{lim.id}: {n} record must be accepted, got {exchange.parsed!r} [{lim.source}]"
        expect_format(form, len(wbsapi.lines("sendMultiple", exchange)) == n, f"{n} record: one line, got {exchange.parsed!r}")
        return
    hold_outside(lim, "below" if side == "min-1" else "above", result, f"{lim.id}: {n} records")


@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("operation", [pytest.param(op, marks=pytest.mark.rules(f"limit:wbsapi.{op}.hashes"))
                                       for op in ("status", "cancel")])
@pytest.mark.parametrize("count", [999, 1000, 1001])
def test_hash_list_bounds(operation: str, count: int, wbsapi: WbsapiClient, thousand: dict[str, Any]) -> None:
    """Até 1.000 registros na requisição (003 § Método status, § Método cancel): up to 1000 hashes answered
    one line each, in order; 1001 is the limit's code (86)."""
    lim = _limit(f"wbsapi.{operation}.hashes")
    accepted = [ln for ln in thousand["lines"] if ln.code == "1"]
    assert len(accepted) == int(lim.max), (
        f"precondition: the {lim.max}-record sendMultiple must accept every record [limit:wbsapi.sendMultiple.records]")
    hashes = [ln.fields[1] for ln in accepted if len(ln.fields) > 1 and MD5.fullmatch(ln.fields[1])]
    if not expect_format(answer_format("wbsapi", "sendMultiple"), len(hashes) == int(lim.max),
                         f"the {lim.max} accepted records' lines carry {len(hashes)} MD5 protocols"):
        return  # no hashes to ask for
    if count > lim.max:
        hashes = hashes + [wbsapi.send_unique().hash]
    hashes = hashes[:count]
    exchange = wbsapi.call(operation, {"Hash": ";".join(hashes)})
    if count <= lim.max:
        result = wbsapi.result(operation, exchange)
        assert result.code not in (lim.above_code, FAULT), (
            f"{lim.id}: {count} hashes are within the limit, answered {result.code!r} ({result.text!r}) [{lim.source}]")
        lines = wbsapi.lines(operation, exchange)
        expect_format(answer_format("wbsapi", operation), [ln.fields[0] for ln in lines] == hashes,
                      f"{count} hashes: {len(lines)} lines, or out of order")
    else:
        hold_outside(lim, "above", wbsapi.result(operation, exchange), f"{lim.id}: {count} hashes")


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
        assert result.code == "1", f"IdExterno {value} must be accepted, got {exchange.parsed!r} [{lim.source}]"
    else:
        assert result.code != "1" and result.success is not True, (
            f"IdExterno {value} is outside 0..{int(lim.max)}: it must be refused, got {exchange.parsed!r} [{lim.source}]")
        fault = behaviour("idexterno-fault")
        expect(result.code == FAULT and isinstance(exchange.parsed, SoapFault), fault,
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
        assert result.code == "1", f"Id externo {value} must be accepted, got {exchange.parsed!r} [{lim.source}]"
    else:
        assert result.code != "1" and result.success is False, (
            f"Id externo {value} is beyond {int(lim.max)}: it must be refused with a code of the table, got "
            f"{exchange.parsed!r} [{lim.source}]")


@pytest.mark.rules("limit:wbsapi.sendUnique.Telefone")
@pytest.mark.dialect("wbsapi")
@pytest.mark.parametrize("digits", [9, 10, 11, 12])
def test_telefone_digits(digits: int, wbsapi: WbsapiClient) -> None:
    lim = _limit("wbsapi.sendUnique.Telefone")
    number = limit_value(lim, digits, wbsapi)
    exchange = wbsapi.call("sendUnique", {"Telefone": number, "Mensagem": TEXT})
    result = wbsapi.result("sendUnique", exchange)
    if lim.min <= digits <= lim.max:
        assert result.code == "1", f"{digits} digits ({number}) must be accepted, got {exchange.parsed!r} [{lim.source}]"
    else:
        hold_outside(lim, "below" if digits < lim.min else "above", result, f"{lim.id}: {digits} digits")


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
    refused = catalog().by_reason("wbsapi", "sendMultiple", "blacklisted")
    form = answer_format("wbsapi", "sendMultiple")
    if not expect_format(form, len(lines) == 3, f"one line per record: {[ln.fields for ln in lines]}"):
        return  # which record each code answers cannot be read
    assert sorted(ln.code for ln in lines) == sorted(["1", refused.code, "1"]), (
        f"two valid records accepted, the blacklisted one refused with {refused.code} [{refused.id}]: "
        f"{[ln.fields for ln in lines]}")
    expect_format(form, [ln.code for ln in lines][:2] == ["1", refused.code], f"records answered in input order: "
                  f"{[ln.fields for ln in lines]}")
    accepted_long = sum(sms_parts(t) for ok, t in zip(lines, [TEXT, TEXT, long_text]) if ok.code == "1")
    spent = [b - a for b, a in zip(before, after)]
    expect(spent[0] == accepted_long, behaviour("billing"),
           f"long credits: {accepted_long} due for the accepted records, {spent[0]} debited")


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
    assert len(first) == 1, f"the reply, once [code:wbsapi.inBox.1, 003 § Método inBox]: {first}"
    form = answer_format("wbsapi", "inBox")  # replies as recv's lines: inferred
    expect_format(form, first[0][0] == "1" and first[0][3:4] == [wbsapi.number()],
                  f"the reply's line is recv's 1;<md5>;date;sender;...: {first[0]}")
    expect_format(form, first[0][1:2] == [sent.hash], f"the reply names the message it answers ({sent.hash}): {first[0]}")
    assert shown(Reexibir=0) == [], "a reply already shown must not come back without Reexibir=1 (003: '0 = default, 1 = Reexibe')"
    assert len(shown(Reexibir=1)) == 1, "Reexibir=1 shows it again (003 § Método inBox: '1 = Reexibe')"
    yesterday = (clock.now() - timedelta(days=1)).replace(tzinfo=None)
    window = {"DataInicial": (yesterday - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"),
              "DataFinal": (yesterday - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "Reexibir": 1}
    assert shown(**window) == [], "a reply outside DataInicial..DataFinal must not be shown (003 § Método inBox)"
