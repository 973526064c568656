"""Real PostgreSQL and MariaDB servers on 127.0.0.1 for the tests (a pytest plugin).

rdsiam reads database users from the servers' own catalogs (``pg_roles`` and ``pg_auth_members``
on PostgreSQL, ``mysql.user`` on MySQL and MariaDB), so the code that does it is tested against
real servers, not against mocks of the drivers. ``tests/conftest.py`` loads this module with
``pytest_plugins = ("dbservers",)``; it provides two session-scoped fixtures:

``postgres_server`` (:class:`PostgresServer`)
    PostgreSQL (15 on this project's machines) from ``initdb`` into a fresh temporary
    directory. ``initdb`` and ``postgres`` refuse to run as root, so under root they run as the
    ``postgres`` system user (created as ``rdsiam-db`` when there is none), which owns the
    directory. The server listens on 127.0.0.1 only, on a free port, with its Unix socket in the
    directory; TCP needs a password (``scram-sha-256``) and offers TLS (``ssl=on``). The test
    superuser is the bootstrap superuser ``rdsiam_admin`` with a random password. The NOLOGIN
    roles every Amazon RDS for PostgreSQL instance has (:data:`RDS_POSTGRES_ROLES`) are created,
    so catalog readers see what they would see on RDS.

``mariadb_server`` (:class:`MariaDBServer`)
    MariaDB (10.11 from Debian's ``mariadb-server``) from ``mariadb-install-db`` into a fresh
    temporary directory, ``mariadbd`` on 127.0.0.1 only, a free port, socket and pid file in the
    directory, TLS on, with the real grant tables (no ``--skip-grant-tables``). The test admin
    ``rdsiam_admin``@``127.0.0.1`` has all privileges and a random password. MariaDB cannot load
    AWS's ``AWSAuthenticationPlugin``, so :meth:`MariaDBServer.fake_iam_plugin` makes an account
    *look* like an RDS IAM account: since 10.4 accounts live in ``mysql.global_priv`` (one JSON
    ``Priv`` column per account) and ``mysql.user`` is a view over it, so setting ``$.plugin`` to
    ``AWSAuthenticationPlugin`` (``$.authentication_string`` ``RDS``) and flushing privileges
    shows the account in ``mysql.user``, ``SHOW CREATE USER`` and ``SHOW GRANTS`` exactly as RDS
    shows ``IDENTIFIED VIA AWSAuthenticationPlugin USING 'RDS'``. Such an account cannot log in
    (error 1524, plugin not loaded).

Both use a self-signed CA and a server certificate for ``localhost`` and 127.0.0.1, made when the
fixture starts; ``ca_file`` is the CA's PEM, so clients verify the server (``verify-full``). Each
server is started lazily, the first time a test asks for it (a few seconds each), and stopped at
the end of the session.

Stopping is robust: the fixture stops its server on teardown (also after Ctrl-C, when pytest
tears the session down). If the test process dies without a teardown (SIGTERM, SIGKILL), a small
watchdog process per server notices (the end of a pipe it shares with the test process is
closed) and stops the server and removes its directory. Every server directory holds
``server.pid``; ``.ci/run`` kills what is left in its directory on exit as a last resort.

When the server programs or the drivers are missing, the tests that use a fixture are skipped
with the reason, unless ``RDSIAM_REQUIRE_DB_SERVERS=1`` (CI sets it): then they fail, so CI can
never pass by skipping them. ``RDSIAM_DBSERVERS_TMPDIR`` names the directory under which the
server directories are made (default: the system's temporary directory); under root it must be
traversable by the database user.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import glob
import ipaddress
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import psycopg

REQUIRE_ENV = "RDSIAM_REQUIRE_DB_SERVERS"
TMPDIR_ENV = "RDSIAM_DBSERVERS_TMPDIR"
DIR_PREFIX = "rdsiam-db-"
LOOPBACK = "127.0.0.1"
TLS_NAME = "localhost"
ADMIN_USER = "rdsiam_admin"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
RDS_POSTGRES_ROLES = ("rds_iam", "rds_ad", "rds_replication", "rds_superuser")
IAM_PLUGIN = "AWSAuthenticationPlugin"
PG_FALLBACK_USER = "rdsiam-db"


class DatabaseServerError(RuntimeError):
    """A test database server could not be set up or did not start."""


# -- the fixtures' values ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server and its superuser's credentials.

    ``host`` is 127.0.0.1; the certificate is valid for ``tls_name`` (``localhost``) and for
    127.0.0.1, so ``sslmode=verify-full`` works with either (pass ``host="localhost",
    hostaddr="127.0.0.1"`` to verify the name without resolving it).
    """

    host: str
    port: int
    user: str
    password: str
    dbname: str
    ca_file: Path
    tls_name: str
    directory: Path
    log_file: Path

    def connect_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """libpq parameters for the superuser over TCP with ``verify-full`` TLS, then overrides."""
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
            "sslmode": "verify-full",
            "sslrootcert": str(self.ca_file),
            "connect_timeout": 10,
        }
        params.update(overrides)
        return params

    def connect(self, **overrides: Any) -> psycopg.Connection[tuple[Any, ...]]:
        """An autocommit psycopg connection (see :meth:`connect_kwargs`); close it (``with``)."""
        import psycopg

        return psycopg.connect(autocommit=True, **self.connect_kwargs(**overrides))

    def sql(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run SQL as the superuser (autocommit, own connection); the rows it returned, if any.

        Without ``params`` the text may hold several statements.
        """
        with self.connect() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description is not None else []


@dataclasses.dataclass(frozen=True)
class MariaDBServer:
    """A running MariaDB server and its test admin's credentials (``user``@``127.0.0.1``)."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    ca_file: Path
    tls_name: str
    directory: Path
    log_file: Path
    socket_path: Path

    def connect_kwargs(self, *, tls: bool = True, **overrides: Any) -> dict[str, Any]:
        """PyMySQL parameters for the admin over TCP, then overrides.

        With ``tls`` the connection is encrypted and the server verified against ``ca_file``
        (certificate chain and host name); without it, the connection is plain TCP.
        """
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.dbname,
            "autocommit": True,
            "connect_timeout": 10,
        }
        if tls:
            params["ssl"] = {"ca": str(self.ca_file), "check_hostname": True}
        else:
            params["ssl_disabled"] = True  # PyMySQL's default is unverified TLS when offered
        params.update(overrides)
        return params

    def connect(self, *, tls: bool = True, **overrides: Any) -> Any:
        """An autocommit ``pymysql.connections.Connection``; close it (``with``)."""
        import pymysql  # type: ignore[import-untyped, unused-ignore]

        return pymysql.connect(**self.connect_kwargs(tls=tls, **overrides))

    def sql(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one SQL statement as the admin (autocommit, own connection); its rows, if any."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall()) if cur.description is not None else []

    def fake_iam_plugin(self, user: str, host: str) -> None:
        """Make the existing account ``user``@``host`` look like an RDS IAM account.

        Its ``mysql.global_priv`` entry gets ``$.plugin`` ``AWSAuthenticationPlugin`` and
        ``$.authentication_string`` ``RDS`` (any alternative methods, ``$.auth_or``, are
        dropped), then privileges are flushed. Everything else about the account (``REQUIRE
        SSL``, grants) stays; set it before or after. Raises LookupError when there is no such
        account.
        """
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM mysql.global_priv WHERE User = %s AND Host = %s", (user, host)
            )
            if cur.fetchone()[0] != 1:
                raise LookupError(f"no MariaDB account {user!r}@{host!r}")
            cur.execute(
                "UPDATE mysql.global_priv SET Priv = JSON_REMOVE(JSON_SET(Priv,"
                " '$.plugin', %s, '$.authentication_string', 'RDS'), '$.auth_or')"
                " WHERE User = %s AND Host = %s",
                (IAM_PLUGIN, user, host),
            )
            cur.execute("FLUSH PRIVILEGES")
            cur.execute("SELECT plugin FROM mysql.user WHERE User = %s AND Host = %s", (user, host))
            row = cur.fetchone()
            if row is None or row[0] != IAM_PLUGIN:
                raise DatabaseServerError(f"mysql.user shows {row!r} for {user!r}@{host!r}")


