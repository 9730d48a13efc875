"""Prometheus metrics.

Counted where they happen: jobs accepted and refused (intake), jobs sent while the queue
was full (429, :mod:`letters.backpressure`), debtor logins by answer (:mod:`letters.lockout`),
letters rendered and render seconds (the render stage), each channel's circuit breaker
(:mod:`channels.breaker`: open or not, and how often it opened; with several worker
processes the gauge is 1 while any live process has it open). Read from
the ledger at scrape time, so they are right across machines: jobs by status, failed jobs
by their stable code, letters delivered by kind and channel, print batches by status, the
queue lag (age of the oldest unfinished job) and the days left of each rule table.

``deploy/grafana-dashboard.json`` and ``deploy/prometheus-alerts.yml`` query these (a test
checks every series they name is one the service exports).

Worker processes started by ``letters worker`` share one exposition on
``LETTERS_METRICS_PORT`` (default 9191) through prometheus_client's multiprocess mode; the
HTTP service serves ``/metrics``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric

from channels import breaker

if TYPE_CHECKING:
    from letters.ledger import Ledger
    from letters.workbench.approval import TableStatus

log = logging.getLogger(__name__)

JOBS_ACCEPTED = Counter("letters_jobs_accepted_total", "Jobs accepted at intake")
JOBS_REFUSED = Counter("letters_jobs_refused_total", "Jobs refused at intake (bad or conflicting)")
JOBS_QUEUE_FULL = Counter(
    "letters_jobs_queue_full_total",
    "Jobs sent while the workers owed LETTERS_INTAKE__MAX_QUEUE or more: refused (429), "
    "nothing stored",
)
LOGINS = Counter(
    "letters_logins_total",
    "Debtor login checks by answer (throttled: refused by a source's limits, unchecked)",
    ["result"],
)
LETTERS_RENDERED = Counter("letters_rendered_total", "Letters rendered and recorded")
RENDER_SECONDS = Histogram(
    "letters_render_seconds",
    "Time to make one letter (compose, template, render, print-safety check)",
    buckets=(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
)
QUEUE_LAG = Histogram(
    "letters_queue_lag_seconds",
    "From acceptance to the start of rendering",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)

BREAKER_OPEN = Gauge(
    "letters_channel_breaker_open",
    "1 while the channel's circuit breaker is open (letters wait instead of trying it)",
    ["channel"],
    multiprocess_mode="livemax",
)
BREAKER_OPENED = Counter(
    "letters_channel_breaker_opened_total",
    "Times the channel's circuit breaker opened (outage failures in a row)",
    ["channel"],
)


def _breaker_changed(channel: str, is_open: bool) -> None:
    BREAKER_OPEN.labels(channel).set(1 if is_open else 0)
    if is_open:
        BREAKER_OPENED.labels(channel).inc()
    else:
        BREAKER_OPENED.labels(channel).inc(0)  # the series exists before the first opening


breaker.observe(_breaker_changed)


class _Read:
    """Metric families read from the ledger for one scrape."""

    def __init__(self, *families: Metric) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def exposition(ledger: Ledger | None = None, today: dt.date | None = None) -> tuple[bytes, str]:
    """This process's metrics plus the ledger gauges, in Prometheus text format (the rule
    tables' days left counted from ``today``, default today in Oslo)."""
    from prometheus_client import REGISTRY

    body = generate_latest(REGISTRY)
    if ledger is not None:
        registry = CollectorRegistry()
        by_status = Gauge(
            "letters_jobs", "Jobs in the ledger by status", ["status"], registry=registry
        )
        for status, count in ledger.counts().items():
            by_status.labels(status).set(count)
        lag = Gauge(
            "letters_oldest_unfinished_job_seconds",
            "Age of the oldest job not yet delivered, failed or held",
            registry=registry,
        )
        oldest = ledger.oldest_unfinished()
        lag.set((dt.datetime.now(dt.UTC) - oldest).total_seconds() if oldest else 0)
        # failed jobs never leave "failed" and the ledger deletes none: a counter
        failed = CounterMetricFamily(
            "letters_jobs_failed",
            "Jobs failed, by the failure's stable code (unknown: none was recorded)",
            labels=["code"],
        )
        for code, count in sorted(ledger.failures().items(), key=lambda item: item[0] or ""):
            failed.add_metric([code or "unknown"], count)
        registry.register(_Read(failed))
        delivered = CounterMetricFamily(
            "letters_delivered",
            "Letters delivered, by kind and channel (read from the ledger)",
            labels=["kind", "channel"],
        )
        for (kind, channel), count in sorted(ledger.deliveries().items()):
            delivered.add_metric([kind, channel], count)
        registry.register(_Read(delivered))
        batches = Gauge(
            "letters_print_batches",
            "Print batches by status (open, closing, closed, handed_off)",
            ["status"],
            registry=registry,
        )
        states = ledger.batch_states()
        for state in ("open", "closing", "closed", "handed_off"):
            batches.labels(state).set(states.get(state, 0))
        days_left = Gauge(
            "letters_rule_table_days_left",
            "Days until a rule table runs out (letters needing it are refused after that)",
            ["table"],
            registry=registry,
        )
        for table in _tables(ledger, today):
            days_left.labels(table.name).set(table.days_left)
        body += generate_latest(registry)
    return body, CONTENT_TYPE_LATEST


def _tables(ledger: Ledger, today: dt.date | None) -> list[TableStatus]:
    from letters.clock import today_oslo
    from letters.workbench.approval import table_status

    return table_status(ledger, today or today_oslo())


def serve_worker_metrics(port: int) -> None:
    """Serve every worker process's metrics on ``port`` (the first process to bind it)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    try:
        start_http_server(port, addr="127.0.0.1", registry=registry)
    except OSError:
        return  # another worker process serves them
    log.info("worker metrics on 127.0.0.1:%d/metrics", port)
