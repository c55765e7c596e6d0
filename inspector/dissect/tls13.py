"""TLS 1.3 record decryption from logged traffic secrets (RFC 8446 sections 5.2, 5.3, 7).

Pure functions: a direction's record stream and its secrets in, the inner plaintext of each
protected record out, with its stream offset so frames can be cited. The key logs of NSS,
OpenSSL, BoringSSL and Python's ``ssl`` give per-connection *traffic secrets*
(``CLIENT_HANDSHAKE_TRAFFIC_SECRET``, ``CLIENT_TRAFFIC_SECRET_0``, ...); the write key and IV of
each follow from RFC 8446 section 7.3, and KeyUpdate's next generation from section 7.2.

A direction moves through *epochs*: 0-RTT early data (client only, when its secret was logged),
handshake, then application traffic generations 0, 1, 2, ... Each epoch restarts the record
sequence number (section 5.3). The walk advances on the handshake messages it decrypts
(EndOfEarlyData, Finished, KeyUpdate), and, when a record does not authenticate under the current
epoch's key (early data the server rejected, a secret missing from the log), tries the next epochs
before giving up, so a partial key log still decrypts what it can.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from inspector.errors import ParseError

__all__ = [
    "SUITES",
    "Epochs",
    "InnerRecord",
    "Suite",
    "decrypt_stream",
    "hkdf_expand_label",
    "next_traffic_secret",
    "traffic_keys",
]


@dataclass(frozen=True, slots=True)
class Suite:
    """One TLS 1.3 cipher suite (RFC 8446 appendix B.4; CCM from RFC 8446 and RFC 6655)."""

    name: str
    hash_name: str
    key_len: int
    tag_len: int
    aead: Callable[[bytes], object]


def _ccm8(key: bytes) -> AESCCM:
    return AESCCM(key, tag_length=8)


#: cipher suite code point -> suite (the five of RFC 8446 appendix B.4)
SUITES: dict[int, Suite] = {
    0x1301: Suite("TLS_AES_128_GCM_SHA256", "sha256", 16, 16, AESGCM),
    0x1302: Suite("TLS_AES_256_GCM_SHA384", "sha384", 32, 16, AESGCM),
    0x1303: Suite("TLS_CHACHA20_POLY1305_SHA256", "sha256", 32, 16, ChaCha20Poly1305),
    0x1304: Suite("TLS_AES_128_CCM_SHA256", "sha256", 16, 16, AESCCM),
    0x1305: Suite("TLS_AES_128_CCM_8_SHA256", "sha256", 16, 8, _ccm8),
}
MAX_RECORDS = 8192  #: per direction
MAX_FAILED = 64  #: records that authenticate under no epoch before the walk stops
_APPLICATION_DATA = 23
_HS_END_OF_EARLY_DATA = 5
_HS_FINISHED = 20
_HS_KEY_UPDATE = 24


def hkdf_expand_label(
    secret: bytes, label: str, context: bytes, length: int, hash_name: str = "sha256"
) -> bytes:
    """HKDF-Expand-Label (RFC 8446 section 7.1) with the suite's hash."""
    full = b"tls13 " + label.encode("ascii")
    info = struct.pack("!HB", length, len(full)) + full + bytes([len(context)]) + context
    out = b""
    block = b""
    counter = 1
    digest = getattr(hashlib, hash_name)
    while len(out) < length:
        block = hmac.digest(secret, block + info + bytes([counter]), digest)
        out += block
        counter += 1
    return out[:length]


def suite(code: int) -> Suite:
    if code not in SUITES:
        raise ParseError(f"cipher suite 0x{code:04x} is not a TLS 1.3 suite", "unsupported_suite")
    return SUITES[code]


def traffic_keys(secret: bytes, cipher_suite: int) -> tuple[bytes, bytes]:
    """``(write_key, write_iv)`` of a traffic secret (RFC 8446 section 7.3)."""
    s = suite(cipher_suite)
    return (
        hkdf_expand_label(secret, "key", b"", s.key_len, s.hash_name),
        hkdf_expand_label(secret, "iv", b"", 12, s.hash_name),
    )


def next_traffic_secret(secret: bytes, cipher_suite: int) -> bytes:
    """The next application traffic secret after a KeyUpdate (RFC 8446 section 7.2)."""
    s = suite(cipher_suite)
    size = hashlib.new(s.hash_name).digest_size
    return hkdf_expand_label(secret, "traffic upd", b"", size, s.hash_name)


@dataclass(frozen=True, slots=True)
class Epochs:
    """The secrets of one direction that the key log gave (None when not logged)."""

    early: bytes | None = None  #: CLIENT_EARLY_TRAFFIC_SECRET (client direction only)
    handshake: bytes | None = None  #: *_HANDSHAKE_TRAFFIC_SECRET
    application: bytes | None = None  #: *_TRAFFIC_SECRET_0


@dataclass(frozen=True, slots=True)
class InnerRecord:
    """One decrypted record: its stream offset, real content type, plaintext and epoch name."""

    offset: int
    content_type: int
    plaintext: bytes
    epoch: str  #: ``early``, ``handshake``, ``application`` (generation N: ``application+N``)


