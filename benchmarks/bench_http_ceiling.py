"""HTTP single sends of the emulator side by side with their ceilings, in one run (issue 15, item 1).

Starts, each as its own process on loopback: the emulator (`smsconform emulator`, its own SQLite file),
the one-insert ceiling (uvicorn with an ASGI endpoint that inserts one row into SQLite and commits, the
emulator's stack and pragmas: `_ceiling_server.py --kind insert`), the bare ceiling (the same endpoint
answering at once) and, unless `--no-prism`, Prism mocking contracts/openapi/mensagem.yaml (the stateless
peer of the issue; this script installs @stoplight/prism-cli with npm into benchmarks/.cache/prism the
first time). Then, round after round, each target in turn for `--seconds` under the same load (the raw
keep-alive client of `_loadgen.py`, `--connections` connections): the emulator's mensagem send,
speedmarket send-single, fcati enviar and painel sendsms, the ceilings and Prism's send. Every answer
must be 200 and the operation's success, or the run fails. Prints requests/s per round and each ratio
(min / median / max over the rounds). Target: mensagem send >= 0.5 of the one-insert ceiling.

    .venv/bin/python benchmarks/bench_http_ceiling.py [--rounds 3] [--seconds 5] [--connections 32]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

from _emulator import command, free_port, wait_ready  # noqa: E402 (benchmarks/ is on sys.path)
from _loadgen import get, load, post  # noqa: E402

HERE = Path(__file__).resolve().parent
PRISM_DIR = HERE / ".cache" / "prism"
PRISM_VERSION = "5.16.0"
MENSAGEM_SPEC = HERE.parent / "contracts" / "openapi" / "mensagem.yaml"
FCATI_BODY = json.dumps({"acao": "enviar", "recipient": "5511991110001", "text": "benchmark"}).encode()


@dataclass
class Target:
    name: str
    port: int
    request: bytes
    check: Callable[[bytes], bool]
    pid: int = 0


def mensagem_send() -> bytes:
    return get("/sms/send?u=d642dfa0&n=11991110001&m=benchmark")


def emulator_targets(port: int, pid: int) -> list[Target]:
    targets = [
        Target("mensagem send", port, mensagem_send(), lambda body: body.startswith(b"1;")),
        Target("speedmarket send-single", port,
               get("/webservice-rest/send-single?user=demo&password=demo123&type=0&number=11991110001"
                   "&content=benchmark"), lambda body: b'"responseCode":"000"' in body),
        Target("fcati enviar", port, post("/webhook/api-sms", FCATI_BODY, "application/json",
                                          headers="Authorization: Bearer demo-token\r\n"),
               lambda body: b'"messageId"' in body),
        Target("painel sendsms", port,
               get("/painel/api.ashx?action=sendsms&lgn=demo&pwd=demo123&msg=benchmark&numbers=11991110001"),
               lambda body: b'"status":1' in body),
    ]
    for target in targets:
        target.pid = pid
    return targets


def wait_port(port: int, process: subprocess.Popen, path: str = "/", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a peer exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1, trust_env=False)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


def prism_binary() -> Path | None:
    """Prism from benchmarks/.cache/prism, installed there by npm the first time (None without npm)."""
    binary = PRISM_DIR / "node_modules" / ".bin" / "prism"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        print("Prism: npm is not installed, so Prism is not measured")
        return None
    print(f"installing @stoplight/prism-cli@{PRISM_VERSION} into {PRISM_DIR} ...", flush=True)
    PRISM_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund", "--loglevel=error",
                    f"@stoplight/prism-cli@{PRISM_VERSION}"], check=True)
    return binary


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc): answers per CPU second hold still when other
    work on the machine steals the cores, where answers per wall second swing with it."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument("--frozen", action="store_true", help="the emulator's clock frozen (default: running)")
    args = parser.parse_args()
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            port = free_port()
            emulator = subprocess.Popen([*command(), "emulator", "--port", str(port), "--smpp-port", "0",
                                         "--db", str(Path(tmp) / "emulator.sqlite3"),
                                         *(["--frozen"] if args.frozen else [])],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            processes.append(emulator)
            wait_ready(f"http://127.0.0.1:{port}", emulator)
            targets = emulator_targets(port, emulator.pid)
            for kind in ("insert", "bare"):
                ceiling_port = free_port()
                processes.append(subprocess.Popen(
                    [sys.executable, str(HERE / "_ceiling_server.py"), "--kind", kind, "--port", str(ceiling_port),
                     "--db", str(Path(tmp) / "ceiling.sqlite3")]))
                wait_port(ceiling_port, processes[-1])
                targets.append(Target(f"ceiling: {kind}", ceiling_port, mensagem_send(),
                                      lambda body: body == b"1;ceiling", processes[-1].pid))
            binary = None if args.no_prism else prism_binary()
            if binary is not None:
                prism_port = free_port()
                processes.append(subprocess.Popen(
                    [str(binary), "mock", "-p", str(prism_port), "-h", "127.0.0.1", "--errors", "false",
                     str(MENSAGEM_SPEC)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                wait_port(prism_port, processes[-1], "/sms/send?u=d642dfa0&n=11991110001&m=benchmark")
                targets.append(Target("Prism (mensagem send)", prism_port, mensagem_send(), lambda body: True,
                                      processes[-1].pid))
            for target in targets:  # warm-up: caches, the first page of every table
                load("127.0.0.1", target.port, target.request, 4, 0.5, target.check)
            rates: dict[str, list[float]] = {t.name: [] for t in targets}
            per_cpu: dict[str, list[float]] = {t.name: [] for t in targets}
            print(f"{args.rounds} rounds of {args.seconds:g} s a target, {args.connections} keep-alive connections")
            for number in range(args.rounds):
                order = targets[number % len(targets):] + targets[:number % len(targets)]
                for target in order:
                    cpu = cpu_seconds(target.pid)
                    result = load("127.0.0.1", target.port, target.request, args.connections, args.seconds,
                                  target.check)
                    if result.failures:
                        raise SystemExit(f"{target.name}: {result.failures} answers were not a success, "
                                         f"the first: {result.first_failure[:300]!r}")
                    rates[target.name].append(result.rate)
                    per_cpu[target.name].append(result.answers / max(cpu_seconds(target.pid) - cpu, 1e-9))
                print(f"round {number + 1}: " + ", ".join(f"{t.name} {rates[t.name][-1]:,.0f}/s" for t in targets),
                      flush=True)
            peers = [name for name in ("ceiling: insert", "ceiling: bare", "Prism (mensagem send)") if name in rates]
            for title, figures in (("requests per wall second", rates), ("requests per CPU second of the server",
                                                                           per_cpu)):
                print(f"\n{title} (min / median / max):")
                for target in targets:
                    values = figures[target.name]
                    print(f"  {target.name:<26}{min(values):>9,.0f} {statistics.median(values):>9,.0f} "
                          f"{max(values):>9,.0f}")
                print(f"ratios of {title}, round by round (min / median / max):")
                for target in targets[:4]:
                    for peer in peers:
                        ratio = [a / b for a, b in zip(figures[target.name], figures[peer])]
                        print(f"  {target.name} / {peer}: {spread(ratio)}")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    main()
