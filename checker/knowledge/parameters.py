"""Documented engine defaults of the TLS parameters, per engine and major version.

REVIEWED: 2026-11-28

Used only when the snapshot has no engine-default answer of its own (``EngineDefaultParameters``
/ ``EngineDefaultClusterParameters``, read live from DescribeEngineDefault[Cluster]Parameters),
which always wins.

- ``rds.force_ssl`` on RDS for PostgreSQL: 0 before version 15, 1 from 15.
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/ssl-certificate-rotation-postgresql.html
- ``require_secure_transport`` on RDS for MySQL: OFF up to 8.4, ON from 9.7.
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html
- ``require_secure_transport`` on RDS for MariaDB: OFF up to 11.4, ON from 11.8; the parameter
  exists from 10.5.
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mariadb-ssl-connections.require-ssl.html
- ``require_secure_transport`` on Aurora MySQL 2 and 3: a DB cluster parameter, default OFF.
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Security.html

Not documented in a primary source (so no default is assumed and the rules report ``error``
rather than guess): Aurora PostgreSQL ``rds.force_ssl`` (only an AWS re:Post article says 0),
MySQL 9.0 to 9.6, Aurora MySQL after 3, the defaults of ``ssl_min_protocol_version`` and
``tls_version``.
"""

from __future__ import annotations

from dataclasses import dataclass

from checker.knowledge.engines import major_version, version_tuple

REVIEWED = "2026-11-28"
PG_FORCE_SSL_URL = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/ssl-certificate-rotation-postgresql.html"
MYSQL_RST_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html"
)
MARIADB_RST_URL = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mariadb-ssl-connections.require-ssl.html"
AURORA_MYSQL_RST_URL = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Security.html"
)

FORCE_SSL = "rds.force_ssl"
REQUIRE_SECURE_TRANSPORT = "require_secure_transport"
SSL_MIN_PROTOCOL_VERSION = "ssl_min_protocol_version"
TLS_VERSION = "tls_version"


@dataclass(frozen=True, slots=True)
class Default:
    """A documented default: ``value`` is None when no primary source gives one."""

    value: str | None
    note: str
    source: str | None = None

    @property
    def known(self) -> bool:
        return self.value is not None


def documented_default(engine: str, version: str | None, parameter: str) -> Default:
    """The documented default of ``parameter`` for this engine version."""
    name = engine.lower()
    nums = version_tuple(version)
    label = f"{engine} {version}" if version else engine
    if parameter == FORCE_SSL:
        if name == "postgres" and nums:
            if nums[0] >= 15:
                return Default(
                    "1",
                    f"{label}: rds.force_ssl defaults to 1 from PostgreSQL 15",
                    PG_FORCE_SSL_URL,
                )
            return Default(
                "0", f"{label}: rds.force_ssl defaults to 0 before PostgreSQL 15", PG_FORCE_SSL_URL
            )
        return Default(None, f"no documented default of rds.force_ssl for {label}")
    if parameter == REQUIRE_SECURE_TRANSPORT:
        if name == "mysql" and nums:
            if nums[:2] <= (8, 4):
                return Default(
                    "0",
                    f"{label}: require_secure_transport defaults to OFF up to 8.4",
                    MYSQL_RST_URL,
                )
            if nums[:2] >= (9, 7):
                return Default(
                    "1", f"{label}: require_secure_transport defaults to ON from 9.7", MYSQL_RST_URL
                )
        if name == "mariadb" and len(nums) >= 2:
            if nums[:2] <= (11, 4):
                return Default(
                    "OFF",
                    f"{label}: require_secure_transport defaults to OFF up to 11.4",
                    MARIADB_RST_URL,
                )
            if nums[:2] >= (11, 8):
                return Default(
                    "ON",
                    f"{label}: require_secure_transport defaults to ON from 11.8",
                    MARIADB_RST_URL,
                )
        if name == "aurora-mysql" and major_version(name, version) in {"2", "3"}:
            return Default(
                "OFF",
                f"Aurora MySQL {major_version(name, version)}:"
                " require_secure_transport defaults to OFF",
                AURORA_MYSQL_RST_URL,
            )
        return Default(None, f"no documented default of require_secure_transport for {label}")
    return Default(None, f"no documented default of {parameter} for {label}")
