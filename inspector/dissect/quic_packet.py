"""QUIC packets as bytes: long headers, protection removal, frames, CRYPTO reassembly.

Pure functions on one datagram or one decrypted payload (RFC 9000 sections 12, 17 and 19,
RFC 9001 section 5.4, RFC 9369 section 3.2). Which keys to use for which packet of a flow is
decided by :mod:`inspector.dissect.quic`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from inspector.dissect.buffer import Buffer
from inspector.dissect.quic_crypto import (
    PacketKeys,
    QuicVersion,
    aead_open,
    header_protection_mask,
    is_gquic_version,
)
from inspector.errors import ParseError

__all__ = [
    "CRYPTO_LIMIT",
    "INITIAL_FRAMES",
    "AckFrame",
    "ConnectionClose",
    "CryptoBuffer",
    "CryptoFrame",
    "FrameType",
    "Frames",
    "InitialPacket",
    "LongHeader",
    "PacketType",
    "decode_packet_number",
    "handshake_message",
    "parse_frames",
    "parse_long_header",
    "reassemble",
    "split_datagram",
    "unprotect",
]

#: Bytes of CRYPTO stream kept per direction; data beyond is dropped (and reported).
CRYPTO_LIMIT = 64 * 1024

_MAX_CID = 20  # RFC 9000 section 17.2: v1 connection IDs are at most 20 bytes


class PacketType(IntEnum):
    """Long-header packet types, numbered as in v1 (v2 numbers are mapped onto these)."""

    INITIAL = 0
    ZERO_RTT = 1
    HANDSHAKE = 2
    RETRY = 3
    VERSION_NEGOTIATION = 4


# RFC 9369 section 3.2: v2 type bits 0b01 Initial, 0b10 0-RTT, 0b11 Handshake, 0b00 Retry.
_V2_TYPES = (PacketType.RETRY, PacketType.INITIAL, PacketType.ZERO_RTT, PacketType.HANDSHAKE)


@dataclass(frozen=True, slots=True)
class LongHeader:
    """One long-header packet inside a datagram. Offsets are absolute in the datagram.

    ``pn_offset`` is where the (protected) packet number starts; ``end`` is one past the
    packet's last byte. For Retry, ``token`` is the retry token and the tag is the last 16
    bytes before ``end``. Google Q046-style headers have no Length: they run to the end.
    """

    start: int
    end: int
    first_byte: int  #: as on the wire (low bits still protected)
    version: int
    packet_type: PacketType
    dcid: bytes
    scid: bytes
    token: bytes
    pn_offset: int


def _gquic_minor(version: int) -> int:
    return int(version.to_bytes(4, "big")[2:4].decode("ascii"))


def parse_long_header(data: bytes, start: int = 0) -> LongHeader:
    """Parse the long header of the packet at ``data[start:]`` (RFC 9000 section 17.2)."""
    buf = Buffer(data, start)
    first = buf.pull_uint8()
    if not first & 0x80:
        raise ParseError(f"first byte 0x{first:02x} is not a long header", "not_long_header")
    version = buf.pull_uint32()
    if version == QuicVersion.NEGOTIATION:
        dcid = buf.pull_vector(1)
        scid = buf.pull_vector(1)
        return LongHeader(
            start,
            len(data),
            first,
            version,
            PacketType.VERSION_NEGOTIATION,
            dcid,
            scid,
            b"",
            buf.position,
        )
    if is_gquic_version(version) and _gquic_minor(version) < 50:
        # Q044..Q049: one byte of two CID-length nibbles (len + 3 when non-zero), no Length.
        lengths = buf.pull_uint8()
        dcil, scil = lengths >> 4, lengths & 0x0F
        dcid = buf.pull_bytes(dcil + 3 if dcil else 0)
        scid = buf.pull_bytes(scil + 3 if scil else 0)
        ptype = PacketType((first >> 4) & 3)
        return LongHeader(start, len(data), first, version, ptype, dcid, scid, b"", buf.position)
    dcid = buf.pull_vector(1)
    scid = buf.pull_vector(1)
    if version in (QuicVersion.V1, QuicVersion.V2) and max(len(dcid), len(scid)) > _MAX_CID:
        raise ParseError(f"connection ID of {max(len(dcid), len(scid))} bytes", "bad_cid_length")
    bits = (first >> 4) & 3
    ptype = _V2_TYPES[bits] if version == QuicVersion.V2 else PacketType(bits)
    if ptype == PacketType.RETRY:
        if buf.remaining < 16:
            raise ParseError("Retry packet shorter than its integrity tag", "truncated")
        token = buf.pull_bytes(buf.remaining - 16)
        return LongHeader(start, len(data), first, version, ptype, dcid, scid, token, len(data))
    token = b""
    if ptype == PacketType.INITIAL:
        token = buf.pull_bytes(buf.pull_varint())
    length = buf.pull_varint()
    pn_offset = buf.position
    if length > buf.remaining:
        raise ParseError(
            f"Length {length} exceeds the {buf.remaining} bytes left in the datagram", "truncated"
        )
    return LongHeader(
        start, pn_offset + length, first, version, ptype, dcid, scid, token, pn_offset
    )


def split_datagram(data: bytes) -> list[LongHeader]:
    """The coalesced long-header packets of one datagram, stepping by their Length.

    The first packet must parse (else ParseError). Parsing stops quietly at a short-header
    packet, at padding or other bytes after the last packet, at a packet of another version,
    and after a Retry or Version Negotiation packet (which fill the datagram).
    """
    out: list[LongHeader] = []
    pos = 0
    while pos < len(data):
        if not data[pos] & 0x80:
            break
        try:
            hdr = parse_long_header(data, pos)
        except ParseError:
            if not out:
                raise
            break
        if out and hdr.version != out[0].version:
            break
        out.append(hdr)
        if hdr.end <= pos or hdr.packet_type in (PacketType.RETRY, PacketType.VERSION_NEGOTIATION):
            break
        pos = hdr.end
    return out


def decode_packet_number(truncated: int, pn_nbits: int, expected: int) -> int:
    """RFC 9000 appendix A.3: the full packet number closest to ``expected``."""
    win = 1 << pn_nbits
    hwin = win // 2
    candidate = (expected & ~(win - 1)) | truncated
    if candidate <= expected - hwin and candidate < (1 << 62) - win:
        return candidate + win
    if candidate > expected + hwin and candidate >= win:
        return candidate - win
    return candidate


@dataclass(frozen=True, slots=True)
class InitialPacket:
    """A decrypted long-header packet: its header, full packet number and plaintext frames."""

    header: LongHeader
    first_byte: int  #: with header protection removed
    packet_number: int
    payload: bytes

    @property
    def pn_len(self) -> int:
        return (self.first_byte & 0x03) + 1


def unprotect(
    data: bytes, hdr: LongHeader, keys: PacketKeys, largest_pn: int = -1
) -> InitialPacket:
    """Remove header protection (RFC 9001 section 5.4) and decrypt the packet's payload.

    ``largest_pn`` is the largest packet number seen so far in this direction (-1 for none).
    Raises ParseError named ``decrypt_failed`` when the AEAD tag does not verify.
    """
    sample_at = hdr.pn_offset + 4
    if sample_at + 16 > hdr.end:
        raise ParseError(f"packet of {hdr.end - hdr.start} bytes too short to sample", "truncated")
    mask = header_protection_mask(keys.hp, data[sample_at : sample_at + 16])
    first = data[hdr.start] ^ (mask[0] & 0x0F)
    pn_len = (first & 0x03) + 1
    pn_bytes = bytes(
        b ^ m for b, m in zip(data[hdr.pn_offset : hdr.pn_offset + pn_len], mask[1:], strict=False)
    )
    truncated = int.from_bytes(pn_bytes, "big")
    pn = decode_packet_number(truncated, 8 * pn_len, largest_pn + 1)
    aad = bytes([first]) + data[hdr.start + 1 : hdr.pn_offset] + pn_bytes
    payload = aead_open(keys, pn, aad, data[hdr.pn_offset + pn_len : hdr.end])
    return InitialPacket(hdr, first, pn, payload)


# ---------------------------------------------------------------------------------------------
# frames (RFC 9000 section 19)


class FrameType(IntEnum):
    PADDING = 0x00
    PING = 0x01
    ACK = 0x02
    ACK_ECN = 0x03
    RESET_STREAM = 0x04
    STOP_SENDING = 0x05
    CRYPTO = 0x06
    NEW_TOKEN = 0x07
    MAX_DATA = 0x10
    MAX_STREAMS_BIDI = 0x12
    MAX_STREAMS_UNI = 0x13
    DATA_BLOCKED = 0x14
    STREAMS_BLOCKED_BIDI = 0x16
    STREAMS_BLOCKED_UNI = 0x17
    RETIRE_CONNECTION_ID = 0x19
    CONNECTION_CLOSE = 0x1C
    CONNECTION_CLOSE_APP = 0x1D
    HANDSHAKE_DONE = 0x1E


_KNOWN_FRAMES = frozenset(int(t) for t in FrameType)

#: RFC 9000 section 12.4, table 3: the frames an Initial packet may carry.
INITIAL_FRAMES = frozenset(
    {
        FrameType.PADDING,
        FrameType.PING,
        FrameType.ACK,
        FrameType.ACK_ECN,
        FrameType.CRYPTO,
        FrameType.CONNECTION_CLOSE,
    }
)

# Frames made of nothing but N varints after the type (parsed so we can step over them).
_VARINT_FRAMES = {
    FrameType.RESET_STREAM: 3,
    FrameType.STOP_SENDING: 2,
    FrameType.MAX_DATA: 1,
    FrameType.MAX_STREAMS_BIDI: 1,
    FrameType.MAX_STREAMS_UNI: 1,
    FrameType.DATA_BLOCKED: 1,
    FrameType.STREAMS_BLOCKED_BIDI: 1,
    FrameType.STREAMS_BLOCKED_UNI: 1,
    FrameType.RETIRE_CONNECTION_ID: 1,
    FrameType.HANDSHAKE_DONE: 0,
}


@dataclass(frozen=True, slots=True)
class CryptoFrame:
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class AckFrame:
    """ACK ranges as inclusive ``(smallest, largest)`` pairs, largest first."""

    largest: int
    delay: int
    ranges: tuple[tuple[int, int], ...]
    ecn: tuple[int, int, int] | None = None  #: ECT(0), ECT(1), ECN-CE counts (type 0x03)


@dataclass(frozen=True, slots=True)
class ConnectionClose:
    error_code: int
    frame_type: int | None  #: None for the application variant (0x1d)
    reason: str


@dataclass(frozen=True, slots=True)
class Frames:
    """What one packet's plaintext holds.

    ``types`` lists frame types in order (a run of PADDING counts once). ``disallowed`` lists
    known frame types an Initial must not carry; ``stopped_at`` is an unknown type that ended
    parsing (the rest of the payload was not read).
    """

    types: tuple[int, ...]
    crypto: tuple[CryptoFrame, ...] = ()
    acks: tuple[AckFrame, ...] = ()
    close: ConnectionClose | None = None
    new_token: bytes = b""
    disallowed: tuple[int, ...] = ()
    stopped_at: int | None = None


def _pull_ack(buf: Buffer, ecn: bool) -> AckFrame:
    largest = buf.pull_varint()
    delay = buf.pull_varint()
    count = buf.pull_varint()
    first = buf.pull_varint()
    if first > largest:
        raise ParseError(f"ACK first range {first} below packet 0", "bad_ack")
    ranges = [(largest - first, largest)]
    low = largest - first
    for _ in range(count):
        if buf.eof():
            raise ParseError(f"ACK announces {count} ranges past the payload end", "truncated")
        gap = buf.pull_varint()
        length = buf.pull_varint()
        high = low - gap - 2
        if high < length:
            raise ParseError("ACK range below packet 0", "bad_ack")
        low = high - length
        ranges.append((low, high))
    counts = (buf.pull_varint(), buf.pull_varint(), buf.pull_varint()) if ecn else None
    return AckFrame(largest, delay, tuple(ranges), counts)


def parse_frames(payload: bytes) -> Frames:
    """Parse the frames of a decrypted Initial (or Handshake) payload.

    Raises ParseError for a truncated or malformed frame; stops (without error) at an unknown
    frame type, reporting it in ``stopped_at``.
    """
    buf = Buffer(payload)
    types: list[int] = []
    crypto: list[CryptoFrame] = []
    acks: list[AckFrame] = []
    disallowed: list[int] = []
    close: ConnectionClose | None = None
    token = b""
    n = len(payload)
    while not buf.eof():
        ftype = buf.pull_varint()
        if ftype == FrameType.PADDING:
            pos = buf.position
            stripped = payload[pos:].lstrip(b"\x00")
            buf.seek(n - len(stripped))
            if not types or types[-1] != FrameType.PADDING:
                types.append(ftype)
            continue
        if ftype not in _KNOWN_FRAMES:
            return Frames(
                tuple(types), tuple(crypto), tuple(acks), close, token, tuple(disallowed), ftype
            )
        types.append(ftype)
        if ftype not in INITIAL_FRAMES:
            disallowed.append(ftype)
        if ftype == FrameType.CRYPTO:
            offset = buf.pull_varint()
            crypto.append(CryptoFrame(offset, buf.pull_bytes(buf.pull_varint())))
        elif ftype in (FrameType.ACK, FrameType.ACK_ECN):
            acks.append(_pull_ack(buf, ftype == FrameType.ACK_ECN))
        elif ftype in (FrameType.CONNECTION_CLOSE, FrameType.CONNECTION_CLOSE_APP):
            code = buf.pull_varint()
            ctype = buf.pull_varint() if ftype == FrameType.CONNECTION_CLOSE else None
            reason = buf.pull_bytes(buf.pull_varint()).decode("utf-8", "backslashreplace")
            close = ConnectionClose(code, ctype, reason)
        elif ftype == FrameType.NEW_TOKEN:
            token = buf.pull_bytes(buf.pull_varint())
        elif ftype in _VARINT_FRAMES:
            for _ in range(_VARINT_FRAMES[FrameType(ftype)]):
                buf.pull_varint()
    return Frames(tuple(types), tuple(crypto), tuple(acks), close, token, tuple(disallowed))


# ---------------------------------------------------------------------------------------------
# CRYPTO stream reassembly


class CryptoBuffer:
    """Reassembles one direction's CRYPTO stream by offset: any order, overlaps, first copy wins.

    Bytes at or beyond ``limit`` are dropped and set ``capped``. ``conflicts`` counts overlaps
    whose bytes differ from what was already there (a sign of evasion or corruption).
    """

    __slots__ = ("_data", "_have", "capped", "conflicts", "limit")

    def __init__(self, limit: int = CRYPTO_LIMIT) -> None:
        self._data = bytearray()
        self._have: list[tuple[int, int]] = []  # sorted, disjoint [start, end) intervals
        self.limit = limit
        self.capped = False
        self.conflicts = 0

    def add(self, offset: int, data: bytes) -> int:
        """Store a fragment; returns how many bytes it added that were not there before."""
        end = offset + len(data)
        if end > self.limit:
            self.capped = True
            end = self.limit
        if offset >= end:
            return 0
        before = self.received
        if len(self._data) < end:
            self._data.extend(bytes(end - len(self._data)))
        cur = offset
        for a, b in self._have:
            if b <= cur:
                continue
            if a >= end:
                break
            if a > cur:
                self._data[cur:a] = data[cur - offset : a - offset]
            overlap_end = min(b, end)
            if (
                self._data[max(a, cur) : overlap_end]
                != data[max(a, cur) - offset : overlap_end - offset]
            ):
                self.conflicts += 1
            cur = max(cur, b)
            if cur >= end:
                break
        if cur < end:
            self._data[cur:end] = data[cur - offset : end - offset]
        merged: list[tuple[int, int]] = []
        for a, b in sorted([*self._have, (offset, end)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self._have = merged
        return self.received - before

    @property
    def prefix(self) -> bytes:
        """The contiguous bytes from offset 0 (empty when offset 0 has not arrived)."""
        if self._have and self._have[0][0] == 0:
            return bytes(self._data[: self._have[0][1]])
        return b""

    def contiguous_from(self, offset: int) -> bytes:
        """The contiguous bytes starting at ``offset`` (empty when that byte has not arrived)."""
        for a, b in self._have:
            if a <= offset < b:
                return bytes(self._data[offset:b])
        return b""

    @property
    def received(self) -> int:
        """How many distinct stream bytes arrived (contiguous or not)."""
        return sum(b - a for a, b in self._have)


def reassemble(fragments: Iterable[tuple[int, bytes]], limit: int = CRYPTO_LIMIT) -> bytes:
    """The contiguous stream prefix from ``(offset, data)`` fragments given in any order."""
    buf = CryptoBuffer(limit)
    for offset, data in fragments:
        buf.add(offset, data)
    return buf.prefix


def handshake_message(stream: bytes) -> tuple[int, bytes] | None:
    """``(msg_type, body)`` of the first TLS handshake message once it is complete, else None."""
    if len(stream) < 4:
        return None
    length = int.from_bytes(stream[1:4], "big")
    if len(stream) < 4 + length:
        return None
    return stream[0], stream[4 : 4 + length]
