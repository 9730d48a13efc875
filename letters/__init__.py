"""letters: the correspondence engine for Norwegian debt-collection letters."""

__version__ = "0.1.0"


def submit(job: object) -> str:
    """Accept one job (a dict, JSON text or :class:`letters.job.Job`) and return its letter id.

    The job is validated, committed to the ledger, then enqueued for rendering and delivery.
    Raises :class:`letters.job.JobRejected` with field errors for a bad job and
    :class:`letters.ledger.JobConflict` when its id is known with other content.
    """
    from letters.pipeline.intake import submit as _submit

    return _submit(job)  # type: ignore[arg-type]
