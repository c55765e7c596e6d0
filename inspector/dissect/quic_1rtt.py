"""QUIC v1/v2 1-RTT packets decrypted with logged traffic secrets (RFC 9001, RFC 9369).

The client's ClientHello random (from the Initial packets, which anyone can decrypt) finds the
connection's ``CLIENT_TRAFFIC_SECRET_0`` / ``SERVER_TRAFFIC_SECRET_0`` in the key log; the
packet key, IV and header-protection key follow with the ``quic``/``quicv2`` labels (RFC 9001
section 5.1, RFC 9369 section 3.3.2) and the suite's hash; a flipped Key Phase bit moves to the
next generation (``quic ku``, RFC 9001 section 6). The cipher suite is read from the ServerHello
(in the server's Initial). Short-header packets are found after any coalesced long-header
packets; their Destination Connection ID length is the one the peer chose (the other side's
Source Connection ID). The output is every STREAM frame, in packet order, per direction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from inspector.dissect.buffer import Buffer
from inspector.dissect.keylog import KeyLog
from inspector.dissect.quic_crypto import QuicVersion
from inspector.dissect.quic_packet import (
    LongHeader,
    PacketType,
    decode_packet_number,
    split_datagram,
)
from inspector.dissect.tls13 import SUITES, hkdf_expand_label
from inspector.errors import ParseError
from inspector.flows.view import Datagram

__all__ = [
    "OneRttKeys",
    "StreamChunk",
    "decrypt_short_packet",
    "decrypt_zero_rtt",
    "header_mask",
    "one_rtt_keys",
    "parse_stream_frames",
]

MAX_PACKETS = 20_000  #: short-header packets decrypted per flow


@dataclass(frozen=True, slots=True)
class OneRttKeys:
    suite: int
    version: int
    secret: bytes
    key: bytes
    iv: bytes
    hp: bytes


def _prefix(version: int) -> str:
    return "quicv2 " if version == QuicVersion.V2 else "quic "


def one_rtt_keys(secret: bytes, suite: int, version: int, hp: bytes | None = None) -> OneRttKeys:
    """Packet protection keys of a 1-RTT secret (RFC 9001 section 5.1); ``hp`` is kept across
    key updates (RFC 9001 section 6: header protection keys do not change)."""
    s = SUITES[suite]
    p = _prefix(version)
    key = hkdf_expand_label(secret, p + "key", b"", s.key_len, s.hash_name)
    iv = hkdf_expand_label(secret, p + "iv", b"", 12, s.hash_name)
    if hp is None:
        hp = hkdf_expand_label(secret, p + "hp", b"", s.key_len, s.hash_name)
    return OneRttKeys(suite, version, secret, key, iv, hp)


def next_keys(keys: OneRttKeys) -> OneRttKeys:
    """The next key phase (RFC 9001 section 6.1: ``quic ku``; RFC 9369: ``quicv2 ku``)."""
    s = SUITES[keys.suite]
    size = hashlib.new(s.hash_name).digest_size
    secret = hkdf_expand_label(keys.secret, _prefix(keys.version) + "ku", b"", size, s.hash_name)
    return one_rtt_keys(secret, keys.suite, keys.version, keys.hp)


def header_mask(keys: OneRttKeys, sample: bytes) -> bytes:
    """RFC 9001 section 5.4.3 (AES) and 5.4.4 (ChaCha20) header protection mask."""
    if keys.suite == 0x1303:
        counter_nonce = sample[:4] + sample[4:16]  # 32-bit LE counter then 96-bit nonce
        enc = Cipher(algorithms.ChaCha20(keys.hp, counter_nonce), mode=None).encryptor()
        return enc.update(b"\x00" * 5)
    enc = Cipher(algorithms.AES(keys.hp), modes.ECB()).encryptor()
    return enc.update(sample)[:5]


def _unprotect(
    data: bytes, start: int, pn_offset: int, end: int, keys: OneRttKeys, largest_pn: int
) -> tuple[int, int, bytes]:
    """Remove header protection and open one packet (RFC 9001 sections 5.3, 5.4)."""
    if pn_offset + 4 + 16 > end:
        raise ParseError("packet too short to sample", "truncated")
    mask = header_mask(keys, data[pn_offset + 4 : pn_offset + 20])
    long_header = bool(data[start] & 0x80)
    first = data[start] ^ (mask[0] & (0x0F if long_header else 0x1F))
    pn_len = (first & 0x03) + 1
    pn_bytes = bytes(
        b ^ m for b, m in zip(data[pn_offset : pn_offset + pn_len], mask[1:], strict=False)
    )
    pn = decode_packet_number(int.from_bytes(pn_bytes, "big"), 8 * pn_len, largest_pn + 1)
    header = bytes([first]) + data[start + 1 : pn_offset] + pn_bytes
    nonce = bytes(a ^ b for a, b in zip(keys.iv, pn.to_bytes(12, "big"), strict=True))
    aead = SUITES[keys.suite].aead(keys.key)
    try:
        payload = aead.decrypt(nonce, data[pn_offset + pn_len : end], header)  # type: ignore[attr-defined]
    except (InvalidTag, ValueError):
        raise ParseError("packet does not authenticate", "decrypt_failed") from None
    return (first >> 2) & 1, pn, payload


def decrypt_short_packet(
    data: bytes, start: int, dcid_len: int, keys: OneRttKeys, largest_pn: int
) -> tuple[int, int, bytes]:
    """``(key_phase, packet_number, payload)`` of the short-header packet at ``start``.

    Raises :class:`ParseError` ``decrypt_failed`` when the tag does not verify (wrong keys, or
    the next key phase) and ``truncated`` when the packet is too short to sample.
    """
    return _unprotect(data, start, start + 1 + dcid_len, len(data), keys, largest_pn)


def decrypt_zero_rtt(
    hdr: LongHeader, data: bytes, keys: OneRttKeys, largest_pn: int
) -> tuple[int, bytes]:
    """``(packet_number, payload)`` of a 0-RTT long-header packet (RFC 9001 section 5.6; keys
    from ``CLIENT_EARLY_TRAFFIC_SECRET``; 0-RTT and 1-RTT share one packet number space)."""
    _, pn, payload = _unprotect(data, hdr.start, hdr.pn_offset, hdr.end, keys, largest_pn)
    return pn, payload


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """The data of one STREAM frame, with the packet that carried it."""

    stream_id: int
    offset: int
    data: bytes
    fin: bool
    frame: int  #: capture frame number
    ts: float


def _skip_ack(buf: Buffer, ecn: bool) -> None:
    buf.pull_varint()
    buf.pull_varint()
    count = buf.pull_varint()
    buf.pull_varint()
    for _ in range(min(count, 1 << 16)):
        buf.pull_varint()
        buf.pull_varint()
    if ecn:
        for _ in range(3):
            buf.pull_varint()


#: frame type -> how many varints follow (RFC 9000 section 19)
_VARINTS = {0x04: 3, 0x05: 2, 0x10: 1, 0x11: 2, 0x12: 1, 0x13: 1, 0x14: 1, 0x15: 2, 0x16: 1}
_VARINTS |= {0x17: 1, 0x19: 1}


def parse_stream_frames(payload: bytes) -> list[tuple[int, int, bytes, bool]]:
    """``(stream_id, offset, data, fin)`` of each STREAM frame in a 1-RTT payload.

    Other frames are skipped; an unknown frame type ends the walk (its length is unknowable).
    Raises :class:`ParseError` for a truncated frame.
    """
    buf = Buffer(payload)
    out: list[tuple[int, int, bytes, bool]] = []
    while not buf.eof():
        ftype = buf.pull_varint()
        if ftype in (0x00, 0x01, 0x1E):
            continue
        if 0x08 <= ftype <= 0x0F:
            sid = buf.pull_varint()
            offset = buf.pull_varint() if ftype & 0x04 else 0
            length = buf.pull_varint() if ftype & 0x02 else buf.remaining
            out.append((sid, offset, buf.pull_bytes(length), bool(ftype & 0x01)))
        elif ftype in (0x02, 0x03):
            _skip_ack(buf, ftype == 0x03)
        elif ftype in _VARINTS:
            for _ in range(_VARINTS[ftype]):
                buf.pull_varint()
        elif ftype == 0x06:
            buf.pull_varint()
            buf.skip(buf.pull_varint())
        elif ftype == 0x07:
            buf.skip(buf.pull_varint())
        elif ftype == 0x18:
            buf.pull_varint()
            buf.pull_varint()
            buf.skip(buf.pull_uint8() + 16)
        elif ftype in (0x1A, 0x1B):
            buf.skip(8)
        elif ftype == 0x1C:
            buf.pull_varint()
            buf.pull_varint()
            buf.skip(buf.pull_varint())
        elif ftype == 0x1D:
            buf.pull_varint()
            buf.skip(buf.pull_varint())
        elif ftype == 0x30:
            break  # DATAGRAM without length (RFC 9221) fills the packet
        elif ftype == 0x31:
            buf.skip(buf.pull_varint())
        else:
            break
    return out


@dataclass
class _Direction:
    keys: OneRttKeys
    dcid_len: int
    phase: int = 0
    largest: int = -1
    next: OneRttKeys | None = None
    failed: int = 0


def _open(d: _Direction, data: bytes, start: int) -> bytes | None:
    try:
        phase, pn, payload = decrypt_short_packet(data, start, d.dcid_len, d.keys, d.largest)
    except ParseError:
        d.next = d.next or next_keys(d.keys)
        try:
            phase, pn, payload = decrypt_short_packet(data, start, d.dcid_len, d.next, d.largest)
        except ParseError:
            d.failed += 1
            return None
        d.keys, d.next = d.next, None
    d.largest = max(d.largest, pn)
    del phase
    return payload


@dataclass(frozen=True, slots=True)
class Decrypted:
    client: tuple[StreamChunk, ...]  #: STREAM frames the client sent
    server: tuple[StreamChunk, ...]
    failed: int  #: short-header packets that authenticated under no key phase


def decrypt_connection(
    datagrams: Sequence[Datagram],
    client_is_orig: bool,
    client_random: bytes,
    suite: int,
    version: int,
    client_cid_len: int,
    server_cid_len: int,
    keylog: KeyLog,
) -> Decrypted | None:
    """The STREAM frames of both directions; None when the key log lacks the 1-RTT secrets."""
    secrets = keylog.tls13_secrets(client_random)
    c_secret = secrets.get("CLIENT_TRAFFIC_SECRET_0")
    s_secret = secrets.get("SERVER_TRAFFIC_SECRET_0")
    if c_secret is None or s_secret is None or suite not in SUITES:
        return None
    # client -> server packets carry the server's connection ID, and the reverse
    early_secret = secrets.get("CLIENT_EARLY_TRAFFIC_SECRET")
    early = one_rtt_keys(early_secret, suite, version) if early_secret else None
    client = _Direction(one_rtt_keys(c_secret, suite, version), server_cid_len)
    server = _Direction(one_rtt_keys(s_secret, suite, version), client_cid_len)
    chunks: dict[bool, list[StreamChunk]] = {True: [], False: []}
    done = 0
    for dg in datagrams:
        if done >= MAX_PACKETS:
            break
        data = dg.payload
        from_client = dg.from_orig == client_is_orig
        start = 0
        payloads: list[bytes] = []
        if data[:1] and data[0] & 0x80:
            try:
                longs = split_datagram(data)
            except ParseError:
                continue
            start = longs[-1].end if longs else len(data)
            if early is not None and from_client:
                payloads += _zero_rtt(longs, data, early, client)
        direction = client if from_client else server
        if start < len(data) and data[start] & 0xC0 == 0x40:
            done += 1
            payload = _open(direction, data, start)
            if payload is not None:
                payloads.append(payload)
        for payload in payloads:
            _chunks(payload, dg, direction, chunks[from_client])
    return Decrypted(tuple(chunks[True]), tuple(chunks[False]), client.failed + server.failed)


def _zero_rtt(
    longs: list[LongHeader], data: bytes, early: OneRttKeys, client: _Direction
) -> list[bytes]:
    out = []
    for hdr in longs:
        if hdr.packet_type != PacketType.ZERO_RTT:
            continue
        try:
            pn, payload = decrypt_zero_rtt(hdr, data, early, client.largest)
        except ParseError:
            client.failed += 1
            continue
        client.largest = max(client.largest, pn)
        out.append(payload)
    return out


def _chunks(payload: bytes, dg: Datagram, direction: _Direction, out: list[StreamChunk]) -> None:
    try:
        frames = parse_stream_frames(payload)
    except ParseError:
        direction.failed += 1
        return
    for sid, off, chunk, fin in frames:
        out.append(StreamChunk(sid, off, chunk, fin, dg.frame, dg.ts))
