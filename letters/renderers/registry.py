"""The renderers by name: the name a template's manifest entry gives (``renderer = …``) and
the name the ledger records for each letter.

Each renderer has one name, the name of its module and class:

- ``fast``: :class:`letters.renderers.fast.renderer.FastRenderer` (ReportLab, ~12 ms a letter);
- ``weasyprint``: :class:`letters.renderers.weasyprint.WeasyPrintRenderer`, the reference.

The fast renderer was once called ``reportlab``: ledger rows and manifests from then still
say so, and that name still finds it.

>>> canonical("reportlab"), canonical("weasyprint")
('fast', 'weasyprint')
"""

from __future__ import annotations

import atexit
import gc
from functools import cache
from pathlib import Path

from letters.codes import Code
from letters.paths import TEMPLATE_DIR
from letters.renderers.base import Renderer, RenderError

#: Every renderer's name, the reference last.
NAMES = ("fast", "weasyprint")
#: Earlier names of renderers → their name now.
ALIASES = {"reportlab": "fast"}


def canonical(name: str) -> str:
    """The renderer's name now for ``name`` (which may be an earlier one)."""
    return ALIASES.get(name, name)


def get_renderer(name: str = "weasyprint", folder: Path = TEMPLATE_DIR) -> Renderer:
    """The shared renderer instance called ``name`` (or an earlier name of it) for the
    templates in ``folder``: its stylesheet and its assets, and nothing outside them."""
    return _shared(canonical(name), folder.resolve())


@cache
def _shared(name: str, folder: Path) -> Renderer:
    if name == "fast":
        from letters.renderers.fast.renderer import FastRenderer

        return FastRenderer(folder)
    if name == "weasyprint":
        from letters.renderers.weasyprint import WeasyPrintRenderer

        return WeasyPrintRenderer(folder)
    raise RenderError(
        Code.RENDERER_UNKNOWN, f"unknown renderer {name!r} (known: {', '.join(NAMES)})"
    )


@atexit.register
def _release_renderers() -> None:
    """Drop shared renderers while the interpreter is still whole: WeasyPrint's font
    configuration cleans up in ``__del__`` and prints a traceback if that runs later."""
    _shared.cache_clear()
    gc.collect()
