"""The letter HTML as a light tree, checked against the subset documented in letter.css.

Only the documented elements, classes and attributes are accepted; anything else is refused
with :class:`UnsupportedTemplate`, naming what and where. Text is kept as plain strings: it
is data, never markup. The barcode's SVG is not read; the renderer draws the symbol from
``data-value``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache

from lxml import etree

from letters.renderers.base import OutsideSubset
from letters.templating import Subset, documented_subset

SVG_ELEMENTS = frozenset({"svg", "g", "rect"})
SVG_ATTRIBUTES = frozenset({"xmlns", "width", "height", "viewbox", "fill", "x", "y"})
ATTRIBUTES = {
    "class": None,  # any element
    "colspan": frozenset({"td", "th"}),
    "lang": frozenset({"html"}),
    "charset": frozenset({"meta"}),
    "name": frozenset({"meta"}),
    "content": frozenset({"meta"}),
}


class UnsupportedTemplate(OutsideSubset):
    """The letter HTML uses an element, class or attribute outside the documented subset."""


@dataclass(eq=False)
class Node:
    tag: str
    classes: frozenset[str]
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def where(self, parents: tuple[Node, ...]) -> str:
        return " > ".join(n.label for n in (*parents, self))

    @property
    def label(self) -> str:
        return self.tag + "".join(f".{c}" for c in sorted(self.classes))


@cache
def _subset() -> Subset:
    return documented_subset()


_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)


def parse(html: str) -> Node:
    """The ``<html>`` element of ``html`` as a checked :class:`Node` tree."""
    try:
        root = etree.fromstring(html, _PARSER)
    except etree.XMLSyntaxError as exc:  # pragma: no cover - the HTML parser recovers
        raise UnsupportedTemplate(f"unparsable HTML: {exc}") from None
    if root is None or root.tag != "html":
        raise UnsupportedTemplate("the letter HTML has no <html> root element")
    return _convert(root, (), _subset())


def _convert(element: etree._Element, parents: tuple[Node, ...], subset: Subset) -> Node:
    tag = element.tag if isinstance(element.tag, str) else ""
    attrs = {str(k): str(v) for k, v in element.attrib.items()}
    classes = frozenset(attrs.get("class", "").split())
    node = Node(tag, classes, attrs)
    where = node.where(parents)
    if tag not in subset.elements or tag in SVG_ELEMENTS:
        raise UnsupportedTemplate(f"element <{tag}> at {where} is outside the documented subset")
    for cls in sorted(classes - subset.classes):
        raise UnsupportedTemplate(f"class {cls!r} at {where} is outside the documented subset")
    for name in attrs:
        scope = ATTRIBUTES.get(name, frozenset())
        if name.startswith("data-") and name[5:].replace("-", "").isalnum():
            continue
        if name not in ATTRIBUTES or (scope is not None and tag not in scope):
            raise UnsupportedTemplate(
                f"attribute {name!r} on <{tag}> at {where} is outside the documented subset"
            )
    if "barcode" in classes:
        _check_barcode(element, node, where)
        return node
    if element.text:
        node.children.append(_nfc(element.text))
    here = (*parents, node)
    for child in element:
        if isinstance(child.tag, str):
            node.children.append(_convert(child, here, subset))
        if child.tail:
            node.children.append(_nfc(child.tail))
    return node


def _nfc(text: str) -> str:
    """Accents typed as separate combining marks (as macOS sends them) composed into one
    character: ReportLab does not position combining marks the way HarfBuzz does.

    >>> _nfc("Bjo\u0308rn A\u030asmund") == "Björn Åsmund"
    True
    """
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _check_barcode(element: etree._Element, node: Node, where: str) -> None:
    if node.tag != "div":
        raise UnsupportedTemplate(f"class 'barcode' on <{node.tag}> at {where}: only div.barcode")
    if node.attrs.get("data-symbology") != "code128" or not node.attrs.get("data-value"):
        raise UnsupportedTemplate(
            f'barcode at {where} needs data-symbology="code128" and a data-value'
        )
    if (element.text or "").strip():
        raise UnsupportedTemplate(f"text inside the barcode at {where}")
    for sub in element.iterdescendants():
        if not isinstance(sub.tag, str):
            continue
        if sub.tag not in SVG_ELEMENTS:
            raise UnsupportedTemplate(f"element <{sub.tag}> inside the barcode at {where}")
        for name in sub.attrib:
            if str(name).lower() not in SVG_ATTRIBUTES:
                raise UnsupportedTemplate(
                    f"attribute {name!r} on <{sub.tag}> inside the barcode at {where}"
                )
        if (sub.text or "").strip() or (sub.tail or "").strip():
            raise UnsupportedTemplate(f"text inside the barcode at {where}")
