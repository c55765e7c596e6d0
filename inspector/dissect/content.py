"""Per-flow content classes over every retained datagram, and cleartext metadata leaks.

Each retained UDP datagram (and each TURN-over-TCP unit) gets one class (``CONTENT_CLASSES``).
First bytes follow RFC 7983 / RFC 9443; then stream evidence decides media: RTP needs a stream
(same SSRC, >= 3 packets, increasing sequence numbers, RFC 3550 A.1); a stream is ``rtp`` when a
codec structure test passes (:func:`inspector.dissect.codecs.evaluate`), ``srtp`` when >= 10
packets fail every test and the payload bytes look random, else ``rtp_undecided``. RTCP is
``rtcp`` when the compound walks exactly (RFC 3550 section 6.1), ``srtcp`` when an incrementing
E|index word sits at -4/-8/-14 (RFC 3711 section 3.4, RFC 7714 section 9.4), the E bit counted.
Relayed payloads (ChannelData, Send/Data indications, MS-TURN) are classified too, so DTLS-SRTP
through a TURN relay shows its media. What no parser explains is checked for filler probes,
repeated keepalives and cleartext metadata (addresses, UUIDs, user names).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from inspector.dissect import codecs, content_tcp, gquic, hellos, sigtext, zoom
from inspector.dissect.base import FlowView
from inspector.dissect.demux import is_ms_turn, is_zrtp, rtcp_plausible, rtp_plausible
from inspector.dissect.dns_wire import parse_message
from inspector.dissect.rtp import increasing, infer_srtcp, parse_rtcp, parse_rtp, timestamp_step
from inspector.dissect.stun import StunMethod, parse_stun, split_tcp
from inspector.errors import ParseError
from inspector.schema.base import Row
from inspector.schema.content import CONTENT_CLASSES, ContentRow

__all__ = [
    "Unit",
    "dissect",
    "find_leaks",
    "is_text",
    "longest_run",
    "quic_version_ok",
    "units",
]

MIN_STREAM = 3
#: a filler probe: one byte value repeated this long, covering >= half of a datagram this big.
PROBE_RUN = 64
PROBE_MIN_LEN = 200
KEEPALIVE_MAX_LEN = 128
KEEPALIVE_REPEATS = 3
_MAX_LEAK_SCANS = 300
_MAX_EXAMPLES = 3
DNS_PORTS = frozenset({53, 137, 5353, 5355})
#: gQUIC packets of a session begun before the capture are looked for on this UDP port only.
GQUIC_PORT = 443
_DHCP_COOKIE = b"\x63\x82\x53\x63"
_PRINTABLE = b"\t\r\n" + bytes(range(0x20, 0x7F))
_RUNS: dict[int, re.Pattern[bytes]] = {}
#: inner media-encapsulation types (zoom.py ZoomType) a 2022 SFU header may carry at offset 8
_ZOOM_INNER = frozenset({0x01, 0x0D, 0x0F, 0x10, 0x15, 0x1E, 0x20, 0x21, 0x22, 0x23})
#: inner type 0x0a: a Zoom SFU keepalive (05 0a 06 then zero bytes, 2019 and 2022 layouts)
_ZOOM_KEEPALIVE = 0x0A
_VERSION_WORDS = (b"android", b"ios", b"version", b"ver", b"build", b"sdk", b"release", b"os ")
_MEDIA = frozenset({"rtp", "srtp", "rtp_undecided", "rtcp", "srtcp", "dtls", "zoom_media"})

_IPV4 = re.compile(rb"(?<![0-9.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                   rb"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![0-9.])")  # fmt: skip
_IPV6 = re.compile(rb"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")
_UUID = re.compile(
    rb"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
    rb"[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)
_EMAIL = re.compile(
    rb"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
)
_USER = re.compile(
    rb"(?i)(?<![A-Za-z])(?:user(?:_?name)?|login|nick(?:name)?|account)[\"']?\s{0,3}[:=]\s{0,3}"
    rb"[\"']?([A-Za-z0-9._@+-]{2,64})"
)


@dataclass(frozen=True, slots=True)
class Unit:
    """One classified payload: a datagram, or a payload relayed inside one."""

    frame: int
    ts: float
    from_orig: bool
    payload: bytes
    relayed: bool  #: True for a payload found inside a TURN / MS-TURN framing


def longest_run(data: bytes, at_least: int = 1) -> tuple[int, int]:
    """``(length, byte)`` of the longest run of one repeated byte value that is at least
    ``at_least`` long (``(0, 0)`` when there is none)."""
    best, best_b = 0, 0
    if at_least < 1 or not data:
        return best, best_b
    rx = _RUNS.get(at_least)
    if rx is None:
        rx = _RUNS[at_least] = re.compile(rb"(.)\1{%d,}" % (at_least - 1), re.DOTALL)
    for m in rx.finditer(data):
        if m.end() - m.start() > best:
            best, best_b = m.end() - m.start(), data[m.start()]
    return best, best_b


def quic_version_ok(payload: bytes) -> bool:
    """A QUIC long header (RFC 9000 section 17.2) with a known, draft, GREASE or negotiation
    version (RFC 9000 section 15: versions ``0x?a?a?a?a`` are reserved)."""
    if len(payload) < 7 or payload[0] & 0xC0 != 0xC0:
        return False
    v = int.from_bytes(payload[1:5], "big")
    return (
        v in (0, 1, 0x6B3343CF, 0x709A50C4)
        or v & 0xFFFFFF00 == 0xFF000000
        or v & 0x0F0F0F0F == 0x0A0A0A0A
        or payload[1:3] in (b"Q0", b"T0")
    )


def _relayed(payload: bytes) -> tuple[str, bytes | None]:
    """``(framing class, inner payload or None)`` for a TURN / MS-TURN framed datagram."""
    b0 = payload[0]
    if 0x40 <= b0 <= 0x4F and len(payload) >= 4:
        n = (payload[2] << 8) | payload[3]
        if 4 + n <= len(payload) <= 4 + n + 3:
            return "turn_channel", payload[4 : 4 + n]
    elif is_ms_turn(payload):
        return "ms_turn", payload[12:]
    elif b0 < 0x40 and len(payload) >= 20:
        try:
            msg = parse_stun(payload)
        except ParseError:
            return "", None
        if msg.method in (StunMethod.SEND, StunMethod.DATA) and msg.data:
            return "turn_send_data", msg.data
        return "stun", None
    return "", None


def units(view: FlowView) -> Iterator[tuple[Unit, str]]:
    """``(unit, framing class)`` for each datagram / TURN-over-TCP unit, then its relayed inner
    payload as ``(inner unit, "")``. A framing class of ``""`` means "classify the payload"."""
    if view.proto == "udp":
        for d in view.datagrams:
            if not d.payload:
                yield Unit(d.frame, d.ts, d.from_orig, d.payload, False), ""
                continue
            framing, inner = _relayed(d.payload)
            yield Unit(d.frame, d.ts, d.from_orig, d.payload, False), framing
            if inner is not None:
                yield Unit(d.frame, d.ts, d.from_orig, inner, True), ""
        return
    if view.proto != "tcp":
        return
    turn = list(_turn_units(view))
    if turn:
        yield from turn
        return
    found = list(content_tcp.tls_record_units(view)) or list(content_tcp.websocket_units(view))
    for frame, ts, from_orig, payload, cls in found:
        yield Unit(frame, ts, from_orig, payload, False), cls


def _turn_units(view: FlowView) -> Iterator[tuple[Unit, str]]:
    for stream, from_orig in ((view.orig, True), (view.resp, False)):
        for off, data, framing in split_tcp(stream.data):
            frame, ts = stream.frame_at(off), stream.ts_at(off)
            if framing == "turn_channel":
                yield Unit(frame, ts, from_orig, data, False), "turn_channel"
                yield Unit(frame, ts, from_orig, data, True), ""
                continue
            outer, inner = _relayed(data)
            yield Unit(frame, ts, from_orig, data, False), outer or "stun"
            if inner is not None:
                yield Unit(frame, ts, from_orig, inner, True), ""


# ---------------------------------------------------------------------------------------------
# first-pass classification of one payload (stream decisions come later)


def _has_dtls_header(p: bytes) -> bool:
    return (
        len(p) >= 13
        and 20 <= p[0] <= 26
        and ((p[1] << 8) | p[2]) in (0xFEFF, 0xFEFD, 0xFEFC, 0x0100)
        and (p[0] == 25 or 13 + ((p[11] << 8) | p[12]) <= len(p))
    )


def _dns(p: bytes) -> bool:
    try:
        msg = parse_message(p)
    except ParseError:
        return False
    return bool(msg.questions or msg.answers)


def is_text(p: bytes) -> bool:
    """>= 16 bytes, >= 90 % printable ASCII (tab, CR, LF included)."""
    head = p[:512]
    return len(p) >= 16 and 10 * len(head.translate(None, _PRINTABLE)) <= len(head)


def _first_pass(p: bytes, state: dict[str, bool], ports: tuple[int, int]) -> str:
    """A tentative class: a protocol class, or ``rtp?``/``rtcp?`` (stream evidence pending),
    ``zoom?`` (weak Zoom control), or ``""`` (leftover)."""
    if not p:
        return ""
    b0 = p[0]
    if DNS_PORTS.intersection(ports) and len(p) >= 12 and _dns(p):
        return "dns"
    if sigtext.recognise_datagram(p, ports) is not None:
        return "signalling"
    if b0 < 0x40 and len(p) >= 20:
        try:
            parse_stun(p)
            return "stun"
        except ParseError:
            pass
    if _has_dtls_header(p):
        state["dtls"] = True
        return "dtls"
    if state.get("dtls") and 0x20 <= b0 <= 0x3F and len(p) >= 4:
        return "dtls"
    if is_zrtp(p):
        return "zrtp"
    if zoom.locate_rtp(p) is not None:
        return "zoom_media"
    if 0x80 <= b0 <= 0xBF and len(p) >= 8:
        if 192 <= p[1] <= 223:
            if rtcp_plausible(p):
                return "rtcp?"
        elif rtp_plausible(p):
            return "rtp?"
    if quic_version_ok(p):
        state["quic"] = True
        return "quic"
    if state.get("quic") and 0x40 <= b0 <= 0x7F and len(p) >= 21:
        return "quic"
    if zoom.is_hello(p):
        state["zoom"] = True
        return "zoom_control"
    return ""


def _zoom_weak(p: bytes) -> bool:
    """A Zoom SFU control datagram: 2022 header (``05``, direction 00/04 at 7, a known inner
    type at 8) or the 2019/2020 one-byte header followed by inner type 0x15
    (module :mod:`inspector.dissect.zoom`)."""
    if len(p) <= 8 or p[0] != zoom.SFU_MEDIA:
        return False
    return (p[7] in (0x00, 0x04) and p[8] in _ZOOM_INNER) or p[1] == zoom.ZoomType.UNKNOWN_15


def _zoom_session(p: bytes) -> bool:
    """Zoom SFU session datagrams, counted only on a flow already shown to be Zoom's (too weak
    alone: ``04 00 00 00`` also opens every WireGuard data packet): SFU types 3/4 (the echo
    pairs of :mod:`inspector.dissect.zoom`'s notes), the server's ``02 00 0x`` answer to a
    hello, type 5 keepalives with inner type 0x0a (``05 0a 06`` + zero bytes) and type 5 in the
    2019 layout (inner type right after the 0x05 byte) with no media found inside."""
    if len(p) > 8 and p[0] in (3, 4) and p[1:4] == b"\x00\x00\x00":
        return True
    if len(p) > 30 and p[0] == 2 and p[1] == 0 and p[2] in (1, 2, 3):
        return True
    inner = (p[1] in _ZOOM_INNER or _ZOOM_KEEPALIVE in (p[1], p[8])) if len(p) > 8 else False
    return p[:1] == bytes([zoom.SFU_MEDIA]) and inner


def _documented(p: bytes, ports: tuple[int, int]) -> str:
    """``hello``, ``ntp`` or ``netbios`` for a datagram of module :mod:`.hellos`, else ``""``."""
    for parse, cls in ((hellos.parse_service, ""), (hellos.parse_hello, "hello")):
        try:
            name = parse(p, ports)
        except ParseError:
            continue
        return cls or name
    return ""


def _probe(p: bytes) -> str:
    """Evidence text when ``p`` is a filler probe, else ``""``."""
    if len(p) < PROBE_MIN_LEN:
        return ""
    run, byte = longest_run(p, PROBE_RUN)
    if run and 2 * run >= len(p):
        return f"run of {run} x 0x{byte:02x} in {len(p)} bytes"
    return ""


# ---------------------------------------------------------------------------------------------
# stream decisions


def _rtp_streams(pending: Sequence[tuple[int, Unit]], out: list[str]) -> None:
    """Resolve ``rtp?`` candidates (index into ``out``) into rtp / srtp / rtp_undecided / ""."""
    groups: dict[tuple[bool, int], list[tuple[int, Unit]]] = {}
    for idx, u in pending:
        ssrc = int.from_bytes(u.payload[8:12], "big")
        groups.setdefault((u.from_orig, ssrc), []).append((idx, u))
    for members in groups.values():
        try:
            hdrs = [parse_rtp(u.payload) for _, u in members]
        except ParseError:
            hdrs = []
        if len(hdrs) < MIN_STREAM or not increasing(hdrs):
            for idx, _ in members:
                out[idx] = ""
            continue
        step = timestamp_step(hdrs)
        cpk = [
            codecs.CodecPacket(u.frame, u.payload[h.header_len :], h.header_len, h.marker,
                               h.timestamp, h.seq, h.payload_type)
            for (_, u), h in zip(members, hdrs, strict=True)
        ]  # fmt: skip
        result = codecs.evaluate(cpk, step)
        if result is not None and result.confident:
            cls = "rtp"
        elif len(cpk) >= codecs.MIN_PACKETS and _random_looking([c.payload for c in cpk]):
            # an SRTP tag read off constant-size audio is SRTP evidence of the stream itself;
            # otherwise the flow must show DTLS or SRTCP (decided in _classify)
            cls = "srtp" if codecs.srtp_tag_guess(cpk, step) in ("4", "10", "16") else "srtp?"
        else:
            cls = "rtp_undecided"
        for idx, _ in members:
            out[idx] = cls


def _random_looking(payloads: Sequence[bytes]) -> bool:
    """Concatenated payload bytes (up to 1400) have entropy at or above the random 0.1% floor."""
    sample = b"".join(payloads)[:1400]
    return len(sample) >= 64 and codecs.entropy_bits(sample) >= codecs.random_entropy_floor(
        len(sample)
    )


def _rtcp_packets(
    pending: Sequence[tuple[int, Unit]], out: list[str], have_media: bool
) -> tuple[int, int]:
    """Resolve ``rtcp?`` candidates; returns ``(E=1, E=0)`` SRTCP counts."""
    e1 = e0 = 0
    for direction in (True, False):
        inexact: list[tuple[int, Unit]] = []
        for idx, u in pending:
            if u.from_orig != direction:
                continue
            try:
                exact = parse_rtcp(u.payload).exact
            except ParseError:
                exact = False
            if exact:
                out[idx] = "rtcp"
            else:
                inexact.append((idx, u))
        _flag, back = infer_srtcp([u.payload for _, u in inexact]) if inexact else ("", None)
        for idx, u in inexact:
            if back is not None and len(u.payload) >= 8 + back:
                out[idx] = "srtcp"
                if u.payload[len(u.payload) - back] & 0x80:
                    e1 += 1
                else:
                    e0 += 1
            else:
                out[idx] = "rtcp_undecided" if have_media else ""
    return e1, e0


# ---------------------------------------------------------------------------------------------
# metadata leaks


def _endpoint_bytes(view: FlowView) -> list[bytes]:
    """The flow's own addresses as raw bytes, when distinctive (at most one zero byte)."""
    out: list[bytes] = []
    for host in (view.orig_h, view.resp_h):
        try:
            packed = ipaddress.ip_address(host).packed
        except ValueError:
            continue
        if packed.count(0) <= (1 if len(packed) == 4 else 8):
            out.append(packed)
    return out


def _show(value: bytes) -> str:
    return value[:64].decode("ascii", "backslashreplace").replace(";", "\\x3b")


def _personal(text: bytes) -> bool:
    """An address that can identify a host: not multicast (e.g. SSDP's 239.255.255.250),
    loopback, unspecified, reserved or broadcast."""
    try:
        ip = ipaddress.ip_address(text.decode("ascii"))
    except ValueError:
        return False
    return not (ip.is_multicast or ip.is_loopback or ip.is_unspecified or ip.is_reserved)


def _version_context(payload: bytes, start: int) -> bool:
    """A dotted quad that reads as a software version: after ``v``, ``/``, ``_``, ``-`` or
    with a version word just before it (``Android,8.9.0.2``, ``version 10.0.1.2``)."""
    if start and payload[start - 1] in b"vV/_-":
        return True
    before = payload[max(0, start - 16) : start].lower()
    return any(w in before for w in _VERSION_WORDS)


def find_leaks(payload: bytes, endpoints: Sequence[bytes] = ()) -> list[tuple[str, str]]:
    """``(kind, example)`` for each kind of cleartext metadata in ``payload`` (first hit each)."""
    found: list[tuple[str, str]] = []
    if payload.count(b".") >= 3:
        for m in _IPV4.finditer(payload):
            if _personal(m.group()) and not _version_context(payload, m.start()):
                found.append(("ipv4", _show(m.group())))
                break
    if payload.count(b":") >= 2:
        for m in _IPV6.finditer(payload):
            text = m.group()
            if len(text) >= 6 and len(text.translate(None, b":")) >= 4 and _personal(text):
                found.append(("ipv6", _show(text)))
                break
    for packed in endpoints:
        if packed in payload:
            found.append(("ip_binary", str(ipaddress.ip_address(packed))))
            break
    if payload.count(b"-") >= 4:
        m = _UUID.search(payload)
        if m:
            found.append(("uuid", _show(m.group())))
    if b"@" in payload:
        m = _EMAIL.search(payload)
        if m:
            found.append(("email", _show(m.group())))
    if b"=" in payload or b":" in payload:
        m = _USER.search(payload)
        if m:
            found.append(("username", _show(m.group(1))))
    return found


@dataclass
class _Leaks:
    kinds: list[str]
    examples: list[str]
    first_frame: int | None = None
    packets: int = 0


def _scan_leaks(view: FlowView, leftovers: Sequence[Unit]) -> _Leaks:
    endpoints = _endpoint_bytes(view)
    leaks = _Leaks([], [])
    cache: dict[bytes, list[tuple[str, str]]] = {}
    for u in leftovers:
        hits = cache.get(u.payload)
        if hits is None:
            if len(cache) >= _MAX_LEAK_SCANS:
                continue
            hits = cache[u.payload] = find_leaks(u.payload, endpoints)
        if not hits:
            continue
        leaks.packets += 1
        if leaks.first_frame is None:
            leaks.first_frame = u.frame
        for kind, example in hits:
            if kind not in leaks.kinds:
                leaks.kinds.append(kind)
                if len(leaks.examples) < _MAX_EXAMPLES:
                    leaks.examples.append(f"{kind}={example}")
    return leaks


# ---------------------------------------------------------------------------------------------
# the row


def _classify(view: FlowView) -> tuple[list[Unit], list[str], tuple[int, int], str]:
    """Every unit with its final class, the SRTCP E counts and the first probe's evidence."""
    all_units: list[Unit] = []
    out: list[str] = []
    state: dict[str, bool] = {}
    ports = (view.orig_p, view.resp_p)
    for unit, framing in units(view):
        all_units.append(unit)
        out.append(framing or _first_pass(unit.payload, state, ports))
    rtp_pending = [(i, all_units[i]) for i, c in enumerate(out) if c == "rtp?"]
    _rtp_streams(rtp_pending, out)
    have_media = any(c in _MEDIA or c == "srtp?" for c in out)
    rtcp_pending = [(i, all_units[i]) for i, c in enumerate(out) if c == "rtcp?"]
    e_counts = _rtcp_packets(rtcp_pending, out, have_media)
    keyed = "dtls" in out or "srtcp" in out
    for i, c in enumerate(out):
        if c == "srtp?":
            out[i] = "srtp" if keyed else "rtp_undecided"
    probe_evidence = ""
    weak: list[int] = []
    for i, c in enumerate(out):
        if c:
            continue
        p = all_units[i].payload
        evidence = _probe(p)
        if len(p) >= 240 and p[236:240] == _DHCP_COOKIE:
            out[i] = "dhcp"
        elif documented := _documented(p, ports):
            out[i] = documented
        elif evidence:
            out[i] = "probe"
            probe_evidence = probe_evidence or f"{evidence}, frame {all_units[i].frame}"
        elif _zoom_weak(p):
            out[i] = "zoom?"
            weak.append(i)
    left = [i for i, c in enumerate(out) if not c]
    grams = [(all_units[i].from_orig, all_units[i].payload) for i in left]
    for j in hellos.mumble_pings(grams):
        out[left[j]] = "hello"
    if view.proto == "udp" and GQUIC_PORT in ports:
        for j in gquic.midstream_packets(grams):
            out[left[j]] = "quic"
    zoom_ok = state.get("zoom") or "zoom_media" in out or len(weak) >= MIN_STREAM
    for i in weak:
        out[i] = "zoom_control" if zoom_ok else ""
    for i in left if zoom_ok else ():
        if not out[i] and _zoom_session(all_units[i].payload):
            out[i] = "zoom_control"
    repeats = Counter(
        all_units[i].payload
        for i, c in enumerate(out)
        if not c and 0 < len(all_units[i].payload) <= KEEPALIVE_MAX_LEN
    )
    for i, c in enumerate(out):
        if not c:
            p = all_units[i].payload
            if repeats.get(p, 0) >= KEEPALIVE_REPEATS:
                out[i] = "keepalive"
            else:
                out[i] = "text" if is_text(p) else "unrecognised"
    return all_units, out, e_counts, probe_evidence


def dissect(view: FlowView) -> list[Row]:
    """The ``content`` row of one flow: UDP flows with datagrams, TCP flows with TURN units."""
    if view.proto not in ("udp", "tcp"):
        return []
    all_units, classes, (e1, e0), probe_evidence = _classify(view)
    if not all_units:
        return []
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for u, c in zip(all_units, classes, strict=True):
        counts[c] += 1
        first.setdefault(c, u.frame)
    leftover = {"unrecognised", "probe", "keepalive", "zoom_control", "text"}
    leaks = _scan_leaks(view, [u for u, c in zip(all_units, classes, strict=True) if c in leftover])
    unrec = next((u for u, c in zip(all_units, classes, strict=True) if c == "unrecognised"), None)
    outer = sum(1 for u in all_units if not u.relayed)
    flow_packets = view.packets or None
    return [
        ContentRow(
            ts=all_units[0].ts,
            uid=view.uid,
            transport=view.proto,
            classified=outer,
            flow_packets=flow_packets,
            truncated=view.proto == "udp" and flow_packets is not None and outer < flow_packets,
            classes=";".join(first),
            first_frames=";".join(f"{c}:{f}" for c, f in first.items()),
            srtcp_e1=e1,
            srtcp_e0=e0,
            probe_evidence=probe_evidence,
            unrecognised_prefix=unrec.payload[:8].hex() if unrec is not None else "",
            leak_kinds=";".join(leaks.kinds),
            leak_first_frame=leaks.first_frame,
            leak_examples=";".join(leaks.examples),
            leak_packets=leaks.packets,
            **{c: counts.get(c, 0) for c in CONTENT_CLASSES},
        )
    ]
