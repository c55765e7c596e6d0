"""FlowTable: orientation, history, counters, timeouts, port reuse, eviction, uid, retention."""

from __future__ import annotations

import base64
import hashlib
import socket

import pytest
from scapy.all import ICMP, IP, TCP, UDP, IPv6

from inspector.decode import UDP as UDP_P
from inspector.decode import Decoder
from inspector.flows.key import addr_text, make_uid
from inspector.flows.table import Flow, FlowLimits, FlowTable
from inspector.flows.view import Datagram

C, S = "10.0.0.1", "93.184.216.34"
CP, SP = 51000, 443


def tcp(src: str, dst: str, sport: int, dport: int, flags: str, seq: int = 0, data: bytes = b""):  # type: ignore[no-untyped-def]
    d = Decoder().decode(
        101,
        bytes(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq) / data),
        0.0,
    )
    assert isinstance(d, tuple)
    return d


def c2s(flags: str, seq: int = 0, data: bytes = b""):  # type: ignore[no-untyped-def]
    return tcp(C, S, CP, SP, flags, seq, data)


def s2c(flags: str, seq: int = 0, data: bytes = b""):  # type: ignore[no-untyped-def]
    return tcp(S, C, SP, CP, flags, seq, data)


def udp(src: str, dst: str, sport: int, dport: int, data: bytes = b"x"):  # type: ignore[no-untyped-def]
    ip = IPv6 if ":" in src else IP
    d = Decoder().decode(
        101, bytes(ip(src=src, dst=dst) / UDP(sport=sport, dport=dport) / data), 0.0
    )
    assert isinstance(d, tuple)
    return d


def run(table: FlowTable, packets: list, t0: float = 100.0, step: float = 0.01) -> list[Flow]:  # type: ignore[type-arg]
    flows = []
    for i, d in enumerate(packets):
        flows.append(table.add(d, t0 + i * step, i + 1))
    return flows


def handshake(cisn: int = 1000, sisn: int = 5000) -> list:  # type: ignore[type-arg]
    return [c2s("S", cisn), s2c("SA", sisn), c2s("A", cisn + 1)]


def test_syn_sender_is_originator_and_history() -> None:
    t = FlowTable()
    pkts = [
        *handshake(),
        c2s("PA", 1001, b"hello"),
        s2c("PA", 5001, b"world!"),
        c2s("A", 1006),
        c2s("FA", 1006),
        s2c("FA", 5007),
        c2s("A", 1007),
    ]
    flows = run(t, pkts)
    f = flows[0]
    assert all(x is f for x in flows)
    assert (addr_text(f.orig), f.orig_p, addr_text(f.resp), f.resp_p) == (C, CP, S, SP)
    assert f.history == "ShADdFf"
    assert (f.orig_pkts, f.resp_pkts) == (6, 3)
    assert (f.orig_payload, f.resp_payload) == (5, 6)
    assert f.orig_bytes == 5 * 40 + 45 and f.resp_bytes == 2 * 40 + 46
    assert f.first_ts == 100.0 and f.last_ts == pytest.approx(100.08)
    assert (f.first_frame, f.last_frame) == (1, 9)
    v = f.view()
    assert v.proto == "tcp" and v.orig.data == b"hello" and v.resp.data == b"world!"
    assert v.orig.segments == ((0, 4, pytest.approx(100.03)),)


def test_syn_ack_first_orients_to_the_receiver() -> None:
    t = FlowTable()
    flows = run(t, [s2c("SA", 5000), c2s("A", 1001), c2s("PA", 1001, b"hi")])
    f = flows[0]
    assert (addr_text(f.orig), f.orig_p) == (C, CP)
    assert f.history.startswith("^h")
    assert f.view().orig.data == b"hi"


def test_no_syn_first_packet_sender_is_originator() -> None:
    t = FlowTable()
    f = run(t, [s2c("PA", 1, b"mid-stream"), c2s("A", 9)])[0]
    assert (addr_text(f.orig), f.orig_p) == (S, SP)
    assert f.history == "Da"


def test_retransmission_reset_and_gap_letters() -> None:
    t = FlowTable()
    pkts = [
        *handshake(),
        c2s("PA", 1001, b"abc"),
        c2s("PA", 1001, b"abc"),  # retransmission
        s2c("PA", 5011, b"later"),  # a hole before it: never filled
        c2s("RA", 1004),
    ]
    f = run(t, pkts)[0]
    t.close_all()
    assert f.history == "ShADTdRg"
    assert f.end_reason == "end_of_input"
    assert f.view().resp.gap


def test_overlap_conflicts_counted() -> None:
    t = FlowTable()
    run(t, [*handshake(), c2s("PA", 1001, b"abcdef"), c2s("PA", 1002, b"XX")])
    assert t.overlap_conflicts == 1


