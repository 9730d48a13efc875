"""Choosing the Dramatiq broker: Redis for workers on several machines, or Dramatiq's
in-memory stub broker for the embedded one-process run.

The broker must be chosen before :mod:`letters.pipeline.actors` is imported, because
Dramatiq binds actors to a broker when they are declared. ``LETTERS_BROKER=stub`` selects
the in-memory broker; anything else uses Redis at ``REDIS_URL``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

import dramatiq
import dramatiq.broker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from letters.wording import counted

if TYPE_CHECKING:
    from letters.config import Settings

log = logging.getLogger(__name__)
#: Rendering and delivery have queues of their own, so a letter is delivered as soon as it
#: is made instead of waiting behind a whole wave of renders.
RENDER_QUEUE = "letters_render"
DELIVER_QUEUE = "letters_deliver"
QUEUES = (RENDER_QUEUE, DELIVER_QUEUE)


def all_queue_names() -> tuple[str, ...]:
    """The queues and their delay queues (where retries wait)."""
    from dramatiq.common import dq_name

    return (*QUEUES, *(dq_name(q) for q in QUEUES))


#: The stages as a person names them (the job's error says where it failed).
_STAGES = {"render_letter": "while rendering", "deliver_letter": "while delivering"}


class LedgerFailures(Middleware):
    """When Dramatiq gives up on a message (a permanent error, or retries used up), record
    the failure on the job in the ledger: a failed letter never sits only in a dead-letter
    queue."""

    def before_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        # The worker rejects (nacks) exactly the messages Dramatiq has given up on; the
        # exception that ended it is kept on the message proxy.
        exception: BaseException | None = getattr(message, "_exception", None)
        from letters.ledger import JobStatus
        from letters.pipeline.runtime import get_runtime

        job_id = str(message.args[0]) if message.args else None
        if job_id is None:  # pragma: no cover - every actor takes a job id
            return
        code = getattr(exception, "code", None)  # the failure's stable code
        name = type(exception).__name__ if exception else "unknown"
        stage = _STAGES.get(message.actor_name, message.actor_name)
        retries = message.options.get("retries", 0)
        tries = f", after {counted(retries, 'retry', 'retries')}" if retries else ""
        detail = f"{exception or 'gave up'} ({stage}{tries})"
        try:
            get_runtime().ledger.set_status(
                job_id,
                JobStatus.FAILED,
                "failed",
                detail=detail,
                error_class=name,
                code=code,
            )
        except Exception:  # the ledger itself is down: the message stays in the DLQ
            log.exception("could not record the failure of job %s", job_id)


def backoff_options(settings: Settings) -> dict[str, int]:
    """The deliver stage's retry backoff in Dramatiq's terms (milliseconds)."""
    return {
        "min_backoff": round(settings.delivery_min_backoff_seconds * 1000),
        "max_backoff": round(settings.delivery_max_backoff_seconds * 1000),
    }


def patience(settings: Settings) -> tuple[float, float]:
    """The least and the most seconds of backoff between a letter's first and last try of a
    channel before it moves on (``channel_attempts`` tries, Dramatiq's jitter: ×1 to ×2,
    and 50–100 % of the maximum above it). An outage shorter than the least moves no letter.

    >>> from letters.config import Settings
    >>> patience(Settings(delivery_min_backoff_seconds=30, delivery_max_backoff_seconds=600))
    (750.0, 1500.0)
    """
    least = most = 0.0
    top = settings.delivery_max_backoff_seconds
    for retry in range(settings.channel_attempts - 1):
        base = settings.delivery_min_backoff_seconds * 2**retry
        least += base if 2 * base <= top else min(base, top / 2)
        most += min(2 * base, top)
    return least, most


class DeliveryBackoff(Middleware):
    """The deliver stage backs off as the runtime's settings say
    (``LETTERS_DELIVERY_MIN_BACKOFF_SECONDS``, ``…_MAX_…``), read for each message rather
    than once when the actors are declared."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if message.actor_name != "deliver_letter":
            return
        from letters.pipeline.runtime import get_runtime

        try:
            settings = get_runtime().settings
        except Exception:  # the stage reports it; the actor's own options apply meanwhile
            return
        message.options.update(backoff_options(settings))


def configure(kind: str | None = None, url: str | None = None) -> dramatiq.Broker:
    """Set the global Dramatiq broker (``stub`` or ``redis``) and return it."""
    kind = kind or os.environ.get("LETTERS_BROKER", "redis")
    existing = dramatiq.broker.global_broker
    if existing is not None and "letters.pipeline.actors" in sys.modules:
        if isinstance(existing, StubBroker) == (kind == "stub"):
            return existing
        raise RuntimeError(
            f"the pipeline's actors are already bound to {type(existing).__name__}; "
            f"choose the broker ({kind}) before importing letters.pipeline.actors"
        )
    broker: dramatiq.Broker
    if kind == "stub":
        broker = StubBroker()
        broker.emit_after("process_boot")
    else:
        from dramatiq.brokers.redis import RedisBroker

        from letters.config import get_settings

        broker = RedisBroker(url=url or get_settings().redis_url)  # type: ignore[no-untyped-call]
    from letters.pipeline import faults

    faults.install(broker)  # the ledger away or the archive full: waited out, not counted
    broker.add_middleware(LedgerFailures())
    broker.add_middleware(DeliveryBackoff())
    dramatiq.set_broker(broker)
    return broker


def current() -> dramatiq.Broker:
    """The configured broker, configuring it from the environment on first use."""
    if dramatiq.broker.global_broker is None:
        return configure()
    return dramatiq.get_broker()


#: The key prefix (after the namespace) of the worker processes' keys (see ``worker.ALIVE``).
WORKER_ALIVE = "letters:worker:"


def workers_alive(broker: dramatiq.Broker) -> int | None:
    """How many worker processes renewed their key on this (Redis) broker in the last
    seconds; None for a broker that cannot tell (the in-process one) or when Redis does not
    answer."""
    client = getattr(broker, "client", None)
    if client is None:
        return None
    pattern = f"{getattr(broker, 'namespace', 'dramatiq')}:{WORKER_ALIVE}*"
    try:
        return sum(1 for _ in client.scan_iter(match=pattern, count=100))
    except Exception:  # Redis away: say nothing rather than "none"
        return None
