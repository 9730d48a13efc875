"""The CSS subset the fast renderer reads from letter.css: the text parsed into rules, fonts
and the page (:func:`parse_stylesheet`); what the rules compute to is :mod:`.style`.

Supported (anything else is refused with :class:`~.style.UnsupportedStyle`, naming the
property or selector and the rule it is in):

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
from pathlib import Path

from letters.geometry import MM
from letters.renderers.fast.style import (
    LENGTH,
    SIDES,
    Compound,
    FontFace,
    PageStyle,
    Rule,
    Style,
    Stylesheet,
    UnsupportedStyle,
    compute,
    length,
)

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
            elif LENGTH.match(part):
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


def _page(body: str, where: str) -> PageStyle:
    inner = _blocks(body, where)
    footer: str | None = None
    pad = 0.0
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
                    continue  # the renderer hangs the footer from the box's top
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
    return PageStyle(width, height, margin, footer, pad)


def parse_stylesheet(path: Path) -> Stylesheet:
    """Read ``path`` (and the built-in defaults under it) into rules, fonts and the page.
    Fonts may come only from the ``assets`` folder beside the stylesheet."""
    rules: list[Rule] = []
    fonts: list[FontFace] = []
    page: PageStyle | None = None
    order = 0
    sources = (("user-agent defaults", USER_AGENT_CSS, -1), (path.name, path.read_text("utf-8"), 0))
    for name, text, origin in sources:
        for prelude, body in _blocks(_strip_comments(text), name):
            where = f"{name}: {prelude}"
            if prelude == "@font-face":
                fonts.append(_font_face(body, where, path.parent))
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
        compute({name: (value, rule.where) for name, value in rule.declarations}, Style())
    return Stylesheet(rules, fonts, page)


def _font_face(body: str, where: str, base: Path) -> FontFace:
    decl = dict(_declarations(body, where))
    family = decl.get("font-family", "").strip("\"' ")
    match = re.fullmatch(r'url\(\s*"?([^")]+)"?\s*\)', decl.get("src", ""))
    if not family or not match:
        raise UnsupportedStyle(f"{where}: needs font-family and one src: url(...)")
    url = match.group(1)
    file = (base / url).resolve()
    assets = (base / "assets").resolve()
    if ":" in url or not file.is_relative_to(assets) or not file.is_file():
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
