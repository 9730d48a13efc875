"""Renderers turn a letter's HTML into a print-ready PDF.

Every renderer implements :class:`~letters.renderers.base.Renderer`; the WeasyPrint one is
the reference. :func:`letters.renderers.registry.get_renderer` gives the shared instance of
a renderer by name. After rendering, :func:`~letters.renderers.safety.check` inspects the PDF.

This package imports only :mod:`.base`, which imports no other renderer module: every
renderer module imports this package first, so anything more here would be a cycle.
"""

from letters.renderers.base import OutsideSubset, Rendered, Renderer, RenderError

__all__ = ["OutsideSubset", "RenderError", "Rendered", "Renderer"]
