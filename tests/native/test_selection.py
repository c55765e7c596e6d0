"""Which path runs: the compiled core when built, the reference on request or as a fallback."""

from __future__ import annotations

import os
import subprocess
import sys

from inspector import _native

_SHOW = "from inspector import _native; print(_native.core is not None)"


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != _native.ENV_PURE} | env
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=60
    )


def test_compiled_core_is_built() -> None:
    """``pip install .`` builds the extension (CI installs gcc and python3-dev for it)."""
    assert _native.available(), f"compiled core not built: {_native.build_error}"


def test_compiled_core_used_by_default() -> None:
    proc = _run(_SHOW)
    assert proc.stdout.strip() == "True" and proc.stderr == ""


def test_environment_selects_the_reference_silently() -> None:
    proc = _run(_SHOW, INSPECTOR_PURE_PYTHON="1")
    assert proc.stdout.strip() == "False" and proc.stderr == ""


def test_missing_extension_falls_back_with_one_warning_line() -> None:
    # a None entry in sys.modules makes the import fail, as a missing build would
    code = "import sys; sys.modules['inspector._native._core'] = None; " + _SHOW
    proc = _run(code)
    assert proc.stdout.strip() == "False"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "pure-Python path" in lines[0], proc.stderr


def test_twins_share_their_api() -> None:
    from inspector.flows import fastloop, table
    from inspector.source import pcap

    core = _native._built
    assert core is not None
    side_fields = set(table.Side.__slots__)
    flow = table.Flow((6, b""), 6, b"\x01" * 4, 1, b"\x02" * 4, 2, 5.0, 7, "", table.FlowLimits())
    native_side = core.Side(flow, True, b"k", None)
    assert {f for f in side_fields if hasattr(native_side, f)} == side_fields
    assert native_side.last_ts == 5.0 and native_side.last_frame == 7
    native_side.bytes += 3
    assert native_side.bytes == 3
    assert core.MAX_RECORD == pcap.MAX_RECORD
    assert fastloop.feed_spans_py.__code__.co_varnames[:4] == (
        "ingest",
        "spans",
        "tick",
        "tick_every",
    )
