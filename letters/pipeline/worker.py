"""Entry point for Dramatiq worker processes on Redis: ``letters worker`` runs
``dramatiq letters.pipeline.worker`` (which may also be run directly).

Each process also runs the sweeper: when the queue is empty but the ledger still has
unfinished jobs without progress, their messages were lost (a Redis restart, a crash
between commit and enqueue) and they are enqueued again. With a daily cut-off configured
(``LETTERS_PRINTING__CUTOFF``), the same loop closes and hands off the print batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from letters.config import get_settings
from letters.pipeline import broker as brokers

log = logging.getLogger(__name__)


def backlog(broker: dramatiq.Broker) -> int:
    """Messages waiting in the letters queues (Redis lists), or -1 when unknown."""
    client = getattr(broker, "client", None)
    if client is None:
        return -1
    namespace = getattr(broker, "namespace", "dramatiq")
    return int(sum(client.llen(f"{namespace}:{name}") for name in brokers.all_queue_names()))


class Sweeper(Middleware):
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stopping = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        from letters.metrics import serve_worker_metrics

        serve_worker_metrics(get_settings().metrics_port)
        threading.Thread(target=self._loop, args=(broker,), daemon=True, name="sweeper").start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self.stopping.set()

    def _loop(self, broker: dramatiq.Broker) -> None:
        from channels.printing.batch import BatchCloser
        from letters.clock import today_oslo
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
            except Exception:  # keep sweeping through passing faults (Redis, database)
                log.exception("sweep failed; trying again in %.0f s", self.interval)
            try:
                runtime = get_runtime()
                closer = BatchCloser(runtime.settings, runtime.ledger, runtime.archive)
                closer.close_at_cutoff()
                closer.hand_off()
            except Exception:  # a full disk, the ledger away: try again next round
                log.exception("closing or handing off print batches failed")


def _configure() -> dramatiq.Broker:
    settings = get_settings()
    broker = brokers.configure("redis")
    broker.heartbeat_timeout = settings.redis_heartbeat_timeout_ms  # type: ignore[attr-defined]
    broker.add_middleware(Sweeper(settings.sweep_interval_seconds))
    return broker


broker = _configure()

from letters.pipeline import actors  # noqa: E402 - actors bind to the broker configured above

__all__ = ["actors", "broker", "dt"]
