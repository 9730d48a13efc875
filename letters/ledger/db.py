"""The ledger's database: one engine, one transaction per ``session()``, alembic migrations.

SQLite by default (one file, no server); PostgreSQL when several machines share the work.
Every room of the ledger (jobs, letters, holds, reports, batches, logins, tokens) works
through a :class:`Database`; none opens connections of its own.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from letters.fsutil import PRIVATE_FILE, private_dirs, restrict

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATING = threading.Lock()
#: The newest migration's revision: each file in versions/ is named by its revision
#: ("0008_retention.py" is revision "0008"; tests/test_ledger.py checks alembic agrees).
HEAD = max(p.name.partition("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
#: How long a connection to PostgreSQL may take to open: a server that does not answer (a
#: host gone, packets dropped) is given up on, and the caller waits it out, not hangs.
CONNECT_TIMEOUT_SECONDS = 10
#: A pooled PostgreSQL connection unused for this long is checked (a round trip) before it is
#: handed out again; one used more recently is handed out as it is. SQLAlchemy's
#: ``pool_pre_ping`` checks every time, which was a second round trip for each of a
#: letter's nine transactions (bench/pipeline.py: 18.3 commits a letter, half of them
#: pings). A connection that broke within the last second (a server restarted under load)
#: fails its statement instead; that invalidates the pool, and the stage is retried or its
#: commit waited out (``letters.pipeline.faults.persist``), as a break between a ping and
#: the statement always could.
IDLE_PING_SECONDS = 1.0


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_sqlite(Path(path))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # what is deleted or rewritten (a purged job's personal data) is overwritten with
            # zeros, not left in the file's free space (letters.retention)
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    # hide_parameters: error text must never carry hashes, national ids or addresses
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if "postgres" in url else {}
    engine = create_engine(url, hide_parameters=True, connect_args=connect_args)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _returned(dbapi_conn: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_PING_SECONDS:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool discards it and connects again
            record.info.pop("returned_at", None)
            gone = type(exc).__name__
            raise DisconnectionError(f"the pooled connection is gone: {gone}") from exc


def _private_sqlite(path: Path) -> None:
    """The SQLite ledger holds personal data: its folder is made 0700, the file is created
    0600 before SQLite opens it (SQLite gives its -wal and -shm files the database's
    mode), and an existing ledger and its -wal/-shm are narrowed to 0600."""
    private_dirs(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            restrict(name)


class Database:
    """A ledger database at ``url``: sessions that commit on leaving, and the schema."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as session:
            yield session

    def checkpoint(self) -> None:
        """On SQLite, copy the write-ahead log into the database file and empty it (after a
        purge, so what it removed is gone from the -wal file too); elsewhere nothing."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def schema_version(self) -> str | None:
        """The ledger's migration revision (alembic's ``alembic_version``); None for a
        ledger with no schema yet, or one that cannot be read now (then :meth:`migrate`
        goes the long way and says why)."""
        try:
            with self.engine.connect() as connection:
                found = connection.execute(text("SELECT version_num FROM alembic_version"))
                return found.scalar_one_or_none()
        except DBAPIError:
            return None

    def migrate(self) -> None:
        """Bring the schema up to date (alembic ``upgrade head``), one migration at a time:
        alembic's ``op`` is one per process (threads take turns), and processes starting at
        once on one ledger take a database lock first (``letters serve`` and ``letters
        worker`` started together on a new SQLite file would otherwise both add a column).

        A ledger already at :data:`HEAD` is left as it is without loading alembic (about
        10 MB a process: every worker process checks on start)."""
        if self.schema_version() == HEAD:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with _MIGRATING, self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # several workers may start at once
                connection.execute(text("SELECT pg_advisory_xact_lock(7305001)"))
            elif connection.dialect.name == "sqlite":  # the write lock, before reading
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
