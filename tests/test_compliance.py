"""Compliance evidence: configuration, waivers, baselines and diffs, control mapping, and
byte-for-byte reproducible reports (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from checker import cli, contract, controls
from rules import ALL_RULES

EXAMPLE = str(ROOT / "examples" / "snapshot.json")
AS_OF = "2026-11-28T12:00:00Z"
# failures of the bundled example this file waives (resource id, rule)
REPORTS_KERBEROS = ("RIA601", "reports")  # medium
ETL_REPLICATION = ("RIA503", "db-ORDERSXXXXEXAMPLE000000000/etl")  # medium
# The example records a collection error (DescribeDBProxies denied in eu-west-1), so a run with
# no counted failure exits 3, never 0: "could not look" is not "passed".
NO_FAILURE = 3


def check(
    tmp_path: Path, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    """``rdsiam check`` in-process from ``tmp_path`` (so no configuration file above it
    applies); the JSON report, the exit code and stderr."""
    out = tmp_path / "report.json"
    code = cli.main(["check", "--as-of", AS_OF, *args, "--format", "json", "-o", str(out)])
    err = capsys.readouterr().err
    report = json.loads(out.read_text()) if code != 2 else {}
    if report:
        problems = list(contract.validator("report.schema.json").iter_errors(report))
        assert not problems, problems[0].message
    return code, report, err


def failing(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f["rule_id"], f["resource"]["id"]) for f in report["findings"] if f["status"] == "fail"
    ]


def finding(report: dict[str, Any], key: tuple[str, str]) -> dict[str, Any]:
    (found,) = [
        f
        for f in report["findings"]
        if (f["rule_id"], f["resource"]["id"]) == key and f["status"] == "fail"
    ]
    return found


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# -- configuration ------------------------------------------------------------------------


def test_config_found_upward_applies_and_command_line_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "rdsiam.toml",
        'select = ["RIA6"]\nfail_on = "high"\n[severity]\nRIA601 = "critical"\n',
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    code, report, _ = check(sub, EXAMPLE, capsys=capsys)
    assert [r["id"] for r in report["rules"]] == ["RIA601"]
    assert finding(report, REPORTS_KERBEROS)["severity"] == "critical"
    assert code == 1  # critical >= high
    # command line over the file: --fail-on, --select
    code, report, _ = check(sub, EXAMPLE, "--fail-on", "never", "--select", "RIA5", capsys=capsys)
    assert {r["id"][:4] for r in report["rules"]} == {"RIA5"}
    assert code == 3  # the example has error findings in 5xx; never fails on failures
    # --no-config: none of it
    code, report, _ = check(sub, EXAMPLE, "--no-config", capsys=capsys)
    assert len(report["rules"]) == len(ALL_RULES)
    assert finding(report, REPORTS_KERBEROS)["severity"] == "medium"


def test_pyproject_tool_table_and_explicit_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')  # no [tool.rdsiam]: skipped
    _, report, _ = check(tmp_path, EXAMPLE, capsys=capsys)
    assert len(report["rules"]) == len(ALL_RULES)
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.rdsiam]\nignore = ["RIA"]\n')
    # ignoring every rule would make a run that checks nothing look clean: refused
    code, _, err = check(tmp_path, EXAMPLE, capsys=capsys)
    assert code == 2 and "leaves no rule to run" in err
    other = write(tmp_path / "conf" / "strict.toml", 'select = ["RIA101"]\n')
    _, report, _ = check(tmp_path, EXAMPLE, "--config", str(other), capsys=capsys)
    assert [r["id"] for r in report["rules"]] == ["RIA101"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('selct = ["RIA1"]\n', "unknown key 'selct'"),
        ('fail_on = "hi"\n', "key 'fail_on': \"hi\" is not one of critical, high, medium"),
        ('cert_warning_days = "3"\n', "key 'cert_warning_days': \"3\" is not of type"),
        ('[severity]\nRIA999 = "high"\n', "key 'severity.RIA999': no such rule"),
        ('[severity]\nRIA101 = "urgent"\n', "key 'severity.RIA101'"),
        ('select = ["RIA9"]\n', "key 'select': no rule matches 'RIA9'"),
        ("select = [\n", "invalid TOML"),
    ],
)
def test_bad_config_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = write(tmp_path / "rdsiam.toml", text)
    code, _, err = check(tmp_path, EXAMPLE, capsys=capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"rdsiam: {path}: ") or err.startswith("rdsiam: rdsiam.toml: "), err
    assert expected in err, err


def test_bad_key_in_pyproject_is_named_with_its_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.rdsiam]\nwaiver = 'w.toml'\n")
    code, _, err = check(tmp_path, EXAMPLE, capsys=capsys)
    assert code == 2 and "unknown key 'tool.rdsiam.waiver'" in err and "pyproject.toml" in err


# -- waivers --------------------------------------------------------------------------------

WAIVERS_TOML = """
[[waivers]]
rule = "RIA601"
resource = "rep*"
reason = "Kerberos migration, IAM stays until Q1"
owner = "db-team@example.com"
expires = 2027-01-31
ticket = "SEC-101"

