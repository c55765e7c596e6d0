"""Cleartext call signalling recognisers and HTTP CONNECT tunnels: the ``signalling`` table.

Every recogniser reads a start line or a fixed header, nothing more, and cites its reference:

* SIP (RFC 3261 section 7.1/7.2): ``METHOD sip:uri SIP/2.0`` or ``SIP/2.0 NNN reason``.
* RTSP (RFC 2326 section 6.1/7.1, RFC 7826): ``METHOD uri RTSP/1.0`` or ``RTSP/1.0 NNN``.
* MGCP (RFC 3435 section 3.2.1/3.3): ``VERB transaction-id endpoint@domain MGCP 1.0``; a
  response ``NNN transaction-id`` counts only on a flow that carried a command.
* Megaco/H.248 text (RFC 3525 / ITU-T H.248.1 Annex B): ``MEGACO/1`` or compact ``!/1``.
* HTTP CONNECT (RFC 9110 section 9.3.6): ``CONNECT host:port HTTP/1.1`` and the response.
* H.323 call signalling (ITU-T H.225.0 over TPKT, RFC 1006): ``03 00 len`` then a Q.931
  message (ITU-T Q.931 section 4: protocol discriminator 0x08, call reference, message type).
* IAX2 full frames (RFC 5456 section 8.1.1) on UDP port 4569: F bit, call numbers, timestamp,
  sequence numbers, a frame type 0x01-0x0C and, for IAX control frames, a known subclass.
* XMPP (RFC 6120 section 4 and 5): ``<stream:stream``; STARTTLS is
  ``<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'`` and ``<proceed``, then TLS.
* BFCP, conference floor control (RFC 8855 section 5.1, RFC 4582): a 12-byte common header
  (version 1 or 2, reserved bits zero, primitive 1-17, payload length, conference ID,
  transaction ID, user ID). A header alone is weak, so a flow counts only when every payload
  opens with one and one side answers a request of the other (FloorRequestQuery ->
  FloorRequestStatus...) with the same conference and transaction ID; nDPI
  ``protocols/bfcp.c`` also asks for both directions.

:func:`tunnel_view` strips an answered HTTP CONNECT from a TCP flow so the TLS dissector sees
the ClientHello (and SNI) that follows inside the tunnel.
"""

from __future__ import annotations

import bisect
import re
import struct
from dataclasses import dataclass, field

from inspector.dissect.base import FlowView
from inspector.errors import ParseError
from inspector.flows.view import Stream
from inspector.schema.base import Row
from inspector.schema.signalling import SignallingRow

__all__ = [
    "IAX2_PORT",
    "Message",
    "dissect",
    "parse_bfcp",
    "parse_iax2",
    "parse_start_line",
    "parse_tpkt_q931",
    "recognise_datagram",
    "tunnel_view",
]

IAX2_PORT = 4569
_MAX_LINE = 1024
_MAX_MESSAGES = 2000
_MAX_METHODS = 20
_MAX_FRAMES = 20
_SCAN = 1 << 16

_SIP_METHODS = ("INVITE|REGISTER|ACK|BYE|CANCEL|OPTIONS|PRACK|SUBSCRIBE|NOTIFY|PUBLISH|INFO|"
                "REFER|MESSAGE|UPDATE")  # fmt: skip
_RTSP_METHODS = ("OPTIONS|DESCRIBE|SETUP|PLAY|PAUSE|TEARDOWN|ANNOUNCE|RECORD|GET_PARAMETER|"
                 "SET_PARAMETER|REDIRECT|PLAY_NOTIFY")  # fmt: skip
