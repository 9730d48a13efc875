"""The fast renderer (registry name ``fast``): the same letter HTML and stylesheet as the
WeasyPrint reference, laid out with ReportLab about ten times faster.

It reads the HTML subset documented in letter.css (:mod:`.tree`) and the CSS subset of
:mod:`.css`, lays the boxes out as the reference renderer does (:mod:`.layout`) and writes the
PDF with ReportLab's platypus (:mod:`.flowables`); :class:`.renderer.FastRenderer` puts it
together. A template or stylesheet outside the subset is refused with an
:class:`~letters.renderers.base.OutsideSubset` error (code ``outside-subset``) naming the
element, class, attribute or property and where it is. Nothing is fetched: the only files read
are the stylesheet and the fonts it names inside the asset folder.

This file imports nothing: every module here imports its siblings as
``letters.renderers.fast.…``, which imports this package first.
"""
