"""HTTP/1.x message heads (RFC 9112) and the ``http`` dissector (cleartext HTTP/2 with prior
knowledge, RFC 9113 section 3.3, goes to :mod:`inspector.dissect.http2`).

``parse_request_head`` / ``parse_response_head`` are pure parsers of one message head at the start
of the bytes they get. ``dissect`` walks a TCP flow's client stream request by request (skipping
bodies by Content-Length or chunked framing), the server stream response by response, pairs them
in order, and also reads HTTP-like requests carried in UDP datagrams (SSDP on 1900).

Each TCP request also yields a :class:`~inspector.privacy.request.RequestSeen` record (its head
and its body with content codings undone) for the privacy stage; it is never written out.

Only requests whose method is in :data:`METHODS` are accepted, so binary streams are rejected on
their first bytes. Header text is decoded as UTF-8 with ``backslashreplace``: nothing is dropped.
"""

from __future__ import annotations

import bisect
import contextlib
import re
from dataclasses import dataclass

from inspector.dissect.base import FlowView, ParseError, Stream, weird
from inspector.dissect.bodies import decode_body
from inspector.privacy.request import MAX_BODY_KEPT, Request, RequestSeen
from inspector.schema.base import Row
from inspector.schema.http import HttpRow

__all__ = [
    "MAX_HEADERS",
    "MAX_HEAD_BYTES",
    "METHODS",
    "HttpRequest",
    "HttpResponse",
    "dissect",
    "parse_request_head",
    "parse_response_head",
]

#: Methods accepted on a request line: RFC 9110, RFC 5789 (PATCH), WebDAV (RFC 4918, 3253, 3648,
#: 3744, 4791, 5323, 5842), and the SSDP/GENA methods of UPnP (NOTIFY, M-SEARCH, (UN)SUBSCRIBE).
METHODS: frozenset[str] = frozenset(
    """
    GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH
    PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK SEARCH REPORT MKACTIVITY CHECKOUT CHECKIN
    UNCHECKOUT MERGE MKWORKSPACE UPDATE LABEL VERSION-CONTROL BASELINE-CONTROL MKCALENDAR ACL
    ORDERPATCH BIND UNBIND REBIND MKREDIRECTREF UPDATEREDIRECTREF PURGE LINK UNLINK
    NOTIFY M-SEARCH SUBSCRIBE UNSUBSCRIBE
    """.split()  # noqa: SIM905
)
MAX_HEAD_BYTES = 64 * 1024  #: a head longer than this is rejected (``head_too_long``)
MAX_HEADERS = 256  #: more header lines than this is rejected (``too_many_headers``)
_MAX_URI = 2048
_MAX_MESSAGES = 10_000  #: per direction of one flow
_MAX_WEIRD = 5

_PREFIXES = tuple(m.encode() + b" " for m in sorted(METHODS))
_VERSION = re.compile(rb"HTTP/\d\.\d")
_OTHER_PROTOCOL = re.compile(rb"(?!HTTP/)[A-Z]{2,10}/\d\.\d")
_SILENT = frozenset({"incomplete", "not_http", "bad_method"})  #: not worth a weird row
_REQUEST_START = re.compile(
    rb"(?:^|\n)(?:" + b"|".join(re.escape(m.encode()) for m in sorted(METHODS)) + rb") +\S"
)
_CRLF = re.compile(rb"\r?\n")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")  #: at most 15 digits: fits the Int64 column


