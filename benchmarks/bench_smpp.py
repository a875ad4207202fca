"""submit_sm per second on one SMPP transceiver bind with a window of 10, against a running emulator.

    .venv/bin/python benchmarks/bench_smpp.py [--messages 20000] [--window 10] [--receipts] [--frozen]
                                              [--parts N] [--max-rate N] [--keep]
    .venv/bin/python benchmarks/bench_smpp.py --peer [--rounds 3] [--messages 100000]

Starts `smsconform emulator --port <free> --smpp-port <free> --db <tmp file>` in a subprocess (state on
disk, as a user runs it), binds one transceiver with the demo account, sends a warm-up of 500, then
`--messages` submit_sm (GSM 03.38, distinct valid numbers) keeping `--window` requests outstanding, and
prints submit_sm per second, response latencies and the emulator's peak RSS (VmHWM). The ESME is a small
asyncio client on the project's own PDU codec (smpplib is synchronous: one request at a time).
`--receipts` asks for a delivery receipt on every message, acknowledges the deliver_sm as they come and
waits (up to 60 s) for all of them (the clock runs, so messages move through their lifecycle in the same
process, DELIVRD 8 s of clock after submission);
`--parts N` sends each message as N UDH parts (GSM, 153 septets each), every part asking for its receipt
when `--receipts` is given (SMPP 3.4 § 5.2.17: each part gets its own), so N receipts per message;
submit_sm/s then counts parts.
`--frozen` measures intake alone.
`--peer` measures the same ESME, side by side in one run, against npm `smpp` (node-smpp, the interop
tests' pinned version, installed from interop/node/'s lockfile when missing) as a minimal SMSC that answers
submit_sm_resp and nothing else, then against the emulator (clock running, registered_delivery 0, a fresh
file each round), `--rounds` times, and prints the emulator's rate as a ratio of the peer's (issue 15:
>= 0.6 sustained over >= 100,000 submits) and each side's rate over the first and the last fifth of the
submits (a rate that falls as messages pile up shows there). The emulator's per-bind throttle is lifted
for it (max_rate 10^9), since the peer has none. Target (issue 5): at least 2,000 submit_sm/s. Every response must be
ESME_ROK (or ESME_RTHROTTLED, counted apart: the server throttles each bind above its max_rate, 5,000/s
by default), or the run fails.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from smsconform.contracts import load_contracts
from smsconform.emulator.smpp import pdu as p
from smsconform.emulator.smpp.server import DEFAULT_MAX_RATE, MAX_RATE_ENV
from _emulator import free_port, command, peak_rss_mb, wait_ready, stop  # noqa: E402 (benchmarks/ is on sys.path)
from _node import ensure_npm_smpp, start_smsc, stop_smsc  # noqa: E402

TARGET = 2_000
EMULATOR_PID: int | None = None
"""The emulator subprocess, whose CPU time the run reads (a figure the other processes of a shared machine
disturb far less than the wall-clock rate)."""


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process (Linux /proc/<pid>/stat), in seconds; 0 when unknown."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
DDDS = ("11", "21", "31", "41", "51", "61", "71", "81", "91")


class Esme:
    """An asyncio ESME: requests go out while responses come back; at most `window` outstanding."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, window: int) -> None:
        self.reader, self.writer = reader, writer
        self.window = asyncio.Semaphore(window)
        self.pending: dict[int, tuple[asyncio.Future[p.Pdu], float]] = {}
        self.latencies: list[float] = []
        self.answered: list[float] = []  # perf_counter of each response, in arrival order
        self.receipts = 0
        self.seq = 0
        self.frames = p.FrameReader()
        self.reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            data = await self.reader.read(65536)
            if not data:
                for future, _ in self.pending.values():
                    if not future.done():
                        future.set_exception(ConnectionError("the SMSC closed the connection"))
                return
            for frame in self.frames.feed(data):
                pdu = p.decode(frame)
                if pdu.command_id == p.CommandId.DELIVER_SM:
                    self.receipts += 1
                    self.writer.write(p.encode(pdu.response()))
                    continue
                entry = self.pending.pop(pdu.sequence_number, None)
                if entry is not None:
                    future, sent = entry
                    now = time.perf_counter()
                    self.latencies.append(now - sent)
                    self.answered.append(now)
                    future.set_result(pdu)
                    self.window.release()

    async def request(self, pdu: p.Pdu) -> p.Pdu:
        await self.window.acquire()
        self.seq += 1
        pdu.sequence_number = self.seq
        future: asyncio.Future[p.Pdu] = asyncio.get_running_loop().create_future()
        self.pending[self.seq] = (future, time.perf_counter())
        self.writer.write(p.encode(pdu))
        return await future


