"""The fast renderer itself: parse and style the letter (:mod:`.tree`, :mod:`.css`), lay it
out and write the PDF with ReportLab's platypus (:mod:`.flowables`), embedding subsets of the
bundled fonts the stylesheet names (the same in every letter: :mod:`.repertoire`); each
page's running footer is drawn once the page count is known."""

from __future__ import annotations

import hashlib
import threading
from io import BytesIO
from pathlib import Path
from typing import Any

from reportlab import rl_config  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate  # type: ignore[import-untyped]
from reportlab.platypus.doctemplate import LayoutError  # type: ignore[import-untyped]

from letters.codes import Code
from letters.paths import TEMPLATE_DIR
from letters.renderers.base import Rendered, Renderer, RenderError
from letters.renderers.fast.blocks import Layout
from letters.renderers.fast.boxes import Block, Builder, Document
from letters.renderers.fast.css import parse_stylesheet
from letters.renderers.fast.flowables import PagedCanvas, draw_ops, flowables
from letters.renderers.fast.metrics import Metrics
from letters.renderers.fast.repertoire import RepertoireTTFont
from letters.renderers.fast.style import Stylesheet
from letters.renderers.fast.tree import parse

_FONT_LOCK = threading.Lock()
#: Page content Flate-compressed only, without ASCII85 on top (7-bit text, a quarter larger:
#: a PDF is binary anyway). ReportLab reads it when it writes a document, for every one in
#: the process; the print cover sheet (channels/printing/cover.py) sets it too.
rl_config.useA85 = 0


def _font_name(family: str, bold: bool, italic: bool) -> str:
    """``Letter-Sans-Bold``: the name the fonts carry in the PDF, as in the reference."""
    suffix = ("Bold" if bold else "") + ("Italic" if italic else "")
    return family.replace(" ", "-") + (f"-{suffix}" if suffix else "")


#: font name → SHA-256 of the file registered under it (ReportLab's registry is global)
_REGISTERED: dict[str, str] = {}


def register_fonts(sheet: Stylesheet) -> Metrics:
    """Register the stylesheet's @font-face files with ReportLab (once per process and font
    file); their names and metrics for the layout. Two template versions with the same
    font file share it; a different file under the same family gets a name of its own."""
    names: dict[tuple[str, bool, bool], str] = {}
    metrics: dict[str, tuple[float, float]] = {}
    with _FONT_LOCK:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for face in sheet.fonts:
            name = _font_name(face.family, face.bold, face.italic)
            digest = hashlib.sha256(face.path.read_bytes()).hexdigest()
            if _REGISTERED.setdefault(name, digest) != digest:
                name = f"{name}-{digest[:8]}"
                _REGISTERED.setdefault(name, digest)
            if name not in registered:
                font = RepertoireTTFont(name, str(face.path))
                font.face.name = name.encode("ascii")  # the PDF's BaseFont, after the subset tag
                pdfmetrics.registerFont(font)
            font = pdfmetrics.getFont(name)
            names[(face.family, face.bold, face.italic)] = name
            metrics[name] = (font.face.ascent / 1000, -font.face.descent / 1000)
    widths = {name: pdfmetrics.getFont(name).stringWidth for name in names.values()}

    def width(text: str, font: str) -> float:
        return float(widths[font](text, 1.0))

    return Metrics(names, width, metrics)


class FastRenderer(Renderer):
    """Letter HTML → PDF with ReportLab; the stylesheet and fonts are read once."""

    name = "fast"

    def __init__(self, folder: Path = TEMPLATE_DIR) -> None:
        """A renderer for the templates in ``folder`` (its ``letter.css`` and assets)."""
        self.sheet = parse_stylesheet(folder / "letter.css")
        self.metrics = register_fonts(self.sheet)
        self.layout = Layout(self.metrics)
        self.base_font = next(iter(self.metrics.fonts.values()))
        self.builder = Builder(self.sheet)
        page = self.sheet.page
        top, right, bottom, left = page.margin
        self.frame_box = (left, bottom, page.width - left - right, page.height - top - bottom)

    def document(self, html: str) -> Document:
        """Parse and style ``html`` (refusing anything outside the subset)."""
        return self.builder.document(parse(html))

    def render(self, html: str) -> Rendered:
        doc = self.document(html)
        page = self.sheet.page
        buffer = BytesIO()
        template = BaseDocTemplate(
            buffer,
            pagesize=(page.width, page.height),
            leftMargin=self.frame_box[0],
            bottomMargin=self.frame_box[1],
            rightMargin=page.margin[1],
            topMargin=page.margin[0],
            title=doc.title,
            author=doc.author,
            lang=doc.lang or None,
            creator="letters (ReportLab)",
            invariant=1,
            pageCompression=1,
        )
        x, y, w, h = self.frame_box
        frame = Frame(x, y, w, h, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        template.addPageTemplates([PageTemplate(id="letter", frames=[frame])])
        footer = doc.running.get(page.footer_element or "")

        def draw_footer(canvas: Any, number: int, total: int) -> None:
            if footer is not None:
                self._footer(canvas, footer, number, total)

        def make_canvas(*args: Any, **kwargs: Any) -> PagedCanvas:
            # the page preamble selects a font: one of ours, not an unembedded Helvetica
            kwargs["initialFontName"] = self.base_font
            return PagedCanvas(*args, footer=draw_footer, **kwargs)

        try:
            template.build(flowables(self.layout, doc.body), canvasmaker=make_canvas)
        except LayoutError as exc:  # a box that cannot be split is taller than a page
            raise RenderError(
                Code.LAYOUT_FAILED, f"the letter cannot be laid out on A4 pages: {exc}"
            ) from None
        return Rendered(pdf=buffer.getvalue(), renderer=self.name)

    def _footer(self, canvas: Any, footer: Block, number: int, total: int) -> None:
        page = self.sheet.page
        _, right, bottom, left = page.margin
        width = page.width - left - right
        frag = self.layout.block(footer, width, {"page": number, "pages": total})
        box_width = footer.style.width or width
        x = left + (width - box_width) / 2 + footer.style.margin[3]
        top_from_edge = page.height - bottom + page.footer_padding_top + footer.style.margin[0]
        draw_ops(canvas, frag.ops, x, page.height - top_from_edge)
