"""1xx: the authentication mode of DB instances, DB clusters and RDS proxies."""

from __future__ import annotations

from collections.abc import Iterator

from checker.context import Context
from checker.model.snapshot import DBCluster, DBInstance, DBProxyTarget, Scope, Snapshot
from checker.rule import Finding, Rule, Severity
from rules.helpers import (
    IAM_LOG,
    cluster_kind,
    member_reason,
    pending_note,
    rds_clusters,
    rds_instances,
)

IAM_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html"
AURORA_IAM_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html"
)
CONTROLS_DOC = "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html"
PROXY_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connecting.html"
PROXY_API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBProxy.html"
TROUBLESHOOTING_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Troubleshooting.html"


class InstanceIamAuthEnabled(Rule):
    """DB instance has IAM database authentication enabled

    ## What it checks
    Every standalone RDS for MySQL, MariaDB or PostgreSQL DB instance has
    `IAMDatabaseAuthenticationEnabled` set to `true`. A pending modification does not count
    until it is applied.

    ## Why it matters
    Without it, applications log in with long-lived passwords that must be stored, rotated and
    kept out of code. With it, they use 15-minute tokens signed with their IAM identity, and
    access is granted and revoked in IAM. This is AWS Foundational Security Best Practices
    control RDS.10.

    ## Not applicable when
    - the instance is a member of an Aurora or Multi-AZ DB cluster: the setting belongs to the
      cluster (RIA102);
    - the engine cannot have IAM DB auth at all (Oracle, SQL Server, Db2, RDS Custom, RDS on
      Outposts): see RIA201;
    - the engine version, Region or instance class does not support it: RIA202 names the
      upgrade that fixes it.

    ## Remediation
    - AWS CLI: `aws rds modify-db-instance --db-instance-identifier ID
      --enable-iam-database-authentication --apply-immediately`
    - CloudFormation: `EnableIAMDatabaseAuthentication: true` on `AWS::RDS::DBInstance`
    - Terraform: `iam_database_authentication_enabled = true` on `aws_db_instance`

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Enabling.html
    - https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-10
    """

    id = "RIA101"
    name = "instance-iam-auth-enabled"
    severity = Severity.MEDIUM
    resource_type = "AWS::RDS::DBInstance"
    reads = ("DBInstances", "OrderableDBInstanceOptions")
    source_url = IAM_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for db in rds_instances(snap):
            support = ctx.iam_support(db)
            if db.cluster_id:
                yield self.not_applicable(db, member_reason(db, ctx))
            elif support.unsupported:
                yield self.not_applicable(
                    db, f"{support.reason}; see RIA201/RIA202", {"source": support.source}
                )
            elif db.iam_auth_enabled:
                yield self.passed(
                    db,
                    f"DB instance '{db.id}' has IAM database authentication enabled",
                    {"IAMDatabaseAuthenticationEnabled": True},
                )
            else:
                yield self.failed(
                    db,
                    f"DB instance '{db.id}' ({db.engine} {db.engine_version or ''}".rstrip()
                    + f") has IAM database authentication disabled{pending_note(db)}",
                    {
                        "IAMDatabaseAuthenticationEnabled": bool(db.iam_auth_enabled),
                        "PendingModifiedValues.IAMDatabaseAuthenticationEnabled": db.pending.get(
                            "IAMDatabaseAuthenticationEnabled"
                        ),
                    },
                )


