"""``inspector compare``: the bundled before/after captures (zoom-2020 with the Facebook SDK,
zoom-2020-no-sdk without it) report the SDK's destination and third party as gone."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from inspector.cli import main

ROOT = Path(__file__).resolve().parents[2]
WITH_SDK = ROOT / "captures" / "zoom-2020.pcap"
WITHOUT_SDK = ROOT / "captures" / "zoom-2020-no-sdk.pcap"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("compare")
    a, b = base / "before", base / "after"
    assert main(["analyze", str(WITH_SDK), "-o", str(a), "-q"]) == 0
    assert main(["analyze", str(WITHOUT_SDK), "-o", str(b), "-q"]) == 0
    return a, b


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sdk_destinations_gone(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = runs
    assert main(["compare", str(a), str(b), "-o", str(tmp_path / "c")]) == 0
    text = capsys.readouterr().out
    assert "gone     Destination: graph.facebook.com (Meta Platforms, Inc.)" in text
    rows = _rows(tmp_path / "c" / "compare.csv")
    got = {(r["change"], r["kind"], r["item"]) for r in rows}
    assert ("gone", "destination", "graph.facebook.com") in got
    assert ("gone", "third_party", "Meta Platforms, Inc.") in got
    assert not [r for r in rows if r["change"] == "added"]
    # nothing else changed: Zoom's own destinations and verdicts are the same in both versions
    assert all(r["item"] in ("graph.facebook.com", "Meta Platforms, Inc.") for r in rows)
    page = (tmp_path / "c" / "compare.html").read_text(encoding="utf-8")
    assert "graph.facebook.com" in page and "<script" not in page


def test_reverse_is_added(runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a, b = runs
    assert main(["compare", str(b), str(a)]) == 0
    assert "added    Destination: graph.facebook.com" in capsys.readouterr().out


def test_data_categories_and_verdicts(runs: tuple[Path, Path], tmp_path: Path) -> None:
    from inspector.report.compare import compare_folders

    a, b = runs
    b2 = tmp_path / "b2"
    shutil.copytree(b, b2)
    (b2 / "data_shared.csv").write_text(
        "uid,ts,destination,category\r\nC1,1.0,zoom.us,device_id\r\n", encoding="utf-8"
    )
    dest = (b2 / "destinations.csv").read_text(encoding="utf-8")
    (b2 / "destinations.csv").write_text(
        dest.replace("TRANSPORT_TLS", "PLAINTEXT", 1), encoding="utf-8"
    )
    got = {(c.change, c.kind, c.item) for c in compare_folders(str(a), str(b2))}
    assert ("added", "data_category", "device_id") in got
    assert any(c == "changed" and k == "verdict" for c, k, _i in got)


def test_not_an_outdir_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an output folder" in err
