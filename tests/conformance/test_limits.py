"""Family 4, limits: every limit of contracts/catalog/limits.yaml at N-1, N and N+1, and the credits.

Generated from the catalog: a limit added there is probed here with no new test code. For each bound of
each operation the limit names, the values just inside are accepted (the operation's success code) and the
values just outside get the limit's `below` / `above` code, verbatim with its text where the dialect
answers one (a bound without a code must at least be refused). Around every send the suite reads the
balance and holds the debit to what was accepted, per SMS part as carriers count them (GSM 03.38: 160
characters, 153 per part when concatenated; UCS-2, which accented Portuguese forces: 70, 67 per part), with
its own counter below, never the implementation's. Text limits are probed with a GSM alphabet and an UCS-2
one ("ã"), so both counts are checked.

Units: chars, items, digits and value are probed through the dialect clients; per_minute by two calls
within a minute (painel getstatus/getbalance); days by letting the target's clock run (control API
only); bytes (the size of a WhatsApp media file behind a URL) are not exercised yet. wbsapi and smpp
limits are family 7's (SOAP and SMPP clients).
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from math import ceil
from typing import Any, Callable

import pytest

from smsconform.contracts import Limit, load_contracts
from smsconform.conformance.clients.base import NotExercised, Result
from smsconform.conformance.clients.base import valid_number
from smsconform.conformance.clients.speedmarket import BALANCE_KEY_BY_TYPE
from smsconform.conformance.formats import answer_format, expect_format
from smsconform.conformance.judge import expect

DIALECTS = ("mensagem", "speedmarket", "painel", "fcati", "servicesms")
SEND_OPERATIONS = {("mensagem", "send"), ("mensagem", "mult"), ("speedmarket", "send-single"),
                   ("speedmarket", "send-multiple"), ("painel", "sendsms"), ("fcati", "enviar"),
                   ("servicesms", "SendSMS")}
DEBIT_DOCUMENTED = ("mensagem", "fcati", "speedmarket")  # behaviours.yaml <dialect>.debit: a send costs credits
TEXT_PARAM = {"mensagem": "m", "speedmarket": "content", "painel": "msg", "fcati": "text", "servicesms": "Msg"}
ALPHABETS = {"gsm": "a", "ucs2": "ã"}
TEXT = "smsconform teste de conformidade"
EMAIL_DOMAIN = "@exemplo.com.br"
BRT = timezone(timedelta(hours=-3))
DAY = 86400.0
SMS_TYPES = (0, 1, 2)  # speedmarket types billed per SMS part; voice and WhatsApp are billed as the answer says
KINDS = ("long", "flash", "short", "voice", "whatsapp")

# -- the suite's own SMS part counter ----------------------------------------------------------------
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # escaped: two septets each


def sms_parts(text: str) -> int:
    """How many SMS a text takes: GSM 03.38 (160, or 153 per part) if it fits the alphabet, else UCS-2 (70/67).

    Written from the GSM 03.38 tables (3GPP TS 23.038) independently of the emulator, so that a wrong count
    there shows as a wrong debit here.
    """
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        septets = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return 1 if septets <= 160 else ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else ceil(units / 67)


# -- the points to probe -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    limit: Limit
    operation: str
    n: int
    alphabet: str = "gsm"

    @property
    def inside(self) -> bool:
        lim = self.limit
        return (lim.min is None or self.n >= lim.min) and (lim.max is None or self.n <= lim.max)

    @property
    def side(self) -> str:
        return "below" if self.limit.min is not None and self.n < self.limit.min else "above"

    @property
    def expected_code(self) -> str | None:
        return self.limit.below_code if self.side == "below" else self.limit.above_code


def _values(lim: Limit) -> list[int]:
    if lim.unit == "per_minute":
        return [int(lim.max or 1), int(lim.max or 1) + 1]
    values: list[int] = []
    for bound in (lim.min, lim.max):
        if bound is not None:
            values += [int(bound) - 1, int(bound), int(bound) + 1]
    if lim.unit in ("chars", "items", "digits", "days", "bytes"):
        values = [v for v in values if v >= 0]
    return sorted(set(values))


def _points() -> list[Point]:
    points = []
    for lim in load_contracts().catalog.limits:
        if lim.dialect not in DIALECTS:
            continue
        if lim.unit == "days":  # one staggered run of the clock checks every operation and age
            points.append(Point(lim, ",".join(lim.operations), int(lim.max or 0)))
            continue
        for operation in lim.operations:
            values = _values(lim) or [0]
            for n in values:
                points.append(Point(lim, operation, n))
                text_limit = lim.unit == "chars" and lim.param == TEXT_PARAM[lim.dialect]
                if text_limit and (lim.dialect, operation) in SEND_OPERATIONS and n > 0:
                    points.append(Point(lim, operation, n, "ucs2"))
    return points


def _rules(point: Point) -> list[str]:
    """The limit, and for a call over a once-a-minute limit the code it must get: the codes family sends
    such codes here ("limits in per_minute are checked by their own flow test"), so this test names them."""
    lim = point.limit
    out = [lim.id]
    catalog = load_contracts().catalog
    if lim.unit == "per_minute" and not point.inside and point.expected_code:
        if catalog.has_code(lim.dialect, point.operation, point.expected_code):
            out.append(catalog.code(lim.dialect, point.operation, point.expected_code).id)
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "point" in metafunc.fixturenames:
        metafunc.parametrize("point", [
            pytest.param(p, id=f"{p.limit.name}[{p.operation}={p.n}{'' if p.alphabet == 'gsm' else ',ucs2'}]",
                         marks=[pytest.mark.rules(*_rules(p), *debit_rules(p)), pytest.mark.dialect(p.limit.dialect)])
            for p in _points()
        ])


def debit_rules(point: "Point") -> tuple[str, ...]:
    """The behaviours a send's debit is held to (behaviours.yaml): its price, and that it costs at all."""
    dialect = point.limit.dialect
    if (dialect, point.operation) not in SEND_OPERATIONS:
        return ()
    return (f"behaviour:{dialect}.billing",) + ((f"behaviour:{dialect}.debit",) if dialect in DEBIT_DOCUMENTED else ())


