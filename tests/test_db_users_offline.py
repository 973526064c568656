"""Database users without a server: the catalog query's CSV output as an input, the
section file, and the db-users / doctor command line's usage errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ACCOUNT, REGION, run_cli, snapshot_doc

from checker.db import catalog
from checker.db.users import memberships
from checker.model.snapshot import DatabaseUser

RID = "db-ORDERS0123456789ABCDEFGHI"


def _write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _inventory(tmp_path: Path) -> Path:
    """A snapshot with one IAM-enabled PostgreSQL instance whose master is 'admin'."""
    doc = snapshot_doc(
        {
            "region": REGION,
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "orders",
                    "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders",
                    "DbiResourceId": RID,
                    "Engine": "postgres",
                    "EngineVersion": "16.4",
                    "MasterUsername": "admin",
                    "IAMDatabaseAuthenticationEnabled": True,
                }
            ],
        }
    )
    return _write(tmp_path / "inventory.json", doc)


def _findings(proc: Any) -> dict[tuple[str, str], str]:
    report = json.loads(proc.stdout)
    return {(f["rule_id"], f["resource"]["id"]): f["status"] for f in report["findings"]}


PSQL_CSV = (
    "name,login,replication,member_of\n"
    'admin,t,f,"[""ops"",""rds_superuser""]"\n'
    'app,t,f,"[""rds_iam""]"\n'
    'ops,f,f,"[""rds_iam""]"\n'
    "rds_iam,f,f,[]\n"
)


def test_psql_csv_named_by_resource_id_is_tied_to_its_instance(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path)
    users = tmp_path / f"{RID}.csv"
    users.write_text(PSQL_CSV, encoding="utf-8")
    proc = run_cli("check", str(inventory), str(users), "--select", "RIA501", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    # the master reaches rds_iam through 'ops': nested membership counts
    assert _findings(proc) == {("RIA501", f"{RID}/admin"): "fail"}
    report = json.loads(proc.stdout)
    assert {i["kind"] for i in report["inputs"]} == {"snapshot", "database-users-csv"}
    assert report["findings"][0]["evidence"]["path"] == ["admin", "ops", "rds_iam"]


def test_csv_with_another_name_needs_resource_id(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path)
    users = tmp_path / "users.csv"
    users.write_text(PSQL_CSV, encoding="utf-8")
    proc = run_cli("check", str(inventory), str(users), "--select", "RIA501")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"rdsiam: {users}: cannot tell which database")
    assert "Traceback" not in proc.stderr
    proc = run_cli(
        "check", str(inventory), str(users), "--select", "RIA501", "--resource-id", RID,
        "--format", "json",
    )  # fmt: skip
    assert _findings(proc) == {("RIA501", f"{RID}/admin"): "fail"}


def test_mysql_batch_output_is_read(tmp_path: Path) -> None:
    # mysql --batch: tab-separated, NULL for SQL NULL, backslash escapes
    text = (
        "name\thost\tplugin\tssl_type\n"
        "app\t%\tAWSAuthenticationPlugin\tANY\n"
        "app\tlocalhost\tmysql_native_password\t\n"
        "odd\\tname\t%\tmysql_native_password\tNULL\n"
    )
    assert catalog.sniff(text) == "mysql"
    users = catalog.users_from_text(text, "mysql")
    assert users == [
        {"name": "app", "host": "%", "plugin": "AWSAuthenticationPlugin", "ssl_type": "ANY"},
        {"name": "app", "host": "localhost", "plugin": "mysql_native_password", "ssl_type": ""},
        {"name": "odd\tname", "host": "%", "plugin": "mysql_native_password"},
    ]


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path)
    users = tmp_path / f"{RID}.csv"
    users.write_text("name,login,replication,member_of\napp,maybe,f,[]\n", encoding="utf-8")
    proc = run_cli("check", str(inventory), str(users))
    assert proc.returncode == 2
    assert proc.stderr == f"rdsiam: {users}: line 2: column login: 'maybe' is not a boolean\n"
    users.write_text("name,login,replication,member_of\napp,t,f\n", encoding="utf-8")
    proc = run_cli("check", str(inventory), str(users))
    assert proc.returncode == 2 and "line 2" in proc.stderr and "3 columns" in proc.stderr


def test_section_file_from_db_users(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path)
    section = {
        "format": "rdsiam-database-users",
        "version": 1,
        "resource_id": RID,
        "engine": "postgres",
        "collected_at": "2026-11-28T11:00:00Z",
        "users": [
            {"name": "admin", "login": True, "member_of": ["rds_superuser"]},
            {"name": "app", "login": True, "member_of": ["rds_iam"]},
        ],
    }
    path = _write(tmp_path / "orders-users.json", section)
    proc = run_cli("check", str(inventory), str(path), "--select", "RIA501", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert _findings(proc) == {("RIA501", f"{RID}/admin"): "pass"}

    section["users"] = [{"name": "admin", "login": "yes"}]
    _write(path, section)
    proc = run_cli("check", str(inventory), str(path))
    assert proc.returncode == 2
    assert f"{path}" in proc.stderr and "$.users[0].login" in proc.stderr


def test_users_of_an_unknown_database_need_an_account(tmp_path: Path) -> None:
    users = tmp_path / "db-UNKNOWN0000000000000000000.csv"
    users.write_text(PSQL_CSV, encoding="utf-8")
    proc = run_cli("check", str(users))
    assert proc.returncode == 2 and "pass --account" in proc.stderr
    proc = run_cli("check", str(users), "--account", ACCOUNT, "--select", "RIA501,RIA502")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_nested_memberships_survive_cycles() -> None:
    users = [
        DatabaseUser(name="a", member_of=("b",)),
        DatabaseUser(name="b", member_of=("c",)),
        DatabaseUser(name="c", member_of=("a", "rds_iam")),
    ]
    nested = memberships(users)
    assert nested["a"] == {"a", "b", "c", "rds_iam"}
    assert "rds_iam" in nested["b"]


def test_print_sql_is_read_only_catalog_query() -> None:
    for engine, table in (("postgres", "pg_catalog.pg_roles"), ("mysql", "mysql.user")):
        proc = run_cli("db-users", "--print-sql", engine)
        assert proc.returncode == 0
        assert table in proc.stdout
        words = proc.stdout.upper().split()
        assert words[0] == "SELECT"
        for verb in ("INSERT", "UPDATE", "DELETE", "ALTER", "GRANT", "CREATE", "DROP"):
            assert verb not in words


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db-users", "--host", "h", "--user", "u", "--password-env", "X"], "--resource-id"),
        (
            ["db-users", "--resource-id", RID, "--host", "h", "--user", "u", "--port", "1234",
             "--password-env", "X"],
            "--engine is required",
        ),
        (
            ["db-users", "--resource-id", RID, "--host", "h", "--user", "u", "--engine",
             "postgres"],
            "--iam or --password-env",
        ),
        (
            ["db-users", "--resource-id", RID, "--host", "h", "--user", "u", "--engine",
             "postgres", "--iam"],
            "--iam needs --region",
        ),
        (["doctor", "--host", "h", "--user", "u", "--engine", "mysql", "--iam", "--region",
          "us-east-1", "--token-limit", "0"], "--token-limit"),
        (["doctor", "--host", "h", "--user", "u", "--engine", "mysql", "--password-env", "X",
          "--show-token"], "--show-token needs --iam"),
    ],
)  # fmt: skip
def test_connection_usage_errors(args: list[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count("\n") == 1


def test_password_variable_must_exist() -> None:
    proc = run_cli(
        "db-users", "--resource-id", RID, "--host", "127.0.0.1", "--user", "u",
        "--engine", "postgres", "--password-env", "RDSIAM_TEST_NO_SUCH_VARIABLE",
    )  # fmt: skip
    assert proc.returncode == 2
    assert "RDSIAM_TEST_NO_SUCH_VARIABLE is not set" in proc.stderr
