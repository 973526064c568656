"""5xx: users inside the database (the snapshot's ``databases`` sections).

The AWS API cannot see database users; ``rdsiam db-users`` (or ``collect --db-user``) reads them
from the database's own catalog. A database with IAM authentication enabled whose users were not
collected is an ``error`` for these rules (per account when no database was inspected at all),
never a pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from checker.context import Context
from checker.db.users import (
    AD_ROLE,
    DB_USER_TYPE,
    IAM_PLUGIN,
    IAM_ROLE,
    REPLICATION_ROLE,
    UsersOf,
    has_users,
    is_postgres,
    memberships,
)
from checker.iam.arn import DbUserArn
from checker.iam.grants import Grant
from checker.iam.match import has_wildcard
from checker.model.snapshot import DatabaseUser, DBCluster, DBInstance, Snapshot
from checker.rule import Finding, Resource, Rule, Severity
from rules.helpers import iam_requested, rds_clusters, rds_instances

LIMITS_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html"
ACCOUNTS_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html"
)
METHODS_DOC = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/database-authentication.html"
READS = ("databases", "DBInstances", "DBClusters")
SUPERUSER_ROLE = "rds_superuser"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
HOW_TO_COLLECT = "run 'rdsiam db-users' or 'rdsiam collect --db-user'"


def _builtin(name: str) -> bool:
    """PostgreSQL's and RDS's own roles, which are not users to judge."""
    return name.startswith(("pg_", "rds_", "rdsadmin", "rdstopmgr"))


def _path(users: UsersOf, user: str, role: str) -> list[str]:
    """The shortest chain of memberships from ``user`` to ``role`` (both included)."""
    direct = {u.name: tuple(u.member_of) for u in users.section.users}
    previous: dict[str, str] = {}
    queue = [user]
    seen = {user}
    while queue:
        current = queue.pop(0)
        for parent in direct.get(current, ()):
            if parent in seen:
                continue
            previous[parent] = current
            if parent == role:
                chain = [role]
                while chain[-1] != user:
                    chain.append(previous[chain[-1]])
                return chain[::-1]
            seen.add(parent)
            queue.append(parent)
    return [user, role]


def _via(chain: list[str]) -> str:
    return "directly" if len(chain) <= 2 else "through " + " -> ".join(chain[1:-1])


class _DatabaseUsersRule(Rule):
    """A 5xx rule: coverage of the databases that need inspecting, then ``judge`` per section."""

    # Rules about granted users need a database's users only when a grant names one of them.
    about_grants = False
    resource_type = DB_USER_TYPE
    reads: ClassVar[tuple[str, ...]] = READS

    def wants(self, engine: str) -> bool:
        """The engines the rule judges (all that have IAM DB auth, unless overridden)."""
        return has_users(engine)

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        yield from _coverage(self, snap, ctx)
        for users in ctx.database_users:
            if self.wants(users.engine):
                yield from self.judge(users, ctx)

    def judge(self, users: UsersOf, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError


class _PostgresUsersRule(_DatabaseUsersRule):
    """A rule about PostgreSQL roles (``rds_iam``, ``rds_ad``, replication)."""

    def wants(self, engine: str) -> bool:
        return is_postgres(engine)


def _coverage(rule: _DatabaseUsersRule, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
    """Errors for IAM-enabled databases whose users were not collected."""
    inspected: set[tuple[str, str]] = set()
    for users in ctx.database_users:
        inspected.add((users.account_id, users.section.resource_id))
        inspected.add((users.account_id, users.resource_id))
    named = _named_databases(ctx) if rule.about_grants else set()
    candidates: list[DBInstance | DBCluster] = [
        *(i for i in rds_instances(snap) if not i.cluster_id),
        *rds_clusters(snap),
    ]
    for account in snap.accounts:
        dbs = [
            db
            for db in candidates
            if db.scope.account_id == account.account_id
            and iam_requested(db)
            and rule.wants(db.engine)
            and (
                (account.account_id, db.scope.region, db.resource_id) in named
                if rule.about_grants
                else not _read_replica(db)
            )
        ]
        if not dbs:
            continue
        if account.databases is None:
            resource = Resource(DB_USER_TYPE, account.account_id, None, account.account_id, None)
            evidence = {"section": "databases", "databases": sorted(db.id for db in dbs)}
            if ctx.is_iac:
                yield rule.not_applicable(
                    resource,
                    "database users cannot be known from a template",
                    evidence,
                    key="databases",
                )
            else:
                yield rule.error(
                    resource,
                    f"database users were not collected in account {account.account_id}"
                    f" ({len(dbs)} database(s) with IAM authentication); {rule.id} could not"
                    f" look inside them: {HOW_TO_COLLECT}",
                    evidence,
                    key="databases",
                )
            continue
        for db in dbs:
            if (account.account_id, db.resource_id or "") in inspected:
                continue
            errors = ctx.errors_for(account.account_id, db.scope.region, "databases", db.id)
            codes = "; ".join(f"{e.code}: {e.message}" for e in errors)
            yield rule.error(
                db,
                f"the users of {_kind(db)} '{db.id}' were not collected"
                + (f" ({codes})" if codes else f": {HOW_TO_COLLECT}"),
                {
                    "section": "databases",
                    "errors": [e.model_dump(exclude_none=True) for e in errors],
                },
                key="databases",
            )


def _usable(grant: Grant) -> bool:
    """A grant that can name a user of a database: a wildcard-free connect ARN in a policy of
    the database's own account (a cross-account or malformed grant works for nobody: 3xx)."""
    parsed = grant.parsed
    return (
        isinstance(parsed, DbUserArn)
        and parsed.concrete
        and not has_wildcard(parsed.db_user)
        and parsed.account == grant.account_id
        and parsed.partition == grant.partition
    )


