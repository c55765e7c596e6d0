"""Zoom's own UDP framing around RTP/RTCP (server "SFU" header, inner media header, P2P hello).

Layouts (research notes section 1; Princeton-Cabernet/zoom-analysis ``zoom.lua``/``zoom.cc``, nDPI
``zoom.c``):

* Server flows (2022 layout): an 8-byte outer header -- type (0x05 = media), SFU sequence number,
  4 unknown bytes, direction (0x00 to Zoom, 0x04 from Zoom) -- then the inner header at +8.
* P2P flows: the inner header starts at offset 0.
* Server flows, 2019/2020 layout (found empirically here, consistent with Citizen Lab era
  ``05 0f 01 00`` / ``05 10 01 00`` magics and marty90's 20/21-byte trims): a single 0x05 byte,
  then the inner header at +1. In ``ndpi/pcap/zoom.pcap`` (2019) the RTCP sender report of frame
  689 sits at 1 + 16 = 17 and the 0x15 probe sequence numbers at 1 + 13 = 14. That capture holds
  no audio/video RTP: a scan of every offset 0-59 for V=2 with a stable SSRC and increasing
  sequence numbers finds none; its 1029-byte 0x15 packets are bandwidth probes (filled with
  01/02/03 bytes, a millisecond counter at offset 16), and its 2023 GTP-tunnelled flow carries
  only 0x15 control messages (``bw_level_audio`` ...) and SFU types 3/4.

Inner header, by type ``I[0]``: audio 0x0F (RTP at I+19), video 0x10 (I+24 when I[20] == 0x02,
else I+20), server screen share 0x0D (I+27 when I[7] == 0x1E), P2P screen share 0x1E (I+20),
RTCP 0x21-0x23 (I+16), 0x01 (I+26, kind unknown). An offset is accepted only where RTP/RTCP
sanity holds (:func:`rtp_plausible` / :func:`rtcp_plausible`), since the layout depends on the
client version.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from inspector.dissect.demux import rtcp_plausible, rtp_plausible
from inspector.errors import ParseError

__all__ = [
    "SFU_MEDIA",
    "SfuHeader",
    "ZoomMedia",
    "ZoomType",
    "is_hello",
    "is_p2p_hello",
    "locate_rtp",
    "media_kind",
    "parse_media",
    "parse_sfu",
]

SFU_MEDIA = 0x05
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


class ZoomType(IntEnum):
    """Inner "Zoom media encapsulation" types (``zoom.h``, ``zoom.lua``)."""

    UNKNOWN_01 = 0x01
    SCREEN_SHARE_SERVER = 0x0D
    AUDIO = 0x0F
    VIDEO = 0x10
    UNKNOWN_15 = 0x15
    P2P_SCREEN_SHARE = 0x1E
    UNKNOWN_20 = 0x20
    RTCP_SR = 0x21
    RTCP_SR_SD = 0x22
    RTCP_23 = 0x23


_KINDS: dict[int, str] = {
    ZoomType.AUDIO: "audio",
    ZoomType.VIDEO: "video",
    ZoomType.SCREEN_SHARE_SERVER: "screen_share",
    ZoomType.P2P_SCREEN_SHARE: "screen_share",
    ZoomType.RTCP_SR: "rtcp",
    ZoomType.RTCP_SR_SD: "rtcp",
    ZoomType.RTCP_23: "rtcp",
}
#: First bytes that can start a P2P datagram carrying RTP/RTCP.
_P2P_MEDIA_TYPES = frozenset({0x01, 0x0D, 0x0F, 0x10, 0x1E, 0x21, 0x22, 0x23})


def media_kind(inner_type: int) -> str:
    """``audio``, ``video``, ``screen_share``, ``rtcp`` or ``""`` for an inner type byte."""
    return _KINDS.get(inner_type, "")


@dataclass(frozen=True, slots=True)
class SfuHeader:
    """The 8-byte outer header of server flows."""

    sfu_type: int
    seq: int
    direction: int  #: raw byte 7
    to_zoom: bool | None  #: True for 0x00, False for 0x04, None otherwise


def parse_sfu(payload: bytes) -> SfuHeader:
    """Decode the outer SFU header (8 bytes)."""
    if len(payload) < 8:
        raise ParseError(f"Zoom SFU header needs 8 bytes, have {len(payload)}", "zoom_short")
    direction = payload[7]
    to_zoom = True if direction == 0x00 else False if direction == 0x04 else None
    return SfuHeader(payload[0], _U16.unpack_from(payload, 1)[0], direction, to_zoom)


@dataclass(frozen=True, slots=True)
class ZoomMedia:
    """The inner media header found at ``offset``; offsets are absolute in the UDP payload."""

    offset: int
    media_type: int
    media_kind: str
    seq: int | None
    ts: int | None
    frame_number: int | None
    frame_packets: int | None
    rtp_offset: int | None  #: where RTP (or RTCP) starts per the layout table; None if none
    is_rtcp: bool


def parse_media(payload: bytes, offset: int) -> ZoomMedia:
    """Decode the inner media header at ``offset`` (8 server, 0 P2P, 1 for the 2020 layout)."""
    if offset < 0 or len(payload) < offset + 1:
        raise ParseError("no Zoom media header at this offset", "zoom_short")
    i = offset
    t = payload[i]

    def u16(at: int) -> int | None:
        return _U16.unpack_from(payload, i + at)[0] if len(payload) >= i + at + 2 else None

    def u32(at: int) -> int | None:
        return _U32.unpack_from(payload, i + at)[0] if len(payload) >= i + at + 4 else None

    seq = ts = frame_number = frame_packets = rtp = None
    is_rtcp = False
    if t in (ZoomType.AUDIO, ZoomType.VIDEO, ZoomType.P2P_SCREEN_SHARE, ZoomType.UNKNOWN_01):
        seq, ts = u16(9), u32(11)
        if t == ZoomType.AUDIO:
            rtp = i + 19
        elif t == ZoomType.VIDEO:
            if len(payload) > i + 20 and payload[i + 20] == 0x02:
                frame_number, rtp = u16(21), i + 24
                frame_packets = payload[i + 23] if len(payload) > i + 23 else None
            else:
                rtp = i + 20
        elif t == ZoomType.P2P_SCREEN_SHARE:
            rtp = i + 20
        else:
            rtp = i + 26
    elif t == ZoomType.SCREEN_SHARE_SERVER:
        if len(payload) > i + 7 and payload[i + 7] == 0x1E:
            seq, ts, rtp = u16(16), u32(18), i + 27
    elif t in (ZoomType.RTCP_SR, ZoomType.RTCP_SR_SD, ZoomType.RTCP_23):
        rtp, is_rtcp = i + 16, True
    elif t == ZoomType.UNKNOWN_15:
        seq = u16(13)
    return ZoomMedia(i, t, media_kind(t), seq, ts, frame_number, frame_packets, rtp, is_rtcp)


def _check(payload: bytes, inner: int) -> tuple[str, int] | None:
    """``(media kind, rtp offset)`` when the inner header at ``inner`` leads to sane RTP/RTCP."""
    media = parse_media(payload, inner)
    candidates: list[int] = []
    if media.rtp_offset is not None:
        candidates.append(media.rtp_offset)
    if media.media_type == ZoomType.VIDEO:  # the I[20] == 0x02 switch is version-dependent
        candidates.extend(o for o in (inner + 20, inner + 24) if o not in candidates)
    if media.media_type == ZoomType.SCREEN_SHARE_SERVER and not candidates:
        candidates.append(inner + 27)  # nDPI checks +27 without the subtype test
    for off in candidates:
        if media.is_rtcp:
            if rtcp_plausible(payload, off):
                return media.media_kind, off
        elif rtp_plausible(payload, off):
            return media.media_kind, off
    return None


def locate_rtp(payload: bytes) -> tuple[str, str, int] | None:
    """``(framing, media kind, rtp offset)`` for a Zoom datagram carrying RTP/RTCP, else None.

    Tries the 2022 server framing (``05``, direction byte 0x00/0x04, inner at 8), the 2019/2020
    server framing (inner at 1) and the P2P framing (inner at 0). Framing names: ``zoom_server``,
    ``zoom_server_2020``, ``zoom_p2p``.
    """
    if len(payload) < 13:
        return None
    b0 = payload[0]
    if b0 == SFU_MEDIA:
        if len(payload) > 8 and payload[7] in (0x00, 0x04) and payload[8] in _P2P_MEDIA_TYPES:
            found = _check(payload, 8)
            if found:
                return "zoom_server", found[0], found[1]
        if payload[1] in _P2P_MEDIA_TYPES:
            found = _check(payload, 1)
            if found:
                return "zoom_server_2020", found[0], found[1]
        return None
    if b0 in _P2P_MEDIA_TYPES:
        found = _check(payload, 0)
        if found:
            return "zoom_p2p", found[0], found[1]
    return None


def is_p2p_hello(payload: bytes) -> bool:
    """nDPI's Zoom P2P hello: ``1f 02 01``, an IP string and a UUID with 4-byte lengths.

    Layout: 24 bytes, length(4) + IP text, length(4) + UUID text, 4 zero bytes; the total must be
    ``24 + 4 + ip_len + 4 + uuid_len + 4``.
    """
    n = len(payload)
    if n <= 36 or payload[:3] != b"\x1f\x02\x01" or payload[-4:] != b"\x00\x00\x00\x00":
        return False
    (ip_len,) = _U32.unpack_from(payload, 24)
    at = 28 + ip_len
    if at + 4 > n:
        return False
    (uuid_len,) = _U32.unpack_from(payload, at)
    return n == 24 + 4 + ip_len + 4 + uuid_len + 4


def is_hello(payload: bytes) -> bool:
    """A Zoom connection hello: nDPI's ``01 00 02|03`` / ``02 00 02|03`` or the P2P hello.

    nDPI only needs more than 8 bytes; this asks for more than 30 (the hellos seen are 35-109).
    """
    if len(payload) > 30 and payload[0] in (1, 2) and payload[1] == 0 and payload[2] in (2, 3):
        return True
    return is_p2p_hello(payload)
