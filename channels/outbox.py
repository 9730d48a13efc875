"""The local outbox: letters land as files in a folder (the embedded default's channel until
Digipost, e-mail and print batches are configured)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from channels.base import Channel, Outgoing, Receipt, RetriableError


class OutboxChannel(Channel):
    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def deliver(self, letter: Outgoing) -> Receipt:
        # The file name comes from the letter id (digits only), never from input text.
        if not letter.letter_id.isdigit():
            raise ValueError("letter ids are digits")
        target = self.folder / f"{letter.letter_id}.pdf"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not (target.exists() and target.read_bytes() == letter.pdf):
                fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".incoming-")
                with os.fdopen(fd, "wb") as fh:
                    fh.write(letter.pdf)
                os.replace(tmp, target)
        except OSError as exc:
            raise RetriableError("io", f"outbox not writable: {exc.strerror}") from exc
        return Receipt(self.name, letter.letter_id, {"path": str(target)})
