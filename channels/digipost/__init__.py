"""Digipost API v8: letters to the recipient's digital mailbox (or Digipost's print).

- :mod:`~letters.config.digipost`: :class:`DigipostSettings`
- :mod:`~channels.digipost.signing`: request signing and response verification
- :mod:`~channels.digipost.messages`: the message XML and the answers
- :mod:`~channels.digipost.client`: the HTTP calls
- :mod:`~channels.digipost.channel`: :class:`DigipostChannel`, the error taxonomy and
  reconciliation
"""

from channels.digipost.channel import DigipostChannel
from channels.digipost.client import DigipostClient
from channels.digipost.signing import Authenticator, RequestSigner, ResponseVerifier
from letters.config.digipost import DigipostSettings, ReturnAddress

__all__ = [
    "Authenticator",
    "DigipostChannel",
    "DigipostClient",
    "DigipostSettings",
    "RequestSigner",
    "ResponseVerifier",
    "ReturnAddress",
]
