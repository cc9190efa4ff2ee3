"""The standard-library LDAP client (_ldap) and ldap_directory_check, against hand-computed BER and a fake server."""

import datetime
import ipaddress
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.sovereign.registry.plugins.module_utils._ldap import ber, client, messages
from ansible_collections.sovereign.registry.plugins.module_utils._ldap import filter as ldap_filter

# --- BER ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, encoded", [
    (0, "02 01 00"), (1, "02 01 01"), (127, "02 01 7f"), (128, "02 02 00 80"), (256, "02 02 01 00"),
    (-1, "02 01 ff"), (-128, "02 01 80"), (-129, "02 02 ff 7f"), (2 ** 31 - 1, "02 04 7f ff ff ff"),
])
def test_integer_encoding_is_the_shortest_twos_complement(value, encoded):
    assert ber.encode_integer(value).hex(" ") == encoded
    tag, content, end = ber.decode_tlv(bytes.fromhex(encoded))
    assert (tag, ber.decode_integer(content), end) == (0x02, value, len(bytes.fromhex(encoded)))


def test_short_and_long_form_lengths():
    assert ber.encode_length(0) == b"\x00"
    assert ber.encode_length(127) == b"\x7f"
    assert ber.encode_length(128) == b"\x81\x80"
    assert ber.encode_length(200) == b"\x81\xc8"
    assert ber.encode_length(300) == b"\x82\x01\x2c"
    assert ber.encode_length(70000) == b"\x83\x01\x11\x70"
    for size in (0, 1, 127, 128, 255, 256, 300, 70000):
        value = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        encoded = ber.encode_octet_string(value)
        assert ber.tlv_size(encoded) == len(encoded)
        assert ber.decode_tlv(encoded) == (0x04, value, len(encoded))


def test_other_universal_types_and_constructed_round_trip():
    assert ber.encode_boolean(True).hex(" ") == "01 01 ff"
    assert ber.encode_boolean(False).hex(" ") == "01 01 00"
    assert ber.encode_enumerated(2).hex(" ") == "0a 01 02"
    assert ber.encode_octet_string("é").hex(" ") == "04 02 c3 a9"
    seq = ber.encode_sequence([ber.encode_integer(5), ber.encode_octet_string("ab")])
    assert seq.hex(" ") == "30 07 02 01 05 04 02 61 62"
    tag, content, _end = ber.decode_tlv(seq)
    assert tag == 0x30
    assert ber.decode_elements(content) == [(0x02, b"\x05"), (0x04, b"ab")]
    assert ber.encode_set([ber.encode_boolean(True)]).hex(" ") == "31 03 01 01 ff"
    assert ber.encode_octet_string("x", 0x80).hex(" ") == "80 01 78"


def test_protocol_op_tags_are_rfc4511s():
    # [APPLICATION n]: 0x40 | n, plus 0x20 when constructed; UnbindRequest is a primitive NULL.
    assert (messages.OP_BIND_REQUEST, messages.OP_BIND_RESPONSE, messages.OP_UNBIND_REQUEST) == (0x60, 0x61, 0x42)
    assert (messages.OP_SEARCH_REQUEST, messages.OP_SEARCH_RESULT_ENTRY,
            messages.OP_SEARCH_RESULT_DONE) == (0x63, 0x64, 0x65)
    assert (messages.OP_SEARCH_RESULT_REFERENCE, messages.OP_EXTENDED_REQUEST,
            messages.OP_EXTENDED_RESPONSE) == (0x73, 0x77, 0x78)


def test_incomplete_and_malformed_ber():
    assert ber.tlv_size(b"") is None
    assert ber.tlv_size(b"\x30") is None
    assert ber.tlv_size(b"\x30\x82\x01") is None
    assert ber.tlv_size(b"\x30\x82\x01\x00") == 260
    with pytest.raises(ber.LdapProtocolError, match="indefinite"):
        ber.tlv_size(b"\x30\x80")
    with pytest.raises(ber.LdapProtocolError, match="truncated"):
        ber.decode_tlv(b"\x04\x05ab")


# --- filters -----------------------------------------------------------------------------------------------------

def _hex(text):
    return text.encode().hex(" ")


