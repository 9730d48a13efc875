"""Whether the pipeline's evidence path grows a process's memory, without the renderer: for
N letters, what the stages write and read besides making the PDF (the job accepted, the
letter recorded, the delivery claimed, the attempt begun and finished, the letter joined
to a print batch, the PDF put into and read from the archive), with RSS printed every
``--every`` letters and the growth per 10,000 after the first tenth.

    .venv/bin/python bench/evidence_growth.py [--letters 20000] [--ledger sqlite|postgresql]

``bench/soak.py`` is the renderer alone (flat); ``bench/worker_soak.py`` the whole worker
(it grows): this is the part between them.
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
import pipeline  # noqa: E402  (bench/pipeline.py: the same jobs and database)
from soak import slope_per_10k  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--ledger", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="letters-evidence-"))
    url = f"sqlite:///{tmp}/ledger.db" if args.ledger == "sqlite" else pipeline.database()
    os.environ.setdefault("LETTERS_CLOCK_DATE", "2026-11-20")
    os.environ.setdefault("LETTERS_REHEARSAL_RULES", str(HERE.parent / "fixtures" / "rules"))
    from letters import rules
    from letters.archive import Archive
    from letters.ledger import Ledger
    from letters.ledger.batches import Batches
    from letters.ledger.models import AttemptRow, LetterRow
    from letters.rules import tables
    from letters.validation import parse

    rules.use(tables.rehearsal(HERE.parent / "fixtures" / "rules"))  # the fixtures' rates
    ledger = Ledger(url)
    ledger.migrate()
    archive, batches = Archive(tmp / "archive"), Batches(ledger)
    points: list[tuple[int, float]] = []
    for i, job in enumerate(pipeline.jobs(args.letters, "ev")):
        parsed = parse(job)
        ledger.accept(parsed)
        pdf = os.urandom(36_000)  # an archived letter's size, new bytes each time
        digest, path = archive.put(pdf)
        now = dt.datetime.now(dt.UTC)
        letter_id = f"{i:020d}"
        ledger.record_letter(
            LetterRow(
                id=letter_id,
                job_id=str(job["id"]),
                kind=job["kind"],
                language=str(job.get("language", "nb")),
                template_name="reminder.nb.html",
                template_version="1",
                template_sha256="0" * 64,
                renderer="fast",
                kid="123456782",
                reference=str(job["reference"]),
                due_date=dt.date(2026, 12, 4),
                password_hash="h",
                password_tag=None,
                password_expires_at=now + dt.timedelta(days=21),
                pdf_sha256=digest,
                page_count=1,
                archive_path=str(path),
                created_at=now,
            )
        )
        job_id = str(job["id"])
        ledger.claim_delivery(job_id, ("routed", "print"))
        intent = ledger.begin_attempt(letter_id, "print")
        archive.get(digest)
        joined = batches.join(letter_id, f"0|{i % 9000:04d}", 1)
        ledger.finish_delivery(
            job_id,
            AttemptRow(
                letter_id=letter_id,
                channel="print",
                status="delivered",
                external_id=joined.batch_id,
                receipt={"batch": joined.batch_id},
                at=now,
            ),
            detail=f"print {joined.batch_id}",
            intent=intent,
        )
        if (i + 1) % args.every == 0:
            points.append((i + 1, rss_mb()))
            print(f"{i + 1:>7} letters  RSS {points[-1][1]:.0f} MB", flush=True)
    warm = [p for p in points if p[0] > args.letters // 10]
    print(
        f"{args.ledger} ledger: peak {max(r for _, r in points):.0f} MB, slope "
        f"{slope_per_10k(warm):+.1f} MB per 10,000 letters after the first tenth"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
