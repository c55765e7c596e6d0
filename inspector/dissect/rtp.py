"""RTP / RTCP headers (RFC 3550), SRTP/SRTCP tell-tales (RFC 3711) and the ``rtp`` table.

:func:`parse_rtp` reads the fixed header, CSRCs and header extensions (one-byte 0xBEDE, two-byte
0x100X, RFC 8285; Cryptex 0xC0DE/0xC2DE, RFC 9335, whose elements are encrypted);
:func:`parse_rtcp` walks a compound RTCP packet; :func:`infer_srtcp` finds the SRTCP E|index word.
:func:`dissect` demultiplexes every datagram of a UDP flow (RFC 7983, relay framings, Zoom
framing), groups packets into streams by (direction, SSRC, kind) and computes the per-stream
statistics the encryption assessment needs (sequence/timestamp behaviour, codec structure tests,
repeated-block ECB test, SRTP/SRTCP evidence).
"""

from __future__ import annotations

import itertools
import struct
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from inspector.dissect import codecs, ecb, zoom
from inspector.dissect.base import FlowView, weird
from inspector.dissect.demux import (
    is_ms_turn,
    is_zrtp,
    rfc4571_media,
    rtcp_plausible,
    rtp_plausible,
    tcp_relayed,
    unwrap_at,
)
from inspector.dissect.stun import looks_like_stun
from inspector.errors import ParseError
from inspector.schema.base import Row
from inspector.schema.rtp import RtpRow

__all__ = [
    "CRYPTEX_PROFILES",
    "RtcpCompound",
    "RtcpPacket",
    "RtpHeader",
    "SenderInfo",
    "dissect",
    "increasing",
    "infer_srtcp",
    "locate",
    "parse_rtcp",
    "parse_rtp",
    "rtcp_report_ok",
    "timestamp_step",
    "valid_payload_type",
]

_FIXED = struct.Struct("!BBHII")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_SR = struct.Struct("!IIIII")
ONE_BYTE_PROFILE = 0xBEDE
CRYPTEX_PROFILES = frozenset({0xC0DE, 0xC2DE})
#: SRTCP E|index word positions from the end, and the SRTP tag length each implies.
_SRTCP_OFFSETS = ((4, "16"), (14, "10"), (8, "4"))
_INDEX = 0x7FFFFFFF
_MIN_PLAIN_PACKETS = 3
_MAX_WEIRD = 20
_MAX_FRAMES = 20


def valid_payload_type(pt: int) -> bool:
    """RTP payload types accepted as RTP: static 0-34 and dynamic 96-127."""
    return pt <= 34 or 96 <= pt <= 127


@dataclass(frozen=True, slots=True)
class RtpHeader:
    padding: bool
    extension: bool
    csrc_count: int
    marker: bool
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    csrcs: tuple[int, ...]
    ext_profile: int | None  #: the 16-bit "defined by profile" field, None without extension
    ext_elements: tuple[tuple[int, bytes], ...]  #: (id, data) for one- and two-byte forms
    header_len: int  #: bytes from the RTP start to the payload (fixed + CSRCs + extension)

    @property
    def ext_ids(self) -> tuple[int, ...]:
        return tuple(i for i, _ in self.ext_elements)


def _elements(profile: int, data: bytes) -> tuple[tuple[int, bytes], ...]:
    """Header-extension elements (RFC 8285); Cryptex and unknown profiles yield none.

    An element overrunning the extension ends the walk (the elements before it are kept): Zoom
    audio packets carry such extensions, so this is not treated as an error.
    """
    out: list[tuple[int, bytes]] = []
    pos = 0
    if profile == ONE_BYTE_PROFILE:
        while pos < len(data):
            b = data[pos]
            if b == 0:  # padding
                pos += 1
                continue
            ident, length = b >> 4, (b & 0x0F) + 1
            if ident == 15:  # reserved: stop processing
                break
            if pos + 1 + length > len(data):
                break  # malformed (seen in Zoom audio): keep the elements before it
            out.append((ident, data[pos + 1 : pos + 1 + length]))
            pos += 1 + length
    elif profile & 0xFFF0 == 0x1000:
        while pos < len(data):
            if data[pos] == 0:
                pos += 1
                continue
            if pos + 2 > len(data) or pos + 2 + data[pos + 1] > len(data):
                break
            ident, length = data[pos], data[pos + 1]
            out.append((ident, data[pos + 2 : pos + 2 + length]))
            pos += 2 + length
    return tuple(out)


