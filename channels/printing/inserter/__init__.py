"""The inserter control code on every page of a print batch: where it goes and drawing it.

The print vendor's inserting machine reads the code to know where each letter (one
envelope's set of sheets) starts and ends. Three parts, each in its own place:

* the number itself, 16 digits ``BBBB LLLLLL PP MM E C`` (batch, letter, page, pages,
  end-of-set flag, Luhn check): :mod:`letters.numbers.inserter_code`, beside the other
  numbers;
* where it goes: :mod:`channels.printing.inserter.placement` (:class:`Placement`, checked
  against the envelope window, Digipost's left-margin zone and the letter's content area,
  and :func:`describe` for the manifest and the cover sheet);
* drawing it: :mod:`channels.printing.inserter.stamping` (:func:`stamp_into` appends a
  letter's pages to a batch PDF with the code on each, as vector bars), imported from there
  where a batch is written: this package loads no pikepdf for the placement's checks.
"""

from __future__ import annotations

from channels.printing.inserter.placement import (
    DEFAULT_PLACEMENT,
    QUIET_MODULES,
    SYMBOL_MODULES,
    Placement,
    describe,
    validate_placement,
)

__all__ = [
    "DEFAULT_PLACEMENT",
    "QUIET_MODULES",
    "SYMBOL_MODULES",
    "Placement",
    "describe",
    "validate_placement",
]
