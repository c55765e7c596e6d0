"""inspector.batch: each capture analysed as if alone, in parallel; bad inputs are rows."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import pandas as pd
import pytest

from inspector.api import analyze
from inspector.batch import EXIT_SOME_FAILED, Task, plan, run_batch
from inspector.batch_local import chunks
from inspector.batch_shard import merge_shards, read_capture
from inspector.cli import main
from inspector.config import Config
from inspector.errors import InputError
from inspector.flows.table import FlowLimits, shard_of
from inspector.pipeline import collect

#: diverse shared captures: Teams, STUN, QUIC, Zoom, WhatsApp, pcapng, gzip, TLS, DNS
FOLDER_FILES = (
    "ndpi/pcap/teams.pcap",
    "ndpi/pcap/stun.pcap",
    "ndpi/pcap/quic-mvfst-22.pcap",
    "ndpi/pcap/zoom.pcap",
    "ndpi/pcap/whatsapp_login_call.pcap",
    "ndpi/pcap/zoom_p2p.pcapng",
    "ndpi/pcap/443-chrome.pcap",
    "ndpi/pcap/signal.pcap",
    "ndpi_4.2/pcap/stun_facebook.pcapng",
    "wireshark/captures/tls-fragmented-handshakes.pcap.gz",
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Links to the shared captures (never copies) plus an empty file, in one folder."""
    from tests.conftest import real_dir

    real = real_dir()
    out = tmp_path_factory.mktemp("captures")
    for rel in FOLDER_FILES:
        src = real / rel
        if src.is_file():
            (out / src.name).symlink_to(src)
    (out / "empty.pcap").write_bytes(b"")
    return out


@pytest.fixture(scope="module")
def folder_run(folder: Path):  # type: ignore[no-untyped-def]
    return run_batch([folder], jobs=2, split_bytes=0)


def _strip_ns(frame: pd.DataFrame, index: int) -> pd.DataFrame:
    frame = frame.drop(columns=["finding_id"], errors="ignore").reset_index(drop=True)
    if "session_id" in frame.columns:
        frame["session_id"] = frame["session_id"].str.replace(f"{index}:", "", regex=False)
    return frame


def _alone(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["finding_id"], errors="ignore").reset_index(drop=True)


def test_every_file_equals_its_run_alone(folder: Path, folder_run) -> None:  # type: ignore[no-untyped-def]
    run = folder_run.result
    ok = [o for o in folder_run.outcomes if o.status == "ok"]
    assert len(ok) == len(list(folder.glob("*"))) - 1
    for o in ok:
        alone = analyze(o.path)
        for table in ("flows", "sessions", "findings"):
            mine = run.tables[table]
            mine = mine[mine["file"] == o.file].reset_index(drop=True)
            expected = _alone(alone.tables[table])
            got = _strip_ns(mine, o.index)[list(expected.columns)]
            pd.testing.assert_frame_equal(got, expected, obj=f"{o.file} {table}")
        assert o.result is not None and o.result.summary["packets"] == alone.summary["packets"]


def test_no_session_spans_two_files(folder_run) -> None:  # type: ignore[no-untyped-def]
    flows = folder_run.result.tables["flows"]
    in_session = flows[~flows["session_id"].fillna("").isin(["", "outside"])]
    assert len(in_session)
    assert (in_session.groupby("session_id")["file"].nunique() == 1).all()
    index_of = {o.file: o.index for o in folder_run.outcomes}
    for sid, file in zip(in_session["session_id"], in_session["file"], strict=True):
        assert sid.startswith(f"{index_of[file]}:")
    sessions = folder_run.result.tables["sessions"]
    assert sessions["session_id"].is_unique
    findings = folder_run.result.tables["findings"]
    assert findings["finding_id"].is_unique
    assert list(findings["finding_id"]) == [f"F{i:04d}" for i in range(1, len(findings) + 1)]


