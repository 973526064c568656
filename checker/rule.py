"""The rule base class, severities, statuses and findings.

A rule is a class with its metadata as class attributes and its documentation as the docstring
(fixed Markdown sections). ``evaluate`` is a pure function of the snapshot and the context:
no I/O, no clock, no globals.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from checker.model.snapshot import DBCluster, DBInstance, DBProxy

if TYPE_CHECKING:
    from checker.context import Context
    from checker.model.snapshot import Snapshot


class Severity(enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.INFO: 1,
}


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


RESOURCE_TYPES = {
    DBInstance: "AWS::RDS::DBInstance",
    DBCluster: "AWS::RDS::DBCluster",
    DBProxy: "AWS::RDS::DBProxy",
}


@dataclass(frozen=True, slots=True)
class Resource:
    """What a finding is about."""

    type: str
    id: str
    arn: str | None = None
    account_id: str | None = None
    region: str | None = None

    @classmethod
    def of(cls, item: DBInstance | DBCluster | DBProxy) -> Resource:
        """The resource reference of a snapshot item (made once per item: the thirty rules
        that judge a database share it)."""
        private: dict[str, Any] = item.__pydantic_private__  # type: ignore[assignment]
        made: Resource | None = private["_resource"]
        if made is None:
            scope = item.scope
            made = cls(
                RESOURCE_TYPES[type(item)], item.id, item.arn, scope.account_id, scope.region
            )
            private["_resource"] = made
        return made


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int | None = None
    # IaC: the logical id / address of the resource the finding's item is written in (for
    # waivers in a resource's Metadata); not part of the report's location
    address: str | None = field(default=None, compare=False)


@dataclass(slots=True)
class Finding:
    rule_id: str
    status: Status
    severity: Severity
    resource: Resource
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    location: Location | None = None
    waiver: dict[str, Any] | None = None
    id: str = ""
    baseline: str | None = None  # "new" or "known", when the run has a baseline

    @property
    def waived(self) -> bool:
        """A failure under an active (unexpired) waiver: reported, not counted."""
        return self.waiver is not None and self.waiver.get("state") == "active"

    @property
    def counts(self) -> bool:
        """A failure that fails the run if its severity reaches ``--fail-on``: not waived, and
        not one the baseline already had."""
        return self.status is Status.FAIL and not self.waived and self.baseline != "known"

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.rule_id, self.resource.arn or self.resource.id, self.subject, self.id)


Subject = DBInstance | DBCluster | DBProxy | Resource

DOC_SECTIONS = (
    "What it checks",
    "Why it matters",
    "Not applicable when",
    "Remediation",
    "References",
)


class Rule:
    """Base class of every rule; subclasses set the metadata and implement ``evaluate``."""

    id: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    resource_type: ClassVar[str | tuple[str, ...]]
    reads: ClassVar[tuple[str, ...]]
    # A rule's compliance controls are data: checker/knowledge/controls.json (checker.controls)
    source_url: ClassVar[str]

    def evaluate(self, snap: Snapshot, ctx: Context) -> Iterable[Finding]:
        """Yield one finding per resource this rule applies to."""
        raise NotImplementedError

    # -- documentation -------------------------------------------------------------------

    @classmethod
    def doc(cls) -> str:
        """The rule's docstring, dedented."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def title(cls) -> str:
        """The docstring's first line: the desired condition."""
        return cls.doc().splitlines()[0].strip() if cls.__doc__ else cls.name

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The docstring's ``## `` sections by heading."""
        out: dict[str, str] = {}
        current: str | None = None
        for line in cls.doc().splitlines()[1:]:
            if line.startswith("## "):
                current = line[3:].strip()
                out[current] = ""
            elif current is not None:
                out[current] += line + "\n"
        return {k: v.strip() for k, v in out.items()}

    @classmethod
    def resource_types(cls) -> tuple[str, ...]:
        rt = cls.resource_type
        return (rt,) if isinstance(rt, str) else rt

    # -- outcomes --------------------------------------------------------------------------

    def _finding(
        self,
        status: Status,
        subject: Subject,
        message: str,
        evidence: Mapping[str, Any] | None,
        key: str,
    ) -> Finding:
        resource = subject if type(subject) is Resource else Resource.of(subject)  # type: ignore[arg-type]
        # a finding owns its evidence: a dict is taken as given (callers build a new one per
        # finding), anything else is copied
        owned = evidence if type(evidence) is dict else dict(evidence or {})
        return Finding(self.id, status, self.severity, resource, message, owned, key)

    def passed(
        self,
        subject: Subject,
        message: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        key: str = "",
    ) -> Finding:
        return self._finding(Status.PASS, subject, message, evidence, key)

    def failed(
        self,
        subject: Subject,
        message: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        key: str = "",
    ) -> Finding:
        return self._finding(Status.FAIL, subject, message, evidence, key)

    def not_applicable(
        self,
        subject: Subject,
        reason: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        key: str = "",
    ) -> Finding:
        return self._finding(Status.NOT_APPLICABLE, subject, reason, evidence, key)

    def error(
        self,
        subject: Subject,
        message: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        key: str = "",
    ) -> Finding:
        return self._finding(Status.ERROR, subject, message, evidence, key)