def test_udp_keeps_first_datagrams_both_directions() -> None:
    t = FlowTable(FlowLimits(udp_datagrams=5))
    pkts = [
        udp(C, S, 5000, 3478, bytes([i])) if i % 2 == 0 else udp(S, C, 3478, 5000, bytes([i]))
        for i in range(9)
    ]
    f = run(t, pkts)[0]
    v = f.view()
    assert v.proto == "udp"
    assert [(d.frame, d.from_orig, d.payload) for d in v.datagrams] == [
        (1, True, b"\x00"),
        (2, False, b"\x01"),
        (3, True, b"\x02"),
        (4, False, b"\x03"),
        (5, True, b"\x04"),
    ]
    assert all(isinstance(d, Datagram) for d in v.datagrams)
    assert (f.orig_pkts, f.resp_pkts) == (5, 4)
    f.release()
    assert f.view().datagrams == () and f.orig_pkts == 5


def test_ipv6_and_icmp_flows() -> None:
    t = FlowTable()
    f6 = t.add(udp("2001:db8::1", "2001:db8::2", 1, 2), 1.0, 1)
    assert addr_text(f6.orig) == "2001:db8::1" and f6.view().resp_h == "2001:db8::2"
    d = Decoder().decode(101, bytes(IP(src=C, dst=S) / ICMP(type=8)), 0.0)
    fi = t.add(d, 2.0, 2)  # type: ignore[arg-type]
    assert fi.proto == 1 and fi.view().proto == "icmp" and fi.orig_p == 8
    assert len(t.flows) == 2


def test_ping_request_and_reply_are_one_flow() -> None:
    t = FlowTable()
    dec = Decoder()
    flows = []
    for i in range(3):
        for src, dst, typ in ((C, S, 8), (S, C, 0)):
            d = dec.decode(101, bytes(IP(src=src, dst=dst) / ICMP(type=typ, id=7, seq=i)), 0.0)
            flows.append(t.add(d, float(i), len(flows) + 1))  # type: ignore[arg-type]
    f = flows[0]
    assert all(x is f for x in flows)
    assert (addr_text(f.orig), f.orig_p, f.resp_p) == (C, 8, 0)
    assert (f.orig_pkts, f.resp_pkts) == (3, 3)
    assert f.view().proto == "icmp"


def test_idle_timeouts_per_protocol() -> None:
    lim = FlowLimits(tcp_idle_s=300, udp_idle_s=120, sweep_every_s=10)
    t = FlowTable(lim)
    ft = t.add(c2s("PA", 1, b"x"), 0.0, 1)
    fu = t.add(udp(C, S, 5000, 53), 0.0, 2)
    t.add(udp(C, "10.9.9.9", 6000, 53), 125.0, 3)  # triggers a sweep at 125 s
    assert fu in t.ended and fu.end_reason == "idle_timeout"
    assert ft not in t.ended
    t.add(udp(C, "10.9.9.9", 6000, 53), 301.0, 4)
    assert ft.end_reason == "idle_timeout"


def test_active_timeout_starts_a_new_flow() -> None:
    t = FlowTable(FlowLimits(active_s=60, sweep_every_s=10))
    first = [t.add(udp(C, S, 5000, 8801), float(i), i + 1) for i in range(0, 90, 5)]
    assert first[0].end_reason == "active_timeout"
    assert first[-1] is not first[0]
    assert first[-1].uid != first[0].uid


def test_tcp_port_reuse_after_close_is_a_new_flow() -> None:
    t = FlowTable()
    pkts = [*handshake(), c2s("FA", 1001), s2c("FA", 5001), c2s("A", 1002), c2s("S", 9000)]
    flows = run(t, pkts)
    old, new = flows[0], flows[-1]
    assert new is not old
    assert old.end_reason == "tcp_reuse" and old in t.ended
    assert new.history == "S" and new.uid != old.uid


def test_syn_retransmission_on_open_flow_is_the_same_flow() -> None:
    t = FlowTable()
    flows = run(t, [c2s("S", 1000), c2s("S", 1000), s2c("SA", 5000)])
    assert flows[0] is flows[1] is flows[2]
    assert flows[0].history == "Sh"


def test_flood_of_distinct_flows_is_evicted_and_counted() -> None:
    lim = FlowLimits(max_flows=1000)
    t = FlowTable(lim)
    src = socket.inet_aton(C)
    for i in range(100_000):
        dst = i.to_bytes(4, "big")
        d = (UDP_P, src, dst, 40000, 53, 0, 0, b"", 0, 0, 28, "")
        t.add(d, 1000.0 + i * 1e-4, i + 1)
        if len(t.ended) > 5000:
            t.ended.clear()
        assert len(t.flows) <= 1000
    assert t.evicted >= 99_000
    assert sum(len(m) for m in t.sides.values()) <= 2000


def test_evicted_flows_are_the_least_recently_seen() -> None:
    t = FlowTable(FlowLimits(max_flows=10))
    keep = t.add(udp(C, S, 1, 2), 0.0, 1)
    for i in range(30):
        t.add(udp(C, f"10.1.0.{i + 1}", 1, 2), 1.0 + i, i + 2)
        t.add(udp(C, S, 1, 2), 1.0 + i, i + 2)  # keep this one busy
    assert keep not in t.ended
    assert all(f.end_reason == "evicted" for f in t.ended)


