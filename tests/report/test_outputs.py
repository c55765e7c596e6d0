"""write_outputs: every table as CSV and JSON, the reports, summary.json."""

from __future__ import annotations

from pathlib import Path

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
