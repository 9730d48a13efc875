"""The ledger: source of truth for jobs, letters, delivery attempts and holds.

One :class:`Ledger` on one database, made of its rooms, each a module with one job:
:mod:`~letters.ledger.jobs` (accepting jobs, status transitions, stale claims),
:mod:`~letters.ledger.letters` (the letter evidence and delivery attempts),
:mod:`~letters.ledger.holds`, :mod:`~letters.ledger.cases` (closed cases) and
:mod:`~letters.ledger.reports` (history, overview, counts). Print batches
(:mod:`~letters.ledger.batches`), logins (:mod:`~letters.ledger.logins`), API tokens
(:mod:`~letters.ledger.tokens`) and retention (:mod:`~letters.ledger.retention`) work on a
ledger from outside it.
"""

from __future__ import annotations

from letters.ledger.cases import Cases
from letters.ledger.holds import Holds
from letters.ledger.jobs import Jobs
from letters.ledger.letters import Letters
from letters.ledger.reports import Reports


class Ledger(Jobs, Letters, Holds, Cases, Reports):
    """The ledger at a database URL (``sqlite:///…`` or ``postgresql+psycopg://…``)."""
