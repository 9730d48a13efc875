"""The fast renderer (registry name ``fast``): the same letter HTML and stylesheet as the
WeasyPrint reference, laid out with ReportLab about ten times faster.

The modules, each using only those listed before it:

- :mod:`.tree`: the letter HTML, checked against the subset documented in letter.css;
- :mod:`.style`: computed styles, CSS values and the cascade;
- :mod:`.css`: the stylesheet subset read into rules, fonts and the page;
- :mod:`.ops`: drawing operations and laid-out fragments;
- :mod:`.metrics`: fonts and text widths, with the word-width cache;
- :mod:`.repertoire`: font subsets that are the same in every letter;
- :mod:`.inline`: inline content, words and line breaking;
- :mod:`.boxes`: the box tree built from the HTML tree and the stylesheet;
- :mod:`.tables`: table layout (head and total rows repeated, rows never split);
- :mod:`.blocks`: block layout (collapsing margins, borders, backgrounds);
- :mod:`.flowables`: the boxes as ReportLab platypus flowables, split across pages;
- :mod:`.renderer`: :class:`~.renderer.FastRenderer`, which puts it together.

A template or stylesheet outside the subset is refused with an
:class:`~letters.renderers.base.OutsideSubset` error (code ``outside-subset``) naming the
element, class, attribute or property and where it is. Nothing is fetched: the only files read
are the stylesheet and the fonts it names inside the asset folder.

This file imports nothing: every module here imports its siblings as
``letters.renderers.fast.…``, which imports this package first.
"""