@pytest.mark.parametrize("text, encoded", [
    # equalityMatch [3] { "uid", "alice" }
    ("(uid=alice)", "a3 0c 04 03 75 69 64 04 05 61 6c 69 63 65"),
    # and [0] { equalityMatch { objectClass, person }, substrings [4] { uid, { initial [0] "a" } } }
    ("(&(objectClass=person)(uid=a*))",
     "a0 23 a3 15 04 0b " + _hex("objectClass") + " 04 06 " + _hex("person")
     + " a4 0a 04 03 75 69 64 30 03 80 01 61"),
    # or [1]
    ("(|(a=1)(b=2))", "a1 10 a3 06 04 01 61 04 01 31 a3 06 04 01 62 04 01 32"),
    # present [7] is primitive: the attribute description itself
    ("(objectClass=*)", "87 0b " + _hex("objectClass")),
    # not [2] is explicit: the inner filter whole
    ("(!(uid=bob))", "a2 0c a3 0a 04 03 75 69 64 04 03 62 6f 62"),
    # \2a is a literal *, so this is equality, not substrings
    ("(cn=a\\2ab)", "a3 09 04 02 63 6e 04 03 61 2a 62"),
    ("(cn=\\28x\\29\\5c)", "a3 0a 04 02 63 6e 04 04 28 78 29 5c"),
    # initial, any, final
    ("(cn=a*b*c)", "a4 0f 04 02 63 6e 30 09 80 01 61 81 01 62 82 01 63"),
    ("(cn=*b*)", "a4 09 04 02 63 6e 30 03 81 01 62"),
    ("(cn=*c)", "a4 09 04 02 63 6e 30 03 82 01 63"),
    ("(uidNumber>=500)", "a5 10 04 09 " + _hex("uidNumber") + " 04 03 35 30 30"),
    ("(uidNumber<=500)", "a6 10 04 09 " + _hex("uidNumber") + " 04 03 35 30 30"),
    ("(cn~=jon)", "a8 09 04 02 63 6e 04 03 6a 6f 6e"),
    # extensibleMatch [9] { matchingRule [1], type [2], matchValue [3], dnAttributes [4] }
    ("(cn:dn:2.5.13.5:=John)", "a9 17 81 08 " + _hex("2.5.13.5") + " 82 02 63 6e 83 04 4a 6f 68 6e 84 01 ff"),
    ("(memberOf:1.2.840.113556.1.4.1941:=cn=g)",
     "a9 29 81 17 " + _hex("1.2.840.113556.1.4.1941") + " 82 08 " + _hex("memberOf") + " 83 04 " + _hex("cn=g")),
    # UTF-8 values
    ("(cn=é)", "a3 08 04 02 63 6e 04 02 c3 a9"),
    # RFC 4526 absolute true
    ("(&)", "a0 00"),
])
def test_parse_filter_encodes_as_rfc4511_says(text, encoded):
    assert ldap_filter.parse_filter(text).hex(" ") == encoded


def test_long_filter_uses_long_form_lengths():
    text = "(|" + "".join("(uid=user%03d)" % i for i in range(30)) + ")"
    encoded = ldap_filter.parse_filter(text)
    assert encoded[:2] == b"\xa1\x82"
    tag, content, end = ber.decode_tlv(encoded)
    assert tag == 0xA1 and end == len(encoded) and len(ber.decode_elements(content)) == 30


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("uid=alice", "expected '\\('"),
    ("(uid=alice", "unbalanced"),
    ("(uid=alice))", "unexpected '\\)'"),
    ("(&(uid=a)", "unbalanced"),
    ("(&(uid=a)x)", "& takes a list"),
    ("(!(a=b)(c=d))", "! takes exactly one"),
    ("(=alice)", "no attribute"),
    ("(uid)", "no operator"),
    ("()", "empty '\\(\\)'"),
    ("(uid=\\zz)", "two hex digits"),
    ("(uid=a\\2)", "two hex digits"),
    ("(u id=x)", "not an attribute description"),
    ("(a=**)", "no substring"),
    ("(a>=*)", "no wildcard"),
    ("(a:=b*)", "no wildcard"),
    (":=x", "expected"),
    ("(:=x)", "attribute or a matching rule"),
    ("(a:dn:r:s:=x)", "attr\\[:dn\\]\\[:rule\\]"),
])
def test_malformed_filters_are_refused_with_a_reason(text, message):
    with pytest.raises(ldap_filter.LdapFilterError, match=message):
        ldap_filter.parse_filter(text)


# --- docker_auth's account escaping ------------------------------------------------------------------------------


