"""run(snapshot, rules, now) -> Report: every rule over the snapshot, crash-isolated.

The engine knows no specific rule. Besides running them it turns sections that were not
collected, or whose collection failed, into ``error`` findings for the rules that read them,
gives every finding a stable id and sorts the findings.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial

from checker import controls
from checker.baseline import LoadedReport, mark
from checker.context import Context, Settings
from checker.model.report import InputFile, Report
from checker.model.snapshot import Region, Snapshot
from checker.rule import Finding, Resource, Rule, Severity, Status
from checker.waivers import Waiver
from checker.waivers import apply as apply_waivers

# uuid5 namespace of finding ids; fixed forever so ids stay stable across versions.
FINDING_NAMESPACE = uuid.UUID("6f1c3a52-8d1e-5b7a-9c40-2f5e7d4b1a90")

# Sections that list the resources rules iterate over: when one is missing or failed in a
# Region, the rules reading it could not look there at all. Other sections (parameter groups,
# proxy targets, certificates, ...) are looked up per resource, and the rule reports the gap
# on that resource.
ENUMERATING = {
    "DBInstances": ("db_instances", "AWS::RDS::DBInstance"),
    "DBClusters": ("db_clusters", "AWS::RDS::DBCluster"),
    "DBProxies": ("db_proxies", "AWS::RDS::DBProxy"),
}
RULE_RESOURCE = "rdsiam::Rule"
# Below this many grants the access matrix takes a tenth of a second or less: no worker.
ACCESS_WORKER_GRANTS = 5_000


def run(
    snapshot: Snapshot,
    rules: Sequence[type[Rule]],
    *,
    now: datetime,
    settings: Settings | None = None,
    inputs: Iterable[InputFile] = (),
    severity_overrides: Mapping[str, Severity] | None = None,
    waivers: Sequence[Waiver] = (),
    baseline: LoadedReport | None = None,
    access_text: bool = False,
) -> Report:
    """Evaluate ``rules`` on ``snapshot`` at time ``now``; attach ``waivers`` to the failures
    they match, and mark each finding new or known against ``baseline``. With
    ``access_text`` (a JSON report), a large access matrix may come as its JSON text from a
    worker process instead of as rows."""
    ctx = Context(snapshot, now, settings or Settings())
    has_iam = any(a.iam is not None for a in snapshot.accounts)
    pending = None
    if has_iam and access_text and len(ctx.grants.grants) >= ACCESS_WORKER_GRANTS:
        # the matrix in a worker while the rules run (checker.worker)
        from checker import worker
        from checker.iam.access import json_text

        pending = worker.start(partial(json_text, snapshot, ctx.grants))
    findings: list[Finding] = []
    for rule_cls in rules:
        rule = rule_cls()
        findings.extend(_coverage_errors(rule, snapshot, ctx))
        try:
            # what a rule yielded before it crashed stays (list.extend keeps it)
            findings.extend(rule.evaluate(snapshot, ctx))
        except Exception as exc:  # isolate: one error finding, the run goes on
            findings.append(
                rule.error(
                    Resource(RULE_RESOURCE, rule.id),
                    f"rule {rule.id} stopped with {type(exc).__name__}: {exc}; its results are"
                    " incomplete",
                    key="crash",
                )
            )
    overrides = severity_overrides or {}
    for finding in findings:
        if finding.rule_id in overrides:
            finding.severity = overrides[finding.rule_id]
    if ctx.is_iac:
        from checker.iac.findings import annotate

        annotate(findings, snapshot)
    _assign_ids(findings)
    findings.sort(key=lambda f: f.sort_key)
    ids = [r.id for r in rules]
    waiver_states = apply_waivers(findings, waivers, now, ids)
    baseline_summary = None if baseline is None else mark(findings, baseline, ids)
    access = None
    if has_iam and pending is None:
        from checker.iam.access import build

        access = [row.to_dict() for row in build(snapshot, ctx.grants)]
    accounts = sorted({a.account_id for a in snapshot.accounts})
    regions = sorted({r.region for _, r in snapshot.regions()})
    return Report(
        generated_at=now,
        rules=list(rules),
        findings=findings,
        inputs=list(inputs),
        accounts=accounts,
        regions=regions,
        collection_errors=[e.model_dump(exclude_none=True) for e in snapshot.errors],
        access=access,
        access_text=pending,
        controls=controls.summary(rules, findings),
        waivers=waiver_states,
        baseline=baseline_summary,
        severity_overrides=dict(overrides),
    )


def _scopes(snapshot: Snapshot) -> Iterator[tuple[str | None, str | None, Region | None]]:
    """Every (account, Region) the snapshot covers or an error names, with its Region data."""
    seen: set[tuple[str | None, str | None]] = set()
    for account, region in snapshot.regions():
        seen.add((account.account_id, region.region))
        yield account.account_id, region.region, region
    for err in snapshot.errors:
        if err.region is None:
            if not any(a == err.account_id for a, _ in seen):
                key = (err.account_id, None)
                if key not in seen:
                    seen.add(key)
                    yield err.account_id, None, None
            continue
        scope = (err.account_id, err.region)
        if scope not in seen:
            seen.add(scope)
            yield err.account_id, err.region, None


def _coverage_errors(rule: Rule, snapshot: Snapshot, ctx: Context) -> Iterator[Finding]:
    """One finding per Region (per account for IAM) where a section the rule enumerates is
    missing or failed."""
    if "iam" in rule.reads:
        yield from _iam_coverage(rule, snapshot, ctx)
    sections = [s for s in rule.reads if s in ENUMERATING]
    if not sections:
        return
    for account_id, region_name, region in _scopes(snapshot):
        for section in sections:
            attr, rtype = ENUMERATING[section]
            missing = region is None or getattr(region, attr) is None
            errors = ctx.errors_for(account_id, region_name, section)
            if not missing and not errors:
                continue
            where = f"{region_name or 'all Regions'} of account {account_id or '(unknown)'}"
            resource = Resource(rtype, region_name or "*", None, account_id, region_name)
            evidence = {
                "section": section,
                "errors": [e.model_dump(exclude_none=True) for e in errors],
            }
            if errors:
                codes = ", ".join(
                    sorted({f"{e.operation or 'collection'}: {e.code}" for e in errors})
                )
                yield rule.error(
                    resource,
                    f"{section} could not be collected in {where}"
                    f" ({codes}); {rule.id} could not look there",
                    evidence,
                    key=section,
                )
            elif ctx.is_iac:
                yield rule.not_applicable(
                    resource,
                    f"{section} cannot be known from a template in {where}",
                    evidence,
                    key=section,
                )
            else:
                yield rule.error(
                    resource,
                    f"{section} was not collected in {where}; {rule.id} could not look there",
                    evidence,
                    key=section,
                )


def _iam_coverage(rule: Rule, snapshot: Snapshot, ctx: Context) -> Iterator[Finding]:
    """IAM is global: one finding per account whose ``iam`` section is missing or failed."""
    accounts = {a.account_id: a for a in snapshot.accounts}
    named = {e.account_id for e in snapshot.errors if e.account_id and e.account_id not in accounts}
    for account_id in sorted({*accounts, *named}):
        account = accounts.get(account_id)
        missing = account is None or account.iam is None
        errors = ctx.errors_for(account_id, None, "iam")
        if not missing and not errors:
            continue
        resource = Resource("AWS::IAM::Policy", account_id, None, account_id, None)
        evidence = {"section": "iam", "errors": [e.model_dump(exclude_none=True) for e in errors]}
        if errors:
            codes = ", ".join(sorted({f"{e.operation or 'collection'}: {e.code}" for e in errors}))
            yield rule.error(
                resource,
                f"IAM policies could not be collected in account"
                f" {account_id} ({codes}); {rule.id} could not look there",
                evidence,
                key="iam",
            )
        elif ctx.is_iac:
            continue  # a template's IAM resources are all there is; none is not "uncollected"
        else:
            yield rule.error(
                resource,
                f"IAM policies were not collected in account {account_id};"
                f" {rule.id} could not look there",
                evidence,
                key="iam",
            )


def _assign_ids(findings: list[Finding]) -> None:
    seen: dict[str, int] = {}
    for f in findings:
        r = f.resource
        target = r.arn or f"{r.type}:{r.account_id}:{r.region}:{r.id}"
        base = f"{f.rule_id}|{target}|{f.subject}"
        count = seen.get(base, 0)
        seen[base] = count + 1
        name = base if count == 0 else f"{base}#{count}"
        f.id = _uuid5(name)


def _uuid5(name: str) -> str:
    """``str(uuid.uuid5(FINDING_NAMESPACE, name))`` without building UUID objects (a large run
    names hundreds of thousands of findings): the SHA-1's first 32 hex digits, with the version
    digit set to 5 and the variant bits to 10."""
    x = hashlib.sha1(_NAMESPACE_BYTES + name.encode()).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


_NAMESPACE_BYTES = FINDING_NAMESPACE.bytes
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def exit_code(report: Report, fail_on: str) -> int:
    """0 clean, 1 a failure at or above ``fail_on``, 3 no such failure but errors.

    Failures under an active waiver, and with a baseline the failures it already had, do not
    count; errors always do (a run that could not look is never clean)."""
    threshold = None if fail_on == "never" else Severity(fail_on).rank
    errors = bool(report.collection_errors)
    for f in report.findings:  # one pass, status first: most findings of a large run pass
        if f.status is Status.FAIL:
            if threshold is not None and f.severity.rank >= threshold and f.counts:
                return 1
        elif f.status is Status.ERROR:
            errors = True
    return 3 if errors else 0
