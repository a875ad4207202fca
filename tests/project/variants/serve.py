"""Serve variants of the emulator with a running clock, for a real-mode run: ``python -m variants.serve NAME[,NAME...] PROFILE``.

Applies the variants (several side by side: each changes its own dialect, runner.real_groups), starts the emulator on free loopback ports with its own SQLite file (its clock not
frozen: time passes for real, as on a provider's sandbox), writes a target profile with ``time.mode =
"real"`` to PROFILE, and serves until it is terminated.
"""
from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
from pathlib import Path

from defects.registry import Patches
from smsconform.conformance.emulator_target import _free_port, credentials_for
from smsconform.emulator.server import Emulator

from .registry import load_all

MAX_WAIT = 60


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def profile_text(emulator: Emulator) -> str:
    profile = emulator.core.profile
    accounts = {name: credentials_for(spec) for name, spec in profile.get("accounts", {}).items()}
    lines = [f"name = {_toml('variant')}", ""]
    for dialect, creds in accounts["main"].items():
        lines.append(f"[dialects.{dialect}]")
        if dialect == "smpp":
            lines += [f"host = {_toml(emulator.host)}", f"port = {emulator.smpp_port}"]
        else:
            lines.append(f"base_url = {_toml(emulator.base_url)}")
        lines.append("credentials = {" + ", ".join(f"{k} = {_toml(v)}" for k, v in creds.items()) + "}")
        lines.append("")
    lines.append("[fixtures.numbers]")
    for name, value in (profile.get("numbers") or {}).items():
        lines.append(f"{name} = {_toml(value)}")
    for fixture, per_dialect in accounts.items():
        if fixture == "main":
            continue
        lines += ["", f"[fixtures.accounts.{fixture}]"]
        for dialect, creds in per_dialect.items():
            lines.append(f"{dialect} = {{" + ", ".join(f"{k} = {_toml(v)}" for k, v in creds.items()) + "}")
    lines += ["", "[time]", 'mode = "real"', f"max_wait = {MAX_WAIT}", ""]
    return "\n".join(lines)


def main(names: str, profile: Path) -> int:
    patches = Patches()
    known = load_all()
    for name in names.split(","):
        known[name].apply(patches)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="smsconform-variant-") as tmp:
        emulator = Emulator(db=Path(tmp) / "emulator.sqlite3", port=0, smpp_port=_free_port(), frozen=False)
        with emulator.running():
            partial = profile.with_suffix(".partial")
            partial.write_text(profile_text(emulator), encoding="utf-8")
            partial.replace(profile)
            stop.wait()
    patches.undo()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2])))
