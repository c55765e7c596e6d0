"""QUIC 1-RTT packet protection with logged secrets: RFC 9001 appendix A.5 (ChaCha20-Poly1305
short header packet and key update), AES suites round trip, and STREAM frame parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.quic_1rtt import (
    decrypt_short_packet,
    header_mask,
    next_keys,
    one_rtt_keys,
    parse_stream_frames,
)
from inspector.dissect.tls13 import SUITES
from inspector.errors import ParseError

# RFC 9001 appendix A.5
A5_SECRET = bytes.fromhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")
A5_PACKET = bytes.fromhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb")


def test_rfc9001_a5_keys() -> None:
    keys = one_rtt_keys(A5_SECRET, 0x1303, 1)
    assert keys.key.hex() == "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8"
    assert keys.iv.hex() == "e0459b3474bdd0e44a41c144"
    assert keys.hp.hex() == "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4"
    assert next_keys(keys).secret.hex() == (
        "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9"
    )


def test_rfc9001_a5_header_mask_and_packet() -> None:
    keys = one_rtt_keys(A5_SECRET, 0x1303, 1)
    assert header_mask(keys, A5_PACKET[5:21]).hex() == "aefefe7d03"
    phase, pn, payload = decrypt_short_packet(A5_PACKET, 0, 0, keys, 654360563)
    assert (phase, pn, payload) == (0, 654360564, b"\x01")


def _seal(keys, pn: int, dcid: bytes, payload: bytes, phase: int = 0) -> bytes:  # type: ignore[no-untyped-def]
    first = 0x40 | (phase << 2) | 0x01  # 2-byte packet number
    pn_bytes = (pn & 0xFFFF).to_bytes(2, "big")
    header = bytes([first]) + dcid + pn_bytes
    nonce = bytes(a ^ b for a, b in zip(keys.iv, pn.to_bytes(12, "big"), strict=True))
    sealed = SUITES[keys.suite].aead(keys.key).encrypt(nonce, payload, header)
    pn_at = 1 + len(dcid)
    mask = header_mask(keys, sealed[2:18])
    out = bytearray(header + sealed)
    out[0] ^= mask[0] & 0x1F
    for i in range(2):
        out[pn_at + i] ^= mask[1 + i]
    return bytes(out)


@pytest.mark.parametrize("suite", [0x1301, 0x1302, 0x1303])
@pytest.mark.parametrize("version", [0x00000001, 0x6B3343CF])
def test_round_trip_every_quic_suite_and_version(suite: int, version: int) -> None:
    secret = bytes(range(48 if suite == 0x1302 else 32))
    keys = one_rtt_keys(secret, suite, version)
    stream = b"\x0b\x00\x05hello"  # STREAM, stream 0, with length, FIN
    packet = _seal(keys, 7, b"\xaa" * 8, stream + b"\x00" * 20)
    _, pn, payload = decrypt_short_packet(packet, 0, 8, keys, 5)
    assert pn == 7 and parse_stream_frames(payload) == [(0, 0, b"hello", True)]
    with pytest.raises(ParseError):
        decrypt_short_packet(packet, 0, 8, next_keys(keys), 5)


def test_stream_frames_among_others() -> None:
    payload = (
        b"\x02\x05\x00\x00\x00"  # ACK largest 5, no ranges
        + b"\x0e\x04\x10\x03abc"  # STREAM id 4 offset 16 length 3
        + b"\x18\x01\x00\x04\xde\xad\xbe\xef"
        + b"t" * 16  # NEW_CONNECTION_ID
        + b"\x09\x08tail"  # STREAM id 8, no offset, no length, FIN: rest of packet
    )
    assert parse_stream_frames(payload) == [(4, 16, b"abc", False), (8, 0, b"tail", True)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_frame_parser_only_raises_parse_error(payload: bytes) -> None:
    try:
        frames = parse_stream_frames(payload)
    except ParseError:
        return
    assert all(len(f[2]) <= len(payload) for f in frames)


def test_zero_rtt_long_header_packet() -> None:
    from inspector.dissect.quic_1rtt import decrypt_zero_rtt
    from inspector.dissect.quic_packet import PacketType, split_datagram

    keys = one_rtt_keys(bytes(range(32)), 0x1301, 1)
    payload = b"\x0b\x00\x05early" + b"\x00" * 20
    dcid, scid, pn = b"\x11" * 8, b"\x22" * 4, 3
    sealed_len = 2 + len(payload) + 16
    first = 0xC0 | (1 << 4) | 0x01  # long header, 0-RTT, 2-byte packet number
    prefix = bytes([first]) + (1).to_bytes(4, "big") + bytes([8]) + dcid + bytes([4]) + scid
    prefix += (0x4000 | sealed_len).to_bytes(2, "big")
    header = prefix + pn.to_bytes(2, "big")
    nonce = bytes(a ^ b for a, b in zip(keys.iv, pn.to_bytes(12, "big"), strict=True))
    sealed = SUITES[0x1301].aead(keys.key).encrypt(nonce, payload, header)
    packet = bytearray(header + sealed)
    pn_at = len(prefix)
    mask = header_mask(keys, bytes(packet[pn_at + 4 : pn_at + 20]))
    packet[0] ^= mask[0] & 0x0F
    packet[pn_at] ^= mask[1]
    packet[pn_at + 1] ^= mask[2]
    (hdr,) = split_datagram(bytes(packet))
    assert hdr.packet_type == PacketType.ZERO_RTT
    got_pn, plain = decrypt_zero_rtt(hdr, bytes(packet), keys, -1)
    assert got_pn == 3 and parse_stream_frames(plain) == [(0, 0, b"early", True)]


def test_connection_follows_a_key_update() -> None:
    from inspector.dissect.keylog import KeyLog
    from inspector.dissect.quic_1rtt import decrypt_connection
    from inspector.flows.view import Datagram

    random = bytes(range(32))
    c_secret, s_secret = bytes(range(1, 33)), bytes(range(2, 34))
    keylog = KeyLog(
        [
            f"CLIENT_TRAFFIC_SECRET_0 {random.hex()} {c_secret.hex()}\n"
            f"SERVER_TRAFFIC_SECRET_0 {random.hex()} {s_secret.hex()}\n"
        ]
    )
    keys = one_rtt_keys(c_secret, 0x1301, 1)
    dcid = b"\x55" * 8
    p1 = _seal(keys, 1, dcid, b"\x0a\x00\x03abc" + b"\x00" * 20)  # STREAM 0, length 3
    p2 = _seal(next_keys(keys), 2, dcid, b"\x0f\x00\x03\x03def" + b"\x00" * 20, phase=1)
    datagrams = [Datagram(1, 1.0, True, p1), Datagram(2, 2.0, True, p2)]
    dec = decrypt_connection(datagrams, True, random, 0x1301, 1, 4, 8, keylog)
    assert dec is not None and dec.failed == 0
    assert [(c.offset, c.data, c.fin, c.frame) for c in dec.client] == [
        (0, b"abc", False, 1),
        (3, b"def", True, 2),
    ]
