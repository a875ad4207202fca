"""Target profiles: where the implementation under test lives, how to log in, and what it lets us reach.

A profile is a TOML file. Secrets stay out of it: any string may name an environment variable as
``${NAME}``, expanded when the profile loads (a missing variable is an error naming it and the key).

A profile is strict: a key or table the suite does not read is refused, naming the file, the key and the
nearest known one (``credentails``, ``base_ulr`` and ``[tiem]`` would otherwise load silently and the
suite run with empty credentials). The known keys are in ``profile_keys.py``, which ``smsconform
init-profile`` writes out as a commented template.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contracts import DIALECTS
from .profile_keys import DEFAULT_HTTP_TIMEOUT, check_known_keys

CREDENTIAL_KEYS = {
    "mensagem": ("u",),
    "wbsapi": ("identificacao",),
    "speedmarket": ("user", "password"),
    "painel": ("lgn", "pwd"),
    "fcati": ("token",),
    "smpp": ("system_id", "password"),
    "servicesms": ("user", "pwd"),   # ServiceSms.asmx User and Pwd: painel's login and password
}
TIME_MODES = ("control", "real")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ProfileError(Exception):
    """A target profile that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class DialectTarget:
    name: str
    base_url: str | None
    host: str | None
    port: int | None
    credentials: dict[str, str]
    operations: frozenset[str] | None  # None: every operation of the contracts

    def offers(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations


@dataclass(frozen=True)
class Fixtures:
    """What lets the suite reach state-dependent codes on this target."""

    accounts: dict[str, dict[str, dict[str, str]]]   # fixture name -> dialect -> credentials
    numbers: dict[str, Any]                          # fixture name -> number or list of numbers

    def account(self, name: str, dialect: str) -> dict[str, str] | None:
        return self.accounts.get(name, {}).get(dialect)

    def numbers_of(self, name: str) -> list[str]:
        """A fixture's numbers as strings; a profile entry may be a string, a ``{number: ...}`` mapping or a list."""
        value = self.numbers.get(name)
        items = value if isinstance(value, list) else ([] if value is None else [value])
        out = []
        for item in items:
            if isinstance(item, dict):
                item = item.get("number")
            if item is not None:
                out.append(str(item))
        return out

    def number(self, name: str) -> str | None:
        found = self.numbers_of(name)
        return found[0] if found else None


@dataclass(frozen=True)
class TimeControl:
    mode: str                 # control: an emulator-like control API moves the clock; real: we wait
    control_url: str | None
    max_wait: float           # real mode: how long a status may take to change


@dataclass(frozen=True)
class Target:
    name: str
    dialects: dict[str, DialectTarget]
    fixtures: Fixtures
    time: TimeControl
    source: str = "built-in"
    extra: dict[str, Any] = field(default_factory=dict)
    http_timeout: float = DEFAULT_HTTP_TIMEOUT   # seconds per request (HTTP, SOAP, SMPP): [http] timeout
    strict: bool = False                         # judge inferred rules too (judge.set_strict)

    def dialect(self, name: str) -> DialectTarget | None:
        return self.dialects.get(name)

    def secrets(self) -> list[str]:
        """Every credential value of the profile, so reports and cassettes can be checked free of them."""
        values = []
        for d in self.dialects.values():
            values += [v for v in d.credentials.values() if v]
        for per_dialect in self.fixtures.accounts.values():
            for creds in per_dialect.values():
                values += [v for v in creds.values() if v]
        return sorted(set(values), key=len, reverse=True)


def _expand(value: Any, key: str, path: Path) -> Any:
    if isinstance(value, str):
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ProfileError(f"{path}: {key}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, f"{key}.{k}" if key else k, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{key}[{i}]", path) for i, v in enumerate(value)]
    return value


def _table(data: dict[str, Any], key: str, path: Path, *, required: bool = False) -> dict[str, Any]:
    value = data.get(key.rsplit(".", 1)[-1])
    if value is None:
        if required:
            raise ProfileError(f"{path}: missing table [{key}]")
        return {}
    if not isinstance(value, dict):
        raise ProfileError(f"{path}: {key} must be a table")
    return value


def _credentials(dialect: str, raw: Any, key: str, path: Path) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: {key} must be a table")
    unknown = set(raw) - set(CREDENTIAL_KEYS[dialect])
    if unknown:
        raise ProfileError(f"{path}: {key}: unknown credential {sorted(unknown)[0]!r}; "
                           f"{dialect} takes {', '.join(CREDENTIAL_KEYS[dialect])}")
    for name, value in raw.items():
        if not isinstance(value, str):
            raise ProfileError(f"{path}: {key}.{name} must be a string")
    return dict(raw)


