"""Publishing a batch folder the vendor may take: built hidden, sealed, renamed, READY last.

A batch is written into a hidden folder beside the others (``.PB000001.building``,
:func:`building`); :func:`seal` writes ``SHA256SUMS`` over every file in it and makes them
all durable; :func:`publish` renames the folder into place and writes ``READY`` last of
all (a vendor takes only folders that have it). Every write goes through
:mod:`letters.fsutil` (atomic writes, fsync of files and folders, file digests).

The letters in a batch carry live passwords: the batch folder is 0700 and every file in it
0600 (the SFTP hand-off reads them as this user; the drop-folder hand-off gives its copies
to the vendor's group, :mod:`channels.printing.handoff.folder`).

:func:`verify` checks a written folder against its ``SHA256SUMS``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from channels.printing.handoff.base import READY, SUMS, parse_sums
from letters.fsutil import (
    PRIVATE_DIR,
    PRIVATE_FILE,
    atomic_write,
    file_sha256,
    fsync_dir,
    fsync_file,
    private_dirs,
    restrict,
)

#: Ours alone: the hand-off gives the vendor its own copy (or reads these itself, SFTP).
MODE = PRIVATE_FILE


def building(root: Path, batch_id: str) -> Path:
    """An empty hidden folder in ``root`` to build batch ``batch_id`` in (what a crash left
    there before is removed)."""
    private_dirs(root)
    folder = root / f".{batch_id}.building"
    if folder.exists():
        shutil.rmtree(folder)
    os.mkdir(folder, PRIVATE_DIR)
    os.chmod(folder, PRIVATE_DIR)
    return folder


def seal(folder: Path) -> bytes:
    """Write ``SHA256SUMS`` over every (not hidden) file in ``folder`` and make every file
    and the folder durable, each file 0600 (whatever wrote it: pikepdf, the manifest).
    Returns ``SHA256SUMS`` as written."""
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    for name in names:
        restrict(folder / name, MODE)
    sums = "".join(f"{file_sha256(folder / name)}  {name}\n" for name in names).encode()
    atomic_write(folder / SUMS, sums, mode=MODE, sync_dir=False)
    for name in names:
        fsync_file(folder / name)
    fsync_dir(folder)
    return sums


def publish(staged: Path, final: Path, sums: bytes) -> None:
    """Rename the sealed folder ``staged`` to ``final`` (replacing what a crash between
    rename and READY left there), then write ``READY`` last."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staged, final)
    ready = f"{final.name}\n{hashlib.sha256(sums).hexdigest()}\n".encode()
    atomic_write(final / READY, ready, mode=MODE)
    fsync_dir(final.parent)


def verify(folder: Path) -> list[str]:
    """Problems with a written batch folder (empty: every file matches SHA256SUMS)."""
    if not (folder / SUMS).exists():
        return [f"{SUMS} is missing"]
    problems = []
    try:
        sums = parse_sums((folder / SUMS).read_bytes())
    except ValueError as exc:
        return [str(exc)]
    for name, digest in sums.items():
        path = folder / name
        if path.is_symlink():
            problems.append(f"{name} is a symbolic link")
        elif not path.is_file():
            problems.append(f"{name} is missing")
        elif file_sha256(path) != digest:
            problems.append(f"{name} does not match its checksum")
    extra = {p.name for p in folder.iterdir()} - set(sums) - {SUMS, READY}
    problems += [f"{name} is not in {SUMS}" for name in sorted(extra)]
    return problems


def sums_sha256(folder: Path) -> str:
    """The SHA-256 of a written batch's ``SHA256SUMS``: what identifies its contents."""
    return file_sha256(folder / SUMS)
