"""The SFTP hand-off: the vendor's SFTP server, with paramiko.

The batch directory is created in the vendor's inbox, each file goes up as ``<name>.part``,
its size is checked, and it is renamed (``posix-rename``) to its final name; then
``READY.part`` → ``READY``, last of all. Host keys are checked strictly against a
known_hosts file and/or a pinned SHA256 fingerprint before any credential is sent.

A half-delivered batch (no ``READY``, after a dropped connection say) is completed in place:
files of this batch already complete under their final names are kept, anything else is
removed. A different complete batch of the same name is a :class:`HandoffConflict`.

Errors (codes from :mod:`letters.codes`), retriable: ``handoff-connection`` (unreachable,
timed out, the SSH handshake or the session lost), ``handoff-transfer`` (an upload failed
midway), ``handoff-verify`` (the vendor's copy is not exactly the batch); permanent
(configuration to fix): ``handoff-host-key``, ``handoff-auth``, ``handoff-config`` (an
unreadable key or known_hosts file, no algorithm in common), ``handoff-remote-dir``,
``handoff-permission``, ``handoff-remote-entry``. Messages never contain the password or the
key passphrase.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import logging
import posixpath
import socket
import stat
from pathlib import Path

import paramiko
from paramiko.ssh_exception import IncompatiblePeer
from pydantic import SecretStr

from channels.base import PermanentError, RetriableError
from channels.printing.handoff.base import (
    MAX_SUMS,
    PART,
    READY,
    SUMS,
    BatchOnDisk,
    Handoff,
    HandoffConflict,
    HandoffReceipt,
    ListedFile,
    check_name,
    chunks,
    read_batch,
)
from letters.codes import Code
from letters.config.handoff import normalise_fingerprint

log = logging.getLogger(__name__)


class SftpHandoff(Handoff):
    """Uploads batches into ``remote_dir`` on an SFTP server (which must exist there).

    The server's host key must be in ``known_hosts`` and/or match ``host_key_sha256``
    (both, when both are given); an unknown key is refused before any credential is sent.
    Authentication by private key (``key_file``, optional ``key_passphrase``) and/or
    ``password`` (tried after the key, when both are given). The server must support
    OpenSSH's ``posix-rename`` extension (OpenSSH and most vendors' servers do).
    """

    name = "sftp"

    def __init__(
        self,
        host: str,
        port: int = 22,
        *,
        username: str,
        remote_dir: str = ".",
        key_file: Path | None = None,
        key_passphrase: SecretStr | None = None,
        password: SecretStr | None = None,
        known_hosts: Path | None = None,
        host_key_sha256: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not host or not username:
            raise ValueError("the SFTP handoff needs a host and a username")
        if key_file is None and password is None:
            raise ValueError("the SFTP handoff needs a key_file or a password")
        if known_hosts is None and not host_key_sha256:
            raise ValueError(
                "the SFTP handoff needs known_hosts or host_key_sha256: unknown host keys "
                "are refused"
            )
        if not remote_dir or any(ord(c) < 32 for c in remote_dir):
            raise ValueError("remote_dir must be a non-empty path without control characters")
        self.host = host
        self.port = port
        self.username = username
        self.remote_dir = remote_dir.rstrip("/") or "/"
        self.key_file = key_file
        self.key_passphrase = key_passphrase
        self.password = password
        self.known_hosts = known_hosts
        self.host_key_sha256 = normalise_fingerprint(host_key_sha256) if host_key_sha256 else None
        self.timeout = timeout

    def __repr__(self) -> str:  # no credentials
        return f"SftpHandoff({self._describe('')!r})"

    @property
    def _server(self) -> str:
        return f"SFTP server {self.host}:{self.port}"

    def _remote(self, *parts: str) -> str:
        return posixpath.join(self.remote_dir, *parts)

    def _describe(self, batch: str) -> str:
        path = self._remote(batch)
        if not path.startswith("/"):
            path = "/~/" + path.removeprefix("./")
        return f"sftp://{self.username}@{self.host}:{self.port}{path}"

    # connecting

    def deliver(self, batch_dir: Path) -> HandoffReceipt:
        batch = read_batch(batch_dir)
        transport = self._connect()
        try:
            sftp = paramiko.SFTPClient.from_transport(transport)
            if sftp is None:
                raise RetriableError(
                    Code.HANDOFF_CONNECTION, f"{self._server} opened no SFTP session"
                )
            channel = sftp.get_channel()
            if channel is not None:
                channel.settimeout(self.timeout)
            with sftp:
                return self._upload(sftp, batch)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM):
                raise PermanentError(
                    Code.HANDOFF_PERMISSION, f"{self._server} denied access in {self.remote_dir}"
                ) from None
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            raise RetriableError(
                Code.HANDOFF_TRANSFER, f"upload to {self._server} failed ({reason})"
            ) from exc
        finally:
            with contextlib.suppress(Exception):
                transport.close()

    def _connect(self) -> paramiko.Transport:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:  # refused, timed out, no route, DNS
            reason = exc.strerror or type(exc).__name__
            raise RetriableError(
                Code.HANDOFF_CONNECTION, f"{self._server} unreachable: {reason}"
            ) from exc
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = self.timeout
            transport.handshake_timeout = self.timeout
            transport.auth_timeout = self.timeout
            known = self._known_keys()
            self._prefer(transport, known)
            try:
                transport.start_client(timeout=self.timeout)
                if not transport.is_active():
                    raise paramiko.SSHException("negotiation did not finish")
                key = transport.get_remote_server_key()
            except IncompatiblePeer as exc:
                raise PermanentError(
                    Code.HANDOFF_CONFIG, f"{self._server} offers no algorithm we accept: {exc}"
                ) from None
            except (OSError, EOFError, paramiko.SSHException) as exc:
                reason = f"{type(exc).__name__}: {str(exc)[:200]}"
                raise RetriableError(
                    Code.HANDOFF_CONNECTION, f"{self._server}: SSH handshake failed ({reason})"
                ) from exc
            self._check_host_key(key, known)
            self._authenticate(transport)
        except BaseException:
            transport.close()
            raise
        return transport

    @property
    def _host_key_name(self) -> str:
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    def _known_keys(self) -> list[paramiko.PKey] | None:
        """The host's keys in known_hosts; None when no known_hosts file is configured."""
        if self.known_hosts is None:
            return None
        try:
            entry = paramiko.HostKeys(str(self.known_hosts)).lookup(self._host_key_name)
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise PermanentError(
                Code.HANDOFF_CONFIG,
                f"cannot read known_hosts {self.known_hosts}: {type(exc).__name__}",
            ) from None
        return [] if entry is None else list(entry.values())

    @staticmethod
    def _prefer(transport: paramiko.Transport, known: list[paramiko.PKey] | None) -> None:
        """Ask for a host key of a type known_hosts has (as OpenSSH and SSHClient do)."""
        if not known:
            return
        options = transport.get_security_options()
        offered = list(options.key_types)
        types: list[str] = []
        for key in known:
            name = key.get_name()
            for candidate in (
                ["rsa-sha2-512", "rsa-sha2-256", name] if name == "ssh-rsa" else [name]
            ):
                if candidate in offered and candidate not in types:
                    types.append(candidate)
        options.key_types = [*types, *(t for t in offered if t not in types)]

    def _check_host_key(self, key: paramiko.PKey, known: list[paramiko.PKey] | None) -> None:
        shown = f"{key.get_name()} {key.fingerprint}"
        if known is not None and not any(k == key for k in known):
            problem = (
                f"does not match the key known_hosts has for {self._host_key_name}"
                if known
                else f"is not in known_hosts for {self._host_key_name}"
            )
            raise PermanentError(
                Code.HANDOFF_HOST_KEY, f"{self._server} refused: its host key ({shown}) {problem}"
            )
        pin = self.host_key_sha256
        if pin is not None and not hmac.compare_digest(key.fingerprint, pin):
            raise PermanentError(
                Code.HANDOFF_HOST_KEY,
                f"{self._server} refused: its host key ({shown}) does not match the pinned "
                f"fingerprint {pin}",
            )

    def _load_key(self) -> paramiko.PKey:
        assert self.key_file is not None
        # paramiko 5 hands the passphrase to cryptography, which takes bytes only.
        passphrase = (
            self.key_passphrase.get_secret_value().encode() if self.key_passphrase else None
        )
        try:
            return paramiko.PKey.from_path(self.key_file, password=passphrase)  # type: ignore[arg-type]
        except OSError as exc:
            raise PermanentError(
                Code.HANDOFF_CONFIG,
                f"cannot read the SFTP key file {self.key_file}: {exc.strerror}",
            ) from None
        except (paramiko.SSHException, ValueError, TypeError):
            raise PermanentError(
                Code.HANDOFF_CONFIG,
                f"cannot load the SFTP key file {self.key_file} "
                "(not a private key, or a wrong or missing passphrase)",
            ) from None

    def _authenticate(self, transport: paramiko.Transport) -> None:
        refused = (
            f"{self._server} refused the credentials of user {self.username!r} "
            "(check the key file / password configured for the handoff)"
        )
        try:
            if self.key_file is not None:
                with contextlib.suppress(paramiko.AuthenticationException):
                    transport.auth_publickey(self.username, self._load_key())
            if not transport.is_authenticated() and self.password is not None:
                transport.auth_password(self.username, self.password.get_secret_value())
        except paramiko.AuthenticationException:
            raise PermanentError(Code.HANDOFF_AUTH, refused) from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise RetriableError(
                Code.HANDOFF_CONNECTION, f"{self._server}: connection lost while authenticating"
            ) from exc
        if not transport.is_authenticated():
            raise PermanentError(Code.HANDOFF_AUTH, refused)

    # uploading

    def _listing(self, sftp: paramiko.SFTPClient, path: str) -> dict[str, paramiko.SFTPAttributes]:
        """The remote directory's entries, or raise FileNotFoundError. Names the server sends
        are checked before they are used in any path."""
        entries: dict[str, paramiko.SFTPAttributes] = {}
        for attrs in sftp.listdir_attr(path):
            name = attrs.filename
            if name in (".", ".."):
                continue
            stem = name.removesuffix(PART)
            try:
                check_name(stem)
            except ValueError:
                raise PermanentError(
                    Code.HANDOFF_REMOTE_ENTRY,
                    f"unexpected entry {name[:120]!r} in {path} on {self._server}",
                ) from None
            if not stat.S_ISREG(attrs.st_mode or 0):
                raise PermanentError(
                    Code.HANDOFF_REMOTE_ENTRY, f"{name!r} in {path} on {self._server} is not a file"
                )
            entries[name] = attrs
        return entries

    def _read_remote(self, sftp: paramiko.SFTPClient, path: str, limit: int) -> bytes | None:
        try:
            with sftp.open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except FileNotFoundError:
            return None
        return data if len(data) <= limit else None

    def _put(
        self, sftp: paramiko.SFTPClient, folder: str, name: str, source: ListedFile | bytes
    ) -> None:
        """Upload to ``<name>.part``, check its size, rename it to ``<name>``."""
        part = posixpath.join(folder, name + PART)
        size = len(source) if isinstance(source, bytes) else source.size
        with sftp.open(part, "wb") as fh:
            fh.set_pipelined(True)
            for block in [source] if isinstance(source, bytes) else chunks(source):
                fh.write(block)
        uploaded = sftp.stat(part).st_size
        if uploaded != size:
            raise RetriableError(
                Code.HANDOFF_VERIFY,
                f"{name!r} is {uploaded} bytes on {self._server}, expected {size}",
            )
        sftp.posix_rename(part, posixpath.join(folder, name))

    def _upload(self, sftp: paramiko.SFTPClient, batch: BatchOnDisk) -> HandoffReceipt:
        where = self._describe(batch.name)
        folder = self._remote(batch.name)
        try:
            base = sftp.stat(self.remote_dir)
        except FileNotFoundError:
            base = None
        if base is None or not stat.S_ISDIR(base.st_mode or 0):
            raise PermanentError(
                Code.HANDOFF_REMOTE_DIR, f"{self.remote_dir} is not a directory on {self._server}"
            )
        try:
            there = self._listing(sftp, folder)
        except FileNotFoundError:
            sftp.mkdir(folder)
            there = {}
        if READY in there:
            if self._read_remote(sftp, posixpath.join(folder, SUMS), MAX_SUMS) != batch.sums:
                raise HandoffConflict(
                    f"{where} already has a different batch {batch.name!r} with READY; "
                    "a delivered batch is never overwritten"
                )
            log.info("print batch %s is already at %s", batch.name, where)
            return batch.receipt(where, already_there=True)

        # A half-delivered batch. SHA256SUMS always goes up first and every other file is
        # removed when it differs, so a file under its final name next to our SHA256SUMS
        # was put there by a delivery of this batch: complete (renamed after its size was
        # checked), so it is kept when its size is right.
        same_sums = SUMS in there and (
            self._read_remote(sftp, posixpath.join(folder, SUMS), MAX_SUMS) == batch.sums
        )
        sizes = {f.name: f.size for f in batch.files}
        kept = set()
        for name, attrs in there.items():
            if same_sums and (name == SUMS or attrs.st_size == sizes.get(name)):
                kept.add(name)
            else:  # .part files, another batch's files, a file of the wrong size
                sftp.remove(posixpath.join(folder, name))
        if SUMS not in kept:
            self._put(sftp, folder, SUMS, batch.sums)
        for file in batch.files:
            if file.name not in kept:
                self._put(sftp, folder, file.name, file)

        now = self._listing(sftp, folder)
        expected = {SUMS: len(batch.sums), **{f.name: f.size for f in batch.files}}
        actual = {name: attrs.st_size for name, attrs in now.items()}
        if actual != expected:
            raise RetriableError(
                Code.HANDOFF_VERIFY, f"{where} does not hold exactly the batch's files"
            )
        self._put(sftp, folder, READY, batch.ready)  # last of all
        log.info("print batch %s uploaded to %s", batch.name, where)
        return batch.receipt(where, already_there=False)
