"""inspector.batch_cache: the resume cache is data only, checked on load, never unpickled."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pandas as pd
import pytest

from inspector.batch import run_batch
from inspector.batch_cache import MAGIC, SUFFIX
from inspector.cli import main

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ("webrtc-p2p.pcap", "zoom-2020.pcap")


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    out = []
    for name in CAPTURES:
        (tmp_path / name).symlink_to(ROOT / "captures" / name)
        out.append(tmp_path / name)
    return out


class _Marker:
    """Unpickling this creates the file ``path``: proof that a cache file ran code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.path,))


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob(f"*{SUFFIX}"))


def _assert_same(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    pd.testing.assert_frame_equal(a, b, obj=name)


def test_round_trip_keeps_every_table_exactly(files: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = run_batch(files, jobs=1, cache_dir=cache)
    assert len(_entries(cache)) == len(files)
    assert not list(cache.glob("*.pickle"))
    second = run_batch(files, jobs=1, cache_dir=cache)
    assert all(o.cached for o in second.outcomes)
    assert second.result.summary == first.result.summary | {"files": second.result.summary["files"]}
    for name, frame in first.result.tables.items():
        _assert_same(second.result.tables[name], frame, name)


def test_workers_keep_their_captures_in_the_cache(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With worker processes, each worker writes its capture's entry: this process writes none
    (its Cache.put is replaced here; the workers' is not), and a second run resumes them all."""
    from inspector.batch_cache import Cache

    here: list[str] = []
    monkeypatch.setattr(Cache, "put", lambda self, key, *a: here.append(key))
    cache = tmp_path / "cache"
    first = run_batch(files, jobs=2, cache_dir=cache)
    assert here == [] and len(_entries(cache)) == len(files)
    assert not list(cache.glob("*.tmp"))
    second = run_batch(files, jobs=2, cache_dir=cache)
    assert all(o.cached for o in second.outcomes)
    for name, frame in first.result.tables.items():
        _assert_same(second.result.tables[name], frame, name)


@pytest.mark.parametrize("kind", ["pickle", "garbage", "cut", "other_file"])
def test_crafted_cache_file_is_rejected_and_reanalysed(
    files: list[Path], tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["analyze", *map(str, files), "-o", str(out), "-q", "--jobs", "1"]) == 0
    cache = out / ".inspector-cache"
    entries = _entries(cache)
    assert len(entries) == len(files)
    marker = tmp_path / "code-ran"
    good = entries[0].read_bytes()
    if kind == "pickle":  # what the old cache loaded: code execution on load
        payload = pickle.dumps(_Marker(marker))
        for e in entries:
            e.write_bytes(payload)
            e.with_suffix(".pickle").write_bytes(payload)
    elif kind == "garbage":
        entries[0].write_bytes(MAGIC + b"\xff\xff\xff\xff{not json")
    elif kind == "cut":
        entries[0].write_bytes(good[: len(good) // 2])
    else:  # a well-formed entry of another capture under this capture's key
        entries[0].write_bytes(entries[1].read_bytes())
    capsys.readouterr()
    before = (out / "flows.csv").read_bytes()
    assert main(["analyze", *map(str, files), "-o", str(out), "-q", "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error" not in err
    assert not marker.exists()
    assert (out / "flows.csv").read_bytes() == before
    import json

    cached = [f["cached"] for f in json.loads((out / "summary.json").read_text())["files"]]
    assert not all(cached)  # re-analysed, not taken from the forged entry
    # and the entry is rewritten as a good one
    assert entries[0].read_bytes().startswith(MAGIC)
    assert os.path.getsize(entries[0]) > 100


def test_changed_mtime_is_a_miss(files: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run_batch(files, jobs=1, cache_dir=cache)
    target = files[0].resolve()
    st = target.stat()
    link = tmp_path / "copy.pcap"
    link.write_bytes(target.read_bytes())
    os.utime(link, ns=(st.st_atime_ns, st.st_mtime_ns))
    files2 = [link]
    run_batch(files2, jobs=1, cache_dir=cache)
    assert run_batch(files2, jobs=1, cache_dir=cache).outcomes[0].cached
    os.utime(link, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert not run_batch(files2, jobs=1, cache_dir=cache).outcomes[0].cached
