"""The Lark grammars of contracts/grammars/ and the documents' exchanges of contracts/examples/.

Three kinds of check:
- the contract files themselves: every grammar builds as LALR with exactly the start rules DEVELOPERS.md
  names, every definition says where it comes from, every example is well formed and quotes its
  document verbatim;
- the documents' samples: each parses with its grammar, or fails where the sample is malformed
  (`expect: document_error`), and its repair parses;
- properties: strings generated from each grammar (hypothesis.extra.lark.from_lark) parse back, and a
  swapped delimiter, a dropped field, a letter in a number or a 31-digit hash is rejected.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Token, Tree

from smsconform.contracts import ContractError
from smsconform.contracts.grammars import GrammarError, format_names, grammar, parse, split_format, start_rules
from smsconform.contracts.paths import contracts_dir

ROOT = contracts_dir()
REPO = ROOT.parent
GRAMMAR_FILES = sorted(p.stem for p in (ROOT / "grammars").glob("*.lark"))
FORMATS = format_names(ROOT)
SEEDS = Path(os.environ.get("SMSCONFORM_SEEDS", REPO.parent / "shared" / "seeds"))
FIELD_NOTES = SEEDS.parent / "field-notes.md"
SEED_DOCS = ("000_7368c56e80c7a757.txt", "001_a90b3067a3e55622.txt", "002_aa652833008be1f5.txt",
             "003_68e2ce3a2fd1e408.txt")
PROPERTY = settings(max_examples=50, deadline=None)


# ---------------------------------------------------------------------------------------- the files


def test_grammars_are_lalr_with_the_start_rules_developers_md_names() -> None:
    """DEVELOPERS.md's table is the list of formats; each file must declare exactly its rows, as LALR."""
    named: dict[str, set[str]] = {}
    table = (REPO / "DEVELOPERS.md").read_text(encoding="utf-8").split("## Text formats", 1)[1]
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        current = None
        for file, start in re.findall(r"`([a-z]*)#(\w+)`", row.split("|")[1]):
            current = file or current
            named.setdefault(current, set()).add(start)
    assert set(GRAMMAR_FILES) == set(named)
    for name in GRAMMAR_FILES:
        assert set(start_rules(ROOT, name)) == named[name], name
        assert grammar(ROOT, name).options.parser == "lalr", f"{name}.lark is not LALR(1): the hot path needs it"


_DEFINITION = re.compile(r"^\??(?P<name>[A-Za-z_][A-Za-z_0-9]*)\s*(?:\.\d+)?\s*:")
_PROVENANCE = re.compile(
    r"^// (?P<doc>\S+) § (?P<section>.+?) — (?P<basis>documented|observed|inferred)(?P<rest>.*)$")


@pytest.mark.parametrize("name", GRAMMAR_FILES)
def test_every_definition_names_its_source_and_basis(name: str) -> None:
    """A rule without provenance is a guess nobody can check against the documents."""
    lines = (ROOT / "grammars" / f"{name}.lark").read_text(encoding="utf-8").splitlines()
    seen = 0
    for number, line in enumerate(lines):
        found = _DEFINITION.match(line)
        if not found:
            continue
        seen += 1
        comment = lines[number - 1] if number else ""
        provenance = _PROVENANCE.match(comment)
        assert provenance, f"{name}.lark:{number + 1}: {found['name']} lacks a '// <doc> § <section> — <basis>' line"
        assert provenance["doc"] in SEED_DOCS + ("field-notes.md",), comment
        if "inferred" in comment:
            assert re.search(r"inferred: \S", comment), f"{name}.lark:{number}: an inferred rule says why"
        if SEEDS.is_dir():
            assert _normal(provenance["section"]) in _document(provenance["doc"]), comment
    assert seen > 0


# ---------------------------------------------------------------------------------------- examples

_EXAMPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "dialect", "examples"],
    "properties": {
        "kind": {"const": "examples"},
        "dialect": {"enum": ["fcati", "speedmarket", "painel", "mensagem", "wbsapi", "smpp"]},
        "examples": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/example"}},
    },
    "additionalProperties": False,
    "$defs": {
        "format": {"type": "string", "pattern": r"^[a-z]+#[a-z0-9_]+$"},
        "example": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "what", "source", "basis", "expect"],
            "anyOf": [{"required": ["url"]}, {"required": ["text"]}, {"required": ["body"]}],
            "properties": {
                "id": {"type": "string", "pattern": r"^[a-z]+(\.[a-z0-9_]+)+$"},
                "what": {"enum": ["request", "endpoint", "answer", "callback", "header", "parameter", "format"]},
                "source": {
                    "type": "object", "required": ["doc", "section"], "additionalProperties": False,
                    "properties": {"doc": {"enum": [*SEED_DOCS, "field-notes.md"]},
                                   "section": {"type": "string", "minLength": 1}},
                },
                "basis": {"enum": ["documented", "observed"]},
                "method": {"enum": ["GET", "POST"]},
                "url": {"type": "string"},
                "text": {"type": "string"},
                "body": {"type": "string"},
                "headers": {"type": "array", "items": {"type": "string"}},
                "media": {"enum": ["application/json", "text/plain"]},
                "grammar": {"$ref": "#/$defs/format"},
                "params": {"type": "object", "additionalProperties": {"$ref": "#/$defs/format"}},
                "schema": {
                    "type": "object",
                    "oneOf": [
                        {"required": ["openapi", "operation"], "additionalProperties": False,
                         "properties": {"openapi": {"type": "string"}, "operation": {"type": "string"},
                                        "status": {"type": "string", "pattern": r"^[1-5][0-9][0-9]$"}}},
                        {"required": ["openapi", "security"], "additionalProperties": False,
                         "properties": {"openapi": {"type": "string"}, "security": {"type": "string"}}},
                        {"required": ["wsdl"], "additionalProperties": False,
                         "properties": {"wsdl": {"type": "string"}, "operation": {"type": "string"},
                                        "part": {"type": "string"}}},
                    ],
                },
                "placeholders": {"type": "object", "minProperties": 1,
                                 "additionalProperties": {"type": "string"}},
                "template": {"const": True},
                "expect": {"enum": ["valid", "document_error"]},
                "defect": {"enum": ["line_break", "blank_lines", "json_syntax", "value", "encoding"]},
                "broken": {"type": "array", "items": {"type": "string"}},
                "repaired": {"type": "string"},
                "note": {"type": "string", "minLength": 1},
            },
            "if": {"properties": {"expect": {"const": "document_error"}}},
            "then": {"required": ["defect", "note"]},
            "else": {"not": {"anyOf": [{"required": ["defect"]}, {"required": ["broken"]},
                                       {"required": ["repaired"]}]}},
        },
    },
}


@cache
def _example_files() -> dict[str, dict[str, Any]]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((ROOT / "examples").glob("*.yaml"))}


def _examples() -> list[dict[str, Any]]:
    return [example for data in _example_files().values() for example in data["examples"]]


def _ids(examples: list[dict[str, Any]]) -> list[str]:
    return [example["id"] for example in examples]


def test_example_files_are_well_formed() -> None:
    files = _example_files()
    assert {"fcati", "speedmarket", "painel", "mensagem", "wbsapi"} <= set(files)
    ids: set[str] = set()
    for stem, data in files.items():
        jsonschema.validate(data, _EXAMPLE_SCHEMA)
        assert data["dialect"] == stem
        for example in data["examples"]:
            where = example["id"]
            assert where not in ids, f"duplicate example id {where}"
            ids.add(where)
            assert where.startswith(f"{stem}."), where
            assert (example["basis"] == "observed") == (example["source"]["doc"] == "field-notes.md"), where
            for fmt in [example.get("grammar"), *example.get("params", {}).values()]:
                if fmt:
                    assert fmt in FORMATS, f"{where}: unknown format {fmt}"
            assert set(example.get("broken", ())) <= set(example.get("params", {})), where
            schema = example.get("schema", {})
            if "operation" in schema and "openapi" in schema:
                assert schema["openapi"] == stem and schema["operation"].startswith(f"{stem}_"), where
            if example["what"] in ("request", "callback", "endpoint"):
                assert "method" in example, where
            quoted = " ".join(_quoted(example))
            for key in example.get("placeholders", {}):
                assert key in quoted, f"{where}: placeholder {key!r} does not occur in the quoted text"


