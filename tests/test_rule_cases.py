"""Generic runner of the per-rule case files in tests/cases/<RULE_ID>.yaml.

A case file::

    rule: RIA101
    cases:
      <scenario>_<expected status>:       # e.g. standalone_enabled_pass
        region: {...}                     # one Region (us-east-1, account 123456789012), or
        snapshot: {...}                   # a whole snapshot document, or
        template: |                       # a CloudFormation template (YAML or JSON text), or
        plan: {...}                       # a Terraform plan (terraform show -json)
        scope: {account: ..., region: ...}  # IaC: --account/--region (default: test account,
                                          # us-east-1; "none" for neither)
        parameters: {Key: value}          # IaC: template parameter values
        as_of: "2026-11-28T12:00:00Z"     # optional evaluation time
        settings: {cert_warning_days: 30} # optional
        expect: {<resource id>: <status>} # the exact map of this rule's findings
        key: subject                      # optional: key findings by "<resource id> <subject>"
                                          # (3xx: "<policy> <statement> <Resource>")
        messages: {<resource id>: <substring of the message>}   # optional
        evidence: {<resource id>: {<key>: <value>}}             # optional

Every case's snapshot data is validated against schemas/snapshot.schema.json first, so fixtures
cannot drift from the contract; templates and plans go through the real loader, as on the
command line.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ACCOUNT, AS_OF, CASES, REGION, snapshot_doc

from checker import contract
from checker.collect import load_snapshot
from checker.context import Settings
from checker.engine import run
from checker.model.snapshot import Snapshot
from checker.registry import find
from checker.rule import Finding, Status

STATUSES = {"pass", "fail", "not_applicable", "error"}


def load_cases() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, case in data["cases"].items():
            if "key" in data:
                case.setdefault("key", data["key"])
            out.append((data["rule"], name, case))
    return out


ALL_CASES = load_cases()


def case_document(case: dict[str, Any]) -> dict[str, Any]:
    if "snapshot" in case:
        doc: dict[str, Any] = case["snapshot"]
        return doc
    return snapshot_doc(case.get("region"), **case.get("extra", {}))


@pytest.mark.parametrize(
    ("rule_id", "name", "case"), ALL_CASES, ids=[f"{r}-{n}" for r, n, _ in ALL_CASES]
)
def test_case(rule_id: str, name: str, case: dict[str, Any], tmp_path: Path) -> None:
    if "template" in case or "plan" in case:
        snapshot = iac_snapshot(case, tmp_path)
    else:
        doc = case_document(case)
        error = contract.first_error(contract.validator("snapshot.schema.json"), doc)
        assert error is None, f"case data violates the snapshot schema: {error}"
        snapshot = Snapshot.model_validate(doc)
    as_of = (
        datetime.fromisoformat(case["as_of"].replace("Z", "+00:00")) if "as_of" in case else AS_OF
    )
    settings = Settings(**case.get("settings", {}))
    report = run(snapshot, [find(rule_id)], now=as_of, settings=settings)
    got: dict[str, str] = {}
    by_id = {}
    for finding in report.findings:
        for key, evidence in _keys(finding, case.get("key") == "subject"):
            assert key not in got or got[key] == finding.status.value, (
                f"two findings for {key} with different statuses"
            )
            got[key] = finding.status.value
            by_id[key] = (finding, evidence)
    assert got == case["expect"], [f.message for f in report.findings]
    for rid, text in case.get("messages", {}).items():
        assert text in by_id[rid][0].message, by_id[rid][0].message
    for rid, expected in case.get("evidence", {}).items():
        for key, value in expected.items():
            assert by_id[rid][1].get(key) == value, (key, by_id[rid][1])
    suffix = name.rsplit("_", 1)[-1]
    if name.endswith("_not_applicable"):
        suffix = "not_applicable"
    assert suffix in STATUSES, f"case name {name} must end with its expected status"
    assert suffix in case["expect"].values(), f"{name}: no finding with status {suffix}"


def iac_snapshot(case: dict[str, Any], tmp_path: Path) -> Snapshot:
    """The snapshot rdsiam makes of a case's CloudFormation ``template`` (YAML or JSON text)
    or Terraform ``plan`` (an object), read through the real loader: ``scope`` gives
    ``--account``/``--region`` (default: the test account and us-east-1; ``scope: none`` for
    neither), ``parameters`` the template's parameter values."""
    if "template" in case:
        text = case["template"]
        suffix = ".json" if text.lstrip().startswith("{") else ".yaml"
        path = tmp_path / f"template{suffix}"
        path.write_text(text, encoding="utf-8")
    else:
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(case["plan"]), encoding="utf-8")
    scope = case.get("scope", {"account": ACCOUNT, "region": REGION})
    if scope == "none":
        scope = {}
    return load_snapshot(
        [str(path)],
        account=scope.get("account"),
        region=scope.get("region"),
        parameters=case.get("parameters"),
    ).snapshot


def _keys(finding: Finding, by_subject: bool) -> list[tuple[str, dict[str, Any]]]:
    """The case keys a finding answers for, each with its evidence.

    A 3xx pass finding stands for every passing grant of its policy, listed under ``grants``:
    it answers for each of them ("<policy> <statement> <Resource>"), with that grant's evidence
    on top of the finding's, so case files still judge grant by grant.
    """
    rid = finding.resource.id
    if by_subject and finding.status is Status.PASS and "grants" in finding.evidence:
        out = []
        for entry in finding.evidence["grants"]:
            key = f"{rid} {entry['statement']}"
            if "Resource" in entry:
                resource = entry["Resource"]
                key += f" {resource if resource is not None else '-'}"
            out.append((key, {**finding.evidence, **entry}))
        return out
    key = f"{rid} {finding.subject}" if by_subject and finding.subject else rid
    return [(key, finding.evidence)]


def test_case_files_name_existing_rules() -> None:
    for path in sorted(Path(CASES).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.stem == data["rule"], path
        find(data["rule"])
