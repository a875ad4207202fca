"""The built-in target `emulator`: the embedded emulator on free loopback ports, steered by its control API."""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ..emulator.server import Emulator
from .target import DialectTarget, Fixtures, Target, TimeControl

HTTP = ("fcati", "speedmarket", "painel", "mensagem", "wbsapi", "servicesms")


def credentials_for(account: dict[str, Any]) -> dict[str, dict[str, str]]:
    """One emulator account, as each dialect logs in with it."""
    u = account.get("integration_user", "")
    return {
        "mensagem": {"u": u},
        "wbsapi": {"identificacao": u},
        "speedmarket": {"user": account["login"], "password": account["password"]},
        "painel": {"lgn": account["login"], "pwd": account["password"]},
        "fcati": {"token": account.get("token") or ""},
        "smpp": {"system_id": u, "password": account["password"]},
        "servicesms": {"user": account["login"], "pwd": account["password"]},
    }


def target_for(emulator: Emulator) -> Target:
    profile = emulator.core.profile
    accounts = {name: credentials_for(spec) for name, spec in profile.get("accounts", {}).items()}
    main = accounts["main"]
    dialects = {
        name: DialectTarget(name, emulator.base_url, None, None, main[name], None) for name in HTTP
    }
    if emulator.smpp_port:
        dialects["smpp"] = DialectTarget("smpp", None, emulator.host, emulator.smpp_port, main["smpp"], None)
    numbers = {k: v for k, v in (profile.get("numbers") or {}).items()}
    return Target(
        name="emulator",
        dialects=dialects,
        fixtures=Fixtures(accounts, numbers),
        time=TimeControl("control", f"{emulator.base_url}/_emulator", 0.0),
        source="built-in",
    )


@contextlib.contextmanager
def running_emulator(smpp: bool = True) -> Iterator[Target]:
    """Start a private emulator (its own SQLite file, a frozen clock) and describe it as a target."""
    with tempfile.TemporaryDirectory(prefix="smsconform-") as tmp:
        emulator = Emulator(db=Path(tmp) / "emulator.sqlite3", port=0, smpp_port=_free_port() if smpp else 0,
                            frozen=True)
        with emulator.running():
            yield target_for(emulator)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
