"""Offline inputs: rdsiam snapshots and raw AWS CLI JSON outputs, detected by content.

Each file becomes one or more fragments (a section of data for an account and Region, where
known); ``merge`` places them into one snapshot document, resolving what a file could not say
about itself (which account a ``describe-certificates`` output belongs to, which database uses a
parameter group) from the other inputs or from ``--account`` / ``--region``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker import contract
from checker.errors import InputError, NoInputs
from checker.iac.model import IacFile
from checker.model.report import InputFile

# Raw AWS CLI outputs: top-level key -> (kind, schema definition of its items, snapshot section).
CLI_LISTS = {
    "DBInstances": ("describe-db-instances", "DBInstance", "DBInstances"),
    "DBClusters": ("describe-db-clusters", "DBCluster", "DBClusters"),
    "DBProxies": ("describe-db-proxies", "DBProxy", "DBProxies"),
    "Targets": ("describe-db-proxy-targets", "DBProxyTarget", "DBProxyTargets"),
    "Certificates": ("describe-certificates", "Certificate", "Certificates"),
    "OrderableDBInstanceOptions": (
        "describe-orderable-db-instance-options",
        "OrderableDBInstanceOption",
        "OrderableDBInstanceOptions",
    ),
    "Parameters": ("describe-db-parameters", "Parameter", "Parameters"),
}
IAM_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
ARN_FIELD = {
    "DBInstances": "DBInstanceArn",
    "DBClusters": "DBClusterArn",
    "DBProxies": "DBProxyArn",
    "Certificates": "CertificateArn",
    "DBProxyTargets": "TargetArn",
}
ITEM_KEY = {
    "DBInstances": "DBInstanceIdentifier",
    "DBClusters": "DBClusterIdentifier",
    "DBProxies": "DBProxyName",
    "Certificates": "CertificateIdentifier",
}
_ARN = re.compile(r"^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:")
IAC_KINDS = ("cloudformation", "terraform-plan")
YAML_SUFFIXES = (".yaml", ".yml", ".template")
_RESOURCE_ID = re.compile(r"^(db|cluster)-[A-Za-z0-9]+$")
_AZ = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$")


@dataclass
class Fragment:
    """Data one file contributes: a section for an account and Region, either maybe unknown."""

    path: str
    section: str
    payload: Any
    account_id: str | None = None
    partition: str | None = None
    region: str | None = None
    name: str | None = None  # parameter group or proxy name, from the file name


@dataclass
class Loaded:
    """Every fragment of every input, and the input files with their hashes."""

    fragments: list[Fragment] = field(default_factory=list)
    inputs: list[InputFile] = field(default_factory=list)
    snapshots: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    iac: list[IacFile] = field(default_factory=list)  # CloudFormation templates, Terraform plans


def iter_files(paths: Sequence[str]) -> Iterator[tuple[str, bool]]:
    """(file, given explicitly) for every path; directories are walked, hidden entries skipped."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = False
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        found = True
                        yield os.path.join(root, name), False
            if not found:
                raise InputError(raw, "directory holds no input files")
        elif path.exists():
            yield raw, True
        else:
            raise InputError(raw, "no such file or directory")


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None


def parse_json(path: str, data: bytes) -> Any:
    """The JSON document, or an InputError with the line and column of the mistake."""
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"invalid JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None