_MGCP_VERBS = "EPCF|CRCX|MDCX|DLCX|RQNT|NTFY|AUEP|AUCX|RSIP|MESG|X[A-Z0-9]{3}"
#: (protocol, compiled start-line pattern, group holding the method / status)
_LINES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("sip", re.compile(rf"({_SIP_METHODS}) (?:sips?|tel|urn):\S+ SIP/2\.0"), 1),
    ("sip", re.compile(r"SIP/2\.0 ([1-6]\d\d)(?: .*)?"), 1),
    ("rtsp", re.compile(rf"({_RTSP_METHODS}) \S+ RTSP/[12]\.0"), 1),
    ("rtsp", re.compile(r"RTSP/[12]\.0 ([1-5]\d\d)(?: .*)?"), 1),
    ("mgcp", re.compile(rf"(?i)({_MGCP_VERBS}) \d{{1,9}} \S+@\S+ MGCP \d\.\d(?: .*)?"), 1),
    ("megaco", re.compile(r"(MEGACO|!)/\d [\[<]?\S+.*"), 1),
    ("http_connect", re.compile(r"CONNECT (\S+:\d{1,5}) HTTP/1\.[01]"), 1),
)
_MGCP_RESPONSE = re.compile(r"([0-9]\d\d) \d{1,9}(?: .*)?")
_HTTP_RESPONSE = re.compile(r"HTTP/1\.[01] ([1-5]\d\d)(?: .*)?")
#: ITU-T Q.931 Table 4-2 message types (those H.225.0 uses, section 7).
Q931_TYPES = {
    0x01: "ALERTING", 0x02: "CALL_PROCEEDING", 0x03: "PROGRESS", 0x05: "SETUP",
    0x07: "CONNECT", 0x0D: "SETUP_ACK", 0x0F: "CONNECT_ACK", 0x45: "DISCONNECT",
    0x4D: "RELEASE", 0x5A: "RELEASE_COMPLETE", 0x62: "FACILITY", 0x6E: "NOTIFY",
    0x75: "STATUS_ENQUIRY", 0x7B: "INFORMATION", 0x7D: "STATUS",
}  # fmt: skip
#: RFC 5456 section 8.4 IAX control frame subclasses.
IAX_SUBCLASSES = {
    0x01: "NEW", 0x02: "PING", 0x03: "PONG", 0x04: "ACK", 0x05: "HANGUP", 0x06: "REJECT",
    0x07: "ACCEPT", 0x08: "AUTHREQ", 0x09: "AUTHREP", 0x0A: "INVAL", 0x0B: "LAGRQ",
    0x0C: "LAGRP", 0x0D: "REGREQ", 0x0E: "REGAUTH", 0x0F: "REGACK", 0x10: "REGREJ",
    0x11: "REGREL", 0x12: "VNAK", 0x13: "DPREQ", 0x14: "DPREP", 0x15: "DIAL", 0x16: "TXREQ",
    0x17: "TXCNT", 0x18: "TXACC", 0x19: "TXREADY", 0x1A: "TXREL", 0x1B: "TXREJ",
    0x1C: "QUELCH", 0x1D: "UNQUELCH", 0x1E: "POKE", 0x20: "MWI", 0x21: "UNSUPPORT",
    0x22: "TRANSFER",
}  # fmt: skip
#: RFC 5456 section 8.2 frame types.
IAX_FRAME_TYPES = {
    0x01: "DTMF_END", 0x02: "VOICE", 0x03: "VIDEO", 0x04: "CONTROL", 0x05: "NULL", 0x06: "IAX",
    0x07: "TEXT", 0x08: "IMAGE", 0x09: "HTML", 0x0A: "CNG", 0x0B: "MODEM", 0x0C: "DTMF_BEGIN",
}  # fmt: skip
_XMPP_TLS_NS = b"urn:ietf:params:xml:ns:xmpp-tls"
_STANZA = re.compile(rb"<(?:iq|presence|message)[\s/>]|</stream:stream>")
_SDP_M = re.compile(rb"(?m)^m=([^\r\n]{1,80})")


@dataclass(frozen=True, slots=True)
class Message:
    """One recognised signalling message (its start line or header)."""

    protocol: str
    method: str  #: method, verb, status code or message type name
    first_line: str
    weak: bool = False  #: a bare response line that needs a command on the same flow


def _escape(text: str, limit: int = 200) -> str:
    out = "".join(c if 0x20 <= ord(c) < 0x7F else f"\\x{ord(c):02x}" for c in text[:limit])
    return out


def _line(data: bytes) -> str:
    """The first line (ended by LF, CRLF or a bare CR) of at most 1024 bytes."""
    head = data[: _MAX_LINE + 1]
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    if not ends:
        if len(data) > _MAX_LINE:
            raise ParseError("no line end in the first 1024 bytes", "sig_no_line")
        return data.decode("latin-1")
    return data[: min(ends)].decode("latin-1")


def parse_start_line(data: bytes) -> Message:
    """The text protocol whose start line opens ``data`` (SIP, RTSP, MGCP, Megaco, CONNECT, or a
    weak MGCP/HTTP response line)."""
    line = _line(data)
    for proto, rx, group in _LINES:
        m = rx.fullmatch(line)
        if m:
            return Message(proto, m.group(group).upper(), _escape(line))
    m = _MGCP_RESPONSE.fullmatch(line)
    if m:
        return Message("mgcp", m.group(1), _escape(line), weak=True)
    m = _HTTP_RESPONSE.fullmatch(line)
    if m:
        return Message("http_response", m.group(1), _escape(line), weak=True)
    raise ParseError("no signalling start line", "sig_no_start_line")