[[waivers]]
rule = "RIA503"
resource = "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ORDERS*/etl"
reason = "replication user being split"
owner = "etl-team"
expires = 2026-11-27

[[waivers]]
rule = "RIA101"
resource = "no-such-db"
reason = "decommissioned"
owner = "ops"
expires = 2027-06-30

[[waivers]]
rule = "RIA405"
resource = "*"
reason = "not run in this check"
owner = "ops"
expires = 2027-06-30
"""


def test_waivers_active_expired_stale_and_not_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "w.toml", WAIVERS_TOML)
    _, plain, _ = check(tmp_path, EXAMPLE, "--select", "RIA5,RIA6,RIA101", capsys=capsys)
    _, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA5,RIA6,RIA101", "--waivers", "w.toml", capsys=capsys
    )
    # active: still a failure, with the waiver attached
    kerberos = finding(report, REPORTS_KERBEROS)
    assert kerberos["waiver"]["state"] == "active"
    assert kerberos["waiver"]["owner"] == "db-team@example.com"
    assert kerberos["waiver"]["ticket"] == "SEC-101"
    assert kerberos["waiver"]["source"] == {"path": "w.toml", "line": 2}
    # expired yesterday (expires is the last day it applies): attached, marked, not excusing
    etl = finding(report, ETL_REPLICATION)
    assert etl["waiver"]["state"] == "expired"
    states = {w["rule"]: (w["state"], w["matched"]) for w in report["waivers"]}
    assert states == {
        "RIA601": ("active", 1),
        "RIA503": ("expired", 1),
        "RIA101": ("stale", 0),
        "RIA405": ("not_evaluated", 0),
    }
    assert report["summary"] == plain["summary"]  # waivers change no status
    assert failing(report) == failing(plain)


def test_waived_failure_does_not_count_toward_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = check(tmp_path, EXAMPLE, "--select", "RIA601", capsys=capsys)
    assert code == 1
    write(tmp_path / "w.toml", WAIVERS_TOML)
    code, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA601", "--waivers", "w.toml", capsys=capsys
    )
    assert code == NO_FAILURE
    # RIA601 maps to no control: every control is listed, none evaluated
    assert {c["status"] for c in report["controls"]} == {"not_evaluated"}
    # the same waiver a day after its expiry: counts again
    code, report, _ = check(
        tmp_path,
        EXAMPLE,
        "--select",
        "RIA601",
        "--waivers",
        "w.toml",
        "--as-of",
        "2027-02-01T00:00:00Z",
        capsys=capsys,
    )
    assert code == 1


def test_waivers_in_yaml_through_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path / "conf" / "waivers.yaml",
        "waivers:\n"
        "  - rule: RIA601\n"
        "    resource: arn:aws:rds:us-east-1:123456789012:db:reports\n"
        "    reason: migration\n"
        "    owner: db-team\n"
        "    expires: 2027-01-31\n",
    )
    write(tmp_path / "conf" / "rdsiam.toml", 'waivers = "waivers.yaml"\n')
    code, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA601", "--config", "conf/rdsiam.toml", capsys=capsys
    )
    assert code == NO_FAILURE
    (waiver,) = report["waivers"]
    assert waiver["source"] == {"path": "conf/waivers.yaml", "line": 2}
    assert waiver["state"] == "active" and waiver["matched"] == 1


_ENTRY = 'rule = "RIA601"\nresource = "x"\nreason = "r"\nowner = "o"\nexpires = 2027-01-01\n'


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (_ENTRY.replace('reason = "r"\n', ""), "'reason' is required"),
        (_ENTRY.replace("expires = 2027-01-01\n", ""), "'expires' is required"),
        (_ENTRY.replace('owner = "o"\n', ""), "'owner' is required"),
        (_ENTRY.replace('reason = "r"', 'reason = " "'), "'reason' is blank"),
        (_ENTRY.replace("2027-01-01", '"soon"'), 'expires "soon" is not a date (YYYY-MM-DD)'),
        (_ENTRY.replace("RIA601", "RIA999"), "waiver for unknown rule 'RIA999'"),
        (
            'rule = "RIA601"\nresource = "x"\nreason = "r"\nowner = "o"\nexpires = 2027-01-01\n'
            'until = "never"\n',
            "unknown key 'until'",
        ),
    ],
)
def test_malformed_waiver_is_exit_2_naming_file_and_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, expected: str
) -> None:
    write(tmp_path / "w.toml", "# waivers\n\n[[waivers]]\n" + entry)
    code, _, err = check(tmp_path, EXAMPLE, "--waivers", "w.toml", capsys=capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("rdsiam: w.toml: line 3"), err
    assert expected in err


def test_waiver_file_that_is_not_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "w.yaml", "- rule: RIA601\n")
    code, _, err = check(tmp_path, EXAMPLE, "--waivers", "w.yaml", capsys=capsys)
    assert code == 2 and "w.yaml" in err and "'waivers' list" in err


TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Orders:
    Type: AWS::RDS::DBInstance
    Metadata:
      rdsiam:
        waivers:
          - rule: RIA101
            reason: turned on in the next release
            owner: db-team
            expires: 2027-01-31
    Properties:
      Engine: postgres
      EngineVersion: "16.3"
      DBInstanceClass: db.t3.micro
      EnableIAMDatabaseAuthentication: false
  Billing:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
      EngineVersion: "8.0.35"
      DBInstanceClass: db.t3.micro
      EnableIAMDatabaseAuthentication: false
"""


