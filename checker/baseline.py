"""Baselines and report diffs: what is new since an earlier report.

Findings are matched on their ids (stable across runs: uuid5 of rule, resource and subject).
With ``--baseline OLD``, a finding is ``known`` when OLD has the same id with the same status,
else ``new``; only new failures count toward the exit code (a pass that became a failure is
new). ``rdsiam diff OLD NEW`` lists the problems (failures and errors) that are new in NEW,
those resolved since OLD, and the findings whose status, severity, message or waiver changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.errors import InputError

if TYPE_CHECKING:
    from checker.rule import Finding

PROBLEMS = ("fail", "error")


@dataclass
class LoadedReport:
    path: str
    sha256: str
    findings: dict[str, dict[str, Any]]  # id -> the finding as the report has it
    rules: set[str]  # the rules the report's run evaluated


def load_report(path: str) -> LoadedReport:
    """A JSON report of rdsiam (``--format json``); exit 2 on anything else."""
    import orjson

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the report ({exc.strerror or exc})") from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(path, f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != "rdsiam-report":
        raise InputError(path, "not an rdsiam JSON report (rdsiam check --format json)")
    from checker import contract

    problem = contract.first_error(contract.validator("report.schema.json"), doc)
    if problem is not None:
        raise InputError(path, f"not a valid rdsiam report: {problem[1]}", problem[0])
    findings = {item["id"]: item for item in doc["findings"]}
    rules = {r["id"] for r in doc["rules"]}
    return LoadedReport(path, hashlib.sha256(raw).hexdigest(), findings, rules)


def counts(item: dict[str, Any] | None) -> bool:
    """A problem that counts: a failure not under an active waiver, or an error."""
    if item is None:
        return False
    status = item.get("status")
    if status == "error":
        return True
    return status == "fail" and _waiver_state(item) != "active"


def mark(
    findings: Iterable[Finding], old: LoadedReport, evaluated: Iterable[str]
) -> dict[str, Any]:
    """Set each finding's ``baseline`` to new or known; the report's baseline summary.

    Known: the baseline has the same id with the same status, and the finding was not excused
    there by a waiver it no longer has (a lapsed waiver makes its failure count again).
    Resolved: the baseline's counting problems that this run looked for and no longer has;
    problems of rules this run did not evaluate are not "resolved", they were not looked at.
    """
    new = known = 0
    current_problems: set[str] = set()
    for f in findings:
        before = old.findings.get(f.id)
        status = f.status.value
        if status in PROBLEMS and not f.waived:
            current_problems.add(f.id)
        if (
            before is not None
            and before.get("status") == status
            and not (_waiver_state(before) == "active" and not f.waived)
        ):
            f.baseline = "known"
            known += 1
        else:
            f.baseline = "new"
            new += 1
    ran = set(evaluated)
    resolved = sum(
        1
        for fid, item in old.findings.items()
        if counts(item) and item.get("rule_id") in ran and fid not in current_problems
    )
    return {
        "path": old.path,
        "sha256": old.sha256,
        "new": new,
        "known": known,
        "resolved": resolved,
    }


def diff(old: LoadedReport, new: LoadedReport) -> dict[str, Any]:
    """New problems, resolved problems and changed findings between two reports.

    A problem is what counts toward the exit code: a failure not under an active waiver, or an
    error. A problem of a rule NEW did not evaluate is "not compared", never "resolved".
    """
    added: list[dict[str, Any]] = []
    resolved: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    not_compared = 0
    for fid, item in new.findings.items():
        before = old.findings.get(fid)
        is_problem, was_problem = counts(item), counts(before)
        if is_problem and not was_problem:
            added.append({"before": _brief(before), "after": _brief(item)})
        elif was_problem and not is_problem:
            resolved.append({"before": _brief(before), "after": _brief(item)})
        elif before is not None and _changes(before, item):
            changed.append(
                {"changes": _changes(before, item), "before": _brief(before), "after": _brief(item)}
            )
    for fid, item in old.findings.items():
        if fid not in new.findings and counts(item):
            if item.get("rule_id") in new.rules:
                resolved.append({"before": _brief(item), "after": None})
            else:
                not_compared += 1
    key = _order
    return {
        "format": "rdsiam-diff",
        "version": 1,
        "old": {"path": old.path, "sha256": old.sha256},
        "new": {"path": new.path, "sha256": new.sha256},
        "summary": {
            "new": len(added),
            "resolved": len(resolved),
            "changed": len(changed),
            "not_compared": not_compared,
        },
        "new_findings": sorted(added, key=key),
        "resolved_findings": sorted(resolved, key=key),
        "changed_findings": sorted(changed, key=key),
    }


def render_text(result: dict[str, Any]) -> Iterator[str]:
    s = result["summary"]
    lines = [
        f"rdsiam diff {result['old']['path']} -> {result['new']['path']}:"
        f" {s['new']} new, {s['resolved']} resolved, {s['changed']} changed"
        + (
            f" ({s['not_compared']} problems of rules NEW did not run, not compared)"
            if s["not_compared"]
            else ""
        )
    ]
    for title, key, side in (
        ("New", "new_findings", "after"),
        ("Resolved", "resolved_findings", "before"),
        ("Changed", "changed_findings", "after"),
    ):
        entries = result[key]
        if not entries:
            continue
        lines.append("")
        lines.append(f"{title}:")
        for entry in entries:
            f = entry[side]
            what = f"  {f['rule_id']} {f['status'].upper()} [{f['severity']}] {f['resource']}"
            if key == "resolved_findings":
                now = entry["after"]
                if now is None:
                    what += " (gone)"
                else:
                    what += f" (now {now['status']}" + (", waived)" if now["waiver"] else ")")
            if key == "changed_findings":
                what += f" ({', '.join(entry['changes'])})"
            lines.append(f"{what}: {f['message']}")
    yield "\n".join(lines) + "\n"


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = [k for k in ("status", "severity", "message") if before.get(k) != after.get(k)]
    if _waiver_state(before) != _waiver_state(after):
        out.append("waiver")
    return out


def _waiver_state(item: dict[str, Any]) -> str | None:
    waiver = item.get("waiver")
    return waiver.get("state") if isinstance(waiver, dict) else None


def _brief(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    resource = item.get("resource") or {}
    return {
        "id": item.get("id"),
        "rule_id": item.get("rule_id"),
        "status": item.get("status"),
        "severity": item.get("severity"),
        "resource": resource.get("arn") or resource.get("id"),
        "message": item.get("message"),
        "waiver": _waiver_state(item),
    }


def _order(entry: dict[str, Any]) -> tuple[str, str, str]:
    f = entry.get("after") or entry.get("before") or {}
    return (str(f.get("rule_id")), str(f.get("resource")), str(f.get("id")))