class ClusterIamAuthEnabled(Rule):
    """DB cluster has IAM database authentication enabled

    ## What it checks
    Every Aurora MySQL, Aurora PostgreSQL and Multi-AZ DB cluster has
    `IAMDatabaseAuthenticationEnabled` set to `true`. The field is optional in the API: a
    cluster that does not report it has IAM DB auth disabled. A pending modification does not
    count until it is applied.

    ## Why it matters
    For clusters the setting lives on the cluster, not on its member instances. Without it the
    cluster's users need passwords. This is AWS Foundational Security Best Practices control
    RDS.12.

    ## Not applicable when
    - the cluster is Aurora Serverless v1 (`EngineMode` `serverless`), which has no IAM DB auth;
    - the engine version or Region does not support it (RIA202 says what to upgrade).

    ## Remediation
    - AWS CLI: `aws rds modify-db-cluster --db-cluster-identifier ID
      --enable-iam-database-authentication --apply-immediately`
    - CloudFormation: `EnableIAMDatabaseAuthentication: true` on `AWS::RDS::DBCluster`
    - Terraform: `iam_database_authentication_enabled = true` on `aws_rds_cluster`

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.Enabling.html
    - https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-12
    """

    id = "RIA102"
    name = "cluster-iam-auth-enabled"
    severity = Severity.MEDIUM
    resource_type = "AWS::RDS::DBCluster"
    reads = ("DBClusters", "OrderableDBInstanceOptions")
    source_url = AURORA_IAM_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for cluster in rds_clusters(snap):
            support = ctx.iam_support(cluster)
            kind = cluster_kind(cluster)
            if support.unsupported:
                yield self.not_applicable(cluster, support.reason, {"source": support.source})
            elif cluster.iam_auth_enabled:
                yield self.passed(
                    cluster,
                    f"{kind} '{cluster.id}' has IAM database authentication enabled",
                    {"IAMDatabaseAuthenticationEnabled": True},
                )
            else:
                yield self.failed(
                    cluster,
                    f"{kind} '{cluster.id}' ({cluster.engine}) has IAM database authentication"
                    f" disabled{pending_note(cluster)}",
                    {
                        "IAMDatabaseAuthenticationEnabled": cluster.iam_auth_enabled,
                        "ClusterPendingModifiedValues.IAMDatabaseAuthenticationEnabled": (
                            cluster.pending.get("IAMDatabaseAuthenticationEnabled")
                        ),
                    },
                )


class ProxyRequiresIam(Rule):
    """RDS Proxy accepts IAM authentication only, no passwords

    ## What it checks
    The proxy's `DefaultAuthScheme` is `IAM_AUTH` (end-to-end IAM authentication), or every
    entry of its `Auth` list has `IAMAuth` `REQUIRED`. An entry with `DISABLED`, or `ENABLED`
    (SQL Server proxies: IAM optional), lets clients log in with a database password through
    the proxy.

    ## Why it matters
    A proxy in front of an IAM-only database can reopen password logins: clients authenticate
    to the proxy with the Secrets Manager secret's password, and the proxy connects for them.

    ## Not applicable when
    Never: every proxy is judged.

    ## Remediation
    - AWS CLI: `aws rds modify-db-proxy --db-proxy-name NAME --auth
      'AuthScheme=SECRETS,SecretArn=ARN,IAMAuth=REQUIRED'` (or `--default-auth-scheme IAM_AUTH`)
    - CloudFormation: `IAMAuth: REQUIRED` in each `Auth` item of `AWS::RDS::DBProxy`
    - Terraform: `iam_auth = "REQUIRED"` in each `auth` block of `aws_db_proxy`

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connecting.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_UserAuthConfig.html
    """

    id = "RIA103"
    name = "proxy-requires-iam"
    severity = Severity.MEDIUM
    resource_type = "AWS::RDS::DBProxy"
    reads = ("DBProxies",)
    source_url = PROXY_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for proxy in snap.db_proxies():
            if proxy.default_auth_scheme == "IAM_AUTH":
                yield self.passed(
                    proxy,
                    f"RDS Proxy '{proxy.id}' uses end-to-end IAM"
                    " authentication (DefaultAuthScheme IAM_AUTH)",
                    {"DefaultAuthScheme": "IAM_AUTH"},
                )
                continue
            weak = [
                {"UserName": a.user_name, "Description": a.description, "IAMAuth": a.iam_auth}
                for a in proxy.auth
                if a.iam_auth != "REQUIRED"
            ]
            evidence = {"DefaultAuthScheme": proxy.default_auth_scheme, "Auth": weak}
            if not proxy.auth:
                yield self.failed(
                    proxy,
                    f"RDS Proxy '{proxy.id}' has no Auth entry requiring"
                    " IAM and no IAM_AUTH default scheme",
                    evidence,
                )
            elif weak:
                modes = sorted({str(w["IAMAuth"]) for w in weak})
                yield self.failed(
                    proxy,
                    f"RDS Proxy '{proxy.id}' accepts password logins:"
                    f" {len(weak)} of {len(proxy.auth)} Auth entries have IAMAuth"
                    f" {'/'.join(modes)}",
                    evidence,
                )
            else:
                yield self.passed(
                    proxy,
                    f"RDS Proxy '{proxy.id}' requires IAM authentication"
                    f" in all {len(proxy.auth)} Auth entries",
                    {"IAMAuth": "REQUIRED"},
                )


