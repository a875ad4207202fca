"""Catalog integrity: the contracts under contracts/catalog/ and the emulator profile hold together.

Everything else (emulator, suite, reports) trusts the catalog, so these tests check it against itself,
against DEVELOPERS.md's reason keys, against the emulator profile its triggers name, and against the seed
documents: every code text printed in a "Resultados" table (and the other code tables) must be in the
catalog verbatim, and every source section and quote must really be in the document it names.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from smsconform.contracts import ContractError
from smsconform.contracts.catalog import Catalog, Code, load_catalog
from smsconform.contracts.paths import contracts_dir

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = contracts_dir()
CATALOG_DIR = CONTRACTS / "catalog"
SHARED = Path(os.environ.get("SMSCONFORM_SEEDS", REPO.parent / "shared" / "seeds")).parent
SEEDS = SHARED / "seeds"
FIELD_NOTES = SHARED / "field-notes.md"
MENSAGEM_DOC = "003_68e2ce3a2fd1e408.txt"
SPEEDMARKET_DOC = "001_a90b3067a3e55622.txt"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir() or not FIELD_NOTES.is_file(),
                                 reason="the seed documents (../shared) are not beside this checkout")

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
FIXTURE_REF = re.compile(r"^fixtures\.numbers\.([a-z_]+)(?:\.(\d+))?$")
GENERATED = re.compile(r"^(text:\d+|numbers:\d+|hash:unknown)$")


# -- fixtures ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, Any]]:
    """The catalog files as plain YAML, for what the typed objects do not keep (edge reasons, keys)."""
    return {name: yaml.safe_load((CATALOG_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
            for name in ("codes", "limits", "machines", "callbacks", "contradictions")}


@pytest.fixture(scope="module")
def profile() -> dict[str, Any]:
    return yaml.safe_load((CONTRACTS / "emulator" / "profile.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reason_keys() -> tuple[set[str], set[str]]:
    """(every reason key of DEVELOPERS.md's table, the core state names of its `status reasons` row)."""
    text = (REPO / "DEVELOPERS.md").read_text(encoding="utf-8")
    section = text.split("### Codes and semantic reasons", 1)[1].split("\n### ", 1)[0]
    keys: set[str] = set()
    core: set[str] = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|"):
            continue
        if cells[0] == "status reasons":
            core = set(re.findall(r"`([a-z][a-z0-9_]*)`", cells[1]))
        else:
            keys.update(re.findall(r"`([a-z][a-z0-9_]*)`", cells[0]))
    assert keys and core, "DEVELOPERS.md's reason table was not found"
    return keys | core, core


def _codes(catalog: Catalog, qualified: str) -> dict[str, Code]:
    dialect, operation = qualified.split(".", 1)
    return {c.code: c for c in catalog.operation_codes(dialect, operation)}


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _fold(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


# -- loading and shape -----------------------------------------------------------------------------------

def test_the_catalog_loads_with_every_dialect(catalog: Catalog) -> None:
    for dialect in ("fcati", "speedmarket", "painel", "mensagem", "wbsapi", "smpp"):
        assert any(c.dialect == dialect for c in catalog.codes), f"no codes for {dialect}"
    assert catalog.limits and catalog.machines and catalog.callbacks and catalog.contradictions
    operations = {(c.dialect, c.operation) for c in catalog.codes}
    for name in ("send", "mult", "stat", "stam", "recv", "cacl", "crdtf", "cnnvl", "cnus", "cadus", "altus",
                 "crctn", "cict", "cact", "oper", "message-status", "callback-status", "callback-dlr"):
        assert ("mensagem", name) in operations, name
    for name in ("send-single", "send-multiple", "mt_id", "mt_date", "mo_new", "mo", "balance", "message-status"):
        assert ("speedmarket", name) in operations, name
    for name in ("sendsms", "getstatus", "getbalance", "holdsms", "releasesms", "action"):
        assert ("painel", name) in operations, name
    for name in ("sendUnique", "sendMultiple", "inBox", "status", "cancel"):
        assert ("wbsapi", name) in operations, name
    for name in ("dlr", "bind", "submit_sm"):
        assert ("smpp", name) in operations, name
    assert {("fcati", "saldo"), ("fcati", "enviar")} <= operations


def test_no_operation_has_a_code_twice(raw: dict[str, Any]) -> None:
    entries = Counter((e["dialect"], e["operation"]) for e in raw["codes"]["entries"])
    assert [k for k, n in entries.items() if n > 1] == []
    for entry in raw["codes"]["entries"]:
        codes = Counter(c["code"] for c in entry["codes"])
        assert [k for k, n in codes.items() if n > 1] == [], (entry["dialect"], entry["operation"])


def test_each_reason_names_one_code_per_operation(catalog: Catalog) -> None:
    """by_reason() takes the first match: two codes of one operation with one reason would hide one."""
    seen: dict[tuple[str, str, str], str] = {}
    for code in catalog.codes:
        key = (code.dialect, code.operation, code.semantic)
        assert key not in seen, f"{code.id} and {seen[key]} share the reason {code.semantic!r}"
        seen[key] = code.id


def test_every_reason_key_is_in_developers_notes(catalog: Catalog, reason_keys: tuple[set[str], set[str]]) -> None:
    known, _ = reason_keys
    missing = sorted({f"{c.semantic} ({c.id})" for c in catalog.codes if c.semantic not in known})
    assert missing == []


def test_codes_are_exact_strings(catalog: Catalog) -> None:
    for code in catalog.codes:
        assert code.text == code.text.strip() and "  " not in code.text, code.id
        assert unicodedata.normalize("NFC", code.text) == code.text, code.id
        assert not code.text.endswith(" *"), f"{code.id}: the footnote marker is not part of the text"
        wire = code.code.split("/", 1)[0]
        assert wire and wire == wire.strip(), code.id
        if "/" in code.code:
            assert code.code.split("/", 1)[1] == code.semantic, f"{code.id}: <wire>/<reason> names its reason"
            assert code.note, f"{code.id}: a keyed code explains itself in its note"


# -- provenance ----------------------------------------------------------------------------------------------

def _sources(raw: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in raw["codes"]["entries"]:
        yield f"codes {entry['dialect']}.{entry['operation']}", entry["source"]
        for code in entry["codes"]:
            if "source" in code:
                yield f"code {entry['dialect']}.{entry['operation']}.{code['code']}", code["source"]
    for name in ("limits", "machines", "callbacks"):
        for entry in raw[name]["entries"]:
            yield f"{name} {entry['id']}", entry["source"]
    for entry in raw["contradictions"]["entries"]:
        for source in entry["sources"]:
            yield f"contradiction {entry['id']}", source


def test_every_rule_has_a_source_and_basis(catalog: Catalog) -> None:
    docs = {"000_7368c56e80c7a757.txt", "001_a90b3067a3e55622.txt", "002_aa652833008be1f5.txt",
            MENSAGEM_DOC, "field-notes.md"}
    for rule in catalog.rules():
        assert rule.source.doc in docs and rule.source.section.strip(), rule.id
        assert rule.basis in ("documented", "observed", "inferred"), rule.id
        if rule.basis == "inferred":
            assert rule.reason and rule.reason.strip(), f"{rule.id} is inferred without a reason"


def test_every_inferred_edge_and_bound_says_why(raw: dict[str, Any]) -> None:
    for machine in raw["machines"]["entries"]:
        for edge in machine["edges"]:
            if edge.get("basis") == "inferred":
                assert edge.get("reason"), (machine["id"], edge)
    for limit in raw["limits"]["entries"]:
        for side in ("below", "above"):
            bound = limit.get(side)
            if bound and bound.get("basis") == "inferred":
                assert bound.get("reason"), (limit["id"], side)


def test_limit_entries_use_only_known_keys(raw: dict[str, Any]) -> None:
    """The schema cannot close a limit (it is an allOf); a misspelt key would be silently ignored."""
    known = {"id", "dialect", "operations", "param", "unit", "min", "max", "below", "above", "set", "note",
             "source", "basis", "reason"}
    for limit in raw["limits"]["entries"]:
        assert set(limit) <= known, (limit["id"], set(limit) - known)


@needs_seeds
def test_every_source_section_and_quote_is_in_its_document(raw: dict[str, Any]) -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    notes = FIELD_NOTES.read_text(encoding="utf-8")
    headings = {line[3:].strip() for line in notes.splitlines() if line.startswith("## ")}
    problems = []
    for where, source in _sources(raw):
        if source["doc"] == "field-notes.md":
            text = notes
            if source["section"] not in headings:
                problems.append(f"{where}: no heading '## {source['section']}' in field-notes.md")
        else:
            text = texts[source["doc"]]
            for part in source["section"].split(" > "):
                if part not in text:
                    problems.append(f"{where}: section {part!r} not in {source['doc']}")
        if "quote" in source and _normalise(source["quote"]) not in _normalise(text):
            problems.append(f"{where}: quote {source['quote']!r} not in {source['doc']}")
    assert problems == []


# -- the documents' code tables -----------------------------------------------------------------------------

def _results_tables(text: str) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
    """(dialect, operation, rows) of every "Resultados" table of seed 003, by its Função / Método."""
    lines = text.splitlines()
    context: tuple[str, str] | None = None
    for index, line in enumerate(lines):
        if match := re.match(r"^Função: (\w+)", line):
            context = ("mensagem", match.group(1).lower())
        elif match := re.match(r"^Método (\w+?)(?:\*\*|\.|$)", line):
            context = ("wbsapi", match.group(1))
        elif line.strip() == "Resultados":
            assert context is not None, f"a Resultados table before any function, line {index + 1}"
            rows: list[tuple[str, str]] = []
            for row in lines[index + 1:]:
                if not row.strip() or row.startswith("Código\t"):
                    continue
                cell = re.match(r"^(-?\d+|N+)\t(.+)$", row)
                if not cell:
                    break
                rows.append((cell.group(1), re.sub(r"\s\*+$", "", cell.group(2)).strip()))
            yield context[0], context[1], rows


@needs_seeds
def test_every_resultados_text_is_in_the_catalog(catalog: Catalog) -> None:
    text = (SEEDS / MENSAGEM_DOC).read_text(encoding="utf-8")
    tables = list(_results_tables(text))
    # 12 HTTP functions and the 5 web-service methods print a Resultados table.
    assert len(tables) == 17 and all(rows for _, _, rows in tables), [(d, o, len(r)) for d, o, r in tables]
    problems = []
    for dialect, operation, rows in tables:
        codes = {c.code: c for c in catalog.operation_codes(dialect, operation)}
        for number, printed in rows:
            code = codes.get(number)
            if code is None:
                problems.append(f"{dialect}.{operation}: code {number} ({printed}) missing")
            elif number.startswith("N"):
                if printed != code.text and printed not in (code.source.quote or ""):
                    problems.append(f"{code.id}: {printed!r} is neither its text nor its quote")
            elif code.text != printed:
                problems.append(f"{code.id}: {code.text!r} != printed {printed!r}")
    assert problems == []


@needs_seeds
def test_smpp_dlr_and_callback_tables_are_in_the_catalog(catalog: Catalog) -> None:
    text = (SEEDS / MENSAGEM_DOC).read_text(encoding="utf-8")
    dlr_block = text.rsplit("Descritivo dos códigos de DLR\n", 1)[1].split("API – WEBSERVICE", 1)[0]
    dlr = re.findall(r"^(\d)\t(.+)$", dlr_block, re.M)
    assert len(dlr) == 10
    codes = _codes(catalog, "smpp.dlr")
    assert {(c, t) for c, t in dlr} == {(c.code, c.text) for c in codes.values()}

    status_block = text.split("Campo Status do Call-back de Status", 1)[1].split("Campo Status do Call-back de DLR", 1)
    dlr_cb_block = status_block[1].split("Parâmetros Call-back de Respostas", 1)[0]
    for block, operation in ((status_block[0], "mensagem.callback-status"), (dlr_cb_block, "mensagem.callback-dlr")):
        printed = re.findall(r"^(\d+) \((.+)\)$", block, re.M)
        assert printed, operation
        assert set(printed) == {(c.code, c.text) for c in _codes(catalog, operation).values()}, operation


@needs_seeds
def test_mensagem_status_lists_are_in_the_catalog(catalog: Catalog) -> None:
    """stat, stam and cacl print their status ids as "- 0 (AGUARDANDO ENVIO)"."""
    text = (SEEDS / MENSAGEM_DOC).read_text(encoding="utf-8")
    block = text.split("Função: STAT", 1)[1].split("Consultar Créditos", 1)[0]
    printed = set(re.findall(r"^- (\d+) \((.+)\)$", block, re.M))
    assert {code for code, _ in printed} == {"0", "1", "2", "3", "5", "9", "255"}
    statuses = _codes(catalog, "mensagem.message-status")
    for code, name in printed:
        # 255 is printed "MENSAGEM NÃO ENCONTRADA" here and "MENSAGEM NAO ENCONTRADA" as the line's text
        # (contradictions.yaml: mensagem.cacl-255-text): compare without accents.
        assert code in statuses and _fold(statuses[code].text) == _fold(name), (code, name)


@needs_seeds
def test_speedmarket_tables_are_in_the_catalog(catalog: Catalog) -> None:
    text = (SEEDS / SPEEDMARKET_DOC).read_text(encoding="utf-8")
    rows = re.findall(r"^(\d{3})(.+?)(true|false)$", text, re.M)
    assert len(rows) == 21
    speedmarket = [c for c in catalog.codes if c.dialect == "speedmarket"]
    for number, description, success in rows:
        found = [c for c in speedmarket if c.code == number]
        assert found, f"responseCode {number} is in no speedmarket operation"
        for code in found:
            assert code.text == description and code.success == (success == "true"), code.id

    block = text.split("\nStatus de Envio\n", 1)[1].split("\nREFERENCE\n", 1)[0]
    statuses = re.findall(r"^(-?\d)([A-Z].*)$", block, re.M)
    assert len(statuses) == 16
    assert set(statuses) == {(c.code, c.text) for c in _codes(catalog, "speedmarket.message-status").values()}


# -- machines ------------------------------------------------------------------------------------------------

def test_every_state_has_its_code(catalog: Catalog) -> None:
    for machine in catalog.machines:
        for state in machine.states:
            where = state.status_codes or machine.status_codes
            codes = _codes(catalog, where)
            assert state.code in codes, f"{machine.id}: state {state.code} has no code in {where}"
            text = codes[state.code].text
            assert text in ("", state.name), f"{machine.id}: state {state.code} is named {state.name!r}, coded {text!r}"


def test_machines_are_well_formed(catalog: Catalog, reason_keys: tuple[set[str], set[str]]) -> None:
    _, core_states = reason_keys
    for machine in catalog.machines:
        codes = [s.code for s in machine.states]
        assert len(codes) == len(set(codes)), machine.id
        assert machine.initial, f"{machine.id} has no initial state"
        outgoing: dict[str, set[str]] = defaultdict(set)
        for edge in machine.edges:
            assert edge.source != edge.target, (machine.id, edge)
            outgoing[edge.source].add(edge.target)
        for state in machine.states:
            assert state.core in core_states, f"{machine.id}: {state.code} renders unknown core state {state.core!r}"
            if state.final:
                assert not outgoing[state.code], f"{machine.id}: final state {state.code} has edges out"
            else:
                assert outgoing[state.code] or state.code == "0" and machine.id == "speedmarket.message", \
                    f"{machine.id}: {state.code} is neither final nor left"
            reason = _codes(catalog, state.status_codes or machine.status_codes)[state.code].semantic
            if reason in core_states:
                assert reason == state.core, f"{machine.id}: {state.code} reason {reason} but core {state.core}"
        reached, todo = set(machine.initial), list(machine.initial)
        while todo:
            for target in outgoing[todo.pop()]:
                if target not in reached:
                    reached.add(target)
                    todo.append(target)
        assert reached == set(codes), f"{machine.id}: unreachable {set(codes) - reached}"


def test_cancel_is_only_allowed_while_waiting(catalog: Catalog) -> None:
    """003 § Cancelamento de Mensagens: "Somente mensagens com status de aguardando envio"."""
    for name in ("mensagem.message", "wbsapi.message"):
        machine = catalog.machine(name)
        into_cancelled = {e.source for e in machine.edges if machine.state(e.target).core == "cancelled"}
        assert into_cancelled == {"0"}, name
        assert machine.allows("0", "9") and not machine.allows("3", "9") and not machine.allows("1", "9")
        assert machine.first_illegal_step(["0", "3", "1"]) is None
        assert machine.first_illegal_step(["0", "3", "1", "3"]) == ("1", "3")


# -- triggers, limits and the emulator profile ------------------------------------------------------------------

def _resolve_number(profile: dict[str, Any], name: str, index: str | None) -> str | None:
    value = profile["numbers"].get(name)
    if isinstance(value, list):
        return value[int(index)] if index is not None and int(index) < len(value) else None
    return value if index is None else None


def test_every_trigger_names_what_exists(catalog: Catalog, profile: dict[str, Any]) -> None:
    problems = []
    for code in catalog.codes:
        trigger = code.trigger
        if trigger is None:
            continue
        if "account" in trigger and trigger["account"] not in profile["accounts"]:
            problems.append(f"{code.id}: no account fixture {trigger['account']!r}")
        for value in (trigger.get("set") or {}).values():
            for placeholder in PLACEHOLDER.findall(str(value)):
                if ref := FIXTURE_REF.match(placeholder):
                    if _resolve_number(profile, ref.group(1), ref.group(2)) is None:
                        problems.append(f"{code.id}: no number fixture {placeholder!r}")
                elif not GENERATED.match(placeholder):
                    problems.append(f"{code.id}: unknown placeholder {{{placeholder}}}")
        if "limit" in trigger:
            try:
                limit = catalog.limit(trigger["limit"]["id"])
            except KeyError:
                problems.append(f"{code.id}: no limit {trigger['limit']['id']!r}")
                continue
            bound = limit.below_code if trigger["limit"]["side"] == "below" else limit.above_code
            if bound != code.code or code.operation not in limit.operations:
                problems.append(f"{code.id}: limit {limit.name} {trigger['limit']['side']} gets {bound!r}")
        if "state" in trigger and not re.fullmatch(r"[a-z][a-z0-9_]*", trigger["state"]):
            problems.append(f"{code.id}: state {trigger['state']!r}")
    assert problems == []


def test_state_dependent_codes_have_triggers(catalog: Catalog) -> None:
    """Issue 3: every state-dependent code of mensagem send is reachable on purpose."""
    for number in ("61", "72", "73", "74", "76", "77", "78", "83", "89", "90", "91", "92", "93", "96", "97"):
        assert catalog.code("mensagem", "send", number).trigger, number


def test_every_limit_code_exists(catalog: Catalog) -> None:
    for limit in catalog.limits:
        if limit.min is not None and limit.max is not None:
            assert limit.min <= limit.max, limit.id
        for bound in (limit.below_code, limit.above_code):
            if bound is None:
                continue
            for operation in limit.operations:
                assert catalog.has_code(limit.dialect, operation, bound), f"{limit.id}: {limit.dialect}.{operation} has no {bound}"
        if limit.below_code:
            assert limit.min is not None, f"{limit.id}: a below code without a min"


def test_the_limits_issue_2_lists_are_there(catalog: Catalog) -> None:
    expect = {
        "mensagem.mult.numbers": (2, 1000), "speedmarket.send-multiple.messages": (1, 5000),
        "mensagem.send.message": (1, 600), "mensagem.mult.message": (1, 600),
        "wbsapi.sendUnique.message": (1, 600), "wbsapi.sendUnique.message_short": (1, 140),
        "speedmarket.send-single.caption": (None, 490), "mensagem.send.id": (None, 40),
        "wbsapi.sendUnique.IdExterno": (0, 4294967295), "mensagem.send.number": (10, 11),
        "wbsapi.sendMultiple.records": (1, 1000), "wbsapi.status.hashes": (1, 1000),
        "wbsapi.cancel.hashes": (1, 1000), "mensagem.cict.name": (1, 50), "mensagem.cict.email": (None, 999),
        "speedmarket.mt_id.retention": (None, 32), "painel.getstatus.rate": (None, 1),
        "painel.getbalance.rate": (None, 1),
    }
    for name, (low, high) in expect.items():
        limit = catalog.limit(name)
        assert (limit.min, limit.max) == (low, high), name
    assert catalog.limit("wbsapi.sendUnique.message_short").overrides == {"TipoMensagem": "2"}
    assert "^[0-9A-Za-z_.@-]+$" in (catalog.limit("mensagem.cadus.login").note or "")


def test_profile_accounts(profile: dict[str, Any], catalog: Catalog) -> None:
    accounts = profile["accounts"]
    main = accounts["main"]
    assert (main["login"], main["password"], main["integration_user"], main["token"]) == \
        ("demo", "demo123", "d642dfa0", "demo-token")
    required = {"main", "no_credits", "user_disabled", "client_disabled", "user_and_client_disabled",
                "no_privilege", "cost_centre_required", "mode_not_allowed", "blocked", "duplicate_protection"}
    assert required <= set(accounts)
    logins, tokens = Counter(), Counter()
    for name, account in accounts.items():
        for key in ("login", "password", "integration_user", "token", "credits", "note"):
            assert account.get(key) not in (None, ""), f"accounts.{name}.{key}"
        assert account["integration_user"] == f"{zlib.crc32(account['login'].encode('utf-8')):08x}", name
        assert re.fullmatch(r"[0-9A-Za-z_.@-]+", account["login"]), f"{name}: login outside cadus's alphabet"
        assert account.get("mode", "prepaid") in ("prepaid", "postpaid"), name
        assert set(account["credits"]) <= {"long", "flash", "short", "voice", "whatsapp"}, name
        logins[account["login"]] += 1
        tokens[account["token"]] += 1
    assert max(logins.values()) == 1 and max(tokens.values()) == 1
    assert accounts["no_credits"]["credits"] and not any(accounts["no_credits"]["credits"].values())
    assert accounts["user_disabled"]["user_active"] is False
    assert accounts["client_disabled"]["client_active"] is False
    assert accounts["user_and_client_disabled"]["user_active"] is False
    assert accounts["user_and_client_disabled"]["client_active"] is False
    assert accounts["no_privilege"]["can_send"] is False
    assert accounts["cost_centre_required"]["requires_cost_centre"] is True
    assert "short" not in accounts["mode_not_allowed"]["allowed_kinds"]
    assert accounts["blocked"]["blocked"] is True
    assert accounts["duplicate_protection"]["duplicate_protection"] is True


def test_profile_numbers(profile: dict[str, Any]) -> None:
    numbering = yaml.safe_load((CONTRACTS / "emulator" / "numbering.yaml").read_text(encoding="utf-8"))
    ddds = {str(d) for d in numbering["ddds"]}
    numbers, notes = profile["numbers"], profile["number_notes"]
    assert set(numbers) == set(notes) and all(isinstance(n, str) and n for n in notes.values())
    required = {"valid", "blacklisted", "procon", "invalidated_by_dlr", "antifraud", "rejected", "landline",
                "no_coverage", "outcome_failed", "outcome_no_dlr", "outcome_delayed", "outcome_expired",
                "bad_ddd", "prefix_ddd_mismatch", "bad_operator_prefix", "alpha", "too_long"}
    assert required <= set(numbers)

    def mobile(number: str) -> bool:
        return len(number) == 11 and number.isdigit() and number[:2] in ddds and number[2] == "9"

    assert len(numbers["valid"]) >= 3 and all(mobile(n) for n in numbers["valid"])
    invalid = {"bad_ddd", "prefix_ddd_mismatch", "bad_operator_prefix", "alpha", "too_long", "landline"}
    for name, number in numbers.items():
        if name != "valid" and name not in invalid:
            assert mobile(number), f"{name}: {number} is not a valid mobile"
    flat = [n for v in numbers.values() for n in (v if isinstance(v, list) else [v])]
    assert len(flat) == len(set(flat)), "a number serves two fixtures"
    assert numbers["bad_ddd"].isdigit() and numbers["bad_ddd"][:2] not in ddds
    assert len(numbers["prefix_ddd_mismatch"]) == 11 and numbers["prefix_ddd_mismatch"][:2] in ddds
    assert numbers["prefix_ddd_mismatch"][2] != "9"
    assert len(numbers["bad_operator_prefix"]) == 10 and numbers["bad_operator_prefix"][2] in "01"
    assert len(numbers["landline"]) == 10 and numbers["landline"][2] in "2345"
    assert re.search(r"[A-Za-z]", numbers["alpha"])
    assert len(numbers["too_long"]) == 12 and numbers["too_long"].isdigit()


@needs_seeds
def test_profile_operators_start_with_the_documented_rows(profile: dict[str, Any]) -> None:
    text = (SEEDS / MENSAGEM_DOC).read_text(encoding="utf-8")
    block = text.split("CODIGO DA OPERADORA;NOME DA OPERADORA\n", 1)[1].split("```", 1)[0]
    printed = re.findall(r"^(\d{5});(.+)$", block, re.M)
    operators = profile["operators"]
    assert [(o["code"], o["name"]) for o in operators[:len(printed)]] == printed
    assert all(o["basis"] == "documented" for o in operators[:len(printed)])
    extra = operators[len(printed):]
    assert extra and all(o["mobile"] and o["basis"] == "inferred" for o in extra)
    assert len({o["code"] for o in operators}) == len(operators)
    assert any(not o["dlr"] and "OI" in o["name"] for o in extra)


# -- callbacks and contradictions ----------------------------------------------------------------------------

def test_callback_status_values_are_codes(catalog: Catalog) -> None:
    pairs = {"mensagem.status": "mensagem.callback-status", "mensagem.dlr": "mensagem.callback-dlr",
             "speedmarket.status": "speedmarket.message-status"}
    for callback_id, operation in pairs.items():
        status = next(p for p in catalog.callback(callback_id).params if p.name == "status")
        assert status.values and set(status.values) <= set(_codes(catalog, operation)), callback_id
    assert set(next(p for p in catalog.callback("mensagem.status").params if p.name == "status").values) == \
        set(_codes(catalog, "mensagem.callback-status"))
    preparation = {"-1", "3", "6"}  # "este status e não é retornado por Callback"
    assert not preparation & set(next(p for p in catalog.callback("speedmarket.status").params
                                      if p.name == "status").values)


def test_callback_params_follow_their_example(catalog: Catalog) -> None:
    for callback in catalog.callbacks:
        assert callback.example, callback.id
        names = [p.name for p in callback.params]
        assert len(names) == len(set(names)), callback.id
        if callback.encoding == "query string":
            shown = [k for k, _ in parse_qsl(urlsplit(callback.example).query, keep_blank_values=True)]
            assert shown and set(shown) <= set(names), callback.id
            assert [n for n in names if n in shown] == shown, f"{callback.id}: not in the example's order"
        else:
            assert callback.example.split(";") == names, callback.id
    assert {c.name for c in catalog.callbacks} >= {"mensagem.status", "mensagem.dlr", "mensagem.mo",
                                                   "speedmarket.status", "speedmarket.mo", "painel.data_callback"}


def test_the_known_contradictions_are_recorded(catalog: Catalog) -> None:
    ids = {c.id for c in catalog.contradictions}
    for required in ("fcati.send-example-acao-saldo", "wbsapi.reexibir-description", "wbsapi.tipomensagem-vs-f",
                     "mensagem.stat-stam-recv-out-of-date", "wbsapi.83-text", "mensagem.cact-success-text",
                     "speedmarket.send-single-sample-json", "speedmarket.schedule-iso-8691", "mensagem.tende-tente",
                     "mensagem.recv-h-user", "mensagem.stam-31-hex-hash", "mensagem.cacl-crc32-note"):
        assert required in ids, required
    for contradiction in catalog.contradictions:
        assert contradiction.choice.strip() and contradiction.sources, contradiction.id


# -- the loader's own guarantees -----------------------------------------------------------------------------

@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target)
    return target


def test_a_duplicate_code_is_rejected(catalog_copy: Path) -> None:
    path = catalog_copy / "codes.yaml"
    text = path.read_text(encoding="utf-8")
    line = '    - {code: "97", text: CREDITOS INSUFICIENTES, success: false, reason: insufficient_credits,\n'
    assert text.count(line) >= 1
    text = text.replace(line, line.replace('"97"', '"72"'), 1)  # send now has 72 twice
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError, match=r"code:mensagem\.send\.72 is defined twice"):
        load_catalog(catalog_copy)


def test_a_malformed_entry_is_reported_with_file_and_line(catalog_copy: Path) -> None:
    path = catalog_copy / "codes.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "text: CENTRO DE CUSTOS OBRIGATORIO" in line)
    lines[index] = lines[index].replace("text: CENTRO DE CUSTOS OBRIGATORIO, ", "")
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        load_catalog(catalog_copy)
    assert caught.value.path == path and caught.value.line == index + 1
    assert "'text' is a required property" in caught.value.message


def test_invalid_yaml_is_reported_with_file_and_line(catalog_copy: Path) -> None:
    path = catalog_copy / "limits.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("  max: 1000"))
    lines[index] = "  max: [1000\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ContractError) as caught:
        load_catalog(catalog_copy)
    assert caught.value.path == path and caught.value.line is not None
    assert index + 1 <= caught.value.line <= index + 2


def test_substitutes_fall_back_from_the_dialect_to_the_shared_entries(catalog: Catalog) -> None:
    assert catalog.substitutes_for("wbsapi", "bad_credentials")[:2] == ("client_not_found", "invalid_client")
    assert catalog.substitutes_for("wbsapi", "bad_credentials")[2:] == catalog.substitutes_for("mensagem", "bad_credentials")
    assert catalog.substitutes_for("painel", "no such reason") == ("retry",)
    assert all(s.why.strip() for s in catalog.substitutes)


def test_a_substitute_answering_with_an_unknown_reason_fails_the_contracts_check(tmp_path: Path) -> None:
    from smsconform.contracts import load_contracts
    from smsconform.contracts.check import _cross

    root = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, root)
    path = root / "catalog" / "substitutes.yaml"
    text = path.read_text(encoding="utf-8")
    assert "answer_as: [blacklisted]" in text
    path.write_text(text.replace("answer_as: [blacklisted]", "answer_as: [blacklistd]"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"wbsapi/procon answers as 'blacklistd'"):
        _cross(load_contracts(root))
