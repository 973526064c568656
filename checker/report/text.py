"""``--format text``: failures and errors grouped by rule, then one summary line."""

from __future__ import annotations

from collections.abc import Iterator

from checker.model.report import Report
from checker.rule import Finding, Status

_COLOURS = {Status.FAIL: "31", Status.ERROR: "33", Status.PASS: "32", Status.NOT_APPLICABLE: "2"}
_LABEL = {
    Status.FAIL: "FAIL",
    Status.ERROR: "ERROR",
    Status.PASS: "PASS",
    Status.NOT_APPLICABLE: "N/A",
}


def render(report: Report, *, colour: bool = False, show_all: bool = False) -> Iterator[str]:
    """Problems (fail, error) by rule; with ``show_all`` every finding."""
    shown = {Status.FAIL, Status.ERROR} | (
        {Status.PASS, Status.NOT_APPLICABLE} if show_all else set()
    )

    def paint(code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    lines: list[str] = []
    titles = {r.id: r for r in report.rules}
    by_rule: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.status in shown:
            by_rule.setdefault(finding.rule_id, []).append(finding)
    for rule_id, findings in by_rule.items():
        rule = titles.get(rule_id)
        title = f" {rule.title()}" if rule else ""
        lines.append(paint("1", f"{rule_id}{title}"))
        for f in findings:
            where = "/".join(p for p in (f.resource.account_id, f.resource.region) if p)
            place = f" {where}" if where else ""
            if f.location is not None:
                place += f" {f.location.path}" + (f":{f.location.line}" if f.location.line else "")
            if f.waived:
                label = paint("2", "WAIVED")
            else:
                label = paint(_COLOURS[f.status], f"{_LABEL[f.status]:<5}")
            mark = " (known)" if f.baseline == "known" and f.status is Status.FAIL else ""
            lines.append(f"  {label} [{f.severity.value}]{place}{mark}: {f.message}")
            if f.waiver is not None:
                w = f.waiver
                verb = "waived" if f.waived else "waiver EXPIRED"
                lines.append(f"         {verb} by {w['owner']} until {w['expires']}: {w['reason']}")
        lines.append("")
    for err in report.collection_errors:
        where = "/".join(str(err.get(k)) for k in ("account_id", "region") if err.get(k))
        lines.append(
            paint(
                "33",
                f"collection error {where} {err.get('operation') or ''}:"
                f" {err.get('code')}: {err.get('message')}",
            )
        )
    for w in report.waivers:
        if w["state"] in ("expired", "stale", "not_evaluated"):
            where = w["source"]["path"] + (f":{w['source']['line']}" if w["source"]["line"] else "")
            what = {
                "expired": f"expired on {w['expires']}",
                "stale": "stale: it matches no failure",
                "not_evaluated": "not evaluated: its rule did not run",
            }[w["state"]]
            lines.append(paint("33", f"waiver {w['rule']} {w['resource']} ({where}) {what}"))
    failing = [c["id"] for c in report.controls if c["status"] == "fail"]
    if failing:
        lines.append(f"controls failing: {', '.join(failing)}")
    s = report.summary()
    waived = sum(1 for f in report.findings if f.waived)
    new_failures = sum(1 for f in report.findings if f.counts)  # with a baseline: the new
    lines.append(
        f"{len(report.rules)} rules, {len(report.findings)} findings: {s['pass']} pass,"
        f" {s['fail']} fail" + (f" ({waived} waived)" if waived else "") + ","
        f" {s['not_applicable']} not applicable, {s['error']} error"
        + (
            f"; {new_failures} new failures since {report.baseline['path']}"
            if report.baseline is not None
            else ""
        )
    )
    yield "\n".join(lines) + "\n"