def test_bad_file_is_a_row_and_packets_add_up(folder_run) -> None:  # type: ignore[no-untyped-def]
    summary = folder_run.result.summary
    failed = [f for f in summary["files"] if f["status"] == "failed"]
    assert [(f["file"], f["reason"]) for f in failed] == [
        ("empty.pcap", "empty file, not a capture")
    ]
    assert folder_run.exit_code == EXIT_SOME_FAILED
    per_file = [f["packets"]["total"] for f in summary["files"] if f["status"] == "ok"]
    assert summary["packets"]["total"] == sum(per_file) > 0
    pk = summary["packets"]
    assert pk["total"] == pk["decoded"] + pk["skipped_total"] + pk["malformed_total"]


@pytest.mark.parametrize("name", ["teams.pcap", "zoom_p2p.pcapng", "stun.pcap"])
def test_one_capture_split_across_workers_is_identical(folder: Path, name: str) -> None:
    path = folder / name
    if not path.exists():
        pytest.skip(f"{name} not in the corpus")
    split = run_batch([path], jobs=2, split_bytes=0)
    assert split.outcomes[0].status == "ok"
    alone = analyze(path)
    for table, frame in alone.tables.items():
        pd.testing.assert_frame_equal(split.result.tables[table], frame, obj=table)
    summary = {k: v for k, v in split.result.summary.items() if k in alone.summary}
    assert summary == alone.summary


def test_plan_splits_only_a_capture_larger_than_its_share() -> None:
    caps = [(("big",), 100 << 20, ""), (("a",), 1 << 20, ""), (("b",), 1 << 20, "")]
    tasks = plan(caps, 2, 32 << 20)
    assert [t.shard for t in tasks if t.paths == ("big",)] == [(0, 2), (1, 2)]
    assert [t.shard for t in tasks if t.paths != ("big",)] == [None, None]
    assert plan(caps, 1, 0) == [
        Task(0, ("big",), None, 100 << 20),
        Task(1, ("a",), None, 1 << 20),
        Task(2, ("b",), None, 1 << 20),
    ]


def _tasks(sizes: list[int], shards: int = 0) -> list[Task]:
    tasks = [Task(i, (f"f{i}",), None, s) for i, s in enumerate(sizes)]
    tasks += [Task(len(sizes), ("big",), (k, shards), 1 << 30) for k in range(shards)]
    return sorted(tasks, key=lambda t: -t.size)


@pytest.mark.parametrize("workers", [1, 2, 8])
def test_chunks_keep_every_task_once_in_order(workers: int) -> None:
    tasks = _tasks([(i * 7919) % 5000 << 10 for i in range(300)], shards=2)
    got = chunks(tasks, workers)
    assert [t for c in got for t in c] == tasks
    assert all(len(c) == 1 for c in got if any(t.shard for t in c))  # a shard is alone


def test_chunks_shrink_toward_the_end_of_the_run() -> None:
    got = chunks(_tasks([100 << 10] * 400), 2)
    sizes = [len(c) for c in got]
    assert sizes[0] > 10 * sizes[-1]  # few round trips early, fine-grained at the end
    assert sizes == sorted(sizes, reverse=True)
    assert len(got) < 100


def test_one_large_capture_among_small_ones_is_a_chunk_of_its_own() -> None:
    got = chunks(_tasks([1 << 30] + [10 << 10] * 50), 2)
    assert len(got[0]) == 1 and got[0][0].size == 1 << 30


def test_this_process_reads_a_shard_only_of_a_lone_split_capture() -> None:
    from inspector.batch_local import _shard_here

    lone = [Task(0, ("big",), (k, 2), 1 << 30) for k in range(2)]
    assert _shard_here(lone, 2) is lone[0]
    assert _shard_here([*lone, Task(1, ("a",), None, 1 << 20)], 2) is None
    assert _shard_here(_tasks([1 << 20, 1 << 20]), 2) is None  # whole captures: workers only


