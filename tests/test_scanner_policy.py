"""docs/scanner-policy.json grants exactly what the collector calls in a member account."""

from __future__ import annotations

import json
import re

from conftest import ROOT

POLICY = ROOT / "docs" / "scanner-policy.json"
LIVE = ROOT / "checker" / "collect" / "live.py"
# Calls that need no permission in the scanned account: GetCallerIdentity needs none at all,
# AssumeRole and ListAccounts are made by the caller in the management account (README).
CALLER_SIDE = {"GetCallerIdentity", "AssumeRole", "ListAccounts"}
SERVICES = {
    "DescribeRegions": "ec2",
    "GetAccountAuthorizationDetails": "iam",
    "GetMetricData": "cloudwatch",
}


def actions() -> set[str]:
    doc = json.loads(POLICY.read_text())
    out: set[str] = set()
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        found = statement["Action"]
        out.update([found] if isinstance(found, str) else found)
    return out


def test_policy_is_read_only_and_names_no_wildcards() -> None:
    for action in actions():
        _service, name = action.split(":")
        assert name.startswith(("Describe", "List", "Get")), action
        assert "*" not in action, f"{action}: least privilege names each action"


def test_every_operation_the_collector_names_is_granted() -> None:
    source = LIVE.read_text()
    operations = set(re.findall(r'"((?:Describe|Get|List)[A-Z][A-Za-z]+)"', source))
    operations |= {"AssumeRole"} if "AssumeRole" in source else set()
    assert {"DescribeDBInstances", "GetAccountAuthorizationDetails"} <= operations
    granted = {a.lower() for a in actions()}
    for operation in sorted(operations - CALLER_SIDE):
        service = SERVICES.get(operation, "rds")
        assert f"{service}:{operation}".lower() in granted, operation
    # and nothing granted that the collector never calls
    named = {f"{SERVICES.get(o, 'rds')}:{o}".lower() for o in operations}
    assert granted <= named, granted - named
