"""Test-side builders for QUIC: a small Initial-packet encryptor, frames and ClientHellos.

Built on the same primitives as the dissector (``inspector.dissect.quic_crypto``); the RFC 9001
Appendix A.2 packet, rebuilt byte for byte by :func:`protect_long`, checks this encryptor.
"""

from __future__ import annotations

import struct

from inspector.dissect.quic_crypto import (
    QuicVersion,
    aead_seal,
    header_protection_mask,
    initial_keys,
)
from inspector.flows.view import Datagram, FlowView

V1 = QuicVersion.V1
V2 = QuicVersion.V2


def varint(value: int, size: int | None = None) -> bytes:
    """QUIC variable-length integer; ``size`` forces an encoding length (1, 2, 4 or 8)."""
    if size is None:
        size = 1 if value < 64 else 2 if value < 16384 else 4 if value < 1 << 30 else 8
    prefix = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    raw = value.to_bytes(size, "big")
    return bytes([raw[0] | prefix << 6]) + raw[1:]


def crypto_frame(offset: int, data: bytes) -> bytes:
    return b"\x06" + varint(offset) + varint(len(data)) + data


def ack_frame(largest: int, first_range: int = 0) -> bytes:
    return b"\x02" + varint(largest) + varint(0) + varint(0) + varint(first_range)


def _type_bits(version: int, kind: str) -> int:
    v1 = {"initial": 0, "0rtt": 1, "handshake": 2, "retry": 3}
    v2 = {"initial": 1, "0rtt": 2, "handshake": 3, "retry": 0}
    return (v2 if version == V2 else v1)[kind]