def _named_databases(ctx: Context) -> set[tuple[str, str, str | None]]:
    """(account, Region, resource id) of every database a usable grant names a user of."""
    out: set[tuple[str, str, str | None]] = set()
    for grant in ctx.grants.grants:
        if _usable(grant):
            assert isinstance(grant.parsed, DbUserArn)
            out.add((grant.account_id, grant.parsed.region, grant.parsed.resource_id))
    return out


def _read_replica(db: DBInstance | DBCluster) -> bool:
    """A read replica has its source's users; the source's section covers it."""
    extra = db.model_extra or {}
    return bool(extra.get("ReadReplicaSourceDBInstanceIdentifier"))


def _kind(db: DBInstance | DBCluster) -> str:
    return "DB cluster" if isinstance(db, DBCluster) else "DB instance"


def _logins(users: UsersOf) -> Iterator[DatabaseUser]:
    """PostgreSQL roles that can log in (or whose login is not known), built-ins left out."""
    for user in users.section.users:
        if user.login is not False and not _builtin(user.name):
            yield user


class MasterUserNotIam(_PostgresUsersRule):
    """The master user is not a member of rds_iam

    ## What it checks
    On PostgreSQL (RDS and Aurora), the master user (`MasterUsername` of the instance or
    cluster) is not a member of `rds_iam`, directly or through any chain of role memberships.

    ## Why it matters
    AWS: "if the IAM role (`rds_iam`) is added to a user (including the RDS master user), IAM
    authentication takes precedence over password authentication, so the user must log in as an
    IAM user." A master user in `rds_iam` has lost its password login: when IAM or its policies
    break, nobody can log in to repair them. Teams have locked themselves out this way
    (terraform-provider-postgresql#120).

    ## Not applicable when
    - the database is MySQL or MariaDB (no `rds_iam`);
    - the database is not in the snapshot, so its master user is not known;
    - the master user is not among the collected users.
    If the master user was switched to IAM on purpose (`MasterUserAuthenticationType=iam-db-auth`,
    which the Describe APIs do not return), waive the finding with that reason.

    ## Remediation
    `REVOKE rds_iam FROM <master>;` (and from any role that carries it to the master), and give
    applications their own IAM users: `CREATE USER app; GRANT rds_iam TO app;`.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html
    """

    id = "RIA501"
    name = "master-user-not-iam"
    severity = Severity.HIGH
    source_url = LIMITS_DOC

    def judge(self, users: UsersOf, ctx: Context) -> Iterator[Finding]:
        master = users.database.master_username if users.database is not None else None
        section_resource = Resource(
            DB_USER_TYPE, users.resource_id, None, users.account_id, users.region
        )
        if master is None:
            why = (
                "the database is not in the snapshot"
                if users.database is None
                else "its MasterUsername is not in the snapshot"
            )
            yield self.not_applicable(
                section_resource, f"the master user of {users.label} is not known ({why})"
            )
            return
        if master not in users.by_name():
            yield self.not_applicable(
                users.user_resource(master),
                f"master user '{master}' of {users.label} is not among its collected users",
            )
            return
        if users.has_role(master, IAM_ROLE):
            chain = _path(users, master, IAM_ROLE)
            yield self.failed(
                users.user_resource(master),
                f"master user '{master}' of {users.label} is a member of {IAM_ROLE}"
                f" {_via(chain)}: IAM takes precedence, so it can no longer log in with its"
                " password (no break-glass login)",
                {"user": master, "path": chain, "MasterUsername": master},
            )
        else:
            yield self.passed(
                users.user_resource(master),
                f"master user '{master}' of {users.label} is not a member of {IAM_ROLE}",
                {"user": master, "MasterUsername": master},
            )


