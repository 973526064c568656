"""2xx: engine, version, Region and instance-class support for IAM database authentication."""

from __future__ import annotations

from collections.abc import Iterator

from checker.context import Context
from checker.iac.findings import deploy_time
from checker.iac.symbols import UNKNOWN_REGION
from checker.knowledge import support as kb
from checker.model.snapshot import DBCluster, DBInstance, Snapshot
from checker.rule import Finding, Rule, Severity
from rules.helpers import cluster_kind, iam_requested, rds_clusters, rds_instances


def _name(db: DBInstance | DBCluster) -> str:
    return (
        f"DB instance '{db.id}'"
        if isinstance(db, DBInstance)
        else (f"{cluster_kind(db)} '{db.id}'")
    )


def _known_at_deploy(db: DBInstance | DBCluster, verdict: kb.Support) -> list[str]:
    """On a template: what the support verdict needs that only deploy time gives.

    A template without ``EngineVersion`` gets the engine's default version then, and one whose
    Region neither it nor ``--region`` gives may be deployed where the tables differ (MariaDB):
    an ``error`` or a ``pass`` would judge a version or Region the stack may never have. A
    verdict that holds whatever the version or Region (MariaDB 10.6 anywhere) still stands.
    """
    if isinstance(db, DBInstance) and db.cluster_id:
        return []  # a member is judged on its instance class, known or listed as unknown
    out = []
    if db.scope.region == UNKNOWN_REGION and kb.depends_on_region(
        db.engine, db.engine_version, db.instance_class if isinstance(db, DBInstance) else None
    ):
        out.append("the Region is unknown until deploy; give --region")
    if not db.engine_version and verdict.verdict is kb.Verdict.UNKNOWN:
        symbol = deploy_time(db, "EngineVersion")
        out.append(
            f"{symbol} is only known at deploy time"
            if symbol
            else "the template sets no EngineVersion: AWS picks the engine's default version at"
            " deploy time"
        )
    return out


class IamAuthOnSupportedEngine(Rule):
    """IAM database authentication is requested only where the engine can have it

    ## What it checks
    No DB instance or cluster of an engine or deployment that has no IAM database
    authentication (RDS for Oracle, SQL Server and Db2, RDS Custom, RDS on Outposts, Aurora
    Serverless v1) has `IAMDatabaseAuthenticationEnabled` on, or a pending change turning it
    on.

    ## Why it matters
    The setting cannot work there: the request fails at deploy time, or the team believes
    password logins are gone when they are not. (RDS Proxy for SQL Server can take IAM logins
    from clients; that is the proxy's setting, judged by RIA103, not the database's.)

    ## Not applicable when
    The engine supports IAM database authentication (its versions are judged by RIA202).

    ## Remediation
    Remove `EnableIAMDatabaseAuthentication` from the resource, and use the engine's own
    authentication (Kerberos for Oracle and SQL Server), or move to MySQL, MariaDB, PostgreSQL
    or Aurora.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.RDS_Fea_Regions_DB-eng.Feature.IamDatabaseAuthentication.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless.html
    """

    id = "RIA201"
    name = "iam-auth-on-supported-engine"
    severity = Severity.HIGH
    resource_type = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
    reads = ("DBInstances", "DBClusters")
    source_url = kb.RDS_TABLE_URL

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        targets: list[DBInstance | DBCluster] = [*rds_instances(snap), *rds_clusters(snap)]
        for db in targets:
            verdict = ctx.engine_support(db)
            evidence = {
                "Engine": db.engine,
                "IAMDatabaseAuthenticationEnabled": db.iam_auth_enabled,
                "source": verdict.source,
            }
            if not verdict.unsupported:
                yield self.not_applicable(db, f"{db.engine} can have IAM database authentication")
            elif iam_requested(db):
                yield self.failed(
                    db,
                    f"{_name(db)} requests IAM database authentication, but {verdict.reason}",
                    evidence,
                )
            else:
                yield self.passed(
                    db,
                    f"{_name(db)} does not request IAM database authentication ({verdict.reason})",
                    evidence,
                )


