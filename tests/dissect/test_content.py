"""Per-flow content classes (the ``content`` table) and the metadata-leak scan."""

from __future__ import annotations

import math
import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect import content
from inspector.dissect.content import dissect, find_leaks, longest_run, quic_version_ok
from inspector.flows.view import Datagram, FlowView
from inspector.schema.content import CONTENT_CLASSES, ContentRow
from tests.conftest import real_dir
from tests.dissect.test_codecs import alaw

RNG = random.Random(1111)
COOKIE = b"\x21\x12\xa4\x42"


def view(
    datagrams: list[tuple[bool, bytes]], packets: int = 0, ports: tuple[int, int] = (50000, 3478)
) -> FlowView:
    return FlowView(
        "CCONT1", "udp", "192.168.1.10", ports[0], "203.0.113.5", ports[1], 100.0,
        tuple(Datagram(i + 1, 100.0 + i / 50, o, p) for i, (o, p) in enumerate(datagrams)),
        packets=packets or len(datagrams),
    )  # fmt: skip


def row_of(v: FlowView) -> ContentRow:
    (row,) = dissect(v)
    assert isinstance(row, ContentRow)
    return row


def stun(msg_type: int = 0x0001, attrs: bytes = b"") -> bytes:
    return struct.pack("!HH", msg_type, len(attrs)) + COOKIE + RNG.randbytes(12) + attrs


def rtp(seq: int, payload: bytes, pt: int = 111, ssrc: int = 0x1234, ts_step: int = 960) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq, seq * ts_step, ssrc) + payload


def srtcp(index: int, e: bool = True) -> bytes:
    """RTCP RR header + encrypted body, E|index and a 10-byte tag (RFC 3711 3.4)."""
    body = bytes([0x81, 201]) + struct.pack("!HI", 7, 0x1234) + RNG.randbytes(24)
    return body + struct.pack("!I", (0x80000000 if e else 0) | index) + RNG.randbytes(10)


def dtls_client_hello() -> bytes:
    return b"\x16\xfe\xff" + bytes(8) + struct.pack("!H", 40) + RNG.randbytes(40)


def test_stun_then_dtls_srtp_is_media() -> None:
    dgs = [(True, stun()), (False, stun(0x0101)), (True, dtls_client_hello())]
    dgs += [(True, rtp(100 + i, RNG.randbytes(120))) for i in range(20)]
    dgs += [(True, srtcp(1 + i)) for i in range(3)]
    row = row_of(view(dgs))
    assert row.classes == "stun;dtls;srtp;srtcp"
    assert (row.stun, row.dtls, row.srtp, row.srtcp, row.srtcp_e1, row.srtcp_e0) == (
        2,
        1,
        20,
        3,
        3,
        0,
    )
    assert row.first_frames == "stun:1;dtls:3;srtp:4;srtcp:24"
    assert row.classified == 26 and not row.truncated and row.unrecognised == 0


def test_stun_then_random_datagrams_stay_unrecognised() -> None:
    # an E2E P2P call: random datagrams after STUN (no RTP stream, no DTLS) are not "rtp"
    dgs = [(True, stun()), (False, stun(0x0101))]
    dgs += [(i % 2 == 0, RNG.randbytes(200 + i)) for i in range(60)]
    row = row_of(view(dgs))
    assert row.stun == 2 and row.rtp == row.srtp == row.rtp_undecided == 0
    assert row.unrecognised >= 55 and row.classes.startswith("stun;")


def test_plain_g711_rtp_and_readable_rtcp() -> None:
    speech = [bytes(alaw(int(900 * math.sin(k / 5 + n))) for k in range(160)) for n in range(12)]
    dgs = [(True, rtp(7 + i, p, pt=8, ts_step=160)) for i, p in enumerate(speech)]
    rr = bytes([0x81, 201]) + struct.pack("!HI", 7, 0x1234) + bytes(24)
    sdes = bytes([0x81, 202]) + struct.pack("!HI", 2, 0x1234) + b"\x01\x02ab"
    dgs += [(True, rr + sdes)] * 2
    row = row_of(view(dgs))
    assert (row.rtp, row.rtcp, row.srtcp) == (12, 2, 0) and row.classes == "rtp;rtcp"


