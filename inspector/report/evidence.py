"""``inspector evidence OUTDIR FINDING_ID -o file.pcap``: the packets behind one finding.

The finding names its flows (``uids``) and key frames; ``flows.json`` in OUTDIR gives each flow's
5-tuple and first/last frame, and ``summary.json`` where the capture was read from. The capture is
read again (source and decode stages only, no tshark) and every frame that belongs to one of the
flows, or is listed in the finding, is written unchanged to a pcap (or pcapng, when the output
name ends in ``.pcapng`` or the frames use several link types).

ICMP errors (port unreachable, time exceeded...) that quote a packet of one of the flows are
exported too, as Wireshark's filter selects them, when they arrive between the flow's first
packet and :data:`ICMP_GRACE_FRAMES` frames after its last one.

In a pseudonymised OUTDIR (``analyze --pseudonymize``) the run's private map
(:mod:`inspector.report.pseudomap`) turns the flows' pseudonyms back into the real addresses to
find the packets, and every exported packet is rewritten with the same pseudonyms
(:mod:`inspector.report.rewrite`), so the findings' display filters hold in the pcap. The
written bytes are scanned for every real address and MAC of the map; if one remains, nothing is
written. Without the map nothing is exported.

Limits: the non-final fragments of a fragmented IP datagram are not exported (the flow is only
known once the datagram is whole).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from inspector.decode import ICMP, ICMP6, TCP, UDP, Decoder, Malformed
from inspector.errors import InputError, OutputError
from inspector.report.addrtext import Scanner
from inspector.report.pseudomap import keep_extended, load_map
from inspector.report.pseudonymize import Pseudonymizer
from inspector.report.rewrite import PacketRewriter
from inspector.source import RawPacket, open_capture

__all__ = [
    "ICMP_GRACE_FRAMES",
    "EvidenceExport",
    "FlowMatch",
    "export_evidence",
    "load_finding",
    "normalise_finding_id",
    "quoted_packet",
    "select_packets",
    "write_pcap",
    "write_pcapng",
]

_PROTO = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "icmp6": ICMP6}
#: ICMP errors quoting a flow's packet are looked for up to this many frames after its last one.
ICMP_GRACE_FRAMES = 64
_ICMP_ERRORS = {ICMP: frozenset({3, 4, 5, 11, 12}), ICMP6: frozenset({1, 2, 3, 4})}
_PORTS = struct.Struct("!HH")
_ID = re.compile(r"[Ff]?0*(\d{1,9})")


@dataclass(frozen=True, slots=True)
class FlowMatch:
    """What identifies one flow's packets: protocol, the two ends and the frame range.

    An address of ``None`` (a pseudonymisation token) matches any address.
    """

    proto: int
    a: bytes | None
    a_port: int
    b: bytes | None
    b_port: int
    first_frame: int
    last_frame: int

    def matches(
        self,
        frame: int,
        proto: int,
        src: bytes,
        dst: bytes,
        sport: int,
        dport: int,
        grace: int = 0,
    ) -> bool:
        if proto != self.proto or not self.first_frame <= frame <= self.last_frame + grace:
            return False
        if proto in (ICMP, ICMP6):
            ends = ((self.a, self.b), (self.b, self.a))
            return any((x is None or x == src) and (y is None or y == dst) for x, y in ends)
        return (
            (self.a is None or self.a == src)
            and (self.b is None or self.b == dst)
            and (self.a_port, self.b_port) == (sport, dport)
        ) or (
            (self.b is None or self.b == src)
            and (self.a is None or self.a == dst)
            and (self.b_port, self.a_port) == (sport, dport)
        )


@dataclass(frozen=True, slots=True)
class EvidenceExport:
    """The outcome of one export."""

    finding_id: str
    capture: str
    output: str
    packets: int
    format: str
    frames: tuple[int, ...]
    #: one line on what pseudonymisation rewrote ("" for a plain OUTDIR)
    note: str = ""
    #: the note says something a reader of the pcap must know (shown even with --quiet)
    warn: bool = False


def normalise_finding_id(text: str) -> str:
    """``'f1'``, ``'1'``, ``'F0001'`` -> ``'F0001'``; raise :class:`InputError` otherwise."""
    m = _ID.fullmatch(text.strip())
    if m is None:
        raise InputError(f"{text!r} is not a finding id (like F0001)")
    return f"F{int(m.group(1)):04d}"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path.parent}: no {path.name}; is this an inspector OUTDIR?") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc


def load_finding(
    outdir: str | os.PathLike[str], finding_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(finding, its flows, summary) from an OUTDIR; :class:`InputError` when absent."""
    out = Path(outdir)
    if not out.is_dir():
        raise InputError(f"{out}: no such folder (give the OUTDIR of `inspector analyze`)")
    fid = normalise_finding_id(finding_id)
    findings = _read_json(out / "findings.json")
    finding = next((f for f in findings if f.get("finding_id") == fid), None)
    if finding is None:
        known = ", ".join(f.get("finding_id", "") for f in findings[:5])
        hint = f" (this run has {len(findings)}: {known}{'...' if len(findings) > 5 else ''})"
        raise InputError(f"{out}: no finding {fid}{hint if findings else ' (it has none)'}")
    uids = {u for u in (finding.get("uids") or "").split(";") if u}
    flows = [f for f in _read_json(out / "flows.json") if f.get("uid") in uids]
    return finding, flows, _read_json(out / "summary.json")


