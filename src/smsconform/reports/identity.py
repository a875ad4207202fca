"""Who was certified against what: the target (never its credentials) and the exact contracts.

A report must let anyone tell which implementation was checked and against which contracts, so it names the
target's profile (or the built-in emulator) and the contracts' content hash; the credentials are kept here
only so that the writers can redact them, and no writer ever reads ``TargetInfo.secrets``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..contracts import DIALECTS, Contracts
from ..conformance.target import ProfileError, load_profile

EMULATOR = "emulator"


@dataclass(frozen=True)
class TargetInfo:
    name: str
    source: str
    dialects: tuple[str, ...]
    time: str
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "dialects": list(self.dialects), "time": self.time}


def emulator_secrets(contracts: Contracts) -> tuple[str, ...]:
    """The credentials of every account the embedded emulator seeds, as each dialect logs in with them."""
    from ..conformance.emulator_target import credentials_for

    values: set[str] = set()
    for spec in (contracts.emulator_profile.get("accounts") or {}).values():
        for creds in credentials_for(spec).values():
            values |= {v for v in creds.values() if v}
    return tuple(sorted(values, key=len, reverse=True))


def resolve_target(choice: str, contracts: Contracts) -> TargetInfo:
    """The target a run will use; raises ProfileError (naming the key) for a missing or malformed profile."""
    if choice == EMULATOR:
        return TargetInfo(EMULATOR, "built-in: the embedded emulator on free loopback ports", DIALECTS, "control",
                          emulator_secrets(contracts))
    target = load_profile(Path(choice))
    return TargetInfo(target.name, str(Path(choice).resolve()), tuple(target.dialects), target.time.mode,
                      tuple(target.secrets()))


def contract_identity(contracts: Contracts) -> dict[str, Any]:
    """The contracts' short version (``Contracts.version``), their full SHA-256 and each interface's version."""
    digest = hashlib.sha256()
    for path in sorted(contracts.root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(contracts.root).as_posix().encode())
            digest.update(path.read_bytes())
    interfaces = {}
    for name in ("fcati", "speedmarket", "painel", "mensagem"):
        try:
            interfaces[name] = str(contracts.openapi(name).get("info", {}).get("version", ""))
        except Exception:  # a missing file is the contracts check's business, not the report's
            interfaces[name] = ""
    return {"version": contracts.version, "sha256": digest.hexdigest(), "smsconform": __version__,
            "interfaces": interfaces, "rules": sum(1 for _ in contracts.catalog.rules())}


__all__ = ["EMULATOR", "ProfileError", "TargetInfo", "contract_identity", "emulator_secrets", "resolve_target"]
