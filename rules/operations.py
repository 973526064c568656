"""7xx: operations: connection rate."""

from __future__ import annotations

from collections.abc import Iterator

from checker.context import Context
from checker.model.snapshot import DBInstance, Snapshot
from checker.rule import Finding, Rule, Severity
from rules.helpers import rds_instances

IAM_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html"
GUIDANCE_PER_SECOND = 200


def _iam_on(db: DBInstance, ctx: Context) -> bool:
    """IAM DB auth in force for this instance: its own setting, or its cluster's."""
    if db.cluster_id:
        cluster = ctx.cluster(db.scope, db.cluster_id)
        return bool(cluster and cluster.iam_auth_enabled)
    return bool(db.iam_auth_enabled)


class IamConnectionRate(Rule):
    """IAM-authenticated connection rate stays under AWS's 200 per second guidance

    ## What it checks
    With `rdsiam collect --metrics`, the snapshot holds, for every IAM-enabled DB instance, the
    highest one-minute sum of the CloudWatch metric `IamDbAuthConnectionRequests` over the
    window (default 14 days). That peak, averaged over its minute, stays below 200 new IAM
    connections per second. A minute's average is a lower bound of its busiest second, so a
    pass is not proof that no second went higher.

    ## Why it matters
    AWS recommends IAM database authentication when applications open fewer than 200 new IAM
    connections per second, and connection pooling or RDS Proxy above that; one version of its
    page says IAM authentication throttles connections at that rate. The figure is guidance
    whose wording AWS has changed over time, not a published quota, hence the low severity.

    ## Not applicable when
    - the snapshot has no connection metrics (collected without `--metrics`, or from exports);
    - the instance does not use IAM database authentication;
    - CloudWatch recorded no IAM connection requests for it in the window.

    ## Remediation
    Reuse connections through a pool, or put RDS Proxy in front of the database (clients then
    authenticate to the proxy, which keeps connections to the database open); reuse a token
    for its 15 minutes instead of signing one per connection.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html
    """

    id = "RIA701"
    name = "iam-connection-rate"
    severity = Severity.LOW
    resource_type = "AWS::RDS::DBInstance"
    reads = ("DBInstances", "Metrics")
    source_url = IAM_DOC

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        for db in rds_instances(snap):
            if not _iam_on(db, ctx):
                yield self.not_applicable(
                    db, f"DB instance '{db.id}' does not use IAM database authentication"
                )
                continue
            region = ctx.region(db.scope)
            metrics = (region.metrics or {}) if region else {}
            series = metrics.get("IamDbAuthConnectionRequests")
            if not isinstance(series, dict):
                yield self.not_applicable(
                    db, "IAM connection metrics were not collected (rdsiam collect --metrics)"
                )
                continue
            peak = (series.get("instances") or {}).get(db.id) or {}
            per_minute = peak.get("max_per_minute")
            if per_minute is None:
                yield self.not_applicable(
                    db,
                    f"CloudWatch recorded no IAM connection requests"
                    f" for DB instance '{db.id}' in the window",
                )
                continue
            period = int(series.get("period_seconds") or 60)
            rate = float(per_minute) / period
            evidence = {
                "max_requests_per_period": per_minute,
                "period_seconds": period,
                "average_per_second_in_peak_period": round(rate, 2),
                "window_days": series.get("days"),
                "guidance_per_second": GUIDANCE_PER_SECOND,
            }
            if rate >= GUIDANCE_PER_SECOND:
                yield self.failed(
                    db,
                    f"DB instance '{db.id}' peaked at {rate:.0f} new IAM"
                    f" connections per second (over {period} s), at or above"
                    f" AWS's guidance of {GUIDANCE_PER_SECOND}; pool connections"
                    " or use RDS Proxy",
                    evidence,
                )
            else:
                yield self.passed(
                    db,
                    f"DB instance '{db.id}' peaked at {rate:.1f} new IAM"
                    f" connections per second (over {period} s), under"
                    f" {GUIDANCE_PER_SECOND}",
                    evidence,
                )
