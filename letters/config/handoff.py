"""Settings of the print-batch hand-off to the vendor: nowhere, a drop folder, or SFTP.

Read by :mod:`channels.printing.handoff`; nested in the installation's settings as
``LETTERS_PRINTING__HANDOFF__…``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator


def normalise_fingerprint(value: str) -> str:
    """``SHA256:<base64>`` as OpenSSH prints it (``ssh-keygen -lf``); the ``SHA256:`` prefix
    and base64 padding are optional in the input."""
    text = value.strip()
    if text[:7].upper() == "SHA256:":
        text = text[7:]
    text = text.rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9+/]{43}", text):
        raise ValueError("host_key_sha256 must be an SSH SHA256 fingerprint (SHA256:<43 chars>)")
    return f"SHA256:{text}"


class SftpSettings(BaseModel):
    """The vendor's SFTP server (``kind = "sftp"``)."""

    host: str | None = None
    port: int = Field(22, ge=1, le=65535)
    username: str | None = None
    #: A private key (OpenSSH or PEM); tried before the password when both are set.
    key_file: Path | None = None
    key_passphrase: SecretStr | None = None
    password: SecretStr | None = None
    #: An OpenSSH known_hosts file with the server's key (``[host]:port`` unless port 22).
    known_hosts: Path | None = None
    #: The server's host key fingerprint as ``ssh-keygen -lf`` prints it (``SHA256:…``).
    host_key_sha256: str | None = None
    #: The vendor's inbox on the server; each batch goes into a directory of its own there.
    remote_dir: str = "."
    timeout_seconds: float = Field(30, gt=0)


class HandoffSettings(BaseModel):
    """Where closed print batches go: nowhere (``none``, the operator moves them), a drop
    folder the vendor watches (``folder``) or the vendor's SFTP server (``sftp``)."""

    kind: Literal["none", "folder", "sftp"] = "none"
    #: The vendor's drop folder (``kind = "folder"``); it must exist.
    folder: Path | None = None
    #: The group the vendor reads the drop folder as (a name or a number): the batches
    #: copied there are 0640 in 0750 folders, owned by this group, never readable by
    #: others. Unset: the drop folder's own group. This user must be a member of it.
    group: str | None = None
    sftp: SftpSettings = SftpSettings()

    @model_validator(mode="after")
    def _complete(self) -> HandoffSettings:
        if self.kind == "folder" and self.folder is None:
            raise ValueError("handoff kind 'folder' needs handoff.folder")
        if self.kind == "sftp":
            s = self.sftp
            if not s.host or not s.username:
                raise ValueError("handoff kind 'sftp' needs sftp.host and sftp.username")
            if s.key_file is None and s.password is None:
                raise ValueError("handoff kind 'sftp' needs sftp.key_file or sftp.password")
            if s.known_hosts is None and not s.host_key_sha256:
                raise ValueError(
                    "handoff kind 'sftp' needs sftp.known_hosts or sftp.host_key_sha256 "
                    "(unknown host keys are refused)"
                )
            if s.host_key_sha256:
                normalise_fingerprint(s.host_key_sha256)
        return self
