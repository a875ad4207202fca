"""Fixtures of the interop family: a real emulator process per test module, and the demo account's SMPP
credentials as contracts/emulator/profile.yaml and contracts/smpp/profile.yaml give them.

Each module's emulator, and what a module's client did with it, are kept for the whole session (of one
xdist worker): under `pytest -n`, a worker runs tests of several modules interleaved, and module-scoped
fixtures would start an emulator, Kannel or a driver run again at every switch."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from emulator_process import EmulatorProcess
from interop_expected import PROFILE, SMPP

MAIN = PROFILE["accounts"]["main"]
SYSTEM_TYPE = str(SMPP["system_type"]["value"])


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], EmulatorProcess]]:
    """emulators(name): the `smsconform emulator` process of ``name`` (a test module), started on first use
    on free loopback ports with a temporary SQLite file and a frozen clock; all stopped at the end."""
    started: dict[str, EmulatorProcess] = {}

    def get(name: str) -> EmulatorProcess:
        if name not in started:
            started[name] = EmulatorProcess(Path(tmp_path_factory.mktemp("emulator"))).start()
        return started[name]

    try:
        yield get
    finally:
        for process in started.values():
            process.stop()


@pytest.fixture
def emulator_process(request: pytest.FixtureRequest, emulators: Callable[[str], EmulatorProcess]) -> EmulatorProcess:
    """The emulator of the requesting test's module."""
    return emulators(request.module.__name__)


@pytest.fixture(scope="session")
def account() -> dict[str, str]:
    """The main fixture account: integration user (SMPP system_id, wbsapi Identificacao) and password."""
    return {"system_id": str(MAIN["integration_user"]), "password": str(MAIN["password"]),
            "system_type": SYSTEM_TYPE}
