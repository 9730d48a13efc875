"""The archive: every rendered PDF, stored once under its own SHA-256.

Files are written to a temporary name and renamed into place, so a crash never leaves a
half-written letter under a valid name; reading one back checks its hash. Letters are 0600
in 0700 folders (:mod:`letters.fsutil`). A disk that is full raises :class:`ArchiveFull`
(``archive-full``), with nothing of the letter left behind: the job waits for room.
"""

from __future__ import annotations

import errno
import hashlib
import secrets
from pathlib import Path

from letters.codes import Code
from letters.fsutil import PRIVATE_FILE, atomic_write, file_sha256, private_dirs


class ArchiveCorrupt(Exception):
    """A stored letter no longer matches its hash."""


class ArchiveFull(Exception):
    """The archive's disk (or quota) is full: the letter was not stored, and no part of it
    is left in the archive."""

    code = Code.ARCHIVE_FULL


class Archive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}.pdf"

    def put(self, data: bytes) -> tuple[str, Path]:
        """Store ``data``; return its sha256 and where it lies (idempotent)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists() and self._digest(target) == digest:
            return digest, target
        try:
            private_dirs(target.parent)
            # a name of its own: two workers may store the same letter at the same moment
            temp = f".incoming-{secrets.token_hex(8)}"
            atomic_write(target, data, mode=PRIVATE_FILE, temp_name=temp)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ArchiveFull(
                    f"the archive {self.root} has no room for a letter of {len(data)} bytes "
                    f"({exc.strerror}); it is stored once there is room"
                ) from None
            raise
        return digest, target

    def get(self, sha256: str) -> bytes:
        """The letter stored under ``sha256``, verified."""
        data = self.path_for(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ArchiveCorrupt(f"archived letter {sha256} does not match its hash")
        return data

    @staticmethod
    def _digest(path: Path) -> str:
        return file_sha256(path)
