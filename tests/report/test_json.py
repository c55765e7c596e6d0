"""JSON outputs: records, NaN/NA as null, strings exactly as decoded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.api import Result
from inspector.report.jsonout import _encode, dumps, json_lines, records, write_json
from tests.report.hostile import ESCAPE, FORMULA, SCRIPT


def strict_load(path: Path) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_records_missing_values_become_null() -> None:
    frame = pd.DataFrame(
        {
            "s": pd.array(["a", None], dtype="string"),
            "i": pd.array([1, None], dtype="Int64"),
            "f": [1.5, float("nan")],
            "b": pd.array([True, None], dtype="boolean"),
        }
    )
    assert records(frame) == [
        {"s": "a", "i": 1, "f": 1.5, "b": True},
        {"s": None, "i": None, "f": None, "b": None},
    ]
    assert type(records(frame)[0]["i"]) is int


def test_dumps_refuses_nan_and_converts_numpy() -> None:
    assert json.loads(dumps({"x": np.int64(3), "y": np.float64(2.5)})) == {"x": 3, "y": 2.5}
    assert dumps({"x": float("nan")}, indent=None) == '{"x": null}'


def test_every_table_written_as_json(sample_out: Path, sample_result: Result) -> None:
    for name, frame in sample_result.tables.items():
        data = strict_load(sample_out / f"{name}.json")
        assert isinstance(data, list) and len(data) == len(frame), name
        if len(frame):
            assert list(data[0]) == list(frame.columns)


def test_json_keeps_values_exactly(sample_out: Path, sample_result: Result) -> None:
    flows = strict_load(sample_out / "flows.json")
    frame = sample_result.flows
    assert [f["uid"] for f in flows] == list(frame["uid"])
    for got, ts in zip(flows, frame["ts"], strict=True):
        assert got["ts"] == ts  # full float precision, not rounded
    findings = strict_load(sample_out / "findings.json")
    assert findings[0]["finding_id"] == "F0001"
    assert findings[0]["modifiers"] is None or isinstance(findings[0]["modifiers"], str)


def test_hostile_strings_exact_in_json(hostile_out: Path) -> None:
    raw = (hostile_out / "tls.json").read_text(encoding="utf-8")
    assert "\x1b" not in raw  # escaped as \u001b by JSON itself
    snis = {r["sni"] for r in strict_load(hostile_out / "tls.json")}  # type: ignore[union-attr]
    assert {FORMULA, SCRIPT, ESCAPE, "bell\x07back\x08cr\rnul", "evil\u202etxt.exe"} <= snis


def test_summary_json_has_capture_location(sample_out: Path) -> None:
    summary = strict_load(sample_out / "summary.json")
    item = summary["inputs"][0]  # type: ignore[index]
    assert Path(item["abspath"]).is_absolute() and Path(item["abspath"]).is_file()
    assert item["size_bytes"] == Path(item["abspath"]).stat().st_size


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_infinities_become_null(tmp_path: Path, value: float) -> None:
    write_json(pd.DataFrame({"f": [value]}), tmp_path / "x.json")
    assert strict_load(tmp_path / "x.json") == [{"f": None}]


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | _TEXT,
            st.none() | st.integers(-(2**63), 2**63 - 1),
            st.none() | st.booleans(),
            st.floats(allow_nan=True, allow_infinity=True),
        ),
        max_size=8,
    )
)
def test_json_lines_equal_record_by_record_encoding(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """The column-wise writer gives exactly what encoding each record with ``json`` gives."""
    frame = pd.DataFrame(
        {
            "s": pd.array([r[0] for r in rows], dtype="string"),
            "i": pd.array([r[1] for r in rows], dtype="Int64"),
            "b": pd.array([r[2] for r in rows], dtype="boolean"),
            "f": pd.array([r[3] for r in rows], dtype="float64"),
            "o": pd.Series([r[0] if k % 2 else r[1] for k, r in enumerate(rows)], dtype=object),
        }
    )
    assert json_lines(frame) == [_encode(r, None) for r in records(frame)]


def test_json_lines_column_names_with_braces_and_quotes() -> None:
    """Each record is one format call of a per-table template: a column name holding braces
    or quotes is still encoded as ``json`` encodes it."""
    frame = pd.DataFrame(
        {
            "a{0}": pd.array(["x", None, "x"], dtype="string"),
            'b"}{': pd.array([1, None, 2], dtype="Int64"),
        }
    )
    assert json_lines(frame) == [_encode(r, None) for r in records(frame)]


def test_json_lines_repeated_and_empty_strings() -> None:
    """Text is encoded once per distinct value: repeats, "" and NA keep their own encoding."""
    values = ["a\x1b", None, "", "a\x1b", "\u202e", None, ""]
    frame = pd.DataFrame({"s": pd.array(values, dtype="string")})
    assert json_lines(frame) == [_encode({"s": v}, None) for v in values]


def test_json_lines_long_text_columns() -> None:
    """A long text column takes the per-distinct-value path: same text as record by record."""
    values = ["a\x1b", None, "", "b", "\u202e"] * 300
    frame = pd.DataFrame(
        {"s": pd.array(values, dtype="string"), "i": pd.array(range(1500), dtype="Int64")}
    )
    assert json_lines(frame) == [_encode(r, None) for r in records(frame)]
