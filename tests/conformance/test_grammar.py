"""Family 2, grammar: every text answer parses with its grammar; multi-record inputs generated from the
grammars are answered one line per record; each malformed form gets its documented code.

All from contracts/: the text operations and their grammars are the OpenAPI files' `x-grammar` (mensagem,
painel) and the WSDL's `grammar` annotations (wbsapi result strings); the answers parsed are those of every
catalog code that has a trigger (so a new code adds a parse); the inputs are drawn from the request
grammars (`mensagem#mult_numbers`, `#mult_layout1`, `#hash_list`, `wbsapi#conteudo`, `#hash_list`) with
hypothesis's from_lark and explicit strategies for the terminals that must name real things (the target's
valid numbers, its cost centres, hashes it issued); the malformed forms are those grammars' delimiters
corrupted, each expected to get the code the catalog gives its reason (bad_inner_delimiter, bad_layout).

Rule ids: `grammar:<file>.<start rule>` for a format (the format `<file>#<start>`), with the catalog code
whose answer is parsed (an unparseable answer is not the code's documented answer), and the code a
malformed form must get.
"""
from __future__ import annotations

import hashlib
import string
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from smsconform.conformance.clients.base import NotExercised
from smsconform.conformance.control import control_of
from smsconform.conformance.clients.wbsapi import SoapFault
from smsconform.conformance.codes import assert_answers, hold_outside
from smsconform.conformance.formats import AnswerFormat, answer_format, answer_formats, expect_format, expect_parses
from smsconform.conformance.triggers import distinct_numbers, plan_for
from smsconform.contracts import Code, load_contracts
from smsconform.contracts.grammars import GrammarError, parse, split_format

BRT = timezone(timedelta(hours=-3))
STATE_FREE = "state"
TEXT_ALPHABET = string.ascii_letters + string.digits + " .,!?-áéíóúâêôãõçÁÉÍÓÚÂÊÔÃÕÇ"


def _code(dialect: str, operation: str, reason: str) -> Code:
    return load_contracts().catalog.by_reason(dialect, operation, reason)


def rule(fmt: str) -> str:
    name, start = split_format(fmt)
    return f"grammar:{name}.{start}"


# -- which grammar each text answer has, read from the contracts ---------------------------------------
def answer_grammars() -> dict[tuple[str, str], str]:
    """(dialect, catalog operation) -> the grammar of its text answer (conformance/formats.py, which also
    gives each its basis: wbsapi's result strings and mensagem's send/mult answers are inferred)."""
    return {key: form.fmt for key, form in answer_formats().items()}


def _answer_codes() -> list[Code]:
    grammars = answer_grammars()
    return [c for c in load_contracts().catalog.codes
            if (c.dialect, c.operation) in grammars and c.trigger is not None and STATE_FREE not in c.trigger
            and "fault" not in c.trigger]  # a fault's answer is held to its code by test_states


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "answer_code" in metafunc.fixturenames:
        grammars = answer_grammars()
        metafunc.parametrize("answer_code", [
            pytest.param(c, id=c.id, marks=[pytest.mark.rules(rule(grammars[(c.dialect, c.operation)]), c.id),
                                           pytest.mark.dialect(c.dialect)])
            for c in _answer_codes()
        ])


def answer_text(dialect: str, exchange: Any) -> str:
    """The text a grammar reads: the body, or a wbsapi method's result string."""
    if dialect == "wbsapi":
        if isinstance(exchange.parsed, SoapFault):
            raise AssertionError(f"wbsapi.{exchange.operation}: a SOAP Fault where a result string is due: "
                                 f"{exchange.parsed.message}")
        return exchange.parsed or ""
    return exchange.text


def must_parse(fmt: str, text: str, what: str) -> Any:
    """A format the contracts fix on a judged basis (the painel getstatus data field-notes.md observes)."""
    try:
        return parse(load_contracts().root, fmt, text)
    except GrammarError as err:
        raise AssertionError(f"{what}: the answer is not {fmt}: {err}") from None


# -- every text answer parses ---------------------------------------------------------------------------
def test_text_answer_parses_with_its_grammar(answer_code: Code, sms_clients: Any, sms_contracts: Any) -> None:
    """The answer to each catalog code's trigger (valid requests included) parses with its grammar, judged by
    the format's basis (formats.py): a format the documents print fails, one we inferred is a deviation."""
    form = answer_format(answer_code.dialect, answer_code.operation)
    client = sms_clients(answer_code.dialect)
    plan = plan_for(answer_code, client, sms_contracts.catalog)
    exchange = client.call(plan.operation, plan.params, plan.account)
    expect_parses(form, answer_text(answer_code.dialect, exchange), f"{answer_code.id} [{answer_code.source}]")


