"""The token key id a registry expects for a certificate, and the one a token carries.

Registry 3 names the key by its RFC 7638 JWK thumbprint, registry 2.8 by
its libtrust key id.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ansible_collections.sovereign.registry.plugins.module_utils._token_keys import libtrust_key_id as libtrust
from ansible_collections.sovereign.registry.plugins.module_utils._token_keys import thumbprint
from e2e.stack import jwt_part


def certificate_kid(path: str, kind: str) -> str:
    """The key id of the certificate at PATH: kind 'thumbprint' (registry 3) or 'libtrust' (registry 2.8)."""
    with open(path, "rb") as handle:
        key = x509.load_pem_x509_certificate(handle.read()).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SystemExit("%s: not an RSA key; the token keys are RSA" % path)
    return thumbprint(key) if kind == "thumbprint" else libtrust(key)


def token_kid(token: str) -> str:
    return str(jwt_part(token, 0)["kid"])
