"""What every hand-off is, and a closed batch as it lies on disk, checked before it is sent.

A closed batch is a flat folder (``PB000001/``) of files listed in ``SHA256SUMS`` plus
``SHA256SUMS`` itself and ``READY``, written last. :func:`read_batch` reads one and refuses,
with a :class:`ValueError` naming the file, a batch that is not closed, is not consistent
with its ``SHA256SUMS`` or contains anything but regular files. Every file name, and the
batch's own name, is checked against a strict pattern (:func:`check_name`) before it is used
in a local or remote path.

>>> check_name("C5-001.pdf")
'C5-001.pdf'
>>> parse_sums(b"%s  C5-001.pdf\\n" % (b"ab" * 32))
{'C5-001.pdf': 'abababababababababababababababababababababababababababababababab'}
>>> check_name("../etc/passwd")
Traceback (most recent call last):
    ...
ValueError: unsafe file name '../etc/passwd': names are letters, digits, '.', '_' and '-', start with a letter or digit, have no '..' and do not end in '.part'
"""  # noqa: E501

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from channels.base import PermanentError, RetriableError
from letters.codes import Code

SUMS = "SHA256SUMS"
READY = "READY"
PART = ".part"
#: File and batch names: a letter or digit first, then letters, digits, ``.``, ``_``, ``-``.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")
_SUMS_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
_CHUNK = 1 << 20
MAX_SUMS = 1 << 20  # a SHA256SUMS larger than this is not one of ours
MAX_READY = 1 << 16


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
class ListedFile:
    """One file of a batch, as SHA256SUMS lists it."""

    name: str
    path: Path
    size: int
    sha256: str  # as SHA256SUMS lists it


@dataclass(frozen=True)
class BatchOnDisk:
    """A closed batch read by :func:`read_batch`."""

    name: str
    files: tuple[ListedFile, ...]  # the files SHA256SUMS lists, by name
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


def read_small(path: Path, limit: int) -> bytes:
    """A small file's contents (never through a symbolic link); :class:`ValueError` when it
    is larger than ``limit`` bytes."""
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


def read_batch(batch_dir: Path) -> BatchOnDisk:
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
    sums = read_small(batch_dir / SUMS, MAX_SUMS)
    ready = read_small(batch_dir / READY, MAX_READY)
    listed = parse_sums(sums)
    for extra in sorted(set(sizes) - set(listed) - {SUMS, READY}):
        raise ValueError(f"{extra!r} in print batch {name!r} is not listed in {SUMS}")
    for missing in sorted(set(listed) - set(sizes)):
        raise ValueError(f"{missing!r} is listed in {SUMS} of print batch {name!r} but missing")
    files = tuple(
        ListedFile(n, batch_dir / n, sizes[n], listed[n]) for n in sorted(listed, key=str.encode)
    )
    return BatchOnDisk(name, files, sums, ready)


def chunks(file: ListedFile) -> Iterator[bytes]:
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
