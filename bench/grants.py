"""Benchmark of the rds-db:connect rules (RIA3xx) and the access matrix.

Generates a synthetic account: ROLES roles with STATEMENTS statements in all (a tenth of them
wildcard grants such as dbuser:*/app), DATABASES DB instances over 4 Regions, and times, in a
fresh process each, ``rdsiam check --select RIA3`` (JSON report with the access key) and
``rdsiam access --format json``, with their peak memory; then the same at half the roles and at
half the databases, to show how time grows. It reports; it does not assert.

    python3 bench/grants.py [--roles 20000 --statements 100000 --databases 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

from measure import measure, reference  # bench/measure.py: bench/ is on sys.path when run

ACCOUNT = "123456789012"
AS_OF = "2026-11-28T12:00:00Z"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")
ROOT = Path(__file__).resolve().parent.parent


def resource_id(rng: random.Random, prefix: str = "db-") -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(26))


def generate(roles: int, statements: int, databases: int, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    regions: dict[str, list[dict[str, Any]]] = {r: [] for r in REGIONS}
    ids: list[tuple[str, str]] = []
    for i in range(databases):
        region = REGIONS[i % len(REGIONS)]
        rid = resource_id(rng)
        ids.append((region, rid))
        regions[region].append(
            {
                "DBInstanceIdentifier": f"db-{i:05d}",
                "DbiResourceId": rid,
                "DBInstanceArn": f"arn:aws:rds:{region}:{ACCOUNT}:db:db-{i:05d}",
                "Engine": rng.choice(["postgres", "mysql"]),
                "EngineVersion": "16.3",
                "IAMDatabaseAuthenticationEnabled": rng.random() < 0.7,
            }
        )
    per_role = max(1, statements // roles)
    role_list = []
    for r in range(roles):
        stmts = []
        for s in range(per_role):
            region, rid = rng.choice(ids)
            if rng.random() < 0.1:
                resource = f"arn:aws:rds-db:{region}:{ACCOUNT}:dbuser:*/app{s}"
            else:
                resource = f"arn:aws:rds-db:{region}:{ACCOUNT}:dbuser:{rid}/user{r % 50}"
            stmts.append(
                {
                    "Sid": f"S{s}",
                    "Effect": "Allow",
                    "Action": "rds-db:connect",
                    "Resource": resource,
                }
            )
        role_list.append(
            {
                "RoleName": f"role-{r:05d}",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/role-{r:05d}",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        }
                    ],
                },
                "RolePolicyList": [
                    {
                        "PolicyName": "db",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": stmts},
                    }
                ],
                "AttachedManagedPolicies": [],
            }
        )
    return {
        "format": "rdsiam-snapshot",
        "version": 1,
        "collected_at": "2026-11-28T12:00:00Z",
        "source": {"kind": "aws", "tool": "bench/grants.py"},
        "accounts": [
            {
                "account_id": ACCOUNT,
                "partition": "aws",
                "iam": {
                    "RoleDetailList": role_list,
                    "UserDetailList": [],
                    "GroupDetailList": [],
                    "Policies": [],
                },
                "regions": [
                    {"region": r, "DBInstances": v, "DBClusters": [], "DBProxies": []}
                    for r, v in regions.items()
                ],
            }
        ],
        "errors": [],
    }


def run(label: str, roles: int, statements: int, databases: int, tmp: Path, runs: int) -> float:
    """Time both commands ``runs`` times, alternating; print the best and the median of each
    (a shared VM's speed changes by half from minute to minute); return check's best."""
    path = tmp / f"{label}.json"
    path.write_text(json.dumps(generate(roles, statements, databases)))
    check_args = ("check", str(path), "--select", "RIA3", "--format", "json")
    check_args += ("--output", str(tmp / f"{label}.report.json"), "--as-of", AS_OF)
    access_args = ("access", str(path), "--format", "json")
    access_args += ("--output", str(tmp / f"{label}.access.json"))
    results: dict[str, list[tuple[float, int, int, bool]]] = {"check": [], "access": []}
    for _ in range(runs):
        results["check"].append(measure(*check_args))
        results["access"].append(measure(*access_args))
    size = path.stat().st_size / 2**20
    for name, shown in (("check", "check --select RIA3"), ("access", "access")):
        walls = [r[0] for r in results[name]]
        rss = max(r[1] for r in results[name])
        flag = " CRASHED" if any(r[3] or r[2] == 2 for r in results[name]) else ""
        print(
            f"{label:<11} {roles:>6,} roles {statements:>7,} stmts {databases:>6,} dbs"
            f" {size:5.1f} MiB  {shown:<18} best {min(walls):5.2f} s,"
            f" median {statistics.median(walls):5.2f} s  {rss / 2**20:5.0f} MiB{flag}"
        )
    return min(r[0] for r in results["check"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=20_000)
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--databases", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(reference())
    with tempfile.TemporaryDirectory(prefix="rdsiam-grants-") as tmp:
        where, runs = Path(tmp), args.runs
        full = run("full", args.roles, args.statements, args.databases, where, runs)
        half_roles = run(
            "half roles", args.roles // 2, args.statements // 2, args.databases, where, runs
        )
        half_dbs = run("half dbs", args.roles, args.statements, args.databases // 2, where, runs)
    print(
        f"check time (best runs), full / half roles: {full / half_roles:.2f}x (linear: about 2x);"
        f" full / half databases: {full / half_dbs:.2f}x (should stay near 1x: grants are"
        " matched by index, never against every database)"
    )
    print("target: all 3xx rules and the access matrix in under 15 s, peak memory under 2 GiB")
    print(reference())


if __name__ == "__main__":
    main()
