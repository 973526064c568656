"""Helpers of tests/test_live.py: a moto world, moto's gaps filled, faults injected.

The live tests run the real collector against moto in server mode. moto 5.2 differs from AWS in
ways that matter to rdsiam; each difference is worked around here, on purpose and visibly, so
that no test passes *because of* a gap:

Fixed in moto's models (server side, ``patch_moto``), where the state lives:

- every DB instance has the same ``DbiResourceId`` (``db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U``): each now
  gets its own, derived from its ARN;
- ``CACertificateIdentifier`` is ``rds-ca-default`` (no such CA) and ``CertificateDetails`` is
  absent: instances get AWS's default CA ``rds-ca-rsa2048-g1`` (unless the test asked for one)
  and a server certificate validity, as DescribeDBInstances returns them;
- Aurora member instances report ``IAMDatabaseAuthenticationEnabled`` false whatever their
  cluster says; AWS reports the cluster's setting on its members;
- every cluster's default cluster parameter group is named ``default.aurora8.0`` and Aurora
  MySQL members' default DB parameter group ``default.aurora-mysql8.0.mysql_aurora.3.05``: both
  get AWS's names (``default.<family>``);
- CreateDBProxy drops ``DefaultAuthScheme``: the requested value is kept on the proxy;
- a proxy's Aurora cluster target is listed alone; AWS lists it (``TRACKED_CLUSTER``) and each
  member instance (``RDS_INSTANCE``), all with ``TrackedClusterId``: the members are added;
- GetAccountAuthorizationDetails lists managed policies without ``PolicyName`` and
  ``PolicyId``: they are added.

Filled on the client side (``install_moto_gaps``: botocore ``before-call`` handlers, which
short-circuit one call with a realistic answer), for what moto does not answer at all:

- DescribeCertificates and DescribeEngineDefault[Cluster]Parameters are not implemented (HTTP
  500, a ResponseParserError in botocore);
- DescribeDB[Cluster]Parameters on a ``default.*`` group is DBParameterGroupNotFound or empty
  (AWS lists the family's defaults);
- DescribeOrderableDBInstanceOptions answers [] for everything.

The fills answer only requests addressed to the moto server: a request to any other endpoint
(a refused one, in the fault tests) goes out and fails like every other call. botocore's
``Stubber`` cannot do this: it replaces *every* call of the client it is attached to (each
unstubbed call is an error), while these clients must keep talking to moto for all the other
operations, and the collector creates its clients itself.

``tests/moto_gaps/sitecustomize.py`` installs the same fills in ``python -m checker``
subprocesses (test-only, and only with RDSIAM_TEST_MOTO_GAPS=1).
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.awsrequest import AWSResponse

# Distinctive fake credentials: the snapshot must never contain them.
ACCESS_KEY = "AKIARDSIAMTESTKEY042"
SECRET_KEY = "rdsiam/test/SECRET/" + "s3cr3tS3CR3T" * 3
SESSION_TOKEN = "rdsiam-test-SESSION-TOKEN-" + "t0k3nT0K3N" * 12
MASTER_PASSWORD = "Master-Pa55word-rdsiam-test"
MANAGEMENT = "123456789012"  # moto's default account: the Organization's management account
ROLE_NAME = "audit"
HOME = "us-east-1"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
AS_OF = "2026-11-28T12:00:00Z"
SERVER_CERT_VALID_TILL = datetime(2027, 9, 30, 12, 0, tzinfo=UTC)
DEFAULT_CA = "rds-ca-rsa2048-g1"
READ_PREFIXES = ("Describe", "List", "Get")

# -- moto's gaps, server side ---------------------------------------------------------------


def aws_family(engine: str, version: str) -> str:
    """The DBParameterGroupFamily AWS gives an engine version (for the engines the world uses)."""
    engine = engine.lower()
    if engine == "aurora-mysql":
        return "aurora-mysql8.0" if version.startswith("8.0") else "aurora-mysql5.7"
    parts = version.split(".")
    if engine in ("postgres", "aurora-postgresql"):
        return engine + parts[0]
    return engine + ".".join(parts[:2])


def _dbi_resource_id(arn: str) -> str:
    """A DbiResourceId of AWS's shape (``db-`` and 26 upper-case letters and digits)."""
    return "db-" + base64.b32encode(hashlib.sha256(arn.encode()).digest()).decode()[:26]