class IamAndKerberosRoleExclusive(_PostgresUsersRule):
    """No PostgreSQL user has both rds_iam and rds_ad

    ## What it checks
    No PostgreSQL login role is a member of both `rds_iam` and `rds_ad`, directly or through
    any chain of role memberships.

    ## Why it matters
    AWS: "Don't assign both the `rds_iam` and `rds_ad` roles to a user of a PostgreSQL
    database either directly or indirectly by nested grant access"; a user logs in with one
    method only, and one of the two will fail.

    ## Not applicable when
    The database is MySQL or MariaDB. Roles that cannot log in are judged through their
    members.

    ## Remediation
    Choose one method per user: `REVOKE rds_ad FROM <user>;` or `REVOKE rds_iam FROM <user>;`
    (on the role that passes it on, when nested).

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/database-authentication.html
    """

    id = "RIA502"
    name = "iam-kerberos-role-exclusive"
    severity = Severity.HIGH
    source_url = METHODS_DOC

    def judge(self, users: UsersOf, ctx: Context) -> Iterator[Finding]:
        for user in _logins(users):
            if users.has_role(user.name, IAM_ROLE) and users.has_role(user.name, AD_ROLE):
                iam, ad = _path(users, user.name, IAM_ROLE), _path(users, user.name, AD_ROLE)
                yield self.failed(
                    users.user_resource(user.name),
                    f"user '{user.name}' of {users.label} is a member of {IAM_ROLE}"
                    f" ({_via(iam)}) and of {AD_ROLE} ({_via(ad)}): only one method can work",
                    {"user": user.name, "rds_iam_path": iam, "rds_ad_path": ad},
                )
            else:
                yield self.passed(
                    users.user_resource(user.name),
                    f"user '{user.name}' of {users.label} does not combine {IAM_ROLE} and"
                    f" {AD_ROLE}",
                    {"user": user.name},
                )


class IamUserNotReplication(_PostgresUsersRule):
    """IAM users are not replication users

    ## What it checks
    No PostgreSQL user that has `rds_iam` (directly or nested) is also a replication user: the
    `REPLICATION` attribute, or membership of `rds_replication`.

    ## Why it matters
    AWS: "For PostgreSQL, you can't use IAM authentication to establish a replication
    connection." A replication user in `rds_iam` cannot replicate, and cannot use its password
    either (IAM takes precedence).

    On Aurora PostgreSQL the statement is in older Aurora documentation but no longer in the
    current page (unconfirmed whether it still holds), so there the finding is a failure of
    severity `info`, which does not fail a run at the default `--fail-on low`.

    ## Not applicable when
    The database is MySQL or MariaDB; users without `rds_iam` are not judged.

    ## Remediation
    Use a separate password (or Kerberos) user for replication, and
    `REVOKE rds_iam FROM <user>;` on the replication user.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html
    """

    id = "RIA503"
    name = "iam-user-not-replication"
    severity = Severity.MEDIUM
    source_url = LIMITS_DOC

    def judge(self, users: UsersOf, ctx: Context) -> Iterator[Finding]:
        aurora = users.engine.lower().startswith("aurora")
        # Memberships without what rds_superuser carries: every admin has rds_superuser, and
        # that alone is not a replication user.
        replicating = memberships(u for u in users.section.users if u.name != SUPERUSER_ROLE)
        for user in _logins(users):
            if not users.has_role(user.name, IAM_ROLE):
                continue
            how = []
            if user.replication:
                how.append("the REPLICATION attribute")
            if REPLICATION_ROLE in replicating.get(user.name, frozenset()):
                how.append(f"{REPLICATION_ROLE} membership")
            evidence: dict[str, Any] = {"user": user.name, "replication": user.replication}
            if not how:
                yield self.passed(
                    users.user_resource(user.name),
                    f"IAM user '{user.name}' of {users.label} is not a replication user",
                    evidence,
                )
                continue
            finding = self.failed(
                users.user_resource(user.name),
                f"IAM user '{user.name}' of {users.label} is a replication user"
                f" ({' and '.join(how)}): PostgreSQL replication connections cannot use IAM"
                + (
                    " (documented for RDS; unconfirmed for current Aurora PostgreSQL)"
                    if aurora
                    else ""
                ),
                evidence,
            )
            if aurora:
                finding.severity = Severity.INFO
            yield finding


