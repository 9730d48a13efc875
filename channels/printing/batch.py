"""Closing a print batch into the folder the print vendor picks up.

``letters batch close`` (or the worker's daily cut-off) claims the open batch and writes::

    out/print/PB000001/
        00-cover.pdf      ReportLab cover sheet: batch id, counts, files, inserter code
        C5-001.pdf        letters of up to ``c5_max_sheets`` sheets, in postal order
        C4-001.pdf        thicker letters (flat, C4 envelopes), in postal order
        manifest.json     every letter: sequence, ids, recipient, file, first page, pages…
        manifest.csv      the same, one row per letter
        SHA256SUMS        of every file above
        READY             written last: a vendor takes only folders that have it

Every page carries the inserter control code (:mod:`channels.printing.inserter`).

The folder is built under a hidden name and renamed into place, then READY is written, then
the ledger records the batch as closed. A crash anywhere in between leaves the batch in
``closing``; the next close rebuilds it from the ledger (same letters, same order) or, when
the folder already has READY and its checksums hold, adopts it. Closing never makes a second
batch of the same letters: a letter belongs to one batch by the ledger's primary key.

Memory stays flat however large the batch: letters are read from the ledger in chunks and
from the archive one by one, and a PDF file holds at most ``letters_per_file`` letters.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pikepdf

from channels.printing import cover, inserter
from channels.printing.handoff import make_handoff, parse_sums
from letters.clock import OSLO
from letters.ledger import BatchStatus
from letters.ledger.batches import Batches, BatchLetter
from letters.ledger.models import PrintBatchRow

log = logging.getLogger(__name__)

COVER = "00-cover.pdf"
A4_PT = (595.2756, 841.8898)
#: A close whose writer has not renewed its lease for this long is taken over.
LEASE = dt.timedelta(minutes=3)
MANIFEST_FIELDS = (
    "sequence",
    "letter_id",
    "reference",
    "name",
    "address_1",
    "address_2",
    "address_3",
    "postal_code",
    "city",
    "country",
    "envelope",
    "file",
    "first_page",
    "pages",
    "sheets",
    "sha256",
)


class BatchError(Exception):
    """A batch cannot be closed or handed off; the message says why."""


@dataclass
class FileInfo:
    name: str
    envelope: str
    letters: int = 0
    pages: int = 0
    sheets: int = 0


@dataclass(frozen=True)
class ClosedBatch:
    id: str
    sequence: int
    folder: Path
    letters: int
    pages: int
    sheets: int
    files: tuple[FileInfo, ...]
    adopted: bool = False  # a crash left it written; this close only recorded it


@dataclass
class _Chunk:
    """One PDF file being written: the target and what is in it so far."""

    info: FileInfo
    pdf: pikepdf.Pdf


def _safe_cell(value: str) -> str:
    """A manifest cell a spreadsheet will not run as a formula (CSV injection).

    >>> _safe_cell("=HYPERLINK(1)"), _safe_cell("Kari")
    ("'=HYPERLINK(1)", 'Kari')
    """
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path) -> list[str]:
    """Problems with a written batch folder (empty: every file matches SHA256SUMS)."""
    if not (folder / "SHA256SUMS").exists():
        return ["SHA256SUMS is missing"]
    problems = []
    try:
        sums = parse_sums((folder / "SHA256SUMS").read_bytes())
    except ValueError as exc:
        return [str(exc)]
    for name, digest in sums.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif _sha256_file(path) != digest:
            problems.append(f"{name} does not match its checksum")
    extra = {p.name for p in folder.iterdir()} - set(sums) - {"SHA256SUMS", "READY"}
    problems += [f"{name} is not in SHA256SUMS" for name in sorted(extra)]
    return problems


class BatchCloser:
    def __init__(self, runtime: Any) -> None:
        self.rt = runtime
        self.settings = runtime.settings
        self.batches = Batches(runtime.ledger)
        self.root = Path(self.settings.printing.folder)

    # --- the whole close --------------------------------------------------------------------

    def close(self, batch: str | None = None) -> list[ClosedBatch]:
        """Finish any batch a crash left half-closed, then close the open batch (or the one
        named). Returns what was closed; empty when nothing was waiting."""
        done = []
        for stuck in self.batches.waiting(BatchStatus.CLOSING):
            if self.batches.claim_resume(stuck.id, LEASE):
                log.warning("print batch %s: resuming a close that stopped", stuck.id)
                try:
                    done.append(self._write(stuck))
                except BatchError:
                    # needs an operator; it must not keep the next batches from closing
                    log.exception("print batch %s cannot be finished", stuck.id)
            else:
                log.info("print batch %s is being closed by another process", stuck.id)
        row = self.batches.claim_close(batch)
        if row is not None:
            done.append(self._write(row))
        elif batch is not None and not any(b.id == batch for b in done):
            known = self.batches.get(batch)
            if known is None:
                raise BatchError(f"there is no print batch {batch}")
            if known.status not in (BatchStatus.CLOSED, BatchStatus.HANDED_OFF):
                raise BatchError(f"print batch {batch} is {known.status}")
        return done

    def hand_off(self) -> list[dict[str, Any]]:
        """Hand every closed batch not yet handed off to the vendor (drop folder or SFTP).
        Re-delivering a batch the vendor already has complete does nothing there. A batch
        that fails (the vendor's server down) is reported with ``error`` and stays closed
        for the next round; the others go on."""
        handoff = make_handoff(self.settings.printing.handoff)
        if handoff is None:
            return []
        done = []
        for row in self.batches.waiting(BatchStatus.CLOSED):
            if row.folder is None:
                continue
            try:
                receipt = handoff.deliver(Path(row.folder))
            except Exception as exc:  # the vendor's server is down: the next round retries
                log.error("print batch %s not handed off: %s", row.id, exc)
                done.append({"batch": row.id, "error": f"{type(exc).__name__}: {exc}"})
                continue
            record = {"batch": row.id, **dataclasses.asdict(receipt)}
            record = json.loads(json.dumps(record, default=str))
            self.batches.mark_handed_off(row.id, record)
            log.info("print batch %s handed off to %s", row.id, record.get("target"))
            done.append(record)
        return done

    # --- writing one batch ------------------------------------------------------------------

    def _write(self, row: PrintBatchRow) -> ClosedBatch:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / row.id
        if (final / "READY").exists():
            # published before a crash kept the ledger from recording it: the vendor may
            # have it already, so it is adopted as it is or left to an operator, never
            # written (and printed) a second time
            problems = verify(final) or self._other_letters(row, final)
            if problems:
                raise BatchError(
                    f"print batch {row.id} has READY but cannot be adopted: "
                    + "; ".join(problems[:3])
                )
            closed = self._adopt(row, final)
        else:
            closed = self._build(row, final)
        self.batches.mark_closed(
            row.id,
            closed.letters,
            closed.pages,
            closed.sheets,
            str(final),
            hashlib.sha256((final / "SHA256SUMS").read_bytes()).hexdigest(),
        )
        log.info(
            "print batch %s closed: %d letters, %d pages, %d sheets",
            row.id,
            closed.letters,
            closed.pages,
            closed.sheets,
        )
        return closed

    def _other_letters(self, row: PrintBatchRow, final: Path) -> list[str]:
        """Problems if the folder's manifest is not exactly this batch's letters (an old
        folder of the same name after the ledger was reset, say)."""
        with (final / "manifest.csv").open(encoding="utf-8", newline="") as fh:
            listed = {r["letter_id"] for r in csv.DictReader(fh)}
        ours = {letter.letter_id for letter in self.batches.letters(row.id)}
        return [] if listed <= ours else ["its manifest lists letters of another batch"]

    def _adopt(self, row: PrintBatchRow, final: Path) -> ClosedBatch:
        manifest = json.loads((final / "manifest.json").read_text())
        files = tuple(FileInfo(**f) for f in manifest["files"])
        totals = manifest["totals"]
        return ClosedBatch(
            row.id,
            row.sequence,
            final,
            totals["letters"],
            totals["pages"],
            totals["sheets"],
            files,
            adopted=True,
        )

    @functools.cached_property
    def placement(self) -> inserter.Placement:
        """The configured inserter-code position, refused if it would cover the window,
        the left-margin zone or the letter's text."""
        placement = inserter.Placement(**self.settings.printing.inserter.model_dump())
        try:
            inserter.validate_placement(placement, window=self.settings.window)
        except ValueError as exc:
            raise BatchError(f"LETTERS_PRINTING__INSERTER: {exc}") from None
        return placement

    def _build(self, row: PrintBatchRow, final: Path) -> ClosedBatch:
        p = self.settings.printing
        self.placement  # noqa: B018 - refuse a bad position before anything is written
        building = self.root / f".{row.id}.building"
        if building.exists():
            shutil.rmtree(building)
        building.mkdir()
        closing_at = row.closing_at or dt.datetime.now(dt.UTC)
        files: list[FileInfo] = []
        open_chunks: dict[str, _Chunk] = {}
        counters: dict[str, int] = {}
        letters = pages = sheets = foreign = 0
        with (
            (building / "manifest.csv").open("w", newline="", encoding="utf-8") as csv_fh,
            (building / ".letters.json").open("w", encoding="utf-8") as json_fh,
        ):
            table = csv.DictWriter(csv_fh, fieldnames=MANIFEST_FIELDS)
            table.writeheader()
            for letter in self.batches.letters(row.id):
                letters += 1
                if letters % 500 == 0:
                    self.batches.renew(row.id)
                n = letter.page_count
                s = cover.sheets([n], p.duplex)
                envelope = "C5" if s <= p.c5_max_sheets else "C4"
                chunk = open_chunks.get(envelope)
                if chunk is None or chunk.info.letters >= p.letters_per_file:
                    if chunk is not None:
                        self._save(chunk, building)
                    counters[envelope] = counters.get(envelope, 0) + 1
                    info = FileInfo(f"{envelope}-{counters[envelope]:03d}.pdf", envelope)
                    files.append(info)
                    chunk = open_chunks[envelope] = _Chunk(info, pikepdf.new())
                first_page = chunk.info.pages + 1
                before = len(chunk.pdf.pages)
                try:
                    self._append(chunk, letter, row.sequence, letters)
                except Exception as exc:
                    # an archive copy gone bad, a page that cannot take the code: this
                    # letter stays out (no half-copied pages), the rest of the batch goes
                    del chunk.pdf.pages[before:]
                    self._leave_out(row.id, letter, exc)
                    letters -= 1
                    continue
                printed = n
                if p.duplex and n % 2:  # a blank back: the next letter starts on its own sheet
                    chunk.pdf.add_blank_page(page_size=A4_PT)
                    printed += 1
                chunk.info.letters += 1
                chunk.info.pages += printed
                chunk.info.sheets += s
                pages += printed
                sheets += s
                entry = self._entry(letter, letters, envelope, chunk.info.name, first_page, s)
                foreign += entry["country"] != "NO"
                table.writerow({k: _safe_cell(str(v)) for k, v in entry.items()})
                json_fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            for chunk in open_chunks.values():
                self._save(chunk, building)
        if letters == 0:
            shutil.rmtree(building)
            raise BatchError(f"print batch {row.id} has no letters")
        self.batches.renew(row.id)
        created = closing_at.astimezone(OSLO)
        (building / COVER).write_bytes(
            cover.cover_sheet(
                cover.CoverInfo(
                    batch_id=row.id,
                    sequence=row.sequence,
                    created_at=created,
                    sender_name=self.settings.sender.name,
                    files=tuple((f.name, f.letters, f.pages, f.sheets) for f in files),
                    duplex=p.duplex,
                    foreign_letters=foreign,
                    placement=self.placement,
                )
            )
        )
        self._manifest(building, row, created, files, letters, pages, sheets)
        names = sorted(f.name for f in building.iterdir() if not f.name.startswith("."))
        sums = "".join(f"{_sha256_file(building / n)}  {n}\n" for n in names)
        (building / "SHA256SUMS").write_text(sums)
        for name in [*names, "SHA256SUMS"]:
            _fsync_file(building / name)
        _fsync_dir(building)
        self.batches.renew(row.id)
        if final.exists():  # a half-written folder from a crash between rename and READY
            shutil.rmtree(final)
        os.replace(building, final)
        ready_tmp = self.root / f".{row.id}.READY"
        ready_tmp.write_text(f"{row.id}\n{hashlib.sha256(sums.encode()).hexdigest()}\n")
        _fsync_file(ready_tmp)
        os.replace(ready_tmp, final / "READY")
        _fsync_dir(final)
        _fsync_dir(self.root)
        return ClosedBatch(
            row.id, row.sequence, final, letters, pages, sheets, tuple(files), adopted=False
        )

    def _leave_out(self, batch: str, letter: BatchLetter, exc: Exception) -> None:
        reason = f"left out of print batch {batch}: {type(exc).__name__}: {exc}"[:500]
        log.error("letter %s %s", letter.letter_id, reason)
        self.batches.leave_out(letter.letter_id, letter.job_id, reason)

    def _append(self, chunk: _Chunk, letter: BatchLetter, batch_seq: int, letter_seq: int) -> None:
        # pikepdf copies the pages' objects into the target on append, so the source is
        # closed at once (holding every source until the file is saved doubled the memory)
        with pikepdf.open(io.BytesIO(self.rt.archive.get(letter.pdf_sha256))) as source:
            inserter.stamp_into(
                chunk.pdf, source, batch_seq, letter_seq, self.placement, self.settings.window
            )

    @staticmethod
    def _save(chunk: _Chunk, folder: Path) -> None:
        chunk.pdf.save(folder / chunk.info.name, deterministic_id=True, compress_streams=True)
        chunk.pdf.close()

    @staticmethod
    def _entry(
        letter: BatchLetter, sequence: int, envelope: str, file: str, first_page: int, sheets: int
    ) -> dict[str, Any]:
        # the payload was validated at intake; read it as stored (validating 20,000 jobs
        # again cost a sixth of the close)
        debtor = letter.payload["debtor"]
        addr = debtor["address"]
        street = [*addr["lines"], "", "", ""][:3]
        return {
            "sequence": sequence,
            "letter_id": letter.letter_id,
            "reference": letter.reference,
            "name": debtor["name"],
            "address_1": street[0],
            "address_2": street[1],
            "address_3": street[2],
            "postal_code": addr["postal_code"],
            "city": addr["city"],
            "country": addr.get("country", "NO"),
            "envelope": envelope,
            "file": file,
            "first_page": first_page,
            "pages": letter.page_count,
            "sheets": sheets,
            "sha256": letter.pdf_sha256,
        }

    def _manifest(
        self,
        folder: Path,
        row: PrintBatchRow,
        created: dt.datetime,
        files: list[FileInfo],
        letters: int,
        pages: int,
        sheets: int,
    ) -> None:
        """manifest.json, written as a stream: the letters are copied line by line from the
        scratch file, never held in memory together."""
        scratch = folder / ".letters.json"
        head = {
            "batch": row.id,
            "sequence": row.sequence,
            "created_at": created.isoformat(),
            "sender": self.settings.sender.name,
            "duplex": self.settings.printing.duplex,
            "inserter_code": inserter.describe(self.placement),
            "sha256_of": "each letter's PDF as archived, before the inserter code was added",
        }
        with (folder / "manifest.json").open("w", encoding="utf-8") as out:
            out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "letters": [\n')
            with scratch.open(encoding="utf-8") as src:
                _copy_lines(src, out)
            out.write("\n ],\n")
            out.write(' "files": ' + json.dumps([f.__dict__ for f in files], ensure_ascii=False))
            out.write(
                ',\n "totals": '
                + json.dumps({"letters": letters, "pages": pages, "sheets": sheets})
                + "\n}\n"
            )
        scratch.unlink()


def _copy_lines(src: IO[str], out: IO[str]) -> None:
    first = True
    for line in _lines(src):
        out.write(("  " if first else ",\n  ") + line)
        first = False


def _lines(src: IO[str]) -> Iterator[str]:
    for line in src:
        line = line.rstrip("\n")
        if line:
            yield line


def last_cutoff(at: dt.datetime, cutoff: dt.time) -> dt.datetime:
    """The most recent daily cut-off (Oslo time) at or before ``at``.

    >>> at = dt.datetime(2026, 11, 20, 15, 0, tzinfo=OSLO)
    >>> last_cutoff(at, dt.time(16, 0)).isoformat(), last_cutoff(at, dt.time(14, 0)).isoformat()
    ('2026-11-19T16:00:00+01:00', '2026-11-20T14:00:00+01:00')
    """
    local = at.astimezone(OSLO)
    today = dt.datetime.combine(local.date(), cutoff, tzinfo=OSLO)
    if today > local:
        today = dt.datetime.combine(local.date() - dt.timedelta(days=1), cutoff, tzinfo=OSLO)
    return today


def close_at_cutoff(runtime: Any, at: dt.datetime | None = None) -> list[ClosedBatch]:
    """The worker's daily close: the open batch, if it was opened before the last cut-off,
    is closed. Several workers may call this at once; one closes. (The worker hands closed
    batches off every round, so a vendor outage only delays them.)"""
    cutoff = runtime.settings.printing.cutoff
    if cutoff is None:
        return []
    instant = last_cutoff(at or dt.datetime.now(dt.UTC), cutoff)
    closer = BatchCloser(runtime)
    due = closer.batches.opened_before(instant)
    if due is None:
        return []
    return closer.close(due.id)
