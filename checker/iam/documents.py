"""Every policy document of a GetAccountAuthorizationDetails section, with who it applies to.

Managed policies are read at their default version (``IsDefaultVersion``), wherever that is in
``PolicyVersionList``; inline policies of users, groups and roles are read with their owner.
Documents may be JSON objects or URL-encoded JSON strings, as AWS returns them.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from checker.iam.match import CONNECT, action_matches


class PolicyError(ValueError):
    """A policy document that cannot be read."""


@dataclass(frozen=True, slots=True)
class PolicyDoc:
    """One policy document and the principals it is attached to."""

    kind: str  # "managed" or "inline"
    name: str  # managed: policy name; inline: "<principal name>/<policy name>"
    arn: str | None  # managed policy ARN; inline: the owner's ARN
    document: dict[str, Any]
    attached_to: tuple[str, ...]  # principal ARNs (users, groups, roles)
    error: str | None = None  # why the document could not be read (it is then {})


@dataclass(frozen=True, slots=True)
class Statement:
    """A policy statement with every element as a list (IAM allows a string or a list)."""

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    condition: dict[str, Any]
    # How findings name the statement: its Sid, else its index (stored: every rule asks, for
    # every grant)
    label: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", self.sid or f"#{self.index}")

    def can_grant_connect(self) -> bool:
        """An Allow whose Action (or NotAction) lets ``rds-db:connect`` through."""
        if self.effect != "Allow":
            return False
        if self.not_actions:
            return not any(action_matches(p, CONNECT) for p in self.not_actions)
        return any(action_matches(p, CONNECT) for p in self.actions)


def load_document(value: Any) -> dict[str, Any]:
    """A policy document as a dict, from a dict or a URL-encoded JSON string."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        for text in (value, unquote(value)):
            try:
                doc = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict):
                return doc
    raise PolicyError("policy document is neither a JSON object nor URL-encoded JSON")


def _listed(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def statements(document: dict[str, Any]) -> list[Statement]:
    """The statements of a document, normalized."""
    raw = document.get("Statement", [])
    items = [raw] if isinstance(raw, dict) else list(raw)
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PolicyError(f"statement {index} is not an object")
        out.append(
            Statement(
                index=index,
                sid=item.get("Sid"),
                effect=str(item.get("Effect", "")),
                actions=_listed(item.get("Action")),
                not_actions=_listed(item.get("NotAction")),
                resources=_listed(item.get("Resource")),
                not_resources=_listed(item.get("NotResource")),
                condition=dict(item.get("Condition") or {}),
            )
        )
    return out


def iter_policies(iam: dict[str, Any]) -> Iterator[PolicyDoc]:
    """Every managed (default version) and inline policy, with its attachments."""
    attachments: dict[str, list[str]] = {}
    owners = (
        ("UserDetailList", "UserName", "UserPolicyList"),
        ("GroupDetailList", "GroupName", "GroupPolicyList"),
        ("RoleDetailList", "RoleName", "RolePolicyList"),
    )
    for list_key, name_key, inline_key in owners:
        for principal in iam.get(list_key, []):
            owner_arn = principal.get("Arn")
            for attached in principal.get("AttachedManagedPolicies", []):
                if owner_arn and attached.get("PolicyArn"):
                    attachments.setdefault(attached["PolicyArn"], []).append(owner_arn)
            for inline in principal.get(inline_key, []):
                document, error = _read(inline.get("PolicyDocument"))
                yield PolicyDoc(
                    kind="inline",
                    name=f"{principal.get(name_key)}/{inline.get('PolicyName')}",
                    arn=owner_arn,
                    document=document,
                    attached_to=(owner_arn,) if owner_arn else (),
                    error=error,
                )
    for policy in iam.get("Policies", []):
        versions = policy.get("PolicyVersionList", [])
        default = next((v for v in versions if v.get("IsDefaultVersion")), None)
        if default is None:
            default = next(
                (v for v in versions if v.get("VersionId") == policy.get("DefaultVersionId")), None
            )
        if default is None:
            continue
        arn = policy.get("Arn")
        document, error = _read(default.get("Document"))
        yield PolicyDoc(
            kind="managed",
            name=str(policy.get("PolicyName") or arn),
            arn=arn,
            document=document,
            attached_to=tuple(sorted(attachments.get(arn or "", []))),
            error=error,
        )


def _read(value: Any) -> tuple[dict[str, Any], str | None]:
    """A document, or {} and the reason it cannot be read (one bad policy spoils no other)."""
    try:
        return load_document(value), None
    except PolicyError as exc:
        return {}, str(exc)
