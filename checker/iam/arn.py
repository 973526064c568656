"""The ``rds-db`` connect ARN: ``arn:<partition>:rds-db:<region>:<account>:dbuser:<id>/<user>``.

https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsiamauthentication.html
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

# Resource ids as AWS shows them; lengths are not documented, so they are not pinned.
RESOURCE_ID = re.compile(r"^(db-[A-Z0-9]+|cluster-[A-Z0-9]+|prx-[a-z0-9]+)$")


@dataclass(frozen=True, slots=True)
class DbUserArn:
    """A parsed connect ARN; any segment may hold IAM wildcards."""

    partition: str
    region: str
    account: str
    resource_id: str
    db_user: str
    # Derived once (twelve rules ask): ``instance``, ``cluster`` or ``proxy`` for a resource id,
    # else None; and whether partition, Region, account and resource id are wildcard-free.
    resource_kind: str | None = field(init=False)
    concrete: bool = field(init=False)
    # a segment holds a template's deploy-time symbol (``${Db.DbiResourceId}``, IaC input)
    symbolic: bool = field(init=False)

    def __post_init__(self) -> None:
        rid = self.resource_id
        kind = None
        if RESOURCE_ID.match(rid):
            kind = "instance" if rid[0] == "d" else "cluster" if rid[0] == "c" else "proxy"
        set_ = object.__setattr__
        set_(self, "resource_kind", kind)
        # one string for the four segments; the newline keeps "${" from forming across two
        joined = "\n".join((self.partition, self.region, self.account, rid))
        set_(self, "concrete", "*" not in joined and "?" not in joined)
        set_(self, "symbolic", "${" in joined)


@dataclass(frozen=True, slots=True)
class ArnProblem:
    """Why a string is not a well-formed connect ARN (RIA301's evidence).

    ``deferred``: the string is built at deploy time from references whose text a Terraform
    plan does not show (``${var.region}${aws_db_instance.x.resource_id}...``), so its form
    cannot be judged before deploy; only what it refers to can.
    """

    reason: str
    deferred: bool = False


@lru_cache(maxsize=1 << 18)
def parse_dbuser_arn(resource: str) -> DbUserArn | ArnProblem:
    """Parse a ``Resource`` of a statement that can grant ``rds-db:connect``.

    Cached: the grant index and the access matrix parse the same strings, and both results
    are immutable.
    """
    if "${" in resource and not resource.startswith("arn:"):
        return ArnProblem("built at deploy time from references", deferred=True)
    parts = resource.split(":", 6)
    if parts[0] == "arn" and len(parts) >= 3 and len(parts) < 7 and parts[-1].endswith("*"):
        # IAM: a '*' that ends a segment matches past the colons, so the missing segments are
        # wildcards too ("arn:aws:rds-db:us-east-1:123456789012:*" reaches every user).
        parts += ["*"] * (7 - len(parts))
        if parts[5] == "*":
            parts[5] = "dbuser"
    if len(parts) < 6 or parts[0] != "arn":
        return ArnProblem("not an ARN")
    if parts[2] != "rds-db":
        if parts[2] == "rds":
            return ArnProblem("an 'rds' ARN (the database itself), not an 'rds-db' connect ARN")
        return ArnProblem(f"service '{parts[2]}' is not 'rds-db'")
    if len(parts) < 7:
        tail = parts[5]
        if tail.startswith("dbuser/"):
            return ArnProblem("'dbuser/' where the ARN needs 'dbuser:'")
        return ArnProblem("no 'dbuser:<resource-id>/<db-user>' part")
    partition, region, account, kind, rest = parts[1], parts[3], parts[4], parts[5], parts[6]
    if kind != "dbuser":
        return ArnProblem(f"resource type '{kind}' where the ARN needs 'dbuser'")
    if "/" not in rest and rest.endswith("*"):
        rest += "/*"
    if "/" not in rest:
        return ArnProblem("no database user after the resource id ('<resource-id>/<db-user>')")
    resource_id, db_user = rest.split("/", 1)
    for name, value in (
        ("partition", partition),
        ("Region", region),
        ("account", account),
        ("resource id", resource_id),
        ("database user", db_user),
    ):
        if not value:
            return ArnProblem(f"empty {name} segment")
    return DbUserArn(partition, region, account, resource_id, db_user)
