"""Millions of stored messages and a clock move of a day: how long a status read waits while the emulator
settles them, side by side with the same read on the idle emulator before the move (the ceiling), how
large the write-ahead log grows and what it shrinks back to, and the process's peak memory.

An emulator process with its own SQLite file and a frozen clock is filled through mult (1000 numbers a
request); then one thread moves the clock a day while another reads one message's status through mensagem
`cacl` every 20 ms until everything is settled.

    python benchmarks/bench_scale.py [--messages 5000000]
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from _emulator import command, free_port, peak_rss_mb, stop, wait_ready

U = "d642dfa0"


def fill(base: str, messages: int) -> tuple[float, str]:
    batches = messages // 1000
    first: list[str] = []

    def worker(chunk: range) -> None:
        with httpx.Client(base_url=base, timeout=300, trust_env=False) as client:
            for batch in chunk:
                numbers = ";".join(f"11{9 if batch % 2 else 8}{(batch * 1000 + i) % 10**8:08d}" for i in range(1000))
                answer = client.get("/sms/mult", params={"u": U, "n": numbers, "m": "escala"}).text
                if not first:
                    first.append(answer.split("\n")[0].split(";")[1])

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, [range(i, batches, 4) for i in range(4)]))
    return messages / (time.perf_counter() - started), first[0]


def reads(client: httpx.Client, protocol: str, until: threading.Event, every: float = 0.02) -> list[float]:
    samples = []
    while not until.is_set():
        started = time.perf_counter()
        assert client.get("/sms/cacl", params={"u": U, "h": protocol}).status_code == 200
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(every)
    return samples


def describe(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{name:<34} reads {len(samples):>5}  median {statistics.median(samples):7.1f} ms"
            f"  p99 {p99:7.1f} ms  max {ordered[-1]:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="smsconform-bench-scale-"))
    db, port = work / "emulator.sqlite3", free_port()
    wal = Path(f"{db}-wal")
    proc = subprocess.Popen([*command(), "emulator", "--db", str(db), "--port", str(port), "--smpp-port", "0",
                             "--frozen"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        rate, protocol = fill(base, args.messages)
        print(f"stored {args.messages:,} messages through mult ({rate:,.0f} msgs/s); WAL {wal.stat().st_size / 2**20:.0f} MiB")
        with httpx.Client(base_url=base, timeout=300, trust_env=False) as client:
            idle = threading.Event()
            threading.Timer(3.0, idle.set).start()
            ceiling = reads(client, protocol, idle)
            moved, wal_peak = threading.Event(), [0]
            sampler_done = threading.Event()

            def sample_wal() -> None:
                while not sampler_done.is_set():
                    wal_peak[0] = max(wal_peak[0], wal.stat().st_size if wal.exists() else 0)
                    time.sleep(0.05)

            def move() -> None:
                started = time.perf_counter()
                with httpx.Client(base_url=base, timeout=600, trust_env=False) as mover:
                    mover.post("/_emulator/clock", json={"advance": 86400}).raise_for_status()
                print(f"the clock move of a day answered in {time.perf_counter() - started:.2f} s")
                raw = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                while raw.execute("SELECT count(*) FROM submissions WHERE due_at IS NOT NULL").fetchone()[0]:
                    time.sleep(0.1)
                print(f"every message settled {time.perf_counter() - started:.2f} s after the move")
                moved.set()

            threading.Thread(target=sample_wal, daemon=True).start()
            mover = threading.Thread(target=move)
            mover.start()
            during = reads(client, protocol, moved)
            mover.join()
            sampler_done.set()
        time.sleep(1.5)
        print(describe("ceiling: idle, before the move", ceiling))
        print(describe("during the settling of the move", during))
        print(f"WAL: peak {wal_peak[0] / 2**20:.0f} MiB, now {wal.stat().st_size / 2**20:.0f} MiB;"
              f" database {db.stat().st_size / 2**20:.0f} MiB")
        print(f"emulator peak RSS: {peak_rss_mb(proc.pid):.0f} MiB")
    finally:
        stop(proc, work, keep=False)


if __name__ == "__main__":
    main()
