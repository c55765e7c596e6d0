"""TLS over TCP: record layer, handshake message extraction and the ``tls`` table.

The flow stage hands over each direction's reassembled bytes. This module walks TLS records
(RFC 8446 section 5.1, RFC 5246 section 6.2) from the start of each direction, concatenates the
payloads of consecutive handshake records (a ClientHello may span several records and TCP
segments), cuts that stream into handshake messages and parses ClientHello, ServerHello and the
cleartext (TLS <= 1.2) Certificate. It stops at the first ChangeCipherSpec, alert or
application-data record, except in TLS 1.3 where the ChangeCipherSpec is a dummy (RFC 8446
appendix D.4) and the plaintext ClientHello/ServerHello after a HelloRetryRequest follow it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from inspector.dissect.base import FlowView, Stream, weird
from inspector.dissect.fingerprint import ja3, ja3_hash, ja4, ja4_raw
from inspector.dissect.sigtext import tunnel_view
from inspector.dissect.tls_ext import (
    ClientHello,
    HandshakeType,
    ServerHello,
    parse_client_hello,
    parse_client_hello_prefix,
    parse_server_hello,
    parse_sslv2_client_hello,
)
from inspector.dissect.tls_names import (
    cipher_name,
    cipher_weaknesses,
    group_name,
    is_grease,
    version_name,
    version_weaknesses,
)
from inspector.dissect.x509 import CertInfo, parse_certificate, split_certificate_list
from inspector.errors import ParseError
from inspector.schema.base import Row
from inspector.schema.tls import TlsRow

__all__ = [
    "ClientHello",
    "ContentType",
    "HandshakeMessage",
    "RecordWalk",
    "ServerHello",
    "dissect",
    "ja3",
    "ja3_hash",
    "ja4",
    "ja4_raw",
    "parse_client_hello",
    "parse_server_hello",
    "walk_records",
    "weak_reasons",
]

#: largest record payload accepted: 2^14 plus the 2048 bytes of expansion TLS 1.2 allows.
MAX_RECORD = 16384 + 2048
#: cleartext handshake bytes kept per direction (certificate chains included).
MAX_HANDSHAKE_BYTES = 256 * 1024
#: handshake messages kept per direction (a real handshake has fewer than 20).
MAX_MESSAGES = 64
#: the order weakness reasons are reported in.
WEAK_ORDER = ("TLS<=1.1", "RC4", "3DES", "NULL", "EXPORT", "anon", "static-RSA", "CBC-SHA1")


class ContentType(IntEnum):
    """TLS record content types (RFC 8446 section 5.1, RFC 6520)."""

    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23
    HEARTBEAT = 24


@dataclass(frozen=True, slots=True)
class HandshakeMessage:
    """One handshake message cut out of the concatenated handshake record payloads."""

    msg_type: int
    length: int  #: declared body length
    body: bytes  #: the body; shorter than ``length`` when the stream ended inside it
    start: int  #: stream offset of the record header carrying the message's first byte
    end: int  #: stream offset just past the message's last byte present
    sslv2: bool = False  #: an SSL 2.0-format CLIENT-HELLO; ``body`` is then the whole record

    @property
    def complete(self) -> bool:
        return len(self.body) == self.length


@dataclass(frozen=True, slots=True)
class RecordWalk:
    """What one direction's records yielded."""

    messages: tuple[HandshakeMessage, ...]
    #: end, ccs, alert, application_data, bad_record, too_much_handshake, too_many_messages
    stop: str
    stop_offset: int
    detail: str = ""


def _record_ok(data: bytes, pos: int) -> str:
    """Why the 5-byte record header at ``pos`` is not a TLS record, or "" when it is."""
    ctype, major, minor = data[pos], data[pos + 1], data[pos + 2]
    length = (data[pos + 3] << 8) | data[pos + 4]
    if ctype not in (20, 21, 22, 23, 24):
        return f"content type {ctype}"
    if major != 3 or minor > 4:
        return f"record version 0x{major:02x}{minor:02x}"
    if length > MAX_RECORD:
        return f"record length {length}"
    return ""


def _is_sslv2_hello(data: bytes) -> bool:
    """An SSL 2.0-format CLIENT-HELLO offering SSL 2.0, SSL 3.0 or TLS 1.x."""
    return (
        len(data) >= 5
        and data[0] & 0x80 != 0
        and data[2] == HandshakeType.CLIENT_HELLO
        and (data[3], data[4]) in ((0, 2), (3, 0), (3, 1), (3, 2), (3, 3))
    )


