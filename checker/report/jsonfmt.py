"""``--format json``: the report document of CONTRACTS section 3."""

from __future__ import annotations

import json

from checker.model.report import Report


def render(report: Report, **_: object) -> str:
    """Deterministic JSON: same report, same bytes."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
