"""`letters worker` keeps its worker processes running (issue 11, defect 4): one that dies
is started again, one that dies at every start is given up on with a clear message, and
SIGTERM stops them all.

The first tests supervise small stand-in programs (real processes, quick to start); the
last runs the real pool on Redis and PostgreSQL and SIGKILLs one of its workers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: A supervisor of two stand-in children, with short delays; argv: the child's program,
#: healthy_after (s). What it logs goes to stderr, one message a line.
DRIVER = """
import logging, sys
from letters.pipeline.supervisor import Supervisor

logging.basicConfig(level=logging.INFO, format="%(message)s")
child, healthy = sys.argv[1], float(sys.argv[2])
supervisor = Supervisor(
    [sys.executable, "-c", child],
    2,
    stop_timeout=0.5,
    kill_grace=0.5,
    restart_delay=0.1,
    restart_delay_cap=0.4,
    healthy_after=healthy,
    quick_deaths=4,
)
sys.exit(supervisor.run())
"""
STARTED = re.compile(r"worker process (\d+) started \(slot (\d)")


def supervise(child: str, healthy: float, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, child, str(healthy)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=log.open("wb"),
    )


def wait_for_log(log: Path, pattern: str, count: int = 1, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(pattern, log.read_text(errors="replace"))
        if len(found) >= count:
            return found
        time.sleep(0.05)
    pytest.fail(f"{count} × {pattern!r} not in the log:\n{log.read_text()[-3000:]}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def test_a_child_dying_at_every_start_is_given_up_with_a_clear_message(tmp_path: Path) -> None:
    log = tmp_path / "supervisor.log"
    proc = supervise("import sys; sys.exit(3)", 30, log)
    assert proc.wait(timeout=30) == 1
    text = log.read_text()
    # each restart logged with pid, how it ended and the count; the delay doubles
    restarts = re.findall(
        r"worker process \d+ \(slot 1\) exited with status 3 after [\d.]+ s; "
        r"restart (\d) in ([\d.]+) s",
        text,
    )
    assert [n for n, _ in restarts] == ["1", "2", "3"]
    assert [float(d) for _, d in restarts] == [0.1, 0.2, 0.4]
    assert "4 deaths in a row within 30 s of starting" in text
    assert "[worker-keeps-dying]" in text
    for pid, _ in STARTED.findall(text):
        assert not alive(int(pid))


def test_a_dead_child_is_started_again_and_a_healthy_run_resets_the_count(
    tmp_path: Path,
) -> None:
    log = tmp_path / "supervisor.log"
    # each child runs 0.5 s, longer than healthy_after: never given up, the delay stays 0.1 s
    proc = supervise("import time; time.sleep(0.5)", 0.3, log)
    try:
        wait_for_log(log, r"restart \d+ in 0\.1 s", count=8)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert "in 0.2 s" not in log.read_text()


def test_sigterm_stops_every_child_and_kills_one_that_will_not_stop(tmp_path: Path) -> None:
    log = tmp_path / "supervisor.log"
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    proc = supervise(stubborn, 30, log)
    started = wait_for_log(log, STARTED.pattern, count=2)
    pids = [int(pid) for pid, _ in started]
    time.sleep(0.5)  # the children have set their handlers
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    text = log.read_text()
    assert "stopping 2 worker processes" in text
    assert text.count("did not stop: killed") == 2
    assert not any(alive(pid) for pid in pids)


# --- the real pool: `letters worker` on Redis and PostgreSQL ---------------------------------


def worker_env(tmp: Path, redis: str, database: str) -> dict[str, str]:
    """What a worker subprocess of these tests runs with."""
    from tests.conftest import REHEARSAL_RULES
    from tests.services import _free_port

    return {
        **os.environ,
        "LETTERS_BROKER": "redis",
        "REDIS_URL": redis,
        "DATABASE_URL": database,
        "LETTERS_ARCHIVE_DIR": str(tmp / "archive"),
        "LETTERS_PRINTING__FOLDER": str(tmp / "print"),
        "LETTERS_SWEEP_INTERVAL_SECONDS": "1",
        "LETTERS_REDIS_CHECK_SECONDS": "1",
        "LETTERS_REDIS_HEARTBEAT_TIMEOUT_MS": "5000",
        "LETTERS_CLOCK_DATE": "2026-11-20",  # the fixtures' letter date
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
        "PYTHONPATH": str(ROOT),
        "LETTERS_METRICS_PORT": str(_free_port()),
    }


def letters(env: dict[str, str], tmp: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "letters", *map(str, args)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_pool(env: dict[str, str], tmp: Path, processes: int = 2) -> subprocess.Popen[bytes]:
    log = (tmp / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "letters", "worker", "--processes", str(processes)],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def wait_delivered(ledger: object, count: int, log: Path, timeout: float) -> float:
    """Seconds until ``count`` jobs are delivered (fails after ``timeout``)."""
    from letters.ledger import JobStatus, Ledger

    assert isinstance(ledger, Ledger)
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if ledger.counts().get(JobStatus.DELIVERED, 0) >= count:
            return time.monotonic() - began
        time.sleep(0.2)
    done = ledger.counts()
    pytest.fail(f"{done} after {timeout:.0f} s, not {count} delivered\n{log.read_text()[-4000:]}")


def ready_pids(log: Path, count: int) -> set[int]:
    found = wait_for_log(log, r"worker process (\d+) ready", count=count, timeout=60)
    return {int(pid) for pid in found}


def enqueue(env: dict[str, str], tmp: Path, jobs: list[dict[str, object]], name: str) -> None:
    from tests.test_workers import write_jsonl

    result = letters(env, tmp, "enqueue", write_jsonl(tmp / f"{name}.jsonl", jobs))
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_a_worker_killed_with_sigkill_is_replaced_and_every_letter_goes_once(
    tmp_path: Path,
) -> None:
    import redis

    from letters.ledger import Ledger
    from tests.faults import tally
    from tests.services import postgres_database, redis_url
    from tests.test_workers import Setup, assert_exactly_one_letter_per_job, many_jobs

    url = redis_url()
    client = redis.Redis.from_url(url)
    client.flushdb()
    database = postgres_database()
    env = worker_env(tmp_path, url, database)
    ledger = Ledger(database)
    ledger.migrate()
    log = tmp_path / "worker.log"
    pool = start_pool(env, tmp_path)
    try:
        first = ready_pids(log, 2)  # both children up and consuming
        from dramatiq.brokers.redis import RedisBroker

        from letters.pipeline.broker import workers_alive

        seen = RedisBroker(url=url)
        deadline = time.monotonic() + 20
        while workers_alive(seen) != 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert workers_alive(seen) == 2  # what `letters serve` and `status` report
        jobs = many_jobs(6, "pool")
        enqueue(env, tmp_path, jobs, "first")
        wait_delivered(ledger, 6, log, timeout=120)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_for_log(log, rf"worker process {victim} \(slot \d\) killed by signal SIGKILL", 1)
        wait_for_log(log, r"started \(slot \d, restart 1\)", 1)
        now = ready_pids(log, 3)
        [replacement] = now - first
        assert not alive(victim) and alive(replacement)
        more = many_jobs(8, "again")
        enqueue(env, tmp_path, more, "again")
        wait_delivered(ledger, 14, log, timeout=120)
        os.kill(pool.pid, signal.SIGTERM)  # the supervisor alone: it passes the signal on
        assert pool.wait(timeout=90) == 0
        assert not any(alive(pid) for pid in now)
        assert "all worker processes stopped" in log.read_text()
    finally:
        if pool.poll() is None:
            os.killpg(pool.pid, signal.SIGKILL)
            pool.wait(timeout=30)
    assert_exactly_one_letter_per_job(Setup(env, ledger, client, tmp_path), [*jobs, *more])
    counts = tally("worker-sigkill", ledger)
    assert (counts.jobs, counts.deliveries, counts.duplicates, counts.lost) == (14, 14, 0, 0)
    client.flushdb()
    ledger.engine.dispose()


def test_the_shipped_systemd_unit_restarts_always_and_runs_a_real_command(
    tmp_path: Path,
) -> None:
    import configparser
    import shlex
    import shutil

    from letters.cli import build_parser

    path = ROOT / "deploy" / "letters-worker.service"
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(path, encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "always"
    assert float(service["RestartSec"]) > 0
    assert service["EnvironmentFile"]
    assert service["KillMode"] == "mixed"  # SIGTERM to the supervisor, which passes it on
    # systemd waits longer than the pool takes to stop (--stop-timeout 60 s + 5 s)
    assert float(service["TimeoutStopSec"]) > 65
    program, *argv = shlex.split(service["ExecStart"])
    assert Path(program).name == "letters"
    args = build_parser().parse_args(argv)  # options `letters worker` has
    assert args.command == "worker" and args.processes >= 1
    analyze, here = shutil.which("systemd-analyze"), Path(sys.executable).with_name("letters")
    if analyze is None or not here.exists():
        return  # the syntax is checked where systemd is installed
    local = path.read_text("utf-8").replace(program, str(here))
    copy = tmp_path / "letters-worker.service"
    copy.write_text(local, "utf-8")
    checked = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
