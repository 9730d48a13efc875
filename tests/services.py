"""Real PostgreSQL and Redis for the tests.

Each helper uses a server that is already reachable (CI machines start both on their usual
ports); otherwise it starts a private one from the installed binaries in a temporary
folder; otherwise it fails with the name of the package to install.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(host: str, port: int, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _reachable(host, port):
            return
        time.sleep(0.2)
    pytest.fail(f"{what} did not start on {host}:{port}")


def _start_postgres() -> tuple[str, int]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
    initdb = bins[-1]
    if not initdb or not os.path.exists(initdb):
        pytest.fail(
            "PostgreSQL is not reachable on 127.0.0.1:5432 and no server binaries were "
            "found: install the Debian package `postgresql`"
        )
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    folder = Path(tempfile.mkdtemp(prefix="letters-pg-"))
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
        ],
        check=True,
        capture_output=True,
    )
    atexit.register(
        lambda: subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
    )
    _wait("127.0.0.1", port, "PostgreSQL")
    return "127.0.0.1", port


_pg: tuple[str, int] | None = None


def postgres_database() -> str:
    """A fresh, empty database; returns its SQLAlchemy URL."""
    global _pg
    import psycopg

    if _pg is None:
        _pg = (PG_HOST, PG_PORT) if _reachable(PG_HOST, PG_PORT) else _start_postgres()
    host, port = _pg
    name = f"letters_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host=host, port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        try:
            with psycopg.connect(
                host=host, port=port, user="postgres", dbname="postgres", autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:
            pass

    atexit.register(drop)
    return f"postgresql+psycopg://postgres@{host}:{port}/{name}"


_redis: tuple[str, int] | None = None


def redis_url() -> str:
    """A Redis server's URL (database 15 unless ``LETTERS_TEST_REDIS_DB`` says another;
    flushed by the caller as needed)."""
    global _redis
    if _redis is None:
        if _reachable(REDIS_HOST, REDIS_PORT):
            _redis = (REDIS_HOST, REDIS_PORT)
        else:
            server = shutil.which("redis-server")
            if server is None:
                pytest.fail(
                    "Redis is not reachable on 127.0.0.1:6379 and `redis-server` was not "
                    "found: install the Debian package `redis-server`"
                )
            port = _free_port()
            proc = subprocess.Popen(
                [
                    server,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            atexit.register(proc.terminate)
            _wait("127.0.0.1", port, "Redis")
            _redis = ("127.0.0.1", port)
    host, port = _redis
    # LETTERS_TEST_REDIS_DB lets two suites share one server without sharing queues
    return f"redis://{host}:{port}/{_redis_db()}"


def _redis_db() -> str:
    """Database 15, or another where two suites (LETTERS_TEST_REDIS_DB) or two pytest-xdist
    workers (gw1, gw2, … take 8, 7, …) share the server."""
    if db := os.environ.get("LETTERS_TEST_REDIS_DB"):
        return db
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    n = int(worker[2:] or 0)
    return "15" if n == 0 else str(9 - n)


class PostgresCluster:
    """A private PostgreSQL of the test's own (never the shared server), started from the
    installed binaries in a temporary folder on a free port, that the test may kill (``stop()``:
    ``-m immediate``, no checkpoint, every connection cut) and start again on the same port
    and data folder (``start()``).

    As root it runs as the user ``postgres`` (PostgreSQL refuses root), like
    :func:`_start_postgres`."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            pytest.fail("no PostgreSQL server binaries: install the Debian package `postgresql`")
        self.initdb = bins[-1]
        self.pg_ctl = str(Path(self.initdb).with_name("pg_ctl"))
        # not under pytest's tmp_path: its 0700 folders keep the user postgres out
        self.folder = Path(tempfile.mkdtemp(prefix="letters-pgcluster-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*self.as_user, self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/letters"

    def start(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                self.pg_ctl,
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "log"),
                "-w",
                "start",
                "-o",
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            ],
            check=True,
            capture_output=True,
        )
        self.running = True
        _wait("127.0.0.1", self.port, "PostgreSQL")

    def create_database(self) -> str:
        """Create the database ``letters``; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute('CREATE DATABASE "letters"')
        return self.url

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: a kill (the server aborts, clients see their connections cut)."""
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"],
            check=True,
            capture_output=True,
        )
        self.running = False

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
