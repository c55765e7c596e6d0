"""HAR files (HTTP Archive 1.2, as browsers' developer tools save them) as ``http`` rows and the
requests the privacy stage reads, with provenance ``har:FILE``.

``parse_har(text, name)`` is pure (JSON text in, rows out); ``read_har(path)`` reads the file.
Each entry becomes one ``http`` row; rows of one host share a ``uid`` derived from the file name
and the host (``H`` + 17 base32 characters), so they group like a flow. A HAR holds no packets:
``frame`` is the 1-based entry number and ``frames`` is empty.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
from typing import Any
from urllib.parse import urlsplit

from inspector.dissect.bodies import decode_body
from inspector.errors import InputError, ParseError
from inspector.privacy.request import MAX_BODY_KEPT, Request, RequestSeen
from inspector.schema.base import Row
from inspector.schema.http import HttpRow

__all__ = ["imported_uid", "parse_har", "read_har"]

MAX_ENTRIES = 100_000


def imported_uid(source: str, host: str) -> str:
    """A deterministic flow-like id for the requests of one file to one host."""
    digest = hashlib.sha1(f"{source}|{host}".encode()).digest()
    return "H" + base64.b32encode(digest).decode("ascii")[:17]


def _ts(text: str) -> float:
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return 0.0


def _headers(items: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(items, list):
        return ()
    return tuple(
        (str(h.get("name", "")), str(h.get("value", "")))
        for h in items
        if isinstance(h, dict) and not str(h.get("name", "")).startswith(":")
    )


def _get(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _body(post: Any) -> bytes:
    """The request body a HAR ``postData`` holds (``text``, base64 when ``encoding`` says so)."""
    if not isinstance(post, dict):
        return b""
    text = post.get("text")
    if not isinstance(text, str):
        params = post.get("params")
        if isinstance(params, list):
            from urllib.parse import urlencode

            return urlencode([(p.get("name", ""), p.get("value", "")) for p in params]).encode()
        return b""
    if post.get("encoding") == "base64":
        try:
            return base64.b64decode(text)
        except ValueError:
            return b""
    return text.encode("utf-8", "surrogatepass")


def _version(text: str) -> str:
    low = text.lower()
    if low in ("h2", "http/2", "http/2.0"):
        return "HTTP/2"
    if low in ("h3", "http/3", "http/3.0"):
        return "HTTP/3"
    return text.upper() or "HTTP/1.1"


def _entry_rows(entry: dict[str, Any], index: int, source: str) -> list[Row]:
    req = entry.get("request") or {}
    resp = entry.get("response") or {}
    url = urlsplit(str(req.get("url", "")))
    host = url.netloc.rpartition("@")[2]
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    headers = _headers(req.get("headers"))
    body = _body(req.get("postData"))
    coding = _get(headers, "content-encoding")
    decoded = body
    if coding:
        try:
            decoded = decode_body(body, coding, MAX_BODY_KEPT).data
        except ParseError:
            decoded = body  # HAR bodies are usually stored decoded already
    rheaders = _headers(resp.get("headers"))
    status = resp.get("status")
    content = resp.get("content") or {}
    uid = imported_uid(source, host)
    ts = _ts(str(entry.get("startedDateTime", "")))
    ctype = _get(headers, "content-type") or str((req.get("postData") or {}).get("mimeType", ""))
    row = HttpRow(
        ts=ts,
        uid=uid,
        frame=index,
        method=str(req.get("method", "")),
        host=host,
        uri=path,
        version=_version(str(req.get("httpVersion", ""))),
        user_agent=_get(headers, "user-agent"),
        origin=_get(headers, "origin"),
        referer=_get(headers, "referer"),
        content_type=ctype,
        request_body_len=len(body),
        status=status if isinstance(status, int) and 100 <= status <= 999 else None,
        reason=str(resp.get("statusText", "")),
        response_content_type=_get(rheaders, "content-type") or str(content.get("mimeType", "")),
        response_body_len=content.get("size") if isinstance(content.get("size"), int) else None,
        server=_get(rheaders, "server"),
        x_forwarded_for=_get(headers, "x-forwarded-for"),
        frames="",
        inside_tls=url.scheme == "https",
        request_content_encoding=coding,
        request_body_decoded_len=len(decoded),
        response_content_encoding=_get(rheaders, "content-encoding"),
        source=source,
    )
    seen = RequestSeen(
        uid,
        ts,
        "",
        row.version,
        None,
        Request(row.method, host, path, headers, decoded, ctype),
        source,
    )
    return [row, seen]


def parse_har(text: str, name: str) -> list[Row]:
    """``http`` rows and request records of a HAR document; :class:`ParseError` when it is not
    one."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not JSON: {exc}", "bad_har") from exc
    entries = doc.get("log", {}).get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ParseError("no log.entries list", "bad_har")
    source = f"har:{name}"
    rows: list[Row] = []
    for i, entry in enumerate(entries[:MAX_ENTRIES], start=1):
        if isinstance(entry, dict):
            rows.extend(_entry_rows(entry, i, source))
    return rows


def read_har(path: str) -> list[Row]:
    """Read and parse a HAR file; :class:`InputError` (one line) when it cannot be used."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        return parse_har(text, os.path.basename(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read HAR file ({exc.strerror or exc})") from exc
    except ParseError as exc:
        raise InputError(f"{path}: not a HAR file ({exc.detail})") from exc
