"""Rule selection: unique ids and names, ``--select`` / ``--ignore``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from checker.errors import UsageError
from checker.rule import Rule

_CODE = re.compile(r"^RIA\d{0,3}$")


def all_rules() -> tuple[type[Rule], ...]:
    """The catalog, checked for unique ids and names."""
    from rules import ALL_RULES

    ids = [r.id for r in ALL_RULES]
    names = [r.name for r in ALL_RULES]
    if len(set(ids)) != len(ids) or len(set(names)) != len(names):  # pragma: no cover
        raise RuntimeError("rule ids and names must be unique")
    return ALL_RULES


def parse_codes(values: Iterable[str] | None) -> list[str]:
    """Split comma-separated ids and prefixes (``RIA101``, ``RIA4``, ``RIA``) and check them."""
    codes: list[str] = []
    for value in values or ():
        for part in value.split(","):
            code = part.strip().upper()
            if not code:
                continue
            if not _CODE.match(code):
                raise UsageError(
                    f"'{part.strip()}' is not a rule id or prefix (like RIA101 or RIA4)"
                )
            codes.append(code)
    return codes


def select(
    rules: Sequence[type[Rule]], select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> list[type[Rule]]:
    """Rules whose id starts with a selected code and with no ignored code (ruff's scheme)."""
    for code in (*select, *ignore):
        if not any(r.id.startswith(code) for r in rules):
            raise UsageError(f"no rule matches '{code}' (see 'rdsiam rules')")
    chosen = [r for r in rules if not select or any(r.id.startswith(c) for c in select)]
    return [r for r in chosen if not any(r.id.startswith(c) for c in ignore)]


def find(rule_id: str) -> type[Rule]:
    """The rule with this id (or name)."""
    key = rule_id.strip()
    for rule in all_rules():
        if rule.id == key.upper() or rule.name == key.lower():
            return rule
    raise UsageError(f"no rule '{rule_id}' (see 'rdsiam rules')")
