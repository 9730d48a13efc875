"""Settings of personal-data retention (``LETTERS_RETENTION__…``): how long the letters,
jobs and print batches of a closed case are kept before ``letters purge`` removes their
personal data (:mod:`letters.retention`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Retention(BaseModel):
    """How long a closed case's personal data is kept."""

    #: Days a case stays whole after it was closed (``letters case close``, ``POST
    #: /v1/cases/{reference}/close``). Conservative by default: five years and a day, so a
    #: dispute, a complaint to the board or a limitation question (three years from the
    #: claim, foreldelsesloven § 2, longer once interrupted) finds its letter. Less than a
    #: year is refused: letters are evidence.
    days: int = Field(1826, ge=365)
    #: A case nobody closed, whose jobs are all finished (delivered or failed) and that has
    #: seen no activity for ``days`` plus ``idle_grace_days``, is taken as closed at its
    #: last activity (so nothing is kept for ever because upstream never said). False:
    #: only cases closed explicitly are ever purged.
    idle_cases: bool = True
    idle_grace_days: int = Field(365, ge=0)
