"""DTLS over UDP (RFC 6347, RFC 9147): records, handshake reassembly and the ``dtls`` table.

Datagrams whose first byte is 20-63 carry DTLS (RFC 7983); DTLS inside TURN ChannelData
(first byte 0x40-0x4F) is unwrapped first. A datagram may hold several records. Cleartext
(epoch 0) handshake messages are reassembled per direction by ``(message_seq, msg_type)`` from
their ``fragment_offset``/``fragment_length`` pieces, first copy winning, so out-of-order
fragments, fragments spread over datagrams and retransmitted duplicates all give one message.
DTLS 1.3 unified-header records (first byte 0x20-0x3F), application data and DTLS 1.2
connection-ID records are counted as encrypted, never parsed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from inspector.dissect.base import Datagram, FlowView, weird
from inspector.dissect.buffer import Buffer
from inspector.dissect.demux import tcp_relayed, unwrap
from inspector.dissect.fingerprint import ja3, ja3_hash, ja4
from inspector.dissect.tls_ext import (
    ClientHello,
    HandshakeType,
    ServerHello,
    parse_client_hello,
    parse_client_hello_prefix,
    parse_server_hello,
)
from inspector.dissect.tls_names import (
    SRTP_NULL_PROFILES,
    cipher_name,
    srtp_name,
    version_name,
)
from inspector.dissect.x509 import CertInfo, parse_certificate, split_certificate_list
from inspector.errors import ParseError
from inspector.schema.base import Row
from inspector.schema.dtls import DtlsRow

__all__ = [
    "DTLS_VERSIONS",
    "DtlsRecord",
    "HandshakeFragment",
    "dissect",
    "dtls_payload",
    "parse_handshake_fragments",
    "parse_records",
    "pull_record",
    "relay_framing",
]

#: record-layer versions: DTLS 1.0, 1.2, 1.3 (RFC 9147 keeps 0xFEFD on the wire) and the
#: pre-standard OpenSSL 0x0100 (DTLS1_BAD_VER).
DTLS_VERSIONS = frozenset({0xFEFF, 0xFEFD, 0xFEFC, 0x0100})
#: largest handshake message reassembled (certificate chains fit easily).
MAX_MESSAGE = 64 * 1024
#: reassembly budget of one handshake: messages and buffered bytes.
MAX_MESSAGES = 32
MAX_HANDSHAKE_BYTES = 256 * 1024

_CCS, _ALERT, _HANDSHAKE, _APPDATA, _CID = 20, 21, 22, 23, 25


@dataclass(frozen=True, slots=True)
class DtlsRecord:
    """One DTLS record. Unified-header (DTLS 1.3 ciphertext) records have ``unified=True``,
    their first byte as ``content_type`` and version/epoch/seq only as far as visible."""

    content_type: int
    version: int
    epoch: int
    seq: int
    fragment: bytes
    unified: bool = False


@dataclass(frozen=True, slots=True)
class HandshakeFragment:
    """One piece of a DTLS handshake message (RFC 6347 section 4.2.2)."""

    msg_type: int
    length: int
    message_seq: int
    fragment_offset: int
    data: bytes


def relay_framing(payload: bytes) -> tuple[str, bytes]:
    """``(framing, inner)``: one relay framing removed (TURN ChannelData, a STUN Send/Data
    indication's DATA, MS-TURN ``FF 10``; :func:`inspector.dissect.demux.unwrap`), else
    ``("plain", payload)``; an inconsistent MS-TURN framing counts as plain."""
    if payload and (payload[0] < 4 or 0x40 <= payload[0] <= 0x4F or payload[0] == 0xFF):
        try:
            return unwrap(payload)
        except ParseError:
            return "plain", payload
    return "plain", payload


def dtls_payload(payload: bytes) -> bytes | None:
    """The DTLS bytes of a UDP payload (relay framing removed), or None when not DTLS."""
    _framing, payload = relay_framing(payload)
    if payload and 20 <= payload[0] <= 63:
        return payload
    return None


def _has_dtls_header(payload: bytes) -> bool:
    """A DTLS 1.0/1.2 record header whose record fits in the datagram."""
    return (
        len(payload) >= 13
        and 20 <= payload[0] <= 26
        and ((payload[1] << 8) | payload[2]) in DTLS_VERSIONS
        and (payload[0] == _CID or 13 + ((payload[11] << 8) | payload[12]) <= len(payload))
    )


def pull_record(buf: Buffer) -> DtlsRecord:
    """One record from ``buf`` (RFC 6347 section 4.1, RFC 9147 section 4)."""
    first = buf.pull_uint8()
    if 0x20 <= first <= 0x3F:
        # unified header 001CSLEE: connection id (length unknown to an observer), 8/16-bit
        # sequence number, optional length; without a length the record fills the datagram.
        if first & 0x10:
            return DtlsRecord(first, 0, first & 0x03, 0, buf.pull_rest(), unified=True)
        seq = buf.pull_uint16() if first & 0x08 else buf.pull_uint8()
        body = buf.pull_vector(2) if first & 0x04 else buf.pull_rest()
        return DtlsRecord(first, 0, first & 0x03, seq, body, unified=True)
    if not 20 <= first <= 26:
        raise ParseError(f"DTLS content type {first}", "bad_record")
    version = buf.pull_uint16()
    if version not in DTLS_VERSIONS:
        raise ParseError(f"DTLS record version 0x{version:04x}", "bad_record")
    epoch = buf.pull_uint16()
    seq = buf.pull_uint48()
    if first == _CID:
        # tls12_cid (RFC 9146): a connection id of negotiated length precedes the length.
        return DtlsRecord(first, version, epoch, seq, buf.pull_rest())
    return DtlsRecord(first, version, epoch, seq, buf.pull_vector(2))


def parse_records(datagram: bytes) -> tuple[DtlsRecord, ...]:
    """Every record of one datagram; raises :class:`ParseError` on any malformed record."""
    buf = Buffer(datagram)
    out: list[DtlsRecord] = []
    while not buf.eof():
        out.append(pull_record(buf))
    return tuple(out)


def parse_handshake_fragments(fragment: bytes) -> tuple[HandshakeFragment, ...]:
    """The handshake fragments of one epoch-0 handshake record (12-byte headers)."""
    buf = Buffer(fragment)
    out: list[HandshakeFragment] = []
    while not buf.eof():
        msg_type = buf.pull_uint8()
        length = buf.pull_uint24()
        seq = buf.pull_uint16()
        offset = buf.pull_uint24()
        data = buf.pull_vector(3)
        if offset + len(data) > length:
            raise ParseError(
                f"fragment {offset}+{len(data)} beyond message length {length}", "bad_fragment"
            )
        out.append(HandshakeFragment(msg_type, length, seq, offset, data))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# reassembly and handshakes


@dataclass(slots=True)
class _Message:
    """A handshake message being reassembled; the first copy of every byte wins."""

    msg_type: int
    from_orig: bool
    data: bytearray
    have: bytearray
    frame: int
    ts: float

    def add(self, offset: int, piece: bytes) -> None:
        end = offset + len(piece)
        window = self.have[offset:end]
        if not window.count(1):
            self.data[offset:end] = piece
        elif window.count(0):
            for i, byte in enumerate(piece):
                if not self.have[offset + i]:
                    self.data[offset + i] = byte
        else:
            return
        self.have[offset:end] = b"\x01" * len(piece)

    @property
    def complete(self) -> bool:
        return not self.have.count(0)

    def prefix(self) -> bytes:
        """The contiguous bytes from offset 0."""
        gap = self.have.find(0)
        return bytes(self.data if gap < 0 else self.data[:gap])


@dataclass(slots=True)
class _Handshake:
    messages: dict[tuple[bool, int, int], _Message] = field(default_factory=dict)
    ch_random: bytes | None = None
    frames: set[int] = field(default_factory=set)
    encrypted: int = 0
    encrypted_dirs: set[bool] = field(default_factory=set)
    finished_dirs: set[bool] = field(default_factory=set)
    first: tuple[float, int] | None = None  #: (ts, frame) of its first record
    framing: str = ""  #: how its first record was carried (``carried_in``)
    buffered: int = 0  #: bytes allocated for reassembly


def _add_fragment(hs: _Handshake, frag: HandshakeFragment, dg: Datagram) -> None:
    if frag.length > MAX_MESSAGE:
        raise ParseError(f"handshake message of {frag.length} bytes", "message_too_long")
    key = (dg.from_orig, frag.message_seq, frag.msg_type)
    msg = hs.messages.get(key)
    if msg is None:
        if len(hs.messages) >= MAX_MESSAGES or hs.buffered + frag.length > MAX_HANDSHAKE_BYTES:
            raise ParseError("handshake reassembly budget exceeded", "too_much_handshake")
        hs.buffered += frag.length
        msg = _Message(
            frag.msg_type,
            dg.from_orig,
            bytearray(frag.length),
            bytearray(frag.length),
            dg.frame,
            dg.ts,
        )
        hs.messages[key] = msg
    elif len(msg.data) != frag.length:
        raise ParseError("fragments of one message disagree on its length", "bad_fragment")
    msg.add(frag.fragment_offset, frag.data)
    hs.frames.add(dg.frame)


def _starts_new_handshake(hs: _Handshake, frag: HandshakeFragment) -> bool:
    """A ClientHello with another random than the current one opens a new handshake."""
    if frag.msg_type != HandshakeType.CLIENT_HELLO or frag.fragment_offset or len(frag.data) < 34:
        return False
    random = frag.data[2:34]
    if hs.ch_random is None:
        hs.ch_random = random
        return False
    return random != hs.ch_random


def _handshakes(
    view: FlowView, datagrams: Sequence[tuple[Datagram, str]], rows: list[Row]
) -> list[_Handshake]:
    out = [_Handshake()]
    seen_dtls = False
    for dg, framing in datagrams:
        data = dg.payload if dg.payload and 20 <= dg.payload[0] <= 63 else None
        if data is None:
            continue
        # other protocols share the 5-tuple: a datagram counts only when it opens with a
        # DTLS 1.0/1.2 record header, or with a unified header once DTLS was recognised.
        if _has_dtls_header(data):
            seen_dtls = True
        elif not (seen_dtls and 0x20 <= data[0] <= 0x3F):
            continue
        if out[-1].framing == "":
            out[-1].framing = framing
        buf = Buffer(data)
        try:
            while not buf.eof():
                _take_record(out, pull_record(buf), dg)
        except ParseError as err:
            rows.append(weird(view, err, "dtls", ts=dg.ts, frame=dg.frame))
    return [hs for hs in out if hs.messages or hs.encrypted]


def _take_record(out: list[_Handshake], rec: DtlsRecord, dg: Datagram) -> None:
    hs = out[-1]
    if hs.first is None:
        hs.first = (dg.ts, dg.frame)
    if rec.unified or rec.content_type in (_APPDATA, _CID):
        hs.encrypted += 1
        hs.encrypted_dirs.add(dg.from_orig)
    elif rec.content_type == _CCS or (rec.content_type == _HANDSHAKE and rec.epoch > 0):
        hs.finished_dirs.add(dg.from_orig)
    elif rec.content_type == _HANDSHAKE:
        for frag in parse_handshake_fragments(rec.fragment):
            if _starts_new_handshake(hs, frag):
                hs = _Handshake(ch_random=frag.data[2:34], framing=hs.framing)
                out.append(hs)
            _add_fragment(hs, frag, dg)


# ---------------------------------------------------------------------------------------------
# rows


def _pick(
    hs: _Handshake, msg_type: int, from_orig: bool | None, last: bool = False
) -> _Message | None:
    found = [
        m
        for (d, _seq, t), m in sorted(hs.messages.items(), key=lambda kv: kv[0][1])
        if t == msg_type and (from_orig is None or d == from_orig)
    ]
    complete = [m for m in found if m.complete]
    pool = complete or found
    if not pool:
        return None
    return pool[-1] if last else pool[0]


def _row(view: FlowView, hs: _Handshake, rows: list[Row]) -> DtlsRow | None:
    first_ch = _pick(hs, HandshakeType.CLIENT_HELLO, None)
    server_first = next(
        (m for m in hs.messages.values() if m.msg_type in (2, 3, 11, 12, 13, 14)), None
    )
    if first_ch is not None:
        client_orig = first_ch.from_orig
    elif server_first is not None:
        client_orig = not server_first.from_orig
    elif hs.first is not None:
        return _mid_session_row(view, hs, hs.first)
    else:
        return None
    ch, ch_complete = _client_hello(
        view, _pick(hs, HandshakeType.CLIENT_HELLO, client_orig, last=True), rows
    )
    sh = _server_hello(view, _pick(hs, HandshakeType.SERVER_HELLO, not client_orig), rows)
    hvr = _pick(hs, HandshakeType.HELLO_VERIFY_REQUEST, not client_orig) is not None
    leaf, leaf_sha256 = _certificate(
        view, _pick(hs, HandshakeType.CERTIFICATE, not client_orig), sh, rows
    )
    anchor = first_ch or server_first
    assert anchor is not None
    offered = ch.use_srtp_profiles if ch else ()
    chosen = sh.use_srtp_profile if sh else None
    if chosen is not None:
        null_srtp: bool | None = chosen in SRTP_NULL_PROFILES
    elif offered:
        null_srtp = all(p in SRTP_NULL_PROFILES for p in offered)
    else:
        null_srtp = None
    if sh is not None and sh.version == 0xFEFC:
        done = hs.encrypted_dirs >= {True, False}
    else:
        done = hs.finished_dirs >= {True, False}
    return DtlsRow(
        ts=anchor.ts,
        uid=view.uid,
        frame=anchor.frame,
        client_is_orig=client_orig,
        version_offered=_offered(ch),
        version=version_name(sh.version) if sh else "",
        sni=ch.sni if ch else "",
        alpn=";".join(ch.alpn) if ch else "",
        cipher=cipher_name(sh.cipher_suite) if sh else "",
        srtp_profiles_offered=";".join(srtp_name(p) for p in offered),
        srtp_profile=srtp_name(chosen) if chosen is not None else "",
        null_srtp=null_srtp,
        cert_subject=leaf.subject if leaf else "",
        cert_issuer=leaf.issuer if leaf else "",
        cert_self_signed=leaf.self_signed if leaf else None,
        cert_sha256=leaf_sha256,
        ja3=ja3(ch) if ch and ch_complete else "",
        ja3_hash=ja3_hash(ch) if ch and ch_complete else "",
        ja4=ja4(ch, "d") if ch and ch_complete else "",
        hello_verify_request=hvr,
        client_hello_complete=ch_complete,
        encrypted_records=hs.encrypted,
        handshake_complete=done,
        frames=";".join(str(f) for f in sorted(hs.frames)),
        use_srtp=_use_srtp(ch, sh),
        carried_in=hs.framing,
    )


def _mid_session_row(view: FlowView, hs: _Handshake, first: tuple[float, int]) -> DtlsRow:
    """A flow whose handshake was not captured: only encrypted records were seen."""
    return DtlsRow(
        ts=first[0],
        uid=view.uid,
        frame=first[1],
        encrypted_records=hs.encrypted,
        handshake_complete=False,
        carried_in=hs.framing,
    )


def _use_srtp(ch: ClientHello | None, sh: ServerHello | None) -> str:
    """``selected``, ``declined``, ``offered``, ``absent`` or ``""`` (RFC 5764 section 4.1.1)."""
    if sh is not None and sh.use_srtp_profile is not None:
        return "selected"
    if ch is None:
        return ""
    if ch.use_srtp_profiles:
        return "declined" if sh is not None else "offered"
    return "absent"


def _offered(ch: ClientHello | None) -> str:
    return ";".join(version_name(v) for v in ch.versions_offered()) if ch else ""


def _weird(view: FlowView, msg: _Message, err: ParseError) -> Row:
    return weird(view, err, "dtls", ts=msg.ts, frame=msg.frame)


def _client_hello(
    view: FlowView, msg: _Message | None, rows: list[Row]
) -> tuple[ClientHello | None, bool]:
    if msg is None:
        return None, False
    if msg.complete:
        try:
            return parse_client_hello(bytes(msg.data), dtls=True), True
        except ParseError as err:
            rows.append(_weird(view, msg, err))
    else:
        missing = msg.have.count(0)
        detail = f"ClientHello missing {missing} of {len(msg.data)} bytes (fragments not seen)"
        rows.append(_weird(view, msg, ParseError(detail, "incomplete_client_hello")))
    try:
        return parse_client_hello_prefix(msg.prefix(), dtls=True), False
    except ParseError as err:
        rows.append(_weird(view, msg, err))
        return None, False


def _server_hello(view: FlowView, msg: _Message | None, rows: list[Row]) -> ServerHello | None:
    if msg is None or not msg.complete:
        return None
    try:
        return parse_server_hello(bytes(msg.data), dtls=True)
    except ParseError as err:
        rows.append(_weird(view, msg, err))
        return None


def _certificate(
    view: FlowView, msg: _Message | None, sh: ServerHello | None, rows: list[Row]
) -> tuple[CertInfo | None, str]:
    """The leaf certificate and its SHA-256 (filled even when it cannot be parsed)."""
    if msg is None or not msg.complete or (sh is not None and sh.version == 0xFEFC):
        return None, ""
    try:
        ders = split_certificate_list(bytes(msg.data))
    except ParseError as err:
        rows.append(_weird(view, msg, err))
        return None, ""
    if not ders:
        return None, ""
    try:
        leaf = parse_certificate(ders[0])
    except ParseError as err:
        rows.append(_weird(view, msg, err))
        return None, hashlib.sha256(ders[0]).hexdigest()
    return leaf, leaf.sha256


def _carried(view: FlowView) -> list[tuple[Datagram, str]]:
    """Every payload that may hold DTLS, relay framing removed, with its carrier name:
    UDP ``plain``/``turn_channel``/``stun_data``/``ms_turn``; TCP (TURN over TCP, RFC 8656)
    ``tcp_turn_channel``/``tcp_stun_data``."""
    if view.proto == "udp":
        out: list[tuple[Datagram, str]] = []
        for dg in view.datagrams:
            framing, inner = relay_framing(dg.payload)
            if inner and 20 <= inner[0] <= 63:
                out.append((Datagram(dg.frame, dg.ts, dg.from_orig, inner), framing))
        return out
    if view.proto == "tcp":
        return [
            (dg, "tcp_" + framing)
            for dg, framing in tcp_relayed(view)
            if dg.payload and 20 <= dg.payload[0] <= 63
        ]
    return []


def dissect(view: FlowView) -> list[Row]:
    """``dtls`` rows (and weird rows) of one UDP flow or TURN-over-TCP flow; [] without DTLS."""
    carried = _carried(view)
    if not any(_has_dtls_header(dg.payload) for dg, _ in carried):
        return []
    rows: list[Row] = []
    out: list[Row] = []
    try:
        for hs in _handshakes(view, carried, rows):
            row = _row(view, hs, rows)
            if row is not None:
                out.append(row)
    except ParseError as err:  # every parser call already catches; kept as a backstop
        rows.append(weird(view, err, "dtls"))
    return out + rows
