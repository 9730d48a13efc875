"""The letter templates: a sandboxed, autoescaping jinja2 environment with strict undefined
variables, locale-aware formatting filters, and the template metadata compliance approves.

Templates live in ``letters/templates``: ``layout.html`` (the shared page), one
``<kind>.<language>.html`` per letter kind and language (the wording), ``labels/<language>.html``
(wording shared by all kinds), ``letter.css`` (the one stylesheet) and ``manifest.toml``
(version and renderer of each template).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from stdnum.no import orgnr as stdnum_orgnr

from letters import bundles
from letters.barcodes import barcode_html
from letters.codes import Code
from letters.compose import Letter
from letters.paths import STYLESHEET, TEMPLATE_DIR
from letters.renderers.base import RenderError

LOCALES = {"nb": "nb_NO", "en": "en_GB"}


def _locale(ctx: Context) -> str:
    return LOCALES[ctx["letter"].language]


@pass_context
def money(ctx: Context, value: Decimal) -> str:
    """``1 250,00`` (nb) / ``1,250.00`` (en)."""
    return str(format_decimal(value, "#,##0.00", locale=_locale(ctx)))


@pass_context
def currency(ctx: Context, value: Decimal) -> str:
    """``1 250,00 kr`` (nb) / ``NOK 1,250.00`` (en)."""
    number = money(ctx, value)
    return f"{number} kr" if ctx["letter"].language == "nb" else f"NOK {number}"


#: English month abbreviations, three letters for every month (babel's en_GB writes "Sept"
#: but "Jul", so a page would abbreviate months differently).
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date(language: str, value: dt.date) -> str:
    if language == "nb":
        return value.strftime("%d.%m.%Y")
    return f"{value.day} {_EN_MONTHS[value.month - 1]} {value.year}"


@pass_context
def short_date(ctx: Context, value: dt.date) -> str:
    """A date, in the one style each language uses everywhere on the page (head, claims
    table, running text, boxes): ``04.12.2026`` (nb) / ``4 Dec 2026`` (en, three-letter
    months for all twelve: ``4 Sep 2026``, never ``Sept``)."""
    return _date(ctx["letter"].language, value)


@pass_context
def long_date(ctx: Context, value: dt.date) -> str:
    """The same as :func:`short_date` (``04.12.2026`` / ``4 Dec 2026``): a page writes every
    date one way, so a debtor never compares "4. desember 2026" with "04.12.2026". Kept
    under its own name for the templates that use it."""
    return _date(ctx["letter"].language, value)


@pass_context
def percent(ctx: Context, value: Decimal) -> str:
    """``12,25 %`` (nb, a no-break space before the sign, so a line never starts with
    "%") / ``12.25%`` (en)."""
    number = format_decimal(value, "0.00", locale=_locale(ctx))
    return f"{number}\u00a0%" if ctx["letter"].language == "nb" else f"{number}%"


def orgnr(value: str) -> str:
    """``923 609 016``."""
    return str(stdnum_orgnr.format(value))


def bare_url(value: str) -> str:
    """A URL as people type it: ``https://min.example.no/`` → ``min.example.no``."""
    return value.split("://", 1)[-1].rstrip("/")


def make_environment(template_dir: Path = TEMPLATE_DIR) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(template_dir),
        # HTML is escaped; plain-text e-mail bodies (*.txt) are not, or "&" would print "&amp;"
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        money=money,
        currency=currency,
        short_date=short_date,
        long_date=long_date,
        percent=percent,
        orgnr=orgnr,
        bare_url=bare_url,
    )
    env.globals["barcode"] = barcode_html
    return env


@dataclass(frozen=True)
class Subset:
    """The HTML elements and classes letters may use, as documented in letter.css."""

    elements: frozenset[str]
    classes: frozenset[str]


def documented_subset(stylesheet: Path = STYLESHEET) -> Subset:
    """Read the ``Elements:``, ``Barcode:`` and ``Classes:`` lists from the stylesheet's
    header comment, which is where the subset is documented for template authors."""
    header = stylesheet.read_text("utf-8").split("*/", 1)[0]

    def words(label: str) -> frozenset[str]:
        match = re.search(rf"^\s*{label}:(.*?)(?=^\s*[A-Z][A-Za-z]*:|\Z)", header, re.S | re.M)
        if not match:
            raise LookupError(f"letter.css documents no {label}")
        text = match.group(1).split(";")[0]
        return frozenset(w for w in re.split(r"[\s,.]+", text) if w)

    return Subset(elements=words("Elements") | words("Barcode"), classes=words("Classes"))


@dataclass(frozen=True)
class TemplateInfo:
    """The template a letter is made from, as the ledger records it: its name, its version
    (the approved version's id in the ledger, or ``working copy``), the renderer, the
    sha256 of everything that decides what is printed (:mod:`letters.bundles`), and the
    folder holding exactly those files."""

    name: str
    version: str
    renderer: str
    sha256: str
    folder: Path
    approved: bool


WORKING_COPY = "working copy"


@lru_cache(maxsize=32)
def environment(folder: Path = TEMPLATE_DIR) -> ImmutableSandboxedEnvironment:
    """The shared environment for the templates in ``folder``."""
    return make_environment(folder)


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )


@lru_cache(maxsize=64)
def _working_copy(
    kind: str, language: str, folder: Path, _: tuple[tuple[str, int, int], ...]
) -> TemplateInfo:
    bundle = bundles.read_folder(folder, f"{kind}.{language}")
    return TemplateInfo(
        name=f"{kind}.{language}.html",
        version=WORKING_COPY,
        renderer=bundle.renderer,
        sha256=bundle.sha256,
        folder=folder,
        approved=False,
    )


def working_copy(kind: str, language: str, folder: Path = TEMPLATE_DIR) -> TemplateInfo:
    """The template as ``folder`` holds it now (for previews, proofs and development), not
    an approved version; read again when a file in the folder changes."""
    folder = Path(folder).resolve()
    return _working_copy(kind, language, folder, _stamp(folder))


def render_html(
    letter: Letter, env: ImmutableSandboxedEnvironment | None = None, *, draft: bool = False
) -> str:
    """The letter as HTML, from its kind and language template. ``draft`` prints "NOT
    APPROVED" across the top (development mode's letters from unapproved templates). A
    missing template or one that fails while filling in is a :class:`RenderError` naming
    the template and line."""
    env = env or environment()
    name = f"{letter.kind}.{letter.language}.html"
    try:
        template = env.get_template(name)
    except TemplateNotFound as exc:
        raise RenderError(Code.TEMPLATE_MISSING, f"no template {exc.name}") from None
    context: dict[str, Any] = {"letter": letter, "sender": letter.sender, "draft": draft}
    try:
        return template.render(context)
    except TemplateError as exc:
        where = f"{exc.filename}:{exc.lineno}" if isinstance(exc, TemplateSyntaxError) else name
        raise RenderError(Code.TEMPLATE_ERROR, f"{where}: {exc}") from None


@cache
def letter_title(kind: str, language: str, folder: Path = TEMPLATE_DIR) -> str:
    """The letter's heading as its template words it (the subject of a Digipost message).

    >>> letter_title("collection_notice", "nb"), letter_title("reminder", "en")
    ('Inkassovarsel', 'Payment reminder')
    """
    template = environment(folder).get_template(f"{kind}.{language}.html")
    block = template.blocks["title"]
    return "".join(block(template.new_context({}))).strip()
