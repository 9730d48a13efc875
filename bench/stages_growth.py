"""Whether the pipeline's stages grow a process's memory without Dramatiq's worker: for N
jobs, each taken in (``intake.submit``), rendered (``render_stage``) and delivered to the
print channel (``deliver_stage``), called one after the other in this thread, with RSS
printed every ``--every`` letters and the growth per 10,000 after the first tenth.

    .venv/bin/python bench/stages_growth.py [--letters 10000]

Between ``bench/soak.py`` and ``bench/evidence_growth.py`` (each part alone: flat) and
``bench/worker_soak.py`` (the whole worker: it grows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pipeline  # noqa: E402  (bench/pipeline.py: the same jobs)
from evidence_growth import rss_mb  # noqa: E402
from soak import slope_per_10k  # noqa: E402

ROOT = HERE.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="letters-stages-"))
    os.environ["LETTERS_BROKER"] = "stub"
    from letters.config import Printing, Review, Settings
    from letters.pipeline import broker as brokers
    from letters.pipeline.runtime import Runtime, set_runtime

    brokers.configure("stub")
    settings = Settings(
        database_url=f"sqlite:///{tmp}/ledger.db",
        archive_dir=tmp / "archive",
        printing=Printing(folder=tmp / "print"),
        review=Review(cache_dir=tmp / "templates"),
        clock_date=dt.date(2026, 11, 20),
        rehearsal_rules=ROOT / "fixtures" / "rules",
    )
    runtime = Runtime.from_settings(settings)
    set_runtime(runtime)
    from letters.pipeline import actors
    from letters.pipeline.intake import submit

    # the stages are called here, one after the other: no message is carried anywhere
    actors.render_letter.send = lambda *_a, **_k: None  # type: ignore[method-assign]
    actors.deliver_letter.send = lambda *_a, **_k: None  # type: ignore[method-assign]
    points: list[tuple[int, float]] = []
    for i, job in enumerate(pipeline.jobs(args.letters, "st")):
        job["channels"] = ["print"]
        submit(job, runtime)
        actors.render_stage(str(job["id"]))
        actors.deliver_stage(str(job["id"]))
        if (i + 1) % args.every == 0:
            points.append((i + 1, rss_mb()))
            print(f"{i + 1:>7} letters  RSS {points[-1][1]:.0f} MB", flush=True)
    delivered = runtime.ledger.counts().get("delivered", 0)
    warm = [p for p in points if p[0] > args.letters // 10]
    print(
        f"{delivered} delivered; peak {max(r for _, r in points):.0f} MB, slope "
        f"{slope_per_10k(warm):+.1f} MB per 10,000 letters after the first tenth"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
