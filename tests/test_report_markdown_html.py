"""``--format markdown`` and ``--format html``: the real command line on the example, crafted
reports for what the example does not have (waivers, baseline, controls, awkward text, size),
and the HTML page in a real headless Chromium, driven over the DevTools protocol.

The browser test needs ``chromium`` (or ``chromium-browser`` / ``google-chrome``, or the
binary named by RDSIAM_CHROMIUM); it skips without one unless RDSIAM_REQUIRE_CHROMIUM=1
(.ci/run sets it after installing Debian's chromium). Its screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, assert_example_reproducible, check_example, run_cli

from checker.model.report import InputFile, Report
from checker.report import FORMATS, html, markdown
from checker.rule import Finding, Location, Resource, Severity, Status
from rules import ALL_RULES

EXAMPLE = str(ROOT / "examples" / "snapshot.json")
AS_OF = "2026-11-28T12:00:00Z"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
RULES = {r.id: r for r in ALL_RULES}

# Text a resource or a message could carry (an IAM policy name, a tag) that must stay text.
NASTY_ID = "ops|<script>window.__pwned=1</script>"
NASTY_MESSAGE = (
    "policy 'a|b' statement `x` grants *all* <img src=x onerror=\"window.__pwned=2\"> & more"
    " [link](javascript:alert(1)) ~~gone~~ _under_ cc @octocat \\ end"
)


_check = check_example


@pytest.fixture(scope="module")
def markdown_text() -> str:
    code, out = _check("--format", "markdown")
    assert code == 1
    return out


@pytest.fixture(scope="module")
def html_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    code, stdout = _check("--format", "html", "--output", str(out))
    assert code == 1 and stdout == ""
    return out


# -- crafted reports ----------------------------------------------------------------------------


def _finding(
    rule_id: str = "RIA101",
    status: Status = Status.FAIL,
    resource_id: str = "orders",
    message: str | None = None,
    **kwargs: Any,
) -> Finding:
    region = kwargs.pop("region", "us-east-1")
    resource = Resource("AWS::RDS::DBInstance", resource_id, None, "123456789012", region)
    text = message or f"DB instance '{resource_id}' has IAM database authentication disabled"
    finding = Finding(rule_id, status, kwargs.pop("severity", Severity.MEDIUM), resource, text)
    for key, value in kwargs.items():
        setattr(finding, key, value)
    finding.id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"rdsiam-test/{rule_id}/{resource_id}"))
    return finding


def _report(*findings: Finding, **fields: Any) -> Report:
    return Report(
        generated_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        rules=[RULES["RIA101"], RULES["RIA102"]],
        findings=list(findings),
        inputs=[InputFile("snap.json", "snapshot", "ab" * 32)],
        accounts=["123456789012"],
        regions=["us-east-1"],
        **fields,
    )


def _waiver(state: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "rule": "RIA101",
        "resource": "orders*",
        "reason": kwargs.get("reason", "migration to IAM in Q1"),
        "owner": "dba-team@example.com",
        "expires": "2027-01-31" if state == "active" else "2026-01-31",
        "ticket": "OPS-42",
        "source": {"path": ".rdsiam.yaml", "line": 7},
        "state": state,
    }


def _crafted() -> Report:
    """Two waived failures, one with an expired waiver, a pass, an error, a nasty message;
    against a baseline that had all but the nasty failure and the error."""
    active, expired = _waiver("active"), _waiver("expired")
    known: dict[str, Any] = {"baseline": "known"}
    findings = [
        _finding(resource_id="orders", waiver=active, **known),
        _finding(resource_id="orders-2", waiver=dict(active, reason="<b>bold</b> | pipe"), **known),
        _finding(resource_id="orders-old", waiver=expired, **known),
        _finding(
            resource_id=NASTY_ID, message=NASTY_MESSAGE, severity=Severity.HIGH, baseline="new"
        ),
        _finding(status=Status.PASS, resource_id="billing", message="billing is fine", **known),
        _finding("RIA102", Status.ERROR, "inventory", "DBClusters not collected", baseline="new"),
    ]
    waivers = [
        dict(active, matched=2),
        dict(expired, matched=1),
        dict(_waiver("stale", reason="nothing left"), resource="gone", matched=0),
    ]
    controls = [
        {
            "id": "AWS-FSBP:RDS.10",
            "framework": "AWS-FSBP",
            "title": "IAM authentication should be configured for RDS instances",
            "url": "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html",
            "rules": ["RIA101"],
            "summary": {"pass": 1, "fail": 2, "not_applicable": 0, "error": 0, "waived": 2},
            "status": "fail",
        },
        {
            "id": "NIST-800-53r5:AC-2",
            "framework": "NIST-800-53r5",
            "title": "Account Management <x>",
            "url": "javascript:alert(1)",
            "rules": ["RIA102"],
            "summary": {"pass": 0, "fail": 0, "not_applicable": 0, "error": 1, "waived": 0},
            "status": "error",
        },
    ]
    baseline = {"path": "baseline.json", "sha256": "cd" * 32, "new": 2, "known": 4, "resolved": 3}
    return _report(*findings, controls=controls, waivers=waivers, baseline=baseline)


# -- Markdown ------------------------------------------------------------------------------------


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _table_rows(text: str, header: str, *, every: bool = False) -> list[list[str]]:
    """The cells of each row of the first table whose header line starts with ``header``
    (``every``: of all such tables, one after the other)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(header)]
    rows = []
    for start in starts if every else starts[:1]:
        width = len(_UNESCAPED_PIPE.findall(lines[start]))
        for line in lines[start + 2 :]:
            if not line.startswith("|"):
                break
            assert len(_UNESCAPED_PIPE.findall(line)) == width, line  # no cell broke the table
            rows.append([c.strip() for c in _UNESCAPED_PIPE.split(line)[1:-1]])
    assert starts, header
    return rows


