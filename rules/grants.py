"""3xx: IAM grants of ``rds-db:connect``.

Each rule judges every statement Resource that can grant ``rds-db:connect`` (by action pattern),
in every policy of the snapshot, attached or not. A failure (or error, or not-applicable) names
the policy and carries the statement (``Sid`` or index) and the Resource in its evidence; the
grants of a policy that pass are one pass finding listing them (``_GrantRule``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, NamedTuple

from checker.context import Context
from checker.iac.findings import deploy_time
from checker.iac.symbols import UNKNOWN_ACCOUNT, UNKNOWN_REGION, only_symbol, references
from checker.iac.to_snapshot import EXTERNAL
from checker.iam.arn import ArnProblem, DbUserArn
from checker.iam.documents import load_document, statements
from checker.iam.grants import (
    INLINE_TYPE,
    MANAGED_TYPE,
    Database,
    Grant,
    GrantIndex,
    PolicyGrants,
    accepts_iam,
    grant_connect_arn,
)
from checker.iam.match import CONNECT, action_matches, has_wildcard
from checker.knowledge.engines import is_aurora
from checker.knowledge.regions import REGIONS, partition_of
from checker.model.snapshot import DBCluster, DBInstance, DBProxy, Snapshot
from checker.rule import Finding, Resource, Rule, Severity, Status

POLICY_DOC = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html"
)
SAR_DOC = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "list_amazonrdsiamauthentication.html"
)
LABELS_SHOWN = 8  # statements named in a rolled-up pass message
IAM_READS = ("iam", "DBInstances", "DBClusters", "DBProxies")
POLICY_TYPES = (MANAGED_TYPE, INLINE_TYPE)
UNSUPPORTED_KEYS = (
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:useragent",
    "aws:referer",
)
RESTRICTING_KEYS = (
    "sts:externalid",
    "aws:principalorgid",
    "aws:principalarn",
    "aws:principalorgpaths",
    "aws:multifactorauthpresent",
    "aws:sourceaccount",
    "aws:sourcearn",
)


class _Pass(NamedTuple):
    """A grant that passes a rule. A large account has a million of these (every grant, every
    rule), and ``_rolled_up`` turns each policy's into one finding, so they stay this small."""

    grant: Grant
    message: str  # the finding's message when the policy has no other passing grant
    extra: dict[str, Any]


Verdict = Finding | _Pass
Judge = Callable[[Grant, DbUserArn, Context], Verdict]


def _each_connect_arn(
    rule: Rule, ctx: Context, judge: Judge, named: NamedJudge | None = None
) -> Iterator[Verdict]:
    """Every grant: not applicable when it has no connect ARN to judge (NotResource, ``*``, a
    malformed ARN, one built at deploy time), else what ``judge`` says of its parsed ARN. With
    ``named``, a plan's ARN known only after apply that names one database of the plan by its
    resource id is judged on that database."""
    for grant in ctx.grants.grants:
        if named is not None and isinstance(grant.parsed, ArnProblem) and grant.parsed.deferred:
            found = _named_database(grant, ctx.grants)
            if isinstance(found, _Named):
                yield named(grant, found, ctx)
            else:
                yield rule.not_applicable(
                    grant.finding_resource(),
                    f"policy '{grant.policy.name}' statement {grant.statement.label}: {found}",
                    grant.evidence(references=references(grant.resource or "")),
                    key=grant.subject,
                )
        elif (skip := _not_arn(rule, grant)) is not None:
            yield skip
        else:
            assert isinstance(grant.parsed, DbUserArn)
            yield judge(grant, grant.parsed, ctx)


def _granted_database(parsed: DbUserArn, index: GrantIndex) -> Database | None:
    """The one database a wildcard-free connect ARN names, if the snapshot has it."""
    if not parsed.concrete:
        return None
    return index.database(parsed.account, parsed.region, parsed.resource_id)


def _not_arn(rule: Rule, grant: Grant) -> Finding | None:
    """The not-applicable finding for a grant that has no ARN to judge, else None."""
    if grant.resource is None:
        return rule.not_applicable(
            grant.finding_resource(),
            "granted through NotResource (see RIA308)",
            grant.evidence(),
            key=grant.subject,
        )
    if grant.resource == "*":
        return rule.not_applicable(
            grant.finding_resource(),
            "Resource is '*' (see RIA304)",
            grant.evidence(),
            key=grant.subject,
        )
    if isinstance(grant.parsed, ArnProblem) and grant.parsed.deferred:
        return _deferred_arn(rule, grant)  # said so: it may well be well-formed then
    if isinstance(grant.parsed, ArnProblem):
        return rule.not_applicable(
            grant.finding_resource(),
            "not a well-formed connect ARN (see RIA301)",
            grant.evidence(),
            key=grant.subject,
        )
    return None


def _database_label(db: DBInstance | DBCluster | DBProxy) -> str:
    kind = {DBInstance: "DB instance", DBCluster: "DB cluster", DBProxy: "RDS Proxy"}[type(db)]
    return f"{kind} '{db.id}'"


class _GrantRule(Rule):
    """A 3xx rule: ``judge`` gives a finding per grant; passes are then rolled up per policy.

    Failures, errors and not-applicable findings stay one per grant (statement and Resource in
    the evidence). The grants of a policy that pass become one pass finding for the policy, with
    every passing grant's statement and Resource listed under ``grants`` in its evidence: the
    contract's finding per rule and resource, passes included, without repeating the same pass
    for each statement (a large account has hundreds of thousands of grants).

    ``judge`` gives at most one verdict per grant, in the index's order: the roll-up counts on
    it to reuse a policy's entries when all its grants passed plainly.
    """

    passes_as = ""  # "<n> connect grants (S0, S1) <passes_as>"
    resource_type = POLICY_TYPES

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterator[Finding]:
        return _rolled_up(self, self.judge(snap, ctx), ctx.grants)

    # A plan's ARN known only after apply whose references name one database by its resource
    # id is judged on that database (``_judge_named``) instead of being not applicable.
    judges_through_references: ClassVar[bool] = False

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        """Every grant's verdict; by default ``_judge`` on each parsed connect ARN."""
        named = self._judge_named if self.judges_through_references else None
        return _each_connect_arn(self, ctx, self._judge, named)

    def _judge(self, grant: Grant, parsed: DbUserArn, ctx: Context) -> Verdict:
        raise NotImplementedError

    def _judge_named(self, grant: Grant, named: _Named, ctx: Context) -> Verdict:
        raise NotImplementedError

    def grant_passed(self, grant: Grant, message: str, **extra: Any) -> _Pass:
        """A grant that passes (``extra``: evidence beyond its statement and Resource)."""
        return _Pass(grant, message, extra)


def _rolled_up(
    rule: _GrantRule, verdicts: Iterator[Verdict], index: GrantIndex
) -> Iterator[Finding]:
    """Non-pass findings as they come; the passes of each policy as one finding."""
    passes: dict[int, list[Verdict]] = {}  # id(policy resource) -> its passes, in order
    detailed: set[int] = set()  # policies with a pass that carries more than the grant
    group_of = passes.get
    for item in verdicts:
        if type(item) is _Pass:
            key = id(item.grant.where)
            if item.extra:
                detailed.add(key)
        elif item.status is Status.PASS:  # type: ignore[union-attr]
            key = id(item.resource)  # type: ignore[union-attr]
            detailed.add(key)
        else:
            yield item  # type: ignore[misc]
            continue
        group = group_of(key)
        if group is None:
            passes[key] = [item]
        else:
            group.append(item)
    per_policy = index.per_policy
    for key, group in passes.items():
        whole = per_policy.get(key)
        if whole is not None and key not in detailed and whole.total == len(group):
            # every grant of the policy passed and says nothing more: the policy's entries
            # as the index has them (the common case: a million grants on the bench, and
            # the one-grant policies of templates)
            yield _summed_up(rule, group[0], whole)  # type: ignore[arg-type]
        else:
            yield _policy_pass(rule, group)


