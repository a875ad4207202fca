"""Throughput and memory of the emulator's mensagem API, against a real emulator process on loopback.

Measures: single `send` requests per second (wrk when installed, else a Python keep-alive client),
messages per second through `mult` with 1000 numbers, and the emulator's peak RSS once one million
messages are stored. Targets (issue 3): >= 5,000 sends/s, >= 100,000 messages/s, < 300 MB.

    python benchmarks/bench_mensagem.py [--seconds 10] [--messages 1000000]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from _emulator import command, free_port, peak_rss_mb, wait_ready  # noqa: E402 (benchmarks/ is on sys.path)

U = "d642dfa0"


def start(db: Path, port: int, running: bool) -> subprocess.Popen:
    frozen = [] if running else ["--frozen"]
    process = subprocess.Popen([*command(), "emulator", "--port", str(port), "--smpp-port", "0", "--db", str(db),
                                *frozen], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_ready(f"http://127.0.0.1:{port}", process)
    return process


def wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"the emulator answered errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def bench_send_wrk(base: str, seconds: int) -> float:
    return wrk(f"{base}/sms/send?u={U}&n=11991110001&m=benchmark", seconds, 32)


def bench_mult_wrk(base: str, seconds: int) -> float:
    numbers = "%3B".join(f"119{i:08d}" for i in range(1000))
    return 1000 * wrk(f"{base}/sms/mult?u={U}&n={numbers}&m=lote", seconds, 4)


def bench_send_python(base: str, seconds: int) -> float:
    deadline = time.time() + seconds

    def worker(_: int) -> int:
        done = 0
        with httpx.Client(base_url=base, timeout=10) as client:
            while time.time() < deadline:
                client.get("/sms/send", params={"u": U, "n": "11991110001", "m": "benchmark"})
                done += 1
        return done

    with ThreadPoolExecutor(8) as pool:
        total = sum(pool.map(worker, range(8)))
    return total / seconds


def bench_mult(base: str, batches: int) -> float:
    """Messages per second through mult, 1000 numbers a request, 4 requests in flight."""
    def numbers(batch: int) -> str:
        return ";".join(f"11{9}{(batch * 1000 + i) % 100_000_000:08d}" for i in range(1000))

    bodies = [numbers(b) for b in range(batches)]
    started = time.perf_counter()

    def worker(chunk: list[str]) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for n in chunk:
                response = client.get("/sms/mult", params={"u": U, "n": n, "m": "lote"})
                assert response.text.startswith("1;"), response.text[:200]

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, [bodies[i::4] for i in range(4)]))
    return batches * 1000 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--running", action="store_true",
                        help="let the clock run, so every message also moves to delivered during the run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        process = start(Path(tmp) / "bench.sqlite3", port, args.running)
        print(f"clock: {'running (messages move along their lifecycle meanwhile)' if args.running else 'frozen'}")
        base = f"http://127.0.0.1:{port}"
        try:
            if shutil.which("wrk"):
                sends, how = bench_send_wrk(base, args.seconds), "wrk, 32 connections"
            else:
                sends, how = bench_send_python(base, args.seconds), "Python client, 8 threads"
            print(f"send: {sends:,.0f} requests/s ({how}, {args.seconds} s)")
            if shutil.which("wrk"):
                rate = bench_mult_wrk(base, args.seconds)
                print(f"mult: {rate:,.0f} messages/s (wrk, 4 connections, 1000 numbers a request)")
            batches = max(1, args.messages // 1000)
            rate = bench_mult(base, batches)
            print(f"mult: {rate:,.0f} messages/s (Python client: {batches} requests of 1000 numbers)")
            started = time.perf_counter()  # messages nobody listens to settle when read: the cost lands here
            httpx.post(f"{base}/_emulator/clock", json={"advance": 0}, timeout=600)
            print(f"settling every unobserved message due after the burst (a clock move, right after it): "
                  f"{time.perf_counter() - started:.2f} s")
            stored = httpx.get(f"{base}/_emulator/accounts").json()
            print(f"peak RSS with {batches * 1000:,} + sends messages stored: {peak_rss_mb(process.pid):,.0f} MB")
            print(f"database: {os.path.getsize(Path(tmp) / 'bench.sqlite3') / 1e6:,.0f} MB on disk; "
                  f"{len(stored)} accounts")
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
