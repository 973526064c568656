"""``--format markdown``: a compact summary for a pull-request comment.

A heading with the verdict, the counts, then the failing (unwaived) findings grouped by rule,
most severe rule first, each rule's remediation once; then errors, and, collapsed in
``<details>`` blocks, the waived failures, the controls, the passes and the not-applicable
findings (``--all``: each of them rather than a count per rule).

Bounded: GitHub refuses a comment over 65,536 characters, so each section lists at most
``PER_RULE`` findings per rule ("... and K more") and nothing is added past ``LIMIT`` characters;
a note then says what was left out. Text from the report (messages, resource ids, waiver
reasons, paths) is escaped, so it cannot break a table, open a code span or inject HTML.

The helpers ``verdict``, ``is_waived``, ``shown_status`` and ``control_rows`` are shared with
the HTML format, so both say the same thing about the same report. With ``--baseline``, the
failures the baseline already had are counted apart and, as for the exit code, do not make the
verdict FAIL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from checker.model.report import Report, finding_dict
from checker.rule import Rule, Severity

LIMIT = 60_000  # GitHub's limit is 65,536: room for the closing tags and the note
PER_RULE = 20  # findings listed per rule in each section
CELL = 400  # characters of a message or reason shown in a table cell

STATUSES = ("pass", "fail", "waived", "not_applicable", "error")
_NOT_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_SPACE = re.compile(r"\s+")
_MENTION = re.compile(r"(?<!\w)@(?=\w)")


# -- shared with the HTML format --------------------------------------------------------------


def is_waived(finding: dict[str, Any]) -> bool:
    """A failure under an active waiver: reported, but it does not fail the run. An expired
    waiver (state ``expired``) does not apply."""
    waiver = finding.get("waiver")
    return (
        finding.get("status") == "fail"
        and isinstance(waiver, dict)
        and waiver.get("state") == "active"
    )


def _finding_row(rule_id: str, f: dict[str, Any]) -> str:
    """A finding as a row of | Rule | Resource | Account | Region | Message |."""
    resource = f["resource"]
    cells = [
        md(rule_id),
        md(resource.get("id", "")),
        md(resource.get("account_id") or "-"),
        md(resource.get("region") or "-"),
        md(f.get("message", ""), CELL),
    ]
    return "| " + " | ".join(cells) + " |"


def below_fail_on(report: Report) -> int:
    """Failures that count for nothing but their severity: unwaived, not known from the
    baseline, and below the run's ``--fail-on``."""
    threshold = 99 if report.fail_on == "never" else Severity(report.fail_on).rank
    return sum(1 for f in report.findings if f.counts and f.severity.rank < threshold)


def shown_status(finding: dict[str, Any]) -> str:
    """The finding's status, with ``waived`` for a failure under an active waiver."""
    return "waived" if is_waived(finding) else str(finding.get("status"))


def verdict(
    tally: Counter[str], collection_errors: int, known: int | None = None, below: int = 0
) -> tuple[str, str]:
    """(``fail`` | ``error`` | ``pass``, what it rests on), as the exit code decides.

    ``tally``: findings by shown status; ``known``: with a baseline, how many of the failures
    it already had; ``below``: unwaived new failures under ``--fail-on`` (neither fails the
    run)."""
    failing = tally["fail"] - (known or 0) - below
    new = "new " if known is not None else ""
    besides = [_plural(tally["waived"], "waived failure")] if tally["waived"] else []
    if below:
        besides.insert(0, f"{below} below --fail-on")
    if known:
        besides.insert(0, f"{known} known")
    aside = f" ({', '.join(besides)})" if besides else ""
    head = _plural(failing, f"{new}failing finding") if failing else f"no {new}failures"
    problems = [head + aside]
    if tally["error"]:
        problems.append(_plural(tally["error"], "check", "checks") + " not completed")
    if collection_errors:
        problems.append(_plural(collection_errors, "collection error"))
    if failing:
        return "fail", ", ".join(problems)
    if len(problems) > 1:
        return "error", problems[0] + ", but " + ", ".join(problems[1:])
    return "pass", problems[0]


VERDICT_LABEL = {"fail": "FAIL", "error": "INCOMPLETE", "pass": "PASS"}


def control_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's per-control summary (``controls``); none in a report without it."""
    given = doc.get("controls")
    return [c for c in given if isinstance(c, dict)] if isinstance(given, list) else []


def printable(text: object) -> str:
    """The text with control characters and lone surrogates as visible ``\\xNN`` / ``\\uNNNN``
    (a lone surrogate cannot even be written as UTF-8)."""
    return _NOT_PRINTABLE.sub(_escape_char, str(text))


def remediation(rule: type[Rule] | None) -> str:
    """The rule's "Remediation" docstring section, as ``rdsiam docs`` shows it."""
    return rule.sections().get("Remediation", "") if rule is not None else ""


