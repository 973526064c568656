"""``--format sarif``: one SARIF 2.1.0 run, for code scanning and CI annotations.

Results are the problems (``fail``, and ``error``: a check that could not be completed); with
``show_all`` (``--all``) the passes and not-applicable findings too, as ``kind`` ``pass`` and
``notApplicable``. Each result names its resource as a logical location, and as its physical
location the template file and line (IaC inputs) or else a pseudo-path of the resource, since
GitHub code scanning refuses results without a file.

Streamed like the JSON report: the head is indented, then one compact result per line, so a
report of 300,000 findings is never held as one document. Same report, same bytes (paths are
made relative to the current directory, so the same directory too).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

import orjson

from checker import controls
from checker.docs import rule_page
from checker.model.report import Report, iso, resource_dict
from checker.rule import Finding, Location, Resource, Rule, Severity, Status

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "rdsiamFindingId/v1"
RESOURCE_ROOT = "aws-resource"  # pseudo-paths of findings that have no file

# result.level and reportingDescriptor.defaultConfiguration.level.
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

# properties.security-severity, read by GitHub code scanning, which "translates numerical scores
# as follows: over 9.0 is critical, from 7.0 to 8.9 is high, from 4.0 to 6.9 is medium and from
# 0.1 to 3.9 is low" (https://docs.github.com/en/code-security/code-scanning/
# integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object).
# Each value sits inside its band, away from the edges; info has no band of its own and shows
# as low there.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}

KIND = {
    Status.FAIL: "fail",
    Status.ERROR: "review",  # the tool could not decide: a person has to look
    Status.PASS: "pass",
    Status.NOT_APPLICABLE: "notApplicable",
}

# GitHub shows at most 1024 characters of a rule's short and full description.
DESCRIPTION_LIMIT = 1024
_GUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
_SOFT_BREAK = re.compile(r"(?<!\n)\n(?!\n)")
_RESULTS = "\x00results\x00"  # placeholder for the streamed results array


def render(report: Report, *, show_all: bool = False, **_: object) -> Iterator[str]:
    """The SARIF log, piece by piece."""
    shown = {Status.FAIL, Status.ERROR} | (
        {Status.PASS, Status.NOT_APPLICABLE} if show_all else set()
    )
    cwd = os.getcwd()
    index = {rule.id: i for i, rule in enumerate(report.rules)}
    complete = not report.collection_errors and not any(
        f.status is Status.ERROR for f in report.findings
    )
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "rdsiam",
                "version": report.tool_version,
                "rules": [_rule(rule, report.severity_of(rule)) for rule in report.rules],
            }
        },
        "invocations": [_invocation(report, complete)],
        "artifacts": [_artifact(i.path, i.kind, i.sha256, cwd) for i in report.inputs],
        "results": _RESULTS,
        "properties": {
            "generatedAt": iso(report.generated_at),
            "summary": report.summary(),
            "coverage": {"accounts": report.accounts, "regions": report.regions},
            "controls": report.controls,
            "waivers": report.waivers,
        },
    }
    if report.baseline is not None:
        run["properties"]["baseline"] = report.baseline
    doc = {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if not _writable(text):  # lone surrogates in a collection error's text, say
        text = json.dumps(doc, indent=2)
    # the key with its unescaped quotes: no string inside the document can look like this
    marker = '"results": ' + json.dumps(_RESULTS)
    at = text.index(marker)
    head, tail = text[:at] + '"results": ', text[at + len(marker) :]
    line = head[head.rindex("\n") + 1 :]  # '      "results": '
    indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
    yield head + "["
    separator, empty = "\n" + indent, True
    for finding in report.findings:
        if finding.status in shown:
            yield separator + _encode(_result(finding, index.get(finding.rule_id), cwd))
            separator, empty = ",\n" + indent, False
    yield ("]" if empty else "\n" + indent[:-2] + "]") + tail + "\n"


# -- the run's head ------------------------------------------------------------------------


def _rule(rule: type[Rule], severity: Severity) -> dict[str, Any]:
    """A rule as a reportingDescriptor."""
    what = rule.sections().get("What it checks") or rule.title()
    properties: dict[str, Any] = {
        "severity": severity.value,
        "security-severity": SECURITY_SEVERITY[severity],
        "tags": _unique(
            ["security", "rdsiam", *rule.resource_types(), *controls.for_rule(rule.id)]
        ),
    }
    if controls.for_rule(rule.id):
        properties["controls"] = list(controls.for_rule(rule.id))
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": _limit(rule.title())},
        "fullDescription": {"text": _limit(_SOFT_BREAK.sub(" ", what)), "markdown": what},
        "helpUri": rule.source_url,
        "help": {"text": rule.doc(), "markdown": rule_page(rule)},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": properties,
    }


def _invocation(report: Report, complete: bool) -> dict[str, Any]:
    """Whether every check could be completed; collection errors as notifications."""
    invocation: dict[str, Any] = {"executionSuccessful": complete}
    notes = [_notification(err) for err in report.collection_errors]
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _notification(err: dict[str, Any]) -> dict[str, Any]:
    """A collection error: the tool could not read part of what it was to check."""
    where = "/".join(str(err[k]) for k in ("account_id", "region") if err.get(k)) or "input"
    operation = err.get("operation") or "collection"
    return {
        "level": "error",
        "message": {
            "text": f"{operation} failed in {where}: {err.get('code')}: {err.get('message')};"
            " the rules that need this data report error findings there"
        },
        "descriptor": {"id": "collection-error"},
        "properties": {"error": err},
    }


def _artifact(path: str, kind: str, sha256: str, cwd: str) -> dict[str, Any]:
    """An input file with its SHA-256 (a live collection that was not saved has no file)."""
    artifact: dict[str, Any] = {}
    if kind == "aws":
        artifact["description"] = {"text": f"{path}: collected from AWS and not saved"}
    else:
        artifact["location"] = _artifact_location(path, cwd)
    artifact["roles"] = ["analysisTarget"]
    artifact["hashes"] = {"sha-256": sha256}
    artifact["properties"] = {"kind": kind}
    return artifact


# -- results -------------------------------------------------------------------------------


def _result(f: Finding, rule_index: int | None, cwd: str) -> dict[str, Any]:
    """One finding as a SARIF result."""
    result: dict[str, Any] = {"ruleId": f.rule_id}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result["kind"] = KIND[f.status]
    # SARIF 2.1.0 section 3.27.10: when kind is not "fail", level SHALL be "none".
    result["level"] = LEVEL[f.severity] if f.status is Status.FAIL else "none"
    text = f.message
    if f.status is Status.ERROR:
        text = f"Check not completed: {text}"
    result["message"] = {"text": text}
    result["locations"] = [_location(f.resource, f.location, cwd)]
    if f.id:
        result["partialFingerprints"] = {FINGERPRINT: f.id}
        if _GUID.match(f.id):
            # A finding id is the same for the same rule and resource in every run: the
            # identity of "logically identical results", not of this one result object.
            result["correlationGuid"] = f.id
    if f.waived and f.waiver is not None:
        result["suppressions"] = [_suppression(f.waiver)]
    if f.baseline is not None:  # SARIF 3.27.24: new, or unchanged since the baseline run
        result["baselineState"] = "unchanged" if f.baseline == "known" else "new"
    properties: dict[str, Any] = {
        "status": f.status.value,
        "severity": f.severity.value,
        "resource": resource_dict(f.resource),
    }
    if f.subject:
        properties["subject"] = f.subject
    properties["evidence"] = f.evidence
    result["properties"] = properties
    return result


def _location(r: Resource, where: Location | None, cwd: str) -> dict[str, Any]:
    """The template file and line when known, else the resource as a pseudo-path; and always
    the resource as a logical location."""
    if where is not None:
        physical: dict[str, Any] = {"artifactLocation": _artifact_location(where.path, cwd)}
        if where.line:
            physical["region"] = {"startLine": where.line}
    else:
        # GitHub code scanning rejects a whole upload when one result has no
        # physicalLocation.artifactLocation.uri ("locationFromSarifResult: expected artifact
        # location"; e.g. microsoft/sarif-sdk#2694, forcedotcom/code-analyzer#1970). A
        # resource read from AWS has no file, so it gets a path of its own, one per resource
        # and the same in every run, under a directory no repository has.
        physical = {"artifactLocation": {"uri": _resource_path(r)}}
    name = r.arn or "/".join((r.type, r.account_id or "", r.region or "", r.id))
    logical = {"name": r.id, "fullyQualifiedName": name, "kind": "resource"}
    return {"physicalLocation": physical, "logicalLocations": [logical]}


def _resource_path(r: Resource) -> str:
    """``aws-resource/<account>/<Region>/<type>/<id>``, ``-`` for an unknown part, the type's
    ``::`` as ``.``; percent-encoded."""
    parts = (r.account_id or "-", r.region or "-", r.type.replace("::", "."), r.id)
    return RESOURCE_ROOT + "/" + quote("/".join(parts), safe="/", errors="surrogatepass")


def _suppression(waiver: dict[str, Any]) -> dict[str, Any]:
    """A waiver as an external, accepted suppression."""
    suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
    reason = next(
        (waiver[k] for k in ("reason", "justification", "comment") if waiver.get(k)), None
    )
    if reason is not None:
        suppression["justification"] = str(reason)
    suppression["properties"] = {"waiver": waiver}
    return suppression


def _artifact_location(path: str, cwd: str) -> dict[str, Any]:
    """Relative to the current directory (``%SRCROOT%``) when the file is under it, so that
    code scanning can match it with the repository; an absolute file URI otherwise."""
    absolute = os.path.abspath(os.path.join(cwd, path))
    try:
        relative = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive (Windows)
        relative = ""
    if not relative or relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": PurePath(absolute).as_uri()}
    # bytes, so that a file name that is not UTF-8 (surrogate-escaped) is encoded as it is
    return {"uri": quote(os.fsencode(PurePath(relative).as_posix())), "uriBaseId": SRCROOT}


# -- helpers -------------------------------------------------------------------------------


def _encode(item: dict[str, Any]) -> str:
    """One compact line: orjson; else the standard encoder (integers beyond 64 bits, lone
    surrogates from a JSON input's escapes), ASCII-only when the text could not be written
    as UTF-8."""
    try:
        return orjson.dumps(item).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        return text if _writable(text) else json.dumps(item, separators=(",", ":"))


def _writable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _limit(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