def patch_moto(mp: Any) -> None:
    """Make moto's RDS models answer like AWS (see the module docstring); ``mp`` is a
    pytest MonkeyPatch, so everything is undone when the server fixture ends."""
    from moto.iam import models as iam_models
    from moto.rds import models, responses

    instance_init = models.DBInstance.__init__

    def init_instance(self: Any, *args: Any, **kwargs: Any) -> None:
        instance_init(self, *args, **kwargs)
        self.dbi_resource_id = _dbi_resource_id(self.arn)
        if self.ca_certificate_identifier == "rds-ca-default":
            self.ca_certificate_identifier = DEFAULT_CA
        self.certificate_details = {
            "CAIdentifier": self.ca_certificate_identifier,
            "ValidTill": SERVER_CERT_VALID_TILL,
        }

    def instance_iam(self: Any) -> bool:
        if self.db_cluster_identifier:
            cluster = self.backend.clusters.get(self.db_cluster_identifier)
            if cluster is not None:
                return bool(cluster.iam_auth)
        return bool(self.enable_iam_database_authentication)

    def default_group(self: Any) -> tuple[str, str]:
        family = aws_family(self.engine, str(self.engine_version))
        return family, f"default.{family}"

    cluster_init = models.DBCluster.__init__

    def init_cluster(self: Any, *args: Any, **kwargs: Any) -> None:
        cluster_init(self, *args, **kwargs)
        if self.parameter_group == "default.aurora8.0":
            self.parameter_group = "default." + aws_family(self.engine, str(self.engine_version))

    create_proxy = responses.RDSResponse.create_db_proxy

    def create_db_proxy(self: Any) -> Any:
        result = create_proxy(self)
        scheme = self.params.get("DefaultAuthScheme")
        if scheme:
            self.backend.db_proxies[self.params["DBProxyName"]].default_auth_scheme = scheme
        return result

    register_targets = models.RDSBackend.register_db_proxy_targets

    def register_db_proxy_targets(
        self: Any,
        db_proxy_name: str,
        target_group_name: str | None,
        db_cluster_identifiers: list[str],
        db_instance_identifiers: list[str],
    ) -> Any:
        targets = register_targets(
            self, db_proxy_name, target_group_name, db_cluster_identifiers, db_instance_identifiers
        )
        group = self.db_proxies[db_proxy_name].proxy_target_groups[target_group_name or "default"]
        for cluster in db_cluster_identifiers:
            [tracked] = [t for t in targets if t.rds_resource_id == cluster]
            tracked.tracked_cluster_id = cluster
            members = sorted(
                db.db_instance_identifier
                for db in self.databases.values()
                if db.db_cluster_identifier == cluster
            )
            for n, name in enumerate(members):
                member = models.DBProxyTarget(
                    backend=self,
                    resource_id=name,
                    endpoint=self.databases[name].address,
                    type="RDS_INSTANCE",
                )
                member.tracked_cluster_id = cluster
                member.role = "READ_WRITE" if n == 0 else "READ_ONLY"
                group.targets.append(member)
                targets.append(member)
        return targets

    mp.setattr(models.DBInstance, "__init__", init_instance)
    mp.setattr(models.DBInstance, "iam_database_authentication_enabled", property(instance_iam))
    mp.setattr(models.DBInstance, "default_db_parameter_group_details", default_group)
    mp.setattr(models.DBCluster, "__init__", init_cluster)
    mp.setattr(responses.RDSResponse, "create_db_proxy", create_db_proxy)
    mp.setattr(models.RDSBackend, "register_db_proxy_targets", register_db_proxy_targets)
    policy = iam_models.ManagedPolicy
    mp.setattr(policy, "policy_name", property(lambda self: self.name), raising=False)
    mp.setattr(policy, "policy_id", property(lambda self: self.id), raising=False)


# -- moto's gaps, client side ---------------------------------------------------------------


def _param(
    name: str,
    value: str | None,
    *,
    apply: str = "dynamic",
    kind: str = "string",
    allowed: str | None = None,
    cluster: bool = False,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ParameterName": name,
        "Description": f"{name} (engine default)",
        "Source": "engine-default",
        "ApplyType": apply,
        "DataType": kind,
        "IsModifiable": True,
    }
    if value is not None:
        item["ParameterValue"] = value
    if allowed:
        item["AllowedValues"] = allowed
    if cluster:
        item["SupportedEngineModes"] = ["provisioned"]
    return item


