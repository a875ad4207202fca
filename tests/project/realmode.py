"""Certify the emulator as someone else's implementation: its own process, a running clock, a real-mode
profile (no control API; the main credentials and three valid numbers only), as a provider sandbox is.

Shared by tests/project/test_realmode.py (which asserts the verdict) and benchmarks/bench_realmode.py
(which prints the time it took): both start `smsconform emulator` on free loopback ports with a
temporary database, and run `smsconform certify` against it in a subprocess.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

MAX_WAIT = 65  # seconds: painel's once-a-minute turns (60 s and a margin) must fit in one wait
NUMBERS = ("11991110001", "21991110002", "31991110003")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def smsconform_command() -> list[str]:
    return [sys.executable, "-m", "smsconform.cli"]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMSCONFORM_"))}
    return {**env, **(extra or {})}


@contextlib.contextmanager
def emulator_process(workdir: Path, *options: str, env: dict[str, str] | None = None, token: str | None = None,
                     preexec_fn: Callable[[], None] | None = None) -> Iterator[tuple[int, int]]:
    """`smsconform emulator` with a running clock on free ports and a temporary database: (http, smpp).
    ``options`` are more of the command's options; ``env`` is added to its environment; ``token`` is the
    control token it then needs (to ask whether it is up); ``preexec_fn`` runs in the child before it starts
    (to lower its descriptor limit, say)."""
    http_port, smpp_port = free_port(), free_port()
    log = (workdir / "emulator.log").open("w")
    proc = subprocess.Popen([*smsconform_command(), "emulator", "--db", str(workdir / "emulator.sqlite3"),
                             "--port", str(http_port), "--smpp-port", str(smpp_port), *options],
                            stdout=log, stderr=subprocess.STDOUT, env=clean_env(env), preexec_fn=preexec_fn)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with {proc.returncode}: "
                                   f"{(workdir / 'emulator.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/_emulator/health", timeout=1, trust_env=False,
                             headers={"X-Emulator-Token": token} if token else None).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start within 60 s")
            time.sleep(0.2)
        yield http_port, smpp_port
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


CREDENTIALS = {
    "mensagem": '{ u = "d642dfa0" }', "wbsapi": '{ identificacao = "d642dfa0" }',
    "smpp": '{ system_id = "d642dfa0", password = "demo123" }', "speedmarket": '{ user = "demo", password = "demo123" }',
    "painel": '{ lgn = "demo", pwd = "demo123" }', "fcati": '{ token = "demo-token" }',
}


def real_profile(path: Path, http_port: int, smpp_port: int, *, name: str = "emulator-in-real-time",
                 dialects: tuple[str, ...] = tuple(CREDENTIALS), max_wait: float = MAX_WAIT,
                 timeout: float | None = None) -> Path:
    """Only what a sandbox gives: the main account of each dialect and valid numbers; time passes for real."""
    lines = [f'name = "{name}"']
    for dialect in dialects:
        lines.append(f"[dialects.{dialect}]")
        lines += ([f'host = "127.0.0.1"', f"port = {smpp_port}"] if dialect == "smpp"
                  else [f'base_url = "http://127.0.0.1:{http_port}"'])
        lines.append(f"credentials = {CREDENTIALS[dialect]}")
    lines += ["[fixtures.numbers]", f"valid = {json.dumps(list(NUMBERS))}",
              "[time]", 'mode = "real"', f"max_wait = {max_wait:g}"]
    if timeout is not None:
        lines += ["[http]", f"timeout = {timeout:g}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class RealRun:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    results: dict[str, Any] | None

    def per_dialect(self) -> dict[str, float]:
        """Seconds of test time per dialect (tests naming no dialect under "-")."""
        out: dict[str, float] = defaultdict(float)
        for test in (self.results or {}).get("tests", []):
            out[test.get("dialect") or "-"] += float(test.get("duration_s") or 0.0)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def certify_in_real_time(workdir: Path, *args: str, timeout: float = 1800) -> RealRun:
    """Start the emulator process, certify it through the real-mode profile, and stop it."""
    workdir.mkdir(parents=True, exist_ok=True)
    reports = workdir / "reports"
    with emulator_process(workdir) as (http_port, smpp_port):
        profile = real_profile(workdir / "sandbox.toml", http_port, smpp_port)
        started = time.monotonic()
        proc = subprocess.run([*smsconform_command(), "certify", "--target", str(profile), "--reports",
                               str(reports), *args], capture_output=True, text=True, timeout=timeout,
                              env=clean_env({"SMSCONFORM_PACER_DIR": str(workdir / "pacer"),
                                             "XDG_CACHE_HOME": str(workdir / "cache")}))
        wall = time.monotonic() - started
    path = reports / "results.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return RealRun(proc.returncode, proc.stdout, proc.stderr, wall, results)