def test_examples_name_operations_and_schemes_the_openapi_files_define() -> None:
    """The examples and the OpenAPI files are written apart; a renamed operationId must fail here."""
    for stem, data in _example_files().items():
        path = ROOT / "openapi" / f"{stem}.yaml"
        if not path.is_file():
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        operations = set(_operation_ids(document))
        schemes = set((document.get("components") or {}).get("securitySchemes") or {})
        for example in data["examples"]:
            schema = example.get("schema", {})
            if "operation" in schema and "openapi" in schema:
                assert schema["operation"] in operations, f"{example['id']}: no operationId {schema['operation']}"
            if "security" in schema:
                assert schema["security"] in schemes, f"{example['id']}: no security scheme {schema['security']}"


def _operation_ids(node: Any) -> Iterator[str]:
    """Every operationId of a document: paths, webhooks and the callbacks under components."""
    if isinstance(node, dict):
        if isinstance(node.get("operationId"), str):
            yield node["operationId"]
        for value in node.values():
            yield from _operation_ids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _operation_ids(value)


def _quoted(example: dict[str, Any]) -> list[str]:
    return [example[k] for k in ("url", "text", "body") if k in example] + list(example.get("headers", ()))


def _normal(text: str) -> str:
    """Whitespace-insensitive, Markdown-escape-insensitive form: quotes are checked char for char."""
    return " ".join(re.sub(r"\\+_", "_", text).split())


@cache
def _document(doc: str) -> str:
    path = FIELD_NOTES if doc == "field-notes.md" else SEEDS / doc
    return _normal(path.read_text(encoding="utf-8"))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents (../shared/seeds) are not beside this checkout")
@pytest.mark.parametrize("example", _examples(), ids=_ids(_examples()))
def test_examples_quote_their_document_verbatim(example: dict[str, Any]) -> None:
    document = _document(example["source"]["doc"])
    for part in example["source"]["section"].split(" > "):
        assert _normal(part) in document, f"section {part!r} is not a heading of {example['source']['doc']}"
    for quoted in _quoted(example):
        assert _normal(quoted) in document, f"{quoted!r} is not in {example['source']['doc']}"


def _substitute(text: str, placeholders: dict[str, str] | None) -> str:
    """Replace the document's placeholders by concrete values, longest first, in one pass."""
    if not placeholders:
        return text
    keys = sorted(placeholders, key=len, reverse=True)
    return re.sub("|".join(map(re.escape, keys)), lambda m: placeholders[m.group(0)], text)


def _query(url: str) -> dict[str, str]:
    """The query parameters as a server sees them: split on `&` and the first `=`, then %-decoded."""
    query = url.partition("?")[2]
    pairs = (item.partition("=") for item in query.split("&") if item)
    return {key: unquote(value) for key, _, value in pairs}


def _accepts(fmt: str, text: str) -> bool:
    try:
        parse(ROOT, fmt, text)
    except GrammarError:
        return False
    return True


GRAMMAR_EXAMPLES = [e for e in _examples() if "grammar" in e or "params" in e]


@pytest.mark.parametrize("example", GRAMMAR_EXAMPLES, ids=_ids(GRAMMAR_EXAMPLES))
def test_document_samples_parse_with_their_grammar(example: dict[str, Any]) -> None:
    """Valid samples parse; a malformed one fails exactly where its note says; its repair parses."""
    valid = example["expect"] == "valid"
    placeholders = example.get("placeholders")
    if "grammar" in example:
        text = _substitute(example["text"], placeholders)
        assert _accepts(example["grammar"], text) is valid, f"{example['grammar']} on {text!r}"
    if "params" in example:
        params = _query(_substitute(example["url"], placeholders))
        for param, fmt in example["params"].items():
            expected = param not in example.get("broken", ())
            assert _accepts(fmt, params[param]) is expected, f"{param}={params[param]!r} as {fmt}"
    if "repaired" in example:
        repaired = _substitute(example["repaired"], placeholders)
        if "grammar" in example:
            assert _accepts(example["grammar"], repaired), repaired
        for param, fmt in example.get("params", {}).items():
            assert _accepts(fmt, _query(repaired)[param]), f"repaired {param} as {fmt}"


URL_EXAMPLES = [e for e in _examples() if "url" in e]


