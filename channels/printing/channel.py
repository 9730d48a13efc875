"""The print channel: a letter joins the open print batch for the print vendor.

Handing a letter to print means recording it in the open batch; the vendor gets it when the
batch closes (``letters batch close`` or the worker's daily cut-off). A letter that fails
the print-safety check never joins a batch: the channel refuses it with the reasons, and the
refusal is recorded in the ledger like any other.

Refusals carry a stable code (:mod:`letters.codes`): ``print-no-address``, ``print-unsafe``
(the safety check's findings in the message) and, retriable, ``print-batch-busy``.
"""

from __future__ import annotations

from channels.base import Channel, Outgoing, PermanentError, Receipt, RetriableError
from letters.codes import Code
from letters.config import Settings
from letters.ledger.batches import Batches, sort_key
from letters.renderers import safety


class PrintChannel(Channel):
    name = "print"
    reconciles = True

    def __init__(self, batches: Batches, settings: Settings) -> None:
        self.batches = batches
        self.settings = settings

    def deliver(self, letter: Outgoing) -> Receipt:
        if letter.address is None:
            raise PermanentError(Code.PRINT_NO_ADDRESS, "the letter has no postal address")
        pages = letter.page_count
        if not letter.checked:  # checked once, where it was made (see Outgoing.checked)
            report = safety.check(letter.pdf, settings=self.settings)
            if not report.ok:
                raise PermanentError(Code.PRINT_UNSAFE, "; ".join(report.failures))
            pages = report.pages
        key = sort_key(letter.address.postal_code, letter.address.country)
        try:
            joined = self.batches.join(letter.letter_id, key, pages)
        except Exception as exc:  # the ledger is unreachable or busy: try again later
            raise RetriableError(
                Code.PRINT_BATCH_BUSY, f"could not join the print batch: {type(exc).__name__}"
            ) from None
        return Receipt(
            self.name,
            joined.batch_id,
            {"batch": joined.batch_id, "pages": pages, "joined": joined.new},
        )
