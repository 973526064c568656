"""Collectors: every input kind becomes the same frozen Snapshot (all I/O happens here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checker import contract
from checker.collect import files
from checker.collect.merge import merge
from checker.errors import InputError
from checker.model.report import InputFile
from checker.model.snapshot import Snapshot

if TYPE_CHECKING:
    from checker.waivers import Waiver

_ACCOUNT_ID_LEN = 12


@dataclass
class Inputs:
    snapshot: Snapshot
    files: list[InputFile]
    notes: list[str]
    waivers: list[Waiver] = field(default_factory=list)  # from templates' Metadata


def load_snapshot(
    paths: Sequence[str],
    *,
    account: str | None = None,
    region: str | None = None,
    resource_id: str | None = None,
    parameters: dict[str, str] | None = None,
    skip_unknown: bool = False,
) -> Inputs:
    """Read every path (files or directories) into one validated Snapshot."""
    if account is not None and (len(account) != _ACCOUNT_ID_LEN or not account.isdigit()):
        raise InputError("--account", f"'{account}' is not a 12-digit AWS account id")
    options = files.IacOptions(parameters or {}, account, region, skip_unknown)
    loaded = files.load(paths, resource_id, options)
    if loaded.iac:
        from checker.iac.to_snapshot import to_snapshot
        from checker.waivers import from_templates

        doc, notes = to_snapshot(loaded.iac, account, region)
        loaded.notes.extend(notes)
        waivers = from_templates(loaded.iac)
        return Inputs(to_model("the templates", doc), loaded.inputs, loaded.notes, waivers)
    if len(loaded.snapshots) == 1 and not loaded.fragments:
        where, doc = loaded.snapshots[0]
    else:
        where, doc = "the merged inputs", merge(loaded, account, region)
    loaded.snapshots.clear()
    return Inputs(to_model(where, doc), loaded.inputs, loaded.notes)


def to_model(path: str, doc: dict[str, Any]) -> Snapshot:
    """Build the Snapshot model; a value the schema lets through but pydantic refuses (a
    date-time with a 13th month) is still an input error with its JSON path."""
    from pydantic import ValidationError

    try:
        return Snapshot.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(path, first["msg"], contract.json_path(first["loc"])) from None
