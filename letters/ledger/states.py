"""Where a job or a print batch stands. The values are what the ledger stores and what the
JSON output shows, so they never change.

>>> JobStatus.DELIVERED in FINAL, str(JobStatus.HELD), BatchStatus("handed_off")
(True, 'held', <BatchStatus.HANDED_OFF: 'handed_off'>)
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """accepted → rendered → delivering → delivered; or held (a hold on its case) or failed;
    or uncertain: a channel that cannot be asked (e-mail) may have the letter after a crash
    mid-send, so it is not sent again until an operator decides (``letters resolve``)."""

    ACCEPTED = "accepted"
    RENDERED = "rendered"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    HELD = "held"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


class BatchStatus(StrEnum):
    """open (letters join it) → closing → closed (its folder written) → handed_off."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    HANDED_OFF = "handed_off"


#: A job never leaves these: a late duplicate cannot turn ``delivered`` into ``failed``.
FINAL = frozenset({JobStatus.DELIVERED, JobStatus.FAILED})
#: Every status a job can still move on from.
UNFINISHED = (JobStatus.ACCEPTED, JobStatus.RENDERED, JobStatus.DELIVERING, JobStatus.HELD)
#: ``uncertain`` is in none of these: no worker, sweeper or failure handler moves it; only an
#: operator's decision does (:meth:`letters.ledger.letters.Letters.resolve_uncertain`).
#: Unfinished and not waiting for a hold: work the workers (or the sweeper) still owe.
IN_PROGRESS = (JobStatus.ACCEPTED, JobStatus.RENDERED, JobStatus.DELIVERING)
