"""Shared by the benchmark scripts: run ``python -m checker ...`` in a fresh process and report
its wall time, peak memory, exit code and whether it crashed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
      p.returncode, "Traceback" in p.stderr.decode())
"""


def reference() -> str:
    """The time of a fixed pure-Python loop on this machine now: shared virtual machines change
    speed by a third from minute to minute, so figures are comparable only next to this."""
    import time

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        # what rdsiam does most: small dicts and strings made, hashed and sorted (memory
        # bound as much as CPU bound, like the runs measured here)
        items = [{"id": f"finding-{i * 7919 % 1_000_003}", "n": i} for i in range(1_000_000)]
        items.sort(key=lambda item: item["id"])
        best = min(best, time.perf_counter() - start)
        del items
    return f"machine speed: reference work {best:.2f} s (best of 3; lower is faster)"


def measure(*args: str) -> tuple[float, int, int, bool]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "checker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), out[3] == "True"