def parse_tpkt_q931(data: bytes) -> tuple[Message, int]:
    """``(message, bytes consumed)`` for one TPKT packet (RFC 1006 section 6) holding a Q.931
    message (ITU-T Q.931 section 4.2-4.4)."""
    if len(data) < 4 or data[0] != 3 or data[1] != 0:
        raise ParseError("no TPKT header (03 00)", "sig_no_tpkt")
    (length,) = struct.unpack_from("!H", data, 2)
    if length < 8 or length > len(data):
        raise ParseError(f"TPKT length {length} with {len(data)} bytes", "sig_tpkt_length")
    q = data[4:length]
    if q[0] != 0x08:
        raise ParseError(f"Q.931 protocol discriminator 0x{q[0]:02x}", "sig_not_q931")
    crl = q[1]
    if crl & 0xF0 or crl > 2 or 2 + crl >= len(q):
        raise ParseError(f"Q.931 call reference length {crl}", "sig_not_q931")
    mtype = q[2 + crl]
    name = Q931_TYPES.get(mtype)
    if name is None:
        raise ParseError(f"Q.931 message type 0x{mtype:02x}", "sig_not_q931")
    return Message("h323", name, f"TPKT Q.931 {name} (0x{mtype:02x})"), length


def parse_iax2(data: bytes) -> Message:
    """One IAX2 full frame header (RFC 5456 section 8.1.1)."""
    if len(data) < 12:
        raise ParseError(f"IAX2 full frame needs 12 bytes, have {len(data)}", "sig_iax_short")
    if not data[0] & 0x80:
        raise ParseError("IAX2 F bit clear (mini or meta frame)", "sig_iax_not_full")
    ftype, sub = data[10], data[11]
    tname = IAX_FRAME_TYPES.get(ftype)
    if tname is None:
        raise ParseError(f"IAX2 frame type 0x{ftype:02x}", "sig_iax_type")
    if ftype == 0x06:
        if sub & 0x80 or sub not in IAX_SUBCLASSES:
            raise ParseError(f"IAX subclass 0x{sub:02x}", "sig_iax_subclass")
        name = IAX_SUBCLASSES[sub]
    else:
        name = tname
    return Message("iax2", name, f"IAX2 full frame {tname} {name}")


#: RFC 8855 section 5.1 primitives.
BFCP_PRIMITIVES = {
    1: "FloorRequest", 2: "FloorRelease", 3: "FloorRequestQuery", 4: "FloorRequestStatus",
    5: "UserQuery", 6: "UserStatus", 7: "FloorQuery", 8: "FloorStatus", 9: "ChairAction",
    10: "ChairActionAck", 11: "Hello", 12: "HelloAck", 13: "Error",
    14: "FloorRequestStatusAck", 15: "FloorStatusAck", 16: "Goodbye", 17: "GoodbyeAck",
}  # fmt: skip


#: request -> the primitives that answer it (RFC 8855 sections 8-10; Error answers anything).
BFCP_ANSWERS = {
    "FLOORREQUEST": ("FLOORREQUESTSTATUS", "ERROR"),
    "FLOORRELEASE": ("FLOORREQUESTSTATUS", "ERROR"),
    "FLOORREQUESTQUERY": ("FLOORREQUESTSTATUS", "ERROR"),
    "USERQUERY": ("USERSTATUS", "ERROR"),
    "FLOORQUERY": ("FLOORSTATUS", "ERROR"),
    "CHAIRACTION": ("CHAIRACTIONACK", "ERROR"),
    "HELLO": ("HELLOACK", "ERROR"),
    "FLOORREQUESTSTATUS": ("FLOORREQUESTSTATUSACK",),
    "FLOORSTATUS": ("FLOORSTATUSACK",),
    "GOODBYE": ("GOODBYEACK",),
}


