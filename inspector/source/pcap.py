"""Classic libpcap files: both byte orders, micro- and nanosecond timestamps, streamed."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from inspector.errors import InputError

if TYPE_CHECKING:
    from inspector.source.open import Capture, RawPacket

__all__ = ["read_records"]

CHUNK = 1 << 20
#: A record claiming more than this is treated as corruption (libpcap's own limit is 256 KiB).
MAX_RECORD = 1 << 18


def read_records(stream: BinaryIO, magic: bytes, cap: Capture) -> Iterator[RawPacket]:
    """Yield the records of a pcap whose 4 magic bytes were already read."""
    from inspector.source.open import PCAP_MAGICS, RawPacket

    order, tick = PCAP_MAGICS[magic]
    rest = stream.read(20)
    if len(rest) < 20:
        raise InputError(f"{cap.path}: pcap global header is cut short")
    _vmaj, _vmin, _zone, _sigfigs, _snaplen, network = struct.unpack(order + "HHiIII", rest)
    linktype = network & 0x0FFFFFFF
    cap.linktypes.add(linktype)
    hdr = struct.Struct(order + "IIII")
    unpack = hdr.unpack_from
    buf = b""
    pos = 0
    while True:
        if len(buf) - pos < 16:
            more = stream.read(CHUNK)
            buf = buf[pos:] + more
            pos = 0
            if len(buf) < 16:
                if buf:
                    cap.truncated = True
                    cap.warnings.append(
                        f"{cap.path}: file ends inside a record header; "
                        "results cover everything before the cut"
                    )
                return
        sec, frac, incl, orig = unpack(buf, pos)
        if incl > MAX_RECORD:
            cap.truncated = True
            cap.warnings.append(
                f"{cap.path}: record claims {incl} bytes (corrupt file?); stopped reading there"
            )
            return
        end = pos + 16 + incl
        if end > len(buf):
            more = stream.read(max(CHUNK, incl + 16))
            buf = buf[pos:] + more
            pos = 0
            end = 16 + incl
            if end > len(buf):
                cap.truncated = True
                cap.warnings.append(
                    f"{cap.path}: file ends inside a packet record; "
                    "results cover everything before the cut"
                )
                return
        yield RawPacket(sec + frac * tick, linktype, buf[pos + 16 : end], orig)
        pos = end
