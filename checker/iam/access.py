"""Who can connect as whom: (IAM principal, database, database user) rows that policies allow.

For every user (with its groups' policies) and role, the Allow statements that can grant
``rds-db:connect`` give rows; an explicit Deny that covers a row removes it (one that covers
only part of a wildcard row, or only under a condition, is noted on the row); a permissions
boundary that does not allow the row removes it. A wildcard grant is one row with its pattern
and the number of databases it reaches in the principal's account; ``expand`` lists them.
Conditions of the allowing statement are kept on the row, never dropped. On a template or plan,
a principal that a policy is put on but the files do not define (an existing role) stands in
with only that policy: its rows say that its boundary, trust policy and other policies are
unknown, rather than reading as a principal that has none.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from checker.iac.symbols import references
from checker.iac.to_snapshot import EXTERNAL
from checker.iam.arn import ArnProblem, DbUserArn, parse_dbuser_arn
from checker.iam.documents import (
    PolicyDoc,
    PolicyError,
    Statement,
    load_document,
)
from checker.iam.grants import Database, GrantIndex, accepts_iam, grant_connect_arn
from checker.iam.match import CONNECT, action_matches, has_wildcard, resource_matches
from checker.model.snapshot import DBCluster, DBInstance, DBProxy, Snapshot

TYPES = {
    DBInstance: "AWS::RDS::DBInstance",
    DBCluster: "AWS::RDS::DBCluster",
    DBProxy: "AWS::RDS::DBProxy",
}
# The note on the rows of an IaC stand-in principal (``EXTERNAL``), by principal type: without
# it, no boundary and no trust principals would read as "none" instead of "not known here".
EXTERNAL_NOTES = {
    "role": "principal not defined in the template: its permissions boundary, trust policy and"
    " other policies are unknown",
    "user": "principal not defined in the template: its permissions boundary, groups and other"
    " policies are unknown",
}


@dataclass
class AccessRow:
    """One principal allowed to log in to one database (or a pattern of them) as a user."""

    account_id: str
    principal: str
    principal_type: str
    db_user: str
    resource: str  # the Resource pattern that allows it
    policy: str
    statement: str
    via: str
    database: str | None = None
    database_type: str | None = None
    resource_id: str | None = None
    region: str | None = None
    databases_matched: int = 1
    target_exists: bool | None = None
    target_iam_enabled: bool | None = None
    conditions: dict[str, Any] = field(default_factory=dict)
    assumable_by: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields in their order (a dataclass instance's ``__dict__`` holds exactly them,
        in definition order; copying it is a tenth of reading each field)."""
        return dict(self.__dict__)

    @property
    def sort_key(self) -> tuple[str, ...]:
        return (
            self.account_id,
            self.principal,
            self.region or "",
            self.database or "",
            self.resource,
            self.db_user,
            self.policy,
            self.statement,
        )


@dataclass(frozen=True, slots=True)
class _Source:
    """A statement as it applies to one principal, and through what."""

    policy: PolicyDoc
    statement: Statement
    via: str


def build(snap: Snapshot, index: GrantIndex, *, expand: bool = False) -> list[AccessRow]:
    """The access matrix of every account of the snapshot that has IAM data."""
    rows: list[AccessRow] = []
    for account in snap.accounts:
        if account.iam is not None:
            rows.extend(_account_rows(account.account_id, account.iam, index, expand))
    rows.sort(key=lambda r: r.sort_key)
    return rows


def json_text(snap: Snapshot, index: GrantIndex) -> Iterator[str]:
    """The ``access`` array of the JSON report, as its renderer writes it."""
    from checker.report.jsonfmt import array

    return array("access", (row.to_dict() for row in build(snap, index)))


def _account_rows(
    account_id: str, iam: dict[str, Any], index: GrantIndex, expand: bool
) -> list[AccessRow]:
    parsed = index.policies.get(account_id, [])
    managed = {d.arn: (d, st) for d, st in parsed if d.kind == "managed" and d.arn}
    inline = {(d.arn, d.name.split("/", 1)[1]): (d, st) for d, st in parsed if d.kind == "inline"}
    groups = {g.get("GroupName"): g for g in iam.get("GroupDetailList", [])}
    rows: list[AccessRow] = []
    principals = [("role", p) for p in iam.get("RoleDetailList", [])]
    principals += [("user", p) for p in iam.get("UserDetailList", [])]
    for kind, principal in principals:
        arn = principal.get("Arn")
        if not arn:
            continue
        sources = list(_sources(principal, kind, managed, inline, groups))
        allows = [s for s in sources if s.statement.can_grant_connect()]
        if not allows:
            continue
        denies = [
            s for s in sources if s.statement.effect == "Deny" and _denies_connect(s.statement)
        ]
        boundary = _boundary(principal, managed)
        trusted = _trusted_by(principal.get("AssumeRolePolicyDocument")) if kind == "role" else []
        external = EXTERNAL_NOTES[kind] if principal.get(EXTERNAL) else None
        for source in allows:
            for row in _rows_for(account_id, arn, kind, source, index, expand):
                if _apply_denies(row, denies) and _apply_boundary(row, boundary):
                    row.assumable_by = trusted
                    if external is not None:
                        row.notes.insert(0, external)
                    rows.append(row)
    return rows


