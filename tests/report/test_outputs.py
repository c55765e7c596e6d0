"""write_outputs: every table as CSV and JSON, the reports, summary.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.api import Result
from inspector.report.outputs import CONTRACT_TABLES, summary_for_output


def test_every_output_written(sample_out: Path, sample_result: Result) -> None:
    names = {p.name for p in sample_out.iterdir()}
    for table in sample_result.tables:
        assert {f"{table}.csv", f"{table}.json"} <= names
    for table in CONTRACT_TABLES:
        assert f"{table}.csv" in names
    assert {"summary.json", "report.csv", "report.html"} <= names


def test_summary_for_output_does_not_mutate(sample_result: Result) -> None:
    out = summary_for_output(sample_result)
    assert "abspath" in out["inputs"][0]
    assert "abspath" not in sample_result.summary["inputs"][0]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes().replace(str(folder).encode(), b"OUT")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_outputs_written_by_worker_processes_are_identical(
    sample_result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """jobs > 1 formats tables (and a run's pages) in other processes: the same bytes."""
    from inspector.batch import run_batch
    from inspector.report import outputs

    monkeypatch.setattr(outputs, "_POOL_ROWS", 1)  # every non-empty table goes to the pool
    root = Path(__file__).resolve().parents[2] / "captures"
    run = run_batch([root / "zoom-2020.pcap", root / "webrtc-p2p.pcap"], jobs=1).result
    for i, result in enumerate((sample_result, run)):
        one, two = tmp_path / f"one{i}", tmp_path / f"two{i}"
        outputs.write_outputs(result, one, jobs=1)
        outputs.write_outputs(result, two, jobs=2)
        a, b = _files(one), _files(two)
        assert a.keys() == b.keys()
        assert [n for n in a if a[n] != b[n]] == []