class ProxyIamTargetsIamEnabled(Rule):
    """RDS Proxy with end-to-end IAM targets only IAM-enabled databases

    ## What it checks
    A proxy whose `DefaultAuthScheme` is `IAM_AUTH` connects to its targets with IAM tokens
    signed by the proxy's role. Every target (from `DescribeDBProxyTargets`: a DB instance, or
    an Aurora or Multi-AZ DB cluster) must have IAM database authentication enabled; for a
    member instance the cluster's setting counts.

    ## Why it matters
    If a target has IAM DB auth disabled, the proxy's token logins to it fail and every
    client connection through the proxy is refused: an outage that no configuration check of
    the proxy alone shows.

    ## Not applicable when
    - the proxy does not use `IAM_AUTH` (it logs in to targets with Secrets Manager secrets);
    - the proxy has no registered targets.

    ## Remediation
    Enable IAM DB auth on each target (see RIA101 / RIA102), or set the proxy's
    `DefaultAuthScheme` back to `NONE` and give it `Auth` secrets.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBProxy.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBProxyTarget.html
    """

    id = "RIA104"
    name = "proxy-iam-targets-iam-enabled"
    severity = Severity.HIGH
    resource_type = "AWS::RDS::DBProxy"
    reads = ("DBProxies", "DBProxyTargets", "DBInstances", "DBClusters")
    source_url = PROXY_API

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for proxy in snap.db_proxies():
            if proxy.default_auth_scheme != "IAM_AUTH":
                yield self.not_applicable(
                    proxy,
                    f"RDS Proxy '{proxy.id}' does not use end-to-end IAM authentication",
                    {"DefaultAuthScheme": proxy.default_auth_scheme},
                )
                continue
            region = ctx.region(proxy.scope)
            all_targets = region.db_proxy_targets if region else None
            targets = all_targets.get(proxy.id) if all_targets is not None else None
            if targets is None:
                errors = ctx.errors_for(
                    proxy.scope.account_id, proxy.scope.region, "DBProxyTargets", proxy.id
                )
                why = f" (collection failed: {errors[0].code})" if errors else ""
                if ctx.is_iac and not errors:
                    yield self.not_applicable(
                        proxy,
                        f"the targets of RDS Proxy '{proxy.id}' are not known before deployment",
                    )
                else:
                    yield self.error(
                        proxy, f"the targets of RDS Proxy '{proxy.id}' are not in the snapshot{why}"
                    )
                continue
            if not targets:
                yield self.not_applicable(
                    proxy, f"RDS Proxy '{proxy.id}' has no registered targets"
                )
                continue
            disabled, unknown, enabled = _judge_targets(proxy.scope, targets, ctx)
            evidence = {
                "targets_without_iam": disabled,
                "targets_not_found": unknown,
                "targets_with_iam": enabled,
            }
            if disabled:
                yield self.failed(
                    proxy,
                    f"RDS Proxy '{proxy.id}' uses IAM_AUTH but its"
                    f" target(s) {', '.join(disabled)} have IAM database"
                    " authentication disabled",
                    evidence,
                )
            elif unknown:
                yield self.error(
                    proxy,
                    f"RDS Proxy '{proxy.id}': target(s) {', '.join(unknown)}"
                    " are not in the snapshot",
                    evidence,
                )
            else:
                yield self.passed(
                    proxy,
                    f"RDS Proxy '{proxy.id}' uses IAM_AUTH and all"
                    f" {len(enabled)} target(s) have IAM database authentication"
                    " enabled",
                    evidence,
                )


def _judge_targets(
    scope: Scope, targets: tuple[DBProxyTarget, ...], ctx: Context
) -> tuple[list[str], list[str], list[str]]:
    """Split proxy targets into (IAM disabled, not found, IAM enabled) database names."""
    disabled: set[str] = set()
    unknown: set[str] = set()
    enabled: set[str] = set()
    for target in targets:
        db: DBInstance | DBCluster | None
        if target.type == "RDS_INSTANCE":
            name = target.rds_resource_id or ""
            db = ctx.instance(scope, name)
            if db is not None and db.cluster_id:
                name = db.cluster_id
                db = ctx.cluster(scope, name)
        else:
            name = target.tracked_cluster_id or target.rds_resource_id or ""
            db = ctx.cluster(scope, name)
        if db is None:
            unknown.add(name or "(unnamed target)")
        elif db.iam_auth_enabled:
            enabled.add(name)
        else:
            disabled.add(name)
    return sorted(disabled), sorted(unknown), sorted(enabled)


