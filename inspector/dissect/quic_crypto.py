"""QUIC Initial packet protection: versions, salts, key schedule, header protection, AEAD.

Everything here follows RFC 9001 section 5 (v1), RFC 9369 section 3.3 (v2) and, for the
legacy versions still seen in captures, the salts nDPI's ``quic.c`` uses (IETF drafts 22 to 34,
Facebook mvfst, Google Q050/T050/T051). Only AEAD_AES_128_GCM is needed: Initial packets are
always protected with it, with SHA-256 as the HKDF hash.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from inspector.errors import ParseError

__all__ = [
    "PacketKeys",
    "QuicVersion",
    "aead_open",
    "aead_seal",
    "header_protection_mask",
    "hkdf_expand_label",
    "hkdf_extract",
    "initial_keys",
    "initial_secrets",
    "is_gquic_version",
    "is_grease_version",
    "is_known_version",
    "packet_keys",
    "retry_integrity_tag",
    "uses_v2_labels",
    "version_name",
    "version_salt",
]


class QuicVersion(IntEnum):
    """Version numbers with a name of their own (drafts are ``0xff0000NN``)."""

    NEGOTIATION = 0x00000000
    V1 = 0x00000001
    V2 = 0x6B3343CF
    MVFST_22 = 0xFACEB001
    MVFST_27 = 0xFACEB002
    MVFST_EXP = 0xFACEB00E
    Q043 = 0x51303433
    Q046 = 0x51303436
    Q050 = 0x51303530
    T050 = 0x54303530
    T051 = 0x54303531


# Initial salts: RFC 9001 section 5.2, RFC 9369 section 3.3.1, drafts and Google's from nDPI quic.c.
SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")
SALT_DRAFT_22 = bytes.fromhex("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a")
SALT_DRAFT_23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")
SALT_DRAFT_29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")
SALT_Q050 = bytes.fromhex("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45")
SALT_T050 = bytes.fromhex("7ff579e5acd072915580304c43a2367c60488310")
SALT_T051 = bytes.fromhex("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d")

# Retry integrity (RFC 9001 section 5.8, RFC 9369 section 3.3.3).
_RETRY_V1 = (
    bytes.fromhex("be0c690b9f66575a1d766b54e368c84e"),
    bytes.fromhex("461599d35d632bf2239825bb"),
)
_RETRY_V2 = (
    bytes.fromhex("8fb4b01b56ac48e260fbcbcead7ccc92"),
    bytes.fromhex("d86969bc2d7c6d9990efb04a"),
)

_MVFST_NAMES = {
    QuicVersion.MVFST_22: "mvfst-22",
    QuicVersion.MVFST_27: "mvfst-27",
    QuicVersion.MVFST_EXP: "mvfst-exp",
}


def is_grease_version(version: int) -> bool:
    """Versions of the form ``0x?a?a?a?a`` are reserved to exercise version negotiation."""
    return (version & 0x0F0F0F0F) == 0x0A0A0A0A


def is_gquic_version(version: int) -> bool:
    """Google QUIC: ``Q0NN`` (QUIC crypto) or ``T0NN`` (TLS), as four ASCII characters."""
    b = version.to_bytes(4, "big")
    return b[0] in b"QT" and b[1:2] == b"0" and b[2:4].isdigit()


def _draft(version: int) -> int:
    """The draft number nDPI assigns to ``version`` for salt selection, or 0."""
    if version >> 8 == 0xFF0000:
        return version & 0xFF
    if version == QuicVersion.MVFST_22:
        return 22
    if version in (QuicVersion.MVFST_27, QuicVersion.MVFST_EXP):
        return 27
    return 0


def is_known_version(version: int) -> bool:
    """A version seen in the wild: v1, v2, drafts 1..34, Facebook mvfst or Google's."""
    return (
        version in (QuicVersion.V1, QuicVersion.V2)
        or 0xFF000001 <= version <= 0xFF000022
        or version & 0xFFFFF000 == 0xFACEB000
        or is_gquic_version(version)
    )


def version_name(version: int) -> str:
    """Short name: ``1``, ``2``, ``draft-29``, ``mvfst-27``, ``T051``, ``Q046`` or ``0x…``."""
    if version == QuicVersion.V1:
        return "1"
    if version == QuicVersion.V2:
        return "2"
    if version >> 8 == 0xFF0000:
        return f"draft-{version & 0xFF}"
    if version in _MVFST_NAMES:
        return _MVFST_NAMES[QuicVersion(version)]
    if is_gquic_version(version):
        return version.to_bytes(4, "big").decode("ascii")
    return f"0x{version:08x}"


