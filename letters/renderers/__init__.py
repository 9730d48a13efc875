"""Renderers turn a letter's HTML into a print-ready PDF.

Every renderer implements :class:`~letters.renderers.base.Renderer`; the WeasyPrint one is
the reference. After rendering, :func:`~letters.renderers.safety.check` inspects the PDF.
"""

from letters.renderers.base import OutsideSubset, Rendered, Renderer, RenderError, get_renderer

__all__ = ["OutsideSubset", "RenderError", "Rendered", "Renderer", "get_renderer"]