_PG = [
    _param("rds.force_ssl", "1", kind="boolean", allowed="0,1"),
    _param("ssl_min_protocol_version", "TLSv1.2", allowed="TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"),
    _param("ssl_max_protocol_version", None, allowed="TLSv1,TLSv1.1,TLSv1.2,TLSv1.3"),
    _param("log_connections", None, kind="boolean", allowed="0,1"),
]
_MYSQL_TLS = "TLSv1.2,TLSv1.3"
# DescribeEngineDefaultParameters (instance level) and DescribeEngineDefaultClusterParameters
# items by family, as AWS answers them (a few parameters each, the TLS ones among them).
ENGINE_DEFAULTS: dict[str, list[dict[str, Any]]] = {
    "postgres15": _PG,
    "postgres16": _PG,
    "mysql8.0": [
        _param("require_secure_transport", "0", kind="boolean", allowed="0,1"),
        _param("tls_version", _MYSQL_TLS, apply="static", kind="list"),
        _param("max_connections", "{DBInstanceClassMemory/12582880}", kind="integer"),
    ],
    "mariadb10.11": [
        _param("require_secure_transport", "OFF", kind="boolean", allowed="ON,OFF"),
        _param("tls_version", _MYSQL_TLS, apply="static", kind="list"),
    ],
    "aurora-postgresql15": [
        _param("log_connections", None, kind="boolean", allowed="0,1"),
        _param("shared_preload_libraries", "pg_stat_statements", apply="static", kind="list"),
    ],
    "aurora-mysql8.0": [
        _param(
            "max_connections",
            "GREATEST({log(DBInstanceClassMemory/805306368)*45},"
            "{log(DBInstanceClassMemory/8187281408)*1000})",
            kind="integer",
        ),
    ],
}
ENGINE_CLUSTER_DEFAULTS: dict[str, list[dict[str, Any]]] = {
    "aurora-postgresql15": [
        _param("rds.force_ssl", "0", kind="boolean", allowed="0,1", cluster=True),
        _param("ssl_min_protocol_version", "TLSv1.2", cluster=True),
    ],
    "aurora-mysql8.0": [
        _param("require_secure_transport", "OFF", kind="boolean", allowed="ON,OFF", cluster=True),
        _param("tls_version", _MYSQL_TLS, apply="static", kind="list", cluster=True),
    ],
}


def _cert(ca: str, start: datetime, till: datetime, thumbprint: str) -> dict[str, Any]:
    return {
        "CertificateIdentifier": ca,
        "CertificateType": "CA",
        "Thumbprint": thumbprint,
        "ValidFrom": start,
        "ValidTill": till,
        "CustomerOverride": False,
    }


CERTIFICATES = [
    _cert(
        "rds-ca-ecc384-g1",
        datetime(2021, 5, 21, 23, 6, 59, tzinfo=UTC),
        datetime(2121, 5, 21, 23, 6, 59, tzinfo=UTC),
        "a5d0d3e7b1ab2f3c6d9e0f1a2b3c4d5e6f708192",
    ),
    _cert(
        "rds-ca-rsa2048-g1",
        datetime(2021, 5, 24, 22, 59, 0, tzinfo=UTC),
        datetime(2061, 5, 24, 22, 59, 0, tzinfo=UTC),
        "b6e1e4f8c2bc3040d7ea1f2b3c4d5e6f70819203",
    ),
    _cert(
        "rds-ca-rsa4096-g1",
        datetime(2021, 5, 21, 23, 3, 20, tzinfo=UTC),
        datetime(2121, 5, 21, 23, 3, 20, tzinfo=UTC),
        "c7f2f5a9d3cd4151e8fb2a3c4d5e6f7081920314",
    ),
]
STUBBED = (
    "DescribeCertificates",
    "DescribeEngineDefaultParameters",
    "DescribeEngineDefaultClusterParameters",
    "DescribeDBParameters",
    "DescribeDBClusterParameters",
    "DescribeOrderableDBInstanceOptions",
)


def _error(code: str, message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"Error": {"Type": "Sender", "Code": code, "Message": message}}


def _defaults(table: dict[str, list[dict[str, Any]]], family: str, key: str) -> Any:
    if family not in table:
        return _error("InvalidParameterValue", f"Invalid parameter group family: {family}")
    params = copy.deepcopy(table[family])
    if key == "EngineDefaults":
        return 200, {"EngineDefaults": {"DBParameterGroupFamily": family, "Parameters": params}}
    return 200, {"Parameters": params}