def parse_bfcp(data: bytes) -> tuple[Message, tuple[int, int], int]:
    """``(message, (conference ID, transaction ID), declared message length)`` for the BFCP
    common header (RFC 8855 section 5.1) at the start of ``data``."""
    if len(data) < 12:
        raise ParseError(f"BFCP header needs 12 bytes, have {len(data)}", "sig_bfcp_short")
    version, flags, primitive = data[0] >> 5, data[0] & 0x1F, data[1]
    if version not in (1, 2) or flags & 0x07 or (version == 1 and flags):
        raise ParseError(f"BFCP version {version}, flag bits 0x{flags:02x}", "sig_bfcp_header")
    name = BFCP_PRIMITIVES.get(primitive)
    if name is None:
        raise ParseError(f"BFCP primitive {primitive}", "sig_bfcp_primitive")
    length, conference, transaction = struct.unpack_from("!HIH", data, 2)
    size = 12 + 4 * length + (4 if flags & 0x08 else 0)
    return Message("bfcp", name.upper(), f"BFCP {name}"), (conference, transaction), size


def _bfcp_first(data: bytes) -> tuple[Message, tuple[int, int], int] | None:
    try:
        return parse_bfcp(data)
    except ParseError:
        return None


def _bfcp(view: FlowView) -> _Acc | None:
    """BFCP on a flow: every payload opens with a BFCP header, and one side answers the other's
    request (:data:`BFCP_ANSWERS`) with the same conference and transaction ID (UDP: every
    datagram; TCP: each direction's first message)."""
    if view.proto == "udp":
        units = [(d.from_orig, d.frame, d.ts, d.payload) for d in view.datagrams if d.payload]
    else:
        sides = ((view.orig, True), (view.resp, False))
        units = [(o, s.frame_at(0), s.ts_at(0), s.data) for s, o in sides if s.data]
    found = [(o, f, t, h) for o, f, t, p in units if (h := _bfcp_first(p)) is not None]
    if not found or len(found) < len(units):
        return None
    asked = {(o, h[1], h[0].method) for o, _f, _t, h in found}
    if not any(
        (not o, key, q) in asked
        for o, key, a in asked
        for q, answers in BFCP_ANSWERS.items()
        if a in answers
    ):
        return None
    _o, frame, ts, (msg, _key, _size) = found[0]
    acc = _Acc("bfcp", ts, frame, msg.first_line, view.proto)
    for _o, f, _t, (m, _k, _s) in found:
        acc.add(m, f)
    return acc


def recognise_datagram(payload: bytes, ports: tuple[int, int] = (0, 0)) -> Message | None:
    """The signalling message one UDP datagram carries, or None (weak lines count as None)."""
    if not payload:
        return None
    if IAX2_PORT in ports and payload[0] & 0x80:
        try:
            return parse_iax2(payload)
        except ParseError:
            pass
    if 0x21 <= payload[0] <= 0x7E:
        try:
            msg = parse_start_line(payload)
        except ParseError:
            return None
        return None if msg.weak else msg
    return None


# ---------------------------------------------------------------------------------------------
# per-flow accumulation


@dataclass
class _Acc:
    protocol: str
    ts: float
    frame: int
    first_line: str
    transport: str
    messages: int = 0
    methods: list[str] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    starttls: bool = False
    tls_followed: bool = False
    cleartext: bool = True
    connect_target: str = ""
    connect_status: int | None = None
    sdp_media: list[str] = field(default_factory=list)
    sdp: bool = False
    sdp_crypto: bool = False

    def add(self, msg: Message, frame: int) -> None:
        self.messages += 1
        if msg.method not in self.methods and len(self.methods) < _MAX_METHODS:
            self.methods.append(msg.method)
        if len(self.frames) < _MAX_FRAMES and frame not in self.frames:
            self.frames.append(frame)

    def body(self, data: bytes) -> None:
        if b"v=0" in data and b"m=" in data:
            for m in _SDP_M.finditer(data):
                self.sdp = True
                text = _escape(m.group(1).decode("latin-1"), 80).replace(";", "\\x3b")
                if len(self.sdp_media) < 5 and text not in self.sdp_media:
                    self.sdp_media.append(text)
        if b"a=crypto:" in data:
            self.sdp_crypto = True

    def row(self, uid: str) -> SignallingRow:
        return SignallingRow(
            ts=self.ts, uid=uid, frame=self.frame, transport=self.transport,
            protocol=self.protocol, messages=self.messages, methods=";".join(self.methods),
            first_line=self.first_line, starttls_offered=self.starttls,
            tls_followed=self.tls_followed, cleartext_payload=self.cleartext,
            connect_target=self.connect_target, connect_status=self.connect_status,
            sdp=self.sdp, sdp_media=";".join(self.sdp_media), sdp_crypto=self.sdp_crypto,
            frames=";".join(str(f) for f in self.frames),
        )  # fmt: skip


