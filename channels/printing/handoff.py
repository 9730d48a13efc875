"""Handing a closed print batch to the print vendor: a drop folder or an SFTP server.

A closed batch is a flat folder (``PB000001/``) of files listed in ``SHA256SUMS`` plus
``SHA256SUMS`` itself and ``READY``, written last. The vendor takes a folder only once it has
``READY``, so every handoff puts ``READY`` there last of all, after every other file is
complete under its final name. Two handoffs sit behind one small interface
(:class:`Handoff`), interchangeable like Dramatiq's brokers:

* :class:`DropFolder` copies the batch into a folder the vendor watches (often a mounted
  share): each file to ``.<name>.part``, fsynced, renamed; the whole folder is built as
  ``.<batch>.incoming`` and renamed into place; then ``READY``.
* :class:`SftpHandoff` uploads it with paramiko: the batch directory is created, each file
  goes up as ``<name>.part``, its size is checked, and it is renamed (``posix-rename``) to its
  final name; then ``READY.part`` → ``READY``. Host keys are checked strictly against a
  known_hosts file and/or a pinned SHA256 fingerprint before any credential is sent.

Both are idempotent. A target that already has the batch complete (``READY`` there and the
same ``SHA256SUMS``) is left alone and the same receipt comes back with ``already_there``.
A half-delivered batch (no ``READY``, e.g. after a crash or a dropped connection) is
completed in place or replaced under the same name, never duplicated under another. A
different batch of the same name with ``READY`` is never overwritten: :class:`HandoffConflict`.

Every file name, and the batch's own name, is checked against a strict pattern before it is
used in a local or remote path; a batch that is not closed, is not consistent with its
``SHA256SUMS`` or contains anything but regular files is refused with a :class:`ValueError`
naming the file. Errors: unreachable server, timeouts, a dropped connection or an
unavailable drop folder are :class:`~channels.base.RetriableError`; an untrusted host key,
refused credentials, an unreadable key file or a missing remote directory are
:class:`~channels.base.PermanentError` (configuration to fix). Messages never contain the
password or the key passphrase.

Two handoffs of the same batch to the same target must not run at the same time (the batch
closer hands a batch off from one process); nothing here locks the target.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import logging
import os
import posixpath
import re
import shutil
import socket
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
from paramiko.ssh_exception import IncompatiblePeer
from pydantic import SecretStr

from channels.base import PermanentError, RetriableError
from letters.codes import Code
from letters.config.handoff import HandoffSettings, normalise_fingerprint

log = logging.getLogger(__name__)

SUMS = "SHA256SUMS"
READY = "READY"
PART = ".part"
#: File and batch names: a letter or digit first, then letters, digits, ``.``, ``_``, ``-``.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")
_SUMS_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
_CHUNK = 1 << 20
_MAX_SUMS = 1 << 20  # a SHA256SUMS larger than this is not one of ours
_MAX_READY = 1 << 16


# --- names and the batch as it is on disk -------------------------------------------------


def check_name(name: str, what: str = "file") -> str:
    """Return ``name`` if it is safe as a file or directory name here and at the vendor,
    else raise :class:`ValueError` naming it."""
    if not NAME_PATTERN.fullmatch(name) or ".." in name or name.endswith(PART):
        raise ValueError(
            f"unsafe {what} name {name[:120]!r}: names are letters, digits, '.', "
            "'_' and '-', start with a letter or digit, have no '..' and do not "
            "end in '.part'"
        )
    return name


@dataclass(frozen=True)
class _File:
    name: str
    path: Path
    size: int
    sha256: str  # as SHA256SUMS lists it


@dataclass(frozen=True)
class _Batch:
    name: str
    files: tuple[_File, ...]  # the files SHA256SUMS lists, by name
    sums: bytes  # SHA256SUMS, as read once: what is compared and what is delivered
    ready: bytes

    @property
    def names(self) -> tuple[str, ...]:
        """Every file in delivery order: SHA256SUMS, the listed files, READY."""
        return (SUMS, *(f.name for f in self.files), READY)

    def receipt(self, target: str, already_there: bool) -> HandoffReceipt:
        return HandoffReceipt(
            target=target,
            batch=self.name,
            files=self.names,
            total_bytes=len(self.sums) + sum(f.size for f in self.files) + len(self.ready),
            sums_sha256=hashlib.sha256(self.sums).hexdigest(),
            already_there=already_there,
        )


def _read_small(path: Path, limit: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name!r} is larger than {limit} bytes")
    return data


def parse_sums(data: bytes) -> dict[str, str]:
    """``SHA256SUMS`` (``<hex>  <name>`` lines, as ``sha256sum`` writes them) as name → hex
    digest; names are checked with :func:`check_name`."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError(f"{SUMS} is not ASCII") from None
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _SUMS_LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"{SUMS} line {number} is not '<sha256>  <name>'")
        name = check_name(match.group(2))
        if name in (SUMS, READY) or name in sums:
            raise ValueError(f"{SUMS} line {number}: {name!r} listed where it cannot be")
        sums[name] = match.group(1).lower()
    return sums