def walk_records(data: bytes, through_ccs: bool = False) -> RecordWalk:
    """Cut one direction's bytes into handshake messages (never raises).

    ``through_ccs`` keeps walking after a ChangeCipherSpec (TLS 1.3 middlebox compatibility,
    where it is a dummy). A message still open when the data ends is returned with a short body.
    An SSL 2.0-format CLIENT-HELLO at the start becomes a message with ``sslv2=True``.
    """
    hs = bytearray()
    chunks: list[tuple[int, int, int]] = []  # (hs offset, stream offset of payload, record start)
    messages: list[HandshakeMessage] = []
    cursor = 0  # next unread handshake byte
    pos = 0
    if _is_sslv2_hello(data):
        length = 2 + (((data[0] & 0x7F) << 8) | data[1])
        record = data[:length]
        messages.append(HandshakeMessage(1, length, record, 0, len(record), sslv2=True))
        pos = length
    stop, detail = "end", ""
    while pos + 5 <= len(data):
        why = _record_ok(data, pos)
        if why:
            stop, detail = "bad_record", why
            break
        ctype = data[pos]
        length = (data[pos + 3] << 8) | data[pos + 4]
        if ctype == ContentType.HANDSHAKE:
            chunks.append((len(hs), pos + 5, pos))
            hs += data[pos + 5 : pos + 5 + length]
            if len(hs) > MAX_HANDSHAKE_BYTES:
                stop = "too_much_handshake"
                break
            cursor = _cut_messages(hs, chunks, cursor, messages)
            if len(messages) >= MAX_MESSAGES:
                stop = "too_many_messages"
                break
        elif ctype == ContentType.CHANGE_CIPHER_SPEC and through_ccs:
            pass
        elif ctype in (ContentType.CHANGE_CIPHER_SPEC, ContentType.APPLICATION_DATA):
            stop = "ccs" if ctype == ContentType.CHANGE_CIPHER_SPEC else "application_data"
            break
        elif ctype == ContentType.ALERT:
            stop = "alert"
            break
        pos += 5 + length
    if cursor < len(hs) and stop in ("end", "bad_record", "too_much_handshake"):
        _open_message(hs, chunks, cursor, messages)
    return RecordWalk(tuple(messages), stop, min(pos, len(data)), detail)


def _stream_offset(chunks: list[tuple[int, int, int]], hs_offset: int) -> tuple[int, int]:
    """(stream offset of handshake byte ``hs_offset``, start of the record carrying it)."""
    for i in range(len(chunks) - 1, -1, -1):
        base, payload_at, record_at = chunks[i]
        if base <= hs_offset:
            return payload_at + hs_offset - base, record_at
    return 0, 0


def _cut_messages(
    hs: bytearray, chunks: list[tuple[int, int, int]], cursor: int, out: list[HandshakeMessage]
) -> int:
    while cursor + 4 <= len(hs):
        length = int.from_bytes(hs[cursor + 1 : cursor + 4], "big")
        end = cursor + 4 + length
        if end > len(hs):
            break
        _, start = _stream_offset(chunks, cursor)
        last, _ = _stream_offset(chunks, end - 1)
        out.append(
            HandshakeMessage(hs[cursor], length, bytes(hs[cursor + 4 : end]), start, last + 1)
        )
        cursor = end
    return cursor


def _open_message(
    hs: bytearray, chunks: list[tuple[int, int, int]], cursor: int, out: list[HandshakeMessage]
) -> None:
    """The message the data ended in (declared length unknown when its header is cut)."""
    _, start = _stream_offset(chunks, cursor)
    last, _ = _stream_offset(chunks, len(hs) - 1)
    if cursor + 4 <= len(hs):
        length = int.from_bytes(hs[cursor + 1 : cursor + 4], "big")
        body = bytes(hs[cursor + 4 :])
    else:
        length, body = -1, b""
    out.append(HandshakeMessage(hs[cursor], length, body, start, last + 1))


# ---------------------------------------------------------------------------------------------
# the tls table


def _looks_tls(data: bytes) -> bool:
    return (
        len(data) >= 3 and data[0] == ContentType.HANDSHAKE and data[1] == 3 and data[2] <= 4
    ) or _is_sslv2_hello(data)


def _first(walk: RecordWalk, msg_type: int) -> HandshakeMessage | None:
    return next((m for m in walk.messages if m.msg_type == msg_type), None)


def _names(values: tuple[int, ...], namer: Callable[[int], str]) -> str:
    return ";".join(namer(v) for v in values if not is_grease(v))