@pytest.mark.rules("grammar:painel.getstatus_data")
@pytest.mark.dialect("painel")
def test_painel_getstatus_data_parses(sms_clients: Any) -> None:
    """getstatus `data`: `;`-separated lines of 13 columns with `"` quoting (field-notes.md § painel)."""
    painel = sms_clients("painel")
    sent = painel.sendsms([painel.number(0), painel.number(1)])
    if sent.id is None:
        raise AssertionError(f"painel.sendsms refused a valid campaign: {sent.exchange.text!r}")
    # getstatus "só poderá ser solicitado de 1 em 1 minuto" (002 § Obtendo a campanha), per account: the
    # client's call waits for the account's turn (a moved clock, or the run's pacer in real time).
    exchange = painel.call("getstatus", {"id": sent.id})
    body = painel.envelope(exchange)
    assert body is not None and body.get("status") == 1 and isinstance(body.get("data"), str), (
        f"painel.getstatus: no data text in {exchange.text[:300]!r} [field-notes.md § painel: 'getstatus: `data` "
        f"is a `;`-separated text']")
    tree = must_parse("painel#getstatus_data", body["data"], "painel.getstatus data")
    lines = [t for t in tree.iter_subtrees() if t.data == "getstatus_line"]
    assert len(lines) == 2, (f"one line per destination: 2 expected, got {len(lines)} in {body['data']!r} "
                             f"[field-notes.md § painel: 'one line per destination']")


# -- strategies for the terminals that must name real things ------------------------------------------
def number_pool(client: Any, size: int = 40) -> list[str]:
    return distinct_numbers(client, size)


def message_text(max_size: int) -> st.SearchStrategy[str]:
    """A message: no `;` or `|` (the delimiters), visible (a blank one is refused as empty)."""
    return st.text(alphabet=TEXT_ALPHABET, min_size=1, max_size=max_size).filter(lambda s: s.strip() != "")


def _explicit(name: str, start: str, strategies: dict[str, st.SearchStrategy[str]]) -> dict[str, Any]:
    """from_lark refuses explicit strategies for terminals its start rule cannot reach."""
    terminals, rules, _ = load_contracts().grammar(name).grammar.compile([start], ())
    reachable = {t.name for t in terminals} | {s.name for r in rules for s in r.expansion if s.is_term}
    return {k: v for k, v in strategies.items() if k in reachable}


