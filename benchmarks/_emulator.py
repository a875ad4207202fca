"""What every benchmark shares: a free loopback port, the emulator command, readiness, peak memory."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command() -> list[str]:
    """`smsconform` from the running interpreter's environment (or the module, if not installed)."""
    script = Path(sys.executable).with_name("smsconform")
    return [str(script)] if script.exists() else [sys.executable, "-m", "smsconform.cli"]


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process (Linux), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            raise SystemExit(f"the emulator exited with {proc.returncode}: {err}")
        try:
            if httpx.get(base + "/_emulator/health", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the emulator did not start")


def stop(proc: subprocess.Popen, workdir: Path, keep: bool) -> None:
    """End the emulator process; remove its state unless asked to keep it."""
    import shutil

    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    if keep:
        print(f"  state kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