def _fill(operation: str, body: dict[str, Any], region: str) -> tuple[int, Any] | None:
    """moto's missing answer to one call, or None to let the call go to moto."""
    if operation == "DescribeCertificates":
        certs = copy.deepcopy(CERTIFICATES)
        for cert in certs:
            cert["CertificateArn"] = f"arn:aws:rds:{region}::cert:{cert['CertificateIdentifier']}"
        return 200, {"DefaultCertificateForNewLaunches": DEFAULT_CA, "Certificates": certs}
    if operation == "DescribeEngineDefaultParameters":
        return _defaults(ENGINE_DEFAULTS, body["DBParameterGroupFamily"], "EngineDefaults")
    if operation == "DescribeEngineDefaultClusterParameters":
        return _defaults(ENGINE_CLUSTER_DEFAULTS, body["DBParameterGroupFamily"], "EngineDefaults")
    if operation in ("DescribeDBParameters", "DescribeDBClusterParameters"):
        cluster = operation == "DescribeDBClusterParameters"
        name = str(body.get("DBClusterParameterGroupName" if cluster else "DBParameterGroupName"))
        if not name.startswith("default."):
            return None  # custom groups are moto's own
        table = ENGINE_CLUSTER_DEFAULTS if cluster else ENGINE_DEFAULTS
        return _defaults(table, name[len("default.") :], "Parameters")
    if operation == "DescribeOrderableDBInstanceOptions":
        engine, version = body["Engine"], body["EngineVersion"]
        option = {
            "Engine": engine,
            "EngineVersion": version,
            "DBInstanceClass": body["DBInstanceClass"],
            "LicenseModel": "general-public-license",
            "AvailabilityZones": [{"Name": f"{region}{z}"} for z in "abc"],
            "MultiAZCapable": True,
            "StorageType": "gp3",
            "SupportsIAMDatabaseAuthentication": True,
            "SupportsKerberosAuthentication": engine in ("postgres", "mysql", "aurora-mysql"),
        }
        return 200, {"OrderableDBInstanceOptions": [option]}
    return None


def _same_server(url: str, server: str) -> bool:
    return urlsplit(url).netloc == urlsplit(server).netloc


def _fill_handler(
    moto_url: str, operation: str, params: dict[str, Any], context: dict[str, Any], **_: Any
) -> tuple[AWSResponse, dict[str, Any]] | None:
    url = str(params.get("url", ""))
    if not _same_server(url, moto_url):
        return None
    body = params.get("body") or {}
    answer = _fill(operation, body if isinstance(body, dict) else {}, context["client_region"])
    if answer is None:
        return None
    status, parsed = answer
    parsed["ResponseMetadata"] = {"RequestId": "moto-gap-fill", "HTTPStatusCode": status}
    return AWSResponse(url, status, {}, None), parsed


def install_moto_gaps(session: boto3.Session, moto_url: str) -> None:
    """Register the client-side fills on every client the session will create."""
    for operation in STUBBED:
        session.events.register(
            f"before-call.rds.{operation}", partial(_fill_handler, moto_url, operation)
        )


