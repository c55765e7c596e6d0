"""TLS records of a session begun before the capture (no handshake in the bytes)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.tls_records import MAX_RECORD, parse_records
from inspector.errors import ParseError
from tests.dissect.tls_factory import stream, tcp_view

#: first client segment of ndpi/pcap/signal.pcap TCP 57017 -> 443 (tshark -e tcp.payload):
#: a TLS 1.2 alert record (close_notify, encrypted), 18 bytes of body.
ALERT = bytes.fromhex("1503030012843a5504722b9ee5066cee0dfeb16407524f")


def record(ctype: int, body: bytes, version: int = 0x0303) -> bytes:
    return struct.pack("!BHH", ctype, version, len(body)) + body


def test_a_real_alert_record() -> None:
    run = parse_records(ALERT)
    assert (run.version, run.types, run.end, run.cut) == (0x0303, (21,), len(ALERT), False)


def test_application_data_both_kinds_and_a_cut_last_record() -> None:
    data = record(23, b"\x01" * 40) + record(23, b"\x02" * 300) + record(21, b"\x03" * 26)[:9]
    run = parse_records(data)
    assert run.types == (23, 23, 21) and run.cut and run.offsets == (0, 45, 350)


def test_walk_stops_at_a_header_that_is_not_a_record() -> None:
    data = record(23, b"\x01" * 40) + b"\x8f\x13\x4f\x19" * 4
    run = parse_records(data)
    assert run.types == (23,) and run.end == 45 and not run.cut


def test_readable_application_data_is_not_called_records() -> None:
    """A NULL cipher frames records but leaves them readable: never TLS protection."""
    body = b"GET /v1/events?device=iPhone12,1 HTTP/1.1\r\nHost: example.net\r\n\r\n"
    with pytest.raises(ParseError, match="readable"):
        parse_records(record(23, body))
    # the same length of ciphertext-like bytes is records; 15 readable bytes are not enough
    assert parse_records(record(23, bytes(range(128, 128 + len(body))))).types == (23,)
    assert parse_records(record(23, b"A" * 15)).types == (23,)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x17\x03\x03",
        bytes.fromhex("8f134f19aabbccdd"),  # a continuation, not a record header
        record(25, b"x" * 10),  # content type 25
        record(23, b"x" * 10, version=0x0305),
        record(23, b"x" * 10, version=0xFEFD),  # DTLS 1.2 is not TLS
        record(23, b"")[:5],  # a zero-length record
        record(23, b"x" * 40)[:20],  # the only record is cut
        struct.pack("!BHH", 23, 0x0303, MAX_RECORD + 1) + b"x" * 20,
    ],
)
def test_not_a_record_stream(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_records(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_records_or_parse_error(data: bytes) -> None:
    try:
        run = parse_records(data)
    except ParseError:
        return
    assert run.types and run.end <= len(data) and run.offsets[0] == 0


@given(st.lists(st.integers(1, 40), max_size=30))
def test_whole_and_segmented_streams_give_the_same_content_row(sizes: list[int]) -> None:
    from inspector.dissect.content import dissect

    orig = record(23, b"\x05" * 100) + record(23, b"\x06" * 33)
    resp = record(23, b"\x07" * 64) + record(21, b"\x08" * 26)
    rows = [dissect(tcp_view(stream(orig, s), stream(resp, s)))[0] for s in ((), tuple(sizes))]
    counts = [(r.classes, r.tls_record, r.tls_other, r.classified, r.unrecognised) for r in rows]
    assert counts[0] == counts[1]
    assert (rows[0].tls_record, rows[0].tls_other, rows[0].classified) == (3, 1, 4)


def test_a_flow_of_readable_records_gets_no_tls_record_class() -> None:
    from inspector.dissect.content import dissect

    orig = record(23, b"POST /log HTTP/1.1\r\nHost: t.example\r\n\r\n{}")
    resp = record(23, b"HTTP/1.1 204 No Content\r\n\r\n")
    rows = dissect(tcp_view(stream(orig, ()), stream(resp, ())))
    assert all(r.tls_record == 0 and r.tls_other == 0 for r in rows)
    # the same flow with opaque bodies is classified as TLS records
    opaque = dissect(
        tcp_view(stream(record(23, b"\x9c" * 40), ()), stream(record(23, b"\xa1" * 30), ()))
    )
    assert opaque[0].tls_record == 2