def test_cloudformation_metadata_waiver_covers_its_own_resource_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "stack.yaml", TEMPLATE)
    code, report, _ = check(
        tmp_path, "stack.yaml", "--select", "RIA101", "--region", "us-east-1", capsys=capsys
    )
    orders = finding(report, ("RIA101", "Orders"))
    billing = finding(report, ("RIA101", "Billing"))
    assert orders["waiver"]["state"] == "active"
    assert orders["waiver"]["source"] == {"path": "stack.yaml", "line": 4}
    assert billing["waiver"] is None
    assert code == 1  # Billing still fails
    (waiver,) = report["waivers"]
    assert waiver["resource"] == "*" and waiver["matched"] == 1


def test_cloudformation_metadata_waiver_malformed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "stack.yaml", TEMPLATE.replace("            owner: db-team\n", ""))
    code, _, err = check(tmp_path, "stack.yaml", "--region", "us-east-1", capsys=capsys)
    assert code == 2
    assert "stack.yaml: Resources.Orders.Metadata.rdsiam.waivers[0]" in err
    assert "'owner' is required" in err


# -- baseline and diff ----------------------------------------------------------------------


def test_baseline_counts_only_new_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the old report saw only RIA601's failure; RIA101 is new in the second run
    code, old, _ = check(tmp_path, EXAMPLE, "--select", "RIA601", capsys=capsys)
    (tmp_path / "old.json").write_text(json.dumps(old))
    code, same, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA601", "--baseline", "old.json", capsys=capsys
    )
    assert code == NO_FAILURE  # its one failure is known
    assert {f["baseline"] for f in same["findings"]} == {"known"}
    code, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA601,RIA101", "--baseline", "old.json", capsys=capsys
    )
    assert code == 1
    marks = {(f["rule_id"], f["baseline"]) for f in report["findings"]}
    assert marks == {("RIA601", "known"), ("RIA101", "new")}
    assert report["baseline"]["known"] == len(old["findings"])
    assert report["baseline"]["resolved"] == 0
    # a finding whose status changed since the baseline is new, not known
    changed = json.loads(json.dumps(old))
    target = finding(changed, REPORTS_KERBEROS)
    target["status"] = "pass"
    (tmp_path / "old2.json").write_text(json.dumps(changed))
    code, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA601", "--baseline", "old2.json", capsys=capsys
    )
    assert code == 1 and finding(report, REPORTS_KERBEROS)["baseline"] == "new"


