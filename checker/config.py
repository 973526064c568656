"""Project configuration: ``rdsiam.toml`` or ``[tool.rdsiam]`` in ``pyproject.toml``.

Found from the current directory upward (the first directory with either file wins; a
``pyproject.toml`` counts only when it has a ``[tool.rdsiam]`` table), or given with
``--config``. Validated against ``schemas/config.schema.json``: an unknown key or a wrong type is
exit 2 naming the key and the file. Command-line options override the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker import contract
from checker.errors import InputError

SCHEMA = "config.schema.json"
FILE = "rdsiam.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Config:
    path: str | None = None  # None: no configuration file
    select: list[str] | None = None
    ignore: list[str] | None = None
    fail_on: str | None = None
    severity: dict[str, str] = field(default_factory=dict)
    cert_warning_days: int | None = None
    waivers: str | None = None  # resolved against the file's directory


def discover(start: Path) -> Path | None:
    """The configuration file that applies in ``start``: nearest directory first."""
    for directory in (start, *start.parents):
        candidate = directory / FILE
        if candidate.is_file():
            return candidate
        candidate = directory / PYPROJECT
        if candidate.is_file() and _has_tool_table(candidate):
            return candidate
    return None


def load(path: str | None, *, cwd: Path | None = None, search: bool = True) -> Config:
    """The configuration from ``path`` (``--config``), else the discovered one, else none."""
    if path is None:
        found = discover((cwd or Path.cwd()).resolve()) if search else None
        if found is None:
            return Config()
        path = _shown(found)
    text = _read(path)
    doc = _parse(path, text)
    prefix = ""
    if Path(path).name == PYPROJECT:
        tool = doc.get("tool")
        table = tool.get("rdsiam") if isinstance(tool, dict) else None
        if table is None:
            raise InputError(path, "no [tool.rdsiam] table")
        doc, prefix = table, "tool.rdsiam."
    problem = contract.first_error(contract.validator(SCHEMA), doc)
    if problem is not None:
        json_path, message = problem
        raise InputError(path, _readable(message, json_path, prefix))
    from checker import registry

    for key in ("select", "ignore"):
        if key in doc:
            try:
                registry.select(registry.all_rules(), registry.parse_codes(doc[key]), [])
            except Exception as exc:  # UsageError: a code no rule has
                raise InputError(path, f"key '{prefix}{key}': {exc}") from None
    known = {r.id for r in registry.all_rules()}
    for rule_id in doc.get("severity", {}):
        if rule_id not in known:
            raise InputError(path, f"key '{prefix}severity.{rule_id}': no such rule")
    waivers = doc.get("waivers")
    if waivers is not None:
        waivers = _shown(Path(path).parent / waivers)
    return Config(
        path=path,
        select=doc.get("select"),
        ignore=doc.get("ignore"),
        fail_on=doc.get("fail_on"),
        severity=dict(doc.get("severity", {})),
        cert_warning_days=doc.get("cert_warning_days"),
        waivers=waivers,
    )


def _shown(path: Path) -> str:
    """A path as reports show it: relative to the current directory when under it (the
    report of the same run elsewhere stays the same), else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read the configuration ({exc})") from None


def _parse(path: str, text: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"invalid TOML: {exc}") from None


def _has_tool_table(path: Path) -> bool:
    try:
        doc = _parse(str(path), _read(str(path)))
    except InputError:
        return False  # a broken pyproject.toml is not ours to judge unless it has our table
    tool = doc.get("tool")
    return isinstance(tool, dict) and "rdsiam" in tool


def _readable(message: str, json_path: str, prefix: str) -> str:
    """``key 'fail_on': ...`` in the file's own key names."""
    parts = [p for p in json_path.removeprefix("$").split(".") if p]
    key = (prefix + ".".join(parts)).rstrip(".")
    unknown = contract.unknown_key(message)
    if unknown is not None:
        return f"unknown key '{key + '.' if key else ''}{unknown}'"
    m = re.match(r"(.+) is not one of ", message)
    if m:
        allowed = _enum(parts)
        if allowed:
            message = f"{m.group(1)} is not one of {', '.join(allowed)}"
    return f"key '{key}': {message}"


def _enum(parts: list[str]) -> list[str]:
    """The allowed values of the schema node at ``parts`` (a top key, or a severity entry)."""
    props = contract.load(SCHEMA)["properties"]
    node = props.get(parts[0], {}) if parts else {}
    if len(parts) > 1:
        node = node.get("additionalProperties", {})
    return [str(v) for v in node.get("enum", [])]
