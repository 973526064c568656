"""Pydantic models of the snapshot contract (CONTRACTS section 2, schemas/snapshot.schema.json).

Attributes are snake_case; the AWS names are their aliases, so the models read boto3 / AWS CLI
items as they come and dump back to the same shape. Fields a rule does not read are not declared
but kept (``extra="allow"``). A section that is ``None`` was not collected; an empty one was
collected and holds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class AwsModel(BaseModel):
    """Base of every snapshot model: frozen, aliases accepted, unknown fields kept."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, defer_build=True)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a resource lives: account, partition and Region."""

    account_id: str
    partition: str
    region: str


class Located(AwsModel):
    """A resource that knows its account and Region once the snapshot is assembled."""

    _scope: Scope | None = PrivateAttr(default=None)
    # its checker.rule.Resource, made once (Resource.of): every rule's finding names it
    _resource: Any = PrivateAttr(default=None)

    @property
    def scope(self) -> Scope:
        """The account/Region of this resource (set by the Snapshot)."""
        # Read pydantic's private-attribute dict directly: its __getattr__ path is slow, and
        # rules ask for the scope of every resource several times.
        scope: Scope | None = self.__pydantic_private__["_scope"]  # type: ignore[index]
        if scope is None:  # pragma: no cover - models are always built through Snapshot
            raise RuntimeError(f"{type(self).__name__} has no scope")
        return scope


class ParameterGroupStatus(AwsModel):
    name: str | None = Field(None, alias="DBParameterGroupName")
    apply_status: str | None = Field(None, alias="ParameterApplyStatus")


class CertificateDetails(AwsModel):
    ca_identifier: str | None = Field(None, alias="CAIdentifier")
    valid_till: datetime | None = Field(None, alias="ValidTill")

    _v = field_validator("valid_till")(_utc)


class DomainMembership(AwsModel):
    domain: str | None = Field(None, alias="Domain")
    status: str | None = Field(None, alias="Status")
    fqdn: str | None = Field(None, alias="FQDN")


class DBInstance(Located):
    id: str = Field(alias="DBInstanceIdentifier")
    arn: str | None = Field(None, alias="DBInstanceArn")
    resource_id: str | None = Field(None, alias="DbiResourceId")
    engine: str = Field(alias="Engine")
    engine_version: str | None = Field(None, alias="EngineVersion")
    instance_class: str | None = Field(None, alias="DBInstanceClass")
    status: str | None = Field(None, alias="DBInstanceStatus")
    cluster_id: str | None = Field(None, alias="DBClusterIdentifier")
    iam_auth_enabled: bool | None = Field(None, alias="IAMDatabaseAuthenticationEnabled")
    master_username: str | None = Field(None, alias="MasterUsername")
    availability_zone: str | None = Field(None, alias="AvailabilityZone")
    parameter_groups: tuple[ParameterGroupStatus, ...] = Field((), alias="DBParameterGroups")
    ca_certificate_id: str | None = Field(None, alias="CACertificateIdentifier")
    certificate_details: CertificateDetails | None = Field(None, alias="CertificateDetails")
    domain_memberships: tuple[DomainMembership, ...] = Field((), alias="DomainMemberships")
    log_exports: tuple[str, ...] = Field((), alias="EnabledCloudwatchLogsExports")
    pending: dict[str, Any] = Field(default_factory=dict, alias="PendingModifiedValues")
    subnet_group: dict[str, Any] | None = Field(None, alias="DBSubnetGroup")


class ClusterMember(AwsModel):
    instance_id: str | None = Field(None, alias="DBInstanceIdentifier")
    is_writer: bool | None = Field(None, alias="IsClusterWriter")
    parameter_group_status: str | None = Field(None, alias="DBClusterParameterGroupStatus")


class DBCluster(Located):
    id: str = Field(alias="DBClusterIdentifier")
    arn: str | None = Field(None, alias="DBClusterArn")
    resource_id: str | None = Field(None, alias="DbClusterResourceId")
    engine: str = Field(alias="Engine")
    engine_version: str | None = Field(None, alias="EngineVersion")
    engine_mode: str | None = Field(None, alias="EngineMode")
    instance_class: str | None = Field(None, alias="DBClusterInstanceClass")
    iam_auth_enabled: bool | None = Field(None, alias="IAMDatabaseAuthenticationEnabled")
    master_username: str | None = Field(None, alias="MasterUsername")
    parameter_group: str | None = Field(None, alias="DBClusterParameterGroup")
    members: tuple[ClusterMember, ...] = Field((), alias="DBClusterMembers")
    domain_memberships: tuple[DomainMembership, ...] = Field((), alias="DomainMemberships")
    log_exports: tuple[str, ...] = Field((), alias="EnabledCloudwatchLogsExports")
    pending: dict[str, Any] = Field(default_factory=dict, alias="ClusterPendingModifiedValues")


class ProxyAuth(AwsModel):
    user_name: str | None = Field(None, alias="UserName")
    auth_scheme: str | None = Field(None, alias="AuthScheme")
    iam_auth: str | None = Field(None, alias="IAMAuth")
    description: str | None = Field(None, alias="Description")


class DBProxy(Located):
    id: str = Field(alias="DBProxyName")
    arn: str | None = Field(None, alias="DBProxyArn")
    engine_family: str | None = Field(None, alias="EngineFamily")
    default_auth_scheme: str | None = Field(None, alias="DefaultAuthScheme")
    require_tls: bool | None = Field(None, alias="RequireTLS")
    role_arn: str | None = Field(None, alias="RoleArn")
    auth: tuple[ProxyAuth, ...] = Field((), alias="Auth")

    @property
    def resource_id(self) -> str | None:
        """The proxy resource id (``prx-...``): the last segment of DBProxyArn."""
        if self.arn and ":db-proxy:" in self.arn:
            return self.arn.rsplit(":", 1)[1]
        return None