# -- numbers -----------------------------------------------------------------------------------------
def reserved_numbers(target: Any) -> set[str]:
    return {n for name in target.fixtures.numbers if name != "valid" for n in target.fixtures.numbers_of(name)}


def national(target: Any, digits: int, salt: int = 0) -> str:
    """A national number of ``digits`` digits on a valid number's DDD: mobile-shaped at 10 and 11 digits,
    and not one the target reserves for another behaviour."""
    base = re.sub(r"\D", "", valid_number(target, 0))
    ddd, reserved = base[:2], reserved_numbers(target)
    for attempt in range(salt, salt + 1000):
        tail = f"{(int(base[-7:]) + attempt * 7919) % 10_000_000:07d}"
        body = "9" + tail
        number = ddd + ("9" * (digits - 10) + body if digits >= 10 else body[-(digits - 2):])
        if number not in reserved:
            return number
    raise NotExercised(f"cannot build a {digits}-digit number outside the target's reserved ones")


def distinct_numbers(target: Any, count: int) -> list[str]:
    """``count`` distinct valid 11-digit numbers on the first valid number's DDD, none reserved."""
    base = re.sub(r"\D", "", valid_number(target, 0))
    head, reserved = base[:-5], reserved_numbers(target)
    out: list[str] = []
    for tail in range(100000):
        number = f"{head}{tail:05d}"
        if number not in reserved:
            out.append(number)
            if len(out) == count:
                return out
    raise NotExercised(f"cannot build {count} distinct numbers from {base}")


