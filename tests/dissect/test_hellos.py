"""Documented cleartext hellos and service messages (inspector.dissect.hellos)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.hellos import mumble_pings, parse_hello, parse_service
from inspector.errors import ParseError

# real payloads (tshark -T fields -e udp.payload):
#: ndpi/pcap/zoom.pcap UDP 57621 broadcast
SPOTIFY = bytes.fromhex("53706f74556470300915339692d33a94000100044895c2030e2dd04798192d982d4a466d")
#: ndpi/pcap/teamspeak3.pcap UDP 53187 -> 9987
TS3 = bytes.fromhex("545333494e49543100650000880dd05766005f5916e0ade76b610000000000000000")
#: ndpi/pcap/mumble.pcapng UDP 50085 <-> 64738: request and reply
MUMBLE_REQ = bytes.fromhex("0000000003d72000fa76287e")
MUMBLE_REP = bytes.fromhex("0001030403d72000fa76287e000000000000006400011940")
#: ndpi/pcap/wechat.pcap UDP 37578 -> 123: an NTPv4 client request
NTP = bytes.fromhex("23") + bytes(39) + bytes.fromhex("dc9b38211680186c")
#: ndpi/pcap/wechat.pcap UDP 138 broadcast: a NetBIOS direct group datagram
NBDGM = bytes.fromhex(
    "110efefdc0a80164008a00c60000"
    "204548454a455046474542454f454f454a434e4641454443414341434143414141"
    "00204142414346504650454e46"
)


def test_real_hellos() -> None:
    assert parse_hello(SPOTIFY, (57621, 57621)) == "spotify_discovery"
    assert parse_hello(TS3, (53187, 9987)) == "teamspeak3_init"


def test_real_service_messages() -> None:
    assert parse_service(NTP, (37578, 123)) == "ntp"
    assert parse_service(NBDGM, (138, 138)) == "netbios"


def test_mumble_ping_needs_its_reply() -> None:
    assert mumble_pings([(True, MUMBLE_REQ), (False, MUMBLE_REP)]) == {0, 1}
    assert mumble_pings([(True, MUMBLE_REQ)]) == set()
    assert mumble_pings([(True, MUMBLE_REQ), (True, MUMBLE_REP)]) == set()  # same direction


@pytest.mark.parametrize(
    ("payload", "ports"),
    [
        (SPOTIFY, (50000, 443)),  # SpotUdp0 off Spotify's port
        (TS3[:12], (53187, 9987)),
        (TS3[:12] + b"\x02", (53187, 9987)),  # another packet type
        (b"hello world, this is text", (1, 2)),
    ],
)
def test_not_hellos(payload: bytes, ports: tuple[int, int]) -> None:
    with pytest.raises(ParseError):
        parse_hello(payload, ports)


@pytest.mark.parametrize(
    ("payload", "ports"),
    [
        (NTP, (5000, 5001)),  # no NTP port
        (NTP[:47], (37578, 123)),
        (bytes([0x07]) + NTP[1:], (37578, 123)),  # version 0
        (bytes([0x26]) + NTP[1:], (37578, 123)),  # mode 6 (control) is not a time message
        (NBDGM[:40], (138, 138)),
        (bytes([0x20]) + NBDGM[1:], (138, 138)),
        (NBDGM[:15] + b"Z" + NBDGM[16:], (138, 138)),  # not a first-level encoded name
    ],
)
def test_not_service_messages(payload: bytes, ports: tuple[int, int]) -> None:
    with pytest.raises(ParseError):
        parse_service(payload, ports)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120), st.sampled_from([(1, 123), (138, 138), (57621, 5), (9, 9987)]))
def test_random_bytes_give_a_name_or_parse_error(data: bytes, ports: tuple[int, int]) -> None:
    for parse in (parse_hello, parse_service):
        with contextlib.suppress(ParseError):
            assert parse(data, ports)


@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=30)), max_size=10))
def test_mumble_pairs_come_in_pairs(grams: list[tuple[bool, bytes]]) -> None:
    found = mumble_pings(grams)
    assert found <= set(range(len(grams)))
    assert not found or any(len(grams[i][1]) == 12 for i in found)