def load_profile(path: Path) -> Target:
    """Read and check a profile; every error names the file and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such target profile") from None
    except IsADirectoryError:
        raise ProfileError(f"{path}: is a directory, not a target profile") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
                           "a target profile is TOML, which is UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    check_known_keys(raw, path, ProfileError)
    data = _expand(raw, "", path)
    dialects: dict[str, DialectTarget] = {}
    for name, table in _table(data, "dialects", path, required=True).items():
        key = f"dialects.{name}"
        if name not in DIALECTS:
            raise ProfileError(f"{path}: [{key}]: unknown dialect; one of {', '.join(DIALECTS)}")
        if not isinstance(table, dict):
            raise ProfileError(f"{path}: {key} must be a table")
        base_url, host, port = table.get("base_url"), table.get("host"), table.get("port")
        if name == "smpp":
            if not isinstance(host, str) or not isinstance(port, int):
                raise ProfileError(f"{path}: {key}: smpp needs host (string) and port (integer)")
        elif not isinstance(base_url, str) or not re.match(r"^https?://", base_url):
            raise ProfileError(f"{path}: {key}.base_url must be an http(s) URL")
        ops = table.get("operations")
        if ops is not None and (not isinstance(ops, list) or not all(isinstance(o, str) for o in ops)):
            raise ProfileError(f"{path}: {key}.operations must be a list of operation names")
        creds = _credentials(name, table.get("credentials", {}), f"{key}.credentials", path)
        dialects[name] = DialectTarget(name, base_url.rstrip("/") if base_url else None, host, port, creds,
                                       frozenset(ops) if ops is not None else None)
    if not dialects:
        raise ProfileError(f"{path}: [dialects] names no dialect")
    fixtures_raw = _table(data, "fixtures", path)
    accounts: dict[str, dict[str, dict[str, str]]] = {}
    for fixture, per_dialect in (fixtures_raw.get("accounts") or {}).items():
        key = f"fixtures.accounts.{fixture}"
        if not isinstance(per_dialect, dict):
            raise ProfileError(f"{path}: {key} must be a table of dialect credentials")
        accounts[fixture] = {}
        for dialect, creds in per_dialect.items():
            if dialect not in CREDENTIAL_KEYS:
                raise ProfileError(f"{path}: {key}.{dialect}: unknown dialect")
            accounts[fixture][dialect] = _credentials(dialect, creds, f"{key}.{dialect}", path)
    numbers = fixtures_raw.get("numbers") or {}
    if not isinstance(numbers, dict):
        raise ProfileError(f"{path}: fixtures.numbers must be a table")
    for fixture, value in numbers.items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in items):
            raise ProfileError(f"{path}: fixtures.numbers.{fixture} must be a string or a list of strings")
    time_raw = _table(data, "time", path)
    mode = time_raw.get("mode", "real")
    if mode not in TIME_MODES:
        raise ProfileError(f"{path}: time.mode must be one of {', '.join(TIME_MODES)}")
    control_url = time_raw.get("control_url")
    if mode == "control" and not isinstance(control_url, str):
        raise ProfileError(f"{path}: time.control_url is required when time.mode = \"control\"")
    max_wait = time_raw.get("max_wait", 300)
    if not isinstance(max_wait, (int, float)) or max_wait <= 0:
        raise ProfileError(f"{path}: time.max_wait must be a positive number of seconds")
    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise ProfileError(f"{path}: name must be a string")
    timeout = _table(data, "http", path).get("timeout", DEFAULT_HTTP_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ProfileError(f"{path}: http.timeout must be a positive number of seconds")
    strict = data.get("strict", False)
    if not isinstance(strict, bool):
        raise ProfileError(f"{path}: strict must be true or false")
    smpp = _table(data, "smpp", path)
    rate = smpp.get("max_rate")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0):
        raise ProfileError(f"{path}: smpp.max_rate must be a positive number of submissions a second")
    return Target(name, dialects, Fixtures(accounts, numbers), TimeControl(mode, control_url, float(max_wait)),
                  source=str(path), extra={"smpp": dict(smpp)} if smpp else {}, http_timeout=float(timeout),
                  strict=strict)
