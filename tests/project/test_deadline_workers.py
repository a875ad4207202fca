"""certify --max-time holds under pytest-xdist (`-n 2`): the watchdog lives in the controller, the tests run
in two worker processes, and a test blocked past the deadline must still end the run with INCOMPLETE, the
`deadline` reason on what did not finish, exit 1 and a results.json of this run, rewritten while it went on.

The blocker is real: the emulator as its own process in real time, and an SMPP message sent with
registered_delivery 0, whose test watches for a receipt that must not come for up to ``time.max_wait``
(here far beyond --max-time). The fast mensagem code tests are collected first, so both workers report
passes before they reach it.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from realmode import clean_env, emulator_process, real_profile, smsconform_command

MAX_TIME = 75          # seconds: worker start-up and collection under load (~35 s seen) leave time for passes
GRACE = 3.75           # reports/deadline.py grace_of(75)
SHUTDOWN = 20          # xdist stopping its workers after the interrupt, on a loaded machine
BLOCKER = "tests/conformance/test_smpp.py::test_registered_delivery_decides_the_receipts"


def test_the_deadline_under_two_workers_gives_incomplete_and_a_live_results_json(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    live = reports / "results.json"
    partial_seen: list[dict] = []
    with emulator_process(tmp_path) as (http_port, smpp_port):
        profile = real_profile(tmp_path / "sandbox.toml", http_port, smpp_port, dialects=("mensagem", "smpp"),
                               max_wait=600)
        proc = subprocess.Popen(
            [*smsconform_command(), "certify", "--target", str(profile), "--reports", str(reports), "-n", "2",
             "--max-time", str(MAX_TIME), "--test", "tests/conformance/test_codes.py", "--test", BLOCKER,
             "-k", "mensagem or registered_delivery"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=clean_env({"SMSCONFORM_PACER_DIR": str(tmp_path / "pacer"), "XDG_CACHE_HOME": str(tmp_path / "c")}))
        started = time.monotonic()
        while proc.poll() is None and time.monotonic() - started < MAX_TIME + GRACE + SHUTDOWN + 240:
            if live.exists() and not partial_seen:
                copy = json.loads(live.read_text(encoding="utf-8"))
                if copy["run"].get("partial") and copy["summary"]["tests"]["passed"]:
                    partial_seen.append(copy)
            time.sleep(0.5)
        if proc.poll() is None:
            proc.kill()
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1, stdout[-3000:] + stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    # Written as tests finished: a partial copy with passes existed before the run ended.
    assert partial_seen and partial_seen[0]["verdict"] == "INCOMPLETE", "no live results.json during the run"
    results = json.loads(live.read_text(encoding="utf-8"))
    assert results["verdict"] == "INCOMPLETE" and "INCOMPLETE" in stdout, stdout[-2000:]
    assert results["run"]["workers"] == "2" and results["run"]["deadline_passed"]
    assert not results["run"].get("partial")
    assert results["summary"]["tests"]["failed"] == 0, results["failures"][:3]
    assert results["summary"]["tests"]["passed"] > 0, "the workers reported no pass before the deadline"
    cut = [t for t in results["tests"] if (t.get("reason") or "").startswith("deadline")]
    assert any(t["nodeid"].startswith(BLOCKER) for t in cut), [t["nodeid"] for t in cut]
    # --max-time bounds the run (certify's start to the session's end), not the start of the process.
    assert results["run"]["duration_s"] <= MAX_TIME + GRACE + SHUTDOWN, results["run"]["duration_s"]
