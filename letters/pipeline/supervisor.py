"""``letters worker``: a small supervisor that keeps N worker processes running.

Each child is one Dramatiq worker process (``python -m letters.pipeline.supervisor``, the
actors of :mod:`letters.pipeline.worker` with ``--threads`` threads). A child that ends, by
any exit code or signal, is started again after a delay that doubles with each quick death
(``RESTART_DELAY`` up to ``RESTART_DELAY_CAP``) and is forgotten once a child has run for
``HEALTHY_AFTER`` seconds; each restart is logged with the pid, how it ended and the count.
A child that dies ``QUICK_DEATHS`` times in a row within ``HEALTHY_AFTER`` of its start (a
configuration error, say) is not started again: the supervisor stops the others and exits
with status 1, saying so.

SIGTERM or SIGINT stops the children gracefully: the signal is passed on, each finishes the
message in hand (``stop_timeout``), and one still running ``KILL_GRACE`` after that is
killed; then the
supervisor exits 0. A second signal kills them at once. A child whose supervisor is killed
(SIGKILL: no goodbye) gets SIGTERM from the kernel and stops as well (Linux).

The supervisor also serves the children's shared Prometheus metrics, so they stay up while a
child restarts.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from letters.codes import Code
from letters.wording import counted

log = logging.getLogger("letters.worker")

#: The first restart's delay (seconds); it doubles with each quick death, up to the cap.
RESTART_DELAY = 1.0
RESTART_DELAY_CAP = 60.0
#: A child that ran this long (seconds) was healthy: its next death starts the count anew.
HEALTHY_AFTER = 30.0
#: Quick deaths in a row (each within HEALTHY_AFTER of its start) before giving up.
QUICK_DEATHS = 5
#: How long a stopping child may take to finish the message in hand (seconds).
STOP_TIMEOUT = 60.0
#: How long past stop_timeout the supervisor waits before it kills a child (seconds).
KILL_GRACE = 5.0
#: Exit status of a supervisor that gave up on a child dying at start.
GAVE_UP = 1
#: One line per message; the time in UTC, saying so (the log is read on machines in any
#: zone, and beside PostgreSQL's and Redis's logs).
LOG_FORMAT = (
    "[%(asctime)s.%(msecs)03d UTC] [PID %(process)d] [%(threadName)s] [%(name)s] "
    "[%(levelname)s] %(message)s"
)
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


#: Libraries whose INFO lines say nothing an operator acts on (alembic's start-up chatter,
#: pikepdf's "logger bridge initialized"): their warnings and errors still show.
QUIET = ("alembic", "pikepdf")


def configure_logging() -> None:
    """The worker's log on stderr: :data:`LOG_FORMAT`, INFO and up, only the warnings and
    errors of :data:`QUIET`."""
    logging.basicConfig(
        level=logging.INFO, format=LOG_FORMAT, datefmt=LOG_DATE_FORMAT, stream=sys.stderr
    )
    for handler in logging.getLogger().handlers:
        if handler.formatter is not None:
            handler.formatter.converter = time.gmtime
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def ended(returncode: int) -> str:
    """How a child ended, for the log.

    >>> ended(-9), ended(0), ended(3)
    ('killed by signal SIGKILL', 'exited with status 0', 'exited with status 3')
    """
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


@dataclass
class Slot:
    """One of the N places a child runs in."""

    number: int
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_deaths: int = 0  # in a row
    restarts: int = 0
    start_at: float = 0.0  # when to start the next child (monotonic)


class Supervisor:
    """Keeps ``processes`` children of ``command`` running (see the module's docstring).

    ``on_death(pid)`` is called for each child that ended (the metrics of a dead process).
    """

    def __init__(
        self,
        command: Sequence[str],
        processes: int,
        *,
        env: dict[str, str] | None = None,
        stop_timeout: float = STOP_TIMEOUT,
        restart_delay: float = RESTART_DELAY,
        restart_delay_cap: float = RESTART_DELAY_CAP,
        healthy_after: float = HEALTHY_AFTER,
        quick_deaths: int = QUICK_DEATHS,
        kill_grace: float = KILL_GRACE,
        on_death: Callable[[int], None] | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.command = list(command)
        self.env = env
        self.stop_timeout = stop_timeout
        self.restart_delay = restart_delay
        self.restart_delay_cap = restart_delay_cap
        self.healthy_after = healthy_after
        self.quick_deaths = quick_deaths
        self.kill_grace = kill_grace
        self.on_death = on_death
        self.slots = [Slot(n) for n in range(1, processes + 1)]
        self.signals = 0
        self._wake = threading.Event()

    def _signal(self, signum: int, frame: object) -> None:
        self.signals += 1
        self._wake.set()

    def run(self) -> int:
        """Supervise until SIGTERM/SIGINT (0) or a child that keeps dying at start (1)."""
        previous = {s: signal.signal(s, self._signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            status = self._supervise()
            self._stop_all()
            return status
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.slots if s.proc is not None]

    def _start(self, slot: Slot) -> None:
        slot.proc = subprocess.Popen(self.command, env=self.env)  # noqa: S603 - our own argv
        slot.started_at = time.monotonic()
        again = f", restart {slot.restarts}" if slot.restarts else ""
        log.info("worker process %d started (slot %d%s)", slot.proc.pid, slot.number, again)

    def _supervise(self) -> int:
        log.info(
            "supervising %s: %s",
            counted(len(self.slots), "worker process", "worker processes"),
            " ".join(self.command),
        )
        for slot in self.slots:
            self._start(slot)
        while not self.signals:
            now = time.monotonic()
            for slot in self.slots:
                if slot.proc is None:
                    if now >= slot.start_at:
                        self._start(slot)
                    continue
                code = slot.proc.poll()
                if code is None:
                    continue
                if not self._died(slot, code, now):
                    return GAVE_UP
            self._wake.wait(0.2)
        return 0

    def _died(self, slot: Slot, code: int, now: float) -> bool:
        """Schedule the restart of a child that ended; False: give up."""
        assert slot.proc is not None
        pid, ran = slot.proc.pid, now - slot.started_at
        slot.proc = None
        if self.on_death is not None:
            self.on_death(pid)
        slot.quick_deaths = slot.quick_deaths + 1 if ran < self.healthy_after else 1
        if slot.quick_deaths >= self.quick_deaths:
            log.error(
                "worker process %d (slot %d) %s after %.1f s: %d deaths in a row within "
                "%.0f s of starting, so it is not started again; the supervisor stops. "
                "See the log above for why (configuration, database, Redis) [%s]",
                pid,
                slot.number,
                ended(code),
                ran,
                slot.quick_deaths,
                self.healthy_after,
                Code.WORKER_KEEPS_DYING,
            )
            return False
        delay = min(self.restart_delay * 2 ** (slot.quick_deaths - 1), self.restart_delay_cap)
        slot.restarts += 1
        slot.start_at = now + delay
        log.warning(
            "worker process %d (slot %d) %s after %.1f s; restart %d in %.1f s",
            pid,
            slot.number,
            ended(code),
            ran,
            slot.restarts,
            delay,
        )
        return True

    def _stop_all(self) -> None:
        """Pass SIGTERM on, wait up to stop_timeout, then kill what still runs."""
        running = [s.proc for s in self.slots if s.proc is not None and s.proc.poll() is None]
        if not running:
            return
        log.info("stopping %s", counted(len(running), "worker process", "worker processes"))
        seen = self.signals
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout + self.kill_grace
        while any(p.poll() is None for p in running):
            if time.monotonic() >= deadline or self.signals > max(seen, 1):
                for p in running:
                    if p.poll() is None:
                        log.warning("worker process %d did not stop: killed", p.pid)
                        p.kill()
                for p in running:
                    p.wait()
                break
            self._wake.clear()
            self._wake.wait(0.1)
        for p in running:
            if self.on_death is not None:
                self.on_death(p.pid)
        log.info("all worker processes stopped")


def child_command(threads: int, stop_timeout: float = STOP_TIMEOUT) -> list[str]:
    """How the supervisor starts one worker process."""
    return [
        sys.executable,
        "-m",
        "letters.pipeline.supervisor",
        "--threads",
        str(threads),
        "--stop-timeout",
        str(stop_timeout),
        "--parent",
        str(os.getpid()),
    ]


def _die_with(parent: int) -> None:
    """Ask the kernel for SIGTERM when the supervisor goes (Linux), then check it is still
    there: a child must not outlive it unseen."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass
    if parent and os.getppid() != parent:
        sys.exit(0)  # the supervisor is already gone


def worker_process(threads: int, stop_timeout: float, parent: int = 0) -> int:
    """One Dramatiq worker process on the letters queues, until SIGTERM or SIGINT."""
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        if not stopping.is_set():
            log.info("stopping: finishing the messages in hand")
        stopping.set()  # a second signal changes nothing: the supervisor kills if need be

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _die_with(parent)
    configure_logging()
    from dramatiq import Worker

    from letters.pipeline import worker as module  # configures the Redis broker and actors
    from letters.pipeline.broker import QUEUES

    broker = module.broker
    broker.emit_after("process_boot")
    worker = Worker(broker, queues=set(QUEUES), worker_threads=threads)
    worker.start()
    log.info("worker process %d ready (%s)", os.getpid(), counted(threads, "thread"))
    while not stopping.wait(1.0):
        pass
    worker.stop(timeout=int(stop_timeout * 1000))
    broker.close()
    log.info("worker process %d stopped", os.getpid())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m letters.pipeline.supervisor")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT)
    parser.add_argument("--parent", type=int, default=0, help="the supervisor's pid")
    args = parser.parse_args(argv)
    return worker_process(args.threads, args.stop_timeout, args.parent)


if __name__ == "__main__":  # pragma: no cover - run by the supervisor
    sys.exit(main())
