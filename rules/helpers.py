"""Small functions the rule modules share (no rule lives here)."""

from __future__ import annotations

from collections.abc import Iterator

from checker.context import Context, is_multi_az_cluster
from checker.knowledge.engines import is_aurora, is_rds_engine
from checker.model.snapshot import DBCluster, DBInstance, Snapshot

IAM_LOG = "iam-db-auth-error"


def rds_instances(snap: Snapshot) -> Iterator[DBInstance]:
    """DB instances of RDS engines (Neptune and DocumentDB left out)."""
    return (d for d in snap.db_instances() if is_rds_engine(d.engine))


def rds_clusters(snap: Snapshot) -> Iterator[DBCluster]:
    """DB clusters of RDS engines (Neptune and DocumentDB left out)."""
    return (c for c in snap.db_clusters() if is_rds_engine(c.engine))


def iam_requested(db: DBInstance | DBCluster) -> bool:
    """IAM DB auth is on, or a pending modification turns it on."""
    return bool(db.iam_auth_enabled) or db.pending.get("IAMDatabaseAuthenticationEnabled") is True


def pending_note(db: DBInstance | DBCluster) -> str:
    """A clause for messages when enabling IAM DB auth is pending but not applied."""
    if not db.iam_auth_enabled and db.pending.get("IAMDatabaseAuthenticationEnabled") is True:
        return " (enabling it is pending, not yet applied)"
    return ""


def cluster_kind(cluster: DBCluster) -> str:
    return "Multi-AZ DB cluster" if is_multi_az_cluster(cluster) else "Aurora DB cluster"


def member_reason(db: DBInstance, ctx: Context) -> str:
    """Why a cluster member is judged on its cluster."""
    cluster = ctx.cluster(db.scope, db.cluster_id or "")
    kind = (
        cluster_kind(cluster)
        if cluster
        else ("Aurora DB cluster" if is_aurora(db.engine) else "DB cluster")
    )
    return f"DB instance '{db.id}' is a member of {kind} '{db.cluster_id}', where this is judged"


def is_on(value: str | None) -> bool | None:
    """MySQL-style boolean: True for 1/ON/TRUE, False for 0/OFF/FALSE, None otherwise."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in {"1", "on", "true"}:
        return True
    if text in {"0", "off", "false"}:
        return False
    return None
