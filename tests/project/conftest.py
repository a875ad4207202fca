"""Shared fixtures of the project's own tests: a real emulator server on a free loopback port."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest

from smsconform.emulator.server import Emulator


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """A fresh emulator: its own SQLite file, a frozen clock, HTTP on a free port (SMPP off)."""
    emu = Emulator(db=tmp_path / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=10.0, trust_env=False) as client:
        yield client


@pytest.fixture
def control(http: httpx.Client):
    """Call the control API: control("POST", "/clock", {"advance": 10}) -> parsed JSON."""

    def call(method: str, route: str, body: dict | None = None, **params: str):
        response = http.request(method, f"/_emulator{route}", json=body, params=params or None)
        assert response.status_code == 200, response.text
        return response.json()

    return call
