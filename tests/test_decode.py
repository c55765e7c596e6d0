"""Decoder: every link type, VLAN/QinQ, IPv4/IPv6 fragments, IPv6 extension headers, tunnels,
snaplen-truncated headers, malformed packets (by name) and a fuzz property for every link type."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import (
    ARP,
    GRE,
    ICMP,
    IP,
    TCP,
    UDP,
    VXLAN,
    CookedLinux,
    Dot1AD,
    Dot1Q,
    Ether,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    Loopback,
    fragment,
    fragment6,
)
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer

from inspector.decode import ICMP as ICMP4
from inspector.decode import ICMP6, Decoder, Malformed
from inspector.decode import TCP as TCP_P
from inspector.decode import UDP as UDP_P

A4, B4 = "192.0.2.1", "198.51.100.7"
A6, B6 = "2001:db8::1", "2001:db8::2"
PAYLOAD = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
SEGMENT = IP(src=A4, dst=B4) / TCP(sport=40000, dport=80, flags="PA", seq=1000) / PAYLOAD
DGRAM = IP(src=A4, dst=B4) / UDP(sport=5353, dport=53) / b"dns-ish"


def Eth(**fields: object) -> Ether:
    """Ethernet with fixed MACs (scapy would otherwise look the destination up)."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", **fields)


def ip4(s: str) -> bytes:
    return bytes(int(x) for x in s.split("."))


def payload(d: tuple) -> bytes:  # type: ignore[type-arg]
    return d[7][d[8] : d[9]]


def check_tcp(d: object, src: str = A4, dst: str = B4) -> None:
    assert isinstance(d, tuple)
    proto, s, t, sport, dport, flags, seq = d[:7]
    assert (proto, sport, dport, flags, seq) == (TCP_P, 40000, 80, 0x18, 1000)
    assert (s, t) == ((ip4(src), ip4(dst)) if "." in src else (s, t))
    assert payload(d) == PAYLOAD


# ------------------------------------------------------------------ link types


def test_ethernet_ipv4_tcp() -> None:
    d = Decoder().decode(1, bytes(Eth() / SEGMENT), 1.0)
    check_tcp(d)
    assert d[10] == len(SEGMENT)  # type: ignore[index]
    assert d[11] == ""  # type: ignore[index]


def test_ethernet_padding_is_not_payload() -> None:
    frame = bytes(Eth() / IP(src=A4, dst=B4) / UDP(sport=1, dport=2) / b"ab") + b"\x00" * 20
    d = Decoder().decode(1, frame, 1.0)
    assert isinstance(d, tuple) and payload(d) == b"ab"


def test_vlan_and_qinq() -> None:
    dec = Decoder()
    check_tcp(dec.decode(1, bytes(Eth() / Dot1Q(vlan=10) / SEGMENT), 1.0))
    check_tcp(dec.decode(1, bytes(Eth() / Dot1AD(vlan=5) / Dot1Q(vlan=10) / SEGMENT), 1.0))
    triple = Eth(type=0x9100) / Dot1Q(vlan=1) / Dot1Q(vlan=2) / SEGMENT
    check_tcp(dec.decode(1, bytes(triple), 1.0))


@pytest.mark.parametrize("linktype", [101, 12, 14, 228, 229])
def test_raw_ip_link_types(linktype: int) -> None:
    dec = Decoder()
    check_tcp(dec.decode(linktype, bytes(SEGMENT), 1.0))
    v6 = IPv6(src=A6, dst=B6) / UDP(sport=1, dport=2) / b"x"
    d = dec.decode(linktype, bytes(v6), 1.0)
    assert isinstance(d, tuple) and d[0] == UDP_P and len(d[1]) == 16


def test_linux_cooked_sll() -> None:
    check_tcp(Decoder().decode(113, bytes(CookedLinux(proto=0x0800) / SEGMENT), 1.0))


def test_linux_cooked_sll2() -> None:
    head = struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 4, 6, bytes(8))
    check_tcp(Decoder().decode(276, head + bytes(SEGMENT), 1.0))


