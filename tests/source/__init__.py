"""Helpers that write classic pcap and pcapng bytes for the reader tests (struct only)."""

from __future__ import annotations

import struct
from collections.abc import Iterable

__all__ = ["epb", "idb", "opt", "pcap_bytes", "pcapng_block", "shb", "spb"]


def pcap_bytes(
    records: Iterable[tuple[float, bytes] | tuple[float, bytes, int]],
    *,
    order: str = "<",
    nano: bool = False,
    linktype: int = 1,
    snaplen: int = 65535,
) -> bytes:
    """A classic pcap; each record is ``(ts, data)`` or ``(ts, data, wirelen)``."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    scale = 1_000_000_000 if nano else 1_000_000
    for rec in records:
        ts, data = rec[0], rec[1]
        wirelen = rec[2] if len(rec) > 2 else len(data)  # type: ignore[misc]
        sec = int(ts)
        frac = round((ts - sec) * scale)
        out.append(struct.pack(order + "IIII", sec, frac, len(data), wirelen) + data)
    return b"".join(out)


def opt(code: int, value: bytes, order: str = "<") -> bytes:
    """One pcapng option, padded to 32 bits."""
    pad = (-len(value)) % 4
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * pad


def pcapng_block(btype: int, body: bytes, order: str = "<") -> bytes:
    total = 12 + len(body)
    return struct.pack(order + "II", btype, total) + body + struct.pack(order + "I", total)


def shb(order: str = "<", options: bytes = b"") -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1) + options
    return pcapng_block(0x0A0D0D0A, body, order)


def idb(
    linktype: int,
    order: str = "<",
    tsresol: int | None = None,
    snaplen: int = 0,
    extra: bytes = b"",
) -> bytes:
    options = extra
    if tsresol is not None:
        options += opt(9, bytes([tsresol]), order)
    if options:
        options += opt(0, b"", order)
    return pcapng_block(1, struct.pack(order + "HHI", linktype, 0, snaplen) + options, order)


def epb(
    if_id: int,
    units: int,
    data: bytes,
    order: str = "<",
    wirelen: int | None = None,
    options: bytes = b"",
) -> bytes:
    """An enhanced packet block; ``units`` is the timestamp in the interface's resolution."""
    pad = (-len(data)) % 4
    head = struct.pack(
        order + "IIIII",
        if_id,
        units >> 32,
        units & 0xFFFFFFFF,
        len(data),
        len(data) if wirelen is None else wirelen,
    )
    return pcapng_block(6, head + data + b"\x00" * pad + options, order)


def spb(data: bytes, order: str = "<", wirelen: int | None = None) -> bytes:
    pad = (-len(data)) % 4
    head = struct.pack(order + "I", len(data) if wirelen is None else wirelen)
    return pcapng_block(3, head + data + b"\x00" * pad, order)