def parse_rtp(data: bytes, offset: int = 0) -> RtpHeader:
    """Decode the RTP header starting at ``offset`` (payload type validity is not checked)."""
    if offset < 0 or len(data) < offset + 12:
        raise ParseError(f"RTP header needs 12 bytes at offset {offset}", "rtp_short")
    b0, b1, seq, ts, ssrc = _FIXED.unpack_from(data, offset)
    if b0 >> 6 != 2:
        raise ParseError(f"RTP version {b0 >> 6}", "rtp_version")
    cc = b0 & 0x0F
    pos = offset + 12
    if len(data) < pos + 4 * cc:
        raise ParseError(f"{cc} CSRCs overrun the packet", "rtp_short")
    csrcs = tuple(_U32.unpack_from(data, pos + 4 * i)[0] for i in range(cc))
    pos += 4 * cc
    profile = None
    elements: tuple[tuple[int, bytes], ...] = ()
    if b0 & 0x10:
        if len(data) < pos + 4:
            raise ParseError("extension header overruns the packet", "rtp_short")
        profile, words = _U16.unpack_from(data, pos)[0], _U16.unpack_from(data, pos + 2)[0]
        end = pos + 4 + 4 * words
        if len(data) < end:
            raise ParseError(f"extension of {words} words overruns the packet", "rtp_ext")
        elements = _elements(profile, data[pos + 4 : end])
        pos = end
    return RtpHeader(
        padding=bool(b0 & 0x20),
        extension=bool(b0 & 0x10),
        csrc_count=cc,
        marker=bool(b1 & 0x80),
        payload_type=b1 & 0x7F,
        seq=seq,
        timestamp=ts,
        ssrc=ssrc,
        csrcs=csrcs,
        ext_profile=profile,
        ext_elements=elements,
        header_len=pos - offset,
    )


@dataclass(frozen=True, slots=True)
class SenderInfo:
    ntp_msw: int
    ntp_lsw: int
    rtp_ts: int
    packet_count: int
    octet_count: int


@dataclass(frozen=True, slots=True)
class RtcpPacket:
    packet_type: int
    count: int  #: RC / SC / FMT field
    length: int  #: bytes, header included
    ssrc: int  #: the sender SSRC (second word)
    sender_info: SenderInfo | None  #: SR (PT 200) only


@dataclass(frozen=True, slots=True)
class RtcpCompound:
    packets: tuple[RtcpPacket, ...]
    consumed: int  #: bytes covered by the packets walked (the rest may be an SRTCP trailer)
    total: int  #: bytes from the RTCP start to the end of the data

    @property
    def exact(self) -> bool:
        """The compound walk covered the data exactly (plain RTCP, no SRTCP trailer)."""
        return self.consumed == self.total


def parse_rtcp(data: bytes, offset: int = 0) -> RtcpCompound:
    """Walk a compound RTCP packet from ``offset``; stops at the first header that is not RTCP.

    The first packet must be valid (V=2, type 192-213, length within the data); in SRTCP the
    packets after the first one are encrypted, so the walk usually stops there.
    """
    if offset < 0 or len(data) < offset + 8:
        raise ParseError(f"RTCP header needs 8 bytes at offset {offset}", "rtcp_short")
    if not rtcp_plausible(data, offset):
        raise ParseError("first RTCP header is not V=2 type 192-213 with a fitting length", "rtcp")
    packets: list[RtcpPacket] = []
    pos = offset
    while pos + 8 <= len(data) and rtcp_plausible(data, pos) and len(packets) < 64:
        length = 4 * (_U16.unpack_from(data, pos + 2)[0] + 1)
        pt = data[pos + 1]
        info = None
        if pt == 200 and length >= 28:
            info = SenderInfo(*_SR.unpack_from(data, pos + 8))
        ssrc = _U32.unpack_from(data, pos + 4)[0]
        packets.append(RtcpPacket(pt, data[pos] & 0x1F, length, ssrc, info))
        pos += length
    return RtcpCompound(tuple(packets), pos - offset, len(data) - offset)


