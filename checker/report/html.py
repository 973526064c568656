"""``--format html``: the report as one self-contained page, for auditors and for CI artifacts.

Run metadata (tool, rules, evaluation time, inputs with their SHA-256, accounts and Regions,
collection errors), the verdict and counts, the controls, the rules, the access matrix, the
waivers, and every finding in one table with filters by status, severity, rule, account and
Region (a few lines of inline JavaScript hiding rows by their ``data-*`` attributes; without
JavaScript every row shows).

Self-contained: inline CSS and JavaScript only, nothing fetched (no scripts, style sheets,
fonts or images from anywhere), and a Content-Security-Policy that allows exactly the page's
own style and script by their hashes, so nothing else could run or load even if it got in.
Links the reader may click (rule and control sources) are plain ``<a href>``. Every value from
the report goes through ``html.escape``.

Streamed in 64 KiB chunks, one table row at a time: a report of 300,000 findings is never one
string. Same report, same bytes: no random ids and no clock but the report's ``generated_at``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from html import escape
from typing import Any

import orjson

from checker.model.report import Report, finding_dict
from checker.report.markdown import (
    VERDICT_LABEL,
    below_fail_on,
    control_rows,
    printable,
    shown_status,
    verdict,
    where,
)
from checker.rule import Severity

_CHUNK = 1 << 16
_TEXT_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPECIAL = re.compile("[&<>\"'\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
NONE = "-"  # filter value of a finding without an account or a Region
STATUS_ORDER = ("fail", "error", "waived", "pass", "not_applicable")
STATUS_LABEL = {
    "fail": "fail",
    "error": "error",
    "waived": "waived",
    "pass": "pass",
    "not_applicable": "not applicable",
}

_CSS = """
:root { color-scheme: light; --fail: #b42318; --error: #b54708; --pass: #067647;
  --waived: #6941c6; --na: #667085; --line: #d0d5dd; --head: #f2f4f7; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #101828; background: #fff; }
header, main { padding: 0 24px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 12px; }
h1 { font-size: 22px; margin: 16px 0 8px; }
h2 { font-size: 18px; margin: 28px 0 8px; }
nav a { margin-right: 14px; }
.verdict { font-size: 18px; font-weight: 600; padding: 8px 12px; border-radius: 6px;
  display: inline-block; margin: 4px 0; color: #fff; }
.verdict-fail { background: var(--fail); }
.verdict-error { background: var(--error); }
.verdict-pass { background: var(--pass); }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 6px 14px; min-width: 110px; }
.tile b { display: block; font-size: 20px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
thead th { background: var(--head); position: sticky; top: 0; z-index: 1; }
td.num, th.num { text-align: right; white-space: nowrap; }
#findings-table td:nth-child(-n+5) { white-space: nowrap; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12px; }
pre { white-space: pre-wrap; margin: 4px 0 0; }
.sub { color: var(--na); font-size: 12px; }
.st-fail, tr[data-status="fail"] > td:first-child { color: var(--fail); font-weight: 600; }
.st-error, tr[data-status="error"] > td:first-child { color: var(--error); font-weight: 600; }
.st-waived, tr[data-status="waived"] > td:first-child { color: var(--waived); }
.st-pass, tr[data-status="pass"] > td:first-child { color: var(--pass); }
.st-not_applicable, tr[data-status="not_applicable"] > td:first-child { color: var(--na); }
.filters { display: flex; gap: 12px; flex-wrap: wrap; align-items: end; margin: 8px 0; }
.filters label { display: flex; flex-direction: column; font-size: 12px; font-weight: 600; }
.filters select { font: inherit; min-width: 140px; max-width: 320px; }
#findings-count { font-weight: 600; margin: 8px 0; }
.none { color: var(--na); font-style: italic; }
""".strip()

_JS = """
(function () {
  "use strict";
  var table = document.getElementById("findings-table");
  var count = document.getElementById("findings-count");
  if (!table || !count) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var keys = selects.map(function (s) { return "data-" + s.getAttribute("data-filter"); });
  // Read the attributes once: filtering 300,000 rows then compares strings in arrays.
  var values = rows.map(function (row) {
    return keys.map(function (key) { return row.getAttribute(key); });
  });
  function apply() {
    var active = [], wanted = [];
    selects.forEach(function (s, j) {
      if (s.value !== "") { active.push(j); wanted.push(s.value); }
    });
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var v = values[i], ok = true;
      for (var a = 0; a < active.length; a++) {
        if (v[active[a]] !== wanted[a]) { ok = false; break; }
      }
      if (rows[i].hidden === ok) { rows[i].hidden = !ok; }
      if (ok) { shown++; }
    }
    count.textContent = shown + " of " + rows.length + " findings shown";
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  var reset = document.getElementById("filter-reset");
  if (reset) {
    reset.addEventListener("click", function () {
      selects.forEach(function (s) { s.value = ""; });
      apply();
    });
  }
  if (selects.some(function (s) { return s.value !== ""; })) { apply(); }
})();
""".strip()


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


# Nothing may load from anywhere: only this page's own style and script, by hash.
CSP = (
    "default-src 'none'; "
    f"style-src '{_digest(_CSS)}'; script-src '{_digest(_JS)}'; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def render(report: Report, **_: object) -> Iterator[str]:
    """The page, in chunks of about 64 KiB."""
    yield from _buffered(_page(report))


def t(value: object) -> str:
    """Element text, escaped: ``&``, ``<`` and ``>`` (quotes are only special in attributes),
    control characters made visible."""
    text = value if type(value) is str else "" if value is None else str(value)
    if _TEXT_SPECIAL.search(text) is None:
        return text
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def h(value: object) -> str:
    """Text or attribute value, escaped (quotes too), control characters made visible."""
    text = value if type(value) is str else "" if value is None else str(value)
    if _SPECIAL.search(text) is None:  # most values: one scan instead of six
        return text
    return escape(printable(text), quote=True)


def _buffered(pieces: Iterable[str]) -> Iterator[str]:
    parts: list[str] = []
    size = 0
    for piece in pieces:
        parts.append(piece)
        size += len(piece)
        if size >= _CHUNK:
            yield "".join(parts)
            parts, size = [], 0
    if parts:
        yield "".join(parts)


class _Scan:
    """What the page needs before its rows: counts and the values each filter offers."""

    def __init__(self, report: Report) -> None:
        self.total = 0
        self.status: Counter[str] = Counter()
        self.failing: Counter[str] = Counter()  # unwaived failures, new or known
        self.by_rule: dict[str, Counter[str]] = {}
        self.options: dict[str, Counter[str]] = {
            k: Counter() for k in ("severity", "rule", "account", "region")
        }
        for f in report.findings:
            status = shown_status({"status": f.status.value, "waiver": f.waiver})
            self.total += 1
            self.status[status] += 1
            self.by_rule.setdefault(f.rule_id, Counter())[status] += 1
            self.options["severity"][f.severity.value] += 1
            self.options["rule"][f.rule_id] += 1
            self.options["account"][f.resource.account_id or NONE] += 1
            self.options["region"][f.resource.region or NONE] += 1
            mark = getattr(f, "baseline", None)  # new or known, with --baseline
            if status == "fail" and mark in ("new", "known"):
                self.failing[mark] += 1


def _page(report: Report) -> Iterator[str]:
    doc = report.to_dict(with_findings=False)
    scan = _Scan(report)
    coverage = doc.get("coverage") or {}
    collection_errors = [e for e in coverage.get("errors") or [] if isinstance(e, dict)]
    baseline = doc.get("baseline") if isinstance(doc.get("baseline"), dict) else None
    known = scan.failing["known"] if baseline is not None else None
    kind, reason = verdict(scan.status, len(collection_errors), known, below_fail_on(report))
    generated = str(doc.get("generated_at", ""))
    yield (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{h(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>rdsiam report: {VERDICT_LABEL[kind]} ({h(generated)})</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<header>\n"
        f"<h1>rdsiam compliance report</h1>\n"
        f'<p class="verdict verdict-{kind}" id="verdict">{VERDICT_LABEL[kind]}: {h(reason)}</p>\n'
        '<nav><a href="#run">Run</a> <a href="#controls">Controls</a> <a href="#rules">Rules</a>'
        ' <a href="#access">Access</a> <a href="#waivers">Waivers</a>'
        ' <a href="#findings">Findings</a></nav>\n</header>\n<main>\n'
    )
    yield _tiles(scan, baseline)
    yield from _run(doc, collection_errors, baseline)
    yield from _controls(doc)
    yield from _rules(doc, scan)
    yield from _access(report.access)
    yield from _waivers(doc)
    yield from _findings(report, doc, scan, baseline is not None)
    yield f"</main>\n<script>{_JS}</script>\n</body>\n</html>\n"


def _tiles(scan: _Scan, baseline: dict[str, Any] | None) -> str:
    tiles = [(STATUS_LABEL[s], scan.status[s]) for s in STATUS_ORDER]
    if baseline is not None:
        tiles += [
            ("new failures", scan.failing["new"]),
            ("known failures", scan.failing["known"]),
            ("resolved problems", baseline.get("resolved", 0)),
        ]
    cells = "".join(
        f'<div class="tile" id="count-{h(label).replace(" ", "-")}"><b>{h(n)}</b>{h(label)}</div>'
        for label, n in tiles
    )
    return f'<div class="tiles" id="summary">{cells}</div>\n'


def _run(
    doc: dict[str, Any], collection_errors: list[dict[str, Any]], baseline: dict[str, Any] | None
) -> Iterator[str]:
    tool = doc.get("tool") or {}
    coverage = doc.get("coverage") or {}
    rules = doc.get("rules") or []
    items = [
        ("Tool", f"{h(tool.get('name', 'rdsiam'))} {h(tool.get('version', ''))}"),
    ]
    if tool.get("rules_sha256"):
        items.append(("Rules SHA-256", f'<span class="mono">{h(tool["rules_sha256"])}</span>'))
    items += [
        ("Evaluated at", h(doc.get("generated_at", ""))),
        (
            f"Rules ({len(rules)})",
            ", ".join(f'<a href="#rule-{h(r["id"])}">{h(r["id"])}</a>' for r in rules)
            or _none("none"),
        ),
        ("Accounts", h(", ".join(coverage.get("accounts") or [])) or _none("none")),
        ("Regions", h(", ".join(coverage.get("regions") or [])) or _none("none")),
        ("Report format", f"{h(doc.get('format', ''))} version {h(doc.get('version', ''))}"),
    ]
    if baseline is not None:
        items.append(
            (
                "Baseline",
                f"{h(baseline.get('path', ''))} "
                f'<span class="mono">{h(baseline.get("sha256", ""))}</span>: '
                f"{h(baseline.get('new', 0))} new and {h(baseline.get('known', 0))} known"
                f" findings, {h(baseline.get('resolved', 0))} problems resolved",
            )
        )
    yield '<section id="run">\n<h2>Run</h2>\n<dl class="meta">\n'
    yield "".join(f"<dt>{k}</dt><dd>{v}</dd>\n" for k, v in items)
    yield "</dl>\n<h3>Inputs</h3>\n"
    inputs = doc.get("inputs") or []
    if inputs:
        yield _table_head(("Path", "Kind", "SHA-256"), "inputs-table")
        for i in inputs:
            yield (
                f"<tr><td>{h(i.get('path'))}</td><td>{h(i.get('kind'))}</td>"
                f'<td class="mono">{h(i.get("sha256"))}</td></tr>\n'
            )
        yield "</tbody></table>\n"
    else:
        yield f"<p>{_none('No input files (live collection).')}</p>\n"
    yield "<h3>Collection errors</h3>\n"
    if collection_errors:
        yield (
            "<p>These accounts, Regions or sections were not read; checks that need them"
            " are errors, not passes.</p>\n"
        )
        yield _table_head(
            ("Account", "Region", "Operation", "Code", "Message"), "collection-errors-table"
        )
        for e in collection_errors:
            cells = (e.get(k) for k in ("account_id", "region", "operation", "code", "message"))
            yield "<tr>" + "".join(f"<td>{h(c)}</td>" for c in cells) + "</tr>\n"
        yield "</tbody></table>\n"
    else:
        yield f"<p>{_none('None.')}</p>\n"
    yield "</section>\n"


def _controls(doc: dict[str, Any]) -> Iterator[str]:
    rows = control_rows(doc)
    yield '<section id="controls">\n<h2>Controls</h2>\n'
    if not rows:
        yield f"<p>{_none('No rule of this report maps to a control.')}</p>\n</section>\n"
        return
    counted = ("pass", "fail", "waived", "error", "not_applicable")
    yield _table_head(
        ("Control", "Framework", "Title", "Status", *(STATUS_LABEL[s] for s in counted), "Rules"),
        "controls-table",
        numeric=range(4, 4 + len(counted)),
    )
    for c in rows:
        summary = c.get("summary") or {}
        status = str(c.get("status", ""))
        rules = ", ".join(f'<a href="#rule-{h(r)}">{h(r)}</a>' for r in c.get("rules") or [])
        if c.get("rules_not_evaluated"):
            skipped = ", ".join(str(r) for r in c["rules_not_evaluated"])
            rules += f'<div class="sub">not evaluated: {h(skipped)}</div>'
        yield (
            f'<tr data-control="{h(c.get("id"))}"><td>{_link(c.get("id"), c.get("url"))}</td>'
            f"<td>{h(c.get('framework'))}</td><td>{h(c.get('title'))}</td>"
            f'<td class="st-{h(status)}">{h(STATUS_LABEL.get(status, status))}</td>'
            + "".join(f'<td class="num">{h(summary.get(s, 0))}</td>' for s in counted)
            + f"<td>{rules}</td></tr>\n"
        )
    yield "</tbody></table>\n</section>\n"


def _rules(doc: dict[str, Any], scan: _Scan) -> Iterator[str]:
    yield '<section id="rules">\n<h2>Rules</h2>\n'
    counted = ("fail", "error", "waived", "pass", "not_applicable")
    yield _table_head(
        ("Rule", "Name", "Title", "Severity", "Controls", *(STATUS_LABEL[s] for s in counted)),
        "rules-table",
        numeric=range(5, 5 + len(counted)),
    )
    for r in doc.get("rules") or []:
        tally = scan.by_rule.get(r["id"], Counter())
        yield (
            f'<tr id="rule-{h(r["id"])}"><td>{_link(r["id"], r.get("source_url"))}</td>'
            f"<td>{h(r.get('name'))}</td><td>{h(r.get('title'))}</td>"
            f"<td>{h(r.get('severity'))}</td><td>{h(', '.join(r.get('controls') or []))}</td>"
            + "".join(f'<td class="num">{tally[s]}</td>' for s in counted)
            + "</tr>\n"
        )
    yield "</tbody></table>\n</section>\n"


def _access(rows: list[dict[str, Any]] | None) -> Iterator[str]:
    yield '<section id="access">\n<h2>Access matrix</h2>\n'
    if not rows:
        text = (
            "No IAM policy in the inputs grants rds-db:connect."
            if rows == []
            else ("The inputs have no IAM section, so the report has no access matrix.")
        )
        yield f"<p>{_none(text)}</p>\n</section>\n"
        return
    yield "<p>Who can connect as which database user, from the IAM policies.</p>\n"
    yield _table_head(
        (
            "Principal",
            "DB user",
            "Database",
            "Region",
            "Account",
            "Policy / statement",
            "Via",
            "Databases matched",
            "Target IAM auth",
            "Assumable by",
            "Conditions",
            "Notes",
        ),
        "access-table",
        numeric=(7,),
    )
    for row in rows:
        database = row.get("database") or row.get("resource_id")
        db_type = row.get("database_type")
        conditions = row.get("conditions")
        enabled = row.get("target_iam_enabled")
        iam = "enabled" if enabled is True else "disabled" if enabled is False else "unknown"
        if row.get("target_exists") is False:
            iam = "no such database"
        yield (
            f"<tr><td>{h(row.get('principal'))}"
            f'<div class="sub">{h(row.get("principal_type"))}</div></td>'
            f"<td>{h(row.get('db_user'))}</td>"
            f"<td>{h(database)}"
            + (f'<div class="sub">{h(db_type)}</div>' if db_type else "")
            + f"</td><td>{h(row.get('region'))}</td><td>{h(row.get('account_id'))}</td>"
            f'<td>{h(row.get("policy"))}<div class="sub">{h(row.get("statement"))}</div></td>'
            f"<td>{h(row.get('via'))}</td>"
            f'<td class="num">{h(row.get("databases_matched"))}</td><td>{h(iam)}</td>'
            f"<td>{h(', '.join(row.get('assumable_by') or []))}</td>"
            f"<td>{_pre(conditions) if conditions else ''}</td>"
            f"<td>{h('; '.join(row.get('notes') or []))}</td></tr>\n"
        )
    yield "</tbody></table>\n</section>\n"


def _waivers(doc: dict[str, Any]) -> Iterator[str]:
    yield '<section id="waivers">\n<h2>Waivers</h2>\n'
    waivers = [w for w in doc.get("waivers") or [] if isinstance(w, dict)]
    if not waivers:
        yield f"<p>{_none('No waivers.')}</p>\n</section>\n"
        return
    yield _table_head(
        (
            "Rule",
            "Resource",
            "Reason",
            "Owner",
            "Expires",
            "Ticket",
            "State",
            "Matched",
            "Source",
        ),
        "waivers-table",
        numeric=(7,),
    )
    for w in waivers:
        source = w.get("source") or {}
        place = source.get("path") or ""
        if source.get("line"):
            place = f"{place}:{source['line']}"
        state = str(w.get("state", ""))
        yield (
            f'<tr data-state="{h(state)}"><td>{h(w.get("rule"))}</td>'
            f'<td class="mono">{h(w.get("resource"))}</td><td>{h(w.get("reason"))}</td>'
            f"<td>{h(w.get('owner'))}</td><td>{h(w.get('expires'))}</td>"
            f"<td>{h(w.get('ticket'))}</td><td>{h(state)}</td>"
            f'<td class="num">{h(w.get("matched", ""))}</td><td>{h(place)}</td></tr>\n'
        )
    yield "</tbody></table>\n</section>\n"


def _findings(report: Report, doc: dict[str, Any], scan: _Scan, baseline: bool) -> Iterator[str]:
    yield '<section id="findings">\n<h2>Findings</h2>\n<div class="filters">\n'
    yield _select("status", "Status", [(s, STATUS_LABEL[s], scan.status[s]) for s in STATUS_ORDER])
    severities = [s.value for s in Severity]
    yield _select("severity", "Severity", [(s, s, scan.options["severity"][s]) for s in severities])
    names = {r["id"]: r.get("name", "") for r in doc.get("rules") or []}
    rule_ids = sorted(set(names) | set(scan.options["rule"]))
    yield _select(
        "rule",
        "Rule",
        [(r, f"{r} {names.get(r, '')}".strip(), scan.options["rule"][r]) for r in rule_ids],
    )
    coverage = doc.get("coverage") or {}
    for key, label, covered in (
        ("account", "Account", coverage.get("accounts") or []),
        ("region", "Region", coverage.get("regions") or []),
    ):
        seen = set(scan.options[key]) | {str(v) for v in covered}
        values = sorted(seen - {NONE}) + ([NONE] if NONE in seen else [])
        options = [(v, "(none)" if v == NONE else v, scan.options[key][v]) for v in values]
        yield _select(key, label, options)
    yield '<button type="button" id="filter-reset">Reset filters</button>\n</div>\n'
    yield (
        f'<p id="findings-count" aria-live="polite">{scan.total} of {scan.total}'
        " findings shown</p>\n"
    )
    columns = ["Status", "Severity", "Rule", "Account", "Region", "Resource", "Location"]
    columns += ["Message", "Waiver"] + (["Baseline"] if baseline else [])
    yield _table_head(columns, "findings-table")
    yield from _rows(report, baseline)
    yield "</tbody></table>\n"
    if not scan.total:
        yield f"<p>{_none('No findings.')}</p>\n"
    yield "</section>\n"


def _rows(report: Report, baseline: bool) -> Iterator[str]:
    """One ``<tr>`` per finding. The row's start (its filter attributes and first five cells)
    depends on a handful of values that repeat across thousands of rows: made once each."""
    starts: dict[tuple[str, ...], str] = {}
    types: dict[str, str] = {}
    for finding in report.findings:
        f = finding_dict(finding)
        r = f.get("resource") or {}
        status = shown_status(f)
        key = (
            status,
            str(f.get("severity") or ""),
            str(f.get("rule_id") or ""),
            str(r.get("account_id") or ""),
            str(r.get("region") or ""),
        )
        start = starts.get(key)
        if start is None:
            if len(starts) > 50_000:  # bound the memo on reports with endless combinations
                starts.clear()
            start = starts[key] = _row_start(*key)
        kind = str(r.get("type") or "")
        sub = types.get(kind)
        if sub is None:
            sub = types[kind] = f'<div class="sub">{h(kind)}</div>'
        arn = r.get("arn")
        evidence = f.get("evidence")
        title = f' title="{h(arn)}"' if arn else ""
        cells = [
            f"{start}<td{title}>{t(r.get('id'))}{sub}</td>",
            t(where(f)),
            t(f.get("message"))
            + (
                f"<details><summary>evidence</summary>{_pre(evidence)}</details>"
                if evidence
                else ""
            ),
            _waiver(f.get("waiver"), status),
        ]
        if baseline:
            cells.append(h(f.get("baseline")))
        yield cells[0] + "<td>" + "</td><td>".join(cells[1:]) + "</td></tr>\n"


def _row_start(status: str, severity: str, rule: str, account: str, region: str) -> str:
    attrs = (
        f'data-status="{h(status)}" data-severity="{h(severity)}" data-rule="{h(rule)}"'
        f' data-account="{h(account or NONE)}" data-region="{h(region or NONE)}"'
    )
    cells = (
        h(STATUS_LABEL.get(status, status)),
        h(severity),
        f'<a href="#rule-{h(rule)}">{h(rule)}</a>',
        h(account),
        h(region),
    )
    return f"<tr {attrs}><td>" + "</td><td>".join(cells) + "</td>"


def _waiver(waiver: Any, status: str) -> str:
    if not isinstance(waiver, dict):
        return ""
    until = h(waiver.get("expires"))
    if status != "waived":
        return f"expired waiver (until {until})" if status == "fail" else f"waiver until {until}"
    ticket = f", {h(waiver['ticket'])}" if waiver.get("ticket") else ""
    owner = h(waiver.get("owner") or "no owner")
    reason = h(waiver.get("reason") or "no reason given")
    return f'{reason}<div class="sub">{owner}, until {until}{ticket}</div>'


def _select(key: str, label: str, options: list[tuple[str, str, int]]) -> str:
    items = "".join(
        f'<option value="{h(value)}">{h(text)} ({n})</option>' for value, text, n in options
    )
    return (
        f'<label>{label}<select id="filter-{key}" data-filter="{key}" autocomplete="off">'
        f'<option value="">all</option>{items}</select></label>\n'
    )


def _table_head(columns: Iterable[str], table_id: str, numeric: Iterable[int] = ()) -> str:
    right = set(numeric)
    heads = "".join(
        ('<th class="num">' if i in right else "<th>") + f"{h(c)}</th>"
        for i, c in enumerate(columns)
    )
    return f'<table id="{table_id}"><thead><tr>{heads}</tr></thead><tbody>\n'


def _link(text: Any, url: Any) -> str:
    """A link the reader may follow (http and https only), else the text."""
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return f'<a href="{h(url)}" rel="noopener noreferrer">{h(text)}</a>'
    return h(text)


def _pre(value: Any) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:  # integers beyond 64 bits in a policy condition, say
        text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return f"<pre>{t(text)}</pre>"


def _none(text: str) -> str:
    return f'<span class="none">{h(text)}</span>'
