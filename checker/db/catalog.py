"""The catalog queries ``rdsiam db-users`` runs, and the rows they give, from a driver or from
the CSV that ``psql --csv`` / ``mysql --batch`` print for the same query.

Both queries only read the catalog. The column names are the contract between the query and
the CSV reader: a CSV file is recognized by its header.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

POSTGRES_SQL = """\
SELECT r.rolname AS name,
       r.rolcanlogin AS login,
       r.rolreplication AS replication,
       (SELECT COALESCE(json_agg(g.rolname ORDER BY g.rolname), '[]'::json)
          FROM pg_catalog.pg_auth_members m
          JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
         WHERE m.member = r.oid)::text AS member_of
  FROM pg_catalog.pg_roles r
 WHERE r.rolname !~ '^pg_'
 ORDER BY r.rolname;
"""

MYSQL_SQL = """\
SELECT User AS name, Host AS host, plugin, ssl_type
  FROM mysql.user
 ORDER BY User, Host;
"""

SQL = {"postgres": POSTGRES_SQL, "mysql": MYSQL_SQL}
POSTGRES_COLUMNS = ("name", "login", "replication", "member_of")
MYSQL_COLUMNS = ("name", "host", "plugin", "ssl_type")


class CatalogError(ValueError):
    """A row or file that is not the output of the catalog query; ``where`` says which line."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where


def _flag(value: Any, column: str, where: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"t", "true", "1", "yes", "on"}:
        return True
    if text in {"f", "false", "0", "no", "off"}:
        return False
    raise CatalogError(f"column {column}: '{value}' is not a boolean", where)


def _roles(value: Any, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("{") and text.endswith("}"):  # a PostgreSQL array literal, unquoted names
        return [v.strip('"') for v in text[1:-1].split(",") if v]
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        raise CatalogError(f"column member_of: '{value}' is not a JSON array", where) from None
    if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
        raise CatalogError("column member_of: not a JSON array of role names", where)
    return parsed


def postgres_users(
    rows: Iterable[Sequence[Any]], where: str = "row", first: int = 1
) -> list[dict[str, Any]]:
    """Snapshot user rows from ``POSTGRES_SQL`` rows (name, login, replication, member_of);
    errors name ``<where> <number>``, counting from ``first``."""
    out = []
    for number, row in enumerate(rows, first):
        at = f"{where} {number}"
        name, login, replication, member_of = row
        user: dict[str, Any] = {"name": str(name), "member_of": _roles(member_of, at)}
        for column, value in (("login", login), ("replication", replication)):
            flag = _flag(value, column, at)
            if flag is not None:
                user[column] = flag
        out.append(user)
    return out


def mysql_users(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Snapshot user rows from ``MYSQL_SQL`` rows (name, host, plugin, ssl_type)."""
    out = []
    for row in rows:
        name, host, plugin, ssl_type = (_text(v) for v in row)
        user: dict[str, Any] = {"name": name or ""}
        for key, value in (("host", host), ("plugin", plugin), ("ssl_type", ssl_type)):
            if value is not None:
                user[key] = value
        out.append(user)
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


def sniff(text: str) -> str | None:
    """``postgres`` or ``mysql`` when the first line is the header of a catalog query's
    CSV (``psql --csv``) or tab-separated (``mysql --batch``) output, else None."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    for engine, columns in (("postgres", POSTGRES_COLUMNS), ("mysql", MYSQL_COLUMNS)):
        if first in (",".join(columns), "\t".join(columns)):
            return engine
    return None


def users_from_text(text: str, engine: str) -> list[dict[str, Any]]:
    """Parse a catalog query's CSV or tab-separated output (header first)."""
    text = text.lstrip("\ufeff")
    header = text.split("\n", 1)[0]
    columns = POSTGRES_COLUMNS if engine == "postgres" else MYSQL_COLUMNS
    if "\t" in header:
        rows = [_unescape_batch(line) for line in text.splitlines()[1:] if line]
    else:
        rows = list(csv.reader(io.StringIO(text)))[1:]
    for number, row in enumerate(rows, 2):
        if len(row) != len(columns):
            raise CatalogError(
                f"{len(row)} columns where the header has {len(columns)}", f"line {number}"
            )
    if engine == "postgres":
        return postgres_users(rows, "line", 2)  # line 1 is the header
    return mysql_users([None if v == "NULL" else v for v in row] for row in rows)


def _unescape_batch(line: str) -> list[str]:
    r"""A ``mysql --batch`` line: tab-separated, with \t \n \\ \0 escaped."""
    out = []
    for field in line.split("\t"):
        value, i = [], 0
        while i < len(field):
            ch = field[i]
            if ch == "\\" and i + 1 < len(field):
                nxt = field[i + 1]
                value.append({"t": "\t", "n": "\n", "\\": "\\", "0": "\0"}.get(nxt, nxt))
                i += 2
            else:
                value.append(ch)
                i += 1
        out.append("".join(value))
    return out