# -- the fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1 for the whole session (started on first use)."""
    with _run_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    """A MariaDB server on 127.0.0.1 for the whole session (started on first use)."""
    with _run_mariadb() as server:
        yield server


# -- PostgreSQL --------------------------------------------------------------------------------


def _postgres_bindir() -> Path | None:
    """The directory of ``initdb`` and ``postgres``: the one on PATH, else Debian's newest."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("initdb", "postgres")):
            return bindir
    return None


def _postgres_os_user() -> pwd.struct_passwd | None:
    """Who runs ``initdb`` and ``postgres``: None for ourselves, else an unprivileged user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", PG_FALLBACK_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    _run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            PG_FALLBACK_USER,
        ],
        what="useradd",
    )
    return pwd.getpwnam(PG_FALLBACK_USER)


@contextlib.contextmanager
def _run_postgres() -> Iterator[PostgresServer]:
    bindir = _postgres_bindir()
    if bindir is None:
        _unavailable("PostgreSQL server programs (initdb, postgres) not found")
    try:
        import psycopg
    except ImportError as exc:
        _unavailable(f"psycopg is not installed ({exc}); pip install -e '.[test]'")
    os_user = _postgres_os_user()
    as_user: dict[str, Any] = {}
    if os_user is not None:
        as_user = {"user": os_user.pw_uid, "group": os_user.pw_gid, "extra_groups": []}
    env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C", "LANG": "C"}

    with contextlib.ExitStack() as stack:
        directory = stack.enter_context(_server_directory("postgres", signal.SIGINT))
        password = secrets.token_urlsafe(18)
        data = directory / "data"
        ca_file, cert_file, key_file = _write_tls_files(directory)
        pwfile = directory / "pwfile"
        pwfile.write_text(password + "\n", encoding="utf-8")
        if os_user is not None:
            _chown_tree(directory, os_user.pw_uid, os_user.pw_gid)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                ADMIN_USER,
                f"--pwfile={pwfile}",
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            what="initdb",
            cwd=directory,
            env=env,
            **as_user,
        )
        pwfile.unlink()
        (data / "pg_hba.conf").write_text(
            "# Written by tests/dbservers.py: passwords only, TCP on 127.0.0.1 only.\n"
            "local all all scram-sha-256\n"
            f"host  all all {LOOPBACK}/32 scram-sha-256\n",
            encoding="utf-8",
        )
        log_file = directory / "postgres.log"

        def start(port: int) -> subprocess.Popen[bytes]:
            settings = {
                "listen_addresses": LOOPBACK,
                "port": str(port),
                "unix_socket_directories": str(directory),
                "ssl": "on",
                "ssl_cert_file": str(cert_file),
                "ssl_key_file": str(key_file),
                # A throw-away cluster: no durability, less disk work.
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "max_connections": "40",
                "shared_buffers": "32MB",
            }
            argv = [str(bindir / "postgres"), "-D", str(data)]
            for name, value in settings.items():
                argv += ["-c", f"{name}={value}"]
            with log_file.open("ab") as log:
                return subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=directory,
                    env=env,
                    start_new_session=True,
                    **as_user,
                )

        def probe(port: int) -> None:
            psycopg.connect(
                host=LOOPBACK,
                port=port,
                user=ADMIN_USER,
                password=password,
                dbname="postgres",
                sslmode="disable",
                connect_timeout=2,
            ).close()

        # SIGINT is PostgreSQL's fast shutdown (what `pg_ctl stop -m fast` sends).
        port = _launch(stack, directory, "PostgreSQL", log_file, start, probe, signal.SIGINT)
        server = PostgresServer(
            host=LOOPBACK,
            port=port,
            user=ADMIN_USER,
            password=password,
            dbname="postgres",
            ca_file=ca_file,
            tls_name=TLS_NAME,
            directory=directory,
            log_file=log_file,
        )
        # Over verified TLS, so a broken certificate set-up fails here, with the log.
        try:
            server.sql(";".join(f"CREATE ROLE {role} NOLOGIN" for role in RDS_POSTGRES_ROLES))
        except psycopg.Error as exc:
            raise DatabaseServerError(
                f"PostgreSQL set-up over TLS failed: {exc}\n{_tail(log_file)}"
            ) from exc
        yield server


