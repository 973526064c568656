"""Benchmark of ``rdsiam check`` on a large synthetic snapshot. Reports; never asserts.

    python3 bench/run.py [--snapshot FILE] [--runs 3] [--keep]
                         [--instances N --clusters N --groups N --regions N --seed S]

Without ``--snapshot`` it writes the default snapshot of ``bench/generate.py`` into a temporary
directory (in a subprocess, so this process stays small). Every measurement runs in a fresh
subprocess, best (lowest wall time) of ``--runs``:

a. parse baseline: ``python3 -c "import json; json.load(open(F))"``
b. ``python3 -m checker check F --format json --output OUT --as-of ...`` and the default text
   format to /dev/null: wall time and peak RSS
c. ``python3 -m checker check examples/snapshot.json --as-of ...``: wall time
d. whether boto3 / botocore get imported on the check path (``-X importtime``)

Wall time and peak RSS come from a small wrapper process that starts the command, times it
with ``time.perf_counter`` and reads ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (one
wrapper per run, so the figure is that one command's). The checker's exit code 1 (findings
fail) is expected; exit 2 or a traceback on stderr counts as a crash and is reported.

Targets: check within 5x the parse time, peak RSS under 1 GiB, small example under 0.5 s,
no boto3 import. The script exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "snapshot.json"
AS_OF = "2026-11-28T12:00:00Z"
PYTHON = sys.executable or "python3"

TARGET_RATIO = 5.0
TARGET_RSS = 1 << 30
TARGET_SMALL = 0.5

# Runs argv[1:], prints {"wall": s, "maxrss": bytes, "rc": n, "stderr": tail} as JSON.
# stdout of the command goes to /dev/null (the checker writes --output itself).
_WRAPPER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
rss = rss if sys.platform == "darwin" else rss * 1024
err = p.stderr.decode("utf-8", "replace")
print(json.dumps({"wall": wall, "maxrss": rss, "rc": p.returncode, "stderr": err[-4000:],
                  "traceback": "Traceback (most recent call last)" in err}))
"""


@dataclass
class Result:
    name: str
    walls: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    rcs: list[int] = field(default_factory=list)
    crash: str | None = None

    @property
    def best(self) -> float:
        return min(self.walls) if self.walls else float("nan")

    @property
    def peak(self) -> int:
        return max(self.rss) if self.rss else 0


