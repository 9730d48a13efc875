"""Computed style for the fast renderer: the :class:`Style` the layout reads, CSS values
(lengths, colours) and the cascade, which matches a :class:`Stylesheet`'s selectors against an
element's path and computes each property from the winning declarations and the parent.

Reading the stylesheet text into rules is :mod:`.css`; a value outside the subset is refused
here, with the rule it is in, when the stylesheet is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from letters.geometry import MM
from letters.renderers.base import OutsideSubset

UNITS = {"mm": MM, "cm": 10 * MM, "in": 72.0, "pt": 1.0, "px": 0.75}


class UnsupportedStyle(OutsideSubset):
    """The stylesheet uses something outside the fast renderer's CSS subset."""


@dataclass(frozen=True)
class Compound:
    tag: str | None
    classes: frozenset[str]


@dataclass(frozen=True)
class Rule:
    parts: tuple[Compound, ...]  # ancestors first; matched right to left
    pseudo: str | None
    declarations: tuple[tuple[str, str], ...]
    specificity: tuple[int, int, int, int]  # (origin, classes, elements, source order)
    where: str


@dataclass(frozen=True)
class FontFace:
    family: str
    bold: bool
    italic: bool
    path: Path


@dataclass(frozen=True)
class PageStyle:
    width: float
    height: float
    margin: tuple[float, float, float, float]  # top, right, bottom, left
    footer_element: str | None
    footer_padding_top: float


Edge = tuple[float, str]  # border width in pt, colour


@dataclass(frozen=True)
class Style:
    """A computed style: only what the layout reads."""

    display: str = "inline"
    font_family: str = ""
    font_size: float = 12.0
    bold: bool = False
    italic: bool = False
    line_height: float = 1.2  # multiple of font-size
    color: str = "#000000"
    background: str | None = None
    text_align: str = "left"
    vertical_align: str = "middle"
    width: float | None = None
    height: float | None = None
    margin: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    padding: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    border: tuple[Edge, Edge, Edge, Edge] = ((0.0, ""), (0.0, ""), (0.0, ""), (0.0, ""))
    table_layout: str = "auto"
    avoid_break_inside: bool = False
    avoid_break_before: bool = False
    running: str | None = None
    content: tuple[tuple[str, str], ...] = field(default=())


SIDES = ("top", "right", "bottom", "left")
DISPLAYS = frozenset(
    {"block", "inline", "none", "table", "table-row-group", "table-row", "table-cell"}
)
LENGTH = re.compile(r"^(-?\d*\.?\d+)(mm|cm|in|pt|px|em)?$")
_COLOR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def length(value: str, font_size: float, where: str) -> float:
    """A CSS length in points (``em`` relative to ``font_size``)."""
    match = LENGTH.match(value.strip())
    if not match:
        raise UnsupportedStyle(f"{where}: {value!r} is not a supported length")
    number, unit = float(match.group(1)), match.group(2)
    if unit is None:
        if number != 0:
            raise UnsupportedStyle(f"{where}: {value!r} has no unit")
        return 0.0
    return number * (font_size if unit == "em" else UNITS[unit])


def color(value: str, where: str) -> str:
    value = value.strip()
    match = _COLOR.match(value)
    if not match:
        raise UnsupportedStyle(f"{where}: colour {value!r} is outside the subset (#rgb, #rrggbb)")
    hexa = match.group(1)
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    return "#" + hexa.lower()


@dataclass
class Stylesheet:
    rules: list[Rule]
    fonts: list[FontFace]
    page: PageStyle
    _cache: dict[tuple[object, ...], Style] = field(default_factory=dict)

    def matching(
        self, path: tuple[tuple[str, frozenset[str]], ...], pseudo: str | None
    ) -> list[Rule]:
        found = []
        for rule in self.rules:
            if rule.pseudo != pseudo:
                continue
            if _matches(rule.parts, path):
                found.append(rule)
        found.sort(key=lambda r: r.specificity)
        return found

    def compute(
        self,
        path: tuple[tuple[str, frozenset[str]], ...],
        parent: Style | None,
        pseudo: str | None = None,
    ) -> Style:
        """The computed style of the element at ``path`` (root first)."""
        key = (path, pseudo)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        declared: dict[str, tuple[str, str]] = {}
        for rule in self.matching(path, pseudo):
            for name, value in rule.declarations:
                declared[name] = (value, rule.where)
        style = compute(declared, parent)
        self._cache[key] = style
        return style


