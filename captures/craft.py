"""Building blocks for the project's synthetic captures (scapy for framing, struct for payloads).

Everything here is deterministic: fixed addresses, fixed clock, seeded randomness, so regenerating
a capture gives the same bytes. Used by ``generate.py``; not part of the installed package.
"""

from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass, field

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

__all__ = [
    "Clock",
    "Trace",
    "client_hello",
    "http_request",
    "rtp",
    "server_hello_certificate",
    "stun_binding",
    "zoom_media",
]

CLIENT_MAC = "02:00:00:00:00:01"
GATEWAY_MAC = "02:00:00:00:00:fe"


@dataclass
class Clock:
    t: float = 1_700_000_000.0

    def tick(self, dt: float = 0.001) -> float:
        self.t = round(self.t + dt, 6)
        return self.t


@dataclass
class Trace:
    """An ordered list of (timestamp, frame) written out as a capture."""

    clock: Clock = field(default_factory=Clock)
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    _seq: dict[tuple[str, int, str, int], int] = field(default_factory=dict)

    def emit(self, pkt: Packet, dt: float = 0.001) -> None:
        frame = Ether(src=CLIENT_MAC, dst=GATEWAY_MAC) / pkt if not isinstance(pkt, Ether) else pkt
        self.frames.append((self.clock.tick(dt), bytes(frame)))

    def _ip(self, src: str, dst: str) -> Packet:
        return (
            IPv6(src=src, dst=dst)
            if ":" in src
            else IP(src=src, dst=dst, id=len(self.frames) & 0xFFFF)
        )

    def udp(
        self, src: str, sport: int, dst: str, dport: int, payload: bytes, dt: float = 0.001
    ) -> None:
        self.emit(self._ip(src, dst) / UDP(sport=sport, dport=dport) / Raw(payload), dt)

    def dns(
        self,
        client: str,
        resolver: str,
        name: str,
        answers: list[tuple[str, str]],
        qtype: str = "A",
        sport: int = 53000,
        ttl: int = 300,
    ) -> None:
        """A query and its response; answers are (type, value) pairs, CNAME chains allowed."""
        tid = int(hashlib.sha1(name.encode()).hexdigest()[:4], 16)
        q = DNS(id=tid, rd=1, qd=DNSQR(qname=name, qtype=qtype))
        self.udp(client, sport, resolver, 53, bytes(q))
        owner = name
        rrs = []
        for rtype, value in answers:
            rrs.append(DNSRR(rrname=owner, type=rtype, ttl=ttl, rdata=value))
            if rtype == "CNAME":
                owner = value
        an = None
        for rr in rrs:
            an = rr if an is None else an / rr
        r = DNS(id=tid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=an)
        self.udp(resolver, 53, client, sport, bytes(r), dt=0.012)

    def tcp_session(
        self,
        client: str,
        cport: int,
        server: str,
        sport: int,
        exchanges: list[tuple[bool, bytes]],
        mss: int = 1400,
        close: bool = True,
    ) -> None:
        """Handshake, then each (from_client, data) in order, split at ``mss``; then FIN/ACK."""
        cseq, sseq = 1000, 5000
        ip_c, ip_s = self._ip(client, server), self._ip(server, client)
        self.emit(ip_c / TCP(sport=cport, dport=sport, flags="S", seq=cseq))
        self.emit(ip_s / TCP(sport=sport, dport=cport, flags="SA", seq=sseq, ack=cseq + 1), 0.02)
        cseq += 1
        sseq += 1
        self.emit(ip_c / TCP(sport=cport, dport=sport, flags="A", seq=cseq, ack=sseq), 0.02)
        for from_client, data in exchanges:
            for i in range(0, len(data), mss):
                chunk = data[i : i + mss]
                if from_client:
                    self.emit(
                        ip_c
                        / TCP(sport=cport, dport=sport, flags="PA", seq=cseq, ack=sseq)
                        / Raw(chunk)
                    )
                    cseq += len(chunk)
                else:
                    self.emit(
                        ip_s
                        / TCP(sport=sport, dport=cport, flags="PA", seq=sseq, ack=cseq)
                        / Raw(chunk),
                        0.01,
                    )
                    sseq += len(chunk)
            ack_ip, ack_tcp = (
                (ip_s, TCP(sport=sport, dport=cport, flags="A", seq=sseq, ack=cseq))
                if from_client
                else (ip_c, TCP(sport=cport, dport=sport, flags="A", seq=cseq, ack=sseq))
            )
            self.emit(ack_ip / ack_tcp)
        if close:
            self.emit(ip_c / TCP(sport=cport, dport=sport, flags="FA", seq=cseq, ack=sseq))
            self.emit(ip_s / TCP(sport=sport, dport=cport, flags="FA", seq=sseq, ack=cseq + 1))
            self.emit(ip_c / TCP(sport=cport, dport=sport, flags="A", seq=cseq + 1, ack=sseq + 1))

    def icmp_echo(self, src: str, dst: str) -> None:
        self.emit(IP(src=src, dst=dst) / ICMP(type=8, id=1, seq=1) / Raw(b"ping"))
        self.emit(IP(src=dst, dst=src) / ICMP(type=0, id=1, seq=1) / Raw(b"ping"), 0.01)


