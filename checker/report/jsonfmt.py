"""``--format json``: the report document of CONTRACTS section 3.

Streamed in pieces, one finding per line: a large account has a hundred thousand findings, and
neither the whole document nor its text is ever held at once. Each finding is encoded by the C
JSON encoder (which ``indent`` would disable). Same report, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from checker.model.report import Report, finding_dict


def render(report: Report, **_: object) -> Iterator[str]:
    """The JSON report, piece by piece."""
    head = report.to_dict(with_findings=False)
    text = json.dumps(head, indent=2, ensure_ascii=False)
    yield text[: text.rindex("}")].rstrip()
    if report.access is not None:
        yield from _array("access", report.access)
    yield from _findings(report)
    yield "\n}\n"


def _findings(report: Report) -> Iterator[str]:
    """The findings array, each line written directly: the same bytes as
    ``json.dumps(finding_dict(f))``, without building a dict per finding, and with each
    resource (grant findings share their policy's) encoded once."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    resources: dict[int, str] = {}  # the report keeps every resource alive: ids are stable
    yield ',\n  "findings": ['
    separator = "\n    "
    for f in report.findings:
        resource = resources.get(id(f.resource))
        if resource is None:
            resource = resources[id(f.resource)] = encode(finding_dict(f)["resource"])
        location = (
            "null"
            if f.location is None
            else encode({"path": f.location.path, "line": f.location.line})
        )
        waiver = "null" if f.waiver is None else encode(f.waiver)
        # id, rule_id, status and severity are plain ASCII (uuid, RIA###, enum values)
        yield (
            f'{separator}{{"id": "{f.id}", "rule_id": "{f.rule_id}", "status":'
            f' "{f.status.value}", "severity": "{f.severity.value}", "resource": {resource},'
            f' "message": {encode(f.message)}, "evidence": {encode(f.evidence)},'
            f' "location": {location}, "waiver": {waiver}}}'
        )
        separator = ",\n    "
    yield "]" if not report.findings else "\n  ]"


def _array(key: str, items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """``,\n  "key": [`` then one item per line."""
    # One encoder for all items: json.dumps with options builds a new one per call.
    encode = json.JSONEncoder(ensure_ascii=False).encode
    yield f',\n  "{key}": ['
    separator, empty = "\n    ", True
    for item in items:
        yield separator + encode(item)
        separator, empty = ",\n    ", False
    yield "]" if empty else "\n  ]"
