"""HTTP/2 frames and HPACK header blocks: round trips through the ``hpack`` encoder, padding,
CONTINUATION, trailers, server push, framing errors, and hypothesis on hostile bytes."""

from __future__ import annotations

import struct

import hpack
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.http2 import (
    END_HEADERS,
    END_STREAM,
    PADDED,
    PREFACE,
    FrameType,
    parse_connection,
    pull_frames,
)


def frame(ftype: int, flags: int, sid: int, payload: bytes) -> bytes:
    return (
        len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + struct.pack("!I", sid) + payload
    )


REQ = [(":method", "POST"), (":scheme", "https"), (":authority", "a.example"), (":path", "/p?q=1")]
RESP = [(":status", "200"), ("content-type", "application/json")]


def test_request_and_response_with_padding_and_continuation() -> None:
    enc_c, enc_s = hpack.Encoder(), hpack.Encoder()
    block = enc_c.encode([*REQ, ("user-agent", "ua")])
    client = PREFACE + frame(FrameType.SETTINGS, 0, 0, b"")
    client += frame(FrameType.HEADERS, 0, 1, block[:5]) + frame(
        FrameType.CONTINUATION, END_HEADERS, 1, block[5:]
    )
    client += frame(FrameType.DATA, PADDED | END_STREAM, 1, b"\x03" + b"body" + b"\x00" * 3)
    server = frame(FrameType.SETTINGS, 0, 0, b"") + frame(
        FrameType.HEADERS, END_HEADERS, 1, enc_s.encode(RESP)
    )
    server += frame(FrameType.DATA, 0, 1, b"x" * 10)
    server += frame(
        FrameType.HEADERS, END_HEADERS | END_STREAM, 1, enc_s.encode([("grpc-status", "0")])
    )
    conn = parse_connection(client, server)
    assert not conn.errors
    ex = conn.exchanges[1]
    assert ex.request.header(":path") == "/p?q=1" and ex.request.header("user-agent") == "ua"
    assert bytes(ex.request.body) == b"body" and ex.request.body_len == 4 and ex.request.ended
    assert ex.response.header(":status") == "200" and ex.response.body_len == 10
    assert ex.response.trailers == [("grpc-status", "0")]


def test_dynamic_table_is_kept_per_direction_in_order() -> None:
    enc = hpack.Encoder()
    blocks = [enc.encode([*REQ[:3], (":path", f"/{i}"), ("cookie", "id=abc")]) for i in range(3)]
    client = PREFACE + b"".join(
        frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, b)
        for i, b in enumerate(blocks)
    )
    conn = parse_connection(client, b"")
    assert [conn.exchanges[s].request.header(":path") for s in (1, 3, 5)] == ["/0", "/1", "/2"]
    assert all(conn.exchanges[s].request.header("cookie") == "id=abc" for s in (1, 3, 5))


def test_push_promise_makes_a_pushed_exchange() -> None:
    enc_c, enc_s = hpack.Encoder(), hpack.Encoder()
    client = PREFACE + frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, enc_c.encode(REQ))
    promise = struct.pack("!I", 2) + enc_s.encode([*REQ[:3], (":path", "/style.css")])
    server = frame(FrameType.PUSH_PROMISE, END_HEADERS, 1, promise)
    server += frame(FrameType.HEADERS, END_HEADERS, 2, enc_s.encode(RESP))
    conn = parse_connection(client, server)
    assert conn.exchanges[2].pushed and conn.exchanges[2].request.header(":path") == "/style.css"
    assert conn.exchanges[2].response.header(":status") == "200"


def test_interrupted_header_block_is_an_error() -> None:
    enc = hpack.Encoder()
    block = enc.encode(REQ)
    client = PREFACE + frame(FrameType.HEADERS, 0, 1, block) + frame(FrameType.DATA, 0, 1, b"x")
    conn = parse_connection(client, b"")
    assert [e.name for _, _, e in conn.errors] == ["bad_continuation"]


def test_bad_padding_and_bad_hpack_are_errors() -> None:
    client = PREFACE + frame(FrameType.DATA, PADDED, 1, b"\x09ab")
    assert parse_connection(client, b"").errors[0][2].name == "bad_frame"
    client = PREFACE + frame(FrameType.HEADERS, END_HEADERS, 1, b"\xff\xff\xff\xff\xff")
    assert parse_connection(client, b"").errors[0][2].name == "bad_header_block"


def test_pull_frames_stops_at_an_incomplete_frame() -> None:
    data = frame(FrameType.PING, 0, 0, b"\x00" * 8) + frame(FrameType.DATA, 0, 1, b"abc")[:-1]
    frames, end = pull_frames(data)
    assert [f.type for f in frames] == [FrameType.PING] and end == 17


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.binary(max_size=600))
def test_hostile_bytes_never_raise(client: bytes, server: bytes) -> None:
    conn = parse_connection(PREFACE + client, server)
    assert len(conn.exchanges) <= 5000


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text("abcdefgh-", min_size=1, max_size=12), st.text(max_size=40)),
        max_size=12,
    )
)
def test_header_blocks_round_trip(fields: list[tuple[str, str]]) -> None:
    block = hpack.Encoder().encode([(":method", "GET"), (":path", "/"), *fields])
    conn = parse_connection(PREFACE + frame(FrameType.HEADERS, END_HEADERS, 1, block), b"")
    assert conn.exchanges[1].request.headers == [(":method", "GET"), (":path", "/"), *fields]


def test_cleartext_prior_knowledge_flow_is_read_by_the_http_dissector() -> None:
    from inspector.dissect.http import dissect
    from inspector.schema.http import HttpRow
    from tests.dissect.tls_factory import stream, tcp_view

    enc_c, enc_s = hpack.Encoder(), hpack.Encoder()
    client = PREFACE + frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, enc_c.encode(REQ))
    server = frame(FrameType.HEADERS, END_HEADERS | END_STREAM, 1, enc_s.encode(RESP))
    rows = [r for r in dissect(tcp_view(stream(client), stream(server))) if isinstance(r, HttpRow)]
    assert [(r.version, r.stream_id, r.method, r.uri, r.status, r.inside_tls) for r in rows] == [
        ("HTTP/2", 1, "POST", "/p?q=1", 200, False)
    ]