class IamAuthVersionSupported(Rule):
    """Engine version, Region and instance class support IAM database authentication

    ## What it checks
    For every MySQL, MariaDB, PostgreSQL and Aurora DB instance and cluster, whether its engine
    version, Region and instance class can have IAM database authentication at all. A live
    `DescribeOrderableDBInstanceOptions` answer in the snapshot
    (`SupportsIAMDatabaseAuthentication`) wins; otherwise AWS's documented tables decide:

    - RDS for MariaDB: 10.11, 11.4 and 11.8 (not 10.4 to 10.6); none in Asia Pacific
      (Hyderabad) or (Melbourne); only 11.4 and later in Malaysia, New Zealand and Taipei;
    - Aurora MySQL 2 and 3, except on db.t2.small and db.t3.small;
    - Aurora PostgreSQL 11 to 17.

    Cluster members are judged on their instance class only; the cluster carries the version.

    ## Why it matters
    IAM DB auth cannot be turned on where it is not supported, so such a database cannot meet
    RIA101 / RIA102 until it is upgraded or moved. Other tools get this table wrong in both
    directions (failing MariaDB 10.6 for not having it, or skipping MariaDB altogether).

    ## Not applicable when
    - the engine has no IAM DB auth at any version (RIA201's concern);
    - on a template or plan, the answer depends on what only deploy time gives: no
      `EngineVersion` (AWS picks the default version then) where the version decides, or a
      Region that neither the file nor `--region` gives where the tables differ by Region
      (RDS for MariaDB).

    RDS for MySQL and PostgreSQL are documented as supported at the engine level; AWS's
    per-version table for them could not be read, so their versions pass on the engine-level
    fact (the message says so) unless a live answer says otherwise. Versions older than the
    minimums AWS documented in 2019, and Aurora majors outside the published lists, are covered
    by no source: the result is `error`, since rdsiam will not guess. Collect
    `DescribeOrderableDBInstanceOptions` to settle them.

    ## Remediation
    Upgrade to a supported major version (the finding names one), change the instance class,
    or run the database in a Region where the engine supports IAM DB auth.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.RDS_Fea_Regions_DB-eng.Feature.IamDatabaseAuthentication.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.IAMdbauth.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html
    """

    id = "RIA202"
    name = "iam-auth-version-supported"
    severity = Severity.MEDIUM
    resource_type = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
    reads = ("DBInstances", "DBClusters", "OrderableDBInstanceOptions")
    source_url = kb.RDS_TABLE_URL

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        targets: list[DBInstance | DBCluster] = [*rds_instances(snap), *rds_clusters(snap)]
        for db in targets:
            base = ctx.engine_support(db)
            if base.unsupported:
                yield self.not_applicable(db, f"{base.reason}; see RIA201")
                continue
            if isinstance(db, DBInstance) and db.cluster_id:
                verdict = ctx.orderable_answer(db, db.instance_class) or kb.class_support(
                    db.engine, db.instance_class
                )
            else:
                verdict = ctx.iam_support(db)
            evidence = {
                "Engine": db.engine,
                "EngineVersion": db.engine_version,
                "Region": db.scope.region,
                "source": verdict.source,
            }
            if isinstance(db, DBInstance):
                evidence["DBInstanceClass"] = db.instance_class
            later = _known_at_deploy(db, verdict) if ctx.is_iac else []
            if later:
                yield self.not_applicable(db, f"{_name(db)}: {'; and '.join(later)}", evidence)
            elif verdict.supported:
                yield self.passed(db, f"{_name(db)}: {verdict.reason}", evidence)
            elif verdict.unsupported:
                fix = f"; fix: {verdict.fix}" if verdict.fix else ""
                yield self.failed(
                    db, f"{_name(db)}: {verdict.reason}{fix}", {**evidence, "fix": verdict.fix}
                )
            else:
                yield self.error(
                    db,
                    f"{_name(db)}: cannot tell whether IAM database"
                    f" authentication is supported: {verdict.reason}; collect"
                    " DescribeOrderableDBInstanceOptions to settle it",
                    evidence,
                )
