"""Every key a target profile may have, in one place: what the loader accepts and what init-profile writes.

A key the suite does not read is almost always a typo (``credentails``, ``base_ulr``, ``[tiem]``), and a
typo that loads silently makes a run with empty credentials or no fixtures look like a target's fault. So
the loader refuses any key not listed here, naming the nearest known one, and the template of ``smsconform
init-profile`` is written from the same lists, so the two cannot disagree.

Fixture names are not listed by hand: they are the emulator's own target fixtures
(contracts/emulator/profile.yaml), which ``contracts check`` holds to cover every fixture a catalog
trigger names.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Callable

DEFAULT_HTTP_TIMEOUT = 30.0

TOP = {
    "name": "the target's name in the reports (default: the file name)",
    "strict": "true: judge inferred rules too (a deviation fails the run, as certify --strict)",
    "dialects": "one table per dialect the target offers",
    "fixtures": "test accounts and numbers that reach state-dependent codes",
    "time": "how time passes on the target",
    "http": "how the suite talks to the target",
    "smpp": "what the target's SMSC promises beyond the documents",
}
DIALECT = {
    "base_url": "http(s) address; every HTTP dialect and wbsapi (wbsapi.asmx is under it)",
    "host": "smpp only: the SMSC host",
    "port": "smpp only: the SMSC port",
    "credentials": "the main account's credentials",
    "operations": "the operations the target offers (default: every operation of the contracts)",
}
FIXTURES = {"accounts": "test accounts per dialect, by fixture name", "numbers": "test numbers, by fixture name"}
TIME = {
    "mode": '"real" (the suite waits, a sandbox) or "control" (an emulator-like control API moves the clock)',
    "control_url": 'the control API (time.mode = "control"); unlocks every rule that needs time moved or state set',
    "max_wait": "seconds the suite may wait for one thing to happen (a status, a callback, a rate-limit turn)",
}
HTTP = {"timeout": f"seconds per request, HTTP, SOAP and SMPP alike (default {DEFAULT_HTTP_TIMEOUT:.0f})"}
SMPP = {"max_rate": "submit_sm a second per bind the SMSC accepts before ESME_RTHROTTLED (unlocks the throttling test)"}


def emulator_fixtures() -> tuple[dict[str, str], dict[str, str]]:
    """(account fixture -> what it is for, number fixture -> what it is for), from the emulator's profile."""
    from ..contracts import load_contracts

    profile = load_contracts().emulator_profile
    accounts = {name: str((spec or {}).get("note") or "") for name, spec in (profile.get("accounts") or {}).items()}
    notes = profile.get("number_notes") or {}
    numbers = {name: str(notes.get(name) or "") for name in (profile.get("numbers") or {})}
    return accounts, numbers


def nearest(word: str, known: Any) -> str:
    found = difflib.get_close_matches(word, list(known), n=1, cutoff=0.5)
    return f"; did you mean {found[0]!r}?" if found else f"; known: {', '.join(sorted(known))}"


def check_known_keys(raw: dict[str, Any], path: Path, error: Callable[[str], Exception]) -> None:
    """Raise ``error`` naming the file, the first unknown key (dotted) and the nearest known key."""
    from ..contracts import DIALECTS

    def refuse(key: str, word: str, known: Any) -> None:
        raise error(f"{path}: unknown key {key}{nearest(word, known)}")

    def within(table: Any, prefix: str, known: Any) -> None:
        if not isinstance(table, dict):
            return
        for name in table:
            if name not in known:
                refuse(f"{prefix}{name}", name, known)

    within(raw, "", TOP)
    dialects = raw.get("dialects")
    within(dialects, "dialects.", DIALECTS)
    for name, table in (dialects or {}).items() if isinstance(dialects, dict) else ():
        within(table, f"dialects.{name}.", DIALECT)
    fixtures = raw.get("fixtures")
    within(fixtures, "fixtures.", FIXTURES)
    if isinstance(fixtures, dict):
        accounts, numbers = emulator_fixtures()
        within(fixtures.get("accounts"), "fixtures.accounts.", accounts)
        for name, table in (fixtures.get("accounts") or {}).items() if isinstance(fixtures.get("accounts"), dict) else ():
            within(table, f"fixtures.accounts.{name}.", DIALECTS)
        within(fixtures.get("numbers"), "fixtures.numbers.", numbers)
    within(raw.get("time"), "time.", TIME)
    within(raw.get("http"), "http.", HTTP)
    within(raw.get("smpp"), "smpp.", SMPP)
