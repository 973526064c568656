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
    yield from _array("findings", (finding_dict(f) for f in report.findings))
    yield "\n}\n"


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
