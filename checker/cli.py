"""Command line: parse, call, render, exit. Heavy imports stay inside the commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

from checker import __version__
from checker.errors import InputError, UsageError

FAIL_ON = ("critical", "high", "medium", "low", "info", "never")
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr and exit 2 (argparse prints the whole usage otherwise)."""
        self.exit(EXIT_USAGE, f"rdsiam: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    from checker.report import FORMATS

    parser = _Parser(
        prog="rdsiam",
        description="Compliance checker for IAM database authentication on Amazon RDS and Aurora.",
    )
    parser.add_argument("--version", action="version", version=f"rdsiam {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser(
        "check",
        help="evaluate snapshots and AWS CLI JSON outputs offline",
        description="Evaluate exported state offline: rdsiam snapshots and"
        " raw AWS CLI JSON outputs, or directories of them.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the report here (atomically) instead of standard output",
    )
    check.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="low",
        help="lowest severity whose failures give exit code 1 (default: low)",
    )
    check.add_argument(
        "--select",
        action="append",
        metavar="IDS",
        help="only these rule ids or prefixes (comma-separated; RIA4 = all 4xx)",
    )
    check.add_argument(
        "--ignore", action="append", metavar="IDS", help="skip these rule ids or prefixes"
    )
    check.add_argument(
        "--as-of",
        metavar="TIME",
        help="evaluation time (ISO 8601), for reproducible reports; default: now",
    )
    check.add_argument("--account", metavar="ID", help="account of inputs that do not name one")
    check.add_argument("--region", metavar="REGION", help="Region of inputs that do not name one")
    check.add_argument(
        "--cert-warning-days",
        type=int,
        default=30,
        metavar="N",
        help="fail certificates expiring within N days (default 30)",
    )
    check.add_argument(
        "--all",
        action="store_true",
        dest="show_all",
        help="text format: list passes and not-applicable findings too",
    )

    rules = sub.add_parser("rules", help="list the rule catalog")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    explain = sub.add_parser("explain", help="show one rule's documentation")
    explain.add_argument("rule_id", metavar="RULE_ID")

    docs = sub.add_parser("docs", help="write the rule documentation pages")
    docs.add_argument("--out", required=True, metavar="DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rdsiam`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        return _docs(args)
    except (InputError, UsageError) as exc:
        print(f"rdsiam: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rdsiam: interrupted", file=sys.stderr)
        return 130


def _as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--as-of: '{value}' is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check(args: argparse.Namespace) -> int:
    from checker import registry
    from checker.collect import files, load_snapshot
    from checker.context import Settings
    from checker.engine import exit_code, run
    from checker.report import renderer, write_atomic

    now = _as_of(args.as_of)
    if args.cert_warning_days < 0:
        raise UsageError("--cert-warning-days must be 0 or more")
    rules = registry.select(
        registry.all_rules(), registry.parse_codes(args.select), registry.parse_codes(args.ignore)
    )
    if args.output:
        _refuse_overwriting_input(args.output, args.paths)
    inputs = load_snapshot(args.paths, account=args.account, region=args.region)
    files.note(inputs.notes)
    report = run(
        inputs.snapshot,
        rules,
        now=now,
        inputs=inputs.files,
        settings=Settings(cert_warning_days=args.cert_warning_days),
    )
    to_terminal = not args.output and sys.stdout.isatty()
    colour = to_terminal and "NO_COLOR" not in os.environ
    chunks = renderer(args.format)(report, colour=colour, show_all=args.show_all)
    if args.output:
        write_atomic(args.output, chunks)
    else:
        for chunk in chunks:
            sys.stdout.write(chunk)
    return exit_code(report, args.fail_on)


def _refuse_overwriting_input(output: str, paths: Sequence[str]) -> None:
    target = os.path.realpath(output)
    for path in paths:
        real = os.path.realpath(path)
        if target == real or (os.path.isdir(real) and target.startswith(real + os.sep)):
            raise UsageError(
                f"--output {output} would overwrite or land among the inputs"
                f" ({path}); write the report elsewhere"
            )


def _rules(args: argparse.Namespace) -> int:
    import json

    from checker import registry
    from checker.model.report import rule_dict

    rules = registry.all_rules()
    if args.format == "json":
        print(json.dumps([rule_dict(r) for r in rules], indent=2))
        return 0
    width = max(len(r.name) for r in rules)
    for rule in rules:
        print(f"{rule.id}  {rule.name:<{width}}  {rule.severity.value:<6}  {rule.title()}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from checker import registry
    from checker.docs import rule_page

    sys.stdout.write(rule_page(registry.find(args.rule_id)))
    return 0


def _docs(args: argparse.Namespace) -> int:
    from checker import registry
    from checker.docs import write

    for name in write(registry.all_rules(), args.out):
        print(os.path.join(args.out, name))
    return 0


def entry() -> NoReturn:  # pragma: no cover - thin wrapper for python -m
    sys.exit(main())