def _udp(view: FlowView) -> list[_Acc]:
    accs: dict[str, _Acc] = {}
    weak: list[tuple[Message, int, float, bytes]] = []
    ports = (view.orig_p, view.resp_p)
    for d in view.datagrams:
        p = d.payload
        msg = recognise_datagram(p, ports)
        if msg is None:
            if p and 0x30 <= p[0] <= 0x39:
                try:
                    w = parse_start_line(p)
                except ParseError:
                    continue
                if w.weak and w.protocol == "mgcp":
                    weak.append((w, d.frame, d.ts, p))
            continue
        acc = accs.get(msg.protocol)
        if acc is None:
            acc = accs[msg.protocol] = _Acc(msg.protocol, d.ts, d.frame, msg.first_line, "udp")
        acc.add(msg, d.frame)
        acc.body(p[:_SCAN])
    if "mgcp" in accs:
        for w, frame, _ts, _p in weak:
            accs["mgcp"].add(w, frame)
    return list(accs.values())


def _text_messages(stream: Stream) -> list[tuple[Message, int]]:
    """``(message, offset)`` for each text message in a TCP stream (SIP/RTSP/HTTP framing:
    headers to a blank line, then Content-Length bytes; RTSP interleaved ``$`` frames skipped)."""
    data = stream.data
    out: list[tuple[Message, int]] = []
    pos = 0
    while pos < len(data) and len(out) < _MAX_MESSAGES:
        if out and data[pos : pos + 1] == b"$" and pos + 4 <= len(data):  # RFC 2326 10.12
            pos += 4 + struct.unpack_from("!H", data, pos + 2)[0]
            continue
        if out and data[pos : pos + 2] == b"\r\n":  # RFC 5626 CRLF keep-alive
            pos += 2
            continue
        try:
            msg = parse_start_line(data[pos : pos + _MAX_LINE + 2])
        except ParseError:
            break
        out.append((msg, pos))
        head_end = data.find(b"\r\n\r\n", pos, pos + _SCAN)
        if head_end < 0:
            break
        head = data[pos:head_end].decode("latin-1")
        m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d{1,7})\s*$", head)
        pos = head_end + 4 + (int(m.group(1)) if m else 0)
    return out


def _tpkt_messages(stream: Stream) -> list[tuple[Message, int]]:
    data = stream.data
    out: list[tuple[Message, int]] = []
    pos = 0
    while (
        pos + 4 <= len(data) and data[pos] == 3 and data[pos + 1] == 0 and len(out) < _MAX_MESSAGES
    ):
        length = struct.unpack_from("!H", data, pos + 2)[0]
        if length < 4:
            break
        try:
            msg, _used = parse_tpkt_q931(data[pos : pos + length])
            out.append((msg, pos))
        except ParseError:
            pass  # H.245 or another TPKT payload: skipped, not counted
        pos += length
    return out


def _mid_stream_xmpp(view: FlowView) -> _Acc | None:
    """A capture that starts inside an XMPP stream: XML stanzas (RFC 6120 section 8: ``<iq``,
    ``<presence``, ``<message``) or the closing ``</stream:stream>`` open a direction."""
    for stream in (view.orig, view.resp):
        head = stream.data[:_SCAN].lstrip()
        m = _STANZA.match(head)
        if m:
            off = len(stream.data) - len(stream.data.lstrip())
            acc = _Acc("xmpp", stream.ts_at(off), stream.frame_at(off),
                       _escape(head[:200].decode("latin-1")), "tcp")  # fmt: skip
            acc.add(Message("xmpp", "stanza", ""), acc.frame)
            return acc
    return None


def _xmpp(view: FlowView) -> _Acc | None:
    o, r = view.orig.data[:_SCAN], view.resp.data[:_SCAN]
    start = o.find(b"<stream:stream")
    if start < 0:
        return _mid_stream_xmpp(view)
    acc = _Acc("xmpp", view.orig.ts_at(start), view.orig.frame_at(start),
               _escape(_line(o[start:]) if b"\n" in o[start:start + _MAX_LINE] else
                       o[start : start + 200].decode("latin-1")), "tcp")  # fmt: skip
    acc.add(Message("xmpp", "stream", ""), acc.frame)
    st = o.find(b"<starttls")
    if st >= 0 and _XMPP_TLS_NS in o[st : st + 200]:
        acc.starttls = True
        acc.add(Message("xmpp", "starttls", ""), view.orig.frame_at(st))
    elif b"<starttls" in r and _XMPP_TLS_NS in r:
        acc.starttls = True
        acc.add(Message("xmpp", "starttls_offered", ""), view.resp.frame_at(r.find(b"<starttls")))
    pr = r.find(b"<proceed")
    if pr >= 0 and _XMPP_TLS_NS in r[pr : pr + 200]:
        acc.add(Message("xmpp", "proceed", ""), view.resp.frame_at(pr))
        if st >= 0 and o.find(b"\x16\x03", st) >= 0:
            acc.tls_followed = True
            acc.cleartext = False
    return acc


