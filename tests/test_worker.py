"""The access matrix of a large JSON report written by a forked worker (checker.worker): the
same bytes as when the process writes it, whatever happens to the worker."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest
from conftest import AS_OF, run_cli, snapshot_doc

from checker import engine, registry, worker
from checker.engine import run
from checker.iam import access
from checker.iam.grants import GrantIndex
from checker.model.snapshot import Snapshot
from checker.report import jsonfmt

ACC = "123456789012"
REGIONS = ("us-east-1", "eu-west-1")


def account_doc(roles: int, per_role: int) -> dict[str, Any]:
    """``roles`` roles with ``per_role`` connect statements each: concrete grants to known
    and unknown databases, a wildcard grant, a Deny and a boundary on some of them."""
    dbs = {
        r: [
            {
                "DBInstanceIdentifier": f"{r}-db{i}",
                "DbiResourceId": f"db-{r.upper().replace('-', '')}{i:04d}",
                "DBInstanceArn": f"arn:aws:rds:{r}:{ACC}:db:{r}-db{i}",
                "Engine": "postgres",
                "EngineVersion": "16.3",
                "IAMDatabaseAuthenticationEnabled": i % 3 != 0,
            }
            for i in range(20)
        ]
        for r in REGIONS
    }
    role_list = []
    for n in range(roles):
        region = REGIONS[n % 2]
        statements: list[dict[str, Any]] = []
        for s in range(per_role):
            if s == 0:
                resource = f"arn:aws:rds-db:{region}:{ACC}:dbuser:*/app"
            else:
                rid = dbs[region][(n + s) % 25 % 20]["DbiResourceId"] if s % 4 else "db-GONE"
                resource = f"arn:aws:rds-db:{region}:{ACC}:dbuser:{rid}/user{n % 7}"
            statements.append(
                {
                    "Sid": f"S{s}",
                    "Effect": "Allow",
                    "Action": "rds-db:connect",
                    "Resource": resource,
                }
            )
        if n % 5 == 0:
            statements.append(
                {
                    "Effect": "Deny",
                    "Action": "rds-db:connect",
                    "Resource": f"arn:aws:rds-db:{region}:{ACC}:dbuser:*/user{n % 7}",
                }
            )
        role = {
            "RoleName": f"role-{n}",
            "Arn": f"arn:aws:iam::{ACC}:role/role-{n}",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"AWS": f"arn:aws:iam::{ACC}:root"},
                    }
                ],
            },
            "RolePolicyList": [
                {
                    "PolicyName": "db",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
            "AttachedManagedPolicies": [],
        }
        if n % 9 == 0:
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": f"arn:aws:iam::{ACC}:policy/missing",
            }
        role_list.append(role)
    doc = snapshot_doc()
    doc["accounts"][0]["iam"] = {
        "RoleDetailList": role_list,
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
    }
    doc["accounts"][0]["regions"] = [
        {"region": r, "DBInstances": dbs[r], "DBClusters": [], "DBProxies": []} for r in REGIONS
    ]
    return doc


RULES = registry.select(registry.all_rules(), registry.parse_codes(["RIA3"]), [])


def rendered(snap: Snapshot, access_text: bool) -> tuple[str, Any]:
    report = run(snap, RULES, now=AS_OF, access_text=access_text)
    return "".join(jsonfmt.render(report)), report


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return Snapshot.model_validate(account_doc(roles=40, per_role=5))


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "ACCESS_WORKER_GRANTS", 1)


def test_the_worker_writes_the_same_report(snap: Snapshot, small_threshold: None) -> None:
    here, in_process = rendered(snap, access_text=False)
    there, worked = rendered(snap, access_text=True)
    assert in_process.access is not None and in_process.access_text is None
    assert worked.access is None and worked.access_text is not None  # a worker did build it
    assert there == here
    rows = json.loads(there)["access"]
    assert len(rows) > 100 and {r["databases_matched"] for r in rows} > {1}
    assert any(r["notes"] for r in rows)  # Denies and boundaries reached the worker's rows


def test_a_failing_worker_leaves_the_matrix_to_the_process(
    snap: Snapshot, small_threshold: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    real_build = access.build

    def build_only_here(*args: Any, **kwargs: Any) -> list[access.AccessRow]:
        if os.getpid() != parent:  # the worker dies half-way
            raise MemoryError("worker out of memory")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(access, "build", build_only_here)
    there, worked = rendered(snap, access_text=True)
    assert worked.access_text is not None
    monkeypatch.setattr(access, "build", real_build)
    here, _ = rendered(snap, access_text=False)
    assert there == here


def test_no_worker_for_small_accounts_or_with_threads(
    snap: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, small = rendered(snap, access_text=True)  # 200 grants: under ACCESS_WORKER_GRANTS
    assert small.access is not None and small.access_text is None
    monkeypatch.setattr(engine, "ACCESS_WORKER_GRANTS", 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        _, threaded = rendered(snap, access_text=True)
    finally:
        stop.set()
        other.join()
    assert threaded.access is not None and threaded.access_text is None


def test_the_command_uses_the_worker_on_a_large_account(tmp_path: Any) -> None:
    """End to end: ``rdsiam check --format json`` on 5,000 grants (a worker) gives the report
    that the engine gives with the matrix built in the process."""
    doc = account_doc(roles=1000, per_role=5)
    path = tmp_path / "large.json"
    path.write_text(json.dumps(doc))
    snap = Snapshot.model_validate(doc)
    assert len(GrantIndex(snap).grants) >= engine.ACCESS_WORKER_GRANTS
    out = tmp_path / "report.json"
    proc = run_cli(
        "check", str(path), "--select", "RIA3", "--format", "json", "-o", str(out),
        "--as-of", "2026-11-28T12:00:00Z",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    ours = json.loads(out.read_text())
    here = json.loads(rendered(snap, access_text=False)[0])
    assert ours["access"] == here["access"] and len(ours["access"]) > 1000
    assert ours["findings"] == here["findings"]


def test_text_beyond_ascii_across_read_blocks(
    small_threshold: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A condition value with characters of two, three and four UTF-8 bytes, read back in
    blocks of one byte: no character is cut in two."""
    doc = account_doc(roles=8, per_role=3)
    statement = doc["accounts"][0]["iam"]["RoleDetailList"][0]["RolePolicyList"][0][
        "PolicyDocument"
    ]["Statement"][0]
    statement["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": "équipe-数据-🚀"}}
    snap = Snapshot.model_validate(doc)
    monkeypatch.setattr(worker, "CHUNK", 1)
    here, _ = rendered(snap, access_text=False)
    there, worked = rendered(snap, access_text=True)
    assert worked.access_text is not None
    assert there == here and "équipe-数据-🚀" in there
