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

Every page carries the inserter control code (:mod:`channels.printing.inserter`); the
manifests and the cover's data are :mod:`channels.printing.manifest`'s, building the folder
under a hidden name, sealing and publishing it :mod:`channels.printing.publish`'s.

:class:`BatchCloser` is the application service that runs a close: it takes what it needs
(the settings, the ledger, the archive) explicitly. The folder is published, then the ledger
records the batch as closed. A crash anywhere in between leaves the batch in ``closing``;
the next close rebuilds it from the ledger (same letters, same order) or, when the folder
already has READY and its checksums hold, adopts it. A print folder whose disk is full
(:class:`PrintFolderFull`, ``print-folder-full``) leaves nothing behind: the half-built
folder is removed, the batch stays ``closing`` with its lease given back, and the next close
(the worker's next round) writes it again. Closing never makes a second batch of
the same letters: a letter belongs to one batch by the ledger's primary key.

Memory stays flat however large the batch: letters are read from the ledger in chunks and
from the archive one by one, and a PDF file holds at most ``letters_per_file`` letters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import functools
import io
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channels.base import ChannelError
from channels.printing import manifest, publish
from channels.printing.handoff import READY, make_handoff
from channels.printing.inserter.placement import Placement, validate_placement
from channels.printing.manifest import FileInfo, Totals
from letters.archive import Archive
from letters.clock import OSLO
from letters.codes import Code
from letters.config import Settings
from letters.fsutil import atomic_write, private_dirs
from letters.geometry import A4_PT
from letters.ledger import BatchStatus, Ledger
from letters.ledger.batches import Batches, BatchLetter
from letters.ledger.models import PrintBatchRow

if TYPE_CHECKING:  # what writes a batch is loaded when one is written: pikepdf, qpdf and
    # ReportLab's cover sheet are about 20 MB in every worker process, whose closer only
    # looks for a batch to close most of the day (bench/worker_soak.py)
    import pikepdf

    from channels.printing.sharing import Pool

log = logging.getLogger(__name__)

#: A close whose writer has not renewed its lease for this long is taken over.
LEASE = dt.timedelta(minutes=3)


class BatchError(Exception):
    """A batch cannot be closed or handed off; the message says why."""


class PrintFolderFull(BatchError):
    """The print folder's disk is full: nothing of the batch was published, and the next
    close writes it again."""

    code = Code.PRINT_FOLDER_FULL


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


def _font_pool() -> Pool:
    from channels.printing.sharing import Pool

    return Pool()


@dataclass
class _Chunk:
    """One PDF file being written: the target and what is in it so far."""

    info: FileInfo
    pdf: pikepdf.Pdf
    pool: Pool = dataclasses.field(default_factory=_font_pool)  # one copy a font


class BatchCloser:
    """Closes print batches into ``settings.printing.folder`` and hands them off."""

    def __init__(self, settings: Settings, ledger: Ledger, archive: Archive) -> None:
        self.settings = settings
        self.batches = Batches(ledger)
        self.archive = archive
        self.root = Path(settings.printing.folder)
        #: told (batch id, letters written, letters in the batch) as a close goes on: the
        #: command line's progress bar
        self.on_progress: Callable[[str, int, int], None] | None = None
        #: why a half-closed batch could not be finished by the last :meth:`close`
        self.unfinished: list[str] = []

    # --- the whole close --------------------------------------------------------------------

    def close(self, batch: str | None = None) -> list[ClosedBatch]:
        """Finish any batch a crash left half-closed, then close the open batch (or the one
        named). Returns what was closed; empty when nothing was waiting. A half-closed batch
        that cannot be finished (it needs an operator) does not keep the others from
        closing: why is in :attr:`unfinished`."""
        self.unfinished = []
        done = self._resume()
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

    def _resume(self) -> list[ClosedBatch]:
        """Finish the batches a crash (or a full disk) left half-closed."""
        done = []
        for stuck in self.batches.waiting(BatchStatus.CLOSING):
            if self.batches.claim_resume(stuck.id, LEASE):
                log.warning("print batch %s: resuming a close that stopped", stuck.id)
                try:
                    done.append(self._write(stuck))
                except BatchError as exc:
                    # needs an operator; it must not keep the next batches from closing
                    log.error("%s", exc)
                    self.unfinished.append(str(exc))
            else:
                log.info("print batch %s is being closed by another process", stuck.id)
        return done

    def close_at_cutoff(self, at: dt.datetime | None = None) -> list[ClosedBatch]:
        """The worker's daily close: the open batch, if it was opened before the last
        cut-off, is closed. Several workers may call this at once; one closes. (The worker
        hands closed batches off every round, so a vendor outage only delays them.) A close
        that stopped (a full print folder) is finished at the next round."""
        cutoff = self.settings.printing.cutoff
        if cutoff is None:
            return []
        due = self.batches.opened_before(last_cutoff(at or dt.datetime.now(dt.UTC), cutoff))
        if due is None:
            return self._resume()
        return self.close(due.id)

    def hand_off(self) -> list[dict[str, Any]]:
        """Hand every closed batch not yet handed off to the vendor (drop folder or SFTP).
        Re-delivering a batch the vendor already has complete does nothing there. A batch
        that fails (the vendor's server down) is reported with ``error`` (and its
        ``handoff-*`` ``code``) and stays closed for the next round; the others go on."""
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
                if isinstance(exc, ChannelError):
                    done.append(
                        {"batch": row.id, "code": str(exc.code), "error": f"{exc.code}: {exc}"}
                    )
                else:  # a batch folder that is not what it should be
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
        private_dirs(self.root)
        final = self.root / row.id
        if (final / READY).exists():
            # published before a crash kept the ledger from recording it: the vendor may
            # have it already, so it is adopted as it is or left to an operator, never
            # written (and printed) a second time
            problems = publish.verify(final) or self._other_letters(row, final)
            if problems:
                raise BatchError(
                    f"print batch {row.id} has READY but cannot be adopted: "
                    + "; ".join(problems[:3])
                )
            files, totals = manifest.read_summary(final)
            closed = ClosedBatch(
                row.id,
                row.sequence,
                final,
                totals.letters,
                totals.pages,
                totals.sheets,
                files,
                adopted=True,
            )
        else:
            try:
                closed = self._build(row, final)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                self._discard(row, final)
                raise PrintFolderFull(
                    f"print batch {row.id} not published: the print folder {self.root} is "
                    f"full ({exc.strerror}); nothing was left half-written, and the next close "
                    f"writes it again [{Code.PRINT_FOLDER_FULL}]"
                ) from None
        self.batches.mark_closed(
            row.id,
            closed.letters,
            closed.pages,
            closed.sheets,
            str(final),
            publish.sums_sha256(final),
        )
        log.info(
            "print batch %s closed: %d letters, %d pages, %d sheets",
            row.id,
            closed.letters,
            closed.pages,
            closed.sheets,
        )
        return closed

    def _discard(self, row: PrintBatchRow, final: Path) -> None:
        """After a full disk: remove what the close wrote (the hidden folder, a folder
        renamed into place before READY could be written) and give the lease back, so the
        next close takes the batch at once."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.root / f".{row.id}.building")
        if final.exists() and not (final / READY).exists():
            shutil.rmtree(final, ignore_errors=True)
        self.batches.release_lease(row.id)
        log.error("print batch %s: the print folder is full; the next close tries again", row.id)

    def _other_letters(self, row: PrintBatchRow, final: Path) -> list[str]:
        """Problems if the folder's manifest is not exactly this batch's letters as this
        ledger made them: an old folder of the same name after the ledger was reset, or one
        another ledger wrote into the same print folder (the same jobs give the same letter
        ids, but each ledger drew its own passwords, so the PDFs differ)."""
        listed = manifest.listed_letters(final)
        ours = {letter.letter_id: letter.pdf_sha256 for letter in self.batches.letters(row.id)}
        if not listed.keys() <= ours.keys():
            return ["its manifest lists letters of another batch"]
        if any(ours[letter] != digest for letter, digest in listed.items()):
            return [
                "its letters are not this ledger's (the same letter ids with other PDFs: "
                f"another ledger wrote {final}); move that folder away if it is not this "
                "ledger's, and close again"
            ]
        return []

    @functools.cached_property
    def placement(self) -> Placement:
        """The configured inserter-code position, refused if it would cover the window,
        the left-margin zone or the letter's text."""
        placement = Placement(**self.settings.printing.inserter.model_dump())
        try:
            validate_placement(placement, window=self.settings.window)
        except ValueError as exc:
            raise BatchError(f"LETTERS_PRINTING__INSERTER: {exc}") from None
        return placement

    def _build(self, row: PrintBatchRow, final: Path) -> ClosedBatch:
        import pikepdf

        from channels.printing import cover

        p = self.settings.printing
        self.placement  # noqa: B018 - refuse a bad position before anything is written
        folder = publish.building(self.root, row.id)
        created = (row.closing_at or dt.datetime.now(dt.UTC)).astimezone(OSLO)
        files: list[FileInfo] = []
        open_chunks: dict[str, _Chunk] = {}
        counters: dict[str, int] = {}
        letters = pages = sheets = 0
        total = self.batches.size(row.id) if self.on_progress else 0
        with manifest.ManifestWriter(folder) as listing:
            for letter in self.batches.letters(row.id):
                letters += 1
                if self.on_progress is not None:
                    self.on_progress(row.id, letters, total)
                if letters % 500 == 0:
                    self.batches.renew(row.id)
                n = letter.page_count
                s = cover.sheets([n], p.duplex)
                envelope = "C5" if s <= p.c5_max_sheets else "C4"
                chunk = open_chunks.get(envelope)
                if chunk is None or chunk.info.letters >= p.letters_per_file:
                    if chunk is not None:
                        self._save(chunk, folder)
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
                listing.add(
                    manifest.entry(letter, letters, envelope, chunk.info.name, first_page, s)
                )
            for chunk in open_chunks.values():
                self._save(chunk, folder)
        if letters == 0:
            shutil.rmtree(folder)
            raise BatchError(f"print batch {row.id} has no letters")
        self.batches.renew(row.id)
        head = manifest.head(
            row.id, row.sequence, created, self.settings.sender.name, p.duplex, self.placement
        )
        sheet = manifest.cover_info(head, created, files, listing.foreign, self.placement)
        atomic_write(folder / manifest.COVER, cover.cover_sheet(sheet), sync_dir=False)
        listing.finish(head, files, Totals(letters, pages, sheets))
        sums = publish.seal(folder)
        self.batches.renew(row.id)
        publish.publish(folder, final, sums)
        return ClosedBatch(row.id, row.sequence, final, letters, pages, sheets, tuple(files))

    def _leave_out(self, batch: str, letter: BatchLetter, exc: Exception) -> None:
        reason = f"left out of print batch {batch}: {type(exc).__name__}: {exc}"[:500]
        log.error("letter %s %s", letter.letter_id, reason)
        self.batches.leave_out(letter.letter_id, letter.job_id, reason)

    def _append(self, chunk: _Chunk, letter: BatchLetter, batch_seq: int, letter_seq: int) -> None:
        # pikepdf copies the pages' objects into the target on append, so the source is
        # closed at once (holding every source until the file is saved doubled the memory)
        import pikepdf

        from channels.printing.inserter.stamping import stamp_into

        with pikepdf.open(io.BytesIO(self.archive.get(letter.pdf_sha256))) as source:
            plan = chunk.pool.detach(source, len(chunk.pdf.pages))  # fonts the file has
            stamp_into(
                chunk.pdf, source, batch_seq, letter_seq, self.placement, self.settings.window
            )
            chunk.pool.attach(chunk.pdf, plan)

    @staticmethod
    def _save(chunk: _Chunk, folder: Path) -> None:
        # saved in memory (one file holds at most letters_per_file letters), then written
        # atomically: never half a file under its name; qpdf writing into a Python file
        # that fails (a full disk) may bring the process down
        buffer = io.BytesIO()
        try:
            chunk.pdf.save(buffer, deterministic_id=True, compress_streams=True)
        finally:
            chunk.pdf.close()
        atomic_write(folder / chunk.info.name, buffer.getvalue(), sync_dir=False)


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
