"""Delivery channels behind one interface (see :mod:`channels.base`).

One module (or package) per channel: ``digipost`` (API v8), ``email`` (SMTP) and
``printing`` (print batches for the vendor); ``registry`` builds the configured ones and
:mod:`letters.routing` chooses among them.
"""

from channels.base import Channel, ChannelError, PermanentError, Receipt, RetriableError

__all__ = ["Channel", "ChannelError", "PermanentError", "Receipt", "RetriableError"]
