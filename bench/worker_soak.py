"""Soak a real worker: N letters through ``letters worker`` and watch its memory.

``bench/soak.py`` watches ``produce`` alone; this runs what a deployment runs: ``letters
worker`` (the supervisor and its Dramatiq worker process, with the ledger, the broker and
the print channel) over Redis and PostgreSQL (an SQLite file when PostgreSQL does not
answer), fed by ``letters enqueue`` in chunks while it works, as upstream systems feed it
during a day. Every ``--every`` seconds it samples the resident memory (VmRSS) of each
process of the worker and the count of letters delivered so far.

It prints the samples, each process's peak, and the trend of the worker process (the one
that makes the letters): the slope of a least-squares line through the samples after the
first tenth of the letters, in MB per 10,000 letters (flat: about 0), and the ratio of the
last quarter's mean to the second quarter's (about 1.0). The target (issue 12): 20,000
letters, RSS at most 150 MB, flat.

    .venv/bin/python bench/worker_soak.py [--letters 20000] [--threads 2]

Needs Redis (REDIS_URL, default 127.0.0.1:6379, database 13 is flushed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pipeline  # noqa: E402  (bench/pipeline.py: the same jobs, database and environment)
from soak import slope_per_10k  # noqa: E402

ROOT = HERE.parent


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def session_pids(sid: int) -> list[int]:
    """The processes of the worker's session (the supervisor and its children)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat: the session id
            out.append(int(entry.name))
    return sorted(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--ledger",
        choices=["postgresql", "sqlite"],
        default="postgresql",
        help="the ledger's database (sqlite: a file; tells whether growth is the driver's)",
    )
    parser.add_argument("--chunk", type=int, default=1000, help="jobs per letters enqueue")
    parser.add_argument("--every", type=float, default=10.0, help="sample every N seconds")
    args = parser.parse_args()

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    tmp = Path(tempfile.mkdtemp(prefix="letters-worker-soak-"))
    env = {
        **os.environ,
        "LETTERS_BROKER": "redis",
        "REDIS_URL": redis_url,
        "DATABASE_URL": (
            f"sqlite:///{tempfile.mkdtemp()}/soak.db"
            if args.ledger == "sqlite"
            else pipeline.database()
        ),
        "LETTERS_ARCHIVE_DIR": str(tmp / "archive"),
        "LETTERS_PRINTING__FOLDER": str(tmp / "print"),
        "LETTERS_METRICS_PORT": "9291",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="letters-metrics-"),
        "LETTERS_CLOCK_DATE": "2026-11-20",  # the fixtures' letter date
        "LETTERS_REHEARSAL_RULES": str(ROOT / "fixtures" / "rules"),
    }
    redis.Redis.from_url(redis_url).flushdb()
    letters = [sys.executable, "-m", "letters"]
    print(f"ledger {env['DATABASE_URL'].split('@')[-1]}, files in {tmp}", flush=True)

    all_jobs = pipeline.jobs(args.letters, "soak")
    failures: list[str] = []

    def feed() -> None:
        for n, start in enumerate(range(0, len(all_jobs), args.chunk)):
            path = tmp / f"jobs-{n:04d}.jsonl"
            chunk = all_jobs[start : start + args.chunk]
            path.write_text("".join(json.dumps(j) + "\n" for j in chunk))
            done = subprocess.run(
                [*letters, "enqueue", str(path)], env=env, capture_output=True, text=True
            )
            if done.returncode != 0:
                failures.append(f"enqueue {path.name}: exit {done.returncode} {done.stderr[-300:]}")

    from letters.ledger import Ledger

    ledger = Ledger(env["DATABASE_URL"])
    worker = subprocess.Popen(
        [*letters, "worker", "--processes", "1", "--threads", str(args.threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    started = time.perf_counter()
    samples: list[tuple[float, int, dict[int, float]]] = []
    try:
        delivered = 0
        while delivered < args.letters:
            time.sleep(args.every)
            counts = ledger.counts()
            delivered = counts.get("delivered", 0)
            rss = {p: m for p in session_pids(worker.pid) if (m := rss_mb(p)) is not None}
            elapsed = time.perf_counter() - started
            samples.append((elapsed, delivered, rss))
            print(
                f"{elapsed:7.0f} s  {delivered:6d} delivered  "
                + "  ".join(f"pid {p}: {m:.0f} MB" for p, m in sorted(rss.items())),
                flush=True,
            )
            if worker.poll() is not None:
                failures.append(f"the worker ended with {worker.returncode}")
                break
            if failures:
                break
            stuck = [c for c in ("failed", "held") if counts.get(c)]
            if stuck:
                failures.append(f"jobs {', '.join(f'{c}: {counts[c]}' for c in stuck)}")
                break
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=90)
    wall = time.perf_counter() - started
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1

    # the worker process is the one that grows: the biggest at the end
    supervisor = worker.pid
    last = samples[-1][2]
    child = max((p for p in last if p != supervisor), key=lambda p: last[p])
    series = [(d, rss[child]) for _, d, rss in samples if child in rss]
    warm = [(d, m) for d, m in series if d >= args.letters / 10]
    quarter = max(1, len(warm) // 4)
    second = warm[quarter : 2 * quarter] or warm
    final = warm[-quarter:] or warm
    ratio = (sum(m for _, m in final) / len(final)) / (sum(m for _, m in second) / len(second))
    peak = max(m for _, m in series)
    sup_peak = max(rss.get(supervisor, 0.0) for _, _, rss in samples)
    print(
        f"{args.letters} letters in {wall:.0f} s ({args.letters / wall:.1f} letters/s with "
        f"enqueue running beside), {args.threads} thread{'s' if args.threads != 1 else ''}, "
        f"{args.ledger} ledger"
    )
    print(
        f"worker process: peak RSS {peak:.0f} MB, slope {slope_per_10k(warm):+.1f} MB per "
        f"10,000 letters after warm-up, last quarter / second quarter {ratio:.3f}; "
        f"supervisor peak {sup_peak:.0f} MB"
    )
    print(
        f"target: peak <= 150 MB and flat: {'met' if peak <= 150 and ratio < 1.05 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
