"""Waivers: accepted failures, each with a reason, an owner and an expiry date.

A waiver names a rule and a glob on the resource id or ARN. It attaches to the failures it
matches; while it is active they keep status ``fail`` but do not count toward the exit code.
From the day after ``expires`` (UTC, at the evaluation time ``--as-of``) it no longer applies
and the report says it expired. A waiver that matches no failure is reported as stale.

Waivers come from a file (TOML ``[[waivers]]`` tables, or YAML/JSON ``waivers:`` list; format in
``schemas/waivers.schema.json``) and from CloudFormation resources' ``Metadata``
(``rdsiam: {waivers: [...]}``, same fields, ``resource`` optional), where they apply to the
findings on that resource only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker import contract
from checker.errors import InputError

if TYPE_CHECKING:
    from checker.iac.model import IacFile
    from checker.rule import Finding

SCHEMA = "waivers.schema.json"


@dataclass
class Waiver:
    rule: str
    resource: str  # glob on the finding's resource id or ARN
    reason: str
    owner: str
    expires: dt.date
    ticket: str | None
    path: str  # where it is written
    line: int | None
    address: str | None = None  # CloudFormation Metadata: the logical id it sits on
    matched: int = 0

    def expired(self, now: dt.datetime) -> bool:
        """Expired from the day after ``expires`` (the date is the last day it applies)."""
        return now.astimezone(dt.UTC).date() > self.expires

    def matches(self, finding: Finding) -> bool:
        if finding.rule_id != self.rule:
            return False
        r = finding.resource
        if self.address is not None:
            loc = finding.location
            if loc is None or loc.address != self.address or loc.path != self.path:
                return False
        names = [r.id]
        if r.arn is not None:
            names.append(r.arn)
        loc = finding.location
        if loc is not None and loc.address is not None and loc.address != r.id:
            # a template's logical id or a plan's address, also when several files are checked
            # together and the resource id becomes "Orders@stack"
            names.append(loc.address)
        # the name itself first: Terraform addresses hold brackets ("aws_db_instance.db[0]"),
        # which a glob reads as a character class
        return self.resource in names or any(fnmatchcase(n, self.resource) for n in names)

    def to_dict(self, state: str) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "resource": self.resource,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
            "ticket": self.ticket,
            "source": {"path": self.path, "line": self.line},
            "state": state,
        }


def load_file(path: str) -> list[Waiver]:
    """The waivers of a TOML, YAML or JSON file; exit 2 (InputError) on anything malformed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the waivers file ({exc})") from None
    if path.lower().endswith(".toml"):
        doc, lines = _toml(path, text)
    else:
        doc, lines = _yaml(path, text)
    if not isinstance(doc, dict):
        raise InputError(path, "a waivers file is a table with a 'waivers' list")
    entries = doc.get("waivers")
    _validate(path, doc, "$", lines=lines)
    assert isinstance(entries, list)
    out = []
    for i, entry in enumerate(entries):
        line = lines[i] if i < len(lines) else None
        where = f"line {line} (waivers[{i}])" if line else f"waivers[{i}]"
        out.append(_waiver(path, entry, line, where))
    return out


def from_templates(files: Iterable[IacFile]) -> list[Waiver]:
    """Waivers in CloudFormation resources' ``Metadata: {rdsiam: {waivers: [...]}}``."""
    out: list[Waiver] = []
    for iac in files:
        for res in iac.resources:
            block = res.metadata.get("rdsiam") if isinstance(res.metadata, dict) else None
            if block is None:
                continue
            where = f"Resources.{res.address}.Metadata.rdsiam"
            if not isinstance(block, dict) or set(block) - {"waivers"}:
                raise InputError(
                    iac.path, "rdsiam metadata takes one key, 'waivers' (a list)", where
                )
            entries = block.get("waivers") or []
            if not isinstance(entries, list):
                raise InputError(iac.path, "'waivers' must be a list", where)
            for i, entry in enumerate(entries):
                if isinstance(entry, dict):
                    entry = {"resource": "*", **entry}
                doc = {"waivers": [_plain(entry)]}
                _validate(iac.path, doc, where, index=i)
                waiver = _waiver(iac.path, doc["waivers"][0], res.line, f"{where}.waivers[{i}]")
                waiver.address = res.written or res.address
                out.append(waiver)
    return out


def check_rules(waivers: Sequence[Waiver], known: Iterable[str]) -> None:
    """A waiver for a rule id that does not exist is a mistake (exit 2)."""
    ids = set(known)
    for w in waivers:
        if w.rule not in ids:
            where = f"line {w.line}" if w.line else None
            raise InputError(w.path, f"waiver for unknown rule '{w.rule}'", where)