@pytest.mark.parametrize("example", URL_EXAMPLES, ids=_ids(URL_EXAMPLES))
def test_document_urls_break_only_where_noted(example: dict[str, Any]) -> None:
    """A raw line break cannot travel in a request line: it is the PDF's, and the example must say so."""
    broken = "\n" in example["url"]
    assert broken is (example.get("defect") == "line_break"), example["url"]
    if broken and "repaired" in example:
        assert "\n" not in example["repaired"] and " &" not in example["repaired"]
    if example.get("template"):
        assert any(value == "" for value in _query(example["url"]).values())


JSON_EXAMPLES = [e for e in _examples() if e.get("media") == "application/json"]


@pytest.mark.parametrize("example", JSON_EXAMPLES, ids=_ids(JSON_EXAMPLES))
def test_document_json_is_json_unless_noted(example: dict[str, Any]) -> None:
    text = _substitute(example.get("text") or example["body"], example.get("placeholders"))
    try:
        json.loads(text)
        parsed = True
    except json.JSONDecodeError:
        parsed = False
    assert parsed is (example.get("defect") != "json_syntax")
    if "repaired" in example:
        json.loads(example["repaired"])


def test_basic_auth_sample_is_flagged_and_its_repair_decodes() -> None:
    (example,) = [e for e in _examples() if e["id"] == "speedmarket.auth.header"]
    token = example["text"].rsplit(" ", 1)[1]
    with pytest.raises(binascii.Error):
        base64.b64decode(token, validate=True)
    assert base64.b64decode(example["repaired"].rsplit(" ", 1)[1], validate=True) == b"usuario:senha"


# ---------------------------------------------------------------------------------------- the module


def test_grammar_error_names_the_format_and_the_position() -> None:
    with pytest.raises(GrammarError) as caught:
        parse(ROOT, "mensagem#send_answer", "1;12D609dddeccd59e392b8e2374f52d1a")
    error = caught.value
    assert (error.format, error.line, error.column) == ("mensagem#send_answer", 1, 3)
    assert "mensagem#send_answer" in str(error) and "line 1, column 3" in str(error)
    line = "8eb339e2545a9e01d60e542d6798a4b5;9;CANCELADO;;11968607707"
    with pytest.raises(GrammarError) as caught:
        parse(ROOT, "mensagem#cacl_answer", line)
    assert (caught.value.found, caught.value.column) == ("end of text", len(line) + 1)
    with pytest.raises(GrammarError) as caught:
        parse(ROOT, "mensagem#cacl_answer", f"{line};2016-09-23 16:30:39.571\n{line}\r\n")
    assert (caught.value.line, caught.value.column, caught.value.found) == (2, len(line) + 1, repr("\r\n"))


def test_unknown_formats_are_contract_errors() -> None:
    with pytest.raises(ContractError):
        parse(ROOT, "mensagem#no_such_answer", "1")
    with pytest.raises(ContractError):
        parse(ROOT, "nosuchfile#send_answer", "1")
    with pytest.raises(ValueError):
        split_format("mensagem")


def test_a_grammar_with_a_conflict_falls_back_to_earley(tmp_path: Path) -> None:
    """Lark silently resolves shift/reduce conflicts as shifts; such a grammar must not run as LALR."""
    (tmp_path / "grammars").mkdir()
    (tmp_path / "grammars" / "dangling.lark").write_text(
        '//! start: s\ns: "if " s (" else " s)? | "x"\n', encoding="utf-8")
    (tmp_path / "grammars" / "plain.lark").write_text('//! start: s\ns: "x" ";" "y"\n', encoding="utf-8")
    assert grammar(tmp_path, "dangling").options.parser == "earley"
    assert isinstance(parse(tmp_path, "dangling#s", "if if x else x"), Tree)
    assert grammar(tmp_path, "plain").options.parser == "lalr"


def test_malformed_grammars_are_contract_errors_with_their_file(tmp_path: Path) -> None:
    (tmp_path / "grammars").mkdir()
    (tmp_path / "grammars" / "undefined.lark").write_text('//! start: s\ns: "x" t\n', encoding="utf-8")
    (tmp_path / "grammars" / "nostart.lark").write_text('s: "x"\n', encoding="utf-8")
    for name in ("undefined", "nostart"):
        with pytest.raises(ContractError) as caught:
            grammar(tmp_path, name)
        assert caught.value.path.name == f"{name}.lark"


