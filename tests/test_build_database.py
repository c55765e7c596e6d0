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
    # location_ranges.csv is an input of the build (scripts/build_location.py writes it)
    (tmp_path / "location_ranges.csv").write_bytes((BUNDLED / "location_ranges.csv").read_bytes())
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


NDPI_SRC = "nDPI fixture (commit 3b1286ab03b0; LGPL-3.0)"


def _ndpi_reference(tmp_path: Path) -> Path:
    """The fixture reference plus a tiny ndpi/ folder."""
    ref = tmp_path / "ref"
    ndpi = ref / "ndpi"
    ndpi.mkdir(parents=True)
    for name in ("telemetry_domains.csv", "vendors.csv"):
        (ref / name).write_bytes((FIXTURE_REF / name).read_bytes())
    (ndpi / "COPYING.LGPL-3.0").write_text("LGPL text\n", encoding="utf-8")
    p = "service,organisation,prefix,basis,source,snapshot\n"
    p += f"amazon_aws,AWS,3.0.0.0/15,vendor-published list,{NDPI_SRC},2024-10-21\n"
    p += f"telegram,Telegram,149.154.160.0/20,routes announced by AS62041,{NDPI_SRC},2024-10-21\n"
    p += f"facebook,Meta,157.240.0.0/16,routes announced by AS32934,{NDPI_SRC},2024-10-21\n"
    p += f"whatsapp,Meta (WA),157.240.0.0/16,vendor-published list,{NDPI_SRC},2024-10-21\n"
    p += f"tor,Tor,1.2.3.4/32,vendor-published list,{NDPI_SRC},2024-10-21\n"
    p += f"apple,Apple,17.1.0.0/16,routes announced by AS714,{NDPI_SRC},2024-10-21\n"
    (ndpi / "prefixes.csv").write_text(p, encoding="utf-8")
    h = "pattern,service,category,source,snapshot\n"
    for pattern, service, category in (
        ("whatsapp.", "WhatsApp", "chat"),
        ("fbcdn-", "Facebook", "social_network"),
        ("-teams.cloudapp.net", "Teams", "collaborative"),
        ("crashlytics.com", "Crashlytics", "network"),
        ("amazonaws.com", "AmazonAWS", "cloud"),
    ):
        h += f'{pattern},{service},{category},"{NDPI_SRC}",2024-10-21\n'
    (ndpi / "hosts.csv").write_text(h, encoding="utf-8")
    return ref


def test_ndpi_rows(builder: ModuleType, tmp_path: Path) -> None:
    meta = builder.build(_ndpi_reference(tmp_path), tmp_path / "out", DAY, endpoints=None)
    out = tmp_path / "out"
    assert meta["rows"]["ndpi_ranges"] == 3
    assert meta["rows"]["ndpi_hosts"] == 4
    assert meta["not_bundled"]["not bundled: tor"] == 1
    assert meta["not_bundled"]["inside a vendors.csv network"] == 1  # Apple's 17.1/16 in 17/8
    assert meta["not_bundled"]["duplicate network"] == 1
    for name in ("ndpi_hosts.csv", "ndpi_ranges.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert text.startswith("# Derived from nDPI") and "LGPL-3.0" in text
    assert (out / "NDPI-COPYING.LGPL-3.0").read_text(encoding="utf-8") == "LGPL text\n"
    db = load_database(out)
    aws = db.lookup_ip("3.1.2.3")
    assert aws is not None and aws.hosting and aws.category == "cdn_cloud"
    tg = db.lookup_ip("149.154.167.51")
    assert tg is not None and (tg.vendor, tg.category) == ("Telegram", "first-party signalling")
    wa = db.lookup_ip("157.240.1.1")  # the vendor-published WhatsApp list wins the duplicate
    assert wa is not None and wa.vendor == "WhatsApp" and wa.date == "2024-10-21"
    assert db.lookup_domain("web.whatsapp.net").vendor == "WhatsApp"  # type: ignore[union-attr]
    assert db.lookup_domain("fbcdn-x.akamaihd.net").organisation == "Meta Platforms, Inc."  # type: ignore[union-attr]
    assert db.lookup_domain("x.teams.cloudapp.net") is None  # '-' patterns are not bundled
    crash = db.lookup_domain("settings.crashlytics.com")
    assert crash is not None and crash.category == "crash_reporting"


def test_endpoints_recategorise_and_add(builder: ModuleType, tmp_path: Path) -> None:
    curated = tmp_path / "endpoints.csv"
    curated.write_text(
        "pattern,match,organisation,category,vendor,sdk_name,source,note\n"
        "facebook.com,suffix,Meta,online_service,,,nDPI hosts,site not SDK\n"
        "log.zoom.us,suffix,Zoom,first-party telemetry,Zoom,logs,Zoom KB,own logging\n"
        "skypedata,label_prefix,Microsoft,first-party telemetry,Skype,,nDPI,\n",
        encoding="utf-8",
    )
    builder.build(FIXTURE_REF, tmp_path / "out", DAY, endpoints=curated)
    rows = {(r["pattern"], r["match"]): r for r in _rows(tmp_path / "out" / "domains.csv")}
    fb = rows[("facebook.com", "suffix")]
    assert (fb["category"], fb["sdk_name"]) == ("online_service", "")
    assert fb["source"].endswith("nDPI hosts")  # earlier sources are kept
    assert rows[("log.zoom.us", "suffix")]["vendor"] == "Zoom"
    assert rows[("skypedata", "label_prefix")]["category"] == "first-party telemetry"
    assert rows[("log.zoom.us", "suffix")]["date"] == "2026-01-02"
    db = load_database(tmp_path / "out")
    assert db.lookup_domain("www.facebook.com").category == "online_service"  # type: ignore[union-attr]


def test_hosting_domains_are_flagged(builder: ModuleType, tmp_path: Path) -> None:
    builder.build(
        REFERENCE if (REFERENCE / "vendors.csv").is_file() else FIXTURE_REF, tmp_path, DAY
    )
    rows = {(r["pattern"], r["match"]): r for r in _rows(tmp_path / "domains.csv")}
    for (pattern, _match), row in rows.items():
        assert row["hosting"] == ("true" if pattern in builder.HOSTING_DOMAINS else "false")
