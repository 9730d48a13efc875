"""Files at rest (issue 11, defect 9): every file the product writes that holds personal
data or passwords is 0600 in 0700 folders, whatever the umask — the archive, the print
batch (merged letters with live passwords, manifests, cover sheet), the SQLite ledger with
its -wal/-shm, the templates cache, a preview. The vendor's drop folder is the one place
another user reads: its copies are 0640 in 0750 folders of the vendor's group, never
readable by others."""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.base import RetriableError
from channels.printing.batch import BatchCloser
from channels.printing.handoff import DropFolder
from letters.codes import Code
from letters.ledger import Ledger
from tests.conftest import FIXTURES, JOB_FILES, Pipeline, load_job
from tests.test_handoff import batch_files, close_batch


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    """The umask most installations have (0022: files 0644 unless the product says)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _modes_under(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` that is not private, with its mode."""
    loose = {}
    for path in [folder, *folder.rglob("*")]:
        wanted = 0o700 if path.is_dir() else 0o600
        if mode(path) != wanted:
            loose[str(path.relative_to(folder.parent))] = oct(mode(path))
    return loose


def test_the_archive_print_batch_ledger_and_templates_cache_are_private(
    pipeline: Pipeline,
) -> None:
    import json

    for path in JOB_FILES[:4]:
        pipeline.submit(json.loads(path.read_text("utf-8")))
    pipeline.drain()
    rt = pipeline.runtime
    [closed] = BatchCloser(rt.settings, rt.ledger, rt.archive).close()
    names = {p.name for p in closed.folder.iterdir()}
    assert {"00-cover.pdf", "manifest.json", "manifest.csv", "SHA256SUMS", "READY"} <= names
    ledger = pipeline.tmp / "ledger.db"
    assert Path(f"{ledger}-wal").exists()  # the ledger is open: its WAL holds data too
    loose = {}
    for folder in ("archive", "print", "templates"):
        loose |= _modes_under(pipeline.tmp / folder)
    for path in (ledger, Path(f"{ledger}-wal"), Path(f"{ledger}-shm")):
        if mode(path) != 0o600:
            loose[path.name] = oct(mode(path))
    assert loose == {}


def test_an_existing_world_readable_ledger_is_narrowed_when_opened(tmp_path: Path) -> None:
    database = tmp_path / "var" / "letters.db"
    Ledger(f"sqlite:///{database}").migrate()
    for path in (database, Path(f"{database}-wal")):
        if path.exists():
            path.chmod(0o644)  # as an older release left it
    Ledger(f"sqlite:///{database}").migrate()
    assert mode(database) == 0o600
    assert mode(database.parent) == 0o700  # the folder the product made


def test_a_preview_is_private(tmp_path: Path) -> None:
    from letters.cli import main

    target = tmp_path / "out" / "preview.pdf"
    assert main(["render", str(FIXTURES / "jobs" / "reminder.nb.json"), "-o", str(target)]) == 0
    assert target.read_bytes().startswith(b"%PDF")
    assert mode(target) == 0o600
    assert load_job("reminder.nb")  # the fixture itself is untouched


def _other_group() -> grp.struct_group:
    """A group other than ours when we may give one (root), else our own."""
    if os.geteuid() == 0:
        return next(g for g in grp.getgrall() if g.gr_gid != os.getgid())
    return grp.getgrgid(os.getgid())


def test_the_drop_folder_copy_is_for_the_vendors_group_only(tmp_path: Path) -> None:
    batch = close_batch(tmp_path / "closed" / "PB000001", batch_files())
    target = tmp_path / "drop"
    target.mkdir()
    vendor = _other_group()
    DropFolder(target, vendor.gr_name).deliver(batch)
    copied = target / "PB000001"
    entries = [copied, *copied.iterdir()]
    assert {p.name: oct(mode(p)) for p in entries} == {
        p.name: "0o750" if p.is_dir() else "0o640" for p in entries
    }
    assert {p.stat().st_gid for p in entries} == {vendor.gr_gid}


def test_without_a_group_the_drop_folders_own_group_reads_it(tmp_path: Path) -> None:
    batch = close_batch(tmp_path / "closed" / "PB000001", batch_files())
    target = tmp_path / "drop"
    target.mkdir()
    vendor = _other_group()
    os.chown(target, -1, vendor.gr_gid)
    DropFolder(target).deliver(batch)
    copied = target / "PB000001"
    assert {p.stat().st_gid for p in [copied, *copied.iterdir()]} == {vendor.gr_gid}
    assert all(mode(p) & 0o007 == 0 for p in [copied, *copied.iterdir()])  # none for others


def test_an_unknown_vendor_group_copies_nothing(tmp_path: Path) -> None:
    batch = close_batch(tmp_path / "closed" / "PB000001", batch_files())
    target = tmp_path / "drop"
    target.mkdir()
    with pytest.raises(RetriableError) as caught:
        DropFolder(target, "no-such-group-here").deliver(batch)
    assert caught.value.code == Code.HANDOFF_IO
    assert list(target.iterdir()) == []
