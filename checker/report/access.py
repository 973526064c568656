"""Rendering of the access matrix (``rdsiam access``): table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence

from checker.iam.access import AccessRow

COLUMNS = (
    "account_id",
    "principal",
    "principal_type",
    "database",
    "resource_id",
    "region",
    "db_user",
    "databases_matched",
    "target_exists",
    "target_iam_enabled",
    "policy",
    "statement",
    "via",
    "resource",
    "conditions",
    "assumable_by",
    "notes",
)


def render(rows: Sequence[AccessRow], fmt: str) -> Iterator[str]:
    if fmt == "json":
        yield json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            data = row.to_dict()
            writer.writerow([_cell(data[c]) for c in COLUMNS])
        yield out.getvalue()
    else:
        yield from _table(rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return str(value)


def _table(rows: Sequence[AccessRow]) -> Iterator[str]:
    header = ("PRINCIPAL", "DATABASE", "DB USER", "GRANTED BY", "NOTES")
    lines = [header]
    for row in rows:
        principal = row.principal.split(":", 5)[-1]
        if row.target_exists is not None:  # a concrete grant, found or not
            database = f"{row.database or '?'} ({row.resource_id}, {row.region})"
        else:
            where = f"{row.region}" if row.region else "any Region"
            database = f"{row.resource_id} in {where}: {row.databases_matched} database(s)"
        notes = list(row.notes)
        if row.target_exists is False:
            notes.append("no such database")
        elif row.target_iam_enabled is False:
            notes.append("IAM auth disabled on the target")
        if row.conditions:
            notes.append("conditions: " + json.dumps(row.conditions, sort_keys=True))
        if row.assumable_by:
            notes.append("assumable by " + ", ".join(row.assumable_by))
        lines.append(
            (principal, database, row.db_user, f"{row.policy} {row.statement}", "; ".join(notes))
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        yield "  ".join([*cells, line[-1]]).rstrip() + "\n"
    yield f"{len(rows)} row(s)\n"
