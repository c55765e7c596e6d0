"""open_capture / expand_paths: format detection, gzip, folders, and clear errors."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from inspector.errors import InputError
from inspector.source import expand_paths, open_capture
from tests.source import epb, idb, pcap_bytes, shb

FRAMES = [bytes([i]) * (64 + 3 * i) for i in range(6)]
PCAP = pcap_bytes((1000.0 + i, f) for i, f in enumerate(FRAMES))
PCAPNG = shb() + idb(1) + b"".join(epb(0, (1000 + i) * 1_000_000, f) for i, f in enumerate(FRAMES))


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize(
    ("name", "data", "fmt"), [("a.pcap", PCAP, "pcap"), ("a.pcapng", PCAPNG, "pcapng")]
)
def test_gzip_compressed(tmp_path: Path, name: str, data: bytes, fmt: str) -> None:
    cap = open_capture(_write(tmp_path, name + ".gz", gzip.compress(data)))
    assert cap.format == fmt and cap.compressed
    assert [p.data for p in cap] == FRAMES
    assert not cap.truncated


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    cap = open_capture(_write(tmp_path, "noext", gzip.compress(PCAP)))
    assert cap.compressed and len(list(cap)) == 6


def test_gzip_cut_short_keeps_packets_before(tmp_path: Path) -> None:
    big = pcap_bytes((float(i), os.urandom(900)) for i in range(400))
    z = gzip.compress(big)
    cap = open_capture(_write(tmp_path, "cut.pcap.gz", z[: len(z) // 2]))
    got = list(cap)
    assert 0 < len(got) < 400
    assert cap.truncated and cap.warnings


def test_gzip_of_garbage_is_not_a_capture(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a pcap"):
        open_capture(_write(tmp_path, "x.pcap.gz", gzip.compress(b"hello world, no capture")))


def test_corrupt_gzip_header_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        open_capture(_write(tmp_path, "x.pcap.gz", b"\x1f\x8b\x08\x00garbage-garbage"))


def test_not_a_capture(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not a pcap or pcapng capture \(starts with 3c68746d\)"):
        open_capture(_write(tmp_path, "page.pcap", b"<html>hello</html>"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty file"):
        open_capture(_write(tmp_path, "empty.pcap", b""))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        open_capture(str(tmp_path / "nope.pcap"))


def test_pcap_cut_mid_record(tmp_path: Path) -> None:
    cap = open_capture(_write(tmp_path, "cut.pcap", PCAP[:-20]))
    got = list(cap)
    assert [p.data for p in got] == FRAMES[:-1]
    assert cap.truncated
    assert len(cap.warnings) == 1 and "results cover everything before the cut" in cap.warnings[0]


def test_pcapng_cut_mid_block(tmp_path: Path) -> None:
    cap = open_capture(_write(tmp_path, "cut.pcapng", PCAPNG[:-20]))
    got = list(cap)
    assert [p.data for p in got] == FRAMES[:-1]
    assert cap.truncated
    assert len(cap.warnings) == 1 and "results cover everything before the cut" in cap.warnings[0]


def test_position_reports_progress(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.pcap", PCAP)
    cap = open_capture(path)
    assert cap.position() >= 4
    list(cap)
    assert cap.position() == 0  # closed after reading


def test_expand_paths_folder_recursive_and_sorted(tmp_path: Path) -> None:
    _write(tmp_path, "d/b.pcap", PCAP)
    _write(tmp_path, "d/a.pcapng.gz", gzip.compress(PCAPNG))
    _write(tmp_path, "d/sub/c.cap", PCAP)
    _write(tmp_path, "d/notes.txt", b"not a capture")
    single = _write(tmp_path, "single.pcapng", PCAPNG)
    got = expand_paths([tmp_path / "d", single])
    names = [Path(p).relative_to(tmp_path).as_posix() for p in got]
    assert names == ["d/a.pcapng.gz", "d/b.pcap", "d/sub/c.cap", "single.pcapng"]
    for p in got:
        assert len(list(open_capture(p))) == 6


def test_expand_paths_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no capture files"):
        expand_paths([tmp_path / "empty"])
    with pytest.raises(InputError, match="no such file"):
        expand_paths([tmp_path / "missing.pcap"])
