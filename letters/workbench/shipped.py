"""The approvals that come with the product, for the templates it ships.

``shipped.toml`` beside this module names, for each template, the sha256 of the version the
product's own release review approved. A fresh installation records those approvals in
its ledger (once, as ``letters-release``), so ``letters run`` works out of the box. Only a
shipped template whose files still have exactly that sha256 is recorded: a template edited
after the release review is a draft like any other. A deployment that reviews everything
itself sets ``LETTERS_REVIEW__TRUST_SHIPPED=false`` and approves its own versions.

``scripts/approve-shipped`` rewrites ``shipped.toml`` after a release review.
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from letters import bundles
from letters.ledger.reviews import Reviews, SubjectKind
from letters.ledger.store import Ledger
from letters.paths import TEMPLATE_DIR

SHIPPED_FILE = Path(__file__).with_name("shipped.toml")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippedApprovals:
    approved_at: dt.datetime
    effective_from: dt.date
    comment: str
    templates: dict[str, str]  # subject → sha256


def read(path: Path = SHIPPED_FILE) -> ShippedApprovals:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return ShippedApprovals(
        approved_at=data["approved_at"],
        effective_from=data["effective_from"],
        comment=str(data["comment"]),
        templates={str(k): str(v) for k, v in data["templates"].items()},
    )


def record(ledger: Ledger, folder: Path = TEMPLATE_DIR) -> list[str]:
    """Record the shipped approvals not yet in the ledger; the subjects recorded. A shipped
    template whose files no longer match its approved sha256 is skipped, with a warning
    unless the ledger holds an approval of the files as they are now."""
    shipped = read()
    reviews = Reviews(ledger)
    recorded = []
    for subject, sha in shipped.templates.items():
        bundle = bundles.read_folder(folder, subject)
        if bundle.sha256 != sha:
            if reviews.approved(SubjectKind.TEMPLATE, subject, bundle.sha256):
                continue  # changed, and the change itself was reviewed and approved here
            log.warning(
                "the shipped template %s was changed after its release review (%s… is not the "
                "approved %s…): it is not approved here",
                subject,
                bundle.sha256[:12],
                sha[:12],
            )
            continue
        if reviews.record_shipped(
            SubjectKind.TEMPLATE,
            subject,
            sha,
            bundle.content(),
            approved_at=shipped.approved_at,
            effective_from=shipped.effective_from,
            comment=shipped.comment,
            files=bundle.blobs(),
        ):
            recorded.append(subject)
    if recorded:
        from letters.workbench.approval import forget_in_force

        forget_in_force()
    return recorded