def _policy_pass(rule: _GrantRule, group: list[Verdict]) -> Finding:
    first = group[0]
    if type(first) is _Pass:
        resource, message = first.grant.where, first.message
        attached: Any = list(first.grant.policy.attached_to)
    else:
        resource, message = first.resource, first.message  # type: ignore[union-attr]
        attached = first.evidence.get("attached_to")  # type: ignore[union-attr]
    entries: list[dict[str, Any]] = []
    labels: dict[str, None] = {}
    for item in group:
        if type(item) is _Pass:
            grant = item.grant
            # the grant's own evidence dict, shared by the twelve rules' pass findings: the
            # report only reads it (copying it was a million dicts on the 100,000-grant bench)
            entries.append(
                {**grant.base_evidence, **item.extra} if item.extra else grant.base_evidence
            )
            labels[grant.statement.label] = None
        else:  # a pass Finding: its evidence dict is dropped with it, so it becomes the entry
            entry = item.evidence  # type: ignore[union-attr]
            entry.pop("attached_to", None)
            entries.append(entry)
            labels[str(entry.get("statement"))] = None
    evidence: dict[str, Any] = {"grants": entries}
    if attached is not None:
        evidence["attached_to"] = attached
    if len(group) > 1:
        return rule.passed(
            resource, _passes_message(rule, resource, len(group), list(labels)), evidence
        )
    return rule.passed(resource, message, evidence)


def _summed_up(rule: _GrantRule, first: _Pass, whole: PolicyGrants) -> Finding:
    """The pass of a policy all of whose grants passed with nothing more to say: one grant's
    own message, or the count and statements of several."""
    grant = first.grant
    evidence = {"grants": whole.entries, "attached_to": list(grant.policy.attached_to)}
    if whole.total == 1:
        return rule.passed(grant.where, first.message, evidence)
    message = _passes_message(rule, grant.where, whole.total, whole.labels)
    return rule.passed(grant.where, message, evidence)


def _passes_message(rule: _GrantRule, resource: Resource, count: int, labels: list[str]) -> str:
    shown = ", ".join(labels[:LABELS_SHOWN])
    if len(labels) > LABELS_SHOWN:
        shown += f" and {len(labels) - LABELS_SHOWN} more"
    word = "statement" if len(labels) == 1 else "statements"
    return f"policy '{resource.id}': {count} connect grants ({word} {shown}) {rule.passes_as}"


class ConnectArnWellFormed(_GrantRule):
    """rds-db:connect resources are well-formed connect ARNs

    ## What it checks
    Every Resource of a statement that can grant `rds-db:connect` is `*` or
    `arn:<partition>:rds-db:<region>:<account>:dbuser:<resource-id>/<db-user>`: the service is
    `rds-db`, the resource type is `dbuser` followed by a colon, the user part is there and no
    segment is empty. An ARN of another service in a statement whose other actions can use it
    (an S3 ARN next to `s3:GetObject`) is not a connect grant and is left alone.

    ## Why it matters
    IAM accepts a malformed ARN without complaint, and the grant then matches nothing: logins
    fail with a PAM or access-denied error that says nothing about the policy. AWS's own CDK
    shipped `arn:aws:rds:...:db:<identifier>` for years (aws-cdk#11851).

    ## Not applicable when
    The Resource belongs to another action of the statement, or the statement grants through
    `NotResource` (RIA308), or (templates and plans) the whole Resource is built at deploy
    time: a template parameter without a default, or a Terraform value known only after apply,
    whose references the message names. An unreadable policy document is an `error`.

    ## Remediation
    Write `arn:aws:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/DB_USER`, with the `DbiResourceId`
    (instance), `DbClusterResourceId` (Aurora) or proxy id (`prx-...`); in CloudFormation
    build it with `!Sub` from `${DB.DbiResourceId}` and the pseudo-parameters.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    - https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsiamauthentication.html
    """

    id = "RIA301"
    passes_as = "are well-formed connect resources"
    name = "connect-arn-well-formed"
    severity = Severity.HIGH
    reads = ("iam",)
    source_url = SAR_DOC

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        index = ctx.grants
        for problem in index.problems:
            yield self.error(
                _problem_resource(problem),
                f"policy '{problem.name}' could not be read: {problem.message}",
                key="document",
            )
        for grant in index.grants:
            where = grant.finding_resource()
            if grant.resource is None:
                yield self.not_applicable(
                    where,
                    "granted through NotResource (see RIA308)",
                    grant.evidence(),
                    key=grant.subject,
                )
            elif grant.resource == "*" or isinstance(grant.parsed, DbUserArn):
                yield self.grant_passed(
                    grant,
                    f"policy '{grant.policy.name}' statement"
                    f" {grant.statement.label}: '{grant.resource}' is a well-formed"
                    " connect resource",
                )
            elif isinstance(grant.parsed, ArnProblem) and grant.parsed.deferred:
                yield _deferred_arn(self, grant)
            elif isinstance(grant.parsed, ArnProblem):
                service = grant.resource.split(":")[2] if grant.resource.count(":") >= 2 else ""
                if service and service != "rds-db" and _other_actions_use(grant, service):
                    yield self.not_applicable(
                        where,
                        f"'{grant.resource}' is for another action of the statement",
                        grant.evidence(),
                        key=grant.subject,
                    )
                else:
                    yield self.failed(
                        where,
                        f"policy '{grant.policy.name}' statement"
                        f" {grant.statement.label}: '{grant.resource}' is not a"
                        f" connect ARN: {grant.parsed.reason}; it grants nothing",
                        grant.evidence(problem=grant.parsed.reason),
                        key=grant.subject,
                    )


def _problem_resource(problem: Any) -> Any:
    from checker.rule import Resource

    return Resource("AWS::IAM::Policy", problem.name, None, problem.account_id, None)


def _other_actions_use(grant: Grant, service: str) -> bool:
    """Some action of the statement, other than connect, belongs to ``service``."""
    if grant.statement.not_actions:  # everything but the listed actions
        return not any(p == "*" or p.lower() == f"{service}:*" for p in grant.statement.not_actions)
    for pattern in grant.statement.actions:
        if pattern.lower() == CONNECT:
            continue
        prefix = pattern.split(":", 1)[0]
        if pattern == "*" or action_matches(prefix, service):
            return True
    return False


