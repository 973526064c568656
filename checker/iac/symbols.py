"""Values known only at deploy time, written as ``${<reference>}`` inside strings.

References, by source:

- CloudFormation: ``${Logical}`` (``Ref`` of a resource: its physical id, e.g. a DB instance
  identifier), ``${Logical.Attribute}`` (``Fn::GetAtt``), ``${Param}`` (a parameter without a
  default or override), ``${AWS::Region}`` and other pseudo-parameters not given on the command
  line, ``${Fn::ImportValue:Name}``, ``${Fn::If:Condition}`` (an undecidable condition),
  ``${Fn::<Name>}`` for other functions whose result cannot be known;
- Terraform: ``${<address>.<attribute>}`` (``${aws_db_instance.main.resource_id}``), taken from
  the plan's configuration references for a value the plan marks unknown.

A whole value that is unknown is the string ``"${...}"`` alone; a string built around one
(``!Sub`` of an ARN) keeps its known parts.
"""

from __future__ import annotations

import re
from typing import Any

SYMBOL = re.compile(r"\$\{([^}]+)\}")

# The stack's account and Region when neither the command line nor the file says: reserved
# placeholders (the snapshot needs real shapes there), which the rules treat as unknown.
UNKNOWN_ACCOUNT = "000000000000"
UNKNOWN_REGION = "aa-unknown-0"


def symbol(reference: str) -> str:
    """The symbol of a reference: ``symbol("MyDB.DbiResourceId") == "${MyDB.DbiResourceId}"``."""
    return "${" + reference + "}"


def is_unknown(value: Any) -> bool:
    """True when ``value`` is or contains a deploy-time symbol (strings, lists and dicts)."""
    if isinstance(value, str):
        return SYMBOL.search(value) is not None
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    return False


def references(text: str) -> list[str]:
    """The references inside a string, in order."""
    return SYMBOL.findall(text)


def only_symbol(text: str) -> str | None:
    """The reference when ``text`` is exactly one symbol, else None."""
    match = SYMBOL.fullmatch(text)
    return match.group(1) if match else None
