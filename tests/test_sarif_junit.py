"""``--format sarif`` and ``--format junit``: the real command line on the example, and crafted
reports for what the example does not have (template locations, waivers, awkward text)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from conftest import ROOT, assert_example_reproducible, check_example, run_cli

from checker import controls
from checker.docs import rule_page
from checker.model.report import InputFile, Report
from checker.report import FORMATS, junit, sarif
from checker.rule import Finding, Location, Resource, Severity, Status
from rules import ALL_RULES

EXAMPLE = str(ROOT / "examples" / "snapshot.json")
AS_OF = "2026-11-28T12:00:00Z"
# The OASIS schema is test data kept outside the project (see ../shared/data/README.md).
SARIF_SCHEMA = ROOT.parent / "shared" / "data" / "sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
KINDS = {"fail": "fail", "error": "review", "pass": "pass", "not_applicable": "notApplicable"}


_check = check_example


@pytest.fixture(scope="module")
def sarif_log() -> dict[str, Any]:
    code, out = _check("--format", "sarif")
    assert code == 1
    log: dict[str, Any] = json.loads(out)
    return log


def _structure(log: dict[str, Any]) -> None:
    """What rdsiam promises of its SARIF, checked without the OASIS schema: one run, every
    result pointing at a rule of the driver, levels and kinds as SARIF allows them together."""
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "rdsiam"
    for rule in rules:
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"], (rule["id"], key)
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        score = float(rule["properties"]["security-severity"])
        assert 0.0 < score <= 10.0
        assert "security" in rule["properties"]["tags"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert result["kind"] in ("fail", "review", "pass", "notApplicable")
        # SARIF 2.1.0 section 3.27.10: a result that is not a failure has level "none"
        assert (result["level"] != "none") == (result["kind"] == "fail")
        (location,) = result["locations"]
        # GitHub code scanning rejects an upload with a result that has no artifact URI
        assert location["physicalLocation"]["artifactLocation"]["uri"]
        (logical,) = location["logicalLocations"]
        assert logical["kind"] == "resource" and logical["fullyQualifiedName"]
    assert isinstance(run["invocations"][0]["executionSuccessful"], bool)


def _validate(log: dict[str, Any]) -> None:
    """The structure, and the OASIS schema where it is at hand (test_sarif_matches_the_schema
    says so when it is not)."""
    _structure(log)
    if not SARIF_SCHEMA.is_file():
        return
    from jsonschema import Draft4Validator

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, f"{list(errors[0].path)}: {errors[0].message}"


# -- SARIF on the example -----------------------------------------------------------------


def test_sarif_structure(sarif_log: dict[str, Any]) -> None:
    _structure(sarif_log)


def test_sarif_matches_the_schema(sarif_log: dict[str, Any]) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the full SARIF 2.1.0 schema check needs {SARIF_SCHEMA}")
    _validate(sarif_log)


def test_sarif_results_are_the_problems_of_the_json_report(
    sarif_log: dict[str, Any], json_report: dict[str, Any]
) -> None:
    problems = [f for f in json_report["findings"] if f["status"] in ("fail", "error")]
    results = sarif_log["runs"][0]["results"]
    assert len(results) == len(problems) > 0
    for finding, result in zip(problems, results, strict=True):  # same order as the report
        assert result["ruleId"] == finding["rule_id"]
        assert result["partialFingerprints"] == {"rdsiamFindingId/v1": finding["id"]}
        assert result["correlationGuid"] == finding["id"]
        assert result["kind"] == KINDS[finding["status"]]
        if finding["status"] == "fail":
            assert result["level"] == LEVELS[finding["severity"]]
            assert result["message"]["text"] == finding["message"]
        else:
            assert result["level"] == "none"
            assert result["message"]["text"].startswith("Check not completed: ")
            assert finding["message"] in result["message"]["text"]
        assert result["properties"]["status"] == finding["status"]
        assert result["properties"]["evidence"] == finding["evidence"]
        assert result["properties"]["resource"] == finding["resource"]
        logical = result["locations"][0]["logicalLocations"][0]
        resource = finding["resource"]
        assert logical["name"] == resource["id"]
        if resource["arn"]:
            assert logical["fullyQualifiedName"] == resource["arn"]
        else:
            assert logical["fullyQualifiedName"].startswith(resource["type"] + "/")
        # a snapshot has no lines: the resource's pseudo-path, the same in every run
        physical = result["locations"][0]["physicalLocation"]
        scope = f"{resource['account_id'] or '-'}/{resource['region'] or '-'}"
        kind = resource["type"].replace("::", ".")
        assert unquote(physical["artifactLocation"]["uri"]) == (
            f"aws-resource/{scope}/{kind}/{resource['id']}"
        )
        assert "region" not in physical


def test_sarif_rules_carry_the_catalog(
    sarif_log: dict[str, Any], json_report: dict[str, Any]
) -> None:
    driver = sarif_log["runs"][0]["tool"]["driver"]
    assert driver["version"] == json_report["tool"]["version"]
    assert [r["id"] for r in driver["rules"]] == [r["id"] for r in json_report["rules"]]
    by_id = {r.id: r for r in ALL_RULES}
    expected = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
    for descriptor in driver["rules"]:
        rule = by_id[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.title()
        assert descriptor["fullDescription"]["markdown"] == rule.sections()["What it checks"]
        assert descriptor["help"] == {"text": rule.doc(), "markdown": rule_page(rule)}
        assert descriptor["helpUri"] == rule.source_url
        assert descriptor["defaultConfiguration"]["level"] == LEVELS[rule.severity.value]
        props = descriptor["properties"]
        assert props["severity"] == rule.severity.value
        assert props["security-severity"] == expected[rule.severity.value]
        assert set(rule.resource_types()) <= set(props["tags"])
        assert props.get("controls", []) == list(controls.for_rule(rule.id))


def test_sarif_invocation_and_artifacts(
    sarif_log: dict[str, Any], json_report: dict[str, Any]
) -> None:
    run = sarif_log["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False  # AccessDenied in eu-west-1
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert "DescribeDBProxies" in note["message"]["text"]
    assert "AccessDenied" in note["message"]["text"]
    (artifact,) = run["artifacts"]
    assert artifact["location"] == {"uri": "examples/snapshot.json", "uriBaseId": "%SRCROOT%"}
    assert artifact["hashes"] == {"sha-256": json_report["inputs"][0]["sha256"]}
    assert run["properties"]["summary"] == json_report["summary"]


def test_sarif_all_adds_passes_and_not_applicable(json_report: dict[str, Any]) -> None:
    code, out = _check("--format", "sarif", "--all")
    assert code == 1
    log = json.loads(out)
    _validate(log)
    results = log["runs"][0]["results"]
    findings = json_report["findings"]
    assert [r["partialFingerprints"]["rdsiamFindingId/v1"] for r in results] == [
        f["id"] for f in findings
    ]
    assert Counter(r["kind"] for r in results) == {
        KINDS[status]: count for status, count in json_report["summary"].items() if count
    }
    for result in results:
        if result["kind"] in ("pass", "notApplicable"):
            assert result["level"] == "none"


def test_sarif_and_junit_are_byte_identical_across_runs(tmp_path: Path) -> None:
    for fmt in ("sarif", "junit"):
        assert_example_reproducible(tmp_path, fmt)
    assert not list(tmp_path.glob(".rdsiam-*"))


@pytest.mark.parametrize("fail_on, expected", [("low", 1), ("never", 3)])
def test_exit_codes_do_not_depend_on_the_format(fail_on: str, expected: int) -> None:
    for fmt in FORMATS:
        code, out = _check("--format", fmt, "--fail-on", fail_on)
        assert code == expected, fmt
        assert out


# -- JUnit on the example -----------------------------------------------------------------


def test_junit_suites_match_the_json_report(json_report: dict[str, Any]) -> None:
    code, out = _check("--format", "junit")
    assert code == 1
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out.encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        f"{r['id']} {r['title']}" for r in json_report["rules"]
    ]
    for suite, rule in zip(suites, json_report["rules"], strict=True):
        findings = [f for f in json_report["findings"] if f["rule_id"] == rule["id"]]
        counts = Counter(f["status"] for f in findings)
        assert suite.get("tests") == str(len(findings))
        assert suite.get("failures") == str(counts["fail"])
        assert suite.get("errors") == str(counts["error"])
        assert suite.get("skipped") == str(counts["not_applicable"])
        assert suite.get("timestamp") == "2026-11-28T12:00:00"
        cases = suite.findall("testcase")
        assert len(cases) == len(findings)
        names = [c.get("name") for c in cases]
        assert len(set(names)) == len(names)  # Jenkins keys cases by class and name
        for case, finding in zip(cases, findings, strict=True):
            assert case.get("classname") == rule["id"]
            assert case.get("name", "").startswith(finding["resource"]["id"])
            children = [child.tag for child in case]
            expected = {"pass": [], "fail": ["failure"], "error": ["error"]}
            assert children == expected.get(finding["status"], ["skipped"])
            if finding["status"] == "fail":
                failure = case.find("failure")
                assert failure is not None
                assert failure.get("message") == finding["message"]
                assert failure.get("type") == finding["severity"]
                assert finding["message"] in (failure.text or "")
    summary = json_report["summary"]
    assert root.get("tests") == str(len(json_report["findings"]))
    assert root.get("failures") == str(summary["fail"])
    assert root.get("errors") == str(summary["error"])
    assert root.get("skipped") == str(summary["not_applicable"])


# -- crafted reports ----------------------------------------------------------------------

AWKWARD = "a <b> & \"c\" 'd' – Zürich ✓ 日本 \U0001f512 tab\there\nnew line\r\x00\x1f\ud800 end"


def _report(*findings: Finding, inputs: list[InputFile] | None = None) -> Report:
    rule = ALL_RULES[0]  # RIA101
    for i, f in enumerate(findings):
        f.id = f.id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"rdsiam-test/{i}"))
    return Report(
        generated_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        rules=[rule],
        findings=list(findings),
        inputs=inputs or [],
    )


def _finding(status: Status = Status.FAIL, **kwargs: Any) -> Finding:
    kwargs.setdefault("message", "DB instance 'orders' has IAM database authentication disabled")
    kwargs.setdefault("evidence", {"IAMDatabaseAuthenticationEnabled": False})
    kwargs.setdefault(
        "resource", Resource("AWS::RDS::DBInstance", "Orders", None, "123456789012", "us-east-1")
    )
    return Finding(ALL_RULES[0].id, status, kwargs.pop("severity", Severity.HIGH), **kwargs)


def _sarif(report: Report, **options: Any) -> dict[str, Any]:
    text = "".join(sarif.render(report, **options))
    log: dict[str, Any] = json.loads(text)
    _validate(log)
    return log


def _junit(report: Report) -> ET.Element:
    text = "".join(junit.render(report))
    return ET.fromstring(text.encode("utf-8"))


def test_sarif_physical_location_of_a_template_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = _report(
        _finding(location=Location("stack.yaml", 12)),
        _finding(location=Location(str(tmp_path / "infra" / "my stack.json"), 3)),
        _finding(location=Location(str(tmp_path.parent / "elsewhere.yaml"), None)),
        inputs=[InputFile("stack.yaml", "cloudformation", "0" * 64)],
    )
    results = _sarif(report)["runs"][0]["results"]
    physical = [r["locations"][0]["physicalLocation"] for r in results]
    assert physical[0] == {
        "artifactLocation": {"uri": "stack.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12},
    }
    # under the current directory: relative, percent-encoded
    assert physical[1]["artifactLocation"] == {
        "uri": "infra/my%20stack.json",
        "uriBaseId": "%SRCROOT%",
    }
    # elsewhere: an absolute file URI; no line, no region
    assert physical[2] == {
        "artifactLocation": {"uri": (tmp_path.parent / "elsewhere.yaml").as_uri()}
    }
    for result in results:  # the resource is named as well
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
            "AWS::RDS::DBInstance/123456789012/us-east-1/Orders"
        )
    template = _junit(report).find("testsuite/testcase")
    assert template is not None
    assert template.get("file") == "stack.yaml"


def test_waived_failure_is_suppressed_and_skipped() -> None:
    waiver = {
        "reason": "master user switched to IAM on purpose",
        "owner": "db-team",
        "expires": "2027-01-31",
        "state": "active",
    }
    report = _report(_finding(waiver=waiver), _finding(resource=Resource("T", "other")))
    results = _sarif(report)["runs"][0]["results"]
    assert results[0]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "master user switched to IAM on purpose",
            "properties": {"waiver": waiver},
        }
    ]
    assert results[0]["kind"] == "fail"  # still a failure, suppressed
    assert "suppressions" not in results[1]
    suite = _junit(report).find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "1")
    skipped = suite.find("testcase/skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "waived by db-team until 2027-01-31: master user switched to IAM on purpose"
    )


def test_expired_waiver_suppresses_nothing() -> None:
    waiver = {"reason": "r", "owner": "o", "expires": "2020-01-31", "state": "expired"}
    report = _report(_finding(waiver=waiver))
    (result,) = _sarif(report)["runs"][0]["results"]
    assert "suppressions" not in result
    suite = _junit(report).find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "0")


def test_special_characters_survive() -> None:
    finding = _finding(
        message=AWKWARD,
        evidence={"Value": AWKWARD, AWKWARD: [1, None, True]},
        resource=Resource("AWS::IAM::Policy", "jane/<db & admin>", None, "123456789012"),
        subject='Sid "x" & <y>',
        location=Location("tëmplate & <x>.yaml", 7),
    )
    # SARIF: JSON carries every character, lone surrogate aside (written as its escape)
    text = "".join(sarif.render(_report(finding)))
    text.encode("utf-8")  # encodable, so writable
    (result,) = json.loads(text)["runs"][0]["results"]
    assert result["message"]["text"].startswith("a <b> & \"c\" 'd' – Zürich ✓ 日本 \U0001f512")
    assert result["properties"]["evidence"]["Value"].replace("\ud800", "") == AWKWARD.replace(
        "\ud800", ""
    )
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "t%C3%ABmplate%20%26%20%3Cx%3E.yaml"
    )
    # JUnit: well-formed, text and attributes round-trip; what XML cannot hold is escaped
    case = _junit(_report(finding)).find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == 'jane/<db & admin>: Sid "x" & <y> (123456789012)'
    assert case.get("file") == "tëmplate & <x>.yaml"
    failure = case.find("failure")
    assert failure is not None
    readable = (
        AWKWARD.replace("\x00", "\\x00").replace("\x1f", "\\x1f").replace("\ud800", "\\ud800")
    )
    assert failure.get("message") == readable  # newline, tab, CR kept in the attribute
    assert (failure.text or "").startswith(readable + "\n")
    assert '"Value": ' in (failure.text or "")


def test_file_names_and_collection_errors_that_are_not_utf8() -> None:
    # a file name with a byte that is not UTF-8 (surrogate-escaped by Python), and a collection
    # error whose text came from a JSON escape of a lone surrogate
    report = _report(_finding(location=Location("caf\udce9.yaml", 1)))
    report.collection_errors = [{"account_id": "123456789012", "code": "X", "message": "\ud800"}]
    text = "".join(sarif.render(report))
    text.encode("utf-8")
    log = json.loads(text)
    (result,) = log["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "caf%E9.yaml"
    case = _junit(report).find("testsuite/testcase")
    assert case is not None and case.get("file") == "caf\\udce9.yaml"


def test_junit_error_and_not_applicable() -> None:
    report = _report(
        _finding(Status.ERROR, message="DBInstances could not be collected"),
        _finding(Status.NOT_APPLICABLE, message="member of a cluster", resource=Resource("T", "b")),
        _finding(Status.PASS, message="enabled", resource=Resource("T", "c")),
    )
    suite = _junit(report).find("testsuite")
    assert suite is not None
    assert [suite.get(k) for k in ("tests", "failures", "errors", "skipped")] == [
        "3",
        "0",
        "1",
        "1",
    ]
    cases = suite.findall("testcase")
    error = cases[0].find("error")
    assert error is not None
    assert error.get("message") == "check not completed: DBInstances could not be collected"
    skipped = cases[1].find("skipped")
    assert skipped is not None and skipped.get("message") == "not applicable: member of a cluster"
    assert list(cases[2]) == []
    assert [c.get("name") for c in cases] == ["Orders (123456789012 us-east-1)", "b", "c"]


def test_sarif_error_result_and_execution_success() -> None:
    report = _report(_finding(Status.ERROR, message="DBProxies could not be collected"))
    log = _sarif(report)
    (result,) = log["runs"][0]["results"]
    assert (result["kind"], result["level"]) == ("review", "none")
    assert result["message"]["text"] == "Check not completed: DBProxies could not be collected"
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    clean = _sarif(_report(_finding(Status.PASS)))
    assert clean["runs"][0]["results"] == []
    assert clean["runs"][0]["invocations"] == [{"executionSuccessful": True}]


def test_sarif_live_input_has_no_file() -> None:
    report = _report(_finding(), inputs=[InputFile("(live AWS)", "aws", "a" * 64)])
    (artifact,) = _sarif(report)["runs"][0]["artifacts"]
    assert "location" not in artifact
    assert artifact["hashes"] == {"sha-256": "a" * 64}


def test_empty_report() -> None:
    report = _report()
    log = _sarif(report, show_all=True)
    assert log["runs"][0]["results"] == []
    suite = _junit(report).find("testsuite")
    assert suite is not None and suite.get("tests") == "0"


def test_formats_are_listed_in_help() -> None:
    proc = run_cli("check", "--help")
    assert proc.returncode == 0
    assert "sarif" in proc.stdout and "junit" in proc.stdout
    assert {"sarif", "junit"} <= set(FORMATS)
