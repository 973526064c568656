"""``--format json``: the report document of CONTRACTS section 3.

Streamed in pieces, one finding per line: a large account has hundreds of thousands of findings,
and neither the whole document nor its text is ever held at once. The head is indented; each
finding and access row is one compact line, encoded by orjson (three times the standard
encoder's speed on the 100,000-grant bench). Same report, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from checker.model.report import Report, finding_dict

BATCH = 512


def render(report: Report, **_: object) -> Iterator[str]:
    """The JSON report, piece by piece."""
    head = report.to_dict(with_findings=False)
    text = json.dumps(head, indent=2, ensure_ascii=False)
    yield text[: text.rindex("}")].rstrip()
    if report.access is not None:
        yield from array("access", report.access)
    elif report.access_text is not None:  # built by a worker as this very text
        yield from report.access_text.chunks()
    yield from _findings(report)
    yield "\n}\n"


def _findings(report: Report) -> Iterator[str]:
    """The findings array, one compact finding per line."""
    yield from array("findings", (finding_dict(f) for f in report.findings))


def array(key: str, items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """``,\n  "key": [`` then one compact item per line."""
    yield f',\n  "{key}": ['
    separator, empty = "\n    ", True
    batch: list[str] = []  # a few hundred lines a write: a write per line costs a second
    for item in items:
        batch.append(separator + _encode(item))
        separator, empty = ",\n    ", False
        if len(batch) == BATCH:
            yield "".join(batch)
            batch.clear()
    yield "".join(batch)
    yield "]" if empty else "\n  ]"


def _encode(item: dict[str, Any]) -> str:
    """orjson, compact; the standard encoder for what orjson refuses (integers beyond 64 bits
    in a policy condition, say)."""
    try:
        return orjson.dumps(item).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"))
