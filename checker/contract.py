"""The JSON Schemas of the contract, loaded from the wheel or from a checkout."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

_CHECKOUT = Path(__file__).resolve().parent.parent / "schemas"


def schema_text(name: str) -> str:
    """The text of ``schemas/<name>``: packaged as ``checker.schemas``, or from the checkout."""
    try:
        return resources.files("checker.schemas").joinpath(name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return (_CHECKOUT / name).read_text(encoding="utf-8")


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed schema ``schemas/<name>``."""
    data: dict[str, Any] = json.loads(schema_text(name))
    return data


@cache
def validator(name: str, definition: str | None = None, key: str | None = None) -> Any:
    """A compiled validator for a schema, or for ``{key: [<$defs/definition>]}`` documents.

    The second form validates raw AWS CLI outputs (``{"DBInstances": [...]}``) against the
    same item definitions the snapshot uses.
    """
    from jsonschema import Draft202012Validator

    schema = load(name)
    if definition is not None and key is not None:
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "type": "object",
            "required": [key],
            "properties": {key: {"type": "array", "items": {"$ref": f"#/$defs/{definition}"}}},
        }
    return Draft202012Validator(schema)
