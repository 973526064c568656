"""``rdsiam doctor``: the checklist an engineer goes through when an IAM login fails.

DNS, TCP, the TLS handshake and certificate verification, the token (when ``--iam``), then the
login itself; it stops at the first failed step and says what most likely caused it and how to
fix it. The token is never shown unless asked for (``--show-token``).
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from checker.db.connect import RDS_CA_BUNDLE, ConnectError, Target, tls_context

PG_SSL_REQUEST = struct.pack("!II", 8, 80877103)
# MySQL capability flags for the SSL request packet
CLIENT_LONG_PASSWORD = 0x1
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000


@dataclass
class Step:
    name: str
    ok: bool | None  # None: skipped
    detail: str
    cause: str = ""
    fix: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        status = "skipped" if self.ok is None else ("ok" if self.ok else "fail")
        out: dict[str, Any] = {"step": self.name, "status": status, "detail": self.detail}
        if self.cause:
            out["cause"] = self.cause
        if self.fix:
            out["fix"] = self.fix
        if self.warnings:
            out["warnings"] = self.warnings
        return out


@dataclass
class Request:
    """What to test: the target, how to log in, and the token options."""

    target: Target
    iam: bool
    region: str | None = None
    profile: str | None = None
    password: str | None = None
    token_limit: int | None = None
    show_token: bool = False


def run(request: Request, token_source: Callable[[], str] | None = None) -> Iterator[Step]:
    """The steps, in order, stopping after the first that fails."""
    target = request.target
    addresses: list[str] = []
    step = _dns(target, addresses)
    yield step
    if not step.ok:
        return
    step = _tcp(target, addresses)
    yield step
    if not step.ok:
        return
    step = _tls(target, addresses[0])
    yield step
    if step.ok is False:
        return
    secret = request.password or ""
    if request.iam:
        step, token = _token(request, token_source)
        yield step
        if not step.ok:
            return
        secret = token
    yield _login(request, secret)


def _dns(target: Target, addresses: list[str]) -> Step:
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return Step(
            "dns",
            False,
            f"cannot resolve {target.host}: {exc}",
            cause="the name is not an endpoint that DNS knows (a DB identifier instead of its"
            " endpoint, a typo, or a private endpoint resolved outside its VPC)",
            fix="use the Endpoint.Address of describe-db-instances / the cluster or proxy"
            " endpoint, from a network whose DNS resolves it",
        )
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return Step("dns", True, f"{target.host} -> {', '.join(addresses)}")


def _tcp(target: Target, addresses: list[str]) -> Step:
    problems = []
    for address in addresses:
        started = time.monotonic()
        try:
            with socket.create_connection((address, target.port), timeout=target.connect_timeout):
                took = (time.monotonic() - started) * 1000
            addresses.remove(address)
            addresses.insert(0, address)
            return Step("tcp", True, f"{address}:{target.port} connected in {took:.0f} ms")
        except TimeoutError:
            problems.append(f"{address}: timed out after {target.connect_timeout} s")
        except OSError as exc:
            problems.append(f"{address}: {exc.strerror or exc}")
    refused = all("refused" in p.lower() for p in problems)
    return Step(
        "tcp",
        False,
        f"port {target.port} unreachable ({'; '.join(problems)})",
        cause=(
            "nothing listens on that port (wrong port, or the database is stopped)"
            if refused
            else "a security group, network ACL or route drops the connection, or the"
            " database is not publicly accessible from here"
        ),
        fix=(
            "check the port of the endpoint (5432 PostgreSQL, 3306 MySQL by default)"
            if refused
            else "allow this client's address on the database's security group for the port,"
            " and connect from inside the VPC (or through a bastion) if it is private"
        ),
    )


def _tls(target: Target, address: str) -> Step:
    if target.sslmode == "disable":
        return Step(
            "tls",
            None,
            "skipped (--sslmode disable)",
            warnings=["IAM logins should always use TLS; AWS requires it for MySQL IAM logins"],
        )
    try:
        context = tls_context(target)
    except ConnectError as exc:
        return Step("tls", False, exc.message, fix="pass a readable --ca-bundle")
    assert context is not None
    try:
        with socket.create_connection(
            (address, target.port), timeout=target.connect_timeout
        ) as raw:
            raw.settimeout(target.connect_timeout)
            if not _start_tls(raw, target.engine):
                return Step(
                    "tls",
                    False,
                    "the server does not offer TLS",
                    cause="TLS is off on the server",
                    fix="enable TLS on the server; RDS offers it on every instance",
                )
            with context.wrap_socket(raw, server_hostname=target.host) as tls:
                cert = tls.getpeercert() or {}
                version, cipher = tls.version(), (tls.cipher() or ("?",))[0]
    except ssl.SSLCertVerificationError as exc:
        hostname = "hostname" in str(exc.verify_message or exc).lower() or "match" in str(exc)
        return Step(
            "tls",
            False,
            f"certificate verification failed: {exc.verify_message or exc}",
            cause=(
                "the certificate does not name the host you connect to (an IP address, a"
                " CNAME of your own, or a custom endpoint name)"
                if hostname
                else "the server's CA is not in the bundle you verify with"
            ),
            fix=(
                "connect with the RDS endpoint name itself"
                if hostname
                else f"pass --ca-bundle with the RDS CA bundle ({RDS_CA_BUNDLE}), or the CA"
                " that signed the server certificate"
            ),
        )
    except (ssl.SSLError, OSError) as exc:
        return Step(
            "tls",
            False,
            f"TLS handshake failed: {exc}",
            cause="the server refused the handshake (protocol version or cipher mismatch)",
            fix="check the server's minimum TLS version parameters against this client",
        )
    if target.sslmode == "require":
        return Step(
            "tls",
            True,
            f"{version}, {cipher}; certificate not verified (--sslmode require)",
            warnings=["without verification a man in the middle can read the token"],
        )
    subject = _name(cert.get("subject"))
    issuer = _name(cert.get("issuer"))
    return Step(
        "tls",
        True,
        f"{version}, {cipher}; certificate {subject} issued by {issuer}, valid till"
        f" {cert.get('notAfter', '?')}, verified for {target.host}",
    )


def _name(parts: Any) -> str:
    if not parts:
        return "?"
    names = [f"{k}={v}" for rdn in parts for (k, v) in rdn]
    return ", ".join(names) or "?"


def _start_tls(raw: socket.socket, engine: str) -> bool:
    """Ask the server to switch to TLS; True when it agrees."""
    if engine == "postgres":
        raw.sendall(PG_SSL_REQUEST)
        return raw.recv(1) == b"S"
    header = _recv_exactly(raw, 4)
    length = header[0] | header[1] << 8 | header[2] << 16
    payload = _recv_exactly(raw, length)
    if payload[:1] == b"\xff":  # an error packet instead of the greeting
        return False
    version_end = payload.index(b"\x00", 1)
    lower = struct.unpack_from("<H", payload, version_end + 1 + 4 + 8 + 1)[0]
    if not lower & CLIENT_SSL:
        return False
    flags = (
        CLIENT_LONG_PASSWORD
        | CLIENT_PROTOCOL_41
        | CLIENT_SSL
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH
    )
    body = struct.pack("<IIB23s", flags, 1 << 24, 45, b"\x00" * 23)
    raw.sendall(struct.pack("<I", len(body))[:3] + b"\x01" + body)
    return True


def _recv_exactly(raw: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = raw.recv(size - len(data))
        if not chunk:
            raise OSError("the server closed the connection")
        data += chunk
    return data


def _token(request: Request, source: Callable[[], str] | None) -> tuple[Step, str]:
    from checker.db.connect import iam_token

    target = request.target
    if not request.region:
        return Step("token", False, "no --region", fix="pass the database's Region"), ""
    try:
        token = (
            source()
            if source
            else iam_token(target.host, target.port, target.user, request.region, request.profile)
        )
    except ConnectError as exc:
        return (
            Step(
                "token",
                False,
                f"cannot sign a token: {exc.message}",
                cause="no AWS credentials here (or the profile does not exist)",
                fix="configure credentials (AWS_PROFILE, SSO login, instance role) and retry",
            ),
            "",
        )
    query = parse_qs(urlsplit("https://" + token).query)
    expires = _expiry(query)
    principal = _principal(request)
    parts = [f"{len(token):,} characters"]
    if expires:
        parts.append(f"valid until {expires:%Y-%m-%dT%H:%M:%SZ}")
    parts.append(f"signed for {principal}")
    step = Step("token", True, ", ".join(parts))
    credential = query.get("X-Amz-Credential", [""])[0]
    if "/" + request.region + "/" not in credential:
        step.ok = False
        step.cause = "the token is signed for another Region than the database's"
        step.fix = "pass --region with the database's Region"
    if request.token_limit is not None and len(token) > request.token_limit:
        step.warnings.append(
            f"the client caps passwords at {request.token_limit} characters, below this token's"
            f" {len(token)}: it would truncate the token and the login would fail"
        )
    if request.show_token:
        step.detail += f"; token: {token}"
    return step, token


def _expiry(query: dict[str, list[str]]) -> datetime | None:
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, ValueError, IndexError):
        return None


def _principal(request: Request) -> str:
    """The caller's ARN (sts:GetCallerIdentity, read-only), or why it is unknown."""
    try:
        import boto3

        session = boto3.Session(profile_name=request.profile, region_name=request.region)
        arn: str = session.client("sts").get_caller_identity()["Arn"]
        return arn
    except Exception as exc:  # any failure only makes the principal unknown
        return f"(unknown principal: {type(exc).__name__})"


