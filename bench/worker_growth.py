"""Where a worker's memory grows: a real Dramatiq worker (Redis broker, PostgreSQL ledger,
the print channel, 2 threads) run in this process under tracemalloc, fed N letters in
three equal rounds; it prints RSS after each round and the source lines whose Python
allocations grew most from the end of the first round (the warm-up) to the end of the
last. Growth that tracemalloc does not see (a C library's own allocations) is the RSS
growth minus the traced growth.

    .venv/bin/python bench/worker_growth.py [--letters 3000]

Needs Redis (database 13 is flushed) and PostgreSQL on 127.0.0.1 (an SQLite file else).
tracemalloc slows Python down about twice: the letters per second here are no measure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pipeline  # noqa: E402  (bench/pipeline.py: the same jobs and database)
from evidence_growth import rss_mb  # noqa: E402

ROOT = HERE.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=3000)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="letters-growth-"))
    os.environ.update(
        {
            "LETTERS_BROKER": "redis",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"),
            "DATABASE_URL": pipeline.database(),
            "LETTERS_ARCHIVE_DIR": str(tmp / "archive"),
            "LETTERS_PRINTING__FOLDER": str(tmp / "print"),
            "LETTERS_CLOCK_DATE": "2026-11-20",
            "LETTERS_REHEARSAL_RULES": str(ROOT / "fixtures" / "rules"),
        }
    )
    import redis
    from dramatiq import Worker

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    from letters.pipeline import worker as module  # the Redis broker and the actors
    from letters.pipeline.intake import submit
    from letters.pipeline.runtime import get_runtime

    runtime = get_runtime()
    worker = Worker(module.broker, worker_threads=2, worker_timeout=100)
    worker.start()
    rounds, per_round = 3, args.letters // 3
    done = 0
    snapshots: list[tracemalloc.Snapshot] = []
    tracemalloc.start(4)
    try:
        for n in range(rounds):
            for job in pipeline.jobs(per_round, f"g{n}"):
                submit(job, runtime)
            done += per_round
            while runtime.ledger.counts().get("delivered", 0) < done:
                time.sleep(0.2)
            traced, _ = tracemalloc.get_traced_memory()
            print(
                f"round {n + 1}: {done} letters  RSS {rss_mb():.0f} MB  "
                f"traced {traced / 2**20:.1f} MB",
                flush=True,
            )
            snapshots.append(tracemalloc.take_snapshot())
    finally:
        worker.stop()
    first, last = snapshots[0], snapshots[-1]
    grown = last.compare_to(first, "traceback")
    total = sum(s.size_diff for s in grown)
    print(f"traced growth from round 1 to round {rounds}: {total / 2**20:+.2f} MB")
    for stat in grown[: args.top]:
        if stat.size_diff <= 0:
            break
        frames = [
            f"{f.filename.split('site-packages/')[-1]}:{f.lineno}"
            for f in reversed(stat.traceback)  # the allocating line first
        ]
        print(f"{stat.size_diff / 1024:+9.1f} KB {stat.count_diff:+7d} blocks  {frames[0]}")
        for frame in frames[1:5]:
            print(f"{'':34}{frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