class ConnectArnUsesResourceId(_GrantRule):
    """rds-db:connect ARNs name the resource id, not the identifier

    ## What it checks
    The resource-id segment of every connect ARN is a resource id (`db-...` for a DB
    instance's `DbiResourceId`, `cluster-...` for an Aurora `DbClusterResourceId`, `prx-...`
    for a proxy) or a wildcard, not a DB instance or cluster identifier, a proxy name or a
    whole ARN. When the snapshot knows a database by that name, the message gives its
    resource id.

    ## Why it matters
    This is the most common IAM DB auth mistake: the identifier you chose looks right, but IAM
    compares the immutable resource id, so the grant never matches and every login fails.
    Parliament, cfn-lint, Checkov and Cloudsplaining all pass it.

    ## Not applicable when
    The Resource is `*`, not a connect ARN (RIA301) or granted through `NotResource`.

    ## Remediation
    Look the id up (`aws rds describe-db-instances --query
    "DBInstances[*].[DBInstanceIdentifier,DbiResourceId]"`) and use it; in CloudFormation
    `!GetAtt DB.DbiResourceId` or `!GetAtt Cluster.DBClusterResourceId`, in Terraform
    `aws_db_instance.x.resource_id` or `aws_rds_cluster.x.cluster_resource_id`.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    """

    id = "RIA302"
    passes_as = "name their databases by resource id"
    name = "connect-arn-uses-resource-id"
    severity = Severity.HIGH
    reads = IAM_READS
    source_url = POLICY_DOC

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        for grant in ctx.grants.grants:
            if isinstance(grant.parsed, ArnProblem) and grant.parsed.deferred:
                yield _deferred_id(self, grant, ctx.grants)
            elif (skip := _not_arn(self, grant)) is not None:
                yield skip
            else:
                assert isinstance(grant.parsed, DbUserArn)
                yield self._judge(grant, grant.parsed, ctx)

    def _judge(self, grant: Grant, parsed: DbUserArn, ctx: Context) -> Verdict:
        index = ctx.grants
        where = grant.finding_resource()
        rid = parsed.resource_id
        if "${" in rid:
            return _symbolic_id(self, grant, parsed, index)
        if _id_pattern_possible(rid) or parsed.resource_kind is not None:
            return self.grant_passed(
                grant,
                f"policy '{grant.policy.name}' statement"
                f" {grant.statement.label} names resource id '{rid}'",
            )
        hint = ""
        evidence = grant.evidence()
        known = (
            None
            if has_wildcard(parsed.account) or has_wildcard(parsed.region)
            else (index.named(parsed.account, parsed.region, rid))
        )
        what = "a whole ARN" if rid.startswith("arn:") else "an identifier or name"
        if known is not None and getattr(known, "resource_id", None):
            right = grant_connect_arn(
                parsed.partition,
                parsed.region,
                parsed.account,
                str(known.resource_id),
                parsed.db_user,
            )
            hint = f"; {_database_label(known)} has resource id '{known.resource_id}': use {right}"
            evidence["expected_resource_id"] = known.resource_id
        return self.failed(
            where,
            f"policy '{grant.policy.name}' statement"
            f" {grant.statement.label}: '{rid}' is {what}, not a resource id"
            f" (db-..., cluster-..., prx-...), so the grant never matches{hint}",
            evidence,
            key=grant.subject,
        )


# Template references that yield a resource id: CloudFormation GetAtt attributes, Terraform
# attributes (aws_db_instance.id is the DBI resource id since AWS provider v5.0.0,
# hashicorp/terraform-provider-aws#31232; aws_rds_cluster.id stays the cluster identifier).
RESOURCE_ID_ATTRIBUTES = {
    DBInstance: ("DbiResourceId", "resource_id", "dbi_resource_id", "id"),
    DBCluster: ("DBClusterResourceId", "cluster_resource_id"),
}
TF_V5_ID = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/version-5-upgrade"
)


def _symbolic_id(
    rule: ConnectArnUsesResourceId, grant: Grant, parsed: DbUserArn, index: GrantIndex
) -> Finding:
    """RIA302 on a template: what the resource-id part refers to decides."""
    where, rid = grant.finding_resource(), parsed.resource_id
    ref = only_symbol(rid)
    head, _, attribute = (ref or "").rpartition(".")
    target = None
    if ref is not None:
        target = index.named(parsed.account, parsed.region, ref)
        if target is not None:
            head, attribute = ref, ""  # Ref of the resource itself
        else:
            target = index.named(parsed.account, parsed.region, head)
    evidence = grant.evidence(reference=ref or rid)
    label = f"policy '{grant.policy.name}' statement {grant.statement.label}"
    if target is None:
        return rule.not_applicable(
            where,
            f"{label}: the resource id '{rid}' is only known at deploy time",
            evidence,
            key=grant.subject,
        )
    if attribute and _resource_id_attribute(target, head, attribute):
        if attribute == "id":
            evidence["note"] = (
                f"aws_db_instance.id is the DBI resource id since AWS provider v5 ({TF_V5_ID})"
            )
        return rule.passed(
            where, f"{label} names {_database_label(target)} by its resource id ({ref})",
            evidence, key=grant.subject,
        )  # fmt: skip
    fix = _fix_for(target, head)
    what = "Ref (which yields its identifier)" if not attribute else f"attribute {attribute}"
    return rule.failed(
        where,
        f"{label}: the resource-id part is the {what} of {_database_label(target)}, not its"
        f" resource id, so the grant never matches; use {fix}",
        evidence,
        key=grant.subject,
    )


def _deferred_id(rule: ConnectArnUsesResourceId, grant: Grant, index: GrantIndex) -> Finding:
    """RIA302 on a string a plan builds at deploy time: judged by the database attribute it
    refers to (the plan shows the references, not the text)."""
    where, label = (
        grant.finding_resource(),
        (f"policy '{grant.policy.name}' statement {grant.statement.label}"),
    )
    found: list[tuple[Database, str, str]] = []
    for ref in references(grant.resource or ""):
        head, _, attribute = ref.rpartition(".")
        target = index.named_anywhere(grant.account_id, head)
        if target is not None:
            found.append((target, head, attribute))
    evidence = grant.evidence(references=references(grant.resource or ""))
    if any(isinstance(t, DBProxy) and a == "arn" for t, _, a in found):
        return rule.not_applicable(
            where,
            f"{label}: the connect ARN is built from a proxy's ARN (its prx- id is the ARN's last"
            " part); the plan does not show how, so it is judged at deploy time",
            evidence,
            key=grant.subject,
        )
    bad = [f for f in found if not _resource_id_attribute(*f)]
    if bad:
        target, head, attribute = bad[0]
        return rule.failed(
            where,
            f"{label}: the connect ARN is built from the {attribute} of"
            f" {_database_label(target)}, not its resource id, so the grant never matches; use"
            f" {_fix_for(target, head)}",
            evidence,
            key=grant.subject,
        )
    if found:
        target, head, attribute = found[0]
        if attribute == "id":
            evidence["note"] = (
                f"aws_db_instance.id is the DBI resource id since AWS provider v5 ({TF_V5_ID})"
            )
        return rule.passed(
            where,
            f"{label} names {_database_label(target)} by its resource id ({head}.{attribute})",
            evidence,
            key=grant.subject,
        )
    return rule.not_applicable(
        where,
        f"{label}: {_deferred_reason(grant.resource or '')}; none of them is a database of the"
        " plan",
        evidence,
        key=grant.subject,
    )


def _fix_for(target: Database, head: str) -> str:
    """The reference that yields the resource id, in the template's own language (without
    the ``@file`` label a run over several files adds)."""
    head = head.split("@", 1)[0]
    terraform = head.startswith(("aws_", "module.", "data."))
    if isinstance(target, DBInstance):
        return f"{head}.resource_id" if terraform else f"!GetAtt {head}.DbiResourceId"
    if isinstance(target, DBCluster):
        return f"{head}.cluster_resource_id" if terraform else f"!GetAtt {head}.DBClusterResourceId"
    return f"the proxy id (prx-...) from the end of {head}'s ARN"


def _deferred_reason(resource: str) -> str:
    """Why a connect ARN built from references cannot be read before deploy, naming them."""
    refs = references(resource)
    named = ", ".join(refs)
    if _plan_references(refs):
        # Terraform: the plan shows which attributes the string is built from, not its text
        return f"the connect ARN is known only after apply; the plan shows it is built from {named}"
    return f"'{resource}' is built at deploy time; its form is only known then"


def _deferred_arn(rule: Rule, grant: Grant) -> Finding:
    """Not applicable: the grant's whole ARN is built at deploy time (a Terraform ARN known only
    after apply, a template parameter without a default), so no segment of it can be judged."""
    return rule.not_applicable(
        grant.finding_resource(),
        f"policy '{grant.policy.name}' statement {grant.statement.label}:"
        f" {_deferred_reason(grant.resource or '')}",
        grant.evidence(references=references(grant.resource or "")),
        key=grant.subject,
    )


class _Named(NamedTuple):
    """The one database of a plan that a connect ARN known only after apply names, through the
    resource-id attribute ``head.attribute`` (``aws_db_instance.orders.resource_id``)."""

    database: Database
    head: str
    attribute: str

    @property
    def reference(self) -> str:
        return f"{self.head}.{self.attribute}"

    def says(self) -> str:
        """The start of a message: what the ARN names, and through what."""
        return f"the connect ARN, known only after apply, names {self.head} (its {self.attribute})"


