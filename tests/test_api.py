"""The Python API returns typed DataFrames, no CSV round-trip."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import inspector
from inspector.schema import columns, load_all

SAMPLE = Path(__file__).resolve().parents[1] / "captures" / "zoom-2020.pcap"


def test_analyze_returns_declared_dtypes() -> None:
    result = inspector.analyze(SAMPLE)
    assert isinstance(result.flows, pd.DataFrame)
    for name, spec in load_all().items():
        frame = result.tables[name]
        for col_name, dtype, _doc in columns(spec.row):
            assert str(frame[col_name].dtype) == dtype, (name, col_name)
    assert len(result.flows) == result.summary["flows"]
    assert result.flows["uid"].is_unique


def test_uid_is_deterministic() -> None:
    a = inspector.analyze(SAMPLE).flows["uid"].tolist()
    b = inspector.analyze(str(SAMPLE)).flows["uid"].tolist()
    assert a == b