def install_on_every_session(moto_url: str) -> None:
    """Test-only (sitecustomize in a subprocess): every boto3.Session gets the fills."""
    original = boto3.Session.__init__

    def __init__(self: boto3.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        install_moto_gaps(self, moto_url)

    boto3.Session.__init__ = __init__  # type: ignore[method-assign]


# -- the world ------------------------------------------------------------------------------


@dataclass
class World:
    url: str
    member: str

    @property
    def accounts(self) -> list[str]:
        return sorted([MANAGEMENT, self.member])


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


TRUST_EC2 = _doc(
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
)


class _Account:
    """Setup clients of one account (plain boto3: no gap fills, no guard)."""

    def __init__(self, url: str, account: str, credentials: dict[str, str]) -> None:
        self.url, self.account, self.credentials = url, account, credentials

    def client(self, service: str, region: str = HOME) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.url, **self.credentials)

    def subnets(self, region: str) -> list[str]:
        ec2 = self.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        return [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24", AvailabilityZone=region + z)[
                "Subnet"
            ]["SubnetId"]
            for n, z in ((1, "a"), (2, "b"))
        ]

    def instance(self, region: str, name: str, engine: str, version: str, **extra: Any) -> None:
        self.client("rds", region).create_db_instance(
            DBInstanceIdentifier=name,
            Engine=engine,
            EngineVersion=version,
            DBInstanceClass=extra.pop("DBInstanceClass", "db.t3.medium"),
            MasterUsername="admin_user",
            MasterUserPassword=MASTER_PASSWORD,
            AllocatedStorage=20,
            **extra,
        )

    def cluster(
        self, region: str, name: str, engine: str, version: str, members: int, **extra: Any
    ) -> None:
        rds = self.client("rds", region)
        rds.create_db_cluster(
            DBClusterIdentifier=name,
            Engine=engine,
            EngineVersion=version,
            MasterUsername="admin_user",
            MasterUserPassword=MASTER_PASSWORD,
            **extra,
        )
        for n in range(1, members + 1):
            rds.create_db_instance(
                DBInstanceIdentifier=f"{name}-{n}",
                DBClusterIdentifier=name,
                Engine=engine,
                DBInstanceClass="db.r6g.large",
            )

    def group(
        self, region: str, name: str, family: str, values: dict[str, str], cluster: bool = False
    ) -> None:
        rds = self.client("rds", region)
        params = [
            {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"}
            for k, v in values.items()
        ]
        if cluster:
            rds.create_db_cluster_parameter_group(
                DBClusterParameterGroupName=name, DBParameterGroupFamily=family, Description=name
            )
            rds.modify_db_cluster_parameter_group(
                DBClusterParameterGroupName=name, Parameters=params
            )
        else:
            rds.create_db_parameter_group(
                DBParameterGroupName=name, DBParameterGroupFamily=family, Description=name
            )
            rds.modify_db_parameter_group(DBParameterGroupName=name, Parameters=params)

    def proxy(
        self,
        region: str,
        name: str,
        family: str,
        subnets: list[str],
        targets: dict[str, list[str]],
        iam_auth: str = "REQUIRED",
        **extra: Any,
    ) -> None:
        rds = self.client("rds", region)
        rds.create_db_proxy(
            DBProxyName=name,
            EngineFamily=family,
            Auth=[
                {
                    "AuthScheme": "SECRETS",
                    "SecretArn": f"arn:aws:secretsmanager:{region}:{self.account}:secret:{name}",
                    "IAMAuth": iam_auth,
                }
            ],
            RoleArn=f"arn:aws:iam::{self.account}:role/{name}-proxy",
            VpcSubnetIds=subnets,
            **extra,
        )
        rds.register_db_proxy_targets(DBProxyName=name, **targets)
        # moto reports a new target REGISTERING once, then AVAILABLE: settle it now, so every
        # collection sees the same state.
        rds.describe_db_proxy_targets(DBProxyName=name)

    def connections(self, region: str, instance: str, per_minute: list[int]) -> None:
        """IamDbAuthConnectionRequests of ``instance``: one minute per value, an hour ago, each
        minute's count in two datapoints (the collector reads one-minute Sums)."""
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
        metric = {
            "MetricName": "IamDbAuthConnectionRequests",
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
            "Unit": "Count",
        }
        data = [
            {**metric, "Timestamp": start + timedelta(minutes=n, seconds=s), "Value": count / 2}
            for n, count in enumerate(per_minute)
            for s in (5, 35)
        ]
        self.client("cloudwatch", region).put_metric_data(Namespace="AWS/RDS", MetricData=data)


def build_world(url: str) -> World:
    """Two accounts of one Organization, three Regions, every kind of resource rdsiam reads."""
    base = {
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "aws_session_token": SESSION_TOKEN,
    }
    mgmt = _Account(url, MANAGEMENT, base)
    org = mgmt.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(Email="data@example.com", AccountName="data")[
        "CreateAccountStatus"
    ]["AccountId"]
    creds = mgmt.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )["Credentials"]
    data = _Account(
        url,
        member,
        {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        },
    )
    _management_account(mgmt)
    _member_account(data)
    return World(url, member)