Parsed = tuple[PolicyDoc, list[Statement]]


def _sources(
    principal: dict[str, Any],
    kind: str,
    managed: dict[str, Parsed],
    inline: dict[tuple[str | None, str], Parsed],
    groups: dict[str, Any],
) -> list[_Source]:
    out: list[_Source] = []
    arn = principal.get("Arn")
    inline_key = "RolePolicyList" if kind == "role" else "UserPolicyList"

    def add(owner_arn: str | None, policies: list[Any], attached: list[Any], via: str) -> None:
        for entry in policies:
            found = inline.get((owner_arn, str(entry.get("PolicyName"))))
            if found is not None:
                out.extend(_Source(found[0], s, f"{via}inline") for s in found[1])
        for entry in attached:
            found = managed.get(entry.get("PolicyArn"))
            if found is not None:
                out.extend(_Source(found[0], s, f"{via}managed") for s in found[1])

    add(arn, principal.get(inline_key, []), principal.get("AttachedManagedPolicies", []), "")
    if kind == "user":
        for name in principal.get("GroupList", []):
            group = groups.get(name)
            if group is not None:
                add(
                    group.get("Arn"),
                    group.get("GroupPolicyList", []),
                    group.get("AttachedManagedPolicies", []),
                    f"group {name}: ",
                )
    return out


def _denies_connect(statement: Statement) -> bool:
    if statement.not_actions:
        return not any(action_matches(p, CONNECT) for p in statement.not_actions)
    return any(action_matches(p, CONNECT) for p in statement.actions)


@dataclass(frozen=True, slots=True)
class _Boundary:
    """A principal's permissions boundary: its statements, or None when it is not in the
    snapshot (then it cannot be evaluated, and the rows say so instead of vanishing)."""

    arn: str
    statements: list[Statement] | None