@pytest.mark.parametrize("family", [2, 10, 24, 28, 30])
def test_bsd_null_loopback_both_byte_orders(family: int) -> None:
    pkt = bytes(SEGMENT) if family == 2 else bytes(IPv6(src=A6, dst=B6) / SEGMENT[TCP])
    dec = Decoder()
    for head in (struct.pack("<I", family), struct.pack(">I", family)):
        d = dec.decode(0, head + pkt, 1.0)
        assert isinstance(d, tuple) and d[0] == TCP_P and payload(d) == PAYLOAD
    d = dec.decode(108, struct.pack(">I", family) + pkt, 1.0)  # OpenBSD loop: network order
    assert isinstance(d, tuple) and d[0] == TCP_P
    assert Decoder().decode(0, bytes(Loopback(type=2) / SEGMENT), 1.0)[0] == TCP_P  # type: ignore[index]


def test_null_unknown_family_is_skipped() -> None:
    assert Decoder().decode(0, struct.pack("<I", 7) + bytes(20), 1.0) == "null_family_7"


def test_ppp_and_cisco_hdlc_and_pppoe() -> None:
    dec = Decoder()
    check_tcp(dec.decode(9, b"\x00\x21" + bytes(SEGMENT), 1.0))
    check_tcp(dec.decode(50, b"\xff\x03\x00\x21" + bytes(SEGMENT), 1.0))
    check_tcp(dec.decode(104, b"\x0f\x00\x08\x00" + bytes(SEGMENT), 1.0))
    pppoe = Eth(type=0x8864) / (b"\x11\x00\x00\x01" + struct.pack("!H", len(SEGMENT) + 2))
    check_tcp(dec.decode(1, bytes(pppoe) + b"\x00\x21" + bytes(SEGMENT), 1.0))


def test_mpls_label_stack() -> None:
    labels = struct.pack("!I", (100 << 12) | 64) + struct.pack("!I", (200 << 12) | 0x100 | 64)
    frame = bytes(Eth(type=0x8847)) + labels + bytes(SEGMENT)
    check_tcp(Decoder().decode(1, frame, 1.0))


def test_skip_reasons() -> None:
    dec = Decoder()
    assert dec.decode(1, bytes(Eth() / ARP()), 1.0) == "arp"
    assert dec.decode(1, bytes(Eth(type=0x88CC) / (b"\x00" * 30)), 1.0) == "lldp"
    assert dec.decode(1, bytes(Eth(type=0x1234) / (b"\x00" * 30)), 1.0) == "ethertype_0x1234"
    assert dec.decode(1, bytes(Eth(type=60) / (b"\x00" * 60)), 1.0) == "llc"
    assert dec.decode(147, b"\x00" * 40, 1.0) == "linktype_147"
    igmp = IP(src=A4, dst="224.0.0.1", proto=2) / (b"\x11" * 8)
    assert dec.decode(101, bytes(igmp), 1.0) == "ip_proto_igmp"
    assert dec.decode(101, bytes(IP(src=A4, dst=B4, proto=250) / b"x"), 1.0) == "ip_proto_250"


# ------------------------------------------------------------------ transport


def test_udp_and_icmp() -> None:
    dec = Decoder()
    d = dec.decode(1, bytes(Eth() / DGRAM), 1.0)
    assert isinstance(d, tuple) and d[0] == UDP_P and (d[3], d[4]) == (5353, 53)
    assert payload(d) == b"dns-ish"
    d = dec.decode(1, bytes(Eth() / IP(src=A4, dst=B4) / ICMP(type=8, code=0) / b"ping"), 1.0)
    assert isinstance(d, tuple) and d[0] == ICMP4 and (d[3], d[4]) == (8, 0)
    v6 = Eth() / IPv6(src=A6, dst=B6) / ICMPv6EchoRequest()
    d = dec.decode(1, bytes(v6), 1.0)
    assert isinstance(d, tuple) and d[0] == ICMP6 and (d[3], d[4]) == (128, 129)