def test_parsers_are_built_once() -> None:
    assert grammar(ROOT, "mensagem") is grammar(str(ROOT), "mensagem")


@pytest.mark.parametrize("fmt, text", [
    ("mensagem#send_answer", "1;12d609dddeccd59e392b8e2374f52d1a\r\n"),
    ("mensagem#send_answer", "0;REQUISIÇÃO NÃO CONCLUÍDA TENDE NOVAMENTE"),
    ("mensagem#mult_answer", "1;12d609dddeccd59e392b8e2374f52d1a;11968607707\n96;NUMERO DE TELEFONE NAO PODE "
                             "CONTER CARACTERES ALPHA-NUMERICOS;1196860770A\n"),
    ("mensagem#mult_answer", "87;QUANTIDADE DE TELEFONES A BAIXO DO LIMITE MINIMO"),
    ("mensagem#cacl_answer", "12d609dddeccd59e392b8e2374f52d1a;255;MENSAGEM NÃO ENCONTRADA;;;2016-09-23 16:30:39.571"),
    ("mensagem#cict_answer", "-1;CENTRO DE CUSTOS JÁ CADASTRADO"),
    ("mensagem#crdtf_answer", "0;REQUISICÃO NÃO CONCLUIDA TENDE NOVAMENTE"),
    ("mensagem#out_of_date", "OUT-OF-DATE\n"),
    ("wbsapi#conteudo", "11962160007|MSG 1||2015-07-12T00:00:00||2"),
    ("painel#data_callback", "28;3194136747;;2013-12-24 16:05:00;Sucesso;"),
])
def test_documented_shapes_not_printed_as_samples(fmt: str, text: str) -> None:
    """Shapes the documents describe (codes, texts, optional fields) but print no sample of."""
    assert isinstance(parse(ROOT, fmt, text), Tree)


@pytest.mark.parametrize("fmt, text", [
    ("mensagem#mult_numbers", "11968607707;553199999999"),        # 12 digits: the country code is not allowed
    ("mensagem#mult_numbers", "11968607707;"),                    # a trailing delimiter is an empty number
    ("mensagem#mult_layout1", "11968607707|Olá; tudo bem"),       # `;` inside a message splits the record
    ("mensagem#send_answer", "1;SUCESSO"),                        # success carries the MD5 protocol
    ("mensagem#crdtf_answer", "1;1;3;0;5;0;0;"),                  # distribution is 0, 1 or 2
    ("mensagem#cacl_answer", "12d609dddeccd59e392b8e2374f52d1a;4;X;;;2016-09-23 16:30:39.571"),
    ("mensagem#out_of_date", "OUT OF DATE"),
    ("wbsapi#conteudo", "11962160007|MSG 1|1|2015-07-12 00:00:00|3"),  # TipoMensagem is 0, 1 or 2
    ("wbsapi#conteudo", "11962160007|MSG|1|2|3|4|5"),             # at most six fields
    ("painel#data_callback", "28;3194136747;SIM;24/12/2013 16:05;Sucesso;"),
    ("painel#getstatus_data", "1;2;3"),                           # 13 columns
])
def test_shapes_outside_the_documents_are_rejected(fmt: str, text: str) -> None:
    with pytest.raises(GrammarError):
        parse(ROOT, fmt, text)


# ---------------------------------------------------------------------------------------- properties

_DIGITS = "0123456789"
_DOCUMENTED_TEXTS = (
    "SUCESSO", "REQUISIÇÃO NÃO CONCLUÍDA TENDE NOVAMENTE", "USUARIO/CLIENTE INVALIDO OU DESABILITADO",
    "USUARIO OU SENHA INVALIDO(A)", "NUMERO DE TELEFONE NAO PODE CONTER CARACTERES ALPHA-NUMERICOS",
    "CENTRO DE CUSTOS JÁ CADASTRADO", "T.P.A - FIXO", "AGUARDANDO ENVIO", "EM FILA DE ENVIO", "NIVEL 2",
)
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZÁÀÂÃÉÊÍÓÔÕÚÜÇ"
_texts = st.one_of(
    st.sampled_from(_DOCUMENTED_TEXTS),
    st.builds(lambda head, tail: head + tail, st.sampled_from(_UPPER),
              st.text(alphabet=_UPPER + _DIGITS + " /()-.", max_size=30)),
)
_md5 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
_ddd = st.sampled_from(["11", "14", "19", "21", "31", "41", "47", "51", "61", "71", "81", "91", "99"])
_phone = st.builds(lambda ddd, mobile, rest: ddd + ("9" if mobile else "") + rest,
                   _ddd, st.booleans(), st.text(alphabet=_DIGITS, min_size=8, max_size=8))
_moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
_seconds = _moments.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))
_millis = _moments.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S.") + f"{d.microsecond // 1000:03d}")
_message = st.text(st.characters(codec="utf-8", exclude_characters=";|"), min_size=1, max_size=40)
_line_field = st.text(st.characters(codec="utf-8", exclude_characters=";\r\n"), min_size=1, max_size=30)
_cell = st.text(st.characters(codec="utf-8", exclude_characters=';"\r\n'), min_size=1, max_size=20)
_quoted_cell = st.lists(st.text(st.characters(codec="utf-8", exclude_characters='";'), max_size=10),
                   min_size=1, max_size=3).map(lambda parts: '"' + '""'.join(parts) + '"')

EXPLICIT: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "mensagem": {"MD5": _md5, "NUMBER": _phone, "TEXT": _texts, "DATETIME_MS": _millis,
                 "DATETIME": st.one_of(_seconds, _millis), "MESSAGE": _message, "FIELD": _line_field},
    "wbsapi": {"MD5": _md5, "NUMBER": _phone, "MESSAGE": _message,
               "AGENDA": st.one_of(_seconds, _seconds.map(lambda s: s.replace(" ", "T")), _millis)},
    "painel": {"TEXT": _texts, "DATETIME": _seconds, "FIELD": _line_field, "CELL": _cell, "QUOTED": _quoted_cell},
}


@cache
def _reachable(fmt: str) -> frozenset[str]:
    """The terminals a start rule can reach (from_lark refuses explicit strategies for any other)."""
    name, start = split_format(fmt)
    terminals, rules, _ = grammar(ROOT, name).grammar.compile([start], ())
    names = {t.name for t in terminals}
    return frozenset(names | {symbol.name for rule in rules for symbol in rule.expansion if symbol.is_term})


@cache
def _strategy(fmt: str) -> st.SearchStrategy[str]:
    """from_lark for one start rule, with the explicit strategies of the terminals it reaches."""
    name, start = split_format(fmt)
    explicit = {k: v for k, v in EXPLICIT[name].items() if k in _reachable(fmt)}
    return from_lark(grammar(ROOT, name), start=start, explicit=explicit)


@pytest.mark.parametrize("fmt", FORMATS)
@PROPERTY
@given(data=st.data())
def test_generated_strings_parse_back(fmt: str, data: st.DataObject) -> None:
    text = data.draw(_strategy(fmt), label=fmt)
    assert isinstance(parse(ROOT, fmt, text), Tree)


def _delimiter(fmt: str) -> tuple[str, bool]:
    """The delimiter to corrupt and whether only its first occurrence is safe to test.

    In mult layout 1 and Conteudo a message may hold `,`, so `a;b|c` -> `a,b|c` can be another valid
    record list; the first `|` always follows a number, so corrupting it is always an error.
    """
    if fmt in ("mensagem#mult_layout1", "wbsapi#conteudo"):
        return "|", True
    if fmt == "mensagem#cost_centre_ids":
        return "|", False
    if fmt in ("painel#soap_answer", "painel#invalid_operation"):
        return ":", False
    return ";", False


SWAPPABLE = [f for f in FORMATS if f != "mensagem#out_of_date"]


@pytest.mark.parametrize("fmt", SWAPPABLE)
@PROPERTY
@given(data=st.data())
def test_a_swapped_delimiter_is_rejected(fmt: str, data: st.DataObject) -> None:
    text = data.draw(_strategy(fmt), label=fmt)
    delimiter, first_only = _delimiter(fmt)
    places = [m.start() for m in re.finditer(re.escape(delimiter), text)]
    if not places:
        return  # a one-element list has no delimiter to corrupt
    at = places[0] if first_only else data.draw(st.sampled_from(places), label="at")
    corrupted = text[:at] + "," + text[at + 1:]
    assert not _accepts(fmt, corrupted), corrupted