def _matches(parts: tuple[Compound, ...], path: tuple[tuple[str, frozenset[str]], ...]) -> bool:
    def fits(part: Compound, node: tuple[str, frozenset[str]]) -> bool:
        return (part.tag is None or part.tag == node[0]) and part.classes <= node[1]

    if not path or not fits(parts[-1], path[-1]):
        return False
    i = len(path) - 2
    for part in reversed(parts[:-1]):
        while i >= 0 and not fits(part, path[i]):
            i -= 1
        if i < 0:
            return False
        i -= 1
    return True


def compute(declared: dict[str, tuple[str, str]], parent: Style | None) -> Style:
    """The computed style from the declarations that won the cascade (property → (value,
    the rule it is from)) and the parent's computed style."""
    base = parent or Style()
    # inherited values start from the parent, the rest from the initial values
    initial = Style()
    style = replace(
        initial,
        font_family=base.font_family,
        font_size=base.font_size,
        bold=base.bold,
        italic=base.italic,
        line_height=base.line_height,
        color=base.color,
        text_align=base.text_align,
    )
    changes: dict[str, object] = {}

    def get(name: str) -> tuple[str, str] | None:
        return declared.get(name)

    if item := get("font-size"):
        value, where = item
        changes["font_size"] = length(value, base.font_size, f"{where}: font-size")
    font_size = float(changes.get("font_size", style.font_size))  # type: ignore[arg-type]
    for name, (value, where) in declared.items():
        at = f"{where}: {name}"
        v = value.strip()
        if name == "display":
            if v not in DISPLAYS:
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset")
            changes["display"] = v
        elif name == "font-family":
            changes["font_family"] = v.split(",")[0].strip().strip("\"'")
        elif name == "font-weight":
            if v not in ("bold", "normal", "700", "400"):
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (normal, bold)")
            changes["bold"] = v in ("bold", "700")
        elif name == "font-style":
            if v not in ("normal", "italic"):
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (normal, italic)")
            changes["italic"] = v == "italic"
        elif name == "line-height":
            if re.fullmatch(r"\d*\.?\d+", v):
                changes["line_height"] = float(v)
            else:
                changes["line_height"] = length(v, font_size, at) / font_size
        elif name == "color":
            changes["color"] = color(v, at)
        elif name == "background-color":
            changes["background"] = None if v == "transparent" else color(v, at)
        elif name == "text-align":
            if v not in ("left", "right", "center"):
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (left, right, center)")
            changes["text_align"] = v
        elif name == "vertical-align":
            if v not in ("top", "middle", "bottom"):
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (top, middle, bottom)")
            changes["vertical_align"] = v
        elif name in ("width", "height"):
            changes[name] = None if v == "auto" else length(v, font_size, at)
        elif name == "border-collapse":
            if v != "collapse":
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (collapse)")
        elif name == "table-layout":
            if v not in ("auto", "fixed"):
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (auto, fixed)")
            changes["table_layout"] = v
        elif name == "position":
            match = re.fullmatch(r"running\(\s*([\w-]+)\s*\)", v)
            if v != "static" and not match:
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (running())")
            changes["running"] = match.group(1) if match else None
        elif name == "content":
            changes["content"] = _content(v, at)
        elif name == "page-break-inside":
            if v not in ("avoid", "auto"):
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (avoid, auto)")
            changes["avoid_break_inside"] = v == "avoid"
        elif name == "page-break-before":
            if v not in ("avoid", "auto"):
                raise UnsupportedStyle(f"{at}: {v!r} is outside the subset (avoid, auto)")
            changes["avoid_break_before"] = v == "avoid"
    for box in ("margin", "padding"):
        sides = []
        for side, current in zip(SIDES, getattr(style, box), strict=True):
            item = get(f"{box}-{side}")
            sides.append(
                length(item[0], font_size, f"{item[1]}: {box}-{side}") if item else current
            )
        changes[box] = tuple(sides)
    edges: list[Edge] = []
    for side, current in zip(SIDES, style.border, strict=True):
        w, c = get(f"border-{side}-width"), get(f"border-{side}-color")
        width = length(w[0], font_size, f"{w[1]}: border-{side}") if w else current[0]
        colour = color(c[0], f"{c[1]}: border-{side}") if c else current[1]
        edges.append((width, colour))
    changes["border"] = tuple(edges)
    return replace(style, **changes)  # type: ignore[arg-type]


def _content(value: str, where: str) -> tuple[tuple[str, str], ...]:
    tokens = re.findall(
        r'"([^"]*)"|attr\(\s*([\w-]+)\s*\)|counter\(\s*(page|pages)\s*\)|(\S+)', value
    )
    out = []
    for string, attr, counter, other in tokens:
        if other:
            raise UnsupportedStyle(f"{where}: {other!r} is outside the subset")
        if attr:
            out.append(("attr", attr))
        elif counter:
            out.append(("counter", counter))
        else:
            out.append(("string", string))
    return tuple(out)
