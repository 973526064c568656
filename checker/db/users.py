"""The ``databases`` sections of a snapshot, indexed for the 5xx rules.

A section lists the users of one database, tied to it by resource id: the ``DbiResourceId`` of a
DB instance or the ``DbClusterResourceId`` of a cluster (an Aurora member's ``DbiResourceId`` is
accepted and read as its cluster's, since the members share the cluster's users). PostgreSQL
rows carry direct memberships only; nested ones are computed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from checker.model.snapshot import DatabaseUser, DatabaseUsers, DBCluster, DBInstance, Snapshot
from checker.rule import Resource

DB_USER_TYPE = "rdsiam::DBUser"
IAM_ROLE = "rds_iam"
AD_ROLE = "rds_ad"
REPLICATION_ROLE = "rds_replication"
IAM_PLUGIN = "AWSAuthenticationPlugin"

Database = DBInstance | DBCluster


def is_postgres(engine: str) -> bool:
    return "postgres" in engine.lower()


def is_mysql_family(engine: str) -> bool:
    e = engine.lower()
    return "mysql" in e or "mariadb" in e or e == "aurora"


def has_users(engine: str) -> bool:
    """An engine whose users rdsiam can read and judge (PostgreSQL, MySQL, MariaDB, Aurora)."""
    return is_postgres(engine) or is_mysql_family(engine)


def default_port(engine: str) -> int:
    return 5432 if is_postgres(engine) else 3306


def memberships(users: Iterable[DatabaseUser]) -> dict[str, frozenset[str]]:
    """Every role each role belongs to, directly or through any chain (cycles tolerated)."""
    direct = {u.name: tuple(u.member_of) for u in users}
    out: dict[str, frozenset[str]] = {}
    for name in direct:
        seen: set[str] = set()
        stack = list(direct[name])
        while stack:
            role = stack.pop()
            if role in seen:
                continue
            seen.add(role)
            stack.extend(direct.get(role, ()))
        out[name] = frozenset(seen)
    return out


@dataclass
class UsersOf:
    """One database's users, with the database it belongs to when the snapshot has it."""

    account_id: str
    section: DatabaseUsers
    database: Database | None  # the instance or cluster (for an Aurora member: its cluster)
    region: str | None
    partition: str
    nested: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        """The resource id grants use: the cluster's for an Aurora member."""
        if self.database is not None and self.database.resource_id:
            return self.database.resource_id
        return self.section.resource_id

    @property
    def engine(self) -> str:
        return self.database.engine if self.database is not None else self.section.engine

    @property
    def label(self) -> str:
        if self.database is None:
            return f"database {self.section.resource_id}"
        kind = "DB cluster" if isinstance(self.database, DBCluster) else "DB instance"
        return f"{kind} '{self.database.id}'"

    def by_name(self) -> dict[str, list[DatabaseUser]]:
        """Rows by user name (MySQL has one row per user and host)."""
        out: dict[str, list[DatabaseUser]] = {}
        for user in self.section.users:
            out.setdefault(user.name, []).append(user)
        return out

    def has_role(self, user: str, role: str) -> bool:
        """``user`` is ``role`` or belongs to it, directly or nested."""
        return role in self.nested.get(user, frozenset())

    def user_resource(self, user: str) -> Resource:
        """A database user as a finding resource: ``<resource_id>/<user>``, with its connect
        ARN when the Region is known."""
        rid = self.resource_id
        arn = (
            f"arn:{self.partition}:rds-db:{self.region}:{self.account_id}:dbuser:{rid}/{user}"
            if self.region
            else None
        )
        return Resource(DB_USER_TYPE, f"{rid}/{user}", arn, self.account_id, self.region)


def database_users(snap: Snapshot) -> Iterator[UsersOf]:
    """Every users section of the snapshot, tied to its database."""
    for account in snap.accounts:
        if not account.databases:
            continue
        by_rid: dict[str, tuple[Database, str]] = {}
        clusters: dict[tuple[str, str], DBCluster] = {}
        for region in account.regions:
            for cluster in region.db_clusters or ():
                clusters[(region.region, cluster.id)] = cluster
                if cluster.resource_id:
                    by_rid[cluster.resource_id] = (cluster, region.region)
        for region in account.regions:
            for instance in region.db_instances or ():
                if not instance.resource_id:
                    continue
                owner = clusters.get((region.region, instance.cluster_id or ""))
                by_rid.setdefault(instance.resource_id, (owner or instance, region.region))
        for section in account.databases:
            found = by_rid.get(section.resource_id)
            db, region_name = found if found else (None, None)
            yield UsersOf(
                account.account_id,
                section,
                db,
                region_name,
                account.partition,
                memberships(section.users),
            )
