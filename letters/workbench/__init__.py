"""The compliance workbench: templates and rule tables as versions a second person approves.

- :mod:`~letters.workbench.accounts`: the people (authors, reviewers, admins) and sign-in;
- :mod:`letters.bundles` (below the workbench): what a template version is (every file
  that decides what is printed, and the renderer), and its sha256;
- :mod:`~letters.workbench.approval`: submitting, approving and rejecting versions of
  templates and rule tables, and what is in force for a letter;
- :mod:`~letters.workbench.shipped`: the approvals the product ships with;
- :mod:`~letters.workbench.lint`, :mod:`~letters.workbench.proofs` and
  :mod:`~letters.workbench.diff`: what a reviewer looks at.

The versions, approvals and the audit log live in the ledger
(:mod:`letters.ledger.reviews`).
"""
