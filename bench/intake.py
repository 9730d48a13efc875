"""HTTP intake under sustained load on loopback: `letters serve` (uvicorn) with a fresh
ledger and the Redis broker, no workers, a few concurrent clients (httpx) for a bounded
time and count.

Prints, in one run: jobs accepted per second, p50/p95/p99 latency of the 202s, and as the
baseline GET /healthz sent by the same clients in between (one in ten requests), so the
ratios cancel the machine's noise; the server's RSS (VmRSS) at start, after warm-up, in the
middle and at the end ("flat": end <= after warm-up x 1.2 + 10 MB). Then the same with the
queue limit hit (LETTERS_INTAKE__MAX_QUEUE small): the 429s, their Retry-After and
latency, and the memory again. The clients do not honour Retry-After here: they measure
what a refusal costs the server. Needs Redis (REDIS_URL, default 127.0.0.1:6379 database
12, flushed before and after) and uses a fresh PostgreSQL database when 127.0.0.1:5432 answers,
else an SQLite file (--database to choose).

    .venv/bin/python bench/intake.py [--seconds 60] [--clients 4] [--max-jobs 50000]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
JOBS = sorted((ROOT / "fixtures" / "jobs").glob("*.json"))
TEMPLATES = [json.loads(p.read_text("utf-8")) for p in JOBS if "many-claims" not in p.name]
HEALTH_EVERY = 10  # one GET /healthz per this many requests, from the same clients
WARM_UP = 40  # jobs sent before the start (first imports, first connections)


def database(kind: str) -> str:
    if kind == "auto":
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
            kind = "postgresql"
        except OSError:
            kind = "sqlite"
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='letters-bench-')}/bench.db"
    import psycopg

    name = f"letters_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def body(tag: str, i: int) -> bytes:
    job = copy.deepcopy(TEMPLATES[i % len(TEMPLATES)])
    job["id"] = f"bench-{tag}-{i:07d}"
    job["reference"] = f"B{tag.upper()}-{i:07d}"
    return json.dumps(job).encode()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Tally:
    latencies: dict[int, list[float]] = field(default_factory=dict)  # status -> seconds
    health: list[float] = field(default_factory=list)
    retry_after: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int) -> int:
        return len(self.latencies.get(status, []))


class Server:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "letters", "serve", "--port", str(self.port)],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("letters serve did not start")
            time.sleep(0.2)

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=30)


def setup(args: argparse.Namespace, redis_url: str, max_queue: int) -> tuple[Server, str, str]:
    """A fresh ledger with a submit token, the flushed Redis database and a server."""
    from letters.ledger import Ledger, create_token

    tmp = Path(tempfile.mkdtemp(prefix="letters-bench-intake-"))
    url = database(args.database)
    ledger = Ledger(url)
    ledger.migrate()
    token = create_token(ledger, "bench", {"submit"})
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "LETTERS_BROKER": "redis",
        "REDIS_URL": redis_url,
        "DATABASE_URL": url,
        "LETTERS_ARCHIVE_DIR": str(tmp / "archive"),
        "LETTERS_CLOCK_DATE": "2026-11-20",  # the fixtures' letter date
        "LETTERS_REHEARSAL_RULES": str(ROOT / "fixtures" / "rules"),
        "LETTERS_LOGINS__KEY": "bench-only-login-key-0123456789abcdef",
        "LETTERS_INTAKE__MAX_QUEUE": str(max_queue),
    }
    return Server(env, tmp), token, url


def load(server: Server, token: str, tag: str, seconds: float, max_jobs: int, clients: int) -> Any:
    """Sustained submissions; returns the tally and the RSS samples (MB)."""
    tally = Tally()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for i in range(WARM_UP):
            client.post("/v1/jobs", content=body(f"{tag}w", i))
    samples = {"start": server.rss()}
    next_job = iter(range(max_jobs))
    take = threading.Lock()
    deadline = time.monotonic() + seconds

    def one_client() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as c:
            sent = 0
            while time.monotonic() < deadline:
                sent += 1
                if sent % HEALTH_EVERY == 0:
                    t0 = time.perf_counter()
                    c.get("/healthz")
                    with tally.lock:
                        tally.health.append(time.perf_counter() - t0)
                    continue
                with take:
                    i = next(next_job, None)
                if i is None:
                    return
                payload = body(tag, i)
                t0 = time.perf_counter()
                answer = c.post("/v1/jobs", content=payload)
                elapsed = time.perf_counter() - t0
                with tally.lock:
                    tally.latencies.setdefault(answer.status_code, []).append(elapsed)
                    if answer.status_code == 429:
                        tally.retry_after[answer.headers.get("Retry-After", "none")] += 1

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(min(seconds / 2, max(0.0, deadline - time.monotonic())))
    samples["middle"] = server.rss()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    samples["end"] = server.rss()
    return tally, samples, elapsed


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(title: str, tally: Tally, samples: dict[str, float], elapsed: float) -> None:
    health = tally.health
    answered = ", ".join(f"{s}: {len(v)}" for s, v in sorted(tally.latencies.items()))
    print(f"{title} ({elapsed:.1f} s)")
    print(f"  answers {answered}; accepted {tally.count(202) / elapsed:.1f} jobs/s")
    if tally.retry_after:
        seen = ", ".join(f"{v} s x {n}" for v, n in sorted(tally.retry_after.items()))
        print(f"  429s {tally.count(429)} ({tally.count(429) / elapsed:.1f}/s), Retry-After {seen}")
    base = {p: pct(health, p) * 1000 for p in (50, 95, 99)}
    print(
        f"  GET /healthz (baseline, same clients, {len(health)} requests): p50 {base[50]:.1f} "
        f"ms, p95 {base[95]:.1f} ms, p99 {base[99]:.1f} ms"
    )
    for status in (202, 429):
        lat = tally.latencies.get(status, [])
        if len(lat) < 2:
            continue
        ms = {p: pct(lat, p) * 1000 for p in (50, 95, 99)}
        print(
            f"  {status} latency p50 {ms[50]:.1f} ms, p95 {ms[95]:.1f} ms, p99 {ms[99]:.1f} ms "
            f"(max {max(lat) * 1000:.0f} ms); over the baseline: p50 {ms[50] / base[50]:.1f}x, "
            f"p99 {ms[99] / base[99]:.1f}x"
        )
    limit = samples["start"] * 1.2 + 10
    verdict = "flat" if samples["end"] <= limit else f"GROWING (over {limit:.0f} MB)"
    print(
        f"  server RSS: ready {samples['ready']:.0f} MB, after warm-up {samples['start']:.0f} "
        f"MB, middle {samples['middle']:.0f} MB, end {samples['end']:.0f} MB: {verdict}"
    )


def run(args: argparse.Namespace, redis_url: str, seconds: float, max_queue: int, tag: str) -> Any:
    server, token, url = setup(args, redis_url, max_queue)
    try:
        ready = server.rss()
        tally, samples, elapsed = load(server, token, tag, seconds, args.max_jobs, args.clients)
        samples["ready"] = ready
    finally:
        server.stop()
    from letters.ledger import Ledger

    backlog = redis.Redis.from_url(redis_url).llen("dramatiq:letters_render")
    ledger = Ledger(url)
    owed = ledger.in_progress()
    ledger.engine.dispose()
    redis.Redis.from_url(redis_url).flushdb()
    if url.startswith("postgresql"):  # the bench's own database, not kept
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    return tally, samples, elapsed, owed, backlog, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--limited-seconds", type=float, default=20, help="the 429 variant")
    parser.add_argument("--max-jobs", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--queue-limit", type=int, default=200, help="the 429 variant's limit")
    parser.add_argument("--database", choices=["auto", "sqlite", "postgresql"], default="auto")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")

    tally, samples, elapsed, owed, backlog, url = run(args, redis_url, args.seconds, 10**9, "open")
    print(
        f"ledger {url.split(':', 1)[0]}, broker Redis ({redis_url}), no workers, "
        f"{args.clients} clients"
    )
    report("intake, queue limit not reached", tally, samples, elapsed)
    print(f"  ledger: {owed} jobs in progress; Redis: {backlog} render messages waiting")

    tally, samples, elapsed, owed, backlog, _ = run(
        args, redis_url, args.limited_seconds, args.queue_limit, "full"
    )
    report(f"intake, LETTERS_INTAKE__MAX_QUEUE={args.queue_limit}", tally, samples, elapsed)
    print(
        f"  ledger: {owed} jobs in progress (limit {args.queue_limit}, warm-up "
        f"{WARM_UP} included); Redis: {backlog} render messages waiting"
    )


if __name__ == "__main__":
    main()