def _packed(text: object) -> bytes | None:
    try:
        return ipaddress.ip_address(str(text).split("%", 1)[0]).packed
    except ValueError:
        return None


def quoted_packet(d: tuple[Any, ...]) -> tuple[int, bytes, bytes, int, int] | None:
    """(proto, src, dst, sport, dport) of the packet an ICMP error quotes, or None."""
    proto, icmp_type, data, start, end = d[0], d[3], d[7], d[8], d[9]
    if icmp_type not in _ICMP_ERRORS.get(proto, ()):
        return None
    q = data[start + 4 : end]  # after the 4 unused / MTU / pointer bytes
    if len(q) >= 20 and q[0] >> 4 == 4:
        ihl = (q[0] & 0x0F) * 4
        inner, src, dst = q[9], q[12:16], q[16:20]
    elif len(q) >= 40 and q[0] >> 4 == 6:
        ihl, inner, src, dst = 40, q[6], q[8:24], q[24:40]
    else:
        return None
    if inner in (TCP, UDP):
        if len(q) < ihl + 4:
            return None
        sport, dport = _PORTS.unpack_from(q, ihl)
        return inner, bytes(src), bytes(dst), sport, dport
    return inner, bytes(src), bytes(dst), 0, 0


def _flow_match(flow: dict[str, Any], real: dict[str, str] | None = None) -> FlowMatch | None:
    proto = _PROTO.get(str(flow.get("proto", "")))
    if proto is None:
        return None
    back = real or {}
    orig, resp = str(flow.get("orig_h")), str(flow.get("resp_h"))
    return FlowMatch(
        proto,
        _packed(back.get(orig, orig)),
        int(flow.get("orig_p") or 0),
        _packed(back.get(resp, resp)),
        int(flow.get("resp_p") or 0),
        int(flow.get("first_frame") or 0),
        int(flow.get("last_frame") or 0),
    )


def _capture_path(summary: dict[str, Any], file: str, override: str | None) -> str:
    if override:
        if not Path(override).is_file():
            raise InputError(f"{override}: no such capture file")
        return override
    tried: list[str] = []
    for item in summary.get("inputs", []):
        names = [item.get("abspath"), item.get("path")]
        if file and not any(n and os.path.basename(n) == file for n in names):
            continue
        for name in names:
            if name and Path(name).is_file():
                return str(name)
            if name:
                tried.append(str(name))
    if file and Path(file).is_file():
        return file
    where = ", ".join(tried) or file or "unknown"
    raise InputError(f"capture {file or '?'} not found (looked for {where}); pass --capture PATH")


def select_packets(
    path: str,
    matches: Iterable[FlowMatch],
    frames: Iterable[int] = (),
    hits: list[int] | None = None,
) -> Iterator[tuple[int, RawPacket]]:
    """(frame number, packet) for every frame of ``path`` that matches a flow or is listed.

    ``hits``, when given, receives per rule the number of packets that matched it.
    """
    wanted = set(frames)
    rules = list(matches)
    counts = hits if hits is not None else []
    counts[:] = [0] * len(rules)
    last = max([m.last_frame + ICMP_GRACE_FRAMES for m in rules] + list(wanted) + [0])
    decoder = Decoder()
    for n, pkt in enumerate(open_capture(path), 1):
        if n > last:
            break
        matched = False
        try:
            d = decoder.decode(pkt.linktype, pkt.data, pkt.ts)
        except Malformed:
            d = "malformed"
        if not isinstance(d, str):
            proto, src, dst, sport, dport = d[0], d[1], d[2], d[3], d[4]
            for i, m in enumerate(rules):
                if m.matches(n, proto, src, dst, sport, dport):
                    counts[i] += 1
                    matched = True
            if not matched and proto in (ICMP, ICMP6):
                quoted = quoted_packet(d)
                if quoted is not None:
                    matched = any(m.matches(n, *quoted, grace=ICMP_GRACE_FRAMES) for m in rules)
        if matched or n in wanted:
            yield n, pkt


def _ts(ts: float) -> tuple[int, int]:
    sec = int(ts)
    usec = round((ts - sec) * 1_000_000)
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return sec, usec


def write_pcap(fh: BinaryIO, packets: Iterable[RawPacket], linktype: int) -> int:
    """Classic little-endian microsecond pcap; returns the number of packets written."""
    fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
    n = 0
    for p in packets:
        sec, usec = _ts(p.ts)
        fh.write(struct.pack("<IIII", sec, usec, len(p.data), max(p.wirelen, len(p.data))))
        fh.write(p.data)
        n += 1
    return n