class IamAuthErrorLogExported(Rule):
    """IAM-enabled database exports the iam-db-auth-error log to CloudWatch

    ## What it checks
    Every DB instance (standalone) and DB cluster with IAM database authentication enabled has
    `iam-db-auth-error` in `EnabledCloudwatchLogsExports`.

    ## Why it matters
    Tokens are signed locally, so CloudTrail never sees an IAM database login. The
    `iam-db-auth-error` log is the only record of failed IAM logins (bad tokens, missing
    grants, throttling); without the export, failures and probing go unseen.

    ## Not applicable when
    - IAM DB auth is not enabled on the resource;
    - the instance is a member of a cluster (the cluster's export counts);
    - the engine cannot have IAM DB auth.

    ## Remediation
    - AWS CLI: `aws rds modify-db-instance --db-instance-identifier ID
      --cloudwatch-logs-export-configuration '{"EnableLogTypes":["iam-db-auth-error"]}'`
      (`modify-db-cluster` for clusters)
    - CloudFormation: add `iam-db-auth-error` to `EnableCloudwatchLogsExports`
    - Terraform: add `iam-db-auth-error` to `enabled_cloudwatch_logs_exports`

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Troubleshooting.html
    """

    id = "RIA105"
    name = "iam-auth-error-log-exported"
    severity = Severity.LOW
    resource_type = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
    reads = ("DBInstances", "DBClusters")
    source_url = TROUBLESHOOTING_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        targets: list[DBInstance | DBCluster] = [*rds_instances(snap), *rds_clusters(snap)]
        for db in targets:
            what = (
                f"DB instance '{db.id}'"
                if isinstance(db, DBInstance)
                else (f"{cluster_kind(db)} '{db.id}'")
            )
            if isinstance(db, DBInstance) and db.cluster_id:
                yield self.not_applicable(db, member_reason(db, ctx))
            elif ctx.engine_support(db).unsupported:
                yield self.not_applicable(db, ctx.engine_support(db).reason)
            elif not db.iam_auth_enabled:
                yield self.not_applicable(
                    db,
                    f"{what} does not have IAM database authentication enabled" + pending_note(db),
                )
            elif IAM_LOG in db.log_exports:
                yield self.passed(
                    db,
                    f"{what} exports the {IAM_LOG} log",
                    {"EnabledCloudwatchLogsExports": list(db.log_exports)},
                )
            else:
                yield self.failed(
                    db,
                    f"{what} has IAM database authentication enabled but does"
                    f" not export the {IAM_LOG} log",
                    {"EnabledCloudwatchLogsExports": list(db.log_exports)},
                )


class AuroraMemberDoesNotSetIam(Rule):
    """Aurora member instances leave IAM database authentication to the cluster

    ## What it checks
    In a CloudFormation template, an `AWS::RDS::DBInstance` that is a member of an Aurora DB
    cluster (Aurora engine, `DBClusterIdentifier` set) does not set
    `EnableIAMDatabaseAuthentication` itself.

    ## Why it matters
    AWS: the setting "doesn't apply to Amazon Aurora (mapping AWS IAM accounts to database
    accounts is managed by the DB cluster)". A value on the member does nothing: a template
    that sets `true` there and nothing on the cluster looks right in review and leaves IAM off
    (cfn-lint reports the same as E3682).

    ## Not applicable when
    The input is not a template: a live instance cannot tell whether a template set it. The
    instance is not an Aurora member.

    ## Remediation
    Remove `EnableIAMDatabaseAuthentication` from the member and set it on the
    `AWS::RDS::DBCluster` (Terraform: `iam_database_authentication_enabled` on
    `aws_rds_cluster`).

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
    - https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html
    """

    id = "RIA106"
    name = "aurora-member-does-not-set-iam"
    severity = Severity.MEDIUM
    resource_type = "AWS::RDS::DBInstance"
    reads = ("DBInstances",)
    source_url = (
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"
    )

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        if not ctx.is_iac:
            return
        for db in rds_instances(snap):
            if not db.cluster_id or not db.engine.lower().startswith("aurora"):
                continue
            sets = (db.model_extra or {}).get("rdsiam:sets_iam") is True
            evidence = {"DBClusterIdentifier": db.cluster_id, "sets_iam": sets}
            if sets:
                yield self.failed(
                    db,
                    f"Aurora member '{db.id}' sets EnableIAMDatabaseAuthentication itself, which"
                    f" does nothing: set it on cluster '{db.cluster_id}'",
                    evidence,
                )
            else:
                yield self.passed(
                    db,
                    f"Aurora member '{db.id}' leaves IAM authentication to cluster"
                    f" '{db.cluster_id}'",
                    evidence,
                )
