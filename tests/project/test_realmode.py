"""Real mode is a first-class path: the emulator, started as its own process with a running clock, is
certified through a real-mode profile (no control API; only the main credentials and valid numbers), every
dialect, with no failure. What a sandbox cannot offer is not exercised, each with the way to reach it.

The run takes minutes (painel allows getstatus and getbalance once a minute, and nothing moves faster than
the clock): benchmarks/bench_realmode.py records how long; this test asserts the verdict, not a time.
"""
from __future__ import annotations

from pathlib import Path

from realmode import certify_in_real_time


def test_the_emulator_in_real_time_is_certified_through_a_real_mode_profile(tmp_path: Path) -> None:
    run = certify_in_real_time(tmp_path)
    failed = [line for line in run.stdout.splitlines() if "FAILED" in line]
    assert run.results is not None, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode == 0 and run.results["verdict"] == "CERTIFIED", "\n".join(failed[:20]) + run.stderr[-2000:]
    tests = run.results["summary"]["tests"]
    assert tests["failed"] == 0 and tests["passed"] > 200, tests
    assert set(run.results["target"]["dialects"]) == {"fcati", "speedmarket", "painel", "mensagem", "wbsapi", "smpp"}
    passed_by_dialect = {t["dialect"] for t in run.results["tests"] if t["outcome"] == "passed"}
    assert passed_by_dialect >= {"fcati", "speedmarket", "painel", "mensagem", "wbsapi", "smpp"}, passed_by_dialect
    # Not one test waited out a rate limit it could not get: the pacer planned every painel turn.
    refused = [t for t in run.results["tests"] if (t.get("reason") or "").startswith("rate limit")]
    assert refused == [], refused
    # What the sandbox profile cannot reach is said, with the way to reach it.
    ways = {g["key"]: g["rules"] for g in run.results["not_exercised_by"]}
    assert ways.get("time.control_url", 0) > 0 and ways.get("fixtures.accounts.no_credits", 0) > 0, ways
    assert "would be exercised with a control API (time.control_url)" in run.stdout