def apply(
    findings: Iterable[Finding],
    waivers: Sequence[Waiver],
    now: dt.datetime,
    evaluated: Iterable[str],
) -> list[dict[str, Any]]:
    """Attach waivers to the failures they match; return every waiver with its state.

    A failure takes the first active waiver that matches it, else the first expired one (so the
    report can say the waiver expired; an expired waiver does not excuse the failure); every
    waiver that matches a failure counts it in ``matched``. States:
    ``active``, ``expired``, ``stale`` (active but matching no failure) and ``not_evaluated``
    (its rule did not run, so whether it still matches is unknown).
    """
    by_rule: dict[str, list[Waiver]] = {}
    for w in waivers:
        w.matched = 0
        by_rule.setdefault(w.rule, []).append(w)
    if by_rule:
        for f in findings:
            candidates = by_rule.get(f.rule_id)
            if not candidates or f.status.value != "fail":
                continue
            chosen: tuple[Waiver, str] | None = None
            for w in candidates:
                if not w.matches(f):
                    continue
                w.matched += 1  # every waiver that matches counts, attached or not
                if not w.expired(now):
                    if chosen is None or chosen[1] == "expired":
                        chosen = (w, "active")
                elif chosen is None:
                    chosen = (w, "expired")
            if chosen is not None:
                f.waiver = chosen[0].to_dict(chosen[1])
    ran = set(evaluated)
    out = []
    for w in waivers:
        if w.expired(now):
            state = "expired"
        elif w.rule not in ran:
            state = "not_evaluated"
        elif w.matched == 0:
            state = "stale"
        else:
            state = "active"
        out.append({**w.to_dict(state), "matched": w.matched})
    return out


# -- reading ----------------------------------------------------------------------------------


def _toml(path: str, text: str) -> tuple[Any, list[int]]:
    import tomllib

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"invalid TOML: {exc}") from None
    # the n-th [[waivers]] header is the n-th entry (inline arrays have no lines to give)
    header = re.compile(r"^\s*\[\[\s*waivers\s*\]\]")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if header.match(line)]
    return _plain(doc), lines


def _yaml(path: str, text: str) -> tuple[Any, list[int]]:
    """YAML (or JSON) composed to nodes, then read with every scalar a string: no tag can run
    a constructor (``!!set``, a date that does not exist), and an alias is refused rather than
    expanded (a "billion laughs" file stays a few nodes)."""
    import yaml

    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, f"invalid YAML: {problem}", where) from None
    except RecursionError:
        raise InputError(path, "invalid YAML: nested too deeply") from None
    if node is None:
        return None, []
    doc = _node_value(path, node, set())
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "waivers" and isinstance(value, yaml.SequenceNode):
                lines = [item.start_mark.line + 1 for item in value.value]
    return doc, lines


def _node_value(path: str, node: Any, seen: set[int]) -> Any:
    import yaml

    if id(node) in seen:
        raise InputError(path, "YAML aliases are not allowed", f"line {node.start_mark.line + 1}")
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return [_node_value(path, item, seen) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key, value in node.value:
            name = _node_value(path, key, seen)
            if not isinstance(name, str) or name in out:
                where = f"line {key.start_mark.line + 1}"
                raise InputError(path, f"invalid or repeated key {name!r}", where)
            out[name] = _node_value(path, value, seen)
        return out
    return str(node.value)


def _plain(value: Any) -> Any:
    """Dates (TOML has them) as ISO strings, so one schema checks both; a date-time stays a
    date-time, which ``expires`` refuses (a waiver lasts whole UTC days)."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _validate(
    path: str,
    doc: Any,
    where: str,
    *,
    index: int | None = None,
    lines: Sequence[int] = (),
) -> None:
    validator = contract.validator(SCHEMA)
    problem = contract.first_error(validator, doc)
    if problem is None:
        return
    json_path, message = problem
    if index is not None:  # a Metadata entry, validated alone as waivers[0]
        json_path = json_path.replace("$.waivers[0]", f"waivers[{index}]", 1)
        location = f"{where}.{json_path}" if json_path != "$" else where
    else:
        location = json_path
        m = re.match(r"\$\.waivers\[(\d+)\]", json_path)
        if m and int(m.group(1)) < len(lines):
            location = f"line {lines[int(m.group(1))]} ({json_path})"
    raise InputError(path, _readable(message, json_path.rpartition(".")[2]), location)


def _readable(message: str, field: str) -> str:
    """jsonschema's wording for the mistakes users make most (``field``: the key at fault)."""
    if message.endswith('does not match "\\S"'):
        return f"'{field}' is blank"
    if "does not match" in message and "[0-9]{4}-" in message:
        return f"expires {message.split(' does not match')[0]} is not a date (YYYY-MM-DD)"
    m = re.match(r'"(\w+)" is a required property', message)
    if m:
        return f"'{m.group(1)}' is required"
    unknown = contract.unknown_key(message)
    if unknown is not None:
        return f"unknown key '{unknown}'"
    return message


def _waiver(path: str, entry: dict[str, Any], line: int | None, where: str) -> Waiver:
    try:
        expires = dt.date.fromisoformat(entry["expires"])
    except ValueError:
        raise InputError(path, f"expires '{entry['expires']}' is not a date", where) from None
    return Waiver(
        rule=entry["rule"],
        resource=entry["resource"],
        reason=entry["reason"],
        owner=entry["owner"],
        expires=expires,
        ticket=entry.get("ticket"),
        path=path,
        line=line,
    )
