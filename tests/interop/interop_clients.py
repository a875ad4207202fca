"""Where scripts/install-interop puts the real clients, and what a test does when one is missing.

In CI (CI=true) a missing client fails the test: scripts/test runs the installer first, so a client that
is absent there is an install that went wrong, never a reason to pass. Elsewhere the test is skipped with
the command that installs it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from emulator_process import EmulatorProcess

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "interop" / "node"
DRIVERS = Path(__file__).resolve().parent / "drivers"
INTEROP_PYTHON = ROOT / ".interop-venv" / "bin" / "python"
INSTALL_HINT = "run `bash scripts/install-interop` (scripts/test does)"
DRIVER_GRACE = 20.0
"""Seconds a driver may take beyond its own timeout (start-up, imports) before it is killed."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def require(client: str, present: bool) -> None:
    """Fail (CI) or skip (elsewhere) the calling test when ``client`` is not installed."""
    if present:
        return
    message = f"{client} is not installed: {INSTALL_HINT}"
    if in_ci():
        pytest.fail(message + " -- CI=true, so an interop client may not be skipped", pytrace=False)
    pytest.skip(message)


def require_node_package(name: str) -> str:
    """The node binary, once ``name`` is installed under interop/node."""
    node = shutil.which("node")
    require(f"node and the npm package `{name}`", node is not None and (NODE_DIR / "node_modules" / name).is_dir())
    return str(node)


def require_interop_python(module: str) -> str:
    """.interop-venv's python, once ``module`` imports there."""
    present = INTEROP_PYTHON.exists() and subprocess.run(
        [str(INTEROP_PYTHON), "-c", f"import {module}"], capture_output=True).returncode == 0
    require(f"the PyPI package `{module}` in .interop-venv", present)
    return str(INTEROP_PYTHON)


def drive(command: list[str], stdin: Any, timeout: float) -> dict[str, Any]:
    """Run a driver (it prints one JSON object) and return what it printed; a driver that fails or prints
    no JSON fails the test with its output."""
    try:
        done = subprocess.run(command, input=json.dumps(stdin), capture_output=True, text=True,
                              timeout=timeout + DRIVER_GRACE)
    except subprocess.TimeoutExpired as expired:
        raise AssertionError(f"{command[1]} did not finish in {timeout + DRIVER_GRACE:.0f} s: {expired.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"{' '.join(command[:2])} exited with {done.returncode}\n"
                             f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-3000:]}")
    return json.loads(lines[-1])


def drive_esme(program: list[str], emulator: "EmulatorProcess", account: dict[str, str],
               messages: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Run an SMPP driver (arguments HOST PORT SYSTEM_ID PASSWORD SYSTEM_TYPE TIMEOUT, ``messages`` on its
    stdin) against the emulator's SMPP port, the clock moving meanwhile so that receipts come at once."""
    with emulator.clock_running():
        return drive([*program, "127.0.0.1", str(emulator.smpp_port), account["system_id"], account["password"],
                      account["system_type"], str(timeout)], messages, timeout)
