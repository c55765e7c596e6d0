"""CSV outputs: formula-safe, UTF-8, every capture string kept, no forged rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.api import Result
from inspector.report.csvout import (
    FORMULA_PREFIXES,
    REPORT_COLUMNS,
    REPORT_ENCODING,
    WRAP_WIDTH,
    _neutralised,
    neutralise,
    report_columns_markdown,
    report_frame,
    write_csv,
)
from tests.report.hostile import ESCAPE, FORMULA, HOSTILE, SCRIPT

BLANKS = " \t\r\n\x0b\x0c\u00a0\u3000"


def read_cells(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(newline="", encoding=encoding) as fh:
        return list(csv.reader(fh))


def is_formula(cell: str) -> bool:
    return cell.startswith(FORMULA_PREFIXES) or cell.lstrip(BLANKS).startswith(FORMULA_PREFIXES)


def un_neutralise(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and is_formula(cell[1:]) else cell


def test_neutralise_prefixes_each_trigger() -> None:
    for trigger in ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠"):
        assert neutralise(trigger + "1+1") == "'" + trigger + "1+1"
    assert neutralise("  =1+1") == "'  =1+1"  # spreadsheets that trim would still see '='
    assert neutralise("\u00a0@SUM(1)") == "'\u00a0@SUM(1)"
    assert neutralise("zoom.us") == "zoom.us"
    assert neutralise("a=b") == "a=b"
    assert neutralise("") == ""
    assert neutralise(5) == 5 and neutralise(None) is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_neutralise_property(text: str) -> None:
    out = neutralise(text)
    assert isinstance(out, str)
    assert not is_formula(out)
    assert out in (text, "'" + text)  # the capture's string is kept whole after the mark


def test_no_table_csv_cell_starts_a_formula(hostile_out: Path, hostile_result: Result) -> None:
    for name, frame in hostile_result.tables.items():
        rows = read_cells(hostile_out / f"{name}.csv")
        assert rows[0] == list(frame.columns), name
        assert len(rows) == len(frame) + 1, f"{name}: a CR/LF in a cell forged a row"
        for row in rows:
            for cell in row:
                assert not is_formula(cell), (name, cell)


def test_hostile_strings_are_kept_readable(hostile_out: Path) -> None:
    cells = {cell for row in read_cells(hostile_out / "tls.csv") for cell in row}
    for name in HOSTILE:
        assert name in cells or "'" + name in cells, repr(name)
    assert "'" + FORMULA in cells and SCRIPT in cells and ESCAPE in cells
    http = {cell for row in read_cells(hostile_out / "http.csv") for cell in row}
    assert "'" + FORMULA in http


def test_table_csv_round_trips_through_pandas(hostile_out: Path, hostile_result: Result) -> None:
    back = pd.read_csv(hostile_out / "tls.csv", dtype=str, keep_default_na=False)
    original = hostile_result.tables["tls"]["sni"].fillna("").tolist()
    assert [un_neutralise(x) for x in back["sni"]] == original


def test_crlf_line_ends_and_utf8(hostile_out: Path) -> None:
    raw = (hostile_out / "flows.csv").read_bytes()
    assert raw.endswith(b"\r\n") and not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")  # strict: valid UTF-8
    assert "Ünïcødé-名前" in text


def test_report_csv_for_people(hostile_out: Path, hostile_result: Result) -> None:
    raw = (hostile_out / "report.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM: a double-click import shows it as text"
    rows = read_cells(hostile_out / "report.csv", encoding=REPORT_ENCODING)
    assert rows[0] == [name for name, _doc, _fn in REPORT_COLUMNS]
    assert len(rows) == len(hostile_result.tables["findings"]) + 1
    cells = [cell for row in rows for cell in row]
    assert not any(is_formula(c) for c in cells)
    assert not any(ch in c for c in cells for ch in "\x1b\x07\x08\r\u202e")
    assert "\\x1b[31mred" in cells  # control characters shown, not dropped
    assert "evil\\u202etxt.exe" in cells
    assert SCRIPT in cells and "Ünïcødé-\\u540d\\u524d" in cells  # Latin-1 kept, CJK escaped
    assert any(c.startswith("'=HYPERLINK(") for c in cells)
    assert "Unencrypted web request" in cells
    header = dict(zip(rows[0], rows[1], strict=True))
    assert header["Finding ID"] == "F0001" and header["First seen (UTC)"].endswith(" UTC")


def test_report_frame_sample(sample_result: Result) -> None:
    findings = sample_result.tables["findings"]
    frame = report_frame(findings)
    assert list(frame["Finding ID"]) == list(findings["finding_id"])
    i = list(findings["finding"]).index("third_party_telemetry")
    row = frame.iloc[i]
    assert row["Finding"] == "Third-party tracker or telemetry contacted"
    assert row["Destination"] == "graph.facebook.com"
    assert row["Protection"] == "TLS to the server (TRANSPORT_TLS)"
    assert int(row["Bytes sent"]) == int(findings["bytes_to_server"].iloc[i])
    assert str(frame["Connections"].dtype) == "Int64"


def test_report_columns_documented() -> None:
    doc = report_columns_markdown()
    for name, text, _fn in REPORT_COLUMNS:
        assert f"| {name} | {text} |" in doc


def test_write_csv_empty_and_na(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"a": pd.array(["=x", None], dtype="string"), "n": pd.array([1, None], dtype="Int64")}
    )
    write_csv(frame, tmp_path / "t.csv")
    assert read_cells(tmp_path / "t.csv") == [["a", "n"], ["'=x", "1"], ["", ""]]


def test_report_csv_wraps_long_texts_at_spaces(sample_result: Result) -> None:
    frame = report_frame(sample_result.tables["findings"])
    findings = sample_result.tables["findings"]
    long = [i for i, e in enumerate(findings["explanation"]) if len(str(e)) > WRAP_WIDTH]
    assert long, "the sample has long explanations"
    for i in long:
        cell = frame["Explanation"].iloc[i]
        lines = cell.split("\n")
        assert len(lines) > 1 and all(len(x) <= WRAP_WIDTH or " " not in x for x in lines)
        assert " ".join(lines) == " ".join(str(findings["explanation"].iloc[i]).split())
    assert all("\n" not in str(c) for c in frame["Destination"])  # short columns untouched


@settings(max_examples=60, deadline=None)
@given(st.lists(st.none() | st.text(st.sampled_from("=+-@ \t\r\n\u3000\uff1dax"), max_size=4)))
def test_neutralised_columns_equal_cell_by_cell(values: list[str | None]) -> None:
    """The vectorised scan of a text column neutralises exactly the cells neutralise() would."""
    frame = pd.DataFrame({"s": pd.array(values, dtype="string")})
    got = [None if v is pd.NA else v for v in _neutralised(frame)["s"].tolist()]
    assert got == [v if v is None else neutralise(v) for v in values]
    kept = [None if v is pd.NA else v for v in frame["s"].tolist()]
    assert kept == values  # the caller's frame is not changed


def test_write_csv_scans_every_cell_for_triggers(tmp_path: Path) -> None:
    """The formula check reads each cell's first character: a trigger after NA or "" is found."""
    cells = [None, "", "ok", "+1", "\uff1dx", " =y", "=z"]
    frame = pd.DataFrame({"a": pd.array(cells, dtype="string")})
    write_csv(frame, tmp_path / "t.csv")
    assert read_cells(tmp_path / "t.csv") == [
        ["a"],
        [""],
        [""],
        ["ok"],
        ["'+1"],
        ["'\uff1dx"],
        ["' =y"],
        ["'=z"],
    ]
