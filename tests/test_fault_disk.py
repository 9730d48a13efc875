"""A full disk (issue 11): the archive's, when letters are stored, and the print folder's,
when a batch is closed. Neither fails a job or leaves half a file: a job waits with
``archive-full`` as its last error (``letters status`` shows it) and goes on once there is
room; a batch close stops with ``print-folder-full``, publishes nothing, and the next close
writes the batch whole.

The disks are small tmpfs mounts of the test's own (we run as root); where mounting is not
permitted the tests are skipped, saying so."""

from __future__ import annotations

import copy
import errno
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from letters.ledger import BatchStatus, JobStatus
from letters.ledger.batches import Batches
from tests.conftest import REHEARSAL_RULES, Pipeline, load_job
from tests.faults import tally
from tests.letters_command import run as letters

FILLER = "filler.bin"


def _mount(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("no `mount` command: a small disk cannot be made here")
    if mounted.returncode != 0:
        pytest.skip(f"mounting a small tmpfs is not permitted here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@pytest.fixture
def archive_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB disk where the ``pipeline`` fixture keeps its archive (mounted before it)."""
    yield from _mount(tmp_path / "archive", "2m")


@pytest.fixture
def print_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB disk where the ``pipeline`` fixture writes its print batches."""
    yield from _mount(tmp_path / "print", "2m")


def fill(disk: Path, leave: int = 0) -> None:
    """Fill ``disk`` until at most ``leave`` bytes are free."""
    with (disk / FILLER).open("wb") as fh:
        block = b"\0" * 4096
        try:
            while True:
                st = os.statvfs(disk)
                if st.f_bavail * st.f_frsize <= leave:
                    break
                fh.write(block)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def files_in(disk: Path) -> list[str]:
    """Every file on the disk but the filler, hidden ones too (relative paths)."""
    return sorted(
        str(p.relative_to(disk)) for p in disk.rglob("*") if p.is_file() and p.name != FILLER
    )


def until(what: str, check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


def jobs(count: int, prefix: str) -> list[dict[str, object]]:
    template = load_job("reminder.nb")
    out = []
    for i in range(count):
        job = copy.deepcopy(template)
        job["id"] = f"{prefix}-{i:03d}"
        job["reference"] = f"{prefix.upper()}-{i:06d}"
        out.append(job)
    return out


def test_a_full_archive_keeps_jobs_waiting_with_archive_full_then_they_go_once(
    archive_disk: Path, pipeline: Pipeline
) -> None:
    fill(archive_disk)
    batch = jobs(5, "full")
    for job in batch:
        pipeline.submit(job)
    ledger = pipeline.runtime.ledger

    def waiting() -> bool:
        rows = [ledger.job(str(job["id"])) for job in batch]
        return all(row is not None and row.error_code == "archive-full" for row in rows)

    until("every job noted archive-full", waiting)
    # tried again meanwhile (never counted as retries): none failed, none half-stored
    time.sleep(3)
    assert {pipeline.status(str(job["id"])) for job in batch} == {JobStatus.ACCEPTED}
    assert not [f for f in files_in(archive_disk) if f.endswith(".pdf")]  # no letter stored
    # a try may be writing its .incoming-… file at this very moment (the workers go on
    # trying): none is left behind once that try has met the full disk
    until("no temporary file left behind", lambda: files_in(archive_disk) == [], timeout=10)
    shown = letters(
        "status",
        str(batch[0]["id"]),
        DATABASE_URL=f"sqlite:///{pipeline.tmp / 'ledger.db'}",
        LETTERS_REHEARSAL_RULES=str(REHEARSAL_RULES),
        LETTERS_CLOCK_DATE="2026-11-20",
    )
    assert shown.returncode == 0, shown.stderr
    assert "status accepted" in shown.stdout
    assert "archive-full" in shown.stdout, shown.stdout
    (archive_disk / FILLER).unlink()  # room again: the jobs go on by themselves
    until(
        "every job delivered",
        lambda: {pipeline.status(str(job["id"])) for job in batch} == {JobStatus.DELIVERED},
    )
    counts = tally("archive-full", ledger)
    assert (counts.jobs, counts.letters, counts.deliveries) == (5, 5, 5)
    assert (counts.duplicates, counts.lost) == (0, 0)
    for job in batch:
        row = ledger.job(str(job["id"]))
        assert row is not None and row.error_code is None  # delivered: the note is gone
        assert pipeline.pdf(row.letter_id).startswith(b"%PDF")  # stored whole, hash checked


def test_a_full_print_folder_at_batch_close_publishes_nothing_and_the_next_close_does(
    print_disk: Path, pipeline: Pipeline
) -> None:
    from channels.printing import publish
    from channels.printing.batch import BatchCloser, PrintFolderFull
    from channels.printing.handoff import READY

    batch = jobs(4, "print")
    for job in batch:
        pipeline.submit(job)
    pipeline.drain()
    ledger = pipeline.runtime.ledger
    assert {pipeline.status(str(job["id"])) for job in batch} == {JobStatus.DELIVERED}
    closer = BatchCloser(pipeline.runtime.settings, ledger, pipeline.runtime.archive)
    fill(print_disk, leave=48 * 1024)  # room for some files of the batch, not all
    with pytest.raises(PrintFolderFull) as refused:
        closer.close()
    assert "print-folder-full" in str(refused.value)
    assert files_in(print_disk) == []  # nothing half-published, nothing hidden left behind
    [stuck] = Batches(ledger).waiting(BatchStatus.CLOSING)
    (print_disk / FILLER).unlink()
    [closed] = BatchCloser(pipeline.runtime.settings, ledger, pipeline.runtime.archive).close()
    assert closed.id == stuck.id and closed.letters == len(batch)
    assert (closed.folder / READY).exists() and publish.verify(closed.folder) == []
    assert Batches(ledger).get(stuck.id).status == BatchStatus.CLOSED  # type: ignore[union-attr]
    assert sorted(pipeline.printed()) == sorted(
        row.letter_id for job in batch if (row := ledger.job(str(job["id"]))) is not None
    )
    counts = tally("print-folder-full", ledger)
    assert (counts.jobs, counts.deliveries, counts.duplicates, counts.lost) == (4, 4, 0, 0)