class _Epoch:
    __slots__ = ("aead", "iv", "name", "secret", "seq")

    def __init__(self, name: str, secret: bytes, cipher_suite: int) -> None:
        key, self.iv = traffic_keys(secret, cipher_suite)
        self.aead = suite(cipher_suite).aead(key)
        self.name = name
        self.secret = secret
        self.seq = 0

    def open(self, header: bytes, body: bytes) -> bytes | None:
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big"), strict=True))
        try:
            plain: bytes = self.aead.decrypt(nonce, body, header)  # type: ignore[attr-defined]
        except (InvalidTag, ValueError):
            return None
        self.seq += 1
        return plain


def _inner(plain: bytes) -> tuple[int, bytes]:
    """Strip TLSInnerPlaintext padding (RFC 8446 section 5.4): content then type then zeros."""
    end = len(plain.rstrip(b"\x00"))
    if end == 0:
        raise ParseError("decrypted record has no content type", "bad_inner_plaintext")
    return plain[end - 1], plain[: end - 1]


class _Walk:
    """The epochs of one direction, in order, the next application generation made on demand."""

    def __init__(self, epochs: Epochs, cipher_suite: int) -> None:
        self.suite = cipher_suite
        self.chain: list[_Epoch] = []
        if epochs.early is not None:
            self.chain.append(_Epoch("early", epochs.early, cipher_suite))
        if epochs.handshake is not None:
            self.chain.append(_Epoch("handshake", epochs.handshake, cipher_suite))
        self.app_start = len(self.chain)
        if epochs.application is not None:
            self.chain.append(_Epoch("application", epochs.application, cipher_suite))
        self.current = 0
        self.hs_buffer = b""

    def _epoch(self, i: int) -> _Epoch | None:
        if i < len(self.chain):
            return self.chain[i]
        last = self.chain[-1] if self.chain else None
        if last is None or i != len(self.chain) or len(self.chain) <= self.app_start:
            return None
        gen = i - self.app_start
        nxt = _Epoch(f"application+{gen}", next_traffic_secret(last.secret, self.suite), self.suite)
        self.chain.append(nxt)
        return nxt

    def open(self, header: bytes, body: bytes) -> tuple[_Epoch, bytes] | None:
        """Open under the current epoch, else under one of the next two (then switch)."""
        for i in range(self.current, self.current + 3):
            epoch = self._epoch(i)
            if epoch is None:
                break
            plain = epoch.open(header, body)
            if plain is not None:
                if i != self.current:
                    self.current = i
                return epoch, plain
        return None

    def advance_to(self, i: int) -> None:
        if i > self.current and self._epoch(i) is not None:
            self.current = i

    def handshake(self, data: bytes) -> None:
        """Follow the handshake messages of a decrypted record (they may span records)."""
        buf = self.hs_buffer + data
        pos = 0
        while pos + 4 <= len(buf):
            msg_type = buf[pos]
            length = int.from_bytes(buf[pos + 1 : pos + 4], "big")
            if pos + 4 + length > len(buf):
                break
            pos += 4 + length
            if msg_type == _HS_END_OF_EARLY_DATA and self.chain[self.current].name == "early":
                self.advance_to(self.current + 1)
            elif msg_type == _HS_FINISHED and self.current < self.app_start:
                self.advance_to(self.app_start)
            elif msg_type == _HS_KEY_UPDATE and self.current >= self.app_start:
                self.advance_to(self.current + 1)
        self.hs_buffer = buf[pos:][-65536:]


def decrypt_stream(
    data: bytes, epochs: Epochs, cipher_suite: int, version: int = 0x0304
) -> tuple[list[InnerRecord], int]:
    """Decrypt every protected record of one direction's bytes.

    Returns ``(records, failed)``: the decrypted records in stream order and how many protected
    records authenticated under none of the logged secrets (0-RTT data the server skipped, or a
    secret the log lacks). ``version`` is the negotiated version: drafts before 25 (0x7f19)
    authenticate no additional data, later ones the record header (RFC 8446 section 5.2).
    Unprotected records (ClientHello, ServerHello, the compatibility ChangeCipherSpec) are
    skipped. Raises :class:`ParseError` for a suite that is not TLS 1.3.
    """
    walk = _Walk(epochs, cipher_suite)
    header_aad = not 0x7F00 <= version < 0x7F19
    out: list[InnerRecord] = []
    failed = 0
    pos = 0
    while pos + 5 <= len(data) and len(out) < MAX_RECORDS and failed < MAX_FAILED:
        ctype = data[pos]
        (length,) = struct.unpack_from("!H", data, pos + 3)
        if ctype not in (20, 21, 22, 23) or pos + 5 + length > len(data):
            break
        if ctype == _APPLICATION_DATA and walk.chain:
            aad = data[pos : pos + 5] if header_aad else b""
            opened = walk.open(aad, data[pos + 5 : pos + 5 + length])
            if opened is None:
                failed += 1
            else:
                epoch, plain = opened
                inner_type, content = _inner(plain)
                out.append(InnerRecord(pos, inner_type, content, epoch.name))
                if inner_type == 22:
                    walk.handshake(content)
        pos += 5 + length
    return out, failed
