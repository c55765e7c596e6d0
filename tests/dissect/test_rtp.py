"""RTP/RTCP headers (RFC 3550), header extensions (RFC 8285, RFC 9335), SRTCP, stream rows."""

from __future__ import annotations

import contextlib
import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import rtp
from inspector.dissect.rtp import dissect, infer_srtcp, locate, parse_rtcp, parse_rtp
from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView, Stream
from inspector.schema.rtp import RtpRow
from inspector.schema.weird import WeirdRow

RNG = random.Random(3550)
SSRC = 0x11223344


def rtp_bytes(seq: int, ts: int, *, pt: int = 111, ssrc: int = SSRC, marker: bool = False,
              csrcs: tuple[int, ...] = (), ext: tuple[int, bytes] | None = None,
              payload: bytes = b"\x78" + b"\x55" * 60, padding: bool = False) -> bytes:  # fmt: skip
    """An RTP packet laid out as in RFC 3550 section 5.1 (``ext`` = (profile, element bytes))."""
    b0 = 0x80 | (0x20 if padding else 0) | (0x10 if ext else 0) | len(csrcs)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext:
        body = ext[1] + b"\0" * (-len(ext[1]) % 4)
        out += struct.pack("!HH", ext[0], len(body) // 4) + body
    return out + payload


def sender_report(ssrc: int = SSRC, sdes: bool = True) -> bytes:
    """RFC 3550 section 6.4.1 SR (no report blocks) followed by an SDES CNAME chunk."""
    sr = struct.pack("!BBHI", 0x80, 200, 6, ssrc) + struct.pack("!IIIII", 0xE1, 0x37, 9, 5, 181)
    if not sdes:
        return sr
    chunk = struct.pack("!I", ssrc) + b"\x01\x05alice\0\0\0\0\0"  # CNAME, end, pad to 4
    return sr + struct.pack("!BBHI", 0x81, 202, 4, ssrc)[:4] + chunk


def view(*payloads: tuple[bool, bytes], t0: float = 10.0, step: float = 0.02) -> FlowView:
    dgs = tuple(Datagram(i + 1, t0 + i * step, o, p) for i, (o, p) in enumerate(payloads))
    return FlowView("Crtp", "udp", "10.0.0.1", 40000, "10.0.0.2", 40002, t0, dgs)


def rows_of(result: list) -> list[RtpRow]:
    assert not [r for r in result if isinstance(r, WeirdRow)]
    return [r for r in result if isinstance(r, RtpRow)]


# --- headers ------------------------------------------------------------------------------------


def test_parse_rtp_fixed_header_and_csrcs() -> None:
    data = rtp_bytes(0xFFFE, 123456, pt=96, marker=True, csrcs=(7, 8), padding=True)
    h = parse_rtp(data)
    assert (h.payload_type, h.seq, h.timestamp, h.ssrc) == (96, 0xFFFE, 123456, SSRC)
    assert h.marker and h.padding and not h.extension
    assert h.csrc_count == 2 and h.csrcs == (7, 8) and h.header_len == 20
    assert parse_rtp(b"xyz" + data, 3).header_len == 20


def test_one_byte_header_extension() -> None:
    # RFC 8285 section 4.2: ID 1 (audio level, 1 byte), a padding byte, ID 3 (3 bytes).
    ext = (0xBEDE, b"\x10\xaa\x00\x32\x01\x02\x03")
    h = parse_rtp(rtp_bytes(1, 2, ext=ext))
    assert h.ext_profile == 0xBEDE and h.header_len == 12 + 4 + 8
    assert h.ext_elements == ((1, b"\xaa"), (3, b"\x01\x02\x03"))
    assert h.ext_ids == (1, 3)
    # ID 15 stops the walk (RFC 8285 section 4.2).
    assert parse_rtp(rtp_bytes(1, 2, ext=(0xBEDE, b"\x10\xaa\xf0\x11\x22"))).ext_ids == (1,)


def test_two_byte_header_extension() -> None:
    # RFC 8285 section 4.3: profile 0x100X, ID byte then length byte, zero length allowed.
    ext = (0x1000, b"\x05\x02ab\x00\x07\x00")
    h = parse_rtp(rtp_bytes(1, 2, ext=ext))
    assert h.ext_elements == ((5, b"ab"), (7, b""))


def test_cryptex_extension_is_opaque() -> None:
    # RFC 9335: 0xC0DE / 0xC2DE mean the elements are encrypted.
    for profile in (0xC0DE, 0xC2DE):
        h = parse_rtp(rtp_bytes(1, 2, ext=(profile, b"\x10\xaa\x00\x32\x01\x02\x03")))
        assert h.ext_profile == profile and h.ext_elements == ()


def test_overrunning_element_ends_the_walk() -> None:
    # Seen in Zoom audio: "50 e4 00 68" -- ID 6 claims 9 bytes past the extension end.
    h = parse_rtp(rtp_bytes(1, 2, ext=(0xBEDE, b"\x50\xe4\x00\x68")))
    assert h.ext_elements == ((5, b"\xe4"),)


def test_rtp_header_errors() -> None:
    good = rtp_bytes(1, 2, ext=(0xBEDE, b"\x10\xaa"))
    cases = [
        (good[:11], "rtp_short"),
        (b"\x40" + good[1:], "rtp_version"),
        (bytes([0x85]) + good[1:14], "rtp_short"),
        (good[:14], "rtp_short"),
        (good[:12] + b"\xbe\xde\x00\x09" + bytes(4), "rtp_ext"),
    ]
    for data, name in cases:
        try:
            parse_rtp(data)
        except ParseError as err:
            assert err.name == name
        else:
            raise AssertionError(name)


def test_parse_rtcp_compound() -> None:
    c = parse_rtcp(sender_report())
    assert [p.packet_type for p in c.packets] == [200, 202] and c.exact
    sr = c.packets[0]
    assert sr.ssrc == SSRC and sr.length == 28
    assert sr.sender_info is not None
    assert (sr.sender_info.ntp_msw, sr.sender_info.packet_count) == (0xE1, 5)
    assert not parse_rtcp(sender_report() + b"\x80\x00\x00\x01" + bytes(10)).exact
    for bad in (b"\x80\xc8\x00", b"\x80\x10" + bytes(10), b"\x80\xc8\x00\x09" + bytes(8)):
        try:
            parse_rtcp(bad)
        except ParseError:
            pass
        else:
            raise AssertionError(bad)


def srtcp(index: int, *, e: bool = True, back: int = 14, ssrc: int = SSRC) -> bytes:
    """SRTCP (RFC 3711 section 3.4): 8 clear header bytes, encrypted rest, E|index, tag."""
    first = struct.pack("!BBHI", 0x81, 201, 7, ssrc)  # RR with one report block (32 bytes)
    word = struct.pack("!I", (0x80000000 if e else 0) | index)
    tag = RNG.randbytes(back - 4)
    if back == 4:  # AEAD (RFC 7714 section 17): the tag is inside, E|index last
        return first + RNG.randbytes(24 + 16) + word
    return first + RNG.randbytes(24) + word + tag


def test_infer_srtcp_offsets_and_e_flag() -> None:
    assert infer_srtcp([srtcp(i, back=14) for i in range(5, 10)]) == ("1", 14)
    assert infer_srtcp([srtcp(i, back=8) for i in range(5, 10)]) == ("1", 8)
    assert infer_srtcp([srtcp(i, back=4) for i in range(5, 10)]) == ("1", 4)
    assert infer_srtcp([srtcp(i, e=False) for i in (1, 2, 4, 5)]) == ("0", 14)
    assert infer_srtcp([srtcp(1)]) == ("", None)  # one packet: no increment to see
    assert infer_srtcp([RNG.randbytes(60) for _ in range(6)]) == ("", None)


# --- locate -------------------------------------------------------------------------------------


def test_locate_framings() -> None:
    packet = rtp_bytes(1, 2)
    assert locate(packet) == ("plain", "", 0, len(packet))
    chan = b"\x40\x02" + struct.pack("!H", len(packet)) + packet + b"\0\0"
    assert locate(chan) == ("turn_channel", "", 4, 4 + len(packet))
    ms = b"\xff\x10" + struct.pack("!H", len(packet) + 8) + bytes(8) + packet
    assert locate(ms) == ("ms_turn", "", 12, len(ms))
    body = struct.pack("!HH", 0x0013, len(packet)) + packet + b"\0" * (-len(packet) % 4)
    send = struct.pack("!HH", 0x0016, len(body)) + b"\x21\x12\xa4\x42" + bytes(12) + body
    assert locate(send) == ("stun_data", "", 24, 24 + len(packet))
    assert locate(b"\x10\x00\x00\x01ZRTP" + bytes(20)) is None
    assert locate(b"\x16\xfe\xfd" + bytes(30)) is None
    assert locate(bytes([0x80, 50]) + bytes(30)) is None  # PT 50 is not RTP


# --- dissect: streams ---------------------------------------------------------------------------


def test_plain_opus_stream_row() -> None:
    pkts = [(True, rtp_bytes(100 + i, 960 * i, ext=(0xBEDE, b"\x10\x30"), marker=i == 0))
            for i in range(30)]  # fmt: skip
    (row,) = rows_of(dissect(view(*pkts)))
    assert (row.kind, row.framing, row.zoom_media, row.ssrc) == ("rtp", "plain", "", "11223344")
    assert (row.frame, row.ts, row.from_orig, row.packets) == (1, 10.0, True, 30)
    assert (row.payload_types, row.seq_gaps, row.seq_reorders, row.marker_count) == ("111", 0, 0, 1)
    assert (row.ts_step, row.clock_guess) == (960, "48000")
    assert (row.header_ext_profiles, row.header_ext_ids, row.csrc_count_max) == ("0xbede", "1", 0)
    assert row.payload_bytes == 30 * 61
    assert row.codec_guess == "opus" and row.codec_match_fraction == 1.0
    assert "TOC 0x78" in row.codec_evidence
    assert row.frames == ";".join(str(i) for i in range(1, 21))
    assert row.ecb_suspected is False and row.srtcp_e_flag == ""


def test_sequence_gaps_and_reordering() -> None:
    seqs = [65530, 65531, 65533, 65532, 65535, 2, 3]  # wraps; 65534, 0 and 1 missing
    pkts = [(True, rtp_bytes(s, 960 * i)) for i, s in enumerate(seqs)]
    (row,) = rows_of(dissect(view(*pkts)))
    assert (row.seq_gaps, row.seq_reorders) == (3, 1)


def test_random_udp_is_not_rtp() -> None:
    assert (
        dissect(view(*[(True, rtp_bytes(1, 2, ssrc=RNG.getrandbits(32))) for _ in range(9)])) == []
    )
    assert dissect(view((True, rtp_bytes(1, 0)), (True, rtp_bytes(2, 960)))) == []  # < 3
    jumpy = [(True, rtp_bytes(RNG.getrandbits(16), 0)) for _ in range(6)]
    assert dissect(view(*jumpy)) == []


def test_srtp_stream_and_srtcp_on_one_flow() -> None:
    pkts = [(True, rtp_bytes(10 + i, 960 * i, payload=RNG.randbytes(90))) for i in range(20)]
    pkts += [(False, srtcp(40 + i, ssrc=0x99)) for i in range(3)]
    rows = rows_of(dissect(view(*pkts)))
    media = next(r for r in rows if r.kind == "rtp")
    control = next(r for r in rows if r.kind == "rtcp")
    assert media.codec_guess == "" and media.codec_match_fraction < 0.5
    assert media.srtp_tag_guess == "10"  # from the SRTCP index position
    assert (control.ssrc, control.srtcp_e_flag, control.srtcp_index_offset) == (
        "00000099",
        "1",
        -14,
    )
    assert control.payload_types == "201" and control.seq_gaps is None


def test_rtcp_alone_needs_a_sound_compound() -> None:
    rows = rows_of(dissect(view((True, sender_report()))))
    assert [(r.kind, r.payload_types, r.srtcp_e_flag) for r in rows] == [("rtcp", "200;202", "")]
    assert dissect(view((True, sender_report(sdes=False)))) == []


def test_g711_srtp_tag_from_constant_sizes() -> None:
    pkts = [(True, rtp_bytes(i, 160 * i, pt=0, payload=RNG.randbytes(170))) for i in range(12)]
    (row,) = rows_of(dissect(view(*pkts)))
    assert row.srtp_tag_guess == "10" and row.codec_guess == ""


def test_webrtc_mux_of_stun_dtls_rtp() -> None:
    binding = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(12)
    dtls = b"\x16\xfe\xfd" + bytes(10) + b"\x00\x10" + bytes(16)
    pkts = [(True, binding), (False, binding[:1] + b"\x01" + binding[2:]), (True, dtls)]
    pkts += [(True, rtp_bytes(7 + i, 960 * i)) for i in range(5)] + [(False, sender_report(5))]
    rows = rows_of(dissect(view(*pkts)))
    assert sorted((r.kind, r.from_orig, r.frame) for r in rows) == [
        ("rtcp", False, 9),
        ("rtp", True, 4),
    ]


def test_relayed_rtp_framings() -> None:
    def chan(p: bytes) -> bytes:
        return b"\x40\x01" + struct.pack("!H", len(p)) + p + b"\0" * (-len(p) % 4)

    def ms(p: bytes) -> bytes:
        return b"\xff\x10" + struct.pack("!H", len(p) + 8) + bytes(8) + p

    for wrap, framing in ((chan, "turn_channel"), (ms, "ms_turn")):
        pkts = [(True, wrap(rtp_bytes(i, 960 * i))) for i in range(4)]
        (row,) = rows_of(dissect(view(*pkts)))
        assert row.framing == framing and row.packets == 4


def test_turn_over_tcp_channel_data() -> None:
    data = b"\x00\x03\x00\x00\x21\x12\xa4\x42" + bytes(12)  # Allocate request first
    segments = [(0, 19, 0.5)]
    for i in range(4):
        p = rtp_bytes(i, 960 * i)
        segments.append((len(data), 20 + i, 1.0 + i))
        data += b"\x40\x00" + struct.pack("!H", len(p)) + p + b"\0" * (-len(p) % 4)
    v = FlowView("Ctcp", "tcp", "a", 1, "b", 443, 1.0, (), Stream(data, tuple(segments)))
    (row,) = rows_of(dissect(v))
    assert (row.framing, row.packets, row.frame) == ("turn_channel", 4, 20)


def test_rtp_over_tcp_with_rfc4571_length_framing() -> None:
    # ndpi/pcap/rtp.pcapng TCP 40252 -> 5000 (tshark -e tcp.payload): 04bc, then RTP V=2 PT 8
    # (G.711 A-law) seq c623.., SSRC 0, 1200 bytes of A-law per packet (d5 = A-law silence).
    head = bytes.fromhex("8088c6236448eca900000000")
    rng = random.Random(4571)
    data, segments = b"", []
    for i in range(12):
        hdr = (
            head[:1]
            + (b"\x88" if i == 0 else b"\x08")
            + struct.pack("!HI", 0xC623 + i, 0x6448ECA9 + 1200 * i)
        )
        payload = bytes(rng.choice(b"\xd5\xd4\xd7\x55\x54\xd6\x57") for _ in range(1200))
        pkt = hdr + head[8:12] + payload
        segments.append((len(data), 10 + i, 1.0 + i / 10))
        data += struct.pack("!H", len(pkt)) + pkt
    v = FlowView("C4571", "tcp", "172.16.168.24", 40252, "172.16.168.64", 5000, 1.0, (),
                 Stream(data, tuple(segments)))  # fmt: skip
    (row,) = rows_of(dissect(v))
    assert (row.framing, row.packets, row.frame, row.payload_types) == ("rfc4571", 12, 10, "8")
    assert row.codec_guess == "g711"
    two = FlowView("C4571", "tcp", "a", 1, "b", 2, 1.0, (), Stream(data[: 2 * 1214], ()))
    assert rows_of(dissect(two)) == []  # fewer than three framed packets: not RTP over TCP


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.integers(0, 20))
def test_parsers_any_bytes(data: bytes, offset: int) -> None:
    with contextlib.suppress(ParseError):
        parse_rtp(data, offset)
    with contextlib.suppress(ParseError):
        parse_rtcp(data, offset)
    found = locate(data)
    assert found is None or 0 <= found[2] < found[3] <= len(data)
    infer_srtcp([data, data[1:]])


