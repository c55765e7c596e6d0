"""scripts/build_database.py: expected rows from a tiny hand-written reference, and the bundled
database being up to date with the shared reference (skipped when that folder is absent)."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from inspector.attribute.database import CATEGORIES, load_database
from tests.conftest import REFERENCE, ROOT

SCRIPT = ROOT / "scripts" / "build_database.py"
FIXTURE_REF = ROOT / "tests" / "attribute" / "fixtures" / "reference"
BUNDLED = ROOT / "inspector" / "data"
DAY = dt.date(2026, 1, 2)


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_database", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_database", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def built(builder: ModuleType, tmp_path: Path) -> Path:
    builder.build(FIXTURE_REF, tmp_path, DAY, endpoints=None)
    return tmp_path


def test_domain_rows(built: Path) -> None:
    rows = {(r["pattern"], r["match"]): r for r in _rows(built / "domains.csv")}
    assert len(rows) == 15
    zoom = rows[("zoom.us", "suffix")]
    assert (zoom["vendor"], zoom["category"]) == ("Zoom", "first-party signalling")
    assert zoom["source"] == "fixture vendor 1"
    # Merged: telemetry row + vendors first-party row -> vendor decides, both sources kept.
    aria = rows[("aria.microsoft.com", "suffix")]
    assert aria["vendor"] == "Microsoft Teams"
    assert aria["category"] == "first-party telemetry"
    assert aria["sdk_name"] == "Aria telemetry"
    assert aria["source"] == "fixture source G ; fixture vendor 9"
    # Third-party dependency merged into its telemetry row: stays third-party, vendor empty.
    fb = rows[("graph.facebook.com", "suffix")]
    assert (fb["category"], fb["vendor"]) == ("social_sdk", "")
    assert "third-party dependency of Zoom" in fb["role"]
    assert fb["source"] == "fixture source A ; fixture vendor 6"
    # Dependency under a telemetry suffix inherits that row's category; else role keywords.
    assert rows[("static.zdassets.com", "suffix")]["category"] == "customer_support"
    assert rows[("ocsp.digicert.com", "suffix")]["category"] == "os_services"
    # "domain" values: " / " lists, plain = exact, "*." = suffix.
    assert rows[("cdn.teams.example", "exact")]["category"] == "first-party web"
    assert rows[("mstea.example", "suffix")]["vendor"] == "Microsoft Teams"
    assert rows[("meet.jit.si", "exact")]["category"] == "first-party signalling"  # override


def test_category_normalisation(built: Path) -> None:
    rows = {r["pattern"]: r for r in _rows(built / "domains.csv")}
    assert rows["mtalk.google.com"]["category"] == "os_services"  # platform push
    assert rows["braze.com"]["category"] == "analytics"  # engagement SDK push
    assert rows["sentry.io"]["category"] == "crash_reporting"  # error_monitoring
    assert rows["cloudfront.net"]["category"] == "cdn_cloud"
    assert rows["vortex.data.microsoft.com"]["category"] == "os_services"  # override
    assert rows["braze.com"]["source_category"] == "push"
    assert {r["category"] for r in rows.values()} <= set(CATEGORIES)


def test_ranges_and_ports(built: Path) -> None:
    ranges = {r["network"]: r for r in _rows(built / "ip_ranges.csv")}
    assert list(ranges) == ["17.0.0.0/8", "17.249.0.0/16", "170.114.0.0/16", "2603:1063::/39"]
    assert ranges["17.0.0.0/8"]["vendor"] == ""  # names Apple, not the FaceTime app
    assert (ranges["17.249.0.0/16"]["vendor"], ranges["17.249.0.0/16"]["category"]) == (
        "",
        "os_services",
    )
    assert ranges["170.114.0.0/16"]["category"] == "first-party media"
    assert ranges["170.114.0.0/16"]["notes"] == "sample"
    ports = [
        (p["transport"], p["port_low"], p["port_high"], p["shared"])
        for p in _rows(built / "ports.csv")
    ]
    assert ports == [
        ("tcp", "443", "443", "true"),
        ("tcp", "8801", "8801", "false"),
        ("udp", "3478", "3478", "true"),
        ("udp", "8801", "8810", "false"),
    ]


def test_metadata_and_version(builder: ModuleType, tmp_path: Path) -> None:
    meta = builder.build(FIXTURE_REF, tmp_path, DAY, endpoints=None)
    assert meta["name"] == "conference-inspector attribution database"
    assert meta["version"] == "2026.01.02-1"
    assert meta["built"] == "2026-01-02"
    assert meta["rows"] == {"domains": 15, "ip_ranges": 4, "ports": 4}
    assert meta["not_bundled"] == {"list_url": 1, "cloud_provider": 1}
    assert set(meta["inputs"]) == {"telemetry_domains.csv", "vendors.csv"}
    assert all(len(h["sha256"]) == 64 for h in meta["inputs"].values())
    assert {h["date"] for h in meta["inputs"].values()} == {"2026-01-02"}
    # Unchanged inputs keep the version and their dates, even on another day.
    again = builder.build(FIXTURE_REF, tmp_path, DAY + dt.timedelta(days=3), endpoints=None)
    assert again["inputs"] == meta["inputs"]
    assert again["version"] == "2026.01.02-1"
    # A changed output on the same day bumps N.
    (tmp_path / "database.json").write_text(json.dumps({**meta, "outputs": {}}), encoding="utf-8")
    assert builder.build(FIXTURE_REF, tmp_path, DAY, endpoints=None)["version"] == "2026.01.02-2"
    db = load_database(tmp_path)
    assert db.version == "2026.01.02-2"
    assert db.lookup_domain("x.zoom.us").vendor == "Zoom"  # type: ignore[union-attr]
    assert db.lookup_ip("17.249.1.1").category == "os_services"  # type: ignore[union-attr]
    assert db.lookup_ip("17.1.1.1").organisation == "Apple Inc."  # type: ignore[union-attr]


def test_bad_reference_fails_cleanly(builder: ModuleType, tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "telemetry_domains.csv").write_text(
        "domain_pattern,organisation,category,sdk_name,source\nx.example,X,mystery,,s\n",
        encoding="utf-8",
    )
    (ref / "vendors.csv").write_text(
        (FIXTURE_REF / "vendors.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(builder.BuildError, match="unmapped category"):
        builder.build(ref, tmp_path / "out", DAY)
    assert builder.main([str(ref), "--out", str(tmp_path / "out")]) == 1


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(FIXTURE_REF), "--out", str(out), "--date", "2026-01-02"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2026.01.02-1" in proc.stdout
    assert (out / "database.json").is_file()


def test_bundled_database_is_up_to_date(builder: ModuleType, tmp_path: Path) -> None:
    """Rebuilding from ../shared/reference reproduces inspector/data byte for byte."""
    if not (REFERENCE / "telemetry_domains.csv").is_file():
        pytest.skip("shared reference CSVs not present (../shared/reference)")
    # the bundled metadata carries the date each input was first built with its content
    (tmp_path / "database.json").write_bytes((BUNDLED / "database.json").read_bytes())
    meta = builder.build(REFERENCE, tmp_path, DAY)
    names = ["domains.csv", "ip_ranges.csv", "ports.csv"]
    if (REFERENCE / "ndpi" / "prefixes.csv").is_file():
        names += ["ndpi_hosts.csv", "ndpi_ranges.csv", "NDPI-COPYING.LGPL-3.0"]
    for name in names:
        assert (tmp_path / name).read_bytes() == (BUNDLED / name).read_bytes(), (
            f"{name} is stale: run python scripts/build_database.py"
        )
    bundled = json.loads((BUNDLED / "database.json").read_text(encoding="utf-8"))
    assert bundled["inputs"] == meta["inputs"]
    assert bundled["outputs"] == meta["outputs"]
    assert bundled["rows"] == meta["rows"]