def _granted(users: UsersOf, ctx: Context) -> dict[str, list[dict[str, Any]]]:
    """Database user name -> the concrete grants that name it for this database."""
    out: dict[str, list[dict[str, Any]]] = {}
    for grant in ctx.grants.grants:
        parsed = grant.parsed
        if not _usable(grant) or not isinstance(parsed, DbUserArn):
            continue
        if parsed.resource_id != users.resource_id:
            continue
        if parsed.account != users.account_id or parsed.partition != users.partition:
            continue
        if users.region is not None and parsed.region != users.region:
            continue
        out.setdefault(parsed.db_user, []).append(
            {
                "policy": grant.policy.name,
                "statement": grant.statement.label,
                "Resource": grant.resource,
            }
        )
    return out


def _case_variants(users: UsersOf, name: str) -> list[str]:
    """Users whose name equals ``name`` but for case."""
    lower = name.lower()
    return sorted({u.name for u in users.section.users if u.name.lower() == lower} - {name})


class _GrantedUserRule(_DatabaseUsersRule):
    """A rule about the database users that IAM grants name (RIA504-RIA506)."""

    about_grants = True
    reads = (*READS, "iam")
    source_url = ACCOUNTS_DOC

    def granted(
        self, users: UsersOf, ctx: Context
    ) -> Iterator[tuple[str, list[dict[str, Any]], Resource, dict[str, Any]]]:
        """(user name, the grants naming it, its finding resource, base evidence), by name."""
        for name, grants in sorted(_granted(users, ctx).items()):
            yield name, grants, users.user_resource(name), {"user": name, "granted_by": grants}


class GrantedUserExists(_GrantedUserRule):
    """Database users named by IAM grants exist

    ## What it checks
    Every database user that a concrete `rds-db:connect` grant names (no wildcard in the ARN)
    exists in that database's collected users.

    ## Why it matters
    IAM only lets a principal ask for a token; the login still needs the user in the database.
    A grant to a user that was never created, or was dropped, fails with a PAM or
    access-denied error that points at nothing.

    ## Not applicable when
    A user of the same name but for case exists (RIA506 judges that). Grants with wildcards
    name no particular user. Grants to a proxy, to an Aurora member's own resource id (RIA312),
    to another account (RIA306) or malformed ones (RIA301) are not judged here: they let no
    one in.

    ## Remediation
    Create the user (`CREATE USER app; GRANT rds_iam TO app;` on PostgreSQL,
    `CREATE USER app IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS';` on MySQL and MariaDB)
    or remove the stale grant.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html
    """

    id = "RIA504"
    name = "granted-user-exists"
    severity = Severity.MEDIUM

    def judge(self, users: UsersOf, ctx: Context) -> Iterator[Finding]:
        names = users.by_name()
        for name, _, resource, evidence in self.granted(users, ctx):
            if name in names:
                yield self.passed(
                    resource, f"granted user '{name}' exists in {users.label}", evidence
                )
            elif variants := _case_variants(users, name):
                yield self.not_applicable(
                    resource,
                    f"{users.label} has {', '.join(variants)}, which differs only in case"
                    " (see RIA506)",
                    evidence,
                )
            else:
                yield self.failed(
                    resource,
                    f"IAM grants let principals connect to {users.label} as '{name}', but no"
                    " such user exists there",
                    evidence,
                )


