"""Block layout: block boxes stacked with collapsing vertical margins, their padding,
borders and background, inline content broken into lines, and min-/max-content widths;
tables are laid out by :mod:`.tables`, which asks back here for its cells' content.
"""

from __future__ import annotations

from letters.renderers.fast.boxes import Block, Table
from letters.renderers.fast.inline import Counters, Line, break_lines, inline_widths, line_ops
from letters.renderers.fast.metrics import Metrics
from letters.renderers.fast.ops import Frag, Op, shift
from letters.renderers.fast.style import Style
from letters.renderers.fast.tables import TableLayout


class Layout:
    """Lays out block boxes (and, through :attr:`tables`, tables) with ``metrics``."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.tables = TableLayout(self)

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
            lo, hi = self.tables.widths(box, counters)
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
                self.tables.frag(child, width, counters)
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
