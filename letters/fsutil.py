"""Files written so that a crash never leaves half of one under its final name, and that
nobody else on the machine can read.

One way to do it everywhere (the archive, print batches, the drop-folder hand-off): write
to a hidden temporary name in the same folder, fsync, rename into place, fsync the folder.

**At rest.** Every file the product writes that holds personal data or passwords (letters
in the archive, print batches, the SQLite ledger, the templates cache, previews) is
:data:`PRIVATE_FILE` (0600) in folders it makes :data:`PRIVATE_DIR` (0700), whatever the
umask. The one exception is the vendor's drop folder, whose files are readable by one
configured group (``printing.handoff.group``; 0640 in 0750 folders).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

_CHUNK = 1 << 20
#: A file only this installation's user may read or write.
PRIVATE_FILE = 0o600
#: A folder only this installation's user may enter.
PRIVATE_DIR = 0o700


def private_dirs(path: Path) -> Path:
    """``path`` as a folder, made with every missing parent as :data:`PRIVATE_DIR` (folders
    that already exist are left as they are: they may be the operator's).

    >>> import stat, tempfile
    >>> made = private_dirs(Path(tempfile.mkdtemp()) / "a" / "b")
    >>> oct(stat.S_IMODE(made.stat().st_mode)), oct(stat.S_IMODE(made.parent.stat().st_mode))
    ('0o700', '0o700')
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue
        os.chmod(folder, PRIVATE_DIR)  # whatever the umask
    return path


def restrict(path: Path, mode: int = PRIVATE_FILE, group: int | None = None) -> None:
    """Give an existing file (or folder) ``mode`` and, if set, the group ``group`` (never
    through a symbolic link)."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise OSError(f"{path} is a symbolic link")
    if group is not None and st.st_gid != group:
        os.chown(path, -1, group, follow_symlinks=False)
    os.chmod(path, mode)


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
    mode: int = PRIVATE_FILE,
    temp_name: str | None = None,
    sync_dir: bool = True,
    group: int | None = None,
) -> None:
    """Write ``data`` (bytes or an iterable of chunks) to ``path`` atomically: to
    ``temp_name`` (default ``.<name>.part``) beside it, fsynced, then renamed. The file has
    exactly ``mode`` (not narrowed or widened by the umask) and, if set, the group
    ``group``; it is never written through a symbolic link; on any failure (a full disk:
    ``ENOSPC``) the temporary file is removed and ``path`` is untouched. A PDF library's
    save goes to memory first and then through here (never straight into the folder).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", [b"one ", b"two"])
    >>> (folder / "a.txt").read_bytes(), sorted(p.name for p in folder.iterdir())
    (b'one two', ['a.txt'])
    >>> oct((folder / "a.txt").stat().st_mode & 0o777)
    '0o600'
    """
    path = Path(path)
    tmp = path.with_name(temp_name or f".{path.name}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode & 0o600)
        with os.fdopen(fd, "wb") as fh:
            if group is not None and os.fstat(fd).st_gid != group:
                os.fchown(fd, -1, group)
            os.fchmod(fd, mode)
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
