"""Benchmark of ``rdsiam collect`` against a moto-backed account. Reports; never asserts.

    python3 bench/collect.py [--instances N] [--roles N] [--quick]

Starts a moto ``ThreadedMotoServer`` on 127.0.0.1 (a free port) in this process and fills one
account (123456789012) with, in each of us-east-1, eu-west-1 and ap-southeast-2: N DB instances
(default 300; postgres 16 and 15, mysql 8.0 and mariadb 10.11, two instance classes, two in
three with IAM database authentication) on 50 custom DB parameter groups spread over the Regions
(17/17/16, each instance on one of its Region's groups, the TLS parameters set on each), plus two
Aurora clusters (aurora-postgresql 15, aurora-mysql 8.0; no member instances) on custom cluster
parameter groups; and in IAM ``--roles`` roles (default 500): every second one with an inline
``rds-db:connect`` policy, every third with one of 20 customer managed policies attached.

Then ``collect(Options(regions=[the three], workers=16), session_factory=..., endpoint_for=...)``
runs in a child process (``bench/collect.py --child``; moto is not imported there), started by a
small wrapper process that reads ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak RSS
is the collecting process's alone (interpreter, boto3, checker and the snapshot; not moto's).
The child also writes the snapshot as ``rdsiam collect --output`` would, and this process checks
it against ``snapshot.schema.json``. Wall time is that of ``collect()`` in the child; nearly all
of it is moto answering (a Python server on a threaded werkzeug), so it says nothing about AWS
latency. Calls are ``Stats.calls`` (one per page, as the collector counts them).

After the first run the same server gets N more instances per Region (same groups, same engine
versions and classes, same clusters and roles) and the collection runs again at 2N, to show
which calls grow with the instances: only DescribeDBInstances should (pages of 100); the calls
for parameter groups, engine defaults, certificates and orderable options are per group, per
family, per Region or per (engine, version, class) and should not change.

moto 5.2.1 gaps and how the figures differ from AWS (so read the counts as a lower bound):

* moto lacks DescribeCertificates and DescribeEngineDefault[Cluster]Parameters (HTTP 500,
  NotImplementedError) and answers 404 for ``default.*`` groups. The child registers botocore
  ``before-call`` handlers for those three operations that return a canned parsed response
  without a request (see ``_canned``), so they are still counted once per page like real calls;
  the canned engine defaults have ``ENGINE_DEFAULTS`` parameters per family, paged by
  ``MaxRecords`` (100 by default) as RDS pages them. No instance or cluster uses a ``default.*``
  group, so moto's 404 is never hit.
* moto answers DescribeDB[Cluster]Parameters for a custom group with only the parameters that
  were modified, in one page; AWS returns every parameter of the group (300-500) in pages of 100,
  so on AWS those calls are about 4x the figure here (still per group, not per instance).
* moto ignores ``MaxItems`` of GetAccountAuthorizationDetails (one page); AWS pages it (100
  items by default), so on AWS it is about (roles + users + groups + policies) / 100 calls.
* DescribeOrderableDBInstanceOptions is empty for postgres/mysql/mariadb in moto (one page per
  combination); on AWS each combination can take a few pages.

Exits 0 whatever the figures (a crashed collection is reported, not raised).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable or "python3"

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
GROUPS = 50
WORKERS = 16  # collector threads (Options.workers)
SETUP_THREADS = 16  # threads creating the fixture
MANAGED_POLICIES = 20
PAGE = 100  # RDS MaxRecords default; moto pages DescribeDBInstances by it too
ENGINE_DEFAULTS = 250  # canned engine default parameters per family (AWS: 250-500)
PASSWORD = "bench-Passw0rd-not-secret"  # moto only
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# (engine, version, DBParameterGroupFamily) of the DB instances; group g has ENGINES[g % 4].
ENGINES = (
    ("postgres", "16.3", "postgres16"),
    ("postgres", "15.7", "postgres15"),
    ("mysql", "8.0.36", "mysql8.0"),
    ("mariadb", "10.11.8", "mariadb10.11"),
)
CLASSES = ("db.t3.medium", "db.r6g.large")
# (cluster id, engine, version, DBParameterGroupFamily) of the Aurora clusters of each Region.
CLUSTERS = (
    ("bench-apg", "aurora-postgresql", "15.4", "aurora-postgresql15"),
    ("bench-ams", "aurora-mysql", "8.0.mysql_aurora.3.05.2", "aurora-mysql8.0"),
)
CERTIFICATES = (
    ("rds-ca-2019", "2019-09-19T18:16:53", "2024-08-22T17:08:50"),
    ("rds-ca-rsa2048-g1", "2021-05-25T22:41:55", "2061-05-24T22:59:00"),
    ("rds-ca-rsa4096-g1", "2021-05-25T23:34:57", "2121-05-24T23:59:59"),
    ("rds-ca-ecc384-g1", "2021-05-25T23:31:52", "2121-05-24T23:59:59"),
)
# Operations whose calls must not grow with the instances, and DescribeDBInstances (which does).
COMPARED = (
    "DescribeDBParameters",
    "DescribeEngineDefaultParameters",
    "DescribeCertificates",
    "DescribeOrderableDBInstanceOptions",
    "DescribeDBInstances",
)
GROUP_AND_CERT_OPS = COMPARED[:3]

# Runs argv[1:] with its stdout captured; prints {"wall", "maxrss", "rc", "stdout", "stderr"}.
# One wrapper per collection, so RUSAGE_CHILDREN is that one collecting process's peak.
_WRAPPER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
rss = rss if sys.platform == "darwin" else rss * 1024
print(json.dumps({"wall": wall, "maxrss": rss, "rc": p.returncode,
                  "stdout": p.stdout.decode("utf-8", "replace"),
                  "stderr": p.stderr.decode("utf-8", "replace")[-4000:]}))
"""


