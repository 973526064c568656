"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("dbservers",)

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
ACCOUNT = "123456789012"
REGION = "us-east-1"
AS_OF = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ENUMERATING = ("DBInstances", "DBClusters", "DBProxies")


def snapshot_doc(region: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A snapshot document with one Region of account 123456789012.

    Enumerating sections the Region does not mention are filled with [] so a case only writes
    what it is about; pass ``fill=False`` to keep them absent.
    """
    fill = extra.pop("fill", True)
    reg = copy.deepcopy(region or {})
    reg.setdefault("region", REGION)
    if fill:
        for section in ENUMERATING:
            reg.setdefault(section, [])
    doc: dict[str, Any] = {
        "format": "rdsiam-snapshot",
        "version": 1,
        "collected_at": "2026-11-28T12:00:00Z",
        "source": {"kind": "aws", "tool": "rdsiam-tests"},
        "accounts": [{"account_id": ACCOUNT, "partition": "aws", "regions": [reg]}],
        "errors": [],
    }
    doc.update(extra)
    return doc


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m checker`` in a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "checker", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


EXAMPLE = str(ROOT / "examples" / "snapshot.json")
EXAMPLE_AS_OF = "2026-11-28T12:00:00Z"


def check_example(*extra: str) -> tuple[int, str]:
    """``rdsiam check`` on the bundled example at a fixed time: exit code and standard output
    (standard error must stay empty)."""
    proc = run_cli("check", EXAMPLE, "--as-of", EXAMPLE_AS_OF, *extra)
    assert proc.stderr == "", proc.stderr
    return proc.returncode, proc.stdout


def assert_example_reproducible(tmp_path: Path, fmt: str) -> bytes:
    """The example's report in ``fmt`` written to two files and to standard output, asserted
    to be the same bytes each time (exit 1: it has failures); the bytes."""
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.{fmt}"
        code, stdout = check_example("--format", fmt, "--output", str(out))
        assert code == 1 and stdout == ""
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    _, stdout = check_example("--format", fmt)
    assert stdout.encode() == outputs[0]  # --output writes what stdout gets
    return outputs[0]


@pytest.fixture(scope="module")
def json_report() -> dict[str, Any]:
    """The example's JSON report (it has failures: exit 1)."""
    code, out = check_example("--format", "json")
    assert code == 1
    report: dict[str, Any] = json.loads(out)
    return report


@pytest.fixture
def write_json(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a JSON document into tmp_path and return its path."""

    def write(name: str, doc: Any) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    return write


MOTO_ACCESS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def moto_reset(url: str) -> None:
    """In-process moto servers share one global state: clear it."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))


@pytest.fixture(scope="module")
def moto_url():  # type: ignore[no-untyped-def]
    """A moto server on 127.0.0.1 (free port) for one test module, empty at start and end."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    moto_reset(url)
    yield url
    moto_reset(url)
    server.stop()
