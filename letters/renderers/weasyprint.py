"""The reference renderer (registry name ``weasyprint``): WeasyPrint, with fonts and the
parsed stylesheet reused."""

from __future__ import annotations

import logging
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from letters.codes import Code
from letters.paths import TEMPLATE_DIR
from letters.renderers.base import OutsideSubset, Rendered, Renderer, RenderError
from letters.renderers.fetcher import AssetFetcher

# WeasyPrint logs every layout step at INFO: thousands of lines per batch, no information.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class WeasyPrintRenderer(Renderer):
    """Renders letter HTML with the one stylesheet, bundled fonts embedded (subset)."""

    name = "weasyprint"

    def __init__(self, folder: Path = TEMPLATE_DIR) -> None:
        """A renderer for the templates in ``folder`` (its ``letter.css`` and assets)."""
        self.base_url = folder.resolve().as_uri() + "/"
        self.fetcher = AssetFetcher(folder / "assets")
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            string=(folder / "letter.css").read_text("utf-8"),
            base_url=self.base_url,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )
        self._cache: dict[object, object] = {}

    def render(self, html: str) -> Rendered:
        try:
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
                stylesheets=[self.stylesheet],
                font_config=self.font_config,
                cache=self._cache,
            )
            pdf = document.write_pdf()
        except FatalURLFetchingError as exc:
            # only a letter outside the subset names a resource beyond the asset folder
            raise OutsideSubset(f"a resource was refused: {exc.__cause__ or exc}") from None
        if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf() without target
            raise RenderError(Code.LAYOUT_FAILED, "WeasyPrint returned no PDF")
        return Rendered(pdf=pdf, renderer=self.name)
