"""The database server fixtures of tests/dbservers.py, exercised for real.

Each test talks to the real server the way rdsiam's catalog readers will: over TCP on 127.0.0.1,
with a password, and with TLS verified against the fixture's CA. The last tests check the
fixtures' own behaviour: skip or fail when the servers are missing, and the watchdog that stops a
server whose test process died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import dbservers
import psycopg
import pymysql  # type: ignore[import-untyped, unused-ignore]
import pytest
from dbservers import IAM_PLUGIN, RDS_POSTGRES_ROLES, MariaDBServer, PostgresServer

# -- PostgreSQL ---------------------------------------------------------------------------------


def test_postgres_verify_full_tls_for_localhost(postgres_server: PostgresServer) -> None:
    with postgres_server.connect(
        host="localhost", hostaddr="127.0.0.1", sslmode="verify-full"
    ) as conn:
        assert conn.pgconn.ssl_in_use
        row = conn.execute(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert row is not None
        assert row[0] is True
        assert row[1].startswith("TLSv1.")
        assert conn.execute("SELECT inet_server_addr()::text").fetchone() == ("127.0.0.1/32",)


def test_postgres_verify_full_rejects_another_name(postgres_server: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        postgres_server.connect(host="db.example.invalid", hostaddr="127.0.0.1").close()


def test_postgres_sslmode_disable_still_works(postgres_server: PostgresServer) -> None:
    with postgres_server.connect(sslmode="disable") as conn:
        assert not conn.pgconn.ssl_in_use
        row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert row == (False,)


def test_postgres_needs_the_password(postgres_server: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        postgres_server.connect(password="wrong").close()


def test_postgres_server_settings(postgres_server: PostgresServer) -> None:
    [(version,)] = postgres_server.sql("SELECT current_setting('server_version_num')::int")
    assert version >= 150000
    assert postgres_server.sql("SHOW listen_addresses") == [("127.0.0.1",)]
    assert postgres_server.sql("SHOW ssl") == [("on",)]
    rules = postgres_server.sql(
        "SELECT type, address, auth_method FROM pg_hba_file_rules ORDER BY line_number"
    )
    assert rules == [("local", None, "scram-sha-256"), ("host", "127.0.0.1", "scram-sha-256")]


def test_postgres_rds_roles_and_superuser(postgres_server: PostgresServer) -> None:
    rows = postgres_server.sql(
        "SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname = ANY(%s)",
        [[*RDS_POSTGRES_ROLES, postgres_server.user]],
    )
    assert sorted(rows) == sorted(
        [(role, False, False) for role in RDS_POSTGRES_ROLES] + [(postgres_server.user, True, True)]
    )


def test_postgres_sql_helper_runs_statements_and_returns_rows(
    postgres_server: PostgresServer,
) -> None:
    try:
        assert postgres_server.sql("CREATE ROLE smoke_iam LOGIN; GRANT rds_iam TO smoke_iam") == []
        members = postgres_server.sql(
            "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid"
            " JOIN pg_roles m ON m.oid = a.member WHERE r.rolname = %s",
            ["rds_iam"],
        )
        assert ("smoke_iam",) in members  # other tests' roles share the session's server
    finally:
        postgres_server.sql("DROP ROLE IF EXISTS smoke_iam")


# -- MariaDB ------------------------------------------------------------------------------------


def _status(conn: Any, name: str) -> str:
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE %s", (name,))
        row = cur.fetchone()
    assert row is not None
    return str(row[1])


def test_mariadb_tls_verified_against_the_ca(mariadb_server: MariaDBServer) -> None:
    kwargs = mariadb_server.connect_kwargs()
    assert kwargs["ssl"] == {"ca": str(mariadb_server.ca_file), "check_hostname": True}
    with mariadb_server.connect() as conn:
        assert _status(conn, "Ssl_cipher") != ""
        assert _status(conn, "Ssl_version").startswith("TLSv1.")


def test_mariadb_plain_tcp_still_works(mariadb_server: MariaDBServer) -> None:
    with mariadb_server.connect(tls=False) as conn:
        assert _status(conn, "Ssl_cipher") == ""


def test_mariadb_needs_the_password(mariadb_server: MariaDBServer) -> None:
    with pytest.raises(pymysql.err.OperationalError) as info:
        mariadb_server.connect(password="wrong").close()
    assert info.value.args[0] == 1045  # ER_ACCESS_DENIED_ERROR


def test_mariadb_server_settings(mariadb_server: MariaDBServer) -> None:
    rows = dict(
        mariadb_server.sql(
            "SELECT variable_name, variable_value FROM information_schema.global_variables"
            " WHERE variable_name IN ('BIND_ADDRESS', 'HAVE_SSL', 'SKIP_NAME_RESOLVE', 'VERSION')"
        )
    )
    assert rows["BIND_ADDRESS"] == "127.0.0.1"
    assert rows["HAVE_SSL"] == "YES"
    assert rows["SKIP_NAME_RESOLVE"] == "ON"
    assert "MariaDB" in rows["VERSION"]
    # Real grant tables: the admin is an ordinary account with a password.
    assert mariadb_server.sql(
        "SELECT plugin FROM mysql.user WHERE user = %s AND host = '127.0.0.1'",
        (mariadb_server.user,),
    ) == [("mysql_native_password",)]


def test_mariadb_fake_iam_plugin(mariadb_server: MariaDBServer) -> None:
    mariadb_server.sql("CREATE USER 'smoke_iam'@'%' IDENTIFIED BY 'secret' REQUIRE SSL")
    mariadb_server.sql("CREATE USER 'smoke_pw'@'%' IDENTIFIED BY 'secret'")
    try:
        mariadb_server.fake_iam_plugin("smoke_iam", "%")
        rows = mariadb_server.sql(
            "SELECT user, host, plugin, authentication_string, ssl_type FROM mysql.user"
            " WHERE user LIKE 'smoke\\_%' ORDER BY user"
        )
        assert rows == [
            ("smoke_iam", "%", IAM_PLUGIN, "RDS", "ANY"),
            ("smoke_pw", "%", "mysql_native_password", rows[1][3], ""),
        ]
        [(create,)] = mariadb_server.sql("SHOW CREATE USER 'smoke_iam'@'%'")
        assert "IDENTIFIED VIA AWSAuthenticationPlugin USING 'RDS' REQUIRE SSL" in create
        # The plugin is not there, so the account cannot log in (as on a server without it).
        with pytest.raises(pymysql.err.OperationalError) as info:
            mariadb_server.connect(user="smoke_iam", password="secret").close()
        assert info.value.args[0] == 1524  # ER_PLUGIN_IS_NOT_LOADED
        # The other account is untouched and still logs in.
        with mariadb_server.connect(user="smoke_pw", password="secret", database=None) as conn:
            assert _status(conn, "Ssl_cipher") != ""
    finally:
        mariadb_server.sql("DROP USER IF EXISTS 'smoke_iam'@'%', 'smoke_pw'@'%'")
    assert mariadb_server.sql("SELECT user FROM mysql.user WHERE user LIKE 'smoke\\_%'") == []


def test_mariadb_fake_iam_plugin_needs_an_account(mariadb_server: MariaDBServer) -> None:
    with pytest.raises(LookupError, match="no MariaDB account 'nobody'@'%'"):
        mariadb_server.fake_iam_plugin("nobody", "%")


# -- the fixtures' own behaviour ----------------------------------------------------------------


def test_missing_servers_skip_or_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dbservers, "_postgres_bindir", lambda: None)
    monkeypatch.setattr(dbservers, "_find_program", lambda *names: None)
    monkeypatch.delenv(dbservers.REQUIRE_ENV, raising=False)
    with (
        pytest.raises(pytest.skip.Exception, match="PostgreSQL server programs"),
        dbservers._run_postgres(),
    ):
        pass
    monkeypatch.setenv(dbservers.REQUIRE_ENV, "1")
    with (
        pytest.raises(pytest.fail.Exception, match=r"MariaDB server programs.*requires"),
        dbservers._run_mariadb(),
    ):
        pass


def test_watchdog_stops_the_server_of_a_dead_test_process(tmp_path: Path) -> None:
    """A process that opens a server directory, starts a "server" in it and dies abruptly."""
    script = textwrap.dedent(
        """
        import os, signal, subprocess, sys
        import dbservers
        with dbservers._server_directory("watchdog-test", signal.SIGTERM) as directory:
            server = subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(120)", str(directory)],
                start_new_session=True,
            )
            (directory / "server.pid").write_text(str(server.pid))
            print(directory, server.pid, flush=True)
            os._exit(1)  # no clean-up, as after SIGKILL
        """
    )
    env = {**os.environ, dbservers.TMPDIR_ENV: str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    directory_text, pid_text = out.stdout.split()
    directory, pid = Path(directory_text), int(pid_text)
    assert directory.parent == tmp_path
    try:
        deadline = time.monotonic() + 20
        while (directory.exists() or _running(pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(pid)
        assert not directory.exists()
    finally:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Whether pid is a live process (a zombie, dead but not yet reaped, is not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