def where(finding: dict[str, Any]) -> str:
    """``path:line`` of a template finding, else ``""``."""
    location = finding.get("location")
    if not isinstance(location, dict) or not location.get("path"):
        return ""
    line = location.get("line")
    return f"{location['path']}:{line}" if line else str(location["path"])


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


# -- the Markdown document --------------------------------------------------------------------


@dataclass
class _Group:
    """One rule's findings of one shown status: the first ``PER_RULE`` and the total."""

    shown: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def add(self, finding: dict[str, Any]) -> None:
        self.total += 1
        if len(self.shown) < PER_RULE:
            self.shown.append(finding)
        elif finding.get("baseline") == "new":  # a new failure displaces a known one
            for i in range(len(self.shown) - 1, -1, -1):
                if self.shown[i].get("baseline") == "known":
                    del self.shown[i]
                    self.shown.append(finding)
                    return


@dataclass
class _Tally:
    by_status: dict[str, dict[str, _Group]] = field(
        default_factory=lambda: {s: {} for s in STATUSES}
    )
    total: Counter[str] = field(default_factory=Counter)
    baseline: Counter[str] = field(default_factory=Counter)
    expired: int = 0


def _tally(report: Report) -> _Tally:
    """One pass over the findings, keeping only what the comment can show."""
    tally = _Tally()
    for f in report.findings:
        finding = finding_dict(f)
        status = shown_status(finding)
        rule_id = finding["rule_id"]
        tally.total[status] += 1
        tally.by_status[status].setdefault(rule_id, _Group()).add(finding)
        if status == "fail":
            mark = finding.get("baseline")
            if mark in ("new", "known"):
                tally.baseline[mark] += 1
            if isinstance(finding.get("waiver"), dict):
                tally.expired += 1
    return tally