def _headers_end(data: bytes) -> int:
    end = data.find(b"\r\n\r\n", 0, _SCAN)
    return -1 if end < 0 else end + 4


def _connect(view: FlowView, acc: _Acc) -> None:
    msg = parse_start_line(view.orig.data)
    acc.connect_target = msg.method.lower()
    try:
        resp = parse_start_line(view.resp.data)
    except ParseError:
        return
    if resp.protocol == "http_response":
        acc.connect_status = int(resp.method)
        acc.add(resp, view.resp.frame_at(0))
    o_end = _headers_end(view.orig.data)
    if o_end > 0 and view.orig.data[o_end : o_end + 2] == b"\x16\x03":
        acc.tls_followed = True
        acc.cleartext = False


def _tcp(view: FlowView) -> list[_Acc]:
    accs: dict[str, _Acc] = {}
    xmpp = _xmpp(view)
    if xmpp is not None:
        accs["xmpp"] = xmpp
    for stream in (view.orig, view.resp):
        found = _tpkt_messages(stream) if stream.data[:2] == b"\x03\x00" else _text_messages(stream)
        for msg, off in found:
            if msg.weak and msg.protocol not in accs:
                continue
            proto = msg.protocol if msg.protocol != "http_response" else "http_connect"
            if proto not in accs:
                if proto == "http_connect" and msg.protocol != "http_connect":
                    continue
                accs[proto] = _Acc(
                    proto, stream.ts_at(off), stream.frame_at(off), msg.first_line, "tcp"
                )
            if msg.protocol != "http_response":
                accs[proto].add(msg, stream.frame_at(off))
        if found and "http_connect" not in accs:
            for acc in accs.values():
                acc.body(stream.data[:_SCAN])
    if "http_connect" in accs:
        _connect(view, accs["http_connect"])
    return list(accs.values())


def dissect(view: FlowView) -> list[Row]:
    """``signalling`` rows of one flow; [] when no cleartext signalling was recognised."""
    try:
        if view.proto == "udp":
            accs = _udp(view)
        elif view.proto == "tcp":
            accs = _tcp(view)
        else:
            return []
        bfcp = _bfcp(view) if not accs else None
    except ParseError:  # every parser call above catches; kept as a backstop
        return []
    if bfcp is not None:
        accs.append(bfcp)
    return [acc.row(view.uid) for acc in accs]


# ---------------------------------------------------------------------------------------------
# HTTP CONNECT tunnels


def _shift(stream: Stream, off: int) -> Stream:
    """``stream`` from byte ``off`` on, with segment offsets rebased."""
    segs = stream.segments
    first = max(bisect.bisect_right([o for o, _f, _t in segs], off) - 1, 0)
    kept = tuple((max(o - off, 0), f, t) for o, f, t in segs[first:])
    return Stream(stream.data[off:], kept, stream.gap, stream.capped)


def tunnel_view(view: FlowView) -> FlowView | None:
    """The flow as seen inside an answered HTTP CONNECT tunnel (RFC 9110 section 9.3.6): both
    streams start after the CONNECT request's and the 2xx response's header blocks. None when the
    flow is not such a tunnel."""
    if view.proto != "tcp" or not view.orig.data.startswith(b"CONNECT "):
        return None
    try:
        req = parse_start_line(view.orig.data)
        resp = parse_start_line(view.resp.data)
    except ParseError:
        return None
    if req.protocol != "http_connect" or resp.protocol != "http_response":
        return None
    if not resp.method.startswith("2"):
        return None
    o_end, r_end = _headers_end(view.orig.data), _headers_end(view.resp.data)
    if o_end < 0 or r_end < 0:
        return None
    return FlowView(
        view.uid, view.proto, view.orig_h, view.orig_p, view.resp_h, view.resp_p, view.ts,
        view.datagrams, _shift(view.orig, o_end), _shift(view.resp, r_end), view.packets,
    )  # fmt: skip
