"""Settings of the compliance workbench (``LETTERS_REVIEW__…``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class Review(BaseModel):
    """Approval of templates and rule tables, and the review web page."""

    #: Development only: letters are made from the templates folder as it is, approved or
    #: not, and every such letter says "NOT APPROVED" across its top. Logged loudly when on.
    development: bool = False
    #: Where authors keep the templates they submit (e.g. a checkout of the agency's own
    #: template repository). Default: the templates that come with the product.
    templates_dir: Path | None = None
    #: Record the approvals the product ships with for its own templates and rule tables
    #: (so a fresh installation can send letters). A deployment that reviews everything
    #: itself turns this off and approves its own versions.
    trust_shipped: bool = True
    #: Approved template versions are written out here, one folder per version.
    cache_dir: Path = Path("var/templates")
    #: Sign-in sessions on the review page end after this many minutes without a request.
    session_minutes: int = Field(30, ge=1, le=24 * 60)
    #: Session cookies only over HTTPS (turn off only for a review page on loopback).
    secure_cookies: bool = True
