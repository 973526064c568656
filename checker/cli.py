"""Command line: parse, call, render, exit. Heavy imports stay inside the commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from checker import __version__
from checker.errors import InputError, NoInputs, UsageError
from checker.gcpause import collector_off

if TYPE_CHECKING:
    from checker.baseline import LoadedReport
    from checker.db import doctor
    from checker.db.connect import Target
    from checker.model.report import InputFile
    from checker.model.snapshot import Snapshot
    from checker.rule import Rule
    from checker.waivers import Waiver

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
    _evaluation_options(check, FORMATS)
    check.add_argument("--account", metavar="ID", help="account of inputs that do not name one")
    check.add_argument("--region", metavar="REGION", help="Region of inputs that do not name one")
    check.add_argument(
        "--resource-id",
        metavar="ID",
        help="database of user CSV files not named <resource-id>.csv",
    )
    check.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CloudFormation parameter value (repeatable; wins over --parameters-file)",
    )
    check.add_argument(
        "--skip-unknown",
        action="store_true",
        help="skip files that are not a recognized input instead of stopping (pre-commit);"
        " with none left, exit 0",
    )
    check.add_argument(
        "--parameters-file",
        metavar="FILE",
        help="CloudFormation parameter values (AWS CLI, CodePipeline or flat JSON/YAML)",
    )

    collect = sub.add_parser(
        "collect", help="read a live AWS account or Organization into a snapshot (read-only)"
    )
    collect.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="FILE",
        help="where to write the snapshot (atomically)",
    )
    _collection_options(collect)

    scan = sub.add_parser("scan", help="collect and check in one run")
    _collection_options(scan)
    _evaluation_options(scan, FORMATS)
    scan.add_argument("--snapshot", metavar="FILE", help="also keep the collected snapshot here")

    access = sub.add_parser(
        "access",
        help="who can connect as whom: principal x database x database user, from the IAM policies",
    )
    access.add_argument("paths", nargs="+", metavar="PATH")
    access.add_argument("--format", choices=("table", "csv", "json"), default="table")
    access.add_argument("--output", "-o", metavar="FILE", help="write here (atomically)")
    access.add_argument(
        "--expand",
        action="store_true",
        help="one row per database a wildcard grant reaches, instead of one row with the count",
    )
    access.add_argument("--account", metavar="ID", help="account of inputs that do not name one")
    access.add_argument("--region", metavar="REGION", help="Region of inputs that do not name one")

    db_users = sub.add_parser(
        "db-users",
        help="read one database's users from its catalog (read-only) into a databases section",
        description="Connect to one database and write its users (the snapshot's databases"
        " section) through a read-only catalog query; or print that query (--print-sql) to run"
        " it yourself with psql --csv or mysql --batch.",
    )
    _connection_options(db_users)
    db_users.add_argument(
        "--resource-id",
        metavar="ID",
        help="DbiResourceId or DbClusterResourceId of the database (ties the users to it)",
    )
    db_users.add_argument("--account", metavar="ID", help="AWS account of the database")
    db_users.add_argument("--output", "-o", metavar="FILE", help="write here (atomically)")
    db_users.add_argument(
        "--print-sql",
        choices=("postgres", "mysql"),
        metavar="ENGINE",
        help="print the catalog query for postgres or mysql and exit",
    )

    doctor = sub.add_parser(
        "doctor",
        help="test one database login step by step: DNS, TCP, TLS, token, login",
        description="Go through the checklist of a failing IAM login for one database user:"
        " DNS, TCP, TLS handshake and certificate, token, then the login itself; stop at the"
        " first failed step with its likely cause and fix.",
    )
    _connection_options(doctor)
    doctor.add_argument(
        "--token-limit",
        type=int,
        metavar="N",
        help="warn when the token is longer than a client's N-character password limit",
    )
    doctor.add_argument(
        "--show-token", action="store_true", help="print the token (never shown otherwise)"
    )
    doctor.add_argument("--format", choices=("text", "json"), default="text")

    rules = sub.add_parser("rules", help="list the rule catalog")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    explain = sub.add_parser("explain", help="show one rule's documentation")
    explain.add_argument("rule_id", metavar="RULE_ID")

    diff = sub.add_parser(
        "diff",
        help="new, resolved and changed findings between two JSON reports",
        description="Compare two JSON reports (rdsiam check --format json) by finding id:"
        " failures and errors new in NEW, those resolved since OLD, and findings whose status,"
        " severity, message or waiver changed. Exit 1 when NEW has new problems.",
    )
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument("--output", "-o", metavar="FILE", help="write here (atomically)")

    docs = sub.add_parser("docs", help="write the rule documentation pages")
    docs.add_argument("--out", required=True, metavar="DIR")
    return parser


def _evaluation_options(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    parser.add_argument(
        "--format",
        choices=formats,
        default="text",
        help="text (default); json (the report); sarif (SARIF 2.1.0, for code scanning);"
        " junit (JUnit XML, for CI test reports); markdown (a summary for a pull-request"
        " comment); html (one self-contained page with filters)",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the report here (atomically) instead of standard output",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=None,
        help="lowest severity whose failures give exit code 1 (default: the configuration's"
        " fail_on, else low)",
    )
    parser.add_argument(
        "--select",
        action="append",
        metavar="IDS",
        help="only these rule ids or prefixes (comma-separated; RIA4 = all 4xx)",
    )
    parser.add_argument(
        "--ignore", action="append", metavar="IDS", help="skip these rule ids or prefixes"
    )
    parser.add_argument(
        "--as-of",
        metavar="TIME",
        help="evaluation time (ISO 8601), for reproducible reports; default: now",
    )
    parser.add_argument(
        "--cert-warning-days",
        type=int,
        default=None,
        metavar="N",
        help="fail certificates expiring within N days (default: the configuration's, else 30)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (rdsiam.toml, or a pyproject.toml with [tool.rdsiam]);"
        " default: the nearest one from the current directory upward",
    )
    parser.add_argument(
        "--no-config", action="store_true", help="ignore any configuration file found"
    )
    parser.add_argument(
        "--waivers",
        metavar="FILE",
        help="waivers file (TOML or YAML); default: the configuration's waivers key",
    )
    parser.add_argument(
        "--baseline",
        metavar="REPORT",
        help="an earlier JSON report: only failures not in it count toward the exit code",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        dest="show_all",
        help="text, sarif and markdown formats: list passes and not-applicable findings too",
    )


def _connection_options(parser: argparse.ArgumentParser) -> None:
    """Where and how to log in to one database (db-users, doctor)."""
    parser.add_argument("--host", metavar="HOST", help="database endpoint")
    parser.add_argument("--port", type=int, metavar="N", help="default: 5432 or 3306 by engine")
    parser.add_argument("--user", metavar="NAME", help="database user to log in as")
    parser.add_argument("--dbname", metavar="NAME", help="database to connect to")
    parser.add_argument(
        "--engine",
        choices=("postgres", "mysql"),
        help="postgres, or mysql (MySQL and MariaDB); default: guessed from the port",
    )
    parser.add_argument(
        "--iam", action="store_true", help="log in with an IAM token signed locally by boto3"
    )
    parser.add_argument("--region", metavar="REGION", help="Region of the database (for --iam)")
    parser.add_argument("--profile", help="AWS profile for --iam")
    parser.add_argument(
        "--password-env", metavar="VAR", help="log in with the password in this variable"
    )
    parser.add_argument(
        "--sslmode",
        choices=("verify-full", "require", "disable"),
        default="verify-full",
        help="TLS: verify-full (default), require (no verification), disable (local tests)",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="CA certificates to verify the server with (e.g. the RDS global bundle)",
    )
    parser.add_argument(
        "--connect-timeout", type=int, default=10, metavar="S", help="seconds (default 10)"
    )


def _collection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--regions",
        metavar="R1,R2",
        help="Regions to read (default: every Region enabled for the account)",
    )
    parser.add_argument("--profile", help="AWS profile (default: the usual boto3 chain)")
    parser.add_argument(
        "--org",
        action="store_true",
        help="every ACTIVE account of the AWS Organization, through --role-name",
    )
    parser.add_argument(
        "--role-name", metavar="NAME", help="role to assume in each account with --org"
    )
    parser.add_argument("--accounts", metavar="ID,ID", help="with --org: only these accounts")
    parser.add_argument("--external-id", metavar="ID", help="ExternalId the role demands")
    parser.add_argument(
        "--workers",
        type=int,
        default=16,
        metavar="N",
        help="parallel account/Region tasks (default 16)",
    )
    parser.add_argument(
        "--metrics",
        action="store_true",
        help="also read CloudWatch IamDbAuthConnectionRequests of IAM-enabled instances (RIA701)",
    )
    parser.add_argument(
        "--metrics-days",
        type=int,
        default=14,
        metavar="N",
        help="window of --metrics in days (default 14)",
    )
    parser.add_argument(
        "--db-user",
        metavar="NAME",
        help="also read the users of every reachable IAM-enabled database, logging in as NAME"
        " with an IAM token (read-only catalog queries; needs rdsiam[db])",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="with --db-user: CA certificates to verify the databases' TLS with"
        " (the RDS global bundle)",
    )
    parser.add_argument(
        "--db-timeout",
        type=int,
        default=5,
        metavar="S",
        help="with --db-user: seconds to connect to each database (default 5)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rdsiam`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command in ("collect", "scan"):
            return _live(args)
        if args.command == "access":
            return _access(args)
        if args.command == "db-users":
            return _db_users(args)
        if args.command == "doctor":
            return _doctor(args)
        if args.command == "rules":
            return _rules(args)
        if args.command == "explain":
            return _explain(args)
        if args.command == "diff":
            return _diff(args)
        return _docs(args)
    except (InputError, UsageError) as exc:
        print(f"rdsiam: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rdsiam: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (rdsiam check ... | head): say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit's flush does not fail again
        return 141  # as a shell reports a process that SIGPIPE ended


def _as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--as-of: '{value}' is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check(args: argparse.Namespace) -> int:
    from checker.collect import files, load_snapshot

    rules = _rules_for(args)  # usage errors before any input is read
    if args.output:
        _refuse_overwriting_input(args.output, [*args.paths, *_user_files(args)])
    evidence = _evidence_inputs(args)
    with collector_off():
        try:
            inputs = load_snapshot(
                args.paths,
                account=args.account,
                region=args.region,
                resource_id=args.resource_id,
                parameters=_parameters(args),
                skip_unknown=args.skip_unknown,
            )
        except NoInputs:
            if not args.skip_unknown:
                raise
            print("rdsiam: no recognized inputs; nothing to check", file=sys.stderr)
            return 0
        files.note(inputs.notes)
        return _evaluate(args, rules, inputs.snapshot, inputs.files, evidence, inputs.waivers)


def _parameters(args: argparse.Namespace) -> dict[str, str]:
    """Template parameters: the file's, then each --parameter on top."""
    values: dict[str, str] = {}
    if args.parameters_file:
        from checker.iac.cloudformation import read_parameters_file

        values.update(read_parameters_file(args.parameters_file))
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--parameter '{item}' is not KEY=VALUE")
        values[key] = value
    return values


