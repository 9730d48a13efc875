"""The ledger made ready for the worker processes (``letters worker`` runs this once, in a
short-lived process of its own, before it starts them): migrated to the current schema,
with the shipped approvals recorded where the installation trusts them.

In a process of its own because the supervisor then stays small: it never loads the
ledger's database drivers and alembic, which would stay resident for as long as the
workers run (about 60 MB). Exit status 0 ready, 1 the ledger unavailable (said in one
line with its code, never a traceback).
"""

from __future__ import annotations

import logging
import sys


def main() -> int:
    from letters.config import get_settings
    from letters.pipeline.faults import ledger_problem
    from letters.pipeline.runtime import Runtime

    settings = get_settings()
    logging.basicConfig(level=logging.WARNING)  # alembic's INFO chatter stays out
    try:
        Runtime.from_settings(settings)
    except Exception as exc:
        problem = ledger_problem(exc, settings.database_url)
        if problem is None:
            raise
        print(problem[1], file=sys.stderr)
        return 1  # the worker's own status for a ledger it cannot start on
    return 0


if __name__ == "__main__":
    sys.exit(main())
