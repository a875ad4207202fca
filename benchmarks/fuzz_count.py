"""Schemathesis at length over the five OpenAPI files against the emulator as its own process: how many
requests were fuzzed, how many got a 5xx, how many tracebacks the emulator logged.

    .venv/bin/python benchmarks/fuzz_count.py [--max-examples 100] [--seed 2738] [--keep]

The run of tests/project/test_hardening_schemathesis.py (tests/project/fuzzing.py: every phase, the same
checks, the same exclusions for the dialects), with more examples: each OpenAPI file gets a fresh
`smsconform emulator` (its own SQLite file, a running clock, its log in a file), so that what the control
API's fuzzing does (faults, resets) never reaches a dialect's count. Prints, per file and in all: requests,
5xx answers, failed checks, engine errors, and the tracebacks and ERROR lines of the emulator's log. The run
fails if any of them is not 0.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "project"))
import fuzzing  # noqa: E402
from realmode import emulator_process  # noqa: E402

from smsconform.contracts import HTTP_DIALECTS  # noqa: E402

FILES = (*HTTP_DIALECTS, fuzzing.CONTROL)
COLUMNS = ("requests", "5xx", "failed checks", "engine errors", "tracebacks", "ERROR lines")


def _one(name: str, workdir: Path, max_examples: int, seed: int) -> dict[str, int]:
    workdir.mkdir(parents=True)
    started = time.monotonic()
    with emulator_process(workdir) as (http_port, _):
        run = fuzzing.run(name, f"http://127.0.0.1:{http_port}", max_examples=max_examples, seed=seed)
    log = (workdir / "emulator.log").read_text(errors="replace").splitlines()
    counts = dict(zip(COLUMNS, (run.requests, len(run.server_errors), len(run.failures), len(run.errors),
                                sum("Traceback (most recent call last)" in line for line in log),
                                sum(" ERROR " in line or line.startswith("ERROR") for line in log))))
    print(f"  {name:16s} " + ", ".join(f"{counts[c]:,} {c}" for c in COLUMNS)
          + f"; {time.monotonic() - started:.0f} s; phases {run.phases}", flush=True)
    for what in (run.server_errors, run.failures, run.errors):
        for line in sorted(set(what))[:10]:
            print(f"      {line}")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100, help="per operation and phase, every file")
    parser.add_argument("--seed", type=int, default=fuzzing.SEED)
    parser.add_argument("--keep", action="store_true", help="keep the emulators' logs and state")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="smsconform-fuzz-count-"))
    started = time.monotonic()
    print(f"Schemathesis, every phase, max-examples {args.max_examples}, seed {args.seed}:")
    totals = dict.fromkeys(COLUMNS, 0)
    for name in FILES:
        for column, value in _one(name, workdir / name, args.max_examples, args.seed).items():
            totals[column] += value
    print(f"  {'all five':16s} " + ", ".join(f"{totals[c]:,} {c}" for c in COLUMNS)
          + f"; {time.monotonic() - started:.0f} s")
    if args.keep:
        print(f"  logs and state kept in {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    ok = not any(totals[c] for c in COLUMNS[1:])
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
