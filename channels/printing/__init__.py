"""Print batches for the print vendor: the channel (letters join the open batch), closing a
batch into the vendor's folder (``batch``: the closer; ``manifest``: manifest.csv/json and
the cover's data; ``publish``: the hidden build folder, SHA256SUMS, READY), the inserter
code on every page (``inserter``: placement and stamping; the number itself is
:mod:`letters.numbers.inserter_code`), the cover sheet (``cover``) and the hand-off to a
drop folder or SFTP (``handoff``)."""
