"""certify on the embedded emulator, serial and under `-n 2`, beside Schemathesis on one OpenAPI file.

    .venv/bin/python benchmarks/bench_certify.py [--workers 2] [--peer-examples 50] [--skip-parallel]

For each certify run it prints the wall time, the tests and the rules exercised (from results.json: the
counts a speed-up must not lower), the CPU per test and the share of wall time spent waiting; then the
`-n` speed-up (serial wall / parallel wall). The peer, measured in the same run: `st run` on
contracts/openapi/speedmarket.yaml against an emulator process, CPU per generated case.

- CPU: user + sys of the whole process tree (certify, its xdist workers, its in-process emulator threads;
  for the peer, `st` and the emulator process it drives), from wait4's rusage and the per-process
  /proc/<pid>/stat counters sampled during the run (the larger, in case a grandchild was not waited for).
- Waiting: every SAMPLE_SECONDS the sampler reads the state of every thread of the tree in
  /proc/<pid>/task/<tid>/stat; a sample in which no thread is running or runnable ('R') counts as waiting
  (sleeps, polls, timeouts: nothing computes). A thread runnable but queued behind other users of the
  machine's cores counts as busy, so the share does not grow with the machine's load. Under `-n 2` a
  sample counts as waiting when no thread of the tree is runnable either.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _emulator import command, free_port, stop, wait_ready

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 0.01
TICKS = os.sysconf("SC_CLK_TCK")
PEER_SCHEMA = ROOT / "contracts" / "openapi" / "speedmarket.yaml"


@dataclass
class TreeSampler:
    """Samples a process tree from /proc: its threads' states and its processes' CPU counters."""

    root: int
    samples: int = 0
    waiting: int = 0
    cpu_ticks: dict[int, int] = field(default_factory=dict)   # pid -> last utime+stime seen
    _stop: threading.Event = field(default_factory=threading.Event)

    def _children(self) -> dict[int, list[int]]:
        tree: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
        return tree

    def _tree(self) -> list[int]:
        children, out, todo = self._children(), [], [self.root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += children.get(pid, [])
        return out

    def sample(self, pids: list[int]) -> None:
        busy = False
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])
                for task in os.scandir(f"/proc/{pid}/task"):
                    state = Path(task.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
                    busy = busy or state == "R"
            except (OSError, IndexError, ValueError):
                continue
        self.samples += 1
        self.waiting += not busy

    def run(self) -> None:
        pids, refreshed = [self.root], 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - refreshed > 0.5:  # new xdist workers appear at the start; the tree is re-read twice a second
                pids, refreshed = self._tree(), now
            self.sample(pids)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> "TreeSampler":
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_ticks.values()) / TICKS

    @property
    def waiting_share(self) -> float:
        return self.waiting / self.samples if self.samples else float("nan")


@dataclass(frozen=True)
class Run:
    label: str
    wall: float
    cpu: float
    waiting: float
    tests: int
    exercised: int
    verdict: str

    def line(self) -> str:
        return (f"{self.label:<22} {self.verdict:<13} {self.tests:>5} tests  {self.exercised:>4} rules exercised  "
                f"wall {self.wall:7.1f} s  CPU {self.cpu:7.1f} s = {1000 * self.cpu / max(self.tests, 1):5.1f} ms/test  "
                f"waiting {100 * self.waiting:4.1f} %")


def certify(workers: int | None, reports: Path) -> Run:
    args = [*command(), "certify", "--reports", str(reports)] + (["-n", str(workers)] if workers else [])
    start = time.monotonic()
    log = reports.with_suffix(".log")
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=reports.parent)
    with TreeSampler(proc.pid) as sampler:
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    results = json.loads((reports / "results.json").read_text())
    tests = results.get("tests") or []
    rules = results.get("rules") or []
    exercised = sum(1 for r in rules if r.get("status") != "not exercised") + len(results.get("other_rules") or [])
    cpu = max(usage.ru_utime + usage.ru_stime, sampler.cpu_seconds)
    label = f"certify -n {workers}" if workers else "certify (serial)"
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{label} exited with {proc.returncode}: {log.read_text()[-2000:]}")
    return Run(label, wall, cpu, sampler.waiting_share, len(tests), exercised, str(results.get("verdict")))


def schemathesis_peer(examples: int, workdir: Path) -> tuple[int, float, float]:
    """`st run` on one OpenAPI file against an emulator process: (cases, CPU seconds of st + emulator, wall)."""
    port = free_port()
    workdir.mkdir()
    emulator = subprocess.Popen([*command(), "emulator", "--db", str(workdir / "peer.sqlite3"), "--port", str(port),
                                 "--smpp-port", "0", "--frozen"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, emulator)
        before = TreeSampler(emulator.pid)
        before.sample([emulator.pid])
        st = Path(sys.executable).with_name("st")
        start = time.monotonic()
        # the checks test_schema.py excludes for speedmarket too (refusals in the body with HTTP 200, field-notes.md)
        proc = subprocess.Popen([str(st), "run", str(PEER_SCHEMA), "--url", base,
                                 "--max-examples", str(examples), "--workers", "1", "--seed", "1", "--no-color",
                                 "--phases", "examples,coverage,fuzzing", "--max-redirects", "0",
                                 "--exclude-checks", "ignored_auth,negative_data_rejection", "--continue-on-failure",
                                 "--report", "junit", "--report-junit-path", str(workdir / "st.xml")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=workdir)
        with TreeSampler(proc.pid) as sampler:
            out = proc.stdout.read().decode() if proc.stdout else ""
            _, _, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        after = TreeSampler(emulator.pid)
        after.sample([emulator.pid])
        served = after.cpu_seconds - before.cpu_seconds
    finally:
        stop(emulator, workdir, keep=False)
    found = re.search(r"Test cases:\s*([\d,]+) generated", out)
    if not found:
        raise SystemExit(f"st printed no case count:\n{out[-3000:]}")
    cases = int(found.group(1).replace(",", ""))
    return cases, max(usage.ru_utime + usage.ru_stime, sampler.cpu_seconds) + served, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="xdist workers of the parallel run (default 2)")
    parser.add_argument("--peer-examples", type=int, default=50, help="st run --max-examples (default 50)")
    parser.add_argument("--skip-serial", action="store_true")
    parser.add_argument("--skip-parallel", action="store_true")
    parser.add_argument("--skip-peer", action="store_true")
    options = parser.parse_args()
    with open("/proc/loadavg") as f:
        print(f"load average at start: {' '.join(f.read().split()[:3])} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="bench-certify-") as tmp:
        work = Path(tmp)
        runs: list[Run] = []
        if not options.skip_serial:
            runs.append(certify(None, work / "serial"))
            print(runs[-1].line(), flush=True)
        if not options.skip_parallel:
            runs.append(certify(options.workers, work / "parallel"))
            print(runs[-1].line(), flush=True)
        if len(runs) == 2:
            print(f"-n {options.workers} speed-up: {runs[0].wall / runs[1].wall:.2f}x (serial wall / parallel wall)")
        if not options.skip_peer:
            cases, cpu, wall = schemathesis_peer(options.peer_examples, work / "peer")
            print(f"peer: st run {PEER_SCHEMA.name} (examples, coverage, fuzzing; {options.peer_examples} examples "
                  f"an operation): {cases} cases, wall {wall:.1f} s, CPU {cpu:.1f} s (st + emulator) = "
                  f"{1000 * cpu / max(cases, 1):.1f} ms/case")
    with open("/proc/loadavg") as f:
        print(f"load average at end: {' '.join(f.read().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
