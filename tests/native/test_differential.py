"""Both twins give identical tables: flows, every protocol table and the packet accounting.

The compiled core (:mod:`inspector._native`) and the pure-Python reference run the packet stages
(source, decode, flows, dissect) on the same capture; every table's rows and the summary must
be equal. Inputs: every shared real capture (skipped when absent), the bundled scenario
captures, and hypothesis-generated captures (pcap and pcapng, several link types, corrupted
headers, time gaps that trigger sweeps and timeouts, tight flow limits).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector import _native
from inspector.api import analyze
from inspector.config import Config
from inspector.pipeline import collect
from tests.conftest import expected_rows, real_dir
from tests.native.paths import selected
from tests.source import epb, idb, pcap_bytes, shb

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "captures").glob("*.pcap"))


def _tables(path: str, config: Config | None = None) -> dict[str, Any]:
    out = collect([path], config)
    summary = out.summary()
    return {
        "summary": summary,
        **{name: [repr(r) for r in rows] for name, rows in sorted(out.rows.items())},
    }


def _both(path: str, config: Config | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    before = _native.core
    try:
        selected("native")
        native = _tables(path, config)
        selected("pure")
        pure = _tables(path, config)
    finally:
        _native.core = before
    return native, pure


def _differences(native: dict[str, Any], pure: dict[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(native) | set(pure)):
        a, b = native.get(name), pure.get(name)
        if a != b:
            if isinstance(a, list) and isinstance(b, list):
                first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), -1)
                out.append(f"{name}: {len(a)} vs {len(b)} rows, first difference at row {first}")
            else:
                out.append(f"{name}: {a!r} vs {b!r}")
    return out


def test_real_captures_identical() -> None:
    root = real_dir()
    rows = expected_rows()
    assert len(rows) >= 200
    problems = []
    for row in rows:
        native, pure = _both(str(root / row["path"]))
        problems += [f"{row['path']}: {d}" for d in _differences(native, pure)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_bundled_captures_identical_to_the_end(path: Path) -> None:
    """The bundled scenarios through every stage (findings included), not just the packets."""
    assert BUNDLED
    before = _native.core
    results = {}
    try:
        for which in ("native", "pure"):
            selected(which)
            res = analyze([str(path)], Config())
            results[which] = {
                name: res[name].to_csv(index=False) for name in sorted(res.tables)
            } | {"summary": res.summary}
    finally:
        _native.core = before
    assert results["native"] == results["pure"]
    assert results["native"]["flows"].count("\n") > 1


@pytest.mark.parametrize("path", BUNDLED, ids=[p.name for p in BUNDLED])
def test_shards_identical_in_both_twins(path: Path) -> None:
    """A shard's read (other shards' packets skipped by the fast path) is the same in both."""
    import dataclasses

    for k in range(2):
        config = dataclasses.replace(Config(), shard=(k, 2))
        native, pure = _both(str(path), config)
        assert not _differences(native, pure), (k, _differences(native, pure))
        assert native["summary"]["packets"]["total"] > 0


def test_shard_skips_other_shards_packets_in_the_compiled_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compiled loop hands the packets of other shards' known flows to the slow path no more
    often than the Python reference (which skips them): a shard's work is its own flows."""
    import dataclasses

    from inspector.pipeline import Ingest

    calls = {"n": 0}
    feed = Ingest.feed

    def counted(self: Ingest, ts: float, linktype: int, data: bytes) -> None:
        calls["n"] += 1
        feed(self, ts, linktype, data)

    monkeypatch.setattr(Ingest, "feed", counted)
    path = str(ROOT / "captures" / "zoom-2020.pcap")
    config = dataclasses.replace(Config(), shard=(0, 2))
    before = _native.core
    slow = {}
    try:
        for which in ("native", "pure"):
            selected(which)
            calls["n"] = 0
            collect([path], config)
            slow[which] = calls["n"]
    finally:
        _native.core = before
    assert slow["native"] == slow["pure"]


# ------------------------------------------------------------------ generated captures

_MAC = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"


def _ipv4(proto: int, payload: bytes, src: int, dst: int) -> bytes:
    return (
        struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    bytes([10, 0, 0, src]), bytes([10, 0, 0, dst]))
        + payload
    )  # fmt: skip


