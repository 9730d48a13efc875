"""Backpressure at the HTTP intake: when the workers owe ``LETTERS_INTAKE__MAX_QUEUE`` jobs
or more, a submission of jobs not yet accepted is refused with 429, ``Retry-After`` and the
code ``intake-queue-full``, before anything is validated or stored, so the client sends it
again later instead of the backlog growing without bound.

The depth is the ledger's count of jobs in progress (``accepted``, ``rendered``,
``delivering``), not the length of the Redis lists: it is the work owed whatever the broker
(Redis, or the in-memory one of ``letters run``), it includes jobs a broker outage left
unqueued (the sweeper queues them later), and every machine on one ledger sees the same
number. Each process reads it at most every :data:`REFRESH_SECONDS`; between reads it adds
the jobs it accepted itself, so a burst passes the limit by at most the requests in flight
(and a batch, taken whole, by its size).

A job already accepted is answered as before when the queue is full (idempotency first):
a client that lost the answer and sends the same job again gets its letter id (200), and a
batch of jobs all accepted before gets its results. A batch with any job not yet accepted
is refused whole, so nothing of it is stored and resending all of it is safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from letters import metrics
from letters.pipeline.runtime import Runtime

#: How long a process keeps the depth it read from the ledger before reading again.
REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class Full:
    """Why a submission was refused: the depth seen, the limit and the wait to advise."""

    depth: int
    limit: int
    retry_after: int

    @property
    def reason(self) -> str:
        return (
            f"the workers owe {self.depth} jobs, the limit is {self.limit}: nothing was "
            f"stored; send it again in {self.retry_after} seconds"
        )


class Gate:
    """The depth of work owed, read once a second, and the decision to take a submission."""

    def __init__(
        self, runtime: Callable[[], Runtime], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._runtime, self._clock = runtime, clock
        self._reading = threading.Lock()  # one thread reads the ledger; the others wait not
        self._counting = threading.Lock()
        self._depth, self._read_at = 0, -REFRESH_SECONDS

    def depth(self) -> int:
        """Jobs in progress: the ledger's count, at most REFRESH_SECONDS old, plus the jobs
        this process accepted since."""
        stale = self._clock() - self._read_at >= REFRESH_SECONDS
        if stale and self._reading.acquire(blocking=False):
            try:
                if self._clock() - self._read_at >= REFRESH_SECONDS:
                    depth = self._runtime().ledger.in_progress()
                    with self._counting:
                        self._depth, self._read_at = depth, self._clock()
            finally:
                self._reading.release()
        return self._depth

    def took(self, accepted: int) -> None:
        """Count jobs this process accepted until the next read of the ledger."""
        if accepted:
            with self._counting:
                self._depth += accepted

    def refusal(self, payload: Any) -> Full | None:
        """None to take the submission (one job, or a batch as a list), or why not."""
        settings = self._runtime().settings.intake
        depth = self.depth()
        if depth < settings.max_queue:
            return None
        jobs = payload if isinstance(payload, list) else [payload]
        ids = [job.get("id") if isinstance(job, dict) else None for job in jobs]
        if all(isinstance(i, str) for i in ids):
            wanted = sorted({str(i) for i in ids})
            if len(self._runtime().ledger.statuses(wanted)) == len(wanted):
                return None  # every one accepted before: answered as before, nothing new
        metrics.JOBS_QUEUE_FULL.inc(len(jobs) or 1)
        return Full(depth, settings.max_queue, settings.retry_after_seconds)