def _management_account(acc: _Account) -> None:
    use1, euw1, apse2 = REGIONS
    # us-east-1: PostgreSQL on a custom group shared by two instances, MySQL on its default
    # group, an Aurora PostgreSQL cluster on a custom cluster group, three proxies.
    acc.group(use1, "pg15-tls", "postgres15", {"rds.force_ssl": "1"})
    acc.instance(
        use1,
        "pg-app",
        "postgres",
        "15.4",
        DBParameterGroupName="pg15-tls",
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["postgresql", "iam-db-auth-error"],
    )
    acc.instance(use1, "pg-reports", "postgres", "15.4", DBParameterGroupName="pg15-tls")
    acc.instance(use1, "mysql-legacy", "mysql", "8.0.35")
    acc.group(use1, "apg15-tls", "aurora-postgresql15", {"rds.force_ssl": "1"}, cluster=True)
    acc.cluster(
        use1,
        "aurora-app",
        "aurora-postgresql",
        "15.4",
        members=2,
        DBClusterParameterGroupName="apg15-tls",
        EnableIAMDatabaseAuthentication=True,
    )
    subnets = acc.subnets(use1)
    acc.proxy(
        use1,
        "px-app",
        "POSTGRESQL",
        subnets,
        {"DBClusterIdentifiers": ["aurora-app"]},
        DefaultAuthScheme="IAM_AUTH",
        RequireTLS=True,
    )
    acc.proxy(
        use1,
        "px-reports",
        "POSTGRESQL",
        subnets,
        {"DBInstanceIdentifiers": ["pg-reports"]},
        DefaultAuthScheme="IAM_AUTH",
        RequireTLS=True,
    )
    acc.proxy(
        use1,
        "px-legacy",
        "MYSQL",
        subnets,
        {"DBInstanceIdentifiers": ["mysql-legacy"]},
        iam_auth="DISABLED",
        RequireTLS=False,
    )
    # eu-west-1: MariaDB on its default group, Aurora MySQL on the default cluster group.
    acc.instance(euw1, "maria-eu", "mariadb", "10.11.6", CACertificateIdentifier="rds-ca-ecc384-g1")
    acc.cluster(
        euw1,
        "aurora-mysql-eu",
        "aurora-mysql",
        "8.0.mysql_aurora.3.05.2",
        members=1,
        EnableIAMDatabaseAuthentication=True,
    )
    acc.proxy(
        euw1,
        "px-eu",
        "MYSQL",
        acc.subnets(euw1),
        {"DBClusterIdentifiers": ["aurora-mysql-eu"]},
        RequireTLS=True,
    )
    # ap-southeast-2: one PostgreSQL 16 instance on its default group.
    acc.instance(apse2, "pg-syd", "postgres", "16.3", EnableIAMDatabaseAuthentication=True)

    iam = acc.client("iam")
    connect = iam.create_policy(
        PolicyName="RdsIamConnect",
        PolicyDocument=_doc(
            _allow("rds-db:connect", f"arn:aws:rds-db:{use1}:{acc.account}:dbuser:*/app_user")
        ),
    )["Policy"]["Arn"]
    iam.create_user(UserName="alice")
    iam.put_user_policy(
        UserName="alice",
        PolicyName="alice-connect",
        PolicyDocument=_doc(_allow("rds-db:connect", "*")),
    )
    iam.attach_user_policy(UserName="alice", PolicyArn=connect)
    iam.create_group(GroupName="dba")
    iam.add_user_to_group(GroupName="dba", UserName="alice")
    iam.put_group_policy(
        GroupName="dba", PolicyName="dba-describe", PolicyDocument=_doc(_allow("rds:Describe*"))
    )
    iam.attach_group_policy(GroupName="dba", PolicyArn=connect)
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=TRUST_EC2)
    iam.put_role_policy(
        RoleName="app-role",
        PolicyName="app-connect",
        PolicyDocument=_doc(_allow("rds-db:connect", "*")),
    )
    iam.attach_role_policy(RoleName="app-role", PolicyArn=connect)
    acc.connections(use1, "pg-app", [300, 150, 420])  # peak 420 a minute: 7 a second


def _member_account(acc: _Account) -> None:
    use1, euw1, _ = REGIONS
    acc.group(use1, "mysql-tls", "mysql8.0", {"require_secure_transport": "1"})
    acc.instance(
        use1,
        "orders",
        "mysql",
        "8.0.35",
        DBParameterGroupName="mysql-tls",
        EnableIAMDatabaseAuthentication=True,
    )
    acc.cluster(euw1, "analytics", "aurora-postgresql", "15.4", members=1)
    iam = acc.client("iam")
    policy = iam.create_policy(
        PolicyName="AnalyticsConnect",
        PolicyDocument=_doc(_allow("rds-db:connect", f"arn:aws:rds-db:{euw1}:*:dbuser:*/*")),
    )["Policy"]["Arn"]
    iam.create_user(UserName="bob")
    iam.put_user_policy(
        UserName="bob", PolicyName="bob-connect", PolicyDocument=_doc(_allow("rds-db:connect"))
    )
    iam.create_role(RoleName="analytics-role", AssumeRolePolicyDocument=TRUST_EC2)
    iam.attach_role_policy(RoleName="analytics-role", PolicyArn=policy)
    acc.connections(use1, "orders", [9000, 13800])  # peak 13800 a minute: 230 a second


# -- running the collector in-process -------------------------------------------------------

Hook = Callable[[boto3.Session, str], None]


