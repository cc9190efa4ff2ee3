"""The token keys' ids (_token_keys): registry 3's RFC 7638 thumbprint, registry 2.8's libtrust id, and the JWKS
that makes registry 3 accept both."""

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.sovereign.registry.plugins.module_utils._token_keys import (
    libtrust_key_id,
    thumbprint,
    token_jwks,
    token_key_ids,
)

# RFC 7638, section 3.1: the example key and its thumbprint.
RFC7638_N = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj"
             "hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ"
             "vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzK"
             "nqDKgw")
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def _number(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def _certificate(key) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token signer")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(name="keys", scope="module")
def fixture_keys():
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _index in range(2)]


def test_the_thumbprint_is_rfc_7638s():
    key = rsa.RSAPublicNumbers(65537, _number(RFC7638_N)).public_key()
    assert thumbprint(key) == RFC7638_THUMBPRINT


def test_the_libtrust_id_has_twelve_groups_of_four(keys):
    kid = libtrust_key_id(keys[0].public_key())
    groups = kid.split(":")
    assert len(groups) == 12 and all(len(group) == 4 for group in groups)
    assert kid != libtrust_key_id(keys[1].public_key())


def test_the_jwks_holds_each_key_of_the_bundle_under_its_libtrust_id(keys):
    bundle = "\n".join(_certificate(key) for key in keys)
    jwks = token_jwks(bundle)
    assert [entry["kid"] for entry in jwks["keys"]] == [libtrust_key_id(key.public_key()) for key in keys]
    for entry, key in zip(jwks["keys"], keys):
        rebuilt = rsa.RSAPublicNumbers(_number(entry["e"]), _number(entry["n"])).public_key()
        assert rebuilt.public_numbers() == key.public_key().public_numbers()
    assert token_key_ids(bundle)[1] == {"libtrust": libtrust_key_id(keys[1].public_key()),
                                        "thumbprint": thumbprint(keys[1].public_key())}


def test_an_empty_bundle_gives_an_empty_jwks():
    assert token_jwks("") == {"keys": []}


def test_a_key_that_is_not_rsa_is_refused(keys):
    bundle = _certificate(keys[0]) + _certificate(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ValueError, match="certificate 2 of the token bundle has no RSA key"):
        token_jwks(bundle)
