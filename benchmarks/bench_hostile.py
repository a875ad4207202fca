"""Slow and idle clients against the emulator's HTTP port: how long they are held, and whether normal
requests are still served meanwhile.

    .venv/bin/python benchmarks/bench_hostile.py [--slowloris 300] [--idle 2000] [--crowd 1100]
                                                 [--nofile 1024] [--normal 200] [--max-connections N]
                                                 [--keep]

Starts `smsconform emulator --port <free> --smpp-port 0 --db <tmp file>` in a subprocess whose
descriptor limit is `--nofile` (RLIMIT_NOFILE, as `ulimit -n`), times `--normal` normal requests with no
hostile load (the ceiling), then runs three loads, one after the other:

1. slowloris: `--slowloris` connections each send a request line and then one header line a second,
   never ending the headers; prints after how long the emulator closed them (and whether it said 408);
2. idle: `--idle` connections opened and left silent; prints after how long they were closed;
3. crowd: `--crowd` idle connections held open (more than the descriptor limit allows), then `--normal`
   normal requests (`GET /sms/crdtf`, a new connection each, as a client without a pool does), one after
   the other; prints their latency (median, 95th percentile, max) and how many failed.

The emulator's bounds (bounded_http.py, at their defaults here): a request must arrive whole within 10 s,
a kept-alive connection silent for 30 s after its last answer is closed (`--idle-timeout`), and a new
connection over the cap (the descriptor limit less 100) closes the longest-waiting idle one;
`--max-connections` sets that cap instead (a cap above `--nofile` shows what the crowd does without one).
The run fails if a normal request fails or a hostile connection is still open after 30 s.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _emulator import command, free_port, stop, wait_ready  # noqa: E402 (benchmarks/ is on sys.path)

HOLD_LIMIT = 30.0   # a hostile connection still open after this long fails the run


async def _closed_after(reader: asyncio.StreamReader, started: float, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection (and what it said first), or ``limit`` if it never did."""
    said = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(1024), timeout=max(0.01, limit - (time.monotonic() - started)))
            if not chunk:
                return time.monotonic() - started, said
            said += chunk
    except asyncio.TimeoutError:
        return limit, said
    except ConnectionError:   # reset by the server: closed too
        return time.monotonic() - started, said


async def _slowloris_one(port: int, limit: float) -> tuple[float, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(b"GET /sms/crdtf?u=d642dfa0 HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    async def trickle() -> None:
        n = 0
        try:
            while True:
                await asyncio.sleep(1.0)
                n += 1
                writer.write(b"X-Slow-%d: a\r\n" % n)
                await writer.drain()
        except (ConnectionError, RuntimeError):
            return

    task = asyncio.create_task(trickle())
    result = await _closed_after(reader, started, limit)
    task.cancel()
    writer.close()
    return result


async def _idle_one(port: int, limit: float) -> tuple[float, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    result = await _closed_after(reader, time.monotonic(), limit)
    writer.close()
    return result


def _report(name: str, results: list[tuple[float, bytes]], limit: float) -> bool:
    times = sorted(t for t, _ in results)
    held = sum(1 for t in times if t >= limit)
    told = sum(1 for _, said in results if said.startswith(b"HTTP/1.1 408"))
    print(f"  {name}: {len(results)} connections closed after min {times[0]:.2f} s, median "
          f"{statistics.median(times):.2f} s, max {times[-1]:.2f} s; {told} told 408; "
          f"{held} still open after {limit:.0f} s")
    return held == 0


async def _hold(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            break
        writers.append(writer)
    return writers


def _normal_requests(port: int, count: int) -> tuple[list[float], int]:
    """A new connection each (http.client: light, so the latency is the emulator's, not the client's)."""
    latencies, failures = [], 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10.0)
            conn.request("GET", "/sms/crdtf?u=d642dfa0")
            ok = conn.getresponse().read().startswith(b"1;")
            conn.close()
        except OSError:
            ok = False
        latencies.append(time.perf_counter() - started)
        failures += not ok
    return latencies, failures


def _latency(latencies: list[float], failures: int) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    return (f"{len(ms)} normal requests: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
            f"max {ms[-1]:.1f} ms; {failures} failed")


async def _quiet(port: int, normal: int) -> bool:
    """The ceiling: the same normal requests with no hostile load."""
    latencies, failures = await asyncio.to_thread(_normal_requests, port, normal)
    print(f"  quiet: {_latency(latencies, failures)}")
    return failures == 0


async def _crowd(base: str, port: int, crowd: int, normal: int) -> bool:
    writers = await _hold(port, crowd)
    await asyncio.sleep(0.5)
    latencies, failures = await asyncio.to_thread(_normal_requests, port, normal)
    print(f"  crowd: {len(writers)} idle connections held; {_latency(latencies, failures)}")
    for writer in writers:
        writer.close()
    return failures == 0


async def _run(args: argparse.Namespace, base: str, port: int) -> bool:
    print(f"no hostile load ({args.normal} normal requests):")
    ok = await _quiet(port, args.normal)
    print(f"slowloris ({args.slowloris} connections, one header line a second):")
    ok &= _report("slowloris", await asyncio.gather(*(_slowloris_one(port, HOLD_LIMIT)
                                                      for _ in range(args.slowloris))), HOLD_LIMIT)
    print(f"idle ({args.idle} silent connections):")
    ok &= _report("idle", await asyncio.gather(*(_idle_one(port, HOLD_LIMIT) for _ in range(args.idle))), HOLD_LIMIT)
    print(f"crowd ({args.crowd} idle connections at nofile {args.nofile}, then {args.normal} normal requests):")
    ok &= await _crowd(base, port, args.crowd, args.normal)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slowloris", type=int, default=300)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--crowd", type=int, default=1100)
    parser.add_argument("--nofile", type=int, default=1024, help="the emulator's descriptor limit")
    parser.add_argument("--normal", type=int, default=200)
    parser.add_argument("--max-connections", type=int, help="the emulator's connection cap (default: its own)")
    parser.add_argument("--keep", action="store_true", help="keep the emulator's state directory")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(args.idle, args.crowd, args.slowloris) + 200
    if soft < want:   # this client needs more descriptors than the emulator is given
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))

    workdir = Path(tempfile.mkdtemp(prefix="smsconform-bench-hostile-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*command(), "emulator", "--port", str(port), "--smpp-port", "0", "--db",
                             str(workdir / "emulator.sqlite3"), "--frozen",
                             *(["--max-connections", str(args.max_connections)] if args.max_connections else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limited)
    try:
        wait_ready(base, proc)
        ok = asyncio.run(_run(args, base, port))
    finally:
        stop(proc, workdir, args.keep)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
