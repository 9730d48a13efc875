"""The renderer interface and the registry of renderers by name."""

from __future__ import annotations

import atexit
import gc
import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache


class RenderError(Exception):
    """The letter could not be rendered; the message says why."""


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    renderer: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


class Renderer(ABC):
    """Turns letter HTML into PDF bytes. Instances are reused across letters, so expensive
    set-up (fonts, parsed stylesheet) happens once."""

    name: str

    @abstractmethod
    def render(self, html: str) -> Rendered:
        """Render one letter's HTML."""


@cache
def get_renderer(name: str = "weasyprint") -> Renderer:
    """The shared renderer instance called ``name``."""
    if name == "weasyprint":
        from letters.renderers.weasy import WeasyPrintRenderer

        return WeasyPrintRenderer()
    if name == "reportlab":
        from letters.renderers.fast import ReportLabRenderer

        return ReportLabRenderer()
    raise RenderError(f"unknown renderer {name!r} (known: weasyprint, reportlab)")


@atexit.register
def _release_renderers() -> None:
    """Drop shared renderers while the interpreter is still whole: WeasyPrint's font
    configuration cleans up in ``__del__`` and prints a traceback if that runs later."""
    get_renderer.cache_clear()
    gc.collect()
