"""The archive: every rendered PDF, stored once under its own SHA-256.

Files are written to a temporary name and renamed into place, so a crash never leaves a
half-written letter under a valid name; reading one back checks its hash. Letters are 0600
in 0700 folders (:mod:`letters.fsutil`).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from letters.fsutil import PRIVATE_FILE, atomic_write, file_sha256, private_dirs


class ArchiveCorrupt(Exception):
    """A stored letter no longer matches its hash."""


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
        private_dirs(target.parent)
        # a name of its own: two workers may store the same letter at the same moment
        atomic_write(target, data, mode=PRIVATE_FILE, temp_name=f".incoming-{secrets.token_hex(8)}")
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
