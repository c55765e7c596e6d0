"""Content codings undone under the size limit: gzip, deflate (zlib and raw), br, zstd, stacked
codings, bombs, and garbage."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.bodies import decode_body
from inspector.errors import ParseError

TEXT = b'{"advertiser_id":"x"}' * 50


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
        ("identity", lambda b: b),
    ],
)
def test_each_coding(coding: str, encode) -> None:  # type: ignore[no-untyped-def]
    out = decode_body(encode(TEXT), coding)
    assert out.data == TEXT and not out.truncated


def test_stacked_codings_are_undone_last_first() -> None:
    body = brotli.compress(gzip.compress(TEXT))
    assert decode_body(body, "gzip, br").data == TEXT


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
    ],
)
def test_bombs_stop_at_the_limit(coding: str, encode) -> None:  # type: ignore[no-untyped-def]
    bomb = encode(b"\x00" * (16 << 20))
    out = decode_body(bomb, coding, limit=1 << 20)
    assert len(out.data) == 1 << 20 and out.truncated


def test_unknown_and_broken() -> None:
    with pytest.raises(ParseError, match="compress"):
        decode_body(b"x", "compress")
    with pytest.raises(ParseError):
        decode_body(b"not gzip", "gzip")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["gzip", "deflate", "br", "zstd", "gzip, br"]))
def test_garbage_only_raises_parse_error(body: bytes, coding: str) -> None:
    try:
        out = decode_body(body, coding, limit=4096)
    except ParseError:
        return
    assert len(out.data) <= 4096
