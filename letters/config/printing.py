"""Print batches for the vendor (``LETTERS_PRINTING__…``): folder, envelopes, cut-off, the
inserter code's position and the hand-off."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, Field

from letters.config.handoff import HandoffSettings


class InserterCode(BaseModel):
    """Where the inserter control code goes on every page of a print batch, in mm from the
    page's top-left corner (see channels/printing/inserter/placement.py). The default runs down
    the right margin; a position in the window, the left-margin zone or the text is refused
    when a batch is closed."""

    x_mm: float = 199.0
    y_mm_from_top: float = 20.0
    module_mm: float = Field(0.33, ge=0.19, le=1.0)
    height_mm: float = Field(6.0, ge=3.0, le=20.0)
    rotate: bool = True  # True: the code runs down the page


class Printing(BaseModel):
    """Print batches for the print vendor."""

    #: Closed batches are written here, one folder per batch (``PB000001/``).
    folder: Path = Path("out/print")
    #: Printed on both sides: a letter of n pages takes ceil(n/2) sheets.
    duplex: bool = True
    #: Letters of up to this many sheets are folded into C5 window envelopes; thicker ones
    #: go flat in C4 envelopes. The two are written to separate files for the inserter.
    c5_max_sheets: int = Field(5, ge=1)
    #: At most this many letters per PDF file: files a vendor's RIP handles comfortably,
    #: and the memory of a close (about 0.03 MB per letter of an open file; measured by
    #: bench/batch.py, flat in the size of the batch).
    letters_per_file: int = Field(1000, ge=1, le=2_000)
    #: The worker closes the open batch every day at this Oslo time (HH:MM); none: only
    #: ``letters batch close`` closes batches.
    cutoff: dt.time | None = None
    inserter: InserterCode = InserterCode()
    #: Where closed batches go: nowhere (the vendor reads ``folder``), a drop folder, or SFTP.
    handoff: HandoffSettings = HandoffSettings()
