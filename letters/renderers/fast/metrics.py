"""Fonts and text widths for the fast renderer's layout, with the word-width cache."""

from __future__ import annotations

from collections.abc import Callable

from letters.renderers.fast.style import Style, UnsupportedStyle

#: Widths of words measured recently, by (word, font name), shared by every renderer in the
#: process: a worker renders each kind and language from its own approved template folder,
#: so eight or more renderers, and a cache each grew a worker by eight caches' worth
#: (bench/stages_growth.py). A font name stands for one font file (``register_fonts``), so
#: a width is the same whichever template asks. About 200 bytes an entry: the cap keeps a
#: long-running worker's memory flat (bench/worker_soak.py).
WIDTH_CACHE_SIZE = 20_000
_WIDTHS: dict[tuple[str, str], float] = {}


class Metrics:
    """Font lookup and text widths (cached: the same words recur in every letter)."""

    def __init__(
        self,
        fonts: dict[tuple[str, bool, bool], str],
        width: Callable[[str, str], float],
        ascent_descent: dict[str, tuple[float, float]],
    ) -> None:
        self.fonts = fonts
        self._width = width  # (text, font) → width at 1 pt
        self.ascent_descent = ascent_descent

    def font(self, style: Style) -> str:
        key = (style.font_family, style.bold, style.italic)
        name = self.fonts.get(key) or self.fonts.get((style.font_family, style.bold, False))
        if name is None:
            raise UnsupportedStyle(
                f"no @font-face for {style.font_family!r} "
                f"{'bold ' if style.bold else ''}{'italic' if style.italic else ''}".rstrip()
            )
        return name

    def width(self, text: str, style: Style) -> float:
        font = self.font(style)
        key = (text, font)
        w = _WIDTHS.get(key)
        if w is None:
            w = self._width(text, font)
            if len(_WIDTHS) >= WIDTH_CACHE_SIZE:
                # names, ids and amounts are new in every letter: start over rather than
                # grow (a worker makes hundreds of thousands of letters)
                _WIDTHS.clear()
            _WIDTHS[key] = w
        return w * style.font_size

    def strut(self, style: Style) -> tuple[float, float]:
        """(above, below) the baseline of a line box for ``style`` (CSS half-leading)."""
        ascent, descent = self.ascent_descent[self.font(style)]
        half = style.line_height * style.font_size / 2
        shift = (ascent - descent) / 2 * style.font_size
        return half + shift, half - shift