def test_close_all_in_first_packet_order() -> None:
    t = FlowTable()
    t.add(udp(C, "10.0.0.9", 1, 2), 1.0, 1)
    t.add(udp(C, "10.0.0.8", 1, 2), 2.0, 2)
    t.add(udp(C, "10.0.0.9", 1, 2), 3.0, 3)
    t.close_all()
    assert [f.first_frame for f in t.ended] == [1, 2]
    assert {f.end_reason for f in t.ended} == {"end_of_input"}
    assert not t.flows and not any(t.sides.values())


def test_uid_is_deterministic() -> None:
    pkts = [*handshake(), c2s("PA", 1001, b"x")]
    a = run(FlowTable(), pkts)[0].uid
    b = run(FlowTable(), pkts)[0].uid
    c = run(FlowTable(), pkts, t0=101.0)[0].uid
    assert a == b != c
    assert len(a) == 18 and a[0] == "C"


def test_uid_matches_its_definition() -> None:
    """First 17 base32 (RFC 4648) characters of SHA-1 over the first packet's identity."""
    orig, resp = socket.inet_aton(C), socket.inet_aton(S)
    material = f"{12.5:.6f}|6|{orig.hex()}|{CP}|{resp.hex()}|{SP}".encode()
    want = "C" + base64.b32encode(hashlib.sha1(material).digest()).decode()[:17]
    assert make_uid(12.5, 6, orig, CP, resp, SP) == want


def test_same_endpoint_both_ways() -> None:
    t = FlowTable()
    f = run(t, [udp(C, C, 7, 7), udp(C, C, 7, 7)])[0]
    assert f.orig_pkts == 2 and f.resp_pkts == 0


def test_tunnel_port_sides_are_not_fast() -> None:
    t = FlowTable()
    f = t.add(udp(C, S, 2152, 2152, b"\x32\x01"), 1.0, 1)
    assert not f.o.fast and not f.r.fast
    v = t.add(udp(C, S, 50000, 4789), 1.0, 2)
    assert not v.o.fast and v.r.fast


def _keyed_when(payload: bytes):  # type: ignore[no-untyped-def]
    """A key check that says yes for flows whose first bytes are ``payload``."""
    asked: list[str] = []

    def check(make_view) -> bool:  # type: ignore[no-untyped-def]
        view = make_view()
        asked.append(view.uid)
        first = view.datagrams[0].payload if view.datagrams else view.orig.data
        return first.startswith(payload)

    return check, asked


def test_keyed_udp_flow_keeps_past_the_budget_up_to_its_bound() -> None:
    check, asked = _keyed_when(b"K")
    lim = FlowLimits(udp_datagrams=3, keyed_udp_datagrams=7)
    t = FlowTable(lim, keyed=check)
    keyed = [udp(C, S, 5000, 443, b"K%d" % i) for i in range(10)]
    plain = [udp(C, S, 5001, 443, b"P%d" % i) for i in range(10)]
    f_keyed = run(t, keyed)[0]
    f_plain = run(t, plain, t0=101.0)[0]
    assert len(f_keyed.datagrams) == 7 and len(f_plain.datagrams) == 3
    assert asked == [f_keyed.uid, f_plain.uid]  # asked once per flow, at the budget
    assert t.keyed_held == sum(len(d[3]) for d in f_keyed.datagrams[3:])


def test_keyed_tcp_flow_keeps_past_the_budget_up_to_its_bound() -> None:
    check, asked = _keyed_when(b"K")
    t = FlowTable(FlowLimits(tcp_bytes=10, keyed_tcp_bytes=45), keyed=check)
    # the first segment fits the budget: the check sees the flow's first bytes
    pkts = [*handshake(), *(c2s("A", 1001 + 9 * i, b"K" * 9) for i in range(6))]
    f = run(t, pkts)[0]
    assert len(f.o.stream.data) == 45 and f.o.stream.capped  # type: ignore[union-attr]
    t2 = FlowTable(FlowLimits(tcp_bytes=10, keyed_tcp_bytes=45), keyed=check)
    pkts = [*handshake(), *(c2s("A", 1001 + 9 * i, b"P" * 9) for i in range(6))]
    f2 = run(t2, pkts)[0]
    assert len(f2.o.stream.data) == 10 and len(asked) == 2  # type: ignore[union-attr]


def test_keyed_flows_together_stay_under_the_memory_bound() -> None:
    check, _ = _keyed_when(b"K")
    lim = FlowLimits(tcp_bytes=10, keyed_tcp_bytes=1000, keyed_total_bytes=25)
    t = FlowTable(lim, keyed=check)
    pkts = [*handshake(), *(c2s("A", 1001 + 9 * i, b"K" * 9) for i in range(8))]
    f = run(t, pkts)[0]
    assert len(f.o.stream.data) == 35  # type: ignore[union-attr]  # the budget plus 25 held
    assert t.keyed_held == 25
    t.close_all()
    assert t.keyed_held == 0  # released with the flow
