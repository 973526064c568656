"""``--format json``: the report document of CONTRACTS section 3.

Streamed in pieces, one finding per line: a large account has a hundred thousand findings, and
neither the whole document nor its text is ever held at once. Each finding is encoded by the C
JSON encoder (which ``indent`` would disable). Same report, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from checker.model.report import Report, finding_dict


def render(report: Report, **_: object) -> Iterator[str]:
    """The JSON report, piece by piece."""
    head = report.to_dict(with_findings=False)
    text = json.dumps(head, indent=2, ensure_ascii=False)
    yield text[: text.rindex("}")].rstrip() + ',\n  "findings": ['
    separator = "\n    "
    for finding in report.findings:
        yield separator + json.dumps(finding_dict(finding), ensure_ascii=False)
        separator = ",\n    "
    yield "\n  ]\n}\n" if report.findings else "]\n}\n"
