"""Golden reports: whole runs compared byte for byte with committed files.

After an intended change, regenerate with ``RDSIAM_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
RUNS = {
    "example.report.json": (
        "check",
        "examples/snapshot.json",
        "--format",
        "json",
        "--as-of",
        "2026-11-28T12:00:00Z",
    ),
    "example.report.txt": ("check", "examples/snapshot.json", "--as-of", "2026-11-28T12:00:00Z"),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_golden(name: str) -> None:
    proc = run_cli(*RUNS[name], cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    path = GOLDEN / name
    if os.environ.get("RDSIAM_UPDATE_GOLDEN"):
        path.write_text(proc.stdout, encoding="utf-8")
    assert proc.stdout == path.read_text(encoding="utf-8")
