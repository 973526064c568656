"""Templates and plans through ``rdsiam check``: what only deploy time knows, where findings
point, several templates in one run, and the command line's handling of IaC input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import ROOT, run_cli

TF_PLAN = ROOT / "tests" / "data" / "terraform" / "plan.json"

STACK = (
    """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  EnableIam:
    Type: String
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      EngineVersion: '16.4'
      DBInstanceClass: db.m6g.large
      EnableIAMDatabaseAuthentication: {enable}
  App:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {{Service: ecs-tasks.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: connect
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: rds-db:connect
"""
    "                Resource: !Sub 'arn:${{AWS::Partition}}:rds-db:${{AWS::Region}}:"
    "${{AWS::AccountId}}:dbuser:{rid}/app'\n"
)


def _check(*args: str) -> tuple[int, dict[str, Any]]:
    proc = run_cli("check", *args, "--format", "json")
    assert proc.returncode in (0, 1, 3), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _by(report: dict[str, Any], rule: str) -> dict[str, dict[str, Any]]:
    return {f["resource"]["id"]: f for f in report["findings"] if f["rule_id"] == rule}


def test_two_templates_do_not_answer_for_each_other(tmp_path: Path) -> None:
    """Both templates have a Db and an App role; only the first grants by !Ref (the identifier).
    Each grant is judged against its own file's Db, and each finding points at its own file."""
    wrong = tmp_path / "wrong.yaml"
    right = tmp_path / "right.yaml"
    wrong.write_text(STACK.format(enable="true", rid="${Db}"), encoding="utf-8")
    right.write_text(STACK.format(enable="true", rid="${Db.DbiResourceId}"), encoding="utf-8")
    code, report = _check(str(wrong), str(right), "--region", "us-east-1")
    assert code == 1
    ria302 = _by(report, "RIA302")
    assert ria302["App@wrong/connect"]["status"] == "fail"
    assert "use !GetAtt Db.DbiResourceId" in ria302["App@wrong/connect"]["message"]
    assert ria302["App@right/connect"]["status"] == "pass"
    assert ria302["App@wrong/connect"]["location"]["path"] == str(wrong)
    assert ria302["App@right/connect"]["location"]["path"] == str(right)
    ria303 = _by(report, "RIA303")
    assert ria303["App@right/connect"]["status"] == "pass"  # the template's own Db


def test_one_template_keeps_its_logical_ids_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.format(enable="true", rid="${Db}"), encoding="utf-8")
    _, report = _check(str(path))
    db = _by(report, "RIA101")["Db"]
    assert db["status"] == "pass"
    assert db["location"] == {"path": str(path), "line": 6}
    assert _by(report, "RIA302")["App/connect"]["location"]["line"] == 13


def test_a_value_only_deploy_time_knows_is_not_applicable(tmp_path: Path) -> None:
    """EnableIam has no default: whether IAM is on is unknown, so RIA101 neither fails nor
    passes; with the parameter given, it is judged."""
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.format(enable="!Ref EnableIam", rid="${Db.DbiResourceId}"))
    _, report = _check(str(path))
    db = _by(report, "RIA101")["Db"]
    assert db["status"] == "not_applicable"
    assert "only known at deploy time" in db["message"] and "${EnableIam}" in db["message"]
    _, report = _check(str(path), "--parameter", "EnableIam=false")
    assert _by(report, "RIA101")["Db"]["status"] == "fail"


def test_unknown_account_and_region_are_not_judged(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.format(enable="true", rid="${Db.DbiResourceId}"), encoding="utf-8")
    _, report = _check(str(path))
    finding = _by(report, "RIA306")["App/connect"]
    assert finding["status"] == "not_applicable" and "--region" in finding["message"]
    _, report = _check(str(path), "--region", "eu-west-1", "--account", "123456789012")
    assert _by(report, "RIA306")["App/connect"]["status"] == "pass"


def test_database_users_are_not_applicable_on_templates(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.format(enable="true", rid="${Db.DbiResourceId}"), encoding="utf-8")
    _, report = _check(str(path), "--select", "RIA5")
    statuses = {f["status"] for f in report["findings"]}
    assert statuses == {"not_applicable"}, report["findings"]


def test_terraform_plan_grant_built_from_the_identifier(tmp_path: Path) -> None:
    """In the plan, one group's grant names the DB instance by its identifier ('orders'); the
    role's grant is built at apply time from aws_db_instance.orders.resource_id."""
    code, report = _check(str(TF_PLAN))
    assert code == 1
    ria302 = _by(report, "RIA302")
    wrong = ria302["aws_iam_group.dba/connect-orders"]
    assert wrong["status"] == "fail"
    assert "'orders' is an identifier or name" in wrong["message"]
    assert wrong["location"]["path"] == str(TF_PLAN)
    right = ria302["aws_iam_role.app/connect"]
    assert right["status"] == "pass"
    assert "aws_db_instance.orders.resource_id" in right["message"]


def test_sarif_points_at_the_template_line(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.format(enable="true", rid="${Db}"), encoding="utf-8")
    proc = run_cli("check", str(path), "--format", "sarif", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    results = json.loads(proc.stdout)["runs"][0]["results"]
    [ria302] = [r for r in results if r["ruleId"] == "RIA302"]
    physical = ria302["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("stack.yaml")
    assert physical["region"]["startLine"] == 13


def test_skip_unknown_for_pre_commit(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  web:\n    image: nginx\n", encoding="utf-8")
    proc = run_cli("check", str(compose))
    assert proc.returncode == 2 and "not a recognized input" in proc.stderr
    proc = run_cli("check", "--skip-unknown", str(compose))
    assert proc.returncode == 0 and "nothing to check" in proc.stderr
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.format(enable="true", rid="${Db}"), encoding="utf-8")
    proc = run_cli("check", "--skip-unknown", str(compose), str(stack))
    assert proc.returncode == 1  # the template's RIA302 failure still gates


def test_templates_are_not_merged_with_snapshots(tmp_path: Path) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.format(enable="true", rid="${Db}"), encoding="utf-8")
    proc = run_cli("check", str(stack), str(ROOT / "examples" / "snapshot.json"))
    assert proc.returncode == 2
    assert "checked on their own" in proc.stderr and proc.stderr.count("\n") == 1


def test_billion_laughs_is_one_line_and_fast(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    lines.append("Resources: {Db: {Type: 'AWS::RDS::DBInstance', Properties: *a9}}")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("check", str(bomb))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "alias" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources:\n  Db:\n    Type: [unclosed\n", encoding="utf-8")
    proc = run_cli("check", str(broken))
    assert proc.returncode == 2 and "line " in proc.stderr and str(broken) in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_unsupported_plan_format(tmp_path: Path) -> None:
    plan = json.loads(TF_PLAN.read_text(encoding="utf-8"))
    plan["format_version"] = "2.0"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    proc = run_cli("check", str(path))
    assert proc.returncode == 2
    assert "unsupported plan format version 2.0" in proc.stderr
