"""Live collection end to end: the real collector and the real command against moto.

One moto server (``ThreadedMotoServer`` on 127.0.0.1, a free port) serves the whole module. It
holds an AWS Organization of two accounts with, over three Regions, DB instances on custom and
default parameter groups, Aurora PostgreSQL and Aurora MySQL clusters on custom and default
cluster parameter groups, RDS proxies with registered targets, IAM users, groups and roles with
inline and customer managed policies, and IamDbAuthConnectionRequests metrics
(``live_support.build_world``). Nothing writes to it after the setup, so no test resets it.

moto 5.2.1 is not AWS. Where the difference matters it is worked around, visibly, in
``tests/live_support.py`` (its docstring lists each gap and the fix): moto's models are patched
for one shared DbiResourceId, a non-existent default CA without CertificateDetails, Aurora
members reporting IAM off, wrong default parameter group names and a dropped DefaultAuthScheme;
botocore ``before-call`` handlers answer what moto does not implement (DescribeCertificates,
DescribeEngineDefault[Cluster]Parameters, the parameters of ``default.*`` groups, orderable
options), for requests addressed to moto only. The fault tests inject their faults at
``before-send`` on operations moto really answers, so the faults meet botocore's retry logic and
never a gap fill, and every expectation is one AWS would meet too.

In-process runs go through ``collect(options, session_factory=..., endpoint_for=...)``; the
command runs as a subprocess (``python -m checker``) with the same fills installed by
``tests/moto_gaps/sitecustomize.py`` (test-only).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from conftest import ROOT, run_cli
from live_support import (
    ACCESS_KEY,
    AS_OF,
    CERTIFICATES,
    ENGINE_CLUSTER_DEFAULTS,
    ENGINE_DEFAULTS,
    HOME,
    MANAGEMENT,
    MASTER_PASSWORD,
    READ_PREFIXES,
    REGIONS,
    ROLE_NAME,
    SECRET_KEY,
    SESSION_TOKEN,
    Harness,
    Run,
    World,
    access_denied,
    account_of,
    build_world,
    deny_assume_role,
    normalized,
    org_options,
    patch_moto,
    policy_allows,
    region_of,
    throttling,
)

from checker import contract
from checker.collect.live import ReadOnlyViolation, guard

GAPS_DIR = Path(__file__).resolve().parent / "moto_gaps"
POLICY = ROOT / "docs" / "scanner-policy.json"
USE1, EUW1, APSE2 = REGIONS
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# Sections a Region task fills from calls of its own, and those derived from what they list.
ENUMERATED = ("DBInstances", "DBClusters", "DBProxies", "Certificates")
DERIVED = (
    "DBParameterGroups",
    "DBClusterParameterGroups",
    "EngineDefaultParameters",
    "EngineDefaultClusterParameters",
    "OrderableDBInstanceOptions",
    "Metrics",
)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """No AWS setting of the machine leaks in: no AWS_* variable, empty config files, no
    instance metadata. Subprocesses inherit this environment (run_cli reads os.environ)."""
    empty = tmp_path_factory.mktemp("aws") / "empty"
    empty.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("AWS_"):
                mp.delenv(name)
        mp.setenv("AWS_CONFIG_FILE", str(empty))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture(scope="module")
def world(aws_env: None):  # type: ignore[no-untyped-def]
    """The moto server, its models patched for moto's gaps, filled with the world."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    with pytest.MonkeyPatch.context() as mp:
        patch_moto(mp)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        reset = f"{url}/moto-api/reset"  # moto's state is the process's: leave none behind
        try:
            requests.post(reset, timeout=10).raise_for_status()
            yield build_world(url)
        finally:
            requests.post(reset, timeout=10)
            server.stop()