def _ext(etype: int, body: bytes) -> bytes:
    return struct.pack("!HH", etype, len(body)) + body


def _vec(n: int, body: bytes) -> bytes:
    return len(body).to_bytes(n, "big") + body


def client_hello(
    sni: str,
    alpn: tuple[str, ...] = ("h2", "http/1.1"),
    tls13: bool = True,
    seed: int = 1,
    key_share_pq: bool = False,
) -> bytes:
    """A TLS record holding a realistic ClientHello for ``sni``."""
    rnd = random.Random(seed)
    suites = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x009C]
    exts = _ext(0x0000, _vec(2, b"\x00" + _vec(2, sni.encode())))
    exts += _ext(0x000A, _vec(2, b"".join(struct.pack("!H", g) for g in (0x001D, 0x0017, 0x0018))))
    exts += _ext(0x000B, _vec(1, b"\x00"))
    exts += _ext(0x000D, _vec(2, b"".join(struct.pack("!H", s) for s in (0x0403, 0x0804, 0x0401))))
    exts += _ext(0x0010, _vec(2, b"".join(_vec(1, a.encode()) for a in alpn)))
    if tls13:
        exts += _ext(0x002B, _vec(1, b"\x03\x04\x03\x03"))
        share = struct.pack("!H", 0x001D) + _vec(2, bytes(rnd.getrandbits(8) for _ in range(32)))
        if key_share_pq:
            share = (
                struct.pack("!H", 0x11EC)
                + _vec(2, bytes(rnd.getrandbits(8) for _ in range(1216)))
                + share
            )
        exts += _ext(0x0033, _vec(2, share))
    body = b"\x03\x03" + bytes(rnd.getrandbits(8) for _ in range(32))
    body += _vec(1, bytes(rnd.getrandbits(8) for _ in range(32)))
    body += _vec(2, b"".join(struct.pack("!H", s) for s in suites)) + _vec(1, b"\x00")
    body += _vec(2, exts)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_hello_certificate(cipher: int = 0x1301, tls13: bool = True, seed: int = 2) -> bytes:
    """ServerHello (+ ChangeCipherSpec + an opaque application-data record, as TLS 1.3 sends)."""
    rnd = random.Random(seed)
    exts = _ext(0x002B, b"\x03\x04") if tls13 else b""
    body = b"\x03\x03" + bytes(rnd.getrandbits(8) for _ in range(32)) + _vec(1, b"")
    body += struct.pack("!H", cipher) + b"\x00" + _vec(2, exts)
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    out = b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs
    out += b"\x14\x03\x03\x00\x01\x01"
    blob = bytes(rnd.getrandbits(8) for _ in range(900))
    return out + b"\x17\x03\x03" + struct.pack("!H", len(blob)) + blob


