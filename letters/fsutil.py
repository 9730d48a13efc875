"""Files written so that a crash never leaves half of one under its final name.

One way to do it everywhere (the archive, print batches, the drop-folder hand-off): write
to a hidden temporary name in the same folder, fsync, rename into place, fsync the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

_CHUNK = 1 << 20


def fsync_dir(path: Path) -> None:
    """Make a folder's renames durable. Some network file systems refuse fsync on a
    folder; the renames still happened, so that refusal is ignored."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a file already written to disk."""
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def atomic_write(
    path: Path,
    data: bytes | Iterable[bytes],
    *,
    mode: int = 0o600,
    temp_name: str | None = None,
    sync_dir: bool = True,
) -> None:
    """Write ``data`` (bytes or an iterable of chunks) to ``path`` atomically: to
    ``temp_name`` (default ``.<name>.part``) beside it, fsynced, then renamed. The file is
    created with ``mode`` and never through a symbolic link; on any failure the temporary
    file is removed and ``path`` is untouched.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", [b"one ", b"two"])
    >>> (folder / "a.txt").read_bytes(), sorted(p.name for p in folder.iterdir())
    (b'one two', ['a.txt'])
    """
    path = Path(path)
    tmp = path.with_name(temp_name or f".{path.name}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "wb") as fh:
            for block in [data] if isinstance(data, bytes | bytearray) else data:
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's contents, hex, read in chunks (never a symbolic link).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