def weak_reasons(ch: ClientHello | None, sh: ServerHello | None) -> tuple[str, ...]:
    """Weakness reasons of a handshake (order of :data:`WEAK_ORDER`).

    From the ServerHello when seen; otherwise from the ClientHello, only for what the client
    could not avoid: every offered version deprecated, or every offered suite sharing a reason.
    """
    found: set[str] = set()
    if sh is not None and not sh.hello_retry_request:
        found.update(version_weaknesses(sh.version))
        found.update(cipher_weaknesses(sh.cipher_suite))
    elif ch is not None and ch.cipher_suites:
        found.update(version_weaknesses(ch.max_version))
        suites = [c for c in ch.cipher_suites if not is_grease(c) and c not in (0x00FF, 0x5600)]
        if suites:
            common = set(cipher_weaknesses(suites[0]))
            for suite in suites[1:]:
                common &= set(cipher_weaknesses(suite))
            found.update(common)
    return tuple(r for r in WEAK_ORDER if r in found)


@dataclass(slots=True)
class _Side:
    """One direction of the connection and what it yielded."""

    stream: Stream
    walk: RecordWalk
    is_orig: bool


def _walks(view: FlowView, through_ccs: bool) -> tuple[_Side, _Side]:
    return (
        _Side(view.orig, walk_records(view.orig.data, through_ccs), True),
        _Side(view.resp, walk_records(view.resp.data, through_ccs), False),
    )


def _server_hellos(side: _Side, rows: list[Row], view: FlowView) -> list[ServerHello]:
    out: list[ServerHello] = []
    for msg in side.walk.messages:
        if msg.msg_type != HandshakeType.SERVER_HELLO or not msg.complete:
            continue
        try:
            out.append(parse_server_hello(msg.body))
        except ParseError as err:
            rows.append(_weird(view, side, err, msg))
    return out


def _weird(view: FlowView, side: _Side, err: ParseError, msg: HandshakeMessage) -> Row:
    return weird(
        view, err, "tls", ts=side.stream.ts_at(msg.start), frame=side.stream.frame_at(msg.start)
    )


def _is_tls13(sides: tuple[_Side, _Side]) -> bool:
    for side in sides:
        for msg in side.walk.messages:
            if msg.msg_type == HandshakeType.SERVER_HELLO and msg.complete:
                try:
                    sh = parse_server_hello(msg.body)
                except ParseError:
                    continue
                return sh.hello_retry_request or sh.version == 0x0304 or sh.version >> 8 == 0x7F
    return False


def dissect(view: FlowView) -> list[Row]:
    """The ``tls`` row (and weird rows) of one TCP flow; [] when it is not TLS. Never raises.

    Inside an answered HTTP CONNECT tunnel the TLS that follows the header blocks is read."""
    view = tunnel_view(view) or view
    if view.proto != "tcp" or not (_looks_tls(view.orig.data) or _looks_tls(view.resp.data)):
        return []
    try:
        return _dissect(view)
    except ParseError as err:  # every parser call below already catches; kept as a backstop
        return [weird(view, err, "tls")]