def _boundary(principal: dict[str, Any], managed: dict[str, Parsed]) -> _Boundary | None:
    """The principal's boundary, or None when it has none."""
    arn = (principal.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if not arn:
        return None
    found = managed.get(arn)
    return _Boundary(arn, found[1] if found is not None else None)


def _rows_for(
    account_id: str, principal: str, kind: str, source: _Source, index: GrantIndex, expand: bool
) -> list[AccessRow]:
    stmt = source.statement
    base: dict[str, Any] = {
        "account_id": account_id,
        "principal": principal,
        "principal_type": kind,
        "policy": source.policy.name,
        "statement": stmt.label,
        "via": source.via,
        "conditions": dict(stmt.condition),
    }
    patterns = ["*"] if stmt.not_resources or not stmt.resources else list(stmt.resources)
    rows: list[AccessRow] = []
    for pattern in patterns:
        parsed = (
            DbUserArn("*", "*", account_id, "*", "*")
            if pattern == "*"
            else (parse_dbuser_arn(pattern))
        )
        if isinstance(parsed, ArnProblem) and parsed.deferred:
            # a plan's ARN known only after apply: it may grant access, so it is listed
            rows.append(
                AccessRow(
                    resource=pattern,
                    db_user="(known after apply)",
                    databases_matched=0,
                    notes=[
                        "the connect ARN is known only after apply; it is built from "
                        + ", ".join(references(pattern))
                    ],
                    **base,
                )
            )
            continue
        if not isinstance(parsed, DbUserArn):
            continue  # not a connect ARN: grants nothing (RIA301)
        if not resource_matches(parsed.account, account_id):
            continue  # IAM DB auth needs the principal in the database's account (RIA306)
        label = pattern if not stmt.not_resources else f"NotResource {list(stmt.not_resources)}"
        concrete = not any(has_wildcard(v) for v in (parsed.region, parsed.resource_id))
        if concrete:
            db = index.database(account_id, parsed.region, parsed.resource_id)
            rows.append(_row(index, base, label, parsed, db, parsed.region, parsed.resource_id))
        elif expand:
            for db in _reach(parsed, account_id, index):
                rows.append(_row(index, base, label, parsed, db, db.scope.region, db.resource_id))
        else:
            count = index.count_matching(
                DbUserArn(
                    parsed.partition, parsed.region, account_id, parsed.resource_id, parsed.db_user
                )
            )
            rows.append(
                AccessRow(
                    resource=label,
                    db_user=parsed.db_user,
                    resource_id=(parsed.resource_id),
                    region=None if has_wildcard(parsed.region) else (parsed.region),
                    databases_matched=count,
                    **base,
                )
            )
    return rows


def _reach(parsed: DbUserArn, account_id: str, index: GrantIndex) -> list[Database]:
    return index.matching(
        DbUserArn(parsed.partition, parsed.region, account_id, parsed.resource_id, parsed.db_user)
    )


def _row(
    index: GrantIndex,
    base: dict[str, Any],
    label: str,
    parsed: DbUserArn,
    db: Database | None,
    region: str,
    resource_id: str | None,
) -> AccessRow:
    row = AccessRow(
        resource=label, db_user=parsed.db_user, region=region, resource_id=resource_id, **base
    )
    row.target_exists = db is not None
    row.databases_matched = 1 if db is not None else 0
    if db is not None:
        row.database = db.id
        row.database_type = TYPES[type(db)]
        row.target_iam_enabled = accepts_iam(db, index)
    return row


def _row_arn(row: AccessRow) -> str:
    """The connect ARN the row stands for (its pattern for wildcard rows)."""
    if row.resource_id is None or row.region is None:
        return row.resource
    return grant_connect_arn("*", row.region, row.account_id, row.resource_id, row.db_user)


def _covers(pattern: str, row: AccessRow) -> bool:
    """Whether a Deny or boundary Resource pattern covers the whole row.

    The pattern's partition is widened to ``*`` (rows do not record one) and matched against
    the row's ARN; a wildcard row's pattern is taken literally, so only a pattern at least as
    wide covers it.
    """
    if pattern == "*":
        return True
    parsed = parse_dbuser_arn(pattern)
    if not isinstance(parsed, DbUserArn):
        return False
    widened = grant_connect_arn(
        "*", parsed.region, parsed.account, parsed.resource_id, parsed.db_user
    )
    return resource_matches(widened, _row_arn(row))


def _apply_denies(row: AccessRow, denies: list[_Source]) -> bool:
    """False when an unconditional Deny covers the row. A conditional Deny, or one that may
    remove part of a wildcard row, is noted on the row instead (not evaluated per database)."""
    wildcard_row = row.database is None
    for deny in denies:
        stmt = deny.statement
        if stmt.not_resources:  # denies everything but these
            covered = not any(_covers(p, row) for p in stmt.not_resources)
        else:
            covered = any(_covers(p, row) for p in (stmt.resources or ("*",)))
        if covered and not stmt.condition:
            return False
        if covered or wildcard_row:
            how = "under a condition" if covered else "possibly in part"
            row.notes.append(f"denied {how} by {deny.policy.name} {stmt.label}")
    return True


def _apply_boundary(row: AccessRow, boundary: _Boundary | None) -> bool:
    """False when a permissions boundary does not allow connect on the row, or denies it."""
    if boundary is None:
        return True
    if boundary.statements is None:
        row.notes.append(
            f"permissions boundary {boundary.arn} is not in the snapshot: not evaluated"
        )
        return True
    allowed = False
    for stmt in boundary.statements:
        resources = ["*"] if stmt.not_resources or not stmt.resources else list(stmt.resources)
        covers = any(_covers(p, row) for p in resources)
        if stmt.effect == "Deny" and _denies_connect(stmt) and covers and not stmt.condition:
            return False
        if stmt.can_grant_connect() and covers:
            allowed = True
    return allowed


def _trusted_by(document: Any) -> list[str]:
    """Principals a role's trust policy lets assume it (AWS, Service, Federated), as written."""
    if document is None:
        return []
    try:
        doc = load_document(document)
    except PolicyError:
        return []
    found: list[str] = []
    raw = doc.get("Statement", [])
    for item in [raw] if isinstance(raw, dict) else raw:
        if not isinstance(item, dict) or item.get("Effect") != "Allow":
            continue
        principal = item.get("Principal")
        if principal == "*":
            found.append("*")
        elif isinstance(principal, dict):
            for kind, value in sorted(principal.items()):
                for who in [value] if isinstance(value, str) else value:
                    found.append(f"{kind}:{who}")
    return sorted(set(found))
