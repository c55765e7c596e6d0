"""pcapng reader: interfaces with different link types and resolutions, EPB/SPB/PB, options,
non-packet blocks, both byte orders, several sections, cuts and corruption."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import IP, UDP, Ether, PcapNgWriter

from inspector.errors import InputError
from inspector.source import open_capture
from tests.source import epb, idb, opt, pcapng_block, shb, spb

ETH = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / b"hello")
RAW = bytes(IP(src="10.0.0.3", dst="10.0.0.4") / UDP(sport=3, dport=4) / b"raw")


def _write(tmp_path: Path, data: bytes) -> str:
    p = tmp_path / "c.pcapng"
    p.write_bytes(data)
    return str(p)


def test_two_interfaces_with_different_link_types_and_resolutions(tmp_path: Path) -> None:
    data = (
        shb()
        + idb(1)  # Ethernet, default microseconds
        + idb(101, tsresol=9)  # raw IP, nanoseconds
        + epb(0, 1_600_000_000_250_000, ETH)
        + epb(1, 1_600_000_001_123_456_789, RAW)
        + epb(0, 1_600_000_002_000_001, ETH)
    )
    cap = open_capture(_write(tmp_path, data))
    got = list(cap)
    assert [(p.linktype, p.data) for p in got] == [(1, ETH), (101, RAW), (1, ETH)]
    assert got[0].ts == pytest.approx(1_600_000_000.25)
    assert got[1].ts == pytest.approx(1_600_000_001.123456789, abs=1e-6)
    assert got[2].ts == pytest.approx(1_600_000_002.000001)
    assert cap.format == "pcapng" and cap.linktypes == {1, 101}
    assert not cap.truncated and not cap.warnings


def test_power_of_two_resolution_and_offset(tmp_path: Path) -> None:
    offset = opt(14, struct.pack("<q", 1000))
    data = shb() + idb(1, tsresol=0x80 | 10, extra=offset) + epb(0, 3 * 1024 + 512, ETH)
    (pkt,) = list(open_capture(_write(tmp_path, data)))
    assert pkt.ts == pytest.approx(1000 + 3.5)


def test_comments_and_options_are_ignored_safely(tmp_path: Path) -> None:
    comment = opt(1, "ünïcode comment \x00\xff".encode("utf-8", "surrogatepass"))
    flags = opt(2, struct.pack("<I", 1))
    data = (
        shb(options=opt(1, b"section comment") + opt(0, b""))
        + idb(1, extra=opt(2, b"eth0") + comment)
        + epb(0, 5_000_000, ETH, options=comment + flags + opt(0, b""))
    )
    cap = open_capture(_write(tmp_path, data))
    (pkt,) = list(cap)
    assert pkt.data == ETH and pkt.ts == pytest.approx(5.0)
    assert not cap.truncated


def test_simple_packet_block_uses_first_interface_and_snaplen(tmp_path: Path) -> None:
    data = shb() + idb(1, snaplen=20) + epb(0, 7_000_000, ETH) + spb(ETH[:20], wirelen=len(ETH))
    got = list(open_capture(_write(tmp_path, data)))
    assert got[1].data == ETH[:20]
    assert got[1].wirelen == len(ETH)
    assert got[1].ts == got[0].ts  # an SPB has no timestamp: it inherits the previous one


def test_obsolete_packet_block(tmp_path: Path) -> None:
    pad = (-len(ETH)) % 4
    body = struct.pack("<HHIIII", 0, 0, 0, 9_000_000, len(ETH), len(ETH)) + ETH + bytes(pad)
    data = shb() + idb(1) + pcapng_block(2, body)
    (pkt,) = list(open_capture(_write(tmp_path, data)))
    assert pkt.data == ETH and pkt.ts == pytest.approx(9.0)


def test_blocks_without_packets_are_counted(tmp_path: Path) -> None:
    nrb = pcapng_block(4, opt(1, bytes([10, 0, 0, 1]) + b"host\x00") + opt(0, b""))
    isb = pcapng_block(5, struct.pack("<III", 0, 0, 0))
    dsb = pcapng_block(10, struct.pack("<II", 0x544C534B, 4) + b"keys")
    custom = pcapng_block(0x00000BAD, struct.pack("<I", 32473) + b"data")
    data = shb() + idb(1) + nrb + epb(0, 1, ETH) + isb + dsb + custom + pcapng_block(0x99, b"")
    cap = open_capture(_write(tmp_path, data))
    assert len(list(cap)) == 1
    assert cap.skipped_blocks == {
        "name_resolution": 1,
        "interface_statistics": 1,
        "decryption_secrets": 1,
        "custom": 1,
        "block_0x00000099": 1,
    }


def test_big_endian_section(tmp_path: Path) -> None:
    data = shb(">") + idb(1, ">") + epb(0, 2_000_000, ETH, ">")
    (pkt,) = list(open_capture(_write(tmp_path, data)))
    assert pkt.data == ETH and pkt.ts == pytest.approx(2.0)


def test_second_section_resets_interfaces_and_may_change_order(tmp_path: Path) -> None:
    data = (
        shb()
        + idb(101)
        + epb(0, 1_000_000, RAW)
        + shb(">")
        + idb(1, ">")
        + epb(0, 2_000_000, ETH, ">")
    )
    got = list(open_capture(_write(tmp_path, data)))
    assert [(p.linktype, p.data) for p in got] == [(101, RAW), (1, ETH)]


def test_packet_for_unknown_interface_is_counted_not_fatal(tmp_path: Path) -> None:
    data = shb() + idb(1) + epb(3, 1, ETH) + epb(0, 2, ETH)
    cap = open_capture(_write(tmp_path, data))
    assert len(list(cap)) == 1
    assert cap.skipped_blocks == {"bad_packet_block": 1}


def test_cut_mid_block_keeps_blocks_before(tmp_path: Path) -> None:
    data = shb() + idb(1) + epb(0, 1, ETH) + epb(0, 2, ETH)
    for cut in (4, 5, 15, len(epb(0, 2, ETH)) - 4):
        cap = open_capture(_write(tmp_path, data[: len(data) - cut]))
        assert len(list(cap)) == 1
        assert cap.truncated
        assert "ends inside a pcapng" in cap.warnings[0]


def test_cut_inside_section_header(tmp_path: Path) -> None:
    cap = open_capture(_write(tmp_path, shb()[:14]))
    assert list(cap) == [] and cap.truncated


def test_impossible_block_length_stops(tmp_path: Path) -> None:
    bad = struct.pack("<II", 6, 13) + b"\x00" * 16
    cap = open_capture(_write(tmp_path, shb() + idb(1) + epb(0, 1, ETH) + bad))
    assert len(list(cap)) == 1
    assert cap.truncated and "impossible length" in cap.warnings[0]


def test_trailing_length_mismatch_stops(tmp_path: Path) -> None:
    block = bytearray(epb(0, 2, ETH))
    block[-4:] = struct.pack("<I", 999)
    cap = open_capture(_write(tmp_path, shb() + idb(1) + epb(0, 1, ETH) + bytes(block)))
    assert len(list(cap)) == 1
    assert cap.truncated and "trailing length" in cap.warnings[0]


def test_bad_byte_order_magic_first_section_is_not_a_capture(tmp_path: Path) -> None:
    data = bytearray(shb())
    data[8:12] = b"\x00\x00\x00\x00"
    with pytest.raises(InputError, match="byte-order"):
        list(open_capture(_write(tmp_path, bytes(data))))


def test_idb_with_truncated_options_does_not_crash(tmp_path: Path) -> None:
    body = struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 9, 8)  # tsresol claims 8 bytes
    data = shb() + pcapng_block(1, body) + epb(0, 1_000_000, ETH)
    (pkt,) = list(open_capture(_write(tmp_path, data)))
    assert pkt.ts == pytest.approx(1.0)


def test_scapy_pcapng_writer_reads_back(tmp_path: Path) -> None:
    path = str(tmp_path / "s.pcapng")
    pkts = [Ether() / IP(dst=f"10.1.0.{i}") / UDP(dport=53) for i in range(1, 6)]
    for i, p in enumerate(pkts):
        p.time = 2000 + i
    with PcapNgWriter(path) as w:
        for p in pkts:
            w.write(p)
    got = list(open_capture(path))
    assert [g.data for g in got] == [bytes(p) for p in pkts]
    assert [round(g.ts) for g in got] == [2000, 2001, 2002, 2003, 2004]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_after_a_valid_start_give_packets_or_a_warning(tail: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cap = open_capture(_write(Path(tmp), shb() + idb(1) + epb(0, 1, ETH) + tail))
        got = list(cap)
        assert got and got[0].data == ETH
        assert all(isinstance(p.data, bytes) for p in got)
        assert cap.truncated == bool(cap.warnings)