def infer_srtcp(packets: Sequence[bytes]) -> tuple[str, int | None]:
    """``(e_flag, offset)`` from SRTCP packets of one sender, in arrival order.

    Tries the E|index word at -4 (AEAD), -14 (HMAC-SHA1-80) and -8 (HMAC-SHA1-32): the right one
    has an index incrementing by 1-3 between consecutive packets (80 % of pairs, >= 1 pair).
    ``e_flag`` is the majority E bit there (``"1"`` encrypted, ``"0"`` not); ``("", None)`` when
    no offset fits.
    """
    best: tuple[float, int, str] | None = None
    for back, _tag in _SRTCP_OFFSETS:
        words = [_U32.unpack_from(p, len(p) - back)[0] for p in packets if len(p) >= 8 + back]
        if len(words) < 2:
            continue
        steps = [((b & _INDEX) - (a & _INDEX)) & _INDEX for a, b in itertools.pairwise(words)]
        good = sum(1 for s in steps if 1 <= s <= 3)
        score = good / len(steps)
        if good and score >= 0.8 and (best is None or score > best[0]):
            e = sum(1 for w in words if w >> 31)
            best = (score, back, "1" if 2 * e >= len(words) else "0")
    if best is None:
        return "", None
    return best[2], best[1]


def locate(payload: bytes) -> tuple[str, str, int, int] | None:
    """``(framing, zoom media kind, start, end)`` of RTP/RTCP inside one UDP payload, or None.

    Order: STUN (only Send/Data indications can carry media), ZRTP (never media), Zoom framing,
    relay framings (ChannelData, MS-TURN), then plain RTP/RTCP (first byte 128-191).
    """
    if len(payload) < 8:
        return None
    b0 = payload[0]
    framing, start, end = "plain", 0, len(payload)
    if b0 < 0x40:
        if looks_like_stun(payload):
            framing, start, end = unwrap_at(payload)
            if framing == "plain":
                return None
        elif is_zrtp(payload):
            return None
        else:
            found = zoom.locate_rtp(payload)
            return (found[0], found[1], found[2], len(payload)) if found else None
    elif 0x40 <= b0 <= 0x4F or is_ms_turn(payload):
        framing, start, end = unwrap_at(payload)
        if framing == "plain":
            return None
    elif not 0x80 <= b0 <= 0xBF:
        return None
    inner = payload[:end]
    if start + 2 > end or inner[start] & 0xC0 != 0x80:
        return None
    if 192 <= inner[start + 1] <= 223:
        ok = rtcp_plausible(inner, start)
    else:
        ok = rtp_plausible(inner, start)
    return (framing, "", start, end) if ok else None


@dataclass(slots=True)
class _Packet:
    frame: int
    ts: float
    data: bytes  #: the datagram up to the end of the RTP/RTCP bytes
    start: int
    header: RtpHeader | None = None
    rtcp: RtcpCompound | None = None


@dataclass(slots=True)
class _Stream:
    from_orig: bool
    framing: str
    zoom_media: str
    kind: str
    ssrc: int
    packets: list[_Packet] = field(default_factory=list)


def _report_with_sdes(c: RtcpCompound) -> bool:
    """An exact compound that starts with SR/RR and carries SDES (the RFC 3550 6.1 shape)."""
    types = [p.packet_type for p in c.packets]
    return c.exact and len(types) >= 2 and types[0] in (200, 201) and 202 in types


def increasing(hdrs: Sequence[RtpHeader]) -> bool:
    """Sequence numbers mostly step forward by 1-100 (>= 2 such steps, >= half of them)."""
    steps = [(b.seq - a.seq) & 0xFFFF for a, b in itertools.pairwise(hdrs)]
    good = sum(1 for s in steps if 1 <= s <= 100)
    return good >= 2 and 2 * good >= len(steps)


