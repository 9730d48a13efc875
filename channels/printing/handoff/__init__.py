"""Handing a closed print batch to the print vendor: a drop folder or an SFTP server.

A closed batch is a flat folder (``PB000001/``) of files listed in ``SHA256SUMS`` plus
``SHA256SUMS`` itself and ``READY``, written last. The vendor takes a folder only once it has
``READY``, so every hand-off puts ``READY`` there last of all, after every other file is
complete under its final name. Two hand-offs sit behind one small interface
(:class:`~channels.printing.handoff.base.Handoff`), interchangeable like Dramatiq's brokers:

* :class:`~channels.printing.handoff.folder.DropFolder` (``folder.py``) copies the batch
  into a folder the vendor watches;
* :class:`~channels.printing.handoff.sftp.SftpHandoff` (``sftp.py``) uploads it with
  paramiko, host keys checked strictly.

``base.py`` holds the interface and the batch as it lies on disk (:func:`read_batch`,
:func:`parse_sums`, :func:`check_name`); :func:`make_handoff` builds the configured one.

Both are idempotent. A target that already has the batch complete (``READY`` there and the
same ``SHA256SUMS``) is left alone and the same receipt comes back with ``already_there``.
A half-delivered batch (no ``READY``, e.g. after a crash or a dropped connection) is
completed in place or replaced under the same name, never duplicated under another. A
different batch of the same name with ``READY`` is never overwritten: :class:`HandoffConflict`.

A batch that is not closed, is not consistent with its ``SHA256SUMS`` or contains anything
but regular files is refused with a :class:`ValueError` naming the file. Every other failure
is a :class:`~channels.base.RetriableError` (the next round tries again) or a
:class:`~channels.base.PermanentError` (configuration to fix) with a ``handoff-*`` code
from :mod:`letters.codes`.

Two hand-offs of the same batch to the same target must not run at the same time (the batch
closer hands a batch off from one process); nothing here locks the target.
"""

from __future__ import annotations

from channels.printing.handoff.base import (
    READY,
    SUMS,
    BatchOnDisk,
    Handoff,
    HandoffConflict,
    HandoffReceipt,
    check_name,
    parse_sums,
    read_batch,
)
from channels.printing.handoff.folder import DropFolder
from letters.config.handoff import HandoffSettings


def make_handoff(settings: HandoffSettings) -> Handoff | None:
    """The configured hand-off, or None for ``kind = "none"``.

    >>> from pathlib import Path
    >>> make_handoff(HandoffSettings(kind="folder", folder=Path("/srv/vendor")))
    DropFolder('/srv/vendor')
    """
    if settings.kind == "folder":
        assert settings.folder is not None
        return DropFolder(settings.folder, settings.group)
    if settings.kind == "sftp":
        from channels.printing.handoff.sftp import SftpHandoff

        s = settings.sftp
        assert s.host is not None and s.username is not None
        return SftpHandoff(
            s.host,
            s.port,
            username=s.username,
            remote_dir=s.remote_dir,
            key_file=s.key_file,
            key_passphrase=s.key_passphrase,
            password=s.password,
            known_hosts=s.known_hosts,
            host_key_sha256=s.host_key_sha256,
            timeout=s.timeout_seconds,
        )
    return None


__all__ = [
    "READY",
    "SUMS",
    "BatchOnDisk",
    "DropFolder",
    "Handoff",
    "HandoffConflict",
    "HandoffReceipt",
    "check_name",
    "make_handoff",
    "parse_sums",
    "read_batch",
]
