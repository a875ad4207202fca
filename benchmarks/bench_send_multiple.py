"""Messages per second through speedmarket send-multiple batches of 5000, against a running emulator.

    .venv/bin/python benchmarks/bench_send_multiple.py [--batches 40] [--clients 1] [--keep]

Starts `smsconform emulator --port <free> --db <tmp file> --smpp-port 0` in a subprocess (state on disk,
as a user runs it), waits for /_emulator/health, sends a warm-up batch, then `--batches` batches of 5000
messages (distinct valid numbers, one campaign_id each) from `--clients` keep-alive HTTP clients, and
prints messages per second, batch latencies and the emulator's peak RSS (VmHWM). With a running clock
(the default, as a user runs it) the messages' lifecycle is due meanwhile; as nobody listens to them, the
emulator settles it when they are read, so the script also times settling all of it at once;
`--frozen` measures intake alone. Target (issue 4): at
least 100,000 messages/s. Every batch must answer 001 with 5000 accepted, or the run fails.
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _emulator import free_port, command, peak_rss_mb, wait_ready, stop  # noqa: E402 (benchmarks/ is on sys.path)

BATCH = 5000
DDDS = ("11", "21", "31", "41", "51", "61", "71", "81", "91")
TARGET = 100_000


def batch_body(seed: int) -> bytes:
    """5000 distinct, valid mobiles (DDD + 9 + 8 digits, avoiding the profile's reserved 1199000xxxx)."""
    messages = []
    for i in range(BATCH):
        n = seed * BATCH + i
        messages.append({"number": f"{DDDS[n % len(DDDS)]}98{n % 10_000_000:07d}",
                         "content": "Mensagem de teste do benchmark", "campaign_id": f"b{seed}-{i}"})
    return json.dumps({"defaultValues": {"type": 0}, "messages": messages}).encode()


def send(client: httpx.Client, body: bytes) -> float:
    started = time.perf_counter()
    response = client.post("/webservice-rest/send-multiple", content=body, auth=("demo", "demo123"),
                           headers={"Content-Type": "application/json", "Accept": "application/json"})
    took = time.perf_counter() - started
    answer = response.json()
    if answer.get("responseCode") != "001" or answer.get("totalSuccess") != str(BATCH):
        raise SystemExit(f"batch refused: {str(answer)[:300]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="timed batches of 5000 (default 40 = 200,000 messages)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent keep-alive clients (default 1)")
    parser.add_argument("--frozen", action="store_true",
                        help="freeze the emulator's clock: measure intake alone, without the status lifecycle")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and print its path")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="smsconform-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*command(), "emulator", "--port", str(port), "--db", str(workdir / "bench.sqlite3"),
                             "--smpp-port", "0", *(["--frozen"] if args.frozen else [])], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(base, proc)
        bodies = [batch_body(i) for i in range(args.batches + 1)]
        with httpx.Client(base_url=base, timeout=120, trust_env=False) as warm:
            send(warm, bodies[0])                                        # warm-up, not timed
        latencies: list[float] = []
        queue = list(range(1, args.batches + 1))
        lock = threading.Lock()

        def worker() -> None:
            with httpx.Client(base_url=base, timeout=120, trust_env=False) as client:
                while True:
                    with lock:
                        if not queue:
                            return
                        index = queue.pop()
                    took = send(client, bodies[index])
                    with lock:
                        latencies.append(took)

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        if len(latencies) != args.batches:
            raise SystemExit("some batches failed")
        messages = args.batches * BATCH
        rate = messages / elapsed
        latencies.sort()
        print(f"send-multiple: {args.batches} batches x {BATCH} = {messages:,} messages in {elapsed:.2f} s "
              f"with {args.clients} client(s), clock {'frozen' if args.frozen else 'running'}")
        print(f"  {rate:,.0f} messages/s (target {TARGET:,}: {'met' if rate >= TARGET else 'NOT met'})")
        print(f"  batch latency: median {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
        started = time.perf_counter()  # messages nobody listens to settle when read: the cost lands here
        httpx.post(f"{base}/_emulator/clock", json={"advance": 0}, timeout=600, trust_env=False)
        print(f"  settling every unobserved message due after the burst (a clock move, right after it): "
              f"{time.perf_counter() - started:.2f} s")
        print(f"  emulator peak RSS: {peak_rss_mb(proc.pid):.0f} MiB ({messages + BATCH:,} messages stored)")
        return 0 if rate >= TARGET else 1
    finally:
        stop(proc, workdir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
