"""The web console with a million messages stored: how long the control API takes to answer the pages the
console asks for (newest first, by number, by text, by status, the next page, one message in full), side
by side with a ceiling: the same page read straight from the SQLite file by sqlite3, with no HTTP and no
emulator in between. An emulator process with its own file is started and filled through mult.

    python benchmarks/bench_console.py [--messages 1000000] [--rounds 15]
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from _emulator import command, free_port, stop, wait_ready

U = "d642dfa0"


def fill(base: str, messages: int) -> float:
    batches = messages // 1000

    def worker(chunk: range) -> None:
        with httpx.Client(base_url=base, timeout=120, trust_env=False) as client:
            for batch in chunk:
                numbers = ";".join(f"11{9 if batch % 2 else 8}{(batch * 1000 + i) % 10**8:08d}" for i in range(1000))
                assert client.get("/sms/mult", params={"u": U, "n": numbers, "m": f"lote {batch}"}).status_code == 200

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, [range(i, batches, 4) for i in range(4)]))
    return messages / (time.perf_counter() - started)


def timed(fn, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="smsconform-bench-console-"))
    db, port = work / "emulator.sqlite3", free_port()
    proc = subprocess.Popen([*command(), "emulator", "--db", str(db), "--port", str(port), "--smpp-port", "0",
                             "--frozen"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        rate = fill(base, args.messages)
        print(f"stored {args.messages:,} messages through mult ({rate:,.0f} msgs/s)")
        raw = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        with httpx.Client(base_url=base, timeout=60, trust_env=False) as client:
            newest = client.get("/_emulator/messages/page").json()
            some = newest["items"][0]
            pages = {
                "newest page": {},
                "next page": {"before": newest["next_before"]},
                "by number": {"number": some["number"]},
                "by text": {"text": "lote 3"},
                "by status": {"state": "waiting"},
                "by dialect, 500 a page": {"dialect": "mensagem", "limit": 500},
            }
            print(f"{'page':<26}{'console (ms)':>14}{'sqlite3 ceiling (ms)':>22}")
            for name, params in pages.items():
                console = timed(lambda: client.get("/_emulator/messages/page", params=params).raise_for_status(),
                                args.rounds)
                limit = params.get("limit", 50) + 1
                where = {"before": "r.id < ?", "number": "r.number = ?", "text": "instr(lower(s.text), lower(?)) > 0",
                         "state": "r.state = ?", "dialect": "s.dialect = ?"}
                clauses = [where[k] for k in params if k in where] or ["1=1"]
                values = [v for k, v in params.items() if k in where]
                sql = (f"SELECT r.*, s.* FROM recipients r JOIN submissions s ON s.id = r.submission"
                       f" WHERE {' AND '.join(clauses)} ORDER BY r.id DESC LIMIT {limit}")
                ceiling = timed(lambda: raw.execute(sql, values).fetchall(), args.rounds)
                print(f"{name:<26}{console:>14.1f}{ceiling:>22.1f}")
            one = timed(lambda: client.get("/_emulator/message", params={"id": some["id"]}).raise_for_status(),
                        args.rounds)
            print(f"{'one message in full':<26}{one:>14.1f}")
    finally:
        stop(proc, work, keep=False)


if __name__ == "__main__":
    main()