# -- MariaDB -----------------------------------------------------------------------------------


def _find_program(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for sbin in ("/usr/sbin", "/usr/bin", "/usr/local/sbin"):
            if os.access(f"{sbin}/{name}", os.X_OK):
                return f"{sbin}/{name}"
    return None


@contextlib.contextmanager
def _run_mariadb() -> Iterator[MariaDBServer]:
    mariadbd = _find_program("mariadbd", "mysqld")
    install_db = _find_program("mariadb-install-db", "mysql_install_db")
    if mariadbd is None or install_db is None:
        _unavailable(
            "MariaDB server programs (mariadbd, mariadb-install-db) not found;"
            " apt-get install mariadb-server"
        )
    try:
        import pymysql
    except ImportError as exc:
        _unavailable(f"PyMySQL is not installed ({exc}); pip install -e '.[test]'")
    # mariadbd refuses root unless told; the server runs as whoever runs the tests.
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    # Small InnoDB files and no native AIO (io_uring may be blocked in containers).
    innodb = [
        "--innodb-buffer-pool-size=32M",
        "--innodb-log-file-size=8M",
        "--innodb-use-native-aio=0",
    ]

    with contextlib.ExitStack() as stack:
        directory = stack.enter_context(_server_directory("mariadb", signal.SIGTERM))
        password = secrets.token_urlsafe(18)
        data = directory / "data"
        (directory / "tmp").mkdir()
        ca_file, cert_file, key_file = _write_tls_files(directory)
        socket_path = directory / "mysqld.sock"
        log_file = directory / "mariadbd.log"
        # --no-defaults first: Debian's /etc/mysql files must not apply.
        _run(
            [
                install_db,
                "--no-defaults",
                f"--datadir={data}",
                *as_root,
                "--skip-test-db",
                "--skip-name-resolve",
                "--auth-root-authentication-method=socket",
                *innodb,
            ],
            what="mariadb-install-db",
            cwd=directory,
        )
        # Bootstrap runs without grant tables, so the admin is made by --init-file at start-up,
        # before the server accepts connections.
        init_file = directory / "init.sql"
        init_file.write_text(
            f"CREATE USER IF NOT EXISTS '{ADMIN_USER}'@'{LOOPBACK}' IDENTIFIED BY '{password}';\n"
            f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'{LOOPBACK}' WITH GRANT OPTION;\n",
            encoding="utf-8",
        )

        def start(port: int) -> subprocess.Popen[bytes]:
            argv = [
                mariadbd,
                "--no-defaults",
                *as_root,
                f"--datadir={data}",
                f"--tmpdir={directory / 'tmp'}",
                f"--socket={socket_path}",
                f"--pid-file={directory / 'mariadbd.pid'}",
                f"--log-error={log_file}",
                f"--bind-address={LOOPBACK}",
                f"--port={port}",
                "--skip-name-resolve",
                f"--ssl-ca={ca_file}",
                f"--ssl-cert={cert_file}",
                f"--ssl-key={key_file}",
                f"--init-file={init_file}",
                "--character-set-server=utf8mb4",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-buffer-pool-dump-at-shutdown=0",
                "--innodb-buffer-pool-load-at-startup=0",
                "--max-connections=40",
                *innodb,
            ]
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=directory,
                start_new_session=True,
            )

        def probe(port: int) -> None:
            pymysql.connect(
                host=LOOPBACK,
                port=port,
                user=ADMIN_USER,
                password=password,
                connect_timeout=2,
                read_timeout=2,  # something else may answer on the port, and never speak
                ssl_disabled=True,
            ).close()

        port = _launch(stack, directory, "MariaDB", log_file, start, probe, signal.SIGTERM)
        server = MariaDBServer(
            host=LOOPBACK,
            port=port,
            user=ADMIN_USER,
            password=password,
            dbname="mysql",
            ca_file=ca_file,
            tls_name=TLS_NAME,
            directory=directory,
            log_file=log_file,
            socket_path=socket_path,
        )
        # Over verified TLS, so a broken certificate set-up fails here, with the log.
        try:
            server.sql("SELECT 1")
        except pymysql.Error as exc:
            raise DatabaseServerError(
                f"MariaDB connection over TLS failed: {exc}\n{_tail(log_file)}"
            ) from exc
        yield server


