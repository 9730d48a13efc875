"""Inline content: text, generated ``::after`` content, line breaks and the barcode; the
unbreakable pieces ("units") words split into, greedy line breaking as CSS does it, the
drawing operations of a line, and min-/max-content widths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from letters import linebreaks
from letters.barcodes import HEIGHT_MM, MODULE_WIDTH_MM, QUIET_ZONE_MM
from letters.geometry import MM
from letters.renderers.fast.metrics import Metrics
from letters.renderers.fast.ops import Op
from letters.renderers.fast.style import Style

#: Page counters for generated content ("page", "pages"); None outside the running footer.
Counters = dict[str, int]


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


SPACES = linebreaks.SPACES
_WORD_BREAK = linebreaks.WORD_BREAK


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
        text = SPACES.sub(" ", text)
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
            current[-1] = _hyphenation_point_broken(current[-1], metrics)
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


#: A hyphenation point (U+2027) a line breaks after is printed as a hyphen (U+2010), as
#: Pango prints it (the break removes the point and inserts a hyphen).
HYPHENATION_POINT, HYPHEN = "\u2027", "\u2010"


def _hyphenation_point_broken(unit: Unit, metrics: Metrics) -> Unit:
    """``unit``, ending a line not at a space: a trailing hyphenation point as a hyphen."""
    if unit.space or unit.forced_break or not unit.pieces:
        return unit
    text, piece_style = unit.pieces[-1]
    if not text.endswith(HYPHENATION_POINT):
        return unit
    hyphenated = text[: -len(HYPHENATION_POINT)] + HYPHEN
    width = unit.width - metrics.width(text, piece_style) + metrics.width(hyphenated, piece_style)
    pieces = [*unit.pieces[:-1], (hyphenated, piece_style)]
    return Unit(pieces, width, unit.space, unit.space_style, unit.forced_break, unit.atom)


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
