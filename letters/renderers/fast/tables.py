"""Table layout the way the reference renderer does it: automatic or fixed column widths,
collapsed borders (the wider of two cells' borders wins the edge), rows as tall as their
tallest cell. A table split over pages repeats its head rows (the heading) and foot rows (the
total) on every page and is split between body rows only: a row is never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from letters.renderers.fast.boxes import Block, Table
from letters.renderers.fast.inline import Counters
from letters.renderers.fast.ops import Frag, Op, shift
from letters.renderers.fast.style import Style


class CellLayout(Protocol):
    """What a table needs from the block layout: its cells are blocks."""

    def content(
        self, box: Block, width: float, counters: Counters | None, x: float, y: float, ops: list[Op]
    ) -> float: ...

    def content_widths(self, box: Block, counters: Counters | None) -> tuple[float, float]: ...


class TableLayout:
    """Lays out tables; the cells' content is laid out by ``cells``."""

    def __init__(self, cells: CellLayout) -> None:
        self.cells = cells

    def widths(self, table: Table, counters: Counters | None) -> tuple[float, float]:
        """(min, max) width of ``table``, its outer borders included."""
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
                lo, hi = self.cells.content_widths(cell, counters)
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

    def frag(self, table: Table, width: float, counters: Counters | None = None) -> Frag:
        """The whole table in a containing block ``width`` wide, on one page."""
        laid = self.lay_out(table, width, counters)
        return laid.frag(range(len(laid.rows)))

    def lay_out(self, table: Table, width: float, counters: Counters | None = None) -> LaidTable:
        """Every row laid out, to be drawn whole or a page's share at a time."""
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
                content = self.cells.content(cell, inner, counters, left + s.padding[3], 0.0, ops)
                if s.height is not None:
                    content = max(content, s.height)
                height = top + s.padding[0] + content + s.padding[2] + bottom
                row_height = max(row_height, height)
                cells.append(LaidCell(c, cell.colspan, x0, x1, top + s.padding[0], height, ops, s))
            rows.append(LaidRow(row_height, cells))
        return LaidTable(table, grid, xs, rows)


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

    @property
    def body(self) -> range:
        """The body rows, between the head and the foot rows."""
        return range(self.head_count, len(self.rows) - self.foot_count)

    def page_rows(self, body: range) -> list[int]:
        """The rows drawn for a page's share of the body: every head row (the heading), the
        share, every foot row (the total)."""
        return [*range(self.head_count), *body, *range(self.body.stop, len(self.rows))]

    def rows_that_fit(self, body: range, height: float) -> int:
        """How many of ``body``'s rows fit in ``height`` with the head and foot rows, leaving
        at least one for the next page; 0 when not even one does. A row is never split."""
        fits = 0
        for n in range(1, len(body)):
            if self.height(self.page_rows(body[:n])) > height + 1e-6:
                break
            fits = n
        return fits

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
