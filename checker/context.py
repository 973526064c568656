"""What a rule may ask besides the snapshot: lookups, support, effective parameters, CAs.

Built once per run from the snapshot; every answer prefers live data in the snapshot
(OrderableDBInstanceOptions, engine-default parameters, Certificates) over the knowledge tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from checker.knowledge import certificates, parameters, support
from checker.knowledge.engines import is_aurora, parameter_group_family
from checker.model.snapshot import (
    CollectionError,
    DBCluster,
    DBInstance,
    Parameter,
    Region,
    Scope,
    Snapshot,
)

if TYPE_CHECKING:
    from checker.db.users import UsersOf
    from checker.iam.grants import GrantIndex

IAC_SOURCES = frozenset({"cloudformation", "terraform-plan", "merged-iac"})

# Which API operations fill which snapshot section (for attributing collection errors).
SECTION_OPERATIONS: dict[str, frozenset[str]] = {
    "DBInstances": frozenset({"DescribeDBInstances"}),
    "DBClusters": frozenset({"DescribeDBClusters"}),
    "DBProxies": frozenset({"DescribeDBProxies"}),
    "DBProxyTargets": frozenset({"DescribeDBProxyTargets", "DescribeDBProxyTargetGroups"}),
    "DBParameterGroups": frozenset({"DescribeDBParameters", "DescribeDBParameterGroups"}),
    "DBClusterParameterGroups": frozenset(
        {"DescribeDBClusterParameters", "DescribeDBClusterParameterGroups"}
    ),
    "EngineDefaultParameters": frozenset({"DescribeEngineDefaultParameters"}),
    "EngineDefaultClusterParameters": frozenset({"DescribeEngineDefaultClusterParameters"}),
    "Certificates": frozenset({"DescribeCertificates"}),
    "OrderableDBInstanceOptions": frozenset({"DescribeOrderableDBInstanceOptions"}),
    "iam": frozenset({"GetAccountAuthorizationDetails"}),
    # not an AWS API: rdsiam's own catalog queries inside a database (collect --db-user)
    "databases": frozenset({"DatabaseUsers"}),
}


# Failures that leave a whole account uncollected (no session for it).
ACCOUNT_WIDE_OPERATIONS = frozenset({"AssumeRole"})


@dataclass(frozen=True, slots=True)
class Settings:
    """User-tunable evaluation settings."""

    cert_warning_days: int = 30


@dataclass(frozen=True, slots=True)
class Effective:
    """The value of a DB parameter that is in force, and how it was found."""

    parameter: str
    value: str | None
    origin: str
    group: str | None
    explicit: bool = False
    pending_reboot: bool = False
    error: str | None = None
    source_url: str | None = None
    group_missing: bool = False

    @property
    def known(self) -> bool:
        return self.error is None and self.value is not None

    def evidence(self) -> dict[str, Any]:
        """What an auditor needs to see about this value."""
        out: dict[str, Any] = {
            "parameter": self.parameter,
            "value": self.value,
            "origin": self.origin,
            "parameter_group": self.group,
        }
        if self.pending_reboot:
            out["apply_status"] = "pending-reboot"
        if self.source_url:
            out["source"] = self.source_url
        return out


@dataclass
class Context:
    """Per-run answers shared by all rules."""

    snapshot: Snapshot
    now: datetime
    settings: Settings = field(default_factory=Settings)
    _param_index: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)

    # -- lookups -----------------------------------------------------------------------------

    @cached_property
    def _regions(self) -> dict[tuple[str, str], Region]:
        return {(a.account_id, r.region): r for a, r in self.snapshot.regions()}

    @cached_property
    def _instances(self) -> dict[tuple[str, str, str], DBInstance]:
        return {(d.scope.account_id, d.scope.region, d.id): d for d in self.snapshot.db_instances()}

    @cached_property
    def _clusters(self) -> dict[tuple[str, str, str], DBCluster]:
        return {(c.scope.account_id, c.scope.region, c.id): c for c in self.snapshot.db_clusters()}

    @cached_property
    def database_users(self) -> list[UsersOf]:
        """Every ``databases`` section, tied to its database (read once for the 5xx rules)."""
        from checker.db.users import database_users

        return list(database_users(self.snapshot))

    @cached_property
    def grants(self) -> GrantIndex:
        """Every rds-db:connect grant of the snapshot, and the databases indexed for them."""
        from checker.iam.grants import GrantIndex

        return GrantIndex(self.snapshot)

    @property
    def is_iac(self) -> bool:
        """True when the snapshot comes from a template or plan, where live data cannot exist."""
        source = self.snapshot.source
        return source is not None and source.kind in IAC_SOURCES

    def region(self, scope: Scope) -> Region | None:
        return self._regions.get((scope.account_id, scope.region))

    def instance(self, scope: Scope, identifier: str) -> DBInstance | None:
        return self._instances.get((scope.account_id, scope.region, identifier))

    def cluster(self, scope: Scope, identifier: str) -> DBCluster | None:
        return self._clusters.get((scope.account_id, scope.region, identifier))

    def errors_for(
        self, account_id: str | None, region: str | None, section: str, resource: str | None = None
    ) -> list[CollectionError]:
        """Collection errors that concern ``section`` in this account and Region.

        An error without an operation concerns every section; one without a Region concerns
        every Region of its account; one naming a resource concerns only that resource.
        """
        operations = SECTION_OPERATIONS.get(section, frozenset())
        out = []
        for err in self.snapshot.errors:
            if err.operation in ACCOUNT_WIDE_OPERATIONS:
                if account_id is None or err.account_id in (None, account_id):
                    out.append(err)
                continue
            if (
                err.account_id is not None
                and account_id is not None
                and err.account_id != account_id
            ):
                continue
            if err.region is not None and region is not None and err.region != region:
                continue
            if err.operation is not None and err.operation not in operations:
                continue
            if err.resource is not None and resource is not None and err.resource != resource:
                continue
            if err.resource is not None and resource is None:
                continue
            out.append(err)
        return out

    # -- support -----------------------------------------------------------------------------

    def engine_support(self, db: DBInstance | DBCluster) -> support.Support:
        """Can this engine / deployment have IAM DB auth at all?"""
        mode = db.engine_mode if isinstance(db, DBCluster) else None
        outposts = isinstance(db, DBInstance) and on_outposts(db)
        return support.engine_support(db.engine, engine_mode=mode, outposts=outposts)

    def iam_support(
        self, db: DBInstance | DBCluster, *, with_class: bool = True
    ) -> support.Support:
        """Support for IAM DB auth of this engine, version, Region (and instance class).

        A live ``OrderableDBInstanceOptions`` answer for the same engine, version (and class)
        wins over the documented tables.
        """
        base = self.engine_support(db)
        if base.verdict is not support.Verdict.SUPPORTED:
            return base
        instance_class = db.instance_class if with_class else None
        live = self.orderable_answer(db, instance_class)
        if live is not None:
            return live
        return support.version_support(
            db.engine, db.engine_version, db.scope.region, instance_class
        )

    def orderable_answer(
        self, db: DBInstance | DBCluster, instance_class: str | None
    ) -> support.Support | None:
        region = self.region(db.scope)
        if region is None or not region.orderable_options or not db.engine_version:
            return None
        answers = [
            o.supports_iam
            for o in region.orderable_options
            if o.engine == db.engine
            and o.engine_version == db.engine_version
            and (instance_class is None or o.instance_class == instance_class)
            and o.supports_iam is not None
        ]
        if not answers:
            return None
        what = f"{db.engine} {db.engine_version}" + (
            f" on {instance_class}" if instance_class else ""
        )
        if any(answers):
            return support.Support(
                support.Verdict.SUPPORTED,
                f"{what} supports IAM database authentication in {db.scope.region}",
                support.LIVE_SOURCE,
            )
        return support.Support(
            support.Verdict.UNSUPPORTED,
            f"{what} has no IAM database authentication in {db.scope.region}"
            " (SupportsIAMDatabaseAuthentication is false)",
            support.LIVE_SOURCE,
            fix="choose an engine version or instance class whose orderable options support it",
        )

    # -- parameters --------------------------------------------------------------------------

    def effective_parameter(self, db: DBInstance | DBCluster, name: str) -> Effective:
        """The value of ``name`` in force on ``db``: group value, else engine default.

        Instances read their DB parameter group; clusters their DB cluster parameter group.
        A ``pending-reboot`` apply status means the group's value is not yet in force. A
        custom group missing from the snapshot is an error; a ``default.*`` group missing from
        it falls back to the engine defaults.
        """
        cluster_level = isinstance(db, DBCluster)
        region = self.region(db.scope)
        if cluster_level:
            assert isinstance(db, DBCluster)
            group = db.parameter_group
            pending = any(m.parameter_group_status == "pending-reboot" for m in db.members)
            groups = region.db_cluster_parameter_groups if region else None
            section = "DBClusterParameterGroups"
        else:
            assert isinstance(db, DBInstance)
            group = db.parameter_groups[0].name if db.parameter_groups else None
            pending = bool(db.parameter_groups) and (
                db.parameter_groups[0].apply_status == "pending-reboot"
            )
            groups = region.db_parameter_groups if region else None
            section = "DBParameterGroups"
        kind = "DB cluster parameter group" if cluster_level else "DB parameter group"
        if group is None:
            return Effective(
                name,
                None,
                f"the resource names no {kind}",
                None,
                error=f"the {kind} of '{db.id}' is not in the snapshot",
                group_missing=True,
            )
        items = groups.get(group) if groups is not None else None
        if items is not None:
            param = self._find(items, name)
            if param is not None and param.value is not None:
                return Effective(
                    name,
                    param.value,
                    f"{kind} '{group}' (Source={param.source or 'unknown'})",
                    group,
                    explicit=param.source != "engine-default",
                    pending_reboot=pending,
                )
            return self._default(db, name, group, cluster_level, f"not set in {kind} '{group}'")
        if group.startswith("default."):
            return self._default(
                db, name, group, cluster_level, f"default {kind} '{group}' not in the snapshot"
            )
        errors = self.errors_for(db.scope.account_id, db.scope.region, section, group)
        why = f"; collection failed: {errors[0].code}" if errors else ""
        return Effective(
            name,
            None,
            f"{kind} '{group}' not in the snapshot",
            group,
            error=f"{kind} '{group}' is not in the snapshot{why}",
            group_missing=True,
        )

    def _default(
        self, db: DBInstance | DBCluster, name: str, group: str, cluster_level: bool, why: str
    ) -> Effective:
        region = self.region(db.scope)
        family = group[len("default.") :] if group.startswith("default.") else None
        family = family or parameter_group_family(db.engine, db.engine_version)
        defaults = None
        if region is not None:
            defaults = (
                region.engine_default_cluster_parameters
                if cluster_level
                else region.engine_default_parameters
            )
        if defaults is not None and family in defaults:
            param = self._find(defaults[family], name)
            if param is not None and param.value is not None:
                return Effective(
                    name, param.value, f"{why}; engine default of {family} from the snapshot", group
                )
        section = "EngineDefaultClusterParameters" if cluster_level else "EngineDefaultParameters"
        failed = self.errors_for(db.scope.account_id, db.scope.region, section)
        if failed:
            why = f"{why}; engine defaults could not be collected ({failed[0].code})"
        documented = parameters.documented_default(db.engine, db.engine_version, name)
        if documented.known:
            return Effective(
                name,
                documented.value,
                f"{why}; {documented.note}",
                group,
                source_url=documented.source,
            )
        return Effective(
            name,
            None,
            f"{why}; {documented.note}",
            group,
            error=f"{name} is {why} and {documented.note}; collect the engine defaults"
            f" (DescribeEngineDefault{'Cluster' if cluster_level else ''}Parameters) or set it"
            " explicitly",
        )

    def _find(self, items: list[dict[str, Any]], name: str) -> Parameter | None:
        """Look a parameter up by name, as a model; groups hold hundreds of raw items, so each
        group is indexed once per run.

        Keyed by identity: the snapshot, and so every list in it, lives as long as the context.
        """
        index = self._param_index.get(id(items))
        if index is None:
            index = self._param_index[id(items)] = {str(p.get("ParameterName")): p for p in items}
        raw = index.get(name)
        return None if raw is None else Parameter.model_validate(raw)

    # -- certificates ------------------------------------------------------------------------

    def ca_valid_till(self, scope: Scope, ca_id: str) -> tuple[datetime | None, str]:
        """When the CA ``ca_id`` expires, and where that comes from."""
        region = self.region(scope)
        for cert in region.certificates if region and region.certificates else ():
            if cert.id.lower() == ca_id.lower() and cert.valid_till is not None:
                return cert.valid_till, "DescribeCertificates"
        known = certificates.CERTIFICATE_AUTHORITIES.get(ca_id.lower())
        if known is not None:
            return known.valid_till, certificates.SOURCE_URL
        return None, ""


def on_outposts(db: DBInstance) -> bool:
    """True when the instance's subnets are on AWS Outposts."""
    subnets = (db.subnet_group or {}).get("Subnets") or ()
    return any(((s or {}).get("SubnetOutpost") or {}).get("Arn") for s in subnets)


def is_multi_az_cluster(cluster: DBCluster) -> bool:
    """A Multi-AZ DB cluster (not Aurora): RDS for MySQL or PostgreSQL with a cluster class."""
    return not is_aurora(cluster.engine)