def _block(btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    size = len(body) + 12
    return struct.pack("<II", btype, size) + body + struct.pack("<I", size)


def write_pcapng(fh: BinaryIO, packets: Iterable[RawPacket]) -> int:
    """pcapng with one interface per link type (microsecond timestamps)."""
    fh.write(_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    iface: dict[int, int] = {}
    n = 0
    for p in packets:
        if p.linktype not in iface:
            iface[p.linktype] = len(iface)
            fh.write(_block(1, struct.pack("<HHI", p.linktype, 0, 262144)))
        stamp = round(p.ts * 1_000_000)
        body = struct.pack(
            "<IIIII",
            iface[p.linktype],
            stamp >> 32,
            stamp & 0xFFFFFFFF,
            len(p.data),
            max(p.wirelen, len(p.data)),
        )
        fh.write(_block(6, body + p.data))
        n += 1
    return n


def _pseudonymised(
    selected: list[tuple[int, RawPacket]], p: Pseudonymizer
) -> tuple[list[tuple[int, RawPacket]], str, bool]:
    """The packets rewritten with the run's pseudonyms, and the one-line note; refuses
    (:class:`InputError`) when a real address or MAC would remain in the bytes."""
    rewriter = PacketRewriter(p)
    for _n, pkt in selected:
        rewriter.learn(pkt.linktype, pkt.data)
    rewriter.freeze()
    out = [(n, pkt._replace(data=rewriter.rewrite(pkt.linktype, pkt.data))) for n, pkt in selected]
    scanner = Scanner(rewriter.reals())
    left = [(n, hit) for n, pkt in out for hit in scanner.find(pkt.data)]
    if left:
        # where, not which: the address itself is what must not be printed
        places = sorted({(n, offset) for n, (_real, offset) in left})
        shown = ", ".join(f"{n} byte {offset}" for n, offset in places[:8])
        raise InputError(
            f"{len(left)} occurrence(s) of real addresses could not be rewritten (frame "
            f"{shown}{'...' if len(places) > 8 else ''}); nothing written"
        )
    return out, rewriter.notes.line(), rewriter.notes.warns


def _selected(
    path: str, fid: str, matches: list[FlowMatch], listed: list[int]
) -> list[tuple[int, RawPacket]]:
    hits: list[int] = []
    selected = list(select_packets(path, matches, listed, hits))
    if not selected or (matches and 0 in hits):
        raise InputError(
            f"{path}: none of the packets of {fid} are in this file "
            "(is it the capture the OUTDIR was made from?)"
            if not any(hits)
            else f"{path}: some flows of {fid} are missing from this file "
            "(is it the capture the OUTDIR was made from?)"
        )
    return selected


def _write(out: Path, packets: list[RawPacket]) -> tuple[int, bool]:
    """Write ``packets``; (how many, whether as pcapng)."""
    linktypes = {p.linktype for p in packets}
    pcapng = out.suffix.lower() == ".pcapng" or len(linktypes) > 1
    try:
        with out.open("wb") as fh:
            if pcapng:
                return write_pcapng(fh, packets), True
            return write_pcap(fh, packets, next(iter(linktypes))), False
    except OSError as exc:
        raise InputError(f"{out}: cannot write ({exc.strerror or exc})") from exc


def export_evidence(
    outdir: str | os.PathLike[str],
    finding_id: str,
    output: str | os.PathLike[str],
    capture: str | None = None,
    map_file: str | None = None,
) -> EvidenceExport:
    """Write the packets of ``finding_id`` (from the run in ``outdir``) to ``output``.

    A pseudonymised run's packets are rewritten with its map (``map_file`` names it when it
    is not in the state folder); see the module doc."""
    finding, flows, summary = load_finding(outdir, finding_id)
    file = str(finding.get("file") or "")
    pseudo, map_path = None, None
    if summary.get("pseudonymized"):
        pseudo, inputs, map_path = load_map(summary, map_file)
        summary = {**summary, "inputs": inputs}
    path = _capture_path(summary, file, capture)
    real = {v: k for k, v in pseudo.mapping.items()} if pseudo is not None else None
    matches = [m for m in (_flow_match(f, real) for f in flows) if m is not None]
    listed = [int(x) for x in str(finding.get("frames") or "").split(";") if x.strip().isdigit()]
    selected = _selected(path, str(finding["finding_id"]), matches, listed)
    note, warn = "", False
    if pseudo is not None and map_path is not None:
        selected, note, warn = _pseudonymised(selected, pseudo)
        try:
            keep_extended(pseudo, summary, map_path)
        except OutputError as exc:
            note, warn = f"{note}; later exports may number new addresses differently ({exc})", True
    out = Path(output)
    count, pcapng = _write(out, [p for _n, p in selected])
    return EvidenceExport(
        str(finding["finding_id"]),
        path,
        str(out),
        count,
        "pcapng" if pcapng else "pcap",
        tuple(n for n, _p in selected),
        note,
        warn,
    )
