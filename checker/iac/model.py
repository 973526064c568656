"""What the IaC readers produce: one record per resource, with where it is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class IacResource:
    """One resource of a template or plan.

    ``address``: the CloudFormation logical id, or the Terraform address
    (``module.db.aws_db_instance.main``). ``type``: ``AWS::RDS::DBInstance`` or
    ``aws_db_instance`` (Terraform data sources keep their ``data.`` prefix in ``address`` and
    are typed ``data.aws_iam_policy_document``). ``properties``: CloudFormation ``Properties``
    or Terraform attribute values, resolved as far as the file allows, with symbols
    (``checker.iac.symbols``) for what only deploy time knows. ``line``: the line of the
    resource in ``path`` (CloudFormation), None when the format has no lines (Terraform plan
    JSON). ``metadata``: CloudFormation ``Metadata`` (waivers live there), else empty.
    """

    address: str
    type: str
    properties: dict[str, Any]
    path: str
    line: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Lines of individual properties where the format has them:
    # "Properties.PolicyDocument.Statement.0.Resource" -> line
    property_lines: dict[str, int] = field(default_factory=dict)
    # The address as written in the file, when several files checked together made ``address``
    # unique with a file label ("Orders@stack"): what a waiver names the resource by.
    written: str | None = None


@dataclass
class IacFile:
    """Everything one template or plan gives."""

    path: str
    kind: str  # "cloudformation" | "terraform-plan"
    resources: list[IacResource]
    region: str | None = None  # when the file says (a plan's provider configuration)
    account_id: str | None = None
    partition: str | None = None
    notes: list[str] = field(default_factory=list)