# -- start, wait, stop -------------------------------------------------------------------------


def _launch(
    stack: contextlib.ExitStack,
    directory: Path,
    name: str,
    log_file: Path,
    start: Callable[[int], subprocess.Popen[bytes]],
    probe: Callable[[int], None],
    stop_signal: signal.Signals,
) -> int:
    """Start a server on a free port and wait until ``probe`` connects; the port.

    The server is stopped when ``stack`` unwinds. A port taken between choosing and binding
    it is retried with another port.
    """
    for attempt in range(3):
        port = _free_port()
        log_start = log_file.stat().st_size if log_file.exists() else 0
        proc = start(port)
        (directory / "server.pid").write_text(f"{proc.pid}\n", encoding="ascii")
        stack.callback(_stop, proc, stop_signal)
        try:
            _wait_ready(proc, functools.partial(probe, port), name, log_file)
            return port
        except DatabaseServerError:
            _stop(proc, stop_signal)
            if attempt < 2 and "Address already in use" in _read_from(log_file, log_start):
                continue
            raise
    raise AssertionError("unreachable")


def _wait_ready(
    proc: subprocess.Popen[bytes], probe: Callable[[], None], name: str, log_file: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last_error: Exception | None = None
    while True:
        if proc.poll() is not None:
            raise DatabaseServerError(
                f"{name} exited with status {proc.returncode} while starting\n{_tail(log_file)}"
            )
        try:
            probe()
            return
        except Exception as exc:  # the drivers' errors while the server is not ready yet
            last_error = exc
        if time.monotonic() > deadline:
            raise DatabaseServerError(
                f"{name} not ready after {READY_TIMEOUT:.0f} s (last error: {last_error})\n"
                + _tail(log_file)
            )
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes], stop_signal: signal.Signals) -> None:
    """Shut the server down with its signal; kill it if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(stop_signal)
        try:
            proc.wait(STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


# The watchdog: reads one byte from the pipe (the fixture cleaned up: nothing to do) or EOF
# (the test process died first): then it stops the server named by server.pid, if that process's
# command line names the directory (not a reused pid), and removes the directory.
_WATCHDOG = """
import os, shutil, signal, sys, time
fd, directory, sig = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if os.read(fd, 1):
    sys.exit(0)