def protect_long(
    payload: bytes,
    *,
    version: int = V1,
    key_dcid: bytes,
    dcid: bytes | None = None,
    scid: bytes = b"",
    pn: int = 0,
    pn_len: int = 4,
    token: bytes = b"",
    server: bool = False,
    kind: str = "initial",
    key_version: int | None = None,
) -> bytes:
    """An Initial (or, with ``kind``, Handshake/0-RTT) packet protected with Initial keys.

    ``key_dcid`` is the DCID the keys come from; ``dcid`` the one written in the header
    (defaults to ``key_dcid``). The payload is padded so that a header-protection sample exists.
    """
    dcid = key_dcid if dcid is None else dcid
    if len(payload) < 4:
        payload += bytes(4 - len(payload))
    keys = initial_keys(version if key_version is None else key_version, key_dcid, server)
    first = 0xC0 | _type_bits(version, kind) << 4 | (pn_len - 1)
    head = bytes([first]) + struct.pack("!I", version)
    head += bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    if kind == "initial":
        head += varint(len(token)) + token
    head += varint(pn_len + len(payload) + 16, 2)
    pn_offset = len(head)
    head += (pn & ((1 << (8 * pn_len)) - 1)).to_bytes(pn_len, "big")
    packet = bytearray(head + aead_seal(keys, pn, head, payload))
    mask = header_protection_mask(keys.hp, bytes(packet[pn_offset + 4 : pn_offset + 20]))
    packet[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        packet[pn_offset + i] ^= mask[1 + i]
    return bytes(packet)


def retry_packet(version: int, dcid: bytes, scid: bytes, token: bytes) -> bytes:
    """A Retry packet (the integrity tag is not checked by the dissector: 16 zero bytes)."""
    first = 0xC0 | _type_bits(version, "retry") << 4
    head = bytes([first]) + struct.pack("!I", version)
    head += bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    return head + token + bytes(16)


def _ext(ext_type: int, body: bytes) -> bytes:
    return struct.pack("!HH", ext_type, len(body)) + body


def _vec(size: int, body: bytes) -> bytes:
    return len(body).to_bytes(size, "big") + body


def client_hello(
    sni: str = "example.com", alpn: tuple[str, ...] = ("h3",), pq: bool = False, padding: int = 0
) -> bytes:
    """A TLS 1.3 ClientHello handshake message (header included) as QUIC clients send it.

    With ``pq`` the key_share carries an X25519MLKEM768 share (1216 bytes), making the message
    larger than one Initial packet, as Chrome's post-quantum ClientHellos are; ``padding`` adds
    a padding extension (RFC 7685) of that many bytes.
    """
    name = sni.encode()
    exts = _ext(0x0000, _vec(2, b"\x00" + _vec(2, name)))
    exts += _ext(0x000A, _vec(2, b"\x11\xec\x00\x1d" if pq else b"\x00\x1d\x00\x17"))
    exts += _ext(0x0010, _vec(2, b"".join(_vec(1, p.encode()) for p in alpn)))
    exts += _ext(0x002B, _vec(1, b"\x03\x04"))
    exts += _ext(0x000D, _vec(2, b"\x04\x03\x08\x04\x04\x01"))
    shares = struct.pack("!H", 0x001D) + _vec(2, bytes(range(32)))
    if pq:
        shares = struct.pack("!H", 0x11EC) + _vec(2, bytes(i % 251 for i in range(1216))) + shares
    exts += _ext(0x0033, _vec(2, shares))
    exts += _ext(0x0039, bytes.fromhex("0104800075300f08") + bytes(8))
    if padding:
        exts += _ext(0x0015, bytes(padding))
    body = b"\x03\x03" + bytes(32) + b"\x00" + _vec(2, b"\x13\x01\x13\x02\x13\x03") + b"\x01\x00"
    body += _vec(2, exts)
    return b"\x01" + len(body).to_bytes(3, "big") + body


def server_hello(cipher: int = 0x1301, group: int = 0x001D) -> bytes:
    """A TLS 1.3 ServerHello handshake message (header included)."""
    exts = _ext(0x002B, b"\x03\x04") + _ext(0x0033, struct.pack("!H", group) + _vec(2, bytes(32)))
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!HB", cipher, 0) + _vec(2, exts)
    return b"\x02" + len(body).to_bytes(3, "big") + body


def flow(
    datagrams: list[tuple[bool, bytes]], uid: str = "Cquic1", first_frame: int = 1
) -> FlowView:
    """A UDP FlowView of ``(from_orig, payload)`` datagrams; frames count from ``first_frame``."""
    dgs = tuple(
        Datagram(first_frame + i, 1_700_000_000.0 + i / 100, from_orig, payload)
        for i, (from_orig, payload) in enumerate(datagrams)
    )
    return FlowView(
        uid, "udp", "192.0.2.1", 50000, "198.51.100.7", 443, dgs[0].ts if dgs else 0.0, dgs
    )


def chlo(tags: dict[bytes, bytes]) -> bytes:
    """A QUIC-crypto CHLO message: tags sorted, little-endian counts and end offsets."""
    index = b""
    values = b""
    for tag in sorted(tags):
        values += tags[tag]
        index += tag.ljust(4, b"\x00") + struct.pack("<I", len(values))
    return b"CHLO" + struct.pack("<HH", len(tags), 0) + index + values


def gquic_public_packet(version: bytes, cid: bytes, frames: bytes, flags: int = 0x09) -> bytes:
    """A legacy gQUIC client packet: public header, pn (1 byte), 12-byte hash, frames."""
    out = bytes([flags]) + cid + version + b"\x01" + bytes(12)
    if int(version[1:]) < 34:
        out += b"\x00"  # private flags
    return out + frames


def gquic_stream_frame(data: bytes, offset: int = 0, big_endian: bool = True) -> bytes:
    """A gQUIC STREAM frame on stream 1 with a 2-byte data length (and offset when non-zero)."""
    order = "big" if big_endian else "little"
    ftype = 0xA0 | (0x04 if offset else 0)  # 1 f=0 d=1 ooo ss=0
    out = bytes([ftype, 1])
    if offset:
        out += offset.to_bytes(2, order)
    return out + len(data).to_bytes(2, order) + data
