"""db-users and doctor against real PostgreSQL 15 and MariaDB servers on 127.0.0.1 (see
tests/dbservers.py): the catalog queries, their CSV forms run by the real clients, TLS
verification, and doctor's diagnoses of real server answers.

The servers are not RDS: there is no PAM and no AWS plugin. Where RDS behaviour matters, the
test sets up what RDS shows in its catalog (rds_* roles, an account whose plugin is
AWSAuthenticationPlugin, which MariaDB then refuses exactly as an instance without IAM does).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import ACCOUNT, REGION, run_cli, snapshot_doc
from dbservers import REQUIRE_ENV, MariaDBServer, PostgresServer

RID = "db-LIVEPG0123456789ABCDEFGHIJ"
MYSQL_RID = "db-LIVEMY0123456789ABCDEFGHIJ"
PASSWORD_VAR = "RDSIAM_TEST_DB_PASSWORD"


def _client(name: str) -> str:
    """The path of a database client program (psql, mysql), which comes with the servers."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{name} is not installed")
        pytest.skip(f"{name} is not installed")
    return path


def _name(prefix: str) -> str:
    """A role name no other test uses (the servers live for the whole session)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _inventory(tmp_path: Path, engine: str, rid: str, master: str, grants: list[str]) -> Path:
    """A snapshot: one IAM-enabled instance and a role granted connect as ``grants``."""
    arns = [f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:{rid}/{user}" for user in grants]
    doc = snapshot_doc(
        {
            "region": REGION,
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "live",
                    "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:live",
                    "DbiResourceId": rid,
                    "Engine": engine,
                    "EngineVersion": "16.4" if engine == "postgres" else "8.0.39",
                    "MasterUsername": master,
                    "IAMDatabaseAuthenticationEnabled": True,
                }
            ],
        }
    )
    doc["accounts"][0]["iam"] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
        "RoleDetailList": [
            {
                "RoleName": "app",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/app",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "RolePolicyList": [
                    {
                        "PolicyName": "db",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Effect": "Allow", "Action": "rds-db:connect", "Resource": arns}
                            ],
                        },
                    }
                ],
                "AttachedManagedPolicies": [],
            }
        ],
    }
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _statuses(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(f["rule_id"], f["resource"]["id"]): f["status"] for f in report["findings"]}


def _args(server: PostgresServer | MariaDBServer, *extra: str) -> list[str]:
    """Connection options for a test server: verified TLS to localhost, password from env."""
    engine = "postgres" if isinstance(server, PostgresServer) else "mysql"
    return [
        "--host", "localhost", "--port", str(server.port), "--user", server.user,
        "--engine", engine, "--password-env", PASSWORD_VAR,
        "--ca-bundle", str(server.ca_file), *extra,
    ]  # fmt: skip


# -- db-users ---------------------------------------------------------------------------------


def test_postgres_users_read_over_verified_tls_and_checked(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    master, app, dba, etl = _name("master"), _name("app"), _name("dba"), _name("etl")
    postgres_server.sql(
        f"CREATE ROLE {dba} NOLOGIN; GRANT rds_iam TO {dba};"
        f" CREATE ROLE {master} LOGIN; GRANT rds_superuser, {dba} TO {master};"
        f" CREATE ROLE {app} LOGIN; GRANT rds_iam TO {app};"
        f" CREATE ROLE {etl} LOGIN REPLICATION; GRANT rds_iam TO {etl};"
    )
    out = tmp_path / "users.json"
    proc = run_cli(
        "db-users", *_args(postgres_server, "--resource-id", RID, "-o", str(out)),
        env={PASSWORD_VAR: postgres_server.password},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    section = json.loads(out.read_text(encoding="utf-8"))
    assert section["format"] == "rdsiam-database-users"
    assert section["resource_id"] == RID and section["engine"] == "postgres"
    users = {u["name"]: u for u in section["users"]}
    assert users[master]["member_of"] == sorted([dba, "rds_superuser"])  # direct only
    assert users[dba]["login"] is False
    assert users[etl]["replication"] is True and users[app]["replication"] is False
    assert not any(name.startswith("pg_") for name in users)
    assert postgres_server.password not in out.read_text(encoding="utf-8")

    inventory = _inventory(tmp_path, "postgres", RID, master, [app, app.upper()])
    proc = run_cli("check", str(inventory), str(out), "--select", "RIA5", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    status = _statuses(json.loads(proc.stdout))
    assert status[("RIA501", f"{RID}/{master}")] == "fail"  # nested through dba
    assert status[("RIA503", f"{RID}/{etl}")] == "fail"
    assert status[("RIA503", f"{RID}/{app}")] == "pass"
    assert status[("RIA504", f"{RID}/{app}")] == "pass"
    assert status[("RIA505", f"{RID}/{app}")] == "pass"
    assert status[("RIA506", f"{RID}/{app.upper()}")] == "fail"  # case-only difference


def test_postgres_catalog_query_through_psql_csv(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """The query --print-sql prints, run by the real psql --csv, is an input of check."""
    master, app = _name("master"), _name("app")
    postgres_server.sql(
        f"CREATE ROLE {master} LOGIN; GRANT rds_superuser TO {master};"
        f' CREATE ROLE "{app}, with comma" LOGIN; GRANT rds_iam TO "{app}, with comma";'
    )
    sql = run_cli("db-users", "--print-sql", "postgres").stdout
    csv_path = tmp_path / f"{RID}.csv"
    with csv_path.open("w", encoding="utf-8") as handle:
        subprocess.run(
            [
                _client("psql"), "--csv", "--no-psqlrc", "-v", "ON_ERROR_STOP=1",
                f"host=localhost port={postgres_server.port} user={postgres_server.user}"
                f" dbname=postgres sslmode=verify-full sslrootcert={postgres_server.ca_file}",
            ],
            input=sql, stdout=handle, check=True, text=True,
            env={"PGPASSWORD": postgres_server.password, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    inventory = _inventory(tmp_path, "postgres", RID, master, [f"{app}, with comma"])
    proc = run_cli("check", str(inventory), str(csv_path), "--select", "RIA5", "--format", "json")
    # other tests' roles share the server, so the exit code is not this test's to judge
    assert proc.returncode in (0, 1), proc.stderr
    status = _statuses(json.loads(proc.stdout))
    assert status[("RIA501", f"{RID}/{master}")] == "pass"
    assert status[("RIA505", f"{RID}/{app}, with comma")] == "pass"


def test_mariadb_accounts_read_and_checked(mariadb_server: MariaDBServer, tmp_path: Path) -> None:
    iam_user, pw_user = _name("iam"), _name("pw")
    mariadb_server.sql(f"CREATE USER '{iam_user}'@'%' IDENTIFIED BY 'x' REQUIRE SSL")
    mariadb_server.fake_iam_plugin(iam_user, "%")
    mariadb_server.sql(f"CREATE USER '{pw_user}'@'%' IDENTIFIED BY 'y'")
    out = tmp_path / "users.json"
    proc = run_cli(
        "db-users", *_args(mariadb_server, "--resource-id", MYSQL_RID, "-o", str(out)),
        env={PASSWORD_VAR: mariadb_server.password},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    users = {u["name"]: u for u in json.loads(out.read_text(encoding="utf-8"))["users"]}
    assert users[iam_user]["plugin"] == "AWSAuthenticationPlugin"
    assert users[iam_user]["ssl_type"] == "ANY"
    assert users[pw_user]["plugin"] == "mysql_native_password"

    inventory = _inventory(tmp_path, "mariadb", MYSQL_RID, "admin", [iam_user, pw_user])
    proc = run_cli("check", str(inventory), str(out), "--select", "RIA505", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    status = _statuses(json.loads(proc.stdout))
    assert status == {
        ("RIA505", f"{MYSQL_RID}/{iam_user}"): "pass",
        ("RIA505", f"{MYSQL_RID}/{pw_user}"): "fail",
    }


def test_mysql_catalog_query_through_mysql_batch(
    mariadb_server: MariaDBServer, tmp_path: Path
) -> None:
    iam_user = _name("iam")
    mariadb_server.sql(f"CREATE USER '{iam_user}'@'10.0.%' IDENTIFIED BY 'x'")
    mariadb_server.fake_iam_plugin(iam_user, "10.0.%")
    sql = run_cli("db-users", "--print-sql", "mysql").stdout
    tsv = tmp_path / "users.tsv"
    with tsv.open("w", encoding="utf-8") as handle:
        subprocess.run(
            [
                _client("mysql"), "--batch", "--protocol=TCP", "-h", "127.0.0.1",
                "-P", str(mariadb_server.port), "-u", mariadb_server.user,
                f"--ssl-ca={mariadb_server.ca_file}",
            ],
            input=sql, stdout=handle, check=True, text=True,
            env={"MYSQL_PWD": mariadb_server.password, "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    inventory = _inventory(tmp_path, "mysql", MYSQL_RID, "admin", [iam_user])
    proc = run_cli(
        "check", str(inventory), str(tsv), "--resource-id", MYSQL_RID, "--select", "RIA504,RIA505",
        "--format", "json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _statuses(json.loads(proc.stdout)) == {
        ("RIA504", f"{MYSQL_RID}/{iam_user}"): "pass",
        ("RIA505", f"{MYSQL_RID}/{iam_user}"): "pass",
    }


def test_db_users_refuses_an_unverified_server(postgres_server: PostgresServer) -> None:
    # verify-full against the system store: the test CA is not in it
    args = _args(postgres_server)
    args = [*args[: args.index("--ca-bundle")], "--resource-id", RID]
    proc = run_cli("db-users", *args, env={PASSWORD_VAR: postgres_server.password})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "certificate" in proc.stderr.lower()


def test_db_users_wrong_password_is_one_line(mariadb_server: MariaDBServer) -> None:
    proc = run_cli(
        "db-users", *_args(mariadb_server, "--resource-id", MYSQL_RID),
        env={PASSWORD_VAR: "wrong-password-xyz"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Access denied" in proc.stderr and proc.stderr.count("\n") == 1
    assert "wrong-password-xyz" not in proc.stderr


def test_catalog_session_is_read_only(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """db-users' own PostgreSQL session refuses writes: with a write put in place of the
    catalog query, read_users fails and nothing is written (if the session were not set
    read-only first, the role would be created)."""
    from checker.db import catalog
    from checker.db.connect import ConnectError, Target, read_users

    role = _name("written")
    monkeypatch.setattr(catalog, "POSTGRES_SQL", f"CREATE ROLE {role}")
    target = Target(
        host="localhost",
        port=postgres_server.port,
        user=postgres_server.user,
        engine="postgres",
        ca_bundle=str(postgres_server.ca_file),
    )
    with pytest.raises(ConnectError) as failed:
        read_users(target, postgres_server.password)
    assert failed.value.step == "query" and "read-only" in failed.value.message
    assert postgres_server.sql("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) == []


def test_mysql_catalog_session_is_read_only(
    mariadb_server: MariaDBServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checker.db import catalog
    from checker.db.connect import ConnectError, Target, read_users

    user = _name("written")
    monkeypatch.setattr(catalog, "MYSQL_SQL", f"CREATE USER '{user}'@'%' IDENTIFIED BY 'x'")
    target = Target(
        host="localhost",
        port=mariadb_server.port,
        user=mariadb_server.user,
        engine="mysql",
        ca_bundle=str(mariadb_server.ca_file),
    )
    with pytest.raises(ConnectError) as failed:
        read_users(target, mariadb_server.password)
    assert failed.value.step == "query" and "READ ONLY" in failed.value.message
    assert mariadb_server.sql("SELECT 1 FROM mysql.user WHERE User = %s", [user]) == []


# -- doctor -----------------------------------------------------------------------------------


def _doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    proc = run_cli("doctor", *args, "--format", "json", env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_doctor_all_steps_pass_with_a_password(postgres_server: PostgresServer) -> None:
    code, out = _doctor(*_args(postgres_server), env={PASSWORD_VAR: postgres_server.password})
    assert code == 0 and out["ok"] is True
    steps = {s["step"]: s for s in out["steps"]}
    assert [s["step"] for s in out["steps"]] == ["dns", "tcp", "tls", "login"]
    assert "verified for localhost" in steps["tls"]["detail"]
    assert steps["login"]["detail"] == f"logged in as {postgres_server.user}"


def test_doctor_mysql_tls_is_verified(mariadb_server: MariaDBServer) -> None:
    code, out = _doctor(*_args(mariadb_server), env={PASSWORD_VAR: mariadb_server.password})
    assert code == 0, out
    tls = next(s for s in out["steps"] if s["step"] == "tls")
    assert tls["status"] == "ok" and "TLSv1." in tls["detail"]


def test_doctor_stops_at_an_untrusted_certificate(postgres_server: PostgresServer) -> None:
    args = _args(postgres_server)
    args = args[: args.index("--ca-bundle")]
    code, out = _doctor(*args, env={PASSWORD_VAR: postgres_server.password})
    assert code == 1
    last = out["steps"][-1]
    assert last["step"] == "tls" and last["status"] == "fail"
    assert "not in the bundle" in last["cause"] and "--ca-bundle" in last["fix"]


def test_doctor_diagnoses_a_wrong_password(postgres_server: PostgresServer) -> None:
    code, out = _doctor(*_args(postgres_server), env={PASSWORD_VAR: "not-the-password"})
    assert code == 1
    last = out["steps"][-1]
    assert last["step"] == "login" and "password authentication failed" in last["detail"]
    assert "wrong password" in last["cause"]


def test_doctor_diagnoses_iam_plugin_not_loaded(mariadb_server: MariaDBServer) -> None:
    """An account with AWSAuthenticationPlugin on a server without it: MariaDB answers as an
    RDS instance with IAM authentication off does."""
    user = _name("iam")
    mariadb_server.sql(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'x'")
    mariadb_server.fake_iam_plugin(user, "%")
    args = _args(mariadb_server)
    args[args.index("--user") + 1] = user
    code, out = _doctor(*args, env={PASSWORD_VAR: "x"})
    assert code == 1
    last = out["steps"][-1]
    assert last["step"] == "login" and "AWSAuthenticationPlugin" in last["detail"]
    assert "not enabled" in last["cause"] and "enable-iam-database-authentication" in last["fix"]


def test_doctor_with_iam_token(postgres_server: PostgresServer, moto_url: str) -> None:
    """The token step against local signing (moto answers GetCallerIdentity); the local server
    checks the token as a password, as RDS does for a user without rds_iam."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_url,
    }
    base = _args(postgres_server)
    iam = [a for a in base if a not in ("--password-env", PASSWORD_VAR)]
    iam += ["--iam", "--region", REGION]
    proc = run_cli("doctor", *iam, "--token-limit", "255", env=env)
    assert proc.returncode == 1, proc.stderr
    assert "X-Amz-Signature" not in proc.stdout  # never shown unless asked
    _, out = _doctor(*iam, "--token-limit", "255", env=env)
    token = next(s for s in out["steps"] if s["step"] == "token")
    assert token["status"] == "ok"
    assert "signed for arn:aws:" in token["detail"] and "valid until" in token["detail"]
    assert any("255" in w for w in token["warnings"])
    last = out["steps"][-1]
    assert last["step"] == "login" and "not a member of rds_iam" in last["cause"]
    shown = run_cli("doctor", *iam, "--show-token", env=env)
    assert "X-Amz-Signature=" in shown.stdout and "Action=connect" in shown.stdout
