"""The command line through a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, run_cli, snapshot_doc

from checker import contract
from rules import ALL_RULES

EXAMPLE = str(ROOT / "examples" / "snapshot.json")
AS_OF = "2026-11-28T12:00:00Z"


def test_example_text_output_and_exit_code() -> None:
    proc = run_cli("check", EXAMPLE, "--as-of", AS_OF)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith(f"{len(ALL_RULES)} rules, ")
    assert "FAIL" in proc.stdout and "PASS" not in proc.stdout
    assert "\033[" not in proc.stdout  # no colour when not a terminal
    assert (
        "DB instance 'billing' (mysql 8.0.35) has IAM database authentication disabled"
        in proc.stdout
    )


def test_json_report_matches_schema_and_is_reproducible(tmp_path: Path) -> None:
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    for out in (out1, out2):
        proc = run_cli("check", EXAMPLE, "--format", "json", "--output", str(out), "--as-of", AS_OF)
        assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert out1.read_bytes() == out2.read_bytes()
    report = json.loads(out1.read_text())
    errors = list(contract.validator("report.schema.json").iter_errors(report))
    assert not errors, errors[0].message
    assert report["generated_at"] == AS_OF
    assert report["inputs"][0]["kind"] == "snapshot"
    assert len(report["inputs"][0]["sha256"]) == 64
    assert report["coverage"]["regions"] == ["eu-west-1", "us-east-1"]
    assert report["coverage"]["errors"][0]["code"] == "AccessDenied"
    statuses = {f["status"] for f in report["findings"]}
    assert statuses == {"pass", "fail", "not_applicable", "error"}
    assert sum(report["summary"].values()) == len(report["findings"])
    assert not list(tmp_path.glob(".rdsiam-*"))  # no temporary file left behind


def test_select_and_ignore(tmp_path: Path) -> None:
    proc = run_cli(
        "check",
        EXAMPLE,
        "--format",
        "json",
        "--select",
        "RIA4",
        "--ignore",
        "RIA404,RIA405",
        "--as-of",
        AS_OF,
    )
    report = json.loads(proc.stdout)
    assert [r["id"] for r in report["rules"]] == ["RIA401", "RIA402", "RIA403"]
    assert {f["rule_id"] for f in report["findings"]} == {"RIA401", "RIA402", "RIA403"}


def test_unknown_rule_is_a_usage_error() -> None:
    proc = run_cli("check", EXAMPLE, "--select", "RIA777")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "RIA777" in proc.stderr


def test_fail_on_threshold_and_errors_exit_3(write_json) -> None:  # type: ignore[no-untyped-def]
    doc = snapshot_doc(
        {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": "pg",
                    "Engine": "postgres",
                    "EngineVersion": "16.3",
                    "IAMDatabaseAuthenticationEnabled": False,
                }
            ]
        }
    )
    path = write_json("s.json", doc)
    assert run_cli("check", str(path), "--select", "RIA101").returncode == 1
    assert run_cli("check", str(path), "--select", "RIA101", "--fail-on", "high").returncode == 0
    # RIA404: no CACertificateIdentifier in the snapshot -> error -> exit 3 when nothing fails
    assert run_cli("check", str(path), "--select", "RIA404").returncode == 3


def test_output_never_overwrites_an_input(tmp_path: Path) -> None:
    target = tmp_path / "snap.json"
    target.write_text(Path(EXAMPLE).read_text())
    before = target.read_bytes()
    proc = run_cli("check", str(target), "--output", str(target))
    assert proc.returncode == 2 and "overwrite" in proc.stderr
    assert target.read_bytes() == before


def test_rules_explain_and_docs(tmp_path: Path) -> None:
    listing = run_cli("rules")
    assert listing.returncode == 0 and listing.stdout.count("\n") == len(ALL_RULES)
    as_json = json.loads(run_cli("rules", "--format", "json").stdout)
    assert as_json[0]["id"] == "RIA101"
    page = run_cli("explain", "RIA401")
    assert page.returncode == 0 and "## Remediation" in page.stdout
    assert run_cli("explain", "postgres-force-ssl").stdout == page.stdout
    assert run_cli("explain", "RIA000").returncode == 2
    out = tmp_path / "rules"
    assert run_cli("docs", "--out", str(out)).returncode == 0
    assert (out / "RIA401.md").read_text() == page.stdout
    assert "RIA601" in (out / "README.md").read_text()


def test_bad_as_of_is_usage_error() -> None:
    proc = run_cli("check", EXAMPLE, "--as-of", "yesterday")
    assert proc.returncode == 2 and "--as-of" in proc.stderr


def test_show_all_lists_passes() -> None:
    proc = run_cli("check", EXAMPLE, "--as-of", AS_OF, "--all", "--select", "RIA405")
    assert "PASS" in proc.stdout and "orders-proxy" in proc.stdout


def test_python_m_and_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("rdsiam ")


def test_report_file_gets_usual_permissions(tmp_path: Path) -> None:
    import os
    import stat

    out = tmp_path / "r.json"
    run_cli("check", EXAMPLE, "--format", "json", "--output", str(out))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    out.chmod(0o640)
    run_cli("check", EXAMPLE, "--format", "json", "--output", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_colour_on_a_terminal_only_and_never_with_no_color() -> None:
    import os
    import pty
    import subprocess
    import sys

    def on_tty(extra_env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | extra_env
        proc = subprocess.Popen(
            [sys.executable, "-m", "checker", "check", EXAMPLE, "--select", "RIA405"],
            cwd=ROOT,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
        os.close(leader)
        return b"".join(chunks).decode()

    assert "\033[31m" in on_tty({})
    assert "\033[" not in on_tty({"NO_COLOR": "1"})


def test_failed_write_keeps_the_old_report(tmp_path: Path) -> None:
    from collections.abc import Iterator

    import pytest

    from checker.report import write_atomic

    out = tmp_path / "report.json"
    out.write_text("old")

    def broken() -> Iterator[str]:
        yield "half a rep"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomic(str(out), broken())
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """``rdsiam check ... | head``: the reader closes the pipe; rdsiam stops quietly with the
    shell's code for a process ended by SIGPIPE."""
    import subprocess
    import sys

    from conftest import EXAMPLE, EXAMPLE_AS_OF

    proc = subprocess.Popen(
        [sys.executable, "-m", "checker", "check", EXAMPLE, "--format", "json", "--as-of",
         EXAMPLE_AS_OF],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10).startswith(b"{")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and err == ""
