"""Flood captures written with ``struct`` (no scapy: millions of packets), for tests/test_floods.py
and benchmarks/flood_flows.py."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

_REC = struct.Struct("<IIII")
_ETH_IP4 = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"


def ip4(n: int) -> bytes:
    return struct.pack("!I", n)


def ipv4(
    src: bytes, dst: bytes, proto: int, payload: bytes, ident: int = 0, frag: int = 0
) -> bytes:
    """An IPv4 header (no options, checksum left 0) and its payload; ``frag``: flags+offset."""
    head = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst
    )
    return head + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport: int, dport: int, seq: int, flags: int, payload: bytes = b"", ack: int = 0) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def frame(ip_packet: bytes) -> bytes:
    return _ETH_IP4 + ip_packet


def write_pcap(path: Path, frames: Iterable[bytes], pps: int = 10_000) -> int:
    """Write Ethernet ``frames`` as a pcap, ``pps`` packets per second of capture time."""
    n = 0
    with open(path, "wb", buffering=1 << 20) as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        base = 1_700_000_000
        for f in frames:
            sec, usec = divmod(n * 1_000_000 // pps, 1_000_000)
            fh.write(_REC.pack(base + sec, usec, len(f), len(f)))
            fh.write(f)
            n += 1
    return n


def distinct_udp_flows(n: int) -> Iterable[bytes]:
    """``n`` one-packet UDP flows, each from its own address and port."""
    dst = ip4(0xC6336401)  # 198.51.100.1
    for i in range(n):
        src = ip4(0x0A000000 + (i >> 8))
        yield frame(ipv4(src, dst, 17, udp(1024 + (i & 0xFF) * 200 + 1, 5000, b"x" * 16)))


def syn_flood(n: int) -> Iterable[bytes]:
    """``n`` SYNs to one server port from ``n`` different source addresses and ports."""
    dst = ip4(0xC6336402)
    for i in range(n):
        src = ip4(0x0B000000 + i)
        yield frame(ipv4(src, dst, 6, tcp(1024 + i % 60000, 443, i * 7919, 0x02)))