def test_account_escaping_is_docker_auths():
    assert ldap_filter.escape_account("a*)(uid=*") == "a\\2a\\29\\28uid\\3d\\2a"
    assert ldap_filter.escape_account("\\(") == "\\5c\\28"
    assert ldap_filter.escape_account("!&|><~") == "\\21\\26\\7c\\3e\\3c\\7e"
    assert ldap_filter.escape_account("alice.smith-2") == "alice.smith-2"
    assert ldap_filter.account_filter("(&(objectClass=person)(uid=${account}))", "a*)(uid=*") == \
        "(&(objectClass=person)(uid=a\\2a\\29\\28uid\\3d\\2a))"
    assert ldap_filter.account_filter("(|(uid=${account})(mail=${account}@x))", "bob") == "(|(uid=bob)(mail=bob@x))"


def test_an_escaped_account_is_one_value_in_the_filter():
    # The injection attempt stays a single equality on uid with the literal value.
    encoded = ldap_filter.parse_filter(ldap_filter.account_filter("(uid=${account})", "a*)(uid=*"))
    assert encoded == ber.encode_sequence([ber.encode_octet_string("uid"), ber.encode_octet_string("a*)(uid=*")],
                                          0xA3)


def test_addr_and_default_tls_follow_docker_auth():
    assert client.split_addr("ldap.example.org:636") == ("ldap.example.org", 636)
    assert client.split_addr("[::1]:389") == ("::1", 389)
    for bad in ("ldap.example.org", ":389", "host:", "host:0", "host:ldap", "host:70000"):
        with pytest.raises(ValueError):
            client.split_addr(bad)
    assert client.default_tls("ldap.example.org:636") == "always"
    assert client.default_tls("ldap.example.org:389") == "none"
    assert client.default_tls("ldap.example.org:6360") == "none"


# --- a fake directory --------------------------------------------------------------------------------------------

ALICE_DN = "uid=alice,ou=people,dc=example,dc=org"
# RFC 4511's protocolOp tags, written out here so that a wrong constant in _ldap cannot agree with itself.
BIND_REQUEST, BIND_RESPONSE, UNBIND_REQUEST = 0x60, 0x61, 0x42
SEARCH_REQUEST, SEARCH_RESULT_ENTRY, SEARCH_RESULT_DONE, SEARCH_RESULT_REFERENCE = 0x63, 0x64, 0x65, 0x73
EXTENDED_REQUEST, EXTENDED_RESPONSE = 0x77, 0x78
ALICE_FILTER = bytes.fromhex("a3 0c 04 03 75 69 64 04 05 61 6c 69 63 65")  # (uid=alice)
TWIN_FILTER = bytes.fromhex("a3 0b 04 03 75 69 64 04 04 74 77 69 6e")  # (uid=twin)


def _message(message_id, op):
    return ber.encode_sequence([ber.encode_integer(message_id), op])


def _result(tag, code, diagnostic="", matched=""):
    return ber.encode_sequence([ber.encode_enumerated(code), ber.encode_octet_string(matched),
                                ber.encode_octet_string(diagnostic)], tag)


