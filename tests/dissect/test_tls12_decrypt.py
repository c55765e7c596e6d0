"""TLS 1.2 decryption from key logs: PRF known answers, AEAD records, the pcapng secrets case."""

from __future__ import annotations

import contextlib
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

import inspector
from inspector.dissect.keylog import KeyLog, parse_keylog
from inspector.dissect.tls12_decrypt import decrypt_stream, key_block, prf
from inspector.errors import ParseError
from tests.conftest import real_dir

# The TLS 1.2 PRF test vectors circulated on the IETF TLS WG list (msg03416), used by BearSSL,
# Bouncy Castle and others.
PRF_SHA256 = (
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14"
    "baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e"
    "5a5110fff70187347b66"
)
PRF_SHA384_PREFIX = "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"


def test_prf_sha256_known_answer() -> None:
    out = prf(
        bytes.fromhex("9bbe436ba940f017b17652849a71db35"),
        b"test label",
        bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c"),
        100,
        "sha256",
    )
    assert out.hex() == PRF_SHA256


def test_prf_sha384_known_answer() -> None:
    out = prf(
        bytes.fromhex("b80b733d6ceefcdc71566ea48e5567df"),
        b"test label",
        bytes.fromhex("cd665cf6a8447dd6ff8b27555edb7465"),
        148,
        "sha384",
    )
    assert out.hex().startswith(PRF_SHA384_PREFIX)


def test_keylog_parsing() -> None:
    cr, ms = "ab" * 32, "cd" * 48
    text = f"# comment\nCLIENT_RANDOM {cr} {ms}\nCLIENT_TRAFFIC_SECRET_0 {cr} {'ee' * 32}\nbad\n"
    secrets, other = parse_keylog(text)
    assert secrets == {bytes.fromhex(cr): bytes.fromhex(ms)} and other == 1
    log = KeyLog()
    grows: list[str] = []
    log.follow(grows)
    assert log.master_secret(bytes.fromhex(cr)) is None
    grows.append(text)
    assert log.master_secret(bytes.fromhex(cr)) == bytes.fromhex(ms)


def _records(key: bytes, salt: bytes, payloads: list[bytes]) -> bytes:
    """ChangeCipherSpec, then AES-GCM records with explicit nonces, sequence numbers from 0."""
    out = b"\x14\x03\x03\x00\x01\x01"
    for seq, (ctype, plain) in enumerate(
        [(22, b"\x14\x00\x00\x0c" + b"f" * 12)] + [(23, p) for p in payloads]
    ):
        explicit = seq.to_bytes(8, "big")
        aad = seq.to_bytes(8, "big") + bytes([ctype]) + b"\x03\x03" + struct.pack("!H", len(plain))
        body = explicit + AESGCM(key).encrypt(salt + explicit, plain, aad)
        out += bytes([ctype]) + b"\x03\x03" + struct.pack("!H", len(body)) + body
    return out


def test_gcm_records_decrypt_and_tampering_is_detected() -> None:
    keys = key_block(b"m" * 48, b"c" * 32, b"s" * 32, 0xC02F)
    stream = _records(keys.client_key, keys.client_iv, [b"GET / HTTP/1.1\r\n", b"Host: x\r\n\r\n"])
    recs = decrypt_stream(stream, keys.client_key, keys.client_iv, "gcm")
    assert [r.content_type for r in recs] == [22, 23, 23]
    assert b"".join(r.plaintext for r in recs[1:]) == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    tampered = bytearray(stream)
    tampered[-1] ^= 1
    with pytest.raises(ParseError):
        decrypt_stream(bytes(tampered), keys.client_key, keys.client_iv, "gcm")


def test_unsupported_suite_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        key_block(b"m" * 48, b"c" * 32, b"s" * 32, 0x002F)  # AES-CBC: not decrypted


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_records_or_parse_error(data: bytes) -> None:
    keys = key_block(b"m" * 48, b"c" * 32, b"s" * 32, 0xCCA9)
    with contextlib.suppress(ParseError):
        decrypt_stream(data, keys.client_key, keys.client_iv, keys.algorithm)


def test_pcapng_embedded_secrets_reveal_http_hosts_as_tshark_does() -> None:
    r = inspector.analyze(real_dir() / "wireshark/captures/tls12-dsb.pcapng")
    http = r.tables["http"]
    assert set(http.host) == {"example.com", "example.net"}
    assert http.inside_tls.all()
    assert set(r.flows.encryption_verdict) == {"TRANSPORT_TLS"}  # decrypting is not cleartext
    assert r.findings.finding.ne("plaintext_http").all()


def test_without_keys_nothing_is_decrypted() -> None:
    r = inspector.analyze(real_dir() / "ndpi/pcap/443-curl.pcap")
    assert not r.tables["http"].inside_tls.any()
