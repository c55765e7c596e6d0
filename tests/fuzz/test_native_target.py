"""The ``native`` fuzz target: the compiled core against its pure-Python twin.

The target (scripts/fuzz_entry.py ``native_capture``, ``native_frames``) reads a capture with
both twins and runs it through the flow table; any difference is a crasher. These tests check
that it does find a difference when there is one, and that it passes on agreeing twins.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from inspector import _native
from inspector.flows import fastloop
from tests.fuzz.harness import fuzz_entry, fuzz_parsers

pytestmark = pytest.mark.skipif(not _native.available(), reason="compiled core not built")


def _frames() -> bytes:
    """Two UDP packets of one flow (Ethernet), as the frames entry takes them."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 32, 1, 0, 64, 17, 0, b"\n\0\0\1", b"\n\0\0\2")
    frame = b"\2" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", 5000, 443, 12, 0) + b"abcd"
    chunk = struct.pack("!H", len(frame)) + frame
    return bytes([0, fuzz_entry.LINKTYPES.index(1)]) + chunk + chunk


def test_agreeing_twins_pass() -> None:
    fuzz_entry.native_frames(_frames())
    for seed in fuzz_parsers.seeds("native", limit=10, shared=False):
        fuzz_parsers.harness("native", None)(seed)


def test_a_difference_is_a_crasher(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pure path that loses the last packet differs from the compiled one: NativeMismatch."""
    real = fastloop.feed_spans_py

    def lossy(ingest: Any, spans: Iterable[Any], *args: Any) -> None:
        real(ingest, list(spans)[:-1], *args)

    monkeypatch.setattr(fastloop, "feed_spans_py", lossy)
    with pytest.raises(fuzz_entry.NativeMismatch, match=r"frames|summary|flows"):
        fuzz_entry.native_frames(_frames())


def test_the_target_leaves_the_selected_path_alone() -> None:
    before = _native.core
    fuzz_entry.native_frames(_frames())
    fuzz_entry.read_pcap(b"\0" + bytes(20))
    assert _native.core is before


@pytest.mark.parametrize("flags", [0, 8 | (3 << 5), 16])
def test_gzip_and_tight_limits_variants_agree(flags: int) -> None:
    fuzz_entry.native_frames(bytes([flags]) + _frames()[1:])


def test_instrumented_build_runs_with_its_runtime_preloaded(tmp_path: Path) -> None:
    assert fuzz_parsers.native_env(None) is None
    env = fuzz_parsers.native_env(tmp_path)
    assert env is not None and env["LD_PRELOAD"] == str(tmp_path / "preload.so")
    assert "detect_leaks=0" in env["ASAN_OPTIONS"] and "halt_on_error=1" in env["UBSAN_OPTIONS"]
    with pytest.raises(SystemExit, match=r"build_fuzz_native\.sh"):
        fuzz_parsers.use_native_build(tmp_path)  # no _core*.so there


def test_sanitizer_findings_count_as_crashes(tmp_path: Path) -> None:
    """What libFuzzer saves itself (an ASan report's input) is reported, not only our .txt."""
    (tmp_path / "crashes" / "native").mkdir(parents=True)
    (tmp_path / "crashes" / "native" / "crash-0123abcd").write_bytes(b"x")
    (tmp_path / "native.log").write_text("==1==ERROR: AddressSanitizer: heap-buffer-overflow\n")
    got = fuzz_parsers._summarise("native", 1, 1.0, tmp_path)
    assert got["libfuzzer_artifacts"] == ["crash-0123abcd"] and got["libfuzzer_error"]
