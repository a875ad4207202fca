"""The harness the interop tests stand on: an emulator whose port was taken between free_port() and its
bind is started again on fresh ports, and a stopped emulator leaves no process behind."""
from __future__ import annotations

import socket
from pathlib import Path

from emulator_process import EmulatorProcess, free_port, start_on_free_ports


def test_a_start_on_a_taken_port_is_tried_again_on_fresh_ports(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        made: list[EmulatorProcess] = []

        def make() -> EmulatorProcess:
            made.append(EmulatorProcess(tmp_path / str(len(made)), port=taken if not made else free_port()))
            made[-1].workdir.mkdir()
            return made[-1]

        emulator = start_on_free_ports(make)
        try:
            assert len(made) == 2 and emulator.port != taken
            assert made[0].process is not None and made[0].process.poll() is not None
        finally:
            emulator.stop()
    assert emulator.process is not None and emulator.process.poll() is not None
