"""What a template version is: every file that decides what is printed, and the renderer.

A letter template ``<kind>.<language>`` is its own file, the shared templates it builds on
(``layout.html``, the language's ``labels/<language>.html``, any other shared partial),
the stylesheet, every font and image under ``assets/``, and the renderer named for it in
``manifest.toml`` with that renderer's version. An e-mail body ``email.<language>`` is its
HTML and plain-text files. The version's sha256 is taken over all of that, so a changed
comma, font or renderer is a new version that must be approved again.

A bundle is written out (:func:`materialize`) into a folder of its own, named by its
sha256, and letters are rendered from there: production renders exactly the files that
were approved, never a working copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from letters.fsutil import PRIVATE_DIR, atomic_write, private_dirs

KINDS = ("reminder", "collection_notice", "payment_request", "enforcement_notice", "payment_plan")
LANGUAGES = ("nb", "en")
#: Every template subject: one per kind and language, and the e-mail body per language.
LETTER_SUBJECTS = tuple(f"{kind}.{lang}" for kind in KINDS for lang in LANGUAGES)
EMAIL_SUBJECTS = tuple(f"email.{lang}" for lang in LANGUAGES)
SUBJECTS = LETTER_SUBJECTS + EMAIL_SUBJECTS
_KIND_FILE = re.compile(r"([a-z_]+)\.(nb|en)\.html")
#: Bumped by the developers whenever a renderer's output changes for the same input; part
#: of every template version, so such a change needs a new approval.
RENDERER_REVISIONS = {"fast": "2", "weasyprint": "1"}
_LIBRARIES = {"fast": "reportlab", "weasyprint": "weasyprint"}
_RENDERER_ALIASES = {"reportlab": "fast"}


class BundleProblem(ValueError):
    """The folder does not hold a complete template (the message names what is missing)."""


@dataclass(frozen=True)
class Bundle:
    """One template subject's files (relative path → bytes) and its renderer."""

    subject: str
    files: Mapping[str, bytes]
    renderer: str
    renderer_version: str

    @property
    def digests(self) -> dict[str, str]:
        return {path: hashlib.sha256(data).hexdigest() for path, data in sorted(self.files.items())}

    def content(self) -> dict[str, Any]:
        """What the ledger keeps of the version (the files themselves go to blobs)."""
        return {
            "files": self.digests,
            "renderer": self.renderer,
            "renderer_version": self.renderer_version,
        }

    @property
    def sha256(self) -> str:
        return content_sha256(self.content())

    def blobs(self) -> dict[str, bytes]:
        return {hashlib.sha256(data).hexdigest(): data for data in self.files.values()}


def content_sha256(content: Mapping[str, Any]) -> str:
    """The version's identity: SHA-256 of its files' digests and the renderer, canonical."""
    canonical = json.dumps(dict(content), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def renderer_version(name: str) -> str:
    """``fast 1 (reportlab 4.2.5)``: our revision of the renderer and its library's version."""
    library = _LIBRARIES[name]
    return f"{name} {RENDERER_REVISIONS[name]} ({library} {metadata.version(library)})"


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
            yield path.relative_to(folder).as_posix(), path


def _belongs(rel: str, subject: str) -> bool:
    kind, _, lang = subject.partition(".")
    if kind == "email":
        return rel in (f"email/{lang}.html", f"email/{lang}.txt")
    if rel.startswith("email/") or rel == "manifest.toml" or rel.endswith((".md", ".txt")):
        return rel.startswith("assets/")  # a font's licence travels with the font
    if rel.startswith("assets/") or rel.endswith(".css"):
        return True
    match = _KIND_FILE.fullmatch(rel)
    if match:
        return rel == f"{subject}.html"
    if rel.startswith("labels/"):
        return rel == f"labels/{lang}.html"
    return rel.endswith(".html")  # a shared layout or partial


def read_folder(folder: Path, subject: str) -> Bundle:
    """The bundle of ``subject`` as the templates folder holds it now."""
    folder = Path(folder)
    if subject not in SUBJECTS:
        raise BundleProblem(f"no template {subject!r} (known: {', '.join(SUBJECTS)})")
    files = {rel: path.read_bytes() for rel, path in _files(folder) if _belongs(rel, subject)}
    kind, _, lang = subject.partition(".")
    needed = (
        [f"email/{lang}.html", f"email/{lang}.txt"]
        if kind == "email"
        else [f"{subject}.html", "layout.html", f"labels/{lang}.html", "letter.css"]
    )
    missing = [rel for rel in needed if rel not in files]
    if missing:
        raise BundleProblem(f"{folder} lacks {', '.join(missing)} for {subject}")
    if kind == "email":
        return Bundle(subject, files, "email", "email 1")
    renderer = _renderer_of(folder, subject)
    return Bundle(subject, files, renderer, renderer_version(renderer))


def _renderer_of(folder: Path, subject: str) -> str:
    try:
        with (folder / "manifest.toml").open("rb") as fh:
            meta = tomllib.load(fh)
    except FileNotFoundError:
        meta = {}
    entry = meta.get("templates", {}).get(subject, {})
    name = str(entry.get("renderer", meta.get("default_renderer", "fast")))
    name = _RENDERER_ALIASES.get(name, name)
    if name not in RENDERER_REVISIONS:
        raise BundleProblem(
            f"{subject}: unknown renderer {name!r} (known: {', '.join(RENDERER_REVISIONS)})"
        )
    return name


def materialize(content: Mapping[str, Any], blobs: Mapping[str, bytes], root: Path) -> Path:
    """The version's files written out under ``root/<sha256>/`` (once; later calls find
    them). The folder is built under a hidden name and renamed into place, so a folder that
    exists is complete; a file whose bytes do not match its digest stops the write."""
    sha = content_sha256(content)
    target = Path(root) / sha
    if target.is_dir():
        return target
    building = Path(root) / f".{sha}.{secrets.token_hex(4)}"
    private_dirs(Path(root))
    try:
        os.mkdir(building, PRIVATE_DIR)
        for rel, digest in content["files"].items():
            data = blobs[digest]
            if hashlib.sha256(data).hexdigest() != digest:
                raise BundleProblem(f"{rel}: stored bytes do not match the version")
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise BundleProblem(f"{rel}: not a path inside the templates folder")
            path = building / rel
            private_dirs(path.parent)
            atomic_write(path, data, sync_dir=False)  # 0600: the cache is ours alone
        renderer = f'default_renderer = "{content["renderer"]}"\n'.encode()
        atomic_write(building / "manifest.toml", renderer, sync_dir=False)
        try:
            os.rename(building, target)
        except OSError:
            if not target.is_dir():  # another process won the race: theirs is the same
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target
