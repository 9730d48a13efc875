"""The drop-folder hand-off: a folder the vendor watches, often a mounted share.

The batch is built as ``.<batch>.incoming`` beside the vendor's batches, each file written
to ``.<name>.part``, fsynced and renamed (:func:`letters.fsutil.atomic_write`); the folder
is renamed into place, and ``READY`` is written last of all. A share that refuses fsync on
a folder does not fail the hand-off (the renames happened; :func:`letters.fsutil.fsync_dir`).

A batch moved into place but stopped before ``READY`` is completed in place; a stale
staging folder and anything in it not of this batch are removed. Errors: a missing drop
folder is ``handoff-unavailable``, a failing read or write ``handoff-io`` (both retriable);
a different complete batch of the same name is a :class:`HandoffConflict`.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

from channels.base import RetriableError
from channels.printing.handoff.base import (
    MAX_SUMS,
    READY,
    SUMS,
    BatchOnDisk,
    Handoff,
    HandoffConflict,
    HandoffReceipt,
    ListedFile,
    chunks,
    read_batch,
    read_small,
)
from letters.codes import Code
from letters.fsutil import atomic_write, file_sha256, fsync_dir

log = logging.getLogger(__name__)

#: The vendor reads what we copy, possibly as another user of the share.
MODE = 0o644


def _same_file(path: Path, file: ListedFile) -> bool:
    """Whether ``path`` is a regular file with exactly ``file``'s contents."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != file.size:
            return False
        return file_sha256(path) == file.sha256
    except FileNotFoundError:
        return False


class DropFolder(Handoff):
    """Copies batches into ``target`` (which must exist: an unmounted share is not
    silently replaced by a local folder)."""

    name = "folder"

    def __init__(self, target: Path) -> None:
        self.target = Path(target)

    def __repr__(self) -> str:
        return f"DropFolder({str(self.target)!r})"

    def deliver(self, batch_dir: Path) -> HandoffReceipt:
        batch = read_batch(batch_dir)
        final = self.target / batch.name
        staging = self.target / f".{batch.name}.incoming"
        where = str(final)
        try:
            if not self.target.is_dir():
                raise RetriableError(
                    Code.HANDOFF_UNAVAILABLE, f"drop folder {self.target} is not available"
                )
            if final.is_symlink() or (final.exists() and not final.is_dir()):
                raise HandoffConflict(f"{where} exists and is not a batch folder")
            if (final / READY).exists() or (final / READY).is_symlink():
                return self._already_there(final, batch)
            if final.exists():  # moved into place, then stopped before READY: finish it
                work = final
                if staging.exists():
                    shutil.rmtree(staging)
            else:
                work = staging
                if staging.is_symlink() or (staging.exists() and not staging.is_dir()):
                    staging.unlink()  # not ours: we only ever make it a real directory
                work.mkdir(exist_ok=True)
            self._fill(work, batch)
            if work == staging:
                os.rename(staging, final)
                fsync_dir(self.target)
            atomic_write(final / READY, batch.ready, mode=MODE)  # last of all
        except OSError as exc:
            raise RetriableError(
                Code.HANDOFF_IO, f"drop folder {where}: {exc.strerror or exc}"
            ) from exc
        log.info("print batch %s copied to drop folder %s", batch.name, self.target)
        return batch.receipt(where, already_there=False)

    def _already_there(self, final: Path, batch: BatchOnDisk) -> HandoffReceipt:
        try:
            theirs = read_small(final / SUMS, MAX_SUMS)
        except (OSError, ValueError):
            theirs = None
        if theirs != batch.sums:
            raise HandoffConflict(
                f"{final} already has a different batch {batch.name!r} with READY; "
                "a delivered batch is never overwritten"
            )
        log.info("print batch %s is already in drop folder %s", batch.name, self.target)
        return batch.receipt(str(final), already_there=True)

    @staticmethod
    def _fill(work: Path, batch: BatchOnDisk) -> None:
        """Make ``work`` hold exactly the batch's files except READY."""
        wanted = {SUMS, *(f.name for f in batch.files)}
        with os.scandir(work) as entries:
            leftovers = [e for e in entries if e.name not in wanted]
        for entry in leftovers:  # .part files of a crashed copy, another batch's files
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        try:
            current = read_small(work / SUMS, MAX_SUMS)
        except (OSError, ValueError):
            current = None
        if current != batch.sums:
            atomic_write(work / SUMS, batch.sums, mode=MODE, sync_dir=False)
        for file in batch.files:
            if not _same_file(work / file.name, file):
                atomic_write(work / file.name, chunks(file), mode=MODE, sync_dir=False)
        fsync_dir(work)