@dataclass
class Run:
    doc: dict[str, Any]
    calls: tuple[tuple[str, str], ...]  # (service, operation) of every call attempted
    caller_calls: frozenset[tuple[str, str]]  # made with the caller's own credentials
    account_calls: frozenset[tuple[str, str]]  # made with a role assumed in an account
    listings: Counter[tuple[str, str, str, str]]  # see Harness.PER_ITEM
    secrets: tuple[str, ...]  # every credential the run used
    sessions: tuple[boto3.Session, ...]
    seconds: float
    text: str = field(init=False)

    def __post_init__(self) -> None:
        self.text = json.dumps(self.doc, ensure_ascii=False)


class Harness:
    """Runs ``collect`` in-process against moto: gap fills, recorders and faults installed on
    every session the collector creates (through its ``session_factory``)."""

    # Operations the collector calls once per item, and the parameter naming the item: how
    # often each (account, Region, operation, item) listing is started (first pages) is counted.
    PER_ITEM: ClassVar[dict[str, str]] = {
        "DescribeDBParameters": "DBParameterGroupName",
        "DescribeDBClusterParameters": "DBClusterParameterGroupName",
        "DescribeEngineDefaultParameters": "DBParameterGroupFamily",
        "DescribeEngineDefaultClusterParameters": "DBParameterGroupFamily",
        "DescribeDBProxyTargets": "DBProxyName",
    }

    def __init__(self, url: str, hooks: Iterable[Hook] = ()) -> None:
        self.url = url
        self.hooks = list(hooks)
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.caller_calls: set[tuple[str, str]] = set()
        self.account_calls: set[tuple[str, str]] = set()
        self.listings: Counter[tuple[str, str, str, str]] = Counter()
        self.assumed: dict[str, str] = {}  # AccessKeyId -> account
        self.secrets: list[str] = [ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, MASTER_PASSWORD]
        self.sessions: list[boto3.Session] = []

    def session_factory(self, **kwargs: Any) -> boto3.Session:
        key = kwargs.get("aws_access_key_id")
        caller = key is None
        if caller:  # the collector's base session: the caller's own credentials
            kwargs.update(
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                aws_session_token=SESSION_TOKEN,
            )
        kwargs["region_name"] = kwargs.get("region_name") or HOME
        account = self.assumed.get(str(key), MANAGEMENT)
        session = boto3.Session(**kwargs)
        # Recorders and faults first: a gap fill answers its call, which ends the before-call
        # event (botocore stops at the first handler that returns a response).
        session.events.register("before-parameter-build", partial(self._record_call, caller))
        for operation in self.PER_ITEM:
            session.events.register(
                f"before-call.rds.{operation}", partial(self._record_listing, account, operation)
            )
        session.events.register("after-call.sts.AssumeRole", self._record_assumed)
        for hook in self.hooks:
            hook(session, account)
        install_moto_gaps(session, self.url)
        with self.lock:
            self.sessions.append(session)
        return session

    def _record_call(self, caller: bool, model: Any, **_: Any) -> None:
        call = (model.service_model.service_name, model.name)
        with self.lock:
            self.calls.append(call)
            (self.caller_calls if caller else self.account_calls).add(call)

    def _record_listing(
        self, account: str, operation: str, params: dict[str, Any], context: Any, **_: Any
    ) -> None:
        body = params["body"]
        if body.get("Marker"):
            return  # a further page of the same listing (AWS pages parameters by 100)
        item = str(body[self.PER_ITEM[operation]])
        with self.lock:
            self.listings[(account, context["client_region"], operation, item)] += 1

    def _record_assumed(self, parsed: dict[str, Any], **_: Any) -> None:
        creds = parsed.get("Credentials")
        if not creds:
            return
        arn = parsed["AssumedRoleUser"]["Arn"]  # arn:aws:sts::<account>:assumed-role/...
        with self.lock:
            self.assumed[creds["AccessKeyId"]] = arn.split(":")[4]
            self.secrets += [creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]]

    def run(self, options: Any = None, endpoint_for: Any = None, **kwargs: Any) -> Run:
        from checker.collect.live import collect

        options = options or org_options()
        started = time.monotonic()
        doc, _ = collect(
            options,
            session_factory=self.session_factory,
            endpoint_for=endpoint_for or (lambda service, region: self.url),
            **kwargs,
        )
        seconds = time.monotonic() - started
        return Run(
            doc,
            tuple(self.calls),
            frozenset(self.caller_calls),
            frozenset(self.account_calls),
            Counter(self.listings),
            tuple(self.secrets),
            tuple(self.sessions),
            seconds,
        )


def org_options(**changes: Any) -> Any:
    from checker.collect.live import Options

    values: dict[str, Any] = {
        "regions": list(REGIONS),
        "org": True,
        "role_name": ROLE_NAME,
        "max_attempts": 3,
        "connect_timeout": 1,
        "read_timeout": 10,
        "metrics_days": 14,
    }
    values.update(changes)
    return Options(**values)


