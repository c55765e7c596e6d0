"""Google QUIC: public header, gQUIC frames and the CHLO tag map."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.gquic import (
    chlo_length,
    gquic_minor,
    is_public_header,
    parse_chlo,
    parse_gquic_frames,
    parse_public_header,
)
from inspector.errors import ParseError
from tests.dissect.quic_build import chlo, gquic_public_packet, gquic_stream_frame, varint

Q043 = int.from_bytes(b"Q043", "big")
Q025 = int.from_bytes(b"Q025", "big")
Q050 = int.from_bytes(b"Q050", "big")
CID = bytes.fromhex("b2de5df14f5545eb")
HELLO = chlo(
    {b"SNI": b"www.example.org", b"UAID": b"Chrome/120 Linux", b"VER": b"Q043", b"PAD": bytes(40)}
)


def test_chlo_round_trip() -> None:
    tags = parse_chlo(HELLO)
    assert tags["SNI"] == b"www.example.org" and tags["UAID"] == b"Chrome/120 Linux"
    assert tags["PAD"] == bytes(40)
    assert chlo_length(HELLO) == len(HELLO)
    assert chlo_length(HELLO[:7]) is None and chlo_length(HELLO[:20]) is None
    assert chlo_length(HELLO + b"trailing") == len(HELLO)


def test_chlo_errors() -> None:
    with pytest.raises(ParseError):
        parse_chlo(b"SHLO" + HELLO[4:])
    bad = bytearray(HELLO)
    bad[12:16] = (10_000).to_bytes(4, "little")  # first tag ends past the message
    with pytest.raises(ParseError):
        parse_chlo(bytes(bad))


def test_public_header_q043() -> None:
    packet = gquic_public_packet(b"Q043", CID, gquic_stream_frame(HELLO) + bytes(100))
    assert is_public_header(packet)
    hdr = parse_public_header(packet)
    assert hdr.version == Q043 and hdr.cid == CID and hdr.pn_len == 1
    assert hdr.payload_offset == 1 + 8 + 4 + 1 + 12
    (frag,) = parse_gquic_frames(packet[hdr.payload_offset :], hdr.version, hdr.pn_len)
    assert frag.offset == 0 and frag.data == HELLO


def test_public_header_q025_little_endian_private_flags_and_0x0c_cid_bits() -> None:
    """Old versions: 0x0C marks the 8-byte CID, lengths are little-endian, a private flags byte."""
    frame = gquic_stream_frame(HELLO, offset=1024, big_endian=False)
    packet = gquic_public_packet(b"Q025", CID, frame, flags=0x0D)
    hdr = parse_public_header(packet)
    assert hdr.version == Q025 and hdr.payload_offset == 27
    (frag,) = parse_gquic_frames(packet[hdr.payload_offset :], Q025, 1)
    assert frag.offset == 1024 and frag.data == HELLO


def test_public_header_without_version_is_rejected() -> None:
    assert not is_public_header(b"\x08" + CID + b"\x01" + bytes(20))
    with pytest.raises(ParseError):
        parse_public_header(b"\x08" + CID + b"Q043\x01" + bytes(12))
    with pytest.raises(ParseError):
        parse_public_header(b"\x09" + CID + b"XYZW\x01" + bytes(12))


def test_frames_skip_ack_ping_stop_waiting_and_other_streams() -> None:
    ack = bytes([0x40, 0x05, 0x00, 0x00, 0x05, 0x00])  # largest 5, delay, first block, 0 stamps
    other_stream = bytes([0xA0, 3]) + (3).to_bytes(2, "big") + b"abc"
    payload = ack + b"\x07" + b"\x06\x01" + other_stream + gquic_stream_frame(b"xyz") + b"\x00" * 9
    (frag,) = parse_gquic_frames(payload, Q043, 1)
    assert frag.data == b"xyz"
    assert parse_gquic_frames(b"\x1fstop", Q043, 1) == ()


def test_q050_crypto_frames() -> None:
    payload = b"\x00\x00" + b"\x08" + varint(0) + varint(len(HELLO)) + HELLO + bytes(30)
    (frag,) = parse_gquic_frames(payload, Q050, 4)
    assert frag.data == HELLO
    assert gquic_minor(Q050) == 50 and gquic_minor(1) == 0


def test_truncated_stream_frame_is_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_gquic_frames(bytes([0xA0, 1, 0x05, 0x00]) + b"abc", Q043, 1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_public_header_any_bytes(data: bytes) -> None:
    try:
        hdr = parse_public_header(data)
    except ParseError:
        return
    assert hdr.payload_offset <= len(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([Q025, Q043, Q050]), st.integers(1, 6))
def test_gquic_frames_any_bytes(data: bytes, version: int, pn_len: int) -> None:
    with contextlib.suppress(ParseError):
        parse_gquic_frames(data, version, pn_len)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_chlo_any_bytes(data: bytes) -> None:
    for msg in (data, b"CHLO" + data):
        with contextlib.suppress(ParseError):
            parse_chlo(msg)
        chlo_length(msg)


def test_midstream_packets_need_a_repeated_connection_id() -> None:
    from inspector.dissect.gquic import midstream_packets

    # ndpi/pcap/viber.pcap UDP 41993 -> 443 (tshark -e udp.payload): two client packets with
    # public flags 0x0c and CID ee4fa0e1dac89344, then the server's flags-0x00 packet.
    c1 = bytes.fromhex("0cee4fa0e1dac893440f5d0c274a53bec20e250ee6b8e2")
    c2 = bytes.fromhex("0cee4fa0e1dac89344103228a4b175a1af14ca48409dff")
    s1 = bytes.fromhex("000e72fd505e0a582c3b209394a294734f59d675e312")
    assert midstream_packets([(True, c1), (True, c2), (False, s1)]) == {0, 1, 2}
    assert midstream_packets([(True, c1), (False, s1)]) == set()  # one packet proves nothing
    assert midstream_packets([(True, c1), (False, c2)]) == set()  # not the same side
    with_version = bytes([0x0D]) + c1[1:]
    assert midstream_packets([(True, with_version), (True, with_version)]) == set()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=30)), max_size=8))
def test_midstream_packets_any_bytes(grams: list[tuple[bool, bytes]]) -> None:
    from inspector.dissect.gquic import midstream_packets

    assert midstream_packets(grams) <= set(range(len(grams)))
