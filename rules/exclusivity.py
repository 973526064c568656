"""6xx: exclusivity of authentication methods (IAM and Kerberos)."""

from __future__ import annotations

from collections.abc import Iterator

from checker.context import Context
from checker.model.snapshot import Snapshot
from checker.rule import Finding, Rule, Severity
from rules.helpers import iam_requested, rds_instances

RDS_LIMITS_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html"
)


class PostgresIamKerberosExclusive(Rule):
    """RDS for PostgreSQL instance does not combine IAM and Kerberos authentication

    ## What it checks
    No RDS for PostgreSQL DB instance has IAM database authentication enabled (or pending)
    while it is joined to a directory for Kerberos (any `DomainMemberships` entry).

    ## Why it matters
    AWS documents that RDS for PostgreSQL does not support enabling IAM and Kerberos
    authentication at the same time. A team that believes both work will find one of the two
    failing in production.

    ## Not applicable when
    - the instance is not RDS for PostgreSQL;
    - it is an Aurora PostgreSQL (or other cluster) member: Aurora has allowed both on one
      cluster since 2021-02-24.

    ## Remediation
    Choose one method per instance: disable IAM DB auth
    (`aws rds modify-db-instance --no-enable-iam-database-authentication`) or remove the
    directory membership (`--domain ''`). Per user, never grant both `rds_iam` and `rds_ad`.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/database-authentication.html
    """

    id = "RIA601"
    name = "postgres-iam-kerberos-exclusive"
    severity = Severity.MEDIUM
    resource_type = "AWS::RDS::DBInstance"
    reads = ("DBInstances",)
    source_url = RDS_LIMITS_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for db in rds_instances(snap):
            engine = db.engine.lower()
            if engine == "aurora-postgresql":
                yield self.not_applicable(
                    db,
                    f"DB instance '{db.id}' is Aurora PostgreSQL, which"
                    " allows IAM and Kerberos together (since 2021-02-24)",
                )
                continue
            if engine != "postgres":
                yield self.not_applicable(
                    db, f"DB instance '{db.id}' is {db.engine}, not RDS for PostgreSQL"
                )
                continue
            if db.cluster_id:
                yield self.not_applicable(
                    db,
                    f"DB instance '{db.id}' is a member of Multi-AZ DB"
                    f" cluster '{db.cluster_id}', which has no Kerberos"
                    " authentication",
                )
                continue
            domains = [{"Domain": m.domain, "Status": m.status} for m in db.domain_memberships]
            evidence = {
                "IAMDatabaseAuthenticationEnabled": db.iam_auth_enabled,
                "DomainMemberships": domains,
            }
            if iam_requested(db) and domains:
                names = ", ".join(sorted(str(d["Domain"]) for d in domains))
                yield self.failed(
                    db,
                    f"DB instance '{db.id}' has IAM database authentication"
                    f" and Kerberos (domain {names}) enabled together",
                    evidence,
                )
            else:
                used = "IAM" if iam_requested(db) else ("Kerberos" if domains else "neither")
                yield self.passed(
                    db, f"DB instance '{db.id}' uses one method only ({used})", evidence
                )