NamedJudge = Callable[[Grant, _Named, Context], Verdict]


def _named_database(grant: Grant, index: GrantIndex) -> _Named | str:
    """The database of the plan that a connect ARN built at deploy time names by its resource
    id, when its references name exactly one database and only through a resource-id attribute
    (as RIA302 judges them); else why it names none that can be told before apply."""
    refs = references(grant.resource or "")
    reason = _deferred_reason(grant.resource or "")
    if not _plan_references(refs):
        # a template's Resource that is only symbols (a parameter, a bare !GetAtt) is all its
        # text: not an ARN built around them, so the references say nothing of what it names
        return reason
    found: list[tuple[Database, str, str]] = []
    for ref in refs:
        head, _, attribute = ref.rpartition(".")
        target = index.named_anywhere(grant.account_id, head) if head else None
        if target is not None:
            found.append((target, head, attribute))
    databases = list({id(db): db for db, _, _ in found}.values())
    if not databases:
        return f"{reason}; none of them is a database of the plan"
    if len(databases) > 1:
        named = ", ".join(_database_label(db) for db in databases)
        return f"{reason}; it refers to several databases ({named}), so which one is known then"
    for target, head, attribute in found:
        if not _resource_id_attribute(target, head, attribute):
            why = (
                "its prx- id is the ARN's last part, and the plan does not show how it is cut"
                if isinstance(target, DBProxy) and attribute == "arn"
                else "not its resource id (see RIA302)"
            )
            return f"{reason}; it uses the {attribute} of {_database_label(target)}: {why}"
    return _Named(*found[0])


def _plan_references(refs: list[str]) -> bool:
    """References as a Terraform plan writes an unknown string (``aws_x.y.attr``, ``var.x``,
    ``module.m...``), whose literal text the plan does not show, unlike a CloudFormation
    template's (logical ids have no ``_``)."""
    heads = {ref.split(".", 1)[0] for ref in refs}
    return any("_" in h or h in ("var", "local", "module", "data") for h in heads)


def _resource_id_attribute(target: Database, head: str, attribute: str) -> bool:
    """Whether ``head.attribute`` yields the database's resource id (RESOURCE_ID_ATTRIBUTES),
    except ``aws_rds_cluster_instance.x.id``, which is the instance identifier: only
    ``aws_db_instance.x.id`` became the resource id in AWS provider v5."""
    if attribute == "id" and _terraform_type(head) == "aws_rds_cluster_instance":
        return False
    return attribute in RESOURCE_ID_ATTRIBUTES.get(type(target), ())


_TF_ADDRESS = re.compile(
    r"(?:^|\.)([a-z][a-z0-9_]*)\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?(?:@[A-Za-z0-9_.~-]+)?$"
)


def _terraform_type(address: str) -> str | None:
    """The resource type of a Terraform address (``module.db.aws_x.name[0]@file`` -> aws_x)."""
    found = _TF_ADDRESS.search(address)
    return found.group(1) if found else None


def _deploy_references(text: str) -> list[str]:
    """The deploy-time references in ``text``, without IAM policy variables such as
    ``${aws:username}`` (a template writes them ``${!aws:username}``), which IAM fills in."""
    return [r for r in references(text) if ":" not in r or r.startswith(("Fn::", "AWS::"))]


def _open_reference(text: str, account_id: str, index: GrantIndex) -> bool:
    """``text`` holds a deploy-time reference to something other than a database of the
    template (whose resource id or identifier is one name, never a wildcard)."""
    for ref in _deploy_references(text):
        head = ref.rpartition(".")[0] or ref
        if index.named_anywhere(account_id, ref) is None and (
            index.named_anywhere(account_id, head) is None
        ):
            return True
    return False


def _iam_setting_later(db: Database, index: GrantIndex) -> str | None:
    """Why a template database's IAM setting is only known at deploy time, or None."""
    if isinstance(db, DBProxy):
        found = deploy_time(db, "DefaultAuthScheme", "Auth")
    elif isinstance(db, DBInstance) and db.cluster_id:
        cluster = index.clusters.get((db.scope.account_id, db.scope.region, db.cluster_id))
        if cluster is None:
            return f"its cluster '{db.cluster_id}', which has the setting, is not in the template"
        found = deploy_time(cluster, "IAMDatabaseAuthenticationEnabled")
        if found is not None:
            return f"its cluster '{cluster.id}' has {found}, only known at deploy time"
    else:
        found = deploy_time(db, "IAMDatabaseAuthenticationEnabled")
    return f"{found} is only known at deploy time" if found is not None else None


def _id_pattern_possible(pattern: str) -> bool:
    """A wildcard that can match a resource id (``*``, ``db-*``, ``clu*``), not a name pattern
    such as ``orders-*``, which never matches one."""
    if not has_wildcard(pattern):
        return False
    head = pattern[: min(i for i in (pattern.find("*"), pattern.find("?")) if i >= 0)]
    return any(p.startswith(head) or head.startswith(p) for p in ("db-", "cluster-", "prx-"))


class ConnectArnResourceExists(_GrantRule):
    """rds-db:connect ARNs point at databases that exist

    ## What it checks
    A concrete resource id (no wildcard in partition, Region, account or id) names a DB
    instance, DB cluster or RDS Proxy of that account and Region in the snapshot.

    ## Why it matters
    Resource ids are immutable and never reused: a grant to one that does not exist is stale
    (the database was replaced or deleted) or mistyped, and grants nothing, or would silently
    start granting if the id ever existed again in a copied policy.

    ## Not applicable when
    The ARN has wildcards, is not a connect ARN, or names an account or Region the snapshot
    does not cover; on a template or plan, it names a database that is not in the template,
    or a resource id only known at deploy time that is not a database of the template. A
    plan's ARN known only after apply is judged by what it is built from: it names the
    database when its references name exactly one database of the plan, through its resource
    id (`aws_db_instance.x.resource_id`, `aws_rds_cluster.x.cluster_resource_id`,
    `aws_rds_cluster_instance.x.dbi_resource_id`); otherwise it is not applicable, and the
    message says why (no database, several, or another attribute: see RIA302).

    ## Remediation
    Remove the stale grant, or correct the id to the database's current `DbiResourceId` /
    `DbClusterResourceId` / proxy id.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    """

    id = "RIA303"
    passes_as = "name databases that exist"
    name = "connect-arn-resource-exists"
    severity = Severity.MEDIUM
    reads = IAM_READS
    source_url = POLICY_DOC

    judges_through_references = True

    def _judge_named(self, grant: Grant, named: _Named, ctx: Context) -> Verdict:
        db = named.database
        return self.grant_passed(
            grant,
            f"{named.says()}: {_database_label(db)} of the plan",
            database=db.id,
            reference=named.reference,
        )

    def _judge(self, grant: Grant, parsed: DbUserArn, ctx: Context) -> Verdict:
        index = ctx.grants
        where = grant.finding_resource()
        if parsed.symbolic:
            db = _granted_database(parsed, index)
            if db is not None:
                return self.grant_passed(
                    grant,
                    f"'{parsed.resource_id}' is {_database_label(db)} of the template",
                    database=db.id,
                )
            else:
                return self.not_applicable(
                    where,
                    f"the resource id '{parsed.resource_id}' is only known at deploy time",
                    grant.evidence(),
                    key=grant.subject,
                )
        if not parsed.concrete or parsed.resource_kind is None:
            return self.not_applicable(
                where,
                "the ARN has wildcards or no resource id",
                grant.evidence(),
                key=grant.subject,
            )
        elif not index.covered(parsed.account, parsed.region):
            return self.not_applicable(
                where,
                f"account {parsed.account} / {parsed.region} is not in the snapshot",
                grant.evidence(),
                key=grant.subject,
            )
        elif parsed.resource_kind not in index.collected.get(
            (parsed.account, parsed.region), set()
        ):
            return self.not_applicable(
                where,
                f"the {parsed.resource_kind}s of {parsed.account}/{parsed.region} were not"
                " collected",
                grant.evidence(),
                key=grant.subject,
            )
        elif (db := _granted_database(parsed, index)) is not None:
            return self.grant_passed(
                grant,
                f"'{parsed.resource_id}' is {_database_label(db)}",
                database=db.id,
            )
        elif ctx.is_iac:
            return self.not_applicable(
                where,
                f"'{parsed.resource_id}' is not a database of the template; a template holds"
                " only its own databases, so whether it exists is known only in the account",
                grant.evidence(),
                key=grant.subject,
            )
        else:
            return self.failed(
                where,
                f"policy '{grant.policy.name}' statement"
                f" {grant.statement.label}: no DB instance, cluster or proxy"
                f" has resource id '{parsed.resource_id}' in"
                f" {parsed.account}/{parsed.region} (stale or mistyped)",
                grant.evidence(),
                key=grant.subject,
            )


