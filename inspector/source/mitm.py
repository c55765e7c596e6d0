"""mitmproxy flow files (``mitmdump -w FILE``) as ``http`` rows and the requests the privacy
stage reads, with provenance ``mitmproxy:FILE``.

Reading the format needs the ``mitmproxy`` package (``pip install
'conference-inspector[mitmproxy]'``); without it :func:`read_mitm` raises :class:`InputError`
saying so. Rows of one host share a ``uid`` (see :func:`inspector.source.har.imported_uid`);
``frame`` is the 1-based flow number.
"""

from __future__ import annotations

import os
from typing import Any

from inspector.errors import InputError
from inspector.privacy.request import MAX_BODY_KEPT, Request, RequestSeen
from inspector.schema.base import Row
from inspector.schema.http import HttpRow
from inspector.source.har import imported_uid

__all__ = ["flow_rows", "read_mitm"]

#: what mitmproxy's flow loader raises on a damaged file besides ``FlowReadException``
#: (seen on mutated copies of captures/telemetry.mitm: missing state keys, bad types, bad text)
_CORRUPT = (KeyError, ValueError, TypeError, IndexError, AttributeError, UnicodeError)


def _headers(h: Any) -> tuple[tuple[str, str], ...]:
    return tuple(
        (k.decode("utf-8", "backslashreplace"), v.decode("utf-8", "backslashreplace"))
        for k, v in h.fields
    )


def _get(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _version(text: str) -> str:
    return {"HTTP/2.0": "HTTP/2", "HTTP/3": "HTTP/3"}.get(text, text or "HTTP/1.1")


def flow_rows(flow: Any, index: int, source: str) -> list[Row]:
    """The ``http`` row and request record of one ``mitmproxy.http.HTTPFlow``."""
    req, resp = flow.request, flow.response
    headers = _headers(req.headers)
    raw = req.raw_content or b""
    body = req.get_content(strict=False) or b""
    host = req.pretty_host
    uid = imported_uid(source, host)
    ts = float(req.timestamp_start or 0.0)
    rheaders = _headers(resp.headers) if resp is not None else ()
    version = _version(req.http_version)
    row = HttpRow(
        ts=ts,
        uid=uid,
        frame=index,
        method=req.method,
        host=host,
        uri=req.path,
        version=version,
        user_agent=_get(headers, "user-agent"),
        origin=_get(headers, "origin"),
        referer=_get(headers, "referer"),
        content_type=_get(headers, "content-type"),
        request_body_len=len(raw),
        status=resp.status_code if resp is not None else None,
        reason=resp.reason if resp is not None else "",
        response_content_type=_get(rheaders, "content-type"),
        response_body_len=len(resp.raw_content or b"") if resp is not None else None,
        server=_get(rheaders, "server"),
        x_forwarded_for=_get(headers, "x-forwarded-for"),
        frames="",
        inside_tls=req.scheme == "https",
        request_content_encoding=_get(headers, "content-encoding"),
        request_body_decoded_len=len(body),
        response_content_encoding=_get(rheaders, "content-encoding"),
        source=source,
    )
    request = Request(req.method, host, req.path, headers, body[:MAX_BODY_KEPT], row.content_type)
    return [row, RequestSeen(uid, ts, "", version, None, request, source)]


def read_mitm(path: str) -> list[Row]:
    """Read a mitmproxy flow file; :class:`InputError` (one line) when it cannot be used."""
    try:
        from mitmproxy import http, io
        from mitmproxy.exceptions import FlowReadException
    except ImportError as exc:
        raise InputError(
            f"{path}: reading mitmproxy flows needs the optional extra "
            "(pip install 'conference-inspector[mitmproxy]')"
        ) from exc
    source = f"mitmproxy:{os.path.basename(path)}"
    rows: list[Row] = []
    try:
        with open(path, "rb") as fh:
            for i, flow in enumerate(io.FlowReader(fh).stream(), start=1):
                if isinstance(flow, http.HTTPFlow):
                    rows.extend(flow_rows(flow, i, source))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except FlowReadException as exc:
        raise InputError(f"{path}: not a mitmproxy flow file ({exc})") from exc
    except _CORRUPT as exc:  # mitmproxy's loader on a damaged file (measured by mutation)
        raise InputError(
            f"{path}: damaged mitmproxy flow file ({type(exc).__name__}: {exc})"
        ) from exc
    return rows
