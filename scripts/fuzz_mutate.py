"""Structure-aware mutations of capture files (pcap, pcapng, gzip of either).

Used by ``scripts/fuzz_captures.py`` and ``tests/fuzz``. A mutant is fully determined by its
source file, the campaign seed and its index: :func:`make_mutant` derives one ``random.Random``
from ``(seed, index)`` and applies one to three operators; the operators it chose (with their
parameters) are returned as a human-readable recipe, and :func:`make_mutant` run again with the
same three values rebuilds the same bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["OPERATORS", "Layout", "layout", "make_mutant"]

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
#: values written into length, count and id fields: zero, small, huge, "negative" as unsigned
EDGE_U32 = (0, 1, 3, 4, 7, 8, 11, 12, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
LINKTYPES = (0, 1, 9, 12, 101, 105, 108, 113, 127, 192, 228, 229, 239, 276, 0xFFFF, 0x8000)


@dataclass
class Layout:
    """Where the records of a capture are: ``(offset, length)`` of each record or block."""

    kind: str  #: "pcap", "pcapng" or "raw"
    endian: str
    records: list[tuple[int, int]]


def layout(data: bytes) -> Layout:
    """Record boundaries, read leniently (a walk stops at the first impossible length)."""
    if data[:4] in PCAP_MAGICS:
        e = PCAP_MAGICS[data[:4]]
        recs, pos = [], 24
        while pos + 16 <= len(data):
            (incl,) = struct.unpack_from(e + "I", data, pos + 8)
            end = pos + 16 + incl
            if end > len(data):
                break
            recs.append((pos, 16 + incl))
            pos = end
        return Layout("pcap", e, recs)
    if data[:4] == PCAPNG_MAGIC and len(data) >= 12:
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        recs, pos = [], 0
        while pos + 12 <= len(data):
            if data[pos : pos + 4] == PCAPNG_MAGIC and pos + 12 <= len(data):
                e = "<" if data[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            (blen,) = struct.unpack_from(e + "I", data, pos + 4)
            if blen < 12 or blen % 4 or pos + blen > len(data):
                break
            recs.append((pos, blen))
            pos += blen
        return Layout("pcapng", e, recs)
    return Layout("raw", "<", [])


Op = Callable[[bytearray, Layout, random.Random], str]


def _put(data: bytearray, pos: int, fmt: str, value: int) -> None:
    if pos >= 0 and pos + struct.calcsize(fmt) <= len(data):
        struct.pack_into(fmt, data, pos, value & ((1 << (8 * struct.calcsize(fmt))) - 1))


def _pick(lay: Layout, rnd: random.Random) -> tuple[int, int] | None:
    return rnd.choice(lay.records) if lay.records else None


def _btype(lay: Layout, rec: tuple[int, int], data: bytearray) -> int:
    return int(struct.unpack_from(lay.endian + "I", data, rec[0])[0])


def bit_flips(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    n = rnd.choice((1, 2, 8, 64, 512))
    for _ in range(n):
        pos = rnd.randrange(len(d))
        d[pos] ^= 1 << rnd.randrange(8)
    return f"bit_flips n={n}"


def byte_run(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    pos = rnd.randrange(len(d))
    n = min(rnd.choice((1, 4, 16, 256, 4096)), len(d) - pos)
    fill = rnd.choice(("00", "ff", "random", "repeat"))
    if fill == "random":
        d[pos : pos + n] = rnd.randbytes(n)
    elif fill == "repeat" and pos >= n:
        d[pos : pos + n] = d[pos - n : pos]
    else:
        d[pos : pos + n] = bytes([0 if fill == "00" else 0xFF]) * n
    return f"byte_run pos={pos} n={n} fill={fill}"


def truncate_boundary(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    rec = _pick(lay, rnd)
    cut = rec[0] if rec else rnd.randrange(len(d))
    del d[cut:]
    return f"truncate_boundary at={cut}"


def truncate_inside(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    rec = _pick(lay, rnd)
    cut = rec[0] + rnd.randrange(1, rec[1]) if rec and rec[1] > 1 else rnd.randrange(len(d))
    del d[cut:]
    return f"truncate_inside at={cut}"


def length_field(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    """A record's captured/original length, or a block's total length (front or back copy)."""
    rec = _pick(lay, rnd)
    value = rnd.choice(EDGE_U32)
    if rec is None:
        return "length_field none"
    if lay.kind == "pcap":
        field = rnd.choice((8, 12))  # incl_len, orig_len
        _put(d, rec[0] + field, lay.endian + "I", value)
        return f"length_field pcap rec={rec[0]} field={field} value={value:#x}"
    where = rnd.choice(("front", "back", "caplen", "origlen"))
    pos = {
        "front": rec[0] + 4,
        "back": rec[0] + rec[1] - 4,
        "caplen": rec[0] + 20,
        "origlen": rec[0] + 24,
    }[where]
    _put(d, pos, lay.endian + "I", value)
    return f"length_field pcapng block={rec[0]} where={where} value={value:#x}"


def timestamp(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    rec = _pick(lay, rnd)
    if rec is None:
        return "timestamp none"
    value = rnd.choice(EDGE_U32)
    off = rnd.choice((0, 4)) + (0 if lay.kind == "pcap" else 12)
    _put(d, rec[0] + off, lay.endian + "I", value)
    return f"timestamp rec={rec[0]} off={off} value={value:#x}"


def linktype_swap(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    value = rnd.choice(LINKTYPES) if rnd.random() < 0.8 else rnd.randrange(0x10000)
    if lay.kind == "pcap":
        _put(d, 20, lay.endian + "I", value)
        return f"linktype_swap pcap value={value}"
    idbs = [r for r in lay.records if _btype(lay, r, d) == 1]
    if not idbs:
        return "linktype_swap none"
    rec = rnd.choice(idbs)
    _put(d, rec[0] + 8, lay.endian + "H", value)
    return f"linktype_swap idb={rec[0]} value={value}"


def snaplen(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    value = rnd.choice(EDGE_U32)
    if lay.kind == "pcap":
        _put(d, 16, lay.endian + "I", value)
        return f"snaplen pcap value={value:#x}"
    rec = next((r for r in lay.records if _btype(lay, r, d) == 1), None)
    if rec:
        _put(d, rec[0] + 12, lay.endian + "I", value)
    return f"snaplen idb value={value:#x}"


def interface_id(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    if lay.kind != "pcapng":
        return bit_flips(d, lay, rnd)
    epbs = [r for r in lay.records if _btype(lay, r, d) in (2, 6)]
    if not epbs:
        return "interface_id none"
    rec = rnd.choice(epbs)
    value = rnd.choice((1, 2, 7, 255, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF))
    if _btype(lay, rec, d) == 2:
        _put(d, rec[0] + 8, lay.endian + "H", value)
    else:
        _put(d, rec[0] + 8, lay.endian + "I", value)
    return f"interface_id block={rec[0]} value={value:#x}"


def _blocks(d: bytearray, lay: Layout) -> list[bytes]:
    return [bytes(d[o : o + n]) for o, n in lay.records]


def _rejoin(d: bytearray, lay: Layout, blocks: list[bytes]) -> None:
    end = lay.records[-1][0] + lay.records[-1][1]
    head = bytes(d[: lay.records[0][0]])
    tail = bytes(d[end:])
    d[:] = head + b"".join(blocks) + tail


def reorder(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    """Swap two records (pcap) or blocks (pcapng, SHB and IDB included)."""
    if len(lay.records) < 2:
        return "reorder none"
    blocks = _blocks(d, lay)
    i, j = rnd.randrange(len(blocks)), rnd.randrange(len(blocks))
    blocks[i], blocks[j] = blocks[j], blocks[i]
    _rejoin(d, lay, blocks)
    return f"reorder {i}<->{j}"


def duplicate(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    """Repeat a record or block (an SHB or IDB in the middle of a section included)."""
    if not lay.records:
        return "duplicate none"
    blocks = _blocks(d, lay)
    i, j = rnd.randrange(len(blocks)), rnd.randrange(len(blocks) + 1)
    times = rnd.choice((1, 1, 2, 50))
    blocks[j:j] = [blocks[i]] * times
    _rejoin(d, lay, blocks)
    return f"duplicate {i}->{j} x{times}"


def drop(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    if not lay.records:
        return "drop none"
    blocks = _blocks(d, lay)
    i = rnd.randrange(len(blocks))
    del blocks[i]
    _rejoin(d, lay, blocks)
    return f"drop {i}"


def header(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    """The file header: version fields, byte order, magic variants."""
    pos = rnd.randrange(4, min(24, len(d))) if len(d) > 4 else 0
    value = rnd.getrandbits(8)
    if pos < len(d):
        d[pos] = value
    return f"header pos={pos} value={value}"


def splice(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    """Copy a run of bytes from one place to another (payloads that look like headers)."""
    if len(d) < 8:
        return "splice none"
    a, b = rnd.randrange(len(d)), rnd.randrange(len(d))
    n = min(rnd.choice((4, 16, 64, 1500)), len(d) - a)
    d[b:b] = d[a : a + n]
    return f"splice {a}->{b} n={n}"


def payload_noise(d: bytearray, lay: Layout, rnd: random.Random) -> str:
    """Random bytes after the first 54 bytes of a few packets (the protocol parsers' input)."""
    recs = [r for r in lay.records if r[1] > 16 + 60]
    if not recs:
        return bit_flips(d, lay, rnd)
    k = rnd.choice((1, 5, 50))
    for o, n in rnd.sample(recs, min(k, len(recs))):
        start = o + (16 if lay.kind == "pcap" else 28) + 42
        end = o + n - (0 if lay.kind == "pcap" else 4)
        if start < end:
            p = rnd.randrange(start, end)
            q = min(end, p + rnd.choice((1, 8, 64, 2000)))
            d[p:q] = rnd.randbytes(q - p)
    return f"payload_noise k={k}"


OPERATORS: dict[str, Op] = {
    "bit_flips": bit_flips,
    "byte_run": byte_run,
    "truncate_boundary": truncate_boundary,
    "truncate_inside": truncate_inside,
    "length_field": length_field,
    "timestamp": timestamp,
    "linktype_swap": linktype_swap,
    "snaplen": snaplen,
    "interface_id": interface_id,
    "reorder": reorder,
    "duplicate": duplicate,
    "drop": drop,
    "header": header,
    "splice": splice,
    "payload_noise": payload_noise,
}


def _gzip_damage(z: bytes, rnd: random.Random) -> tuple[bytes, str]:
    how = rnd.choice(("cut", "flip", "trailer", "cut_header", "concat"))
    if how == "cut":
        n = rnd.randrange(1, len(z))
        return z[:n], f"gzip cut at={n}"
    if how == "flip":
        b = bytearray(z)
        pos = rnd.randrange(10, len(b))
        b[pos] ^= 1 << rnd.randrange(8)
        return bytes(b), f"gzip flip pos={pos}"
    if how == "trailer":  # CRC / size trailer wrong
        b = bytearray(z)
        b[-rnd.randrange(1, 9)] ^= 0xFF
        return bytes(b), "gzip trailer"
    if how == "cut_header":
        n = rnd.randrange(1, 11)
        return z[:n], f"gzip cut_header at={n}"
    return z + z[: rnd.randrange(len(z))], "gzip concat_partial"


def make_mutant(source: bytes, seed: int, index: int) -> tuple[bytes, list[str]]:
    """The mutant number ``index`` of ``source`` in the campaign ``seed``, and its recipe."""
    rnd = random.Random(f"{seed}:{index}")
    ops: list[str] = []
    data = source
    was_gzip = data[:2] == b"\x1f\x8b"
    if was_gzip:
        with contextlib.suppress(OSError, EOFError, zlib.error):
            data = gzip.decompress(data)
    buf = bytearray(data)
    names = sorted(OPERATORS)
    for _ in range(rnd.choice((1, 1, 2, 3))):
        if not buf:
            break
        name = rnd.choice(names)
        ops.append(OPERATORS[name](buf, layout(bytes(buf)), rnd))
    out = bytes(buf)
    # gzip: every gzip source is written back compressed; other sources sometimes are
    if was_gzip or rnd.random() < 0.08:
        out = gzip.compress(out, compresslevel=1, mtime=0)
        ops.append("gzip")
        if rnd.random() < 0.6:
            out, op = _gzip_damage(out, rnd)
            ops.append(op)
    return out, ops
