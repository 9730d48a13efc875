"""Closing a print batch: a big batch (20,000 one-page letters) against a small baseline.

The requirement: closing streams, so memory does not grow with the batch and time per letter
stays flat. Each batch is closed by ``BatchCloser.close()`` in a fresh process (spawn), where
the time of the close and the peak resident set (VmHWM) are measured, so each batch
size has its own high-water mark. A baseline batch is closed before the big one and after
each (--rounds) and the ratios big/baseline are printed: time per letter and peak memory
should both stay near 1.0x. Timings are never asserted (noisy machines); the written folder
is checked (READY, SHA256SUMS, manifest rows, postal order, page count) so a broken close is
never measured as a fast one. Memory is bounded by one open PDF file of at most
``letters_per_file`` letters (about 0.03 MB each), not by the batch: a baseline smaller than
that file shows less memory, so it defaults to 1,000, the setting's default.

Set-up, not measured: the one-page fixture letters, each also with other debtors' names,
streets and sums (``--variants``), are rendered once with ``produce`` and archived; the
ledger then gets N jobs and letters pointing at those PDFs (as the render stage records
them), with varied postal codes (a few abroad) so postal sorting has work to do, and all N
join one open batch. Jobs, letters and batch rows are bulk-inserted: going through
``Batches.join`` one letter at a time (a transaction each, about 1.2 ms on SQLite) would
double the run for nothing measured here. The manifest takes each letter's address from
its job, the PDF shows the pool's, and the archive's OS cache is warm (a pool of about 150
distinct files): a real batch reads N distinct PDFs from the archive, so the close can be
slower there than here.

The letter files' size is printed as "KB per letter in a batch file" against the 8 KB
target (issue 12): a file shares each font subset among its letters (channels.printing.sharing).

    .venv/bin/python bench/batch.py [--letters 20000] [--baseline 1000] [--rounds 1]
        [--database-url postgresql+psycopg://...]  (an empty database; default: SQLite)
        [--letters-per-file 1000]  [--profile]  (cProfile of one more baseline close)  [--keep]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import csv
import datetime as dt
import json
import multiprocessing
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JOBS = sorted((ROOT / "fixtures" / "jobs").glob("*.json"))
CLOCK_DATE = dt.date(2026, 11, 20)  # the fixtures' letter date
ABROAD = (  # country, postal code, city: letters abroad sort after Norwegian ones
    ("SE", "111 21", "Stockholm"),
    ("DK", "2100", "København Ø"),
    ("DE", "10115", "Berlin"),
    ("GB", "SW1A 1AA", "London"),
)
FOREIGN_SHARE = 0.03
INSERT_CHUNK = 2000
#: What a one-page letter may cost inside a print batch file (issue 12), in KB (1024 bytes).
TARGET_KB = 8


@dataclass(frozen=True)
class Template:
    """One rendered fixture letter: its job as the ledger stores it, its letter row's
    columns, and whether its address is abroad."""

    payload: dict[str, Any]
    kind: str
    letter: dict[str, Any]
    abroad: bool


@dataclass(frozen=True)
class Place:
    """Where the bench's ledger, archive and print folder are."""

    database_url: str
    archive_dir: Path
    print_folder: Path
    letters_per_file: int | None = None  # None: the setting's default

    def settings(self) -> Any:
        from letters.config import Printing, Settings

        return Settings(
            database_url=self.database_url,
            archive_dir=self.archive_dir,
            printing=Printing(
                folder=self.print_folder,
                **({"letters_per_file": self.letters_per_file} if self.letters_per_file else {}),
            ),
            clock_date=CLOCK_DATE,
            rehearsal_rules=ROOT / "fixtures" / "rules",
        )


@dataclass(frozen=True)
class Result:
    batch: str
    letters: int
    seconds: float
    rss_start_kib: int  # after imports, before the close
    rss_peak_kib: int
    output_bytes: int
    files: int
    letter_file_bytes: int  # the C5-/C4- PDF files only (not the cover sheet, manifests)

    @property
    def ms_per_letter(self) -> float:
        return self.seconds * 1000 / self.letters

    @property
    def growth_kib(self) -> int:
        return self.rss_peak_kib - self.rss_start_kib


