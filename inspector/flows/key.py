"""Flow identity: address text and the deterministic ``uid`` (after Zeek's conn uid)."""

from __future__ import annotations

import hashlib
import socket

__all__ = ["PROTO_NAMES", "addr_text", "make_uid"]

PROTO_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 section 6
_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits -> two base32 characters


def addr_text(raw: bytes) -> str:
    """Dotted-quad or RFC 5952 text for a 4- or 16-byte address."""
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    return socket.inet_ntop(socket.AF_INET6, raw)


def make_uid(ts: float, proto: int, orig: bytes, orig_p: int, resp: bytes, resp_p: int) -> str:
    """A stable 18-character id from the flow's first packet, so golden outputs stay stable.

    The same packets give the same uid whether read from a file or captured live.
    """
    material = f"{ts:.6f}|{proto}|{orig.hex()}|{orig_p}|{resp.hex()}|{resp_p}".encode()
    digest = hashlib.sha1(material, usedforsecurity=False).digest()
    # the first 17 base32 characters of the digest (85 bits), as base64.b32encode gives them
    n = int.from_bytes(digest[:11], "big") >> 3
    p = _PAIRS
    return (
        "C"
        + _B32[n >> 80]
        + p[(n >> 70) & 1023]
        + p[(n >> 60) & 1023]
        + p[(n >> 50) & 1023]
        + p[(n >> 40) & 1023]
        + p[(n >> 30) & 1023]
        + p[(n >> 20) & 1023]
        + p[(n >> 10) & 1023]
        + p[n & 1023]
    )
