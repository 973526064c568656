"""Compliance controls: which controls each rule gives evidence for, and how each one fared.

The mapping is data (``checker/knowledge/controls.json``), each control with the page that
defines it; a rule's controls are the ones mapped to it plus the controls AWS lists as their
related requirements (the NIST SP 800-53 Rev. 5 controls of RDS.10 and RDS.12).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checker.rule import Finding, Rule

# Order of the worst status a control can have; "not_evaluated": no rule of it ran.
_WORST = ("fail", "error", "pass", "not_applicable")


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    framework: str
    title: str
    url: str
    related: tuple[str, ...]


@cache
def _data() -> dict[str, Any]:
    text = resources.files("checker.knowledge").joinpath("controls.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def catalog() -> dict[str, Control]:
    """Every control, by id (``AWS-FSBP:RDS.10``, ``NIST-800-53r5:AC-3``)."""
    return {
        cid: Control(cid, c["framework"], c["title"], c["url"], tuple(c["related"]))
        for cid, c in _data()["controls"].items()
    }


def for_rule(rule_id: str) -> tuple[str, ...]:
    """The controls a rule gives evidence for: those mapped to it, then their related ones."""
    direct: list[str] = _data()["rules"].get(rule_id, [])
    controls = catalog()
    out = list(direct)
    for cid in direct:
        out += [r for r in controls[cid].related if r not in out]
    return tuple(out)


def mapped_rules() -> dict[str, list[str]]:
    """Rule id -> its directly mapped controls (the data as written)."""
    return {k: list(v) for k, v in _data()["rules"].items()}


def summary(rules: Sequence[type[Rule]], findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """One entry per control any rule of the catalog maps to: the evaluated rules behind it,
    counts of their findings by status (``waived``: failures under an active waiver), and the
    control's status: ``fail`` when an unwaived failure exists, else ``error``, else ``pass``,
    else ``not_applicable``; ``not_evaluated`` when none of its rules ran."""
    from checker import registry

    evaluated = {r.id for r in rules}
    by_control: dict[str, list[str]] = {}
    for rule in registry.all_rules():
        for cid in for_rule(rule.id):
            by_control.setdefault(cid, []).append(rule.id)
    counts: dict[str, dict[str, int]] = {
        rid: {"pass": 0, "fail": 0, "not_applicable": 0, "error": 0, "waived": 0}
        for rids in by_control.values()
        for rid in rids
    }
    for f in findings:
        c = counts.get(f.rule_id)
        if c is None:
            continue
        if f.status.value == "fail" and f.waived:
            c["waived"] += 1
        else:
            c[f.status.value] += 1
    out: list[dict[str, Any]] = []
    controls = catalog()
    for cid in sorted(by_control, key=_control_order):
        ran = [rid for rid in by_control[cid] if rid in evaluated]
        total = {"pass": 0, "fail": 0, "not_applicable": 0, "error": 0, "waived": 0}
        for rid in ran:
            for key, n in counts[rid].items():
                total[key] += n
        status = "not_evaluated"
        if ran:
            status = next((s for s in _WORST if total[s]), "pass" if total["waived"] else "")
            status = status or "not_applicable"
        control = controls[cid]
        out.append(
            {
                "id": cid,
                "framework": control.framework,
                "title": control.title,
                "url": control.url,
                "rules": ran,
                "rules_not_evaluated": [rid for rid in by_control[cid] if rid not in evaluated],
                "summary": total,
                "status": status,
            }
        )
    return out


def _control_order(cid: str) -> tuple[str, list[int], str]:
    """AWS-FSBP before NIST, then by the numbers in the name (RDS.10 before RDS.38, AC-3 before
    AC-3(7) before AC-3(15))."""
    framework, _, name = cid.partition(":")
    return (framework, [int(n) for n in re.findall(r"\d+", name)], name)
