"""CSS box layout for the letter subset: styled boxes from the tree, lines of text, block
stacking with collapsing margins, and tables (fixed and automatic column widths, collapsed
borders) the way the reference renderer lays them out.

The result of laying out a box is a :class:`Frag`: its height and drawing operations with
coordinates relative to the box's top-left corner, y growing downwards, all in points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from barcode.errors import BarcodeError

from letters.barcodes import HEIGHT_MM, MODULE_WIDTH_MM, QUIET_ZONE_MM, modules
from letters.geometry import MM
from letters.renderers.fast.style import Style, Stylesheet, UnsupportedStyle
from letters.renderers.fast.tree import Node, UnsupportedTemplate

# drawing operations (y downwards from the fragment's top):
#   ("t", x, baseline, text, font, size, colour)   text
#   ("r", x, top, width, height, colour)            filled rectangle
#   ("l", x1, y1, x2, y2, line width, colour)      stroked line
#   ("b", x, top, module width, height, modules)   barcode bars
Op = tuple[object, ...]
Counters = dict[str, int]


@dataclass
class Frag:
    height: float
    ops: list[Op]


# --- text ------------------------------------------------------------------------------------


class Metrics:
    """Font lookup and text widths (cached: the same words recur in every letter)."""

    def __init__(
        self,
        fonts: dict[tuple[str, bool, bool], str],
        width: Callable[[str, str], float],
        ascent_descent: dict[str, tuple[float, float]],
    ) -> None:
        self.fonts = fonts
        self._width = width  # (text, font) → width at 1 pt
        self._cache: dict[tuple[str, str], float] = {}
        self.ascent_descent = ascent_descent

    def font(self, style: Style) -> str:
        key = (style.font_family, style.bold, style.italic)
        name = self.fonts.get(key) or self.fonts.get((style.font_family, style.bold, False))
        if name is None:
            raise UnsupportedStyle(
                f"no @font-face for {style.font_family!r} "
                f"{'bold ' if style.bold else ''}{'italic' if style.italic else ''}".rstrip()
            )
        return name

    def width(self, text: str, style: Style) -> float:
        font = self.font(style)
        key = (text, font)
        w = self._cache.get(key)
        if w is None:
            w = self._width(text, font)
            if len(self._cache) >= WIDTH_CACHE_SIZE:
                # names, ids and amounts are new in every letter: start over rather than
                # grow (a worker makes hundreds of thousands of letters)
                self._cache.clear()
            self._cache[key] = w
        return w * style.font_size

    def strut(self, style: Style) -> tuple[float, float]:
        """(above, below) the baseline of a line box for ``style`` (CSS half-leading)."""
        ascent, descent = self.ascent_descent[self.font(style)]
        half = style.line_height * style.font_size / 2
        shift = (ascent - descent) / 2 * style.font_size
        return half + shift, half - shift


@dataclass
class Text:
    text: str
    style: Style


@dataclass
class Generated:
    """``::after`` content: strings, attributes and page counters, resolved per page."""

    parts: tuple[tuple[str, str], ...]
    attrs: dict[str, str]
    style: Style

    def resolve(self, counters: Counters | None) -> str:
        out = []
        for kind, value in self.parts:
            if kind == "string":
                out.append(value)
            elif kind == "attr":
                out.append(self.attrs.get(value, ""))
            else:
                out.append(str((counters or {}).get(value, 0)))
        return "".join(out)


@dataclass
class Br:
    pass


@dataclass
class Barcode:
    value: str
    modules: str
    style: Style

    @property
    def width(self) -> float:
        return (len(self.modules) * MODULE_WIDTH_MM + 2 * QUIET_ZONE_MM) * MM

    @property
    def height(self) -> float:
        return HEIGHT_MM * MM


Inline = Text | Generated | Br | Barcode


@dataclass
class Unit:
    """An unbreakable piece of a line: glued text pieces, then maybe a space."""

    pieces: list[tuple[str, Style]]
    width: float
    space: float = 0.0
    space_style: Style | None = None
    forced_break: bool = False
    atom: Barcode | None = None


#: Widths of words measured recently; the template's own words stay in it. About 200 bytes
#: an entry: the cap keeps a long-running worker's memory flat (bench/soak.py).
WIDTH_CACHE_SIZE = 20_000

_SPACES = re.compile(r"[ \t\n\r\f]+")
# Break opportunities inside a "word" (UAX #14 as Pango applies it; CSS collapses only the
# ASCII white space above, so other spaces stay in the text but still allow a break):
# - after a hyphen, dash or solidus, unless a digit or a character that may not start a
#   line follows;
# - after the break-after class (BA): | U+2010 U+2012 U+2027 and the spaces U+1680,
#   U+2000-U+2006, U+2008-U+200A, U+205F;
# - after a closing bracket, ! ? or an ellipsis (CL, EX, IN) when a letter follows;
# - before the break-before class (BB): U+00B4 and the like.
_WORD_BREAK = re.compile(
    r"(?<=[-\u2013\u2014/])(?=[^\d\s\-/.,:;!?)\]}])"
    r"|(?<=[|\u2010\u2012\u2027\u1680\u2000-\u2006\u2008-\u200a\u205f])"
    r"|(?<=[)\]}!?\u2026])(?=[^\W\d_])"
    r"|(?=[\u00b4\u02c8\u02cc\u02df\u0f01-\u0f04])"
)


def units(items: list[Inline], metrics: Metrics, counters: Counters | None) -> list[Unit]:
    out: list[Unit] = []
    open_unit: Unit | None = None
    after_space = True  # at line start, leading spaces are dropped

    def close(unit: Unit | None) -> None:
        if unit is not None:
            out.append(unit)

    for item in items:
        if isinstance(item, Br):
            if open_unit is None:
                open_unit = Unit([], 0.0)
            if open_unit.space:
                open_unit.space, open_unit.space_style = 0.0, None
            open_unit.forced_break = True
            close(open_unit)
            open_unit, after_space = None, True
            continue
        if isinstance(item, Barcode):
            if open_unit is not None and not open_unit.space:
                open_unit.atom = item
                open_unit.width += item.width
            else:
                close(open_unit)
                open_unit = Unit([], item.width, atom=item)
            after_space = False
            continue
        text = item.text if isinstance(item, Text) else item.resolve(counters)
        style = item.style
        text = _SPACES.sub(" ", text)
        for part in re.split(r"( )", text):
            if not part:
                continue
            if part == " ":
                if after_space:
                    continue
                if open_unit is None:  # pragma: no cover - a space always follows a word
                    continue
                open_unit.space = metrics.width(" ", style)
                open_unit.space_style = style
                after_space = True
                continue
            pieces = _WORD_BREAK.split(part)
            for i, piece in enumerate(pieces):
                w = metrics.width(piece, style)
                if open_unit is not None and not open_unit.space and not open_unit.forced_break:
                    open_unit.pieces.append((piece, style))
                    open_unit.width += w
                else:
                    close(open_unit)
                    open_unit = Unit([(piece, style)], w)
                if i < len(pieces) - 1:
                    close(open_unit)
                    open_unit = None
            after_space = False
    if open_unit is not None:
        open_unit.space, open_unit.space_style = 0.0, None
        close(open_unit)
    return out


@dataclass
class Line:
    units: list[Unit]
    width: float  # without the trailing space
    above: float
    below: float

    @property
    def height(self) -> float:
        return self.above + self.below


def break_lines(
    items: list[Inline], width: float, style: Style, metrics: Metrics, counters: Counters | None
) -> list[Line]:
    """Greedy line breaking as CSS does it with ``white-space: normal``."""
    all_units = units(items, metrics, counters)
    if not all_units:
        return []
    lines: list[Line] = []
    current: list[Unit] = []
    used = 0.0  # width including the trailing space of the last unit
    for unit in all_units:
        if current and used + unit.width > width + 0.01:
            lines.append(_line(current, style, metrics))
            current, used = [], 0.0
        current.append(unit)
        used += unit.width + unit.space
        if unit.forced_break:
            lines.append(_line(current, style, metrics))
            current, used = [], 0.0
    if current:
        lines.append(_line(current, style, metrics))
    return lines


def _line(line_units: list[Unit], style: Style, metrics: Metrics) -> Line:
    above, below = metrics.strut(style)
    width = 0.0
    for i, unit in enumerate(line_units):
        width += unit.width + (unit.space if i < len(line_units) - 1 else 0.0)
        for _, s in unit.pieces:
            if s is not style:
                a, b = metrics.strut(s)
                above, below = max(above, a), max(below, b)
        if unit.atom is not None:
            above = max(above, unit.atom.height)
    return Line(line_units, width, above, below)


def line_ops(
    line: Line, x: float, top: float, width: float, align: str, metrics: Metrics
) -> list[Op]:
    if align == "right":
        x += width - line.width
    elif align == "center":
        x += (width - line.width) / 2
    baseline = top + line.above
    ops: list[Op] = []
    run: list[str] = []
    run_style: Style | None = None
    run_x = x
    cursor = x

    def flush() -> None:
        if run and run_style is not None:
            text = "".join(run).rstrip(" ")
            if text:
                ops.append(
                    (
                        "t",
                        run_x,
                        baseline,
                        text,
                        metrics.font(run_style),
                        run_style.font_size,
                        run_style.color,
                    )
                )

    last = len(line.units) - 1
    for i, unit in enumerate(line.units):
        for text, style in unit.pieces:
            if style is not run_style:
                flush()
                run, run_style, run_x = [], style, cursor
            run.append(text)
            cursor += metrics.width(text, style)
        if unit.atom is not None:
            flush()
            run, run_style = [], None
            atom = unit.atom
            ops.append(
                (
                    "b",
                    cursor + QUIET_ZONE_MM * MM,
                    baseline - atom.height,
                    MODULE_WIDTH_MM * MM,
                    atom.height,
                    atom.modules,
                )
            )
            cursor += atom.width
        if unit.space and i < last:
            if unit.space_style is not run_style:
                flush()
                run, run_style, run_x = [], unit.space_style, cursor
            run.append(" ")
            cursor += unit.space
    flush()
    return ops


def inline_widths(
    items: list[Inline], metrics: Metrics, counters: Counters | None
) -> tuple[float, float]:
    """(min-content, max-content) width of inline content."""
    smallest, widest, line = 0.0, 0.0, 0.0
    for unit in units(items, metrics, counters):
        smallest = max(smallest, unit.width)
        line += unit.width
        widest = max(widest, line)
        line += unit.space
        if unit.forced_break:
            line = 0.0
    return smallest, widest


# --- boxes -----------------------------------------------------------------------------------


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
                        title = _SPACES.sub(" ", meta.text()).strip()
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


# --- block layout ----------------------------------------------------------------------------


class Layout:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    # widths ---------------------------------------------------------------------------------

    def content_widths(self, box: Block, counters: Counters | None) -> tuple[float, float]:
        """(min, max) content width of a block's content (not its own width)."""
        if box.inline is not None:
            return inline_widths(box.inline, self.metrics, counters)
        smallest = widest = 0.0
        for child in box.children:
            lo, hi = self.outer_widths(child, counters)
            smallest, widest = max(smallest, lo), max(widest, hi)
        return smallest, widest

    def outer_widths(self, box: Block | Table, counters: Counters | None) -> tuple[float, float]:
        s = box.style
        if isinstance(box, Table):
            lo, hi = self.table_widths(box, counters)
            extra = s.margin[1] + s.margin[3]
            return lo + extra, hi + extra
        extra = (
            s.margin[1]
            + s.margin[3]
            + s.padding[1]
            + s.padding[3]
            + s.border[1][0]
            + s.border[3][0]
        )
        if s.width is not None:
            return s.width + extra, s.width + extra
        lo, hi = self.content_widths(box, counters)
        return lo + extra, hi + extra

    # blocks ---------------------------------------------------------------------------------

    def block(self, box: Block, width: float, counters: Counters | None = None) -> Frag:
        """Lay out ``box`` in a containing block ``width`` wide; the frag is its border box
        (margins excluded: the caller collapses them)."""
        s = box.style
        bt, br, bb, bl = (e[0] for e in s.border)
        pt, pr, pb, pl = s.padding
        outer = width - s.margin[1] - s.margin[3]
        inner = s.width if s.width is not None else outer - bl - br - pl - pr
        x0, y0 = bl + pl, bt + pt
        ops: list[Op] = []
        content = self.content(box, inner, counters, x0, y0, ops)
        if s.height is not None:
            content = s.height
        height = bt + pt + content + pb + bb
        box_width = inner + pl + pr + bl + br
        return Frag(height, self.decorate(s, box_width, height) + ops)

    def content(
        self, box: Block, width: float, counters: Counters | None, x: float, y: float, ops: list[Op]
    ) -> float:
        """Lay out a block's content at (x, y); add its ops; return its height."""
        if box.inline is not None:
            lines = break_lines(box.inline, width, box.style, self.metrics, counters)
            top = y
            for line in lines:
                ops.extend(line_ops(line, x, top, width, box.style.text_align, self.metrics))
                top += line.height
            return top - y
        top = y
        previous: float | None = None
        for child in box.children:
            margin_top, margin_bottom = child.style.margin[0], child.style.margin[2]
            top += margin_top if previous is None else max(previous, margin_top)
            frag = (
                self.table(child, width, counters)
                if isinstance(child, Table)
                else self.block(child, width, counters)
            )
            left = child.style.margin[3]
            ops.extend(shift(frag.ops, x + left, top))
            top += frag.height
            previous = margin_bottom
        if previous is not None:
            top += previous
        return top - y

    def decorate(self, s: Style, width: float, height: float) -> list[Op]:
        ops: list[Op] = []
        if s.background:
            ops.append(("r", 0.0, 0.0, width, height, s.background))
        (t, tc), (r, rc), (b, bc), (left, lc) = s.border
        if t:
            ops.append(("l", 0.0, t / 2, width, t / 2, t, tc))
        if b:
            ops.append(("l", 0.0, height - b / 2, width, height - b / 2, b, bc))
        if left:
            ops.append(("l", left / 2, 0.0, left / 2, height, left, lc))
        if r:
            ops.append(("l", width - r / 2, 0.0, width - r / 2, height, r, rc))
        return ops

    def lines(self, box: Block, width: float) -> list[Line]:
        s = box.style
        inner = (
            s.width
            if s.width is not None
            else width
            - s.margin[1]
            - s.margin[3]
            - s.border[1][0]
            - s.border[3][0]
            - s.padding[1]
            - s.padding[3]
        )
        return break_lines(box.inline or [], inner, s, self.metrics, None)

    # tables ---------------------------------------------------------------------------------

    def table_widths(self, table: Table, counters: Counters | None) -> tuple[float, float]:
        grid = TableGrid(table)
        cols_min, cols_max, _ = self.column_widths(grid, counters)
        lo, hi = sum(cols_min), sum(cols_max)
        if table.style.width is not None:
            lo, hi = max(lo, table.style.width), max(hi, table.style.width)
        extra = grid.edge_left + grid.edge_right
        return lo + extra, hi + extra

    def column_widths(
        self, grid: TableGrid, counters: Counters | None
    ) -> tuple[list[float], list[float], list[bool]]:
        n = grid.columns
        cols_min, cols_max = [0.0] * n, [0.0] * n
        constrained = [False] * n
        spanning = []
        for r, row in enumerate(grid.table.rows):
            for c, cell in zip(grid.starts[r], row.cells, strict=True):
                s = cell.style
                offsets = (
                    s.padding[1]
                    + s.padding[3]
                    + grid.half(r, c, "left")
                    + grid.half(r, c + cell.colspan - 1, "right")
                )
                lo, hi = self.content_widths(cell, counters)
                cell_min = lo + offsets
                cell_max = max(cell_min, (s.width if s.width is not None else hi) + offsets)
                if cell.colspan == 1:
                    cols_min[c] = max(cols_min[c], cell_min)
                    cols_max[c] = max(cols_max[c], cell_max)
                    constrained[c] = constrained[c] or s.width is not None
                else:
                    spanning.append((c, cell.colspan, cell_min, cell_max))
        for c, span, cell_min, cell_max in spanning:
            cols = slice(c, c + span)
            if cell_min > sum(cols_min[cols]):
                _distribute(cols_min, cell_min - sum(cols_min[cols]), constrained, cols_max, cols)
            if cell_max > sum(cols_max[cols]):
                _distribute(cols_max, cell_max - sum(cols_max[cols]), constrained, cols_max, cols)
        return cols_min, cols_max, constrained

    def used_columns(self, grid: TableGrid, width: float, counters: Counters | None) -> list[float]:
        """Column widths (each with its cells' padding and half borders) and table width."""
        table = grid.table
        s = table.style
        available = width - s.margin[1] - s.margin[3] - grid.edge_left - grid.edge_right
        if s.table_layout == "fixed" and s.width is not None:
            return self.fixed_columns(grid, s.width)
        cols_min, cols_max, constrained = self.column_widths(grid, counters)
        lo, hi = sum(cols_min), sum(cols_max)
        if s.width is None:
            used = lo if available <= lo else min(available, hi)
        else:
            used = max(s.width, lo)
        if used * (1 + 1e-9) < hi:
            specified = [
                high if c else low
                for low, high, c in zip(cols_min, cols_max, constrained, strict=True)
            ]
            guesses = [cols_min, specified, cols_max]
            lower = cols_min
            for guess in guesses:
                if sum(guess) > used * (1 + 1e-9):
                    break
                lower = guess
            upper = cols_max
            for guess in reversed(guesses):
                if sum(guess) < used * (1 - 1e-9):
                    break
                upper = guess
            if lower is upper:
                return list(upper)
            added = [u - lw for u, lw in zip(upper, lower, strict=True)]
            ratio = (used - sum(lower)) / sum(added) if sum(added) else 0.0
            return [lw + a * ratio for lw, a in zip(lower, added, strict=True)]
        widths = list(cols_max)
        _distribute(widths, used - hi, constrained, cols_max, slice(0, len(widths)))
        return widths

    def fixed_columns(self, grid: TableGrid, width: float) -> list[float]:
        table = grid.table
        n = grid.columns
        widths: list[float | None] = [None] * n
        if table.rows:
            row = table.rows[0]
            for c, cell in zip(grid.starts[0], row.cells, strict=True):
                s = cell.style
                if s.width is not None and cell.colspan == 1:
                    widths[c] = (
                        s.width
                        + s.padding[1]
                        + s.padding[3]
                        + grid.half(0, c, "left")
                        + grid.half(0, c, "right")
                    )
        fixed = sum(w for w in widths if w is not None)
        free = [i for i, w in enumerate(widths) if w is None]
        share = max(0.0, width - fixed) / len(free) if free else 0.0
        return [share if w is None else w for w in widths]

    def table(self, table: Table, width: float, counters: Counters | None = None) -> Frag:
        laid = self.table_rows(table, width, counters)
        return laid.frag(range(len(laid.rows)))

    def table_rows(self, table: Table, width: float, counters: Counters | None = None) -> LaidTable:
        grid = TableGrid(table)
        cols = self.used_columns(grid, width, counters)
        xs = [grid.edge_left]
        for w in cols:
            xs.append(xs[-1] + w)
        rows: list[LaidRow] = []
        for r, row in enumerate(table.rows):
            cells = []
            row_height = 0.0
            for c, cell in zip(grid.starts[r], row.cells, strict=True):
                s = cell.style
                top, bottom = (
                    grid.half(r, c, "top", cell.colspan),
                    grid.half(r, c, "bottom", cell.colspan),
                )
                left, right = grid.half(r, c, "left"), grid.half(r, c + cell.colspan - 1, "right")
                x0, x1 = xs[c], xs[c + cell.colspan]
                inner = x1 - x0 - left - right - s.padding[1] - s.padding[3]
                ops: list[Op] = []
                content = self.content(cell, inner, counters, left + s.padding[3], 0.0, ops)
                if s.height is not None:
                    content = max(content, s.height)
                height = top + s.padding[0] + content + s.padding[2] + bottom
                row_height = max(row_height, height)
                cells.append(LaidCell(c, cell.colspan, x0, x1, top + s.padding[0], height, ops, s))
            rows.append(LaidRow(row_height, cells))
        return LaidTable(table, grid, xs, rows)


