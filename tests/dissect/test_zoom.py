"""Zoom framing: outer SFU header, inner media header per type, 2020 layout, P2P hello."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import rtp, zoom
from inspector.dissect.zoom import is_hello, is_p2p_hello, locate_rtp, parse_media, parse_sfu
from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView
from inspector.schema.rtp import RtpRow


def rtp_packet(pt: int, seq: int, ts: int, ssrc: int, payload: bytes = b"\xaa" * 40) -> bytes:
    """RTP with a one-byte header extension (element ID 1, 3 bytes), as Zoom sends."""
    ext = b"\xbe\xde\x00\x01" + b"\x12\x50\x00\x00"
    return struct.pack("!BBHII", 0x90, pt, seq, ts, ssrc) + ext + payload


def inner(media_type: int, size: int, fields: dict[int, bytes] | None = None) -> bytes:
    """An inner media header of ``size`` bytes, type byte first, ``fields`` at their offsets."""
    buf = bytearray(bytes([media_type]) + b"\x01\x00\xfb\x90" + bytes(size))[:size]
    for at, value in (fields or {}).items():
        buf[at : at + len(value)] = value
    return bytes(buf)


def sfu(seq: int, to_zoom: bool = False) -> bytes:
    return (
        b"\x05" + struct.pack("!H", seq) + b"\x00\x00\x00\x00" + (b"\x00" if to_zoom else b"\x04")
    )


SEQ_TS = {9: struct.pack("!H", 300), 11: struct.pack("!I", 123456)}
AUDIO = inner(0x0F, 19, SEQ_TS)
VIDEO = inner(0x10, 24, {**SEQ_TS, 20: b"\x02", 21: struct.pack("!H", 77), 23: b"\x0d"})
VIDEO_SHORT = inner(0x10, 20, SEQ_TS)
SCREEN_SERVER = inner(0x0D, 27, {7: b"\x1e", 16: struct.pack("!H", 41), 18: struct.pack("!I", 9)})
SCREEN_P2P = inner(0x1E, 20, SEQ_TS)
RTCP_SR = bytes([0x80, 200]) + struct.pack("!HI", 6, 0x01000402) + bytes(20)


def test_parse_sfu() -> None:
    h = parse_sfu(sfu(0x1234, to_zoom=True) + AUDIO)
    assert (h.sfu_type, h.seq, h.direction, h.to_zoom) == (5, 0x1234, 0, True)
    assert parse_sfu(sfu(1) + AUDIO).to_zoom is False
    assert parse_sfu(b"\x05\x00\x01\x00\x00\x00\x00\x09").to_zoom is None
    try:
        parse_sfu(b"\x05\x00")
    except ParseError as err:
        assert err.name == "zoom_short"
    else:
        raise AssertionError("short SFU header accepted")


def test_parse_media_fields_per_type() -> None:
    a = parse_media(sfu(1) + AUDIO + rtp_packet(99, 1, 2, 3), 8)
    assert (a.media_type, a.media_kind, a.seq, a.ts, a.rtp_offset) == (
        0x0F,
        "audio",
        300,
        123456,
        27,
    )
    v = parse_media(sfu(1) + VIDEO + rtp_packet(98, 1, 2, 3), 8)
    assert (v.media_kind, v.frame_number, v.frame_packets, v.rtp_offset) == ("video", 77, 13, 32)
    vs = parse_media(sfu(1) + VIDEO_SHORT + rtp_packet(98, 1, 2, 3), 8)
    assert vs.rtp_offset == 28 and vs.frame_number is None
    s = parse_media(sfu(1) + SCREEN_SERVER + rtp_packet(99, 1, 2, 3), 8)
    assert (s.media_kind, s.seq, s.ts, s.rtp_offset) == ("screen_share", 41, 9, 35)
    p = parse_media(SCREEN_P2P + rtp_packet(99, 1, 2, 3), 0)
    assert (p.media_kind, p.rtp_offset) == ("screen_share", 20)
    r = parse_media(inner(0x22, 16) + RTCP_SR, 0)
    assert (r.media_kind, r.is_rtcp, r.rtp_offset) == ("rtcp", True, 16)
    probe = parse_media(b"\x05" + inner(0x15, 20, {13: b"\x00\x07"}), 1)
    assert (probe.media_kind, probe.seq, probe.rtp_offset) == ("", 7, None)
    assert parse_media(b"\x0d" + bytes(30), 0).rtp_offset is None  # subtype is not 0x1E


def test_locate_rtp_server_framing() -> None:
    cases = [
        (AUDIO, "audio", 27),
        (VIDEO, "video", 32),
        (VIDEO_SHORT, "video", 28),
        (SCREEN_SERVER, "screen_share", 35),
        (SCREEN_P2P, "screen_share", 28),
    ]
    for head, kind, offset in cases:
        datagram = sfu(5) + head + rtp_packet(98, 10, 20, 30)
        assert locate_rtp(datagram) == ("zoom_server", kind, offset), kind
    assert locate_rtp(sfu(5, True) + inner(0x21, 16) + RTCP_SR) == ("zoom_server", "rtcp", 24)


def test_locate_rtp_p2p_framing() -> None:
    assert locate_rtp(AUDIO + rtp_packet(99, 1, 2, 3)) == ("zoom_p2p", "audio", 19)
    assert locate_rtp(VIDEO + rtp_packet(98, 1, 2, 3)) == ("zoom_p2p", "video", 24)
    assert locate_rtp(SCREEN_P2P + rtp_packet(99, 1, 2, 3)) == ("zoom_p2p", "screen_share", 20)
    assert locate_rtp(inner(0x23, 16) + RTCP_SR) == ("zoom_p2p", "rtcp", 16)


def test_locate_rtp_2020_layout() -> None:
    # Citizen Lab era magics "05 0f 01 00" / "05 10 01 00": RTP after 20 / 21 bytes (marty90
    # zoom_pcap_cleaner), i.e. the inner header at offset 1.
    audio = b"\x05" + AUDIO + rtp_packet(99, 1, 2, 3)
    assert audio[:4] == b"\x05\x0f\x01\x00"
    assert locate_rtp(audio) == ("zoom_server_2020", "audio", 20)
    video = b"\x05" + VIDEO_SHORT + rtp_packet(98, 1, 2, 3)
    assert locate_rtp(video) == ("zoom_server_2020", "video", 21)
    # ndpi zoom.pcap frame 689 (2019): "05 22 01 00 ..." with the RTCP SR at 17.
    assert locate_rtp(b"\x05" + inner(0x22, 16) + RTCP_SR) == ("zoom_server_2020", "rtcp", 17)


def test_locate_rtp_rejects_offsets_without_rtp() -> None:
    assert locate_rtp(sfu(1) + AUDIO + b"\x00" * 40) is None
    assert locate_rtp(AUDIO + bytes([0x80, 50]) + bytes(40)) is None  # PT 50
    assert locate_rtp(inner(0x21, 16) + bytes([0x80, 200, 0, 50]) + bytes(8)) is None  # too long
    assert locate_rtp(b"\x15" + bytes(60)) is None
    assert locate_rtp(b"\x05" + bytes(5)) is None


def p2p_hello(ip: bytes = b"192.168.1.226", uuid: bytes = b"AF065D88-AA9B-4A81-0000") -> bytes:
    head = b"\x1f\x02\x01" + bytes(21)
    return head + struct.pack("!I", len(ip)) + ip + struct.pack("!I", len(uuid)) + uuid + bytes(4)


def test_hellos() -> None:
    assert is_p2p_hello(p2p_hello())
    assert not is_p2p_hello(p2p_hello() + b"\0")  # total length must match
    assert not is_p2p_hello(p2p_hello()[:-1] + b"\1")
    assert is_hello(p2p_hello())
    assert is_hello(b"\x01\x00\x03" + bytes(60)) and is_hello(b"\x02\x00\x02" + bytes(40))
    assert not is_hello(b"\x01\x00\x04" + bytes(60)) and not is_hello(b"\x01\x00\x03")


def view(*payloads: tuple[bool, bytes]) -> FlowView:
    dgs = tuple(Datagram(i + 1, 50.0 + i / 50, o, p) for i, (o, p) in enumerate(payloads))
    return FlowView("Czoom", "udp", "10.0.0.5", 55189, "144.195.52.3", 8801, 50.0, dgs)


def test_dissect_zoom_server_flow_gives_every_media_kind() -> None:
    media = [
        (False, sfu(1) + AUDIO + rtp_packet(99, 100, 960, 0x01000802)),
        (False, sfu(2) + VIDEO + rtp_packet(98, 200, 3000, 0x01000801)),
        (False, sfu(3) + SCREEN_SERVER + rtp_packet(99, 300, 9000, 0x01000803)),
        (True, sfu(4, True) + inner(0x22, 16) + RTCP_SR),
    ]
    rows = rtp.dissect(view((True, b"\x01\x00\x03" + bytes(80)), *media))
    assert all(isinstance(r, RtpRow) for r in rows)
    got = {
        (r.zoom_media, r.kind, r.ssrc, r.framing, r.frame) for r in rows if isinstance(r, RtpRow)
    }
    assert got == {
        ("audio", "rtp", "01000802", "zoom_server", 2),
        ("video", "rtp", "01000801", "zoom_server", 3),
        ("screen_share", "rtp", "01000803", "zoom_server", 4),
        ("rtcp", "rtcp", "01000402", "zoom_server", 5),
    }
    audio = next(r for r in rows if r.zoom_media == "audio")
    assert audio.header_ext_profiles == "0xbede" and audio.header_ext_ids == "1"


def test_dissect_single_zoom_packets_need_a_confirmed_flow() -> None:
    lone = (False, sfu(1) + AUDIO + rtp_packet(99, 100, 960, 0x01000802))
    assert rtp.dissect(view(lone)) == []
    stream = [(False, SCREEN_P2P + rtp_packet(99, 7 + i, 3000 * i, 0x01000403)) for i in range(3)]
    rows = rtp.dissect(view(*stream, (False, AUDIO + rtp_packet(99, 5, 960, 0x01000402))))
    kinds = sorted((r.zoom_media, r.packets, r.framing) for r in rows if isinstance(r, RtpRow))
    assert kinds == [("audio", 1, "zoom_p2p"), ("screen_share", 3, "zoom_p2p")]


def test_zoom_fec_payload_type_is_its_own_stream() -> None:
    # zoom.cc: PT 110 is FEC on the media SSRC with its own sequence numbers.
    pkts = []
    for i in range(4):
        pkts.append((False, VIDEO + rtp_packet(98, 1000 + i, 3000 * i, 0x01000401)))
        pkts.append((False, VIDEO + rtp_packet(110, 50 + i, 3000 * i, 0x01000401)))
    rows = [r for r in rtp.dissect(view(*pkts)) if isinstance(r, RtpRow)]
    assert sorted((r.payload_types, r.seq_gaps, r.packets) for r in rows) == [
        ("110", 0, 4),
        ("98", 0, 4),
    ]


def test_media_kind_names() -> None:
    assert zoom.media_kind(0x0F) == "audio" and zoom.media_kind(0x1E) == "screen_share"
    assert zoom.media_kind(0x23) == "rtcp" and zoom.media_kind(0x15) == ""


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.integers(0, 90))
def test_parsers_any_bytes(data: bytes, offset: int) -> None:
    with contextlib.suppress(ParseError):
        parse_sfu(data)
    with contextlib.suppress(ParseError):
        parse_media(data, offset)
    found = locate_rtp(data)
    assert found is None or 0 < found[2] < len(data)
    is_hello(data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0x05, 0x0F, 0x10, 0x0D, 0x1E, 0x21, 0x01, 0x1F]), st.binary(max_size=80))
def test_parsers_zoom_like_bytes(first: int, rest: bytes) -> None:
    data = bytes([first]) + rest
    found = locate_rtp(data)
    if found is not None:
        assert found[0] in ("zoom_server", "zoom_server_2020", "zoom_p2p")
    is_hello(data)
