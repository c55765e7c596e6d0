"""The destinations table: every published flow counted in exactly one row, and the report's
sortable Destinations section (checked in headless Chromium on a shared capture)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import inspector
from inspector.api import Result
from inspector.report.destinations import SORT_COLUMNS, destinations_frame, destinations_view
from inspector.report.outputs import write_outputs
from inspector.schema import columns
from inspector.schema.destinations import DestinationRow

ROOT = Path(__file__).resolve().parents[2]
WHATSAPP = ROOT.parent / "shared" / "captures" / "real" / "ndpi" / "pcap" / "whatsapp.pcap"


def _dest(flows: pd.DataFrame) -> list[str]:
    return [
        str(n) if isinstance(n, str) and n else str(a)
        for n, a in zip(flows["server_name"].fillna(""), flows["resp_h"], strict=True)
    ]


def test_every_flow_counted_once(sample_result: Result) -> None:
    flows = sample_result.tables["flows"]
    d = destinations_frame(flows)
    assert list(d.columns) == [c for c, _t, _d in columns(DestinationRow)]
    assert int(d["flows"].sum()) == len(flows)
    assert int(d["bytes_sent"].sum()) == int(flows["orig_bytes"].sum())
    assert int(d["bytes_received"].sum()) == int(flows["resp_bytes"].sum())
    assert set(d["destination"]) == set(_dest(flows))
    assert not d.duplicated(["file", "destination", "address"]).any()
    fb = d[d["destination"] == "graph.facebook.com"].iloc[0]
    assert fb["organisation"] and fb["category"]
    assert fb["first_seen"] <= fb["last_seen"]


def test_result_carries_destinations(sample_result: Result) -> None:
    got = sample_result.tables["destinations"]
    pd.testing.assert_frame_equal(got, destinations_frame(sample_result.tables["flows"]))


def test_party_column_used_when_present(sample_result: Result) -> None:
    flows = sample_result.tables["flows"].copy()
    flows["party"] = ["third" if "facebook" in str(n) else "first" for n in flows["server_name"]]
    d = destinations_frame(flows)
    assert d.loc[d["destination"] == "graph.facebook.com", "party"].iloc[0] == "third"


def test_empty_flows_give_an_empty_typed_table() -> None:
    d = destinations_frame(pd.DataFrame())
    assert len(d) == 0 and list(d.columns) == [c for c, _t, _d in columns(DestinationRow)]


def test_view_ranks_are_permutations(sample_result: Result) -> None:
    view = destinations_view(destinations_frame(sample_result.tables["flows"]))
    for i, (_h, _v, key, largest_first) in enumerate(SORT_COLUMNS):
        ranks = [row[f"r{i}"] for row in view]
        assert sorted(ranks) == list(range(len(view)))
        ordered = [row[key] for row in sorted(view, key=lambda r, i=i: r[f"r{i}"])]
        if largest_first:
            assert ordered == sorted(ordered, reverse=True)


def test_outputs_write_destinations(sample_out: Path) -> None:
    text = (sample_out / "destinations.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("destination,address,ports,organisation,party")
    assert (sample_out / "destinations.json").is_file()


class _Rows(HTMLParser):
    """The first cell's first mono span of every row in #destinations-table."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.row_cells = 0
        self.grab = False
        self.names: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id") == "destinations-table":
            self.inside = True
        elif self.inside and tag == "tr":
            self.row_cells = 0
        elif self.inside and tag == "td":
            self.row_cells += 1
        elif (
            self.inside
            and tag == "span"
            and self.row_cells == 1
            and "mono" in (a.get("class") or "")
        ):
            self.grab = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        if tag == "span":
            self.grab = False

    def handle_data(self, data: str) -> None:
        if self.grab and self.row_cells == 1:
            self.names.append(data)
            self.grab = False
            self.row_cells = 99  # only the first mono span of the first cell


@pytest.mark.skipif(not WHATSAPP.is_file(), reason="shared captures not present")
def test_every_destination_in_the_browser_table(tmp_path: Path) -> None:
    from tests.report.test_browser import CHROMIUM, dump_dom

    if CHROMIUM is None:
        pytest.skip("chromium not installed")
    result = inspector.analyze(WHATSAPP)
    write_outputs(result, tmp_path / "out")
    dom = dump_dom(tmp_path / "out" / "report.html")
    parser = _Rows()
    parser.feed(dom)
    shown = set(parser.names)
    flows = result.tables["flows"]
    assert len(flows) > 0
    missing = set(_dest(flows)) - shown
    assert not missing, f"destinations not in the table: {sorted(missing)[:10]}"
    assert "179.60.195.49" in shown
    assert 'id="destinations"' in dom and "<script" not in dom.lower()


def test_long_flows_table_same_rows_as_short(sample_result: Result) -> None:
    """A flows table long enough for the factorized text path gives the rows the short path
    gives: the sample's flows repeated under distinct file names, one capture per copy."""
    flows = sample_result.tables["flows"]
    copies = -(-1200 // len(flows))  # at least 1200 rows in all
    parts = [
        flows.assign(file=pd.array([f"f{k}"] * len(flows), dtype="string")) for k in range(copies)
    ]
    long = destinations_frame(pd.concat(parts, ignore_index=True))
    assert len(pd.concat(parts)) >= 1200
    short = pd.concat([destinations_frame(p) for p in parts], ignore_index=True)
    key = ["file", "destination", "address"]
    got = long.sort_values(key, ignore_index=True)
    want = short.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