def test_srtcp_with_e_flag_clear_is_counted() -> None:
    dgs = [(True, rtp(1 + i, RNG.randbytes(100))) for i in range(12)]
    dgs += [(True, srtcp(40 + i, e=False)) for i in range(4)]
    row = row_of(view(dgs))
    assert row.srtcp == 4 and row.srtcp_e0 == 4 and row.srtcp_e1 == 0


def test_relayed_media_counts_framing_and_inner_class() -> None:
    inner = [rtp(1 + i, RNG.randbytes(100)) for i in range(12)]
    chan = [(True, struct.pack("!HH", 0x4001, len(p)) + p) for p in [dtls_client_hello(), *inner]]
    row = row_of(view(chan))
    assert row.turn_channel == 13 and row.dtls == 1 and row.srtp == 12 and row.classified == 13
    attr = struct.pack("!HH", 0x0013, len(inner[0])) + inner[0]
    send = stun(0x0016, attr + b"\x00" * (-len(attr) % 4))
    row = row_of(view([(True, send)]))
    assert row.turn_send_data == 1 and row.stun == 0 and row.rtp_undecided == 0


def zoom_probe() -> bytes:
    """A 2019-layout Zoom bandwidth probe: 05, inner type 0x15, a counter, 0x01 filler."""
    return b"\x05\x15\x00\x00\x00\x00\x00\x00" + RNG.randbytes(20) + b"\x01" * 1001


def zoom_p2p_hello(ip: bytes, uuid: bytes) -> bytes:
    """nDPI zoom.c P2P hello: 1f 02 01, 24-byte head, len+IP text, len+UUID text, 4 zeros."""
    head = b"\x1f\x02\x01" + bytes(21)
    return head + struct.pack("!I", len(ip)) + ip + struct.pack("!I", len(uuid)) + uuid + bytes(4)


def test_probes_keepalives_and_zoom_hello_with_leaks() -> None:
    uuid = b"AF065D88-AA9B-4A81-80A4-B85CD341B921"
    hello = zoom_p2p_hello(b"192.168.1.226", uuid)
    ka = RNG.randbytes(24)
    dgs = [(True, hello)] * 5 + [(True, zoom_probe()) for _ in range(3)] + [(False, ka)] * 4
    row = row_of(view(dgs, packets=40))
    assert (row.zoom_control, row.probe, row.keepalive) == (5, 3, 4)
    assert row.probe_evidence.startswith("run of 1001 x 0x01 in 1029 bytes")
    assert row.leak_kinds == "ipv4;uuid" and row.leak_first_frame == 1 and row.leak_packets == 5
    assert row.leak_examples == f"ipv4=192.168.1.226;uuid={uuid.decode()}"
    assert row.truncated and row.flow_packets == 40 and row.classified == 12


def test_find_leaks_kinds() -> None:
    data = b'{"user":"alice42","mail":"a@example.org","v6":"2001:db8::1"}'
    kinds = dict(find_leaks(data))
    assert kinds == {"ipv6": "2001:db8::1", "email": "a@example.org", "username": "alice42"}
    packed = bytes([203, 0, 113, 5])
    assert find_leaks(b"\x99" + packed + b"\x00", [packed]) == [("ip_binary", "203.0.113.5")]
    assert find_leaks(b"version 1.2.3 build 10.0") == []  # not four octets
    assert find_leaks(RNG.randbytes(200)) == []


def test_text_dns_dhcp_and_signalling_classes() -> None:
    ssdp = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n"
    assert row_of(view([(True, ssdp)], ports=(50000, 1900))).text == 1
    query = (
        struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    )
    assert row_of(view([(True, query)], ports=(50000, 53))).dns == 1
    dhcp = bytes(236) + b"\x63\x82\x53\x63" + b"\x35\x01\x01\xff" + bytes(60)
    assert row_of(view([(True, dhcp)], ports=(68, 67))).dhcp == 1
    sip = b"OPTIONS sip:carol@chicago.com SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    row = row_of(view([(True, sip)], ports=(5060, 5060)))
    assert row.signalling == 1 and row.leak_kinds == ""  # explained: not scanned for leaks