# --- the fixture --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    name: str
    region: str
    engine: str
    version: str
    family: str


def groups() -> list[Group]:
    """The 50 DB parameter groups: group g in Region g % 3 with engine ENGINES[g % 4]."""
    out = []
    for g in range(GROUPS):
        engine, version, family = ENGINES[g % len(ENGINES)]
        name = f"bench-{family.replace('.', '-')}-{g:02d}"
        out.append(Group(name, REGIONS[g % len(REGIONS)], engine, version, family))
    return out


@dataclass(frozen=True)
class Instance:
    ident: str
    region: str
    group: Group
    klass: str
    iam: bool


def instances(region: str, start: int, stop: int) -> list[Instance]:
    """Instances ``start`` .. ``stop - 1`` of a Region: instance i on the Region's group
    i % groups, class by i // groups, so every (engine, version, class) of the Region is in use
    from the first 2 x groups instances on and more instances add none."""
    mine = [g for g in groups() if g.region == region]
    return [
        Instance(
            f"bench-db-{i:05d}",
            region,
            mine[i % len(mine)],
            CLASSES[(i // len(mine)) % len(CLASSES)],
            i % 3 != 2,
        )
        for i in range(start, stop)
    ]


def expected_calls(n: int, roles: int) -> dict[str, int]:
    """What the collector should call for this fixture with ``n`` instances per Region: each
    group, family, (engine, version, class) and Region once, every page counted."""
    exp: Counter[str] = Counter()
    defaults_pages = math.ceil(ENGINE_DEFAULTS / PAGE)
    for region in REGIONS:
        items = instances(region, 0, n)
        exp["DescribeDBInstances"] += max(1, math.ceil(n / PAGE))
        exp["DescribeDBParameters"] += len({i.group.name for i in items})
        exp["DescribeEngineDefaultParameters"] += len({i.group.family for i in items}) * (
            defaults_pages
        )
        exp["DescribeOrderableDBInstanceOptions"] += len(
            {(i.group.engine, i.group.version, i.klass) for i in items}
        )
        exp["DescribeCertificates"] += 1
        exp["DescribeDBClusters"] += 1
        exp["DescribeDBProxies"] += 1
        exp["DescribeDBClusterParameters"] += len(CLUSTERS)
        exp["DescribeEngineDefaultClusterParameters"] += len(CLUSTERS) * defaults_pages
    exp["GetCallerIdentity"] = 1
    exp["GetAccountAuthorizationDetails"] = 1  # moto: one page whatever MaxItems
    return dict(exp)


def tls_parameters(family: str, good: bool) -> list[dict[str, str]]:
    """The TLS parameters a user sets in a custom group (good or not)."""
    if "postgres" in family:
        values = (("rds.force_ssl", "1" if good else "0"), ("ssl_min_protocol_version", "TLSv1.2"))
    elif "mariadb" in family:
        values = (("require_secure_transport", "ON" if good else "OFF"), ("tls_version", "TLSv1.2"))
    else:
        values = (("require_secure_transport", "1" if good else "0"), ("tls_version", "TLSv1.2"))
    return [
        {"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"}
        for k, v in values
    ]


class Fixture:
    """The moto server and the clients that fill it."""

    def __init__(self) -> None:
        import boto3
        from botocore.config import Config
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        config = Config(
            max_pool_connections=SETUP_THREADS * 2,
            retries={"mode": "standard", "max_attempts": 5},
        )
        kwargs: dict[str, Any] = {"endpoint_url": self.url, "config": config, **CREDENTIALS}
        self.rds = {r: boto3.client("rds", region_name=r, **kwargs) for r in REGIONS}
        self.iam = boto3.client("iam", region_name="us-east-1", **kwargs)
        sts = boto3.client("sts", region_name="us-east-1", **kwargs)
        self.account = sts.get_caller_identity()["Account"]
        self.pool = ThreadPoolExecutor(SETUP_THREADS)

    def close(self) -> None:
        self.pool.shutdown()
        self.server.stop()

    def _all(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> int:
        """Run ``fn`` on every item on the thread pool; the first failure is raised."""
        return sum(1 for _ in self.pool.map(fn, items))

    def base(self, roles: int) -> None:
        """Parameter groups, clusters, managed policies and roles."""

        def group(g: Group) -> None:
            rds = self.rds[g.region]
            rds.create_db_parameter_group(
                DBParameterGroupName=g.name,
                DBParameterGroupFamily=g.family,
                Description=f"bench {g.family}",
            )
            good = int(g.name.rsplit("-", 1)[1]) % 4 != 3
            rds.modify_db_parameter_group(
                DBParameterGroupName=g.name, Parameters=tls_parameters(g.family, good)
            )

        def cluster(spec: tuple[str, tuple[str, str, str, str]]) -> None:
            region, (ident, engine, version, family) = spec
            rds = self.rds[region]
            cpg = f"{ident}-{family.replace('.', '-')}"
            rds.create_db_cluster_parameter_group(
                DBClusterParameterGroupName=cpg,
                DBParameterGroupFamily=family,
                Description=f"bench {family}",
            )
            rds.modify_db_cluster_parameter_group(
                DBClusterParameterGroupName=cpg, Parameters=tls_parameters(family, True)
            )
            rds.create_db_cluster(
                DBClusterIdentifier=ident,
                Engine=engine,
                EngineVersion=version,
                MasterUsername="bench",
                MasterUserPassword=PASSWORD,
                DBClusterParameterGroupName=cpg,
                EnableIAMDatabaseAuthentication=True,
            )

        def policy(k: int) -> None:
            region = REGIONS[k % len(REGIONS)]
            self.iam.create_policy(
                PolicyName=f"bench-rds-connect-{k:02d}",
                PolicyDocument=_doc(
                    {
                        "Effect": "Allow",
                        "Action": "rds-db:connect",
                        "Resource": f"arn:aws:rds-db:{region}:{self.account}:dbuser:*/app_{k}",
                    }
                ),
            )

        def role(j: int) -> None:
            name = f"bench-role-{j:04d}"
            service = ("ec2", "lambda", "ecs-tasks")[j % 3]
            self.iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=_doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": f"{service}.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ),
            )
            if j % 2 == 0:
                resource = (
                    "*"
                    if j % 10 == 0
                    else f"arn:aws:rds-db:{REGIONS[j % 3]}:{self.account}:dbuser:db-*/app_{j}"
                )
                self.iam.put_role_policy(
                    RoleName=name,
                    PolicyName="rds-connect",
                    PolicyDocument=_doc(
                        {"Effect": "Allow", "Action": "rds-db:connect", "Resource": resource}
                    ),
                )
            if j % 3 == 0:
                arn = f"arn:aws:iam::{self.account}:policy/bench-rds-connect-"
                self.iam.attach_role_policy(
                    RoleName=name, PolicyArn=f"{arn}{j % MANAGED_POLICIES:02d}"
                )

        self._all(group, groups())
        self._all(cluster, [(r, c) for r in REGIONS for c in CLUSTERS])
        self._all(policy, range(MANAGED_POLICIES))
        self._all(role, range(roles))

    def add_instances(self, start: int, stop: int) -> int:
        """Instances ``start`` .. ``stop - 1`` in every Region."""

        def create(i: Instance) -> None:
            self.rds[i.region].create_db_instance(
                DBInstanceIdentifier=i.ident,
                Engine=i.group.engine,
                EngineVersion=i.group.version,
                DBInstanceClass=i.klass,
                DBParameterGroupName=i.group.name,
                AllocatedStorage=20,
                MasterUsername="bench",
                MasterUserPassword=PASSWORD,
                EnableIAMDatabaseAuthentication=i.iam,
            )

        return self._all(create, [i for r in REGIONS for i in instances(r, start, stop)])


def _doc(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# --- the child: collect, with stand-ins for what moto lacks ------------------------------------


def _canned() -> dict[str, Callable[..., Any]]:
    """botocore ``before-call.rds.<Operation>`` handlers for the operations moto 5.2.1 lacks
    (DescribeCertificates, DescribeEngineDefaultParameters and
    DescribeEngineDefaultClusterParameters: moto raises NotImplementedError, HTTP 500). These are
    stand-ins for moto gaps, not a model of AWS: a handler that returns ``(http response, parsed
    response)`` makes botocore skip the request, so the collector's paginator and ``Stats``
    still see (and count) one call per page."""
    from botocore.awsrequest import AWSResponse

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    meta = {"RequestId": "bench-canned", "HTTPStatusCode": 200, "HTTPHeaders": {}}
    defaults: dict[tuple[str, bool], list[dict[str, Any]]] = {}

    def engine_defaults(family: str, cluster: bool) -> list[dict[str, Any]]:
        key = (family, cluster)
        if key not in defaults:
            tls = tls_parameters(family, "postgres" in family)  # roughly the real defaults
            items: list[dict[str, Any]] = [
                {
                    "ParameterName": p["ParameterName"],
                    "ParameterValue": p["ParameterValue"],
                    "Description": p["ParameterName"],
                    "Source": "engine-default",
                    "ApplyType": "dynamic",
                    "DataType": "string",
                    "IsModifiable": True,
                    "ApplyMethod": "pending-reboot",
                }
                for p in tls
            ]
            while len(items) < ENGINE_DEFAULTS:
                items.append(
                    {
                        "ParameterName": f"bench_setting_{len(items)}",
                        "ParameterValue": "1",
                        "Description": "a parameter rdsiam does not read",
                        "Source": "engine-default",
                        "ApplyType": "static",
                        "DataType": "integer",
                        "AllowedValues": "0-65535",
                        "IsModifiable": True,
                        "ApplyMethod": "pending-reboot",
                    }
                )
            defaults[key] = items
        return defaults[key]

    def certificates(params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        region = context.get("client_region") or "us-east-1"
        parsed = {
            "Certificates": [
                {
                    "CertificateIdentifier": cid,
                    "CertificateType": "CA",
                    "Thumbprint": hashlib.sha1(cid.encode()).hexdigest(),
                    "ValidFrom": at(start),
                    "ValidTill": at(till),
                    "CertificateArn": f"arn:aws:rds:{region}::cert:{cid}",
                    "CustomerOverride": False,
                }
                for cid, start, till in CERTIFICATES
            ],
            "DefaultCertificateForNewLaunches": "rds-ca-rsa2048-g1",
            "ResponseMetadata": meta,
        }
        return AWSResponse(params["url"], 200, {}, None), parsed

    def engine_default_parameters(model: Any, params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or {}  # the query protocol's still unencoded form
        family = str(body.get("DBParameterGroupFamily", ""))
        start = int(body.get("Marker") or 0)
        size = int(body.get("MaxRecords") or PAGE)
        items = engine_defaults(family, model.name == "DescribeEngineDefaultClusterParameters")
        page: dict[str, Any] = {
            "DBParameterGroupFamily": family,
            "Parameters": items[start : start + size],
        }
        if start + size < len(items):
            page["Marker"] = str(start + size)
        return AWSResponse(params["url"], 200, {}, None), {
            "EngineDefaults": page,
            "ResponseMetadata": meta,
        }

    return {
        "DescribeCertificates": certificates,
        "DescribeEngineDefaultParameters": engine_default_parameters,
        "DescribeEngineDefaultClusterParameters": engine_default_parameters,
    }


def child(url: str, out: str, workers: int) -> int:
    """Collect from the moto server at ``url``; write the snapshot to ``out``; print figures."""
    import resource

    sys.path.insert(0, str(ROOT))
    import boto3

    from checker.collect.live import Options, collect

    handlers = _canned()

    def session_factory(**kwargs: Any) -> Any:
        kwargs.pop("profile_name", None)
        for key, value in CREDENTIALS.items():
            kwargs.setdefault(key, value)
        kwargs.setdefault("region_name", "us-east-1")
        session = boto3.Session(**kwargs)
        for operation, handler in handlers.items():
            session.events.register(f"before-call.rds.{operation}", handler)
        return session

    rss_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    doc, stats = collect(
        Options(regions=list(REGIONS), workers=workers),
        session_factory=session_factory,
        endpoint_for=lambda service, region: url,
    )
    wall = time.perf_counter() - t0
    text = json.dumps(doc, ensure_ascii=False) + "\n"
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(text)
    regions = [r for a in doc["accounts"] for r in a["regions"]]
    iam = [a.get("iam") or {} for a in doc["accounts"]]
    errors = Counter(f"{e['operation']} {e['code']}" for e in doc["errors"])
    print(
        json.dumps(
            {
                "wall": wall,
                "calls": dict(stats.calls),
                "instances": sum(len(r.get("DBInstances", [])) for r in regions),
                "clusters": sum(len(r.get("DBClusters", [])) for r in regions),
                "proxies": sum(len(r.get("DBProxies", [])) for r in regions),
                "roles": sum(len(i.get("RoleDetailList", [])) for i in iam),
                "groups_read": sum(len(r.get("DBParameterGroups", {})) for r in regions),
                "errors": dict(errors),
                "doc_bytes": len(text.encode()),
                "rss_imports": rss_imports * (1 if sys.platform == "darwin" else 1024),
            }
        )
    )
    return 0


# --- measuring and reporting --------------------------------------------------------------------


@dataclass
class Run:
    n: int
    wall: float = float("nan")  # collect() in the child
    process_wall: float = float("nan")  # the child process, imports included
    maxrss: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    crash: str | None = None
    schema: str = "not checked"

    @property
    def calls(self) -> Counter[str]:
        return Counter(self.data.get("calls", {}))

    @property
    def resources(self) -> int:
        return sum(int(self.data.get(k, 0)) for k in ("instances", "clusters", "roles"))


def measure(url: str, n: int, tmp: str) -> Run:
    """Collect once in a fresh child process, under a wrapper that reads its peak RSS."""
    run = Run(n)
    out = os.path.join(tmp, f"snapshot-{n}.json")
    cmd = [PYTHON, str(Path(__file__).resolve()), "--child", url, "--out", out]
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    proc = subprocess.run(
        [PYTHON, "-c", _WRAPPER, *cmd, "--workers", str(WORKERS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        run.crash = f"wrapper failed: {proc.stderr.strip()[-500:]}"
        return run
    wrapped = json.loads(proc.stdout)
    run.process_wall, run.maxrss = wrapped["wall"], wrapped["maxrss"]
    if wrapped["rc"] != 0 or not wrapped["stdout"].strip():
        tail = wrapped["stderr"].strip().splitlines()[-6:]
        run.crash = f"exit {wrapped['rc']}: " + " | ".join(tail)
        return run
    run.data = json.loads(wrapped["stdout"].strip().splitlines()[-1])
    run.wall = run.data["wall"]
    run.schema = schema_check(out)
    os.unlink(out)
    return run


def schema_check(path: str) -> str:
    """The snapshot against snapshot.schema.json, as ``rdsiam collect`` checks it."""
    sys.path.insert(0, str(ROOT))
    from checker import contract

    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    error = contract.first_error(contract.validator("snapshot.schema.json"), doc)
    return "valid" if error is None else f"INVALID at {error[0]}: {error[1]}"


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def report(run: Run, roles: int) -> None:
    print(f"--- {run.n} instances per Region ({run.n * len(REGIONS):,} instances) ---")
    if run.crash:
        print(f"CRASH: {run.crash}")
        return
    d = run.data
    calls = run.calls
    total = sum(calls.values())
    print(
        f"wall time:      {run.wall:.2f} s collect()  ({run.process_wall:.2f} s child process,"
        " imports included)"
    )
    print(
        f"peak RSS:       {mib(run.maxrss)} (child process, getrusage RUSAGE_CHILDREN;"
        f" {mib(d['rss_imports'])} after imports)"
    )
    print(
        f"resources:      {d['instances']:,} instances + {d['clusters']} clusters"
        f" + {d['roles']:,} roles = {run.resources:,}"
        f"  ({d['groups_read']} parameter groups read, {d['proxies']} proxies)"
    )
    print(f"snapshot:       {d['doc_bytes']:,} bytes, schema {run.schema}")
    per = total / run.resources if run.resources else float("nan")
    print(f"API calls:      {total:,} in all, {per:.3f} per resource")
    expected = expected_calls(run.n, roles)
    print(f"  {'operation':<40} {'calls':>7} {'expected':>9}")
    for op in sorted(set(calls) | set(expected), key=lambda o: (-calls[o], o)):
        exp = expected.get(op)
        mark = "" if exp is None or exp == calls[op] else "   <- differs"
        print(f"  {op:<40} {calls[op]:>7} {'' if exp is None else exp:>9}{mark}")
    if d["errors"]:
        print("collection errors (operation code: count):")
        for key, count in sorted(d["errors"].items()):
            print(f"  {key}: {count}")
    else:
        print("collection errors: none")


def compare(one: Run, two: Run) -> None:
    print(f"--- calls at N = {one.n} and 2N = {two.n} instances per Region (same 50 groups) ---")
    if one.crash or two.crash:
        print("no comparison: a collection crashed")
        return
    a, b = one.calls, two.calls
    print(f"  {'operation':<40} {'N':>8} {'2N':>8} {'2N/N':>7}")
    for op in (*COMPARED, "(all operations)"):
        x = sum(a.values()) if op.startswith("(") else a[op]
        y = sum(b.values()) if op.startswith("(") else b[op]
        ratio = f"{y / x:.2f}x" if x else "-"
        print(f"  {op:<40} {x:>8} {y:>8} {ratio:>7}")
    per_a = sum(a.values()) / one.resources if one.resources else float("nan")
    per_b = sum(b.values()) / two.resources if two.resources else float("nan")
    print(f"  {'calls per resource':<40} {per_a:>8.3f} {per_b:>8.3f}")
    rss = f"{two.maxrss / one.maxrss:.2f}x" if one.maxrss else "-"
    print(f"  {'peak RSS':<40} {mib(one.maxrss):>8} {mib(two.maxrss):>8} {rss:>7}")
    wall = f"{two.wall / one.wall:.2f}x" if one.wall else "-"
    print(f"  {'wall time (s)':<40} {one.wall:>8.2f} {two.wall:>8.2f} {wall:>7}")
    x = sum(a[op] for op in GROUP_AND_CERT_OPS)
    y = sum(b[op] for op in GROUP_AND_CERT_OPS)
    grew = y / x if x else float("nan")
    less = bool(x) and y < 2 * x
    constant = bool(x) and all(a[op] == b[op] for op in GROUP_AND_CERT_OPS)
    print(
        f"parameter-group and certificate calls ({' + '.join(GROUP_AND_CERT_OPS)}):"
        f" {x} -> {y}, x{grew:.2f}: grew by less than 2x: {'yes' if less else 'NO'}"
        + (" (constant: each group, family and Region read once)" if constant else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=300, help="per Region (default 300)")
    parser.add_argument("--roles", type=int, default=500, help="IAM roles (default 500)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 instances, 50 roles")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=WORKERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.out, args.workers)
    n, roles = (50, 50) if args.quick else (max(args.instances, 1), max(args.roles, 0))

    print(
        f"fixture: moto {_moto_version()}, {len(REGIONS)} Regions ({', '.join(REGIONS)}),"
        f" {n} then {2 * n} instances per Region, {GROUPS} parameter groups,"
        f" {len(CLUSTERS)} Aurora clusters per Region, {roles} IAM roles,"
        f" {MANAGED_POLICIES} managed policies",
        flush=True,
    )
    fixture = Fixture()
    tmp = tempfile.mkdtemp(prefix="rdsiam-bench-collect-")
    try:
        t0 = time.perf_counter()
        fixture.base(roles)
        made = fixture.add_instances(0, n)
        print(
            f"populated {fixture.url}: {made:,} instances and the rest in"
            f" {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        one = measure(fixture.url, n, tmp)
        report(one, roles)
        print(flush=True)
        t0 = time.perf_counter()
        made = fixture.add_instances(n, 2 * n)
        print(f"added {made:,} instances in {time.perf_counter() - t0:.1f} s", flush=True)
        two = measure(fixture.url, 2 * n, tmp)
        report(two, roles)
        print()
        compare(one, two)
    finally:
        fixture.close()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    return 0


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


if __name__ == "__main__":
    sys.exit(main())
