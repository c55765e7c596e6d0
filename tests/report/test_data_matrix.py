"""The destinations x data-categories matrix of report.html (report/data_matrix.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import inspector
from inspector.api import Result
from inspector.config import Config
from inspector.report.data_matrix import BY_ENDPOINT_KIND, data_matrix
from inspector.report.html import render_html
from inspector.schema.data_shared import DataSharedRow
from inspector.tables import to_frame

CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def _shared(*rows: DataSharedRow) -> pd.DataFrame:
    return to_frame("data_shared", list(rows))


def _row(dest: str, cat: str, party: str = "third", **kw: object) -> DataSharedRow:
    base: dict[str, object] = {
        "uid": "C1",
        "ts": 1.0,
        "destination": dest,
        "organisation": "Org",
        "party": party,
        "category": cat,
        "field": "form:x",
        "detector": "rule",
        "value": "ab****yz",
        "frames": "7;9",
    }
    base.update(kw)
    return DataSharedRow(**base)  # type: ignore[arg-type]


def test_no_rows_no_matrix() -> None:
    assert data_matrix(None) == {"categories": [], "rows": []}
    assert data_matrix(_shared()) == {"categories": [], "rows": []}


def test_cells_count_items_and_link_to_them() -> None:
    m = data_matrix(
        _shared(
            _row("first.example", "locale", party="first"),
            _row("t.example", "device_model"),
            _row("t.example", "device_model", frames="12"),
            _row("t.example", "advertising_id", source="har:x.har", frames=""),
        )
    )
    assert [c for c, _ in m["categories"]] == ["advertising_id", "device_model", "locale"]
    third, first = m["rows"]  # third party first
    assert third["destination"] == "t.example" and third["party"] == "third party"
    assert [n for n, _ in third["cells"]] == [1, 2, 0]
    assert first["party"] == "the app's own party" and [n for n, _ in first["cells"]] == [0, 0, 1]
    anchors = {a for a, *_ in third["details"]}
    assert {a for n, a in third["cells"] if n} == anchors
    where = {it["where"] for _, _, items, _ in third["details"] for it in items}
    assert where == {"frames 7, 9", "frames 12", "imported from har:x.har"}
    assert third["filter"] == "frame.number in {7 9 12}"
    assert third["summary"] == "advertiser id, device model"


def test_a_third_party_no_flow_decided_says_whose_word_it_is() -> None:
    shared = _shared(_row("t.example", "device_model"), _row("u.example", "locale", uid="C2"))
    flows = pd.DataFrame({"uid": ["C1", "C2"], "party": ["unknown", "third"]})
    rows = {r["destination"]: r["party"] for r in data_matrix(shared, flows)["rows"]}
    assert rows["t.example"] == BY_ENDPOINT_KIND  # no app identified on its flow
    assert rows["u.example"] == "third party"  # its flow's own rules said third party


def _result(shared: pd.DataFrame) -> Result:
    base = inspector.analyze(CAPTURES / "zoom-2020.pcap")
    return Result({**base.tables, "data_shared": shared}, base.summary, [])


def test_html_escapes_and_anchors_resolve() -> None:
    evil = "<script>alert(1)</script>.example"
    page = render_html(_result(_shared(_row(evil, "email", value="<b>x</b>", source="har:e.har"))))
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    section = page[page.index('id="personal-data"') : page.index('id="destinations"')]
    links = set(re.findall(r'href="#(pd[0-9-c]+)"', section))
    ids = set(re.findall(r'id="(pd[0-9-c]+)"', section))
    assert links and links <= ids


def test_section_only_with_rows() -> None:
    page = render_html(_result(_shared()))
    assert 'id="personal-data"' not in page and "#personal-data" not in page


def test_page_shows_only_its_own_flows_rows() -> None:
    """On one capture's page of a run, rows of another capture's flows are left out."""
    page = render_html(_result(_shared(_row("other-capture.example", "email", uid="Cnotaflow"))))
    assert 'id="personal-data"' not in page


@pytest.fixture(scope="module")
def telemetry_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from inspector.report.outputs import write_outputs

    keys = str(CAPTURES / "telemetry-tls13.keys")
    known = str(CAPTURES / "telemetry-known-values.txt")
    result = inspector.analyze(
        CAPTURES / "telemetry-tls13.pcapng", Config(keylogs=(keys,), known_values=(known,))
    )
    out = tmp_path_factory.mktemp("telemetry-out")
    write_outputs(result, out)
    return out


def test_telemetry_matrix_names_meta_as_third_party(telemetry_out: Path) -> None:
    page = (telemetry_out / "report.html").read_text(encoding="utf-8")
    assert 'id="personal-data-matrix"' in page
    # data_shared says third party (the database's kind of endpoint); no app is identified in
    # this capture (flows.party unknown), and the line says whose word "third party" is
    assert (
        f"graph.facebook.com</a> (Meta Platforms, Inc.; {BY_ENDPOINT_KIND}) received: "
        "advertiser id" in page
    )
    assert 'id="unread"' not in page  # the one TLS flow was decrypted


def test_telemetry_matrix_at_phone_width(telemetry_out: Path, tmp_path: Path) -> None:
    from tests.report.test_browser import CHROMIUM, assert_not_blank, dump_dom, screenshot

    if CHROMIUM is None:
        pytest.skip("chromium not installed")
    dom = dump_dom(telemetry_out / "report.html")
    assert 'id="personal-data-matrix"' in dom
    img = screenshot(telemetry_out / "report.html", tmp_path / "phone.png", "390,3000")
    assert img.width == 390
    assert_not_blank(img)
