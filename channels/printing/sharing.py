"""One copy per print batch file of what its letters' pages share: fonts, above all.

Each archived letter carries its own copy of its fonts. The fast renderer makes those
copies byte for byte the same in every letter (:mod:`letters.renderers.fast.repertoire`),
so a batch file of 1,000 letters held 1,000 identical copies of each font (about 29 KB of
a one-page letter's 30). A :class:`Pool` belongs to one batch file. As a letter joins the
file, every object its pages reach through ``/Resources`` (fonts, their descriptors, font
files, ToUnicode maps, images, graphics states) that is identical to one the file already
has is not copied again: the letter's page refers to the file's copy. Identical means the
same dictionary, with what it refers to identical in turn, and for a stream the same raw
(still encoded) bytes; an object that points back up the document (``/Parent``, ``/P``)
is never shared.

Nothing a page shows changes: a page refers to an object with exactly the bytes of its own.
A letter's content streams are never shared or changed (the inserter code is added as a
stream of its own, :mod:`channels.printing.inserter`). ``manifest.json`` says so
(:data:`channels.printing.manifest.PAGES_IN_FILES`).

    pool = Pool()                        # one per batch file
    plan = pool.detach(source, len(target.pages))
    stamp_into(target, source, ...)      # copies the pages, without what the file has
    pool.attach(target, plan)            # ... which they now refer to
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import pikepdf

#: Keys that point back up the document: an object with one is never shared.
_UP = frozenset({"/Parent", "/P"})
_CONTAINERS = (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)
_unique = itertools.count()

Path = tuple[int | str, ...]  # a page number in the letter, then keys and indices


@dataclass
class Plan:
    """What :meth:`Pool.detach` took off a letter's pages, to :meth:`Pool.attach` back."""

    first_page: int  # where the letter's pages start in the file
    links: list[tuple[Path, pikepdf.Object]] = field(default_factory=list)
    new: list[tuple[Path, bytes]] = field(default_factory=list)


class Pool:
    """The resource objects one batch file has, by content (see the module's text)."""

    def __init__(self) -> None:
        self._objects: dict[bytes, pikepdf.Object] = {}
        self._keys: dict[tuple[int, int], bytes] = {}  # the letter being detached
        self.shared = 0  # objects a letter did not bring, the file having them already

    def detach(self, source: pikepdf.Pdf, first_page: int) -> Plan:
        """Take off ``source``'s pages (the letter about to be appended at ``first_page``;
        it is changed, so it must not be saved) each resource object the file has."""
        plan = Plan(first_page)
        self._keys = {}
        for number, page in enumerate(source.pages):
            if "/Resources" in page.obj:
                self._walk(page.obj, "/Resources", (number, "/Resources"), plan)
        self._keys = {}
        return plan

    def attach(self, target: pikepdf.Pdf, plan: Plan) -> None:
        """After the letter's pages were appended to ``target``: point them at the file's
        objects :meth:`detach` took off, and keep the letter's new ones for the next."""
        for path, shared in plan.links:
            parent, key = _parent(target, plan.first_page, path)
            parent[key] = shared
        self.shared += len(plan.links)
        for path, content in plan.new:
            parent, key = _parent(target, plan.first_page, path)
            self._objects.setdefault(content, parent[key])

    def _walk(self, parent: Any, key: int | str, path: Path, plan: Plan) -> None:
        node = parent[key]
        if not isinstance(node, _CONTAINERS):
            return
        if node.is_indirect:
            content = self._key(node)
            shared = self._objects.get(content)
            if shared is not None:
                # not copied: attach() puts the file's one here
                if isinstance(parent, pikepdf.Array):
                    parent[key] = 0
                else:
                    del parent[key]
                plan.links.append((path, shared))
                return
            plan.new.append((path, content))
            if not isinstance(node, pikepdf.Array) and any(k in node for k in _UP):
                return
        elif b" R" not in node.unparse():  # nothing indirect inside
            return
        keys = range(len(node)) if isinstance(node, pikepdf.Array) else list(node.keys())
        for item in keys:
            self._walk(node, item, (*path, item), plan)

    # --- what an object is, whatever its number in the letter --------------------------------

    def _key(self, obj: pikepdf.Object) -> bytes:
        objgen = obj.objgen
        known = self._keys.get(objgen)
        if known is not None:
            return known
        self._keys[objgen] = b"cycle %d" % next(_unique)  # meanwhile: equal to nothing
        digest = hashlib.sha256(self._content(obj)).digest()
        self._keys[objgen] = digest
        return digest

    def _content(self, obj: Any) -> bytes:
        if isinstance(obj, pikepdf.Array):
            return b"[" + b" ".join(self._value(item) for item in obj) + b"]"
        keys = sorted(obj.keys())
        if any(k in _UP for k in keys):
            return b"up %d" % next(_unique)
        text = b"<<" + b"".join(k.encode() + b" " + self._value(obj[k]) + b" " for k in keys)
        if isinstance(obj, pikepdf.Stream):
            return b"stream " + text + hashlib.sha256(obj.read_raw_bytes()).digest()
        return text + b">>"

    def _value(self, value: Any) -> bytes:
        if isinstance(value, _CONTAINERS):
            if value.is_indirect:
                return b"@" + self._key(value)
            text = bytes(value.unparse())
            return text if b" R" not in text else self._content(value)
        if isinstance(value, pikepdf.Object):
            return bytes(value.unparse())
        return repr(value).encode()  # a number or a boolean


def _parent(target: pikepdf.Pdf, first_page: int, path: Path) -> tuple[Any, int | str]:
    node: Any = target.pages[first_page + int(path[0])].obj
    for key in path[1:-1]:
        node = node[key]
    return node, path[-1]