def _seq_stats(hdrs: Sequence[RtpHeader]) -> tuple[int, int]:
    """``(missing, reordered)`` using extended sequence numbers."""
    ext: list[int] = []
    for h in hdrs:
        if not ext:
            ext.append(h.seq)
            continue
        delta = (h.seq - ext[-1]) & 0xFFFF
        ext.append(ext[-1] + (delta - 0x10000 if delta >= 0x8000 else delta))
    reordered, high = 0, ext[0]
    for s in ext[1:]:
        if s < high:
            reordered += 1
        high = max(high, s)
    return max(0, max(ext) - min(ext) + 1 - len(set(ext))), reordered


def timestamp_step(hdrs: Sequence[RtpHeader]) -> int | None:
    """Most common positive RTP timestamp step between packets with consecutive sequence numbers."""
    steps = Counter(
        (b.timestamp - a.timestamp) & 0xFFFFFFFF
        for a, b in itertools.pairwise(hdrs)
        if (b.seq - a.seq) & 0xFFFF == 1 and 0 < (b.timestamp - a.timestamp) & 0xFFFFFFFF < 1 << 20
    )
    return steps.most_common(1)[0][0] if steps else None


def _clock(packets: Sequence[_Packet], step: int | None) -> str:
    hdrs = [p.header for p in packets if p.header]
    duration = packets[-1].ts - packets[0].ts
    if len(hdrs) >= 5 and duration >= 0.5:
        span = (hdrs[-1].timestamp - hdrs[0].timestamp) & 0xFFFFFFFF
        rate = span / duration
        for clock in (8000, 16000, 48000, 90000):
            if abs(rate - clock) <= 0.15 * clock:
                return str(clock)
    if step in (80, 160, 240):
        return "8000"
    if step in (480, 960, 1920, 2880):
        return "48000"
    if step and 1000 <= step <= 18000:
        fps = 90000 / step
        if abs(fps - round(fps)) < 0.01 * fps and 5 <= round(fps) <= 60:
            return "90000"
    return ""


def _join(values: Sequence[object]) -> str:
    return ";".join(str(v) for v in values)


def _rtp_row(view: FlowView, s: _Stream, srtcp_tag: str) -> RtpRow:
    pk = s.packets
    hdrs = [p.header for p in pk if p.header]
    missing, reordered = _seq_stats(hdrs)
    step = timestamp_step(hdrs)
    cpk = [
        codecs.CodecPacket(
            p.frame, p.data[p.start + h.header_len :], p.start + h.header_len, h.marker,
            h.timestamp, h.seq, h.payload_type,
        )
        for p, h in ((p, p.header) for p in pk if p.header)
    ]  # fmt: skip
    clock = _clock(pk, step)
    media = {"audio": "audio", "video": "video", "screen_share": "video"}.get(s.zoom_media, "")
    if not media and clock:
        media = "video" if clock == "90000" else "audio"
    codec = codecs.evaluate(cpk, step, media)
    ecb_res = ecb.analyze(ecb.EcbPacket(c.frame, c.payload, c.offset, (s.ssrc, c.seq)) for c in cpk)
    profiles = sorted({h.ext_profile for h in hdrs if h.ext_profile is not None})
    ids = sorted({i for h in hdrs for i in h.ext_ids})
    confident = codec is not None and codec.confident
    own_tag = codecs.srtp_tag_guess(cpk, step)
    tag = own_tag or srtcp_tag
    return RtpRow(
        ts=pk[0].ts,
        uid=view.uid,
        frame=pk[0].frame,
        from_orig=s.from_orig,
        framing=s.framing,
        zoom_media=s.zoom_media,
        kind="rtp",
        ssrc=f"{s.ssrc:08x}",
        payload_types=_join(sorted({h.payload_type for h in hdrs})),
        packets=len(pk),
        seq_gaps=missing,
        seq_reorders=reordered,
        marker_count=sum(1 for h in hdrs if h.marker),
        ts_step=step,
        clock_guess=clock,
        header_ext_profiles=_join([f"0x{p:04x}" for p in profiles]),
        header_ext_ids=_join(ids),
        csrc_count_max=max(h.csrc_count for h in hdrs),
        payload_bytes=sum(len(c.payload) for c in cpk),
        payload_len_residue16=ecb_res.residue16,
        residue16_fraction=ecb_res.residue16_fraction,
        codec_guess=codec.codec if codec is not None and confident else "",
        codec_match_fraction=codec.fraction if codec is not None else None,
        codec_evidence=codec.evidence if codec is not None and confident else "",
        srtp_tag_guess=tag,
        srtcp_e_flag="",
        srtcp_index_offset=None,
        ecb_packets=ecb_res.packets,
        ecb_repeated_blocks=ecb_res.repeated_blocks,
        ecb_block_indices=ecb_res.block_indices,
        ecb_prefix_only=ecb_res.prefix_only,
        ecb_example_block=ecb_res.example_block,
        ecb_frames=_join([f"{f}:{o}" for f, o in ecb_res.frames]),
        ecb_suspected=ecb_res.suspected,
        frames=_join([p.frame for p in pk[:_MAX_FRAMES]]),
        codec_variant=codec.variant if codec is not None and confident else "",
        srtp_tag_plausible=None if not tag else tag != "0",
    )


