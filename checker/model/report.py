"""The report: what was checked, on what input, with which result (CONTRACTS section 3)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from checker import __version__, controls
from checker.rule import Finding, Resource, Rule, Severity, Status

if TYPE_CHECKING:
    from checker.worker import Pending

REPORT_FORMAT = "rdsiam-report"
REPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str
    kind: str
    sha256: str


@dataclass
class Report:
    generated_at: datetime
    rules: list[type[Rule]]
    findings: list[Finding]
    inputs: list[InputFile] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    collection_errors: list[dict[str, Any]] = field(default_factory=list)
    access: list[dict[str, Any]] | None = None  # who can connect as whom (snapshots with IAM)
    tool_version: str = __version__
    controls: list[dict[str, Any]] = field(default_factory=list)  # per-control summary
    waivers: list[dict[str, Any]] = field(default_factory=list)  # every waiver, with its state
    baseline: dict[str, Any] | None = None  # with --baseline: the earlier report, counts
    fail_on: str = "low"  # the run's --fail-on: the verdict of the Markdown and HTML reports
    severity_overrides: dict[str, Severity] = field(default_factory=dict)  # rule id -> severity
    # A JSON report of a large account: the access array as its JSON text, from a worker
    # (``access`` is then None; checker.worker)
    access_text: Pending | None = None

    def severity_of(self, rule: type[Rule]) -> Severity:
        """The rule's severity in this run (the configuration's override, else its own)."""
        return self.severity_overrides.get(rule.id, rule.severity)

    def summary(self) -> dict[str, int]:
        """Count of findings by status (every status present, zeros included)."""
        counts = {s.value: 0 for s in Status}
        for finding in self.findings:
            counts[finding.status._value_] += 1  # _value_: see _finding_dict
        return counts

    def to_dict(self, *, with_findings: bool = True) -> dict[str, Any]:
        """The JSON report document (without its findings for the streaming renderer)."""
        doc = {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "tool": {
                "name": "rdsiam",
                "version": self.tool_version,
                "rules_sha256": rules_sha256(self.rules),
            },
            "generated_at": iso(self.generated_at),
            "inputs": [{"path": i.path, "kind": i.kind, "sha256": i.sha256} for i in self.inputs],
            "coverage": {
                "accounts": self.accounts,
                "regions": self.regions,
                "errors": self.collection_errors,
            },
            "summary": self.summary(),
            "fail_on": self.fail_on,
            "rules": [rule_dict(r, self.severity_of(r)) for r in self.rules],
            "controls": self.controls,
            "waivers": self.waivers,
        }
        if self.baseline is not None:
            doc["baseline"] = self.baseline
        if with_findings:
            if self.access_text is not None:  # only jsonfmt streams the worker's text
                raise RuntimeError("the access matrix is JSON text from a worker: use jsonfmt")
            if self.access is not None:
                doc["access"] = self.access
            doc["findings"] = [finding_dict(f) for f in self.findings]
        return doc


def iso(value: datetime) -> str:
    """UTC ISO 8601 with a Z."""
    return value.isoformat().replace("+00:00", "Z")


def rule_dict(rule: type[Rule], severity: Severity | None = None) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "title": rule.title(),
        "severity": (severity or rule.severity).value,
        "resource_types": list(rule.resource_types()),
        "controls": list(controls.for_rule(rule.id)),
        "source_url": rule.source_url,
    }


def resource_dict(r: Resource) -> dict[str, Any]:
    """A finding's resource as the report writes it."""
    return {
        "type": r.type,
        "id": r.id,
        "arn": r.arn,
        "account_id": r.account_id,
        "region": r.region,
    }


def rules_sha256(rules: list[type[Rule]]) -> str:
    """The rule set's version: a hash of what each rule is (id, name, severity, its
    documentation, controls), so two reports can show they ran the same rules."""
    digest = hashlib.sha256()
    for rule in sorted(rules, key=lambda r: r.id):
        entry = [rule.id, rule.name, rule.severity.value, rule.doc(), controls.for_rule(rule.id)]
        digest.update(json.dumps(entry).encode())
    return digest.hexdigest()


def finding_dict(f: Finding) -> dict[str, Any]:
    if f.baseline is not None:
        return {**_finding_dict(f), "baseline": f.baseline}
    return _finding_dict(f)


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "rule_id": f.rule_id,
        # an enum's ``_value_`` is its value without the descriptor call of ``.value``: a
        # third of this function's time, for hundreds of thousands of findings
        "status": f.status._value_,
        "severity": f.severity._value_,
        "resource": resource_dict(f.resource),
        "message": f.message,
        "evidence": f.evidence,
        "location": None
        if f.location is None
        else {"path": f.location.path, "line": f.location.line},
        "waiver": f.waiver,
    }
