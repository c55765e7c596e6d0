"""Certificate parsing with ``cryptography``: facts reported and errors turned into ParseError."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.x509 import (
    CertInfo,
    parse_certificate,
    parse_certificate_chain,
    split_certificate_list,
)
from inspector.errors import ParseError
from tests.dissect.tls_factory import certificate_body, make_cert

WEBRTC_DER, WEBRTC_KEY = make_cert("WebRTC", "rsa")
CA_DER, CA_KEY = make_cert("Example CA", "ec")
LEAF_DER, _ = make_cert(
    "media.example.net",
    "ec",
    issuer_cn="Example CA",
    issuer_key=CA_KEY,
    sans=("media.example.net", "*.example.net", "2001:db8::1"),
)


def test_self_signed_webrtc_certificate() -> None:
    info = parse_certificate(WEBRTC_DER)
    assert info.subject == info.issuer == "CN=WebRTC"
    assert info.self_signed is True
    assert info.key == "RSA 2048"
    assert info.sig_alg == "sha256WithRSAEncryption"
    assert info.sha256 == hashlib.sha256(WEBRTC_DER).hexdigest()
    assert info.not_before == "2024-01-01T00:00:00Z" and info.not_after == "2024-01-31T00:00:00Z"
    assert info.sans == () and info.serial == "1234" and info.der_len == len(WEBRTC_DER)


def test_ca_signed_leaf() -> None:
    info = parse_certificate(LEAF_DER)
    assert info.subject == "CN=media.example.net" and info.issuer == "CN=Example CA"
    assert info.self_signed is False
    assert info.key == "EC secp256r1" and info.sig_alg == "ecdsa-with-SHA256"
    assert info.sans == ("media.example.net", "*.example.net", "2001:db8::1")


def test_same_name_but_signed_by_another_key_is_not_self_signed() -> None:
    der, _ = make_cert("Twin", "ec", issuer_cn="Twin", issuer_key=CA_KEY)
    info = parse_certificate(der)
    assert info.subject == info.issuer and info.self_signed is False


def test_ed25519_certificate() -> None:
    der, _ = make_cert("ed.example", "ed25519")
    info = parse_certificate(der)
    assert info.key == "Ed25519" and info.sig_alg == "ed25519" and info.self_signed


def test_chain_parsing() -> None:
    chain = parse_certificate_chain(certificate_body([LEAF_DER, CA_DER]))
    assert [c.subject for c in chain] == ["CN=media.example.net", "CN=Example CA"]
    assert all(isinstance(c, CertInfo) for c in chain)
    assert parse_certificate_chain(certificate_body([])) == ()
    assert split_certificate_list(certificate_body([CA_DER])) == (CA_DER,)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x00",
        b"\x00\x00\x05\x00\x00\x09abc",  # certificate longer than the list
        certificate_body([CA_DER]) + b"\x00",  # trailing bytes
        certificate_body([CA_DER])[:-1],  # cut
    ],
)
def test_malformed_chains(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_certificate_chain(body)


def test_garbage_der_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as err:
        parse_certificate(b"\x30\x03\x02\x01\x00")
    assert err.value.name == "bad_certificate"
    with pytest.raises(ParseError):
        parse_certificate_chain(certificate_body([b"not a certificate"]))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_into_chain_parser(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_certificate_chain(data)
    with contextlib.suppress(ParseError):
        parse_certificate(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(LEAF_DER) - 1), st.integers(0, 255), st.booleans())
def test_mutated_certificates(pos: int, value: int, cut: bool) -> None:
    der = bytearray(LEAF_DER)
    der[pos] = value
    data = bytes(der[:pos]) if cut else bytes(der)
    try:
        info = parse_certificate(data)
    except ParseError:
        return
    assert len(info.sha256) == 64