# -- requests ----------------------------------------------------------------------------------------
@dataclass
class Probe:
    """A request with the value under test, the texts it would send, and where its answer is read."""

    params: dict[str, Any]
    texts: list[str]                 # one per message the request sends
    types: list[int] = field(default_factory=list)  # speedmarket: each message's type
    item: str | int | None = None    # a number (mensagem mult line) or an index (send-multiple) to read


def base_request(client: Any, dialect: str, operation: str, limit: Limit) -> dict[str, Any]:
    if (dialect, operation) == ("mensagem", "cact"):
        created = client.call("cict", {"d": f"CC {uuid.uuid4().hex[:12]}"})
        centre = created.text.strip().split(";")[0]
        if not centre.isdigit():
            raise AssertionError(f"could not create a cost centre to build the state: {created.text!r}")
        params: dict[str, Any] = {"id": centre}
    elif dialect == "mensagem" and operation in ("send", "mult"):
        params = {"n": valid_number(client.target, 0), "m": TEXT}
        if operation == "mult":
            params["n"] = ";".join(distinct_numbers(client.target, 2))
    else:
        params = client.valid_request(operation)
    overrides = dict(limit.overrides or {})  # limits.yaml `set`: the parameters under which it applies
    if dialect == "speedmarket" and operation == "send-multiple":
        for key, value in overrides.items():
            value = int(value) if key in ("type", "number", "country_code") and str(value).isdigit() else value
            params.setdefault("defaultValues", {})[key] = value
            for message in params["messages"]:
                message[key] = value
    else:
        params.update(overrides)
    return params


MEDIA_CONTENT = {4: "http://127.0.0.1/audio.mp3", 6: "http://127.0.0.1/imagem.jpg",
                 7: "http://127.0.0.1/audio.mp3", 8: "http://127.0.0.1/video.mp4"}


def _speedmarket_content(type_: int, text: str) -> str:
    """Types 6 and 8 take the URL of a .jpg / .mp4 (001 § Envio Individual); the audio types 4 and 7 a URL
    too (inferred: the seed prints no content rule for audio, and an audio message cannot be a text)."""
    return MEDIA_CONTENT.get(type_, text)


