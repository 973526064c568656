"""Raw AWS CLI JSON outputs as inputs: detection by content, scope from ARNs, merging."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

from checker.collect import load_snapshot

ACC = "123456789012"


def arn(kind: str, name: str, region: str = "eu-west-1") -> str:
    return f"arn:aws:rds:{region}:{ACC}:{kind}:{name}"


INSTANCES = {
    "DBInstances": [
        {
            "DBInstanceIdentifier": "shop",
            "DBInstanceArn": arn("db", "shop"),
            "Engine": "postgres",
            "EngineVersion": "14.10",
            "IAMDatabaseAuthenticationEnabled": True,
            "DBParameterGroups": [
                {"DBParameterGroupName": "shop-pg14", "ParameterApplyStatus": "in-sync"}
            ],
            "CACertificateIdentifier": "rds-ca-rsa2048-g1",
        },
    ]
}
CLUSTERS = {
    "DBClusters": [
        {
            "DBClusterIdentifier": "ledger",
            "DBClusterArn": arn("cluster", "ledger"),
            "Engine": "aurora-mysql",
            "EngineVersion": "8.0.mysql_aurora.3.05.2",
            "DBClusterParameterGroup": "ledger-am3",
            "IAMDatabaseAuthenticationEnabled": True,
        },
    ]
}
PARAMS_ON = {
    "Parameters": [
        {
            "ParameterName": "rds.force_ssl",
            "ParameterValue": "1",
            "Source": "user",
            "ApplyType": "dynamic",
        }
    ]
}
CLUSTER_PARAMS = {
    "Parameters": [
        {"ParameterName": "require_secure_transport", "ParameterValue": "ON", "Source": "user"}
    ]
}
CERTS = {
    "Certificates": [
        {
            "CertificateIdentifier": "rds-ca-rsa2048-g1",
            "ValidTill": "2061-05-24T22:59:00+00:00",
            "CertificateArn": "arn:aws:rds:eu-west-1::cert:rds-ca-rsa2048-g1",
        }
    ],
    "DefaultCertificateForNewLaunches": "rds-ca-rsa2048-g1",
}
IAM = {
    "UserDetailList": [],
    "GroupDetailList": [],
    "Policies": [],
    "RoleDetailList": [{"RoleName": "app", "Arn": f"arn:aws:iam::{ACC}:role/app"}],
}


def export_dir(tmp_path: Path) -> Path:
    d = tmp_path / "export"
    d.mkdir()
    for name, doc in {
        "instances.json": INSTANCES,
        "clusters.json": CLUSTERS,
        "shop-pg14.json": PARAMS_ON,
        "ledger-am3.json": CLUSTER_PARAMS,
        "certs.json": CERTS,
        "auth.json": IAM,
    }.items():
        (d / name).write_text(json.dumps(doc, indent=1))
    (d / "README.txt").write_text("exported on Tuesday")
    return d


def test_directory_of_cli_outputs_becomes_one_snapshot(tmp_path: Path) -> None:
    inputs = load_snapshot([str(export_dir(tmp_path))])
    kinds = sorted(i.kind for i in inputs.files)
    assert kinds == [
        "describe-certificates",
        "describe-db-clusters",
        "describe-db-instances",
        "describe-db-parameters",
        "describe-db-parameters",
        "get-account-authorization-details",
    ]
    (account,) = inputs.snapshot.accounts
    assert account.account_id == ACC and account.iam is not None
    (region,) = account.regions
    assert region.region == "eu-west-1"
    assert region.db_parameter_groups is not None and "shop-pg14" in region.db_parameter_groups
    assert region.db_cluster_parameter_groups is not None
    assert "ledger-am3" in region.db_cluster_parameter_groups
    assert region.certificates is not None and region.certificates[0].id == "rds-ca-rsa2048-g1"
    assert region.db_proxies is None  # not exported: not collected
    assert any("README.txt" in n for n in inputs.notes)


def test_rules_use_the_exported_groups(tmp_path: Path) -> None:
    proc = run_cli(
        "check",
        str(export_dir(tmp_path)),
        "--format",
        "json",
        "--select",
        "RIA401,RIA402",
        "--as-of",
        "2026-11-28T00:00:00Z",
    )
    report = json.loads(proc.stdout)
    got = {(f["rule_id"], f["resource"]["id"]): f["status"] for f in report["findings"]}
    assert got[("RIA401", "shop")] == "pass"
    assert got[("RIA402", "ledger")] == "pass"
    assert {i["kind"] for i in report["inputs"]} >= {"describe-db-instances"}


def test_missing_proxies_section_is_reported_as_error(tmp_path: Path) -> None:
    proc = run_cli("check", str(export_dir(tmp_path)), "--select", "RIA405")
    assert proc.returncode == 3
    assert "DBProxies was not collected in eu-west-1" in proc.stdout


def test_account_and_region_needed_when_no_arn(tmp_path: Path) -> None:
    path = tmp_path / "bare.json"
    path.write_text(
        json.dumps(
            {
                "DBInstances": [
                    {"DBInstanceIdentifier": "bare", "Engine": "mysql", "EngineVersion": "8.0.35"}
                ]
            }
        )
    )
    proc = run_cli("check", str(path))
    assert proc.returncode == 2 and "--account" in proc.stderr and "bare" in proc.stderr
    proc = run_cli("check", str(path), "--account", ACC)
    assert proc.returncode == 2 and "--region" in proc.stderr
    proc = run_cli(
        "check",
        str(path),
        "--account",
        ACC,
        "--region",
        "us-west-2",
        "--format",
        "json",
        "--select",
        "RIA101",
    )
    report = json.loads(proc.stdout)
    assert report["findings"][0]["resource"]["region"] == "us-west-2"
    assert run_cli("check", str(path), "--account", "12345").returncode == 2


def test_region_from_availability_zone(tmp_path: Path) -> None:
    path = tmp_path / "az.json"
    path.write_text(
        json.dumps(
            {
                "DBInstances": [
                    {
                        "DBInstanceIdentifier": "z",
                        "Engine": "mysql",
                        "AvailabilityZone": "ap-southeast-2b",
                    }
                ]
            }
        )
    )
    inputs = load_snapshot([str(path)], account=ACC)
    assert inputs.snapshot.accounts[0].regions[0].region == "ap-southeast-2"


def test_conflicting_duplicates_are_an_input_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(INSTANCES))
    changed = json.loads(json.dumps(INSTANCES))
    changed["DBInstances"][0]["IAMDatabaseAuthenticationEnabled"] = False
    b.write_text(json.dumps(changed))
    proc = run_cli("check", str(a), str(b))
    assert proc.returncode == 2
    assert "b.json" in proc.stderr and "a.json" in proc.stderr and "shop" in proc.stderr


def test_identical_duplicates_merge(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(INSTANCES))
    b.write_text(json.dumps(INSTANCES))
    inputs = load_snapshot([str(a), str(b)])
    assert len(inputs.snapshot.accounts[0].regions[0].db_instances or ()) == 1


def test_snapshot_and_exports_merge(tmp_path: Path) -> None:
    snap = {
        "format": "rdsiam-snapshot",
        "version": 1,
        "accounts": [{"account_id": ACC, "regions": [{"region": "eu-west-1", "DBProxies": []}]}],
    }
    (tmp_path / "snap.json").write_text(json.dumps(snap))
    (tmp_path / "inst.json").write_text(json.dumps(INSTANCES))
    inputs = load_snapshot([str(tmp_path / "snap.json"), str(tmp_path / "inst.json")])
    region = inputs.snapshot.accounts[0].regions[0]
    assert region.db_proxies == () and region.db_instances is not None
    assert inputs.snapshot.source is not None and inputs.snapshot.source.kind == "merged"


def test_engine_defaults_and_proxy_targets(tmp_path: Path) -> None:
    (tmp_path / "inst.json").write_text(
        json.dumps(
            {
                "DBInstances": [
                    {
                        **INSTANCES["DBInstances"][0],
                        "DBParameterGroups": [
                            {
                                "DBParameterGroupName": "default.postgres14",
                                "ParameterApplyStatus": "in-sync",
                            }
                        ],
                    }
                ]
            }
        )
    )
    (tmp_path / "defaults.json").write_text(
        json.dumps(
            {
                "EngineDefaults": {
                    "DBParameterGroupFamily": "postgres14",
                    "Parameters": [
                        {
                            "ParameterName": "rds.force_ssl",
                            "ParameterValue": "1",
                            "Source": "engine-default",
                        }
                    ],
                }
            }
        )
    )
    (tmp_path / "proxies.json").write_text(
        json.dumps(
            {
                "DBProxies": [
                    {
                        "DBProxyName": "p1",
                        "DBProxyArn": arn("db-proxy", "prx-0abc"),
                        "DefaultAuthScheme": "IAM_AUTH",
                        "RequireTLS": True,
                    }
                ]
            }
        )
    )
    (tmp_path / "p1.json").write_text(
        json.dumps(
            {
                "Targets": [
                    {
                        "RdsResourceId": "shop",
                        "Type": "RDS_INSTANCE",
                        "TargetArn": arn("db", "shop"),
                    }
                ]
            }
        )
    )
    proc = run_cli("check", str(tmp_path), "--format", "json", "--select", "RIA401,RIA104")
    got = {
        (f["rule_id"], f["resource"]["id"]): f["status"]
        for f in json.loads(proc.stdout)["findings"]
    }
    # the engine default in the export (1) wins over the documented PostgreSQL 14 default (0)
    assert got[("RIA401", "shop")] == "pass"
    assert got[("RIA104", "p1")] == "pass"
