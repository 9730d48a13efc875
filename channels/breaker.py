"""A circuit breaker per channel: leave a channel alone while it is down, try it now and then.

The deliver stage asks a channel's breaker before every try (:meth:`Breaker.admit`, an
:class:`Admission` or None) and tells it how the try ended (:meth:`Breaker.settle`):

- **closed** (normal): every letter is tried. ``failures`` *outage* failures in a row
  (:data:`OUTAGE`: unreachable, no answer in time, a server error) open it.
- **open**: for ``cool_down`` seconds no letter is handed to the channel. The deliver stage
  records the letter's turn as a try that was not made (``channel-breaker-open``) and the
  letter waits for its next retry, as after a failed try: the turn counts towards
  ``LETTERS_CHANNEL_ATTEMPTS``, so a letter moves to its next channel after the same number
  of turns (and the same time) whether the breaker was open or not, and never sooner.
- **half-open** (the cool-down is over): the next letter is the trial, the others wait. A
  delivery closes the breaker; an outage failure opens it again for another cool-down.

Answers about one letter (a 4xx refusal, an e-mail deferred, a Digipost letter that
reconciling has not found yet, ``digipost-uncertain``) neither open nor close it, nor does
a try cut off by something else; a half-open breaker then lets the next letter be the trial.

State is per process (each worker process has its own breakers, made with the channels):
with P processes a storm costs at most P × ``failures`` tries before every breaker is
open, then P trials per cool-down. ``observe`` registers a callback for every opening and
closing (the metric ``letters_channel_breaker_open{channel}``); each is also logged.

>>> t = [0.0]
>>> b = Breaker("email", failures=2, cool_down=30, clock=lambda: t[0])
>>> down = RetriableError(Code.CHANNEL_CONNECTION, "refused")
>>> for _ in range(2):
...     b.settle(b.admit(), down)
>>> b.state, b.admit()
('open', None)
>>> t[0] = 31.0
>>> trial = b.admit()
>>> trial, b.state, b.admit()  # one trial; the others wait
(Admission(trial=True), 'half-open', None)
>>> b.settle(trial, Receipt("email", "<id>")); b.state
'closed'
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from channels.base import ChannelError, Receipt, RetriableError
from letters.codes import Code

log = logging.getLogger(__name__)

#: Failures that say the channel itself is down, not that it refuses one letter.
OUTAGE = frozenset({Code.CHANNEL_CONNECTION, Code.CHANNEL_TIMEOUT, Code.DIGIPOST_UNAVAILABLE})

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"

#: Called with (channel, is_open) whenever a breaker opens or closes.
Observer = Callable[[str, bool], None]
_observers: list[Observer] = []


def observe(observer: Observer) -> None:
    """Call ``observer(channel, is_open)`` on every opening and closing, in every process."""
    _observers.append(observer)


def _tell(channel: str, is_open: bool) -> None:
    for observer in _observers:
        try:
            observer(channel, is_open)
        except Exception:  # a metric must never stop a delivery
            log.exception("breaker observer failed")


@dataclass(frozen=True)
class Admission:
    """A letter may try the channel; ``trial``: the one try of a half-open breaker."""

    trial: bool = False


class Breaker:
    def __init__(
        self,
        channel: str,
        failures: int,
        cool_down: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.failures = failures
        self.cool_down = cool_down
        self._clock = clock
        self._lock = threading.Lock()
        self.state = CLOSED
        self._in_a_row = 0
        self._last: Code | None = None
        self._opened_at = 0.0
        self._trial = False  # half-open: a letter is trying the channel now
        _tell(channel, False)

    def admit(self) -> Admission | None:
        """May a letter be handed to the channel now (None: not now)? An admission must be
        settled (:meth:`settle`): the other letters wait for the half-open trial's."""
        with self._lock:
            if self.state == OPEN and self._clock() - self._opened_at >= self.cool_down:
                self.state = HALF_OPEN
                log.info("%s breaker half-open: one letter tries the channel", self.channel)
            if self.state == CLOSED:
                return Admission()
            if self.state == HALF_OPEN and not self._trial:
                self._trial = True
                return Admission(trial=True)
            return None

    def settle(self, admission: Admission | None, outcome: Receipt | ChannelError | None) -> None:
        """How an admitted try ended: a receipt, the channel's error, or None (cut off by
        something else)."""
        with self._lock:
            trial = admission is not None and admission.trial
            if trial:
                self._trial = False
            if isinstance(outcome, Receipt):
                self._in_a_row = 0
                if self.state != CLOSED:
                    self.state = CLOSED
                    log.warning("%s breaker closed: the channel delivers again", self.channel)
                    _tell(self.channel, False)
                return
            if outcome is None or outcome.code not in OUTAGE:
                return  # about this letter, not the channel
            self._in_a_row += 1
            self._last = outcome.code
            if self.state == OPEN and not trial:
                return  # a try admitted before it opened
            if self.state == HALF_OPEN or self._in_a_row >= self.failures:
                opened = self.state == CLOSED
                self.state = OPEN
                self._opened_at = self._clock()
                log.warning(
                    "%s breaker %s: %d outage failures in a row (the last %s); no letter "
                    "goes to %s for %g s, then one tries it",
                    self.channel,
                    "open" if opened else "open again (the trial failed)",
                    self._in_a_row,
                    outcome.code,
                    self.channel,
                    self.cool_down,
                )
                if opened:
                    _tell(self.channel, True)

    def refusal(self) -> RetriableError:
        """What a letter not admitted is told (recorded as its try, no request made)."""
        with self._lock:
            left = max(0.0, self.cool_down - (self._clock() - self._opened_at))
            last = self._last or "an outage"
            in_a_row = self._in_a_row
        when = "a trial is under way" if left == 0 else f"a trial in {left:.0f} s"
        return RetriableError(
            Code.CHANNEL_BREAKER_OPEN,
            f"not tried: the {self.channel} breaker is open after {in_a_row} outage failures "
            f"in a row (the last {last}); {when}; the letter waits",
        )