@settings(max_examples=300, deadline=None)
@given(st.integers(0x80, 0xBF), st.integers(0, 255), st.binary(max_size=60))
def test_parsers_rtp_like_bytes(b0: int, b1: int, rest: bytes) -> None:
    data = bytes([b0, b1]) + rest
    with contextlib.suppress(ParseError):
        parse_rtp(data)
    with contextlib.suppress(ParseError):
        parse_rtcp(data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.one_of(
    st.binary(max_size=90),
    st.builds(lambda s, r: rtp_bytes(s, 0, payload=r), st.integers(0, 6), st.binary(max_size=30)),
    st.builds(lambda r: bytes([0x80, 200]) + r, st.binary(max_size=40)),
)), max_size=15), st.sampled_from(["udp", "tcp"]))  # fmt: skip
def test_dissect_random_views_never_raise(dgs: list[tuple[bool, bytes]], proto: str) -> None:
    datagrams = tuple(Datagram(i + 1, float(i), o, p) for i, (o, p) in enumerate(dgs))
    data = b"".join(p for _o, p in dgs)
    v = FlowView("Cx", proto, "a", 1, "b", 2, 0.0, datagrams, Stream(data, ((0, 1, 0.0),)))
    for row in rtp.dissect(v):
        assert isinstance(row, RtpRow | WeirdRow)
