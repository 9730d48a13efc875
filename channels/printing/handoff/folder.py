"""The drop-folder hand-off: a folder the vendor watches, often a mounted share.

The batch is built as ``.<batch>.incoming`` beside the vendor's batches, each file written
to ``.<name>.part``, fsynced and renamed (:func:`letters.fsutil.atomic_write`); the folder
is renamed into place, and ``READY`` is written last of all. A share that refuses fsync on
a folder does not fail the hand-off (the renames happened; :func:`letters.fsutil.fsync_dir`).

A batch moved into place but stopped before ``READY`` is completed in place; a stale
staging folder and anything in it not of this batch are removed. Errors: a missing drop
folder is ``handoff-unavailable``, a failing read or write ``handoff-io`` (both retriable);
a different complete batch of the same name is a :class:`HandoffConflict`.

**Who may read it.** The letters carry live passwords, so the copies are not readable by
everyone (they were 0644): files are 0640 and folders 0750, owned by the vendor's group,
``printing.handoff.group`` (a name or a number), or by the drop folder's own group when that
is not set. This user must be a member of that group; a group that does not exist or that
this user may not give is ``handoff-io``, and nothing is copied.
"""

from __future__ import annotations

import grp
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
from letters.fsutil import atomic_write, file_sha256, fsync_dir, restrict

log = logging.getLogger(__name__)

#: The vendor reads what we copy as a member of its group, never as anyone else.
MODE = 0o640
DIR_MODE = 0o750


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

    def __init__(self, target: Path, group: str | None = None) -> None:
        self.target = Path(target)
        self.group = group

    def _gid(self) -> int:
        """The vendor's group: the configured one, else the drop folder's."""
        if self.group is None:
            return os.stat(self.target).st_gid
        if self.group.isdigit():
            return int(self.group)
        try:
            return grp.getgrnam(self.group).gr_gid
        except KeyError:
            raise RetriableError(
                Code.HANDOFF_IO, f"drop folder group {self.group!r} does not exist here"
            ) from None

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
            gid = self._gid()
            if final.exists():  # moved into place, then stopped before READY: finish it
                work = final
                if staging.exists():
                    shutil.rmtree(staging)
            else:
                work = staging
                if staging.is_symlink() or (staging.exists() and not staging.is_dir()):
                    staging.unlink()  # not ours: we only ever make it a real directory
                work.mkdir(mode=0o700, exist_ok=True)
            restrict(work, DIR_MODE, gid)
            self._fill(work, batch, gid)
            if work == staging:
                os.rename(staging, final)
                fsync_dir(self.target)
            atomic_write(final / READY, batch.ready, mode=MODE, group=gid)  # last of all
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
    def _fill(work: Path, batch: BatchOnDisk, gid: int) -> None:
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
            atomic_write(work / SUMS, batch.sums, mode=MODE, sync_dir=False, group=gid)
        else:
            restrict(work / SUMS, MODE, gid)
        for file in batch.files:
            if _same_file(work / file.name, file):  # copied before a crash: only its mode
                restrict(work / file.name, MODE, gid)
            else:
                atomic_write(work / file.name, chunks(file), mode=MODE, sync_dir=False, group=gid)
        fsync_dir(work)
