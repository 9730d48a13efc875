"""Platypus flowables for laid-out boxes, the page template and the canvas that writes each
page's running footer ("Page n of m") once the page count is known."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from reportlab.lib.colors import HexColor  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import Flowable  # type: ignore[import-untyped]

from letters.renderers.fast.blocks import Layout
from letters.renderers.fast.boxes import Block, Table
from letters.renderers.fast.inline import Line, line_ops
from letters.renderers.fast.ops import Frag, Op
from letters.renderers.fast.tables import LaidTable

ORPHANS = WIDOWS = 2  # CSS initial values, as the reference renderer applies them


@lru_cache(maxsize=64)
def colour(value: str) -> Any:
    return HexColor(value)


def draw_ops(canvas: Any, ops: list[Op], x: float, top: float) -> None:
    """Draw ``ops`` with their origin at (x, top) in PDF coordinates (y upwards)."""
    text = None
    font: tuple[object, object] | None = None
    fill: object = None
    for op in ops:
        kind = op[0]
        if kind == "t":
            if text is None:
                text = canvas.beginText()
                font, fill = None, None
            if (op[4], op[5]) != font:
                font = (op[4], op[5])
                text.setFont(op[4], op[5])
            if op[6] != fill:
                fill = op[6]
                text.setFillColor(colour(str(op[6])))
            text.setTextOrigin(x + op[1], top - op[2])  # type: ignore[operator]
            text.textOut(op[3])
            continue
        if text is not None:
            canvas.drawText(text)
            text = None
        if kind == "r":
            canvas.setFillColor(colour(str(op[5])))
            canvas.rect(x + op[1], top - op[2] - op[4], op[3], op[4], stroke=0, fill=1)  # type: ignore[operator]
        elif kind == "l":
            canvas.setLineWidth(op[5])
            canvas.setStrokeColor(colour(str(op[6])))
            canvas.line(x + op[1], top - op[2], x + op[3], top - op[4])  # type: ignore[operator]
        elif kind == "b":
            _bars(canvas, x + op[1], top - op[2], op[3], op[4], str(op[5]))  # type: ignore[operator]
    if text is not None:
        canvas.drawText(text)


def _bars(canvas: Any, left: float, top: float, module: Any, height: Any, bars: str) -> None:
    """The symbol's modules as filled rectangles, one per bar."""
    canvas.setFillColor(colour("#000000"))
    path = canvas.beginPath()
    start = None
    for i, m in enumerate(bars + "0"):
        if m == "1" and start is None:
            start = i
        elif m != "1" and start is not None:
            path.rect(left + start * module, top - height, (i - start) * module, height)
            start = None
    canvas.drawPath(path, stroke=0, fill=1)


class BoxFlowable(Flowable):  # type: ignore[misc]
    """A block box (paragraph, heading, div) in the page flow."""

    def __init__(self, layout: Layout, box: Block, lines: list[Line] | None = None) -> None:
        super().__init__()
        self.layout = layout
        self.box = box
        self.part_lines = lines  # a page's share of a split paragraph
        self.frag: Frag | None = None
        self._width = -1.0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if self.frag is None or self._width != available_width:
            self._width = available_width
            if self.part_lines is None:
                self.frag = self.layout.block(self.box, available_width)
            else:
                self.frag = self._lines_frag(self.part_lines, available_width)
        self.width, self.height = available_width, self.frag.height
        return self.width, self.height

    def _lines_frag(self, lines: list[Line], width: float) -> Frag:
        s = self.box.style
        ops: list[Op] = []
        top = 0.0
        for line in lines:
            ops.extend(
                line_ops(
                    line,
                    s.margin[3],
                    top,
                    width - s.margin[1] - s.margin[3],
                    s.text_align,
                    self.layout.metrics,
                )
            )
            top += line.height
        return Frag(top, ops)

    def _splittable(self) -> bool:
        s = self.box.style
        return (
            self.box.inline is not None
            and not s.avoid_break_inside
            and s.height is None
            and not s.background
            and not any(e[0] for e in s.border)
            and not any(s.padding)
        )

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        if not self._splittable():
            return []
        lines = self.part_lines or self.layout.lines(self.box, available_width)
        used, fits = 0.0, 0
        for line in lines:
            if used + line.height > available_height + 1e-6:
                break
            used += line.height
            fits += 1
        fits = min(fits, len(lines) - WIDOWS)
        if fits < ORPHANS:
            return []
        first = BoxFlowable(self.layout, self.box, lines[:fits])
        rest = BoxFlowable(self.layout, self.box, lines[fits:])
        first.spaceBefore, first.spaceAfter = self.spaceBefore, 0
        rest.spaceBefore, rest.spaceAfter = 0, self.spaceAfter
        first.keepWithNext = False
        rest.keepWithNext = getattr(self, "keepWithNext", False)
        return [first, rest]

    def draw(self) -> None:
        assert self.frag is not None
        draw_ops(self.canv, self.frag.ops, 0.0, self.height)


class TableFlowable(Flowable):  # type: ignore[misc]
    """A table in the page flow; splits between body rows, repeating head and foot rows."""

    def __init__(
        self, layout: Layout, table: Table, body: range | None = None, laid: LaidTable | None = None
    ) -> None:
        super().__init__()
        self.layout = layout
        self.table = table
        self.laid = laid
        self.body = body
        self.frag: Frag | None = None
        self._width = -1.0

    def _laid(self, width: float) -> LaidTable:
        if self.laid is None or self._width != width:
            self.laid = self.layout.tables.lay_out(self.table, width)
            self._width = width
        return self.laid

    def _body(self, laid: LaidTable) -> range:
        return self.body if self.body is not None else laid.body

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        laid = self._laid(available_width)
        self.frag = laid.frag(laid.page_rows(self._body(laid)))
        self.width, self.height = available_width, self.frag.height
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        if self.table.style.avoid_break_inside:
            return []
        laid = self._laid(available_width)
        body = self._body(laid)
        fits = laid.rows_that_fit(body, available_height)
        if fits == 0:
            return []
        a = TableFlowable(self.layout, self.table, body[:fits], laid)
        b = TableFlowable(self.layout, self.table, body[fits:], laid)
        a._width = b._width = available_width
        a.spaceBefore, a.spaceAfter = self.spaceBefore, 0
        b.spaceBefore, b.spaceAfter = 0, self.spaceAfter
        b.keepWithNext = getattr(self, "keepWithNext", False)
        return [a, b]

    def draw(self) -> None:
        assert self.frag is not None
        left = self.table.style.margin[3]
        draw_ops(self.canv, self.frag.ops, left, self.height)


def flowables(layout: Layout, body: list[Block | Table]) -> list[Flowable]:
    """Body boxes → flowables, with adjoining vertical margins collapsed (the larger wins)
    and ``page-break-before: avoid`` kept with the box before it."""
    out: list[Flowable] = []
    previous_bottom: float | None = None
    for box in body:
        f = TableFlowable(layout, box) if isinstance(box, Table) else BoxFlowable(layout, box)
        top = box.style.margin[0]
        f.spaceBefore = top if previous_bottom is None else max(previous_bottom, top)
        f.spaceAfter = 0
        if box.style.avoid_break_before and out:
            out[-1].keepWithNext = True
        previous_bottom = box.style.margin[2]
        out.append(f)
    if out and previous_bottom:
        out[-1].spaceAfter = previous_bottom
    return out


class PagedCanvas(Canvas):  # type: ignore[misc]
    """Keeps each finished page until the document is complete, then draws every page's
    running footer with the final page count."""

    def __init__(self, *args: Any, footer: Callable[[Any, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._footer = footer

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()
