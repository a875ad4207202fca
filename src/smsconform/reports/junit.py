"""JUnit XML for CI, written from the redacted results rather than by pytest's ``--junitxml``.

pytest's writer copies captured output and raw failure text into the file, which may carry a target's
credentials before anything could redact them; writing from the results keeps one redaction point and the
same outcome per test as results.json. Each testcase carries the rules it checks as properties, so a CI
test view can show them, and its deviations from inferred rules as the property ``deviations`` (JSON):
a deviation is reported, never a failure, so a testcase with deviations only is a passed one.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .collect import FAILED, NOT_EXERCISED_STATUS


def _case_names(nodeid: str) -> tuple[str, str]:
    path, _, name = nodeid.partition("::")
    classname = path.removesuffix(".py").replace("/", ".")
    return classname, name or path


def write_junit(results: dict[str, Any], path: Path) -> Path:
    tests = results["tests"]
    failures = {f["nodeid"]: f for f in results["failures"]}
    summary = results["summary"]["tests"]
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", {
        "name": f"smsconform certify {results['target']['name']}",
        "tests": str(len(tests) + len(results["collection_errors"])),
        "failures": str(summary[FAILED]), "errors": str(len(results["collection_errors"])),
        "skipped": str(summary[NOT_EXERCISED_STATUS]), "time": f"{results['run']['duration_s']:.3f}",
        "timestamp": results["run"]["started"] or "",
    })
    props = ET.SubElement(suite, "properties")
    for name, value in (("verdict", results["verdict"]), ("target", results["target"]["name"]),
                        ("contracts.version", results["contracts"]["version"]),
                        ("contracts.sha256", results["contracts"]["sha256"]),
                        ("deviations", len(results.get("deviations", [])))):
        ET.SubElement(props, "property", {"name": name, "value": str(value)})
    for test in tests:
        classname, name = _case_names(test["nodeid"])
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": name,
                                                  "time": f"{test['duration_s']:.3f}"})
        case_props = ET.SubElement(case, "properties")
        for rule in test["rules"]:
            ET.SubElement(case_props, "property", {"name": "rule", "value": rule})
        if test.get("dialect"):
            ET.SubElement(case_props, "property", {"name": "dialect", "value": test["dialect"]})
        if test.get("deviations"):
            ET.SubElement(case_props, "property", {"name": "deviations",
                                                   "value": json.dumps(test["deviations"], ensure_ascii=False)})
        if test["outcome"] == FAILED:
            failure = failures.get(test["nodeid"], {})
            node = ET.SubElement(case, "failure", {"message": test.get("message") or "failed"})
            node.text = failure.get("details") or ""
        elif test["outcome"] == NOT_EXERCISED_STATUS:
            ET.SubElement(case, "skipped", {"message": f"not exercised: {test.get('reason') or ''}"})
    for error in results["collection_errors"]:
        case = ET.SubElement(suite, "testcase", {"classname": "collection", "name": error["nodeid"], "time": "0"})
        ET.SubElement(case, "error", {"message": "collection error"}).text = error["message"]
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path
