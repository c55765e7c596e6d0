"""Google QUIC: the legacy public header, gQUIC frames and the QUIC-crypto CHLO tag map.

Before IETF QUIC, Chrome spoke gQUIC. Its first client packet carries a cleartext CHLO
("client hello") with the server name in tag ``SNI`` and the user agent in ``UAID``:

* Q043 and older: public header (flags, 8-byte CID, version, packet number), then a 12-byte
  message authentication hash, then frames; the CHLO rides on stream 1.
* Q044..Q049: a long header (see :func:`inspector.dissect.quic_packet.parse_long_header`),
  then the same hash and frames.
* Q050/T050/T051: IETF-style encrypted Initials whose frames are still gQUIC frames, the
  handshake in CRYPTO frames of type 0x08: a CHLO for Q050, a TLS ClientHello for T05x.

Layouts follow Chromium's gQUIC wire-format notes as implemented in nDPI ``quic.c``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inspector.dissect.buffer import Buffer
from inspector.dissect.quic_crypto import is_gquic_version
from inspector.dissect.quic_packet import CryptoFrame
from inspector.errors import ParseError

__all__ = [
    "GquicHeader",
    "chlo_length",
    "gquic_minor",
    "is_public_header",
    "midstream_packets",
    "parse_chlo",
    "parse_gquic_frames",
    "parse_public_header",
]

_PN_LENGTHS = (1, 2, 4, 6)
_HASH_LEN = 12  # FNV-1a-128 truncated to 96 bits, in front of unencrypted payloads
_CRYPTO_STREAM = 1
_MAX_TAGS = 512


def gquic_minor(version: int) -> int:
    """The number in ``Q0NN``/``T0NN`` (0 for a non-gQUIC version)."""
    if not is_gquic_version(version):
        return 0
    return int(version.to_bytes(4, "big")[2:4].decode("ascii"))


@dataclass(frozen=True, slots=True)
class GquicHeader:
    """A client packet with the legacy public header (Q043 and older)."""

    version: int
    cid: bytes
    pn_len: int
    payload_offset: int  #: where the frames start (after hash and private flags)


def is_public_header(data: bytes) -> bool:
    """Cheap test: flags with version and 8-byte CID bits set, then a ``Q0NN`` version."""
    if len(data) < 13 or data[0] & 0x80 or data[0] & 0x09 != 0x09:
        return False
    return is_gquic_version(int.from_bytes(data[9:13], "big"))


def parse_public_header(data: bytes) -> GquicHeader:
    """Parse a legacy public header carrying a version (a client's packet)."""
    buf = Buffer(data)
    flags = buf.pull_uint8()
    if flags & 0x80 or not flags & 0x01 or flags & 0x02:
        raise ParseError(f"public flags 0x{flags:02x} carry no version", "gquic_no_version")
    cid = buf.pull_bytes(8) if flags & 0x08 else b""
    version = buf.pull_uint32()
    if not is_gquic_version(version):
        raise ParseError(f"version 0x{version:08x} is not gQUIC", "gquic_bad_version")
    # Bit 0x04 is the diversification nonce only server to client; clients long set 0x0C for
    # an 8-byte connection ID (the pre-Q033 encoding), so it is ignored here.
    pn_len = _PN_LENGTHS[(flags >> 4) & 3]
    buf.skip(pn_len + _HASH_LEN)
    if gquic_minor(version) < 34:
        buf.skip(1)  # private flags
    return GquicHeader(version, cid, pn_len, buf.position)


def _cid(data: bytes) -> bytes:
    """The 8-byte connection ID of a public header without version or reset, or b""."""
    flags = data[0] if data else 0x80
    if flags & 0x83 or not flags & 0x08 or len(data) < 10:
        return b""
    return data[1:9]


def midstream_packets(datagrams: Sequence[tuple[bool, bytes]]) -> set[int]:
    """Indexes of the gQUIC packets of a session whose handshake is not in the capture.

    A gQUIC client puts the 8-byte connection ID behind public flags with bit 0x08 set and no
    version (0x01) or reset (0x02) bit; after the handshake the server's packets carry neither
    (flags ``0x00``-``0x30``: only a packet-number length). A direction counts when at least
    two of its datagrams carry the same connection ID; the other direction's datagrams then
    count when their flags set no bit but the packet-number length."""
    counts: dict[tuple[bool, bytes], list[int]] = {}
    for i, (from_orig, p) in enumerate(datagrams):
        cid = _cid(p)
        if cid:
            counts.setdefault((from_orig, cid), []).append(i)
    best = max(counts.items(), key=lambda kv: len(kv[1]), default=None)
    if best is None or len(best[1]) < 2:
        return set()
    client = best[0][0]
    out = set(best[1])
    for i, (from_orig, p) in enumerate(datagrams):
        if from_orig != client and len(p) >= 2 and not p[0] & 0xCF:
            out.add(i)
    return out


def _uint(buf: Buffer, size: int, big: bool) -> int:
    raw = buf.pull_bytes(size)
    return int.from_bytes(raw, "big" if big else "little")


def _skip_ack(buf: Buffer, ftype: int) -> None:
    """Skip a gQUIC ACK frame (type ``01nullmm``)."""
    largest_len = _PN_LENGTHS[(ftype >> 2) & 3]
    block_len = _PN_LENGTHS[ftype & 3]
    buf.skip(largest_len + 2)  # largest acked, ack delay (ufloat16)
    blocks = buf.pull_uint8() if ftype & 0x20 else 0
    buf.skip(block_len + blocks * (1 + block_len))
    stamps = buf.pull_uint8()
    if stamps:
        buf.skip(5 + (stamps - 1) * 3)


def parse_gquic_frames(payload: bytes, version: int, pn_len: int) -> tuple[CryptoFrame, ...]:
    """The handshake data of a gQUIC payload, as CRYPTO-like fragments.

    Stream frames on stream 1 (Q043..Q049) and type-0x08 CRYPTO frames (Q050 and later) are
    returned; PADDING, PING, ACK, STOP_WAITING, WINDOW_UPDATE and BLOCKED are stepped over;
    parsing stops at any other frame. Raises ParseError for a truncated frame.
    """
    minor = gquic_minor(version)
    big = minor >= 39
    buf = Buffer(payload)
    out: list[CryptoFrame] = []
    while not buf.eof():
        ftype = buf.pull_uint8()
        if ftype == 0x00:
            rest = payload[buf.position :].lstrip(b"\x00")
            buf.seek(len(payload) - len(rest))
        elif ftype & 0x80:  # STREAM: 1 f d ooo ss
            sid = _uint(buf, (ftype & 0x03) + 1, big)
            ooo = (ftype >> 2) & 0x07
            offset = _uint(buf, ooo + 1, big) if ooo else 0
            length = _uint(buf, 2, big) if ftype & 0x20 else buf.remaining
            data = buf.pull_bytes(length)
            if sid == _CRYPTO_STREAM:
                out.append(CryptoFrame(offset, data))
        elif ftype & 0xC0 == 0x40:
            _skip_ack(buf, ftype)
        elif ftype == 0x08 and minor >= 50:
            offset = buf.pull_varint()
            out.append(CryptoFrame(offset, buf.pull_bytes(buf.pull_varint())))
        elif ftype == 0x07:  # PING
            continue
        elif ftype == 0x06:  # STOP_WAITING: least unacked delta, packet-number sized
            buf.skip(pn_len)
        elif ftype == 0x04:  # WINDOW_UPDATE: stream id, byte offset
            buf.skip(12)
        elif ftype == 0x05:  # BLOCKED: stream id
            buf.skip(4)
        else:
            break
    return tuple(out)


def chlo_length(stream: bytes) -> int | None:
    """Total length of the handshake message at the start of ``stream`` once its index is there.

    A QUIC-crypto message is ``tag(4) num_tags(2, LE) pad(2)`` then ``num_tags`` pairs of
    ``tag(4) end_offset(4, LE)`` then the values; its length is known from the last end offset.
    """
    if len(stream) < 8:
        return None
    num_tags = int.from_bytes(stream[4:6], "little")
    index_end = 8 + 8 * num_tags
    if num_tags == 0:
        return 8
    if len(stream) < index_end:
        return None
    return index_end + int.from_bytes(stream[index_end - 4 : index_end], "little")


def parse_chlo(message: bytes) -> dict[str, bytes]:
    """The tag map of a CHLO message: tag name (trailing NULs stripped) to value.

    Raises ParseError when the message is not a CHLO or its index is inconsistent.
    """
    buf = Buffer(message)
    tag = buf.pull_bytes(4)
    if tag != b"CHLO":
        raise ParseError(f"handshake message {tag!r} is not a CHLO", "gquic_not_chlo")
    num_tags = buf.pull_bytes(2)
    count = int.from_bytes(num_tags, "little")
    if count > _MAX_TAGS:
        raise ParseError(f"CHLO announces {count} tags", "gquic_bad_chlo")
    buf.skip(2)
    index = [(buf.pull_bytes(4), int.from_bytes(buf.pull_bytes(4), "little")) for _ in range(count)]
    base = buf.position
    out: dict[str, bytes] = {}
    prev = 0
    for name, end in index:
        if end < prev or base + end > len(message):
            raise ParseError(
                f"CHLO tag {name!r} ends at {end}, outside the message", "gquic_bad_chlo"
            )
        key = name.rstrip(b"\x00").decode("ascii", "backslashreplace")
        out.setdefault(key, message[base + prev : base + end])
        prev = end
    return out
