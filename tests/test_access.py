"""The access matrix: who can connect as whom, after Denies and boundaries."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import quote

from conftest import AS_OF, run_cli, snapshot_doc

from checker import contract
from checker.context import Context
from checker.iam.access import AccessRow, build
from checker.model.snapshot import Snapshot

ACC = "123456789012"
PG = "db-PGPGPGPGPGPGPGPGPGPGPGPGPG"
MY = "db-MYMYMYMYMYMYMYMYMYMYMYMYMY"
AUR = "cluster-AURAURAURAURAURAURAURAURAUR"


def arn(resource_id: str, user: str, region: str = "us-east-1", account: str = ACC) -> str:
    return f"arn:aws:rds-db:{region}:{account}:dbuser:{resource_id}/{user}"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "rds-db:connect", "Resource": resource, **extra}


def deny(resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "rds-db:*", "Resource": resource, **extra}


def role(
    name: str,
    *inline: dict[str, Any],
    managed: tuple[str, ...] = (),
    trust: dict[str, Any] | None = None,
    boundary: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACC}:role/{name}",
        "AssumeRolePolicyDocument": trust
        or doc(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            }
        ),
        "RolePolicyList": [
            {"PolicyName": f"p{i}", "PolicyDocument": d} for i, d in enumerate(inline)
        ],
        "AttachedManagedPolicies": [
            {"PolicyName": m, "PolicyArn": f"arn:aws:iam::{ACC}:policy/{m}"} for m in managed
        ],
    }
    if boundary:
        out["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": f"arn:aws:iam::{ACC}:policy/{boundary}",
        }
    return out


def managed(name: str, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "Arn": f"arn:aws:iam::{ACC}:policy/{name}",
        "DefaultVersionId": "v2",
        "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": False, "Document": doc()},
            {"VersionId": "v2", "IsDefaultVersion": True, "Document": quote(json.dumps(document))},
        ],
    }


DATABASES = {
    "DBInstances": [
        {
            "DBInstanceIdentifier": "pg",
            "DbiResourceId": PG,
            "Engine": "postgres",
            "EngineVersion": "16.3",
            "IAMDatabaseAuthenticationEnabled": True,
        },
        {
            "DBInstanceIdentifier": "my",
            "DbiResourceId": MY,
            "Engine": "mysql",
            "EngineVersion": "8.0.35",
            "IAMDatabaseAuthenticationEnabled": False,
        },
    ],
    "DBClusters": [
        {
            "DBClusterIdentifier": "aur",
            "DbClusterResourceId": AUR,
            "Engine": "aurora-postgresql",
            "EngineVersion": "15.4",
            "IAMDatabaseAuthenticationEnabled": True,
        }
    ],
}


def matrix(
    iam: dict[str, Any], *, expand: bool = False, databases: dict[str, Any] = DATABASES
) -> list[AccessRow]:
    d = snapshot_doc(databases)
    d["accounts"][0]["iam"] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
        **iam,
    }
    snap = Snapshot.model_validate(d)
    return build(snap, Context(snap, AS_OF).grants, expand=expand)


def short(rows: list[AccessRow]) -> list[tuple[str, str | None, str]]:
    return [(r.principal.rsplit("/", 1)[1], r.database or r.resource_id, r.db_user) for r in rows]


def test_role_inline_and_managed_rows_with_target_state() -> None:
    rows = matrix(
        {
            "RoleDetailList": [role("app", doc(allow(arn(PG, "app"))), managed=("shared",))],
            "Policies": [
                managed("shared", doc(allow([arn(MY, "report"), arn("db-GONE0000", "x")])))
            ],
        }
    )
    assert short(rows) == [
        ("app", "db-GONE0000", "x"),
        ("app", "my", "report"),
        ("app", "pg", "app"),
    ]
    gone, my, pg = rows
    assert (pg.target_exists, pg.target_iam_enabled, pg.via) == (True, True, "inline")
    assert (my.target_iam_enabled, my.via, my.policy) == (False, "managed", "shared")
    assert (gone.target_exists, gone.databases_matched) == (False, 0)
    assert pg.assumable_by == ["Service:ecs-tasks.amazonaws.com"]


def test_users_get_their_groups_policies() -> None:
    rows = matrix(
        {
            "UserDetailList": [
                {
                    "UserName": "jane",
                    "Arn": f"arn:aws:iam::{ACC}:user/jane",
                    "GroupList": ["dba"],
                    "UserPolicyList": [],
                    "AttachedManagedPolicies": [],
                }
            ],
            "GroupDetailList": [
                {
                    "GroupName": "dba",
                    "Arn": f"arn:aws:iam::{ACC}:group/dba",
                    "GroupPolicyList": [
                        {"PolicyName": "g", "PolicyDocument": doc(allow(arn(AUR, "dba")))}
                    ],
                    "AttachedManagedPolicies": [],
                }
            ],
        }
    )
    assert short(rows) == [("jane", "aur", "dba")]
    assert rows[0].via == "group dba: inline" and rows[0].principal_type == "user"


def test_unconditional_deny_removes_conditional_deny_is_noted() -> None:
    rows = matrix(
        {
            "RoleDetailList": [
                role("a", doc(allow([arn(PG, "app"), arn(MY, "app")]), deny(arn(MY, "*")))),
                role(
                    "b",
                    doc(
                        allow(arn(PG, "app")),
                        deny(arn(PG, "app"), Condition={"Bool": {"aws:ViaAWSService": "false"}}),
                    ),
                ),
                role("c", doc(allow(arn(PG, "app")), deny("*"))),
            ]
        }
    )
    assert short(rows) == [("a", "pg", "app"), ("b", "pg", "app")]
    assert rows[1].notes == ["denied under a condition by b/p0 #1"]


def test_wildcard_rows_count_or_expand_and_note_partial_denies() -> None:
    iam = {"RoleDetailList": [role("ops", doc(allow(arn("*", "ops")), deny(arn(MY, "*"))))]}
    (row,) = matrix(iam)
    assert (row.resource_id, row.db_user, row.databases_matched) == ("*", "ops", 3)
    assert row.notes == ["denied possibly in part by ops/p0 #1"]
    expanded = matrix(iam, expand=True)
    assert short(expanded) == [("ops", "aur", "ops"), ("ops", "pg", "ops")]  # my: denied


def test_permissions_boundary_limits_rows() -> None:
    rows = matrix(
        {
            "RoleDetailList": [
                role("bounded", doc(allow([arn(PG, "app"), arn(MY, "app")])), boundary="only-pg")
            ],
            "Policies": [managed("only-pg", doc(allow(arn(PG, "*"))))],
        }
    )
    assert short(rows) == [("bounded", "pg", "app")]


def test_grants_that_reach_nothing_give_no_rows() -> None:
    rows = matrix(
        {
            "RoleDetailList": [
                role(
                    "x",
                    doc(
                        allow(f"arn:aws:rds:us-east-1:{ACC}:db:pg"),  # not a connect ARN
                        allow(arn(PG, "app", account="210987654321")),  # another account
                        {
                            "Effect": "Allow",
                            "Action": "rds:connect",
                            "Resource": "*",
                        },  # not the action
                    ),
                )
            ]
        }
    )
    assert rows == []


def test_not_action_and_star_resource_reach_every_database() -> None:
    rows = matrix(
        {
            "RoleDetailList": [
                role("admin", doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}))
            ]
        }
    )
    assert [(r.resource, r.resource_id, r.db_user, r.databases_matched) for r in rows] == [
        ("*", "*", "*", 3)
    ]


def test_cli_formats_and_report_key(write_json, tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = snapshot_doc(DATABASES)
    d["accounts"][0]["iam"] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
        "RoleDetailList": [role("app", doc(allow(arn(PG, "app"))))],
    }
    path = write_json("snap.json", d)
    table = run_cli("access", str(path))
    assert table.returncode == 0 and "role/app" in table.stdout and "1 row(s)" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run_cli("access", str(path), "--format", "csv").stdout)))
    assert [(r["database"], r["db_user"], r["target_iam_enabled"]) for r in rows] == [
        ("pg", "app", "True")
    ]
    as_json = json.loads(run_cli("access", str(path), "--format", "json").stdout)
    assert as_json[0]["resource_id"] == PG
    report = json.loads(run_cli("check", str(path), "--format", "json").stdout)
    assert contract.first_error(contract.validator("report.schema.json"), report) is None
    assert report["access"] == as_json
    no_iam = write_json("plain.json", snapshot_doc(DATABASES))
    proc = run_cli("access", str(no_iam))
    assert proc.returncode == 2 and "no IAM data" in proc.stderr
    assert "access" not in json.loads(run_cli("check", str(no_iam), "--format", "json").stdout)


def test_boundary_deny_removes_and_missing_boundary_is_noted() -> None:
    rows = matrix(
        {
            "RoleDetailList": [
                role("denied", doc(allow(arn(PG, "app"))), boundary="allow-all-deny-db"),
                role("unknown", doc(allow(arn(PG, "app"))), boundary="not-collected"),
            ],
            "Policies": [
                managed(
                    "allow-all-deny-db",
                    doc({"Effect": "Allow", "Action": "*", "Resource": "*"}, deny(arn(PG, "*"))),
                )
            ],
        }
    )
    assert short(rows) == [("unknown", "pg", "app")]
    assert rows[0].notes == [
        f"permissions boundary arn:aws:iam::{ACC}:policy/not-collected is"
        " not in the snapshot: not evaluated"
    ]


def test_deny_with_not_resource_denies_all_but_the_exception() -> None:
    rows = matrix(
        {
            "RoleDetailList": [
                role(
                    "r",
                    doc(
                        allow([arn(PG, "app"), arn(MY, "app")]),
                        {"Effect": "Deny", "Action": "rds-db:connect", "NotResource": arn(PG, "*")},
                    ),
                )
            ]
        }
    )
    assert short(rows) == [("r", "pg", "app")]


def test_member_iam_comes_from_its_cluster_even_when_an_instance_shares_its_name() -> None:
    member = "db-MEMBER00000000000000000000"
    databases = {
        "DBInstances": [
            # a standalone instance named like the cluster, IAM off
            {
                "DBInstanceIdentifier": "aur",
                "DbiResourceId": "db-NAMESAKE0000000000000000000",
                "Engine": "postgres",
                "EngineVersion": "16.3",
                "IAMDatabaseAuthenticationEnabled": False,
            },
            {
                "DBInstanceIdentifier": "aur-1",
                "DbiResourceId": member,
                "DBClusterIdentifier": "aur",
                "Engine": "aurora-postgresql",
                "EngineVersion": "15.4",
                "IAMDatabaseAuthenticationEnabled": False,
            },
        ],
        "DBClusters": DATABASES["DBClusters"],  # "aur", IAM on
    }
    (row,) = matrix(
        {"RoleDetailList": [role("app", doc(allow(arn(member, "app"))))]}, databases=databases
    )
    assert (row.database, row.target_iam_enabled) == ("aur-1", True)


STAND_IN_STACK = """
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      EngineVersion: "16.4"
      DBInstanceClass: db.m6g.large
      EnableIAMDatabaseAuthentication: true
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sts:AssumeRole
            Principal: {Service: ecs-tasks.amazonaws.com}
  Connect:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: connect
      Roles: [!Ref AppRole, legacy-batch]
      Users: [contractor]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: rds-db:connect
            Resource: !Sub "arn:aws:rds-db:us-east-1:123456789012:dbuser:${Db.DbiResourceId}/app"