def test_icmp_ports_pair_requests_with_replies_as_zeek() -> None:
    """sport = type; dport = the counterpart type for paired kinds, else the code."""
    dec = Decoder()

    def ports(icmp: bytes, v6: bool = False) -> tuple[int, int]:
        ip = IPv6(src=A6, dst=B6, nh=58) if v6 else IP(src=A4, dst=B4, proto=1)
        d = dec.decode(101, bytes(ip / icmp), 1.0)
        assert isinstance(d, tuple)
        return d[3], d[4]

    assert ports(b"\x08\x00\x00\x00\x00\x01\x00\x01") == (8, 0)  # echo request
    assert ports(b"\x00\x00\x00\x00\x00\x01\x00\x01") == (0, 8)  # echo reply
    assert ports(b"\x03\x03\x00\x00" + bytes(24)) == (3, 3)  # port unreachable: code
    assert ports(b"\x0b\x00\x00\x00" + bytes(24)) == (11, 0)
    assert ports(b"\x87\x00\x00\x00" + bytes(20), v6=True) == (135, 136)  # NS / NA
    assert ports(b"\x01\x04\x00\x00" + bytes(20), v6=True) == (1, 4)


def test_tcp_options_and_payload_bounds() -> None:
    seg = (
        IP(src=A4, dst=B4)
        / TCP(
            sport=40000,
            dport=80,
            flags="PA",
            seq=1000,
            options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None), ("WScale", 7)],
        )
        / PAYLOAD
    )
    check_tcp(Decoder().decode(101, bytes(seg), 1.0))


def test_snaplen_truncated_tcp_options() -> None:
    """The capture kept fewer bytes than the IP header says and cut the TCP options: a packet
    with no payload, not a malformed one."""
    seg = IP(src=A4, dst=B4) / TCP(
        sport=40000,
        dport=80,
        flags="S",
        options=[("MSS", 1460), ("Timestamp", (1, 2)), ("WScale", 7)],
    )
    raw = bytes(Eth() / seg)
    cut = raw[: 14 + 20 + 24]  # 24 of the 40 TCP header bytes
    d = Decoder().decode(1, cut, 1.0)
    assert isinstance(d, tuple) and d[0] == TCP_P and d[5] == 0x02 and payload(d) == b""
    assert d[10] == len(seg)  # the IP length on the wire, not the captured length


def test_snaplen_truncated_payload_keeps_captured_part() -> None:
    raw = bytes(Eth() / SEGMENT)
    d = Decoder().decode(1, raw[:-10], 1.0)
    assert isinstance(d, tuple) and payload(d) == PAYLOAD[:-10]


def test_tso_zero_total_length() -> None:
    raw = bytearray(bytes(SEGMENT))
    raw[2:4] = b"\x00\x00"
    d = Decoder().decode(101, bytes(raw), 1.0)
    assert isinstance(d, tuple) and payload(d) == PAYLOAD


# ------------------------------------------------------------------ IPv6 extension headers


def test_ipv6_extension_headers() -> None:
    pkt = (
        IPv6(src=A6, dst=B6)
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrRouting(addresses=["2001:db8::99"])
        / TCP(sport=40000, dport=80, flags="PA", seq=1000)
        / PAYLOAD
    )
    d = Decoder().decode(1, bytes(Eth() / pkt), 1.0)
    assert isinstance(d, tuple) and d[0] == TCP_P and payload(d) == PAYLOAD
    assert d[10] == len(pkt)


def test_ipv6_authentication_header() -> None:
    ah = bytes([6, 4, 0, 0]) + struct.pack("!II", 0x1000, 1) + bytes(12)  # (4+2)*4 = 24 bytes
    tcp = bytes(TCP(sport=40000, dport=80, flags="PA", seq=1000) / PAYLOAD)
    head = IPv6(src=A6, dst=B6, nh=51, plen=len(ah) + len(tcp))
    d = Decoder().decode(101, bytes(head) + ah + tcp, 1.0)
    assert isinstance(d, tuple) and d[0] == TCP_P and payload(d) == PAYLOAD


def test_ipv6_fragments_reassembled() -> None:
    big = IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(id=77) / UDP(sport=1, dport=2) / (b"Z" * 3000)
    frags = fragment6(big, 1280)
    assert len(frags) >= 3
    dec = Decoder()
    outs = [dec.decode(101, bytes(f), float(i)) for i, f in enumerate(reversed(frags))]
    assert outs[:-1] == ["ip_fragment"] * (len(frags) - 1)
    d = outs[-1]
    assert isinstance(d, tuple) and d[0] == UDP_P and payload(d) == b"Z" * 3000
    assert not dec._frags


# ------------------------------------------------------------------ IPv4 fragments


