"""The Digipost keys the tests share: one RSA key per role (sender, another sender, the
contract server, a rogue server), the sender's key files as the channel reads them, and the
contract server trusting the sender.

conftest.py exposes :func:`write_keys` as the session fixture ``keys``; test modules import
:data:`SENDER_ID`, :class:`Keys`, :func:`rsa_key` and :func:`contract_server` from here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from pydantic import SecretStr

from tests.digipost_server import DigipostServer, make_certificate

SENDER_ID = 779051


@cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One 2048-bit key per role, made once per test process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class Keys:
    sender_pem: Path
    other_pem: Path
    sender_p12: Path
    p12_password: SecretStr
    rogue_cert: Path


def write_keys(folder: Path) -> Keys:
    """The sender's key as PEM and as password-protected PKCS#12, another sender's key, and
    a certificate that is not the contract server's, written into ``folder``."""

    def pem(key: rsa.RSAPrivateKey, name: str) -> Path:
        path = folder / name
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    password = SecretStr(secrets.token_urlsafe(16))
    p12 = folder / "sender.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"sender",
            rsa_key("sender"),
            None,
            None,
            serialization.BestAvailableEncryption(password.get_secret_value().encode()),
        )
    )
    rogue_cert = folder / "rogue.pem"
    rogue_cert.write_bytes(make_certificate(rsa_key("rogue"), "not Digipost"))
    return Keys(
        pem(rsa_key("sender"), "sender.pem"),
        pem(rsa_key("other"), "other.pem"),
        p12,
        password,
        rogue_cert,
    )


def contract_server(users: set[str], schema: etree.XMLSchema | None = None) -> DigipostServer:
    """The contract server knowing :data:`SENDER_ID` by the sender's public key and signing
    with its own (a bad signature with ``rogue``'s); start it with ``with``."""
    return DigipostServer(
        {str(SENDER_ID): rsa_key("sender").public_key()},
        rsa_key("server"),
        rsa_key("rogue"),
        schema=schema,
        users=users,
    )
