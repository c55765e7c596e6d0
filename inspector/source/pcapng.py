"""pcapng (RFC draft-ietf-opsawg-pcapng): sections, several interfaces, EPB/SPB/OPB, streamed.

Blocks that carry no packet (statistics, name resolution, decryption secrets, custom) are counted
and skipped; options (comments included) are read only for ``if_tsresol`` and ``if_tsoffset``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from inspector import _native
from inspector.errors import InputError

if TYPE_CHECKING:
    from inspector.source.open import Capture, Span

__all__ = ["cut", "other_block", "parse_idb", "read_records", "stop"]

SHB, IDB, PB, SPB, NRB, ISB, EPB, DSB = (
    0x0A0D0D0A,
    0x00000001,
    0x00000002,
    0x00000003,
    0x00000004,
    0x00000005,
    0x00000006,
    0x0000000A,
)
BLOCK_NAMES = {
    NRB: "name_resolution",
    ISB: "interface_statistics",
    DSB: "decryption_secrets",
    0x00000BAD: "custom",
    0x40000BAD: "custom",
    0x80000001: "systemd_journal",
}
MAX_BLOCK = 1 << 24


class _Iface:
    __slots__ = ("linktype", "offset", "snaplen", "tick")

    def __init__(self, linktype: int, snaplen: int, tick: float, offset: int) -> None:
        self.linktype, self.snaplen, self.tick, self.offset = linktype, snaplen, tick, offset


def _tsresol(value: int) -> float:
    if value & 0x80:
        return 2.0 ** -(value & 0x7F)
    return 10.0 ** -(value & 0x7F)


def parse_idb(body: bytes, order: str) -> _Iface:
    if len(body) < 8:
        raise ValueError("interface description block too short")
    linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", body, 0)
    tick, offset = 1e-6, 0
    pos = 8
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(order + "HH", body, pos)
        pos += 4
        value = body[pos : pos + length]
        if code == 0:
            break
        if code == 9 and len(value) >= 1:
            tick = _tsresol(value[0])
        elif code == 14 and len(value) >= 8:
            (offset,) = struct.unpack(order + "q", value[:8])
        pos += (length + 3) & ~3
    return _Iface(linktype, snaplen, tick, offset)


def read_records(stream: BinaryIO, magic: bytes, cap: Capture) -> Iterator[Span]:
    """Yield the packets of a pcapng whose 4 magic bytes were already read."""
    from inspector.source.open import STREAM_ERRORS

    core = _native.core
    if core is not None:  # the compiled twin of _blocks (inspector/_native/_core.pyx)
        return core.PcapngWalker(stream, magic, cap)  # type: ignore[no-any-return]
    return _records(stream, magic, cap, STREAM_ERRORS)


def _records(
    stream: BinaryIO, magic: bytes, cap: Capture, errors: tuple[type[BaseException], ...]
) -> Iterator[Span]:
    try:
        yield from _blocks(stream, magic, cap)
    except errors as exc:  # a cut gzip member, a disk error: what came before stands
        cap.read_failed(exc)
    finally:
        cap.close()


def _blocks(stream: BinaryIO, magic: bytes, cap: Capture) -> Iterator[Span]:
    ifaces: list[_Iface] = []
    last_ts = 0.0
    order = "<"
    first = True
    block_type = SHB
    while True:
        if first:
            head = magic + stream.read(4)
            first = False
        else:
            head = stream.read(8)
            if not head:
                return
            if len(head) < 8:
                cut(cap, "block header")
                return
            block_type = struct.unpack_from(order + "I", head, 0)[0]
        if block_type == SHB:
            bom = stream.read(4)
            if len(bom) < 4:
                cut(cap, "section header")
                return
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                if not cap.linktypes and not ifaces:
                    raise InputError(
                        f"{cap.path}: pcapng section header has a bad byte-order magic"
                    )
                stop(cap, "a section header with a bad byte-order magic")
                return
            (total,) = struct.unpack_from(order + "I", head, 4)
            if total < 28 or total % 4 or total > MAX_BLOCK:
                stop(cap, f"a section header of impossible length {total}")
                return
            rest = stream.read(total - 12)
            if len(rest) < total - 12:
                cut(cap, "section header")
                return
            ifaces = []
            continue
        (total,) = struct.unpack_from(order + "I", head, 4)
        if total < 12 or total % 4 or total > MAX_BLOCK:
            stop(cap, f"a block of impossible length {total}")
            return
        body = stream.read(total - 8)
        if len(body) < total - 8:
            cut(cap, "block")
            return
        if body[-4:] != head[4:8]:
            stop(cap, "a block whose trailing length differs from its leading length")
            return
        body = body[:-4]
        if block_type == EPB:
            if len(body) < 20:
                stop(cap, "an enhanced packet block too short for its header")
                return
            if_id, ts_hi, ts_lo, incl, orig = struct.unpack_from(order + "IIIII", body, 0)
            if if_id >= len(ifaces) or incl > len(body) - 20:
                cap.skipped_blocks["bad_packet_block"] = (
                    cap.skipped_blocks.get("bad_packet_block", 0) + 1
                )
                continue
            iface = ifaces[if_id]
            last_ts = ((ts_hi << 32) | ts_lo) * iface.tick + iface.offset
            yield (last_ts, iface.linktype, body, 20, 20 + incl, orig)
        elif block_type == SPB:
            if not ifaces or len(body) < 4:
                cap.skipped_blocks["bad_packet_block"] = (
                    cap.skipped_blocks.get("bad_packet_block", 0) + 1
                )
                continue
            (orig,) = struct.unpack_from(order + "I", body, 0)
            iface = ifaces[0]
            incl = min(orig, len(body) - 4, iface.snaplen or orig)
            # a simple packet block has no timestamp: it inherits the previous packet's
            yield (last_ts, iface.linktype, body, 4, 4 + incl, orig)
        elif block_type == PB:
            if len(body) < 20:
                continue
            if_id, _drops, ts_hi, ts_lo, incl, orig = struct.unpack_from(order + "HHIIII", body, 0)
            if if_id >= len(ifaces) or incl > len(body) - 20:
                cap.skipped_blocks["bad_packet_block"] = (
                    cap.skipped_blocks.get("bad_packet_block", 0) + 1
                )
                continue
            iface = ifaces[if_id]
            last_ts = ((ts_hi << 32) | ts_lo) * iface.tick + iface.offset
            yield (last_ts, iface.linktype, body, 20, 20 + incl, orig)
        elif block_type == IDB:
            try:
                iface = parse_idb(body, order)
            except (ValueError, struct.error):
                stop(cap, "an unreadable interface description block")
                return
            ifaces.append(iface)
            cap.linktypes.add(iface.linktype)
        else:
            other_block(cap, block_type, body, order)


def other_block(cap: Capture, block_type: int, body: bytes, order: str) -> None:
    """A block that carries no packet: counted by name; a TLS key log's text is kept."""
    if block_type == DSB and len(body) >= 8:
        # Decryption Secrets Block: an NSS key log ("TLSK") is kept for TLS decryption
        stype, slen = struct.unpack_from(order + "II", body, 0)
        if stype == 0x544C534B:
            cap.secrets.append(body[8 : 8 + slen].decode("utf-8", "replace"))
    name = BLOCK_NAMES.get(block_type, f"block_0x{block_type:08x}")
    cap.skipped_blocks[name] = cap.skipped_blocks.get(name, 0) + 1


def cut(cap: Capture, what: str) -> None:
    cap.truncated = True
    cap.warnings.append(
        f"{cap.path}: file ends inside a pcapng {what}; results cover everything before the cut"
    )


def stop(cap: Capture, what: str) -> None:
    cap.truncated = True
    cap.warnings.append(f"{cap.path}: found {what}; stopped reading there (corrupt file?)")
