"""XML in and out without surprises.

Out: values from input are cleaned to what XML 1.0 can carry (control characters and lone
surrogates removed) and put in elements with lxml, never by string formatting, so ``<``,
``&`` and quotes are escaped by the serializer. In: documents are parsed without DTDs,
entity expansion or network access, and a document with a DOCTYPE is refused.

>>> one_line("  Kari\\x00 <Nordmann>\\n & co  ", 100)
'Kari <Nordmann> & co'
>>> one_line("x" * 10, 4)
'xxxx'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import cast

from lxml import etree

NS = "http://api.digipost.no/schema/v8"
DATATYPES_NS = "http://api.digipost.no/schema/datatypes"

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACE = re.compile(r"\s+")


class XmlError(ValueError):
    """A document from the server that is not what it should be."""


def one_line(value: str, limit: int) -> str:
    """``value`` as one line of XML-safe text, cut to ``limit`` characters."""
    return _SPACE.sub(" ", _NOT_XML.sub("", value)).strip()[:limit].rstrip()


def default_ns(ns: str) -> Mapping[str, str]:
    """An nsmap making ``ns`` the default namespace (lxml's key ``None``; the stubs only
    know ``str`` keys)."""
    return cast("Mapping[str, str]", {None: ns})


def q(name: str, ns: str = NS) -> str:
    return f"{{{ns}}}{name}"


def sub(parent: etree._Element, name: str, text: str | None = None, ns: str = NS) -> etree._Element:
    element = etree.SubElement(parent, q(name, ns))
    if text is not None:
        element.text = text
    return element


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def parse(data: bytes, root: str, ns: str = NS) -> etree._Element:
    """Parse ``data`` safely and insist that its root is ``{ns}root``."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"not well-formed XML: {exc.msg}") from None
    if tree.getroottree().docinfo.internalDTD is not None:
        raise XmlError("a DOCTYPE is not accepted")
    if tree.tag != q(root, ns):
        raise XmlError(f"expected <{root}>, got <{etree.QName(tree).localname}>")
    return tree


def child_text(element: etree._Element, name: str, ns: str = NS) -> str | None:
    found = element.find(q(name, ns))
    if found is None:
        return None
    return found.text or ""


def required_text(element: etree._Element, name: str, ns: str = NS) -> str:
    value = child_text(element, name, ns)
    if value is None:
        raise XmlError(f"<{etree.QName(element).localname}> has no <{name}>")
    return value