def test_baseline_that_is_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "b.json", '{"format": "rdsiam-snapshot"}')
    code, _, err = check(tmp_path, EXAMPLE, "--baseline", "b.json", capsys=capsys)
    assert code == 2 and "b.json: not an rdsiam JSON report" in err
    write(tmp_path / "b.json", "{")
    code, _, err = check(tmp_path, EXAMPLE, "--baseline", "b.json", capsys=capsys)
    assert code == 2 and "b.json: not JSON" in err


def test_diff_lists_new_resolved_and_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, old, _ = check(tmp_path, EXAMPLE, "--select", "RIA1,RIA6", capsys=capsys)
    new = json.loads(json.dumps(old))
    kerberos = finding(new, REPORTS_KERBEROS)
    fixed_id = kerberos["id"]
    passing = next(f for f in new["findings"] if f["status"] == "pass")
    errored, gone = [f for f in new["findings"] if f["status"] == "fail" and f is not kerberos][:2]
    kerberos["status"] = "pass"  # resolved
    passing["status"] = "fail"  # new problem
    errored["severity"] = "critical"  # changed
    new["findings"].remove(gone)  # resolved: no longer reported
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    code = cli.main(["diff", "old.json", "new.json", "--format", "json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert result["summary"] == {"new": 1, "resolved": 2, "changed": 1, "not_compared": 0}
    assert [e["after"]["id"] for e in result["new_findings"]] == [passing["id"]]
    assert {e["before"]["id"] for e in result["resolved_findings"]} == {fixed_id, gone["id"]}
    assert result["changed_findings"][0]["changes"] == ["severity"]
    # text, and the reverse direction: what was new is now resolved; nothing new, exit 0
    code = cli.main(["diff", "new.json", "old.json"])
    out = capsys.readouterr().out
    assert code == 1  # the two problems resolved in NEW are new again in OLD
    assert out.startswith("rdsiam diff new.json -> old.json: 2 new, 1 resolved, 1 changed")
    assert cli.main(["diff", "old.json", "old.json"]) == 0
    assert "0 new, 0 resolved, 0 changed" in capsys.readouterr().out


def test_diff_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = check(tmp_path, EXAMPLE, "--select", "RIA601", capsys=capsys)
    report["findings"][0]["resource"] = "orders"  # not the report format
    (tmp_path / "a.json").write_text(json.dumps(report))
    assert cli.main(["diff", "a.json", "a.json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rdsiam: a.json: $.findings[0].resource: not a valid rdsiam report")
    assert cli.main(["diff", "report.json", "missing.json"]) == 2
    assert "missing.json: cannot read the report" in capsys.readouterr().err


# -- controls -------------------------------------------------------------------------------


def test_control_mapping_is_cited_data_for_real_rules() -> None:
    ids = {r.id for r in ALL_RULES}
    catalog = controls.catalog()
    for rule_id, mapped in controls.mapped_rules().items():
        assert rule_id in ids
        assert mapped and all(c in catalog for c in mapped)
    for control in catalog.values():
        assert control.url.startswith("https://")
        if control.framework == "AWS-FSBP":
            assert control.url.endswith("#" + control.id.split(":")[1].lower().replace(".", "-"))
        assert all(r in catalog for r in control.related)
    # AWS lists NIST SP 800-53 r5 requirements for RDS.10 and RDS.12 only
    assert controls.for_rule("RIA101") == (
        "AWS-FSBP:RDS.10",
        "NIST-800-53r5:AC-2(1)",
        "NIST-800-53r5:AC-3",
        "NIST-800-53r5:AC-3(15)",
        "NIST-800-53r5:AC-3(7)",
        "NIST-800-53r5:AC-6",
    )
    assert controls.for_rule("RIA402") == ("AWS-FSBP:RDS.39", "AWS-FSBP:RDS.44")


def test_per_control_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = check(tmp_path, EXAMPLE, "--select", "RIA101,RIA102", capsys=capsys)
    by_id = {c["id"]: c for c in report["controls"]}
    rds10 = by_id["AWS-FSBP:RDS.10"]
    counted = [f for f in report["findings"] if f["rule_id"] == "RIA101"]
    assert rds10["rules"] == ["RIA101"]
    assert sum(rds10["summary"].values()) == len(counted)
    assert rds10["summary"]["fail"] == sum(1 for f in counted if f["status"] == "fail") > 0
    assert rds10["status"] == "fail"
    nist = by_id["NIST-800-53r5:AC-3"]
    assert nist["rules"] == ["RIA101", "RIA102"]
    assert by_id["AWS-FSBP:RDS.38"]["status"] == "not_evaluated"
    assert by_id["AWS-FSBP:RDS.38"]["rules_not_evaluated"] == ["RIA401"]
    rule = next(r for r in report["rules"] if r["id"] == "RIA101")
    assert rule["controls"] == list(controls.for_rule("RIA101"))


def test_waived_failures_make_a_control_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path / "w.toml",
        '[[waivers]]\nrule = "RIA101"\nresource = "*"\nreason = "r"\nowner = "o"\n'
        "expires = 2027-01-01\n",
    )
    code, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA101", "--waivers", "w.toml", capsys=capsys
    )
    rds10 = next(c for c in report["controls"] if c["id"] == "AWS-FSBP:RDS.10")
    assert rds10["summary"]["fail"] == 0 and rds10["summary"]["waived"] > 0
    assert rds10["status"] == "pass"
    assert code == NO_FAILURE


# -- reproducibility ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "text", "markdown", "html"])
def test_same_snapshot_and_as_of_give_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    write(tmp_path / "w.toml", WAIVERS_TOML)
    outputs = []
    for name in ("one", "two"):
        out = tmp_path / f"{name}.{fmt}"
        code = cli.main(
            [
                "check",
                EXAMPLE,
                "--format",
                fmt,
                "-o",
                str(out),
                "--as-of",
                AS_OF,
                "--waivers",
                "w.toml",
                "--all",
            ]
        )
        assert code == 1, capsys.readouterr().err
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 1000
    if fmt != "text":
        assert b"2026-11-28" in outputs[0]  # the --as-of time is the report's time
    # and another evaluation time changes only what depends on the time
    later = tmp_path / f"later.{fmt}"
    cli.main(
        ["check", EXAMPLE, "--format", fmt, "-o", str(later), "--as-of", "2027-01-02T00:00:00Z"]
    )
    assert later.read_bytes() != outputs[0]


def test_bundled_example_waivers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    waivers = str(ROOT / "examples" / "waivers.toml")
    code, report, _ = check(tmp_path, EXAMPLE, "--waivers", waivers, capsys=capsys)
    states = [(w["rule"], w["state"]) for w in report["waivers"]]
    assert states == [("RIA601", "active"), ("RIA305", "stale")]
    assert finding(report, REPORTS_KERBEROS)["waiver"]["ticket"] == "SEC-101"
    assert code == 1  # the example's other failures still count


def test_markdown_and_html_verdicts_follow_fail_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in ("markdown", "html"):
        for fail_on, code, label in (("medium", 1, "FAIL"), ("high", NO_FAILURE, "INCOMPLETE")):
            out = tmp_path / f"r.{fmt}"
            args = ["--select", "RIA601", "--fail-on", fail_on, "--format", fmt, "-o", str(out)]
            assert cli.main(["check", EXAMPLE, "--as-of", AS_OF, *args]) == code
            text = out.read_text()
            assert f"{label}: " in text, (fmt, fail_on)
            assert ("1 below --fail-on" in text) == (fail_on == "high")


def test_readme_configuration_and_waiver_examples_are_valid(tmp_path: Path) -> None:
    from checker import config, waivers

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```toml\n")[1:]]
    conf = next(b for b in blocks if b.startswith("# rdsiam.toml"))
    waiver = next(b for b in blocks if b.startswith("# rdsiam-waivers.toml"))
    write(tmp_path / "rdsiam-waivers.toml", waiver)
    loaded = config.load(str(write(tmp_path / "rdsiam.toml", conf)))
    assert loaded.fail_on == "high" and loaded.severity == {"RIA305": "medium"}
    assert loaded.waivers is not None
    (entry,) = waivers.load_file(loaded.waivers)
    assert (entry.rule, entry.owner, entry.ticket) == ("RIA601", "db-team@example.com", "SEC-101")


# -- what a review found ----------------------------------------------------------------------


def test_unwritable_output_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for target in (tmp_path / "no" / "such" / "dir.json", tmp_path):
        assert cli.main(["check", EXAMPLE, "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot write the output" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "waivers:\n  - {rule: RIA101, resource: x, reason: r, owner: o, expires: 2027-02-30}\n",
            "line 2 (waivers[0]): expires '2027-02-30' is not a date",
        ),
        ("waivers: !!set {a}\n", "is not of type"),
        ("a: &a [1, 2]\nb: [*a, *a]\nwaivers: []\n", "YAML aliases are not allowed"),
        (
            "waivers:\n  - {rule: RIA101, resource: x, reason: r, owner: o, expires: 0000-01-01}\n",
            "is not a date",
        ),
    ],
)
def test_yaml_waivers_that_yaml_types_would_break(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    write(tmp_path / "w.yaml", text)
    code, _, err = check(tmp_path, EXAMPLE, "--waivers", "w.yaml", capsys=capsys)
    assert code == 2 and "Traceback" not in err and expected in err, err


def test_reports_never_overwrite_what_the_user_gave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "w.toml", WAIVERS_TOML)
    check(tmp_path, EXAMPLE, capsys=capsys)  # report.json
    write(tmp_path / "rdsiam.toml", 'fail_on = "high"\n')
    for args in (
        ["--waivers", "w.toml", "-o", "w.toml"],
        ["-o", "rdsiam.toml"],
        ["--baseline", "report.json", "-o", "report.json"],
    ):
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
        assert cli.main(["check", EXAMPLE, *args]) == 2
        assert "would overwrite" in capsys.readouterr().err
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_waiver_names_match_exactly_before_globbing() -> None:
    from datetime import date

    from checker.rule import Finding, Location, Resource, Severity, Status
    from checker.waivers import Waiver

    address = "module.db[0].aws_db_instance.main[0]"
    finding = Finding(
        "RIA101",
        Status.FAIL,
        Severity.MEDIUM,
        Resource("AWS::RDS::DBInstance", address),
        "m",
        location=Location("plan.json", None, address),
    )
    waiver = Waiver("RIA101", address, "r", "o", date(2027, 1, 1), None, "w.toml", 1)
    assert waiver.matches(finding)
    waiver.resource = "module.db[[]0].*"  # a glob still works, with brackets escaped
    assert waiver.matches(finding)
    waiver.resource = "module.db[1].*"
    assert not waiver.matches(finding)


def test_file_waiver_names_a_template_resource_by_logical_id_across_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "stack.yaml", TEMPLATE)
    write(tmp_path / "other.yaml", TEMPLATE.replace("Orders", "Reports"))
    write(
        tmp_path / "w.toml",
        '[[waivers]]\nrule = "RIA101"\nresource = "Billing"\nreason = "r"\nowner = "o"\n'
        "expires = 2027-01-01\n",
    )
    _, report, _ = check(
        tmp_path,
        "stack.yaml",
        "other.yaml",
        "--select",
        "RIA101",
        "--region",
        "us-east-1",
        "--waivers",
        "w.toml",
        capsys=capsys,
    )
    waived = sorted(f["resource"]["id"] for f in report["findings"] if f["waiver"])
    # the two Billing instances (Billing@stack, Billing@other), and in each file the instance
    # its Metadata waives
    assert waived == ["Billing@other", "Billing@stack", "Orders@stack", "Reports@other"]
    file_waiver = next(w for w in report["waivers"] if w["resource"] == "Billing")
    assert file_waiver["matched"] == 2


def test_lapsed_waiver_makes_a_known_failure_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "w.toml", WAIVERS_TOML)
    _, old, _ = check(tmp_path, EXAMPLE, "--select", "RIA601", "--waivers", "w.toml", capsys=capsys)
    (tmp_path / "old.json").write_text(json.dumps(old))
    later = ["--as-of", "2027-02-01T00:00:00Z", "--baseline", "old.json"]
    code, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA601", "--waivers", "w.toml", *later, capsys=capsys
    )
    assert code == 1
    assert finding(report, REPORTS_KERBEROS)["baseline"] == "new"
    (tmp_path / "new.json").write_text(json.dumps(report))
    assert cli.main(["diff", "old.json", "new.json", "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert [e["after"]["rule_id"] for e in result["new_findings"]] == ["RIA601"]


def test_rules_not_run_are_not_resolved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, full, _ = check(tmp_path, EXAMPLE, capsys=capsys)
    (tmp_path / "full.json").write_text(json.dumps(full))
    _, subset, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA1", "--baseline", "full.json", capsys=capsys
    )
    assert subset["baseline"]["resolved"] == 0
    (tmp_path / "subset.json").write_text(json.dumps(subset))
    assert cli.main(["diff", "full.json", "subset.json", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    outside = [
        f
        for f in full["findings"]
        if not f["rule_id"].startswith("RIA1") and f["status"] in ("fail", "error")
    ]
    assert result["summary"]["resolved"] == 0
    assert result["summary"]["not_compared"] == len(outside) > 0


def test_severity_override_reaches_the_rule_catalog_of_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "rdsiam.toml", '[severity]\nRIA101 = "info"\n')
    _, report, _ = check(tmp_path, EXAMPLE, "--select", "RIA101", capsys=capsys)
    assert report["rules"][0]["severity"] == "info"
    assert {f["severity"] for f in report["findings"]} == {"info"}
    args = ["check", EXAMPLE, "--select", "RIA101", "-o"]
    assert cli.main([*args, "s", "--format", "sarif"]) == NO_FAILURE  # info is below low
    (rule,) = json.loads((tmp_path / "s").read_text())["runs"][0]["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"]["level"] == "note"
    assert rule["properties"]["security-severity"] == "1.0"
    assert cli.main([*args, "j", "--format", "junit"]) == NO_FAILURE
    assert '<property name="rule.severity" value="info"/>' in (tmp_path / "j").read_text()


def test_every_matching_waiver_counts_its_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = WAIVERS_TOML.split("[[waivers]]")[1]
    write(tmp_path / "w.toml", "[[waivers]]" + twice + "\n[[waivers]]" + twice)
    _, report, _ = check(
        tmp_path, EXAMPLE, "--select", "RIA601", "--waivers", "w.toml", capsys=capsys
    )
    assert [(w["state"], w["matched"]) for w in report["waivers"]] == [("active", 1)] * 2


def test_controls_are_listed_in_numeric_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report, _ = check(tmp_path, EXAMPLE, "--select", "RIA101", capsys=capsys)
    nist = [c["id"] for c in report["controls"] if c["framework"] == "NIST-800-53r5"]
    assert nist == [
        "NIST-800-53r5:AC-2(1)",
        "NIST-800-53r5:AC-3",
        "NIST-800-53r5:AC-3(7)",
        "NIST-800-53r5:AC-3(15)",
        "NIST-800-53r5:AC-6",
    ]
