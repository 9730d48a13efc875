"""Where login tries are counted for the limits of :mod:`letters.lockout`: the interface the
ledger implements (:mod:`letters.ledger.logins`) and a process-local log for tests."""

from __future__ import annotations

import datetime as dt
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

from letters.credentials import Verdict

#: Outcomes that count against a source.
FAILED = (Verdict.WRONG, Verdict.LOCKED)


@dataclass(frozen=True)
class SourceTries:
    """A source's failed tries within the window (not counting the try being decided)."""

    count: int
    oldest: dt.datetime | None
    latest: dt.datetime | None


class AttemptLog(ABC):
    """Where login tries are counted (the ledger, or memory in tests)."""

    @abstractmethod
    def record(self, reference: str, source: str, at: dt.datetime, outcome: Verdict) -> object:
        """Record a try; returns a handle for :meth:`settle`."""

    @abstractmethod
    def settle(self, handle: object, outcome: Verdict) -> None:
        """Replace a recorded try's outcome once it is known."""

    @abstractmethod
    def wrong_since(self, reference: str, source: str, since: dt.datetime) -> int:
        """Wrong tries on ``reference`` from ``source`` since ``since``."""

    @abstractmethod
    def failed_since(self, source: str, since: dt.datetime, besides: object) -> SourceTries:
        """Failed tries (:data:`FAILED`) from ``source`` since ``since``, but ``besides``."""


class MemoryAttemptLog(AttemptLog):
    def __init__(self) -> None:
        self._tries: list[tuple[str, str, dt.datetime, Verdict]] = []
        self._lock = threading.Lock()

    def record(self, reference: str, source: str, at: dt.datetime, outcome: Verdict) -> object:
        with self._lock:
            self._tries.append((reference, source, at, outcome))
            return len(self._tries) - 1

    def settle(self, handle: object, outcome: Verdict) -> None:
        assert isinstance(handle, int)
        with self._lock:
            reference, source, at, _ = self._tries[handle]
            self._tries[handle] = (reference, source, at, outcome)

    def wrong_since(self, reference: str, source: str, since: dt.datetime) -> int:
        with self._lock:
            return sum(
                1
                for r, s, at, o in self._tries
                if (r, s) == (reference, source) and at >= since and o is Verdict.WRONG
            )

    def failed_since(self, source: str, since: dt.datetime, besides: object) -> SourceTries:
        with self._lock:
            times = [
                at
                for i, (_, s, at, o) in enumerate(self._tries)
                if s == source and at >= since and o in FAILED and i != besides
            ]
        return SourceTries(len(times), min(times, default=None), max(times, default=None))
