"""The console progress of a certification run.

On a terminal: one line, rewritten in place (``\\r``), with a bar, counts and the test just finished. Elsewhere
(CI logs, pipes): plain lines, one every tenth of the run and one per failure, so a log stays readable and
still shows where a run stopped.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from typing import TextIO

from .collect import FAILED, NOT_EXERCISED_STATUS, PASSED, Collector, TestRecord

BAR = 24


@dataclass
class Progress:
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    tty: bool | None = None
    _last_decile: int = -1
    _drawn: bool = False

    def __post_init__(self) -> None:
        if self.tty is None:
            self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, collector: Collector, record: TestRecord) -> None:
        counts = collector.counts()
        done, total = collector.finished, collector.total
        summary = (f"{counts[PASSED]} passed, {counts[FAILED]} failed, "
                   f"{counts[NOT_EXERCISED_STATUS]} not exercised")
        if self.tty:
            self._draw(done, total, summary, record)
            return
        if record.outcome == FAILED:
            self.stream.write(f"FAILED {record.nodeid}: {record.message or ''}\n")
        decile = (done * 10 // total) if total else -1
        if total and decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(f"[{done}/{total} {done * 100 // total:3d}%] {summary}\n")
        self.stream.flush()

    def _draw(self, done: int, total: int | None, summary: str, record: TestRecord) -> None:
        width = shutil.get_terminal_size((100, 20)).columns
        if total:
            filled = BAR * done // total
            head = f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} {done * 100 // total:3d}% "
        else:
            head = f"[{done}] "
        line = f"{head}{summary}  {record.nodeid.rsplit('/', 1)[-1]}"
        if len(line) > width - 1:
            line = line[: width - 2] + "…"
        self.stream.write("\r" + line.ljust(width - 1))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
