"""The fast loop gives exactly what the full decoder + FlowTable.add give, packet for packet."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import (
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
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    Packet,
    fragment,
)
from scapy.contrib.gtp import GTP_U_Header

from inspector.decode import Decoder, Malformed
from inspector.flows.fastloop import feed_spans
from inspector.flows.table import Flow, FlowLimits, FlowTable
from inspector.source import open_capture
from tests.conftest import expected_rows, real_dir
from tests.source import epb, idb, pcap_bytes, shb

ROOT = Path(__file__).resolve().parents[2]


def _make_capture_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_capture", ROOT / "benchmarks" / "make_capture.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Reference:
    """A minimal feeder: the full decoder and FlowTable.add for every packet."""

    def __init__(self, limits: FlowLimits) -> None:
        self.decoder = Decoder()
        self.table = FlowTable(limits)
        self.frame = 0
        self.decoded = 0
        self.skipped: Counter[str] = Counter()
        self.malformed: Counter[str] = Counter()
        self.flows: list[tuple[Any, ...]] = []
        self.calls = 0  #: packets that went through feed (not the fast path)

    def feed(self, ts: float, linktype: int, data: bytes) -> None:
        self.calls += 1
        self.frame += 1
        try:
            d = self.decoder.decode(linktype, data, ts)
        except Malformed as m:
            self.malformed[m.name] += 1
            return
        if isinstance(d, str):
            self.skipped[d] += 1
            return
        self.decoded += 1
        self.table.add(d, ts, self.frame)
        self.drain()

    def drain(self) -> None:
        for f in self.table.ended:
            self.flows.append(_summary(f))
        self.table.ended.clear()

    def result(self) -> tuple[Any, ...]:
        self.table.close_all()
        self.drain()
        return (
            self.frame,
            self.decoded,
            dict(self.skipped),
            dict(self.malformed),
            self.flows,
            self.table.evicted,
            self.table.overlap_conflicts,
            self.decoder.tunnels,
        )


def _summary(f: Flow) -> tuple[Any, ...]:
    return (
        f.uid,
        f.proto,
        f.orig,
        f.orig_p,
        f.resp,
        f.resp_p,
        f.first_ts,
        f.last_ts,
        f.first_frame,
        f.last_frame,
        f.orig_pkts,
        f.resp_pkts,
        f.orig_bytes,
        f.resp_bytes,
        f.orig_payload,
        f.resp_payload,
        f.history,
        f.end_reason,
        f.tunnel,
        f.view(),
    )


FAST_SHARE: list[float] = []


def both(path: str, limits: FlowLimits | None = None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(full path result, fast loop result); FAST_SHARE gets the fast loop's share of packets."""
    limits = limits or FlowLimits()
    slow = Reference(limits)
    for ts, lt, data, _wl in open_capture(path):
        slow.feed(ts, lt, data)
    fast = Reference(limits)
    ticks: list[int] = []
    feed_spans(fast, open_capture(path).spans(), lambda: ticks.append(fast.frame), 1000)
    assert len(ticks) == fast.frame // 1000
    FAST_SHARE.append(1 - fast.calls / max(fast.frame, 1))
    return slow.result(), fast.result()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("fast") / "mix.pcap"
    _make_capture_module().make_capture(path, packets=30_000, seed=7, duration=200.0)
    return str(path)


def test_synthetic_mix_identical(synthetic: str) -> None:
    slow, fast = both(synthetic)
    assert slow[0] > 20_000
    assert slow == fast
    assert FAST_SHARE[-1] > 0.8  # the fast path really carried most packets


def test_tight_limits_identical(synthetic: str) -> None:
    """Eviction, small stream caps, few datagrams and frequent sweeps: still identical."""
    limits = FlowLimits(
        max_flows=50, tcp_bytes=3000, udp_datagrams=3, udp_idle_s=5, sweep_every_s=1
    )
    slow, fast = both(synthetic, limits)
    assert slow[5] > 0  # evictions happened
    assert slow == fast