def version_salt(version: int) -> bytes | None:
    """The Initial salt of ``version``, or None when its Initials cannot be decrypted here.

    Drafts follow nDPI's thresholds: up to 22 the draft-22 salt, 23..28 the draft-23 salt,
    29..32 the draft-29 salt, 33..34 the v1 salt; mvfst-22 counts as draft 22, the other mvfst
    versions as draft 27.
    """
    if version == QuicVersion.V1:
        return SALT_V1
    if version == QuicVersion.V2:
        return SALT_V2
    if version == QuicVersion.Q050:
        return SALT_Q050
    if version == QuicVersion.T050:
        return SALT_T050
    if version == QuicVersion.T051:
        return SALT_T051
    draft = _draft(version)
    if draft == 0 or draft > 34:
        return None
    if draft <= 22:
        return SALT_DRAFT_22
    if draft <= 28:
        return SALT_DRAFT_23
    if draft <= 32:
        return SALT_DRAFT_29
    return SALT_V1


def uses_v2_labels(version: int) -> bool:
    """RFC 9369 section 3.3.2: v2 expands with ``quicv2 key/iv/hp`` instead of ``quic …``."""
    return version == QuicVersion.V2


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract with SHA-256 (RFC 5869): HMAC(key=salt, msg=ikm)."""
    return hmac.digest(salt, ikm, "sha256")


def hkdf_expand_label(secret: bytes, label: str, context: bytes, length: int) -> bytes:
    """TLS 1.3 HKDF-Expand-Label (RFC 8446 section 7.1) with SHA-256."""
    full = b"tls13 " + label.encode("ascii")
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(secret, block + info + bytes([counter]), hashlib.sha256)
        out += block
        counter += 1
    return out[:length]


def initial_secrets(version: int, dcid: bytes) -> tuple[bytes, bytes]:
    """``(client_initial_secret, server_initial_secret)`` for the client's first DCID.

    Raises ParseError for a version without a known salt.
    """
    salt = version_salt(version)
    if salt is None:
        raise ParseError(f"no Initial salt for version 0x{version:08x}", "unsupported_version")
    initial = hkdf_extract(salt, dcid)
    return (
        hkdf_expand_label(initial, "client in", b"", 32),
        hkdf_expand_label(initial, "server in", b"", 32),
    )


@dataclass(frozen=True, slots=True)
class PacketKeys:
    """AEAD key, IV and header-protection key of one direction (AES-128-GCM)."""

    key: bytes
    iv: bytes
    hp: bytes


def packet_keys(secret: bytes, version: int) -> PacketKeys:
    """Expand a traffic secret into key (16), iv (12) and hp (16) with the version's labels."""
    prefix = "quicv2 " if uses_v2_labels(version) else "quic "
    return PacketKeys(
        key=hkdf_expand_label(secret, prefix + "key", b"", 16),
        iv=hkdf_expand_label(secret, prefix + "iv", b"", 12),
        hp=hkdf_expand_label(secret, prefix + "hp", b"", 16),
    )


def initial_keys(version: int, dcid: bytes, server: bool = False) -> PacketKeys:
    """Initial keys of the client (``server=False``) or the server, from the client's DCID."""
    client_secret, server_secret = initial_secrets(version, dcid)
    return packet_keys(server_secret if server else client_secret, version)


def header_protection_mask(hp: bytes, sample: bytes) -> bytes:
    """RFC 9001 section 5.4.3: the first 5 bytes of AES-ECB(hp, sample)."""
    if len(sample) != 16:
        raise ParseError(f"header protection sample of {len(sample)} bytes", "truncated")
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    return enc.update(sample)[:5]


def _nonce(iv: bytes, packet_number: int) -> bytes:
    return bytes(a ^ b for a, b in zip(iv, packet_number.to_bytes(12, "big"), strict=True))


def aead_open(keys: PacketKeys, packet_number: int, header: bytes, ciphertext: bytes) -> bytes:
    """Decrypt and authenticate a packet payload (ciphertext includes the 16-byte tag).

    ``header`` is the unprotected header, first byte through packet number, used as AAD.
    Raises ParseError("…", "decrypt_failed") when the tag does not verify.
    """
    if len(ciphertext) < 16:
        raise ParseError(
            f"ciphertext of {len(ciphertext)} bytes has no room for a tag", "truncated"
        )
    if not 0 <= packet_number < 1 << 62:
        raise ParseError(f"packet number {packet_number} out of range", "bad_packet_number")
    try:
        return AESGCM(keys.key).decrypt(_nonce(keys.iv, packet_number), ciphertext, header)
    except InvalidTag:
        raise ParseError("AEAD tag did not verify", "decrypt_failed") from None


def aead_seal(keys: PacketKeys, packet_number: int, header: bytes, plaintext: bytes) -> bytes:
    """Encrypt a packet payload (the inverse of :func:`aead_open`; used to build test packets)."""
    return AESGCM(keys.key).encrypt(_nonce(keys.iv, packet_number), plaintext, header)


def retry_integrity_tag(version: int, odcid: bytes, retry_without_tag: bytes) -> bytes:
    """RFC 9001 section 5.8 / RFC 9369 section 3.3.3: the tag a Retry packet must end with."""
    key, nonce = _RETRY_V2 if version == QuicVersion.V2 else _RETRY_V1
    pseudo = bytes([len(odcid)]) + odcid + retry_without_tag
    return AESGCM(key).encrypt(nonce, b"", pseudo)
