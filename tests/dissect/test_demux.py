"""RFC 7983 / RFC 9443 first-byte classification and relay unwrapping."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import demux
from inspector.dissect.demux import classify, rtcp_plausible, rtp_plausible, unwrap, unwrap_at
from inspector.errors import ParseError

COOKIE = b"\x21\x12\xa4\x42"
RTP = bytes([0x80, 0x6F]) + struct.pack("!HII", 7, 960, 0x11223344) + b"payload!"
PREFIXES = [b"\x40\x00", b"\xff\x10", b"\x00\x16", b"\x00\x17"]
RTCP_RR = bytes([0x81, 201]) + struct.pack("!HI", 7, 0x11223344) + b"\0" * 24


def stun(msg_type: int, attrs: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4) for t, v in attrs)
    return struct.pack("!HH", msg_type, len(body)) + COOKIE + bytes(12) + body


def test_classify_rfc7983_ranges() -> None:
    assert classify(b"") == demux.OTHER
    assert classify(stun(0x0001, [])) == demux.STUN
    assert classify(b"\x05" + bytes(20)) == demux.OTHER  # 4-15 unassigned
    assert classify(b"\x10\x00\x00\x01ZRTP" + bytes(8)) == demux.ZRTP
    assert classify(b"\x16\xfe\xfd" + bytes(20)) == demux.DTLS
    assert classify(b"\x2f" + bytes(20)) == demux.DTLS  # DTLS 1.3 unified header range
    assert classify(b"\x40\x01\x00\x04abcd") == demux.TURN_CHANNEL
    assert classify(b"\x40\x01\x00\x40abcd") == demux.QUIC  # length does not fit: QUIC short
    assert classify(b"\x5a" + bytes(20)) == demux.QUIC
    assert classify(RTP) == demux.RTP
    assert classify(RTCP_RR) == demux.RTCP
    assert classify(b"\xc3\x00\x00\x00\x01" + bytes(20)) == demux.QUIC
    ms = b"\xff\x10" + struct.pack("!H", 8 + len(RTP)) + bytes(8) + RTP
    assert classify(ms) == demux.MS_TURN
    assert classify(b"\xff\x10\x00\x01" + bytes(20)) == demux.QUIC


def test_channel_data_padding() -> None:
    # RFC 8656 section 12.5: over TCP the message is padded to a multiple of 4.
    assert demux.is_channel_data(b"\x40\x00\x00\x05hello\0\0\0")
    assert demux.is_channel_data(b"\x40\x00\x00\x05hello")
    assert not demux.is_channel_data(b"\x40\x00\x00\x05hello\0\0\0\0")
    assert not demux.is_channel_data(b"\x50\x00\x00\x05hello")  # 0x5000 is not a channel
    assert unwrap(b"\x4f\xff\x00\x05hello\0\0\0") == ("turn_channel", b"hello")
    assert unwrap_at(b"\x4f\xff\x00\x05hello\0\0\0") == ("turn_channel", 4, 9)


def test_unwrap_ms_turn() -> None:
    ms = b"\xff\x10" + struct.pack("!H", 8 + len(RTP)) + bytes(8) + RTP
    assert unwrap(ms) == ("ms_turn", RTP)
    for bad, name in ((b"\xff\x10\x00", "ms_turn_short"), (ms + b"x", "ms_turn_length")):
        try:
            unwrap(bad)
        except ParseError as err:
            assert err.name == name
        else:
            raise AssertionError(name)


def test_unwrap_send_and_data_indications() -> None:
    peer = b"\x00\x01" + struct.pack("!H", 1234 ^ 0x2112) + bytes(4)
    send = stun(0x0016, [(0x0012, peer), (0x0013, RTP)])
    assert unwrap(send) == ("stun_data", RTP)
    framing, start, end = unwrap_at(send)
    assert framing == "stun_data" and send[start:end] == RTP
    data = stun(0x0017, [(0x0013, RTCP_RR), (0x8028, b"\0\0\0\0")])
    assert unwrap(data) == ("stun_data", RTCP_RR)
    # A Binding request is not a relay framing, nor is a broken Send indication.
    assert unwrap(stun(0x0001, [])) == ("plain", stun(0x0001, []))
    broken = b"\x00\x16\x00\x30" + COOKIE + bytes(12)
    assert unwrap(broken) == ("plain", broken)


def test_unwrap_plain_passthrough() -> None:
    assert unwrap(RTP) == ("plain", RTP)
    assert unwrap(b"") == ("plain", b"")
    assert unwrap(b"\x40\x00\x00\x40short") == ("plain", b"\x40\x00\x00\x40short")


def test_rtp_and_rtcp_plausibility() -> None:
    assert rtp_plausible(RTP)
    assert not rtp_plausible(b"\x40" + RTP[1:])  # V=1
    assert not rtp_plausible(bytes([0x80, 50]) + RTP[2:])  # PT 50 unassigned
    assert rtp_plausible(bytes([0x80, 0x80 | 96]) + RTP[2:])  # marker + PT 96
    assert not rtp_plausible(bytes([0x83]) + RTP[1:])  # 3 CSRCs do not fit
    ext = bytes([0x90]) + RTP[1:12] + b"\xbe\xde\x00\x02" + bytes(8)
    assert rtp_plausible(ext) and not rtp_plausible(ext[:-1])
    assert rtp_plausible(b"xx" + RTP, 2)
    assert rtcp_plausible(RTCP_RR)
    assert not rtcp_plausible(RTCP_RR[:-1])  # length says 32 bytes
    assert not rtcp_plausible(bytes([0x81, 214]) + RTCP_RR[2:])  # nDPI accepts 192-213


def test_zrtp_magic() -> None:
    assert demux.is_zrtp(b"\x10\x00\x00\x01ZRTP" + bytes(8))
    assert not demux.is_zrtp(b"\x10\x00\x00\x01ZRTQ" + bytes(8))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_classify_and_unwrap_any_bytes(data: bytes) -> None:
    assert classify(data) in {
        demux.STUN, demux.DTLS, demux.TURN_CHANNEL, demux.RTP, demux.RTCP, demux.QUIC,
        demux.ZRTP, demux.MS_TURN, demux.OTHER,
    }  # fmt: skip
    rtp_plausible(data)
    rtcp_plausible(data, 1)
    with contextlib.suppress(ParseError):
        framing, start, end = unwrap_at(data)
        assert 0 <= start <= end <= len(data)
        assert unwrap(data)[0] == framing


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([b"\x40\x00", b"\xff\x10", b"\x00\x16", b"\x00\x17"]), st.binary(max_size=80)
)
def test_unwrap_framing_prefixes(prefix: bytes, rest: bytes) -> None:
    with contextlib.suppress(ParseError):
        unwrap(prefix + rest)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300), st.integers(1, 40))
def test_tcp_relayed_any_stream_whole_and_segmented(orig: bytes, resp: bytes, seg: int) -> None:
    from inspector.flows.view import FlowView, Stream

    def stream(data: bytes, size: int) -> Stream:
        return Stream(data, tuple((o, 1 + o, 1.0) for o in range(0, len(data), size)))

    def payloads(size: int) -> list[tuple[bytes, str, bool]]:
        o, r = stream(COOKIE_ALLOC + orig, size), stream(resp, size)
        view = FlowView("C1", "tcp", "10.0.0.1", 1, "10.0.0.2", 3478, 0.0, orig=o, resp=r)
        return [(d.payload, f, d.from_orig) for d, f in demux.tcp_relayed(view)]

    assert payloads(len(orig) + 20 or 1) == payloads(seg)


COOKIE_ALLOC = struct.pack("!HH", 0x0003, 0) + COOKIE + bytes(12)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_rfc4571_media_yields_only_whole_version_2_packets(data: bytes) -> None:
    from inspector.flows.view import FlowView, Stream

    v = FlowView("C1", "tcp", "a", 1, "b", 2, 1.0, (), Stream(data, ()), Stream(data[3:], ()))
    found = list(demux.rfc4571_media(v))
    assert all(0x80 <= d.payload[0] <= 0xBF and len(d.payload) >= 12 for d, _f in found)
    assert {f for _d, f in found} <= {"rfc4571"}
