"""Builders for TLS / DTLS test messages, certificates and flows (shared by the TLS tests)."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from inspector.flows.view import Datagram, FlowView, Stream

# ------------------------------------------------------------------ RFC 8448 section 3 vectors
#: "{client} construct a ClientHello handshake message" (196 octets, with its 4-byte header).
RFC8448_CLIENT_HELLO = bytes.fromhex(
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef"
    "6283024dece7000006130113031302010000910000000b000900000673657276"
    "6572ff01000100000a00140012001d0017001800190100010101020103010400"
    "230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e"
    "51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202002d00020101001c"
    "00024001"
)
#: "{server} construct a ServerHello handshake message" (90 octets, with its header).
RFC8448_SERVER_HELLO = bytes.fromhex(
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155"
    "772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdb"
    "f7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
)

HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def u8(v: int) -> bytes:
    return v.to_bytes(1, "big")


def u16(v: int) -> bytes:
    return v.to_bytes(2, "big")


def u24(v: int) -> bytes:
    return v.to_bytes(3, "big")


def vec(data: bytes, size: int) -> bytes:
    return len(data).to_bytes(size, "big") + data


def u16s(values: Iterable[int]) -> bytes:
    return b"".join(u16(v) for v in values)


# ------------------------------------------------------------------ extensions
def ext(ext_type: int, data: bytes = b"") -> bytes:
    return u16(ext_type) + vec(data, 2)


def sni_ext(name: str) -> bytes:
    return ext(0x0000, vec(b"\x00" + vec(name.encode(), 2), 2))


def alpn_ext(*protocols: bytes) -> bytes:
    return ext(0x0010, vec(b"".join(vec(p, 1) for p in protocols), 2))


def groups_ext(*groups: int) -> bytes:
    return ext(0x000A, vec(u16s(groups), 2))


def point_formats_ext(*formats: int) -> bytes:
    return ext(0x000B, vec(bytes(formats), 1))


def sigalgs_ext(*algs: int) -> bytes:
    return ext(0x000D, vec(u16s(algs), 2))


def versions_ext(*versions: int) -> bytes:
    return ext(0x002B, vec(u16s(versions), 1))


def key_share_ext(*shares: tuple[int, int]) -> bytes:
    """``(group, key length)`` pairs; key bytes are filler."""
    entries = b"".join(u16(g) + vec(b"\x42" * n, 2) for g, n in shares)
    return ext(0x0033, vec(entries, 2))


def use_srtp_ext(*profiles: int, mki: bytes = b"") -> bytes:
    return ext(0x000E, vec(u16s(profiles), 2) + vec(mki, 1))


def ech_outer_ext(config_id: int = 0x2A, enc_len: int = 32, payload_len: int = 176) -> bytes:
    """ECHClientHello outer: type 0, HPKE suite (HKDF-SHA256, AES-128-GCM), config id, enc,
    payload (draft-ietf-tls-esni section 5)."""
    body = b"\x00" + u16(0x0001) + u16(0x0001) + u8(config_id)
    body += vec(b"\x11" * enc_len, 2) + vec(b"\x22" * payload_len, 2)
    return ext(0xFE0D, body)


# ------------------------------------------------------------------ hellos
def client_hello_body(
    extensions: Sequence[bytes] = (),
    ciphers: Sequence[int] = (0x1301, 0x1302, 0xC02B),
    version: int = 0x0303,
    random: bytes = bytes(range(32)),
    session_id: bytes = b"",
    cookie: bytes | None = None,
    compression: bytes = b"\x00",
    no_extensions: bool = False,
) -> bytes:
    body = u16(version) + random + vec(session_id, 1)
    if cookie is not None:
        body += vec(cookie, 1)
    body += vec(u16s(ciphers), 2) + vec(compression, 1)
    if not no_extensions:
        body += vec(b"".join(extensions), 2)
    return body


def server_hello_body(
    cipher: int = 0x1301,
    extensions: Sequence[bytes] = (),
    version: int = 0x0303,
    random: bytes = bytes(range(100, 132)),
    session_id: bytes = b"",
) -> bytes:
    body = u16(version) + random + vec(session_id, 1) + u16(cipher) + b"\x00"
    return body + vec(b"".join(extensions), 2) if extensions else body


def handshake(msg_type: int, body: bytes) -> bytes:
    return u8(msg_type) + u24(len(body)) + body


def record(content_type: int, payload: bytes, version: int = 0x0301) -> bytes:
    return u8(content_type) + u16(version) + vec(payload, 2)


def certificate_body(ders: Sequence[bytes]) -> bytes:
    return vec(b"".join(vec(d, 3) for d in ders), 3)


# ------------------------------------------------------------------ certificates
_NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def make_cert(
    cn: str,
    key_type: str = "ec",
    issuer_cn: str | None = None,
    issuer_key: object | None = None,
    sans: Sequence[str] = (),
) -> tuple[bytes, object]:
    """A DER certificate and its private key; self-signed unless an issuer key is given."""
    if key_type == "rsa":
        key: object = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif key_type == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn or cn)])
    signer = issuer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(0x1234)
        .not_valid_before(_NOW)
        .not_valid_after(_NOW + datetime.timedelta(days=30))
    )
    if sans:
        names: list[x509.GeneralName] = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = builder.sign(signer, algorithm)  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.DER), key


# ------------------------------------------------------------------ flows
def stream(
    data: bytes,
    sizes: Sequence[int] = (),
    first_frame: int = 1,
    ts: float = 100.0,
    gap: bool = False,
) -> Stream:
    """A Stream whose segments have the given sizes (the rest in one last segment)."""
    segments: list[tuple[int, int, float]] = []
    offset, frame = 0, first_frame
    for size in sizes:
        if offset >= len(data):
            break
        segments.append((offset, frame, ts + frame / 1000))
        offset += size
        frame += 1
    if offset < len(data):
        segments.append((offset, frame, ts + frame / 1000))
    return Stream(data, tuple(segments), gap=gap)


def tcp_view(orig: Stream, resp: Stream | None = None, uid: str = "CTLS1") -> FlowView:
    return FlowView(
        uid=uid,
        proto="tcp",
        orig_h="10.0.0.1",
        orig_p=50000,
        resp_h="192.0.2.1",
        resp_p=443,
        ts=99.0,
        orig=orig,
        resp=resp or Stream(b"", ()),
    )


def udp_view(datagrams: Sequence[tuple[bool, bytes]], uid: str = "CDTLS1") -> FlowView:
    """Datagrams as ``(from_orig, payload)``; frames numbered from 1."""
    return FlowView(
        uid=uid,
        proto="udp",
        orig_h="10.0.0.1",
        orig_p=50000,
        resp_h="192.0.2.1",
        resp_p=3478,
        ts=99.0,
        datagrams=tuple(
            Datagram(frame=i + 1, ts=100.0 + i, from_orig=o, payload=p)
            for i, (o, p) in enumerate(datagrams)
        ),
    )


# ------------------------------------------------------------------ DTLS
def dtls_record(
    content_type: int, payload: bytes, epoch: int = 0, seq: int = 0, version: int = 0xFEFD
) -> bytes:
    return u8(content_type) + u16(version) + u16(epoch) + seq.to_bytes(6, "big") + vec(payload, 2)


def dtls_fragment(msg_type: int, body: bytes, seq: int, offset: int, length: int) -> bytes:
    """One 12-byte-header handshake fragment covering ``body[offset:offset+length]``."""
    piece = body[offset : offset + length]
    return u8(msg_type) + u24(len(body)) + u16(seq) + u24(offset) + vec(piece, 3)


def dtls_handshake(msg_type: int, body: bytes, seq: int) -> bytes:
    return dtls_fragment(msg_type, body, seq, 0, len(body))