def submit_pdus(index: int, registered_delivery: int, parts: int = 1) -> list[p.Pdu]:
    """One message's submit_sm: a single one, or ``parts`` UDH parts each with registered_delivery."""
    number = f"55{DDDS[index % len(DDDS)]}98{index % 10_000_000:07d}"
    text = f"Mensagem {index} do benchmark SMPP"
    pieces = [p.encode_text(text, 0)] if parts == 1 else p.split_text(text.ljust(153 * parts - 1, "."), 0, index % 256)
    return [p.make("submit_sm", source_addr_ton=1, source_addr_npi=1, source_addr="5511930000000",
                   dest_addr_ton=1, dest_addr_npi=1, destination_addr=number, data_coding=0,
                   esm_class=0 if parts == 1 else p.ESM_UDHI, registered_delivery=registered_delivery,
                   short_message=piece) for piece in pieces]


async def run(port: int, messages: int, window: int, receipts: bool, parts: int = 1) -> tuple[float, Esme, list[int]]:
    account = load_contracts().emulator_profile["accounts"]["main"]
    system_type = load_contracts().smpp["system_type"]["value"]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    esme = Esme(reader, writer, window)
    bound = await esme.request(p.make("bind_transceiver", system_id=account["integration_user"],
                                      password=account["password"], system_type=system_type,
                                      interface_version=p.SMPP_VERSION_34))
    if bound.command_status:
        raise SystemExit(f"bind refused: 0x{bound.command_status:08X}")
    rd = 1 if receipts else 0
    warm_up = max(1, 500 // parts)
    in_flight = asyncio.Semaphore(window)  # messages under way: their parts follow one another, as an ESME
    # sends them (one semaphore for requests alone would start every message's part 1 before any part 2)

    async def message(i: int) -> list[int]:
        async with in_flight:
            return [(await esme.request(pdu)).command_status for pdu in submit_pdus(i, rd, parts)]

    await asyncio.gather(*(message(i) for i in range(warm_up)))  # warm-up, not timed
    esme.latencies.clear()
    esme.answered.clear()
    statuses: list[int] = []

    async def one(i: int) -> None:
        statuses.extend(await message(warm_up + i))

    started, cpu_started = time.perf_counter(), cpu_seconds(EMULATOR_PID)
    await asyncio.gather(*(one(i) for i in range(messages // parts)))
    elapsed = time.perf_counter() - started
    esme.cpu_intake = cpu_seconds(EMULATOR_PID) - cpu_started  # type: ignore[attr-defined]
    if receipts:  # the lifecycle takes 8 s of clock to DELIVRD (contracts/emulator/lifecycle.yaml)
        expected = warm_up * parts + statuses.count(0)
        deadline = time.perf_counter() + 60
        while esme.receipts < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        esme.receipts_done = time.perf_counter() - started  # type: ignore[attr-defined]
        esme.cpu_receipts = cpu_seconds(EMULATOR_PID) - cpu_started  # type: ignore[attr-defined]
        esme.receipts_expected = expected  # type: ignore[attr-defined]
    await esme.request(p.make("unbind"))
    writer.close()
    return elapsed, esme, statuses


def fifths(esme: Esme, started: float) -> tuple[float, float]:
    """Responses per second over the first and the last fifth of the timed responses."""
    times = esme.answered
    fifth = max(1, len(times) // 5)
    first = fifth / max(1e-9, times[fifth - 1] - started)
    last = fifth / max(1e-9, times[-1] - times[-fifth - 1])
    return first, last


def peer_round(messages: int, window: int) -> tuple[float, float, float, float]:
    """One round against the npm smpp SMSC, then the emulator: (peer rate, emulator rate, peer last fifth,
    emulator last fifth), each submit_sm/s."""
    global EMULATOR_PID
    smsc = start_smsc(free_port())
    try:
        port = int(smsc.args[-1])  # type: ignore[index]
        EMULATOR_PID = None
        elapsed, esme, statuses = asyncio.run(run(port, messages, window, False))
        if any(statuses):
            raise SystemExit(f"the npm smpp SMSC answered a status other than ESME_ROK: 0x{max(statuses):08X}")
        peer = len(statuses) / elapsed
        peer_first, peer_last = fifths(esme, esme.answered[0] - esme.latencies[0])
    finally:
        stop_smsc(smsc)
    workdir = Path(tempfile.mkdtemp(prefix="smsconform-bench-"))
    port, smpp_port = free_port(), free_port()
    proc = subprocess.Popen([*command(), "emulator", "--port", str(port), "--smpp-port", str(smpp_port),
                             "--db", str(workdir / "bench.sqlite3")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, MAX_RATE_ENV: "1e9"})
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc, timeout=120)  # loading contracts takes ~20 s under load
        EMULATOR_PID = proc.pid
        elapsed, esme, statuses = asyncio.run(run(smpp_port, messages, window, False))
        failed = [s for s in statuses if s]
        if failed:
            raise SystemExit(f"{len(failed)} emulator responses were not ESME_ROK (first 0x{failed[0]:08X})")
        emulator = len(statuses) / elapsed
        emu_first, emu_last = fifths(esme, esme.answered[0] - esme.latencies[0])
        lat = sorted(esme.latencies)
        print(f"  npm smpp {peer:8,.0f}/s (first fifth {peer_first:,.0f}, last {peer_last:,.0f})   emulator "
              f"{emulator:8,.0f}/s (first fifth {emu_first:,.0f}, last {emu_last:,.0f}; p99 "
              f"{lat[max(0, int(len(lat) * 0.99) - 1)] * 1000:.1f} ms, CPU "
              f"{esme.cpu_intake * 1e6 / max(1, len(statuses)):,.0f} µs/submit_sm, peak RSS "  # type: ignore[attr-defined]
              f"{peak_rss_mb(proc.pid):.0f} MiB)   ratio {emulator / peer:.2f}", flush=True)
        return peer, emulator, peer_last, emu_last
    finally:
        stop(proc, workdir, False)


def compare(messages: int, window: int, rounds: int) -> int:
    """--peer: the emulator's sustained rate as a ratio of npm smpp's minimal SMSC, in one run."""
    ensure_npm_smpp()
    print(f"submit_sm on one transceiver bind, window {window}, {messages:,} timed submits a side, "
          f"registered_delivery 0, {rounds} rounds (npm smpp first, then the emulator, clock running)")
    results = [peer_round(messages, window) for _ in range(rounds)]
    ratios = sorted(e / p for p, e, _, _ in results)
    last = sorted(el / pl for _, _, pl, el in results)
    target = 0.6
    print(f"ratio emulator / npm smpp: min {ratios[0]:.2f}, median {statistics.median(ratios):.2f}, max "
          f"{ratios[-1]:.2f} (target {target}: {'met' if statistics.median(ratios) >= target else 'NOT met'}"
          f" at the median); over the last fifth: min {last[0]:.2f}, median {statistics.median(last):.2f}, "
          f"max {last[-1]:.2f}")
    return 0 if statistics.median(ratios) >= target else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="timed submit_sm (default 20,000)")
    parser.add_argument("--window", type=int, default=10, help="outstanding requests (default 10)")
    parser.add_argument("--receipts", action="store_true", help="registered_delivery=1 on every message")
    parser.add_argument("--frozen", action="store_true", help="freeze the clock: intake alone, no lifecycle")
    parser.add_argument("--parts", type=int, default=1, help="UDH parts per message (default 1)")
    parser.add_argument("--max-rate", type=float, help="the server's per-bind throttle, submit_sm/s "
                        f"(default: the emulator's, {DEFAULT_MAX_RATE:,.0f}; set through {MAX_RATE_ENV})")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and print its path")
    parser.add_argument("--peer", action="store_true", help="side by side with npm smpp's minimal SMSC")
    parser.add_argument("--rounds", type=int, default=3, help="--peer rounds (default 3)")
    args = parser.parse_args()
    if args.peer:
        return compare(args.messages, args.window, args.rounds)
    env = dict(os.environ)
    if args.max_rate:
        env[MAX_RATE_ENV] = str(args.max_rate)

    workdir = Path(tempfile.mkdtemp(prefix="smsconform-bench-"))
    port, smpp_port = free_port(), free_port()
    proc = subprocess.Popen([*command(), "emulator", "--port", str(port), "--smpp-port", str(smpp_port),
                             "--db", str(workdir / "bench.sqlite3"), *(["--frozen"] if args.frozen else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        global EMULATOR_PID
        EMULATOR_PID = proc.pid
        elapsed, esme, statuses = asyncio.run(run(smpp_port, args.messages, args.window, args.receipts, args.parts))
        throttled = statuses.count(p.Status.ESME_RTHROTTLED)
        failed = [s for s in statuses if s and s != p.Status.ESME_RTHROTTLED]
        sent = len(statuses)
        rate = (sent - throttled) / elapsed
        lat = sorted(esme.latencies)
        print(f"submit_sm: {sent:,} on one transceiver bind, window {args.window}, in {elapsed:.2f} s, "
              f"clock {'frozen' if args.frozen else 'running'}, receipts {'on' if args.receipts else 'off'}"
              + (f", {args.parts} parts per message" if args.parts > 1 else ""))
        print(f"  {rate:,.0f} submit_sm/s accepted (target {TARGET:,}: {'met' if rate >= TARGET else 'NOT met'})")
        if throttled:
            print(f"  {throttled:,} answered ESME_RTHROTTLED: above the server's per-bind max_rate "
                  f"({sent / elapsed:,.0f} responses/s in all)")
        print(f"  response latency: median {statistics.median(lat) * 1000:.2f} ms, "
              f"p99 {lat[max(0, int(len(lat) * 0.99) - 1)] * 1000:.2f} ms, max {lat[-1] * 1000:.2f} ms")
        print(f"  emulator CPU: {esme.cpu_intake * 1e6 / max(1, sent):,.0f} µs per submit_sm taken in")  # type: ignore[attr-defined]
        if args.receipts:
            print(f"  receipts: {esme.receipts:,} of {esme.receipts_expected:,} deliver_sm received and "  # type: ignore[attr-defined]
                  f"acknowledged {esme.receipts_done:.1f} s after the first timed submit_sm; emulator CPU "  # type: ignore[attr-defined]
                  f"{esme.cpu_receipts * 1e6 / max(1, sent):,.0f} µs per submit_sm with its receipt")  # type: ignore[attr-defined]
            if esme.receipts < esme.receipts_expected:  # type: ignore[attr-defined]
                return 1
        print(f"  emulator peak RSS: {peak_rss_mb(proc.pid):.0f} MiB")
        if failed:
            print(f"  {len(failed)} responses were not ESME_ROK (first 0x{failed[0]:08X})")
            return 1
        return 0 if rate >= TARGET else 1
    finally:
        stop(proc, workdir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
