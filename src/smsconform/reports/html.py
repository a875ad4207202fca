"""The certification report for people: one self-contained HTML file that opens offline.

Everything is inline (CSS in a <style> element, no script, no font, image or link to fetch), so the file can
be attached to a ticket or archived by CI and still read the same years later. It shows, in this order: the
verdict, who was certified against which contracts, a matrix of dialects by rule family coloured by result,
the coverage of the documented codes, limits and transitions, each failure with its rule, its source in the
documents and the exchange, each deviation from an inferred rule with the inference's reason (reported,
never a failure: the matrix counts them in a column of their own), what each basis holds and can decide,
and the rules that were not exercised with the reason.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any, Iterable

from ..contracts import DIALECTS
from .collect import DEVIATION, FAILED, NOT_EXERCISED_STATUS, PASSED
from .families import FAMILIES, rule_dialect
from .results import CERTIFIED, NONE

FAMILY_TITLES = {"codes": "codes", "limits": "limits", "transitions": "machines / transitions", "schema": "schema",
                 "grammar": "grammar", "callbacks": "callbacks", "credits": "credits", "acceptance": "acceptance",
                 "selectors": "selectors", "rates": "rate limits", "isolation": "isolation", "numbers": "number shapes",
                 "behaviours": "behaviours"}
STATUS_CLASS = {PASSED: "passed", FAILED: "failed", NOT_EXERCISED_STATUS: "notex", NONE: "none", DEVIATION: "deviation"}
STATUS_LABEL = {PASSED: "passed", FAILED: "failed", NOT_EXERCISED_STATUS: "not exercised", NONE: "no test",
                DEVIATION: "deviation"}

CSS = """
:root { --ok:#1a7f37; --ok-bg:#dafbe1; --ko:#cf222e; --ko-bg:#ffebe9; --ne:#7d4e00; --ne-bg:#fff8c5;
        --no:#57606a; --no-bg:#f6f8fa; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif;
       color: #1f2328; margin: 0; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; word-break: break-all; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: var(--no-bg); font-weight: 600; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 8px 10px; white-space: pre-wrap;
      word-break: break-all; margin: 4px 0 10px; max-height: 360px; overflow: auto; }
.verdict { display: inline-block; font-size: 26px; font-weight: 700; letter-spacing: .04em; padding: 10px 22px;
           border-radius: 6px; margin: 4px 0 8px; }
