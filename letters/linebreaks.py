"""Where a line of a letter may break: the break opportunities the fast renderer uses
(as Pango finds them), shared with intake, which measures the unbreakable pieces of
printed text before a job is accepted."""

from __future__ import annotations

import re

SPACES = re.compile(r"[ \t\n\r\f]+")
# Break opportunities inside a "word" (UAX #14 as Pango applies it; CSS collapses only the
# ASCII white space above, so other spaces stay in the text but still allow a break):
# - after a hyphen, dash or solidus, unless a digit or a character that may not start a
#   line follows;
# - after the break-after class (BA): | U+2010 U+2012 U+2027 and the spaces U+1680,
#   U+2000-U+2006, U+2008-U+200A, U+205F;
# - after a closing bracket, ! ? or an ellipsis (CL, EX, IN) when a letter follows;
# - before the break-before class (BB): U+00B4 and the like.
WORD_BREAK = re.compile(
    r"(?<=[-\u2013\u2014/])(?=[^\d\s\-/.,:;!?)\]}])"
    r"|(?<=[|\u2010\u2012\u2027\u1680\u2000-\u2006\u2008-\u200a\u205f])"
    r"|(?<=[)\]}!?\u2026])(?=[^\W\d_])"
    r"|(?=[\u00b4\u02c8\u02cc\u02df\u0f01-\u0f04])"
)


def pieces(text: str) -> list[str]:
    """The pieces of ``text`` no line break can split."""
    return [p for word in SPACES.split(text) for p in WORD_BREAK.split(word) if p]
