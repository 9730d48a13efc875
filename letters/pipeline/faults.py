"""Faults the pipeline waits out instead of failing jobs: the ledger's database unreachable
(``ledger-unavailable``: PostgreSQL restarting, the network to it cut) and the archive's
disk full (``archive-full``).

Neither says anything about the job, so neither may fail it or use up its retries: a stage
that meets one is tried again after a backoff of :data:`FIRST_BACKOFF_SECONDS`, doubling
up to :data:`MAX_BACKOFF_SECONDS`, for as long as the fault lasts
(:class:`OutageRetries`, which takes the place of Dramatiq's ``Retries``). What a stage must
not lose to the outage (the outcome of a send already made, giving back a claimed
delivery) it writes with :func:`persist`, which waits for the ledger in the worker itself.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
import psycopg
import sqlalchemy.exc as sa
from dramatiq.middleware import Retries

from letters.codes import Code

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
#: The errors of a disk (or quota) that is full.
FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
#: What the HTTP service tells a caller to wait while the ledger is unavailable (503).
RETRY_AFTER_SECONDS = 5
#: The exception types that may say the ledger is unavailable (:func:`ledger_unavailable`
#: decides); the HTTP service answers them with 503 ``ledger-unavailable``.
LEDGER_ERRORS: tuple[type[Exception], ...] = (
    sa.OperationalError,
    sa.InterfaceError,
    sa.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def backoff(tries: int) -> float:
    """Seconds to wait before try ``tries + 1`` of something an outage stopped.

    >>> [backoff(n) for n in range(7)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    """
    return float(min(FIRST_BACKOFF_SECONDS * 2**tries, MAX_BACKOFF_SECONDS))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def ledger_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the ledger's database cannot be reached now (not that a statement
    is wrong): a refused or cut connection, a server shutting down, a pool timeout."""
    for e in _chain(exc):
        if isinstance(e, sa.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, sa.OperationalError | sa.InterfaceError):
            orig = e.orig
            if isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
                return True
            if "database is locked" in str(orig):  # SQLite busy past its timeout
                return True
        if isinstance(e, sa.TimeoutError):  # no connection free in the pool in time
            return True
        if isinstance(e, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        if isinstance(e, ConnectionRefusedError | ConnectionResetError):
            return True
    return False


def ledger_problem(exc: BaseException, url: str) -> tuple[int, str] | None:
    """A ledger the settings point to that cannot be used, as one line with its code and
    the exit status to end with (1: unreachable now; 2: not a URL the product can use);
    None for any other error. What every command and the worker's start say."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from letters.wording import ledger_name

    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return 2, (
            f"configuration: DATABASE_URL: {ledger_name(url)!r} is not a ledger URL this "
            "product takes (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        )
    if not ledger_unavailable(exc):
        return None
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return 1, (
        f"the ledger {ledger_name(url)} cannot be used now ({first.strip()}): start it, or "
        f"check DATABASE_URL [{Code.LEDGER_UNAVAILABLE}]"
    )


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a write refused because the disk (or a quota) is full."""
    return any(isinstance(e, OSError) and e.errno in FULL for e in _chain(exc))


def classify(exc: BaseException) -> Code | None:
    """The code of a fault to wait out, or None for anything else."""
    from letters.archive import ArchiveFull

    if isinstance(exc, Outage):
        return exc.code
    if isinstance(exc, ArchiveFull):
        return Code.ARCHIVE_FULL
    if ledger_unavailable(exc):
        return Code.LEDGER_UNAVAILABLE
    return None


class Outage(dramatiq.Retry):
    """A stage stopped by a fault to wait out (``code``); tried again, never counted."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code


def waiting_out(stage: Callable[[str], None]) -> Callable[[str], None]:
    """``stage`` with the faults to wait out raised as :class:`Outage`; one that is not the
    ledger's own is noted on the job (its last error, and once in its history)."""

    def run(job_id: str) -> None:
        try:
            stage(job_id)
        except Outage:
            raise
        except Exception as exc:
            code = classify(exc)
            if code is None:
                raise
            text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            if code != Code.LEDGER_UNAVAILABLE:
                _note(job_id, code, text)
            raise Outage(code, text) from exc

    run.__name__ = stage.__name__
    run.__qualname__ = stage.__qualname__
    run.__doc__ = stage.__doc__
    return run


def _note(job_id: str, code: Code, text: str) -> None:
    from letters.pipeline.runtime import get_runtime

    try:
        get_runtime().ledger.note_waiting(job_id, code, text)
    except Exception as exc:  # the ledger away as well: the log says it
        log.warning("job %s: could not note %s in the ledger (%s)", job_id, code, exc)


def persist(write: Callable[..., T], *args: Any, what: str, **kwargs: Any) -> T:
    """``write(*args, **kwargs)`` to the ledger, waited for while the ledger is unavailable
    (backoff as above; the stage's time limit ends the wait). For what a worker must not
    lose: the outcome of a send, giving a claim back."""
    tries = 0
    while True:
        try:
            return write(*args, **kwargs)
        except Exception as exc:
            if not ledger_unavailable(exc):
                raise
            wait = backoff(tries)
            tries += 1
            log.warning(
                "%s: the ledger is unavailable (%s) [%s]; writing it again in %.0f s",
                what,
                type(exc).__name__,
                Code.LEDGER_UNAVAILABLE,
                wait,
            )
            time.sleep(wait)


class OutageRetries(Retries):
    """Dramatiq's retries, except for an :class:`Outage`: its message is tried again after
    :func:`backoff` of the outages it met in a row, and neither its retries nor the job's
    max_retries are touched."""

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not isinstance(exception, Outage):
            if exception is not None:
                message.options["outages"] = 0
            super().after_process_message(  # type: ignore[no-untyped-call]
                broker, message, result=result, exception=exception
            )
            return
        outages = int(message.options.get("outages", 0))
        message.options["outages"] = outages + 1
        wait = backoff(outages)
        job = message.args[0] if message.args else "?"
        log.warning(
            "%s(%s) waits: %s; tried again in %.0f s", message.actor_name, job, exception, wait
        )
        broker.enqueue(message, delay=int(wait * 1000))


def install(broker: dramatiq.Broker) -> None:
    """Put :class:`OutageRetries` in the place of the broker's ``Retries``."""
    for i, middleware in enumerate(broker.middleware):
        if type(middleware) is Retries:
            broker.middleware[i] = OutageRetries(
                max_retries=middleware.max_retries,
                min_backoff=middleware.min_backoff,
                max_backoff=middleware.max_backoff,
                retry_when=middleware.retry_when,
            )
