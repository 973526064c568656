"""Engine names and version parsing shared by the knowledge tables and the rules.

REVIEWED: 2026-11-28
Engine values: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
"""

from __future__ import annotations

import re
from functools import lru_cache

REVIEWED = "2026-11-28"
SOURCE_URL = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"

# DescribeDBInstances / DescribeDBClusters also return these; they are not RDS databases.
NON_RDS_ENGINES = frozenset({"neptune", "docdb"})

POSTGRES_ENGINES = frozenset({"postgres", "aurora-postgresql"})
MYSQL_ENGINES = frozenset({"mysql", "mariadb", "aurora-mysql", "aurora"})

_NUM = re.compile(r"\d+")
_AURORA_MYSQL = re.compile(r"mysql_aurora\.(\d+)")


def is_rds_engine(engine: str) -> bool:
    """False for engines the RDS API returns that are not RDS databases (Neptune, DocumentDB)."""
    return engine.lower() not in NON_RDS_ENGINES


def is_aurora(engine: str) -> bool:
    """True for Aurora MySQL (including the legacy ``aurora`` engine) and Aurora PostgreSQL."""
    return engine.lower().startswith("aurora")


@lru_cache(maxsize=4096)  # a run asks about the same few versions thousands of times
def version_tuple(version: str | None) -> tuple[int, ...]:
    """The leading numeric parts of an engine version: ``"10.11.6"`` -> ``(10, 11, 6)``."""
    if not version:
        return ()
    parts: list[int] = []
    for piece in version.split("."):
        match = _NUM.match(piece)
        if not match:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    return tuple(parts)


@lru_cache(maxsize=4096)
def major_version(engine: str, version: str | None) -> str | None:
    """The major version as AWS names it in its tables.

    PostgreSQL 10 and later: ``"15"``; before 10: ``"9.6"``. MySQL / MariaDB: ``"8.0"``,
    ``"10.11"``. Aurora MySQL: the Aurora major (``"2"``, ``"3"``); the legacy ``aurora``
    engine is Aurora MySQL 1.
    """
    engine = engine.lower()
    nums = version_tuple(version)
    if engine == "aurora":
        return "1"
    if engine == "aurora-mysql":
        match = _AURORA_MYSQL.search(version or "")
        if match:
            return match.group(1)
        by_mysql: dict[tuple[int, ...], str] = {(5, 6): "1", (5, 7): "2", (8, 0): "3"}
        return by_mysql.get(nums[:2])
    if not nums:
        return None
    if engine in POSTGRES_ENGINES:
        if nums[0] >= 10 or len(nums) < 2:
            return str(nums[0])
        return f"{nums[0]}.{nums[1]}"
    if len(nums) >= 2:
        return f"{nums[0]}.{nums[1]}"
    return str(nums[0])


def parameter_group_family(engine: str, version: str | None) -> str | None:
    """The DBParameterGroupFamily of an engine version (``postgres15``, ``aurora-mysql8.0``)."""
    engine = engine.lower()
    nums = version_tuple(version)
    if engine == "aurora":
        return "aurora5.6"
    if engine == "aurora-mysql":
        return f"aurora-mysql{nums[0]}.{nums[1]}" if len(nums) >= 2 else None
    major = major_version(engine, version)
    if major is None:
        return None
    if engine in {"postgres", "aurora-postgresql", "mysql", "mariadb"}:
        return f"{engine}{major}"
    return None
