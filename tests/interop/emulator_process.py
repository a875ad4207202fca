"""A real `smsconform emulator` process for the interop tests: its own SQLite file, free loopback ports,
a frozen virtual clock that the tests move through the control API.

A separate process, not the in-thread `Emulator`, because the clients under test are separate programs
(Kannel, node, another venv) and the emulator is what they would meet in the field: the installed command.
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """A port the kernel hands out for port 0 on loopback (the emulator's SMPP port cannot be 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def emulator_command() -> list[str]:
    """`smsconform` of the interpreter running the tests (the project's venv)."""
    script = Path(sys.executable).with_name("smsconform")
    return [str(script)] if script.exists() else [sys.executable, "-m", "smsconform.cli"]


@dataclass
class EmulatorProcess:
    """One running emulator: HTTP and SMPP on loopback, its state in ``workdir``."""

    workdir: Path
    port: int = field(default_factory=free_port)
    smpp_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.workdir / "emulator.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.workdir / "emulator.log"

    def start(self) -> "EmulatorProcess":
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*emulator_command(), "emulator", "--host", "127.0.0.1", "--port", str(self.port),
             "--smpp-port", str(self.smpp_port), "--db", str(self.db_path), "--frozen"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self.process.returncode}:\n{self.log()}")
            if self._answers() and _listening(self.smpp_port):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not start in {START_TIMEOUT:.0f} s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            return httpx.get(self.base_url + "/_emulator/health", timeout=1, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def control(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        """Call the control API (contracts/openapi/emulator-control.yaml); any answer but 200 fails."""
        response = httpx.request(method, f"{self.base_url}/_emulator{route}", json=body, timeout=10,
                                 trust_env=False)
        if response.status_code != 200:
            raise AssertionError(f"{method} /_emulator{route} -> {response.status_code}: {response.text}")
        return response.json()

    @contextlib.contextmanager
    def clock_running(self, step: float = 5.0, every: float = 0.1) -> Iterator[None]:
        """Move the frozen clock by ``step`` seconds every ``every`` wall seconds while the block runs, so
        that a message submitted at any moment by a client we do not steer reaches its receipt at once."""
        stop = threading.Event()

        def pump() -> None:
            while not stop.wait(every):
                with contextlib.suppress(httpx.HTTPError, AssertionError):
                    self.control("POST", "/clock", {"advance": step})

        thread = threading.Thread(target=pump, name="interop-clock", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(5)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