def test_quic_versions_and_helpers() -> None:
    assert quic_version_ok(b"\xc3\x00\x00\x00\x01" + bytes(10))
    assert quic_version_ok(b"\xc3\x1a\x2a\x3a\x4a" + bytes(10))  # GREASE (RFC 9000 15)
    assert not quic_version_ok(b"\xc3\x12\x34\x56\x78" + bytes(10))
    assert longest_run(b"ab" + b"\x01" * 5 + b"c") == (5, 1) and longest_run(b"") == (0, 0)


def test_real_zoom_p2p_hellos_leak_the_peer_address() -> None:
    from inspector.pipeline import flow_views

    rows = [
        r
        for v in flow_views(str(real_dir() / "ndpi/pcap/zoom_p2p.pcapng"))
        for r in dissect(v)
        if isinstance(r, ContentRow) and r.zoom_control == 130
    ]
    # tshark: udp.length == 100 (92-byte payload), 130 identical datagrams to 10.78.14.178
    (row,) = rows
    assert row.classes == "zoom_control" and row.leak_kinds == "ipv4;uuid"
    assert "ipv4=10.78.14.178" in row.leak_examples


def test_real_stun_then_media_flows() -> None:
    from inspector.pipeline import flow_views

    rows = {
        v.proto: r
        for v in flow_views(str(real_dir() / "ndpi/pcap/stun_dtls_rtp.pcapng"))
        for r in dissect(v)
        if isinstance(r, ContentRow) and r.dtls
    }
    assert rows["udp"].classes.startswith("stun;dtls;") and rows["udp"].srtp > 0
    assert rows["tcp"].turn_send_data > 0 and rows["tcp"].dtls > 0  # DTLS relayed over TCP


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=80)), max_size=30))
def test_any_datagrams_get_exactly_one_outer_class(dgs: list[tuple[bool, bytes]]) -> None:
    rows = dissect(view(dgs))
    if not dgs:
        assert rows == []
        return
    (row,) = rows
    assert isinstance(row, ContentRow) and row.classified == len(dgs)
    total = sum(getattr(row, c) for c in CONTENT_CLASSES)
    relayed = row.turn_channel + row.turn_send_data + row.ms_turn
    assert total == len(dgs) + relayed
    assert content.units is not None


def test_group_and_loopback_addresses_are_not_leaks() -> None:
    assert find_leaks(b"HOST: 239.255.255.250:1900 ff02::c 127.0.0.1 0.0.0.0") == []
    assert find_leaks(b"peer=10.78.14.178") == [("ipv4", "10.78.14.178")]


def _tshark_frames(path: str, display_filter: str) -> int:
    import shutil
    import subprocess

    import pytest

    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    args = ["tshark", "-r", path, "-Y", display_filter, "-T", "fields", "-e", "frame.number"]
    return len(subprocess.run(args, capture_output=True, text=True, check=True).stdout.split())


def test_real_counts_agree_with_tshark() -> None:
    from inspector.pipeline import flow_views

    path = str(real_dir() / "ndpi/pcap/stun_dtls_rtp.pcapng")
    views = {v.proto: v for v in flow_views(path) if v.resp_p in (3478, 19305)}
    udp = row_of(views["udp"])
    assert udp.stun == _tshark_frames(path, "stun and udp") == 4
    assert udp.dtls == _tshark_frames(path, "dtls and udp") == 23
    # TURN over TCP: every STUN message tshark decodes is one outer unit here (8 plain STUN,
    # 31 Send/Data indications); their relayed payloads are classified as well
    outer = [f for u, f in content.units(views["tcp"]) if not u.relayed]
    assert len(outer) == _tshark_frames(path, "stun and tcp") == 39
    tcp = row_of(views["tcp"])
    assert tcp.turn_send_data == 31 and tcp.stun == 16 and tcp.dtls == 11