def _frags(size: int = 4000, ident: int = 7) -> list[bytes]:
    pkt = (
        IP(src=A4, dst=B4, id=ident)
        / UDP(sport=1000, dport=2000)
        / (bytes(range(256)) * (size // 256))
    )
    return [bytes(f) for f in fragment(pkt, fragsize=1000)]


def test_ipv4_fragments_in_order_and_out_of_order() -> None:
    frags = _frags()
    shuffled = frags[2:3] + frags[:1] + frags[3:] + frags[1:2]
    for order in (frags, list(reversed(frags)), shuffled):
        dec = Decoder()
        outs = [dec.decode(101, f, 1.0) for f in order]
        assert outs[:-1] == ["ip_fragment"] * (len(order) - 1)
        d = outs[-1]
        assert isinstance(d, tuple) and d[0] == UDP_P and (d[3], d[4]) == (1000, 2000)
        assert payload(d) == bytes(range(256)) * 15
        assert d[10] == 20 + 8 + 256 * 15
        assert not dec._frags


def test_ipv4_fragment_overlap_first_copy_wins() -> None:
    frags = _frags()
    evil = bytearray(frags[1])
    evil[40:50] = b"X" * 10  # same offset, different bytes
    dec = Decoder()
    outs = [dec.decode(101, f, 1.0) for f in [frags[0], frags[1], bytes(evil), *frags[2:]]]
    d = outs[-1]
    assert isinstance(d, tuple) and payload(d) == bytes(range(256)) * 15


def test_ipv4_fragment_partial_overlap() -> None:
    """Overlapping fragments at different offsets: per byte, the copy that arrived first wins."""
    data = bytes(range(256)) * 4
    whole = bytes(IP(src=A4, dst=B4, id=9) / UDP(sport=1, dport=2) / data)
    body = whole[20:]

    def frag(off: int, chunk: bytes, more: bool) -> bytes:
        h = IP(src=A4, dst=B4, id=9, proto=17, frag=off // 8, flags="MF" if more else 0)
        return bytes(h / chunk)

    pieces = [
        frag(0, body[:512], True),
        frag(256, b"Y" * 512, True),  # overlaps both neighbours
        frag(512, body[512:], False),
    ]
    dec = Decoder()
    outs = [dec.decode(101, p, 1.0) for p in pieces]
    d = outs[-1]
    assert isinstance(d, tuple)
    got = payload(d)  # UDP payload: body offset - 8
    assert got[:504] == data[:504]  # body[0:512] arrived before the Ys
    assert got[504:760] == b"Y" * 256  # the Ys arrived before body[512:]
    assert got[760:] == data[760:]


def test_fragment_reassembly_is_bounded() -> None:
    dec = Decoder(max_pending=8)
    for i in range(100):  # first fragments of 100 different datagrams that never complete
        assert dec.decode(101, _frags(ident=i)[0], float(i)) == "ip_fragment"
    assert len(dec._frags) <= 8
    assert dec.fragments_evicted >= 92


def test_fragment_byte_budget() -> None:
    dec = Decoder(max_bytes=10_000)
    for i in range(50):
        dec.decode(101, _frags(ident=i)[0], 1.0)
    assert dec._frag_bytes <= 10_000 + 1000
    assert dec.fragments_evicted > 0


def test_fragment_timeout_starts_over() -> None:
    frags = _frags()
    dec = Decoder(timeout_s=30)
    for f in frags[:-1]:
        dec.decode(101, f, 0.0)
    assert dec.decode(101, frags[-1], 100.0) == "ip_fragment"  # the others timed out
    assert dec.fragments_evicted == 1


def test_fragment_too_large() -> None:
    h = IP(src=A4, dst=B4, id=3, proto=17, frag=8180, flags="MF") / (b"x" * 200)
    with pytest.raises(Malformed) as e:
        Decoder().decode(101, bytes(h), 1.0)
    assert e.value.name == "fragment_too_large"


# ------------------------------------------------------------------ tunnels


def test_gtp_u_decapsulated() -> None:
    inner = IP(src="10.45.0.2", dst=B4) / TCP(sport=40000, dport=80, flags="PA", seq=1000) / PAYLOAD
    outer = Eth() / IP(src="172.16.0.1", dst="172.16.0.2") / UDP(sport=2152, dport=2152)
    dec = Decoder()
    d = dec.decode(1, bytes(outer / GTP_U_Header(teid=1) / inner), 1.0)
    check_tcp(d, "10.45.0.2")
    assert d[11] == "gtp-u"  # type: ignore[index]
    ext = GTP_U_Header(teid=1, E=1, next_ex=0x85) / GTPPDUSessionContainer(type=1, QFI=9)
    d = dec.decode(1, bytes(outer / ext / inner), 1.0)
    check_tcp(d, "10.45.0.2")
    assert dec.tunnels == {"gtp-u": 2}


def test_gtp_u_non_gpdu_is_plain_udp() -> None:
    echo = Eth() / IP(src=A4, dst=B4) / UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=1)
    d = Decoder().decode(1, bytes(echo), 1.0)
    assert isinstance(d, tuple) and d[0] == UDP_P and d[11] == ""


def test_vxlan_decapsulated() -> None:
    pkt = (
        Eth()
        / IP(src="172.16.0.1", dst="172.16.0.2")
        / UDP(sport=55555, dport=4789)
        / VXLAN(vni=42)
        / Eth()
        / SEGMENT
    )
    d = Decoder().decode(1, bytes(pkt), 1.0)
    check_tcp(d)
    assert d[11] == "vxlan"  # type: ignore[index]


@pytest.mark.parametrize("key", [None, 1234])
def test_gre_decapsulated(key: int | None) -> None:
    gre = GRE(proto=0x0800) if key is None else GRE(proto=0x0800, key_present=1, key=key)
    d = Decoder().decode(
        1, bytes(Eth() / IP(src="172.16.0.1", dst="172.16.0.2") / gre / SEGMENT), 1.0
    )
    check_tcp(d)
    assert d[11] == "gre"  # type: ignore[index]


def test_gre_transparent_ethernet_and_nested_tunnels() -> None:
    inner = Eth() / IP(src="10.0.0.1", dst="10.0.0.2") / GRE(proto=0x0800) / SEGMENT
    outer = Eth() / IP(src="172.16.0.1", dst="172.16.0.2") / GRE(proto=0x6558) / inner
    d = Decoder().decode(1, bytes(outer), 1.0)
    check_tcp(d)
    assert d[11] == "gre>gre"  # type: ignore[index]


def test_ip_in_ip() -> None:
    d = Decoder().decode(101, bytes(IP(src="172.16.0.1", dst="172.16.0.2") / SEGMENT), 1.0)
    check_tcp(d)
    v6 = IPv6(src=A6, dst=B6) / SEGMENT
    assert Decoder().decode(101, bytes(v6), 1.0)[11] == "ip-in-ip"  # type: ignore[index]


def test_tunnel_depth_is_bounded() -> None:
    pkt = SEGMENT
    for _ in range(10):
        pkt = IP(src="172.16.0.1", dst="172.16.0.2") / pkt
    assert Decoder().decode(101, bytes(pkt), 1.0) == "ip_proto_4"


# ------------------------------------------------------------------ malformed


MALFORMED = [
    (1, b"\x00" * 13, "truncated_ethernet"),
    (1, bytes(Eth(type=0x8100)) + b"\x00\x01", "truncated_vlan"),
    (1, bytes(Eth(type=0x0800)) + bytes(SEGMENT)[:19], "truncated_ipv4"),
    (1, bytes(Eth(type=0x86DD)) + bytes(IPv6())[:39], "truncated_ipv6"),
    (101, b"\x75" + bytes(30), "bad_ip_version"),
    (1, bytes(Eth(type=0x0800)) + b"\x65" + bytes(30), "bad_ip_version"),
    (101, b"", "truncated_ip"),
    (101, b"\x44" + bytes(30), "bad_ipv4_header_length"),
    (101, b"\x4f" + bytes(30), "bad_ipv4_header_length"),
    (101, bytes(IP(src=A4, dst=B4, len=10) / (b"x" * 20)), "bad_ipv4_total_length"),
    (101, bytes(IP(src=A4, dst=B4, proto=6) / (b"\x00" * 10)), "truncated_tcp"),
    (101, bytes(IP(src=A4, dst=B4) / TCP(dataofs=3)), "bad_tcp_header_length"),
    (101, bytes(IP(src=A4, dst=B4) / TCP(dataofs=15)), "bad_tcp_header_length"),
    (101, bytes(IP(src=A4, dst=B4, proto=17) / b"\x00\x01\x00"), "truncated_udp"),
    (101, bytes(IP(src=A4, dst=B4) / UDP(len=5) / b"abc"), "bad_udp_length"),
    (101, bytes(IP(src=A4, dst=B4, proto=1) / b"\x08"), "truncated_icmp"),
    (101, bytes(IPv6(src=A6, dst=B6, nh=0, plen=1)) + b"\x06", "bad_ipv6_extension"),
    (101, bytes(IPv6(src=A6, dst=B6, nh=0, plen=8)) + b"\x06\x05" + bytes(6), "bad_ipv6_extension"),
    (101, bytes(IPv6(src=A6, dst=B6, nh=44, plen=4)) + bytes(4), "bad_ipv6_extension"),
    (101, bytes(IP(src=A4, dst=B4, proto=47) / b"\x00\x00"), "truncated_gre"),
    (1, bytes(Eth(type=0x8847)) + b"\x00\x00\x00", "truncated_mpls"),
    (1, bytes(Eth(type=0x8864)) + b"\x11\x00", "truncated_pppoe"),
    (113, b"\x00" * 15, "truncated_sll"),
    (276, b"\x00" * 19, "truncated_sll2"),
    (0, b"\x02\x00", "truncated_null"),
    (104, b"\x0f\x00", "truncated_chdlc"),
    (9, b"", "truncated_ppp"),
]


@pytest.mark.parametrize(("linktype", "data", "name"), MALFORMED)
def test_malformed_has_the_right_name(linktype: int, data: bytes, name: str) -> None:
    with pytest.raises(Malformed) as e:
        Decoder().decode(linktype, data, 1.0)
    assert e.value.name == name
    assert e.value.detail


def test_ipv6_too_many_extension_headers() -> None:
    chain = b"".join(bytes([0, 0]) + bytes(6) for _ in range(20))
    pkt = bytes(IPv6(src=A6, dst=B6, nh=0, plen=len(chain))) + chain
    with pytest.raises(Malformed) as e:
        Decoder().decode(101, pkt, 1.0)
    assert e.value.name == "bad_ipv6_extension"


LINKTYPES = [0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 276, 147]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(LINKTYPES), st.binary(max_size=200))
def test_random_bytes_give_decoded_skip_or_malformed(linktype: int, data: bytes) -> None:
    dec = Decoder()
    try:
        out = dec.decode(linktype, data, 1.0)
    except Malformed as m:
        assert isinstance(m.name, str) and m.name
        return
    if isinstance(out, str):
        return
    assert isinstance(out, tuple) and len(out) == 12
    proto, src, dst, _sport, _dport, _flags, _seq, frame, p0, p1, _ip_len, tun = out
    assert proto in (TCP_P, UDP_P, ICMP4, ICMP6)
    assert len(src) == len(dst) and len(src) in (4, 16)
    assert 0 <= p0 <= p1 <= len(frame)
    assert isinstance(tun, str)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([1, 101, 113]),
    st.sampled_from(
        [
            bytes(Eth() / SEGMENT),
            bytes(Eth() / Dot1Q() / DGRAM),
            bytes(Eth() / IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment() / UDP() / b"xx"),
        ]
    ),
    st.integers(0, 80),
    st.binary(min_size=1, max_size=4),
)
def test_mutated_real_packets(linktype: int, frame: bytes, pos: int, junk: bytes) -> None:
    """Corrupt a few bytes of a valid packet: still a value, a skip reason or Malformed."""
    data = frame[:pos] + junk + frame[pos + len(junk) :]
    try:
        out = Decoder().decode(linktype, data, 1.0)
    except Malformed:
        return
    assert isinstance(out, (str, tuple))


def test_ipv6_extension_header_after_fragment_header() -> None:
    inner = IPv6ExtHdrDestOpt() / UDP(sport=1, dport=2) / (b"Q" * 2000)
    big = IPv6(src=A6, dst=B6) / IPv6ExtHdrFragment(id=5) / inner
    dec = Decoder()
    outs = [dec.decode(101, bytes(f), 1.0) for f in fragment6(big, 1280)]
    d = outs[-1]
    assert isinstance(d, tuple) and d[0] == UDP_P and payload(d) == b"Q" * 2000
