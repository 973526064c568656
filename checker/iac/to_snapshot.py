"""IaC resources (CloudFormation or Terraform) as one snapshot document.

Items get the AWS API's field names, as a live collection would give them, so the rules need no
IaC branch. Three things are added to each item:

- its identity is the resource's address (CloudFormation logical id, Terraform address): that is
  what findings name (CONTRACTS, ``resource.id``);
- ``rdsiam:location``: the file and line it is written at;
- ``rdsiam:unknown``: the API fields whose value only deploy time knows, with the symbol that
  stands for it (the engine turns a finding that judged such a field into ``not_applicable``).

A value the template leaves to AWS (no ``EngineVersion``, no parameter group) is simply absent,
as in a Describe answer for a field AWS did not return. A parameter group's value that only
deploy time knows stays as its symbol (the TLS rules say not applicable on it). A policy put on
or attached to a role, user or group the file does not define gets a stand-in principal marked
``rdsiam:external``, so that its grants are judged but not the principal's own definition.
Account and Region come from ``--account`` / ``--region`` or the file (a plan's provider
Region); when neither says, the placeholders ``UNKNOWN_ACCOUNT`` / ``UNKNOWN_REGION`` stand for
them (the snapshot needs real shapes there), and the pseudo-parameter symbols in policies are
replaced by the same placeholders so that a grant built with ``${AWS::Region}`` still names the
template's database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from checker.iac.model import IacFile, IacResource
from checker.iac.symbols import (
    SYMBOL,
    UNKNOWN_ACCOUNT,
    UNKNOWN_REGION,
    is_unknown,
    only_symbol,
    symbol,
)
from checker.knowledge.engines import parameter_group_family
from checker.knowledge.regions import partition_of

LOCATION = "rdsiam:location"
UNKNOWN = "rdsiam:unknown"
# A role, user or group that a file's policy or attachment names but the file does not define
# (an existing role): it stands in the iam section so that the policy is judged, without the
# trust policy, boundary or other policies it really has, which the rules must not assume.
EXTERNAL = "rdsiam:external"


class Mapper:
    """Accumulates the resources of every IaC file into one snapshot document."""

    def __init__(self, account: str | None, region: str | None) -> None:
        self.account = account
        self.region = region
        self.accounts: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.policies: dict[str, dict[str, dict[str, Any]]] = {}  # account -> ARN -> policy

    # -- structure -------------------------------------------------------------------------

    def _scope(self, iac: IacFile) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
        account = self.account or iac.account_id or UNKNOWN_ACCOUNT
        region = self.region or iac.region or UNKNOWN_REGION
        partition = iac.partition or (partition_of(region) if region != UNKNOWN_REGION else "aws")
        acc = self.accounts.setdefault(
            account,
            {
                "account_id": account,
                "partition": partition,
                "regions": {},
                "iam": {
                    "UserDetailList": [],
                    "GroupDetailList": [],
                    "RoleDetailList": [],
                    "Policies": [],
                },
            },
        )
        reg = acc["regions"].setdefault(
            region,
            {
                "region": region,
                "DBInstances": [],
                "DBClusters": [],
                "DBProxies": [],
                "DBProxyTargets": {},
                "DBParameterGroups": {},
                "DBClusterParameterGroups": {},
            },
        )
        return acc, reg, account, region, partition

    def add(self, iac: IacFile, label: str | None = None) -> None:
        """Map one file. With a ``label`` (several files in one run), every address becomes
        ``<address>@<label>``, and the file's references with it: two templates may both
        have a ``Db``, and neither may answer for the other's grants, lines or findings. The
        label (the file's name without its suffix) has no ``:`` or ``/``, which would break the
        ARNs it ends up in."""
        acc, reg, account, region, partition = self._scope(iac)
        pseudo = {
            symbol("AWS::Region"): region,
            symbol("AWS::AccountId"): account,
            symbol("AWS::Partition"): partition,
        }
        renames = {r.address: f"{r.address}@{label}" for r in iac.resources} if label else {}
        scope = _Scope(pseudo, account, region, partition, renames)
        for res in iac.resources:
            res.properties = scope.replace(res.properties)
            if res.address in renames:
                res.written, res.address = res.address, renames[res.address]
        file = _File(iac, account, region, partition)
        rds = _Rds(file, reg)
        iam = _Iam(file, acc["iam"], self.policies.setdefault(account, {}), label)
        for res in iac.resources:
            rds.add(res)
            iam.add(res)
        rds.finish()
        iam.finish()
        self.notes.extend(iac.notes)

    def document(self, kind: str) -> dict[str, Any]:
        accounts = []
        for account_id in sorted(self.accounts):
            acc = self.accounts[account_id]
            accounts.append(
                {
                    "account_id": account_id,
                    "partition": acc["partition"],
                    "iam": acc["iam"],
                    "regions": [acc["regions"][r] for r in sorted(acc["regions"])],
                }
            )
        return {
            "format": "rdsiam-snapshot",
            "version": 1,
            "source": {"kind": kind, "tool": "rdsiam"},
            "accounts": accounts,
            "errors": [],
        }


class _File:
    """One file's resources, indexed to follow references between them."""

    def __init__(self, iac: IacFile, account: str, region: str, partition: str) -> None:
        self.iac = iac
        self.account = account
        self.region = region
        self.partition = partition
        self.cfn = iac.kind == "cloudformation"
        self.by_address = {r.address: r for r in iac.resources}
        self.by_name: dict[str, IacResource] = {}
        for res in iac.resources:
            for name in _names(res):
                self.by_name.setdefault(name, res)

    def location(self, res: IacResource) -> dict[str, Any]:
        # the address also ties a finding to waivers in the resource's Metadata
        return {"path": res.path, "line": res.line, "address": res.written or res.address}

    def target(self, value: Any) -> IacResource | None:
        """The resource a value refers to: ``${Logical}``/``${Logical.Attr}`` (CloudFormation),
        ``${aws_x.name.attr}`` (Terraform), or a literal name a resource of the file has."""
        if not isinstance(value, str):
            return None
        ref = only_symbol(value)
        if ref is not None:
            if ref in self.by_address:
                return self.by_address[ref]
            head = ref.rsplit(".", 1)[0]
            if head in self.by_address:
                return self.by_address[head]
            return None
        return self.by_name.get(value)

    def arn(self, service: str, kind: str, name: str) -> str:
        """An ARN for a template resource, named by its address (what findings show)."""
        region = "" if service == "iam" else self.region
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{kind}{name}"


# The property holding a resource's own name, by type (Terraform: ``name`` unless listed). The
# same property names on other types name a parent (an instance's DBClusterIdentifier or
# DBParameterGroupName, a target group's DBProxyName): matching those made a member its own
# cluster, and an instance the parameter group it names.
_OWN_NAME = {
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::DBProxy": "DBProxyName",
    "AWS::RDS::DBParameterGroup": "DBParameterGroupName",
    "AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "aws_db_instance": "identifier",
    "aws_rds_cluster_instance": "identifier",
    "aws_rds_cluster": "cluster_identifier",
}


def _names(res: IacResource) -> set[str]:
    """The names a resource is given in the file (to match literal references)."""
    key = _OWN_NAME.get(res.type, None if res.type.startswith("AWS::") else "name")
    value = res.properties.get(key) if key else None
    return {value} if isinstance(value, str) and not is_unknown(value) else set()


def _family(item: dict[str, Any]) -> str | None:
    """The parameter group family of an item whose engine and version the file gives."""
    engine, version = item.get("Engine"), item.get("EngineVersion")
    if not isinstance(engine, str) or not isinstance(version, str):
        return None
    return parameter_group_family(engine, version)


def _known(value: Any) -> Any:
    """``value`` unless it is a deploy-time symbol."""
    return None if is_unknown(value) else value


def _bool(value: Any) -> bool | str | None:
    """A CloudFormation/Terraform boolean: True/False, None when absent, the symbol if unknown."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if is_unknown(value):
            return value
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
    return str(value)


def _auth_unknown(auth: Any, keys: tuple[str, ...]) -> bool:
    """A proxy's Auth list whose scheme or IAM setting is only known at deploy time (a secret's
    ARN from a reference does not matter to the rules)."""
    if isinstance(auth, str):
        return is_unknown(auth)
    if not isinstance(auth, list):
        return False
    return any(
        not isinstance(entry, dict) or any(is_unknown(entry.get(k)) for k in keys) for entry in auth
    )


def _set_list(item: _Item, key: str, value: Any) -> None:
    """A list field (log exports): unknown when the value or an element is a symbol."""
    if value is None:
        return
    if not isinstance(value, list) or is_unknown(value):
        item.unknown[key] = value if isinstance(value, str) else str(value)
        return
    item.data[key] = value


def _set_domain(item: _Item, domain: Any) -> None:
    if not domain:
        return
    if is_unknown(domain):
        item.unknown["DomainMemberships"] = str(domain)
        return
    item.data["DomainMemberships"] = [{"Domain": domain, "Status": "joined"}]


class _Item:
    """An API item being built, with its unknown fields."""

    def __init__(self, location: dict[str, Any]) -> None:
        self.data: dict[str, Any] = {LOCATION: location}
        self.unknown: dict[str, str] = {}

    def set(self, key: str, value: Any, kind: str = "str") -> None:
        if value is None:
            return
        if kind == "bool":
            value = _bool(value)
            if isinstance(value, str):
                self.unknown[key] = value
                return
        elif kind == "str" and not isinstance(value, str):
            value = str(value)
        if kind == "str" and is_unknown(value) and key not in _SYMBOLS_KEPT:
            self.unknown[key] = value
            if key not in _REQUIRED:
                return
        self.data[key] = value

    def done(self) -> dict[str, Any]:
        if self.unknown:
            self.data[UNKNOWN] = self.unknown
        return self.data


# Fields whose symbol is kept as the value: identities that grants and targets name.
_SYMBOLS_KEPT = frozenset({"DbiResourceId", "DbClusterResourceId", "DBProxyArn"})
# Required fields of the model: an unknown value stays as its symbol (and is listed as unknown).
_REQUIRED = frozenset({"Engine"})


_GROUP_TYPES = frozenset(
    {
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBClusterParameterGroup",
        "aws_db_parameter_group",
        "aws_rds_cluster_parameter_group",
    }
)


class _Rds:
    """DB instances, clusters, proxies, proxy targets and parameter groups."""

    def __init__(self, file: _File, region: dict[str, Any]) -> None:
        self.file = file
        self.region = region
        self.members: dict[str, list[dict[str, Any]]] = {}
        self.clusters: dict[str, dict[str, Any]] = {}

    def add(self, res: IacResource) -> None:
        handler = {
            "AWS::RDS::DBInstance": self._cfn_instance,
            "AWS::RDS::DBCluster": self._cfn_cluster,
            "AWS::RDS::DBProxy": self._cfn_proxy,
            "AWS::RDS::DBProxyTargetGroup": self._cfn_targets,
            "AWS::RDS::DBParameterGroup": self._cfn_group,
            "AWS::RDS::DBClusterParameterGroup": self._cfn_group,
            "aws_db_instance": self._tf_instance,
            "aws_rds_cluster_instance": self._tf_instance,
            "aws_rds_cluster": self._tf_cluster,
            "aws_db_proxy": self._tf_proxy,
            "aws_db_proxy_target": self._tf_target,
            "aws_db_parameter_group": self._tf_group,
            "aws_rds_cluster_parameter_group": self._tf_group,
        }.get(res.type)
        if handler is not None:
            handler(res)

    _unknown_group: str | None = None

    def _group(self, value: Any, owner: IacResource) -> Any:
        """A parameter group name: a group of the file (its address), a literal name, or None
        when the value is only known at deploy time (Terraform marks the default group a
        provider computes as unknown: the caller then uses the family's default group)."""
        target = self.file.target(value)
        if target is not None and target.type in _GROUP_TYPES:
            return target.address
        if is_unknown(value):
            if target is not owner:  # a group named at deploy time: unknown, no default
                self._unknown_group = str(value)
            return None
        return value

    def _name_of(self, value: Any) -> Any:
        """A reference to another resource of the file becomes that resource's address."""
        target = self.file.target(value)
        return target.address if target is not None else value

    # CloudFormation ------------------------------------------------------------------------

    def _cfn_instance(self, res: IacResource) -> None:
        p = res.properties
        item = _Item(self.file.location(res))
        item.set("DBInstanceIdentifier", res.address)
        item.set("Engine", p.get("Engine"))
        item.set("EngineVersion", p.get("EngineVersion"))
        item.set("DBInstanceClass", p.get("DBInstanceClass"))
        cluster = p.get("DBClusterIdentifier")
        if cluster is not None:
            item.set("DBClusterIdentifier", self._name_of(cluster))
        item.set(
            "IAMDatabaseAuthenticationEnabled", p.get("EnableIAMDatabaseAuthentication"), "bool"
        )
        if "EnableIAMDatabaseAuthentication" in p:
            item.data["rdsiam:sets_iam"] = True  # RIA106: a member that sets it itself
        item.set("MasterUsername", p.get("MasterUsername"))
        item.set("CACertificateIdentifier", p.get("CACertificateIdentifier"))
        item.set("DbiResourceId", symbol(f"{res.address}.DbiResourceId"))
        item.set("DBInstanceArn", self.file.arn("rds", "db:", res.address))
        item.set("ReadReplicaSourceDBInstanceIdentifier", p.get("SourceDBInstanceIdentifier"))
        group = self._group(p.get("DBParameterGroupName"), res)
        if group is not None:
            item.data["DBParameterGroups"] = [
                {"DBParameterGroupName": group, "ParameterApplyStatus": "in-sync"}
            ]
        _set_list(item, "EnabledCloudwatchLogsExports", p.get("EnableCloudwatchLogsExports"))
        _set_domain(item, p.get("Domain"))
        self._instance(item)

    def _cfn_cluster(self, res: IacResource) -> None:
        p = res.properties
        item = _Item(self.file.location(res))
        item.set("DBClusterIdentifier", res.address)
        item.set("Engine", p.get("Engine"))
        item.set("EngineVersion", p.get("EngineVersion"))
        item.set("EngineMode", p.get("EngineMode"))
        item.set("DBClusterInstanceClass", p.get("DBClusterInstanceClass"))
        item.set(
            "IAMDatabaseAuthenticationEnabled", p.get("EnableIAMDatabaseAuthentication"), "bool"
        )
        item.set("MasterUsername", p.get("MasterUsername"))
        item.set("DbClusterResourceId", symbol(f"{res.address}.DBClusterResourceId"))
        item.set("DBClusterArn", self.file.arn("rds", "cluster:", res.address))
        group = self._group(p.get("DBClusterParameterGroupName"), res)
        if group is not None:
            item.set("DBClusterParameterGroup", group)
        _set_list(item, "EnabledCloudwatchLogsExports", p.get("EnableCloudwatchLogsExports"))
        _set_domain(item, p.get("Domain"))
        self._cluster(item)

    def _cfn_proxy(self, res: IacResource) -> None:
        p = res.properties
        item = _Item(self.file.location(res))
        item.set("DBProxyName", res.address)
        item.set("EngineFamily", p.get("EngineFamily"))
        item.set("RequireTLS", p.get("RequireTLS", False), "bool")
        item.set("DefaultAuthScheme", p.get("DefaultAuthScheme"))
        item.set("DBProxyArn", symbol(f"{res.address}.DBProxyArn"))
        auth = p.get("Auth")
        if _auth_unknown(auth, ("AuthScheme", "IAMAuth")):
            item.unknown["Auth"] = "${" + res.address + ".Auth}"
        elif isinstance(auth, list):
            item.data["Auth"] = [
                {k: v for k, v in a.items() if k in ("AuthScheme", "IAMAuth", "SecretArn")}
                for a in auth
                if isinstance(a, dict)
            ]
        self.region["DBProxies"].append(item.done())

    def _cfn_targets(self, res: IacResource) -> None:
        p = res.properties
        proxy = self._name_of(p.get("DBProxyName"))
        targets = self.region["DBProxyTargets"].setdefault(str(proxy), [])
        for key, kind in (
            ("DBInstanceIdentifiers", "RDS_INSTANCE"),
            ("DBClusterIdentifiers", "TRACKED_CLUSTER"),
        ):
            for value in p.get(key) or []:
                targets.append({"RdsResourceId": self._name_of(value), "Type": kind})

    def _cfn_group(self, res: IacResource) -> None:
        p = res.properties
        params = p.get("Parameters") or {}
        # A value only deploy time knows stays as its symbol: dropping it would make the rules
        # judge the engine default instead, a false fail (or pass) on rds.force_ssl from a
        # parameter without a default; the TLS rules say not applicable on a symbol.
        items = [
            {"ParameterName": k, "ParameterValue": str(v), "Source": "user", "ApplyType": "dynamic"}
            for k, v in params.items()
        ]
        section = (
            "DBClusterParameterGroups"
            if res.type == "AWS::RDS::DBClusterParameterGroup"
            else "DBParameterGroups"
        )
        self.region[section][res.address] = items

    # Terraform -----------------------------------------------------------------------------

    def _tf_instance(self, res: IacResource) -> None:
        p = res.properties
        item = _Item(self.file.location(res))
        item.set("DBInstanceIdentifier", res.address)
        item.set("Engine", p.get("engine"))
        item.set("EngineVersion", _known(p.get("engine_version_actual")) or p.get("engine_version"))
        item.set("DBInstanceClass", p.get("instance_class"))
        cluster = p.get("cluster_identifier")
        if cluster is not None:
            item.set("DBClusterIdentifier", self._name_of(cluster))
        if res.type == "aws_db_instance":
            item.set(
                "IAMDatabaseAuthenticationEnabled",
                p.get("iam_database_authentication_enabled", False),
                "bool",
            )
        item.set("MasterUsername", p.get("username"))
        item.set("CACertificateIdentifier", p.get("ca_cert_identifier"))
        rid = p.get("resource_id") or p.get("dbi_resource_id")
        item.set("DbiResourceId", rid or symbol(f"{res.address}.resource_id"))
        item.set("DBInstanceArn", p.get("arn") if not is_unknown(p.get("arn")) else None)
        item.set("ReadReplicaSourceDBInstanceIdentifier", p.get("replicate_source_db") or None)
        group = self._group(p.get("parameter_group_name") or p.get("db_parameter_group_name"), res)
        if group:
            item.data["DBParameterGroups"] = [
                {"DBParameterGroupName": group, "ParameterApplyStatus": "in-sync"}
            ]
        _set_list(item, "EnabledCloudwatchLogsExports", p.get("enabled_cloudwatch_logs_exports"))
        _set_domain(item, p.get("domain"))
        self._instance(item)

    def _tf_cluster(self, res: IacResource) -> None:
        p = res.properties
        item = _Item(self.file.location(res))
        item.set("DBClusterIdentifier", res.address)
        item.set("Engine", p.get("engine"))
        item.set("EngineVersion", _known(p.get("engine_version_actual")) or p.get("engine_version"))
        item.set("EngineMode", p.get("engine_mode"))
        item.set("DBClusterInstanceClass", p.get("db_cluster_instance_class"))
        item.set(
            "IAMDatabaseAuthenticationEnabled",
            p.get("iam_database_authentication_enabled", False),
            "bool",
        )
        item.set("MasterUsername", p.get("master_username"))
        rid = p.get("cluster_resource_id")
        item.set("DbClusterResourceId", rid or symbol(f"{res.address}.cluster_resource_id"))
        group = self._group(p.get("db_cluster_parameter_group_name"), res)
        if group:
            item.set("DBClusterParameterGroup", group)
        _set_list(item, "EnabledCloudwatchLogsExports", p.get("enabled_cloudwatch_logs_exports"))
        self._cluster(item)

    def _tf_proxy(self, res: IacResource) -> None:
        p = res.properties
        item = _Item(self.file.location(res))
        item.set("DBProxyName", res.address)
        item.set("EngineFamily", p.get("engine_family"))
        item.set("RequireTLS", p.get("require_tls", False), "bool")
        item.set("DefaultAuthScheme", p.get("default_auth_scheme"))
        arn = p.get("arn")
        item.set("DBProxyArn", arn if arn else symbol(f"{res.address}.arn"))
        auth = p.get("auth")
        if _auth_unknown(auth, ("auth_scheme", "iam_auth")):
            item.unknown["Auth"] = "${" + res.address + ".auth}"
        elif isinstance(auth, list):
            item.data["Auth"] = [
                {
                    "AuthScheme": a.get("auth_scheme"),
                    "IAMAuth": a.get("iam_auth"),
                    "SecretArn": a.get("secret_arn"),
                }
                for a in auth
                if isinstance(a, dict)
            ]
        self.region["DBProxies"].append(item.done())

    def _tf_target(self, res: IacResource) -> None:
        p = res.properties
        proxy = self._name_of(p.get("db_proxy_name"))
        targets = self.region["DBProxyTargets"].setdefault(str(proxy), [])
        if p.get("db_instance_identifier"):
            targets.append(
                {
                    "RdsResourceId": self._name_of(p["db_instance_identifier"]),
                    "Type": "RDS_INSTANCE",
                }
            )
        if p.get("db_cluster_identifier"):
            targets.append(
                {
                    "RdsResourceId": self._name_of(p["db_cluster_identifier"]),
                    "Type": "TRACKED_CLUSTER",
                }
            )

    def _tf_group(self, res: IacResource) -> None:
        p = res.properties
        items = [
            {
                "ParameterName": str(param.get("name")),
                "ParameterValue": str(param.get("value")),
                "Source": "user",
                "ApplyMethod": param.get("apply_method", "immediate"),
            }
            for param in p.get("parameter") or []
            if isinstance(param, dict)  # an unknown value stays its symbol, as in _cfn_group
        ]
        section = (
            "DBClusterParameterGroups"
            if res.type == "aws_rds_cluster_parameter_group"
            else "DBParameterGroups"
        )
        self.region[section][res.address] = items

    # shared --------------------------------------------------------------------------------

    def _instance(self, item: _Item) -> None:
        unknown_group, self._unknown_group = self._unknown_group, None
        if unknown_group:
            item.unknown["DBParameterGroups"] = unknown_group
        data = item.done()
        if (
            "DBParameterGroups" not in data
            and not data.get("DBClusterIdentifier")
            and not unknown_group
        ):
            family = _family(data)
            if family:  # no group named: AWS uses the family's default group
                data["DBParameterGroups"] = [
                    {"DBParameterGroupName": f"default.{family}", "ParameterApplyStatus": "in-sync"}
                ]
        cluster = data.get("DBClusterIdentifier")
        if cluster:
            self.members.setdefault(cluster, []).append(
                {"DBInstanceIdentifier": data["DBInstanceIdentifier"], "IsClusterWriter": False}
            )
        self.region["DBInstances"].append(data)

    def _cluster(self, item: _Item) -> None:
        unknown_group, self._unknown_group = self._unknown_group, None
        if unknown_group:
            item.unknown["DBClusterParameterGroup"] = unknown_group
        data = item.done()
        if "DBClusterParameterGroup" not in data and not unknown_group:
            family = _family(data)
            if family:
                data["DBClusterParameterGroup"] = f"default.{family}"
        self.clusters[data["DBClusterIdentifier"]] = data
        self.region["DBClusters"].append(data)

    def finish(self) -> None:
        """Cluster members, and Aurora members' engine where a template leaves it out."""
        for name, members in self.members.items():
            cluster = self.clusters.get(name)
            if cluster is None:
                continue
            if members:
                members[0]["IsClusterWriter"] = True
            cluster["DBClusterMembers"] = members


class _Iam:
    """Roles, users, groups and policies, in the shape of GetAccountAuthorizationDetails."""

    def __init__(
        self,
        file: _File,
        iam: dict[str, Any],
        by_arn: dict[str, dict[str, Any]],
        label: str | None = None,
    ) -> None:
        self.file = file
        self.iam = iam
        self.by_arn = by_arn  # the account's managed policies, by ARN
        # the file's EXTERNAL principals by ARN; labelled like its addresses in a run of several
        # files, so that two files' policies named alike on one role keep their own findings
        self.externals: dict[str, dict[str, Any]] = {}
        self.label = label
        self.roles: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.managed: dict[str, dict[str, Any]] = {}
        self.later: list[IacResource] = []

    def add(self, res: IacResource) -> None:
        p = res.properties
        loc = self.file.location(res)
        if res.type in ("AWS::IAM::Role", "aws_iam_role"):
            role = {
                "RoleName": res.address,
                "Arn": self.file.arn("iam", "role/", res.address),
                "AssumeRolePolicyDocument": _document(
                    p.get("AssumeRolePolicyDocument", p.get("assume_role_policy"))
                ),
                "RolePolicyList": [],
                "AttachedManagedPolicies": [],
                LOCATION: loc,
            }
            role["RolePolicyList"] = _inline(p.get("Policies") or p.get("inline_policy"), loc)
            boundary = p.get("PermissionsBoundary", p.get("permissions_boundary"))
            if isinstance(boundary, str) and boundary:
                role["PermissionsBoundary"] = {
                    "PermissionsBoundaryType": "Policy",
                    "PermissionsBoundaryArn": self._policy_arn(boundary),
                }
            self.roles[res.address] = role
            self.iam["RoleDetailList"].append(role)
            for arn in _elements(p.get("ManagedPolicyArns") or p.get("managed_policy_arns")):
                if self.file.target(arn) is not res:  # a plan's computed value: unset here
                    self.later.append(_attachment(res, "role", arn))
        elif res.type in ("AWS::IAM::User", "aws_iam_user"):
            user = {
                "UserName": res.address,
                "Arn": self.file.arn("iam", "user/", res.address),
                "UserPolicyList": _inline(p.get("Policies"), loc),
                "AttachedManagedPolicies": [],
                "GroupList": [],
                LOCATION: loc,
            }
            self.users[res.address] = user
            self.iam["UserDetailList"].append(user)
            for group in _elements(p.get("Groups")):
                self.later.append(_membership(res, group, res.address))
            for arn in _elements(p.get("ManagedPolicyArns")):
                self.later.append(_attachment(res, "user", arn))
        elif res.type in ("AWS::IAM::Group", "aws_iam_group"):
            group = {
                "GroupName": res.address,
                "Arn": self.file.arn("iam", "group/", res.address),
                "GroupPolicyList": _inline(p.get("Policies"), loc),
                "AttachedManagedPolicies": [],
                LOCATION: loc,
            }
            self.groups[res.address] = group
            self.iam["GroupDetailList"].append(group)
            for arn in _elements(p.get("ManagedPolicyArns")):
                self.later.append(_attachment(res, "group", arn))
        elif res.type in ("AWS::IAM::ManagedPolicy", "aws_iam_policy"):
            name = res.address
            arn = self.file.arn("iam", "policy/", name)
            document = _document(p.get("PolicyDocument", p.get("policy")))
            policy = {
                "PolicyName": name,
                "Arn": arn,
                "DefaultVersionId": "v1",
                "AttachmentCount": 0,
                "PolicyVersionList": [
                    {"Document": document, "VersionId": "v1", "IsDefaultVersion": True}
                ],
                LOCATION: loc,
            }
            self.managed[res.address] = policy
            self.by_arn[arn] = policy
            self.iam["Policies"].append(policy)
            for kind, key in (("role", "Roles"), ("user", "Users"), ("group", "Groups")):
                for principal in _elements(p.get(key)):
                    self.later.append(
                        IacResource(res.address, "attach", {kind: principal, "arn": arn}, res.path)
                    )
        else:
            self.later.append(res)

    def _policy_arn(self, value: str) -> str:
        target = self.file.target(value)
        if target is not None and target.address in self.managed:
            return str(self.managed[target.address]["Arn"])
        if target is not None and target.type in ("AWS::IAM::ManagedPolicy", "aws_iam_policy"):
            return self.file.arn("iam", "policy/", target.address)
        return value

    def _principal(self, kind: str, value: Any) -> dict[str, Any] | None:
        table = {"role": self.roles, "user": self.users, "group": self.groups}[kind]
        target = self.file.target(value)
        if target is not None:
            return table.get(target.address)
        return None

    def _owner(self, kind: str, value: Any) -> dict[str, Any] | None:
        """The principal a policy is put on or attached to: the file's own, else one the file
        does not define (an existing role named by its name, a parameter or a data source), as
        an EXTERNAL stand-in. Dropping the policy instead would leave its connect grants
        unjudged."""
        found = self._principal(kind, value)
        if found is not None or value is None or isinstance(value, (dict, list)):
            return found
        target = self.file.target(value)
        name = str(value)
        if target is not None:
            if target.type in _PRINCIPAL_TYPES:
                return None  # the file's principal of another kind: not this one
            given = target.properties.get("name", target.properties.get("role_name"))
            if only_symbol(name) is not None and isinstance(given, str) and not is_unknown(given):
                name = given  # data.aws_iam_role.x.id unknown in the plan, its name known
        if self.label:
            name = f"{name}@{self.label}"
        arn = self.file.arn("iam", f"{kind}/", name)
        principal = self.externals.get(arn)
        if principal is None:
            list_key, name_key, inline_key = _PRINCIPAL_KEYS[kind]
            principal = {
                name_key: name,
                "Arn": arn,
                inline_key: [],
                "AttachedManagedPolicies": [],
                EXTERNAL: True,
            }
            if kind == "user":
                principal["GroupList"] = []
            self.externals[arn] = principal
            self.iam[list_key].append(principal)
        return principal

    def _attach(self, kind: str, value: Any, arn: str) -> None:
        """A managed policy attached to a principal: the file's own, or (for a policy of the
        files, whose grants must be judged with the principals they reach) a stand-in for one
        the files do not define; a policy from outside the files only on the files' own."""
        principal = self._owner(kind, value) if arn in self.by_arn else self._principal(kind, value)
        if principal is None:
            return
        principal["AttachedManagedPolicies"].append(
            {"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn}
        )
        if arn in self.by_arn:
            self.by_arn[arn]["AttachmentCount"] += 1

    def finish(self) -> None:
        """Policies and attachments that name principals (which may come later in the file)."""
        for res in self.later:
            p = res.properties
            loc = self.file.location(res)
            if res.type == "attach":
                which = next(k for k in ("role", "user", "group") if k in p)
                self._attach(which, p[which], self._policy_arn(str(p["arn"])))
            elif res.type == "membership":
                user = self._principal("user", p["user"])
                group = self._principal("group", p["group"])
                if user is not None and group is not None:
                    user["GroupList"].append(group["GroupName"])
            elif res.type in (
                "AWS::IAM::Policy",
                "aws_iam_role_policy",
                "aws_iam_user_policy",
                "aws_iam_group_policy",
            ):
                name = str(p.get("PolicyName", p.get("name")) or res.address)
                document = _document(p.get("PolicyDocument", p.get("policy")))
                targets: list[tuple[str, Any]] = []
                if res.type == "AWS::IAM::Policy":
                    for kind, key in (("role", "Roles"), ("user", "Users"), ("group", "Groups")):
                        targets += [(kind, v) for v in _elements(p.get(key))]
                else:
                    kind = res.type.split("_")[2]
                    targets.append((kind, p.get(kind)))
                for kind, value in targets:
                    principal = self._owner(kind, value)
                    if principal is None:
                        continue
                    key = {
                        "role": "RolePolicyList",
                        "user": "UserPolicyList",
                        "group": "GroupPolicyList",
                    }[kind]
                    principal[key].append(
                        {"PolicyName": name, "PolicyDocument": document, LOCATION: loc}
                    )
            elif res.type in (
                "aws_iam_role_policy_attachment",
                "aws_iam_user_policy_attachment",
                "aws_iam_group_policy_attachment",
            ):
                owner = res.type.split("_")[2]
                self._attach(owner, p.get(owner), self._policy_arn(str(p.get("policy_arn"))))
            elif res.type == "aws_iam_policy_attachment":
                # one policy on sets of role, user and group names (an exclusive attachment:
                # https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_policy_attachment)
                arn = self._policy_arn(str(p.get("policy_arn")))
                for kind, key in (("role", "roles"), ("user", "users"), ("group", "groups")):
                    for value in _elements(p.get(key)):
                        self._attach(kind, value, arn)
            elif res.type == "AWS::IAM::UserToGroupAddition":
                group = self._principal("group", p.get("GroupName"))
                for value in _elements(p.get("Users")):
                    user = self._principal("user", value)
                    if user is not None and group is not None:
                        user["GroupList"].append(group["GroupName"])
            elif res.type in ("aws_iam_user_group_membership",):
                user = self._principal("user", p.get("user"))
                for value in _elements(p.get("groups")):
                    group = self._principal("group", value)
                    if user is not None and group is not None:
                        user["GroupList"].append(group["GroupName"])
            elif res.type in ("aws_iam_group_membership",):
                group = self._principal("group", p.get("group"))
                for value in _elements(p.get("users")):
                    user = self._principal("user", value)
                    if user is not None and group is not None:
                        user["GroupList"].append(group["GroupName"])


_PRINCIPAL_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "aws_iam_role",
        "aws_iam_user",
        "aws_iam_group",
    }
)
# kind -> (GetAccountAuthorizationDetails list, name field, inline policy list)
_PRINCIPAL_KEYS = {
    "role": ("RoleDetailList", "RoleName", "RolePolicyList"),
    "user": ("UserDetailList", "UserName", "UserPolicyList"),
    "group": ("GroupDetailList", "GroupName", "GroupPolicyList"),
}

