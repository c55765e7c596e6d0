"""Report layout: repeated findings grouped, timeline says what it leaves out, the legend shows
only what is drawn, and the Teams capture's page stays short (headless Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

import inspector
from inspector.api import Result
from inspector.report.html import TIMELINE_ROWS, finding_groups, render_html, report_context
from inspector.report.outputs import write_outputs

ROOT = Path(__file__).resolve().parents[2]
TEAMS = ROOT.parent / "shared" / "captures" / "real" / "ndpi" / "pcap" / "teams.pcap"
MAX_HEIGHT = 6000


def _f(kind: str, org: str, dest: str, sev: str = "info") -> dict[str, object]:
    return {
        "kind": kind,
        "organisation": org,
        "destination": dest,
        "title": kind,
        "severity": sev,
    }


def test_findings_grouped_by_kind_and_organisation() -> None:
    items = [_f("sig", "Microsoft", f"h{i}.example") for i in range(5)]
    items.insert(2, _f("sig", "Zoom", "zoom.us"))
    items.append(_f("dns", "Microsoft", "h0.example", "low"))
    groups = finding_groups(items)
    assert [(g["title"], g["organisation"], g["count"]) for g in groups] == [
        ("sig", "Microsoft", 5),
        ("sig", "Zoom", 1),
        ("dns", "Microsoft", 1),
    ]
    assert groups[0]["destinations"] == "h0.example, h1.example, h2.example and 2 more"


def test_legend_lists_only_roles_drawn(sample_result: Result) -> None:
    ctx = report_context(sample_result)
    for s in ctx["sessions"]:
        flows = sample_result.tables["flows"]
        roles = set(flows[flows["session_id"] == s["id"]]["role"].fillna("other"))
        assert {r for r, _c in s["legend"]} == roles


@pytest.fixture(scope="module")
def teams_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TEAMS.is_file():
        pytest.skip("shared captures not present")
    out = tmp_path_factory.mktemp("teams")
    write_outputs(inspector.analyze(TEAMS), out)
    return out


def test_teams_groups_and_says_top_n_of_m(teams_out: Path) -> None:
    page = (teams_out / "report.html").read_text(encoding="utf-8")
    assert "13 findings: How call set-up (signalling) is protected" in page
    assert f"Top {TIMELINE_ROWS} of " in page
    assert " 1 flows" not in page


def test_teams_page_under_6000px_at_1280(teams_out: Path, tmp_path: Path) -> None:
    from tests.report.test_browser import CHROMIUM, screenshot

    if CHROMIUM is None:
        pytest.skip("chromium not installed")
    img = screenshot(teams_out / "report.html", tmp_path / "teams.png", "1280,9000").convert("L")
    px = img.load()
    bottom = next(
        y for y in range(img.height - 1, -1, -1) if any(px[x, y] < 200 for x in range(0, 1280, 4))
    )
    assert 1000 < bottom < MAX_HEIGHT - 40, bottom  # the footer's last line, plus the margin


def test_render_html_of_sample_has_no_dangling_sentence(no_session_result: Result) -> None:
    page = render_html(no_session_result)
    if "Findings about other traffic are listed below" in page:
        assert 'id="outside"' in page
    assert 'href="#destinations"' in page
