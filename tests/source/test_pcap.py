"""Classic pcap reader: byte orders, timestamp resolutions, snaplen, chunking, cuts, corruption."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import IP, TCP, Ether, wrpcap

from inspector.errors import InputError
from inspector.source import open_capture
from inspector.source.pcap import CHUNK, MAX_RECORD
from tests.source import pcap_bytes

FRAMES = [bytes([i]) * (60 + i) for i in range(5)]
TIMES = [1_600_000_000.5, 1_600_000_000.75, 1_600_000_001.000001, 1_600_000_002.25, 1.0]


def _write(tmp_path: Path, data: bytes, name: str = "c.pcap") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_both_byte_orders_and_resolutions(tmp_path: Path, order: str, nano: bool) -> None:
    path = _write(
        tmp_path, pcap_bytes(zip(TIMES, FRAMES, strict=True), order=order, nano=nano, linktype=1)
    )
    cap = open_capture(path)
    got = list(cap)
    assert [p.data for p in got] == FRAMES
    assert [p.linktype for p in got] == [1] * 5
    for p, ts in zip(got, TIMES, strict=True):
        assert p.ts == pytest.approx(ts, abs=1e-9 if nano else 1e-6)
    assert cap.format == "pcap" and not cap.compressed and not cap.truncated
    assert cap.linktypes == {1}


def test_nanosecond_precision_is_kept(tmp_path: Path) -> None:
    raw = pcap_bytes([], nano=True)
    raw += struct.pack("<IIII", 10, 123_456_789, 4, 4) + b"abcd"
    (pkt,) = list(open_capture(_write(tmp_path, raw)))
    assert pkt.ts == pytest.approx(10.123456789, abs=1e-9)


def test_snaplen_truncated_records_keep_wire_length(tmp_path: Path) -> None:
    full = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP() / (b"x" * 500))
    raw = pcap_bytes([(1.0, full[:96], len(full))], snaplen=96)
    (pkt,) = list(open_capture(_write(tmp_path, raw)))
    assert pkt.data == full[:96]
    assert pkt.wirelen == len(full)


def test_scapy_written_file_reads_back(tmp_path: Path) -> None:
    pkts = [Ether() / IP(dst=f"10.0.0.{i}") / TCP(dport=443) for i in range(1, 20)]
    for i, p in enumerate(pkts):
        p.time = 1000 + i / 10
    path = str(tmp_path / "s.pcap")
    wrpcap(path, pkts)
    got = list(open_capture(path))
    assert [g.data for g in got] == [bytes(p) for p in pkts]
    assert got[5].ts == pytest.approx(1000.5)


def test_records_spanning_chunk_boundaries(tmp_path: Path) -> None:
    # ~3.5 chunks of records of odd sizes, so records straddle every refill
    frames = [bytes([i % 251]) * (1000 + (i * 37) % 1500) for i in range(2600)]
    raw = pcap_bytes([(float(i), f) for i, f in enumerate(frames)])
    assert len(raw) > 3 * CHUNK
    got = list(open_capture(_write(tmp_path, raw)))
    assert len(got) == len(frames)
    assert all(g.data == f for g, f in zip(got, frames, strict=True))


def test_streaming_buffers_stay_chunk_sized(tmp_path: Path) -> None:
    """Memory must not grow with the file: spans point into buffers of about one chunk."""
    frames = [b"\x01" * 1400] * 6000  # ~8.5 MB
    path = _write(tmp_path, pcap_bytes((float(i), f) for i, f in enumerate(frames)))
    biggest = 0
    buffers = 0
    last = None
    for _ts, _lt, buf, start, end, _wl in open_capture(path).spans():
        assert end - start == 1400
        if buf is not last:
            buffers += 1
            biggest = max(biggest, len(buf))
            last = buf
    assert buffers >= 8
    assert biggest <= CHUNK + MAX_RECORD + 16


def test_large_record_up_to_limit(tmp_path: Path) -> None:
    big = b"\xab" * (MAX_RECORD - 10)
    path = _write(tmp_path, pcap_bytes([(1.0, b"a" * 60), (2.0, big), (3.0, b"b" * 60)]))
    got = list(open_capture(path))
    assert [len(g.data) for g in got] == [60, len(big), 60]


def test_cut_inside_record_data(tmp_path: Path) -> None:
    raw = pcap_bytes(zip(TIMES, FRAMES, strict=True))
    cap = open_capture(_write(tmp_path, raw[:-10]))
    got = list(cap)
    assert [g.data for g in got] == FRAMES[:-1]
    assert cap.truncated
    assert len(cap.warnings) == 1 and "inside a packet record" in cap.warnings[0]


def test_cut_inside_record_header(tmp_path: Path) -> None:
    raw = pcap_bytes(zip(TIMES, FRAMES, strict=True)) + b"\x00" * 7
    cap = open_capture(_write(tmp_path, raw))
    assert len(list(cap)) == 5
    assert cap.truncated and "record header" in cap.warnings[0]


def test_header_only_file_has_no_packets(tmp_path: Path) -> None:
    cap = open_capture(_write(tmp_path, pcap_bytes([])))
    assert list(cap) == [] and not cap.truncated and not cap.warnings


def test_global_header_cut_short(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="global header"):
        open_capture(_write(tmp_path, pcap_bytes([])[:15]))


def test_corrupt_record_length_stops_with_warning(tmp_path: Path) -> None:
    raw = pcap_bytes([(1.0, b"a" * 60)])
    raw += struct.pack("<IIII", 2, 0, 50_000_000, 60) + b"junk" * 100
    cap = open_capture(_write(tmp_path, raw))
    assert [g.data for g in cap] == [b"a" * 60]
    assert cap.truncated and "corrupt" in cap.warnings[0]


def test_linktype_from_header_and_fcs_bits_masked(tmp_path: Path) -> None:
    raw = pcap_bytes([(1.0, b"\x45" + bytes(19))], linktype=101 | 0x10000000)
    (pkt,) = list(open_capture(_write(tmp_path, raw)))
    assert pkt.linktype == 101


def test_capture_reads_once(tmp_path: Path) -> None:
    cap = open_capture(_write(tmp_path, pcap_bytes(zip(TIMES, FRAMES, strict=True))))
    assert len(list(cap)) == 5
    with pytest.raises(InputError, match="consumed"):
        list(cap)


def test_spans_and_packets_agree(tmp_path: Path) -> None:
    path = _write(tmp_path, pcap_bytes(zip(TIMES, FRAMES, strict=True)))
    packets = [(p.ts, p.linktype, p.data, p.wirelen) for p in open_capture(path)]
    spans = [(t, lt, b[s:e], w) for t, lt, b, s, e, w in open_capture(path).spans()]
    assert packets == spans


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["<", ">"]))
def test_any_bytes_after_the_header_give_records_or_a_warning(tail: bytes, order: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), pcap_bytes([(1.0, b"x" * 60)], order=order) + tail)
        cap = open_capture(path)
        got = list(cap)
        assert got and got[0].data == b"x" * 60
        assert cap.truncated == bool(cap.warnings)


def test_gzip_cut_anywhere_in_the_header_is_an_input_error(tmp_path: Path) -> None:
    """A cut gzip stream gives one clear InputError wherever the header stops, never a traceback."""
    whole = gzip.compress(pcap_bytes([(1.0, b"x" * 60)]), mtime=0)
    messages = []
    for n in range(len(whole)):
        path = tmp_path / f"cut{n}.pcap.gz"
        path.write_bytes(whole[:n])
        try:
            list(open_capture(str(path)))
        except InputError as exc:
            messages.append(str(exc))
    assert any("global header is cut short" in m for m in messages)