def shape(point: Point, client: Any, params: dict[str, Any]) -> Probe:
    """Put a value of size ``point.n`` (in the limit's unit) into the request."""
    lim, dialect, op, n = point.limit, point.limit.dialect, point.operation, point.n
    target = client.target
    fill = ALPHABETS[point.alphabet]
    text_param = TEXT_PARAM[dialect]
    if dialect == "speedmarket" and op == "send-multiple":
        return _shape_batch(point, target, params)
    texts_of = (lambda p, count: [str(p.get(text_param, ""))] * count)
    if lim.unit == "chars":
        value = fill * n
        if (dialect, op, lim.param) == ("mensagem", "cict", "d"):  # a new name each time (-1 is a duplicate)
            value = (uuid.uuid4().hex * (n // 32 + 1))[:n]
        elif dialect == "mensagem" and lim.param == "e" and n > len(EMAIL_DOMAIN):  # "E-mail centro de custos"
            value = "a" * (n - len(EMAIL_DOMAIN)) + EMAIL_DOMAIN
        params[lim.param] = value
        count = len(str(params.get("n", "")).split(";")) if (dialect, op) == ("mensagem", "mult") else 1
        types = [int(params.get("type", 0))] if dialect == "speedmarket" else []
        return Probe(params, texts_of(params, count), types)
    if lim.unit == "items":
        if (dialect, op, lim.param) == ("mensagem", "mult", "c"):
            records = [f"{number}|{TEXT}" for number in distinct_numbers(target, n)]
            params.pop("n", None)
            params.pop("m", None)
            params["c"] = ";".join(records)
            return Probe(params, [TEXT] * n)
        params[lim.param] = client.list_separator.join(distinct_numbers(target, n)) if n else ""
        return Probe(params, texts_of(params, n))
    if lim.unit == "digits":
        number = national(target, n - 2) if dialect == "fcati" else national(target, n)
        if dialect == "fcati":
            number = "55" + number
        if (dialect, op) == ("mensagem", "mult"):
            other = distinct_numbers(target, 1)[0]
            params[lim.param] = f"{other};{number}"
            return Probe(params, texts_of(params, 2), item=number)
        params[lim.param] = number
        return Probe(params, texts_of(params, 1))
    if lim.unit == "value":
        if lim.min is None and lim.max is None:
            raise NotExercised(f"{lim.id} has no numeric bounds (a pattern): its code is checked by family 3")
        if (dialect, lim.param) == ("mensagem", "l"):
            params["l"] = str(n)
            if n == 1:
                numbers = distinct_numbers(target, 2)
                params.pop("n", None)
                params.pop("m", None)
                params["c"] = ";".join(f"{number}|{TEXT}" for number in numbers)
            return Probe(params, [TEXT] * 2)
        if (dialect, lim.param) == ("mensagem", "n"):  # a DDD: the number's first two digits
            if not 0 <= n <= 99:
                raise NotExercised(f"{lim.id}: {n} is not a two-digit DDD")
            number = f"{n:02d}" + national(target, 11)[2:]
            if number in reserved_numbers(target):
                raise NotExercised(f"{lim.id}: {number} is reserved by the target")
            if op == "mult":
                other = distinct_numbers(target, 1)[0]
                params["n"] = f"{other};{number}"
                return Probe(params, [TEXT] * 2, item=number)
            params["n"] = number
            return Probe(params, [TEXT])
        if (dialect, lim.param) == ("speedmarket", "type"):
            params["type"] = n
            params["content"] = _speedmarket_content(n, str(params.get("content", TEXT)))
            return Probe(params, [str(params["content"])], [n])
        params[lim.param] = str(n)
        return Probe(params, texts_of(params, 1))
    raise NotExercised(f"{lim.id}: limits in {lim.unit} are not probed by request shape")


def _shape_batch(point: Point, target: Any, params: dict[str, Any]) -> Probe:
    """send-multiple: the size of `messages`, or a value in its first message (020 comes per message)."""
    lim, n = point.limit, point.n
    default_type = int(params.get("defaultValues", {}).get("type", 0))
    messages = params["messages"]
    if lim.param == "messages":
        numbers = distinct_numbers(target, n) if n else []
        content = messages[0].get("content", TEXT)
        params["messages"] = [{"number": int(num), "content": content} for num in numbers]
        return Probe(params, [content] * n, [default_type] * n)
    first = messages[0]
    if lim.unit == "chars":
        first[lim.param] = ALPHABETS[point.alphabet] * n
    elif lim.unit == "value" and lim.param == "type":
        first["type"] = n
        first["content"] = _speedmarket_content(n, str(first.get("content", TEXT)))
    else:
        raise NotExercised(f"{lim.id}: limits in {lim.unit} are not probed in send-multiple")
    texts = [str(m.get("content", params.get("defaultValues", {}).get("content", ""))) for m in messages]
    types = [int(m.get("type", default_type)) if str(m.get("type", default_type)).lstrip("-").isdigit()
             else default_type for m in messages]
    return Probe(params, texts, types, item=0)


# -- answers -----------------------------------------------------------------------------------------
def mult_lines(text: str) -> list[list[str]]:
    return [line.split(";") for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


@dataclass
class Reading:
    """One answer reduced to: the code under test, its text, and which messages were accepted."""

    result: Result
    accepted: list[bool]       # per message of the probe, in order
    answered_credit: int | None = None


def success_codes(catalog: Any, dialect: str, operation: str) -> set[str]:
    return {c.code.split("/")[0] for c in catalog.operation_codes(dialect, operation) if c.success}


def read(point: Point, client: Any, probe: Probe, exchange: Any, catalog: Any) -> Reading:
    dialect, op = point.limit.dialect, point.operation
    ok = success_codes(catalog, dialect, op)
    if (dialect, op) == ("mensagem", "mult"):
        lines = mult_lines(exchange.text)
        if len(lines) == 1 and len(lines[0]) == 2:  # a request-level `code;TEXT`
            return Reading(Result(lines[0][0], lines[0][1]), [False] * len(probe.texts))
        accepted = [line[0] in ok for line in lines]
        if probe.item is not None:
            line = next((ln for ln in lines if ln and ln[-1] == probe.item), None)
            # one line per destination naming it is mult's inferred answer format (mensagem#mult_answer);
            # without it, the destination's code is read as the first refused line's
            if expect_format(answer_format("mensagem", "mult"), line is not None,
                             f"mult answered no line naming {probe.item}: {exchange.text!r}"):
                code_text = None if line[0] in ok else line[1]
                return Reading(Result(line[0], code_text), accepted)
        first_bad = next((ln for ln in lines if ln[0] not in ok), None)
        result = Result(first_bad[0], first_bad[1]) if first_bad else Result(lines[0][0] if lines else "", None)
        return Reading(result, accepted)
    if (dialect, op) == ("speedmarket", "send-multiple"):
        batch = client.result(op, exchange)
        body = client.json(exchange) if isinstance(client.json(exchange), dict) else {}
        credit = _int(body.get("credit"))
        items = client.item_results(exchange)
        if batch.code not in ok:
            return Reading(batch, [False] * len(probe.texts), credit)
        item_ok = success_codes(catalog, dialect, "send-single")
        assert len(items) == len(probe.texts), (
            f"send-multiple answered {len(items)} message results for {len(probe.texts)} messages (001 § Envio em "
            f"Lote: one `messages` result per message, as its examples)")
        accepted = [i.code in item_ok for i in items]
        if probe.item is not None:
            return Reading(items[int(probe.item)], accepted, credit)
        first_bad = next((i for i in items if i.code not in item_ok), None)
        return Reading(first_bad or batch, accepted, credit)
    result = client.result(op, exchange)
    credit = None
    if dialect == "speedmarket":
        body = client.json(exchange)
        credit = _int(body.get("credit")) if isinstance(body, dict) else None
    if dialect == "mensagem" and op == "cict" and result.code == "NNNN":
        result = Result("NNNN", result.text)
    return Reading(result, [result.code in ok] * len(probe.texts), credit)


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(str(value))
    except ValueError:
        return None


# -- balances ----------------------------------------------------------------------------------------
def balances(client: Any) -> dict[str, float]:
    """Every balance the dialect shows for the main account, by a stable key."""
    dialect = client.dialect
    if dialect == "mensagem":
        exchange = client.call("crdtf", {})
        fields = exchange.text.strip().splitlines()[0].split(";") if exchange.text.strip() else []
        if len(fields) < 7 or fields[0] != "1" or fields[2] != "0":
            raise NotExercised(f"crdtf does not show a general distribution to compare: {exchange.text[:200]!r}")
        return {"long": int(fields[4]), "flash": int(fields[5]), "short": int(fields[6])}
    if dialect == "speedmarket":
        body = client.json(client.call("balance", {}))
        if not isinstance(body, dict):
            raise AssertionError("speedmarket.balance answered no JSON object")
        out = {}
        for key in sorted(set(BALANCE_KEY_BY_TYPE.values())):
            value = _int(body.get(key))
            assert value is not None, (f"speedmarket.balance: {key} is not an integer string: {body.get(key)!r} "
                                       f"(001 § Consulta de Saldo: '\"balance_1\": \"10\"', string)")
            out[key] = value
        return out
    if dialect == "painel":
        return {"balance": client.balance()}
    return {"balance": client.balance()}


def top_up(control: Any, amount: int) -> None:
    """Enough credits for the probe on a target with a control API (a sandbox without one pays for real)."""
    if control is None:
        return
    for kind in KINDS:
        control.credits(amount, kind)


def expected_debits(dialect: str, probe: Probe, accepted: list[bool]) -> dict[str, int | None]:
    """balance key -> credits the accepted messages cost (None: not billed per SMS part, see the answer)."""
    out: dict[str, int | None] = {}
    for index, (text, ok) in enumerate(zip(probe.texts, accepted)):
        if dialect == "speedmarket":
            type_ = probe.types[index] if index < len(probe.types) else 0
            key = BALANCE_KEY_BY_TYPE.get(type_)
            if key is None:
                continue
            out.setdefault(key, 0)
            if ok:
                out[key] = None if (type_ not in SMS_TYPES or out[key] is None) else out[key] + sms_parts(text)
            continue
        key = "long" if dialect == "mensagem" else "balance"
        out.setdefault(key, 0)
        if ok:
            out[key] = (out[key] or 0) + sms_parts(text.replace("'", " "))
    return out


# -- the checks --------------------------------------------------------------------------------------
def check_answer(point: Point, reading: Reading, catalog: Any) -> None:
    lim, dialect, op = point.limit, point.limit.dialect, point.operation
    result = reading.result
    where = f"{lim.id} at {point.n} ({op}) [{lim.source}]"
    ok = success_codes(catalog, dialect, "send-single" if (dialect, op) == ("speedmarket", "send-multiple")
                       and point.limit.param != "messages" else op)
    if point.inside:
        expect(result.code in ok and all(reading.accepted), lim,
               f"{where}: a value inside the limit must be accepted; got {result.code!r} ({result.text!r})")
        return
    if not expect(result.code not in ok, lim, f"{where}: a value outside the limit was accepted ({result.code!r})"):
        return
    expected = point.expected_code
    if expected is None:
        return
    # Which code answers is the side's own basis (often inferred: "no code names the length"), its text the code's.
    basis, reason = lim.side_basis(point.side)
    wire = expected.split("/")[0]
    if not expect(result.code == wire, lim, f"{where}: a value {point.side} the limit must get {wire}, got "
                  f"{result.code!r} ({result.text!r})", basis=basis, reason=reason):
        return
    if catalog.has_code(dialect, op, expected) and result.text is not None:
        code = catalog.code(dialect, op, expected)
        expect(result.text == code.text, code, f"{where}: code {wire} must read {code.text!r} verbatim, got "
               f"{result.text!r}", basis=code.text_basis, reason=code.text_reason)


def check_debit(point: Point, probe: Probe, reading: Reading, before: dict[str, float],
                after: dict[str, float]) -> None:
    where = f"{point.limit.id} at {point.n} ({point.operation})"
    expected = expected_debits(point.limit.dialect, probe, reading.accepted)
    spent = {key: before[key] - after[key] for key in before}
    for key, debit in spent.items():
        want = expected.get(key, 0)
        if want is None:
            assert debit >= 0, f"{where}: {key} went up by {-debit} after a send [behaviour:{point.limit.dialect}.debit]"
            continue
        if want and point.limit.dialect in DEBIT_DOCUMENTED:  # that it costs at all is documented
            assert debit > 0, f"{where}: {key} did not drop after an accepted send [behaviour:{point.limit.dialect}.debit]"
        expect(debit == want, f"behaviour:{point.limit.dialect}.billing",
               f"{where}: {key} must drop by exactly {want} credits (the SMS parts accepted), dropped by {debit}")
    if reading.answered_credit is not None:
        assert reading.answered_credit == sum(spent.values()), (
            f"{where}: `credit` says {reading.answered_credit} credits were debited, the balance dropped by"
            f" {sum(spent.values())} [001 § Envio Individual: 'quantos créditos foram debitados']")


def test_limit(point: Point, sms_clients, sms_contracts, sms_control, sms_target) -> None:
    handler = UNIT_HANDLERS.get(point.limit.unit, probe_request)
    handler(point, sms_clients(point.limit.dialect), sms_contracts.catalog, sms_control, sms_target)


def probe_request(point: Point, client: Any, catalog: Any, control: Any, target: Any) -> None:
    """chars, items, digits, value: one request with the value, its answer, and the debit."""
    dialect, op = point.limit.dialect, point.operation
    if point.limit.unit == "value" and point.limit.min is None and point.limit.max is None:
        raise NotExercised(f"{point.limit.id} has no numeric bounds (a pattern): its code is checked by family 3")
    probe = shape(point, client, base_request(client, dialect, op, point.limit))
    # A balance read once a minute (painel in real time) is not read around every probe: the debit is then
    # held by test_transitions over a whole test instead, and each probe here checks its answer only.
    sends = (dialect, op) in SEND_OPERATIONS and not client.balance_is_paced()
    if sends:
        top_up(control, 4 * sum(sms_parts(t) for t in probe.texts) + 10)
        before = balances(client)
    exchange = client.call(op, probe.params)
    reading = read(point, client, probe, exchange, catalog)
    check_answer(point, reading, catalog)
    if sends:
        after = balances(client)
        check_debit(point, probe, reading, before, after)
        if dialect == "fcati" and reading.accepted and all(reading.accepted):
            body = client.json(exchange) or {}
            assert body.get("remaining_balance") == after["balance"], (
                f"{point.limit.id}: remaining_balance {body.get('remaining_balance')!r} is not the balance after"
                f" the send ({after['balance']}) [000 § Envio de Mensagens]")


def probe_rate(point: Point, client: Any, catalog: Any, control: Any, target: Any) -> None:
    """per_minute: N calls within a minute answer normally, call N+1 gets the limit's code, and once the
    minute has passed the operation answers again (002: 'só poderá ser solicitado de 1 em 1 minuto')."""
    op, lim = point.operation, point.limit
    params = client.valid_request(op)
    ok = success_codes(catalog, lim.dialect, op)
    # In real time a call answered moments ago (the point inside the limit just made it) is the minute's
    # first: crossing the limit then costs one wait, not two.
    if not (control is None and point.n > 1 and client.answered_within(op, 20.0)):
        first = client.result(op, client.call(op, params))  # paced: a minute since the last call
        assert first.code in ok, f"{lim.id}: the first call in a minute must be answered, got {first}"
    for call in range(2, point.n + 1):
        answer = client.result(op, client.call(op, params, pace=False))
        if call <= (lim.max or 1):
            assert answer.code in ok, f"{lim.id}: call {call} within the limit refused: {answer}"
        else:
            check_answer(point, Reading(answer, [False]), catalog)
    if point.inside:
        return
    client.pace(op)  # the next turn after the calls above: a moved clock, or the run's pacer in real time
    again = client.result(op, client.call(op, params, pace=False))
    assert again.code in ok, f"{lim.id}: a minute later the call must be answered again, got {again}"


def probe_retention(point: Point, client: Any, catalog: Any, control: Any, target: Any) -> None:
    """days: what is at most N days old is found, what is older is not (001: 'a consulta fica disponível
    por até 32 dias após seu envio' / 'após o recebimento'). Needs a clock the suite can move.

    One run of the clock covers every point: items are made a day apart, oldest first (N+1 days before the
    check, then N, then N-1), so a single query of each operation sees all three ages at once. Messages
    are sent from a number of their own; MOs carry a text of their own.
    """
    if control is None:
        raise NotExercised(f"{point.limit.id}: waiting {point.n} days needs a target clock the suite can move")
    lim = point.limit
    bound = int(lim.max or 0)
    ages = [bound + 1, bound, bound - 1]
    mo = any(op in ("mo", "mo_new") for op in lim.operations)
    made: list[tuple[int, str, str, float]] = []   # age, id or text, number, made at
    for i, age in enumerate(ages):
        if mo:
            text = f"smsconform mo {uuid.uuid4().hex[:10]}"
            control.inject_mo(valid_number(target, 0), text, dialect="speedmarket")
            made.append((age, text, "", control.now()))
        else:
            number = national(target, 11, salt=i + 1 + int(time.time()) % 997)
            sent = client.send_single(number)
            assert sent.id is not None, (f"precondition: send-single of a message to age must be accepted "
                                         f"[code:speedmarket.send-single.000]: {sent.exchange.text!r}")
            made.append((age, sent.id, number, control.now()))
        control.advance(DAY)
    first_made = made[0][3]
    control.advance(first_made + ages[0] * DAY - control.now())
    problems = []
    for op in sorted(lim.operations, key=lambda o: o == "mo_new"):  # mo_new consumes what it returns: last
        for age, ident, number, at in made:
            if op == "mt_id":
                found = ident in client.statuses([ident])
            elif op == "mt_date":  # items carry `id` where the target gives one, else the number identifies ours
                items = _list(client, "mt_date", _window(at))
                found = any(str(m.get("id", "")) == ident or (m.get("id") is None and str(m.get("number")) in
                                                               (number, "55" + number)) for m in items)
            else:
                continue
            if found != (age <= bound):
                problems.append(f"{op}: a message {age} days old is {'found' if found else 'not found'}")
        if op in ("mo", "mo_new"):
            contents = _contents(client, op, {} if op == "mo_new" else _window(made[0][3], made[-1][3]))
            if contents is None:
                continue  # the MOs could not be read: behaviour:speedmarket.mo-record-keys deviated
            for age, text, _, _ in made:
                found = text in contents
                if found != (age <= bound):
                    problems.append(f"{op}: an MO {age} days old is {'found' if found else 'not found'}")
    assert not problems, f"{lim.id} (at most {bound} days): " + "; ".join(problems) + f" [{lim.source}]"


def _window(first: float, last: float | None = None) -> dict[str, str]:
    """A query period from an hour before ``first`` to an hour after ``last`` (ISO-8601, Brasília time)."""
    start = datetime.fromtimestamp(first, BRT).replace(tzinfo=None)
    end = datetime.fromtimestamp(last if last is not None else first, BRT).replace(tzinfo=None)
    fmt = "%Y-%m-%dT%H:%M:%S"
    return {"start_date": (start - timedelta(hours=1)).strftime(fmt),
            "end_date": (end + timedelta(hours=1)).strftime(fmt)}


def _list(client: Any, op: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """mt_date's messages (field-notes.md § speedmarket: 'mt_date answers {"messageCount": N, "messages":
    [...]}', observed)."""
    exchange = client.call(op, params)
    body = client.json(exchange)
    assert isinstance(body, dict) and isinstance(body.get("messages"), list), (
        f"speedmarket.{op}: no messages list in {exchange.text[:300]!r} [field-notes.md § speedmarket]")
    return [m for m in body["messages"] if isinstance(m, dict)]


def _contents(client: Any, op: str, params: dict[str, Any]) -> set[str] | None:
    """Every value of the MO records of mo or mo_new (where the text is kept is inferred: any field will do),
    or None when the answer's MOs cannot be read (client.mo_records)."""
    records = client.mo_records(op, params)
    return None if records is None else {str(v) for m in records for v in m.values()}


def probe_bytes(point: Point, client: Any, catalog: Any, control: Any, target: Any) -> None:
    raise NotExercised(f"{point.limit.id}: the size of a media file behind a URL needs the suite to serve one")


UNIT_HANDLERS: dict[str, Callable[..., None]] = {
    "per_minute": probe_rate,
    "days": probe_retention,
    "bytes": probe_bytes,
}
