"""The box tree: the checked HTML tree (:mod:`.tree`) with the stylesheet's computed styles
(:mod:`.style`), as block boxes holding blocks or inline content, and tables of head, body
and foot rows. ``display: none`` is dropped, running elements (the footer) are set aside,
and ``::after`` content is resolved into the inline content it follows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from barcode.errors import BarcodeError

from letters.barcodes import modules
from letters.renderers.fast.inline import SPACES, Barcode, Br, Generated, Inline, Text
from letters.renderers.fast.style import Style, Stylesheet, UnsupportedStyle
from letters.renderers.fast.tree import Node, UnsupportedTemplate


@dataclass(eq=False)
class Block:
    style: Style
    label: str
    children: list[Block | Table] = field(default_factory=list)
    inline: list[Inline] | None = None
    colspan: int = 1


@dataclass(eq=False)
class Row:
    style: Style
    cells: list[Block]


@dataclass(eq=False)
class Table:
    style: Style
    label: str
    head: list[Row] = field(default_factory=list)
    body: list[Row] = field(default_factory=list)
    foot: list[Row] = field(default_factory=list)

    @property
    def rows(self) -> list[Row]:
        return [*self.head, *self.body, *self.foot]


@dataclass
class Document:
    title: str
    author: str
    lang: str
    body: list[Block | Table]
    running: dict[str, Block]


Path_ = tuple[tuple[str, frozenset[str]], ...]


class Builder:
    """Tree + stylesheet → boxes."""

    def __init__(self, sheet: Stylesheet) -> None:
        self.sheet = sheet

    def document(self, root: Node) -> Document:
        html_path: Path_ = (("html", root.classes),)
        html_style = self.sheet.compute(html_path, None)
        title, author, body_node = "", "", None
        for child in root.children:
            if isinstance(child, str):
                continue
            if child.tag == "head":
                for meta in child.children:
                    if isinstance(meta, Node) and meta.tag == "title":
                        title = SPACES.sub(" ", meta.text()).strip()
                    elif isinstance(meta, Node) and meta.attrs.get("name") == "author":
                        author = meta.attrs.get("content", "")
            elif child.tag == "body":
                body_node = child
        if body_node is None:
            raise UnsupportedTemplate("the letter HTML has no <body>")
        body_path = (*html_path, ("body", body_node.classes))
        body_style = self.sheet.compute(body_path, html_style)
        running: dict[str, Block] = {}
        body = self.block(body_node, body_style, body_path, running, body_node.label).children
        return Document(title, author, root.attrs.get("lang", ""), body, running)

    def block(
        self, node: Node, style: Style, path: Path_, running: dict[str, Block], where: str
    ) -> Block:
        """A block container: block children, or inline content, or anonymous blocks."""
        box = Block(style, where, colspan=_colspan(node, where))
        if "barcode" in node.classes:
            value = node.attrs["data-value"]
            try:
                bars = modules(value)
            except (ValueError, BarcodeError) as exc:  # python-barcode's own errors too
                raise UnsupportedTemplate(f"barcode at {where}: {exc}") from None
            box.inline = [Barcode(value, bars, style)]
            return box
        pending: list[Inline] = []
        blocks: list[Block | Table] = []

        def flush_inline() -> None:
            if pending and any(not isinstance(i, Text) or i.text.strip() for i in pending):
                blocks.append(Block(style, f"{where} (text)", inline=list(pending)))
            pending.clear()

        for item in self._children(node, style, path, running, where):
            if isinstance(item, Block | Table):
                flush_inline()
                blocks.append(item)
            else:
                pending.append(item)
        if not blocks:
            box.inline = pending
            return box
        flush_inline()
        box.children = blocks
        return box

    def _children(
        self, node: Node, style: Style, path: Path_, running: dict[str, Block], where: str
    ) -> Iterator[Block | Table | Inline]:
        for child in node.children:
            if isinstance(child, str):
                yield Text(child, style)
                continue
            child_path = (*path, (child.tag, child.classes))
            child_style = self.sheet.compute(child_path, style)
            child_where = f"{where} > {child.label}"
            display = child_style.display
            if display == "none":
                continue
            if child.tag == "br":
                yield Br()
                continue
            if child_style.running:
                running[child_style.running] = self.block(
                    child, child_style, child_path, running, child_where
                )
                continue
            if display == "block":
                block = self.block(child, child_style, child_path, running, child_where)
                self._after(child, child_style, child_path, block)
                yield block
            elif display == "table":
                yield self.table(child, child_style, child_path, running, child_where)
            elif display == "inline":
                yield from self._children(child, child_style, child_path, running, child_where)
                after = self._generated(child, child_style, child_path)
                if after is not None:
                    yield after
            else:
                raise UnsupportedTemplate(f"<{child.tag}> at {child_where} outside a table")

    def _generated(self, node: Node, style: Style, path: Path_) -> Generated | None:
        after = self.sheet.compute(path, style, "after")
        if not after.content:
            return None
        return Generated(after.content, node.attrs, after)

    def _after(self, node: Node, style: Style, path: Path_, block: Block) -> None:
        generated = self._generated(node, style, path)
        if generated is None:
            return
        if block.inline is None:
            raise UnsupportedStyle(f"::after on {block.label}, which holds blocks")
        block.inline.append(generated)

    def _elements(
        self, node: Node, style: Style, path: Path_, where: str
    ) -> Iterator[tuple[Node, Style, Path_, str]]:
        """A table part's element children with their style, path and place; text between
        them may only be white space."""
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    raise UnsupportedTemplate(f"text directly inside {where}")
                continue
            child_path = (*path, (child.tag, child.classes))
            yield (
                child,
                self.sheet.compute(child_path, style),
                child_path,
                f"{where} > {child.label}",
            )

    def table(
        self, node: Node, style: Style, path: Path_, running: dict[str, Block], where: str
    ) -> Table:
        table = Table(style, where)
        for child, child_style, child_path, child_where in self._elements(node, style, path, where):
            if child_style.display == "table-row":
                table.body.append(self.row(child, child_style, child_path, running, child_where))
            elif child_style.display == "table-row-group":
                group = {"thead": table.head, "tfoot": table.foot}.get(child.tag, table.body)
                for row, row_style, row_path, row_where in self._elements(
                    child, child_style, child_path, child_where
                ):
                    if row_style.display != "table-row":
                        raise UnsupportedTemplate(f"<{row.tag}> in {child_where}: rows only")
                    group.append(self.row(row, row_style, row_path, running, row_where))
            else:
                raise UnsupportedTemplate(f"<{child.tag}> at {child_where} inside a table")
        return table

    def row(
        self, node: Node, style: Style, path: Path_, running: dict[str, Block], where: str
    ) -> Row:
        cells = []
        for child, child_style, child_path, child_where in self._elements(node, style, path, where):
            if child_style.display != "table-cell":
                raise UnsupportedTemplate(f"<{child.tag}> in {where}: cells only")
            cells.append(self.block(child, child_style, child_path, running, child_where))
        return Row(style, cells)


def _colspan(node: Node, where: str) -> int:
    value = node.attrs.get("colspan")
    if value is None:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= 50:
        raise UnsupportedTemplate(f"colspan {value!r} at {where}")
    return int(value)