def _ipv6(proto: int, payload: bytes, src: int, dst: int) -> bytes:
    a = b"\x20\x01\x0d\xb8" + bytes(11) + bytes([src])
    b = b"\x20\x01\x0d\xb8" + bytes(11) + bytes([dst])
    return struct.pack("!IHBB", 0x60000000, len(payload), proto, 64) + a + b + payload


def _tcp(sport: int, dport: int, seq: int, flags: int, data: bytes) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, 0x50, flags, 65535, 0, 0) + data


def _udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


_CLIENT_HELLO = bytes.fromhex(
    "16030100310100002d0303" + "00" * 32 + "000002130101000002"
    "00000b0009000006" + "6578616d706c65"[:12]
)

packet = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["tcp", "tcp", "udp", "udp", "icmp", "dns"]),
        "v6": st.booleans(),
        "flow": st.integers(0, 5),
        "reverse": st.booleans(),
        "flags": st.sampled_from([0x10, 0x18, 0x02, 0x12, 0x11, 0x04, 0x10]),
        "seq": st.integers(0, 3000),
        "data": st.one_of(st.binary(max_size=40), st.just(_CLIENT_HELLO)),
        "gap": st.sampled_from([0.001, 0.01, 1.0, 7.0, 130.0]),
        "vlan": st.booleans(),
        "mutate": st.none() | st.tuples(st.integers(0, 80), st.binary(min_size=1, max_size=3)),
    }
)  # fmt: skip


def _frame(p: dict[str, Any], linktype: int) -> bytes:
    src, dst = 1 + p["flow"], 100
    sport, dport = 40000 + p["flow"], (443 if p["kind"] == "tcp" else 8801)
    if p["reverse"]:
        src, dst, sport, dport = dst, src, dport, sport
    if p["kind"] == "tcp":
        proto, l4 = 6, _tcp(sport, dport, p["seq"], p["flags"], p["data"])
    elif p["kind"] == "dns":
        proto, l4 = 17, _udp(sport, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                             b"\x03www\x07example\x03com\x00\x00\x01\x00\x01")  # fmt: skip
    elif p["kind"] == "udp":
        proto, l4 = 17, _udp(sport, dport, p["data"])
    else:
        proto = 58 if p["v6"] else 1
        l4 = bytes([128 if p["v6"] else 8, 0, 0, 0]) + p["data"]
    ip = (_ipv6 if p["v6"] else _ipv4)(proto, l4, src, dst)
    if linktype == 101:
        frame = ip
    elif linktype == 113:
        frame = struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 8, 0x86DD if p["v6"] else 0x0800) + ip
    else:
        et = b"\x86\xdd" if p["v6"] else b"\x08\x00"
        frame = _MAC + (b"\x81\x00\x00\x05" if p["vlan"] else b"") + et + ip
    if p["mutate"] is not None:
        pos, junk = p["mutate"]
        frame = frame[:pos] + junk + frame[pos + len(junk) :]
    return frame


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(packet, min_size=1, max_size=60),
    st.sampled_from([1, 101, 113]),
    st.booleans(),
    st.booleans(),
)
def test_generated_captures_identical(
    tmp_path: Path, packets: list[dict[str, Any]], linktype: int, pcapng: bool, tight: bool
) -> None:
    ts = 1_600_000_000.0
    records = []
    for p in packets:
        ts += p["gap"]
        records.append((ts, _frame(p, linktype)))
    path = tmp_path / ("g.pcapng" if pcapng else "g.pcap")
    if pcapng:
        blocks = [shb(), idb(linktype)]
        blocks += [epb(0, round(t * 1_000_000), f) for t, f in records]
        path.write_bytes(b"".join(blocks))
    else:
        path.write_bytes(pcap_bytes(records, linktype=linktype))
    config = None
    if tight:
        from inspector.flows.table import FlowLimits

        limits = FlowLimits(max_flows=3, tcp_bytes=50, udp_datagrams=2, sweep_every_s=1)
        config = Config(limits=limits)
    native, pure = _both(str(path), config)
    assert not _differences(native, pure)
    assert native["summary"]["packets"]["total"] == len(records)