# (engine, text in the driver's error, with --iam, likely cause, fix)
DIAGNOSES: tuple[tuple[str, str, bool | None, str, str], ...] = (
    (
        "postgres",
        "pam authentication failed",
        None,
        "the user lacks rds_iam, or no IAM policy allows rds-db:connect on this database's"
        " resource id and user, or the token was signed for another host, port, user or Region,"
        " or has expired",
        "GRANT rds_iam TO the user; check the grant with 'rdsiam access' (RIA301-RIA306); sign"
        " the token for exactly this endpoint, port and user",
    ),
    (
        "postgres",
        "password authentication failed",
        True,
        "the user is not a member of rds_iam, so the token was checked as a password",
        "GRANT rds_iam TO the user (never to the master user: RIA501)",
    ),
    (
        "postgres",
        "password authentication failed",
        False,
        "wrong password, or the user is a member of rds_iam and must log in with a token",
        "check the password; a user in rds_iam can only log in with IAM",
    ),
    (
        "postgres",
        "no pg_hba.conf entry",
        None,
        "the server refuses this user, database or address, or requires TLS",
        "connect with --sslmode verify-full (IAM logins need TLS), and check the user and"
        " database names",
    ),
    (
        "postgres",
        "does not exist",
        None,
        "the user or the database does not exist",
        "CREATE USER the user (GRANT rds_iam TO it), or pass the right --dbname",
    ),
    (
        "mysql",
        "plugin 'awsauthenticationplugin' is not loaded",
        None,
        "IAM database authentication is not enabled on the DB instance or cluster (or not"
        " supported by its engine version)",
        "enable it: aws rds modify-db-instance --enable-iam-database-authentication (or"
        " modify-db-cluster), then retry",
    ),
    (
        "mysql",
        "access denied",
        True,
        "the account does not use AWSAuthenticationPlugin, or no IAM policy allows"
        " rds-db:connect on this database's resource id and user, or the token was signed for"
        " another host, port, user or Region, or has expired",
        "ALTER USER the account IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'; check the"
        " grant with 'rdsiam access'",
    ),
    (
        "mysql",
        "access denied",
        False,
        "wrong password, or the account uses AWSAuthenticationPlugin and needs a token",
        "check the password, or log in with --iam",
    ),
    (
        "mysql",
        "ssl connection is required",
        None,
        "the server requires TLS",
        "connect with --sslmode verify-full",
    ),
)


def diagnose(engine: str, message: str, iam: bool) -> tuple[str, str]:
    """(likely cause, fix) for a driver's login error."""
    text = message.lower()
    for family, needle, with_iam, cause, fix in DIAGNOSES:
        if family == engine and needle in text and (with_iam is None or with_iam == iam):
            return cause, fix
    return "the server refused the login", "read the server's message above"


def _login(request: Request, secret: str) -> Step:
    from checker.db.connect import login

    target = request.target
    try:
        who = login(target, secret)
    except ConnectError as exc:
        cause, fix = diagnose(target.engine, exc.message, request.iam)
        message = exc.message.replace(secret, "<token>") if secret else exc.message
        return Step("login", False, message, cause=cause, fix=fix)
    return Step("login", True, f"logged in as {who}")
