"""letters: the correspondence engine for Norwegian debt-collection letters.

Jobs come in through :func:`letters.pipeline.intake.submit` (Python), ``letters enqueue``
or ``letters run`` (files) and ``POST /v1/jobs`` (HTTP); see the README.
"""

__version__ = "0.1.0"
