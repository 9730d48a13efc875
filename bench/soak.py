"""Soak: make many letters in one process and watch its memory.

A worker process makes letters for hours; a leak of a few kilobytes per letter is a crash
by the afternoon. This runs the whole per-letter path a worker runs (``produce``: parse,
compose with the argon2 hash, template, render, print-safety check) over the fixture jobs,
each with a fresh job id, and samples the resident memory every ``--every`` letters.

It prints the samples, the peak, and the trend: the slope of a least-squares line through
the samples after warm-up, in MB per 10,000 letters (flat memory: about 0), and the ratio
of the last quarter's mean to the second quarter's (about 1.0). The issue's target for the
fast renderer: 100,000 letters at most 150 MB RSS, no growth trend.

    .venv/bin/python bench/soak.py --letters 100000            # the fast renderer
    .venv/bin/python bench/soak.py --renderer weasyprint --letters 2000
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def slope_per_10k(points: list[tuple[int, float]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return cov / var * 10_000 if var else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=1000, help="sample RSS every N letters")
    parser.add_argument("--renderer", default=None, help="default: the templates' own choice")
    parser.add_argument(
        "--unique-references",
        action="store_true",
        help="a new case reference for every letter, as a worker's jobs have (default: the "
        "fixtures' own)",
    )
    args = parser.parse_args()

    from letters import rules, templating
    from letters.config import Settings
    from letters.produce import produce
    from letters.rules import tables

    settings = Settings(
        clock_date=dt.date(2026, 11, 20), rehearsal_rules=ROOT / "fixtures" / "rules"
    )
    rules.use(tables.rehearsal(ROOT / "fixtures" / "rules"))  # as a worker's refresh would
    files = sorted((ROOT / "fixtures" / "jobs").glob("*.json"))
    jobs = [json.loads(p.read_text("utf-8")) for p in files]
    templates = {}  # each template's working copy, through the named renderer if one is
    for job in jobs:
        info = templating.working_copy(job["kind"], job.get("language", "nb"))
        if args.renderer:
            info = dataclasses.replace(info, renderer=args.renderer)
        templates[(job["kind"], job.get("language", "nb"))] = info
    start_rss = rss_mb()
    samples: list[tuple[int, float]] = []
    started = time.perf_counter()
    renderer = ""
    for i in range(args.letters):
        job = copy.deepcopy(jobs[i % len(jobs)])
        job["id"] = f"soak-{i:07d}"
        if args.unique_references:
            job["reference"] = f"SOAK-{i:07d}"
        produced = produce(job, settings, templates[(job["kind"], job.get("language", "nb"))])
        if not produced.safety.ok:
            print(f"letter {i} failed the print-safety check: {produced.safety.failures}")
            return 1
        renderer = produced.rendered.renderer
        if (i + 1) % args.every == 0:
            samples.append((i + 1, rss_mb()))
            elapsed = time.perf_counter() - started
            print(
                f"{i + 1:>8} letters  {samples[-1][1]:7.1f} MB RSS  "
                f"{elapsed / (i + 1) * 1000:6.1f} ms/letter",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    after_warmup = samples[len(samples) // 4 :] or samples
    quarter = max(1, len(samples) // 4)
    second = samples[quarter : 2 * quarter] or samples
    last = samples[-quarter:]
    ratio = (sum(y for _, y in last) / len(last)) / (sum(y for _, y in second) / len(second))
    peak = max(y for _, y in samples) if samples else rss_mb()
    print(
        f"\n{args.letters} letters by {renderer} in {elapsed:.0f} s "
        f"({elapsed / args.letters * 1000:.1f} ms/letter); RSS at start {start_rss:.0f} MB, "
        f"peak {peak:.0f} MB (target ≤ 150 MB: {'met' if peak <= 150 else 'NOT met'})"
    )
    print(
        f"trend after warm-up: {slope_per_10k(after_warmup):+.2f} MB per 10,000 letters; "
        f"last quarter / second quarter mean RSS: {ratio:.3f}× (flat: ~1.00×)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