def _rules_for(args: argparse.Namespace) -> list[type[Rule]]:
    """The rules to run; also settles the configuration into ``args`` (command-line options
    win over the file), so every usage or configuration error comes before any input is read."""
    from checker import config, registry

    if args.config and args.no_config:
        raise UsageError("--config and --no-config exclude each other")
    cfg = config.load(args.config, search=not args.no_config)
    args.settings = cfg
    if args.fail_on is None:
        args.fail_on = cfg.fail_on or "low"
    if args.cert_warning_days is None:
        args.cert_warning_days = cfg.cert_warning_days if cfg.cert_warning_days is not None else 30
    if args.cert_warning_days < 0:
        raise UsageError("--cert-warning-days must be 0 or more")
    if args.waivers is None:
        args.waivers = cfg.waivers
    select = args.select if args.select is not None else cfg.select
    ignore = args.ignore if args.ignore is not None else cfg.ignore
    chosen = registry.select(
        registry.all_rules(), registry.parse_codes(select), registry.parse_codes(ignore)
    )
    if not chosen:  # a run that checks nothing must not look like a clean one
        raise UsageError("the selection leaves no rule to run (see --select / --ignore)")
    return chosen


def _user_files(args: argparse.Namespace) -> list[str]:
    """Files besides the inputs that a report must never overwrite."""
    named = [args.waivers, args.baseline, getattr(args, "parameters_file", None)]
    named.append(args.settings.path)
    return [p for p in named if p]


