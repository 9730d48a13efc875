"""Settings of HTTP intake (``LETTERS_INTAKE__…``): how much work may be owed before
``POST /v1/jobs`` answers 429 (see :mod:`letters.backpressure`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Intake(BaseModel):
    """Backpressure at the HTTP intake."""

    #: The depth of work owed: jobs in the ledger that workers still have to render or
    #: deliver (``accepted``, ``rendered``, ``delivering``; held and uncertain jobs wait for
    #: a person, not a worker). At or above this many, a submission of a job not already
    #: accepted is answered 429 with Retry-After and nothing is stored. 10,000 is about two
    #: minutes of work for two worker processes with the fast renderer (~80 letters/s).
    #: ``letters enqueue`` and ``letters run`` are never refused, but their jobs count.
    max_queue: int = Field(10_000, ge=1)
    #: What a refused submission's Retry-After header says, in seconds.
    retry_after_seconds: int = Field(5, ge=1, le=3600)
