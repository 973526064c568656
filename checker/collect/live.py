"""Live collection from AWS through boto3: read-only, parallel, every fault recorded.

One task per account for IAM (global) and one per (account, Region) for RDS, on a bounded thread
pool. Every failed call becomes an entry of the snapshot's ``errors`` (account, Region,
operation, code) and leaves its section absent or its item out; collection goes on. A guard on
every session refuses any API operation that is not ``Describe*``, ``List*`` or ``Get*`` (plus
``sts:AssumeRole``), before a request is built.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

from checker import __version__
from checker.db.users import default_port, has_users, is_postgres
from checker.knowledge.engines import is_rds_engine, parameter_group_family

READ_PREFIXES = ("Describe", "List", "Get")
ALLOWED_WRITES = frozenset({("sts", "AssumeRole")})
SESSION_NAME = "rdsiam"
# Region tasks make many small calls; I/O bound, so more threads than cores.
DEFAULT_WORKERS = 16


class ReadOnlyViolation(RuntimeError):
    """An API operation that could change something was about to be called."""


# What a failed AWS call can raise: service errors, transport errors, and unparseable answers
# (botocore's ResponseParserError is not a BotoCoreError).
CALL_FAILURES: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)


class CredentialsError(Exception):
    """No usable credentials: the run stops before collecting (exit 2)."""


def read_only_guard(model: Any, **_: Any) -> None:
    """botocore ``before-parameter-build`` handler: refuse every non-read operation."""
    service = model.service_model.service_name
    name = model.name
    if name.startswith(READ_PREFIXES) or (service, name) in ALLOWED_WRITES:
        return
    raise ReadOnlyViolation(f"rdsiam is read-only and refused {service}:{name}")


def guard(session: boto3.Session) -> boto3.Session:
    """Install the read-only guard on every client the session makes."""
    session.events.register("before-parameter-build", read_only_guard)
    return session


@dataclass
class Options:
    regions: list[str] | None = None
    profile: str | None = None
    org: bool = False
    role_name: str | None = None
    accounts: list[str] | None = None
    external_id: str | None = None
    workers: int = DEFAULT_WORKERS
    max_attempts: int = 5
    connect_timeout: float = 3.0
    read_timeout: float = 20.0
    progress: bool = False
    metrics_days: int | None = None  # --metrics: CloudWatch IamDbAuthConnectionRequests window
    db_user: str | None = None  # --db-user: inspect IAM-enabled databases' users as this user
    ca_bundle: str | None = None  # CA bundle to verify database TLS with (--db-user)
    db_timeout: int = 5  # seconds to connect to each database


@dataclass
class Stats:
    """Call counters (by operation) and progress, shared by the worker threads."""

    calls: Counter[str] = field(default_factory=Counter)
    resources: int = 0
    tasks_done: int = 0
    tasks_total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, operation: str) -> None:
        with self.lock:
            self.calls[operation] += 1


SessionFactory = Callable[..., boto3.Session]
EndpointResolver = Callable[[str, str], str | None]
# (target, token) -> databases section without its resource id; checker.db.connect.read_users
DbReader = Callable[[Any, str], dict[str, Any]]


class Collector:
    """Collects one snapshot document; construct, then ``run()``."""

    def __init__(
        self,
        options: Options,
        *,
        session_factory: SessionFactory = boto3.Session,
        endpoint_for: EndpointResolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        db_reader: DbReader | None = None,
    ) -> None:
        self.options = options
        self.session_factory = session_factory
        self.endpoint_for = endpoint_for
        self.db_reader = db_reader
        self.clock = clock
        self.errors: list[dict[str, Any]] = []
        self.stats = Stats()
        self._lock = threading.Lock()
        self.config = Config(
            # total_max_attempts counts attempts; botocore's max_attempts would count retries.
            retries={"mode": "adaptive", "total_max_attempts": options.max_attempts},
            connect_timeout=options.connect_timeout,
            read_timeout=options.read_timeout,
            max_pool_connections=max(10, options.workers),
            user_agent_extra=f"rdsiam/{__version__}",
        )

    # -- plumbing ----------------------------------------------------------------------

    def client(self, session: boto3.Session, service: str, region: str | None = None) -> Any:
        endpoint = self.endpoint_for(service, region or "") if self.endpoint_for else None
        kwargs: dict[str, Any] = {"config": self.config}
        if region:
            kwargs["region_name"] = region
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        return session.client(service, **kwargs)

    def record(
        self,
        account: str | None,
        region: str | None,
        operation: str,
        exc: Exception,
        resource: str | None = None,
    ) -> None:
        """Turn a failed call into an ``errors`` entry (never a credential or a token)."""
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code, message = str(err.get("Code") or "ClientError"), str(err.get("Message") or "")
        else:
            code, message = str(getattr(exc, "code", "") or type(exc).__name__), str(exc)
        message = " ".join(message.split())[:300]  # one line, bounded: it lands in reports
        entry: dict[str, Any] = {
            "account_id": account,
            "region": region,
            "operation": operation,
            "code": code,
            "message": message,
        }
        if resource is not None:
            entry["resource"] = resource
        with self._lock:
            self.errors.append(entry)

    def call(self, client: Any, operation: str, key: str, **params: Any) -> list[Any]:
        """All items under ``key`` (dotted) of an operation, following every page."""
        method = xform_name(operation)
        items: list[Any] = []
        if client.can_paginate(method):
            for page in client.get_paginator(method).paginate(**params):
                self.stats.count(operation)
                items.extend(_dig(page, key))
            return items
        # Every operation rdsiam calls has a botocore paginator; a single call is the fallback.
        self.stats.count(operation)
        return _dig(getattr(client, method)(**params), key)

    # -- the run -----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Collect everything in scope and return the snapshot document."""
        started = self.clock()
        base = guard(
            self.session_factory(profile_name=self.options.profile)
            if self.options.profile
            else self.session_factory()
        )
        identity = self._identity(base)
        partition = identity["Arn"].split(":")[1]
        targets = self._accounts(base, identity, partition)
        accounts: dict[str, dict[str, Any]] = {}
        with ThreadPoolExecutor(max_workers=self.options.workers) as pool:
            futures = []
            # Sessions (AssumeRole) and Region lists per account, in parallel: an Organization
            # can have hundreds of accounts.
            plans = list(pool.map(lambda t: self._prepare(base, t, partition), targets))
            for account_id, session, regions in plans:
                accounts[account_id] = {
                    "account_id": account_id,
                    "partition": partition,
                    "regions": [],
                }
                if session is None:
                    continue
                self.stats.tasks_total += 1 + len(regions)
                futures.append(pool.submit(self._iam, session, accounts[account_id]))
                for region in regions:
                    futures.append(
                        pool.submit(self._region, session, account_id, region, accounts[account_id])
                    )
            for future in futures:
                future.result()  # a ReadOnlyViolation or a bug must not pass silently
                self._progress()
            if self.options.db_user:
                sessions = {a: s for a, s, _ in plans if s is not None}
                self._database_users(pool, sessions, accounts)
        if self.options.progress:
            print(file=sys.stderr)
        for acc in accounts.values():
            acc["regions"].sort(key=lambda r: r["region"])
        return {
            "format": "rdsiam-snapshot",
            "version": 1,
            "collected_at": _iso(started),
            "source": {
                "kind": "aws",
                "tool": f"rdsiam {__version__}",
                "caller": identity["Arn"],
                "workers": self.options.workers,
            },
            "accounts": [accounts[a] for a in sorted(accounts)],
            "errors": sorted(
                self.errors,
                key=lambda e: (
                    e.get("account_id") or "",
                    e.get("region") or "",
                    e["operation"] or "",
                    e.get("resource") or "",
                ),
            ),
        }

    def _identity(self, session: boto3.Session) -> dict[str, Any]:
        try:
            sts = self.client(session, "sts", session.region_name or "us-east-1")
            self.stats.count("GetCallerIdentity")
            identity: dict[str, Any] = sts.get_caller_identity()
            return identity
        except NoCredentialsError:
            raise CredentialsError(
                "no AWS credentials found (environment, --profile, SSO or instance role)"
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            raise CredentialsError(
                f"sts:GetCallerIdentity failed ({code}): the credentials are expired or invalid"
            ) from None
        except BotoCoreError as exc:
            raise CredentialsError(f"sts:GetCallerIdentity failed: {exc}") from None

    def _accounts(
        self, session: boto3.Session, identity: dict[str, Any], partition: str
    ) -> list[tuple[str, bool]]:
        """(account id, must assume a role) for every account in scope."""
        own = str(identity["Account"])
        if not self.options.org:
            return [(own, False)]
        org = self.client(session, "organizations", _home_region(partition))
        try:
            listed = self.call(org, "ListAccounts", "Accounts")
        except CALL_FAILURES as exc:
            raise CredentialsError(
                f"organizations:ListAccounts failed"
                f" ({_code(exc)}): --org needs the management or a delegated"
                " administrator account"
            ) from None
        wanted = set(self.options.accounts or ())
        ids = sorted(
            a["Id"]
            for a in listed
            if a.get("Status") == "ACTIVE" and (not wanted or a["Id"] in wanted)
        )
        return [(i, True) for i in ids]

    def _prepare(
        self, base: boto3.Session, target: tuple[str, bool], partition: str
    ) -> tuple[str, boto3.Session | None, list[str]]:
        """(account, its session or None when the role could not be assumed, its Regions)."""
        session = self._session_for(base, target, partition)
        regions = self._regions(session, target[0]) if session is not None else []
        return target[0], session, regions

    def _session_for(
        self, base: boto3.Session, target: tuple[str, bool], partition: str
    ) -> boto3.Session | None:
        account_id, assume = target
        if not assume:
            return base
        role_arn = f"arn:{partition}:iam::{account_id}:role/{self.options.role_name}"
        params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
        if self.options.external_id:
            params["ExternalId"] = self.options.external_id
        try:
            sts = self.client(base, "sts", base.region_name or _home_region(partition))
            self.stats.count("AssumeRole")
            creds = sts.assume_role(**params)["Credentials"]
        except CALL_FAILURES as exc:
            self.record(account_id, None, "AssumeRole", exc, role_arn)
            return None
        session = self.session_factory(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=base.region_name,
        )
        return guard(session)

    def _regions(self, session: boto3.Session, account_id: str) -> list[str]:
        if self.options.regions:
            return list(self.options.regions)
        region = session.region_name or "us-east-1"
        try:
            ec2 = self.client(session, "ec2", region)
            self.stats.count("DescribeRegions")
            found = ec2.describe_regions(
                Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]
            )["Regions"]
            return sorted(r["RegionName"] for r in found)
        except CALL_FAILURES as exc:
            self.record(account_id, None, "DescribeRegions", exc)
            return [region]

    def _progress(self) -> None:
        with self.stats.lock:
            self.stats.tasks_done += 1
            done, total, found = (
                self.stats.tasks_done,
                self.stats.tasks_total,
                self.stats.resources,
            )
        if self.options.progress:
            print(
                f"\rrdsiam: {done}/{total} account and Region tasks, {found} resources",
                end="",
                file=sys.stderr,
                flush=True,
            )

    # -- per account -------------------------------------------------------------------

    def _iam(self, session: boto3.Session, account: dict[str, Any]) -> None:
        iam = self.client(session, "iam", session.region_name or "us-east-1")
        try:
            pages = iam.get_paginator("get_account_authorization_details").paginate()
            merged: dict[str, list[Any]] = {
                k: [] for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
            }
            for page in pages:
                self.stats.count("GetAccountAuthorizationDetails")
                for key, items in merged.items():
                    items.extend(page.get(key, []))
            account["iam"] = _plain(merged)
        except CALL_FAILURES as exc:
            self.record(account["account_id"], None, "GetAccountAuthorizationDetails", exc)

    # -- per Region --------------------------------------------------------------------

    def _region(
        self, session: boto3.Session, account_id: str, region: str, account: dict[str, Any]
    ) -> None:
        rds = self.client(session, "rds", region)
        out: dict[str, Any] = {"region": region}

        def section(name: str, operation: str, key: str, **params: Any) -> list[Any] | None:
            try:
                items = self.call(rds, operation, key, **params)
            except CALL_FAILURES as exc:
                self.record(account_id, region, operation, exc, params.get("DBProxyName"))
                return None
            out[name] = _plain(items)
            return items

        listed = section("DBInstances", "DescribeDBInstances", "DBInstances")
        listed_clusters = section("DBClusters", "DescribeDBClusters", "DBClusters")
        proxies = section("DBProxies", "DescribeDBProxies", "DBProxies")
        with self.stats.lock:
            self.stats.resources += sum(len(x or []) for x in (listed, listed_clusters, proxies))
        # Neptune and DocumentDB come back from the same calls; no rule reads their groups.
        instances = [i for i in listed or [] if is_rds_engine(i.get("Engine", ""))]
        clusters = [c for c in listed_clusters or [] if is_rds_engine(c.get("Engine", ""))]
        # What is looked up from a listing stays absent when the listing failed: "not
        # collected", never an empty "none there".
        if proxies is not None:
            names = [p["DBProxyName"] for p in proxies]
            out["DBProxyTargets"] = self._each(
                rds, account_id, region, "DescribeDBProxyTargets", "Targets", "DBProxyName", names
            )
        if listed is not None:
            groups = sorted(
                {
                    g["DBParameterGroupName"]
                    for i in instances
                    for g in i.get("DBParameterGroups", [])
                    if g.get("DBParameterGroupName")
                }
            )
            out["DBParameterGroups"] = self._each(
                rds,
                account_id,
                region,
                "DescribeDBParameters",
                "Parameters",
                "DBParameterGroupName",
                groups,
            )
            out["EngineDefaultParameters"] = self._each(
                rds,
                account_id,
                region,
                "DescribeEngineDefaultParameters",
                "EngineDefaults.Parameters",
                "DBParameterGroupFamily",
                _families(instances, groups),
            )
        if listed_clusters is not None:
            cgroups = sorted(
                {c["DBClusterParameterGroup"] for c in clusters if c.get("DBClusterParameterGroup")}
            )
            out["DBClusterParameterGroups"] = self._each(
                rds,
                account_id,
                region,
                "DescribeDBClusterParameters",
                "Parameters",
                "DBClusterParameterGroupName",
                cgroups,
            )
            out["EngineDefaultClusterParameters"] = self._each(
                rds,
                account_id,
                region,
                "DescribeEngineDefaultClusterParameters",
                "EngineDefaults.Parameters",
                "DBParameterGroupFamily",
                _families(clusters, cgroups),
            )
        section("Certificates", "DescribeCertificates", "Certificates")
        if listed is not None:
            if self.options.metrics_days:
                metrics = self._metrics(session, account_id, region, instances, clusters)
                if metrics is not None:
                    out["Metrics"] = metrics
            out["OrderableDBInstanceOptions"] = self._orderable(rds, account_id, region, instances)
        with self._lock:
            account["regions"].append(out)

    def _database_users(
        self,
        pool: ThreadPoolExecutor,
        sessions: dict[str, boto3.Session],
        accounts: dict[str, dict[str, Any]],
    ) -> None:
        """``--db-user``: read the users of every reachable IAM-enabled database, in parallel,
        logging in with an IAM token; an unreachable database is an ``errors`` entry."""
        jobs = []
        for account_id, session in sessions.items():
            acc = accounts[account_id]
            acc["databases"] = []  # collected: absent would mean "not looked"
            for reg in acc["regions"]:
                for db in _inspectable(reg):
                    jobs.append((account_id, session, reg["region"], db))
        with self.stats.lock:
            self.stats.tasks_total += len(jobs)
        futures = [pool.submit(self._users_of, *job) for job in jobs]
        for future in futures:
            found = future.result()
            self._progress()
            if found is not None:
                account_id, section = found
                with self._lock:
                    accounts[account_id]["databases"].append(section)
        for acc in accounts.values():
            if "databases" in acc:
                acc["databases"].sort(key=lambda d: d["resource_id"])

    def _users_of(
        self, account_id: str, session: boto3.Session, region: str, db: dict[str, Any]
    ) -> tuple[str, dict[str, Any]] | None:
        from checker.db.connect import ConnectError, Target, read_users

        host, port, rid, name = db["host"], db["port"], db["resource_id"], db["id"]
        engine = "postgres" if is_postgres(db["engine"]) else "mysql"
        user = self.options.db_user or ""
        target = Target(
            host=host,
            port=port,
            user=user,
            engine=engine,
            dbname="postgres" if engine == "postgres" else None,
            sslmode="verify-full",
            ca_bundle=self.options.ca_bundle,
            connect_timeout=self.options.db_timeout,
        )
        try:
            token = self.client(session, "rds", region).generate_db_auth_token(
                DBHostname=host, Port=port, DBUsername=user, Region=region
            )
            section = (self.db_reader or read_users)(target, token)
        except ConnectError as exc:
            self.record(account_id, region, "DatabaseUsers", _DbFailure(exc), name)
            return None
        except CALL_FAILURES as exc:
            self.record(account_id, region, "DatabaseUsers", exc, name)
            return None
        section["engine"] = db["engine"]
        return account_id, {"resource_id": rid, **section}

    def _metrics(
        self,
        session: boto3.Session,
        account_id: str,
        region: str,
        instances: list[dict[str, Any]],
        clusters: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        """Peak IAM connection requests per minute of every IAM-enabled DB instance.

        CloudWatch ``IamDbAuthConnectionRequests`` (Sum, 60 s periods) over the window; only the
        peak and the number of datapoints are kept, not the series.
        """
        iam_clusters = {
            c["DBClusterIdentifier"] for c in clusters if c.get("IAMDatabaseAuthenticationEnabled")
        }
        names = sorted(
            i["DBInstanceIdentifier"]
            for i in instances
            if i.get("IAMDatabaseAuthenticationEnabled")
            or i.get("DBClusterIdentifier") in iam_clusters
        )
        days = int(self.options.metrics_days or 0)
        end = self.clock().replace(second=0, microsecond=0)
        start = end - timedelta(days=days)
        peaks: dict[str, dict[str, Any]] = {
            n: {"max_per_minute": None, "datapoints": 0} for n in names
        }
        cloudwatch = self.client(session, "cloudwatch", region)
        try:
            for offset in range(0, len(names), 500):  # GetMetricData takes 500 queries a call
                batch = names[offset : offset + 500]
                queries = [
                    {
                        "Id": f"m{i}",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/RDS",
                                "MetricName": "IamDbAuthConnectionRequests",
                                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": name}],
                            },
                            "Period": 60,
                            "Stat": "Sum",
                        },
                        "ReturnData": True,
                    }
                    for i, name in enumerate(batch)
                ]
                results = self.call(
                    cloudwatch,
                    "GetMetricData",
                    "MetricDataResults",
                    MetricDataQueries=queries,
                    StartTime=start,
                    EndTime=end,
                )
                for result in results:
                    peak = peaks[batch[int(result["Id"][1:])]]
                    values = result.get("Values", [])
                    peak["datapoints"] += len(values)
                    if values:
                        top = max(values)
                        if peak["max_per_minute"] is None or top > peak["max_per_minute"]:
                            peak["max_per_minute"] = top
        except CALL_FAILURES as exc:
            self.record(account_id, region, "GetMetricData", exc)
            return None
        return {
            "IamDbAuthConnectionRequests": {
                "statistic": "Sum",
                "period_seconds": 60,
                "days": days,
                "start": _iso(start),
                "end": _iso(end),
                "instances": peaks,
            }
        }

    def _each(
        self,
        client: Any,
        account_id: str,
        region: str,
        operation: str,
        key: str,
        param: str,
        names: Iterable[str],
    ) -> dict[str, Any]:
        """One call per named item (a group, a proxy, a family), each item read once."""
        out: dict[str, Any] = {}
        for name in names:
            try:
                out[name] = _plain(self.call(client, operation, key, **{param: name}))
            except CALL_FAILURES as exc:
                self.record(account_id, region, operation, exc, name)
        return out

    def _orderable(
        self, client: Any, account_id: str, region: str, instances: list[dict[str, Any]]
    ) -> list[Any]:
        """DescribeOrderableDBInstanceOptions only for the combinations in use, each once."""
        combos = sorted(
            {
                (i["Engine"], i.get("EngineVersion", ""), i.get("DBInstanceClass", ""))
                for i in instances
                if i.get("EngineVersion") and i.get("DBInstanceClass")
            }
        )
        found: list[Any] = []
        for engine, version, klass in combos:
            try:
                found.extend(
                    self.call(
                        client,
                        "DescribeOrderableDBInstanceOptions",
                        "OrderableDBInstanceOptions",
                        Engine=engine,
                        EngineVersion=version,
                        DBInstanceClass=klass,
                    )
                )
            except CALL_FAILURES as exc:
                self.record(
                    account_id,
                    region,
                    "DescribeOrderableDBInstanceOptions",
                    exc,
                    f"{engine} {version} {klass}",
                )
        plain: list[Any] = _plain(found)
        return plain


