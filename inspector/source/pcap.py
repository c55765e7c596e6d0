"""Classic libpcap files: both byte orders, micro- and nanosecond timestamps, streamed.

Records are read in chunks of about 1 MiB and handed out as spans of the chunk (no per-packet
copy); memory stays bounded by the chunk size whatever the file size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from inspector import _native
from inspector.errors import InputError

if TYPE_CHECKING:
    from inspector.source.open import Capture, Span

__all__ = ["MAX_RECORD", "read_records"]

CHUNK = 1 << 20
#: A record claiming more than this is treated as corruption (libpcap's own limit is 256 KiB).
MAX_RECORD = 1 << 18


def read_records(stream: BinaryIO, magic: bytes, cap: Capture) -> Iterator[Span]:
    """The records of a pcap whose 4 magic bytes were already read.

    The global header is read now (:class:`InputError` if it is cut short); records are read
    as the iterator is consumed.
    """
    from inspector.source.open import PCAP_MAGICS, STREAM_ERRORS

    order, tick = PCAP_MAGICS[magic]
    try:
        rest = stream.read(20)
    except STREAM_ERRORS as exc:  # a gzip stream cut or corrupt inside the global header
        cap.close()
        raise InputError(f"{cap.path}: pcap global header is cut short ({exc})") from exc
    if len(rest) < 20:
        raise InputError(f"{cap.path}: pcap global header is cut short")
    _vmaj, _vmin, _zone, _sigfigs, _snaplen, network = struct.unpack(order + "HHiIII", rest)
    linktype = network & 0x0FFFFFFF
    cap.linktypes.add(linktype)
    core = _native.core
    if core is not None:  # the compiled twin of _walk (inspector/_native/_core.pyx)
        return core.PcapWalker(stream, order == ">", tick, linktype, cap)  # type: ignore[no-any-return]
    return _walk(stream, order, tick, linktype, cap)


def _walk(stream: BinaryIO, order: str, tick: float, linktype: int, cap: Capture) -> Iterator[Span]:
    from inspector.source.open import STREAM_ERRORS

    try:
        unpack = struct.Struct(order + "IIII").unpack_from
        # read1: at most one underlying read, so a cut gzip stream still gives what it holds
        read = getattr(stream, "read1", stream.read)
        buf = b""
        pos = 0
        blen = 0
        while True:
            # one chunk: walk the complete records it holds
            lim = blen - 16
            while pos <= lim:
                sec, frac, incl, orig = unpack(buf, pos)
                if incl > MAX_RECORD:
                    _corrupt(cap, incl)
                    return
                start = pos + 16
                end = start + incl
                if end > blen:
                    break
                yield (sec + frac * tick, linktype, buf, start, end, orig)
                pos = end
            # refill: keep the partial record at the end of the chunk
            need = 16 if blen - pos < 16 else 16 + unpack(buf, pos)[2]
            if need > MAX_RECORD + 16:
                _corrupt(cap, need - 16)
                return
            more = read(max(CHUNK, need))
            if not more:
                if blen > pos:
                    cap.truncated = True
                    where = "record header" if blen - pos < 16 else "packet record"
                    cap.warnings.append(
                        f"{cap.path}: file ends inside a {where}; "
                        "results cover everything before the cut"
                    )
                return
            buf = buf[pos:] + more
            pos = 0
            blen = len(buf)
            while blen < need:  # a short read (pipe, gzip member boundary): keep reading
                more = read(need - blen)
                if not more:
                    break
                buf += more
                blen = len(buf)
    except STREAM_ERRORS as exc:  # a cut gzip member, a disk error: what came before stands
        cap.read_failed(exc)
    finally:
        cap.close()


def _corrupt(cap: Capture, incl: int) -> None:
    cap.truncated = True
    cap.warnings.append(
        f"{cap.path}: record claims {incl} bytes (corrupt file?); stopped reading there"
    )