.verdict.passed { color: #fff; background: var(--ok); }
.verdict.failed { color: #fff; background: var(--ko); }
.lead { color: #57606a; margin: 0 0 8px; }
.ident td:first-child { font-weight: 600; white-space: nowrap; }
.matrix td, .matrix th { text-align: center; min-width: 118px; }
.matrix th:first-child, .matrix td:first-child { text-align: left; }
td.passed { background: var(--ok-bg); color: var(--ok); }
td.failed { background: var(--ko-bg); color: var(--ko); font-weight: 700; }
td.notex { background: var(--ne-bg); color: var(--ne); }
td.none { background: var(--no-bg); color: var(--no); }
td.deviation { background: #ddf4ff; color: #0550ae; }
.pill.deviation { background: #ddf4ff; color: #0550ae; }
.deviation-item { border-left: 4px solid #0550ae; padding: 4px 10px; margin: 0 0 10px; background: #f6fbff; }
.cell-status { display: block; font-weight: 600; }
.cell-counts { display: block; font-size: 12px; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; border-radius: 3px; font-size: 12px; }
.bar { display: inline-block; width: 180px; height: 10px; background: var(--no-bg); border: 1px solid var(--line);
       vertical-align: middle; margin-right: 8px; }
.bar > span { display: block; height: 100%; background: var(--ok); }
.failure { border: 1px solid var(--ko); border-left: 6px solid var(--ko); border-radius: 4px; padding: 10px 14px;
           margin: 0 0 14px; background: #fffafa; }
.failure .msg { color: var(--ko); font-weight: 600; margin: 0 0 6px; }
.rule { margin: 4px 0 8px; }
.quote { border-left: 3px solid var(--line); margin: 4px 0; padding: 2px 10px; color: #57606a; font-style: italic; }
.pill { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; background: var(--no-bg);
        border: 1px solid var(--line); }
.pill.passed { background: var(--ok-bg); color: var(--ok); }
.pill.failed { background: var(--ko-bg); color: var(--ko); }
.pill.notex { background: var(--ne-bg); color: var(--ne); }
details > summary { cursor: pointer; margin: 6px 0; }
.small { font-size: 12px; color: #57606a; }
.overview { border: 1px solid var(--ko); background: #fffafa; border-radius: 4px; padding: 2px 16px 8px; }
.overview h2 { border: 0; color: var(--ko); margin: 10px 0 4px; }
.overview li { margin: 4px 0; }
a { color: #0969da; text-decoration: none; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _pill(status: str) -> str:
    return f'<span class="pill {STATUS_CLASS.get(status, "none")}">{_e(STATUS_LABEL.get(status, status))}</span>'


def _source(source: dict[str, Any] | None) -> str:
    if not source:
        return ""
    out = f'<span class="mono">{_e(source.get("doc"))}</span> § {_e(source.get("section"))}'
    if source.get("quote"):
        out += f'<div class="quote">“{_e(source["quote"])}”</div>'
    return out


def _identity(results: dict[str, Any]) -> str:
    t, c, r = results["target"], results["contracts"], results["run"]
    interfaces = ", ".join(f"{k} {v}" for k, v in c.get("interfaces", {}).items() if v)
    rows = [
        ("Target", f'<b>{_e(t["name"])}</b>'), ("Target source", _e(t["source"])),
        ("Target dialects", _e(", ".join(t["dialects"]))), ("Time on the target", _e(t["time"])),
        ("Contracts version", f'<span class="mono">{_e(c["version"])}</span>'),
        ("Contracts SHA-256", f'<span class="mono">{_e(c["sha256"])}</span>'),
        ("Interface versions", _e(interfaces)), ("Catalog rules", _e(c.get("rules"))),
        ("smsconform", _e(c.get("smsconform"))),
        ("Dialects run", _e(", ".join(r.get("dialects") or []) or "all the target offers")),
        ("Hypothesis profile", _e(r.get("hypothesis_profile"))), ("Workers", _e(r.get("workers"))),
        ("Started (UTC)", _e(r.get("started"))), ("Duration", _e(f'{r.get("duration_s", 0):.1f} s')),
    ]
    body = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="ident" id="identity">{body}</table>'


def _summary(results: dict[str, Any]) -> str:
    tests, rules = results["summary"]["tests"], results["summary"]["rules"]
    def line(label: str, counts: dict[str, int]) -> str:
        return (f"<tr><td>{label}</td><td>{counts.get('total', 0)}</td><td class='passed'>{counts.get(PASSED, 0)}</td>"
                f"<td class='failed'>{counts.get(FAILED, 0)}</td><td class='notex'>{counts.get(NOT_EXERCISED_STATUS, 0)}</td></tr>")
    errors = results["summary"].get("collection_errors", 0)
    extra = f'<p class="small">Collection errors: {errors}</p>' if errors else ""
    return ('<table id="summary"><tr><th></th><th>total</th><th>passed</th><th>failed</th><th>not exercised</th></tr>'
            + line("Tests", tests) + line("Catalog rules", rules) + "</table>" + extra)


def _deviations_by_dialect(results: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for deviation in results.get("deviations", []):
        dialect = rule_dialect(str(deviation.get("rule", ""))) or ""
        counts[dialect] = counts.get(dialect, 0) + 1
    return counts


def _matrix(results: dict[str, Any]) -> str:
    deviated = _deviations_by_dialect(results)
    head = "".join(f"<th>{_e(FAMILY_TITLES[f])}</th>" for f in FAMILIES) + "<th>deviations</th>"
    rows = []
    for dialect in DIALECTS:
        cells = []
        for family in FAMILIES:
            cell = results["matrix"][dialect][family]
            status = cell["status"]
            counts = (f"{cell[PASSED]} passed · {cell[FAILED]} failed · {cell[NOT_EXERCISED_STATUS]} n/e"
                      if status != NONE else "")
            cells.append(f'<td class="{STATUS_CLASS[status]}" data-dialect="{_e(dialect)}" data-family="{_e(family)}">'
                         f'<span class="cell-status">{_e(STATUS_LABEL[status])}</span>'
                         f'<span class="cell-counts">{_e(counts)}</span></td>')
        n = deviated.get(dialect, 0)
        cells.append(f'<td class="{"deviation" if n else "none"}" data-dialect="{_e(dialect)}" data-family="deviations">'
                     f'<span class="cell-status">{n}</span><span class="cell-counts">'
                     f'{"reported, not judged" if n else ""}</span></td>')
        rows.append(f"<tr><th>{_e(dialect)}</th>{''.join(cells)}</tr>")
    legend = ('<p class="legend"><span class="pill passed">passed</span><span class="pill failed">failed</span>'
              '<span class="pill notex">not exercised</span><span class="pill">no test</span>'
              '<span class="pill deviation">deviation</span>'
              '<span class="small">counts are tests; n/e = not exercised; deviations are checks of inferred rules'
              ' that did not hold (reported, never a failure)</span></p>')
    return f'<table class="matrix" id="matrix"><tr><th>dialect</th>{head}</tr>{"".join(rows)}</table>{legend}'


def _bar(percent: float) -> str:
    return f'<span class="bar"><span style="width:{max(0.0, min(100.0, percent)):.1f}%"></span></span>'


def _coverage(results: dict[str, Any]) -> str:
    cov = results["coverage"]
    rows = []
    for key, label in (("codes", "Codes"), ("limits", "Limits"), ("machines", "Status machines"),
                       ("isolation", "Isolation between accounts"), ("numbers", "Number shapes")):
        if key not in cov:
            continue
        c = cov[key]
        doc = c.get("documented", {})
        rows.append(f"<tr><td>{label}</td><td>{_bar(c['percent'])}{c['exercised']} of {c['total']} "
                    f"({c['percent']:.1f}%)</td><td>{c['passed']} passed, {c['failed']} failed</td>"
                    f"<td>{doc.get('exercised', 0)} of {doc.get('total', 0)} ({doc.get('percent', 0.0):.1f}%)</td></tr>")
    t = cov["transitions"]
    rows.append(f"<tr><td>Transitions (edges)</td><td>{_bar(t['percent'])}{t['exercised']} of {t['total']} "
                f"({t['percent']:.1f}%)</td><td colspan='2' class='small'>{_e(t['note'])}</td></tr>")
    by_dialect = []
    for key, label in (("codes", "codes"), ("limits", "limits"), ("machines", "machines")):
        for dialect, c in cov[key].get("by_dialect", {}).items():
            by_dialect.append(f"<tr><td>{_e(dialect)}</td><td>{label}</td><td>{c['exercised']} of {c['total']} "
                              f"({c['percent']:.1f}%)</td></tr>")
    for machine, c in t.get("by_machine", {}).items():
        unobserved = ", ".join(f"{a} \u2192 {b}" for a, b in c["unobserved"])
        by_dialect.append(f"<tr><td>{_e(c['dialect'])}</td><td>edges of {_e(machine)}</td><td>{c['exercised']} of "
                          f"{c['total']}{' (not observed: ' + _e(unobserved) + ')' if unobserved else ''}</td></tr>")
    return ('<table id="coverage"><tr><th></th><th>exercised</th><th>results</th><th>of them documented '
            '(basis: documented)</th></tr>' + "".join(rows) + "</table>"
            + '<details><summary>By dialect</summary><table><tr><th>dialect</th><th>kind</th><th>exercised</th></tr>'
            + "".join(by_dialect) + "</table></details>")


def _exchange(evidence: dict[str, Any]) -> str:
    req, resp = evidence.get("request", {}), evidence.get("response", {})
    headers = "\n".join(f"{k}: {v}" for k, v in (req.get("headers") or {}).items())
    request = f"{req.get('method', '')} {req.get('url', '')}\n{headers}"
    if req.get("body"):
        request += f"\n\n{req['body']}"
    rheaders = "\n".join(f"{k}: {v}" for k, v in (resp.get("headers") or {}).items())
    response = f"HTTP {resp.get('status', '')}\n{rheaders}\n\n{resp.get('body', '')}"
    label = f"{evidence.get('dialect', '')}.{evidence.get('operation', '')}"
    return (f'<div class="exchange"><div class="small">exchange <b>{_e(label)}</b> '
            f'({_e(evidence.get("elapsed_ms", ""))} ms)</div>'
            f'<pre class="request">{_e(request)}</pre><pre class="response">{_e(response)}</pre></div>')


def _failures(results: dict[str, Any]) -> str:
    items = []
    for number, f in enumerate(results["failures"], 1):
        rules = []
        for rule in f["rules"]:
            if not rule.get("catalog"):
                rules.append(f'<div class="rule"><code>{_e(rule["id"])}</code> <span class="small">(not a catalog rule)'
                             f"</span></div>")
                continue
            text = f' — <span class="mono">{_e(rule["text"])}</span>' if rule.get("text") else ""
            rules.append(f'<div class="rule"><code>{_e(rule["id"])}</code>{text} <span class="small">'
                         f'({_e(rule.get("basis"))})</span><br>Source: {_source(rule.get("source"))}</div>')
        if not rules:
            rules.append('<div class="rule small">This test names no rule.</div>')
        exchanges = "".join(_exchange(e) for e in f.get("evidence") or []) or \
            '<p class="small">No HTTP exchange was recorded before the failure.</p>'
        details = (f"<details><summary>Failure report ({_e(f.get('phase'))})</summary><pre>{_e(f.get('details'))}</pre>"
                   f"</details>" if f.get("details") else "")
        items.append(f'<article class="failure" id="failure-{number}"><h3>{_e(f["nodeid"])}</h3><p class="msg">{_e(f.get("message"))}</p>'
                     f'{"".join(rules)}{exchanges}{details}</article>')
    for error in results.get("collection_errors", []):
        items.append(f'<article class="failure"><h3>collection error: {_e(error["nodeid"])}</h3>'
                     f'<pre>{_e(error["message"])}</pre></article>')
    if not items:
        return '<p id="no-failures">No failure.</p>'
    return "".join(items)


def _deviations(results: dict[str, Any]) -> str:
    """Each deviation from an inferred rule: the rule, what differed, and why the rule was only inferred."""
    items = []
    for number, d in enumerate(results.get("deviations", []), 1):
        reason = (f'<div class="small">Inferred because: {_e(d["reason"])}</div>' if d.get("reason") else "")
        items.append(f'<div class="deviation-item" id="deviation-{number}"><code>{_e(d.get("rule"))}</code> '
                     f'<span class="small">({_e(d.get("basis"))}; {_e(d.get("nodeid"))})</span>'
                     f'<div>{_e(d.get("message"))}</div>{reason}</div>')
    strict = results["summary"].get("strict")
    note = ("<p class='small'>Judged with --strict: a deviation fails its test.</p>" if strict else
            "<p class='small'>Reported, not judged: the documents do not establish these rules, so they never "
            "turn the verdict (--strict judges them).</p>")
    return note + ("".join(items) or '<p id="no-deviations">No deviation.</p>')


def _bases(results: dict[str, Any]) -> str:
    bases = results["summary"].get("bases") or {}
    rows = "".join(f"<tr><td>{_e(basis)}</td><td>{c['rules']}</td><td>{c['can_fail_verdict']}</td>"
                   f"<td>{c['deviations']}</td></tr>" for basis, c in bases.items())
    return ("<table id='bases'><tr><th>basis</th><th>catalog rules</th><th>can fail the verdict</th>"
            f"<th>deviated in this run</th></tr>{rows}</table>")


def _not_exercised(rules: Iterable[dict[str, Any]]) -> str:
    groups: dict[str, list[str]] = {}
    for rule in rules:
        if rule["status"] == NOT_EXERCISED_STATUS:
            for reason in rule.get("not_exercised", ["?"]):
                groups.setdefault(reason, []).append(rule["id"])
    if not groups:
        return "<p>Every catalog rule was exercised.</p>"
    out = []
    for reason, ids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(f"<details><summary>{len(ids)} rule(s): {_e(reason)}</summary><p class='mono small'>"
                   + ", ".join(_e(i) for i in ids) + "</p></details>")
    return "".join(out)


def _ways(groups: list[dict[str, Any]]) -> str:
    """What would exercise the rules this run did not reach: a fixture, a profile key or an option (unlock.py)."""
    if not groups:
        return ""
    rows = "".join(f"<tr><td>{_e(g['label'])}</td><td><code>{_e(g['key'])}</code></td><td>{g['rules']}</td></tr>"
                   for g in groups)
    return (f"<table id='ways'><tr><th>would be exercised with</th><th>profile entry or option</th>"
            f"<th>rules</th></tr>{rows}</table>")


def _all_rules(rules: Iterable[dict[str, Any]]) -> str:
    rows = "".join(f"<tr><td><code>{_e(r['id'])}</code></td><td>{_pill(r['status'])}</td><td>{_e(r['basis'])}</td>"
                   f"<td>{_source(r['source'])}</td></tr>" for r in rules)
    return (f"<details><summary>Every catalog rule</summary><table id='rules'><tr><th>rule</th><th>status</th>"
            f"<th>basis</th><th>source</th></tr>{rows}</table></details>")


def render(results: dict[str, Any]) -> str:
    verdict = results["verdict"]
    klass = "passed" if verdict == CERTIFIED else "failed"
    tests = results["summary"]["tests"]
    title = f"smsconform certification — {results['target']['name']} — {verdict}"
    lead = (f"{tests.get(PASSED, 0)} tests passed, {tests.get(FAILED, 0)} failed, "
            f"{tests.get(NOT_EXERCISED_STATUS, 0)} not exercised.")
    data = json.dumps({"verdict": verdict, "format": results.get("format")})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="smsconform" content="{_e(data)}">
<title>{_e(title)}</title>
<style>{CSS}</style></head>
<body>
<h1>smsconform certification report</h1>
<div class="verdict {klass}" id="verdict">{_e(verdict)}</div>
<p class="lead">{_e(lead)} Certified only with zero failures.</p>
<p class="lead" id="identity-line">Target <b>{_e(results['target']['name'])}</b> ({_e(results['target']['source'])})
· contracts <span class="mono">{_e(results['contracts']['version'])}</span></p>
{_overview(results)}
<h2>Dialects × rule families</h2>
{_matrix(results)}
<h2>Coverage of the documented codes, limits and transitions</h2>
{_coverage(results)}
<h2>Summary</h2>
{_summary(results)}
<h2>Target and contracts</h2>
{_identity(results)}
<h2 id="failures-title">Failures ({len(results['failures']) + len(results.get('collection_errors', []))})</h2>
<section id="failures">{_failures(results)}</section>
<h2 id="deviations-title">Deviations from inferred rules ({len(results.get('deviations', []))})</h2>
<section id="deviations">{_deviations(results)}</section>
<h2>What each basis decides</h2>
{_bases(results)}
<h2>Not exercised</h2>
{_ways(results.get('not_exercised_by') or [])}
{_not_exercised(results['rules'])}
<h2>Rules</h2>
{_all_rules(results['rules'])}
<p class="small">Format {_e(results.get('format'))}; results.json holds the same data for machines.</p>
</body></html>
"""


def _overview(results: dict[str, Any]) -> str:
    """The failed tests first, one line each, linking to their details and exchange further down."""
    failures = results["failures"]
    if not failures and not results.get("collection_errors"):
        return ""
    items = []
    for number, f in enumerate(failures, 1):
        rules = ", ".join(r["id"] for r in f["rules"]) or "no rule named"
        first = next((r for r in f["rules"] if r.get("source")), None)
        source = f" — {_source_line(first['source'])}" if first else ""
        items.append(f'<li><a href="#failure-{number}"><code>{_e(rules)}</code></a>{source}<br>'
                     f'<span class="small">{_e(f.get("message"))}</span></li>')
    for error in results.get("collection_errors", []):
        items.append(f"<li>collection error: <code>{_e(error['nodeid'])}</code></li>")
    return f'<section id="overview" class="overview"><h2>What failed</h2><ol>{"".join(items)}</ol></section>'


def _source_line(source: dict[str, Any]) -> str:
    return f'<span class="mono">{_e(source.get("doc"))}</span> § {_e(source.get("section"))}'


def write_html(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results), encoding="utf-8")
    return path
