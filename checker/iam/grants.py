"""Grants of ``rds-db:connect``: every (policy, statement, Resource) that can allow a login.

Built once per run (``Context.grants``) from every account's ``iam`` section, attached or not;
the 3xx rules judge each one. Databases are indexed by account, Region and resource id, so a
grant is matched against its own account and Region only, never against every database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from checker.iam.arn import ArnProblem, DbUserArn, parse_dbuser_arn
from checker.iam.documents import PolicyDoc, PolicyError, Statement, iter_policies, statements
from checker.iam.match import CONNECT, action_matches, has_wildcard, resource_matches
from checker.model.snapshot import DBCluster, DBInstance, DBProxy, Snapshot
from checker.rule import Resource

MANAGED_TYPE = "AWS::IAM::ManagedPolicy"
INLINE_TYPE = "AWS::IAM::Policy"


@dataclass(frozen=True, slots=True)
class Grant:
    """One Resource of one statement that can grant ``rds-db:connect``.

    ``resource`` is None for a statement that grants through ``NotResource`` (or has no
    Resource at all); ``parsed`` is then None too.
    """

    account_id: str
    partition: str
    policy: PolicyDoc
    statement: Statement
    resource: str | None
    parsed: DbUserArn | ArnProblem | None
    where: Resource  # the policy as a finding resource, one object per policy
    # The finding key (statement and resource) and the evidence every finding on this grant
    # starts from (statement, Resource, any Condition): computed once, each of the twelve
    # rules reads them. ``base_evidence`` is shared, read-only: copy it before changing it.
    subject: str = field(init=False)
    base_evidence: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        label = self.statement.label
        resource = self.resource
        set_ = object.__setattr__
        set_(self, "subject", f"{label} {resource if resource is not None else '-'}")
        base: dict[str, Any] = {"statement": label, "Resource": resource}
        if self.statement.condition:
            base["Condition"] = self.statement.condition
        set_(self, "base_evidence", base)

    def finding_resource(self) -> Resource:
        """The policy, as the resource of a finding (CONTRACTS: name; inline: owner/name)."""
        return self.where

    def evidence(self, **extra: Any) -> dict[str, Any]:
        """A new evidence dict: statement, Resource, where the policy is attached, any
        Condition, then ``extra``."""
        return {**self.base_evidence, "attached_to": list(self.policy.attached_to), **extra}


@dataclass(frozen=True, slots=True)
class Suspect:
    """An Allow statement action that looks like ``rds-db:connect`` but is not (RIA311)."""

    account_id: str
    policy: PolicyDoc
    statement: Statement
    action: str
    where: Resource

    def finding_resource(self) -> Resource:
        return self.where

    def evidence(self) -> dict[str, Any]:
        return {
            "statement": self.statement.label,
            "Action": self.action,
            "attached_to": list(self.policy.attached_to),
        }


def policy_resource(account_id: str, policy: PolicyDoc) -> Resource:
    """A policy as the resource of a finding (CONTRACTS: name; inline: owner/name)."""
    kind = MANAGED_TYPE if policy.kind == "managed" else INLINE_TYPE
    arn = policy.arn if policy.kind == "managed" else None
    return Resource(kind, policy.name, arn, account_id, None)


def looks_like_connect(action: str) -> bool:
    """``rds:connect``, ``rds:db-connect``, ``rds-db:connnect``, ``rdsdb:connect``: an action
    that reads as connect but that ``rds-db:connect`` does not match."""
    if action_matches(action, CONNECT):
        return False
    service, _, name = action.lower().partition(":")
    if service.replace("_", "-") not in {"rds", "rds-db", "rdsdb", "rds-dbs", "rdsd"}:
        return False
    return "connect" in name or _distance(name, "connect") <= 2


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (short strings only)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """A policy document that could not be read (reported as an error by the rules)."""

    account_id: str
    name: str
    message: str


Database = DBInstance | DBCluster | DBProxy


class PolicyGrants(NamedTuple):
    """The grants of one policy, in order, as the 3xx pass findings list them: each grant's
    base evidence, and the statement labels without repeats. Shared and read-only."""

    total: int
    entries: list[dict[str, Any]]
    labels: list[str]


class GrantIndex:
    """Grants and databases of a snapshot, indexed for matching by account and Region."""

    def __init__(self, snap: Snapshot) -> None:
        self.grants: list[Grant] = []
        self.problems: list[PolicyProblem] = []
        self.suspects: list[Suspect] = []
        # account -> its readable policies with their statements (parsed once, shared with the
        # access matrix)
        self.policies: dict[str, list[tuple[PolicyDoc, list[Statement]]]] = {}
        self.iam_accounts: set[str] = set()
        # (account, region) -> resource id -> database; and identifier/name -> database
        self.by_id: dict[tuple[str, str], dict[str, Database]] = {}
        self.by_name: dict[tuple[str, str], dict[str, Database]] = {}
        self.clusters: dict[tuple[str, str, str], DBCluster] = {}
        self.regions: set[tuple[str, str]] = set()
        self.collected: dict[tuple[str, str], set[str]] = {}
        for account, region in snap.regions():
            key = (account.account_id, region.region)
            self.regions.add(key)
            self.collected[key] = {
                name
                for name, items in (
                    ("instance", region.db_instances),
                    ("cluster", region.db_clusters),
                    ("proxy", region.db_proxies),
                )
                if items is not None
            }
            ids = self.by_id.setdefault(key, {})
            names = self.by_name.setdefault(key, {})
            items: list[Database] = [
                *(region.db_instances or ()),
                *(region.db_clusters or ()),
                *(region.db_proxies or ()),
            ]
            for cluster in region.db_clusters or ():
                self.clusters[(account.account_id, region.region, cluster.id)] = cluster
            for item in items:
                rid = item.resource_id
                if rid:
                    ids.setdefault(rid, item)
                names.setdefault(item.id, item)
        for account in snap.accounts:
            if account.iam is None:
                continue
            self.iam_accounts.add(account.account_id)
            self._read(account.account_id, account.partition, account.iam)

    def _read(self, account_id: str, partition: str, iam: dict[str, Any]) -> None:
        try:
            policies = list(iter_policies(iam))
        except PolicyError as exc:
            self.problems.append(PolicyProblem(account_id, "(IAM section)", str(exc)))
            return
        for policy in policies:
            if policy.error is not None:
                self.problems.append(PolicyProblem(account_id, policy.name, policy.error))
                continue
            try:
                found = statements(policy.document)
            except PolicyError as exc:
                self.problems.append(PolicyProblem(account_id, policy.name, str(exc)))
                continue
            self.policies.setdefault(account_id, []).append((policy, found))
            where = policy_resource(account_id, policy)
            for statement in found:
                if statement.effect == "Allow":
                    self.suspects.extend(
                        Suspect(account_id, policy, statement, action, where)
                        for action in statement.actions
                        if looks_like_connect(action)
                    )
                if not statement.can_grant_connect():
                    continue
                if statement.not_resources or not statement.resources:
                    self.grants.append(
                        Grant(account_id, partition, policy, statement, None, None, where)
                    )
                    continue
                for resource in statement.resources:
                    parsed = None if resource == "*" else parse_dbuser_arn(resource)
                    self.grants.append(
                        Grant(account_id, partition, policy, statement, resource, parsed, where)
                    )

    @cached_property
    def per_policy(self) -> dict[int, PolicyGrants]:
        """``id(grant.where)`` (one resource object per policy) -> that policy's grants."""
        entries: dict[int, list[dict[str, Any]]] = {}
        labels: dict[int, dict[str, None]] = {}
        for grant in self.grants:
            key = id(grant.where)
            if key not in entries:
                entries[key], labels[key] = [], {}
            entries[key].append(grant.base_evidence)
            labels[key][grant.statement.label] = None
        return {k: PolicyGrants(len(v), v, list(labels[k])) for k, v in entries.items()}

    def covered(self, account_id: str, region: str) -> bool:
        """Whether the snapshot holds that account and Region's databases."""
        return (account_id, region) in self.regions

    def database(self, account_id: str, region: str, resource_id: str) -> Database | None:
        return self.by_id.get((account_id, region), {}).get(resource_id)

    def named_anywhere(self, account_id: str, name: str) -> Database | None:
        """A database by identifier in any Region of the account (IaC: the template's)."""
        for (account, _), names in self.by_name.items():
            if account == account_id and name in names:
                return names[name]
        return None

    def named(self, account_id: str, region: str, name: str) -> Database | None:
        """A database by identifier / proxy name (the RIA302 mistake)."""
        return self.by_name.get((account_id, region), {}).get(name)

    def count_matching(self, grant: DbUserArn) -> int:
        """How many databases a connect ARN reaches (no list built: wildcard grants are many)."""
        total = 0
        for (account, region), ids in self.by_id.items():
            if not resource_matches(grant.account, account) or not resource_matches(
                grant.region, region
            ):
                continue
            if not has_wildcard(grant.resource_id):
                total += grant.resource_id in ids
            elif grant.resource_id == "*":
                total += len(ids)
            else:
                total += sum(1 for rid in ids if resource_matches(grant.resource_id, rid))
        return total

    def matching(self, grant: DbUserArn) -> list[Database]:
        """Databases a (possibly wildcard) connect ARN reaches, within its account and Region
        pattern only."""
        out: list[Database] = []
        for (account, region), ids in self.by_id.items():
            if not resource_matches(grant.account, account) or not resource_matches(
                grant.region, region
            ):
                continue
            if not has_wildcard(grant.resource_id):
                db = ids.get(grant.resource_id)
                if db is not None:
                    out.append(db)
            elif grant.resource_id == "*":
                out.extend(ids.values())
            else:
                out.extend(
                    db for rid, db in ids.items() if resource_matches(grant.resource_id, rid)
                )
        return out


def grant_connect_arn(
    partition: str, region: str, account: str, resource_id: str, user: str
) -> str:
    """The connect ARN of a database user (for messages: the right ARN to write)."""
    return f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}"


def accepts_iam(db: Database, index: GrantIndex) -> bool:
    """Whether a database takes IAM logins: a proxy that requires or allows IAM (or uses
    IAM_AUTH), an Aurora member through its cluster, otherwise its own setting."""
    if isinstance(db, DBProxy):
        return db.default_auth_scheme == "IAM_AUTH" or any(
            a.iam_auth in ("REQUIRED", "ENABLED") for a in db.auth
        )
    if isinstance(db, DBInstance) and db.cluster_id:
        cluster = index.clusters.get((db.scope.account_id, db.scope.region, db.cluster_id))
        return bool(cluster and cluster.iam_auth_enabled)
    return bool(db.iam_auth_enabled)
