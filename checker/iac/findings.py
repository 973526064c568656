"""Findings on IaC input: where each resource is written, and what only deploy time knows.

``annotate`` runs after the rules on a snapshot made from templates or plans:

- every finding on a resource of the files gets its ``location`` (path and line, or path and
  Terraform address);
- a pass, failure or error that judged a field the template leaves to deploy time (its
  evidence names a field listed in the item's ``rdsiam:unknown``, or its message quotes that
  field's symbol) becomes ``not_applicable`` with the reason and the symbol: a value unknown
  before deploy never gives a false ``fail`` (nor a ``pass`` it did not earn, nor an
  ``error`` about data a template cannot have).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from checker.iac.to_snapshot import LOCATION, UNKNOWN
from checker.model.snapshot import DBCluster, DBInstance, DBProxy, Snapshot
from checker.rule import Finding, Location, Status


def annotate(findings: Iterable[Finding], snapshot: Snapshot) -> None:
    where, unknown = _index(snapshot)
    locations: dict[tuple[str, str], Location] = {}  # one Location per resource, shared
    for finding in findings:
        key = (finding.resource.account_id or "", finding.resource.id)
        if finding.location is None:
            location = locations.get(key)
            if location is None and (loc := where.get(key)) is not None:
                location = locations[key] = Location(
                    str(loc.get("path")), loc.get("line"), loc.get("address")
                )
            finding.location = location
        fields = unknown.get(key)
        if not fields or finding.status is Status.NOT_APPLICABLE:
            continue
        # judged: the evidence names the field, or the message quotes its symbol (an error
        # such as "engine '${Engine}' is not in rdsiam's tables")
        judged = [f for f in fields if f in finding.evidence or str(fields[f]) in finding.message]
        if judged:
            what = ", ".join(f"{f} ({fields[f]})" for f in judged)
            finding.status = Status.NOT_APPLICABLE
            finding.message = (
                f"{finding.resource.id}: {what} is only known at deploy time; was: "
                f"{finding.message}"
            )


def _index(
    snapshot: Snapshot,
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, str]]]:
    where: dict[tuple[str, str], dict[str, Any]] = {}
    unknown: dict[tuple[str, str], dict[str, str]] = {}
    for account in snapshot.accounts:
        aid = account.account_id
        for region in account.regions:
            items: list[DBInstance | DBCluster | DBProxy] = [
                *(region.db_instances or ()),
                *(region.db_clusters or ()),
                *(region.db_proxies or ()),
            ]
            for item in items:
                extra = item.model_extra or {}
                if LOCATION in extra:
                    where[(aid, item.id)] = extra[LOCATION]
                if extra.get(UNKNOWN):
                    unknown[(aid, item.id)] = extra[UNKNOWN]
        iam = account.iam or {}
        for key, name_key, inline in (
            ("RoleDetailList", "RoleName", "RolePolicyList"),
            ("UserDetailList", "UserName", "UserPolicyList"),
            ("GroupDetailList", "GroupName", "GroupPolicyList"),
        ):
            for principal in iam.get(key, []):
                for policy in principal.get(inline, []):
                    if LOCATION in policy:
                        name = f"{principal.get(name_key)}/{policy.get('PolicyName')}"
                        where[(aid, name)] = policy[LOCATION]
                if LOCATION in principal:
                    where.setdefault((aid, str(principal.get(name_key))), principal[LOCATION])
        for policy in iam.get("Policies", []):
            if LOCATION in policy:
                where[(aid, str(policy.get("PolicyName")))] = policy[LOCATION]
    return where, unknown


def deploy_time(item: Any, *fields: str) -> str | None:
    """The first of ``fields`` that a template or plan leaves to deploy time on a mapped item
    (DB instance, cluster or proxy), as ``Field (${symbol})``; None when all are known."""
    unknown = (getattr(item, "model_extra", None) or {}).get(UNKNOWN) or {}
    for name in fields:
        if name in unknown:
            return f"{name} ({unknown[name]})"
    return None