def measure(name: str, cmd: list[str], runs: int, ok_codes: tuple[int, ...] = (0,)) -> Result:
    """Run ``cmd`` ``runs`` times, each in a fresh wrapper process."""
    res = Result(name)
    for i in range(runs):
        out = subprocess.run(
            [PYTHON, "-c", _WRAPPER, *cmd], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            res.crash = f"wrapper failed: {out.stderr.strip()[-500:]}"
            break
        data = json.loads(out.stdout)
        res.walls.append(data["wall"])
        res.rss.append(data["maxrss"])
        res.rcs.append(data["rc"])
        print(
            f"  {name} run {i + 1}/{runs}: {data['wall']:.2f} s,"
            f" {data['maxrss'] / 2**20:.0f} MiB, exit {data['rc']}",
            file=sys.stderr,
        )
        if data["traceback"] or data["rc"] not in ok_codes:
            tail = data["stderr"].strip().splitlines()[-5:]
            res.crash = f"exit {data['rc']}: " + " | ".join(tail)
            break
    return res


def boto_imports() -> tuple[list[str], list[tuple[float, str]], str | None]:
    """(boto3/botocore modules imported, top-level imports by cumulative time, crash)."""
    cmd = [PYTHON, "-X", "importtime", "-m", "checker", "check", str(EXAMPLE), "--as-of", AS_OF]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    boto: list[str] = []
    top: list[tuple[float, str]] = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:") :].split("|")]
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        raw = line.split("|")[2]
        module = parts[2]
        if module.split(".")[0] in ("boto3", "botocore"):
            boto.append(module)
        if raw.startswith(" ") and not raw.startswith("  "):  # imported directly by __main__
            top.append((int(parts[1]) / 1e6, module))
    crash = None
    if out.returncode not in (0, 1) or "Traceback (most recent call last)" in out.stderr:
        crash = f"exit {out.returncode}"
    top.sort(reverse=True)
    return boto, top, crash


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--snapshot", metavar="FILE", help="use this snapshot instead of generating one"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    for name, default in (
        ("instances", 10_000),
        ("clusters", 2_000),
        ("groups", 1_000),
        ("regions", 4),
        ("seed", 0),
    ):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args(argv)
    runs = max(args.runs, 1)

    tmp = tempfile.mkdtemp(prefix="rdsiam-bench-")
    try:
        if args.snapshot:
            snapshot = os.path.abspath(args.snapshot)
            what = "given"
        else:
            snapshot = os.path.join(tmp, "snapshot.json")
            t0 = time.perf_counter()
            subprocess.run(
                [
                    PYTHON,
                    str(ROOT / "bench" / "generate.py"),
                    "-o",
                    snapshot,
                    "--instances",
                    str(args.instances),
                    "--clusters",
                    str(args.clusters),
                    "--groups",
                    str(args.groups),
                    "--regions",
                    str(args.regions),
                    "--seed",
                    str(args.seed),
                ],
                cwd=ROOT,
                check=True,
            )
            what = (
                f"generated in {time.perf_counter() - t0:.1f} s: {args.instances:,}"
                f" instances, {args.clusters:,} clusters, {args.groups:,} parameter groups,"
                f" {args.regions} Regions, seed {args.seed}"
            )
        size = os.path.getsize(snapshot)
        report = os.path.join(tmp, "report.json")
        check = [PYTHON, "-m", "checker", "check", snapshot]

        print(f"measuring, best of {runs} ...", file=sys.stderr)
        parse = measure(
            "parse",
            [PYTHON, "-c", "import json, sys; json.load(open(sys.argv[1]))", snapshot],
            runs,
        )
        cjson = measure(
            "check-json",
            [*check, "--format", "json", "--output", report, "--as-of", AS_OF],
            runs,
            ok_codes=(0, 1),
        )
        report_size = os.path.getsize(report) if os.path.exists(report) else 0
        ctext = measure("check-text", [*check, "--as-of", AS_OF], runs, ok_codes=(0, 1))
        small = measure(
            "check-small",
            [PYTHON, "-m", "checker", "check", str(EXAMPLE), "--as-of", AS_OF],
            runs,
            ok_codes=(0, 1),
        )
        boto, top, imp_crash = boto_imports()

        print()
        print(f"snapshot: {snapshot} ({what})")
        print(
            f"size:     {size:,} bytes ({size / 2**20:,.1f} MiB); JSON report {report_size:,} bytes"
        )
        print(f"python:   {sys.version.split()[0]}   runs: {runs} (best wall, highest RSS)")
        print()
        head = f"{'measurement':<34} {'wall':>9} {'peak RSS':>10} {'exit':>5}   target"
        print(head)
        print("-" * (len(head) + 34))

        def row(r: Result, target: str = "") -> None:
            rc = ",".join(sorted({str(c) for c in r.rcs})) or "-"
            print(f"{r.name:<34} {r.best:>8.2f}s {mib(r.peak):>10} {rc:>5}   {target}")

        parse.name = "(a) parse baseline json.load"
        row(parse)
        for r, label in (
            (cjson, "(b) check --format json --output"),
            (ctext, "(b) check text > /dev/null"),
        ):
            r.name = label
            ratio = r.best / parse.best
            row(
                r,
                f"{ratio:5.2f}x parse (<= {TARGET_RATIO:g}x) {verdict(ratio <= TARGET_RATIO)};"
                f" RSS {r.peak / TARGET_RSS:4.2f} GiB (< 1) {verdict(r.peak < TARGET_RSS)}",
            )
        small.name = "(c) check examples/snapshot.json"
        row(
            small,
            f"{small.best:5.2f} s = {small.best / TARGET_SMALL:4.2f}x of 0.5 s"
            f" {verdict(small.best < TARGET_SMALL)}",
        )
        print(
            f"{'(d) boto3/botocore imported':<34} {'yes' if boto else 'no':>9}"
            f" {'':>10} {'':>5}   no import {verdict(not boto)}"
            + (f" ({', '.join(boto[:5])}{', ...' if len(boto) > 5 else ''})" if boto else "")
        )
        print()
        print("slowest imports on the check path (cumulative, from -X importtime):")
        for seconds, module in top[:6]:
            print(f"  {seconds * 1000:8.1f} ms  {module}")
        crashes = [(r.name, r.crash) for r in (parse, cjson, ctext, small) if r.crash]
        if imp_crash:
            crashes.append(("-X importtime check", imp_crash))
        for name, why in crashes:
            print(f"CRASH {name}: {why}")
        if not crashes:
            print("no crashes (checker exit 1 = failing findings, expected)")
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
