"""Rows -> DataFrames typed as the schema declares (inspector.tables)."""

from __future__ import annotations

import pandas as pd

from inspector.schema import columns, load_all
from inspector.schema.flows import FlowRow
from inspector.tables import empty_frame, to_frame
from tests.factories import flow


def test_columns_in_declared_order_with_declared_dtypes() -> None:
    frame = to_frame("flows", [flow("C1"), flow("C2", orig_bytes=None)])
    declared = columns(FlowRow)
    assert list(frame.columns) == [name for name, _t, _d in declared]
    for (name, dtype, _doc), got in zip(declared, frame.dtypes, strict=True):
        if dtype == "string":
            assert isinstance(got, pd.StringDtype), name
        else:
            assert str(got) == dtype, name


def test_each_cell_is_its_rows_value() -> None:
    rows = [flow("C1", orig_bytes=10, server_name="a"), flow("C2", orig_bytes=None)]
    frame = to_frame("flows", rows)
    for name, _dtype, _doc in columns(FlowRow):
        got = frame[name].tolist()
        want = [getattr(r, name) for r in rows]
        assert [None if pd.isna(v) else v for v in got] == [
            None if v is None or v != v else v for v in want
        ], name


def test_empty_frames_are_typed_and_independent() -> None:
    for name in load_all():
        a, b = empty_frame(name), empty_frame(name)
        assert len(a) == 0 and list(a.dtypes) == list(to_frame(name, []).dtypes)
        a["extra"] = pd.array([], dtype="string")
        assert "extra" not in b.columns