class ConnectGrantBounded(_GrantRule):
    """rds-db:connect grants name one database and one database user

    ## What it checks
    No grant lets a principal log in to any database or as any database user: `Resource: "*"`,
    or a connect ARN with a wildcard in the resource-id segment (`dbuser:*/app`) or the user
    segment (`dbuser:db-X/*`, `dbuser:*/*`); `Action: "*"` and `rds-db:*` on such resources are
    the same grant. The message says which of any-database / any-user it allows.

    ## Why it matters
    `dbuser:db-X/*` lets the principal log in as every database user that has IAM login,
    including the master user when it holds `rds_iam`; `*/*` does so on every IAM-enabled
    database of the account. AWS's examples show these patterns; least privilege does not.

    ## Not applicable when
    - the Resource is not a connect ARN (RIA301) or granted through `NotResource` (RIA308);
    - on a template or plan, the database-user part, or a resource-id part that is not a
      database of the template, is only known at deploy time (a parameter without a default):
      a wildcard may arrive then. `${Db.DbiResourceId}` with a literal user names one database
      and one user, and passes. An ARN built entirely at deploy time (a plan's, known only
      after apply) is not applicable too.

    ## Remediation
    Grant each principal the databases and database users it needs, one ARN each:
    `arn:aws:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/DB_USER`.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    """

    id = "RIA304"
    passes_as = "are bounded to named databases and users"
    name = "connect-grant-bounded"
    severity = Severity.HIGH
    reads = IAM_READS
    source_url = POLICY_DOC

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        index = ctx.grants
        for grant in index.grants:
            where = grant.finding_resource()
            later: list[str] = []
            if grant.resource == "*":
                any_db, any_user = True, True
            elif isinstance(grant.parsed, DbUserArn):
                any_db = has_wildcard(grant.parsed.resource_id)
                any_user = has_wildcard(grant.parsed.db_user)
                # A part only deploy time knows may be "*" then (a user from a parameter without
                # a default): not a pass. A reference to a template database is one database.
                if ctx.is_iac and _deploy_references(grant.parsed.db_user):
                    later.append(f"database user '{grant.parsed.db_user}'")
                if ctx.is_iac and _open_reference(
                    grant.parsed.resource_id, grant.account_id, index
                ):
                    later.append(f"resource id '{grant.parsed.resource_id}'")
            elif isinstance(grant.parsed, ArnProblem) and grant.parsed.deferred:
                yield _deferred_arn(self, grant)
                continue
            else:
                yield self.not_applicable(
                    where,
                    "not a connect ARN (see RIA301/RIA308)",
                    grant.evidence(),
                    key=grant.subject,
                )
                continue
            reach = [
                w for w, on in (("any database", any_db), ("any database user", any_user)) if on
            ]
            if reach:
                count = (
                    index.count_matching(grant.parsed)
                    if isinstance(grant.parsed, DbUserArn)
                    else None
                )
                evidence = grant.evidence(allows=reach, databases_matched=count)
                yield self.failed(
                    where,
                    f"policy '{grant.policy.name}' statement"
                    f" {grant.statement.label} allows {' and '.join(reach)}"
                    f" ('{grant.resource}')",
                    evidence,
                    key=grant.subject,
                )
            elif later:
                yield self.not_applicable(
                    where,
                    f"policy '{grant.policy.name}' statement {grant.statement.label}: the"
                    f" {' and the '.join(later)} {'is' if len(later) == 1 else 'are'} only known"
                    " at deploy time, and a wildcard may arrive then",
                    grant.evidence(deploy_time=later),
                    key=grant.subject,
                )
            else:
                yield self.grant_passed(
                    grant,
                    f"policy '{grant.policy.name}' statement"
                    f" {grant.statement.label} names one database and one user",
                )


class ConnectTargetIamEnabled(_GrantRule):
    """Databases granted rds-db:connect have IAM authentication enabled

    ## What it checks
    A grant that resolves to a database of the snapshot points at one that accepts IAM logins:
    a DB instance with `IAMDatabaseAuthenticationEnabled` (an Aurora member: its cluster's
    setting), a cluster with it, or a proxy that requires or accepts IAM authentication.

    ## Why it matters
    The grant does nothing while the database has IAM authentication off: either the grant is
    left over, or the database was meant to have it (RIA101 / RIA102).

    ## Not applicable when
    - the ARN has wildcards, is not a connect ARN, or names no database of the snapshot;
    - on a template or plan, the database's IAM setting is only known at deploy time (a
      parameter without a default, an undecidable condition; for an Aurora member, its
      cluster's setting, or a cluster that is not in the template);
    - on a plan, the ARN is known only after apply and its references do not name exactly
      one database of the plan through its resource id (`resource_id`,
      `cluster_resource_id`, `dbi_resource_id`); one that does is judged on that database.

    ## Remediation
    Enable IAM DB auth on the database, or remove the grant.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Enabling.html
    """

    id = "RIA305"
    passes_as = "reach databases with IAM authentication enabled"
    name = "connect-target-iam-enabled"
    severity = Severity.LOW
    reads = IAM_READS
    source_url = POLICY_DOC

    judges_through_references = True

    def _judge(self, grant: Grant, parsed: DbUserArn, ctx: Context) -> Verdict:
        db = _granted_database(parsed, ctx.grants)
        if db is None:
            return self.not_applicable(
                grant.finding_resource(),
                "the grant names no database of the snapshot",
                grant.evidence(),
                key=grant.subject,
            )
        return self._on_database(grant, db, ctx, None)

    def _judge_named(self, grant: Grant, named: _Named, ctx: Context) -> Verdict:
        return self._on_database(grant, named.database, ctx, named)

    def _on_database(
        self, grant: Grant, db: Database, ctx: Context, named: _Named | None
    ) -> Verdict:
        """The verdict on a grant to ``db``: a literal ARN's, or (``named``) one known only
        after apply that names it through a resource-id attribute."""
        index = ctx.grants
        where = grant.finding_resource()
        label = _database_label(db)
        extra = {"reference": named.reference} if named is not None else {}
        if accepts_iam(db, index):
            return self.grant_passed(
                grant,
                f"{named.says()}, which accepts IAM database authentication"
                if named is not None
                else f"{label} accepts IAM database authentication",
                database=db.id,
                **extra,
            )
        if ctx.is_iac and (later := _iam_setting_later(db, index)) is not None:
            # the setting from a parameter without a default: "disabled" would be a guess
            return self.not_applicable(
                where,
                f"{named.says() if named is not None else f'the grant names {label}'}: {later}",
                grant.evidence(database=db.id, **extra),
                key=grant.subject,
            )
        how = f": {named.says()}" if named is not None else f" grants connect to {label}"
        return self.failed(
            where,
            f"policy '{grant.policy.name}' statement {grant.statement.label}{how}, which has"
            " IAM database authentication disabled: the grant does nothing",
            grant.evidence(database=db.id, **extra),
            key=grant.subject,
        )


