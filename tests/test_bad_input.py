"""Bad input: one line on stderr naming the file and location, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, snapshot_doc

from checker.collect import files
from checker.errors import InputError


def assert_one_line_error(proc, *parts: str) -> None:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for part in parts:
        assert part in proc.stderr, proc.stderr


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{\n  "format": "rdsiam-snapshot",\n  "version": 1,,\n}\n')
    assert_one_line_error(
        run_cli("check", str(bad)), "broken.json", "line 3, column 16", "invalid JSON"
    )


def test_schema_violation_names_the_json_path(write_json) -> None:  # type: ignore[no-untyped-def]
    doc = snapshot_doc(
        {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "x",
                    "Engine": "postgres",
                    "IAMDatabaseAuthenticationEnabled": "yes",
                }
            ]
        }
    )
    path = write_json("snap.json", doc)
    assert_one_line_error(
        run_cli("check", str(path)),
        "snap.json",
        "$.accounts[0].regions[0].DBInstances[0].IAMDatabaseAuthenticationEnabled",
        '"yes" is not of type "boolean"',
    )


def test_value_refused_after_the_schema_still_names_the_path(write_json) -> None:  # type: ignore[no-untyped-def]
    doc = snapshot_doc(
        {
            "Certificates": [
                {"CertificateIdentifier": "rds-ca-x", "ValidTill": "2024-13-45T00:00:00Z"}
            ]
        }
    )
    path = write_json("snap.json", doc)
    assert_one_line_error(
        run_cli("check", str(path)),
        "snap.json",
        "$.accounts[0].regions[0].Certificates[0].ValidTill",
    )


def test_unknown_file_kind(write_json, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_json("package.json", {"name": "left-pad"})
    assert_one_line_error(run_cli("check", str(path)), "package.json", "not a recognized input")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert_one_line_error(run_cli("check", str(text)), "notes.txt", "not a recognized input")


def test_empty_directory(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run_cli("check", str(empty)), "empty", "no input files")


def test_directory_without_recognized_inputs(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "readme.md").write_text("# hi")
    proc = run_cli("check", str(tmp_path / "d"))
    assert proc.returncode == 2 and "no recognized inputs" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file() -> None:
    assert_one_line_error(
        run_cli("check", "/nonexistent/snap.json"), "/nonexistent/snap.json", "no such file"
    )


def test_unreadable_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests run as root in CI, where chmod 000 does not stop reading: fail the open instead.
    path = tmp_path / "secret.json"
    path.write_text("{}")

    def deny(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(InputError) as info:
        files.read(str(path))
    assert str(info.value) == f"{path}: cannot read: Permission denied"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"format": "rdsiam-snapshot", "x": "\xe9"}')
    assert_one_line_error(run_cli("check", str(path)), "latin1.json", "not UTF-8")


def test_report_given_as_input(write_json) -> None:  # type: ignore[no-untyped-def]
    path = write_json("report.json", {"format": "rdsiam-report", "version": 1})
    assert_one_line_error(run_cli("check", str(path)), "report.json", "rdsiam report")


def test_top_level_array(write_json) -> None:  # type: ignore[no-untyped-def]
    path = write_json("list.json", [1, 2])
    assert_one_line_error(run_cli("check", str(path)), "list.json", "not a recognized input")


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(snapshot_doc()).encode())
    assert run_cli("check", str(path), "--select", "RIA101").returncode == 0


def test_large_valid_snapshot_is_simply_checked(tmp_path: Path) -> None:
    """A 50 MB snapshot goes through the whole path (no size limit, no special mode)."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    doc = generate.generate(instances=4000, clusters=800, groups=400, regions=4, seed=7)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    rds = sum(
        1
        for a in doc["accounts"]
        for r in a["regions"]
        for i in r["DBInstances"]
        if i["Engine"] not in ("neptune", "docdb")
    )
    del doc
    assert path.stat().st_size > 45_000_000, path.stat().st_size
    proc = run_cli("check", str(path), "--format", "json", "--output", str(tmp_path / "r.json"))
    assert proc.returncode in (1, 3) and proc.stderr == "", proc.stderr[-500:]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["fail"] > 0
    ria101 = [
        f
        for f in report["findings"]
        if f["rule_id"] == "RIA101" and f["resource"]["type"] == "AWS::RDS::DBInstance"
    ]
    assert len(ria101) == rds
