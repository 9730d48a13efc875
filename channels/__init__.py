"""Delivery channels behind one interface (see :mod:`channels.base`).

Today only the local outbox exists; Digipost, e-mail and print batches come with the
channels issue and slot in beside it.
"""

from channels.base import Channel, ChannelError, PermanentError, Receipt, RetriableError

__all__ = ["Channel", "ChannelError", "PermanentError", "Receipt", "RetriableError"]