def read_batch(batch_dir: Path) -> _Batch:
    """The closed batch in ``batch_dir``, checked: safe names, regular files only, READY and
    SHA256SUMS present, and every other file listed in SHA256SUMS (contents are checked
    against it while they are copied)."""
    batch_dir = Path(batch_dir)
    name = check_name(batch_dir.name, "batch")
    if not batch_dir.is_dir():
        raise ValueError(f"print batch {name!r} is not a directory")
    sizes: dict[str, int] = {}
    folded: set[str] = set()
    with os.scandir(batch_dir) as entries:
        for entry in entries:
            check_name(entry.name)
            if not entry.is_file(follow_symlinks=False):
                raise ValueError(f"{entry.name!r} in print batch {name!r} is not a regular file")
            if entry.name.casefold() in folded:  # would collide on a case-insensitive share
                raise ValueError(f"{entry.name!r} in print batch {name!r} differs only in case")
            folded.add(entry.name.casefold())
            sizes[entry.name] = entry.stat(follow_symlinks=False).st_size
    for required in (READY, SUMS):
        if required not in sizes:
            raise ValueError(f"print batch {name!r} is not closed: it has no {required}")
    sums = _read_small(batch_dir / SUMS, _MAX_SUMS)
    ready = _read_small(batch_dir / READY, _MAX_READY)
    listed = parse_sums(sums)
    for extra in sorted(set(sizes) - set(listed) - {SUMS, READY}):
        raise ValueError(f"{extra!r} in print batch {name!r} is not listed in {SUMS}")
    for missing in sorted(set(listed) - set(sizes)):
        raise ValueError(f"{missing!r} is listed in {SUMS} of print batch {name!r} but missing")
    files = tuple(
        _File(n, batch_dir / n, sizes[n], listed[n]) for n in sorted(listed, key=str.encode)
    )
    return _Batch(name, files, sums, ready)