@pytest.fixture(scope="module")
def baseline(world: World) -> Run:
    """A clean collection of everything, with the product's default parallelism."""
    run = Harness(world.url).run(org_options(workers=16))
    assert run.doc["errors"] == [], run.doc["errors"]
    return run


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's waits between attempts cut to nothing: the exponential backoff, and the
    adaptive mode's client-side rate limiting that a throttling answer switches on (0.5 calls a
    second at worst). Which attempts are made, and what they answer, stays botocore's own; the
    refused-endpoint test keeps the real waits to show a dead Region costs seconds."""
    from botocore.retries import bucket, standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def validate(doc: dict[str, Any]) -> None:
    error = contract.first_error(contract.validator("snapshot.schema.json"), doc)
    assert error is None, error


def assert_no_secrets(run: Run) -> None:
    for secret in run.secrets:
        assert secret not in run.text, f"a credential is in the snapshot: {secret[:8]}..."


def expected_from(baseline: Run) -> dict[str, Any]:
    return copy.deepcopy(normalized(baseline.doc))


def without(doc: dict[str, Any], account: str, region: str, *sections: str) -> None:
    reg = region_of(doc, account, region)
    for section in sections:
        reg.pop(section, None)


def assert_nothing_derived(region: dict[str, Any], *sections: str) -> None:
    """Sections derived from lists that could not be read hold nothing made up (they are empty
    or absent), and are left out of the comparison with the baseline."""
    for section in sections:
        value = region.pop(section, None)
        if section == "Metrics" and value is not None:
            value = value["IamDbAuthConnectionRequests"]["instances"]
        assert not value, (region["region"], section, value)


def value(parameters: list[dict[str, Any]], name: str) -> str | None:
    [found] = [p for p in parameters if p["ParameterName"] == name]
    return found.get("ParameterValue")


def names(items: list[dict[str, Any]], key: str) -> set[str]:
    return {item[key] for item in items}


# -- the snapshot ---------------------------------------------------------------------------


def test_snapshot_content(world: World, baseline: Run) -> None:
    doc = baseline.doc
    validate(doc)
    assert doc["format"] == "rdsiam-snapshot" and doc["version"] == 1
    assert ISO.match(doc["collected_at"])
    assert doc["source"]["kind"] == "aws"
    assert doc["source"]["caller"].startswith(f"arn:aws:sts::{MANAGEMENT}:")
    assert doc["errors"] == []
    assert [a["account_id"] for a in doc["accounts"]] == world.accounts
    for account in doc["accounts"]:
        assert account["partition"] == "aws"
        assert [r["region"] for r in account["regions"]] == sorted(REGIONS)
        for region in account["regions"]:
            # Every section collected, also where there is nothing: [] / {} mean "none there".
            for section in (*ENUMERATED, "DBProxyTargets", "DBParameterGroups"):
                assert section in region, (account["account_id"], region["region"], section)

    # Management account, us-east-1.
    use1 = region_of(doc, MANAGEMENT, USE1)
    instances = {i["DBInstanceIdentifier"]: i for i in use1["DBInstances"]}
    assert set(instances) == {
        "pg-app",
        "pg-reports",
        "mysql-legacy",
        "aurora-app-1",
        "aurora-app-2",
    }
    pg_app = instances["pg-app"]
    assert pg_app["Engine"] == "postgres" and pg_app["EngineVersion"] == "15.4"
    assert pg_app["IAMDatabaseAuthenticationEnabled"] is True
    assert "iam-db-auth-error" in pg_app["EnabledCloudwatchLogsExports"]
    assert pg_app["DBParameterGroups"][0]["DBParameterGroupName"] == "pg15-tls"
    assert ISO.match(pg_app["InstanceCreateTime"])  # datetimes as ISO 8601 UTC strings
    assert pg_app["CertificateDetails"] == {
        "CAIdentifier": "rds-ca-rsa2048-g1",
        "ValidTill": "2027-09-30T12:00:00Z",
    }
    assert instances["mysql-legacy"]["DBParameterGroups"][0]["DBParameterGroupName"] == (
        "default.mysql8.0"
    )
    # Aurora members: IAM as their cluster has it (AWS's answer; patched, moto says false).
    assert instances["aurora-app-1"]["DBClusterIdentifier"] == "aurora-app"
    assert instances["aurora-app-1"]["IAMDatabaseAuthenticationEnabled"] is True
    [cluster] = use1["DBClusters"]
    assert cluster["DBClusterIdentifier"] == "aurora-app"
    assert cluster["DBClusterParameterGroup"] == "apg15-tls"
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert names(cluster["DBClusterMembers"], "DBInstanceIdentifier") == {
        "aurora-app-1",
        "aurora-app-2",
    }
    proxies = {p["DBProxyName"]: p for p in use1["DBProxies"]}
    assert set(proxies) == {"px-app", "px-reports", "px-legacy"}
    assert proxies["px-app"]["DefaultAuthScheme"] == "IAM_AUTH"
    assert proxies["px-legacy"]["Auth"][0]["IAMAuth"] == "DISABLED"
    assert proxies["px-legacy"]["RequireTLS"] is False
    targets = use1["DBProxyTargets"]
    assert set(targets) == set(proxies)
    assert sorted(
        (t["Type"], t["RdsResourceId"], t["TrackedClusterId"]) for t in targets["px-app"]
    ) == [
        ("RDS_INSTANCE", "aurora-app-1", "aurora-app"),
        ("RDS_INSTANCE", "aurora-app-2", "aurora-app"),
        ("TRACKED_CLUSTER", "aurora-app", "aurora-app"),
    ]
    assert [(t["Type"], t["RdsResourceId"]) for t in targets["px-reports"]] == [
        ("RDS_INSTANCE", "pg-reports")
    ]
    groups = use1["DBParameterGroups"]
    assert set(groups) == {"pg15-tls", "default.mysql8.0", "default.aurora-postgresql15"}
    assert value(groups["pg15-tls"], "rds.force_ssl") == "1"  # the custom group's own value
    assert groups["default.mysql8.0"] == ENGINE_DEFAULTS["mysql8.0"]  # AWS lists the defaults
    assert set(use1["DBClusterParameterGroups"]) == {"apg15-tls"}
    assert value(use1["DBClusterParameterGroups"]["apg15-tls"], "rds.force_ssl") == "1"
    # Engine defaults of every family in use.
    assert set(use1["EngineDefaultParameters"]) == {
        "postgres15",
        "mysql8.0",
        "aurora-postgresql15",
    }
    assert use1["EngineDefaultParameters"]["postgres15"] == ENGINE_DEFAULTS["postgres15"]
    assert use1["EngineDefaultClusterParameters"] == {
        "aurora-postgresql15": ENGINE_CLUSTER_DEFAULTS["aurora-postgresql15"]
    }
    certificates = {c["CertificateIdentifier"]: c for c in use1["Certificates"]}
    assert set(certificates) == {c["CertificateIdentifier"] for c in CERTIFICATES}
    assert certificates["rds-ca-rsa2048-g1"]["ValidTill"] == "2061-05-24T22:59:00Z"
    assert certificates["rds-ca-rsa2048-g1"]["CertificateArn"] == (
        f"arn:aws:rds:{USE1}::cert:rds-ca-rsa2048-g1"
    )
    assert sorted(
        (o["Engine"], o["EngineVersion"], o["DBInstanceClass"])
        for o in use1["OrderableDBInstanceOptions"]
    ) == [
        ("aurora-postgresql", "15.4", "db.r6g.large"),
        ("mysql", "8.0.35", "db.t3.medium"),
        ("postgres", "15.4", "db.t3.medium"),
    ]
    window = use1["Metrics"]["IamDbAuthConnectionRequests"]
    assert window["period_seconds"] == 60 and window["days"] == 14
    assert ISO.match(window["start"]) and ISO.match(window["end"])
    assert window["instances"] == {
        "pg-app": {"max_per_minute": 420.0, "datapoints": 3},
        "aurora-app-1": {"max_per_minute": None, "datapoints": 0},
        "aurora-app-2": {"max_per_minute": None, "datapoints": 0},
    }

    # Management account, eu-west-1: default groups only, named as AWS names them.
    euw1 = region_of(doc, MANAGEMENT, EUW1)
    assert names(euw1["DBInstances"], "DBInstanceIdentifier") == {
        "maria-eu",
        "aurora-mysql-eu-1",
    }
    assert [c["DBClusterParameterGroup"] for c in euw1["DBClusters"]] == ["default.aurora-mysql8.0"]
    assert set(euw1["DBParameterGroups"]) == {"default.mariadb10.11", "default.aurora-mysql8.0"}
    assert euw1["DBParameterGroups"]["default.mariadb10.11"] == ENGINE_DEFAULTS["mariadb10.11"]
    assert euw1["DBClusterParameterGroups"] == {
        "default.aurora-mysql8.0": ENGINE_CLUSTER_DEFAULTS["aurora-mysql8.0"]
    }
    assert set(euw1["EngineDefaultParameters"]) == {"mariadb10.11", "aurora-mysql8.0"}
    assert set(euw1["EngineDefaultClusterParameters"]) == {"aurora-mysql8.0"}
    assert sorted(t["RdsResourceId"] for t in euw1["DBProxyTargets"]["px-eu"]) == [
        "aurora-mysql-eu",
        "aurora-mysql-eu-1",
    ]

    apse2 = region_of(doc, MANAGEMENT, APSE2)
    assert names(apse2["DBInstances"], "DBInstanceIdentifier") == {"pg-syd"}
    assert apse2["DBClusters"] == [] and apse2["DBProxies"] == [] and apse2["DBProxyTargets"] == {}

    # Member account: its own resources only.
    member_use1 = region_of(doc, world.member, USE1)
    assert names(member_use1["DBInstances"], "DBInstanceIdentifier") == {"orders"}
    mysql_tls = member_use1["DBParameterGroups"]["mysql-tls"]
    assert value(mysql_tls, "require_secure_transport") == "1"
    assert member_use1["Metrics"]["IamDbAuthConnectionRequests"]["instances"] == {
        "orders": {"max_per_minute": 13800.0, "datapoints": 2}
    }
    member_euw1 = region_of(doc, world.member, EUW1)
    assert [c["DBClusterIdentifier"] for c in member_euw1["DBClusters"]] == ["analytics"]
    assert member_euw1["DBClusters"][0]["IAMDatabaseAuthenticationEnabled"] is False
    assert region_of(doc, world.member, APSE2)["DBInstances"] == []

    # One DbiResourceId per instance (AWS's; moto gives them all the same one, patched).
    all_instances = [i for a in doc["accounts"] for r in a["regions"] for i in r["DBInstances"]]
    assert len(all_instances) == 10
    assert len({i["DbiResourceId"] for i in all_instances}) == len(all_instances)


def test_snapshot_iam_section(world: World, baseline: Run) -> None:
    iam = account_of(baseline.doc, MANAGEMENT)["iam"]
    [alice] = iam["UserDetailList"]
    assert alice["UserName"] == "alice" and alice["GroupList"] == ["dba"]
    assert [p["PolicyName"] for p in alice["UserPolicyList"]] == ["alice-connect"]
    assert alice["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == (
        "rds-db:connect"
    )
    assert [p["PolicyName"] for p in alice["AttachedManagedPolicies"]] == ["RdsIamConnect"]
    [dba] = iam["GroupDetailList"]
    assert [p["PolicyName"] for p in dba["GroupPolicyList"]] == ["dba-describe"]
    assert [p["PolicyName"] for p in dba["AttachedManagedPolicies"]] == ["RdsIamConnect"]
    [role] = iam["RoleDetailList"]
    assert role["RoleName"] == "app-role"
    assert [p["PolicyName"] for p in role["RolePolicyList"]] == ["app-connect"]
    assert [p["PolicyName"] for p in role["AttachedManagedPolicies"]] == ["RdsIamConnect"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    assert ISO.match(role["CreateDate"])
    [policy] = iam["Policies"]
    assert policy["PolicyName"] == "RdsIamConnect" and policy["PolicyId"]
    assert policy["Arn"] == f"arn:aws:iam::{MANAGEMENT}:policy/RdsIamConnect"
    assert policy["AttachmentCount"] == 3
    [version] = policy["PolicyVersionList"]
    assert version["IsDefaultVersion"] is True
    assert version["Document"]["Statement"][0]["Resource"].endswith(":dbuser:*/app_user")

    member = account_of(baseline.doc, world.member)["iam"]
    assert names(member["UserDetailList"], "UserName") == {"bob"}
    assert names(member["RoleDetailList"], "RoleName") == {
        "analytics-role",
        "OrganizationAccountAccessRole",
    }
    assert names(member["Policies"], "PolicyName") == {"AnalyticsConnect"}
    assert member["GroupDetailList"] == []


MAP_SECTIONS = {
    "DBParameterGroups": "DescribeDBParameters",
    "DBClusterParameterGroups": "DescribeDBClusterParameters",
    "EngineDefaultParameters": "DescribeEngineDefaultParameters",
    "EngineDefaultClusterParameters": "DescribeEngineDefaultClusterParameters",
    "DBProxyTargets": "DescribeDBProxyTargets",
}


def test_each_group_family_and_proxy_is_read_once(world: World, baseline: Run) -> None:
    # How often each listing was started (its first page), against what the snapshot holds.
    held: Counter[tuple[str, str, str, str]] = Counter()
    for account in baseline.doc["accounts"]:
        for region in account["regions"]:
            for section, operation in MAP_SECTIONS.items():
                for item in region[section]:
                    held[(account["account_id"], region["region"], operation, item)] += 1
    assert baseline.listings == held
    # However many databases share a group: pg15-tls serves two instances,
    # default.aurora-postgresql15 two Aurora members, postgres15 two instances.
    assert baseline.listings[(MANAGEMENT, USE1, "DescribeDBParameters", "pg15-tls")] == 1
    group = (MANAGEMENT, USE1, "DescribeDBParameters", "default.aurora-postgresql15")
    assert baseline.listings[group] == 1
    family = (MANAGEMENT, USE1, "DescribeEngineDefaultParameters", "postgres15")
    assert baseline.listings[family] == 1
    assert sum(baseline.listings.values()) == 26


def test_snapshot_never_contains_credentials(baseline: Run) -> None:
    # The caller's keys and session token, every AssumeRole credential, the master password.
    assert len(baseline.secrets) == 4 + 3 * 2
    assert_no_secrets(baseline)
    assert not re.search(r"ASIA[0-9A-Z]{16}|AKIA[0-9A-Z]{16}", baseline.text)


# -- read-only ------------------------------------------------------------------------------

EXPECTED_OPERATIONS = {
    ("sts", "GetCallerIdentity"),
    ("organizations", "ListAccounts"),
    ("sts", "AssumeRole"),
    ("iam", "GetAccountAuthorizationDetails"),
    ("rds", "DescribeDBInstances"),
    ("rds", "DescribeDBClusters"),
    ("rds", "DescribeDBProxies"),
    ("rds", "DescribeDBProxyTargets"),
    ("rds", "DescribeDBParameters"),
    ("rds", "DescribeDBClusterParameters"),
    ("rds", "DescribeEngineDefaultParameters"),
    ("rds", "DescribeEngineDefaultClusterParameters"),
    ("rds", "DescribeCertificates"),
    ("rds", "DescribeOrderableDBInstanceOptions"),
    ("cloudwatch", "GetMetricData"),
}


def test_collector_never_tries_anything_but_reads(baseline: Run) -> None:
    attempted = set(baseline.calls)  # recorded before parameters are built: every attempt
    assert attempted >= EXPECTED_OPERATIONS, EXPECTED_OPERATIONS - attempted
    for service, operation in attempted:
        assert operation.startswith(READ_PREFIXES) or (service, operation) == (
            "sts",
            "AssumeRole",
        ), f"{service}:{operation}"


def test_calls_in_scanned_accounts_are_granted_by_the_scanner_policy(baseline: Run) -> None:
    if not POLICY.exists():
        pytest.skip("docs/scanner-policy.json not written yet")
    policy = json.loads(POLICY.read_text())
    # With the caller's own credentials the collector only identifies itself, lists the
    # Organization's accounts and assumes the role (README: permissions of the caller); every
    # other call runs in a scanned account, under the role the scanner policy is for.
    assert baseline.caller_calls == {
        ("sts", "GetCallerIdentity"),
        ("organizations", "ListAccounts"),
        ("sts", "AssumeRole"),
    }
    in_accounts = baseline.account_calls
    assert set(baseline.calls) == baseline.caller_calls | in_accounts
    assert ("rds", "DescribeDBInstances") in in_accounts
    refused = sorted(f"{s}:{o}" for s, o in in_accounts if not policy_allows(policy, f"{s}:{o}"))
    assert refused == [], f"the scanner policy does not grant {refused}"


def test_every_session_the_collector_creates_refuses_writes(world: World, baseline: Run) -> None:
    assert len(baseline.sessions) == 3  # the caller's, and one per assumed account
    sent: list[str] = []
    for session in baseline.sessions:
        session.events.register("before-send", lambda request, **_: sent.append(request.url))
        rds = session.client("rds", region_name=USE1, endpoint_url=world.url)
        with pytest.raises(ReadOnlyViolation):
            rds.delete_db_instance(DBInstanceIdentifier="pg-app", SkipFinalSnapshot=True)
        assert sent == []


@pytest.mark.parametrize(
    ("service", "method", "params"),
    [
        (
            "rds",
            "delete_db_instance",
            {"DBInstanceIdentifier": "pg-app", "SkipFinalSnapshot": True},
        ),
        (
            "rds",
            "modify_db_instance",
            {"DBInstanceIdentifier": "pg-app", "EnableIAMDatabaseAuthentication": False},
        ),
        ("rds", "reboot_db_instance", {"DBInstanceIdentifier": "pg-app"}),
        (
            "rds",
            "create_db_snapshot",
            {"DBInstanceIdentifier": "pg-app", "DBSnapshotIdentifier": "s"},
        ),
        ("iam", "create_access_key", {"UserName": "alice"}),
    ],
)
def test_read_only_guard_refuses_before_any_request(
    world: World, service: str, method: str, params: dict[str, Any]
) -> None:
    session = guard(
        boto3.Session(
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            aws_session_token=SESSION_TOKEN,
            region_name=HOME,
        )
    )
    sent: list[str] = []
    session.events.register("before-send", lambda request, **_: sent.append(request.url))
    client = session.client(service, endpoint_url=world.url)
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        getattr(client, method)(**params)
    assert sent == []
    # A read through the same guarded session goes through, and pg-app is untouched.
    [pg_app] = session.client("rds", endpoint_url=world.url).describe_db_instances(
        DBInstanceIdentifier="pg-app"
    )["DBInstances"]
    assert pg_app["IAMDatabaseAuthenticationEnabled"] is True
    assert len(sent) == 1


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "region", "only", "gone"),
    [
        ("DescribeDBProxies", EUW1, {}, ("DBProxies", "DBProxyTargets")),
        ("DescribeDBParameters", USE1, {"DBParameterGroupName": "pg15-tls"}, ()),
    ],
    ids=["section", "one-group"],
)
def test_access_denied_on_one_operation_in_one_region(
    world: World,
    baseline: Run,
    operation: str,
    region: str,
    only: dict[str, str],
    gone: tuple[str, ...],
) -> None:
    fault = access_denied(operation, MANAGEMENT, region, **only)
    run = Harness(world.url, [fault.hook]).run(org_options(workers=4))
    validate(run.doc)
    assert fault.attempts == 1  # AccessDenied is not retried
    resource = only.get("DBParameterGroupName")
    error = {
        "account_id": MANAGEMENT,
        "region": region,
        "operation": operation,
        "code": "AccessDenied",
        "message": fault.message,
    }
    if resource:
        error["resource"] = resource
    assert run.doc["errors"] == [error]
    expected = expected_from(baseline)
    without(expected, MANAGEMENT, region, *gone)
    if resource:
        del region_of(expected, MANAGEMENT, region)["DBParameterGroups"][resource]
    got = normalized(run.doc)
    assert got["accounts"] == expected["accounts"]
    assert_no_secrets(run)


@pytest.mark.usefixtures("fast_retries")
def test_throttling_that_succeeds_after_retries(world: World, baseline: Run) -> None:
    fault = throttling("DescribeDBClusters", MANAGEMENT, USE1, times=2)
    run = Harness(world.url, [fault.hook]).run(org_options(workers=4, max_attempts=3))
    assert fault.attempts == 3  # two throttled attempts, the third answered by moto
    assert run.doc["errors"] == []
    assert normalized(run.doc)["accounts"] == expected_from(baseline)["accounts"]


@pytest.mark.usefixtures("fast_retries")
def test_throttling_that_never_succeeds(world: World, baseline: Run) -> None:
    fault = throttling("DescribeDBInstances", MANAGEMENT, APSE2, times=None)
    run = Harness(world.url, [fault.hook]).run(org_options(workers=4, max_attempts=3))
    validate(run.doc)
    assert fault.attempts > 1  # retried (how often: test_max_attempts_bounds_the_attempts)
    assert run.doc["errors"] == [
        {
            "account_id": MANAGEMENT,
            "region": APSE2,
            "operation": "DescribeDBInstances",
            "code": "Throttling",
            "message": "Rate exceeded",
        }
    ]
    got = normalized(run.doc)
    apse2 = region_of(got, MANAGEMENT, APSE2)
    assert "DBInstances" not in apse2  # not collected: absent, not empty
    assert apse2["DBClusters"] == [] and apse2["Certificates"]  # the other calls went on
    derived = ("DBParameterGroups", "EngineDefaultParameters", "OrderableDBInstanceOptions")
    assert_nothing_derived(apse2, *derived, "Metrics")
    expected = expected_from(baseline)
    without(expected, MANAGEMENT, APSE2, "DBInstances", *derived, "Metrics")
    assert got["accounts"] == expected["accounts"]


@pytest.mark.usefixtures("fast_retries")
def test_max_attempts_bounds_the_attempts(world: World) -> None:
    fault = throttling("DescribeDBInstances", MANAGEMENT, APSE2, times=None)
    options = org_options(org=False, role_name=None, regions=[APSE2], max_attempts=2)
    run = Harness(world.url, [fault.hook]).run(options)
    assert [e["code"] for e in run.doc["errors"]] == ["Throttling"]
    assert fault.attempts == 2


def test_refused_endpoint(world: World, baseline: Run) -> None:
    refused = f"http://127.0.0.1:{closed_port()}"

    def endpoint_for(service: str, region: str) -> str:
        return refused if region == APSE2 else world.url

    started = time.monotonic()
    run = Harness(world.url).run(
        org_options(workers=4, max_attempts=2, connect_timeout=1), endpoint_for
    )
    assert time.monotonic() - started < 20  # seconds, not the default timeouts and retries
    validate(run.doc)
    errors = run.doc["errors"]
    operations = [
        "DescribeCertificates",  # a gap fill answers moto only: this call fails like the rest
        "DescribeDBClusters",
        "DescribeDBInstances",
        "DescribeDBProxies",
    ]
    assert [(e["account_id"], e["region"], e["operation"], e["code"]) for e in errors] == [
        (account, APSE2, operation, "EndpointConnectionError")
        for account in world.accounts
        for operation in operations
    ]
    for error in errors:
        assert refused in error["message"] and "\n" not in error["message"]
    got = normalized(run.doc)
    expected = expected_from(baseline)
    for account in world.accounts:
        region = region_of(got, account, APSE2)
        for section in (*ENUMERATED, "DBProxyTargets"):
            assert section not in region, (account, section)  # not collected: absent
        assert_nothing_derived(region, *DERIVED)
        assert region == {"region": APSE2}
        without(expected, account, APSE2, *ENUMERATED, "DBProxyTargets", *DERIVED)
    assert got["accounts"] == expected["accounts"]  # the other Regions complete


def test_failed_assume_role_for_one_account(world: World, baseline: Run) -> None:
    run = Harness(world.url, [deny_assume_role(world.member)]).run(org_options(workers=4))
    validate(run.doc)
    role_arn = f"arn:aws:iam::{world.member}:role/{ROLE_NAME}"
    [error] = run.doc["errors"]
    assert error == {
        "account_id": world.member,
        "region": None,
        "operation": "AssumeRole",
        "code": "AccessDenied",
        "message": f"User: arn:aws:iam::{MANAGEMENT}:user/auditor is not authorized to perform:"
        f" sts:AssumeRole on resource: {role_arn}",
        "resource": role_arn,
    }
    got = normalized(run.doc)
    expected = expected_from(baseline)
    assert account_of(got, world.member) == {
        "account_id": world.member,
        "partition": "aws",
        "regions": [],
    }
    assert account_of(got, MANAGEMENT) == account_of(expected, MANAGEMENT)
    assert run.calls.count(("sts", "AssumeRole")) == 2
    assert run.calls.count(("iam", "GetAccountAuthorizationDetails")) == 1
    assert_no_secrets(run)


# -- the command ----------------------------------------------------------------------------


def cli_env(world: World) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(GAPS_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "AWS_ENDPOINT_URL": world.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_DEFAULT_REGION": HOME,
        "PYTHONPATH": path,
        "RDSIAM_TEST_MOTO_GAPS": "1",  # tests/moto_gaps/sitecustomize.py: moto's gaps filled
    }


LIVE_ARGS = ("--org", "--role-name", ROLE_NAME, "--regions", ",".join(REGIONS), "--metrics")


def findings(report: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (f["rule_id"], f["resource"]["account_id"], f["resource"]["id"]): f
        for f in report["findings"]
    }


def test_collect_then_check_gives_the_report_of_scan(
    world: World, baseline: Run, tmp_path: Path
) -> None:
    env = cli_env(world)
    kept, collected = tmp_path / "scan.json", tmp_path / "collected.json"
    scan = run_cli(
        "scan", *LIVE_ARGS, "--snapshot", str(kept), "--format", "json", "--as-of", AS_OF, env=env
    )
    assert scan.returncode == 1, scan.stderr  # failures at the default --fail-on low
    assert scan.stderr == ""
    collect = run_cli("collect", *LIVE_ARGS, "-o", str(collected), env=env)
    assert collect.returncode == 0, collect.stderr
    assert collect.stdout == "" and collect.stderr == ""
    check = run_cli("check", str(collected), "--format", "json", "--as-of", AS_OF, env=env)
    assert check.returncode == 1, check.stderr

    # Both snapshots are the one the collector gives in-process: same accounts, same content.
    for path in (kept, collected):
        text = path.read_text()
        doc = json.loads(text)
        validate(doc)
        assert doc["errors"] == []
        assert normalized(doc)["accounts"] == normalized(baseline.doc)["accounts"]
        for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, MASTER_PASSWORD):
            assert secret not in text

    scanned, checked = json.loads(scan.stdout), json.loads(check.stdout)
    contract_error = contract.first_error(contract.validator("report.schema.json"), scanned)
    assert contract_error is None, contract_error
    for key in ("findings", "summary", "coverage", "rules"):
        assert scanned[key] == checked[key], key
    assert set(scanned) == set(checked)
    # The inputs differ by path (and digest: collected_at differs) only.
    [scan_input], [check_input] = scanned["inputs"], checked["inputs"]
    assert scan_input["kind"] == check_input["kind"] == "snapshot"
    assert scan_input["path"] == str(kept)
    assert scan_input["sha256"] == hashlib.sha256(kept.read_bytes()).hexdigest()
    assert check_input["sha256"] == hashlib.sha256(collected.read_bytes()).hexdigest()
    for key in set(scanned) - {"findings", "summary", "coverage", "rules", "inputs"}:
        assert scanned[key] == checked[key], key

    assert scanned["coverage"]["accounts"] == world.accounts
    assert scanned["coverage"]["regions"] == sorted(REGIONS)
    assert scanned["coverage"]["errors"] == []
    by = findings(scanned)
    status = {key: f["status"] for key, f in by.items()}
    assert status[("RIA101", MANAGEMENT, "pg-app")] == "pass"
    assert status[("RIA101", MANAGEMENT, "pg-reports")] == "fail"
    assert status[("RIA101", MANAGEMENT, "aurora-app-1")] == "not_applicable"
    assert status[("RIA102", world.member, "analytics")] == "fail"
    assert status[("RIA103", MANAGEMENT, "px-legacy")] == "fail"
    px_app = by[("RIA104", MANAGEMENT, "px-app")]
    assert px_app["status"] == "pass"  # the cluster and its members as targets: IAM on
    assert px_app["evidence"]["targets_with_iam"] == ["aurora-app"]
    assert status[("RIA104", MANAGEMENT, "px-reports")] == "fail"  # pg-reports has IAM off
    assert status[("RIA402", world.member, "orders")] == "pass"  # its custom group
    assert status[("RIA405", MANAGEMENT, "px-legacy")] == "fail"
    assert status[("RIA701", world.member, "orders")] == "fail"  # 230 a second
    assert status[("RIA701", MANAGEMENT, "pg-app")] == "pass"
    # Live data the snapshot carries is what the rules used: engine defaults and default group
    # parameters (moto has neither), DescribeCertificates (moto lacks it).
    analytics = by[("RIA401", world.member, "analytics")]
    assert analytics["status"] == "fail"
    assert "default.aurora-postgresql15" in analytics["message"]
    mysql_legacy = by[("RIA402", MANAGEMENT, "mysql-legacy")]
    assert mysql_legacy["status"] == "fail"
    assert "default.mysql8.0" in mysql_legacy["message"]
    maria = by[("RIA404", MANAGEMENT, "maria-eu")]
    assert maria["status"] == "pass"
    assert maria["evidence"]["CACertificateIdentifier"] == "rds-ca-ecc384-g1"
    assert maria["evidence"]["ca_source"] == "DescribeCertificates"


def test_no_credentials_is_a_one_line_error(world: World, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    # aws_env: no AWS_* credentials, empty config and credentials files, no instance metadata.
    assert not any(k.startswith("AWS_ACCESS") or k == "AWS_PROFILE" for k in os.environ)
    proc = run_cli(
        "collect", "-o", str(out), "--regions", USE1, env={"AWS_ENDPOINT_URL": world.url}
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("rdsiam: ")
    assert "credentials" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


def test_db_user_reads_every_reachable_iam_database(world: World, baseline: Run) -> None:
    """``collect --db-user``: every IAM-enabled PostgreSQL / MySQL / MariaDB database (standalone
    instances, and clusters through their writer endpoint) is inspected with an IAM token; one
    that fails is an ``errors`` entry, and the token is never in the snapshot."""
    from checker.db.connect import ConnectError

    expected: dict[str, str] = {}  # host -> resource id
    for acc in baseline.doc["accounts"]:
        for reg in acc["regions"]:
            for i in reg.get("DBInstances", []):
                engine = i["Engine"]
                if (
                    i.get("IAMDatabaseAuthenticationEnabled")
                    and not i.get("DBClusterIdentifier")
                    and any(e in engine for e in ("postgres", "mysql", "mariadb"))
                ):
                    expected[i["Endpoint"]["Address"]] = i["DbiResourceId"]
            for c in reg.get("DBClusters", []):
                if c.get("IAMDatabaseAuthenticationEnabled"):
                    expected[c["Endpoint"]] = c["DbClusterResourceId"]
    assert len(expected) >= 3, expected  # the world has several; the test must see them
    assert len(set(expected.values())) == len(expected)  # distinct ids (moto's gap is patched)
    failing = sorted(expected)[0]
    seen: dict[str, tuple[Any, str]] = {}
    lock = threading.Lock()

    def reader(target: Any, token: str) -> dict[str, Any]:
        with lock:
            seen[target.host] = (target, token)
        if target.host == failing:
            raise ConnectError("login", 'PAM authentication failed for user "auditor"')
        return {
            "engine": target.engine,
            "collected_at": AS_OF,
            "users": [{"name": "auditor", "login": True, "member_of": ["rds_iam"]}],
        }

    run = Harness(world.url).run(
        org_options(workers=4, metrics_days=None, db_user="auditor"), db_reader=reader
    )
    validate(run.doc)
    assert set(seen) == set(expected)
    for host, (target, token) in seen.items():
        assert target.user == "auditor" and target.sslmode == "verify-full"
        # a SigV4-presigned connect URL for exactly this endpoint and user, signed locally
        assert token.startswith(f"{host}:{target.port}/?Action=connect&DBUser=auditor")
        assert "X-Amz-Signature=" in token
        assert token not in run.text
    collected = {
        d["resource_id"]: acc["account_id"] for acc in run.doc["accounts"] for d in acc["databases"]
    }
    assert set(collected) == set(expected.values()) - {expected[failing]}
    [error] = [e for e in run.doc["errors"] if e["operation"] == "DatabaseUsers"]
    assert error["code"] == "DatabaseUsers.login"
    assert "PAM authentication failed" in error["message"]
    assert all("databases" in acc for acc in run.doc["accounts"])  # collected, maybe none
    assert_no_secrets(run)