def generated(fmt: str, strategies: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    name, start = split_format(fmt)
    return from_lark(load_contracts().grammar(name), start=start, explicit=_explicit(name, start, strategies))


def records(text: str, separator: str = ";") -> list[str]:
    return [r for r in text.split(separator) if r != ""]


def limit(dialect: str, operation: str, unit: str = "items") -> Any:
    return next(lim for lim in load_contracts().catalog.limits
                if lim.dialect == dialect and operation in lim.operations and lim.unit == unit)


def answer_lines(text: str) -> list[list[str]]:
    return [line.split(";") for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def check_per_record(form: AnswerFormat, text: str, inputs: list[str], what: str, accepted: str) -> None:
    """Every record accepted (documented: each is valid); one line per record, in input order, each naming its
    record, the whole parsing with the format: the answer format's basis (mult's is inferred)."""
    lines = answer_lines(text)
    assert lines and all(line[0] == "1" for line in lines), (
        f"{what}: every record is valid and must be accepted: {text[:500]!r} [{accepted}]")
    if expect_parses(form, text, what) is None:
        return
    if not expect_format(form, len(lines) == len(inputs), f"{what}: {len(inputs)} records, {len(lines)} answer "
                         f"lines: {text[:500]!r}"):
        return
    for index, (line, given_) in enumerate(zip(lines, inputs)):
        expect_format(form, line[-1] == given_, f"{what}: line {index + 1} names {line[-1]!r}, record {index + 1} "
                      f"is {given_!r}")


# -- multi-record inputs generated from the grammars --------------------------------------------------
@pytest.mark.rules("grammar:mensagem.mult_numbers", "grammar:mensagem.mult_answer", "limit:mensagem.mult.numbers")
@pytest.mark.dialect("mensagem")
def test_mult_layout0_numbers_answered_one_line_each(sms_clients: Any) -> None:
    mensagem = sms_clients("mensagem")
    pool = number_pool(mensagem)
    lim = limit("mensagem", "mult")
    strategy = generated("mensagem#mult_numbers", {"NUMBER": st.sampled_from(pool)})

    @given(n=strategy)
    @hsettings(database=None)
    def check(n: str) -> None:
        numbers = records(n)
        exchange = mensagem.call("mult", {"n": n, "m": "smsconform grammar"})
        if len(numbers) < lim.min:
            hold_outside(lim, "below", mensagem.result("mult", exchange), f"mult n={n}")
            return
        check_per_record(answer_format("mensagem", "mult"), exchange.text, numbers, f"mult n={n}", "code:mensagem.mult.1")

    check()


@pytest.mark.rules("grammar:mensagem.mult_layout1", "grammar:mensagem.mult_answer")
@pytest.mark.dialect("mensagem")
def test_mult_layout1_records_answered_one_line_each(sms_clients: Any) -> None:
    mensagem = sms_clients("mensagem")
    pool = number_pool(mensagem)
    lim = limit("mensagem", "mult")
    strategy = generated("mensagem#mult_layout1", {
        "NUMBER": st.sampled_from(pool), "MESSAGE": message_text(60),
        "MESSAGE_ID": st.integers(0, 10 ** 9).map(str),
    })

    @given(c=strategy)
    @hsettings(database=None)
    def check(c: str) -> None:
        recs = records(c)
        exchange = mensagem.call("mult", {"l": "1", "c": c})
        if len(recs) < lim.min:
            hold_outside(lim, "below", mensagem.result("mult", exchange), f"mult c={c}")
            return
        check_per_record(answer_format("mensagem", "mult"), exchange.text, [r.split("|")[0] for r in recs],
                         f"mult c={c}", "code:mensagem.mult.1")

    check()


def cost_centres(sms_clients: Any) -> list[str]:
    """The ids of the main account's cost centres (mensagem crctn), for CentroCustos."""
    try:
        mensagem = sms_clients("mensagem")
    except NotExercised:
        raise NotExercised("CentroCustos ids come from mensagem crctn, which the target does not offer") from None
    lines = answer_lines(mensagem.call("crctn", {}).text)
    ids = [line[1] for line in lines if len(line) > 3 and line[0] == "1" and line[3] == "1"]
    if not ids:
        raise NotExercised("the account lists no active cost centre (mensagem crctn)")
    return ids


def target_now(client: Any) -> datetime:
    control = control_of(client.target)
    if control is not None:
        return datetime.fromtimestamp(control.now(), BRT)
    return datetime.now(BRT)


@pytest.mark.rules("grammar:wbsapi.conteudo", "grammar:mensagem.mult_answer", "limit:wbsapi.sendMultiple.records")
@pytest.mark.dialect("wbsapi")
def test_wbsapi_conteudo_records_answered_one_line_each(sms_clients: Any) -> None:
    wbsapi = sms_clients("wbsapi")
    pool = number_pool(wbsapi)
    centres = cost_centres(sms_clients)
    future = target_now(wbsapi).replace(tzinfo=None) + timedelta(days=2)
    lim = limit("wbsapi", "sendMultiple")
    id_limit = limit("wbsapi", "sendUnique", "value")
    strategy = generated("wbsapi#conteudo", {
        "NUMBER": st.sampled_from(pool),
        "MESSAGE": message_text(60),  # within TipoMensagem 2's 140 characters, so every type accepts it
        "ID_EXTERNO": st.integers(int(id_limit.min), int(id_limit.max)).map(str),
        "AGENDA": st.integers(0, 86400 * 10).map(
            lambda s: (future + timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")),
        "CENTRO": st.sampled_from(centres),
    })

    @given(conteudo=strategy)
    @hsettings(database=None)
    def check(conteudo: str) -> None:
        recs = records(conteudo)
        exchange = wbsapi.call("sendMultiple", {"Conteudo": conteudo})
        text = answer_text("wbsapi", exchange)
        if len(recs) < lim.min:
            hold_outside(lim, "below", wbsapi.result("sendMultiple", exchange), f"sendMultiple {conteudo!r}")
            return
        check_per_record(answer_format("wbsapi", "sendMultiple"), text, [r.split("|")[0] for r in recs],
                         f"sendMultiple {conteudo!r}", "code:wbsapi.sendMultiple.1")

    check()


def issued_hashes(sms_clients: Any, dialect: str, count: int = 6) -> list[str]:
    """Protocols of messages the target issued (scheduled ahead, so they stay waiting), and some it never did."""
    if dialect == "wbsapi":
        wbsapi = sms_clients("wbsapi")
        agenda = (target_now(wbsapi) + timedelta(days=3)).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")
        issued = [wbsapi.send_unique(wbsapi.number(i), Agenda=agenda).hash for i in range(count)]
    else:
        mensagem = sms_clients("mensagem")
        issued = [mensagem.send_one(number=mensagem.number(i), scheduled=True) for i in range(count)]
    unknown = [hashlib.md5(f"smsconform never issued {i}".encode()).hexdigest() for i in range(3)]
    return [h for h in issued if h] + unknown


@pytest.mark.parametrize("dialect,operation", [
    pytest.param(dialect, operation, marks=[
        pytest.mark.rules(f"grammar:{dialect}.hash_list", "grammar:mensagem.cacl_answer"), pytest.mark.dialect(dialect)])
    for dialect, operation in (("wbsapi", "status"), ("wbsapi", "cancel"), ("mensagem", "cacl"))
])
def test_hash_lists_answered_one_line_per_hash(dialect: str, operation: str, sms_clients: Any) -> None:
    client = sms_clients(dialect)
    pool = issued_hashes(sms_clients, dialect)
    strategy = generated(f"{dialect}#hash_list", {"MD5": st.sampled_from(pool)})
    param = "Hash" if dialect == "wbsapi" else "h"
    form = answer_format(dialect, operation)  # cacl's lines are documented; wbsapi's (the same format) inferred

    @given(hashes=strategy)
    @hsettings(database=None)
    def check(hashes: str) -> None:
        given_ = records(hashes)
        exchange = client.call(operation, {param: hashes})
        text = answer_text(dialect, exchange)
        if expect_parses(form, text, f"{operation} {hashes}") is None:
            return
        lines = answer_lines(text)
        expect_format(form, [line[0] for line in lines] == given_,
                      f"{dialect}.{operation}: one line per hash in input order expected; asked {given_}, got {text[:600]!r}")

    check()


# -- each malformed form gets its documented code ----------------------------------------------------------
def corrupt_inner(record_text: str) -> str:
    """Every record's inner delimiter `|` replaced by `,`: the records lose their documented layout."""
    return record_text.replace("|", ",")


def extra_field(record_text: str) -> str:
    """A field past the documented ones, on the first record."""
    first, _, rest = record_text.partition(";")
    return f"{first}|{'1' if first.count('|') < 2 else ''}|X|Y|Z|W" + (f";{rest}" if rest else "")


MULT_FORMS = {  # form -> (reason, the grammar it corrupts)
    "pipe_in_layout0": ("bad_inner_delimiter", "mensagem#mult_numbers"),
    "wrong_inner_delimiter": ("bad_inner_delimiter", "mensagem#mult_layout1"),
    "too_many_fields": ("bad_inner_delimiter", "mensagem#mult_layout1"),
    "unknown_layout": ("bad_layout", "mensagem#mult_layout1"),
}


@pytest.mark.parametrize("form", [
    pytest.param(form, marks=pytest.mark.rules(_code("mensagem", "mult", reason).id, rule(fmt)))
    for form, (reason, fmt) in MULT_FORMS.items()
])
@pytest.mark.dialect("mensagem")
def test_mult_malformed_form_gets_its_code(form: str, sms_clients: Any) -> None:
    """003 § Envio de SMS Múltiplo: "Delimitador Interno: Pipe", layouts 0 and 1, codes 85 DELIMITADOR
    INTERNO INESPERADO and 86 LAYOUT INESPERADO."""
    mensagem = sms_clients("mensagem")
    pool = number_pool(mensagem, 10)
    expected = _code("mensagem", "mult", MULT_FORMS[form][0])
    layout1 = generated("mensagem#mult_layout1", {"NUMBER": st.sampled_from(pool), "MESSAGE": message_text(30),
                                                  "MESSAGE_ID": st.integers(0, 10 ** 6).map(str)})
    layout0 = generated("mensagem#mult_numbers", {"NUMBER": st.sampled_from(pool)})

    @given(data=st.data())
    @hsettings(database=None)
    def check(data: st.DataObject) -> None:
        if form == "pipe_in_layout0":
            n = data.draw(layout0)
            assume(len(records(n)) >= 2)
            at = data.draw(st.integers(0, len(n)))
            params = {"n": n[:at] + "|" + n[at:], "m": "smsconform grammar"}
        elif form == "unknown_layout":
            params = {"l": str(data.draw(st.integers(2, 99))), "c": data.draw(layout1), "n": data.draw(layout0),
                      "m": "smsconform grammar"}
        else:
            c = data.draw(layout1)
            assume(len(records(c)) >= 2)
            params = {"l": "1", "c": corrupt_inner(c) if form == "wrong_inner_delimiter" else extra_field(c)}
        exchange = mensagem.call("mult", params)
        result = mensagem.result("mult", exchange)
        assert_answers(expected, result, f"mult {params}: ")  # the code and its text, each by its basis
        expect_parses(answer_format("mensagem", "mult"), exchange.text, f"mult {form}")

    check()


@pytest.mark.parametrize("form", ["wrong_inner_delimiter", "too_many_fields"])
@pytest.mark.rules(_code("wbsapi", "sendMultiple", "bad_inner_delimiter").id, "grammar:wbsapi.conteudo")
@pytest.mark.dialect("wbsapi")
def test_conteudo_malformed_form_gets_its_code(form: str, sms_clients: Any) -> None:
    """003 § Método sendMultiple: "(**) Delimitador global ponto e vírgula (;) Delimitador interno pipe (|)",
    six ordered fields; 85 DELIMITADOR INTERNO INESPERADO."""
    wbsapi = sms_clients("wbsapi")
    pool = number_pool(wbsapi, 10)
    expected = _code("wbsapi", "sendMultiple", "bad_inner_delimiter")
    strategy = generated("wbsapi#conteudo", {"NUMBER": st.sampled_from(pool), "MESSAGE": message_text(30)})

    @given(conteudo=strategy)
    @hsettings(database=None)
    def check(conteudo: str) -> None:
        # records of number|message only: the optional fields need real cost centres and dates
        plain = ";".join("|".join(r.split("|")[:2]) for r in records(conteudo))
        bad = corrupt_inner(plain) if form == "wrong_inner_delimiter" else extra_field(plain)
        exchange = wbsapi.call("sendMultiple", {"Conteudo": bad})
        result = wbsapi.result("sendMultiple", exchange)
        assert_answers(expected, result, f"sendMultiple {bad!r}: ")
        expect_parses(answer_format("wbsapi", "sendMultiple"), answer_text("wbsapi", exchange), f"sendMultiple {form}")

    check()


@pytest.mark.parametrize("operation", [
    pytest.param(op, marks=pytest.mark.rules(_code("wbsapi", op, "bad_layout").id, "grammar:wbsapi.hash_list"))
    for op in ("status", "cancel")
])
@pytest.mark.parametrize("form", ["wrong_delimiter", "short_hash", "not_a_hash"])
@pytest.mark.dialect("wbsapi")
def test_hash_list_malformed_form_gets_its_code(operation: str, form: str, sms_clients: Any) -> None:
    """003 § Método status / § Método cancel: "Código HASH em MD5 ... demitador ponto e virgula (;)";
    a list that is not that is answered 86 LAYOUT INESPERADO (codes.yaml wbsapi.status/cancel 86)."""
    wbsapi = sms_clients("wbsapi")
    expected = _code("wbsapi", operation, "bad_layout")
    md5 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)

    @given(hashes=st.lists(md5, min_size=2, max_size=5), data=st.data())
    @hsettings(database=None)
    def check(hashes: list[str], data: st.DataObject) -> None:
        if form == "wrong_delimiter":
            text = data.draw(st.sampled_from([",", "|", " ", ":"])).join(hashes)
        elif form == "short_hash":
            at = data.draw(st.integers(0, len(hashes) - 1))
            hashes[at] = hashes[at][:31]
            text = ";".join(hashes)
        else:
            text = data.draw(st.text(alphabet="ghijklmnopqrstuvwxyz-", min_size=1, max_size=40))
        try:
            parse(load_contracts().root, "wbsapi#hash_list", text)
            assume(False)  # the corruption happened to leave a valid list
        except GrammarError:
            pass
        exchange = wbsapi.call(operation, {"Hash": text})
        result = wbsapi.result(operation, exchange)
        assert_answers(expected, result, f"{operation} Hash={text!r}: ")

    check()