def _chunks(file: _File) -> Iterator[bytes]:
    """The local file's contents, checked against SHA256SUMS once read to the end."""
    digest = hashlib.sha256()
    try:
        fd = os.open(file.path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            while block := fh.read(_CHUNK):
                digest.update(block)
                yield block
    except OSError as exc:
        raise RetriableError(Code.HANDOFF_IO, f"cannot read {file.name!r}: {exc.strerror}") from exc
    if digest.hexdigest() != file.sha256:
        raise ValueError(f"{file.name!r} does not match {SUMS} (changed since the batch closed?)")


# --- the interface ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoffReceipt:
    """What was handed over. ``files`` in delivery order (READY last); ``sums_sha256`` is the
    SHA-256 of the batch's SHA256SUMS, which identifies the batch's contents."""

    target: str
    batch: str
    files: tuple[str, ...]
    total_bytes: int
    sums_sha256: str
    already_there: bool


class HandoffConflict(PermanentError):
    """The target already has a different, complete batch of the same name."""

    def __init__(self, message: str) -> None:
        super().__init__(Code.HANDOFF_CONFLICT, message)


class Handoff(ABC):
    """Hands a closed print batch folder to the print vendor."""

    name: str

    @abstractmethod
    def deliver(self, batch_dir: Path) -> HandoffReceipt:
        """Put the batch at the vendor, READY last. Delivering a batch the vendor already has
        complete changes nothing and returns the same receipt (``already_there``)."""


# --- drop folder -----------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    # Some network file systems refuse fsync on a directory; the renames still happened.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(folder: Path, name: str, chunks: Iterator[bytes] | bytes) -> None:
    """Write ``folder/.<name>.part``, fsync it and rename it to ``folder/<name>``."""
    tmp = folder / f".{name}{PART}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            for block in [chunks] if isinstance(chunks, bytes) else chunks:
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _same_file(path: Path, file: _File) -> bool:
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != file.size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(_CHUNK):
                digest.update(block)
    except FileNotFoundError:
        return False
    return digest.hexdigest() == file.sha256


class DropFolder(Handoff):
    """Copies batches into ``target`` (which must exist: an unmounted share is not
    silently replaced by a local folder)."""

    name = "folder"

    def __init__(self, target: Path) -> None:
        self.target = Path(target)

    def __repr__(self) -> str:
        return f"DropFolder({str(self.target)!r})"

    def deliver(self, batch_dir: Path) -> HandoffReceipt:
        batch = read_batch(batch_dir)
        final = self.target / batch.name
        staging = self.target / f".{batch.name}.incoming"
        where = str(final)
        try:
            if not self.target.is_dir():
                raise RetriableError(
                    Code.HANDOFF_UNAVAILABLE, f"drop folder {self.target} is not available"
                )
            if final.is_symlink() or (final.exists() and not final.is_dir()):
                raise HandoffConflict(f"{where} exists and is not a batch folder")
            if (final / READY).exists() or (final / READY).is_symlink():
                return self._already_there(final, batch)
            if final.exists():  # moved into place, then stopped before READY: finish it
                work = final
                if staging.exists():
                    shutil.rmtree(staging)
            else:
                work = staging
                if staging.is_symlink() or (staging.exists() and not staging.is_dir()):
                    staging.unlink()  # not ours: we only ever make it a real directory
                work.mkdir(exist_ok=True)
            self._fill(work, batch)
            if work == staging:
                os.rename(staging, final)
                _fsync_dir(self.target)
            _write_file(final, READY, batch.ready)  # last of all
            _fsync_dir(final)
        except OSError as exc:
            raise RetriableError(
                Code.HANDOFF_IO, f"drop folder {where}: {exc.strerror or exc}"
            ) from exc
        log.info("print batch %s copied to drop folder %s", batch.name, self.target)
        return batch.receipt(where, already_there=False)

    def _already_there(self, final: Path, batch: _Batch) -> HandoffReceipt:
        try:
            theirs = _read_small(final / SUMS, _MAX_SUMS)
        except (OSError, ValueError):
            theirs = None
        if theirs != batch.sums:
            raise HandoffConflict(
                f"{final} already has a different batch {batch.name!r} with READY; "
                "a delivered batch is never overwritten"
            )
        log.info("print batch %s is already in drop folder %s", batch.name, self.target)
        return batch.receipt(str(final), already_there=True)

    @staticmethod
    def _fill(work: Path, batch: _Batch) -> None:
        """Make ``work`` hold exactly the batch's files except READY."""
        wanted = {SUMS, *(f.name for f in batch.files)}
        with os.scandir(work) as entries:
            leftovers = [e for e in entries if e.name not in wanted]
        for entry in leftovers:  # .part files of a crashed copy, another batch's files
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        try:
            current = _read_small(work / SUMS, _MAX_SUMS)
        except (OSError, ValueError):
            current = None
        if current != batch.sums:
            _write_file(work, SUMS, batch.sums)
        for file in batch.files:
            if not _same_file(work / file.name, file):
                _write_file(work, file.name, _chunks(file))
        _fsync_dir(work)


# --- SFTP ------------------------------------------------------------------------------------


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
        self, sftp: paramiko.SFTPClient, folder: str, name: str, source: _File | bytes
    ) -> None:
        """Upload to ``<name>.part``, check its size, rename it to ``<name>``."""
        part = posixpath.join(folder, name + PART)
        size = len(source) if isinstance(source, bytes) else source.size
        with sftp.open(part, "wb") as fh:
            fh.set_pipelined(True)
            for block in [source] if isinstance(source, bytes) else _chunks(source):
                fh.write(block)
        uploaded = sftp.stat(part).st_size
        if uploaded != size:
            raise RetriableError(
                Code.HANDOFF_VERIFY,
                f"{name!r} is {uploaded} bytes on {self._server}, expected {size}",
            )
        sftp.posix_rename(part, posixpath.join(folder, name))

    def _upload(self, sftp: paramiko.SFTPClient, batch: _Batch) -> HandoffReceipt:
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
            if self._read_remote(sftp, posixpath.join(folder, SUMS), _MAX_SUMS) != batch.sums:
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
            self._read_remote(sftp, posixpath.join(folder, SUMS), _MAX_SUMS) == batch.sums
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


def make_handoff(settings: HandoffSettings) -> Handoff | None:
    """The configured handoff, or None for ``kind = "none"``."""
    if settings.kind == "folder":
        assert settings.folder is not None
        return DropFolder(settings.folder)
    if settings.kind == "sftp":
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
