"""Fuzz entry points that need a little glue: ``bytes -> None``, raising only the documented error.

Used by ``scripts/fuzz_parsers.py`` and the regression tests in ``tests/fuzz``.
"""

from __future__ import annotations

import io
import struct

from inspector.dissect.buffer import Buffer
from inspector.flows.view import Datagram, FlowView, Stream

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
LINKTYPES = (1, 0, 101, 113, 276, 12, 228, 229, 239, 127, 105)
PORTS = (443, 53, 80, 3478, 8801, 5353, 19302, 4433, 3480, 5004, 1234, 50000)


def _read(data: bytes) -> int:
    """The pure-Python reader (coverage-guided: atheris sees its branches); the compiled
    walkers are fuzzed against it by the ``native`` target."""
    from inspector import _native
    from inspector.source.open import _open

    before, _native.core = _native.core, None
    try:
        cap = _open("fuzz", io.BytesIO(data))  # type: ignore[arg-type]
        n = 0
        for _ in cap.spans():
            n += 1
        cap.close()
    finally:
        _native.core = before
    return n


def read_pcap(data: bytes) -> None:
    """The pcap reader over any bytes after one of the four magics (byte 0 picks it)."""
    if data:
        _read(PCAP_MAGICS[data[0] % 4] + data[1:])


def read_pcapng(data: bytes) -> None:
    _read(b"\x0a\x0d\x0d\x0a" + data)


def decode_frames(data: bytes) -> None:
    """Several frames (2-byte length prefix each) through one decoder: fragments meet."""
    from inspector.decode import Decoder, Malformed

    if not data:
        return
    dec = Decoder()
    linktype = LINKTYPES[data[0] % len(LINKTYPES)]
    ts = 0.0
    for frame in _chunks(data[1:]):
        ts += 1.0
        try:
            dec.decode(linktype, frame, ts)
        except Malformed:
            continue


def _chunks(data: bytes, limit: int = 64) -> list[bytes]:
    """Split on 2-byte big-endian length prefixes; the last chunk takes what is left."""
    out, pos = [], 0
    while pos < len(data) and len(out) < limit:
        if pos + 2 > len(data):
            out.append(data[pos:])
            break
        (n,) = struct.unpack_from("!H", data, pos)
        out.append(data[pos + 2 : pos + 2 + n])
        pos += 2 + n
    return out


def tls_client_hello(data: bytes) -> None:
    from inspector.dissect.tls_ext import parse_client_hello, parse_client_hello_prefix

    parse_client_hello(data)
    parse_client_hello_prefix(data)


def _prefix_too(fn_name: str, data: bytes, dtls: bool) -> None:
    from inspector.dissect import tls_ext

    getattr(tls_ext, fn_name)(data, dtls=dtls)


def tls_server_hello(data: bytes) -> None:
    _prefix_too("parse_server_hello", data, False)


def dtls_client_hello(data: bytes) -> None:
    from inspector.dissect.tls_ext import parse_client_hello, parse_server_hello

    parse_client_hello(data, dtls=True)
    parse_server_hello(data, dtls=True)


def dns_lenient(data: bytes) -> None:
    from inspector.dissect.dns_wire import parse_message

    parse_message(data, lenient=True)


def rtp_srtcp(data: bytes) -> None:
    from inspector.dissect.rtp import infer_srtcp

    infer_srtcp(_chunks(data))


def gquic_frames(data: bytes) -> None:
    from inspector.dissect.gquic import parse_gquic_frames

    if len(data) < 2:
        return
    parse_gquic_frames(data[2:], 39 + data[0] % 12, 1 + data[1] % 6)


def quic_flow(data: bytes) -> None:
    """Datagrams of one flow through the QUIC flow analysis (Initial decryption included)."""
    from inspector.dissect.quic import analyze_datagrams

    dgs = [Datagram(i + 1, float(i), i % 3 != 1, c) for i, c in enumerate(_chunks(data))]
    analyze_datagrams(dgs)


# ---- whole flows through every dissector ----------------------------------------------------


def serialize_flow(view: FlowView) -> bytes:
    """A flow as fuzz input: proto, ports, then length-prefixed chunks (streams or datagrams)."""
    tcp = view.proto == "tcp"
    head = bytes([0 if tcp else 1]) + struct.pack("!HH", view.orig_p, view.resp_p)
    if tcp:
        chunks = [view.orig.data[:4000], view.resp.data[:4000]]
    else:
        chunks = [bytes([d.from_orig]) + d.payload[:1500] for d in view.datagrams[:12]]
    return head + b"".join(struct.pack("!H", len(c)) + c for c in chunks)


def deserialize_flow(data: bytes) -> FlowView:
    buf = Buffer(data + b"\0" * 5)
    tcp = buf.pull_uint8() % 2 == 0
    orig_p, resp_p = buf.pull_uint16(), buf.pull_uint16()
    chunks = _chunks(data[5:])
    base = dict(
        uid="Cfuzz", orig_h="10.0.0.1", orig_p=orig_p, resp_h="192.0.2.1", resp_p=resp_p, ts=1.0
    )
    if tcp:
        streams = [Stream(c, ((0, 1, 1.0),) if c else ()) for c in ([*chunks, b"", b""])[:2]]
        return FlowView(proto="tcp", orig=streams[0], resp=streams[1], **base)  # type: ignore[arg-type]
    dgs = tuple(
        Datagram(i + 1, 1.0 + i, bool(c[:1] and c[0] & 1), c[1:]) for i, c in enumerate(chunks)
    )
    return FlowView(proto="udp", datagrams=dgs, **base)  # type: ignore[arg-type]


