"""The JSON Schemas of the contract, loaded from the wheel or from a checkout.

Inputs are validated with jsonschema-rs (Rust, Draft 2020-12): a 200 MB snapshot in a quarter of
a second, where the pure-Python validator needs over half a minute.
"""

from __future__ import annotations

import json
import re
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
    import jsonschema_rs

    schema = load(name)
    if definition is not None and key is not None:
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "type": "object",
            "required": [key],
            "properties": {key: {"type": "array", "items": {"$ref": f"#/$defs/{definition}"}}},
        }
    return jsonschema_rs.validator_for(schema)


def json_path(parts: Any) -> str:
    """``["a", 0, "b"]`` -> ``$.a[0].b``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def unknown_key(message: str) -> str | None:
    """The key a schema's ``additionalProperties: false`` refused, from jsonschema's message
    ("Additional properties are not allowed ('x' was unexpected)"), else None."""
    found = _UNEXPECTED.search(message)
    return found.group(1) if found else None


_UNEXPECTED = re.compile(r"\('([^']+)' was unexpected\)")


def first_error(validator: Any, doc: Any) -> tuple[str, str] | None:
    """(JSON path, message) of the first schema violation in ``doc``, or None when valid."""
    if validator.is_valid(doc):
        return None
    for err in validator.iter_errors(doc):
        return json_path(err.instance_path), str(err.message)
    return None  # pragma: no cover - is_valid said otherwise
