"""Connections for ``db-users`` (and ``collect --db-user``, ``doctor``): PostgreSQL through
psycopg 3, MySQL and MariaDB through PyMySQL, both optional (``pip install 'rdsiam[db]'``).

Every session is read-only (``SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`` /
``SET SESSION TRANSACTION READ ONLY``) and runs only the catalog query. IAM tokens are signed
locally by botocore (``generate_db_auth_token``: no AWS call) and never written anywhere.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checker.db import catalog

SSLMODES = ("verify-full", "require", "disable")
DEFAULT_PORTS = {5432: "postgres", 3306: "mysql"}
RDS_CA_BUNDLE = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


class ConnectError(Exception):
    """A failed connection or query, with the step it failed at."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


@dataclass(frozen=True)
class Target:
    """Where and how to connect."""

    host: str
    port: int
    user: str
    engine: str  # postgres | mysql
    dbname: str | None = None
    sslmode: str = "verify-full"
    ca_bundle: str | None = None
    connect_timeout: int = 10


def guess_engine(port: int) -> str | None:
    return DEFAULT_PORTS.get(port)


def password_from_env(var: str) -> str:
    value = os.environ.get(var)
    if value is None:
        raise ConnectError("password", f"environment variable {var} is not set")
    return value


def iam_token(host: str, port: int, user: str, region: str, profile: str | None = None) -> str:
    """A 15-minute IAM authentication token, signed locally with the current credentials."""
    import boto3
    import botocore.exceptions

    try:
        client = boto3.Session(profile_name=profile, region_name=region).client("rds")
        token: str = client.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region
        )
    except botocore.exceptions.BotoCoreError as exc:
        raise ConnectError("token", str(exc)) from None
    return token


def tls_context(target: Target) -> ssl.SSLContext | None:
    """The client TLS context for ``target.sslmode`` (None: no TLS)."""
    if target.sslmode == "disable":
        return None
    if target.sslmode == "require":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        return ssl.create_default_context(cafile=target.ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConnectError("tls", f"cannot read CA bundle {target.ca_bundle}: {exc}") from None


def read_users(target: Target, password: str) -> dict[str, Any]:
    """Connect, run the catalog query read-only, and return a ``databases`` section (without
    its resource id)."""
    read = _postgres if target.engine == "postgres" else _mysql
    users = read(target, password)
    return {
        "engine": target.engine,
        "collected_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "users": users,
    }


def login(target: Target, password: str) -> str:
    """Log in and return the user the server says we are (``doctor``'s last step)."""
    if target.engine == "postgres":
        with _pg_connect(target, password) as conn:
            row = conn.execute("SELECT current_user").fetchone()
        return str(row[0]) if row else "?"
    conn = _mysql_connect(target, password)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT CURRENT_USER()")
            row = cursor.fetchone()
    finally:
        conn.close()
    return str(row[0]) if row else "?"


def _pg_connect(target: Target, password: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConnectError("driver", "psycopg is not installed: pip install 'rdsiam[db]'") from None
    params: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "user": target.user,
        "password": password,
        "dbname": target.dbname or "postgres",
        "sslmode": target.sslmode,
        "connect_timeout": target.connect_timeout,
        "application_name": "rdsiam",
    }
    if target.sslmode == "verify-full":
        params["sslrootcert"] = target.ca_bundle or "system"
    try:
        return psycopg.connect(**params, autocommit=True)
    except psycopg.Error as exc:
        raise ConnectError("login", _first_line(exc)) from None


def _postgres(target: Target, password: str) -> list[dict[str, Any]]:
    import psycopg

    with _pg_connect(target, password) as conn:
        try:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            rows = conn.execute(catalog.POSTGRES_SQL).fetchall()
        except psycopg.Error as exc:
            raise ConnectError("query", _first_line(exc)) from None
    return catalog.postgres_users(rows)


def _mysql_connect(target: Target, password: str) -> Any:
    try:
        import pymysql
    except ImportError:
        raise ConnectError("driver", "PyMySQL is not installed: pip install 'rdsiam[db]'") from None
    context = tls_context(target)
    kwargs: dict[str, Any] = {}
    if context is None:
        kwargs["ssl_disabled"] = True
    else:
        kwargs["ssl"] = context
    try:
        return pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=password,
            database=target.dbname,
            connect_timeout=target.connect_timeout,
            read_timeout=60,
            program_name="rdsiam",
            **kwargs,
        )
    except pymysql.Error as exc:
        raise ConnectError("login", _first_line(exc)) from None


def _mysql(target: Target, password: str) -> list[dict[str, Any]]:
    import pymysql

    conn = _mysql_connect(target, password)
    try:
        with conn.cursor() as cursor:
            # The session, not only a transaction: a DDL statement would end a READ ONLY
            # transaction with an implicit commit and run anyway.
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("START TRANSACTION READ ONLY")
            cursor.execute(catalog.MYSQL_SQL)
            rows = list(cursor.fetchall())
            cursor.execute("ROLLBACK")
    except pymysql.Error as exc:
        raise ConnectError("query", _first_line(exc)) from None
    finally:
        conn.close()
    return catalog.mysql_users(rows)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
