"""4xx: transport security: TLS parameters, certificates, RDS Proxy TLS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from checker.context import Context, Effective
from checker.iac.findings import deploy_time
from checker.iac.symbols import references
from checker.knowledge import parameters as kp
from checker.knowledge.engines import version_tuple
from checker.model.snapshot import DBCluster, DBInstance, Snapshot
from checker.rule import Finding, Rule, Severity
from rules.helpers import cluster_kind, is_on, member_reason, rds_clusters, rds_instances

PG_SSL_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html"
)
MYSQL_SSL_DOC = kp.MYSQL_RST_URL
SSL_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html"
PROXY_TLS_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html"

PG_INSTANCE = frozenset({"postgres"})
PG_CLUSTER = frozenset({"aurora-postgresql", "postgres"})
MY_INSTANCE = frozenset({"mysql", "mariadb"})
MY_CLUSTER = frozenset({"aurora-mysql", "aurora", "mysql"})
TLS_ENGINES = PG_INSTANCE | PG_CLUSTER | MY_INSTANCE | MY_CLUSTER
# What the parameter rules read: resources, their (cluster) parameter groups, engine defaults.
PARAMETER_READS = (
    "DBInstances",
    "DBClusters",
    "DBParameterGroups",
    "DBClusterParameterGroups",
    "EngineDefaultParameters",
    "EngineDefaultClusterParameters",
)


def _name(db: DBInstance | DBCluster) -> str:
    return (
        f"DB instance '{db.id}'"
        if isinstance(db, DBInstance)
        else (f"{cluster_kind(db)} '{db.id}'")
    )


def _targets(
    snap: Snapshot,
    ctx: Context,
    instance_engines: frozenset[str],
    cluster_engines: frozenset[str],
    label: str,
) -> Iterator[tuple[DBInstance | DBCluster, str | None]]:
    """Instances and clusters with the reason they are not applicable, or None.

    Standalone instances read their DB parameter group; Aurora and Multi-AZ DB clusters their
    DB cluster parameter group; cluster members are judged on the cluster.
    """
    for db in rds_instances(snap):
        if db.engine.lower() not in instance_engines and db.engine.lower() not in cluster_engines:
            yield db, f"DB instance '{db.id}' is {db.engine}, not {label}"
        elif db.cluster_id:
            yield db, member_reason(db, ctx)
        elif db.engine.lower() not in instance_engines:
            yield db, f"DB instance '{db.id}' ({db.engine}) has no cluster to judge"
        else:
            yield db, None
    for cluster in rds_clusters(snap):
        if cluster.engine.lower() not in cluster_engines:
            yield cluster, f"{_name(cluster)} is {cluster.engine}, not {label}"
        else:
            yield cluster, None


def _judge_switch(rule: Rule, db: DBInstance | DBCluster, eff: Effective, ctx: Context) -> Finding:
    """Judge an on/off TLS parameter (rds.force_ssl, require_secure_transport)."""
    evidence = eff.evidence()
    if eff.error is not None:
        if ctx.is_iac and (later := _group_later(db, eff)) is not None:
            return rule.not_applicable(
                db,
                f"{eff.parameter} of {_name(db)} is only known at deploy time: {later}",
                evidence,
            )
        if ctx.is_iac and not eff.group_missing:
            return rule.not_applicable(
                db,
                f"{eff.parameter} of {_name(db)} is not known before deployment: {eff.error}",
                evidence,
            )
        return rule.error(db, f"{_name(db)}: {eff.error}", evidence)
    if ctx.is_iac and eff.value is not None and references(eff.value):
        # The group sets it from a template parameter without a default (or another deploy-time
        # reference): judging it, or the engine default in its place, would be a false verdict.
        return rule.not_applicable(
            db,
            f"{eff.parameter} of {_name(db)} is only known at deploy time: {_set_by(db, eff)}",
            evidence,
        )
    state = is_on(eff.value)
    if state is None:
        return rule.error(
            db, f"{_name(db)}: {eff.parameter} has an unrecognised value '{eff.value}'", evidence
        )
    if state and eff.pending_reboot:
        return rule.failed(
            db,
            f"{_name(db)}: {eff.parameter} is {eff.value} in parameter group"
            f" '{eff.group}', but the group is pending reboot, so it is not yet"
            " in force",
            evidence,
        )
    if state:
        return rule.passed(
            db, f"{_name(db)} enforces TLS: {eff.parameter} is {eff.value} ({eff.origin})", evidence
        )
    return rule.failed(
        db,
        f"{_name(db)} does not enforce TLS: {eff.parameter} is {eff.value} ({eff.origin})",
        evidence,
    )


def _group_later(db: DBInstance | DBCluster, eff: Effective) -> str | None:
    """On a template: why the parameter group in force is only known at deploy time, or None.

    A group named by a parameter without a default, or none named without an EngineVersion
    (the default group's family is the version AWS picks), is not a group missing from the
    snapshot: an ``error`` there would blame a collection that cannot happen.
    """
    if eff.group is not None:
        return None
    found = deploy_time(
        db, "DBClusterParameterGroup" if isinstance(db, DBCluster) else "DBParameterGroups"
    )
    if found is not None:
        return f"its parameter group comes from {found}"
    if not db.engine_version:
        version = deploy_time(db, "EngineVersion") or "the engine version AWS picks then"
        return f"it names no parameter group, and the default group depends on {version}"
    return None


def _set_by(db: DBInstance | DBCluster, eff: Effective) -> str:
    """Where a deploy-time parameter value comes from, for messages."""
    kind = "DB cluster parameter group" if isinstance(db, DBCluster) else "DB parameter group"
    return f"{kind} '{eff.group}' sets it to {eff.value}"


class PostgresForceSsl(Rule):
    """PostgreSQL enforces TLS (rds.force_ssl is 1)

    ## What it checks
    The `rds.force_ssl` value in force on every RDS for PostgreSQL DB instance (its DB
    parameter group) and every Aurora PostgreSQL or Multi-AZ PostgreSQL DB cluster (its DB
    cluster parameter group) is `1`. The value comes from the group; where the group does not
    set it, from the engine default (the snapshot's `EngineDefaultParameters`, else the
    documented default: 0 before PostgreSQL 15, 1 from 15). A group whose apply status is
    `pending-reboot` does not yet have its value in force.

    ## Why it matters
    IAM tokens are bearer credentials for 15 minutes: sent without TLS, anyone on the path can
    replay them. `rds.force_ssl` makes the server refuse unencrypted connections. AWS
    Foundational Security Best Practices control RDS.38.

    ## Not applicable when
    - the resource is not PostgreSQL, or is a cluster member (judged on its cluster);
    - on a template or plan, the group sets `rds.force_ssl` from a value only known at deploy
      time (a template parameter without a default, an unresolvable reference), or the group
      itself is only known then (named by such a value, or none named and no `EngineVersion`:
      the default group follows the version AWS picks).

    A custom parameter group missing from the snapshot, or an engine default that no primary
    source documents (Aurora PostgreSQL), gives `error`: collect the group or the engine
    defaults. `default.*` groups use the documented defaults, and the evidence says so.

    ## Remediation
    Use a custom parameter group with `rds.force_ssl = 1` (DB cluster parameter group for
    Aurora and Multi-AZ clusters):
    - AWS CLI: `aws rds modify-db-parameter-group --db-parameter-group-name NAME --parameters
      ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=immediate`
    - CloudFormation: `Parameters: {rds.force_ssl: 1}` on `AWS::RDS::DBParameterGroup` /
      `AWS::RDS::DBClusterParameterGroup`
    - Terraform: a `parameter { name = "rds.force_ssl"  value = "1" }` block

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/ssl-certificate-rotation-postgresql.html
    - https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-38
    """

    id = "RIA401"
    name = "postgres-force-ssl"
    severity = Severity.MEDIUM
    resource_type = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
    reads = PARAMETER_READS
    source_url = PG_SSL_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for db, skip in _targets(snap, ctx, PG_INSTANCE, PG_CLUSTER, "PostgreSQL"):
            if skip:
                yield self.not_applicable(db, skip)
            else:
                yield _judge_switch(self, db, ctx.effective_parameter(db, kp.FORCE_SSL), ctx)


class MysqlRequireSecureTransport(Rule):
    """MySQL and MariaDB enforce TLS (require_secure_transport is ON)

    ## What it checks
    The `require_secure_transport` value in force on every RDS for MySQL and MariaDB DB
    instance (DB parameter group) and every Aurora MySQL or Multi-AZ MySQL DB cluster (DB
    cluster parameter group) is on (`1` or `ON`, any case). Where the group does not set it,
    the engine default counts: the snapshot's engine defaults, else the documented default
    (OFF on MySQL up to 8.4, MariaDB up to 11.4 and Aurora MySQL 2 and 3; ON on MySQL 9.7 and
    MariaDB 11.8 and later). A group pending reboot does not yet have its value in force.

    ## Why it matters
    IAM logins send the token with the cleartext plugin; without TLS required, a client that
    forgets TLS exposes it. AWS Foundational Security Best Practices controls RDS.39 (MySQL)
    and RDS.44 (MariaDB).

    ## Not applicable when
    - the resource is not MySQL, MariaDB or Aurora MySQL, or is a cluster member;
    - MariaDB before 10.5, which has no `require_secure_transport` parameter;
    - on a template or plan, the group sets `require_secure_transport` from a value only known
      at deploy time (a template parameter without a default, an unresolvable reference), or
      the group itself is only known then (named by such a value, or none named and no
      `EngineVersion`).

    ## Remediation
    Set `require_secure_transport` to `1` (MySQL) or `ON` (MariaDB) in a custom parameter
    group (a DB cluster parameter group for Aurora MySQL); no reboot is needed.
    - AWS CLI: `aws rds modify-db-parameter-group --db-parameter-group-name NAME --parameters
      ParameterName=require_secure_transport,ParameterValue=1,ApplyMethod=immediate`
    - Terraform: a `parameter { name = "require_secure_transport"  value = "1" }` block

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mariadb-ssl-connections.require-ssl.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Security.html
    """

    id = "RIA402"
    name = "mysql-require-secure-transport"
    severity = Severity.MEDIUM
    resource_type = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
    reads = PARAMETER_READS
    source_url = MYSQL_SSL_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for db, skip in _targets(snap, ctx, MY_INSTANCE, MY_CLUSTER, "MySQL or MariaDB"):
            if skip:
                yield self.not_applicable(db, skip)
            elif db.engine.lower() == "mariadb" and (
                (10, 0) <= version_tuple(db.engine_version)[:2] < (10, 5)
            ):
                yield self.not_applicable(
                    db,
                    f"{_name(db)} is MariaDB {db.engine_version},"
                    " which has no require_secure_transport (10.5 and"
                    " later)",
                )
            else:
                eff = ctx.effective_parameter(db, kp.REQUIRE_SECURE_TRANSPORT)
                yield _judge_switch(self, db, eff, ctx)


_TLS = re.compile(r"^\s*TLSv?(\d+)(?:\.(\d+))?\s*$", re.IGNORECASE)


def _tls_versions(value: str) -> list[tuple[int, int]] | None:
    """``"TLSv1,TLSv1.2"`` -> ``[(1, 0), (1, 2)]``; None when a part is not a TLS version."""
    out = []
    for part in value.split(","):
        match = _TLS.match(part)
        if not match:
            return None
        out.append((int(match.group(1)), int(match.group(2) or 0)))
    return out


class MinimumTlsVersion(Rule):
    """Minimum TLS version is 1.2 or later where it is set

    ## What it checks
    Where the parameter has a value (set in the group, or an engine default present in the
    snapshot), PostgreSQL's `ssl_min_protocol_version` is `TLSv1.2` or later, and MySQL,
    MariaDB and Aurora MySQL's `tls_version` lists no protocol older than TLS 1.2.

    ## Why it matters
    TLS 1.0 and 1.1 are deprecated (RFC 8996); a server that still offers them lets a client
    or an attacker negotiate down to weak ciphers, and IAM tokens travel inside that channel.

    ## Not applicable when
    - the parameter has no value in the snapshot (the engine's own default applies, and AWS
      documents none for it);
    - the resource is not PostgreSQL or MySQL-family, or is a cluster member;
    - on a template or plan, the group sets the parameter from a value only known at deploy
      time, or the group itself is only known then (named by such a value, or none named and
      no `EngineVersion`).

    ## Remediation
    - PostgreSQL: `ssl_min_protocol_version = TLSv1.2` in the (cluster) parameter group.
    - MySQL / MariaDB / Aurora MySQL: `tls_version = TLSv1.2,TLSv1.3` (or `TLSv1.2`).

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MySQL.Concepts.SSLSupport.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/MariaDB.Concepts.SSLSupport.html
    """

    id = "RIA403"
    name = "minimum-tls-version"
    severity = Severity.LOW
    resource_type = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
    reads = PARAMETER_READS
    source_url = PG_SSL_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for db, skip in _targets(
            snap,
            ctx,
            PG_INSTANCE | MY_INSTANCE,
            PG_CLUSTER | MY_CLUSTER,
            "PostgreSQL or MySQL-family",
        ):
            if skip:
                yield self.not_applicable(db, skip)
                continue
            postgres = "postgres" in db.engine.lower()
            param = kp.SSL_MIN_PROTOCOL_VERSION if postgres else kp.TLS_VERSION
            eff = ctx.effective_parameter(db, param)
            evidence = eff.evidence()
            if ctx.is_iac and (later := _group_later(db, eff)) is not None:
                yield self.not_applicable(
                    db, f"{param} of {_name(db)} is only known at deploy time: {later}", evidence
                )
            elif eff.group_missing:
                yield self.error(db, f"{_name(db)}: {eff.error}", evidence)
            elif ctx.is_iac and eff.value is not None and references(eff.value):
                # a deploy-time value (parameter without a default) may be any version list
                yield self.not_applicable(
                    db,
                    f"{param} of {_name(db)} is only known at deploy time: {_set_by(db, eff)}",
                    evidence,
                )
            elif eff.value is None or not eff.value.strip():
                yield self.not_applicable(db, f"{_name(db)} does not set {param}", evidence)
            else:
                versions = _tls_versions(eff.value)
                if versions is None:
                    yield self.error(
                        db,
                        f"{_name(db)}: {param} has an unrecognised value '{eff.value}'",
                        evidence,
                    )
                    continue
                old = [
                    f"TLSv{major}.{minor}" for major, minor in versions if (major, minor) < (1, 2)
                ]
                if old:
                    yield self.failed(
                        db,
                        f"{_name(db)} allows {', '.join(old)}: {param} is"
                        f" '{eff.value}' ({eff.origin})",
                        evidence,
                    )
                else:
                    yield self.passed(
                        db,
                        f"{_name(db)} allows TLS 1.2 or later only: {param} is '{eff.value}'",
                        evidence,
                    )


def _days(delta_seconds: float) -> int:
    return int(delta_seconds // 86400)


class CertificateValid(Rule):
    """DB instance's CA and server certificate are valid and not near expiry

    ## What it checks
    For every MySQL, MariaDB, PostgreSQL and Aurora DB instance: the CA it uses
    (`CACertificateIdentifier`) and its server certificate (`CertificateDetails.ValidTill`) are
    both valid at the evaluation time and more than `cert_warning_days` (default 30) from
    expiry. The CA's validity comes from the snapshot's `Certificates` (DescribeCertificates),
    else from rdsiam's table of RDS CAs (`rds-ca-2019` expired on 2024-08-22;
    `rds-ca-rsa2048-g1`, `rds-ca-rsa4096-g1` and `rds-ca-ecc384-g1` run to 2061 and 2121).

    ## Why it matters
    Clients that verify the server (`sslmode=verify-full`, which IAM logins should use) refuse
    to connect once either certificate expires: an outage at a date known in advance.

    ## Not applicable when
    The engine has no IAM DB auth (Oracle, SQL Server, Db2 are outside rdsiam's scope).

    An instance whose CA validity cannot be found gives `error`.

    ## Remediation
    - AWS CLI: `aws rds modify-db-instance --db-instance-identifier ID
      --ca-certificate-identifier rds-ca-rsa2048-g1 --apply-immediately` (and update client
      trust stores to the new CA bundle first)
    - CloudFormation: `CACertificateIdentifier: rds-ca-rsa2048-g1`
    - Terraform: `ca_cert_identifier = "rds-ca-rsa2048-g1"`

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL-certificate-rotation.html
    """

    id = "RIA404"
    name = "certificate-valid"
    severity = Severity.HIGH
    resource_type = "AWS::RDS::DBInstance"
    reads = ("DBInstances", "Certificates")
    source_url = SSL_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        warn_days = ctx.settings.cert_warning_days
        for db in rds_instances(snap):
            if db.engine.lower() not in TLS_ENGINES:
                yield self.not_applicable(
                    db,
                    f"DB instance '{db.id}' is {db.engine}, which has"
                    " no IAM database authentication",
                )
                continue
            details = db.certificate_details
            ca_id = db.ca_certificate_id or (details.ca_identifier if details else None)
            server_till = details.valid_till if details else None
            if not ca_id:
                if ctx.is_iac:
                    yield self.not_applicable(
                        db,
                        f"DB instance '{db.id}' sets no CA; the"
                        " account default applies at deployment",
                    )
                else:
                    yield self.error(
                        db, f"DB instance '{db.id}' has no CACertificateIdentifier in the snapshot"
                    )
                continue
            ca_till, ca_source = ctx.ca_valid_till(db.scope, ca_id)
            evidence = {
                "CACertificateIdentifier": ca_id,
                "ca_valid_till": _iso(ca_till),
                "ca_source": ca_source or None,
                "server_certificate_valid_till": _iso(server_till),
                "cert_warning_days": warn_days,
            }
            problems = []
            for what, till in (("CA " + ca_id, ca_till), ("server certificate", server_till)):
                if till is None:
                    continue
                left = (till - ctx.now).total_seconds()
                if left <= 0:
                    problems.append(f"{what} expired on {till.date().isoformat()}")
                elif left <= warn_days * 86400:
                    problems.append(
                        f"{what} expires in {_days(left)} days ({till.date().isoformat()})"
                    )
            if problems:
                yield self.failed(db, f"DB instance '{db.id}': {'; '.join(problems)}", evidence)
            elif ca_till is None:
                yield self.error(
                    db,
                    f"DB instance '{db.id}' uses CA '{ca_id}', whose validity"
                    " is neither in the snapshot's Certificates nor in rdsiam's"
                    " table",
                    evidence,
                )
            else:
                yield self.passed(
                    db,
                    f"DB instance '{db.id}' uses CA '{ca_id}', valid until"
                    f" {ca_till.date().isoformat()}",
                    evidence,
                )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class ProxyRequiresTls(Rule):
    """RDS Proxy requires TLS

    ## What it checks
    Every RDS Proxy has `RequireTLS` set to `true`.

    ## Why it matters
    IAM authentication tokens sent to a proxy without TLS can be captured and replayed for 15
    minutes; AWS says to use TLS when connecting to a proxy with IAM authentication. AWS
    Foundational Security Best Practices control RDS.43.

    ## Not applicable when
    Never: every proxy is judged.

    ## Remediation
    - AWS CLI: `aws rds modify-db-proxy --db-proxy-name NAME --require-tls`
    - CloudFormation: `RequireTLS: true` on `AWS::RDS::DBProxy`
    - Terraform: `require_tls = true` on `aws_db_proxy`

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html
    - https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-43
    """

    id = "RIA405"
    name = "proxy-requires-tls"
    severity = Severity.HIGH
    resource_type = "AWS::RDS::DBProxy"
    reads = ("DBProxies",)
    source_url = PROXY_TLS_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for proxy in snap.db_proxies():
            evidence = {"RequireTLS": proxy.require_tls}
            if proxy.require_tls:
                yield self.passed(proxy, f"RDS Proxy '{proxy.id}' requires TLS", evidence)
            else:
                yield self.failed(
                    proxy,
                    f"RDS Proxy '{proxy.id}' does not require TLS"
                    f" (RequireTLS is {proxy.require_tls})",
                    evidence,
                )
