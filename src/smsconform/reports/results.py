"""From what the suite did to what it certifies: one status per catalog rule, a matrix, coverage, a verdict.

Honest accounting (issue 6): a rule is passed only if at least one test naming it passed and none failed;
failed if any test naming it failed; otherwise not exercised, with the reasons the tests gave (or "no test
names this rule"). A run is CERTIFIED only with zero failed tests, no collection error, at least one test
passed and pytest's own exit status 0.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Iterable

from ..conformance.judge import BASES, can_fail
from ..contracts import DIALECTS, Contracts, Rule
from .collect import DEVIATION, FAILED, NOT_EXERCISED_STATUS, PASSED, Collector, TestRecord
from .families import FAMILIES, family_of_test, rule_dialect, rule_family
from .identity import TargetInfo, contract_identity

FORMAT = "smsconform-results/1"
CERTIFIED, NOT_CERTIFIED = "CERTIFIED", "NOT CERTIFIED"
NONE = "none"  # a matrix cell no test falls in
_RANK = {FAILED: 3, PASSED: 2, NOT_EXERCISED_STATUS: 1, NONE: 0}


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds") if epoch else None


def _source(rule: Rule) -> dict[str, Any]:
    out = {"doc": rule.source.doc, "section": rule.source.section}
    if rule.source.quote:
        out["quote"] = rule.source.quote
    return out


def _rule_status(records: list[TestRecord]) -> str:
    outcomes = {r.outcome for r in records}
    if FAILED in outcomes:
        return FAILED
    return PASSED if PASSED in outcomes else NOT_EXERCISED_STATUS


def _test_dialect(record: TestRecord) -> str | None:
    return record.dialect or next((d for d in map(rule_dialect, record.rules) if d), None)


def _deviations(records: Iterable[TestRecord]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        for deviation in record.deviations:
            out[str(deviation["rule"])].append({**deviation, "nodeid": record.nodeid})
    return out


def _rules(contracts: Contracts, by_rule: dict[str, list[TestRecord]], selected: set[str],
           deviations: dict[str, list[dict[str, Any]]], strict: bool = False) -> list[dict[str, Any]]:
    out = []
    for rule in contracts.catalog.rules():
        tests = by_rule.get(rule.id, [])
        status = _rule_status(tests)
        if status != FAILED and deviations.get(rule.id):
            status = DEVIATION
        entry: dict[str, Any] = {
            "id": rule.id, "kind": rule.kind, "family": rule_family(rule.id), "dialect": rule.dialect,
            "status": status, "basis": rule.basis, "can_fail_verdict": can_fail(rule, strict), "source": _source(rule),
            "tests": [{"nodeid": t.nodeid, "outcome": t.outcome} for t in tests],
        }
        if rule.reason:
            entry["reason"] = rule.reason
        text = getattr(rule, "text", None)
        if text:
            entry["text"] = text
        if status == NOT_EXERCISED_STATUS:
            reasons = sorted({t.reason or "skipped" for t in tests})
            if not reasons:
                reasons = ["dialect not selected" if selected and rule.dialect not in selected
                           else "no test names this rule"]
            entry["not_exercised"] = reasons
        if status == FAILED:
            entry["failures"] = [t.nodeid for t in tests if t.outcome == FAILED]
        if deviations.get(rule.id):
            entry["deviations"] = deviations[rule.id]
        out.append(entry)
    return out


def _matrix(records: Iterable[TestRecord]) -> dict[str, dict[str, dict[str, Any]]]:
    cells: dict[str, dict[str, dict[str, Any]]] = {
        d: {f: {"status": NONE, PASSED: 0, FAILED: 0, NOT_EXERCISED_STATUS: 0} for f in FAMILIES} for d in DIALECTS
    }
    for record in records:
        dialect, family = _test_dialect(record), family_of_test(record.module, record.rules)
        if dialect not in cells or family not in FAMILIES:
            continue
        cell = cells[dialect][family]
        cell[record.outcome] += 1
        if _RANK[record.outcome] > _RANK[cell["status"]]:
            cell["status"] = record.outcome
    return cells


def _share(entries: list[dict[str, Any]]) -> dict[str, Any]:
    total = len(entries)
    passed = sum(1 for e in entries if e["status"] == PASSED)
    failed = sum(1 for e in entries if e["status"] == FAILED)
    deviated = sum(1 for e in entries if e["status"] == DEVIATION)  # exercised: an inferred part did not hold
    exercised = passed + failed + deviated
    return {"total": total, "exercised": exercised, "passed": passed, "failed": failed, "deviations": deviated,
            "percent": round(100.0 * exercised / total, 1) if total else 0.0}


def _coverage(contracts: Contracts, rules: list[dict[str, Any]], records: Iterable[TestRecord]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, name in (("code", "codes"), ("limit", "limits"), ("machine", "machines"), ("isolation", "isolation"),
                       ("number", "numbers")):
        entries = [r for r in rules if r["kind"] == kind]
        share = _share(entries)
        share["documented"] = _share([r for r in entries if r["basis"] == "documented"])
        share["by_dialect"] = {d: _share([r for r in entries if r["dialect"] == d]) for d in DIALECTS
                               if any(r["dialect"] == d for r in entries)}
        out[name] = share
    edges = {(m.id, e.source, e.target) for m in contracts.catalog.machines for e in m.edges}
    # An edge counts only when the test that observed it passed: a failed walk proves nothing (issue 12 item 9).
    observed = {tuple(t) for r in records if r.outcome == PASSED for t in r.transitions if len(t) == 3}
    seen = edges & observed  # type: ignore[operator]
    out["transitions"] = {
        "total": len(edges), "exercised": len(seen), "percent": round(100.0 * len(seen) / len(edges), 1) if edges else 0.0,
        "note": "edges a passing test reported observing (user property `transitions`: [[machine id, from, to], ...])",
        "by_machine": {m.id: {"total": len(m.edges),
                              "exercised": sum(1 for e in m.edges if (m.id, e.source, e.target) in seen),
                              "unobserved": [[e.source, e.target] for e in m.edges
                                             if (m.id, e.source, e.target) not in seen]}
                       for m in contracts.catalog.machines},
    }
    return out


def _failure(record: TestRecord, contracts: Contracts) -> dict[str, Any]:
    rules = []
    for rule_id in record.rules:
        try:
            rule = contracts.catalog.rule(rule_id)
        except KeyError:
            rules.append({"id": rule_id, "catalog": False})
            continue
        entry = {"id": rule_id, "catalog": True, "basis": rule.basis, "source": _source(rule)}
        if getattr(rule, "text", None):
            entry["text"] = rule.text  # type: ignore[attr-defined]
        rules.append(entry)
    return {"nodeid": record.nodeid, "dialect": _test_dialect(record), "family": family_of_test(record.module, record.rules),
            "phase": record.phase, "message": record.message, "details": record.details, "rules": rules,
            "evidence": record.evidence}


def _bases(contracts: Contracts, rules: list[dict[str, Any]], strict: bool) -> dict[str, dict[str, int]]:
    """Per basis: how many catalog rules it holds, how many of them can fail the verdict (documented and
    observed ones; an inferred one only through a part the documents establish, such as fcati's refusal,
    or with --strict-rules), and how many deviated in this run."""
    status = {r["id"]: r["status"] for r in rules}
    out = {basis: {"rules": 0, "can_fail_verdict": 0, "deviations": 0} for basis in BASES}
    for rule in contracts.catalog.rules():
        counts = out.setdefault(rule.basis, {"rules": 0, "can_fail_verdict": 0, "deviations": 0})
        counts["rules"] += 1
        counts["can_fail_verdict"] += can_fail(rule, strict)
        counts["deviations"] += status.get(rule.id) == DEVIATION
    return out


def build(collector: Collector, contracts: Contracts, target: TargetInfo, run: dict[str, Any]) -> dict[str, Any]:
    """The whole result of a run, as plain data (not yet redacted: the writers redact)."""
    records = sorted(collector.records.values(), key=lambda r: r.nodeid)
    by_rule: dict[str, list[TestRecord]] = defaultdict(list)
    for record in records:
        for rule_id in dict.fromkeys(record.rules):
            by_rule[rule_id].append(record)
    selected = set(run.get("dialects") or ())
    deviations = _deviations(records)
    rules = _rules(contracts, by_rule, selected, deviations, bool(run.get("strict")))
    catalog_ids = {r["id"] for r in rules}
    counts = collector.counts()
    certified = (counts[FAILED] == 0 and not collector.collect_errors and counts[PASSED] > 0
                 and collector.exit_status == 0)
    ended = collector.ended or collector.started
    return {
        "format": FORMAT,
        "verdict": CERTIFIED if certified else NOT_CERTIFIED,
        "target": target.public(),
        "contracts": contract_identity(contracts),
        "run": {**run, "started": _iso(collector.started), "finished": _iso(ended),
                "duration_s": round(ended - collector.started, 3), "pytest_exit_status": collector.exit_status},
        "summary": {
            "tests": {**counts, "total": len(records)},
            "rules": {s: sum(1 for r in rules if r["status"] == s)
                      for s in (PASSED, FAILED, DEVIATION, NOT_EXERCISED_STATUS)}
            | {"total": len(rules)},
            "collection_errors": len(collector.collect_errors),
            "bases": _bases(contracts, rules, bool(run.get("strict"))),
            "strict": bool(run.get("strict")),
        },
        "matrix": _matrix(records),
        "coverage": _coverage(contracts, rules, records),
        "rules": rules,
        "other_rules": sorted({r for rec in records for r in rec.rules} - catalog_ids),
        "failures": [_failure(r, contracts) for r in records if r.outcome == FAILED],
        "deviations": [d for ds in deviations.values() for d in ds],
        "collection_errors": [{"nodeid": e.nodeid, "message": e.message} for e in collector.collect_errors],
        "tests": [{"nodeid": r.nodeid, "outcome": r.outcome, "duration_s": round(r.duration, 4),
                   "dialect": _test_dialect(r), "family": family_of_test(r.module, r.rules), "rules": r.rules,
                   **({"reason": r.reason} if r.reason else {}), **({"message": r.message} if r.message else {}),
                   **({"deviations": r.deviations} if r.deviations else {})}
                  for r in records],
        "timings": {"slowest": [{"nodeid": r.nodeid, "duration_s": round(r.duration, 3)}
                                for r in sorted(records, key=lambda r: r.duration, reverse=True)[:10]]},
    }