def test_chunks_that_cannot_be_submitted_are_error_rows() -> None:
    from concurrent.futures import ProcessPoolExecutor

    from inspector.batch_local import _Submitter

    pool = ProcessPoolExecutor(1)
    pool.shutdown()
    todo = [_tasks([1 << 20, 2 << 20]), _tasks([3 << 20])]
    sub = _Submitter(pool, todo, Config())
    assert sub.join() == {}
    outs = list(sub.unsent())
    assert [t for t, _ in outs] == [t for c in todo for t in c]
    assert all(o[0] == "error" and o[2] is True for _, o in outs)


def test_shard_of_ignores_direction() -> None:
    a, b = bytes([10, 0, 0, 1]), bytes([93, 184, 216, 34])
    for n in (2, 3, 7):
        assert shard_of(6, a, b, 51000, 443, n) == shard_of(6, b, a, 443, 51000, n)
    spread = {shard_of(17, a, b, p, 53, 4) for p in range(1000, 1100)}
    assert spread == {0, 1, 2, 3}


def test_no_readable_input_is_bad_usage(tmp_path: Path) -> None:
    (tmp_path / "a.pcap").write_bytes(b"")
    (tmp_path / "b.pcap").write_bytes(b"not a capture at all")
    with pytest.raises(InputError, match="no readable capture among 2"):
        run_batch([tmp_path])


