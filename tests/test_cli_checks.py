"""Argument and output checks: exit 2, one stderr line, no traceback, OUTDIR untouched, and (where
the check can be made up front) before any packet is read."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import pytest

import inspector.batch
import inspector.source.open
from inspector.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "captures" / "zoom-2020.pcap"


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for folders)."""
    out: dict[str, bytes | None] = {}
    for d, dirs, files in os.walk(root):
        for n in dirs:
            out[os.path.join(d, n)] = None
        for n in files:
            p = os.path.join(d, n)
            out[p] = Path(p).read_bytes()
    return out


@pytest.fixture
def no_packets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any capture is opened or the batch runs."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a packet was read before the check")

    monkeypatch.setattr(inspector.batch, "run_batch", boom)
    monkeypatch.setattr(inspector.source.open, "open_capture", boom)


def _refused(capsys: pytest.CaptureFixture[str], tmp: Path, argv: list[str]) -> str:
    before = _tree(tmp)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("inspector: error: ")
    assert "Traceback" not in err and "internal error" not in err
    assert _tree(tmp) == before
    return lines[0]


@pytest.mark.usefixtures("no_packets")
def test_outdir_naming_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.txt"
    target.write_text("mine\n", encoding="utf-8")
    line = _refused(capsys, tmp_path, ["analyze", str(SAMPLE), "-o", str(target)])
    assert "is not a folder" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
@pytest.mark.usefixtures("no_packets")
def test_unwritable_outdir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        line = _refused(capsys, tmp_path, ["analyze", str(SAMPLE), "-o", str(locked / "out")])
    finally:
        locked.chmod(0o700)
    assert "cannot write there" in line


@pytest.mark.usefixtures("no_packets")
def test_uncreatable_outdir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("x", encoding="utf-8")
    line = _refused(capsys, tmp_path, ["analyze", str(SAMPLE), "-o", str(blocker / "sub" / "out")])
    assert "plain-file" in line


@pytest.mark.usefixtures("no_packets")
def test_outdir_under_a_read_only_filesystem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.access("/proc", os.W_OK) and os.geteuid() != 0:
        pytest.skip("/proc writable here")
    line = _refused(capsys, tmp_path, ["analyze", str(SAMPLE), "-o", "/proc/inspector-out"])
    assert "cannot write there" in line


@pytest.mark.usefixtures("no_packets")
def test_client_not_an_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    line = _refused(
        capsys, tmp_path, ["analyze", str(SAMPLE), "-o", str(out), "--client", "not-an-ip"]
    )
    assert "'not-an-ip' is not an IPv4 or IPv6 address" in line


@pytest.mark.parametrize("existing", [False, True])
def test_client_absent_from_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], existing: bool
) -> None:
    """Only knowable after reading: refused before any output (or cache) is written."""
    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "notes.txt").write_text("keep me", encoding="utf-8")
    argv = ["analyze", str(SAMPLE), "-o", str(out), "--client", "10.99.99.99", "--no-progress"]
    line = _refused(capsys, tmp_path, argv)
    assert "10.99.99.99 is not an endpoint of any flow" in line


def test_client_present_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["analyze", str(SAMPLE), "-o", str(out), "-q"]) == 0
    flows = (out / "flows.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    header = (out / "flows.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    client = flows[header.index("orig_h")]
    out2 = tmp_path / "out2"
    assert main(["analyze", str(SAMPLE), "-o", str(out2), "-q", "--client", client]) == 0


@pytest.mark.usefixtures("no_packets")
@pytest.mark.parametrize("text", ["hello world\n", "", "# only a comment\nCLIENT_RANDOM zz yy\n"])
def test_garbage_keylog(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    keylog = tmp_path / "keys.txt"
    keylog.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["analyze", str(SAMPLE), "-o", str(out), "--keylog", str(keylog)]
    line = _refused(capsys, tmp_path, argv)
    assert "no line in NSS key log format" in line


def test_good_keylog_line_passes_the_check(tmp_path: Path) -> None:
    from inspector.source.checks import check_keylogs

    path = tmp_path / "keys.txt"
    path.write_text(f"CLIENT_RANDOM {'ab' * 32} {'cd' * 48}\n", encoding="utf-8")
    check_keylogs([str(path)])


def _gz_cut_after_header() -> bytes:
    raw = SAMPLE.read_bytes()
    d = zlib.compressobj(9, zlib.DEFLATED, 31)
    return d.compress(raw[:24]) + d.flush(zlib.Z_SYNC_FLUSH)


@pytest.mark.usefixtures("no_packets")
@pytest.mark.parametrize(
    "make",
    [
        _gz_cut_after_header,
        lambda: b"\x1f\x8b\x08\x00garbage garbage",
    ],
    ids=["ends-before-first-packet", "corrupt-deflate"],
)
def test_corrupt_gzip(tmp_path: Path, capsys: pytest.CaptureFixture[str], make) -> None:  # type: ignore[no-untyped-def]
    cap = tmp_path / "bad.pcap.gz"
    cap.write_bytes(make())
    line = _refused(capsys, tmp_path, ["analyze", str(cap), "-o", str(tmp_path / "out")])
    assert "bad.pcap.gz" in line and "before the first packet" in line


def test_gzip_cut_after_packets_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cap = tmp_path / "cut.pcap.gz"
    cap.write_bytes(gzip.compress(SAMPLE.read_bytes())[:3000])
    assert main(["analyze", str(cap), "-o", str(tmp_path / "out"), "--no-progress"]) == 0
    got = capsys.readouterr()
    both = got.out + got.err
    assert both.count("compressed data ends early or is corrupt") == 1, both
