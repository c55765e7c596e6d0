"""TLS 1.2 record decryption for AEAD suites, given the master secret (RFC 5246, 5288, 7905).

Pure functions: a direction's record stream and the keys in, the plaintext of each
application-data record out (with its stream offset, so frames can be cited). Suites:
AES-128/256-GCM and ChaCha20-Poly1305 with RSA, DHE or ECDHE key exchange. CBC suites and TLS 1.3
are not decrypted (the caller says so).
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from inspector.errors import ParseError

__all__ = ["SUITES", "DecryptedRecord", "Keys", "decrypt_stream", "key_block", "prf"]

#: cipher suite -> (algorithm, key length, fixed IV length, PRF hash)
SUITES: dict[int, tuple[str, int, int, str]] = {
    0x009C: ("gcm", 16, 4, "sha256"),
    0x009D: ("gcm", 32, 4, "sha384"),
    0x009E: ("gcm", 16, 4, "sha256"),
    0x009F: ("gcm", 32, 4, "sha384"),
    0xC02B: ("gcm", 16, 4, "sha256"),
    0xC02C: ("gcm", 32, 4, "sha384"),
    0xC02F: ("gcm", 16, 4, "sha256"),
    0xC030: ("gcm", 32, 4, "sha384"),
    0xCCA8: ("chacha", 32, 12, "sha256"),
    0xCCA9: ("chacha", 32, 12, "sha256"),
    0xCCAA: ("chacha", 32, 12, "sha256"),
}
MAX_RECORDS = 4096


def prf(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    """The TLS 1.2 PRF: P_hash(secret, label + seed) (RFC 5246 section 5)."""
    full = label + seed
    out = b""
    a = full
    while len(out) < length:
        a = hmac.new(secret, a, hash_name).digest()
        out += hmac.new(secret, a + full, hash_name).digest()
    return out[:length]


@dataclass(frozen=True, slots=True)
class Keys:
    algorithm: str
    client_key: bytes
    server_key: bytes
    client_iv: bytes
    server_iv: bytes


def key_block(master: bytes, client_random: bytes, server_random: bytes, suite: int) -> Keys:
    """The write keys and IVs of both sides (RFC 5246 section 6.3; AEAD suites have no MAC key)."""
    if suite not in SUITES:
        raise ParseError(f"cipher suite 0x{suite:04x} is not decrypted", "unsupported_suite")
    algorithm, key_len, iv_len, hash_name = SUITES[suite]
    block = prf(
        master, b"key expansion", server_random + client_random, 2 * key_len + 2 * iv_len, hash_name
    )
    ck, sk = block[:key_len], block[key_len : 2 * key_len]
    civ = block[2 * key_len : 2 * key_len + iv_len]
    siv = block[2 * key_len + iv_len :]
    return Keys(algorithm, ck, sk, civ, siv)


@dataclass(frozen=True, slots=True)
class DecryptedRecord:
    offset: int  #: stream offset of the record header
    content_type: int
    plaintext: bytes


def decrypt_stream(data: bytes, key: bytes, iv: bytes, algorithm: str) -> list[DecryptedRecord]:
    """Decrypt every record after this direction's ChangeCipherSpec.

    The sequence number restarts at 0 after ChangeCipherSpec (the first protected record is the
    Finished message). Raises :class:`ParseError` when a record does not authenticate.
    """
    out: list[DecryptedRecord] = []
    pos = 0
    protected = False
    seq = 0
    aead = AESGCM(key) if algorithm == "gcm" else ChaCha20Poly1305(key)
    while pos + 5 <= len(data) and len(out) < MAX_RECORDS:
        ctype = data[pos]
        version = data[pos + 1 : pos + 3]
        (length,) = struct.unpack_from("!H", data, pos + 3)
        body = data[pos + 5 : pos + 5 + length]
        if len(body) < length or ctype not in (20, 21, 22, 23):
            break
        if ctype == 20:
            protected = True
        elif protected:
            if algorithm == "gcm":
                if length < 8 + 16:
                    raise ParseError(f"record of {length} bytes at {pos}", "short_record")
                nonce = iv + body[:8]
                sealed = body[8:]
            else:
                nonce = bytes(a ^ b for a, b in zip(iv, seq.to_bytes(12, "big"), strict=True))
                sealed = body
            aad = (
                seq.to_bytes(8, "big")
                + bytes([ctype])
                + version
                + struct.pack("!H", len(sealed) - 16)
            )
            try:
                plain = aead.decrypt(nonce, sealed, aad)
            except InvalidTag as exc:
                raise ParseError(
                    f"record {seq} at offset {pos} does not authenticate with the logged key",
                    "tls_decrypt_failed",
                ) from exc
            out.append(DecryptedRecord(pos, ctype, plain))
            seq += 1
        pos += 5 + length
    return out
