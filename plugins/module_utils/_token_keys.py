# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ids a registry knows a token-signing key by, and the JWKS that lets registry 3 know it by both.

docker_auth names its key in each token's header (``kid``): by its libtrust
key id for registry 2.8, by its RFC 7638 thumbprint for registry 3. Registry
2.8 indexes the certificates of its ``rootcertbundle`` by the libtrust id
only, registry 3 by the thumbprint only, plus any key of its ``jwks`` file
under the id written there. A JWKS with every token key under its libtrust
id makes registry 3 accept the tokens registry 2.8 accepts: while a site
moves from 2.8 to 3 one instance at a time, both kinds of instance accept
every token docker_auth signs (docs/operations/upgrade.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Dict, List

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # ansible-core needs cryptography on the controller; a bare Python may lack it
    HAS_CRYPTOGRAPHY = False

_PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _as_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def rsa_keys(bundle: str) -> List[rsa.RSAPublicKey]:
    """The public keys of the PEM certificates in BUNDLE, in their order; the token keys are RSA (registry 3.1
    and later cannot check docker_auth's ECDSA key ids)."""
    if not HAS_CRYPTOGRAPHY:
        raise ValueError("the token keys need the Python package cryptography on the controller (pip install cryptography)")
    keys = []
    for number, pem in enumerate(_PEM_CERTIFICATE.findall(bundle), start=1):
        key = x509.load_pem_x509_certificate(pem.encode()).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("certificate %d of the token bundle has no RSA key: the token keys are RSA" % number)
        keys.append(key)
    return keys


def libtrust_key_id(key: rsa.RSAPublicKey) -> str:
    """Registry 2.8's and docker_auth's legacy id: SHA-256 of the DER SubjectPublicKeyInfo, its first 240 bits in
    base32, in 12 groups of 4 joined by colons."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, 48, 4))


def thumbprint(key: rsa.RSAPublicKey) -> str:
    """Registry 3's id: the RFC 7638 SHA-256 thumbprint of the key as a JWK."""
    numbers = key.public_numbers()
    jwk = json.dumps({"e": _b64url(_as_bytes(numbers.e)), "kty": "RSA", "n": _b64url(_as_bytes(numbers.n))},
                     separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(jwk.encode()).digest())


def token_jwks(bundle: str) -> Dict[str, Any]:
    """A JWKS with each key of BUNDLE under its libtrust key id (registry 3 knows them by thumbprint already)."""
    keys = []
    for key in rsa_keys(bundle):
        numbers = key.public_numbers()
        keys.append({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": libtrust_key_id(key),
                     "n": _b64url(_as_bytes(numbers.n)), "e": _b64url(_as_bytes(numbers.e))})
    return {"keys": keys}


def token_key_ids(bundle: str) -> List[Dict[str, str]]:
    """Both ids of each key of BUNDLE: what a restore compares with the ids recorded at backup."""
    return [{"libtrust": libtrust_key_id(key), "thumbprint": thumbprint(key)} for key in rsa_keys(bundle)]
