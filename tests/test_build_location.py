"""scripts/build_location.py: AS routes from the IPFire location database, parsed from the
``location`` tool's output (faked here), and the bundled file checked against the Debian package
when it is installed (skipped otherwise)."""

from __future__ import annotations

import importlib.util
import ipaddress
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "build_location.py"
BUNDLED = ROOT / "inspector" / "data" / "location_ranges.csv"


@pytest.fixture(scope="module")
def bl() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_location", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_location", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_parse_as_names(bl: ModuleType) -> None:
    text = "AS16276 belongs to OVH SAS\nAS13445 belongs to 13445\nno such AS 99\n"
    assert bl.parse_as_names(text) == {16276: "OVH SAS", 13445: "13445"}


def test_collapse_merges_country_splits(bl: ModuleType) -> None:
    nets = bl.parse_networks(
        "51.68.180.0/23\n51.68.182.0/23\n\n2001:41d0::/33\n2001:41d0:8000::/33\n"
    )
    assert [str(n) for n in bl.collapse(nets)] == ["51.68.180.0/22", "2001:41d0::/32"]


def test_rows_name_as_source_date_and_hosting(bl: ModuleType) -> None:
    ovh = next(r for r in bl.ASES if r.asn == 16276)
    (row,) = bl.rows_for(ovh, "OVH SAS", [ipaddress.ip_network("51.68.0.0/16")], "2022-10-29")
    assert row == {
        "network": "51.68.0.0/16",
        "organisation": "OVH SAS (OVHcloud)",
        "vendor": "",
        "role": "AS16276 routes: hosting provider",
        "source": "IPFire location 2022-10-29 (CC BY-SA 4.0): AS16276 OVH SAS",
        "category": "cdn_cloud",
        "hosting": "true",
        "date": "2022-10-29",
    }
    zoom = next(r for r in bl.ASES if r.asn == 30103)
    (own,) = bl.rows_for(zoom, "ZOOM-VIDEO-COMM-AS", [ipaddress.ip_network("38.99.124.0/24")], "d")
    assert (own["organisation"], own["hosting"], own["category"], own["vendor"]) == (
        "Zoom Communications, Inc.",
        "false",
        "online_service",
        "",  # an AS route names the owner, never the app that made a flow
    )


def test_renamed_as_fails_the_build(bl: ModuleType) -> None:
    ovh = next(r for r in bl.ASES if r.asn == 16276)
    with pytest.raises(bl.BuildError, match="AS16276"):
        bl.rows_for(ovh, "SOMEONE ELSE", [], "2022-10-29")


def test_parse_version(bl: ModuleType) -> None:
    assert bl.parse_version("Sat, 29 Oct 2022 05:59:54 GMT\n") == "2022-10-29"
    with pytest.raises(bl.BuildError):
        bl.parse_version("yesterday")


def test_build_with_a_fake_location_tool(bl: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = (bl.AsRule(16276, "OVH SAS (OVHcloud)", "ovh", True, "hosting provider"),)
    monkeypatch.setattr(bl, "ASES", rules)
    answers = {
        "version": "Sat, 29 Oct 2022 05:59:54 GMT",
        "get-as": "AS16276 belongs to OVH SAS",
        "list-networks-by-as": "5.39.0.0/17\n5.39.128.0/17\n",
    }
    data = bl.build(lambda args: answers[args[0]], "0~20221029-1").decode("utf-8")
    lines = data.splitlines()
    assert lines[0].startswith("# Derived from the IPFire location database")
    assert "libloc-database 0~20221029-1 (database of 2022-10-29)" in data
    assert "CC BY-SA 4.0" in data and bl.LICENCE_URL in data
    assert lines[-2] == ",".join(bl.COLUMNS)
    assert lines[-1].startswith("5.39.0.0/16,OVH SAS (OVHcloud),")
    missing = {**answers, "get-as": ""}
    with pytest.raises(bl.BuildError, match="not in the database"):
        bl.build(lambda args: missing[args[0]], "x")


def test_every_listed_as_is_unique(bl: ModuleType) -> None:
    asns = [r.asn for r in bl.ASES]
    assert len(asns) == len(set(asns))


_DB = Path("/usr/share/libloc-location/location.db")


@pytest.mark.skipif(
    shutil.which("location") is None or not _DB.is_file(),
    reason="Debian's location / libloc-database not installed",
)
def test_bundled_rows_match_the_installed_database(bl: ModuleType) -> None:
    """One AS re-read from the installed database reproduces the bundled rows (cheap check; the
    full rebuild is ``python scripts/build_location.py``)."""
    run = bl.location_cli(_DB)
    date = bl.parse_version(run(["version"]))
    ovh = next(r for r in bl.ASES if r.asn == 16276)
    name = bl.parse_as_names(run(["get-as", "16276"]))[16276]
    rows = bl.rows_for(ovh, name, bl.parse_networks(run(["list-networks-by-as", "16276"])), date)
    text = BUNDLED.read_text(encoding="utf-8")
    assert f"(database of {date})" in text
    bundled = [line for line in text.splitlines() if ",AS16276 routes:" in line]
    assert [r["network"] for r in rows] == [line.split(",", 1)[0] for line in bundled]


def test_cli_without_database(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--db", str(tmp_path / "none.db"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and "libloc-database" in out.stderr