class GrantedUserSetUpForIam(_GrantedUserRule):
    """Granted database users are set up for IAM authentication

    ## What it checks
    Every database user that a concrete `rds-db:connect` grant names is set up for IAM: on
    PostgreSQL a login role that has `rds_iam` (directly or nested); on MySQL and MariaDB an
    account with the `AWSAuthenticationPlugin` plugin on at least one host pattern that clients
    can match (`'app'@'localhost'` rows do not count: RDS clients never connect from the
    database host).

    ## Why it matters
    Without `rds_iam` a PostgreSQL user checks the token as a password and fails; without the
    plugin a MySQL account does the same. The IAM side looks right and logins fail anyway.

    ## Not applicable when
    The user does not exist with that exact name (RIA504, RIA506). A MySQL account whose plugin
    was not collected is an `error`.

    ## Remediation
    PostgreSQL: `GRANT rds_iam TO <user>;` (and `ALTER ROLE <user> LOGIN;` if needed).
    MySQL / MariaDB: `ALTER USER '<user>'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS
    'RDS';`.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html
    """

    id = "RIA505"
    name = "granted-user-set-up-for-iam"
    severity = Severity.MEDIUM

    def judge(self, users: UsersOf, ctx: Context) -> Iterator[Finding]:
        names = users.by_name()
        postgres = is_postgres(users.engine)
        for name, grants, resource, evidence in self.granted(users, ctx):
            rows = names.get(name)
            if not rows:
                yield self.not_applicable(
                    resource, f"no user '{name}' in {users.label} (see RIA504 and RIA506)", evidence
                )
                continue
            if postgres:
                yield self._postgres(users, name, rows[0], grants, resource)
            else:
                yield self._mysql(users, name, rows, grants, resource)

    def _postgres(
        self,
        users: UsersOf,
        name: str,
        row: DatabaseUser,
        grants: list[dict[str, Any]],
        resource: Resource,
    ) -> Finding:
        evidence: dict[str, Any] = {"user": name, "login": row.login, "granted_by": grants}
        problems = []
        if row.login is False:
            problems.append("cannot log in (NOLOGIN)")
        if not users.has_role(name, IAM_ROLE):
            problems.append(f"is not a member of {IAM_ROLE}")
        if problems:
            master = users.database.master_username if users.database is not None else None
            advice = (
                ": grant a separate user instead (rds_iam would take the master's password"
                " login, RIA501)"
                if name == master
                else ""
            )
            return self.failed(
                resource,
                f"granted user '{name}' of {users.label} {' and '.join(problems)}: IAM logins"
                f" as it fail{advice}",
                evidence,
            )
        return self.passed(
            resource,
            f"granted user '{name}' of {users.label} can log in with {IAM_ROLE}",
            evidence,
        )

    def _mysql(
        self,
        users: UsersOf,
        name: str,
        rows: list[DatabaseUser],
        grants: list[dict[str, Any]],
        resource: Resource,
    ) -> Finding:
        accounts = [{"host": r.host, "plugin": r.plugin} for r in rows]
        evidence: dict[str, Any] = {"user": name, "accounts": accounts, "granted_by": grants}
        remote = [r for r in rows if (r.host or "%") not in LOCAL_HOSTS]
        if any(r.plugin == IAM_PLUGIN for r in remote):
            return self.passed(
                resource,
                f"granted user '{name}' of {users.label} uses {IAM_PLUGIN}",
                evidence,
            )
        if not remote or any(r.plugin is None for r in remote):
            return self.error(
                resource,
                f"the authentication plugin of '{name}' in {users.label} was not collected"
                if remote
                else f"'{name}' of {users.label} has only local accounts, which RDS clients"
                " never match",
                evidence,
            )
        plugins = ", ".join(f"'{name}'@'{r.host}' {r.plugin}" for r in remote)
        return self.failed(
            resource,
            f"granted user '{name}' of {users.label} does not use {IAM_PLUGIN} ({plugins}):"
            " IAM logins as it fail",
            evidence,
        )


class GrantedUserCaseMatches(_GrantedUserRule):
    """Granted user names match the database user's case

    ## What it checks
    The database user a concrete `rds-db:connect` grant names matches a database user's name
    exactly, not only when case is ignored (`App` granted, `app` in the database).

    ## Why it matters
    AWS: "The user name used for IAM authentication must match the case of the user name in
    the database", and the database user name must be "the same as a resource in the IAM
    policy". A case-only difference means the login uses one spelling and the grant the other.
    Whether IAM itself compares the user segment case-sensitively is not documented, hence the
    low severity.

    ## Not applicable when
    No user of that name exists in any case (RIA504).

    ## Remediation
    Write the user name in the grant exactly as the database has it (PostgreSQL folds unquoted
    names to lower case at `CREATE USER`).

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html
    """

    id = "RIA506"
    name = "granted-user-case-matches"
    severity = Severity.LOW

    def judge(self, users: UsersOf, ctx: Context) -> Iterator[Finding]:
        names = users.by_name()
        for name, _, resource, evidence in self.granted(users, ctx):
            variants = _case_variants(users, name)
            if name in names:
                yield self.passed(
                    resource,
                    f"granted user '{name}' matches the user of {users.label} exactly",
                    evidence,
                )
            elif variants:
                yield self.failed(
                    resource,
                    f"the grant names '{name}' but {users.label} has"
                    f" {', '.join(repr(v) for v in variants)}: the names must match in case",
                    {**evidence, "database_users": variants},
                )
            else:
                yield self.not_applicable(
                    resource, f"no user '{name}' in {users.label} in any case (see RIA504)"
                )
