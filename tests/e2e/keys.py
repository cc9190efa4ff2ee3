"""The token key id a registry expects for a certificate, and the one a token carries.

Registry 3 names the key by its RFC 7638 JWK thumbprint, registry 2.8 by
its libtrust key id.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from e2e.stack import jwt_part


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _as_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    numbers = public_key.public_numbers()
    jwk = json.dumps({"e": _b64url(_as_bytes(numbers.e)), "kty": "RSA", "n": _b64url(_as_bytes(numbers.n))},
                     separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(jwk.encode()).digest())


def libtrust(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, 48, 4))


def certificate_kid(path: str, kind: str) -> str:
    """The key id of the certificate at PATH: kind 'thumbprint' (registry 3) or 'libtrust' (registry 2.8)."""
    with open(path, "rb") as handle:
        key = x509.load_pem_x509_certificate(handle.read()).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SystemExit("%s: not an RSA key; the token keys are RSA" % path)
    return thumbprint(key) if kind == "thumbprint" else libtrust(key)


def token_kid(token: str) -> str:
    return str(jwt_part(token, 0)["kid"])
