"""``smsconform init-profile``: a commented target profile with every key, fixture and what each unlocks.

Written from what the suite reads (profile_keys.py) and what the catalog's triggers need, counted now, so
the template cannot go stale: a fixture a trigger names is listed with the rules it reaches, a key the
loader does not know is never written. Secrets are ``${VAR}`` placeholders; every optional entry is
commented out, so the file loads as it is (once the variables are set) and a user uncomments what the
sandbox offers.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from ..contracts import DIALECTS, load_contracts
from .profile_keys import DEFAULT_HTTP_TIMEOUT, DIALECT, HTTP, SMPP as SMPP_KEYS, TIME, TOP, emulator_fixtures
from .target import CREDENTIAL_KEYS

_NUMBER = re.compile(r"\{fixtures\.numbers\.([a-z_]+)")
SMPP = "smpp"
ACCOUNTS_HEADING = "# -- test accounts of the sandbox, per dialect, for the codes that depend on an account's state"


def trigger_counts() -> tuple[Counter[str], Counter[str], dict[str, set[str]]]:
    """How many catalog codes each account fixture and each number fixture triggers, and the dialects
    each account fixture is needed in."""
    accounts: Counter[str] = Counter()
    numbers: Counter[str] = Counter()
    dialects: dict[str, set[str]] = defaultdict(set)
    for code in load_contracts().catalog.codes:
        trigger = code.trigger or {}
        if trigger.get("account"):
            accounts[str(trigger["account"])] += 1
            dialects[str(trigger["account"])].add(code.dialect)
        for value in (trigger.get("set") or {}).values():
            for name in set(_NUMBER.findall(str(value))):
                numbers[name] += 1
    return accounts, numbers, dialects


def _var(*parts: str) -> str:
    return "${SANDBOX_" + "_".join(p.upper().replace("-", "_") for p in parts) + "}"


def _creds(dialect: str, *prefix: str) -> str:
    return "{ " + ", ".join(f'{k} = "{_var(*prefix, dialect, k)}"' for k in CREDENTIAL_KEYS[dialect]) + " }"


def _unlocks(count: int) -> str:
    return f"unlocks {count} catalog rule{'s' if count != 1 else ''}" if count else "used by the state machines"


def template() -> str:
    accounts, numbers = emulator_fixtures()
    account_counts, number_counts, account_dialects = trigger_counts()
    out: list[str] = [
        "# A target profile for smsconform certify (written by `smsconform init-profile`).",
        "# Secrets never go in this file: ${NAME} is read from the environment when the profile loads.",
        "# Unknown keys are refused (with the nearest known one), so a typo cannot load silently.",
        "",
        f'name = "my-sandbox"        # {TOP["name"]}',
        f"# strict = true            # {TOP['strict']}",
        "",
        f"# -- {TOP['dialects']}; leave out a dialect the target does not offer ({', '.join(DIALECTS)})",
    ]
    for dialect in DIALECTS:
        out.append(f"[dialects.{dialect}]")
        if dialect == SMPP:
            out += [f'host = "sandbox.example"   # {DIALECT["host"]}', f"port = 9500                # {DIALECT['port']}"]
        else:
            out.append(f'base_url = "https://sandbox.example"   # {DIALECT["base_url"]}')
        out.append(f"credentials = {_creds(dialect)}   # {DIALECT['credentials']}")
        out += [f"# operations = [...]        # {DIALECT['operations']}", ""]
    out += [
        "# -- numbers the sandbox reserves, so that number-dependent codes can be reached on purpose",
        "[fixtures.numbers]",
        'valid = ["11991110001", "21991110002", "31991110003"]   # required: valid numbers that get delivered',
    ]
    for name, note in numbers.items():
        if name == "valid":
            continue
        out.append(f'# {name} = "..."   # {_unlocks(number_counts[name])}: {note}'.rstrip(": "))
    out += ["", ACCOUNTS_HEADING]
    for name, note in accounts.items():
        if name == "main":
            continue
        out.append(f"# [fixtures.accounts.{name}]   # {_unlocks(account_counts[name])}: {note}".rstrip(": "))
        for dialect in [d for d in DIALECTS if d in account_dialects.get(name, ())] or ["mensagem"]:
            out.append(f"# {dialect} = {_creds(dialect, name)}")
    out += [
        "",
        "# -- how time passes on the target",
        "[time]",
        f'mode = "real"              # {TIME["mode"]}',
        f"max_wait = 90              # {TIME['max_wait']} (painel's once-a-minute calls need more than 60)",
        f'# control_url = "http://127.0.0.1:2738/_emulator"   # {TIME["control_url"]}',
        "",
        "[http]",
        f"timeout = {DEFAULT_HTTP_TIMEOUT:g}               # {HTTP['timeout']}",
        "",
        f"# [smpp]                   # {TOP['smpp']}",
        f"# max_rate = 100           # {SMPP_KEYS['max_rate']}",
        "",
    ]
    return "\n".join(out)


def fixtures_named(text: str) -> dict[str, set[str]]:
    """The fixture names a template mentions (commented or not), by kind, for the test that it is complete."""
    return {"accounts": set(re.findall(r"\[fixtures\.accounts\.([a-z_]+)\]", text)),
            "numbers": set(re.findall(r"^#? ?([a-z_]+) = ", text.split("[fixtures.numbers]", 1)[1].split(ACCOUNTS_HEADING)[0],
                                      re.M))}