def test_markdown_verdict_and_counts(markdown_text: str, json_report: dict[str, Any]) -> None:
    first = markdown_text.splitlines()[0]
    summary = json_report["summary"]
    assert first == (
        f"## ❌ rdsiam FAIL: {summary['fail']} failing findings, {summary['error']} checks not"
        " completed, 1 collection error"
    )
    (row,) = _table_rows(markdown_text, "| Pass | Fail | Waived | Not applicable | Error |")
    assert row == [str(summary[k]) for k in ("pass", "fail")] + ["0"] + [
        str(summary[k]) for k in ("not_applicable", "error")
    ]
    assert f"{len(json_report['rules'])} rules" in markdown_text
    assert "evaluated at 2026-11-28T12:00:00Z" in markdown_text


def test_markdown_lists_every_failure_with_its_remediation_once(
    markdown_text: str, json_report: dict[str, Any]
) -> None:
    failing = [f for f in json_report["findings"] if f["status"] == "fail"]
    failing_rules = {f["rule_id"] for f in failing}
    failures = markdown_text[: markdown_text.index("### Errors")]
    for f in failing:
        assert markdown.md(f["message"]) in failures, f["message"]
    assert (
        "| medium | billing | 123456789012 | us-east-1 | - | DB instance 'billing' (mysql"
        " 8.0.35) has IAM database authentication disabled |" in failures
    )
    for rule_id in failing_rules:
        fix = RULES[rule_id].sections()["Remediation"]
        assert fix and failures.count(fix) == 1, rule_id
        assert failures.count(f"#### {rule_id} ") == 1
    assert failures.count("**How to fix**") == len(failing_rules)
    # most severe rule first
    order = re.findall(r"^#### (RIA\d+) ", failures, flags=re.M)
    ranks = [RULES[r].severity.rank for r in order]
    assert ranks == sorted(ranks, reverse=True)


def test_markdown_errors_then_collapsed_passes(
    markdown_text: str, json_report: dict[str, Any]
) -> None:
    errors = [f for f in json_report["findings"] if f["status"] == "error"]
    rows = _table_rows(markdown_text, "| Rule | Resource | Account | Region | Message |")
    assert len(rows) == len(errors)
    assert [r[0] for r in rows] == [f["rule_id"] for f in errors]
    (collection,) = _table_rows(markdown_text, "| Account | Region | Operation | Code |")
    assert collection[:4] == ["123456789012", "eu-west-1", "DescribeDBProxies", "AccessDenied"]
    passing = markdown_text.index("<summary>✅ 62 findings passing")
    assert markdown_text.index("### Errors") < passing
    assert markdown_text.count("<details>") == markdown_text.count("</details>") >= 2
    na = Counter(f["rule_id"] for f in json_report["findings"] if f["status"] == "not_applicable")
    assert f"<summary>➖ {sum(na.values())} findings not applicable, in {len(na)} rules" in (
        markdown_text
    )
    assert "Truncated" not in markdown_text