def looks_like_json(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


@dataclass
class IacOptions:
    """What templates cannot say themselves: parameter values, account and Region."""

    parameters: dict[str, str] = field(default_factory=dict)
    account: str | None = None
    region: str | None = None
    skip_unknown: bool = False  # unrecognized files given by name are skipped, not an error


def load(
    paths: Sequence[str], resource_id: str | None = None, iac: IacOptions | None = None
) -> Loaded:
    """Read and classify every input; raise InputError on the first bad one.

    ``resource_id`` ties database-user CSV files whose name is not a resource id to their
    database; ``iac`` gives templates their parameters, account and Region.
    """
    out = Loaded()
    iac = iac or IacOptions()
    for path, explicit in iter_files(paths):
        data = read(path)
        if not looks_like_json(data):
            kind = _users_csv(path, data, resource_id, out)
            if kind is None and (explicit or path.endswith(YAML_SUFFIXES)):
                try:
                    kind = _yaml_template(path, data, iac, out)
                except InputError as exc:
                    if not iac.skip_unknown:
                        raise
                    out.notes.append(f"{exc}; skipped")
                    continue
            if kind is not None:
                out.inputs.append(InputFile(path, kind, hashlib.sha256(data).hexdigest()))
                continue
            if explicit and not iac.skip_unknown:
                raise InputError(
                    path,
                    "not a recognized input (expected an rdsiam snapshot or AWS CLI JSON output)",
                )
            out.notes.append(f"{path}: skipped, not a JSON input")
            continue
        digest = hashlib.sha256(data).hexdigest()
        doc = parse_json(path, data)  # json.loads(bytes) detects the encoding and a BOM
        kind = _json_iac(path, data, doc, iac, out)
        del data
        if kind is None:
            kind = classify(path, doc, out)
        if kind is None:
            if explicit and not iac.skip_unknown:
                raise InputError(
                    path,
                    "not a recognized input (expected an rdsiam snapshot or AWS CLI JSON output)",
                )
            out.notes.append(f"{path}: skipped, not a recognized JSON input")
            continue
        out.inputs.append(InputFile(path, kind, digest))
    if not out.inputs:
        raise NoInputs(", ".join(paths), "no recognized inputs")
    if out.iac and (out.snapshots or out.fragments):
        other = next(i.path for i in out.inputs if i.kind not in IAC_KINDS)
        raise InputError(
            other,
            "templates and plans are checked on their own, not merged with snapshots or AWS"
            " exports; run them separately",
        )
    return out


def _validate(path: str, doc: Any, validator: Any) -> None:
    error = contract.first_error(validator, doc)
    if error is not None:
        raise InputError(path, error[1], error[0])


def classify(path: str, doc: Any, out: Loaded) -> str | None:
    """Recognize ``doc``, validate it, and add its fragments to ``out``; None if unknown."""
    if not isinstance(doc, dict):
        return None
    fmt = doc.get("format")
    if fmt == "rdsiam-snapshot":
        _validate(path, doc, contract.validator("snapshot.schema.json"))
        out.snapshots.append((path, doc))
        return "snapshot"
    if fmt == "rdsiam-database-users":
        wrapped = {"databases": [doc]}
        error = contract.first_error(
            contract.validator("snapshot.schema.json", "DatabaseUsers", "databases"), wrapped
        )
        if error is not None:
            raise InputError(path, error[1], error[0].replace("$.databases[0]", "$", 1))
        account = doc.get("account_id")
        if account is not None and not (
            isinstance(account, str) and len(account) == 12 and account.isdigit()
        ):
            raise InputError(path, "account_id is not a 12-digit AWS account id", "$.account_id")
        users = {k: v for k, v in doc.items() if k not in ("format", "version", "account_id")}
        out.fragments.append(Fragment(path, "databases", users, account))
        return "database-users"
    if fmt == "rdsiam-report":
        raise InputError(
            path, "this is an rdsiam report, not an input; check the snapshot it was made from"
        )
    if "EngineDefaults" in doc and isinstance(doc["EngineDefaults"], dict):
        defaults = doc["EngineDefaults"]
        family = defaults.get("DBParameterGroupFamily")
        if not isinstance(family, str):
            raise InputError(
                path, "EngineDefaults has no DBParameterGroupFamily", "$.EngineDefaults"
            )
        wrapped = {"Parameters": defaults.get("Parameters", [])}
        _validate(
            path, wrapped, contract.validator("snapshot.schema.json", "Parameter", "Parameters")
        )
        out.fragments.append(Fragment(path, "EngineDefaults", wrapped["Parameters"], name=family))
        return "describe-engine-default-parameters"
    if any(k in doc for k in IAM_KEYS) and all(isinstance(doc.get(k, []), list) for k in IAM_KEYS):
        account, partition = _iam_owner(doc)
        iam = {k: doc.get(k, []) for k in IAM_KEYS}
        out.fragments.append(Fragment(path, "iam", iam, account, partition))
        return "get-account-authorization-details"
    for key, (kind, definition, section) in CLI_LISTS.items():
        if key in doc and isinstance(doc[key], list):
            _validate(path, doc, contract.validator("snapshot.schema.json", definition, key))
            _cli_fragments(path, doc[key], section, out)
            return kind
    return None


def _users_csv(path: str, data: bytes, resource_id: str | None, out: Loaded) -> str | None:
    """A catalog query's CSV (``psql --csv``) or ``mysql --batch`` output, tied to its database
    by the file name (``<resource-id>.csv``) or ``--resource-id``; None if it is not one."""
    from checker.db import catalog

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    engine = catalog.sniff(text)
    if engine is None:
        return None
    stem = Path(path).stem
    rid = stem if _RESOURCE_ID.match(stem) else resource_id
    if rid is None:
        raise InputError(
            path,
            "cannot tell which database these users belong to: name the file"
            " <resource-id>.csv or pass --resource-id",
        )
    try:
        users = catalog.users_from_text(text, engine)
    except catalog.CatalogError as exc:
        raise InputError(path, str(exc), exc.where) from None
    section = {"resource_id": rid, "engine": engine, "users": users}
    out.fragments.append(Fragment(path, "databases", section))
    return "database-users-csv"


def _yaml_template(path: str, data: bytes, iac: IacOptions, out: Loaded) -> str | None:
    """A CloudFormation template in YAML, or None when the file is not one."""
    from checker.iac import cloudformation

    found = cloudformation.read(
        path, data, parameters=iac.parameters, region=iac.region, account=iac.account
    )
    if found is None:
        return None
    out.iac.append(found)
    return "cloudformation"


def _json_iac(path: str, data: bytes, doc: Any, iac: IacOptions, out: Loaded) -> str | None:
    """A Terraform plan or state (``terraform show -json``), or a CloudFormation template in
    JSON (CDK output included); None for any other JSON."""
    # cheap key tests first: most JSON inputs are snapshots and AWS exports, whose path must not
    # import YAML
    if not isinstance(doc, dict) or not (
        "terraform_version" in doc or "Resources" in doc or "AWSTemplateFormatVersion" in doc
    ):
        return None
    from checker.iac import cloudformation, terraform

    if terraform.looks_like_plan(doc):
        out.iac.append(terraform.read(path, doc))
        return "terraform-plan"
    if cloudformation.looks_like_template(doc):
        found = cloudformation.read(
            path, data, parameters=iac.parameters, region=iac.region, account=iac.account
        )
        if found is not None:
            out.iac.append(found)
            return "cloudformation"
    return None


def _iam_owner(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    for key in IAM_KEYS:
        for item in doc.get(key, []):
            parsed = parse_arn(item.get("Arn") if isinstance(item, dict) else None)
            if parsed and parsed[2]:
                return parsed[2], parsed[0]
    return None, None


def parse_arn(arn: Any) -> tuple[str, str, str | None] | None:
    """(partition, Region, account) of an ARN; Region may be '' and account None."""
    if not isinstance(arn, str):
        return None
    match = _ARN.match(arn)
    if not match:
        return None
    return match.group(1), match.group(3), match.group(4)


def _cli_fragments(path: str, items: list[Any], section: str, out: Loaded) -> None:
    name = Path(path).stem
    if section == "Parameters":
        out.fragments.append(Fragment(path, "Parameters", items, name=name))
        return
    if section == "DBProxyTargets":
        scope = _scope_of(items[0], section) if items else (None, None, None)
        out.fragments.append(Fragment(path, section, items, *scope, name=name))
        return
    groups: dict[tuple[str | None, str | None, str | None], list[Any]] = {}
    for item in items:
        groups.setdefault(_scope_of(item, section), []).append(item)
    if not items:
        groups[(None, None, None)] = []
    for (account, partition, region), members in groups.items():
        out.fragments.append(Fragment(path, section, members, account, partition, region))


def _scope_of(item: dict[str, Any], section: str) -> tuple[str | None, str | None, str | None]:
    """(account, partition, Region) of an AWS item, from its ARN or Availability Zone."""
    parsed = parse_arn(item.get(ARN_FIELD.get(section, "")))
    if parsed:
        partition, region, account = parsed
        return account, partition, region or None
    zone = item.get("AvailabilityZone")
    if section == "OrderableDBInstanceOptions":
        zones = item.get("AvailabilityZones") or []
        zone = zones[0].get("Name") if zones and isinstance(zones[0], dict) else None
    match = _AZ.match(zone) if isinstance(zone, str) else None
    return None, None, match.group(1) if match else None


def note(lines: Iterable[str]) -> None:
    """Print informational notes on stderr (never on stdout, which may carry a report)."""
    for line in lines:
        print(f"rdsiam: {line}", file=sys.stderr)