def _evidence_inputs(
    args: argparse.Namespace,
) -> tuple[list[Waiver], LoadedReport | None]:
    """The waivers file and the baseline report, read before any collection so that a
    mistake in either stops the run at once."""
    from checker import waivers
    from checker.baseline import load_report

    accepted = waivers.load_file(args.waivers) if args.waivers else []
    baseline = load_report(args.baseline) if args.baseline else None
    return accepted, baseline


def _evaluate(
    args: argparse.Namespace,
    rules: list[type[Rule]],
    snapshot: Snapshot,
    input_files: list[InputFile],
    evidence: tuple[list[Waiver], LoadedReport | None],
    template_waivers: Sequence[Waiver] = (),
) -> int:
    """Run the rules on a snapshot, render the report, and return the exit code."""
    from checker import registry, waivers
    from checker.context import Settings
    from checker.engine import exit_code, run
    from checker.report import renderer, write_atomic
    from checker.rule import Severity

    accepted = [*evidence[0], *template_waivers]
    waivers.check_rules(accepted, (r.id for r in registry.all_rules()))
    baseline = evidence[1]
    with collector_off():
        report = run(
            snapshot,
            rules,
            now=_as_of(args.as_of),
            inputs=input_files,
            settings=Settings(cert_warning_days=args.cert_warning_days),
            severity_overrides={k: Severity(v) for k, v in args.settings.severity.items()},
            waivers=accepted,
            baseline=baseline,
            access_text=args.format == "json",
        )
        report.fail_on = args.fail_on
        to_terminal = not args.output and sys.stdout.isatty()
        colour = to_terminal and "NO_COLOR" not in os.environ
        chunks = renderer(args.format)(report, colour=colour, show_all=args.show_all)
        if args.output:
            write_atomic(args.output, chunks)
        else:
            for chunk in chunks:
                sys.stdout.write(chunk)
    return _done(exit_code(report, args.fail_on))


