"""Print batches for the print vendor: the channel (letters join the open batch), closing a
batch into the vendor's folder (``batch``), the inserter code on every page (``inserter``),
the cover sheet (``cover``) and the hand-off to a drop folder or SFTP (``handoff``)."""
