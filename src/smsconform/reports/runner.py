"""Running the installed conformance suite in-process, with our own listeners and pytest's console silenced.

``smsconform certify`` and ``smsconform record`` both run the suite this way. pytest's terminal reporter is
turned off (our progress line replaces it) and pytest reads no configuration file of the directory it is
started from (``-c`` the null device), so a user's own pytest.ini cannot change what a certification runs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pytest

from .suite import suite_dir


def hypothesis_home() -> Path:
    """Where hypothesis keeps its caches and examples during a certification: the user's cache directory,
    not a `.hypothesis/` left in whatever directory CI happened to run `smsconform certify` from."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smsconform" / "hypothesis"


@dataclass(frozen=True)
class SuiteRun:
    target: str = "emulator"
    dialects: tuple[str, ...] = ()
    hypothesis_profile: str | None = None
    workers: str | None = None          # pytest-xdist's -n: a number or "auto"; None or "0": in this process
    extra: tuple[str, ...] = field(default=())

    def args(self) -> list[str]:
        suite = suite_dir()
        args = [str(suite), "-c", os.devnull, "--rootdir", str(suite.parents[1]), "-p", "no:terminal",
                "-p", "no:cacheprovider", "--hypothesis-home", str(hypothesis_home()), "--target", self.target]
        for dialect in self.dialects:
            args += ["--dialect", dialect]
        if self.hypothesis_profile:
            args += ["--hypothesis-profile", self.hypothesis_profile]
        if self.workers and self.workers != "0":
            args += ["-n", self.workers]
        return args + list(self.extra)

    def describe(self) -> dict[str, Any]:
        return {"dialects": list(self.dialects), "hypothesis_profile": self.hypothesis_profile or "ci",
                "workers": self.workers or "0", "suite": str(suite_dir()), "strict": "--strict-rules" in self.extra}


def run(suite: SuiteRun, plugins: Sequence[object]) -> int:
    """pytest's exit status (0 all passed, 1 some failed, 2 interrupted, 3 internal error, 4 usage error)."""
    return int(pytest.main(suite.args(), plugins=list(plugins)))
