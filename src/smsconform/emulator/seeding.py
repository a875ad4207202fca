"""Extra accounts from a seed file (`--seed FILE`): the same shape as the profile's `accounts:` map."""
from __future__ import annotations

from pathlib import Path

import yaml

from .core import Core


def seed_file(core: Core, path: Path) -> list[int]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    accounts = data.get("accounts", data)
    if not isinstance(accounts, dict):
        raise SystemExit(f"{path}: expected a map of account name -> account")
    created = []
    existing = {r[0] for r in core.store.db.execute("SELECT login FROM users")}
    for name, spec in accounts.items():
        if spec.get("login") in existing:
            continue
        created.append(core.accounts.create(spec, name))
    return created