# Terraform data sources that only say where the plan runs: the same as the pseudo-parameters.
_DATA_SCOPE = re.compile(
    r"\$\{(?:module\.[^.}]+\.)*data\.(aws_caller_identity|aws_region|aws_partition)\.[^.}]+\."
    r"(account_id|name|id|region|partition)\}"
)


class _Scope:
    """Replaces what only says where the stack runs (``${AWS::Region}``, Terraform's
    ``data.aws_region``) by the account, Region and partition of the snapshot."""

    def __init__(
        self,
        pseudo: dict[str, str],
        account: str,
        region: str,
        partition: str,
        renames: dict[str, str],
    ) -> None:
        self.pseudo = pseudo
        self.data = {
            "aws_caller_identity": account,
            "aws_region": region,
            "aws_partition": partition,
        }
        self.renames = renames

    def _rename(self, match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref in self.renames:
            return symbol(self.renames[ref])
        head, dot, tail = ref.partition(".")
        while dot:  # the longest address that starts the reference (Terraform has dots)
            if head in self.renames:
                return symbol(f"{self.renames[head]}.{tail}")
            more, dot, tail = tail.partition(".")
            head = f"{head}.{more}"
        return match.group(0)

    def _one(self, match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind == "aws_caller_identity" and match.group(2) != "account_id":
            return match.group(0)
        return self.data[kind]

    def replace(self, value: Any) -> Any:
        if isinstance(value, str):
            if "${" not in value:
                return value
            for old, new in self.pseudo.items():
                if old in value:
                    value = value.replace(old, new)
            if "${" in value:
                value = _DATA_SCOPE.sub(self._one, value)
            if self.renames and "${" in value:
                value = SYMBOL.sub(self._rename, value)
            return value
        if isinstance(value, list):
            return [self.replace(v) for v in value]
        if isinstance(value, dict):
            return {k: self.replace(v) for k, v in value.items()}
        return value


def _inline(policies: Any, loc: dict[str, Any]) -> list[dict[str, Any]]:
    """Inline policies of a principal (CloudFormation ``Policies``, Terraform
    ``inline_policy``) as GetAccountAuthorizationDetails lists them."""
    return [
        {
            "PolicyName": str(policy.get("PolicyName", policy.get("name"))),
            "PolicyDocument": _document(policy.get("PolicyDocument", policy.get("policy"))),
            LOCATION: loc,
        }
        for policy in policies or []
        if isinstance(policy, dict)
    ]


def _elements(value: Any) -> list[Any]:
    """The elements of a list of names or ARNs (``roles``, ``Groups``, ``managed_policy_arns``):
    a whole list that only deploy time knows is one symbol, which stands for what it names (and
    is never read as a string of one-character names)."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [v for v in value if v is not None and v != ""]
    return []


def _attachment(res: IacResource, kind: str, arn: Any) -> IacResource:
    return IacResource(
        res.address, "attach", {kind: symbol(res.address), "arn": arn}, res.path, res.line
    )


def _membership(res: IacResource, group: Any, user: str) -> IacResource:
    return IacResource(
        res.address, "membership", {"user": symbol(user), "group": group}, res.path, res.line
    )


def _document(value: Any) -> Any:
    """A policy document as an object (Terraform gives JSON strings)."""
    if isinstance(value, str) and not is_unknown(value):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value if value is not None else {"Version": "2012-10-17", "Statement": []}


def to_snapshot(
    files: Iterable[IacFile], account: str | None, region: str | None
) -> tuple[dict[str, Any], list[str]]:
    """One snapshot document from IaC files, and notes for stderr."""
    mapper = Mapper(account, region)
    kinds = set()
    files = list(files)
    labels: set[str] = set()
    for iac in files:
        kinds.add(iac.kind)
        label = None
        if len(files) > 1:
            base = re.sub(r"[^A-Za-z0-9_.-]", "_", PurePath(iac.path).stem) or "file"
            label, n = base, 1
            while label in labels:
                n += 1
                label = f"{base}~{n}"
            labels.add(label)
        mapper.add(iac, label)
    kind = next(iter(kinds)) if len(kinds) == 1 else "merged-iac"
    return mapper.document(kind), mapper.notes