class FakeDirectory:
    """A directory on 127.0.0.1 that answers in small pieces: one bind password, one entry (alice), twins."""

    def __init__(self, password="secret", tls_context=None, starttls=None, piece=3):
        self.password = password
        self.tls_context = tls_context  # LDAPS when set
        self.starttls = starttls  # None: refuse StartTLS; a server context: accept it
        self.piece = piece
        self.requests = []
        self.errors = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.stopping = threading.Event()
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _peer = self.listener.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def wait_for(self, op_tag, seconds=5):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.requests and self.requests[-1][0] == op_tag:
                return True
            time.sleep(0.01)
        return False

    def _send(self, conn, data):
        # Split everywhere, across message boundaries too, so the client must reassemble.
        for i in range(0, len(data), self.piece):
            conn.sendall(data[i:i + self.piece])
            time.sleep(0.0005)

    def _read(self, conn, buffer):
        while True:
            size = ber.tlv_size(buffer)
            if size is not None and len(buffer) >= size:
                return buffer[:size], buffer[size:]
            chunk = conn.recv(4096)
            if not chunk:
                return None, b""
            buffer += chunk

    def _session(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(10)
        try:
            if self.tls_context is not None:
                conn = self.tls_context.wrap_socket(conn, server_side=True)
            buffer = b""
            while True:
                data, buffer = self._read(conn, buffer)
                if data is None:
                    return
                _tag, content, _end = ber.decode_tlv(data)
                (_t, raw_id), (op_tag, op) = ber.decode_elements(content)[:2]
                message_id = ber.decode_integer(raw_id)
                self.requests.append((op_tag, op))
                if op_tag == UNBIND_REQUEST:
                    return
                if op_tag == EXTENDED_REQUEST:
                    if self.starttls is None:
                        self._send(conn, _message(message_id, _result(EXTENDED_RESPONSE, 2,
                                                                      "unsupported extended operation")))
                        continue
                    self._send(conn, _message(message_id, _result(EXTENDED_RESPONSE, 0)))
                    conn = self.starttls.wrap_socket(conn, server_side=True)
                elif op_tag == BIND_REQUEST:
                    _version, (_n, _dn), (_a, password) = ber.decode_elements(op)
                    ok = password == self.password.encode()
                    self._send(conn, _message(message_id, _result(BIND_RESPONSE, 0 if ok else 49,
                                                                  "" if ok else "invalid credentials")))
                elif op_tag == SEARCH_REQUEST:
                    self._send(conn, self._search(message_id, op))
        except (OSError, ValueError, ber.LdapError) as exc:
            self.errors.append(exc)
        finally:
            conn.close()

    def _search(self, message_id, op):
        elements = ber.decode_elements(op)
        base = elements[0][1].decode()
        search_filter = ber.encode_tlv(*elements[6])
        if base != "dc=example,dc=org":
            return _message(message_id, _result(SEARCH_RESULT_DONE, 32, "no such base", "dc=org"))
        entry = ber.encode_sequence([
            ber.encode_octet_string(ALICE_DN),
            ber.encode_sequence([
                ber.encode_sequence([ber.encode_octet_string("cn"),
                                     ber.encode_set([ber.encode_octet_string("Alice")])]),
                ber.encode_sequence([ber.encode_octet_string("mail"), ber.encode_set(
                    [ber.encode_octet_string("alice@example.org"), ber.encode_octet_string("a@example.org")])]),
            ]),
        ], SEARCH_RESULT_ENTRY)
        reference = ber.encode_sequence([ber.encode_octet_string("ldap://other.example.org/dc=org")],
                                        SEARCH_RESULT_REFERENCE)
        out = b""
        if search_filter == ALICE_FILTER:
            out += _message(message_id, entry) + _message(message_id, reference)
        elif search_filter == TWIN_FILTER:
            for ou in ("people", "staff"):
                out += _message(message_id, ber.encode_sequence(
                    [ber.encode_octet_string("uid=twin,ou=%s,dc=example,dc=org" % ou), ber.encode_sequence([])],
                    SEARCH_RESULT_ENTRY))
        return out + _message(message_id, _result(SEARCH_RESULT_DONE, 0))


@pytest.fixture
def directory():
    servers = []

    def start(**kwargs):
        server = FakeDirectory(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_bind_and_search_end_to_end(directory):
    server = directory()
    with client.connect("127.0.0.1", server.port, "none", "", 5) as conn:
        conn.bind("cn=reader,dc=example,dc=org", "secret")
        entries = conn.search("dc=example,dc=org", "(uid=alice)", ["cn", "mail"])
        assert entries == [(ALICE_DN, {"cn": [b"Alice"], "mail": [b"alice@example.org", b"a@example.org"]})]
        assert conn.search("dc=example,dc=org", "(uid=bob)", ["cn"]) == []
    search = [op for tag, op in server.requests if tag == SEARCH_REQUEST][0]
    base, scope, deref, size_limit, _time, _types, _filter, attributes = ber.decode_elements(search)
    assert (base[1], scope[1], deref[1], size_limit[1]) == (b"dc=example,dc=org", b"\x02", b"\x00", b"\x02")
    assert ber.decode_elements(attributes[1]) == [(0x04, b"cn"), (0x04, b"mail")]
    assert server.wait_for(UNBIND_REQUEST)


def test_several_messages_in_one_recv(directory):
    server = directory(piece=1 << 16)
    with client.connect("127.0.0.1", server.port) as conn:
        assert [dn for dn, _a in conn.search("dc=example,dc=org", "(uid=twin)", ["1.1"])] == [
            "uid=twin,ou=people,dc=example,dc=org", "uid=twin,ou=staff,dc=example,dc=org"]


def test_bind_with_a_wrong_password_is_invalid_credentials(directory):
    server = directory()
    with client.connect("127.0.0.1", server.port) as conn:
        with pytest.raises(client.LdapInvalidCredentials) as caught:
            conn.bind("cn=reader,dc=example,dc=org", "wrong")
    assert caught.value.code == 49
    assert str(caught.value) == "bind refused: invalidCredentials (49): invalid credentials"


def test_other_results_are_named_with_the_servers_message(directory):
    server = directory()
    with client.connect("127.0.0.1", server.port) as conn:
        with pytest.raises(ber.LdapError) as caught:
            conn.search("dc=nowhere", "(uid=alice)", [])
    assert not isinstance(caught.value, client.LdapInvalidCredentials)
    assert (caught.value.code, caught.value.matched_dn) == (32, "dc=org")
    assert str(caught.value) == "search refused: noSuchObject (32): no such base"
    for code, name in ((50, "insufficientAccessRights"), (52, "unavailable"), (53, "unwillingToPerform")):
        assert messages.result_name(code) == name


def test_a_refused_connection_says_so():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(client.LdapConnectError, match="connecting to 127.0.0.1:%d failed: " % port):
        client.connect("127.0.0.1", port, "none", "", 2)


def test_starttls_refused_says_so(directory):
    server = directory()
    with pytest.raises(client.LdapStartTlsRefused, match="refused StartTLS: protocolError \\(2\\)"):
        client.connect("127.0.0.1", server.port, "starttls", "", 5)


def test_plain_ldap_to_an_ldaps_port_says_tls(directory, pki):
    server = directory(tls_context=pki["server"])
    with client.connect("127.0.0.1", server.port, "none", "", 5) as conn:
        with pytest.raises(ber.LdapError, match="answered with TLS|closed the connection|reset by peer"):
            conn.bind("cn=reader,dc=example,dc=org", "secret")


# --- TLS -----------------------------------------------------------------------------------------------------------


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name, issuer=None):
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key, issuer_name = (key, _name(common_name)) if issuer is None else (issuer[0], issuer[1].subject)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(issuer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    return key, cert


def _leaf(ca_key, ca_cert, names):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    san = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    cert = (x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _server_context(tmp_path, label, key, cert):
    cert_file, key_file = tmp_path / ("%s.crt" % label), tmp_path / ("%s.key" % label)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = _ca("Test Directory CA")
    _other_key, other_cert = _ca("Some Other CA")
    key, cert = _leaf(ca_key, ca_cert, ["127.0.0.1", "localhost"])
    elsewhere_key, elsewhere_cert = _leaf(ca_key, ca_cert, ["ldap.example.org"])
    intermediate_key, intermediate_cert = _ca("Test Issuing CA", (ca_key, ca_cert))
    issued_key, issued_cert = _leaf(intermediate_key, intermediate_cert, ["127.0.0.1"])
    for label, c in (("ca", ca_cert), ("other-ca", other_cert), ("intermediate", intermediate_cert)):
        (tmp_path / ("%s.pem" % label)).write_bytes(c.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "not-pem.pem").write_text("not a certificate\n")
    return {
        "ca": str(tmp_path / "ca.pem"), "other_ca": str(tmp_path / "other-ca.pem"),
        "not_pem": str(tmp_path / "not-pem.pem"), "missing": str(tmp_path / "missing.pem"),
        "server": _server_context(tmp_path, "server", key, cert),
        "elsewhere": _server_context(tmp_path, "elsewhere", elsewhere_key, elsewhere_cert),
        "intermediate": str(tmp_path / "intermediate.pem"),
        "issued": _server_context(tmp_path, "issued", issued_key, issued_cert),
    }


def test_ldaps_with_the_wrong_ca_fails_verification(directory, pki):
    server = directory(tls_context=pki["server"])
    with pytest.raises(client.LdapTlsError, match="certificate verify failed") as caught:
        client.connect("127.0.0.1", server.port, "always", pki["other_ca"], 5)
    assert caught.value.verify_failed


def test_ldaps_with_the_right_ca_binds_and_searches(directory, pki):
    server = directory(tls_context=pki["server"])
    with client.connect("127.0.0.1", server.port, "always", pki["ca"], 5) as conn:
        assert conn.tls
        conn.bind("cn=reader,dc=example,dc=org", "secret")
        assert conn.search("dc=example,dc=org", "(uid=alice)", ["1.1"])[0][0] == ALICE_DN


def test_ldaps_checks_the_host_name(directory, pki):
    server = directory(tls_context=pki["elsewhere"])
    with pytest.raises(client.LdapTlsError, match="certificate verify failed: .*mismatch") as caught:
        client.connect("127.0.0.1", server.port, "always", pki["ca"], 5)
    assert caught.value.verify_failed


def test_an_intermediate_ca_alone_is_trusted_as_go_trusts_it(directory, pki):
    server = directory(tls_context=pki["issued"])
    with client.connect("127.0.0.1", server.port, "always", pki["intermediate"], 5) as conn:
        conn.bind("cn=reader,dc=example,dc=org", "secret")


def test_starttls_upgrades_then_verifies(directory, pki):
    server = directory(starttls=pki["server"])
    with client.connect("127.0.0.1", server.port, "starttls", pki["ca"], 5) as conn:
        assert conn.tls
        conn.bind("cn=reader,dc=example,dc=org", "secret")
    assert server.requests[0][0] == EXTENDED_REQUEST
    assert ber.decode_elements(server.requests[0][1]) == [(0x80, b"1.3.6.1.4.1.1466.20037")]
    server = directory(starttls=pki["server"])
    with pytest.raises(client.LdapTlsError, match="certificate verify failed"):
        client.connect("127.0.0.1", server.port, "starttls", pki["other_ca"], 5)


def test_a_bad_ca_file_is_named(pki):
    with pytest.raises(client.LdapCaFileError, match="does not exist"):
        client.tls_context(pki["missing"])
    with pytest.raises(client.LdapCaFileError, match="holds no PEM certificate"):
        client.tls_context(pki["not_pem"])


def test_ldaps_to_a_plain_port_fails_as_tls(directory):
    server = directory()
    with pytest.raises(client.LdapTlsError, match="TLS handshake"):
        client.connect("127.0.0.1", server.port, "always", "", 2)


# --- the module ----------------------------------------------------------------------------------------------------


def _args(port, **extra):
    args = {"addr": "127.0.0.1:%d" % port, "base": "dc=example,dc=org", "filter": "(uid=${account})",
            "bind_dn": "cn=reader,dc=example,dc=org", "bind_password": "secret\n", "accounts": ["alice", "bob", "twin"]}
    args.update(extra)
    return args


def test_module_returns_static_names_found_in_the_directory(run_module, directory):
    server = directory()
    proc, result = run_module("ldap_directory_check", _args(server.port), check=True)
    assert proc.returncode == 0, result
    assert result["changed"] is False
    assert result["found"] == {"alice": ALICE_DN, "twin": "uid=twin,ou=people,dc=example,dc=org"}
    assert result["ambiguous"] == {"twin": ["uid=twin,ou=people,dc=example,dc=org",
                                            "uid=twin,ou=staff,dc=example,dc=org"]}
    assert (result["searched"], result["tls"]) == (3, "none")


def test_module_names_the_password_variable_on_invalid_credentials(run_module, directory):
    server = directory()
    proc, result = run_module("ldap_directory_check", _args(server.port, bind_password="not-the-password"))
    assert proc.returncode != 0 and result["failed"]
    assert result["msg"] == ("the directory at 127.0.0.1:%d refused the bind of cn=reader,dc=example,dc=org: invalid "
                             "credentials; check sovereign_registry_docker_auth_ldap_bind_password (and that "
                             "sovereign_registry_docker_auth_ldap_bind_dn is the DN of the account)" % server.port)
    assert "not-the-password" not in proc.stdout + proc.stderr


def test_module_names_the_ca_variable_when_verification_fails(run_module, directory, pki):
    server = directory(tls_context=pki["server"])
    proc, result = run_module("ldap_directory_check", _args(server.port, tls="always", ca_certificate=pki["other_ca"]))
    assert proc.returncode != 0
    assert result["msg"].startswith("TLS to 127.0.0.1:%d failed: certificate verify failed: " % server.port)
    assert "check sovereign_registry_docker_auth_ldap_ca_certificate" in result["msg"]
    proc, result = run_module("ldap_directory_check", _args(server.port, tls="always", ca_certificate=pki["ca"]))
    assert proc.returncode == 0 and result["tls"] == "always" and "alice" in result["found"]


def test_module_fails_on_an_unreachable_directory_and_a_bad_filter(run_module):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    proc, result = run_module("ldap_directory_check", _args(port, timeout=2))
    assert proc.returncode != 0
    assert result["msg"].startswith("cannot reach the directory at 127.0.0.1:%d: " % port)
    proc, result = run_module("ldap_directory_check", _args(port, filter="(uid=alice)"))
    assert "has no ${account}" in result["msg"]
    proc, result = run_module("ldap_directory_check", _args(port, filter="(&(uid=${account})"))
    assert "unbalanced" in result["msg"] and "check sovereign_registry_docker_auth_ldap_filter" in result["msg"]
