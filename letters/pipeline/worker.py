"""The Dramatiq worker processes on Redis: each process ``letters worker`` keeps running
(:mod:`letters.pipeline.supervisor`) loads this module (``dramatiq letters.pipeline.worker``
runs it too, without the restarts).

Each process also runs the sweeper: when the queue is empty but the ledger still has
unfinished jobs without progress, their messages were lost (a Redis restart, a crash
between commit and enqueue) and they are enqueued again. With a daily cut-off configured
(``LETTERS_PRINTING__CUTOFF``), the same loop closes and hands off the print batch.

And it watches Redis: every ``LETTERS_REDIS_CHECK_SECONDS`` it sets a sentinel key unless
it is there. Finding it gone means Redis lost its data (restarted empty, flushed): the one
process whose ``SET NX`` wins queues every job waiting for a render or a delivery again at
once (:func:`letters.pipeline.intake.requeue_lost`), instead of after
``LETTERS_STALE_AFTER_SECONDS``. Redis back with its data after being unreachable (a
restart from its dump, a network fault): one process queues again the waiting jobs that
moved meanwhile (what could not be queued while it was away). A job being delivered is
left to its worker: nothing is sent twice (one letter per job; a delivery is claimed and
its attempt recorded before the channel is called).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from letters.config import get_settings
from letters.pipeline import broker as brokers
from letters.wording import counted

log = logging.getLogger(__name__)


def backlog(broker: dramatiq.Broker) -> int:
    """Messages waiting in the letters queues (Redis lists), or -1 when unknown."""
    client = getattr(broker, "client", None)
    if client is None:
        return -1
    namespace = getattr(broker, "namespace", "dramatiq")
    return int(sum(client.llen(f"{namespace}:{name}") for name in brokers.all_queue_names()))


#: The key whose absence shows that Redis lost its data (under the broker's namespace).
SENTINEL = "letters:sentinel"
#: Each worker process keeps a key of its own under this prefix, expiring unless renewed at
#: every Redis check: what ``letters serve`` and ``letters status`` count as workers alive.
ALIVE = brokers.WORKER_ALIVE
#: After an outage, jobs that moved from this long before the last good check are queued
#: again (the clocks of the machines that took them may differ a little).
CLOCK_MARGIN = dt.timedelta(seconds=60)


class Sweeper(Middleware):
    def __init__(self, interval: float, check: float = 5.0) -> None:
        self.interval = interval
        self.check = check
        self.stopping = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        from letters.metrics import serve_worker_metrics

        serve_worker_metrics(get_settings().metrics_port)
        threading.Thread(target=self._loop, args=(broker,), daemon=True, name="sweeper").start()
        if getattr(broker, "client", None) is not None:
            threading.Thread(
                target=self._watch, args=(broker,), daemon=True, name="redis-watch"
            ).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self.stopping.set()

    def _loop(self, broker: dramatiq.Broker) -> None:
        from channels.printing.batch import BatchCloser, PrintFolderFull
        from letters.clock import today_oslo
        from letters.codes import Code
        from letters.pipeline import faults
        from letters.pipeline.intake import sweep
        from letters.pipeline.runtime import get_runtime
        from letters.workbench import approval

        warned: dt.date | None = None
        while not self.stopping.wait(self.interval):
            try:
                runtime = get_runtime()
                today = today_oslo(runtime.settings)
                if warned != today:  # once a day: rule tables running out
                    approval.warn_running_out(runtime.ledger, today)
                    warned = today
            except Exception:
                log.exception("checking the rule tables failed")
            try:
                if backlog(broker) == 0:
                    sweep()
            except (RedisConnectionError, RedisTimeoutError):  # the Redis watch says so, once
                log.debug("sweep skipped: Redis is unreachable")
            except Exception as exc:  # keep sweeping through passing faults (the database)
                if faults.ledger_unavailable(exc):
                    log.warning(
                        "sweep skipped: the ledger is unavailable (%s) [%s]",
                        type(exc).__name__,
                        Code.LEDGER_UNAVAILABLE,
                    )
                else:
                    log.exception("sweep failed; trying again in %.0f s", self.interval)
            try:
                runtime = get_runtime()
                closer = BatchCloser(runtime.settings, runtime.ledger, runtime.archive)
                closer.close_at_cutoff()
                closer.hand_off()
            except PrintFolderFull as exc:  # nothing half-published: the next round again
                log.error("%s", exc)
            except Exception:  # the ledger away: try again next round
                log.exception("closing or handing off print batches failed")

    def _watch(self, broker: dramatiq.Broker) -> None:
        """Set the sentinel unless it is there; when it was not, Redis lost its data. Back
        after being unreachable with its data, what moved meanwhile is queued again."""
        from letters.clock import now

        client = broker.client  # type: ignore[attr-defined]
        key = f"{getattr(broker, 'namespace', 'dramatiq')}:{SENTINEL}"
        marker = f"{socket.gethostname()}:{os.getpid()}"
        last_ok = now()  # the last check that reached Redis (or this process's start)
        down_since: float | None = None
        alive = f"{getattr(broker, 'namespace', 'dramatiq')}:{ALIVE}{marker}"
        while True:
            try:
                client.set(alive, "1", ex=max(15, int(3 * self.check)))
                fresh = client.set(key, f"{marker}:{time.time():.0f}", nx=True)
                # back with its data: one process queues what moved while it was away
                after_outage = (
                    not fresh
                    and down_since is not None
                    and client.set(f"{key}:after-outage", marker, nx=True, ex=60)
                )
            except Exception as exc:  # Redis away: the consumers reconnect by themselves
                if down_since is None:
                    down_since = time.monotonic()
                    log.warning(
                        "Redis is unreachable (%s): waiting for it; the jobs it loses are "
                        "queued again once it is back",
                        type(exc).__name__,
                    )
            else:
                if down_since is not None:
                    log.info("Redis is back after %.0f s", time.monotonic() - down_since)
                done = True
                if fresh:
                    done = self._requeue(client, key, None)
                elif after_outage:
                    done = self._requeue(client, key, last_ok - CLOCK_MARGIN)
                if done:
                    down_since, last_ok = None, now()
            if self.stopping.wait(self.check):
                return

    def _requeue(self, client: Any, key: str, since: dt.datetime | None) -> bool:
        """Queue again what Redis lost: everything waiting (``since`` None: it came back
        empty), or what moved from ``since`` on. False: try again at the next check."""
        from letters.clock import now
        from letters.pipeline.intake import requeue_lost

        try:
            queued = requeue_lost(now(), since)
        except Exception:  # the ledger or Redis away again: the next check tries again
            log.exception("queueing again what Redis lost failed; trying again")
            with contextlib.suppress(Exception):  # still away: back without the sentinel
                client.delete(key if since is None else f"{key}:after-outage")
            return False
        if since is not None:
            log.info("%s that moved while Redis was away queued again", counted(queued, "job"))
        elif queued:
            log.warning(
                "Redis had lost its queues (restarted empty, or flushed): %s queued again",
                counted(queued, "unfinished job"),
            )
        else:
            log.info("Redis holds no queues yet (a new or emptied Redis); nothing was waiting")
        return True


def _configure() -> dramatiq.Broker:
    settings = get_settings()
    broker = brokers.configure("redis")
    broker.heartbeat_timeout = settings.redis_heartbeat_timeout_ms  # type: ignore[attr-defined]
    broker.add_middleware(Sweeper(settings.sweep_interval_seconds, settings.redis_check_seconds))
    return broker


broker = _configure()

from letters.pipeline import actors  # noqa: E402 - actors bind to the broker configured above

__all__ = ["actors", "broker", "dt"]
