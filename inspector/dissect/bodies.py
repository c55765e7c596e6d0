"""HTTP message bodies: content codings undone under a size limit (RFC 9110 section 8.4).

``decode_body(body, content_encoding)`` undoes ``gzip`` / ``x-gzip`` (RFC 1952), ``deflate``
(RFC 1950 zlib, and the raw RFC 1951 stream some servers send), ``br`` (RFC 7932, with the
``brotli`` package) and ``zstd`` (RFC 8878, with ``zstandard``), applied in the order listed in
the header. Output is capped at :data:`MAX_DECODED` octets: a decompression bomb yields its
first ``MAX_DECODED`` octets and ``truncated=True``, never unbounded memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from inspector.errors import ParseError

__all__ = ["MAX_DECODED", "DecodedBody", "decode_body"]

MAX_DECODED = 1 << 20  #: octets of decoded body kept per message
_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class DecodedBody:
    data: bytes
    truncated: bool  #: the limit cut the decoded body
    codings: tuple[str, ...]  #: codings undone, in the order applied


def _zlib(body: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    obj = zlib.decompressobj(wbits)
    try:
        out = obj.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ParseError(f"bad compressed body: {exc}", "bad_content_encoding") from exc
    return out[:limit], len(out) > limit


def _deflate(body: bytes, limit: int) -> tuple[bytes, bool]:
    try:
        return _zlib(body, 15, limit)
    except ParseError:
        return _zlib(body, -15, limit)  # raw deflate, as some servers send it


def _brotli(body: bytes, limit: int) -> tuple[bytes, bool]:
    import brotli

    dec = brotli.Decompressor()
    out = bytearray()
    try:
        for i in range(0, len(body), _CHUNK // 64):  # small input steps bound each output step
            out += dec.process(body[i : i + _CHUNK // 64])
            if len(out) > limit:
                return bytes(out[:limit]), True
    except brotli.error as exc:
        raise ParseError(f"bad brotli body: {exc}", "bad_content_encoding") from exc
    return bytes(out), False


def _zstd(body: bytes, limit: int) -> tuple[bytes, bool]:
    import zstandard

    try:
        reader = zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
        out = reader.read(limit + 1)
    except zstandard.ZstdError as exc:
        raise ParseError(f"bad zstd body: {exc}", "bad_content_encoding") from exc
    return out[:limit], len(out) > limit


_DECODERS = {
    "gzip": lambda b, n: _zlib(b, 31, n),
    "x-gzip": lambda b, n: _zlib(b, 31, n),
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


def decode_body(body: bytes, content_encoding: str, limit: int = MAX_DECODED) -> DecodedBody:
    """Undo ``content_encoding`` (a header value, e.g. ``"gzip"`` or ``"deflate, br"``).

    Raises :class:`ParseError` ``unknown_content_encoding`` for a coding not listed above and
    ``bad_content_encoding`` for a body that does not decode.
    """
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    data, truncated = body[:limit], len(body) > limit
    for coding in reversed(codings):  # the last coding listed was applied last
        if coding not in _DECODERS:
            raise ParseError(f"content coding {coding[:40]!r}", "unknown_content_encoding")
        data, cut = _DECODERS[coding](data, limit)
        truncated = truncated or cut
    return DecodedBody(data, truncated, tuple(reversed(codings)))
