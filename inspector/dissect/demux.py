"""First-byte demultiplexing of a media 5-tuple and removal of relay framings.

One UDP 5-tuple of a WebRTC call carries STUN, DTLS, (S)RTP and (S)RTCP side by side; RFC 7983
(updated by RFC 9443 for QUIC) tells them apart by the first byte:

=========  ==============================================================================
0-3        STUN / TURN control (RFC 8489, RFC 8656)
4-15       unassigned ("other")
16-19      ZRTP (RFC 6189)
20-63      DTLS (content types 20-26; DTLS 1.3 unified header 0x20-0x3F)
64-79      TURN ChannelData (channel 0x4000-0x4FFF), else QUIC short header
80-127     QUIC (RFC 9443)
128-191    RTP / RTCP (V=2); RTCP when the second byte is 192-223 (RFC 5761)
192-255    QUIC long header, except Microsoft's multiplexed-TURN framing ``FF 10``
=========  ==============================================================================

:func:`unwrap` peels one relay framing: TURN ChannelData, MS-TURN ``FF 10`` framing, or a STUN
Send/Data indication's DATA attribute.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from inspector.dissect.stun import StunAttr, StunMethod, parse_stun, split_tcp
from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView

__all__ = [
    "DTLS",
    "MS_TURN",
    "OTHER",
    "QUIC",
    "RTCP",
    "RTP",
    "STUN",
    "TURN_CHANNEL",
    "ZRTP",
    "classify",
    "is_channel_data",
    "is_ms_turn",
    "is_zrtp",
    "rfc4571_media",
    "rtcp_plausible",
    "rtp_plausible",
    "tcp_relayed",
    "unwrap",
    "unwrap_at",
]

STUN = "stun"
DTLS = "dtls"
TURN_CHANNEL = "turn_channel"
RTP = "rtp"
RTCP = "rtcp"
QUIC = "quic"
ZRTP = "zrtp"
MS_TURN = "ms_turn"
OTHER = "other"

_U16 = struct.Struct("!H")
_ZRTP_MAGIC = b"ZRTP"
_MS_TURN_HEADER = 12


def is_channel_data(payload: bytes) -> bool:
    """True when ``payload`` is a well-formed TURN ChannelData message (RFC 8656 section 12.4).

    Channel numbers are 0x4000-0x4FFF; the 2-byte length counts the application data, which may be
    followed by up to 3 padding bytes (always present over TCP, optional over UDP).
    """
    if len(payload) < 4 or not 0x40 <= payload[0] <= 0x4F:
        return False
    (length,) = _U16.unpack_from(payload, 2)
    return 4 + length <= len(payload) <= 4 + length + 3


def is_ms_turn(payload: bytes) -> bool:
    """True for Microsoft's multiplexed-TURN framing: ``FF 10``, length at offset 2, 12-byte header.

    The length field plus 4 equals the datagram length (nDPI ``stun.c``).
    """
    if len(payload) < _MS_TURN_HEADER or payload[0] != 0xFF or payload[1] != 0x10:
        return False
    (length,) = _U16.unpack_from(payload, 2)
    return length + 4 == len(payload)


def classify(payload: bytes) -> str:
    """The RFC 7983/9443 class of one UDP payload (one of the module's string constants)."""
    if not payload:
        return OTHER
    b0 = payload[0]
    if b0 <= 3:
        return STUN
    if b0 <= 15:
        return OTHER
    if b0 <= 19:
        return ZRTP
    if b0 <= 63:
        return DTLS
    if b0 <= 79:
        return TURN_CHANNEL if is_channel_data(payload) else QUIC
    if b0 <= 127:
        return QUIC
    if b0 <= 191:
        if len(payload) >= 2 and 192 <= payload[1] <= 223:
            return RTCP
        return RTP
    if is_ms_turn(payload):
        return MS_TURN
    return QUIC


def is_zrtp(payload: bytes) -> bool:
    """ZRTP packets carry the magic cookie ``ZRTP`` at offset 4 (RFC 6189 section 5)."""
    return len(payload) >= 12 and 16 <= payload[0] <= 19 and payload[4:8] == _ZRTP_MAGIC


def rtp_plausible(payload: bytes, offset: int = 0) -> bool:
    """RTP sanity at ``offset``: V=2, PT 0-34 or 96-127, and the CSRC list and extension fit."""
    if offset < 0 or len(payload) < offset + 12:
        return False
    b0, b1 = payload[offset], payload[offset + 1]
    if b0 & 0xC0 != 0x80:
        return False
    pt = b1 & 0x7F
    if not (pt <= 34 or 96 <= pt <= 127):
        return False
    pos = offset + 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        if len(payload) < pos + 4:
            return False
        pos += 4 + 4 * _U16.unpack_from(payload, pos + 2)[0]
    return pos <= len(payload)


def rtcp_plausible(payload: bytes, offset: int = 0) -> bool:
    """RTCP sanity at ``offset``: V=2, packet type 192-213 and the first packet's length fits."""
    if offset < 0 or len(payload) < offset + 8:
        return False
    if payload[offset] & 0xC0 != 0x80 or not 192 <= payload[offset + 1] <= 213:
        return False
    (words,) = _U16.unpack_from(payload, offset + 2)
    return offset + 4 * (words + 1) <= len(payload)


def unwrap_at(payload: bytes) -> tuple[str, int, int]:
    """``(framing, start, end)``: where the relayed payload sits inside ``payload``.

    Same rules as :func:`unwrap`, but returns offsets so callers can report positions in the
    original datagram.
    """
    if not payload:
        return "plain", 0, 0
    b0 = payload[0]
    if 0x40 <= b0 <= 0x4F and len(payload) >= 4:
        (length,) = _U16.unpack_from(payload, 2)
        if 4 + length <= len(payload) <= 4 + length + 3:
            return TURN_CHANNEL, 4, 4 + length
        return "plain", 0, len(payload)
    if b0 == 0xFF and len(payload) >= 2 and payload[1] == 0x10:
        if len(payload) < _MS_TURN_HEADER:
            raise ParseError(
                f"MS-TURN framing needs 12 bytes, have {len(payload)}", "ms_turn_short"
            )
        (length,) = _U16.unpack_from(payload, 2)
        if length + 4 != len(payload):
            raise ParseError(
                f"MS-TURN length {length} + 4 != datagram length {len(payload)}", "ms_turn_length"
            )
        return MS_TURN, _MS_TURN_HEADER, len(payload)
    if b0 <= 3 and len(payload) >= 20 and payload[1] in (0x16, 0x17):
        # Send (0x0016) or Data (0x0017) indication: the relayed datagram is the DATA attribute.
        try:
            msg = parse_stun(payload)
        except ParseError:
            return "plain", 0, len(payload)
        if msg.method in (StunMethod.SEND, StunMethod.DATA):
            for attr in msg.attributes:
                if attr.type == StunAttr.DATA:
                    start = attr.offset + 4
                    return "stun_data", start, start + len(attr.value)
    return "plain", 0, len(payload)


def unwrap(payload: bytes) -> tuple[str, bytes]:
    """``(framing, inner)``: remove one relay framing, or ``("plain", payload)`` when there is none.

    Framings: ``turn_channel`` (ChannelData; padding dropped), ``ms_turn`` (``FF 10``; inner at
    +12) and ``stun_data`` (the DATA attribute of a STUN Send or Data indication). A payload that
    claims the MS-TURN framing (``FF 10``) but is inconsistent raises :class:`ParseError`;
    a ChannelData-looking or Send/Data-looking payload that does not parse is returned as plain.
    """
    framing, start, end = unwrap_at(payload)
    return framing, payload[start:end] if framing != "plain" else payload


def tcp_relayed(view: FlowView) -> Iterator[tuple[Datagram, str]]:
    """``(datagram, framing)`` for each payload TURN over TCP relays (RFC 8656 sections 11-12):
    ChannelData messages (padded to 4 bytes on TCP) and the DATA of Send/Data indications, in
    stream order per direction, as datagrams carrying the frame and time of their first byte.
    Framing is ``turn_channel`` or ``stun_data``."""
    if view.proto != "tcp":
        return
    for stream, from_orig in ((view.orig, True), (view.resp, False)):
        for off, data, framing in split_tcp(stream.data):
            if framing == "turn_channel":
                inner = data
            elif framing == "plain" and data[1:2] in (b"\x16", b"\x17"):
                try:
                    msg = parse_stun(data)
                except ParseError:
                    continue
                if msg.method not in (StunMethod.SEND, StunMethod.DATA) or not msg.data:
                    continue
                inner, framing = msg.data, "stun_data"
            else:
                continue
            yield Datagram(stream.frame_at(off), stream.ts_at(off), from_orig, inner), framing


#: RTP/RTCP over TCP needs this many length-prefixed packets in a row from a direction's start.
RFC4571_MIN = 3


def rfc4571_media(view: FlowView) -> Iterator[tuple[Datagram, str]]:
    """``(datagram, "rfc4571")`` for each RTP/RTCP packet of a TCP direction framed as RFC 4571
    (section 2: a 2-byte length, then the packet), back to back from the stream's first byte,
    when at least :data:`RFC4571_MIN` such packets (version 2, 12 bytes or more) open it."""
    if view.proto != "tcp":
        return
    for stream, from_orig in ((view.orig, True), (view.resp, False)):
        data, pos = stream.data, 0
        found: list[tuple[int, bytes]] = []
        while pos + 14 <= len(data) and len(found) < 10_000:
            n = (data[pos] << 8) | data[pos + 1]
            if n < 12 or pos + 2 + n > len(data) or not 0x80 <= data[pos + 2] <= 0xBF:
                break
            found.append((pos + 2, data[pos + 2 : pos + 2 + n]))
            pos += 2 + n
        if len(found) < RFC4571_MIN:
            continue
        for off, packet in found:
            yield Datagram(stream.frame_at(off), stream.ts_at(off), from_orig, packet), "rfc4571"