class ConnectArnScopeConsistent(_GrantRule):
    """rds-db:connect ARNs have a matching partition, a real Region and the policy's account

    ## What it checks
    In every connect ARN without wildcards in those segments: the partition is the Region's
    (`aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, `aws` for the commercial Regions) and
    the policy's account's, the Region exists, and the account is the policy's own account.

    ## Why it matters
    A partition that does not match its Region, or a Region that does not exist, never
    matches anything. An account other than the policy's cannot be used directly: "The user
    must be in the same account as the account for the DB cluster"; cross-account access
    needs a role in the database's account that the other account assumes.

    ## Not applicable when
    - the Resource is `*`, not a connect ARN, or granted through `NotResource`;
    - on a template or plan, a segment is only known at deploy time, or the stack's own
      account or Region (so partition) is, when neither the file nor `--account` / `--region`
      gives it: there is nothing to compare the ARN's with (a segment that is wrong anyway, such
      as a Region that does not exist, still fails).

    ## Remediation
    Fix the segment; for cross-account access, create the role with the connect policy in the
    database's account and let the other account assume it.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    - https://docs.aws.amazon.com/general/latest/gr/rande.html
    """

    id = "RIA306"
    passes_as = "match their partition, Region and account"
    name = "connect-arn-scope-consistent"
    severity = Severity.MEDIUM
    reads = ("iam",)
    source_url = POLICY_DOC

    def _judge(self, grant: Grant, parsed: DbUserArn, ctx: Context) -> Verdict:
        where = grant.finding_resource()
        problems = []
        unknown = [
            name
            for name, value in (("Region", parsed.region), ("account", parsed.account))
            if "${" in value or value in (UNKNOWN_REGION, UNKNOWN_ACCOUNT)
        ]
        if unknown:
            return self.not_applicable(
                where,
                f"policy '{grant.policy.name}' statement {grant.statement.label}: the"
                f" {' and '.join(unknown)} are only known at deploy time (pass --region /"
                " --account)",
                grant.evidence(),
                key=grant.subject,
            )
        if not has_wildcard(parsed.region):
            if parsed.region not in REGIONS:
                problems.append(f"Region '{parsed.region}' does not exist")
            elif not has_wildcard(parsed.partition) and (
                partition_of(parsed.region) != parsed.partition
            ):
                problems.append(
                    f"partition '{parsed.partition}' does not match"
                    f" {parsed.region} ({partition_of(parsed.region)})"
                )
        partition_named = any(p.startswith("partition") for p in problems)
        # A template whose account (or Region, so partition) neither it nor the command line
        # gives has placeholders there: comparing a literal ARN with them is no verdict.
        stack_unknown = [
            name
            for name, on in (
                (
                    "account",
                    grant.account_id == UNKNOWN_ACCOUNT and not has_wildcard(parsed.account),
                ),
                (
                    "partition",
                    ctx.is_iac
                    and (grant.account_id, UNKNOWN_REGION) in ctx.grants.regions
                    and not partition_named
                    and not has_wildcard(parsed.partition),
                ),
            )
            if on
        ]
        if (
            not partition_named
            and "partition" not in stack_unknown
            and not has_wildcard(parsed.partition)
            and parsed.partition != grant.partition
        ):
            problems.append(
                f"partition '{parsed.partition}' is not the account's ({grant.partition}),"
                " so it matches nothing"
            )
        if (
            "account" not in stack_unknown
            and not has_wildcard(parsed.account)
            and parsed.account != grant.account_id
        ):
            problems.append(
                f"account {parsed.account} is not the policy's account"
                f" {grant.account_id} (cross-account needs a role in the"
                " database's account)"
            )
        if problems:
            return self.failed(
                where,
                f"policy '{grant.policy.name}' statement"
                f" {grant.statement.label}: {'; '.join(problems)}",
                grant.evidence(problems=problems),
                key=grant.subject,
            )
        elif stack_unknown:
            return self.not_applicable(
                where,
                f"policy '{grant.policy.name}' statement {grant.statement.label}: the stack's"
                f" {' and '.join(stack_unknown)}, to compare the ARN's with,"
                f" {'is' if len(stack_unknown) == 1 else 'are'} only known at deploy time"
                " (pass --account / --region)",
                grant.evidence(),
                key=grant.subject,
            )
        else:
            return self.grant_passed(
                grant,
                f"policy '{grant.policy.name}' statement"
                f" {grant.statement.label}: partition, Region and account"
                " agree",
            )


class ConnectConditionsSupported(_GrantRule):
    """rds-db:connect grants do not rely on condition keys IAM DB auth ignores

    ## What it checks
    No statement that can grant `rds-db:connect` has a `Condition` on `aws:SourceIp`,
    `aws:SourceVpc`, `aws:SourceVpce`, `aws:VpcSourceIp`, `aws:UserAgent` or `aws:Referer`.

    ## Why it matters
    AWS documents that IAM database authentication does not support these global condition
    keys: a grant meant to be limited to an office network or a VPC does not work as
    intended.

    ## Not applicable when
    Never: every grant is judged.

    ## Remediation
    Restrict where connections come from with security groups and network ACLs (or RDS Proxy
    endpoints), not with these condition keys.

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html
    """

    id = "RIA307"
    passes_as = "use no condition key that IAM database authentication ignores"
    name = "connect-conditions-supported"
    severity = Severity.MEDIUM
    reads = ("iam",)
    source_url = (
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html"
    )

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        for grant in ctx.grants.grants:
            where = grant.finding_resource()
            keys = sorted(
                {
                    key
                    for block in grant.statement.condition.values()
                    if isinstance(block, dict)
                    for key in block
                    if key.lower() in UNSUPPORTED_KEYS
                }
            )
            if keys:
                yield self.failed(
                    where,
                    f"policy '{grant.policy.name}' statement"
                    f" {grant.statement.label} restricts connect with"
                    f" {', '.join(keys)}, which IAM database authentication"
                    " ignores",
                    grant.evidence(unsupported_keys=keys),
                    key=grant.subject,
                )
            else:
                yield self.grant_passed(
                    grant,
                    f"policy '{grant.policy.name}' statement"
                    f" {grant.statement.label} uses no ignored condition key",
                )


class ConnectNotThroughNegation(_GrantRule):
    """rds-db:connect is not granted through NotAction or NotResource

    ## What it checks
    No statement grants `rds-db:connect` by `NotAction` (an Allow of everything except some
    actions) or by `NotResource` / a missing Resource.

    ## Why it matters
    Negated statements grant whatever they do not name, now and in future: a `NotAction:
    s3:*` on `*` quietly lets the principal log in to every IAM-enabled database as any user.

    ## Not applicable when
    Never: every grant is judged.

    ## Remediation
    Grant `rds-db:connect` explicitly with `Action` and `Resource`, and keep `NotAction` /
    `NotResource` for Deny statements.

    ## References
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
    """

    id = "RIA308"
    passes_as = "name their action and resource"
    name = "connect-not-through-negation"
    severity = Severity.HIGH
    reads = ("iam",)
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html"

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        for grant in ctx.grants.grants:
            where = grant.finding_resource()
            how = [
                w
                for w, on in (
                    ("NotAction", bool(grant.statement.not_actions)),
                    ("NotResource", bool(grant.statement.not_resources)),
                    (
                        "no Resource",
                        not grant.statement.resources and not grant.statement.not_resources,
                    ),
                )
                if on
            ]
            if how:
                yield self.failed(
                    where,
                    f"policy '{grant.policy.name}' statement"
                    f" {grant.statement.label} grants rds-db:connect through"
                    f" {' and '.join(how)}",
                    grant.evidence(through=how),
                    key=grant.subject,
                )
            else:
                yield self.grant_passed(
                    grant,
                    f"policy '{grant.policy.name}' statement"
                    f" {grant.statement.label} names its action and resource",
                )