class _Out:
    """The comment so far; refuses text past ``LIMIT`` and from then on stays full."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.full = False
        self.open_details = 0

    def add(self, *lines: str) -> bool:
        text = "".join(line + "\n" for line in lines)
        if self.full or self.size + len(text) > self.limit:
            self.full = True
            return False
        self.parts.append(text)
        self.size += len(text)
        return True

    def open(self, summary: str) -> bool:
        if self.add("<details>", f"<summary>{summary}</summary>", ""):
            self.open_details += 1
            return True
        return False

    def close(self) -> None:
        # Always written, even when full: an unclosed <details> would swallow the rest.
        self.parts.append("\n</details>\n\n")
        self.open_details -= 1


def render(report: Report, *, colour: bool = False, show_all: bool = False) -> Iterator[str]:
    """The comment, at most ``LIMIT`` characters plus the closing note."""
    doc = report.to_dict(with_findings=False)
    tally = _tally(report)
    rules: dict[str, type[Rule] | None] = {r.id: r for r in report.rules}
    rule_docs = {r["id"]: r for r in doc.get("rules", [])}
    out = _Out(LIMIT)
    _head(out, report, doc, tally)
    listed = _failing(out, tally, rules, rule_docs, bool(doc.get("baseline")))
    _errors(out, doc, tally)
    _waived(out, doc, tally)
    _controls(out, doc, tally)
    _passes(out, tally, rule_docs, "pass", "passing", show_all)
    _passes(out, tally, rule_docs, "not_applicable", "not applicable", show_all)
    while out.open_details:
        out.close()
    if out.full:
        failing = tally.total["fail"]
        out.parts.append(
            f"\n> **Truncated** to stay within GitHub's comment size limit: {listed} of"
            f" {_plural(failing, 'failing finding')} listed, later sections left out."
            " The full report (`--format json` or `--format html`) has every finding.\n"
        )
    yield "".join(out.parts)


def md(text: object, limit: int | None = None) -> str:
    """Inline Markdown for report text: one line, specials escaped, HTML neutralised."""
    value = _SPACE.sub(" ", printable(text)).strip()
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # "@name" in a comment notifies that user or team, on every run: a word joiner after
    # the "@" keeps the text and stops the mention (an e-mail address is no mention)
    value = _MENTION.sub("@\u2060", value)
    return _MD_SPECIAL.sub(r"\\\1", value)


def _head(out: _Out, report: Report, doc: dict[str, Any], tally: _Tally) -> None:
    coverage = doc.get("coverage") or {}
    errors = coverage.get("errors") or []
    baseline = doc.get("baseline")
    known = tally.baseline["known"] if isinstance(baseline, dict) else None
    kind, reason = verdict(tally.total, len(errors), known, below_fail_on(report))
    icon = {"fail": "❌", "error": "⚠️", "pass": "✅"}[kind]
    tool = doc.get("tool") or {}
    accounts, regions = coverage.get("accounts") or [], coverage.get("regions") or []
    facts = [
        f"{md(tool.get('name', 'rdsiam'))} {md(tool.get('version', ''))}",
        _plural(len(doc.get("rules", [])), "rule"),
        f"evaluated at {md(doc.get('generated_at', ''))}",
        f"{_plural(len(accounts), 'account')}, {_plural(len(regions), 'Region')}",
        _plural(len(doc.get("inputs") or []), "input"),
    ]
    header = ["Pass", "Fail", "Waived", "Not applicable", "Error"]
    values = [tally.total[s] for s in ("pass", "fail", "waived", "not_applicable", "error")]
    if isinstance(baseline, dict):
        # failures only (the document's new and known count every finding)
        header += ["New failures", "Known failures", "Resolved problems"]
        values += [tally.baseline["new"], tally.baseline["known"], baseline.get("resolved", 0)]
    out.add(
        f"## {icon} rdsiam {VERDICT_LABEL[kind]}: {reason}",
        "",
        " · ".join(facts),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---:|" * len(header),
        "| " + " | ".join(str(v) for v in values) + " |",
        "",
    )
    if isinstance(baseline, dict):
        out.add(f"Baseline: {md(baseline.get('path', ''))}", "")
    if tally.expired:
        out.add(
            f"> {_plural(tally.expired, 'failure has', 'failures have')} an expired waiver,"
            " so it counts again.",
            "",
        )


def _rule_heading(rule_id: str, rule_docs: dict[str, dict[str, Any]]) -> str:
    rule = rule_docs.get(rule_id)
    if rule is None:
        return md(rule_id)
    return f"{md(rule_id)} {md(rule.get('name', ''))}: {md(rule.get('title', ''))}"


def _severity_rank(group: _Group) -> int:
    ranks = [Severity(f["severity"]).rank for f in group.shown if f.get("severity")]
    return max(ranks, default=0)


def _has_new(group: _Group) -> bool:
    return any(f.get("baseline") == "new" for f in group.shown)


def _failing(
    out: _Out,
    tally: _Tally,
    rules: dict[str, type[Rule] | None],
    rule_docs: dict[str, dict[str, Any]],
    with_baseline: bool,
) -> int:
    """Failing findings by rule, most severe rule first; returns how many were listed."""
    groups = tally.by_status["fail"]
    if not groups:
        return 0
    listed = 0
    out.add("### Failing findings", "")
    header = ["Severity", "Resource", "Account", "Region", "Location", "Message"]
    if with_baseline:
        header.append("Baseline")
    # rules with new failures first (with a baseline), then the most severe
    order = sorted(groups, key=lambda r: (not _has_new(groups[r]), -_severity_rank(groups[r]), r))
    for rule_id in order:
        group = groups[rule_id]
        rule_doc = rule_docs.get(rule_id, {})
        source = rule_doc.get("source_url")
        link = f" · [source]({source})" if isinstance(source, str) and _is_web(source) else ""
        if not out.add(
            f"#### {_rule_heading(rule_id, rule_docs)}",
            "",
            f"{_plural(group.total, 'failing finding')}{link}",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ):
            break
        for f in sorted(group.shown, key=lambda f: f.get("baseline") == "known"):
            message = md(f.get("message", ""), CELL)
            waiver = f.get("waiver")
            if isinstance(waiver, dict):
                message += f" *(waiver expired {md(waiver.get('expires', ''))})*"
            cells = [
                md(f.get("severity", "")),
                md(f["resource"].get("id", "")),
                md(f["resource"].get("account_id") or "-"),
                md(f["resource"].get("region") or "-"),
                md(where(f) or "-"),
                message,
            ]
            if with_baseline:
                cells.append(md(f.get("baseline") or "-"))
            if not out.add("| " + " | ".join(cells) + " |"):
                return listed
            listed += 1
        out.add("")
        if group.total > len(group.shown):
            out.add(f"… and {group.total - len(group.shown)} more.", "")
        fix = remediation(rules.get(rule_id))
        if fix:
            out.add("**How to fix**", "", fix, "")
    return listed


def _errors(out: _Out, doc: dict[str, Any], tally: _Tally) -> None:
    groups = tally.by_status["error"]
    collection = (doc.get("coverage") or {}).get("errors") or []
    if not groups and not collection:
        return
    out.add("### Errors: checks not completed", "")
    if groups:
        out.add("| Rule | Resource | Account | Region | Message |", "|---|---|---|---|---|")
        more = 0
        for rule_id, group in groups.items():
            more += group.total - len(group.shown)
            for f in group.shown:
                if not out.add(_finding_row(rule_id, f)):
                    return
        out.add("")
        if more:
            out.add(f"… and {more} more.", "")
    if collection:
        out.add(
            "Collection errors (these Regions or sections were not read):",
            "",
            "| Account | Region | Operation | Code | Message |",
            "|---|---|---|---|---|",
        )
        for err in collection[: PER_RULE * 5]:
            cells = [
                md(err.get(k) or "-") for k in ("account_id", "region", "operation", "code")
            ] + [md(err.get("message") or "", CELL)]
            if not out.add("| " + " | ".join(cells) + " |"):
                return
        out.add("")
        if len(collection) > PER_RULE * 5:
            out.add(f"… and {len(collection) - PER_RULE * 5} more.", "")


def _waived(out: _Out, doc: dict[str, Any], tally: _Tally) -> None:
    groups = tally.by_status["waived"]
    stale = [
        w
        for w in doc.get("waivers") or []
        if isinstance(w, dict) and w.get("state") in ("expired", "stale")
    ]
    if groups and out.open(f"🔕 {_plural(tally.total['waived'], 'waived failure')}"):
        out.add(
            "| Rule | Resource | Reason | Owner | Expires | Ticket |",
            "|---|---|---|---|---|---|",
        )
        more = 0
        for rule_id, group in groups.items():
            more += group.total - len(group.shown)
            for f in group.shown:
                waiver = f.get("waiver") or {}
                cells = [
                    md(rule_id),
                    md(f["resource"].get("id", "")),
                    md(waiver.get("reason") or "-", CELL),
                    md(waiver.get("owner") or "-"),
                    md(waiver.get("expires") or "-"),
                    md(waiver.get("ticket") or "-"),
                ]
                if not out.add("| " + " | ".join(cells) + " |"):
                    return
        if more:
            out.add("", f"… and {more} more.")
        out.close()
    if stale and out.open(f"⏰ {_plural(len(stale), 'waiver')} expired or matching nothing"):
        out.add(
            "| Rule | Resource | State | Owner | Expires | Source |",
            "|---|---|---|---|---|---|",
        )
        for w in stale[: PER_RULE * 5]:
            source = w.get("source") or {}
            place = source.get("path") or "-"
            if source.get("line"):
                place = f"{place}:{source['line']}"
            cells = [
                md(w.get(k) or "-") for k in ("rule", "resource", "state", "owner", "expires")
            ] + [md(place)]
            if not out.add("| " + " | ".join(cells) + " |"):
                return
        out.close()


def _controls(out: _Out, doc: dict[str, Any], tally: _Tally) -> None:
    rows = control_rows(doc)
    if not rows:
        return
    failing = sum(1 for c in rows if c.get("status") == "fail")
    if not out.open(f"🏛️ {_plural(len(rows), 'control')}, {failing} failing"):
        return
    out.add(
        "| Control | Status | Pass | Fail | Waived | Error | Rules |",
        "|---|---|---:|---:|---:|---:|---|",
    )
    for c in rows:
        summary = c.get("summary") or {}
        title = f" {md(c['title'])}" if c.get("title") else ""
        url = c.get("url")
        name = md(c.get("id", ""))
        if isinstance(url, str) and _is_web(url):
            name = f"[{name}]({url})"
        cells = [
            name + title,
            md(c.get("status", "")),
            *(str(summary.get(s, 0)) for s in ("pass", "fail", "waived", "error")),
            md(", ".join(c.get("rules") or [])),
        ]
        if not out.add("| " + " | ".join(cells) + " |"):
            return
    out.close()


def _passes(
    out: _Out,
    tally: _Tally,
    rule_docs: dict[str, dict[str, Any]],
    status: str,
    label: str,
    show_all: bool,
) -> None:
    groups = tally.by_status[status]
    if not groups:
        return
    icon = "✅" if status == "pass" else "➖"
    summary = f"{icon} {_plural(tally.total[status], 'finding')} {label}, in"
    if not out.open(f"{summary} {_plural(len(groups), 'rule')}"):
        return
    if show_all:
        out.add("| Rule | Resource | Account | Region | Message |", "|---|---|---|---|---|")
        for rule_id, group in groups.items():
            for f in group.shown:
                if not out.add(_finding_row(rule_id, f)):
                    return
            if group.total > len(group.shown):
                more = f"… and {group.total - len(group.shown)} more"
                if not out.add(f"| {md(rule_id)} | {more} | | | |"):
                    return
    else:
        out.add("| Rule | Findings | Resources |", "|---|---:|---|")
        for rule_id, group in groups.items():
            names = ", ".join(md(f["resource"].get("id", "")) for f in group.shown[:10])
            if group.total > 10:
                names += f", … and {group.total - 10} more"
            cells = [_rule_heading(rule_id, rule_docs), str(group.total), names]
            if not out.add("| " + " | ".join(cells) + " |"):
                return
    out.close()


def _is_web(url: str) -> bool:
    """Only http(s) links are written as links (never ``javascript:`` and the like)."""
    return url.startswith(("https://", "http://")) and not re.search(r"[\s()<>\"']", url)