# Formats whose every line has a fixed number of fields whatever its values. Excluded: lists of any
# length (mult_numbers, mult_layout1, hash_list, cost_centre_ids, conteudo), stat/stam (the operator and
# the status tail are optional), mult_answer and cadus_answer (a success line minus one field has the
# shape of an error line), and the literals out_of_date and invalid_operation.
FIXED_FIELDS = [
    "mensagem#send_answer", "mensagem#error_answer", "mensagem#recv_answer", "mensagem#cacl_answer",
    "mensagem#crdtf_answer", "mensagem#cnnvl_answer", "mensagem#cnus_answer", "mensagem#crctn_answer",
    "mensagem#altus_answer", "mensagem#cict_answer", "mensagem#cact_answer", "mensagem#oper_answer",
    "painel#data_callback", "painel#getstatus_data", "painel#soap_answer",
]


def _lines(text: str) -> list[tuple[str, str]]:
    """(line, its ending) pairs, so a line can be edited and the text rebuilt exactly."""
    parts = re.split(r"(\r?\n)", text)
    return [(parts[i], parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2)]


@pytest.mark.parametrize("fmt", FIXED_FIELDS)
@PROPERTY
@given(data=st.data())
def test_a_dropped_field_is_rejected(fmt: str, data: st.DataObject) -> None:
    text = data.draw(_strategy(fmt), label=fmt)
    delimiter, _ = _delimiter(fmt)
    lines = _lines(text)
    index = data.draw(st.sampled_from([i for i, (line, _) in enumerate(lines) if line]), label="line")
    fields = lines[index][0].split(delimiter)
    fields.pop(data.draw(st.integers(0, len(fields) - 1), label="field"))
    lines[index] = (delimiter.join(fields), lines[index][1])
    corrupted = "".join(line + end for line, end in lines)
    assert not _accepts(fmt, corrupted), corrupted


NUMERIC_TERMINALS = {
    "NUMBER", "INT", "ONE", "ERROR_CODE", "CICT_CODE", "OPERATOR", "STATUS_ID", "CACL_STATUS", "FLAG",
    "MESSAGE_ID", "ID_EXTERNO", "TIPO", "CENTRO", "CAMPAIGN_ID", "SOAP_ID", "DATETIME", "DATETIME_MS", "AGENDA",
}


def _tokens(tree: Tree, types: set[str]) -> Iterator[Token]:
    for token in tree.scan_values(lambda value: isinstance(value, Token)):
        if token.type in types:
            yield token


WITH_NUMBERS = [f for f in FORMATS if _reachable(f) & NUMERIC_TERMINALS]


@pytest.mark.parametrize("fmt", WITH_NUMBERS)
@PROPERTY
@given(data=st.data())
def test_a_letter_in_a_number_is_rejected(fmt: str, data: st.DataObject) -> None:
    text = data.draw(_strategy(fmt), label=fmt)
    tokens = list(_tokens(parse(ROOT, fmt, text), NUMERIC_TERMINALS))
    if not tokens:
        return  # e.g. an oper answer with its header line only
    token = data.draw(st.sampled_from(tokens), label="field")
    digits = [token.start_pos + i for i, char in enumerate(token) if char.isdigit()]
    at = data.draw(st.sampled_from(digits), label="digit")
    corrupted = text[:at] + "x" + text[at + 1:]
    assert not _accepts(fmt, corrupted), f"{token.type} {token!r} -> {corrupted!r}"


WITH_HASHES = [f for f in FORMATS if "MD5" in _reachable(f)]


@pytest.mark.parametrize("fmt", WITH_HASHES)
@PROPERTY
@given(data=st.data())
def test_a_31_digit_or_upper_case_hash_is_rejected(fmt: str, data: st.DataObject) -> None:
    text = data.draw(_strategy(fmt), label=fmt)
    hashes = list(_tokens(parse(ROOT, fmt, text), {"MD5"}))
    if not hashes:
        return  # an error line carries no hash
    token = data.draw(st.sampled_from(hashes), label="hash")
    cut = data.draw(st.integers(0, 31), label="cut")
    short = text[:token.start_pos + cut] + text[token.start_pos + cut + 1:]
    assert not _accepts(fmt, short), short
    if any(char in "abcdef" for char in token):
        upper = text[:token.start_pos] + token.upper() + text[token.end_pos:]
        assert not _accepts(fmt, upper), upper
