"""Meta-tests: the catalog, the rule documentation, generated docs, enums vs schemas."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import yaml
from conftest import CASES, ROOT

import rules
from checker import contract, docs
from checker.knowledge import certificates, engines, parameters, support
from checker.rule import DOC_SECTIONS, Rule, Severity, Status
from rules import ALL_RULES


def test_every_rule_class_is_registered() -> None:
    found = set()
    for module in pkgutil.iter_modules(rules.__path__):
        mod = importlib.import_module(f"rules.{module.name}")
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            # a class with an id is a rule; one without is a shared base (rules.grants)
            if issubclass(obj, Rule) and "id" in vars(obj) and obj.__module__ == mod.__name__:
                found.add(obj)
    assert found == set(ALL_RULES)


def test_ids_and_names_unique_well_formed_and_sorted() -> None:
    ids = [r.id for r in ALL_RULES]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len({r.name for r in ALL_RULES}) == len(ALL_RULES)
    for rule in ALL_RULES:
        assert re.fullmatch(r"RIA[1-7]\d\d", rule.id), rule.id
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name


def test_every_rule_is_documented_with_all_sections() -> None:
    for rule in ALL_RULES:
        title = rule.title()
        assert title and not title.lower().startswith("ensure"), rule.id
        sections = rule.sections()
        assert list(sections) == list(DOC_SECTIONS), (rule.id, list(sections))
        assert all(sections.values()), rule.id
        assert rule.source_url.startswith("https://docs.aws.amazon.com/"), rule.id
        assert "https://" in sections["References"], rule.id
        assert rule.reads, rule.id


def test_every_rule_has_pass_and_fail_cases() -> None:
    seen: dict[str, set[str]] = {}
    for path in CASES.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"].values():
            seen.setdefault(data["rule"], set()).update(case["expect"].values())
    for rule in ALL_RULES:
        assert {"pass", "fail"} <= seen.get(rule.id, set()), rule.id


def test_generated_docs_are_up_to_date() -> None:
    folder = ROOT / "docs" / "rules"
    expected = docs.generate(ALL_RULES)
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
    assert on_disk == expected, "docs/rules is stale: run `rdsiam docs --out docs/rules`"


def test_enums_equal_the_report_schema() -> None:
    schema = contract.load("report.schema.json")
    assert schema["$defs"]["Status"]["enum"] == [s.value for s in Status]
    assert schema["$defs"]["Severity"]["enum"] == [s.value for s in Severity]


def test_knowledge_tables_name_source_and_review_date() -> None:
    for module in (engines, support, parameters, certificates):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", module.REVIEWED), module.__name__
        assert "https://docs.aws.amazon.com/" in (module.__doc__ or ""), module.__name__
        assert "REVIEWED: " + module.REVIEWED in (module.__doc__ or ""), module.__name__


def test_schemas_are_valid_2020_12() -> None:
    from jsonschema import Draft202012Validator

    for name in ("snapshot.schema.json", "report.schema.json"):
        Draft202012Validator.check_schema(contract.load(name))


def test_example_snapshot_is_valid() -> None:
    import json

    doc = json.loads((ROOT / "examples" / "snapshot.json").read_text())
    assert contract.validator("snapshot.schema.json").is_valid(doc)


def test_no_boto3_on_the_check_path() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from checker.cli import main; "
        "main(['check', 'examples/snapshot.json', '--as-of', '2026-11-28T00:00:00Z']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'yaml', 'policyuniverse')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(ROOT), capture_output=True, text=True, check=False
    )
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout[-500:]