def test_cli_exit_codes(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = folder / "stun.pcap"
    bad = tmp_path / "empty.pcap"
    bad.write_bytes(b"")
    out = tmp_path / "out"
    assert main(["analyze", str(good), str(bad), "-o", str(out), "-q", "--jobs", "1"]) == 3
    err = capsys.readouterr().err
    assert err.strip() == "inspector: failed: empty.pcap: empty file, not a capture"
    assert main(["analyze", str(bad), "-o", str(tmp_path / "o2")]) == 2
    assert not (tmp_path / "o2").exists()
    assert main(["analyze", str(tmp_path / "nope.pcap"), "-o", str(tmp_path / "o3")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(good), "-o", str(out), "--jobs", "0"])
    assert exc.value.code == 2


def test_resume_reuses_unchanged_captures(folder: Path, tmp_path: Path) -> None:
    files = [folder / "stun.pcap", folder / "quic-mvfst-22.pcap"]
    cache = tmp_path / "cache"
    first = run_batch(files, jobs=1, cache_dir=cache)
    assert not any(o.cached for o in first.outcomes)
    second = run_batch(files, jobs=1, cache_dir=cache)
    assert all(o.cached for o in second.outcomes)
    for name, frame in first.result.tables.items():
        pd.testing.assert_frame_equal(second.result.tables[name], frame, obj=name)
    # another configuration is another result
    third = run_batch(files, Config(client="10.0.0.1"), jobs=1, cache_dir=cache)
    assert not any(o.cached for o in third.outcomes)


def test_parquet_and_html_index(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["analyze", str(folder), "-o", str(out), "-q", "--jobs", "2", "--format", "parquet"]
    assert main(argv) == EXIT_SOME_FAILED
    assert not (out / "flows.csv").exists()
    flows = pd.read_parquet(out / "parquet" / "flows")
    summary = json.loads((out / "summary.json").read_text())
    ok = [f for f in summary["files"] if f["status"] == "ok"]
    assert sorted(flows["file"].astype(str).unique()) == sorted(f["file"] for f in ok)
    assert len(flows) == summary["flows"]
    empty = pd.read_parquet(out / "parquet" / "http")
    assert "uid" in empty.columns
    index = (out / "report.html").read_text()
    for f in ok:
        assert f'href="files/{f["index"]:03d}-{f["file"]}.html"' in index
        page = out / "files" / f"{f['index']:03d}-{f['file']}.html"
        text = page.read_text()
        assert f["file"] in text and 'href="../report.html"' in text
    assert "empty file, not a capture" in index
    assert "<script" not in index


def _split_pcap(src: Path, a: Path, b: Path) -> None:
    """Write the first half of a classic pcap's records to ``a``, the rest to ``b``."""
    data = src.read_bytes()
    head, pos, recs = data[:24], 24, []
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while pos + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, pos + 8)[0]
        recs.append(data[pos : pos + 16 + incl])
        pos += 16 + incl
    half = len(recs) // 2
    b.write_bytes(head + b"".join(recs[half:]))  # written first: time order must decide
    a.write_bytes(head + b"".join(recs[:half]))


def test_merge_reads_a_ring_buffer_as_one_capture(folder: Path, tmp_path: Path) -> None:
    src = folder / "teams.pcap"
    _split_pcap(src.resolve(), tmp_path / "z-part1.pcap", tmp_path / "a-part2.pcap")
    merged = run_batch([tmp_path], merge=True, jobs=1)
    alone = analyze(src)
    cols = [c for c in alone.tables["flows"].columns if c != "file"]
    pd.testing.assert_frame_equal(merged.result.tables["flows"][cols], alone.tables["flows"][cols])
    assert merged.result.summary["packets"] == alone.summary["packets"]
    split = run_batch([tmp_path], merge=True, jobs=2, split_bytes=0)  # merged and split by flow
    for name, frame in merged.result.tables.items():
        pd.testing.assert_frame_equal(split.result.tables[name], frame, obj=name)
    separate = run_batch([tmp_path], jobs=1)
    assert len(separate.result.tables["flows"]) > len(alone.tables["flows"])


def _packet_stages(path: str, config: Config, shards: int) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """(rows per table, summary) from one process and from ``shards`` merged shards."""
    one = collect([path], config)
    parts = [
        read_capture([path], dataclasses.replace(config, shard=(k, shards))) for k in range(shards)
    ]
    merged = merge_shards(parts)
    return (one.rows, one.summary()), (merged.rows, merged.summary())


def test_shards_merge_identical_on_the_corpus() -> None:
    from tests.conftest import expected_rows, real_dir

    root = real_dir()
    different = []
    for row in expected_rows():
        one, merged = _packet_stages(str(root / row["path"]), Config(), 3)
        if one != merged:
            different.append(row["path"])
    assert not different


def test_shards_merge_identical_with_tight_timeouts(tmp_path: Path) -> None:
    """Frequent sweeps, idle ends and small caps: flows end where one process ends them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_capture", Path(__file__).resolve().parents[1] / "benchmarks" / "make_capture.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    path = tmp_path / "mix.pcap"
    mod.make_capture(path, packets=20_000, seed=11, duration=120.0)
    limits = FlowLimits(
        tcp_bytes=3000, udp_datagrams=3, udp_idle_s=2, tcp_idle_s=5, sweep_every_s=1
    )
    one, merged = _packet_stages(str(path), Config(limits=limits), 2)
    reasons = {r.end_reason for r in one[0]["flows"]}
    assert {"idle_timeout", "end_of_input"} <= reasons
    assert one == merged


def test_split_capture_under_flow_pressure_is_read_again_whole(folder: Path) -> None:
    """Shards would evict differently from one process: the capture is redone in one piece."""
    config = Config(limits=FlowLimits(max_flows=8))
    alone = analyze(folder / "teams.pcap", config)
    assert alone.summary["flows_evicted"] > 0
    split = run_batch([folder / "teams.pcap"], config, jobs=2, split_bytes=0)
    for table, frame in alone.tables.items():
        pd.testing.assert_frame_equal(split.result.tables[table], frame, obj=table)


def test_a_dead_worker_is_an_error_row_not_a_dead_run() -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from inspector.batch import task_output

    fut: Future[tuple[str, str]] = Future()
    fut.set_exception(BrokenProcessPool("a child process terminated abruptly"))
    kind, reason, internal = task_output(fut)
    assert (kind, internal) == ("error", True)
    assert "BrokenProcessPool" in reason


def test_a_dead_worker_fails_each_capture_of_its_chunk() -> None:
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from inspector.batch_local import chunk_output

    fut: Future[list[tuple[str, str]]] = Future()
    fut.set_exception(BrokenProcessPool("a child process terminated abruptly"))
    outs = chunk_output(fut, 3)
    assert len(outs) == 3 and all(o[0] == "error" and o[2] is True for o in outs)