def shift(ops: list[Op], dx: float, dy: float) -> list[Op]:
    out: list[Op] = []
    for op in ops:
        kind = op[0]
        if kind == "t" or kind == "b" or kind == "r":
            out.append((kind, op[1] + dx, op[2] + dy, *op[3:]))  # type: ignore[operator]
        else:  # "l"
            out.append(("l", op[1] + dx, op[2] + dy, op[3] + dx, op[4] + dy, *op[5:]))  # type: ignore[operator]
    return out


def _distribute(
    widths: list[float], excess: float, constrained: list[bool], maxima: list[float], cols: slice
) -> None:
    """CSS Tables 3 excess width distribution (no percentages in the subset)."""
    indices = list(range(len(widths)))[cols]
    for group in (
        [i for i in indices if not constrained[i] and maxima[i] > 0],
        [i for i in indices if not constrained[i]],
        [i for i in indices if constrained[i] and maxima[i] > 0],
        indices,
    ):
        if not group:
            continue
        total = sum(maxima[i] for i in group)
        for i in group:
            widths[i] += excess * (maxima[i] / total if total else 1 / len(group))
        return


class TableGrid:
    """Cell positions and collapsed borders: each edge takes the wider of the two cells'
    borders, and each cell uses half of it (CSS border-collapse)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        rows = table.rows
        self.starts: list[list[int]] = []
        self.columns = 0
        self.cell_at: list[dict[int, Block]] = []
        for row in rows:
            starts, at, c = [], {}, 0
            for cell in row.cells:
                starts.append(c)
                for k in range(cell.colspan):
                    at[c + k] = cell
                c += cell.colspan
            self.starts.append(starts)
            self.cell_at.append(at)
            self.columns = max(self.columns, c)
        n = len(rows)
        self.edge_left = max((self.half(r, 0, "left") for r in range(n)), default=0.0)
        self.edge_right = max(
            (self.half(r, self.columns - 1, "right") for r in range(n)), default=0.0
        )

    def edge(self, r: int, c: int, side: str) -> tuple[float, str]:
        """The winning border on ``side`` of grid slot (r, c)."""
        cell = self.cell_at[r].get(c)
        own = _side(cell, side)
        if side == "top":
            other = _side(self.cell_at[r - 1].get(c), "bottom") if r > 0 else (0.0, "")
        elif side == "bottom":
            other = (
                _side(self.cell_at[r + 1].get(c), "top") if r + 1 < len(self.cell_at) else (0.0, "")
            )
        elif side == "left":
            neighbour = self.cell_at[r].get(c - 1) if c > 0 else None
            other = _side(neighbour, "right") if neighbour is not cell else (0.0, "")
        else:
            neighbour = self.cell_at[r].get(c + 1)
            other = _side(neighbour, "left") if neighbour is not cell else (0.0, "")
        if side in ("top", "left"):  # the earlier cell wins ties
            return other if other[0] >= own[0] and other[0] > 0 else own
        return own if own[0] >= other[0] else other

    def half(self, r: int, c: int, side: str, span: int = 1) -> float:
        return max(self.edge(r, k, side)[0] for k in range(c, c + span)) / 2


def _side(cell: Block | None, side: str) -> tuple[float, str]:
    if cell is None:
        return (0.0, "")
    return cell.style.border[("top", "right", "bottom", "left").index(side)]


@dataclass
class LaidCell:
    column: int
    span: int
    x0: float
    x1: float
    content_top: float  # from the row's top
    height: float
    ops: list[Op]
    style: Style


@dataclass
class LaidRow:
    height: float
    cells: list[LaidCell]


@dataclass
class LaidTable:
    table: Table
    grid: TableGrid
    xs: list[float]
    rows: list[LaidRow]

    @property
    def head_count(self) -> int:
        return len(self.table.head)

    @property
    def foot_count(self) -> int:
        return len(self.table.foot)

    def top_edge(self, first: int) -> float:
        return max((self.grid.half(first, c, "top") for c in range(self.grid.columns)), default=0.0)

    def bottom_edge(self, last: int) -> float:
        return max(
            (self.grid.half(last, c, "bottom") for c in range(self.grid.columns)), default=0.0
        )

    def height(self, indices: list[int] | range) -> float:
        if not indices:
            return 0.0
        return (
            self.top_edge(indices[0])
            + sum(self.rows[i].height for i in indices)
            + self.bottom_edge(indices[-1])
        )

    def frag(self, indices: list[int] | range) -> Frag:
        """The rows ``indices`` (in this order) as one fragment of the table."""
        if not indices:
            return Frag(0.0, [])
        grid = self.grid
        backgrounds: list[Op] = []
        borders: list[Op] = []
        contents: list[Op] = []
        y = self.top_edge(indices[0])
        for n, r in enumerate(indices):
            row = self.rows[r]
            for cell in row.cells:
                s = cell.style
                offset = {"top": 0.0, "middle": (row.height - cell.height) / 2}.get(
                    s.vertical_align, row.height - cell.height
                )
                if s.background:
                    backgrounds.append(
                        ("r", cell.x0, y, cell.x1 - cell.x0, row.height, s.background)
                    )
                contents.extend(shift(cell.ops, cell.x0, y + cell.content_top + offset))
                last = n == len(indices) - 1
                for c in range(cell.column, cell.column + cell.span):
                    x0 = self.xs[c] - (grid.half(r, c, "left") if c == 0 else 0.0)
                    x1 = self.xs[c + 1] + (
                        grid.half(r, c, "right") if c == grid.columns - 1 else 0.0
                    )
                    top = grid.edge(r, c, "top")
                    if n > 0 and indices[n - 1] != r - 1:  # below a repeated head row
                        top = max(top, grid.edge(indices[n - 1], c, "bottom"))
                    borders.extend(_border(x0, y, x1, y, top))
                    if last:
                        bottom = y + row.height
                        borders.extend(_border(x0, bottom, x1, bottom, grid.edge(r, c, "bottom")))
                end = cell.column + cell.span - 1
                left = grid.edge(r, cell.column, "left")
                borders.extend(_border(cell.x0, y, cell.x0, y + row.height, left))
                if end == grid.columns - 1 or grid.cell_at[r].get(end + 1) is None:
                    right = grid.edge(r, end, "right")
                    borders.extend(_border(cell.x1, y, cell.x1, y + row.height, right))
            y += row.height
        height = y + self.bottom_edge(indices[-1])
        return Frag(height, backgrounds + borders + contents)


def _border(x1: float, y1: float, x2: float, y2: float, edge: tuple[float, str]) -> list[Op]:
    return [("l", x1, y1, x2, y2, edge[0], edge[1])] if edge[0] else []