def rtcp_report_ok(c: RtcpCompound) -> bool:
    """A readable RTCP report compound (RFC 3550): it walks exactly, its first packet is an SR
    or RR (6.1), and every SR/RR is long enough for its report count (6.4.1: 28 + 24 x RC
    bytes; 6.4.2: 8 + 24 x RC)."""
    if not c.exact or not c.packets or c.packets[0].packet_type not in (200, 201):
        return False
    for q in c.packets:
        if q.packet_type in (200, 201):
            base = 28 if q.packet_type == 200 else 8
            if q.length < base + 24 * q.count:
                return False
    return True


def _rtcp_row(view: FlowView, s: _Stream, e_flag: str, back: int | None) -> RtpRow:
    pk = s.packets
    types = sorted({q.packet_type for p in pk if p.rtcp for q in p.rtcp.packets})
    tag = dict(_SRTCP_OFFSETS).get(back, "") if back is not None else ""
    return RtpRow(
        ts=pk[0].ts, uid=view.uid, frame=pk[0].frame, from_orig=s.from_orig, framing=s.framing,
        zoom_media=s.zoom_media, kind="rtcp", ssrc=f"{s.ssrc:08x}", payload_types=_join(types),
        packets=len(pk), seq_gaps=None, seq_reorders=None, marker_count=None, ts_step=None,
        clock_guess="", header_ext_profiles="", header_ext_ids="", csrc_count_max=None,
        payload_bytes=sum(len(p.data) - p.start for p in pk), payload_len_residue16=None,
        residue16_fraction=None, codec_guess="", codec_match_fraction=None, codec_evidence="",
        srtp_tag_guess=tag, srtcp_e_flag=e_flag, srtcp_index_offset=-back if back else None,
        ecb_packets=None, ecb_repeated_blocks=None, ecb_block_indices=None, ecb_prefix_only=None,
        ecb_example_block="", ecb_frames="", ecb_suspected=None,
        frames=_join([p.frame for p in pk[:_MAX_FRAMES]]),
        rtcp_readable_fraction=sum(1 for p in pk if p.rtcp and rtcp_report_ok(p.rtcp)) / len(pk),
    )  # fmt: skip


def _units(view: FlowView) -> Iterator[tuple[int, float, bool, bytes, str]]:
    """``(frame, ts, from_orig, payload, framing)``: UDP datagrams (framing decided later), the
    payloads relayed by TURN over TCP (ChannelData, Send/Data indications), or else RTP/RTCP
    over TCP with RFC 4571 length framing."""
    if view.proto == "udp":
        for d in view.datagrams:
            yield d.frame, d.ts, d.from_orig, d.payload, ""
        return
    relayed = list(tcp_relayed(view))
    for d, framing in relayed or rfc4571_media(view):
        yield d.frame, d.ts, d.from_orig, d.payload, framing