class _DbFailure(Exception):
    """A database connection failure as an ``errors`` entry: code = the failed step."""

    def __init__(self, exc: Exception) -> None:
        step = getattr(exc, "step", "connect")
        super().__init__(getattr(exc, "message", str(exc)))
        self.code = f"DatabaseUsers.{step}"


def _inspectable(region: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """IAM-enabled, available PostgreSQL/MySQL/MariaDB databases of a collected Region, with
    where to connect: standalone instances, and clusters through their writer endpoint."""
    for item in region.get("DBInstances") or []:
        endpoint = item.get("Endpoint") or {}
        if item.get("DBClusterIdentifier") or not item.get("IAMDatabaseAuthenticationEnabled"):
            continue
        if item.get("DBInstanceStatus", "available") != "available" or not endpoint.get("Address"):
            continue
        if not has_users(item.get("Engine", "")) or not item.get("DbiResourceId"):
            continue
        yield {
            "id": item["DBInstanceIdentifier"],
            "engine": item["Engine"],
            "host": endpoint["Address"],
            "port": int(endpoint.get("Port") or 0) or default_port(item["Engine"]),
            "resource_id": item["DbiResourceId"],
        }
    for item in region.get("DBClusters") or []:
        if not item.get("IAMDatabaseAuthenticationEnabled") or not item.get("Endpoint"):
            continue
        if item.get("Status", "available") != "available":
            continue
        if not has_users(item.get("Engine", "")) or not item.get("DbClusterResourceId"):
            continue
        yield {
            "id": item["DBClusterIdentifier"],
            "engine": item["Engine"],
            "host": item["Endpoint"],
            "port": int(item.get("Port") or 0) or default_port(item["Engine"]),
            "resource_id": item["DbClusterResourceId"],
        }


def _families(items: list[dict[str, Any]], group_names: Iterable[str]) -> list[str]:
    """Parameter group families in use, so ``default.*`` groups get the real engine defaults:
    the family a ``default.<family>`` group names, else the one of the engine version."""
    families = {name[len("default.") :] for name in group_names if name.startswith("default.")}
    for item in items:
        family = parameter_group_family(item.get("Engine", ""), item.get("EngineVersion"))
        if family:
            families.add(family)
    return sorted(families)


def _dig(page: dict[str, Any], key: str) -> list[Any]:
    value: Any = page
    for part in key.split("."):
        value = value.get(part, {}) if isinstance(value, dict) else {}
    return list(value) if isinstance(value, list) else []


def _plain(value: Any) -> Any:
    """boto3 values as JSON: datetimes to ISO 8601 UTC; ResponseMetadata dropped."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def _home_region(partition: str) -> str:
    return {"aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}.get(partition, "us-east-1")


def collect(options: Options, **kwargs: Any) -> tuple[dict[str, Any], Stats]:
    """Collect a snapshot document; returns it with the call statistics."""
    collector = Collector(options, **kwargs)
    started = time.monotonic()
    doc = collector.run()
    doc["source"]["seconds"] = round(time.monotonic() - started, 3)
    return doc, collector.stats
