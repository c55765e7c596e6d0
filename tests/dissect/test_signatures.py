"""Application signatures: exact formats only; anything else matches nothing."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.signatures import discord_ip_discovery, discord_ping, dissect
from inspector.flows.view import Datagram, FlowView
from tests.dissect.tls_factory import stream, tcp_view


def discovery(kind: int = 1, address: bytes = b"") -> bytes:
    return struct.pack("!HHI", kind, 70, 44259) + address.ljust(64, b"\x00") + b"\x00\x00"


def view(*payloads: bytes) -> FlowView:
    return FlowView(
        "C1",
        "udp",
        "192.168.2.100",
        50000,
        "66.22.196.173",
        50004,
        1.0,
        tuple(Datagram(i + 1, 1.0 + i, i % 2 == 0, p) for i, p in enumerate(payloads)),
    )


def test_discord_ip_discovery_request_and_response() -> None:
    assert discord_ip_discovery(discovery(1))
    assert discord_ip_discovery(discovery(2, b"203.0.113.5"))
    assert not discord_ip_discovery(discovery(2, b"\x01\x02"))
    assert not discord_ip_discovery(discovery(3))
    assert not discord_ip_discovery(discovery(1)[:-1])


def test_discord_ping() -> None:
    assert discord_ping(bytes.fromhex("1337cafe0e000000"))
    assert not discord_ping(bytes.fromhex("1337cafe0e0000"))


def test_dissect_counts_matching_datagrams() -> None:
    rows = dissect(view(discovery(1), discovery(2, b"198.51.100.1"), b"\x80" * 40))
    assert len(rows) == 1
    assert (rows[0].app, rows[0].signature, rows[0].packets, rows[0].frame) == (
        "Discord",
        "discord_ip_discovery",
        2,
        1,
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=100), max_size=8))
def test_random_datagrams_never_raise(payloads: list[bytes]) -> None:
    for row in dissect(view(*payloads)):
        assert row.app == "Discord"


def test_zoom_sfu_framing_needs_port_and_structure() -> None:
    grams = [
        bytes([3]) + bytes(80),
        bytes([4]) + bytes(80),
        bytes.fromhex("050f3100272ec904") + bytes(80),
        bytes([3]) + bytes(80),
    ]
    on_port = FlowView(
        "C1",
        "udp",
        "10.0.0.1",
        45634,
        "193.122.35.237",
        8801,
        1.0,
        tuple(Datagram(i + 1, 1.0, True, g) for i, g in enumerate(grams)),
    )
    rows = dissect(on_port)
    assert [(r.app, r.signature, r.packets) for r in rows] == [("Zoom", "zoom_sfu_framing", 4)]
    off_port = FlowView(
        "C1", "udp", "10.0.0.1", 45634, "193.122.35.237", 9000, 1.0, on_port.datagrams
    )
    assert dissect(off_port) == []
    assert dissect(view(*grams[:3])) == []  # port 50004, and only three datagrams


def test_whatsapp_prologue_on_tcp_names_the_app() -> None:
    # ndpi/pcap/whatsapp.pcap TCP 49026 -> 5222: ED routing header, then WA 5.2 (Noise)
    data = bytes.fromhex("454400010000040809080557410502") + bytes(40)
    (row,) = dissect(tcp_view(stream(data, (4, 7, 4))))
    assert (row.app, row.signature, row.frame) == ("WhatsApp", "whatsapp_prologue", 1)
    assert "5.2" in row.detail
    assert dissect(tcp_view(stream(b"\x16\x03\x01\x00\x05hello"))) == []
