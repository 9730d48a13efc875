"""Loading the enterprise key and Digipost's certificate.

The key file is PEM (optionally encrypted) or PKCS#12 (``.p12``/``.pfx``, as the Java client
uses). The password comes as a :class:`~pydantic.SecretStr` and is only unwrapped here.
Error messages name the file, never the password.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr


class KeyFileError(ValueError):
    """The key or certificate cannot be used (unreadable, wrong password, not RSA)."""


def load_private_key(path: Path, password: SecretStr | None = None) -> rsa.RSAPrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the Digipost key file {path}: {exc.strerror}") from None
    secret = password.get_secret_value().encode("utf-8") if password else None
    try:
        if path.suffix.lower() in {".p12", ".pfx"}:
            key, _cert, _chain = pkcs12.load_key_and_certificates(data, secret)
        else:
            key = serialization.load_pem_private_key(data, secret)
    except (ValueError, TypeError):
        raise KeyFileError(f"cannot load the Digipost key {path} (format or password)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"the Digipost key {path} is not an RSA private key")
    return key


def load_certificate(pem: bytes, origin: str) -> x509.Certificate:
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise KeyFileError(f"the Digipost certificate from {origin} is not PEM") from None
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise KeyFileError(f"the Digipost certificate from {origin} has no RSA key")
    return cert