def test_markdown_waivers_baseline_controls_and_escaping() -> None:
    text = "".join(markdown.render(_crafted()))
    assert text.startswith(
        "## ❌ rdsiam FAIL: 1 new failing finding (1 known, 2 waived failures),"
        " 1 check not completed\n"
    )
    header = "| Pass | Fail | Waived | Not applicable | Error | New failures | Known failures |"
    assert _table_rows(text, header) == [["1", "2", "2", "0", "1", "1", "1", "3"]]
    assert "Baseline: baseline.json" in text
    assert "1 failure has an expired waiver, so it counts again." in text
    rows = _table_rows(text, "| Severity | Resource |")
    assert [r[1] for r in rows] == [markdown.md(NASTY_ID), "orders-old"]  # new ones first
    assert rows[0][-1] == "new" and rows[1][-1] == "known"
    assert rows[1][5].endswith(" *(waiver expired 2026-01-31)*")
    # nothing from the report is live Markdown or HTML
    nasty = rows[0][5]
    for raw in ("<img", "<script", "`x`", "*all*", "[link]", "~~gone~~", "_under_", "@octo"):
        assert raw not in text
    assert "cc @\u2060octocat" in nasty and "dba-team@example.com" in text  # no mention
    assert nasty.startswith("policy 'a\\|b' statement \\`x\\` grants \\*all\\* &lt;img src=x")
    assert "ops\\|&lt;script&gt;window.\\_\\_pwned=1&lt;/script&gt;" in text
    waived = _table_rows(text, "| Rule | Resource | Reason | Owner | Expires | Ticket |")
    assert sorted(r[1] for r in waived) == ["orders", "orders-2"]
    assert waived[1][:3] == ["RIA101", "orders-2", "&lt;b&gt;bold&lt;/b&gt; \\| pipe"]
    assert "<summary>🔕 2 waived failures</summary>" in text
    stale = _table_rows(text, "| Rule | Resource | State |")
    assert [r[2] for r in stale] == ["expired", "stale"]
    controls = _table_rows(text, "| Control | Status |")
    assert controls[0][0].startswith("[AWS-FSBP:RDS.10](https://docs.aws.amazon.com/")
    assert controls[1][0] == "NIST-800-53r5:AC-2 Account Management &lt;x&gt;"  # no js: link
    assert controls[1][1] == "error"


def test_markdown_without_failures() -> None:
    waived = _finding(waiver=_waiver("active"))
    text = "".join(markdown.render(_report(waived, _finding(status=Status.PASS, resource_id="b"))))
    assert text.startswith("## ✅ rdsiam PASS: no failures (1 waived failure)\n")
    assert "### Failing findings" not in text
    text = "".join(markdown.render(_report(_finding("RIA102", Status.ERROR))))
    assert text.startswith("## ⚠️ rdsiam INCOMPLETE: no failures, but 1 check not completed\n")
    assert "".join(markdown.render(_report())).startswith("## ✅ rdsiam PASS: no failures\n")
    # with a baseline, the failures it already had do not fail the run (nor the exit code)
    old = {"path": "old.json", "sha256": "ef" * 32, "new": 0, "known": 1, "resolved": 0}
    text = "".join(markdown.render(_report(_finding(baseline="known"), baseline=old)))
    assert text.startswith("## ✅ rdsiam PASS: no new failures (1 known)\n")


def test_markdown_all_lists_each_pass(markdown_text: str, json_report: dict[str, Any]) -> None:
    code, text = _check("--format", "markdown", "--all")
    assert code == 1
    rows = _table_rows(text, "| Rule | Resource | Account | Region | Message |", every=True)
    passes = [f for f in json_report["findings"] if f["status"] == "pass"]
    listed = {(r[0], r[1], r[4]) for r in rows}
    md = markdown.md
    assert {(f["rule_id"], md(f["resource"]["id"]), md(f["message"])) for f in passes} <= listed
    # without --all: one row per rule
    per_rule = _table_rows(markdown_text, "| Rule | Findings | Resources |")
    assert sum(int(r[1]) for r in per_rule) == len(passes)