class _Headers:
    """Header look-ups shared by requests and responses."""

    __slots__ = ()
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or None."""
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        """Every value of header ``name`` in wire order."""
        low = name.lower()
        return [value for key, value in self.headers if key.lower() == low]


@dataclass(frozen=True, slots=True)
class HttpRequest(_Headers):
    method: str
    target: str  #: as on the wire (origin-, absolute-, authority- or asterisk-form)
    version: str  #: ``HTTP/1.1``
    headers: tuple[tuple[str, str], ...]  #: (name, value) in wire order, case kept
    head_len: int  #: octets from the request line up to and including the blank line


@dataclass(frozen=True, slots=True)
class HttpResponse(_Headers):
    version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    head_len: int


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _split_head(data: bytes, start: int) -> tuple[bytes, list[tuple[str, str]], int]:
    """The start line, the header fields and the head length of the head at ``start``;
    accepts CRLF or bare LF line ends."""
    limit = min(len(data), start + MAX_HEAD_BYTES)
    lines: list[bytes] = []
    pos = start
    while True:
        nl = data.find(b"\n", pos, limit)
        if nl < 0:
            if len(data) - start >= MAX_HEAD_BYTES:
                raise ParseError(f"no end of head within {MAX_HEAD_BYTES} octets", "head_too_long")
            raise ParseError(f"head not complete in {len(data) - start} octets", "incomplete")
        line = data[pos : nl - 1 if nl > pos and data[nl - 1] == 0x0D else nl]
        pos = nl + 1
        if not line and lines:
            break
        lines.append(line)
        if len(lines) > MAX_HEADERS + 1:
            raise ParseError(f"more than {MAX_HEADERS} header lines", "too_many_headers")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding (RFC 9112 5.2)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {_text(line.strip())}".strip())
            continue
        colon = line.find(b":")
        name = line[:colon]
        if colon <= 0 or name != name.strip() or b" " in name:
            raise ParseError(f"bad header line {line[:60]!r}", "bad_header")
        headers.append((_text(name), _text(line[colon + 1 :].strip(b" \t"))))
    return lines[0], headers, pos - start


def parse_request_head(data: bytes) -> HttpRequest:
    """The request head at the start of ``data``.

    Raises :class:`ParseError` named ``bad_method`` (not a known method: not HTTP), ``not_http``
    (an RTSP/SIP-style version), ``bad_request_line``, ``bad_header``, ``too_many_headers``,
    ``head_too_long``, or ``incomplete`` when the bytes end before the blank line.
    """
    return _request_at(data, 0)


def _request_at(data: bytes, start: int) -> HttpRequest:
    space = data.find(b" ", start, start + 24)
    method = data[start:space].decode("ascii", "replace") if space > start else ""
    if method not in METHODS:
        raise ParseError(f"not an HTTP request: starts {data[start : start + 16]!r}", "bad_method")
    line, headers, head_len = _split_head(data, start)
    parts = line[space - start :].strip(b" \t")
    target, _, version = parts.rpartition(b" ")
    target = target.strip(b" \t")
    if target and _OTHER_PROTOCOL.fullmatch(version):  # RTSP/1.0, SIP/2.0 share methods
        raise ParseError(f"not HTTP: {line[:80]!r}", "not_http")
    if not target or not _VERSION.fullmatch(version):
        raise ParseError(f"bad request line {line[:80]!r}", "bad_request_line")
    return HttpRequest(method, _text(target), version.decode("ascii"), tuple(headers), head_len)


def parse_response_head(data: bytes) -> HttpResponse:
    """The response head at the start of ``data`` (status line ``HTTP/x.y NNN reason``).

    Raises :class:`ParseError` (``bad_status_line``, header errors as for requests, or
    ``incomplete``).
    """
    return _response_at(data, 0)


def _response_at(data: bytes, start: int) -> HttpResponse:
    if not data.startswith(b"HTTP/", start) or not _VERSION.match(data, start, start + 8):
        raise ParseError(f"not an HTTP response: {data[start : start + 16]!r}", "bad_status_line")
    line, headers, head_len = _split_head(data, start)
    version, _, rest = line.partition(b" ")
    code, _, reason = rest.lstrip(b" ").partition(b" ")
    if len(version) != 8 or len(code) != 3 or not code.isdigit():
        raise ParseError(f"bad status line {line[:80]!r}", "bad_status_line")
    return HttpResponse(
        version.decode("ascii"), int(code), _text(reason.strip()), tuple(headers), head_len
    )


# -- message bodies ----------------------------------------------------------------------------


def _chunked(data: bytes, pos: int) -> tuple[int | None, int | None]:
    """Walk a chunked body from ``pos``: (decoded size, offset after the trailers).

    The offset is None when the stream ends first (the size is then what was seen); both are
    None when the framing is broken.
    """
    total = 0
    while True:
        nl = data.find(b"\n", pos, pos + 1024)
        if nl < 0:
            return (total, None) if len(data) - pos < 1024 else (None, None)
        size_text = data[pos:nl].split(b";", 1)[0].strip(b" \t\r")
        if not _CHUNK_SIZE.fullmatch(size_text):
            return None, None
        size = int(size_text, 16)
        pos = nl + 1
        if size == 0:
            break
        total += size
        pos += size
        if pos > len(data):
            return total, None
        match = _CRLF.match(data, pos)
        if not match:
            return (total, None) if pos >= len(data) else (None, None)
        pos = match.end()
    while True:  # trailer section up to the blank line
        nl = data.find(b"\n", pos)
        if nl < 0:
            return total, None
        line, pos = data[pos:nl], nl + 1
        if line in (b"", b"\r"):
            return total, pos


def _content_length(head: _Headers) -> int | None:
    values = head.header_all("Content-Length")
    if not values:
        return None
    numbers = {v.strip() for value in values for v in value.split(",")}
    if len(numbers) != 1:
        raise ParseError(f"conflicting Content-Length {sorted(numbers)}", "bad_content_length")
    text = numbers.pop()
    if not text.isascii() or not text.isdigit() or len(text) > 15:  # fits the Int64 column
        raise ParseError(f"bad Content-Length {text[:40]!r}", "bad_content_length")
    return int(text)


def _body(head: _Headers, data: bytes, start: int, to_close: bool) -> tuple[int | None, int | None]:
    """(body length, offset of the next message or None to stop walking)."""
    te = (head.header("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        return _chunked(data, start)
    length = _content_length(head)
    if length is None:
        if to_close:
            return len(data) - start, None
        return 0, start
    end = start + length
    return length, (end if end <= len(data) else None)


def _dechunk(data: bytes, pos: int, limit: int) -> bytes:
    """The data of a chunked body from ``pos`` (what the capture holds, at most ``limit``)."""
    out = bytearray()
    while len(out) < limit:
        nl = data.find(b"\n", pos, pos + 1024)
        if nl < 0:
            break
        size_text = data[pos:nl].split(b";", 1)[0].strip(b" \t\r")
        if not _CHUNK_SIZE.fullmatch(size_text) or int(size_text, 16) == 0:
            break
        size = int(size_text, 16)
        out += data[nl + 1 : nl + 1 + size]
        match = _CRLF.match(data, nl + 1 + size)
        if match is None:
            break
        pos = match.end()
    return bytes(out[:limit])


def request_body(data: bytes, req: HttpRequest, offset: int, body_len: int | None) -> bytes:
    """The body of the request at ``offset`` with its content codings undone (at most
    :data:`~inspector.privacy.request.MAX_BODY_KEPT` octets; raw when it does not decode)."""
    start = offset + req.head_len
    if "chunked" in (req.header("Transfer-Encoding") or "").lower():
        body = _dechunk(data, start, MAX_BODY_KEPT)
    else:
        body = data[start : start + min(body_len or 0, MAX_BODY_KEPT)]
    coding = req.header("Content-Encoding") or ""
    if body and coding:
        with contextlib.suppress(ParseError):
            body = decode_body(body, coding, MAX_BODY_KEPT).data
    return body


# -- the dissector -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Req:
    head: HttpRequest
    offset: int
    body_len: int | None


@dataclass(frozen=True, slots=True)
class _Resp:
    head: HttpResponse
    body_len: int | None


Problems = list[tuple[int, ParseError]]


def _skip_blank(data: bytes, pos: int) -> int:
    """Skip empty lines between messages (RFC 9112 section 2.2)."""
    while data[pos : pos + 2] == b"\r\n" or data[pos : pos + 1] == b"\n":
        pos += 2 if data[pos] == 0x0D else 1
    return pos


def _first_request(data: bytes) -> int:
    """Offset of the first request line (0, or the first one after a line break); -1 if none."""
    if data.startswith(_PREFIXES):
        return 0
    match = _REQUEST_START.search(data, 0, MAX_HEAD_BYTES)
    return -1 if match is None else match.start() + (data[match.start()] == 0x0A)


def _walk_requests(data: bytes, problems: Problems) -> list[_Req]:
    out: list[_Req] = []
    pos = _first_request(data)
    while 0 <= pos < len(data) and len(out) < _MAX_MESSAGES:
        try:
            req = _request_at(data, pos)
            body_len, nxt = _body(req, data, pos + req.head_len, to_close=False)
        except ParseError as err:
            if err.name not in _SILENT:
                problems.append((pos, err))
            break
        out.append(_Req(req, pos, body_len))
        if nxt is None or req.method == "CONNECT" or req.header("Upgrade") is not None:
            break  # the rest is a body cut by the capture, or a tunnel / another protocol
        pos = _skip_blank(data, nxt)
    return out


def _walk_responses(
    server: Stream, client: Stream, requests: list[_Req], problems: Problems
) -> list[_Resp | None]:
    """The final response of each request (None when not seen), in order.

    A response that starts before the request it would pair with answers a request the capture
    missed: it is skipped, so a capture that starts mid-flow still pairs correctly.
    """
    data = server.data
    paired: list[_Resp | None] = [None] * len(requests)
    pos = 0 if data.startswith(b"HTTP/") else data.find(b"\nHTTP/", 0, MAX_HEAD_BYTES) + 1
    if pos == 0 and not data.startswith(b"HTTP/"):
        return paired
    j = 0
    for _ in range(_MAX_MESSAGES):
        if pos >= len(data):
            break
        try:
            resp = _response_at(data, pos)
        except ParseError as err:
            if err.name not in _SILENT:
                problems.append((pos, err))
            break
        start = pos + resp.head_len
        if 100 <= resp.status < 200 and resp.status != 101:
            pos = _skip_blank(data, start)  # interim response: the final one follows
            continue
        req = requests[j] if j < len(requests) else None
        if req is not None and server.ts_at(pos) < client.ts_at(req.offset):
            req = None  # answers a request sent before the capture started
        method = req.head.method if req else ""
        tunnel = resp.status == 101 or (method == "CONNECT" and 200 <= resp.status < 300)
        nxt: int | None = start
        if tunnel or method == "HEAD" or resp.status in (204, 304):
            body_len, nxt = 0, (None if tunnel else start)
        else:
            try:
                body_len, nxt = _body(resp, data, start, to_close=True)
            except ParseError as err:
                problems.append((pos, err))
                body_len, nxt = None, None
        if req is not None:
            paired[j] = _Resp(resp, body_len)
            j += 1
        if nxt is None:
            break
        pos = _skip_blank(data, nxt)
    return paired


def _split_target(req: HttpRequest) -> tuple[str, str]:
    """(host, uri) as described by the ``http.host`` and ``http.uri`` columns."""
    target = req.target
    host = req.header("Host")
    if req.method == "CONNECT":
        return (host if host is not None else target), target
    scheme, sep, rest = target.partition("://")
    if sep and scheme and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        authority, path = rest[:cut], rest[cut:]
        host = authority.rpartition("@")[2]
        target = path if path.startswith("/") else "/" + path
    return (host or ""), target


def _cut(uri: str) -> str:
    return uri if len(uri) <= _MAX_URI else f"{uri[:_MAX_URI]}...(+{len(uri) - _MAX_URI})"


def _row(
    view: FlowView,
    at: tuple[float, int, tuple[int, ...]],
    client_is_orig: bool,
    req: _Req,
    resp: _Resp | None,
) -> HttpRow:
    head = req.head
    host, uri = _split_target(head)
    answer = resp.head if resp else None
    return HttpRow(
        ts=at[0],
        uid=view.uid,
        frame=at[1],
        client_is_orig=client_is_orig,
        method=head.method,
        host=host,
        uri=_cut(uri),
        version=head.version,
        user_agent=head.header("User-Agent") or "",
        origin=head.header("Origin") or "",
        referer=head.header("Referer") or "",
        content_type=head.header("Content-Type") or "",
        request_body_len=req.body_len,
        status=answer.status if answer else None,
        reason=answer.reason if answer else "",
        response_content_type=(answer.header("Content-Type") or "") if answer else "",
        response_body_len=resp.body_len if resp else None,
        server=(answer.header("Server") or "") if answer else "",
        x_forwarded_for=head.header("X-Forwarded-For") or "",
        frames=";".join(map(str, at[2])),
    )


def _frames(stream: Stream, start: int, end: int) -> tuple[int, ...]:
    """Frames that carried bytes ``[start, end)`` (``Stream.frames_between`` with a bisect:
    that one scans every segment, too slow for a stream of thousands of requests)."""
    segs = stream.segments
    i = max(bisect.bisect_right(segs, (start, 1 << 62, 0.0)) - 1, 0)
    out: list[int] = []
    while i < len(segs) and segs[i][0] < end:
        if segs[i][1] not in out:
            out.append(segs[i][1])
        i += 1
    return tuple(out)


def _client_side(view: FlowView) -> bool | None:
    """True/False when the orig/resp side sends requests; None when the flow is not HTTP."""
    orig, resp = view.orig.data, view.resp.data
    if orig.startswith(_PREFIXES):
        return True
    if resp.startswith(_PREFIXES):
        return False
    if b"HTTP/1." not in orig[:MAX_HEAD_BYTES] and b"HTTP/1." not in resp[:MAX_HEAD_BYTES]:
        return None
    if _first_request(orig) >= 0:
        return True
    if _first_request(resp) >= 0:
        return False
    return None


def _dissect_tcp(view: FlowView) -> list[Row]:
    for client, server, side in ((view.orig, view.resp, True), (view.resp, view.orig, False)):
        if client.data.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
            from inspector.dissect.http_inner import h2_rows  # HTTP/2 with prior knowledge

            return h2_rows(view, client, server, side, inside_tls=False)
    side = _client_side(view)
    if side is None:
        return []
    client, server = (view.orig, view.resp) if side else (view.resp, view.orig)
    client_problems: Problems = []
    server_problems: Problems = []
    requests = _walk_requests(client.data, client_problems)
    responses = _walk_responses(server, client, requests, server_problems)
    rows: list[Row] = []
    for req, resp in zip(requests, responses, strict=True):
        end = req.offset + req.head.head_len
        at = (
            client.ts_at(req.offset),
            client.frame_at(req.offset),
            _frames(client, req.offset, end),
        )
        row = _row(view, at, side, req, resp)
        rows.append(row)
        head = req.head
        body = request_body(client.data, head, req.offset, req.body_len)
        rows.append(
            RequestSeen(
                view.uid,
                at[0],
                row.frames,
                head.version,
                None,
                Request(head.method, row.host, row.uri, head.headers, body, row.content_type),
            )
        )
    for stream, found in ((client, client_problems), (server, server_problems)):
        for offset, err in found[:_MAX_WEIRD]:
            rows.append(weird(view, err, "http", stream.ts_at(offset), stream.frame_at(offset)))
    return rows


def _dissect_udp(view: FlowView) -> list[Row]:
    """Each datagram that starts with a request line is a request; the next response datagram
    from the other side pairs with the oldest unanswered request."""
    found: list[tuple[tuple[float, int, tuple[int, ...]], bool, _Req]] = []
    answers: dict[int, _Resp] = {}
    weirds: list[Row] = []
    for dgram in view.datagrams:
        payload = dgram.payload
        if payload.startswith(_PREFIXES):
            try:
                req = parse_request_head(payload)
                body_len, _ = _body(req, payload, req.head_len, to_close=False)
            except ParseError as err:
                if err.name not in _SILENT and len(weirds) < _MAX_WEIRD:
                    weirds.append(weird(view, err, "http", dgram.ts, dgram.frame))
                continue
            found.append(
                ((dgram.ts, dgram.frame, (dgram.frame,)), dgram.from_orig, _Req(req, 0, body_len))
            )
        elif payload.startswith(b"HTTP/"):
            index = next(
                (i for i, f in enumerate(found) if f[1] != dgram.from_orig and i not in answers),
                None,
            )
            if index is None:
                continue
            try:
                resp = parse_response_head(payload)
            except ParseError:
                continue
            answers[index] = _Resp(resp, len(payload) - resp.head_len)
    rows: list[Row] = [
        _row(view, at, from_orig, req, answers.get(i))
        for i, (at, from_orig, req) in enumerate(found)
    ]
    return rows + weirds


def dissect(view: FlowView) -> list[Row]:
    """``http`` rows (plus ``weird`` rows) for one flow; never raises."""
    if view.proto == "tcp":
        return _dissect_tcp(view)
    if view.proto == "udp":
        return _dissect_udp(view)
    return []