# --- set-up (parent process) ----------------------------------------------------------------


#: Debtors' names and streets the fixture letters are varied with, so the pool's letters
#: differ as real ones do (each a name and amounts of its own, its own characters in its
#: own order): sharing fonts in a batch file must not rest on the pool repeating letters.
NAMES = (
    "Kari Nordmann",
    "Bjørg Ågot Æsøy-Kløvstad",
    "Ola Haugen",
    "Jérôme Lefèvre",
    "Siv Østby",
    "Åse Brænne",
    "Jürgen Müller",
    "Nils Ødegård",
    "Maja Sæther",
    "Ingrid Løvås",
    "José Núñez",
    "Tor Bjørnstad",
    "Ragnhild Kjærstad",
    "Zoë Björk",
    "Hans Christian Wæhre",
    "Emilie Dahl",
)
STREETS = ("Storgata 12 B", "Kongens gate 3", "Bøgata 18", "Ørnevegen 7", "Åsveien 22 A")


def vary(job: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    """Variant ``n`` of a fixture job: another debtor name, street and amounts."""
    job = copy.deepcopy(job)
    if n:
        job["id"] = f"{job['id']}-v{n}"
        job["debtor"]["name"] = rng.choice(NAMES)
        job["debtor"]["address"]["lines"][:1] = [rng.choice(STREETS)]
        for claim in job.get("claims", []):
            claim["principal"] = f"{rng.randrange(100, 99999)}.{rng.randrange(100):02d}"
    return job


def templates(runtime: Any, variants: int) -> list[Template]:
    """Render ``variants`` letters of every one-page fixture job (the fixture itself and
    variants of it, :func:`vary`) once and archive them."""
    from letters import rules
    from letters.credentials import expiry_instant
    from letters.produce import produce
    from letters.refusals import JobRejected
    from letters.rules import tables

    # the rehearsal's assumed confirmations of the unconfirmed interest rates, as make main
    rules.use(tables.rehearsal(ROOT / "fixtures" / "rules"))
    out = []
    rng = random.Random(12)
    jobs = [json.loads(path.read_text("utf-8")) for path in JOBS]
    for job in (vary(job, n, rng) for job in jobs for n in range(variants)):
        try:
            produced = produce(job, runtime.settings)
        except JobRejected:  # a variant the fixture's rules refuse: the others do
            continue
        if produced.safety.pages != 1 or not produced.safety.ok:
            continue
        sha, stored = runtime.archive.put(produced.rendered.pdf)
        letter = produced.composed.letter
        out.append(
            Template(
                payload=produced.job.model_dump(mode="json"),
                kind=produced.job.kind,
                abroad=produced.job.debtor.address.country != "NO",
                letter={
                    "kind": letter.kind,
                    "language": letter.language,
                    "template_name": produced.template.name,
                    "template_version": produced.template.version,
                    "template_sha256": produced.template.sha256,
                    "renderer": produced.rendered.renderer,
                    "kid": letter.kid,
                    "reference": produced.credential.reference,
                    "due_date": letter.due_date,
                    "password_hash": produced.credential.password_hash,
                    "password_tag": produced.credential.tag,
                    "password_expires_at": expiry_instant(letter.letter_date),
                    "pdf_sha256": sha,
                    "page_count": 1,
                    "archive_path": str(stored),
                },
            )
        )
    if not any(t.abroad for t in out) or all(t.abroad for t in out):
        raise SystemExit("the fixtures need one-page letters both in Norway and abroad")
    return out


def _chunks(count: int, size: int) -> Iterator[range]:
    for start in range(0, count, size):
        yield range(start, min(start + size, count))


def fill(runtime: Any, pool: list[Template], count: int, first_id: int, seed: int) -> str:
    """An open batch of ``count`` letters made from ``pool``; returns its id."""
    from sqlalchemy import func, insert, select

    from letters.ledger import BatchStatus, JobStatus
    from letters.ledger.batches import batch_id, sort_key
    from letters.ledger.models import JobRow, LetterRow, PrintBatchLetterRow, PrintBatchRow

    rng = random.Random(seed)
    home = [t for t in pool if not t.abroad]
    away = [t for t in pool if t.abroad]
    at = dt.datetime.now(dt.UTC)
    with runtime.ledger.engine.begin() as conn:
        sequence = (conn.scalar(select(func.max(PrintBatchRow.sequence))) or 0) + 1
        batch = batch_id(sequence)
        conn.execute(
            insert(PrintBatchRow),
            [
                {
                    "id": batch,
                    "sequence": sequence,
                    "status": BatchStatus.OPEN,
                    "open_slot": 1,
                    "opened_at": at,
                    "letters": count,
                    "pages": 0,
                    "sheets": 0,
                }
            ],
        )
        for part in _chunks(count, INSERT_CHUNK):
            jobs, letters, members = [], [], []
            for i in part:
                lid = f"{first_id + i:020d}"
                abroad = rng.random() < FOREIGN_SHARE
                template = rng.choice(away if abroad else home)
                payload = copy.deepcopy(template.payload)
                address = payload["debtor"]["address"]
                if abroad:
                    address["country"], address["postal_code"], address["city"] = rng.choice(ABROAD)
                else:
                    address["postal_code"] = f"{rng.randrange(1, 10000):04d}"
                payload["id"] = f"bench-{lid}"
                jobs.append(
                    {
                        "id": payload["id"],
                        "content_sha256": "0" * 64,
                        "payload": payload,
                        "kind": template.kind,
                        "reference": template.letter["reference"],
                        "letter_id": lid,
                        "status": JobStatus.DELIVERING,
                        "accepted_at": at,
                        "updated_at": at,
                    }
                )
                letters.append(
                    {**template.letter, "id": lid, "job_id": payload["id"], "created_at": at}
                )
                members.append(
                    {
                        "letter_id": lid,
                        "batch_id": batch,
                        "sort_key": sort_key(address["postal_code"], address["country"]),
                        "page_count": 1,
                        "joined_at": at,
                    }
                )
            conn.execute(insert(JobRow), jobs)
            conn.execute(insert(LetterRow), letters)
            conn.execute(insert(PrintBatchLetterRow), members)
    return batch


def first_free_id(ledger: Any) -> int:
    """The bench's letter ids are 20 digits from 7 × 10^19, after any a run before left in
    the database (``--database-url``). An open batch there would take the bench's letters
    in: refused."""
    from sqlalchemy import func, select

    from letters.ledger import BatchStatus
    from letters.ledger.models import LetterRow, PrintBatchRow

    with ledger.session() as s:
        if s.scalar(select(PrintBatchRow.id).where(PrintBatchRow.status == BatchStatus.OPEN)):
            raise SystemExit("the database has an open print batch: use an empty database")
        last = s.scalar(select(func.max(LetterRow.id)).where(LetterRow.id.like("7%")))
    return int(last) + 1 if last and len(last) == 20 else 7 * 10**19


# --- the close (a fresh child process each) -------------------------------------------------


def _status_kib(field: str) -> int:
    """VmRSS (resident now) or VmHWM (peak resident) of this process, in KiB. Not
    ``ru_maxrss``: Linux carries that across exec, so a spawned child would start at its
    parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def close_in_child(place: Place, batch: str, profile: bool) -> tuple[Result, str]:
    """Runs in a spawned process: close ``batch`` and measure it (and profile it if asked)."""
    import cProfile
    import io
    import pstats

    from channels.printing import cover  # noqa: F401  (imported before the measurement)
    from channels.printing.batch import BatchCloser
    from letters.archive import Archive
    from letters.ledger import Ledger

    settings = place.settings()
    closer = BatchCloser(settings, Ledger(settings.database_url), Archive(settings.archive_dir))
    rss_start = _status_kib("VmRSS")
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    closed = closer.close(batch)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - start
    rss_peak = _status_kib("VmHWM")
    [done] = closed
    files = [p for p in done.folder.iterdir() if p.is_file()]
    report = ""
    if profiler is not None:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
        report = text.getvalue()
    result = Result(
        batch=done.id,
        letters=done.letters,
        seconds=seconds,
        rss_start_kib=rss_start,
        rss_peak_kib=rss_peak,
        output_bytes=sum(p.stat().st_size for p in files),
        files=len(files),
        letter_file_bytes=sum(p.stat().st_size for p in files if p.name[:3] in ("C5-", "C4-")),
    )
    return result, report


def close(place: Place, batch: str, profile: bool = False) -> tuple[Result, str]:
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(close_in_child, place, batch, profile).result()


# --- checking what was written --------------------------------------------------------------


def check(folder: Path, expected: int) -> None:
    """The close wrote a whole, consistent folder: else stop (never time a broken close)."""
    import pikepdf

    from channels.printing.publish import verify
    from letters.ledger.batches import sort_key

    problems = verify(folder)
    if not (folder / "READY").exists():
        problems.append("READY is missing")
    with (folder / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        rows = letter_pages = 0
        ids: set[str] = set()
        last = ""
        for row in csv.DictReader(fh):
            rows += 1
            ids.add(row["letter_id"])
            letter_pages += int(row["pages"])
            key = sort_key(row["postal_code"], row["country"])
            if int(row["sequence"]) != rows or key < last:
                problems.append(f"manifest.csv row {rows} is out of order")
                break
            last = key
    if rows != expected or len(ids) != expected or letter_pages != expected:
        problems.append(
            f"manifest.csv has {rows} rows ({len(ids)} letters, {letter_pages} pages), "
            f"not {expected} one-page letters"
        )
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    totals = manifest["totals"]
    if totals["letters"] != expected or len(manifest["letters"]) != expected:
        problems.append("manifest.json does not count every letter")
    if sum(f["letters"] for f in manifest["files"]) != expected:
        problems.append("the manifest's files do not hold every letter")
    # a duplex batch may add a blank back to each odd-paged letter: 1 or 2 pages per letter
    pages = 0
    for info in manifest["files"]:
        with pikepdf.open(folder / info["name"]) as pdf:
            if len(pdf.pages) != info["pages"]:
                problems.append(f"{info['name']} has {len(pdf.pages)} pages, not {info['pages']}")
            pages += len(pdf.pages)
    if pages != totals["pages"] or not expected <= pages <= 2 * expected:
        problems.append(f"the letter files hold {pages} pages, totals say {totals['pages']}")
    if problems:
        raise SystemExit(f"{folder.name}: " + "; ".join(problems))


# --- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20_000, help="the big batch")
    parser.add_argument("--baseline", type=int, default=1_000, help="the small batch")
    parser.add_argument(
        "--rounds", type=int, default=1, help="big batches (each followed by a baseline)"
    )
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temp dir)")
    parser.add_argument("--profile", action="store_true", help="cProfile one more baseline close")
    parser.add_argument(
        "--letters-per-file", type=int, help="the setting (memory is bounded by it, not by N)"
    )
    parser.add_argument(
        "--variants", type=int, default=8, help="letters made of each fixture job (names, sums)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and folders")
    args = parser.parse_args()
    if not 0 < args.baseline < args.letters or args.rounds < 1:
        parser.error("need 0 < --baseline < --letters and --rounds >= 1")

    from letters.archive import Archive
    from letters.ledger import Ledger
    from letters.pipeline.runtime import Runtime

    tmp = Path(tempfile.mkdtemp(prefix="letters-bench-batch-"))
    place = Place(
        database_url=args.database_url or f"sqlite:///{tmp}/ledger.db",
        archive_dir=tmp / "archive",
        print_folder=tmp / "print",
        letters_per_file=args.letters_per_file,
    )
    settings = place.settings()
    ledger = Ledger(settings.database_url)
    ledger.migrate()
    runtime = Runtime(settings, ledger, Archive(settings.archive_dir))
    start = time.perf_counter()
    pool = templates(runtime, max(1, args.variants))
    print(
        f"set-up: {len(pool)} one-page letters (fixtures and variants) rendered and archived in "
        f"{time.perf_counter() - start:.1f} s; ledger {ledger.engine.dialect.name}, "
        f"{settings.printing.letters_per_file} letters per file"
    )

    if args.baseline < settings.printing.letters_per_file:
        print("  (the baseline fills less than one PDF file: expect its peak RSS to be lower)")
    plan = [args.baseline] + [args.letters, args.baseline] * args.rounds
    results: list[Result] = []
    report = ""
    next_id = first_free_id(ledger)
    try:
        for n, count in enumerate([*plan, args.baseline] if args.profile else plan):
            start = time.perf_counter()
            batch = fill(runtime, pool, count, next_id, seed=n)
            filled = time.perf_counter() - start
            next_id += count
            profiled = n == len(plan)  # an extra close, left out of the table
            result, text = close(place, batch, profile=profiled)
            check(place.print_folder / batch, count)
            if profiled:
                report = text
            else:
                results.append(result)
            print(
                f"  {batch}: {count} letters filled in {filled:.1f} s, closed in "
                f"{result.seconds:.1f} s{' (profiled)' if profiled else ''}, checked"
            )
            if not args.keep:
                shutil.rmtree(place.print_folder / batch)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")

    print()
    print(
        f"{'batch':<10} {'letters':>8} {'seconds':>8} {'ms/letter':>10} {'letters/s':>10} "
        f"{'peak RSS MB':>12} {'close +MB':>10} {'output MB':>10} {'files':>6}"
    )
    for i, r in enumerate(results):
        kind = "big" if i % 2 else "baseline"
        print(
            f"{kind:<10} {r.letters:>8} {r.seconds:>8.1f} {r.ms_per_letter:>10.2f} "
            f"{r.letters / r.seconds:>10.0f} {r.rss_peak_kib / 1024:>12.1f} "
            f"{r.growth_kib / 1024:>10.1f} {r.output_bytes / 1e6:>10.1f} {r.files:>6}"
        )
    big = results[1::2]
    small = results[0::2]

    def median(values: Iterator[float]) -> float:
        return statistics.median(values)

    ms = median(r.ms_per_letter for r in big) / median(r.ms_per_letter for r in small)
    rss = median(r.rss_peak_kib for r in big) / median(r.rss_peak_kib for r in small)
    growth = median(r.growth_kib for r in big) / max(1.0, median(r.growth_kib for r in small))
    # time = fixed + letters × marginal, from the two sizes (the fixed part: cover sheet,
    # manifest, checksums, fsync; it is why a small batch costs more per letter)
    marginal = (median(r.seconds for r in big) - median(r.seconds for r in small)) / (
        args.letters - args.baseline
    )
    fixed = median(r.seconds for r in small) - marginal * args.baseline
    print(
        f"marginal {marginal * 1000:.2f} ms/letter, fixed {fixed:.2f} s per close "
        f"(from the medians of both sizes)"
    )
    per_letter = median(r.letter_file_bytes / r.letters for r in big) / 1024
    added = (
        median(r.letter_file_bytes for r in big) - median(r.letter_file_bytes for r in small)
    ) / (args.letters - args.baseline)
    print(
        f"KB per letter in a batch file: {per_letter:.1f} KB (target <= {TARGET_KB} KB; "
        f"{added / 1024:.1f} KB per added letter, from both sizes)"
        f"{'' if per_letter <= TARGET_KB else '  ** over the target **'}"
    )
    if report:
        print(f"\nprofile of one more {args.baseline}-letter close (by own time):")
        print(report.rstrip())
    print(
        f"big/baseline ({args.letters} vs {args.baseline} letters, medians): "
        f"ms/letter {ms:.2f}x, peak RSS {rss:.2f}x, RSS growth during the close {growth:.2f}x "
        f"(flat memory: ~1.0x; flat time per letter: ~1.0x, less with a fixed cost per close)"
    )


if __name__ == "__main__":
    main()
