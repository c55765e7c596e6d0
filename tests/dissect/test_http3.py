"""HTTP/3 frames and QPACK header blocks (with ``pylsqpack``'s encoder), stream reassembly in any
order, and hypothesis on hostile stream bytes."""

from __future__ import annotations

import pylsqpack
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.http3 import DATA, HEADERS, SETTINGS, parse_h3, pull_h3_frames
from inspector.dissect.quic_1rtt import StreamChunk


def varint(v: int) -> bytes:
    if v < 0x40:
        return bytes([v])
    if v < 0x4000:
        return (v | 0x4000).to_bytes(2, "big")
    return (v | 0x80000000).to_bytes(4, "big")


def h3frame(ftype: int, payload: bytes) -> bytes:
    return varint(ftype) + varint(len(payload)) + payload


def chunks(
    sid: int, data: bytes, pieces: int = 1, order: list[int] | None = None
) -> list[StreamChunk]:
    size = max(1, -(-len(data) // pieces))
    parts = [
        StreamChunk(sid, o, data[o : o + size], o + size >= len(data), 10 + o, 1.0 + o)
        for o in range(0, len(data), size)
    ]
    return [parts[i] for i in order] if order else parts


def settings_frame(capacity: int, blocked: int) -> bytes:
    return varint(0) + h3frame(SETTINGS, varint(1) + varint(capacity) + varint(7) + varint(blocked))


def test_request_and_response_with_dynamic_table() -> None:
    enc_c, enc_s = pylsqpack.Encoder(), pylsqpack.Encoder()
    enc_c.apply_settings(4096, 16)
    enc_s.apply_settings(4096, 16)
    req = [
        (b":method", b"POST"),
        (b":authority", b"a.example"),
        (b":path", b"/log?x=1"),
        (b"x-id", b"42"),
    ]
    c_enc, c_block = enc_c.encode(0, req)
    s_enc, s_block = enc_s.encode(0, [(b":status", b"204")])
    client = chunks(0, h3frame(HEADERS, c_block) + h3frame(DATA, b"hello"), 3, [2, 0, 1])
    client += chunks(2, settings_frame(4096, 16)) + chunks(6, varint(2) + c_enc)
    server = chunks(0, h3frame(HEADERS, s_block)) + chunks(3, settings_frame(4096, 16))
    server += chunks(7, varint(2) + s_enc)
    result = parse_h3(client, server)
    assert not result.errors
    (ex,) = result.exchanges
    assert ex.stream_id == 0
    assert (
        dict(ex.request.headers)[":path"] == "/log?x=1" and dict(ex.request.headers)["x-id"] == "42"
    )
    assert bytes(ex.request.body) == b"hello" and ex.request.body_len == 5
    assert dict(ex.response.headers)[":status"] == "204" and ex.response.body_len == 0


def test_block_needing_a_missing_encoder_stream_is_an_error() -> None:
    enc = pylsqpack.Encoder()
    enc.apply_settings(4096, 16)
    fields = [(b":method", b"GET"), (b"x-custom", b"v" * 30)]
    encoder_stream = b""
    for sid in (0, 4):
        ins, block = enc.encode(sid, fields)
        encoder_stream += ins
    assert encoder_stream  # the encoder used its dynamic table: the block refers to it
    result = parse_h3(chunks(0, h3frame(HEADERS, block)), chunks(3, settings_frame(4096, 16)))
    assert not result.exchanges and [e.name for _, e in result.errors] == ["bad_header_block"]


def test_pull_h3_frames_stops_at_an_incomplete_frame() -> None:
    data = h3frame(DATA, b"abc") + h3frame(HEADERS, b"xyz")[:-1]
    frames, end = pull_h3_frames(data)
    assert [(t, p) for t, p, _ in frames] == [(DATA, b"abc")] and end == 5


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300), st.integers(0, 12))
def test_hostile_streams_never_raise(a: bytes, b: bytes, sid: int) -> None:
    result = parse_h3(chunks(sid, a, 3), chunks(sid ^ 1, b, 2))
    assert len(result.exchanges) <= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 0x3FFF), st.binary(max_size=50)), max_size=10))
def test_frames_round_trip(items: list[tuple[int, bytes]]) -> None:
    data = b"".join(h3frame(t, p) for t, p in items)
    frames, end = pull_h3_frames(data)
    assert [(t, p) for t, p, _ in frames] == items and end == len(data)


def test_blocked_block_is_resumed_when_encoder_data_arrives_later() -> None:
    enc = pylsqpack.Encoder()
    enc.apply_settings(4096, 16)
    fields = [(b":method", b"GET"), (b":path", b"/late"), (b"x-custom", b"v" * 30)]
    ins1, _ = enc.encode(0, fields)
    ins2, block = enc.encode(4, fields)  # refers to entries the first encode inserted
    encoder = varint(2) + ins1 + ins2
    request = [StreamChunk(4, 0, h3frame(HEADERS, block), True, 10, 1.0)]
    late_encoder = [StreamChunk(2, 0, encoder, False, 20, 2.0)]
    result = parse_h3(request + late_encoder, chunks(3, settings_frame(4096, 16)))
    assert not result.errors
    assert dict(result.exchanges[0].request.headers)[":path"] == "/late"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.text("abcdefgh-", min_size=1, max_size=12), st.text(max_size=40)),
        max_size=10,
    ),
    st.integers(1, 4),
)
def test_qpack_header_blocks_round_trip(fields: list[tuple[str, str]], requests: int) -> None:
    enc = pylsqpack.Encoder()
    enc.apply_settings(4096, 16)
    encoded = [(b":method", b"GET"), (b":path", b"/")] + [
        (k.encode(), v.encode()) for k, v in fields
    ]
    client: list[StreamChunk] = []
    encoder_stream = varint(2)
    for i in range(requests):
        ins, block = enc.encode(4 * i, encoded)
        encoder_stream += ins
        client += chunks(4 * i, h3frame(HEADERS, block))
    client += chunks(2, encoder_stream)
    result = parse_h3(client, chunks(3, settings_frame(4096, 16)))
    assert not result.errors
    expected = [(":method", "GET"), (":path", "/"), *fields]
    assert [ex.request.headers for ex in result.exchanges] == [expected] * requests