class DBProxyTarget(AwsModel):
    target_arn: str | None = Field(None, alias="TargetArn")
    endpoint: str | None = Field(None, alias="Endpoint")
    tracked_cluster_id: str | None = Field(None, alias="TrackedClusterId")
    rds_resource_id: str | None = Field(None, alias="RdsResourceId")
    port: int | None = Field(None, alias="Port")
    type: str | None = Field(None, alias="Type")


class Parameter(AwsModel):
    name: str = Field(alias="ParameterName")
    value: str | None = Field(None, alias="ParameterValue")
    source: str | None = Field(None, alias="Source")
    apply_type: str | None = Field(None, alias="ApplyType")
    apply_method: str | None = Field(None, alias="ApplyMethod")


class Certificate(AwsModel):
    id: str = Field(alias="CertificateIdentifier")
    type: str | None = Field(None, alias="CertificateType")
    valid_from: datetime | None = Field(None, alias="ValidFrom")
    valid_till: datetime | None = Field(None, alias="ValidTill")
    arn: str | None = Field(None, alias="CertificateArn")

    _v = field_validator("valid_from", "valid_till")(_utc)


class OrderableOption(AwsModel):
    engine: str = Field(alias="Engine")
    engine_version: str = Field(alias="EngineVersion")
    instance_class: str | None = Field(None, alias="DBInstanceClass")
    supports_iam: bool | None = Field(None, alias="SupportsIAMDatabaseAuthentication")


# Parameter groups are three quarters of a large snapshot's bytes (hundreds of parameters per
# group) while rules read a handful of them. Their items stay the schema-validated dicts of the
# input, shared rather than copied; ``Parameter`` models are built for the few a rule looks up
# (Context.effective_parameter). Keys: group name (or parameter group family for engine
# defaults); values: the DescribeDB[Cluster]Parameters / DescribeEngineDefault*Parameters items.
ParameterMap = dict[str, Any]


class Region(AwsModel):
    region: str
    db_instances: tuple[DBInstance, ...] | None = Field(None, alias="DBInstances")
    db_clusters: tuple[DBCluster, ...] | None = Field(None, alias="DBClusters")
    db_proxies: tuple[DBProxy, ...] | None = Field(None, alias="DBProxies")
    db_proxy_targets: dict[str, tuple[DBProxyTarget, ...]] | None = Field(
        None, alias="DBProxyTargets"
    )
    db_parameter_groups: ParameterMap | None = Field(None, alias="DBParameterGroups")
    db_cluster_parameter_groups: ParameterMap | None = Field(None, alias="DBClusterParameterGroups")
    engine_default_parameters: ParameterMap | None = Field(None, alias="EngineDefaultParameters")
    engine_default_cluster_parameters: ParameterMap | None = Field(
        None, alias="EngineDefaultClusterParameters"
    )
    certificates: tuple[Certificate, ...] | None = Field(None, alias="Certificates")
    orderable_options: tuple[OrderableOption, ...] | None = Field(
        None, alias="OrderableDBInstanceOptions"
    )
    metrics: dict[str, Any] | None = Field(None, alias="Metrics")


class DatabaseUser(AwsModel):
    name: str
    login: bool | None = None
    member_of: tuple[str, ...] = ()
    replication: bool | None = None
    host: str | None = None
    plugin: str | None = None
    ssl_type: str | None = None


class DatabaseUsers(AwsModel):
    resource_id: str
    engine: str
    collected_at: datetime | None = None
    users: tuple[DatabaseUser, ...]


class Account(AwsModel):
    account_id: str
    partition: str = "aws"
    iam: dict[str, Any] | None = None
    regions: tuple[Region, ...] = ()
    databases: tuple[DatabaseUsers, ...] | None = None


class CollectionError(AwsModel):
    account_id: str | None = None
    region: str | None = None
    operation: str | None = None
    resource: str | None = None
    code: str
    message: str


class Source(AwsModel):
    kind: str | None = None
    tool: str | None = None


class Snapshot(AwsModel):
    format: str = "rdsiam-snapshot"
    version: int = 1
    collected_at: datetime | None = None
    source: Source | None = None
    accounts: tuple[Account, ...] = ()
    errors: tuple[CollectionError, ...] = ()

    def model_post_init(self, __context: Any) -> None:
        """Tell every resource its account and Region, so rules need not carry them around."""
        for account in self.accounts:
            for region in account.regions:
                scope = Scope(account.account_id, account.partition, region.region)
                for section in (region.db_instances, region.db_clusters, region.db_proxies):
                    for item in section or ():
                        item.__pydantic_private__["_scope"] = scope  # type: ignore[index]

    def regions(self) -> Iterator[tuple[Account, Region]]:
        """Every (account, Region) pair in the snapshot."""
        for account in self.accounts:
            for region in account.regions:
                yield account, region

    def db_instances(self) -> Iterator[DBInstance]:
        """All DB instances of all accounts and Regions."""
        for _, region in self.regions():
            yield from region.db_instances or ()

    def db_clusters(self) -> Iterator[DBCluster]:
        """All DB clusters of all accounts and Regions."""
        for _, region in self.regions():
            yield from region.db_clusters or ()

    def db_proxies(self) -> Iterator[DBProxy]:
        """All RDS proxies of all accounts and Regions."""
        for _, region in self.regions():
            yield from region.db_proxies or ()