def _odd_packets() -> list[tuple[int, Packet | bytes]]:
    a, b = "10.0.0.1", "10.0.0.2"
    seg = IP(src=a, dst=b) / TCP(sport=1000, dport=80, flags="A", seq=5) / b"data"
    back = IP(src=b, dst=a) / TCP(sport=80, dport=1000, flags="A", seq=9) / b"resp"
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    big = IP(src=a, dst=b, id=3) / UDP(sport=7, dport=8) / (b"F" * 3000)
    pkts: list[tuple[int, Packet | bytes]] = [
        (1, e / seg),
        (1, e / back),
        (1, e / Dot1Q(vlan=3) / seg),
        (1, e / IP(src=a, dst=b) / ICMP(type=8, id=1, seq=1)),
        (1, e / IP(src=b, dst=a) / ICMP(type=0, id=1, seq=1)),
        (1, e / IP(src=b, dst=a) / ICMP(type=3, code=3) / bytes(seg)[:28]),
        (1, e / IP(src=a, dst=b, proto=1) / b"\x08"),
        (1, e / IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest()),
        (1, e / IPv6(src="2001:db8::2", dst="2001:db8::1") / ICMPv6EchoReply()),
        (1, e / Dot1AD(vlan=1) / Dot1Q(vlan=3) / back),
        (
            1,
            e
            / IP(src=a, dst=b, options=[b"\x01\x01\x01\x00"])
            / TCP(sport=1000, dport=80, flags="A")
            / b"opt",
        ),
        (1, e / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5, dport=6) / b"six"),
        (1, e / IPv6(src="2001:db8::2", dst="2001:db8::1") / UDP(sport=6, dport=5) / b"xis"),
        (
            1,
            e
            / IPv6(src="2001:db8::1", dst="2001:db8::2")
            / IPv6ExtHdrDestOpt()
            / UDP(sport=5, dport=6)
            / b"ext",
        ),
        (113, CookedLinux(proto=0x0800) / seg),
        (101, seg),
        (101, back),
        (
            1,
            e
            / IP(src="172.16.0.1", dst="172.16.0.2")
            / UDP(sport=2152, dport=2152)
            / GTP_U_Header(teid=1)
            / seg,
        ),
        (
            1,
            e
            / IP(src="172.16.0.1", dst="172.16.0.2")
            / UDP(sport=2152, dport=2152)
            / GTP_U_Header(gtp_type=1),
        ),
        (
            1,
            e
            / IP(src="172.16.0.1", dst="172.16.0.2")
            / UDP(sport=2152, dport=2152)
            / GTP_U_Header(teid=1)
            / back,
        ),
        (
            1,
            e
            / IP(src="172.16.0.1", dst="172.16.0.2")
            / UDP(sport=9, dport=4789)
            / VXLAN()
            / e
            / seg,
        ),
        (1, e / IP(src="172.16.0.1", dst="172.16.0.2") / GRE() / back),
        (1, e / IP(src=a, dst=b) / UDP(sport=7, dport=8, len=0) / b"zero-length-field"),
        (1, e / IP(src=a, dst=b) / UDP(sport=7, dport=8, len=5) / b"bad"),
        (1, e / IP(src=a, dst=b) / UDP(sport=7, dport=8) / b"ok"),
        (1, bytes(e / seg)[:40]),  # snaplen cut
        (1, bytes(e / seg)[:-2]),
        (1, e / IP(src=a, dst=b) / TCP(sport=1000, dport=80, flags="A", dataofs=15)),
        (1, e / IP(src=a, dst=b) / TCP(sport=1000, dport=80, flags="FA", seq=9)),
        (1, e / IP(src=a, dst=b) / TCP(sport=1000, dport=80, flags="S", seq=100)),
        (1, e / IP(src=a, dst=b) / TCP(sport=1000, dport=80, flags="A", seq=101) / b"new conn"),
        (1, e / IP(src=a, dst=b, len=0) / TCP(sport=1000, dport=80, flags="A", seq=109) / b"tso"),
        *[(1, e / f) for f in fragment(big, 1000)],
        (1, e / IP(src=a, dst=b) / UDP(sport=7, dport=8) / b"after frags"),
        (1, b"\x00" * 10),
        (0, b"\x02\x00\x00\x00" + bytes(seg)),
    ]
    return pkts


def test_odd_packets_identical_pcap_and_pcapng(tmp_path: Path) -> None:
    pkts = _odd_packets() * 3
    records = [(1000.0 + i, bytes(p)) for i, (lt, p) in enumerate(pkts) if lt == 1]
    pcap = tmp_path / "odd.pcap"
    pcap.write_bytes(pcap_bytes(records))
    slow, fast = both(str(pcap))
    assert slow == fast
    assert slow[3]  # some malformed
    assert FAST_SHARE[-1] > 0.1
    linktypes = sorted({lt for lt, _ in pkts})
    blocks = [shb(), *(idb(lt) for lt in linktypes)]
    for i, (lt, p) in enumerate(pkts):
        blocks.append(epb(linktypes.index(lt), (1000 + i) * 1_000_000, bytes(p)))
    ng = tmp_path / "odd.pcapng"
    ng.write_bytes(b"".join(blocks))
    slow, fast = both(str(ng))
    assert slow == fast
    assert slow[0] == len(pkts)


def test_real_corpus_identical() -> None:
    root = real_dir()
    different = []
    for row in expected_rows():
        slow, fast = both(str(root / row["path"]))
        if slow != fast:
            different.append(row["path"])
    assert not different


_BASE = [
    bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p)
    for p in (
        IP(src="10.0.0.1", dst="10.0.0.2")
        / TCP(sport=1000, dport=80, flags="A", seq=7)
        / b"tcp-data",
        IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=80, dport=1000, flags="A", seq=9) / b"reply",
        IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=53) / b"udp-data",
        IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8, id=1) / b"ping",
        IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=1, dport=2, flags="A") / b"six",
        IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=3, dport=4) / b"six-udp",
        Dot1Q(vlan=5) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=53) / b"vlan",
    )
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(_BASE) - 1), st.integers(0, 70), st.binary(min_size=1, max_size=3)
        ),
        max_size=25,
    ),
    st.booleans(),
)
def test_mutated_headers_fast_and_full_paths_agree(
    tmp_path_factory: pytest.TempPathFactory, mutations: list[tuple[int, int, bytes]], cut: bool
) -> None:
    """Any corruption of header bytes: the fast loop still matches the full decoder exactly."""
    frames = list(_BASE)  # every flow exists first, so mutated packets can take the fast path
    for which, pos, junk in mutations:
        f = _BASE[which]
        f = f[:pos] + junk + f[pos + len(junk) :]
        frames.append(f[: pos + 2] if cut else f)
        frames.append(_BASE[which])
    path = tmp_path_factory.mktemp("fuzz") / "m.pcap"
    path.write_bytes(pcap_bytes((1000.0 + i, f) for i, f in enumerate(frames)))
    slow, fast = both(str(path))
    assert slow == fast