def alive(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return directory.encode() in f.read()
    except OSError:
        return False
try:
    with open(os.path.join(directory, "server.pid")) as f:
        pid = int(f.read())
except (OSError, ValueError):
    pid = None
if pid is not None and alive(pid):
    os.kill(pid, sig)
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
shutil.rmtree(directory, ignore_errors=True)
"""


@contextlib.contextmanager
def _server_directory(kind: str, stop_signal: signal.Signals) -> Iterator[Path]:
    """A fresh directory for one server, removed afterwards, with a watchdog guarding it."""
    base = os.environ.get(TMPDIR_ENV) or tempfile.gettempdir()
    directory = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{kind}-", dir=base))
    read_end, write_end = os.pipe()
    try:
        try:
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WATCHDOG,
                    str(read_end),
                    str(directory),
                    str(int(stop_signal)),
                ],
                pass_fds=(read_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # not hit by a Ctrl-C meant for pytest
            )
        finally:
            os.close(read_end)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        os.write(write_end, b"x")  # the watchdog's cue to exit without doing anything
        os.close(write_end)


# -- helpers -----------------------------------------------------------------------------------


def _unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when CI requires the database servers."""
    if os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1 requires the database servers)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_ENV}=1 to fail instead)")


def _run(argv: list[str], *, what: str, **kwargs: Any) -> None:
    """Run a set-up program; raise with its output if it fails."""
    result = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
        **kwargs,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise DatabaseServerError(f"{what} failed with status {result.returncode}:\n{tail}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as file:
            file.seek(offset)
            return file.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = 40) -> str:
    text = _read_from(path, 0)
    if not text:
        return f"(no log at {path})"
    return f"last lines of {path}:\n" + "\n".join(text.splitlines()[-lines:])


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid)


@dataclasses.dataclass(frozen=True)
class _TlsMaterial:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


@functools.cache
def _tls_material() -> _TlsMaterial:
    """A throw-away CA and a server certificate for ``localhost`` and 127.0.0.1 (ECDSA P-256)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:
        _unavailable(f"the cryptography package is needed for test certificates ({exc})")

    now = datetime.datetime.now(datetime.UTC)
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=7)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rdsiam test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(TLS_NAME), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return _TlsMaterial(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _write_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """Write the CA certificate, the server certificate and its key (mode 0600) into directory."""
    material = _tls_material()
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "server.pem", "server.key"))
    ca_file.write_bytes(material.ca_pem)
    cert_file.write_bytes(material.cert_pem)
    key_file.touch(mode=0o600)
    key_file.write_bytes(material.key_pem)
    return ca_file, cert_file, key_file