WAIVERS = """
[[waivers]]
rule = "RIA601"
resource = "rep*"
reason = "Kerberos <migration> | IAM stays until Q1"
owner = "db-team@example.com"
expires = 2027-01-31
ticket = "SEC-101"

[[waivers]]
rule = "RIA101"
resource = "no-such-db"
reason = "decommissioned"
owner = "ops"
expires = 2027-06-30
"""


def test_waivers_and_baseline_through_the_cli(tmp_path: Path) -> None:
    """The engine's waivers and baseline as both formats show them: the baseline is the
    example's report without the 4xx rules, so their failures are the new ones."""
    waivers, base = tmp_path / "w.toml", tmp_path / "base.json"
    waivers.write_text(WAIVERS, encoding="utf-8")
    assert _check("--ignore", "RIA4", "--format", "json", "--output", str(base)) == (1, "")
    options = ("--waivers", str(waivers), "--baseline", str(base))
    outputs = {fmt: _check(*options, "--format", fmt) for fmt in ("json", "markdown", "html")}
    assert {code for code, _ in outputs.values()} == {1}
    doc = json.loads(outputs["json"][1])
    findings = doc["findings"]
    waived = [f for f in findings if f["waiver"] and f["waiver"]["state"] == "active"]
    failing = [f for f in findings if f["status"] == "fail" and f not in waived]
    new = [f for f in failing if f["baseline"] == "new"]
    assert len(waived) == 1 and new and {f["rule_id"][:4] for f in new} == {"RIA4"}
    known = len(failing) - len(new)
    verdict = (
        f"FAIL: {len(new)} new failing findings ({known} known, 1 waived failure),"
        f" {doc['summary']['error']} checks not completed, 1 collection error"
    )

    text = outputs["markdown"][1]
    assert text.splitlines()[0] == f"## ❌ rdsiam {verdict}"
    counts = _table_rows(text, "| Pass | Fail | Waived | Not applicable | Error | New failures")
    summary = doc["summary"]
    assert counts == [
        [str(n) for n in (summary["pass"], len(failing), 1, summary["not_applicable"])]
        + [str(n) for n in (summary["error"], len(new), known, doc["baseline"]["resolved"])]
    ]
    marks = [r[-1] for r in _table_rows(text, "| Severity | Resource |", every=True)]
    assert marks == ["new"] * len(new) + ["known"] * known  # new failures first
    (row,) = _table_rows(text, "| Rule | Resource | Reason | Owner | Expires | Ticket |")
    assert row == [
        "RIA601",
        "reports",
        "Kerberos &lt;migration&gt; \\| IAM stays until Q1",
        "db-team@example.com",
        "2027-01-31",
        "SEC-101",
    ]
    (stale,) = _table_rows(text, "| Rule | Resource | State |")
    assert stale[:3] == ["RIA101", "no-such-db", "stale"]

    page = _assert_self_contained(outputs["html"][1])
    assert f'id="verdict">{verdict}</p>' in outputs["html"][1]
    assert Counter(r["data-status"] for r in page.rows) == Counter(
        "waived" if f in waived else f["status"] for f in findings
    )
    assert [c[-1] for c in page.cells] == [f["baseline"] for f in findings]
    assert "Kerberos &lt;migration&gt; | IAM stays until Q1" in outputs["html"][1]
    assert '<tr data-state="stale"><td>RIA101</td>' in outputs["html"][1]


