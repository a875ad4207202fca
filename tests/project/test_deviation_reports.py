"""End to end, the reports of a conformant target that deviates (issue 18): certify a variant of the
emulator served in real time (fcati.refusal-texts: every refusal says it in other words) and read every
report. The verdict is CERTIFIED; the closing line counts the rules that deviated; results.json, the HTML
report (its own column and section, each with the inference's reason) and JUnit (a property, never a
failure) carry each deviation."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from defects.runner import ROOT, child_env
from variants.runner import _serve

VARIANT = "fcati.refusal-texts"


def test_a_deviating_variant_is_certified_with_its_deviations_in_every_report(tmp_path: Path) -> None:
    server, profile = _serve("deviation-reports", VARIANT, tmp_path)
    try:
        done = subprocess.run([sys.executable, "-m", "smsconform.cli", "certify", "--target", str(profile),
                               "--dialect", "fcati", "--reports", str(tmp_path / "reports"), "--max-time", "600"],
                              cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=900)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    results = json.loads((tmp_path / "reports" / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "CERTIFIED"
    deviated = results["summary"]["rules"]["deviation"]
    assert deviated > 0 and results["deviations"], results["summary"]
    assert f"{deviated} deviations, " in out, out[-1500:]          # the closing line counts them
    assert "deviations from inferred rules" in out
    assert all(d.get("reason") and d["basis"] == "inferred" for d in results["deviations"]), results["deviations"]
    assert results["summary"]["bases"]["inferred"]["deviations"] > 0
    html = (tmp_path / "reports" / "report.html").read_text(encoding="utf-8")
    assert 'id="deviations"' in html and 'data-family="deviations"' in html
    first = results["deviations"][0]
    assert first["rule"] in html and first["reason"][:40] in html  # with the inference's reason
    suite = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    assert suite.find(".//failure") is None
    carried = [json.loads(p.get("value")) for p in suite.iter("property") if p.get("name") == "deviations"
               and p.get("value", "").startswith("[")]
    assert carried and {d["rule"] for ds in carried for d in ds} == {d["rule"] for d in results["deviations"]}
