"""Write a large synthetic classic-pcap capture with a realistic video-conference traffic mix.

Building a million packets one by one with scapy would take many minutes, so frames are built
with ``struct`` from per-flow header templates (Ethernet, optional 802.1Q tag, IPv4 or IPv6 with a
correct header checksum) and payload templates (TLS records, QUIC long/short headers, DNS,
STUN, RTP, Zoom-framed RTP on UDP 8801), and only the fields that change per packet
(timestamps, lengths, IP ids, TCP sequence/ack numbers, RTP sequence numbers) are patched.

Mix, as target shares of packets (flows start uniformly over ``--duration`` seconds and are
cut at its end; the achieved shares are printed and land within a few points of these):

=====================  ======  ===========================================================
kind                   share   what
=====================  ======  ===========================================================
zoom media (UDP 8801)  33 %    audio/video both ways, Zoom 0x05 framing + RTP, 50-400 pps
QUIC (UDP 443)         20 %    Initial + Handshake, then short-header bulk download
TLS bulk (TCP 443)     22 %    handshake, ClientHello with SNI, 1448-byte download, ACKs,
                               ~0.5 % retransmissions, some out-of-order, FIN or RST
P2P media (UDP high)   10 %    STUN binding, then RTP (0x80) both ways
TLS small (TCP 443)    10 %    short API/telemetry connections
DNS (UDP 53)            3 %    one query + one answer per flow (A, AAAA, HTTPS)
ICMP / ARP / ICMPv6     2 %    echo request/reply (ICMP and ICMPv6), ARP who-has/reply
=====================  ======  ===========================================================

About 20 % of flows are IPv6 and about 10 % of flows carry an 802.1Q VLAN tag. The output is
deterministic for a given ``--seed``.

Usage::

    python benchmarks/make_capture.py /tmp/inspector-bench/synthetic-1m.pcap --packets 1000000
"""

from __future__ import annotations

import argparse
import heapq
import random
import struct
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["DEFAULT_PATH", "make_capture"]

DEFAULT_PATH = Path("/tmp/inspector-bench/synthetic-1m.pcap")
EPOCH = 1_700_000_000.0

_REC = struct.Struct("<IIII")
_IP4 = struct.Struct("!BBHHHBBH4s4s")
_IP6 = struct.Struct("!IHBB16s16s")
_TCP = struct.Struct("!HHIIBBHHH")
_UDP = struct.Struct("!HHHH")
_RTP = struct.Struct("!BBHII")

SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
#: Kind -> share of packets.
MIX = {
    "zoom": 0.33,
    "quic": 0.20,
    "tls_bulk": 0.22,
    "p2p": 0.10,
    "tls_small": 0.10,
    "dns": 0.03,
    "misc": 0.02,
}
NAMES = [
    "zoom.us",
    "us05web.zoom.us",
    "zoomfrn99mmr.zoom.us",
    "www.google.com",
    "meet.google.com",
    "teams.microsoft.com",
    "api.segment.io",
    "o123.ingest.sentry.io",
    "www.googletagmanager.com",
    "events.launchdarkly.com",
    "cdn.jsdelivr.net",
    "clientservices.googleapis.com",
]

Frame = tuple[float, bytes]


def _sum16(b: bytes) -> int:
    s = 0
    for i in range(0, len(b) - 1, 2):
        s += (b[i] << 8) | b[i + 1]
    return s


class Path2:
    """Header templates for one direction of one flow (L2 + L3); L4 is added per packet."""

    __slots__ = ("base_sum", "dst", "l2", "proto", "src", "v6")

    def __init__(self, l2: bytes, src: bytes, dst: bytes, proto: int) -> None:
        self.l2, self.src, self.dst, self.proto = l2, src, dst, proto
        self.v6 = len(src) == 16
        self.base_sum = 0x4500 + 0x4000 + (64 << 8 | proto) + _sum16(src) + _sum16(dst)

    def frame(self, l4: bytes, ident: int) -> bytes:
        if self.v6:
            ip = _IP6.pack(0x60000000, len(l4), self.proto, 64, self.src, self.dst)
        else:
            total = 20 + len(l4)
            s = self.base_sum + total + ident
            s = (s & 0xFFFF) + (s >> 16)
            s = (s & 0xFFFF) + (s >> 16)
            ip = _IP4.pack(
                0x45, 0, total, ident, 0x4000, 64, self.proto, ~s & 0xFFFF, self.src, self.dst
            )
        f = self.l2 + ip + l4
        if len(f) < 60:
            f += bytes(60 - len(f))
        return f