class ConnectGrantedToRoles(_GrantRule):
    """rds-db:connect is granted to roles, not to IAM users

    ## What it checks
    A policy that can grant `rds-db:connect` is attached only to IAM roles, not to IAM users
    directly or through groups.

    ## Why it matters
    IAM users sign tokens with long-lived access keys; a leaked key is a database login until
    someone notices. Roles give temporary credentials, the point of token logins.

    ## Not applicable when
    The policy is attached to no principal; or (templates and plans) it is attached to roles
    only and to a list of users or groups that is known only at deploy time (a Terraform set
    from a variable, say), which may turn out empty.

    ## Remediation
    Move the grant to a role that the workload (or the person, through SSO) assumes.

    ## References
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html
    """

    id = "RIA309"
    passes_as = "are granted to roles only"
    name = "connect-granted-to-roles"
    severity = Severity.LOW
    reads = ("iam",)
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        for grant in ctx.grants.grants:
            where = grant.finding_resource()
            attached = grant.policy.attached_to
            humans = [a for a in attached if ":user/" in a or ":group/" in a]
            # IaC: a user or group list known only after apply stands in as one principal named
            # by its reference; it may be empty then, or name anyone
            later = [a for a in humans if "${" in a]
            humans = [a for a in humans if "${" not in a]
            if not attached:
                yield self.not_applicable(
                    where,
                    f"policy '{grant.policy.name}' is attached to no principal",
                    grant.evidence(),
                    key=grant.subject,
                )
            elif humans:
                yield self.failed(
                    where,
                    f"policy '{grant.policy.name}' grants rds-db:connect to"
                    f" IAM users or groups: {', '.join(humans)}",
                    grant.evidence(users_or_groups=humans),
                    key=grant.subject,
                )
            elif later:
                yield self.not_applicable(
                    where,
                    f"policy '{grant.policy.name}' is attached to users or groups known only at"
                    f" deploy time: {', '.join(later)}",
                    grant.evidence(deploy_time=later),
                    key=grant.subject,
                )
            else:
                yield self.grant_passed(
                    grant,
                    f"policy '{grant.policy.name}' grants rds-db:connect to roles only",
                )


class ConnectRoleTrustRestricted(_GrantRule):
    """Roles that can connect cannot be assumed by anyone or by other accounts unrestricted

    ## What it checks
    For every role a connect grant is attached to, no trust-policy statement allows
    `sts:AssumeRole` to any principal (`"*"`), or to a principal of another account, without
    a condition that restricts who (`sts:ExternalId`, `aws:PrincipalOrgID`,
    `aws:PrincipalOrgPaths`, `aws:PrincipalArn`, `aws:MultiFactorAuthPresent`,
    `aws:SourceAccount`, `aws:SourceArn`).

    ## Why it matters
    Whoever can assume the role can log in to the database: a `"*"` principal makes the
    database reachable from any AWS account; another account's root principal delegates the
    decision to every administrator there.

    ## Not applicable when
    - the grant is attached to no role;
    - on a template or plan, a principal the trust policy names is only known at deploy time
      (a parameter without a default, a reference to something the template does not define,
      or any account while the stack's own account is unknown: give `--account`), unless a
      restricting condition makes the statement safe whoever it is;
    - on a template or plan, the policy is put on a role the template does not define (an
      existing role): its trust policy is not in the template.

    ## Remediation
    Name the exact principals (role ARNs) that may assume the role, and add `sts:ExternalId`
    or `aws:PrincipalOrgID` for third parties and other accounts.

    ## References
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    """

    id = "RIA310"
    passes_as = "belong to roles that trust named principals only"
    name = "connect-role-trust-restricted"
    severity = Severity.HIGH
    reads = ("iam",)
    source_url = (
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html"
    )

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        trusts = _trust_policies(snap)
        opened: dict[tuple[str, str], list[str]] = {}  # a role's trust is read once
        # IaC: roles that a template's policy is put on but no template defines stand in without
        # their trust policy (judging one would judge an invented policy); and the principals a
        # template defines, which a deploy-time principal may refer to (same account).
        outside: set[str] = set()
        local: set[str] = set()
        for account in snap.accounts:
            for key, name in (("RoleDetailList", "RoleName"), ("UserDetailList", "UserName")):
                for principal in (account.iam or {}).get(key, []):
                    if principal.get(EXTERNAL):
                        outside.add(str(principal.get("Arn")))
                    else:
                        local.add(str(principal.get(name)))

        def _open(role: str, account_id: str) -> list[str]:
            key = (role, account_id)
            if key not in opened:
                opened[key] = _unrestricted_principals(trusts.get(role), account_id, local)
            return opened[key]

        # the answer depends on the policy's roles, not on the grant: worked out once a policy
        trusted: dict[tuple[int, str], _Trusted] = {}
        for grant in ctx.grants.grants:
            where = grant.finding_resource()
            policy_key = (id(grant.policy), grant.account_id)
            if policy_key not in trusted:
                trusted[policy_key] = _trusted(
                    grant.policy.attached_to, grant.account_id, outside, trusts, _open
                )
            roles, elsewhere, unknown, later, open_to = trusted[policy_key]
            no_account = grant.account_id == UNKNOWN_ACCOUNT
            if not roles:
                yield self.not_applicable(
                    where,
                    f"policy '{grant.policy.name}' is attached to no role",
                    grant.evidence(),
                    key=grant.subject,
                )
                continue
            if unknown and not open_to:
                yield self.error(
                    where,
                    f"the trust policy of {', '.join(unknown)} is missing or cannot be read",
                    grant.evidence(roles=roles),
                    key=grant.subject,
                )
            elif open_to:
                yield self.failed(
                    where,
                    f"roles with policy '{grant.policy.name}' can be"
                    f" assumed without restriction: {'; '.join(open_to)}",
                    grant.evidence(assumable_by=open_to),
                    key=grant.subject,
                )
            elif later or elsewhere:
                why = []
                if later:
                    why.append(
                        "who may assume them is only known at deploy time"
                        + (
                            " (the stack's account is unknown: give --account)"
                            if no_account
                            else ""
                        )
                        + f": {'; '.join(later)}"
                    )
                if elsewhere:
                    why.append(
                        f"{', '.join(elsewhere)}: principal not defined in the template, whose"
                        " trust policy is not known here"
                    )
                yield self.not_applicable(
                    where,
                    f"roles with policy '{grant.policy.name}': {'; and '.join(why)}",
                    grant.evidence(roles=roles, deploy_time=later, not_in_template=elsewhere),
                    key=grant.subject,
                )
            else:
                yield self.grant_passed(
                    grant,
                    f"roles with policy '{grant.policy.name}' trust named principals only",
                    roles=roles,
                )


class _Trusted(NamedTuple):
    """Who can assume the roles a policy is attached to (RIA310)."""

    roles: list[str]
    elsewhere: list[str]  # IaC: roles no template defines
    unknown: list[str]  # roles whose trust policy is missing or unreadable
    later: list[str]  # "role <- principal" known only at deploy time
    open_to: list[str]  # "role <- principal" that may assume it unrestricted


def _trusted(
    attached_to: Iterable[str],
    account_id: str,
    outside: set[str],
    trusts: dict[str, dict[str, Any] | None],
    open_: Callable[[str, str], list[str]],
) -> _Trusted:
    roles = [a for a in attached_to if ":role/" in a]
    elsewhere = [r for r in roles if r in outside]
    inside = [r for r in roles if r not in outside]
    unknown = [r for r in inside if trusts.get(r) is None]
    pairs = [(role, who) for role in inside for who in open_(role, account_id)]
    # A principal built at deploy time (a parameter without a default) may be "*" or another
    # account, and so may any account while the stack's own is unknown.
    no_account = account_id == UNKNOWN_ACCOUNT
    deferred = {(r, w) for r, w in pairs if "${" in w or (no_account and w != "*")}
    later = [f"{r} <- {w}" for r, w in pairs if (r, w) in deferred]
    open_to = [f"{r} <- {w}" for r, w in pairs if (r, w) not in deferred]
    return _Trusted(roles, elsewhere, unknown, later, open_to)


