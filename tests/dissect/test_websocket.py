"""WebSocket frames without the Upgrade (RFC 6455 section 5.2) and their content units."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.content import dissect
from inspector.dissect.websocket import parse_frame, parse_frames, readable_text
from inspector.errors import ParseError
from tests.dissect.tls_factory import stream, tcp_view

# ndpi/pcap/websocket.pcap (tshark -T fields -e tcp.payload): the server's unmasked text frame
# 'Welcome, 192.168.43.1 !' and the client's masked answer (frames 1 and 2).
SERVER = bytes.fromhex("811757656c636f6d652c203139322e3136382e34332e312021")
CLIENT = bytes.fromhex("818ce17e8eb9951bfdcdc113ebca921fe9dc")


def frame(payload: bytes, opcode: int = 1, key: bytes = b"", fin: bool = True) -> bytes:
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    mask = 0x80 if key else 0
    if n < 126:
        head = struct.pack("!BB", b0, mask | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", b0, mask | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mask | 127, n)
    body = bytes(c ^ key[i % 4] for i, c in enumerate(payload)) if key else payload
    return head + key + body


def test_real_frames_unmask_to_text() -> None:
    server, client = parse_frame(SERVER), parse_frame(CLIENT)
    assert server.payload == b"Welcome, 192.168.43.1 !" and not server.masked
    assert client.masked and client.payload == b"test message"
    assert readable_text(server) and readable_text(client)


def test_lengths_control_frames_and_runs() -> None:
    long = frame(b"x" * 300, opcode=2, key=b"abcd")
    run = parse_frames(frame(b"hi", key=b"wxyz") + long + frame(b"", opcode=9, key=b"abcd"))
    assert [f.opcode for f in run.frames] == [1, 2, 9] and not run.cut
    assert run.frames[1].payload == b"x" * 300 and run.frames[1].masked
    assert len(parse_frames(frame(b"hi") + long).frames) == 1  # masking must not change
    cut = parse_frames(frame(b"hello") + frame(b"y" * 200)[:50])
    assert cut.cut and len(cut.frames) == 2


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x81",
        b"\x83\x00",  # opcode 3 is reserved
        b"\xa1\x00",  # RSV2 set
        b"\x89\x7e\x00\x80" + b"x" * 128,  # a control frame over 125 bytes
        b"\x09\x00",  # a fragmented control frame
        b"\x81\x7e\x00\x05hello",  # 16-bit length for 5 bytes: not minimal
    ],
)
def test_not_frames(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_frames(data)


def test_binary_and_compressed_text_are_not_readable() -> None:
    assert not readable_text(parse_frame(frame(b"\xff\xfe", opcode=1)))  # not UTF-8
    assert not readable_text(parse_frame(frame(b"abc", opcode=2)))
    assert not readable_text(parse_frame(b"\xc1\x03abc"))  # RSV1: permessage-deflate


def test_content_units_need_a_masked_and_an_unmasked_side() -> None:
    (row,) = dissect(tcp_view(stream(SERVER + frame(b"more text")), stream(CLIENT)))
    assert (row.websocket_text, row.websocket, row.classified) == (3, 0, 3)
    assert dissect(tcp_view(stream(SERVER), stream(SERVER))) == []  # nobody masks
    assert dissect(tcp_view(stream(SERVER + b"\x03junk"), stream(CLIENT))) == []


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_frames_or_parse_error(data: bytes) -> None:
    try:
        run = parse_frames(data)
    except ParseError:
        return
    assert run.frames and run.end <= len(data)
    assert len({f.masked for f in run.frames}) == 1


@given(st.lists(st.integers(1, 9), max_size=12))
def test_whole_and_segmented_streams_classify_the_same(sizes: list[int]) -> None:
    rows = [dissect(tcp_view(stream(SERVER, s), stream(CLIENT, s)))[0] for s in ((), tuple(sizes))]
    assert [(r.websocket_text, r.classified) for r in rows] == [(2, 2), (2, 2)]