def test_turn_over_tcp_whole_and_byte_by_byte() -> None:
    from tests.dissect.tls_factory import stream, tcp_view

    allocate = stun(0x0003)
    inner = [rtp(1 + i, RNG.randbytes(90)) for i in range(12)]
    data = allocate + b"".join(
        struct.pack("!HH", 0x4001, len(p)) + p + b"\x00" * (-len(p) % 4) for p in inner
    )
    rows = []
    for sizes in ((), (1,) * len(data)):
        (row,) = dissect(tcp_view(stream(data, sizes)))
        assert isinstance(row, ContentRow)
        rows.append((row.classes, row.stun, row.turn_channel, row.srtp, row.classified))
    assert rows[0] == rows[1] == ("stun;turn_channel;rtp_undecided", 1, 12, 0, 13)


def test_random_rtp_payloads_without_srtp_evidence_stay_undecided() -> None:
    # a compressed codec without a structure test also looks random: SRTP needs DTLS or SRTCP
    dgs = [(True, rtp(1 + i, RNG.randbytes(100))) for i in range(12)]
    row = row_of(view(dgs))
    assert row.rtp_undecided == 12 and row.srtp == 0
    row = row_of(view([(True, dtls_client_hello()), *dgs]))
    assert row.srtp == 12


def test_version_strings_and_lookalike_sfu_headers() -> None:
    # ndpi/pcap/viber.pcap: "Android,8.9.0.2" is the app version, and its session id 05 b8
    # makes datagrams start 05 .. with 00 at offset 7: not Zoom without a known inner type.
    assert find_leaks(b"\x10\x00Android,8.9.0.2\x00") == []
    assert find_leaks(b"client/10.1.2.3 v1.2.3.4") == []
    viber = [
        bytes.fromhex("05b81100010000002e083804000007ae2754"),
        bytes.fromhex("05b80e000000000007ae2754"),
    ]
    row = row_of(view([(True, viber[i % 2]) for i in range(6)]))
    assert row.zoom_control == 0


#: ndpi/pcap/zoom.pcap UDP 61731 -> 8801 (tshark -e udp.payload): hello, the server's answer,
#: a 03/04 echo pair, a 2019-layout 05 0d session message and a 05 0a keepalive.
ZOOM_SESSION = [
    (True, bytes.fromhex("0100023a44b14f6ac14b2d02239109ee0852a10000000000000002007a0562007a0562")),
    (
        False,
        bytes.fromhex("0200013a44b14f6ac14b2d02239109ee0852a1005a0e44007a05620000000000000000"),
    ),
    (False, bytes.fromhex("0300000001762a92a6005a0e44")),
    (True, bytes.fromhex("0400000001762a92a6005a0e44")),
    (True, bytes.fromhex("050d0000000c01218e9c3928c44b2fa9027072822e56f6010004030200000000")),
    (True, bytes.fromhex("050a06000000000000000000000000")),
]


def test_zoom_session_datagrams_after_a_hello_are_control() -> None:
    row = row_of(view(ZOOM_SESSION, ports=(61731, 8801)))
    assert (row.zoom_control, row.unrecognised) == (6, 0)


def test_zoom_echo_bytes_alone_are_not_zoom() -> None:
    # 04 00 00 00 also opens every WireGuard data packet: never Zoom without a Zoom hello
    wg = [(i % 2 == 0, b"\x04\x00\x00\x00" + RNG.randbytes(60)) for i in range(8)]
    row = row_of(view(wg, ports=(51820, 51820)))
    assert row.zoom_control == 0 and row.unrecognised == 8


def test_documented_hellos_and_service_messages() -> None:
    spotify = bytes.fromhex("53706f7455647030") + RNG.randbytes(36)
    assert row_of(view([(True, spotify)], ports=(57621, 57621))).hello == 1
    ping = [(True, bytes(4) + b"IDENT123"), (False, b"\x00\x01\x03\x04IDENT123" + bytes(12))]
    row = row_of(view(ping, ports=(50085, 64738)))
    assert (row.hello, row.unrecognised) == (2, 0)
    ntp = bytes([0x23]) + bytes(47)
    assert row_of(view([(True, ntp)], ports=(37578, 123))).ntp == 1