def _trust_policies(snap: Snapshot) -> dict[str, dict[str, Any] | None]:
    """Role ARN -> trust policy, or None when the role has none or it cannot be read."""
    out: dict[str, dict[str, Any] | None] = {}
    for account in snap.accounts:
        for role in (account.iam or {}).get("RoleDetailList", []):
            if not role.get("Arn"):
                continue
            try:
                out[role["Arn"]] = load_document(role.get("AssumeRolePolicyDocument"))
            except ValueError:
                out[role["Arn"]] = None
    return out


def _unrestricted_principals(
    trust: dict[str, Any] | None, account_id: str, local: set[str] | None = None
) -> list[str]:
    """AWS principals a trust policy lets assume the role with no restricting condition; on
    IaC input also those built at deploy time from anything but a principal of the template
    (``local``: their addresses)."""
    if trust is None:
        return []
    found: list[str] = []
    for statement in statements(trust):
        if statement.effect != "Allow" or not any(
            action_matches(a, "sts:AssumeRole") for a in statement.actions
        ):
            continue
        keys = {
            k.lower()
            for block in statement.condition.values()
            if isinstance(block, dict)
            for k in block
        }
        if keys & set(RESTRICTING_KEYS):
            continue
        for principal in _aws_principals(trust, statement.index):
            if principal == "*":
                found.append("*")
                continue
            if "${" in principal:
                refs = references(principal)
                if not all((r.rpartition(".")[0] or r) in (local or ()) for r in refs):
                    found.append(principal)
                continue
            # An ARN or a 12-digit id names an account; anything else is the unique id IAM
            # shows for a deleted principal, which no one can use.
            owner = principal.split(":")[4] if principal.startswith("arn:") else principal
            if owner.isdigit() and len(owner) == 12 and owner != account_id:
                found.append(principal)
    return found


def _aws_principals(trust: dict[str, Any], index: int) -> list[str]:
    raw = trust.get("Statement", [])
    items = [raw] if isinstance(raw, dict) else list(raw)
    principal = items[index].get("Principal")
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    value = principal.get("AWS", [])
    return [value] if isinstance(value, str) else [str(v) for v in value]


class ConnectActionValid(_GrantRule):
    """Actions meant as rds-db:connect are the real action

    ## What it checks
    No Allow statement names an action that looks like `rds-db:connect` but is not one:
    `rds:connect`, `rds:db-connect`, `rds-db:connnect`, `rdsdb:connect` and similar grant
    nothing. Statements with a real connect action pass.

    ## Why it matters
    IAM accepts unknown actions silently; the intended grant never happens and logins fail.
    AWS's own documentation once misspelled the action (`rds:db-connect`).

    ## Not applicable when
    Never: every statement that names a connect-like action is judged.

    ## Remediation
    Write `rds-db:connect` (the service prefix is `rds-db`, not `rds`).

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    """

    id = "RIA311"
    passes_as = "name a valid connect action"
    name = "connect-action-valid"
    severity = Severity.HIGH
    reads = ("iam",)
    source_url = POLICY_DOC

    def judge(self, snap: Snapshot, ctx: Context) -> Iterator[Verdict]:
        index = ctx.grants
        seen: set[tuple[str, ...]] = set()
        for grant in index.grants:
            key = (
                grant.account_id,
                grant.policy.kind,
                grant.policy.arn or "",
                grant.policy.name,
                grant.statement.label,
            )
            if key in seen:
                continue
            seen.add(key)
            yield self.passed(
                grant.finding_resource(),
                f"policy '{grant.policy.name}' statement"
                f" {grant.statement.label} names a valid connect action",
                {"statement": grant.statement.label, "attached_to": list(grant.policy.attached_to)},
                key=grant.statement.label,
            )
        for suspect in index.suspects:
            yield self.failed(
                suspect.finding_resource(),
                f"policy '{suspect.policy.name}'"
                f" statement {suspect.statement.label}: '{suspect.action}' is"
                " not an IAM action and grants nothing; write rds-db:connect",
                suspect.evidence(),
                key=f"{suspect.statement.label} {suspect.action}",
            )


class ConnectUsesClusterResourceId(_GrantRule):
    """Grants to Aurora use the cluster's resource id, not a member's

    ## What it checks
    A connect ARN whose resource id is the `DbiResourceId` of an Aurora cluster member uses the
    cluster's `DbClusterResourceId` instead.

    ## Why it matters
    For Aurora, AWS documents the cluster resource id (`cluster-...`) in the connect ARN. A
    member's id ties the grant to one instance of the cluster, which fails over, is replaced
    and scales out; logins break when the writer moves.

    ## Not applicable when
    The ARN has wildcards, is not a connect ARN, or names no database of the snapshot; on a
    plan, the ARN is known only after apply and its references do not name exactly one
    database of the plan through its resource id (`resource_id`, `cluster_resource_id`,
    `dbi_resource_id`); one that does is judged on that database (a member's
    `dbi_resource_id` fails).

    ## Remediation
    Use `arn:aws:rds-db:REGION:ACCOUNT:dbuser:cluster-.../DB_USER` (the message gives it).

    ## References
    - https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
    """

    id = "RIA312"
    passes_as = "use the cluster's resource id for Aurora"
    name = "connect-uses-cluster-resource-id"
    severity = Severity.MEDIUM
    reads = IAM_READS
    source_url = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html"

    judges_through_references = True

    def _judge_named(self, grant: Grant, named: _Named, ctx: Context) -> Verdict:
        db = named.database
        if not _aurora_member(db):
            return self.grant_passed(
                grant,
                f"{named.says()}, not an Aurora member",
                database=db.id,
                reference=named.reference,
            )
        assert isinstance(db, DBInstance) and db.cluster_id
        cluster = ctx.cluster(db.scope, db.cluster_id)
        right = cluster.resource_id if cluster and cluster.resource_id else None
        fix = (
            f": use {_fix_for(cluster, cluster.id)}"
            if cluster is not None
            else f": use the DbClusterResourceId of cluster '{db.cluster_id}'"
        )
        return self.failed(
            grant.finding_resource(),
            f"policy '{grant.policy.name}' statement {grant.statement.label}: {named.says()},"
            f" a member of Aurora cluster '{db.cluster_id}', instead of the cluster{fix}",
            grant.evidence(database=db.id, reference=named.reference, cluster_resource_id=right),
            key=grant.subject,
        )

    def _judge(self, grant: Grant, parsed: DbUserArn, ctx: Context) -> Verdict:
        index = ctx.grants
        where = grant.finding_resource()
        db = _granted_database(parsed, index)
        if db is None:
            return self.not_applicable(
                where,
                "the grant names no database of the snapshot",
                grant.evidence(),
                key=grant.subject,
            )
        if not _aurora_member(db):
            return self.grant_passed(
                grant,
                f"the grant names {_database_label(db)}, not an Aurora member",
                database=db.id,
            )
        assert isinstance(db, DBInstance) and db.cluster_id
        cluster = ctx.cluster(db.scope, db.cluster_id)
        right = cluster.resource_id if cluster and cluster.resource_id else None
        hint = ""
        if right:
            arn = grant_connect_arn(
                parsed.partition, parsed.region, parsed.account, right, parsed.db_user
            )
            hint = f": use {arn}"
        return self.failed(
            where,
            f"policy '{grant.policy.name}' statement"
            f" {grant.statement.label} names Aurora member '{db.id}'"
            f" ({parsed.resource_id}) instead of cluster '{db.cluster_id}'"
            f"{hint}",
            grant.evidence(cluster_resource_id=right),
            key=grant.subject,
        )


def _aurora_member(db: Database) -> bool:
    """An instance of an Aurora cluster (grants to it should name the cluster)."""
    return isinstance(db, DBInstance) and bool(db.cluster_id) and is_aurora(db.engine)
