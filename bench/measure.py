"""Shared by the benchmark scripts: run ``python -m checker ...`` in a fresh process and report
its wall time, peak memory, exit code and whether it crashed.

Peak memory is the largest sum of resident memory of the process and its descendants (a
check of a large account forks a worker for the access matrix), sampled every 20 ms, and at
least the largest single process's peak; pages the worker shares with its parent count twice,
so the figure errs high."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import os, resource, subprocess, sys, time

def tree(pid):
    # the process and its descendants (a check may fork a worker for the access matrix)
    out = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            for child in f.read().split():
                out += tree(int(child))
    except OSError:
        pass
    return out

def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0

t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
peak = 0
while p.poll() is None:  # sum of the tree's resident memory, every 20 ms
    peak = max(peak, sum(rss(q) for q in tree(p.pid)))
    time.sleep(0.02)
err = p.stderr.read()
wall = time.perf_counter() - t
largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(wall, max(peak, largest), p.returncode, "Traceback" in err.decode())
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


_compiled = False


def _compile() -> None:
    """Byte-compile rdsiam once, as an installed package is: with PYTHONDONTWRITEBYTECODE set
    (as on some CI images) an editable checkout would otherwise compile every module it
    imports on every run, a tenth of a second for one template."""
    global _compiled
    if not _compiled:
        import compileall

        for package in ("checker", "rules"):
            compileall.compile_dir(str(ROOT / package), quiet=1)
        _compiled = True


def measure(*args: str) -> tuple[float, int, int, bool]:
    _compile()
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "checker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]), out[3] == "True"