"""


def test_stand_in_principals_of_a_template_say_what_is_unknown(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A policy put on a role or user the template does not define reaches it through a stand-in
    that has no boundary, no trust policy and no other policy: its rows say those are unknown,
    instead of reading as a principal that has none; the template's own role has no such note."""
    stack = tmp_path / "stack.yaml"
    stack.write_text(STAND_IN_STACK, encoding="utf-8")
    scope = ("--account", ACC, "--region", "us-east-1")
    proc = run_cli("access", str(stack), "--format", "json", *scope)
    assert proc.returncode == 0, proc.stderr
    rows = {row["principal"].rsplit("/", 1)[1]: row for row in json.loads(proc.stdout)}
    assert sorted(rows) == ["AppRole", "contractor", "legacy-batch"]
    assert rows["AppRole"]["notes"] == []
    assert rows["AppRole"]["assumable_by"] == ["Service:ecs-tasks.amazonaws.com"]
    assert rows["legacy-batch"]["assumable_by"] == []
    assert rows["legacy-batch"]["notes"] == [
        "principal not defined in the template: its permissions boundary, trust policy and"
        " other policies are unknown"
    ]
    assert rows["contractor"]["notes"] == [
        "principal not defined in the template: its permissions boundary, groups and other"
        " policies are unknown"
    ]
    table = run_cli("access", str(stack), *scope).stdout
    assert "role/legacy-batch" in table and "trust policy and other policies are unknown" in table
    report = json.loads(run_cli("check", str(stack), "--format", "json", *scope).stdout)
    assert contract.first_error(contract.validator("report.schema.json"), report) is None
    assert [r["notes"] for r in report["access"]] == [
        rows[r["principal"].rsplit("/", 1)[1]]["notes"] for r in report["access"]
    ]


def test_plan_arns_known_only_after_apply_are_listed_not_dropped() -> None:
    from conftest import ROOT

    proc = run_cli(
        "access", str(ROOT / "tests" / "data" / "terraform" / "plan.json"), "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    later = [r for r in rows if r["db_user"] == "(known after apply)"]
    assert later, rows
    for row in later:
        assert row["databases_matched"] == 0 and row["target_exists"] is None
        assert row["notes"][0].startswith("the connect ARN is known only after apply; it is built")
        assert "aws_db_instance.orders.resource_id" in row["notes"][0]


def test_row_dict_has_exactly_the_fields_in_order() -> None:
    from conftest import ROOT

    doc = json.loads((ROOT / "examples" / "snapshot.json").read_text())
    snapshot = Snapshot.model_validate(doc)
    rows = build(snapshot, Context(snapshot, AS_OF).grants, expand=True)
    assert rows
    for row in rows:
        assert list(row.to_dict()) == list(AccessRow.__dataclass_fields__)