def test_markdown_stays_within_a_github_comment() -> None:
    findings = [
        _finding(rule.id, resource_id=f"db-{i:04d}", message=f"{rule.id} {'x' * 300} {i}")
        for rule in ALL_RULES
        for i in range(60)
    ]
    findings += [_finding(status=Status.PASS, resource_id=f"ok-{i}") for i in range(5000)]
    report = _report(*findings)
    report.rules = list(ALL_RULES)
    text = "".join(markdown.render(report))
    assert len(text) <= 65_536
    assert len(text) > markdown.LIMIT - 2_000  # filled up, not cut early
    assert "… and 40 more." in text  # 60 per rule, 20 listed
    assert text.count("<details>") == text.count("</details>")
    listed = len(re.findall(r"^\| medium \| db-", text, flags=re.M))
    assert 0 < listed < len(findings)
    assert text.rstrip().endswith(
        f"**Truncated** to stay within GitHub's comment size limit: {listed} of"
        f" {len(ALL_RULES) * 60} failing findings listed, later sections left out. The full"
        " report (`--format json` or `--format html`) has every finding."
    )
    # one endless message cannot take the whole comment
    long = "".join(markdown.render(_report(_finding(message="y" * 200_000))))
    assert len(long) < 5_000 and "y" * (markdown.CELL - 1) + "…" in long


def test_markdown_and_html_are_byte_identical_across_runs(tmp_path: Path) -> None:
    for fmt in ("markdown", "html"):
        assert_example_reproducible(tmp_path, fmt)
    crafted = ["".join(html.render(_crafted())) for _ in range(2)]
    assert crafted[0] == crafted[1]


def test_formats_are_listed() -> None:
    assert {"markdown", "html"} <= set(FORMATS)
    proc = run_cli("check", "--help")
    assert "markdown" in proc.stdout and "html" in proc.stdout