def _live(args: argparse.Namespace) -> int:
    """``collect`` (write a snapshot) and ``scan`` (collect, then check)."""
    import hashlib
    import json

    from checker import contract
    from checker.collect import to_model
    from checker.collect.live import CredentialsError, Options, collect
    from checker.model.report import InputFile
    from checker.report import write_atomic

    if args.org and not args.role_name:
        raise UsageError("--org needs --role-name (the role to assume in each account)")
    if args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    if args.db_timeout < 1:
        raise UsageError("--db-timeout must be 1 or more")
    if args.ca_bundle and not os.path.isfile(args.ca_bundle):
        raise InputError(args.ca_bundle, "no such CA bundle file")
    if args.ca_bundle and not args.db_user:
        raise UsageError("--ca-bundle needs --db-user")
    if args.metrics and not 1 <= args.metrics_days <= 455:
        raise UsageError("--metrics-days must be between 1 and 455 (CloudWatch keeps 15 months)")
    rules: list[type[Rule]] = []
    evidence: tuple[list[Waiver], LoadedReport | None] = ([], None)
    if args.command == "scan":  # usage and input errors before any AWS call
        rules = _rules_for(args)
        outputs = [p for p in (args.output, args.snapshot) if p]
        if len(outputs) == 2 and os.path.realpath(outputs[0]) == os.path.realpath(outputs[1]):
            raise UsageError("--output and --snapshot name the same file")
        for output in outputs:
            _refuse_overwriting_input(output, _user_files(args))
        evidence = _evidence_inputs(args)
    options = Options(
        regions=_csv(args.regions),
        profile=args.profile,
        org=args.org,
        role_name=args.role_name,
        accounts=_csv(args.accounts),
        external_id=args.external_id,
        workers=args.workers,
        metrics_days=args.metrics_days if args.metrics else None,
        db_user=args.db_user,
        ca_bundle=args.ca_bundle,
        db_timeout=args.db_timeout,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    try:
        doc, _ = collect(options)
    except CredentialsError as exc:
        raise InputError("AWS", str(exc)) from None
    text = json.dumps(doc, ensure_ascii=False) + "\n"
    error = contract.first_error(contract.validator("snapshot.schema.json"), doc)
    if error is not None:  # pragma: no cover - our own output must meet the contract
        raise RuntimeError(f"collected snapshot violates the schema at {error[0]}: {error[1]}")
    keep = args.output if args.command == "collect" else args.snapshot
    if keep:
        write_atomic(keep, [text])
    if args.command == "collect":
        failed = len(doc["errors"])
        if failed:
            print(f"rdsiam: {failed} collection error(s) recorded in {keep}", file=sys.stderr)
        return 3 if failed else 0
    digest = hashlib.sha256(text.encode()).hexdigest()
    source = InputFile(keep or "(live AWS)", "snapshot" if keep else "aws", digest)
    return _evaluate(args, rules, to_model(keep or "collected snapshot", doc), [source], evidence)


def _access(args: argparse.Namespace) -> int:
    """The who-can-connect matrix of the inputs."""
    from checker.collect import files, load_snapshot
    from checker.context import Context
    from checker.iam.access import build
    from checker.report import access as render_access
    from checker.report import write_atomic

    if args.output:
        _refuse_overwriting_input(args.output, args.paths)
    with collector_off():
        inputs = load_snapshot(args.paths, account=args.account, region=args.region)
        files.note(inputs.notes)
        if not any(a.iam is not None for a in inputs.snapshot.accounts):
            raise InputError(
                ", ".join(args.paths),
                "no IAM data in the inputs (a snapshot's iam"
                " section or get-account-authorization-details output)",
            )
        grants = Context(inputs.snapshot, _as_of(None)).grants
        rows = build(inputs.snapshot, grants, expand=args.expand)
        chunks = render_access.render(rows, args.format)
        if args.output:
            write_atomic(args.output, chunks)
        else:
            for chunk in chunks:
                sys.stdout.write(chunk)
    return _done(0)


def _target(args: argparse.Namespace, sign: bool = True) -> tuple[Target, str]:
    """The connection target and the password (or IAM token, unless ``sign`` is False) from
    the options."""
    from checker.db.connect import Target, guess_engine, iam_token, password_from_env
    from checker.db.users import default_port

    if not args.host or not args.user:
        raise UsageError("--host and --user are required")
    engine = args.engine or (guess_engine(args.port) if args.port else None)
    if engine is None:
        raise UsageError("--engine is required (postgres or mysql) when --port does not tell")
    port = args.port or default_port(engine)
    if args.iam == bool(args.password_env):
        raise UsageError("choose one way to log in: --iam or --password-env VAR")
    if args.ca_bundle and not os.path.isfile(args.ca_bundle):
        raise InputError(args.ca_bundle, "no such CA bundle file")
    if args.connect_timeout < 1:
        raise UsageError("--connect-timeout must be 1 or more")
    target = Target(
        host=args.host,
        port=port,
        user=args.user,
        engine=engine,
        dbname=args.dbname,
        sslmode=args.sslmode,
        ca_bundle=args.ca_bundle,
        connect_timeout=args.connect_timeout,
    )
    if args.iam:
        if not args.region:
            raise UsageError("--iam needs --region (the database's Region)")
        if not sign:
            return target, ""
        return target, iam_token(args.host, port, args.user, args.region, args.profile)
    return target, password_from_env(args.password_env)


def _doctor(args: argparse.Namespace) -> int:
    """The step-by-step login test; exit 1 when a step fails."""
    import json

    from checker.db import doctor
    from checker.db.connect import ConnectError

    if args.token_limit is not None and args.token_limit < 1:
        raise UsageError("--token-limit must be 1 or more")
    if args.show_token and not args.iam:
        raise UsageError("--show-token needs --iam")
    try:
        target, password = _target(args, sign=False)
    except ConnectError as exc:
        raise UsageError(str(exc)) from None
    request = doctor.Request(
        target=target,
        iam=args.iam,
        region=args.region,
        profile=args.profile,
        password=password or None,
        token_limit=args.token_limit,
        show_token=args.show_token,
    )
    steps = []
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    for step in doctor.run(request):
        steps.append(step)
        if args.format == "text":
            sys.stdout.write(_doctor_line(step, colour))
            sys.stdout.flush()
    failed = any(s.ok is False for s in steps)
    if args.format == "json":
        out = {
            "host": target.host,
            "port": target.port,
            "engine": target.engine,
            "user": target.user,
            "ok": not failed,
            "steps": [s.to_dict() for s in steps],
        }
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    elif not failed:
        sys.stdout.write(f"{target.user} can log in to {target.host}:{target.port}\n")
    return 1 if failed else 0


def _doctor_line(step: doctor.Step, colour: bool) -> str:
    label = {None: "skip", True: "ok", False: "FAIL"}[step.ok]
    if colour:
        code = {None: "33", True: "32", False: "31"}[step.ok]
        label = f"\033[{code}m{label}\033[0m"
    lines = [f"[{label}]{' ' * (5 - len(label) if not colour else 1)}{step.name:<6} {step.detail}"]
    lines += [f"       warning: {w}" for w in step.warnings]
    if step.cause:
        lines.append(f"       likely cause: {step.cause}")
    if step.fix:
        lines.append(f"       fix: {step.fix}")
    return "\n".join(lines) + "\n"


def _db_users(args: argparse.Namespace) -> int:
    """Read one database's users into a databases-section file."""
    import json

    from checker.db import catalog
    from checker.db.connect import ConnectError, read_users
    from checker.report import write_atomic

    if args.print_sql:
        sys.stdout.write(catalog.SQL[args.print_sql])
        return 0
    if not args.resource_id:
        raise UsageError("--resource-id is required (the DbiResourceId or DbClusterResourceId)")
    if args.account is not None and (len(args.account) != 12 or not args.account.isdigit()):
        raise UsageError(f"--account: '{args.account}' is not a 12-digit AWS account id")
    try:
        target, secret = _target(args)
        section = read_users(target, secret)
    except ConnectError as exc:
        raise InputError(f"{args.host}:{args.port or ''}".rstrip(":"), str(exc)) from None
    doc: dict[str, object] = {
        "format": "rdsiam-database-users",
        "version": 1,
        "resource_id": args.resource_id,
    }
    if args.account:
        doc["account_id"] = args.account
    doc.update(section)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        write_atomic(args.output, [text])
        print(
            f"rdsiam: {len(section['users'])} users of {args.resource_id} written to {args.output}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


def _diff(args: argparse.Namespace) -> int:
    """``rdsiam diff OLD NEW``: exit 1 when NEW has problems OLD did not."""
    from checker.baseline import diff, load_report, render_text
    from checker.report import write_atomic

    if args.output:
        _refuse_overwriting_input(args.output, [args.old, args.new])
    result = diff(load_report(args.old), load_report(args.new))
    if args.format == "json":
        import json

        chunks = [json.dumps(result, indent=2, ensure_ascii=False) + "\n"]
    else:
        chunks = list(render_text(result))
    if args.output:
        write_atomic(args.output, chunks)
    else:
        sys.stdout.write("".join(chunks))
    return 1 if result["summary"]["new"] else 0


def _csv(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


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


_EXIT_AFTER_RUN = False  # set by ``entry``: the process ends with the command


def _done(code: int) -> int:
    """The exit code of a command that built a large run (check, scan, access). As the
    ``rdsiam`` command, the process ends here, with the report written and the output
    flushed but without freeing the run's millions of objects one by one (0.6 to 0.9 s on
    the 100,000-grant bench; the system takes the memory back at once). Called as a function
    (the tests), it returns the code."""
    if not _EXIT_AFTER_RUN:
        return code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def entry() -> NoReturn:  # pragma: no cover - the rdsiam command and python -m checker
    global _EXIT_AFTER_RUN
    _EXIT_AFTER_RUN = True
    sys.exit(main())
