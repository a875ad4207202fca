"""Kannel (Debian's bearerbox and smsbox) as an SMPP ESME of the emulator, with a generated configuration.

The configuration sets only what a deployment must (where the SMSC is, its credentials and system_type,
the boxes' ports, a sendsms user allowed long messages) and leaves every SMPP default of Kannel as it is:
dest_addr_ton 2 / NPI 1 for a number without "+", msg-id-type unset (ids are C strings), interface
version 3.4. Those defaults are what the field sends, so they are what the emulator must take.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from emulator_process import free_port

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
SMSC_ID = "emulator"
SENDSMS_USER = "interop"
SENDSMS_PASSWORD = "interop-secret"
ADMIN_PASSWORD = "interop-admin"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
LOG_TAIL = 6000


@dataclass(frozen=True)
class SmscAccount:
    """What the smsc group needs to bind: the emulator's SMPP port and an account's credentials."""

    port: int
    system_id: str
    password: str
    system_type: str


@dataclass
class Kannel:
    """bearerbox + smsbox in ``workdir``: start(), sendsms(), logs(), stop() (always kills both)."""

    workdir: Path
    smsc: SmscAccount
    admin_port: int = field(default_factory=free_port)
    smsbox_port: int = field(default_factory=free_port)
    sendsms_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.workdir / "kannel.conf"

    def config(self) -> str:
        w = self.workdir
        return "\n".join([
            "group = core",
            f"admin-port = {self.admin_port}",
            'admin-interface = "127.0.0.1"',
            f'admin-password = "{ADMIN_PASSWORD}"',
            f'status-password = "{ADMIN_PASSWORD}"',
            'admin-allow-ip = "127.0.0.1"',
            f"smsbox-port = {self.smsbox_port}",
            'box-allow-ip = "127.0.0.1"',
            f'log-file = "{w}/bearerbox.log"',
            "log-level = 0",
            f'access-log = "{w}/access.log"',
            "dlr-storage = internal",
            "",
            "group = smsc",
            "smsc = smpp",
            f'smsc-id = "{SMSC_ID}"',
            'host = "127.0.0.1"',
            f"port = {self.smsc.port}",
            "transceiver-mode = true",
            f'smsc-username = "{self.smsc.system_id}"',
            f'smsc-password = "{self.smsc.password}"',
            f'system-type = "{self.smsc.system_type}"',
            "reconnect-delay = 1",
            f'log-file = "{w}/smsc.log"',
            "log-level = 0",
            "",
            "group = smsbox",
            'bearerbox-host = "127.0.0.1"',
            f"bearerbox-port = {self.smsbox_port}",
            f"sendsms-port = {self.sendsms_port}",
            'sendsms-interface = "127.0.0.1"',
            f'log-file = "{w}/smsbox.log"',
            "log-level = 0",
            f'access-log = "{w}/smsbox-access.log"',
            "",
            "group = sendsms-user",
            f'username = "{SENDSMS_USER}"',
            f'password = "{SENDSMS_PASSWORD}"',
            "concatenation = true",
            "max-messages = 10",
            "",
        ])

    # -- life cycle -----------------------------------------------------------------------------------
    def start(self) -> "Kannel":
        self.config_path.write_text(self.config())
        self._spawn(BEARERBOX, "bearerbox")
        self._wait(lambda: self._smsc_online(), "bearerbox did not bind to the emulator")
        self._spawn(SMSBOX, "smsbox")
        self._wait(lambda: _listening(self.sendsms_port), "smsbox did not open its sendsms port")
        return self

    def _spawn(self, binary: Path, name: str) -> None:
        out = (self.workdir / f"{name}.out").open("wb")
        # A session of its own, so that stop() can end the box and anything it forked, and nothing else.
        self.processes.append(subprocess.Popen(
            [str(binary), "-v", "0", str(self.config_path)], cwd=self.workdir, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
        out.close()

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} exited with {process.returncode}\n{self.logs()}")
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what} in {START_TIMEOUT:.0f} s\n{self.logs()}")

    def _smsc_online(self) -> bool:
        try:
            status = httpx.get(f"http://127.0.0.1:{self.admin_port}/status.txt",
                               params={"password": ADMIN_PASSWORD}, timeout=1, trust_env=False)
        except httpx.HTTPError:
            return False
        return any(line.strip().startswith(SMSC_ID) and "online" in line for line in status.text.splitlines())

    def stop(self) -> None:
        """SIGTERM each box's session, SIGKILL what is still there after STOP_TIMEOUT: nothing outlives a
        test, however it ended."""
        for process in reversed(self.processes):
            _signal_session(process, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_session(process, signal.SIGKILL)
                process.wait(STOP_TIMEOUT)

    # -- use ------------------------------------------------------------------------------------------
    def sendsms(self, **params: str) -> httpx.Response:
        """GET /cgi-bin/sendsms with the sendsms user's credentials and ``params`` (Kannel's names)."""
        query = {"username": SENDSMS_USER, "password": SENDSMS_PASSWORD, **params}
        return httpx.get(f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms", params=query, timeout=10,
                         trust_env=False)

    def logs(self) -> str:
        """The tail of every log the boxes wrote, for a failure's message."""
        parts = []
        for name in ("bearerbox.out", "bearerbox.log", "smsc.log", "smsbox.out", "smsbox.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(f"----- {name} (tail) -----\n{path.read_text(errors='replace')[-LOG_TAIL:]}")
        return "\n".join(parts)

    def smsc_log(self) -> str:
        path = self.workdir / "smsc.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _signal_session(process: subprocess.Popen, sig: signal.Signals) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