# -- HTML, parsed --------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Every tag with its attributes, the style and script texts, and the findings rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, list[str]] = {"style": [], "script": []}
        self.rows: list[dict[str, str | None]] = []
        self.cells: list[list[str]] = []
        self.titles: list[list[str | None]] = []  # each findings cell's title attribute
        self._in: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append((tag, values))
        if tag in self.texts:
            self._in = tag
            self.texts[tag].append("")
        if tag == "table":
            self._table = values.get("id")
        if tag == "tr" and self._table == "findings-table" and "data-status" in values:
            self.rows.append(values)
            self.cells.append([])
            self.titles.append([])
        if tag == "td" and self._table == "findings-table" and self.cells:
            self._cell = []
            self.titles[-1].append(values.get("title"))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None
        if tag == "table":
            self._table = None
        if tag == "td" and self._cell is not None:
            self.cells[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.texts[self._in][-1] += data
        if self._cell is not None:
            self._cell.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _assert_self_contained(text: str) -> _Page:
    """Nothing on the page is fetched from anywhere; links are only ones a reader clicks."""
    page = _parse(text)
    assert not re.search(r"@import|url\s*\(", text, flags=re.I)
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed", "base", "source", "video")
        for name in ("src", "srcset", "data", "poster", "action", "formaction", "background"):
            assert name not in attrs, (tag, name)
        assert not any(n.startswith("on") for n in attrs), (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert tag == "a", (tag, href)
            assert href.startswith("#") or re.match(r"https?://", href), href
        if tag == "meta" and attrs.get("http-equiv") == "refresh":
            pytest.fail("meta refresh")
    # the policy allows exactly the page's own style and script, by their hashes
    (csp,) = [
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp is not None and "default-src 'none'" in csp
    for kind in ("style", "script"):
        (body,) = page.texts[kind]
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in csp
    return page


def test_html_is_self_contained_and_shows_the_run(
    html_file: Path, json_report: dict[str, Any]
) -> None:
    text = html_file.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>\n")
    page = _assert_self_contained(text)
    assert 'id="verdict">FAIL: 21 failing findings, 14 checks not completed' in text
    (source,) = json_report["inputs"]
    assert f"<td>{source['path']}</td><td>snapshot</td>" in text
    assert f'<td class="mono">{source["sha256"]}</td>' in text
    assert "<dt>Evaluated at</dt><dd>2026-11-28T12:00:00Z</dd>" in text
    assert "<dt>Regions</dt><dd>eu-west-1, us-east-1</dd>" in text
    assert f"<dt>Rules ({len(json_report['rules'])})</dt>" in text
    assert "DescribeDBProxies</td><td>AccessDenied</td>" in text
    # rule source links are links, not loads
    hrefs = {a.get("href") or "" for t, a in page.tags if t == "a"}
    links = {href for href in hrefs if not href.startswith("#")}
    assert {r["source_url"] for r in json_report["rules"]} <= links


def test_html_findings_rows_are_the_report(html_file: Path, json_report: dict[str, Any]) -> None:
    page = _parse(html_file.read_text(encoding="utf-8"))
    findings = json_report["findings"]
    assert len(page.rows) == len(findings)
    for row, cells, titles, f in zip(page.rows, page.cells, page.titles, findings, strict=True):
        resource = f["resource"]
        assert row["data-status"] == f["status"]  # no waivers in the example
        assert row["data-severity"] == f["severity"]
        assert row["data-rule"] == f["rule_id"]
        assert row["data-account"] == (resource["account_id"] or "-")
        assert row["data-region"] == (resource["region"] or "-")
        assert cells[3:6] == [
            resource["account_id"] or "",
            resource["region"] or "",
            resource["id"] + resource["type"],  # the id, then its type below
        ]
        assert titles[5] == resource["arn"]
        assert cells[7].startswith(f["message"])  # the message, then its evidence
        if f["evidence"]:
            assert json.loads(cells[7][len(f["message"]) + len("evidence") :]) == f["evidence"]
    text = html_file.read_text(encoding="utf-8")
    assert f"{len(findings)} of {len(findings)} findings shown" in text
    summary = json_report["summary"]
    for status, label in (("pass", "pass"), ("fail", "fail"), ("error", "error")):
        assert f'id="count-{label}"><b>{summary[status]}</b>' in text
    assert f'id="count-not-applicable"><b>{summary["not_applicable"]}</b>' in text
    # the control table (derived from the rules while the report has no "controls")
    assert '<tr data-control="AWS-FSBP:RDS.10">' in text
    assert "arn:aws:iam::123456789012:role/orders-app" in text  # the access matrix


def test_html_crafted_report_escapes_everything() -> None:
    text = "".join(html.render(_crafted()))
    page = _assert_self_contained(text)
    assert "<script>window" not in text and "<img" not in text and "<b>bold" not in text
    nasty = next(c for c in page.cells if c[5].startswith(NASTY_ID))
    assert nasty[5] == NASTY_ID + "AWS::RDS::DBInstance"  # the id, then its type
    assert nasty[7] == NASTY_MESSAGE
    assert [r["data-status"] for r in page.rows] == [
        "waived",
        "waived",
        "fail",
        "fail",
        "pass",
        "error",
    ]
    assert "&lt;b&gt;bold&lt;/b&gt; | pipe" in text
    assert "expired waiver (until 2026-01-31)" in text
    assert '<tr data-state="stale">' in text and "<td>.rdsiam.yaml:7</td>" in text
    assert "<dt>Baseline</dt><dd>baseline.json" in text
    assert "2 new and 4 known findings, 3 problems resolved" in text
    assert [c[-1] for c in page.cells] == ["known", "known", "known", "new", "known", "new"]
    for label, n in (("new-failures", 1), ("known-failures", 1), ("resolved-problems", 3)):
        assert f'id="count-{label}"><b>{n}</b>' in text
    assert 'id="verdict">FAIL: 1 new failing finding (1 known, 2 waived failures)' in text
    # a control url that is not http(s) is not a link
    assert "<td>NIST-800-53r5:AC-2</td>" in text and 'href="javascript' not in text


def test_html_streams_large_reports() -> None:
    findings = [_finding(resource_id=f"db-{i:05d}") for i in range(20_000)]
    chunks = list(html.render(_report(*findings)))
    assert len(chunks) > 20 and max(len(c) for c in chunks) < 2 * 65_536
    text = "".join(chunks)
    assert "20000 of 20000 findings shown" in text
    assert text.count("<tr data-status=") == 20_000


def test_html_location_of_a_template_finding() -> None:
    finding = _finding(location=Location("stack.yaml", 12))
    page = _parse("".join(html.render(_report(finding))))
    assert page.cells[0][6] == "stack.yaml:12"


# -- HTML in headless Chromium ---------------------------------------------------------------


class _DevTools:
    """A minimal Chrome DevTools Protocol client: JSON messages over one WebSocket (RFC 6455,
    text frames, client frames masked), with the standard library only."""

    _GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url: str, timeout: float = 15.0) -> None:
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname and parts.port
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.split(b"\r\n")[0].split()[1] == b"101", head
        accept = base64.b64encode(hashlib.sha1((key + self._GUID).encode()).digest()).decode()
        headers = dict(
            line.decode().split(":", 1) for line in head.split(b"\r\n")[1:] if b":" in line
        )
        answer = {k.strip().lower(): v.strip() for k, v in headers.items()}
        assert answer.get("sec-websocket-accept") == accept, head
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _recv(self) -> bytes:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("DevTools closed the connection")
        return data

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, payload: bytes, opcode: int = 1) -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def _message(self) -> dict[str, Any]:
        """The next whole text message (fragments joined; pings answered)."""
        parts: list[bytes] = []
        while True:
            first, second = self._take(2)
            n = second & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._take(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._take(8))
            payload = self._take(n)  # a server never masks its frames
            opcode = first & 0x0F
            if opcode == 9:
                self._send(payload, opcode=10)
                continue
            if opcode == 8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0, 1, 2):
                parts.append(payload)
                if first & 0x80:
                    message: dict[str, Any] = json.loads(b"".join(parts))
                    return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}).encode())
        while True:
            message = self._message()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, timeout: float = 15.0) -> None:
        """Navigate and wait until the page has loaded."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(f"location.href === {json.dumps(url)} && document.readyState") == (
                "complete"
            ):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{url} did not load in {timeout} s")

    def close(self) -> None:
        self.sock.close()


def _chromium_binary() -> str | None:
    named = os.environ.get("RDSIAM_CHROMIUM")
    if named:
        return shutil.which(named) or named
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_DevTools]:
    """One headless Chromium for the module's tests, and a DevTools connection to its page."""
    binary = _chromium_binary()
    if binary is None:
        reason = (
            "no chromium, chromium-browser or google-chrome on PATH (install Debian's"
            " chromium package, as .ci/run does, or set RDSIAM_CHROMIUM)"
        )
        if os.environ.get("RDSIAM_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"RDSIAM_REQUIRE_CHROMIUM=1 but {reason}")
        pytest.skip(reason)
    profile = tmp_path_factory.mktemp("chromium-profile")
    log = (profile.parent / "chromium.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",  # tests run as root in CI containers
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,1000",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    devtools: _DevTools | None = None
    try:
        # With port 0, Chromium picks a free port and writes it to DevToolsActivePort (the
        # same it prints as "DevTools listening on ws://..." on stderr).
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 15
        while not (active.exists() and len(active.read_text().splitlines()) >= 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                stderr = (profile.parent / "chromium.log").read_text(errors="replace")
                pytest.fail(f"{binary} did not start its DevTools endpoint:\n{stderr[-2000:]}")
            time.sleep(0.05)
        port = int(active.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t.get("type") == "page")
        devtools = _DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Network", "Log"):
            devtools.call(f"{domain}.enable")
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


_VISIBLE = (
    "Array.from(document.querySelectorAll('#findings-table tbody tr'))"
    ".filter(r => r.getClientRects().length > 0)"
)


def _visible(devtools: _DevTools) -> list[dict[str, str]]:
    """The findings rows the browser actually lays out, with their data attributes."""
    rows: list[dict[str, str]] = devtools.js(f"{_VISIBLE}.map(r => Object.assign({{}}, r.dataset))")
    return rows


def _choose(devtools: _DevTools, key: str, value: str) -> None:
    """Pick a value in a filter the way a user does: set it and fire ``change``."""
    devtools.js(
        f"(() => {{ const s = document.getElementById('filter-{key}');"
        f" s.value = {json.dumps(value)};"
        " if (s.value !== " + json.dumps(value) + ") throw new Error('no such option');"
        " s.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )


def _screenshot(devtools: _DevTools, name: str) -> Path:
    metrics = devtools.call("Page.getLayoutMetrics")["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": metrics["width"], "height": min(metrics["height"], 5000)}
    shot = devtools.call(
        "Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=dict(clip, scale=1)
    )
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")
    return path


def _problems(devtools: _DevTools) -> list[dict[str, Any]]:
    """Script exceptions, console errors (a CSP violation is one) and requests for anything
    but a local file, since the page was opened."""
    bad = []
    for event in devtools.events:
        method, params = event.get("method"), event.get("params", {})
        thrown = method == "Runtime.exceptionThrown"
        logged = method == "Log.entryAdded" and params["entry"]["level"] == "error"
        fetched = method == "Network.requestWillBeSent" and not params["request"]["url"].startswith(
            ("file://", "data:")
        )
        if thrown or logged or fetched:
            bad.append(event)
    return bad


def test_html_in_chromium(browser: _DevTools, html_file: Path, json_report: dict[str, Any]) -> None:
    started = time.monotonic()
    browser.events.clear()
    browser.open(html_file.as_uri())
    requests = [e for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert [e["params"]["request"]["url"] for e in requests] == [html_file.as_uri()]

    text = browser.js("document.body.innerText")
    summary = json_report["summary"]
    assert "rdsiam compliance report" in text
    assert f"FAIL: {summary['fail']} failing findings" in text
    assert "rdsiam 0.1.0" in text and "2026-11-28T12:00:00Z" in text
    assert json_report["inputs"][0]["sha256"] in text
    if "rules_sha256" in json_report["tool"]:
        assert f"Rules SHA-256\n{json_report['tool']['rules_sha256']}" in text
    rule_ids = ", ".join(r["id"] for r in json_report["rules"])
    assert f"Rules ({len(json_report['rules'])})\n{rule_ids}" in text
    assert "eu-west-1, us-east-1" in text and "AccessDenied" in text
    assert "AWS-FSBP:RDS.10" in text  # the controls table
    assert "DB instance 'billing' (mysql 8.0.35) has IAM database authentication disabled" in text
    controls = browser.js("document.querySelectorAll('#controls-table tbody tr').length")
    assert controls >= 5

    findings = json_report["findings"]
    total = len(findings)
    count = "document.getElementById('findings-count').textContent"
    assert len(_visible(browser)) == total
    assert browser.js(count) == f"{total} of {total} findings shown"

    def expect(rows: list[dict[str, Any]]) -> None:
        shown = _visible(browser)
        assert [(r["rule"], r["status"]) for r in shown] == [
            (f["rule_id"], f["status"]) for f in rows
        ]
        assert browser.js(count) == f"{len(rows)} of {total} findings shown"

    failing = [f for f in findings if f["status"] == "fail"]
    _choose(browser, "status", "fail")
    expect(failing)
    assert len(failing) == summary["fail"]
    shot = _screenshot(browser, "report-html-failing.png")
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    _choose(browser, "rule", "RIA402")
    expect([f for f in failing if f["rule_id"] == "RIA402"])
    _choose(browser, "status", "")
    expect([f for f in findings if f["rule_id"] == "RIA402"])
    _choose(browser, "rule", "")
    _choose(browser, "region", "eu-west-1")
    in_region = [f for f in findings if f["resource"]["region"] == "eu-west-1"]
    assert in_region
    expect(in_region)
    _choose(browser, "severity", "high")
    expect([f for f in in_region if f["severity"] == "high"])
    _choose(browser, "region", "-")  # findings without a Region (IAM policies)
    expect([f for f in findings if f["severity"] == "high" and not f["resource"]["region"]])
    browser.js("document.getElementById('filter-reset').click()")
    expect(findings)
    _screenshot(browser, "report-html.png")
    assert _problems(browser) == []
    assert time.monotonic() - started < 20


def test_crafted_html_in_chromium(browser: _DevTools, tmp_path: Path) -> None:
    path = tmp_path / "crafted.html"
    path.write_text("".join(html.render(_crafted())), encoding="utf-8")
    browser.events.clear()
    browser.open(path.as_uri())
    assert browser.js("typeof window.__pwned") == "undefined"
    assert browser.js("document.scripts.length") == 1
    assert browser.js("document.images.length") == 0
    text = browser.js("document.body.innerText")
    assert NASTY_ID in text and NASTY_MESSAGE in text
    assert "migration to IAM in Q1" in text and "dba-team@example.com" in text
    _choose(browser, "status", "waived")
    assert [r["status"] for r in _visible(browser)] == ["waived", "waived"]
    _choose(browser, "status", "fail")
    assert len(_visible(browser)) == 2
    text = browser.js("document.getElementById('findings-count').textContent")
    assert text == "2 of 6 findings shown"
    _screenshot(browser, "report-html-crafted.png")
    assert _problems(browser) == []
