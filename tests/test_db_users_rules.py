"""Unit tests of the 5xx database-user rules for what case files cannot check (severities)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import ACCOUNT, AS_OF, REGION, snapshot_doc

from checker.engine import run
from checker.model.snapshot import Snapshot
from checker.rule import Finding, Severity, Status
from rules.db_users import IamUserNotReplication

# An IAM user (rds_iam) with the REPLICATION attribute: RIA503 fails it on every PostgreSQL.
USERS: list[dict[str, Any]] = [
    {"name": "rds_iam", "login": False, "member_of": [], "replication": False},
    {"name": "dms_source", "login": True, "member_of": ["rds_iam"], "replication": True},
]


def _rds_postgres() -> tuple[dict[str, Any], str]:
    """An RDS for PostgreSQL instance (IAM on) and the resource id of its users section."""
    rid = "db-3HGAZYX9DOWG5M4RXC7HO000VK"
    region = {
        "region": REGION,
        "DBInstances": [
            {
                "DBInstanceIdentifier": "orders",
                "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders",
                "DbiResourceId": rid,
                "Engine": "postgres",
                "EngineVersion": "16.4",
                "MasterUsername": "orders_admin",
                "IAMDatabaseAuthenticationEnabled": True,
            }
        ],
    }
    return region, rid


def _aurora_postgres() -> tuple[dict[str, Any], str]:
    """An Aurora PostgreSQL cluster (IAM on) with one member, and the cluster's resource id."""
    rid = "cluster-5940RJW5KHPDA2B4JQUAZKRTI2"
    region = {
        "region": REGION,
        "DBInstances": [
            {
                "DBInstanceIdentifier": "reports-1",
                "DBClusterIdentifier": "reports",
                "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:reports-1",
                "DbiResourceId": "db-UD9Z13DC14LDZ5DTQ0IU5CCFJ8",
                "Engine": "aurora-postgresql",
                "EngineVersion": "16.4",
                "IAMDatabaseAuthenticationEnabled": True,
            }
        ],
        "DBClusters": [
            {
                "DBClusterIdentifier": "reports",
                "DBClusterArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:reports",
                "DbClusterResourceId": rid,
                "Engine": "aurora-postgresql",
                "EngineVersion": "16.4",
                "EngineMode": "provisioned",
                "MasterUsername": "reports_admin",
                "IAMDatabaseAuthenticationEnabled": True,
                "DBClusterMembers": [
                    {"DBInstanceIdentifier": "reports-1", "IsClusterWriter": True}
                ],
            }
        ],
    }
    return region, rid


def _replication_failure(region: dict[str, Any], rid: str, engine: str) -> Finding:
    """RIA503's only finding on a snapshot whose one database holds ``USERS``."""
    doc = snapshot_doc(region)
    doc["accounts"][0]["databases"] = [{"resource_id": rid, "engine": engine, "users": USERS}]
    report = run(Snapshot.model_validate(doc), [IamUserNotReplication], now=AS_OF)
    assert [(f.resource.id, f.status) for f in report.findings] == [
        (f"{rid}/dms_source", Status.FAIL)
    ], [f.message for f in report.findings]
    return report.findings[0]


@pytest.mark.parametrize(
    ("database", "engine", "severity"),
    [
        (_rds_postgres, "postgres", Severity.MEDIUM),
        (_aurora_postgres, "aurora-postgresql", Severity.INFO),
    ],
    ids=["rds-postgresql", "aurora-postgresql"],
)
def test_ria503_replication_failure_severity_by_engine(
    database: Callable[[], tuple[dict[str, Any], str]], engine: str, severity: Severity
) -> None:
    """Documented for RDS for PostgreSQL (the rule's medium); unconfirmed for current Aurora
    PostgreSQL, where the failure is only informational."""
    region, rid = database()
    finding = _replication_failure(region, rid, engine)
    assert finding.severity is severity
    assert IamUserNotReplication.severity is Severity.MEDIUM
