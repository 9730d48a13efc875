"""The CSS subset the fast renderer reads from letter.css.

Supported (anything else is refused with :class:`UnsupportedStyle`, naming the property or
selector and the rule it is in):

- selectors: element, ``.class``, ``element.class``, the descendant combinator (space),
  selector lists (``th, td``) and ``::after`` with ``content``;
- at-rules: ``@font-face`` (bundled fonts only), ``@page`` with ``size: A4 portrait``,
  ``margin`` and one ``@bottom-center`` margin box holding ``element(name)``;
- properties: font-family, font-size, font-weight, font-style, line-height, color,
  background-color, text-align (left, right, center), vertical-align (top, middle, bottom),
  width, height, margin, padding (and their sides), border (solid; and its sides),
  border-collapse (collapse), table-layout, display (block, inline, none),
  position (``running(name)``), content (strings, ``attr()``, ``counter(page)``,
  ``counter(pages)``), page-break-inside (avoid, auto), page-break-before (avoid, auto);
- units: mm, cm, in, pt, px, em (and unitless 0 or line-height numbers); colours as
  ``#rgb`` or ``#rrggbb``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from letters.paths import ASSET_DIR, TEMPLATE_DIR
from letters.renderers.base import OutsideSubset

MM = 72 / 25.4
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
    footer_vertical_align: str


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


# The parts of a browser's default stylesheet the letter elements rely on.
USER_AGENT_CSS = """
html, body, div, p, h1, h2 { display: block; }
head, title, meta { display: none; }
table { display: table; }
thead, tbody, tfoot { display: table-row-group; }
tr { display: table-row; }
td, th { display: table-cell; padding: 1px; vertical-align: middle; }
th { font-weight: bold; text-align: center; }
body { margin: 8px; }
p { margin: 1em 0; }
h1 { font-size: 2em; font-weight: bold; margin: 0.67em 0; }
h2 { font-size: 1.5em; font-weight: bold; margin: 0.83em 0; }
"""

INHERITED = frozenset(
    {
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "line-height",
        "color",
        "text-align",
        "border-collapse",
    }
)
SIDES = ("top", "right", "bottom", "left")
LONGHANDS = frozenset(
    {
        "display",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "line-height",
        "color",
        "background-color",
        "text-align",
        "vertical-align",
        "width",
        "height",
        "border-collapse",
        "table-layout",
        "position",
        "content",
        "page-break-inside",
        "page-break-before",
        *(f"{box}-{side}" for box in ("margin", "padding") for side in SIDES),
        *(f"border-{side}-{part}" for side in SIDES for part in ("width", "color")),
    }
)
DISPLAYS = frozenset(
    {"block", "inline", "none", "table", "table-row-group", "table-row", "table-cell"}
)
_LENGTH = re.compile(r"^(-?\d*\.?\d+)(mm|cm|in|pt|px|em)?$")
_COLOR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _blocks(text: str, where: str) -> list[tuple[str, str]]:
    """Top-level ``prelude { body }`` pairs, nested braces kept in the body."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        start = text.find("{", i)
        if start < 0:
            if text[i:].strip():
                raise UnsupportedStyle(f"{where}: unparsable text {text[i:].strip()[:40]!r}")
            break
        depth, j = 1, start + 1
        while j < n and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        if depth:
            raise UnsupportedStyle(f"{where}: unbalanced braces after {text[i:start].strip()!r}")
        out.append((text[i:start].strip(), text[start + 1 : j - 1]))
        i = j
    return out


def _declarations(body: str, where: str) -> list[tuple[str, str]]:
    out = []
    for item in body.split(";"):
        if not item.strip():
            continue
        name, sep, value = item.partition(":")
        if not sep:
            raise UnsupportedStyle(f"{where}: unparsable declaration {item.strip()!r}")
        out.append((name.strip().lower(), value.strip()))
    return out


def length(value: str, font_size: float, where: str) -> float:
    """A CSS length in points (``em`` relative to ``font_size``)."""
    match = _LENGTH.match(value.strip())
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


def _four(values: list[str]) -> list[str]:
    if len(values) == 1:
        return values * 4
    if len(values) == 2:
        return [values[0], values[1], values[0], values[1]]
    if len(values) == 3:
        return [values[0], values[1], values[2], values[1]]
    return values[:4]


def _expand(name: str, value: str, where: str) -> list[tuple[str, str]]:
    """Shorthands → longhands; unknown properties refused."""
    if name in ("margin", "padding"):
        parts = value.split()
        if not 1 <= len(parts) <= 4:
            raise UnsupportedStyle(f"{where}: {name}: {value!r}")
        return [(f"{name}-{s}", v) for s, v in zip(SIDES, _four(parts), strict=True)]
    if name == "border" or (name.startswith("border-") and name[7:] in SIDES):
        parts = value.split()
        sides = SIDES if name == "border" else (name[7:],)
        width, colour = "0", "#000000"
        for part in parts:
            if part == "solid":
                continue
            if part in ("none", "0"):
                width = "0"
            elif part.startswith("#"):
                colour = part
            elif _LENGTH.match(part):
                width = part
            else:
                raise UnsupportedStyle(
                    f"{where}: {name}: {part!r} is outside the subset (solid borders only)"
                )
        return [
            (f"border-{s}-{p}", v) for s in sides for p, v in (("width", width), ("color", colour))
        ]
    if name == "background":
        return [("background-color", value)]
    if name not in LONGHANDS:
        raise UnsupportedStyle(f"{where}: property {name!r} is outside the fast renderer's subset")
    return [(name, value)]


def _selector(text: str, where: str) -> tuple[tuple[Compound, ...], str | None]:
    pseudo = None
    if "::" in text:
        text, pseudo = text.split("::", 1)
        if pseudo != "after":
            raise UnsupportedStyle(f"{where}: pseudo-element ::{pseudo} is outside the subset")
    if re.search(r"[>+~\[\]#:*]", text):
        raise UnsupportedStyle(
            f"{where}: selector {text.strip()!r} is outside the subset "
            "(element, .class and descendant combinations only)"
        )
    parts = []
    for word in text.split():
        match = re.fullmatch(r"([a-z][a-z0-9]*)?((?:\.[a-zA-Z][\w-]*)*)", word)
        if not match or not word:
            raise UnsupportedStyle(f"{where}: selector part {word!r} is outside the subset")
        classes = frozenset(c for c in match.group(2).split(".") if c)
        parts.append(Compound(match.group(1), classes))
    if not parts:
        raise UnsupportedStyle(f"{where}: empty selector")
    return tuple(parts), pseudo


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
        style = _compute(declared, parent)
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


def _compute(declared: dict[str, tuple[str, str]], parent: Style | None) -> Style:
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


def _page(body: str, where: str) -> PageStyle:
    inner = _blocks(re.sub(r"@bottom-center", "@bottom-center", body), where)
    footer: str | None = None
    pad, valign = 0.0, "top"
    plain = body
    for prelude, block in inner:
        if prelude.endswith("@bottom-center"):
            plain = plain.replace(block, "")
            for name, value in _declarations(block, f"{where} @bottom-center"):
                at = f"{where} @bottom-center: {name}"
                if name == "content":
                    match = re.fullmatch(r"element\(\s*([\w-]+)\s*\)", value)
                    if not match:
                        raise UnsupportedStyle(f"{at}: {value!r} is outside the subset (element())")
                    footer = match.group(1)
                elif name == "vertical-align" and value == "top":
                    valign = value
                elif name == "padding-top":
                    pad = length(value, 0, at)
                else:
                    raise UnsupportedStyle(f"{at}: {value!r} is outside the subset")
        else:
            raise UnsupportedStyle(f"{where}: margin box {prelude!r} is outside the subset")
    plain = re.sub(r"@bottom-center\s*\{\s*\}", "", plain)
    width, height, margin = 210 * MM, 297 * MM, (0.0, 0.0, 0.0, 0.0)
    for name, value in _declarations(plain, where):
        if name == "size":
            if value.split() not in (["A4"], ["A4", "portrait"]):
                raise UnsupportedStyle(
                    f"{where}: size {value!r} is outside the subset (A4 portrait)"
                )
        elif name == "margin":
            m = [length(v, 0, f"{where}: margin") for v in _four(value.split())]
            margin = (m[0], m[1], m[2], m[3])
        else:
            raise UnsupportedStyle(f"{where}: property {name!r} is outside the subset")
    return PageStyle(width, height, margin, footer, pad, valign)


def parse_stylesheet(path: Path) -> Stylesheet:
    """Read ``path`` (and the built-in defaults under it) into rules, fonts and the page."""
    rules: list[Rule] = []
    fonts: list[FontFace] = []
    page: PageStyle | None = None
    order = 0
    sources = (("user-agent defaults", USER_AGENT_CSS, -1), (path.name, path.read_text("utf-8"), 0))
    for name, text, origin in sources:
        for prelude, body in _blocks(_strip_comments(text), name):
            where = f"{name}: {prelude}"
            if prelude == "@font-face":
                fonts.append(_font_face(body, where, TEMPLATE_DIR))
                continue
            if prelude.startswith("@page"):
                if prelude != "@page":
                    raise UnsupportedStyle(f"{where}: page selectors are outside the subset")
                page = _page(body, where)
                continue
            if prelude.startswith("@"):
                raise UnsupportedStyle(f"{where}: at-rule is outside the subset")
            declarations: list[tuple[str, str]] = []
            for prop, value in _declarations(body, where):
                declarations.extend(_expand(prop, value, f"{where} {{{prop}}}"))
            for text_selector in prelude.split(","):
                parts, pseudo = _selector(text_selector.strip(), where)
                classes = sum(len(p.classes) for p in parts)
                elements = sum(1 for p in parts if p.tag) + (1 if pseudo else 0)
                order += 1
                rules.append(
                    Rule(
                        parts,
                        pseudo,
                        tuple(declarations),
                        (origin, classes, elements, order),
                        f"{name}: {text_selector.strip()}",
                    )
                )
    if page is None:
        raise UnsupportedStyle(f"{path.name}: no @page rule")
    for rule in rules:  # every value checked now, not when an element first uses it
        _compute({name: (value, rule.where) for name, value in rule.declarations}, Style())
    return Stylesheet(rules, fonts, page)


def _font_face(body: str, where: str, base: Path) -> FontFace:
    decl = dict(_declarations(body, where))
    family = decl.get("font-family", "").strip("\"' ")
    match = re.fullmatch(r'url\(\s*"?([^")]+)"?\s*\)', decl.get("src", ""))
    if not family or not match:
        raise UnsupportedStyle(f"{where}: needs font-family and one src: url(...)")
    url = match.group(1)
    file = (base / url).resolve()
    if ":" in url or not file.is_relative_to(ASSET_DIR.resolve()) or not file.is_file():
        raise UnsupportedStyle(f"{where}: refused {url}: only bundled asset files may be loaded")
    for key in decl:
        if key not in ("font-family", "src", "font-weight", "font-style"):
            raise UnsupportedStyle(f"{where}: descriptor {key!r} is outside the subset")
    return FontFace(
        family,
        decl.get("font-weight", "normal") in ("bold", "700"),
        decl.get("font-style", "normal") == "italic",
        file,
    )
