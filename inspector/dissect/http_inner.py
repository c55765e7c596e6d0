"""HTTP read from decrypted bytes: rows of the ``http`` table and the requests the privacy stage
reads, for HTTP/1.x and HTTP/2 inside TLS and HTTP/3 inside QUIC.

:class:`Exchange` is the version-neutral request/response pair (HTTP/2 and HTTP/3 fill it from
their frames); :func:`exchange_rows` turns it into an ``http`` row marked ``inside_tls`` and a
:class:`~inspector.privacy.request.RequestSeen` record.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from inspector.dissect import http, http2
from inspector.dissect.base import FlowView, ParseError, Stream, weird
from inspector.dissect.bodies import decode_body
from inspector.privacy.request import MAX_BODY_KEPT, Request, RequestSeen
from inspector.schema.base import Row
from inspector.schema.http import HttpRow

__all__ = ["Exchange", "exchange_rows", "h2_rows", "inner_rows"]

_MAX_WEIRD = 5


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response, whatever the HTTP version."""

    version: str  #: ``HTTP/2`` or ``HTTP/3``
    stream_id: int | None
    ts: float
    frame: int
    frames: tuple[int, ...]
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    request_body_len: int | None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body_len: int | None = None


def _get(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _decoded(body: bytes, coding: str) -> tuple[bytes, int | None]:
    if not coding:
        return body, len(body)
    try:
        out = decode_body(body, coding)
    except ParseError:
        return body, None
    return out.data, len(out.data)


def exchange_rows(
    view: FlowView, ex: Exchange, client_is_orig: bool, inside_tls: bool = True
) -> list[Row]:
    """The ``http`` row and the request record of one exchange."""
    req, resp = ex.request_headers, ex.response_headers
    status = _get(resp, ":status")
    coding = _get(req, "content-encoding")
    body, decoded_len = _decoded(ex.request_body, coding)
    frames = ";".join(map(str, ex.frames))
    host = _get(req, ":authority") or _get(req, "host")
    path = _get(req, ":path")
    method = _get(req, ":method")
    row = HttpRow(
        ts=ex.ts,
        uid=view.uid,
        frame=ex.frame,
        client_is_orig=client_is_orig,
        method=method,
        host=host,
        uri=path if len(path) <= 2048 else f"{path[:2048]}...(+{len(path) - 2048})",
        version=ex.version,
        user_agent=_get(req, "user-agent"),
        origin=_get(req, "origin"),
        referer=_get(req, "referer"),
        content_type=_get(req, "content-type"),
        request_body_len=ex.request_body_len,
        status=int(status) if status.isdigit() and len(status) == 3 else None,
        reason="",
        response_content_type=_get(resp, "content-type"),
        response_body_len=ex.response_body_len,
        server=_get(resp, "server"),
        x_forwarded_for=_get(req, "x-forwarded-for"),
        frames=frames,
        inside_tls=inside_tls,
        stream_id=ex.stream_id,
        request_content_encoding=coding,
        request_body_decoded_len=decoded_len,
        response_content_encoding=_get(resp, "content-encoding"),
    )
    seen = RequestSeen(
        uid=view.uid,
        ts=ex.ts,
        frames=frames,
        http_version=ex.version,
        stream_id=ex.stream_id,
        request=Request(method, host, path, req, body[:MAX_BODY_KEPT], _get(req, "content-type")),
    )
    return [row, seen]


def h2_rows(
    view: FlowView, client: Stream, server: Stream, client_is_orig: bool, inside_tls: bool = True
) -> list[Row]:
    """Rows of an HTTP/2 connection (decrypted, or cleartext h2c with prior knowledge)."""
    conn = http2.parse_connection(client.data, server.data)
    rows: list[Row] = []
    for sid in sorted(conn.exchanges):
        ex = conn.exchanges[sid]
        if not ex.request.headers:
            continue
        offsets = [ex.request.offset, *ex.request.frames]
        frames = tuple(dict.fromkeys(client.frame_at(o) for o in offsets))
        stream = server if ex.pushed else client
        exchange = Exchange(
            version="HTTP/2",
            stream_id=sid,
            ts=stream.ts_at(ex.request.offset),
            frame=stream.frame_at(ex.request.offset),
            frames=frames,
            request_headers=tuple(ex.request.headers),
            request_body=bytes(ex.request.body),
            request_body_len=ex.request.body_len,
            response_headers=tuple(ex.response.headers),
            response_body_len=ex.response.body_len if ex.response.headers else None,
        )
        rows.extend(exchange_rows(view, exchange, client_is_orig, inside_tls))
    for is_client, offset, err in conn.errors[:_MAX_WEIRD]:
        stream = client if is_client else server
        rows.append(weird(view, err, "http2", stream.ts_at(offset), stream.frame_at(offset)))
    return rows


def _h1_rows(view: FlowView, client: Stream, server: Stream, client_is_orig: bool) -> list[Row]:
    inner = dataclasses.replace(
        view,
        orig=client if client_is_orig else server,
        resp=server if client_is_orig else client,
    )
    out: list[Row] = []
    for row in http.dissect(inner):
        if isinstance(row, HttpRow):
            row = dataclasses.replace(row, inside_tls=True)
        out.append(row)
    return out


def inner_rows(
    view: FlowView, client: Stream, server: Stream, client_is_orig: bool, alpn: str = ""
) -> list[Row]:
    """``http`` rows (and request records) of decrypted TLS application data, HTTP/2 when the
    client stream starts with the connection preface, else HTTP/1.x."""
    if client.data.startswith(http2.PREFACE[:16]) or (
        alpn == "h2" and not client.data[:4].isalpha()
    ):
        return h2_rows(view, client, server, client_is_orig)
    return _h1_rows(view, client, server, client_is_orig)
