"""Print the token key id a registry expects for a certificate.

  token_kid.py CERT.pem thumbprint   RFC 7638 JWK thumbprint (registry 3)
  token_kid.py CERT.pem libtrust     libtrust key id (registry 2.8)
  token_kid.py --token JWT           the kid in a token's header
"""

import base64
import hashlib
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def as_bytes(number):
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def thumbprint(public_key):
    numbers = public_key.public_numbers()
    jwk = json.dumps({"e": b64url(as_bytes(numbers.e)), "kty": "RSA", "n": b64url(as_bytes(numbers.n))},
                     separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(jwk.encode()).digest())


def libtrust(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, 48, 4))


if sys.argv[1] == "--token":
    header = sys.argv[2].split(".")[0]
    print(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])
else:
    cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
    print((thumbprint if sys.argv[2] == "thumbprint" else libtrust)(cert.public_key()))