def all_dissectors(data: bytes) -> None:
    """Every dissector on one flow: none may raise (each failure would be an internal_error)."""
    from inspector.dissect.registry import load_dissectors

    view = deserialize_flow(data)
    for _, fn in load_dissectors():
        fn(view)


def pcap_to_pcapng(data: bytes) -> bytes:
    """A little-endian microsecond pcap rewritten as pcapng (SHB, one IDB, one EPB per record)."""

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    (linktype,) = struct.unpack_from("<I", data, 20)
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out.append(block(1, struct.pack("<HHI", linktype & 0xFFFF, 0, 65535)))
    pos = 24
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, pos)
        ts = sec * 1_000_000 + usec
        pkt = data[pos + 16 : pos + 16 + incl]
        out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, incl, orig) + pkt))
        pos += 16 + incl
    return b"".join(out)


# ---- the compiled core against its pure-Python twin -------------------------------------------

#: flags byte of the native targets: bits 0-2 the format (0-3: a pcap magic, 4-7: pcapng),
#: bit 3 gzip (then cut by bits 5-7 x 7 bytes), bit 4 tight flow limits (sweeps, evictions)
_GZIP, _TIGHT = 8, 16


def _paths_run(data: bytes, pure: bool, tight: bool) -> object:
    """Everything one path makes of a capture: records, reader flags, summary, flows, views."""
    from inspector import _native
    from inspector.config import Config
    from inspector.errors import InputError
    from inspector.flows.fastloop import feed_spans
    from inspector.flows.table import FlowLimits
    from inspector.pipeline import Collected, Ingest
    from inspector.source.open import _open

    limits = FlowLimits()
    if tight:
        limits = FlowLimits(max_flows=3, tcp_bytes=50, udp_datagrams=2, sweep_every_s=1)
    views: list[str] = []

    def grab(view: FlowView) -> list:  # type: ignore[type-arg]
        views.append(repr(view))
        return []

    before = _native.core
    _native.use_pure(pure)
    try:
        cap = _open("fuzz", io.BytesIO(data))  # type: ignore[arg-type]
        records = [(t, lt, bytes(b[s:e]), w) for t, lt, b, s, e, w in cap.spans()]
        flags = (cap.truncated, cap.warnings, cap.skipped_blocks, cap.linktypes, cap.secrets)
        out = Collected()
        ingest = Ingest(Config(limits=limits), out, "fuzz", [("grab", grab)])
        feed_spans(ingest, _open("fuzz", io.BytesIO(data)).spans())  # type: ignore[arg-type]
        ingest.finish()
    except InputError as exc:
        return ("InputError", str(exc))
    finally:
        _native.core = before
    flows = [repr(r) for r in out.rows.get("flows", [])]
    weird = [repr(r) for r in out.rows.get("weird", [])]
    return records, flags, ingest.frame, out.summary(), flows, weird, views


def native_differential(data: bytes, flags: int) -> None:
    """The capture ``data`` read and flowed by both twins; any difference is a crasher."""
    from inspector import _native

    if not _native.available():
        raise RuntimeError(f"compiled core not built ({_native.build_error})")
    if flags & _GZIP:
        import gzip

        whole = gzip.compress(data, mtime=0)
        data = whole[: len(whole) - 7 * (flags >> 5)]
    native = _paths_run(data, False, bool(flags & _TIGHT))
    pure = _paths_run(data, True, bool(flags & _TIGHT))
    if native != pure:
        raise NativeMismatch(_first_difference(native, pure))


class NativeMismatch(AssertionError):
    """The compiled core and the pure-Python reference disagree on one input."""


def _first_difference(native: object, pure: object) -> str:
    if isinstance(native, tuple) and isinstance(pure, tuple) and len(native) == len(pure):
        names = ("records", "reader flags", "frames", "summary", "flows", "weird", "views")
        for name, a, b in zip(names, native, pure, strict=False):
            if a != b:
                return f"{name}: native {a!r:.600} != pure {b!r:.600}"
    return f"native {native!r:.600} != pure {pure!r:.600}"


def native_capture(data: bytes) -> None:
    """A whole pcap (byte 0: flags, then the file after its magic) through both twins."""
    if not data:
        return
    kind = data[0] & 7
    magic = PCAP_MAGICS[kind] if kind < 4 else b"\x0a\x0d\x0d\x0a"
    native_differential(magic + data[1:], data[0])


def native_frames(data: bytes) -> None:
    """Raw frames (byte 0: flags, byte 1: link type; 2-byte length prefixes) as a pcap, twice
    over: the second round meets known flows, so it takes the compiled fast path."""
    if len(data) < 2:
        return
    linktype = LINKTYPES[data[1] % len(LINKTYPES)]
    frames = _chunks(data[2:])
    gap = 7.0 if data[0] & _TIGHT else 0.001
    records = [(1_600_000_000 + i * gap, f) for i, f in enumerate(frames + frames)]
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for ts, f in records:
        sec = int(ts)
        pcap += struct.pack("<IIII", sec, round((ts - sec) * 1e6), len(f), len(f)) + f
    native_differential(pcap, data[0] & ~7)