class World:
    """Random choices shared by all flows: hosts, MACs, payload blob."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.blob = self.rng.randbytes(1 << 16)
        self.mac_client = bytes.fromhex("3c22fb112233")
        self.mac_gw = bytes.fromhex("001122aabbcc")
        self.client4 = bytes([192, 168, 1, 23])
        self.client6 = bytes.fromhex("2a0104e8000000000000000000000023")
        self.ident = 0

    def payload(self, n: int) -> bytes:
        o = self.rng.randrange(0, len(self.blob) - n)
        return self.blob[o : o + n]

    def server(self, v6: bool) -> bytes:
        r = self.rng
        if v6:
            return bytes.fromhex("2620012320") + r.randbytes(11)
        return bytes(
            [
                r.choice((3, 8, 52, 142, 170, 206)),
                r.randrange(256),
                r.randrange(256),
                r.randrange(1, 255),
            ]
        )

    def paths(
        self, v6: bool, vlan: bool, proto: int, peer: bytes | None = None
    ) -> tuple[Path2, Path2]:
        """(client -> server, server -> client)."""
        me = self.client6 if v6 else self.client4
        other = peer if peer is not None else self.server(v6)
        et = b"\x86\xdd" if v6 else b"\x08\x00"
        tag = b"\x81\x00" + struct.pack("!H", 100 + self.rng.randrange(4)) if vlan else b""
        up = self.mac_gw + self.mac_client + tag + et
        down = self.mac_client + self.mac_gw + tag + et
        return Path2(up, me, other, proto), Path2(down, other, me, proto)

    def next_ident(self) -> int:
        self.ident = (self.ident + 1) & 0xFFFF
        return self.ident


# ------------------------------------------------------------------ payload templates


def _tls_client_hello(rng: random.Random, sni: str) -> bytes:
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    groups = struct.pack("!HHH3H", 10, 8, 6, 0x001D, 0x0017, 0x0018)
    versions = struct.pack("!HHB2H", 43, 5, 4, 0x0304, 0x0303)
    sigalgs = struct.pack("!HHH4H", 13, 10, 8, 0x0403, 0x0804, 0x0401, 0x0503)
    alpn = struct.pack("!HHHB2sB8s", 16, 14, 12, 2, b"h2", 8, b"http/1.1")
    key_share = struct.pack("!HHHHH", 51, 38, 36, 0x001D, 32) + rng.randbytes(32)
    exts = sni_ext + groups + versions + sigalgs + alpn + key_share
    suites = struct.pack("!H5H", 10, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F)
    body = (
        b"\x03\x03"
        + rng.randbytes(32)
        + b"\x20"
        + rng.randbytes(32)
        + suites
        + b"\x01\x00"
        + struct.pack("!H", len(exts))
        + exts
    )
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def _tls_server_first(rng: random.Random, world: World, n: int) -> bytes:
    exts = struct.pack("!HHH", 43, 2, 0x0304) + struct.pack("!HHHH", 51, 36, 0x001D, 32)
    exts += rng.randbytes(32)
    body = b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) + b"\x13\x01\x00"
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    out = b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs + b"\x14\x03\x03\x00\x01\x01"
    rest = max(n - len(out) - 5, 16)
    return out + b"\x17\x03\x03" + struct.pack("!H", rest) + world.payload(rest)


def _dns_name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def _dns_pair(rng: random.Random, name: str, qtype: int) -> tuple[bytes, bytes]:
    qid = rng.randrange(65536)
    q = _dns_name(name) + struct.pack("!HH", qtype, 1)
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q
    if qtype == 28:
        rdata = bytes.fromhex("2620012320") + rng.randbytes(11)
    elif qtype == 1:
        rdata = rng.randbytes(4)
    else:
        rdata = b"\x00\x01\x00\x00\x01\x00\x03\x02h2"
    ans = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rdata)) + rdata
    resp = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + ans
    return query, resp


def _stun_binding(rng: random.Random, txid: bytes, request: bool) -> bytes:
    if request:
        attrs = struct.pack("!HH", 0x0006, 9) + b"abcd:wxyz" + b"\x00" * 3
        attrs += struct.pack("!HHI", 0x0024, 4, 0x6E7F1EFF)
    else:
        attrs = struct.pack("!HHBBH4s", 0x0020, 8, 0, 1, 0x1234, rng.randbytes(4))
    attrs += struct.pack("!HH", 0x0008, 20) + rng.randbytes(20) + struct.pack("!HHI", 0x8028, 4, 0)
    return (
        struct.pack("!HHI12s", 0x0001 if request else 0x0101, len(attrs), 0x2112A442, txid) + attrs
    )


# ------------------------------------------------------------------ flow generators


def _tcp_flow(world: World, t0: float, kind: str) -> Iterator[Frame]:
    rng = world.rng
    v6 = rng.random() < 0.2
    up, down = world.paths(v6, rng.random() < 0.1, 6)
    cport, sport = rng.randrange(32768, 61000), rng.choice((443, 443, 443, 8801))
    cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
    rtt = rng.uniform(0.01, 0.12)
    t = t0
    mss = 1428 if v6 else 1448
    opts_syn = bytes.fromhex("020405b40402080a") + rng.randbytes(4) + bytes(4) + b"\x01\x03\x03\x07"

    def seg(
        p: Path2,
        sp: int,
        dp: int,
        seq: int,
        ack: int,
        flags: int,
        payload: bytes = b"",
        opts: bytes = b"",
    ) -> bytes:
        hdr = _TCP.pack(
            sp,
            dp,
            seq & 0xFFFFFFFF,
            ack & 0xFFFFFFFF,
            (5 + len(opts) // 4) << 4,
            flags,
            64240,
            0,
            0,
        )
        return p.frame(hdr + opts + payload, world.next_ident())

    c = lambda seq, ack, fl, pl=b"", o=b"": seg(up, cport, sport, seq, ack, fl, pl, o)  # noqa: E731
    s = lambda seq, ack, fl, pl=b"", o=b"": seg(down, sport, cport, seq, ack, fl, pl, o)  # noqa: E731
    yield t, c(cseq, 0, SYN, b"", opts_syn)
    t += rtt
    yield t, s(sseq, cseq + 1, SYN | ACK, b"", opts_syn)
    cseq += 1
    sseq += 1
    t += rtt / 2
    yield t, c(cseq, sseq, ACK)
    ch = _tls_client_hello(rng, rng.choice(NAMES))
    t += 0.0002
    yield t, c(cseq, sseq, ACK | PSH, ch)
    cseq += len(ch)
    t += rtt / 2
    yield t, s(sseq, cseq, ACK)
    first = _tls_server_first(rng, world, 2600)
    for i in range(0, len(first), mss):
        piece = first[i : i + mss]
        t += 0.0003
        yield t, s(sseq, cseq, ACK | PSH, piece)
        sseq += len(piece)
    t += rtt / 2
    fin = b"\x14\x03\x03\x00\x01\x01\x17\x03\x03\x00\x35" + world.payload(53)
    yield t, c(cseq, sseq, ACK | PSH, fin)
    cseq += len(fin)
    n = rng.randrange(200, 4000) if kind == "tls_bulk" else rng.randrange(6, 30)
    sent = 0
    last = b""
    last_seq = 0
    held: tuple[float, bytes] | None = None
    while sent < n:
        if kind == "tls_small" or rng.random() < 0.05:  # request/response exchange
            req = world.payload(rng.randrange(80, 700))
            t += rng.uniform(0.001, 0.3)
            yield t, c(cseq, sseq, ACK | PSH, b"\x17\x03\x03" + req)
            cseq += len(req) + 3
            t += rtt
            resp = world.payload(rng.randrange(60, 1400))
            yield t, s(sseq, cseq, ACK | PSH, b"\x17\x03\x03" + resp)
            sseq += len(resp) + 3
            sent += 2
            continue
        burst = rng.randrange(4, 40)
        for k in range(burst):
            size = mss if rng.random() < 0.9 else rng.randrange(100, mss)
            piece = world.payload(size)
            t += rng.uniform(0.00005, 0.0015)
            frame = s(sseq, cseq, ACK, piece)
            if held is not None:  # emit the segment we held back: out of order
                yield t, frame
                yield t + 0.00002, held[1]
                held = None
            elif rng.random() < 0.003:
                held = (t, frame)
            else:
                yield t, frame
            last, last_seq = piece, sseq
            sseq += size
            sent += 1
            if k & 1:
                t += 0.00003
                yield t, c(cseq, sseq, ACK)
                sent += 1
            if rng.random() < 0.005:  # retransmission of the last segment
                t += rtt
                yield t, s(last_seq, cseq, ACK, last)
                sent += 1
        if held is not None:
            yield held[0] + 0.0001, held[1]
            held = None
        t += rng.uniform(0.005, 0.5)
    t += rng.uniform(0.01, 1.0)
    if rng.random() < 0.15:
        yield t, c(cseq, sseq, RST | ACK)
        return
    yield t, c(cseq, sseq, FIN | ACK)
    t += rtt / 2
    yield t, s(sseq, cseq + 1, FIN | ACK)
    t += rtt / 2
    yield t, c(cseq + 1, sseq + 1, ACK)


def _media_flow(world: World, t0: float, zoom: bool) -> Iterator[Frame]:
    rng = world.rng
    v6 = rng.random() < (0.1 if zoom else 0.3)
    peer = (
        None
        if zoom
        else (
            world.client6[:8] + rng.randbytes(8)
            if v6
            else bytes([10, 0, rng.randrange(256), rng.randrange(1, 255)])
        )
    )
    up, down = world.paths(v6, rng.random() < 0.1, 17, peer)
    cport = rng.randrange(49152, 65535)
    sport = 8801 if zoom else rng.randrange(49152, 65535)
    t = t0
    if not zoom:
        for _ in range(rng.randrange(1, 4)):
            txid = rng.randbytes(12)
            req = _stun_binding(rng, txid, True)
            yield t, up.frame(_UDP.pack(cport, sport, 8 + len(req), 0) + req, world.next_ident())
            t += rng.uniform(0.01, 0.08)
            resp = _stun_binding(rng, txid, False)
            yield (
                t,
                down.frame(_UDP.pack(sport, cport, 8 + len(resp), 0) + resp, world.next_ident()),
            )
            t += rng.uniform(0.02, 0.5)
    video = rng.random() < 0.5
    rate = rng.uniform(150, 400) if video else rng.uniform(40, 60)
    n = min(int(rate * rng.uniform(30, 600)), 60000)
    pt = 96 if video else 111
    ssrc_up, ssrc_down = rng.randrange(1 << 32), rng.randrange(1 << 32)
    seq_up, seq_down = rng.randrange(65536), rng.randrange(65536)
    ts_up = ts_down = rng.randrange(1 << 32)
    step = 3000 if video else 960
    for _ in range(n):
        t += rng.expovariate(rate)
        upward = rng.random() < 0.5
        size = rng.randrange(900, 1200) if video else rng.randrange(60, 160)
        if upward:
            seq_up = (seq_up + 1) & 0xFFFF
            ts_up = (ts_up + step) & 0xFFFFFFFF
            rtp = _RTP.pack(0x90, pt, seq_up, ts_up, ssrc_up) + b"\xbe\xde\x00\x01\x10\x2a\x00\x00"
        else:
            seq_down = (seq_down + 1) & 0xFFFF
            ts_down = (ts_down + step) & 0xFFFFFFFF
            rtp = (
                _RTP.pack(0x90, pt, seq_down, ts_down, ssrc_down)
                + b"\xbe\xde\x00\x01\x10\x2a\x00\x00"
            )
        body = rtp + world.payload(size)
        if zoom:
            inner = 24 if video else 19
            head = struct.pack("!BHIB", 5, seq_up if upward else seq_down, 0, 0) + (
                b"\x00" if upward else b"\x04"
            )
            body = head + (b"\x10" if video else b"\x0f") + bytes(inner - 1) + body
        p, a, b = (up, cport, sport) if upward else (down, sport, cport)
        yield t, p.frame(_UDP.pack(a, b, 8 + len(body), 0) + body, world.next_ident())


def _quic_flow(world: World, t0: float) -> Iterator[Frame]:
    rng = world.rng
    v6 = rng.random() < 0.25
    up, down = world.paths(v6, rng.random() < 0.1, 17)
    cport = rng.randrange(49152, 65535)
    dcid, scid = rng.randbytes(8), rng.randbytes(8)
    t = t0
    rtt = rng.uniform(0.01, 0.1)

    def udp(p: Path2, a: int, b: int, body: bytes) -> bytes:
        return p.frame(_UDP.pack(a, b, 8 + len(body), 0) + body, world.next_ident())

    init = (
        b"\xc3\x00\x00\x00\x01\x08" + dcid + b"\x08" + scid + b"\x00\x44\xca" + world.payload(1182)
    )
    yield t, udp(up, cport, 443, init)
    t += rtt
    sinit = (
        b"\xc1\x00\x00\x00\x01\x08" + scid + b"\x08" + dcid + b"\x00\x40\x75" + world.payload(1150)
    )
    yield t, udp(down, 443, cport, sinit)
    n = rng.randrange(50, 3000)
    for pn in range(1, n + 1):
        t += rng.uniform(0.0001, 0.01) if (pn - 1) % 20 else rng.uniform(0.01, 0.4)
        if rng.random() < 0.8:
            body = bytes([0x40 | (pn & 3)]) + scid + world.payload(rng.randrange(1100, 1340))
            yield t, udp(down, 443, cport, body)
        else:
            body = bytes([0x40 | (pn & 3)]) + dcid + world.payload(rng.randrange(30, 60))
            yield t, udp(up, cport, 443, body)


def _dns_flow(world: World, t0: float) -> Iterator[Frame]:
    rng = world.rng
    v6 = rng.random() < 0.2
    resolver = world.client6[:8] + bytes(7) + b"\x01" if v6 else bytes([192, 168, 1, 1])
    up, down = world.paths(v6, rng.random() < 0.1, 17, resolver)
    cport = rng.randrange(1024, 65535)
    q, r = _dns_pair(rng, rng.choice(NAMES), rng.choice((1, 28, 65)))
    yield t0, up.frame(_UDP.pack(cport, 53, 8 + len(q), 0) + q, world.next_ident())
    yield (
        t0 + rng.uniform(0.002, 0.08),
        down.frame(_UDP.pack(53, cport, 8 + len(r), 0) + r, world.next_ident()),
    )


def _misc_flow(world: World, t0: float) -> Iterator[Frame]:
    rng = world.rng
    x = rng.random()
    if x < 0.25:  # ARP who-has + reply

        def arp(op: int, sm: bytes, si: bytes, tm: bytes, ti: bytes) -> bytes:
            return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sm, si, tm, ti)

        gw_ip = bytes([192, 168, 1, 1])
        req = (
            b"\xff" * 6
            + world.mac_client
            + b"\x08\x06"
            + arp(1, world.mac_client, world.client4, bytes(6), gw_ip)
        )
        rep = (
            world.mac_client
            + world.mac_gw
            + b"\x08\x06"
            + arp(2, world.mac_gw, gw_ip, world.mac_client, world.client4)
        )
        yield t0, req + bytes(60 - len(req))
        yield t0 + 0.001, rep + bytes(60 - len(rep))
        return
    v6 = x > 0.8
    proto = 58 if v6 else 1
    up, down = world.paths(v6, rng.random() < 0.1, proto)
    ident = rng.randrange(65536)
    t = t0
    data = world.payload(56)
    for i in range(rng.randrange(1, 5)):
        typ_req, typ_rep = (128, 129) if v6 else (8, 0)
        yield t, up.frame(struct.pack("!BBHHH", typ_req, 0, 0, ident, i) + data, world.next_ident())
        t += rng.uniform(0.005, 0.1)
        yield (
            t,
            down.frame(struct.pack("!BBHHH", typ_rep, 0, 0, ident, i) + data, world.next_ident()),
        )
        t += 1.0


_MEAN = {
    "zoom": 20200,
    "p2p": 36400,
    "quic": 1560,
    "tls_bulk": 2000,
    "tls_small": 29,
    "dns": 2,
    "misc": 4.2,
}


def _plan(world: World, packets: int, duration: float) -> list[tuple[float, int, str]]:
    """Flow start times and kinds, enough for ``packets`` packets in expectation (x1.15)."""
    rng = world.rng
    plan: list[tuple[float, int, str]] = []
    for kind, share in MIX.items():
        flows = max(1, round(packets * share * 1.15 / _MEAN[kind]))
        for _ in range(flows):
            start = rng.uniform(0, duration)
            plan.append((start, len(plan), kind))
    plan.sort()
    return plan


def _start(world: World, kind: str, t0: float) -> Iterator[Frame]:
    if kind in ("tls_bulk", "tls_small"):
        return _tcp_flow(world, t0, kind)
    if kind == "zoom":
        return _media_flow(world, t0, True)
    if kind == "p2p":
        return _media_flow(world, t0, False)
    if kind == "quic":
        return _quic_flow(world, t0)
    if kind == "dns":
        return _dns_flow(world, t0)
    return _misc_flow(world, t0)


def frames(
    packets: int, seed: int = 1, duration: float = 600.0, counts: dict[str, int] | None = None
) -> Iterator[Frame]:
    """Up to ``packets`` (ts, frame) pairs in timestamp order, all before ``duration``.

    ``counts`` (if given) receives the number of frames written per flow kind.
    """
    world = World(seed)
    plan = _plan(world, packets, duration)
    heap: list[tuple[float, int, bytes, str, Iterator[Frame]]] = []
    i = 0
    out = 0
    counter = 0
    while out < packets and (heap or i < len(plan)):
        while i < len(plan) and (not heap or plan[i][0] <= heap[0][0]):
            start, _, kind = plan[i]
            i += 1
            gen = _start(world, kind, start)
            first = next(gen, None)
            if first is not None:
                counter += 1
                heapq.heappush(heap, (first[0], counter, first[1], kind, gen))
        if not heap:
            continue
        t, _, frame, kind, gen = heapq.heappop(heap)
        if t >= duration:
            continue  # the flow outlives the capture: drop the rest of it
        yield EPOCH + t, frame
        out += 1
        if counts is not None:
            counts[kind] = counts.get(kind, 0) + 1
        nxt = next(gen, None)
        if nxt is not None:
            counter += 1
            heapq.heappush(heap, (max(nxt[0], t), counter, nxt[1], kind, gen))


def make_capture(
    path: str | Path,
    packets: int = 1_000_000,
    seed: int = 1,
    duration: float = 600.0,
    progress: Callable[[int], None] | None = None,
    counts: dict[str, int] | None = None,
) -> int:
    """Write the capture; return the number of packets written (``counts``: per flow kind)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    n = 0
    pack = _REC.pack
    with tmp.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        chunk: list[bytes] = []
        for ts, frame in frames(packets, seed, duration, counts):
            sec = int(ts)
            usec = round((ts - sec) * 1e6)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            chunk.append(pack(sec, usec, len(frame), len(frame)))
            chunk.append(frame)
            n += 1
            if len(chunk) >= 20000:
                fh.write(b"".join(chunk))
                chunk.clear()
                if progress is not None:
                    progress(n)
        fh.write(b"".join(chunk))
    tmp.replace(path)
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "out", nargs="?", default=str(DEFAULT_PATH), help=f"output pcap (default {DEFAULT_PATH})"
    )
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=600.0, help="capture span in seconds")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    counts: dict[str, int] = {}
    n = make_capture(args.out, args.packets, args.seed, args.duration, counts=counts)
    size = Path(args.out).stat().st_size
    took = time.perf_counter() - t
    print(f"wrote {n} packets, {size / 1e6:.1f} MB to {args.out} in {took:.1f} s", file=sys.stderr)
    mix = ", ".join(f"{k} {v / max(n, 1):.1%}" for k, v in sorted(counts.items()))
    print(f"mix by packets: {mix}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