def dissect(view: FlowView) -> list[Row]:
    """RTP/RTCP stream rows of one UDP flow, or of media relayed by TURN over TCP (plus weird
    rows); never raises. Offsets of TCP-relayed packets are relative to the relayed payload."""
    if view.proto == "udp" and not view.datagrams:
        return []
    streams: dict[tuple[bool, int, str, int], _Stream] = {}
    weirds: list[Row] = []
    zoom_hello = 0
    for frame, ts, from_orig, payload, relay in _units(view):
        if zoom_hello == 0 and zoom.is_hello(payload):
            zoom_hello = 1
        try:
            found = locate(payload)
            if found is None:
                continue
            framing, media, start, end = found
            if relay and framing == "plain":
                framing = relay
            data = payload[:end]
            pkt = _Packet(frame, ts, data, start)
            if 192 <= data[start + 1] <= 223:
                pkt.rtcp = parse_rtcp(data, start)
                kind, ssrc = "rtcp", pkt.rtcp.packets[0].ssrc
            else:
                pkt.header = parse_rtp(data, start)
                kind, ssrc = "rtp", pkt.header.ssrc
        except ParseError as err:
            if len(weirds) < _MAX_WEIRD:
                weirds.append(weird(view, err, "rtp", ts=ts, frame=frame))
            continue
        # Zoom reuses the SSRC (and a separate sequence space) for FEC, PT 110 (zoom.cc): one
        # stream per payload type there. Elsewhere an SSRC is one sequence space (RFC 3550).
        pt = pkt.header.payload_type if pkt.header and framing.startswith("zoom") else -1
        key = (from_orig, ssrc, kind, pt)
        if key not in streams:
            streams[key] = _Stream(from_orig, framing, media, kind, ssrc)
        streams[key].packets.append(pkt)
    if not streams:
        return weirds
    # A flow is Zoom once it carried a Zoom hello or one Zoom-framed stream of >= 3 packets
    # with increasing sequence numbers; then single Zoom-framed packets make streams too.
    zoom_flow = bool(zoom_hello) or any(
        s.framing.startswith("zoom")
        and len(s.packets) >= _MIN_PLAIN_PACKETS
        and (s.kind == "rtcp" or increasing([p.header for p in s.packets if p.header]))
        for s in streams.values()
    )

    def accepted(s: _Stream) -> bool:
        if s.framing.startswith("zoom") and zoom_flow:
            return True
        if s.kind == "rtp":
            hdrs = [p.header for p in s.packets if p.header]
            return (
                len(hdrs) >= _MIN_PLAIN_PACKETS
                and increasing(hdrs)
                and sum(1 for h in hdrs if valid_payload_type(h.payload_type)) * 2 > len(hdrs)
            )
        return False

    rtp_streams = [s for s in streams.values() if s.kind == "rtp" and accepted(s)]
    rtcp_rows: list[Row] = []
    srtcp_tag = ""
    for s in streams.values():
        if s.kind != "rtcp":
            continue
        exact = sum(1 for p in s.packets if p.rtcp and p.rtcp.exact)
        e_flag, back = "", None
        if exact < len(s.packets):
            e_flag, back = infer_srtcp([p.data[p.start :] for p in s.packets])
        ok = (
            accepted(s)
            or bool(rtp_streams)
            or (len(s.packets) >= 2 and 2 * exact >= len(s.packets))
            or any(p.rtcp and _report_with_sdes(p.rtcp) for p in s.packets)
            or back is not None
        )
        if ok:
            rtcp_rows.append(_rtcp_row(view, s, e_flag, back))
            if back is not None and not srtcp_tag:
                srtcp_tag = dict(_SRTCP_OFFSETS)[back]
    rows: list[Row] = [_rtp_row(view, s, srtcp_tag) for s in rtp_streams]
    return rows + rtcp_rows + weirds
