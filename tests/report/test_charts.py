"""Inline SVG charts: escaped labels, well-formed SVG, sensible grouping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd

from inspector.api import Result
from inspector.report.charts import WIDTH, Bar, bar_chart, bytes_by, category_colour, timeline

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_bar_chart_escapes_labels() -> None:
    svg = str(bar_chart([Bar("<script>alert(1)</script>", 10), Bar("a&b\x1b[31m", 5)], "t<"))
    assert "<script>" not in svg
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.get("viewBox", "").startswith(f"0 0 {WIDTH} ")
    labels = texts(root)
    assert "<script>alert(1)</script>" in labels  # text content, not markup
    assert "a&b\\x1b[31m" in labels
    assert root.find(f"{SVG}title").text == "t<"  # type: ignore[union-attr]


def test_bar_chart_scales_to_largest() -> None:
    root = parse(str(bar_chart([Bar("big", 100), Bar("small", 25)], "x")))
    widths = [float(r.get("width", 0)) for r in root.iter(f"{SVG}rect")]
    assert widths[0] > widths[1] > 0 and abs(widths[0] / widths[1] - 4) < 0.01


def test_bar_chart_empty() -> None:
    assert "Nothing to show" in str(bar_chart([], "x"))


def test_bytes_by_groups_and_keeps_the_rest(sample_result: Result) -> None:
    bars = bytes_by(sample_result.flows, "organisation", "unknown organisation")
    labels = [b.label for b in bars]
    assert labels[0].startswith("Zoom") and "Meta Platforms, Inc." in labels
    assert "unknown organisation" in labels
    total = int((sample_result.flows["orig_bytes"] + sample_result.flows["resp_bytes"]).sum())
    assert sum(b.value for b in bars) == total
    few = bytes_by(sample_result.flows, "organisation", "?", limit=1)
    n_orgs = sample_result.flows["organisation"].fillna("").nunique()
    assert len(few) == 2 and few[1].label == f"{n_orgs - 1} others"
    assert sum(b.value for b in few) == total


def test_category_colours() -> None:
    assert category_colour("social_sdk") == "#c0392b"
    assert category_colour("no such category").startswith("#")


def test_timeline_rows_and_hidden(sample_result: Result) -> None:
    flows = sample_result.flows
    start, end = float(flows["ts"].min()), float((flows["ts"] + flows["duration_s"]).max())
    svg, hidden = timeline(flows, start, end, "flows")
    root = parse(str(svg))
    assert hidden == 0
    bars = [r for r in root.iter(f"{SVG}rect")]
    assert len(bars) == len(flows)
    for r in bars:
        assert (
            float(r.get("x", -1)) >= 0 and float(r.get("x")) + float(r.get("width")) <= WIDTH + 0.01
        )
    assert any("graph.facebook.com" in t for t in texts(root))
    svg, hidden = timeline(flows, start, end, "flows", max_rows=3)
    assert hidden == len(flows) - 3
    assert len(list(parse(str(svg)).iter(f"{SVG}rect"))) == 3
    # the largest flows are the ones kept
    largest = (flows["orig_bytes"] + flows["resp_bytes"]).nlargest(3).index
    kept = texts(parse(str(svg)))[-3:]
    for i, name in enumerate(flows.loc[largest].sort_values("ts")["server_name"]):
        assert kept[i].startswith(name)


def test_timeline_empty() -> None:
    svg, hidden = timeline(pd.DataFrame(), 0.0, 1.0, "none")
    assert hidden == 0 and "No flows" in str(svg)


def test_colours_by_party_not_category() -> None:
    from inspector.report.charts import PARTY_COLOURS, party_of

    assert party_of(["first-party telemetry"]) == "vendor's own telemetry"
    assert party_of(["signalling", "third-party telemetry"]) == "third-party tracker or telemetry"
    assert party_of(["media"]) == "vendor service (signalling, media, relay)"
    assert party_of(["web/API"], ["third"]) == "third-party tracker or telemetry"
    assert party_of(["dns"]) == "other (web, DNS, unknown)"
    assert len(set(PARTY_COLOURS.values())) == len(PARTY_COLOURS)


def test_vendor_crash_reporting_is_not_tracker_red(sample_result) -> None:  # type: ignore[no-untyped-def]
    from inspector.report.charts import PARTY_COLOURS
    from inspector.report.html import report_context

    flows = sample_result.tables["flows"].copy()
    flows["category"] = "crash_reporting"
    flows["role"] = "first-party telemetry"
    if "party" in flows.columns:  # the vendor's own crash reporting: first party for its app
        flows["party"] = "first"
    tables = {**sample_result.tables, "flows": flows}
    ctx = report_context(type(sample_result)(tables, sample_result.summary, []))
    red = PARTY_COLOURS["third-party tracker or telemetry"]
    assert red not in ctx["cat_chart"] and red not in ctx["org_chart"]
    assert [p for p, _c in ctx["party_colours"]] == ["vendor's own telemetry"]