# -- faults ---------------------------------------------------------------------------------


def signing_region(request: Any) -> str:
    """The Region a SigV4 request is signed for (its credential scope)."""
    auth = request.headers.get("Authorization", b"")
    auth = auth.decode() if isinstance(auth, bytes) else str(auth)
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", auth)
    return match.group(1) if match else ""


def query_param(request: Any, name: str) -> str | None:
    body = request.body
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    values = parse_qs(text).get(name)
    return values[0] if values else None


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self.data


def query_error(url: str, status: int, code: str, message: str) -> AWSResponse:
    """An HTTP error answer of a query-protocol service (RDS), as AWS sends it."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    ).encode()
    return AWSResponse(url, status, {"Content-Type": "text/xml"}, _Body(body))


@dataclass
class Fault:
    """Answer ``operation`` in (``account``, ``region``) with an HTTP error, ``times`` times
    (None: always), at ``before-send``: the answer goes through botocore's retry logic."""

    operation: str
    account: str
    region: str
    status: int
    code: str
    message: str
    times: int | None = None
    only: dict[str, str] = field(default_factory=dict)  # request parameters it applies to
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, session: boto3.Session, account: str) -> None:
        if account == self.account:
            session.events.register(f"before-send.rds.{self.operation}", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        if signing_region(request) != self.region:
            return None
        if any(query_param(request, k) != v for k, v in self.only.items()):
            return None
        with self.lock:
            self.attempts += 1
            if self.times is not None and self.attempts > self.times:
                return None
        return query_error(request.url, self.status, self.code, self.message)


def throttling(operation: str, account: str, region: str, times: int | None) -> Fault:
    return Fault(operation, account, region, 400, "Throttling", "Rate exceeded", times)


def access_denied(operation: str, account: str, region: str, **only: str) -> Fault:
    message = (
        f"User: arn:aws:sts::{account}:assumed-role/{ROLE_NAME}/rdsiam is not authorized to"
        f" perform: rds:{operation} because no identity-based policy allows the"
        f" rds:{operation} action"
    )
    return Fault(operation, account, region, 403, "AccessDenied", message, only=dict(only))


def deny_assume_role(account: str) -> Hook:
    """A failed sts:AssumeRole into ``account`` (AccessDenied), answered at ``before-call``."""

    def handler(params: dict[str, Any], **_: Any) -> Any:
        role_arn = str(params["body"]["RoleArn"])
        if role_arn.split(":")[4] != account:
            return None
        message = (
            f"User: arn:aws:iam::{MANAGEMENT}:user/auditor is not authorized to perform:"
            f" sts:AssumeRole on resource: {role_arn}"
        )
        parsed = {
            "Error": {"Type": "Sender", "Code": "AccessDenied", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse(params["url"], 403, {}, None), parsed

    def hook(session: boto3.Session, _account: str) -> None:
        session.events.register("before-call.sts.AssumeRole", handler)

    return hook


# -- comparing snapshots --------------------------------------------------------------------

# Values moto computes at each describe (LatestRestorableTime is "now").
VOLATILE_KEYS = frozenset({"LatestRestorableTime"})


def normalized(doc: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without what differs between two collections of the same state."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    out = strip(copy.deepcopy(doc))
    out.pop("collected_at", None)
    out["source"].pop("seconds", None)
    for account in out["accounts"]:
        for region in account["regions"]:
            window = region.get("Metrics", {}).get("IamDbAuthConnectionRequests", {})
            window.pop("start", None)  # the collector's clock, to the minute
            window.pop("end", None)
    return out


def region_of(doc: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    acc = next(a for a in doc["accounts"] if a["account_id"] == account)
    return next(r for r in acc["regions"] if r["region"] == region)


def account_of(doc: dict[str, Any], account: str) -> dict[str, Any]:
    return next(a for a in doc["accounts"] if a["account_id"] == account)


# -- IAM policy -----------------------------------------------------------------------------


def policy_allows(policy: dict[str, Any], action: str) -> bool:
    """True when an Allow statement's Action matches ``action`` (IAM wildcards, case-insensitive)
    and no Deny statement does."""

    def matches(statement: dict[str, Any]) -> bool:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        return any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in actions)

    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    allowed = any(s.get("Effect") == "Allow" and matches(s) for s in statements)
    denied = any(s.get("Effect") == "Deny" and matches(s) for s in statements)
    return allowed and not denied
