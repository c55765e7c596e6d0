"""What a detector reads: one HTTP request's fields, flattened to ``(field, key, value)`` triples.

:func:`request_fields` walks the query string, an url-encoded form body, a JSON body, the header
fields and the cookies, and JSON nested inside a form or query value (the Facebook SDK sends
``extinfo`` as a JSON array inside a form). Each triple names where it was found
(``query:NAME``, ``form:NAME``, ``json:PATH``, ``header:NAME``, ``cookie:NAME``, ``path``), the
key a rule matches on (the last name in the path, lowercased) and the value as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

from inspector.schema.base import Row

__all__ = ["MAX_FIELDS", "REQUESTS", "Field", "Request", "RequestSeen", "request_fields"]

MAX_FIELDS = 2000  #: fields read per request
_MAX_DEPTH = 8
_MAX_VALUE = 4096  #: characters of a value kept
#: Headers every client sends whose values are not app data (RFC 9110 / Fetch standard).
_SKIP_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "connection",
        "content-length",
        "content-type",
        "content-encoding",
        "cookie",
        "host",
        "te",
        "transfer-encoding",
        "user-agent",
    }
)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as a detector sees it (body already content-decoded)."""

    method: str
    host: str
    path: str  #: path and query
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    content_type: str = ""


#: the in-memory (never written) table of requests dissectors hand to the privacy stage
REQUESTS = "_requests"
MAX_BODY_KEPT = 64 * 1024  #: request body octets kept for the detectors


@dataclass(frozen=True, slots=True)
class RequestSeen(Row):
    """A request a dissector read, with where it was seen, for the privacy stage (not output)."""

    TABLE: ClassVar[str] = REQUESTS
    uid: str
    ts: float
    frames: str
    http_version: str
    stream_id: int | None
    request: Request
    source: str = "capture"


@dataclass(frozen=True, slots=True)
class Field:
    field: str  #: where: ``form:extinfo[5]``
    key: str  #: the name a rule matches on: ``extinfo``
    value: str
    index: int | None = None  #: position in a JSON array, when the value is an element
    parent: str = ""  #: key of the array an element belongs to


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:_MAX_VALUE]


def _json(out: list[Field], where: str, key: str, node: object, depth: int) -> None:
    if len(out) >= MAX_FIELDS or depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            _json(out, f"{where}.{k}" if where else str(k), str(k).lower(), v, depth + 1)
    elif isinstance(node, list):
        for i, v in enumerate(node[:256]):
            if isinstance(v, (dict, list)):
                _json(out, f"{where}[{i}]", key, v, depth + 1)
            elif v is not None:
                out.append(Field(f"{where}[{i}]", key, _text(v), i, key))
    elif node is not None:
        _scalar(out, where, key, _text(node), depth)


def _scalar(out: list[Field], where: str, key: str, value: str, depth: int) -> None:
    """A value; JSON nested in it (an object or array in a string) is walked as well."""
    out.append(Field(where, key, value))
    text = value.strip()
    if text[:1] in ("[", "{") and depth < _MAX_DEPTH:
        try:
            nested = json.loads(text)
        except (ValueError, RecursionError):  # deeply nested hostile JSON is left as text
            return
        _json(out, where, key, nested, depth + 1)


def _pairs(out: list[Field], kind: str, pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        if len(out) >= MAX_FIELDS:
            return
        _scalar(out, f"{kind}:{name}", name.lower().rstrip("]").split("[")[-1], value, 0)


def _cookies(header: str) -> list[tuple[str, str]]:
    out = []
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            out.append((name, value))
    return out


def request_fields(req: Request) -> list[Field]:
    """Every field of ``req`` a detector looks at, in request order (never raises)."""
    out: list[Field] = []
    parts = urlsplit(req.path if req.path.startswith("/") else "/" + req.path)
    out.append(Field("path", "path", parts.path[:_MAX_VALUE]))
    _pairs(out, "query", parse_qsl(parts.query, keep_blank_values=True))
    for name, value in req.headers:
        low = name.lower()
        if low == "cookie":
            _pairs(out, "cookie", _cookies(value))
        elif not low.startswith(":") and low not in _SKIP_HEADERS:
            _pairs(out, "header", [(low, value)])
    body = req.body.decode("utf-8", "replace") if req.body else ""
    ctype = req.content_type.lower()
    if not body:
        return out[:MAX_FIELDS]
    if "x-www-form-urlencoded" in ctype:
        _pairs(out, "form", parse_qsl(body, keep_blank_values=True))
    elif "json" in ctype or body.lstrip()[:1] in ("{", "["):
        try:
            _json(out, "json:", "", json.loads(body), 0)
        except (ValueError, RecursionError):
            out.append(Field("body", "body", body[:_MAX_VALUE]))
        out = [
            Field(f.field.replace("json:.", "json:"), f.key, f.value, f.index, f.parent)
            for f in out
        ]
    else:
        out.append(Field("body", "body", body[:_MAX_VALUE]))
    return out[:MAX_FIELDS]