def app_data(n: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    blob = bytes(rnd.getrandbits(8) for _ in range(n))
    return b"\x17\x03\x03" + struct.pack("!H", len(blob)) + blob


def http_request(
    host: str,
    path: str = "/",
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: sample-client/1.0"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_response(status: int = 200, body: bytes = b"ok", ctype: str = "text/plain") -> bytes:
    return (
        f"HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def rtp(
    seq: int, ts: int, ssrc: int, pt: int, payload: bytes, marker: bool = False, ext: bytes = b""
) -> bytes:
    """An RTP packet (RFC 3550), with an optional one-byte header extension block."""
    b0 = 0x80 | (0x10 if ext else 0)
    head = struct.pack(
        "!BBHII", b0, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc
    )
    if ext:
        padded = ext + b"\x00" * (-len(ext) % 4)
        head += struct.pack("!HH", 0xBEDE, len(padded) // 4) + padded
    return head + payload


def zoom_media(
    kind: str, sfu_seq: int, media_seq: int, rtp_packet: bytes, to_zoom: bool = True
) -> bytes:
    """Zoom server framing: 8-byte SFU header (type 5), inner media header, RTP (IMC'22)."""
    sfu = struct.pack("!BHIB", 0x05, sfu_seq & 0xFFFF, 0, 0x00 if to_zoom else 0x04)
    if kind == "audio":
        inner = struct.pack(
            "!B4s4sHI4s", 0x0F, b"\0" * 4, b"\0" * 4, media_seq & 0xFFFF, media_seq * 960, b"\0" * 4
        )
    elif kind == "video":
        inner = (
            struct.pack(
                "!B4s4sHI", 0x10, b"\0" * 4, b"\0" * 4, media_seq & 0xFFFF, media_seq * 3000
            )
            + b"\0" * 5
        )
    elif kind == "screen":
        inner = struct.pack("!B", 0x0D) + b"\0" * 6 + b"\x1e" + b"\0" * 8
        inner += struct.pack("!HI", media_seq & 0xFFFF, media_seq * 3000) + b"\0" * 5
    else:
        raise ValueError(kind)
    return sfu + inner + rtp_packet


def stun_binding(txid: bytes, request: bool = True, attrs: bytes = b"") -> bytes:
    mtype = 0x0001 if request else 0x0101
    return struct.pack("!HHI", mtype, len(attrs), 0x2112A442) + txid + attrs


def stun_attr(atype: int, value: bytes) -> bytes:
    return struct.pack("!HH", atype, len(value)) + value + b"\x00" * (-len(value) % 4)


def write_pcap(path: str, frames: list[tuple[float, bytes]], linktype: int = 1) -> None:
    """A classic little-endian microsecond pcap (byte-identical for identical input)."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for ts, data in frames:
            sec = int(ts)
            usec = round((ts - sec) * 1_000_000)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            fh.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)


def ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """AES-128-ECB over whole blocks (2020 Zoom media cipher per Citizen Lab); zero padding."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data += b"\x00" * (-len(data) % 16)
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def gcm_encrypt(key: bytes, nonce: int, data: bytes) -> bytes:
    """AES-256-GCM with a per-packet nonce (what Zoom says it uses since client 5.0)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key).encrypt(nonce.to_bytes(12, "big"), data, None)


def media_plaintext(rnd: random.Random, n: int) -> bytes:
    """Media-like plaintext: compressed-looking bytes with the zero runs real frames carry."""
    body = bytearray(rnd.getrandbits(8) for _ in range(n))
    if rnd.random() < 0.3:
        body[16:64] = b"\x00" * 48
    if rnd.random() < 0.2 and n > 128:
        body[96:128] = b"\x00" * 32
    return bytes(body)


# ----------------------------------------------------------------------------- STUN / TURN
STUN_COOKIE = 0x2112A442


def stun_message(method: int, cls: int, txid: bytes, attrs: list[tuple[int, bytes]]) -> bytes:
    """A STUN message (RFC 8489); ``cls`` 0 request, 1 indication, 2 success, 3 error."""
    mtype = (method & 0x0F) | ((method & 0x70) << 1) | ((method & 0xF80) << 2)
    mtype |= ((cls & 1) << 4) | ((cls & 2) << 7)
    body = b"".join(stun_attr(t, v) for t, v in attrs)
    return struct.pack("!HHI", mtype, len(body), STUN_COOKIE) + txid + body


def xor_address(ip: str, port: int) -> bytes:
    """XOR-MAPPED/RELAYED/PEER-ADDRESS value for an IPv4 address."""
    raw = bytes(int(x) for x in ip.split("."))
    xored = bytes(a ^ b for a, b in zip(raw, struct.pack("!I", STUN_COOKIE), strict=True))
    return struct.pack("!BBH", 0, 1, port ^ (STUN_COOKIE >> 16)) + xored


def channel_data(channel: int, payload: bytes) -> bytes:
    """TURN ChannelData (RFC 8656 section 12.4), padded to 4 bytes over UDP."""
    return struct.pack("!HH", channel, len(payload)) + payload + b"\x00" * (-len(payload) % 4)


# ----------------------------------------------------------------------------- DTLS
def _dtls_record(ctype: int, epoch: int, seq: int, body: bytes, version: int = 0xFEFD) -> bytes:
    return (
        struct.pack("!BHH", ctype, version, epoch)
        + seq.to_bytes(6, "big")
        + struct.pack("!H", len(body))
        + body
    )


def _dtls_handshake(msg_type: int, msg_seq: int, body: bytes) -> bytes:
    n = len(body).to_bytes(3, "big")
    return bytes([msg_type]) + n + struct.pack("!H", msg_seq) + b"\x00\x00\x00" + n + body


def dtls_client_hello(
    seed: int, profiles: tuple[int, ...] = (0x0007, 0x0001), rec_seq: int = 0
) -> bytes:
    """A DTLS 1.2 ClientHello record offering ``profiles`` in use_srtp (as browsers do)."""
    rnd = random.Random(seed)
    exts = _ext(0x000A, _vec(2, struct.pack("!HH", 0x001D, 0x0017)))
    exts += _ext(0x000B, _vec(1, b"\x00"))
    exts += _ext(0x000D, _vec(2, struct.pack("!HH", 0x0403, 0x0804)))
    exts += _ext(0x000E, _vec(2, b"".join(struct.pack("!H", p) for p in profiles)) + b"\x00")
    exts += _ext(0x0017, b"") + _ext(0xFF01, b"\x00")
    body = b"\xfe\xfd" + bytes(rnd.getrandbits(8) for _ in range(32)) + _vec(1, b"")
    body += _vec(1, b"")  # cookie
    body += _vec(2, struct.pack("!HHHH", 0xC02B, 0xC02F, 0xCCA9, 0xC00A)) + _vec(1, b"\x00")
    body += _vec(2, exts)
    return _dtls_record(22, 0, rec_seq, _dtls_handshake(1, 0, body), version=0xFEFF)


def webrtc_certificate(cn: str = "WebRTC", seed: int = 7) -> bytes:
    """A deterministic self-signed Ed25519 certificate (Ed25519 signatures are deterministic)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.x509.oid import NameOID

    key = Ed25519PrivateKey.from_private_bytes(bytes((seed + i) & 0xFF for i in range(32)))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = datetime.datetime(2023, 11, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1000 + seed)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=30))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


def dtls_server_flight(seed: int, profile: int = 0x0007, cn: str = "WebRTC") -> bytes:
    """ServerHello (choosing ``profile``) + Certificate + ServerHelloDone, one datagram."""
    rnd = random.Random(seed)
    exts = _ext(0x000E, _vec(2, struct.pack("!H", profile)) + b"\x00") + _ext(0xFF01, b"\x00")
    sh = b"\xfe\xfd" + bytes(rnd.getrandbits(8) for _ in range(32)) + _vec(1, b"")
    sh += struct.pack("!H", 0xC02B) + b"\x00" + _vec(2, exts)
    der = webrtc_certificate(cn, seed)
    certs = _vec(3, _vec(3, der))
    out = _dtls_record(22, 0, 0, _dtls_handshake(2, 0, sh))
    out += _dtls_record(22, 0, 1, _dtls_handshake(11, 1, certs))
    out += _dtls_record(22, 0, 2, _dtls_handshake(14, 2, b""))
    return out


def dtls_finish(seed: int, rec_seq: int) -> bytes:
    """ChangeCipherSpec + an encrypted Finished (epoch 1), as either side sends them."""
    rnd = random.Random(seed)
    return _dtls_record(20, 0, rec_seq, b"\x01") + _dtls_record(
        22, 1, 0, bytes(rnd.getrandbits(8) for _ in range(40))
    )


def srtp(
    seq: int,
    ts: int,
    ssrc: int,
    pt: int,
    rnd: random.Random,
    size: int,
    tag: int = 10,
    marker: bool = False,
) -> bytes:
    """An SRTP packet: clear RTP header, opaque payload, ``tag``-byte authentication tag."""
    return rtp(
        seq,
        ts,
        ssrc,
        pt,
        bytes(rnd.getrandbits(8) for _ in range(size + tag)),
        marker=marker,
        ext=b"\x10\x3f",
    )  # one-byte ext: id 1 (audio level), len 1


def opus_payload(rnd: random.Random, size: int) -> bytes:
    """A cleartext Opus frame: TOC 0x78 (hybrid FB 20 ms, mono) then coded bytes."""
    return b"\x78" + bytes(rnd.getrandbits(8) for _ in range(size - 1))


# ----------------------------------------------------------------------------- QUIC
QUIC_V1_SALT = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def _hkdf_label(secret: bytes, label: str, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    full = b"tls13 " + label.encode()
    info = struct.pack("!H", length) + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def quic_initial(dcid: bytes, scid: bytes, crypto: bytes, pn: int = 0, offset: int = 0) -> bytes:
    """A client Initial (QUIC v1, RFC 9001) carrying ``crypto`` at ``offset``, padded to 1200."""
    import hmac

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    initial = hmac.new(QUIC_V1_SALT, dcid, "sha256").digest()
    secret = _hkdf_label(initial, "client in", 32)
    key, iv, hp = (
        _hkdf_label(secret, "quic key", 16),
        _hkdf_label(secret, "quic iv", 12),
        _hkdf_label(secret, "quic hp", 16),
    )

    def varint(v: int) -> bytes:
        return bytes([v]) if v < 64 else struct.pack("!H", 0x4000 | v)

    frame = b"\x06" + varint(offset) + varint(len(crypto)) + crypto
    pn_len = 2
    head = bytes([0xC0 | (pn_len - 1)]) + struct.pack("!I", 1) + bytes([len(dcid)]) + dcid
    head += bytes([len(scid)]) + scid + b"\x00"
    plain_len = 1200 - len(head) - 2 - pn_len - 16
    payload = frame + b"\x00" * max(0, plain_len - len(frame))
    head += struct.pack("!H", 0x4000 | (pn_len + len(payload) + 16)) + pn.to_bytes(pn_len, "big")
    nonce = bytes(a ^ b for a, b in zip(iv, pn.to_bytes(12, "big"), strict=True))
    sealed = AESGCM(key).encrypt(nonce, payload, head)
    pn_off = len(head) - pn_len
    sample = sealed[4 - pn_len : 4 - pn_len + 16]
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    out = bytearray(head + sealed)
    out[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        out[pn_off + i] ^= mask[1 + i]
    return bytes(out)


def quic_client_hello(sni: str, seed: int) -> bytes:
    """The TLS ClientHello handshake message (no record header) a QUIC client sends."""
    record = client_hello(sni, alpn=("h3",), seed=seed)
    return record[5:]
