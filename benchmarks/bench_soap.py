"""wbsapi sendUnique (or ServiceSms SendSMS) calls per second (SOAP 1.1 over HTTP/1.1 keep-alive), against
a running emulator.

    .venv/bin/python benchmarks/bench_soap.py [--calls 20000] [--connections 8] [--soap12] [--zeep N]
                                              [--frozen] [--keep] [--service wbsapi|servicesms]

`--service servicesms` sends painel's ServiceSms.asmx SendSMS (one destination, a campaign each) instead.

Starts `smsconform emulator --port <free> --db <tmp file> --smpp-port 0` in a subprocess (state on disk,
as a user runs it), sends a warm-up of 200 calls, then `--calls` sendUnique envelopes from `--connections`
keep-alive connections of a small asyncio HTTP client (so the client does not hide the server's rate),
and prints calls per second, latencies and the emulator's peak RSS. Every answer must be HTTP 200 with a
`1;<md5>` sendUniqueResult, or the run fails. `--zeep N` also times N calls through zeep, built from the
served WSDL, as a client application would make them (zeep's own cost included). No target is set by the
issue; the mensagem API's single-send target (5,000/s, issue 3) is printed for comparison.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _emulator import free_port, command, peak_rss_mb, wait_ready, stop  # noqa: E402 (benchmarks/ is on sys.path)

COMPARE = 5_000
DDDS = ("11", "21", "31", "41", "51", "61", "71", "81", "91")
RESULT = re.compile(rb"<sendUniqueResult>1;[0-9a-f]{32}</sendUniqueResult>")
# The two SOAP services: path, operation, the operation element's content for a number and a text, the answer.
SERVICES = {
    "wbsapi": ("/wbsapi.asmx", "sendUnique",
               lambda number, text: f"<Identificacao>d642dfa0</Identificacao><Telefone>{number}</Telefone>"
                                    f"<Mensagem>{text}</Mensagem><TipoMensagem>0</TipoMensagem>", RESULT),
    "servicesms": ("/painel/ServiceSms.asmx", "SendSMS",
                   lambda number, text: f"<User>demo</User><Pwd>demo123</Pwd><SmsMessage><Subject>bench</Subject>"
                                        f"<Msg>{text}</Msg><Destinations><Destination><Number>{number}</Number>"
                                        "</Destination></Destinations></SmsMessage>",
                   re.compile(rb"<SendSMSResult>[1-9][0-9]*:SUCESSO</SendSMSResult>")),
}
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


def request(port: int, index: int, soap12: bool, service: str = "wbsapi") -> bytes:
    path, operation, content, _ = SERVICES[service]
    number = f"{DDDS[index % len(DDDS)]}98{index % 10_000_000:07d}"
    body = (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12 if soap12 else SOAP11}">'
            f'<soap:Body><{operation} xmlns="http://tempuri.org/">'
            f"{content(number, f'Mensagem {index} do benchmark SOAP')}</{operation}></soap:Body></soap:Envelope>").encode()
    if soap12:
        headers = f'Content-Type: application/soap+xml; charset=utf-8; action="http://tempuri.org/{operation}"\r\n'
    else:
        headers = f'Content-Type: text/xml; charset=utf-8\r\nSOAPAction: "http://tempuri.org/{operation}"\r\n'
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def connection(port: int, jobs: list[bytes], latencies: list[float], failures: list[bytes],
                     result: re.Pattern[bytes] = RESULT) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while jobs:
            payload = jobs.pop()
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200") or not result.search(body):
                failures.append(head[:40] + body[-300:])
    finally:
        writer.close()


async def run(port: int, calls: int, connections: int, soap12: bool, offset: int,
              service: str = "wbsapi") -> tuple[float, list[float], list[bytes]]:
    jobs = [request(port, offset + i, soap12, service) for i in range(calls)]
    latencies: list[float] = []
    failures: list[bytes] = []
    result = SERVICES[service][3]
    started = time.perf_counter()
    await asyncio.gather(*(connection(port, jobs, latencies, failures, result) for _ in range(connections)))
    return time.perf_counter() - started, latencies, failures


def bench_zeep(base: str, calls: int, name: str = "wbsapi") -> float:
    import requests
    import zeep
    from zeep.transports import Transport

    session = requests.Session()
    session.trust_env = False
    service = zeep.Client(f"{base}{SERVICES[name][0]}?WSDL", transport=Transport(session=session)).service
    started = time.perf_counter()
    for i in range(calls):
        if name == "servicesms":
            answer = service.SendSMS(User="demo", Pwd="demo123", SmsMessage={
                "Subject": "zeep", "Msg": "zeep", "Destinations": {"Destination": [{"Number": f"1198{i:07d}"}]}})
        else:
            answer = service.sendUnique(Identificacao="d642dfa0", Telefone=f"1198{i:07d}", Mensagem="zeep")
        if not SERVICES[name][3].search(f"<{SERVICES[name][1]}Result>{answer}</{SERVICES[name][1]}Result>".encode()):
            raise SystemExit(f"zeep call refused: {answer}")
    return calls / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="timed sendUnique calls (default 20,000)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--soap12", action="store_true", help="SOAP 1.2 envelopes instead of 1.1")
    parser.add_argument("--zeep", type=int, default=0, metavar="N", help="also time N calls through zeep")
    parser.add_argument("--frozen", action="store_true", help="freeze the clock: intake alone, no lifecycle")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and print its path")
    parser.add_argument("--service", choices=sorted(SERVICES), default="wbsapi",
                        help="wbsapi sendUnique (default) or servicesms SendSMS")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="smsconform-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*command(), "emulator", "--port", str(port), "--smpp-port", "0",
                             "--db", str(workdir / "bench.sqlite3"), *(["--frozen"] if args.frozen else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(base, proc)
        asyncio.run(run(port, 200, args.connections, args.soap12, 0, args.service))  # warm-up, not timed
        elapsed, latencies, failures = asyncio.run(run(port, args.calls, args.connections, args.soap12, 200,
                                                       args.service))
        rate = args.calls / elapsed
        latencies.sort()
        print(f"{SERVICES[args.service][1]} (SOAP {'1.2' if args.soap12 else '1.1'}): {args.calls:,} calls on {args.connections} "
              f"keep-alive connections in {elapsed:.2f} s, clock {'frozen' if args.frozen else 'running'}")
        print(f"  {rate:,.0f} calls/s (the mensagem send target, for comparison: {COMPARE:,}/s)")
        print(f"  latency: median {statistics.median(latencies) * 1000:.2f} ms, "
              f"p99 {latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000:.2f} ms, max {latencies[-1] * 1000:.2f} ms")
        if args.zeep:
            print(f"  through zeep (one client, its own cost included): "
                  f"{bench_zeep(base, args.zeep, args.service):,.0f} calls/s")
        print(f"  emulator peak RSS: {peak_rss_mb(proc.pid):.0f} MiB")
        if failures:
            print(f"  {len(failures)} calls failed; first: {failures[0]!r}")
            return 1
        return 0
    finally:
        stop(proc, workdir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
