"""WhatsApp's chat-connection prologue: exact layouts only; anything else raises ParseError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.whatsapp import parse_prologue
from inspector.errors import ParseError

#: first client bytes of ndpi/pcap/whatsapp.pcap (TCP 49026 -> 5222, three segments:
#: tshark -e tcp.payload: 45440001 / 00000408090805 / 57410502 ...)
ROUTED = bytes.fromhex("454400010000040809080557410502") + bytes.fromhex("000123")
#: first client segment of ndpi/pcap/whatsapp_voice_and_message.pcap (TCP 44819 -> 5222)
FUNXMPP = bytes.fromhex("57410105000017f80501a59189fc0f416e64726f69642d322e31322e3834")


def test_noise_prologue_after_an_edge_routing_header() -> None:
    p = parse_prologue(ROUTED)
    assert (p.version, p.routed, p.length) == ("5.2", True, 15)


def test_funxmpp_prologue_of_older_clients() -> None:
    p = parse_prologue(FUNXMPP)
    assert (p.version, p.routed, p.length) == ("1.5", False, 4)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"WA",
        b"GET / HTTP/1.1\r\n",
        bytes.fromhex("57410005"),  # major 0
        bytes.fromhex("57410702"),  # major 7
        bytes.fromhex("5741050a"),  # minor 10
        bytes.fromhex("45440001"),  # routing header cut before its length
        bytes.fromhex("454400010000ff") + bytes(255) + b"WA\x05\x02",  # routing too long
        bytes.fromhex("16030100"),  # a TLS ClientHello record
    ],
)
def test_other_streams_are_not_whatsapp(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_prologue(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_give_a_prologue_or_parse_error(data: bytes) -> None:
    try:
        p = parse_prologue(data)
    except ParseError:
        return
    assert data[p.length - 4 : p.length - 2] == b"WA" and 1 <= p.major <= 6


@given(st.binary(max_size=40))
def test_trailing_bytes_never_change_the_result(tail: bytes) -> None:
    assert parse_prologue(ROUTED + tail) == parse_prologue(ROUTED)
