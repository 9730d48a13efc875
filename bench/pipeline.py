"""Pipeline throughput over Redis: N jobs with 1 and with 2 worker processes.

Prints, in one run: render-only time per letter (each template's own renderer, in this
process), then for each worker count the letters per second end to end, the mean
render-stage time (from the workers' metrics), and the pipeline overhead: process-seconds
spent per letter over render-only time, minus one. Targets: overhead <= 15 % and 2
processes >= 1.8x one (issue 3); with the fast renderer, 2 processes >= 80 letters/s
(issue 5). Needs Redis (REDIS_URL, default 127.0.0.1:6379, database 13 is flushed) and
uses a fresh PostgreSQL database when 127.0.0.1:5432 answers, else an SQLite file.

Then, per letter, what the shared services did (the numbers a model of N worker machines
needs): PostgreSQL commits (pg_stat_database), Redis commands (INFO commandstats; the whole
server's, so run it on a quiet machine) and archive writes; and what this machine's
PostgreSQL sustains (commits/s of one connection and of four, measured in the same run),
projected to the letters/s at which PostgreSQL saturates.

    .venv/bin/python bench/pipeline.py [--jobs 200] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import redis
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
JOBS = sorted((ROOT / "fixtures" / "jobs").glob("*.json"))


def jobs(count: int, tag: str) -> list[dict[str, object]]:
    templates = [json.loads(p.read_text("utf-8")) for p in JOBS if "many-claims" not in p.name]
    out = []
    for i in range(count):
        job = copy.deepcopy(templates[i % len(templates)])
        job["id"] = f"bench-{tag}-{i:06d}"
        job["reference"] = f"B{tag.upper()}-{i:06d}"
        out.append(job)
    return out


def database() -> str:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    import psycopg

    name = f"letters_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def render_only(count: int) -> float:
    from letters.compose import compose
    from letters.renderers.registry import get_renderer
    from letters.templating import render_html, working_copy
    from letters.validation import parse

    letters = [compose(parse(j)).letter for j in jobs(min(count, 40), "r")]
    # each letter by its template's own renderer, as the pipeline does
    pages = [
        (get_renderer(working_copy(x.kind, x.language).renderer), render_html(x)) for x in letters
    ]
    for renderer, html in pages:
        renderer.render(html)
    rounds = []
    for _ in range(3):
        start = time.perf_counter()
        for renderer, html in pages:
            renderer.render(html)
        rounds.append((time.perf_counter() - start) / len(pages))
    return statistics.median(rounds)


def _pg_commits(ledger: object) -> int | None:
    engine = ledger.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("select xact_commit from pg_stat_database where datname = current_database()")
            ).scalar_one()
        )


def _redis_calls(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(v["calls"]) for v in stats.values())  # type: ignore[union-attr]


def commit_capacity(url: str, connections: int, seconds: float = 3.0) -> float:
    """Commits/s this PostgreSQL sustains: ``connections`` threads each committing one
    one-row insert at a time, as a ledger stage does at its smallest."""
    import threading

    from sqlalchemy import create_engine

    engine = create_engine(url, pool_size=connections)
    with engine.begin() as conn:
        conn.execute(text("create table if not exists bench_commits (n integer)"))
    done = [0] * connections
    stop = time.perf_counter() + seconds

    def loop(i: int) -> None:
        with engine.connect() as conn:
            while time.perf_counter() < stop:
                conn.execute(text("insert into bench_commits values (1)"))
                conn.commit()
                done[i] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return sum(done) / seconds


def cpu_busy_seconds() -> float:
    """CPU seconds this machine has spent busy (all processes, all cores) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run(processes: int, count: int, redis_url: str, threads: int = 1) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="letters-bench-"))
    port = 9191 + processes * 7
    env = {
        **os.environ,
        "LETTERS_BROKER": "redis",
        "REDIS_URL": redis_url,
        "DATABASE_URL": database(),
        "LETTERS_ARCHIVE_DIR": str(tmp / "archive"),
        "LETTERS_PRINTING__FOLDER": str(tmp / "print"),
        "LETTERS_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="letters-metrics-"),
        "LETTERS_CLOCK_DATE": "2026-11-20",  # the fixtures' letter date
        "LETTERS_REHEARSAL_RULES": str(ROOT / "fixtures" / "rules"),
    }
    redis.Redis.from_url(redis_url).flushdb()
    path = tmp / "jobs.jsonl"
    path.write_text("".join(json.dumps(j) + "\n" for j in jobs(count, f"p{processes}")))
    letters = [sys.executable, "-m", "letters"]
    subprocess.run([*letters, "enqueue", str(path)], env=env, check=True, capture_output=True)
    from letters.ledger import Ledger

    ledger = Ledger(env["DATABASE_URL"])
    client = redis.Redis.from_url(redis_url)
    commits_before, calls_before = _pg_commits(ledger), _redis_calls(client)
    start = time.perf_counter()
    worker = subprocess.Popen(
        [*letters, "worker", "--processes", str(processes), "--threads", str(threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # the machine's CPU in the steady state: from the tenth letter delivered (the
        # workers are up, their imports done) to the last
        busy_from: tuple[float, int] | None = None
        while (delivered := ledger.counts().get("delivered", 0)) < count:
            if busy_from is None and delivered >= count // 10:
                busy_from = (cpu_busy_seconds(), delivered)
            time.sleep(0.1)
        wall = time.perf_counter() - start
        if busy_from is None:
            busy_from = (cpu_busy_seconds(), count)
        cpu_per_letter = (cpu_busy_seconds() - busy_from[0]) / max(1, count - busy_from[1])
        scraped = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        commits_after, calls_after = _pg_commits(ledger), _redis_calls(client)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
    archived = list((tmp / "archive").rglob("*.pdf"))
    metrics = dict(
        re.findall(r"^(letters_render_seconds_(?:sum|count)) (\S+)$", scraped.decode(), re.M)
    )
    render_stage = float(metrics["letters_render_seconds_sum"]) / float(
        metrics["letters_render_seconds_count"]
    )
    # Working time from the ledger's own clock: the first render's start (its end minus one
    # render stage) to the last delivery. Worker start-up (imports) is left out.
    with ledger.engine.connect() as conn:
        first, last = conn.execute(
            text(
                "select min(case when event = 'rendered' then at end), "
                "max(case when event = 'delivered' then at end) from job_events"
            )
        ).one()
    if isinstance(first, str):  # SQLite hands back text
        first, last = (dt.datetime.fromisoformat(v) for v in (first, last))
    elapsed = (last - first).total_seconds() + render_stage
    return {
        "elapsed": elapsed,
        "wall": wall,
        "rate": count / elapsed,
        "render_stage": render_stage,
        "per_letter": processes * elapsed / count,
        # the two scrapes and the polling above are in these too: a handful, not per letter
        "commits": (commits_after - commits_before) / count  # type: ignore[operator]
        if commits_before is not None
        else float("nan"),
        "redis": (calls_after - calls_before) / count,
        # everything on the machine: workers, PostgreSQL, Redis, this script's polling, and
        # whatever else runs; on a quiet machine nearly all of it the pipeline's
        "cpu_per_letter": cpu_per_letter,
        "archive_files": len(archived) / count,
        "archive_kb": sum(p.stat().st_size for p in archived) / count / 1024,
        "url": env["DATABASE_URL"],  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument(
        "--threads", type=int, default=2, help="worker threads per process (letters worker's)"
    )
    args = parser.parse_args()
    from letters import rules
    from letters.rules import tables

    # the rehearsal's assumed confirmations of the unconfirmed interest rates, as make main
    rules.use(tables.rehearsal(ROOT / "fixtures" / "rules"))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
    base = render_only(args.jobs)
    print(f"render only (templates' own renderers, this process): {base * 1000:.1f} ms/letter")
    results = {p: run(p, args.jobs, redis_url, args.threads) for p in (1, 2)}
    print(f"worker threads per process: {args.threads}")
    for p, r in results.items():
        print(
            f"{p} worker process{'es' if p != 1 else ''}: {r['rate']:.2f} letters/s "
            f"({args.jobs} in "
            f"{r['elapsed']:.1f} s working, {r['wall']:.1f} s with start-up), "
            f"render stage {r['render_stage'] * 1000:.0f} ms, "
            f"{r['per_letter'] * 1000:.0f} process-ms per letter, overhead "
            f"{r['per_letter'] / base - 1:+.0%} over render-only"
        )
    print(f"scaling 2 vs 1 process: {results[2]['rate'] / results[1]['rate']:.2f}x")
    two = results[2]
    cores = os.cpu_count() or 1
    print(
        f"machine CPU per letter (steady state: workers, PostgreSQL, Redis, all processes): "
        f"{two['cpu_per_letter'] * 1000:.0f} ms with 2 processes, "
        f"{results[1]['cpu_per_letter'] * 1000:.0f} ms with 1; {cores} cores can do at most "
        f"{cores / two['cpu_per_letter']:.0f} letters/s at that cost (80 letters/s needs "
        f"<= {cores / 80 * 1000:.0f} CPU-ms a letter on {cores} cores)"
    )
    print(
        f"per letter: {two['commits']:.1f} PostgreSQL commits, {two['redis']:.1f} Redis "
        f"commands, {two['archive_files']:.1f} archive files ({two['archive_kb']:.1f} KB)"
    )
    url = str(two["url"])
    if url.startswith("postgresql"):
        one, four = commit_capacity(url, 1), commit_capacity(url, 4)
        print(
            f"this PostgreSQL: {one:.0f} commits/s on one connection, {four:.0f} on four; at "
            f"{two['commits']:.1f} commits a letter it saturates near {four / two['commits']:.0f} "
            f"letters/s, {four / two['commits'] / two['rate']:.1f}x what two processes made here"
        )


if __name__ == "__main__":
    main()