def _dissect(view: FlowView) -> list[Row]:
    sides = _walks(view, through_ccs=False)
    if _is_tls13(sides):
        sides = _walks(view, through_ccs=True)
    orig, resp = sides
    client: _Side | None = None
    for side in (orig, resp):
        first = side.walk.messages[0] if side.walk.messages else None
        if first is not None and first.msg_type == HandshakeType.CLIENT_HELLO:
            client = side
            break
    if client is None:
        for side, other in ((orig, resp), (resp, orig)):
            if _first(side.walk, HandshakeType.SERVER_HELLO) is not None:
                client = other
                break
    if client is None:
        return []
    server = resp if client is orig else orig
    rows: list[Row] = []
    ch, ch_msg, complete = _client_hello(view, client, rows)
    hellos = _server_hellos(server, rows, view)
    final = next((sh for sh in hellos if not sh.hello_retry_request), None)
    sh = final or (hellos[0] if hellos else None)
    leaf, chain_len, leaf_sha256 = _certificate(view, server, rows, sh)
    fingerprint = ch is not None and complete and not (ch_msg is not None and ch_msg.sslv2)
    anchor_side, anchor = client, ch_msg
    if anchor is None:
        anchor_side, anchor = server, _first(server.walk, HandshakeType.SERVER_HELLO)
    if anchor is None:
        return rows
    frames: set[int] = set()
    for side in (client, server):
        for msg in side.walk.messages:
            frames.update(side.stream.frames_between(msg.start, msg.end))
    row = TlsRow(
        ts=anchor_side.stream.ts_at(anchor.start),
        uid=view.uid,
        frame=anchor_side.stream.frame_at(anchor.start),
        client_is_orig=client.is_orig,
        sni=ch.sni if ch else "",
        alpn=";".join(ch.alpn) if ch else "",
        versions_offered=_offered_versions(ch),
        version=version_name(sh.version) if sh else "",
        cipher=cipher_name(sh.cipher_suite) if sh else "",
        cipher_suites_offered=(
            sum(1 for c in ch.cipher_suites if not is_grease(c)) if ch else None
        ),
        groups=_names(ch.supported_groups, group_name) if ch else "",
        key_share_groups=_names(ch.key_share_groups, group_name) if ch else "",
        post_quantum=ch.post_quantum if ch else None,
        ech=ch.ech if ch else "",
        ja3=ja3(ch) if fingerprint else "",
        ja3_hash=ja3_hash(ch) if fingerprint else "",
        ja4=ja4(ch, "t") if fingerprint else "",
        client_hello_complete=complete,
        server_hello_seen=bool(hellos),
        cert_subject=leaf.subject if leaf else "",
        cert_issuer=leaf.issuer if leaf else "",
        cert_sans=";".join(leaf.sans) if leaf else "",
        cert_not_before=leaf.not_before if leaf else "",
        cert_not_after=leaf.not_after if leaf else "",
        cert_self_signed=leaf.self_signed if leaf else None,
        cert_key=leaf.key if leaf else "",
        cert_sig_alg=leaf.sig_alg if leaf else "",
        cert_sha256=leaf_sha256,
        cert_chain_len=chain_len,
        weak=";".join(weak_reasons(ch if complete else None, sh)),
        frames=";".join(str(f) for f in sorted(frames)),
    )
    return [row, *rows]


def _offered_versions(ch: ClientHello | None) -> str:
    return ";".join(version_name(v) for v in ch.versions_offered()) if ch else ""


def _client_hello(
    view: FlowView, side: _Side, rows: list[Row]
) -> tuple[ClientHello | None, HandshakeMessage | None, bool]:
    """(ClientHello or what could be read of it, its message, complete?)."""
    msg = _first(side.walk, HandshakeType.CLIENT_HELLO)
    if msg is None:
        return None, None, False
    if msg.sslv2:
        try:
            return parse_sslv2_client_hello(msg.body), msg, True
        except ParseError as err:
            rows.append(_weird(view, side, err, msg))
            return None, msg, False
    if msg.complete:
        try:
            return parse_client_hello(msg.body), msg, True
        except ParseError as err:
            name = "bad_client_hello" if err.name == "truncated" else err.name
            rows.append(_weird(view, side, ParseError(err.detail, name), msg))
    else:
        cause = "capture gap" if side.stream.gap else "capture cap" if side.stream.capped else ""
        have = f"{len(msg.body)} of {msg.length}" if msg.length >= 0 else "a cut header"
        detail = f"ClientHello cut after {have} body bytes" + (f" ({cause})" if cause else "")
        rows.append(_weird(view, side, ParseError(detail, "incomplete_client_hello"), msg))
    try:
        return parse_client_hello_prefix(msg.body), msg, False
    except ParseError as err:
        if not msg.complete:
            rows.append(_weird(view, side, err, msg))
        return None, msg, False


def _certificate(
    view: FlowView, side: _Side, rows: list[Row], sh: ServerHello | None
) -> tuple[CertInfo | None, int | None, str]:
    """The server's leaf certificate, chain length and leaf SHA-256 (cleartext: TLS <= 1.2).

    The SHA-256 is filled even when ``cryptography`` cannot parse the certificate.
    """
    if sh is not None and (sh.version in (0x0304, 0xFEFC) or sh.version >> 8 == 0x7F):
        return None, None, ""
    msg = _first(side.walk, HandshakeType.CERTIFICATE)
    if msg is None or not msg.complete:
        return None, None, ""
    try:
        ders = split_certificate_list(msg.body)
    except ParseError as err:
        rows.append(_weird(view, side, err, msg))
        return None, None, ""
    if not ders:
        return None, 0, ""
    try:
        leaf = parse_certificate(ders[0])
    except ParseError as err:
        rows.append(_weird(view, side, err, msg))
        return None, len(ders), hashlib.sha256(ders[0]).hexdigest()
    return leaf, len(ders), leaf.sha256
