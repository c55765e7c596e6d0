"""inspector.attribute.database: the bundled facts, lookup rules, and the range index."""

from __future__ import annotations

import ipaddress
import json
import re
import time
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.attribute.database import (
    CATEGORIES,
    FIRST_PARTY_CATEGORIES,
    Database,
    DomainMatch,
    RangeMatch,
    bundled_database,
    load_database,
)
from inspector.errors import InputError


@pytest.fixture(scope="module")
def db() -> Database:
    return bundled_database()


# --- facts from the bundled database (built from the shared reference CSVs) -----------------


def test_version_and_metadata(db: Database) -> None:
    assert re.fullmatch(r"\d{4}\.\d\d\.\d\d-\d+", db.version)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", db.built)
    meta = json.loads(resources.files("inspector").joinpath("data/database.json").read_text())
    assert meta["name"] == "conference-inspector attribution database"
    assert meta["rows"]["domains"] + meta["rows"]["ndpi_hosts"] == db.domain_count
    assert meta["rows"]["ip_ranges"] + meta["rows"]["ndpi_ranges"] == db.range_count
    assert meta["rows"]["location_ranges"] == db.fallback_range_count
    assert meta["rows"]["ports"] == len(db.ports)


def test_facebook_graph_is_third_party_social(db: Database) -> None:
    m = db.lookup_domain("graph.facebook.com")
    assert m is not None
    assert m.organisation.startswith("Meta")
    assert m.category == "social_sdk"
    assert m.is_third_party and not m.is_first_party
    assert m.vendor == ""
    assert m.pattern == "graph.facebook.com"
    assert "vice.com" in m.source


def test_firebase_analytics(db: Database) -> None:
    m = db.lookup_domain("app-measurement.com")
    assert m is not None
    assert m.organisation.startswith("Google")
    assert m.category == "analytics"
    assert "Firebase" in m.sdk_name


def test_adjust_attribution(db: Database) -> None:
    m = db.lookup_domain("app.adjust.com")
    assert m is not None
    assert m.organisation.startswith("Adjust")
    assert (m.category, m.pattern, m.match) == ("attribution", "adjust.com", "suffix")


def test_google_tag_manager(db: Database) -> None:
    m = db.lookup_domain("www.googletagmanager.com")
    assert m is not None
    assert m.organisation.startswith("Google")
    assert m.category == "analytics"  # telemetry_domains.csv says analytics


def test_microsoft_aria_is_teams_first_party_telemetry(db: Database) -> None:
    # aria.microsoft.com is in both CSVs: telemetry (analytics) and vendors (Teams / Office
    # FIRST-PARTY telemetry); the vendors row decides.
    m = db.lookup_domain("mobile.pipe.aria.microsoft.com")
    assert m is not None
    assert m.organisation.startswith("Microsoft")
    assert (m.vendor, m.category) == ("Microsoft Teams", "first-party telemetry")
    assert m.pattern == "aria.microsoft.com"
    assert m.is_first_party


def test_zoom_domains(db: Database) -> None:
    for name in ("zoom.us", "us04web.zoom.us", "ZOOM.US.", "a.b.c.zoom.us"):
        m = db.lookup_domain(name)
        assert m is not None, name
        assert m.vendor == "Zoom"
        assert m.category in FIRST_PARTY_CATEGORIES
        assert m.organisation.startswith("Zoom")
    assert db.lookup_domain("notzoom.us") is None
    assert db.lookup_domain("zoom.us.evil.example") is None


def test_ip_facts(db: Database) -> None:
    zoom = db.lookup_ip("170.114.0.1")
    assert zoom is not None
    assert (zoom.vendor, zoom.network, zoom.category) == (
        "Zoom",
        "170.114.0.0/16",
        "first-party media",
    )
    assert zoom.organisation.startswith("Zoom")
    teams = db.lookup_ip("52.112.0.1")
    assert teams is not None
    assert teams.organisation.startswith("Microsoft")
    assert teams.vendor == "Microsoft Teams"
    assert teams.pattern == "52.112.0.0/14"
    v6 = db.lookup_ip("2603:1063::1")
    assert v6 is not None and v6.vendor == "Microsoft Teams"
    mapped = db.lookup_ip("::ffff:170.114.0.1")
    assert mapped is not None and mapped.vendor == "Zoom"
    assert db.lookup_ip("192.0.2.1") is None
    assert db.lookup_ip("10.0.0.1") is None


def test_apple_nested_ranges_longest_prefix(db: Database) -> None:
    apns = db.lookup_ip("17.249.1.1")
    assert apns is not None and apns.network == "17.249.0.0/16" and apns.category == "os_services"
    apple = db.lookup_ip("17.1.1.1")
    assert apple is not None and apple.network == "17.0.0.0/8"
    after = db.lookup_ip("17.250.0.1")
    assert after is not None and after.network == "17.0.0.0/8"


def test_every_row_has_source_and_vocabulary(db: Database) -> None:
    for m in (*db.exact.values(), *db.suffix.values()):
        assert m.source, m.pattern
        assert m.category in CATEGORIES
        assert bool(m.vendor) == m.is_first_party, m.pattern
    for p in db.ports:
        assert p.source and p.transport in ("tcp", "udp") and p.port_low <= p.port_high


def test_lookup_port(db: Database) -> None:
    facts = db.lookup_port("UDP", 8805)
    assert any(f.vendor == "Zoom" and f.category == "first-party media" for f in facts)
    assert db.lookup_port("tcp", 1) == ()


# --- lookup rules on a synthetic database ------------------------------------------------


def _d(pattern: str, match: str = "suffix", org: str = "O", vendor: str = "") -> DomainMatch:
    return DomainMatch(pattern, match, org, "unknown", vendor, "", f"src {pattern}")


def _r(net: str, org: str = "O") -> RangeMatch:
    return RangeMatch(net, org, "", "", f"src {net}", "unknown")


@pytest.fixture(scope="module")
def small() -> Database:
    return Database.from_rows(
        "t",
        "2026-01-01",
        [
            _d("example.com", org="parent"),
            _d("api.example.com", org="child"),
            _d("www.example.com", "exact", org="exact-only"),
            _d("Upper.Example.ORG.", org="upper"),
            _d("example.com", org="duplicate loses"),
        ],
        [
            _r("10.0.0.0/8", "a"),
            _r("10.1.0.0/16", "b"),
            _r("10.1.2.0/24", "c"),
            _r("10.1.2.0/24", "c-dup"),
            _r("10.1.0.0/24", "same-start"),
            _r("10.255.255.255/32", "last"),
            _r("0.0.0.0/32", "zero"),
            _r("2001:db8::/32", "v6"),
            _r("2001:db8:1::/48", "v6-child"),
        ],
    )


def test_suffix_and_exact_rules(small: Database) -> None:
    def org(name: str) -> str | None:
        m = small.lookup_domain(name)
        return m.organisation if m else None

    assert org("example.com") == "parent"
    assert org("x.example.com") == "parent"
    assert org("api.example.com") == "child"
    assert org("v1.api.example.com") == "child"
    assert org("www.example.com") == "exact-only"
    assert org("a.www.example.com") == "parent"  # exact rows do not cover subdomains
    assert org("upper.example.org") == "upper"
    assert org("  EXAMPLE.COM.  ") == "parent"
    for bad in (
        "",
        ".",
        "example.com..",
        "a..example.com",
        ".example.com",
        "x" * 300 + ".example.com",
    ):
        assert small.lookup_domain(bad) is None, bad
    assert org("badexample.com") is None
    assert org("com") is None


def test_longest_prefix(small: Database) -> None:
    def org(addr: str) -> str | None:
        m = small.lookup_ip(addr)
        return m.organisation if m else None

    assert org("9.255.255.255") is None
    assert org("10.0.0.0") == "a"
    assert org("10.1.0.5") == "same-start"
    assert org("10.1.1.0") == "b"
    assert org("10.1.2.255") == "c"
    assert org("10.1.3.0") == "b"
    assert org("10.2.0.0") == "a"
    assert org("10.255.255.254") == "a"
    assert org("10.255.255.255") == "last"
    assert org("11.0.0.0") is None
    assert org("0.0.0.0") == "zero"
    assert org("0.0.0.1") is None
    assert org("2001:db8::1") == "v6"
    assert org("[2001:db8:1::9]") == "v6-child"
    assert org("fe80::1%eth0") is None
    for bad in ("", "bogus", "1.2.3", "300.1.1.1", "::g"):
        assert small.lookup_ip(bad) is None


def test_database_is_immutable(small: Database) -> None:
    with pytest.raises((AttributeError, TypeError)):
        small.version = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        small.suffix["new.example"] = _d("new.example")  # type: ignore[index]


def test_load_database_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"domains\.csv is missing"):
        load_database(tmp_path)
    (tmp_path / "domains.csv").write_text("pattern,match\nx.example,weird\n", encoding="utf-8")
    (tmp_path / "ip_ranges.csv").write_text("network\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid attribution database"):
        load_database(tmp_path)


_NETS = st.builds(
    lambda addr, plen: ipaddress.ip_network((addr, plen), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_NETS, min_size=0, max_size=25), st.lists(st.integers(0, 2**32 - 1), max_size=30))
def test_range_index_equals_brute_force(
    nets: list[ipaddress.IPv4Network], probes: list[int]
) -> None:
    rows = [_r(str(n), f"org{i}") for i, n in enumerate(nets)]
    db = Database.from_rows("t", "", [], rows)
    edges = [int(n.network_address) for n in nets] + [int(n.broadcast_address) for n in nets]
    for value in probes + edges + [e + 1 for e in edges if e < 2**32 - 1]:
        addr = ipaddress.IPv4Address(value)
        covering = [(n.prefixlen, -i, i) for i, n in enumerate(nets) if addr in n]
        expected = rows[max(covering)[2]].organisation if covering else None
        got = db.lookup_ip(str(addr))
        assert (got.organisation if got else None) == expected, (str(addr), nets)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_lookups_never_raise(text: str) -> None:
    db = bundled_database()
    m = db.lookup_domain(text)
    assert m is None or isinstance(m, DomainMatch)
    r = db.lookup_ip(text)
    assert r is None or isinstance(r, RangeMatch)


def test_ip_lookup_is_fast() -> None:
    """Bisect, not a scan: 20 000 ranges, 20 000 lookups well under a second."""
    rows = [_r(f"{i >> 8}.{i & 255}.0.0/16") for i in range(1, 20001)]
    db = Database.from_rows("t", "", [], rows)
    start = time.perf_counter()
    for i in range(1, 20001):
        assert db.lookup_ip(f"{i >> 8}.{i & 255}.1.1") is not None
    assert time.perf_counter() - start < 1.0


# --- nDPI pattern forms, the two tiers, hosting rows ------------------------------------


def _m(pattern: str, match: str, org: str, hosting: bool = False) -> DomainMatch:
    return DomainMatch(
        pattern, match, org, "online_service", "", "", f"src {pattern}", hosting=hosting
    )


@pytest.fixture(scope="module")
def tiers() -> Database:
    return Database.from_rows(
        "t",
        "",
        [
            _m("cloudapp.net", "suffix", "Azure", hosting=True),
            _m("zoom.us", "suffix", "Zoom"),
            _m("skypedata", "label_prefix", "Microsoft"),
        ],
        [],
        (),
        [
            _m("google", "stem", "Google"),
            _m("maps.google", "stem", "Google Maps"),
            _m("fbcdn-", "label_prefix", "Meta"),
            _m("zoom.us", "suffix", "nDPI Zoom"),
            _m("teams.cloudapp.net", "suffix", "Microsoft Teams"),
            _m("cloudapp.net", "suffix", "nDPI Azure", hosting=True),
        ],
    )


@pytest.mark.parametrize(
    ("name", "org"),
    [
        ("www.google.de", "Google"),
        ("google.co.uk", "Google"),
        ("maps.google.it", "Google Maps"),
        ("google.com.evil.example", None),  # more than two labels after the stem
        ("notgoogle.de", None),
        ("fbcdn-sphotos-a.akamaihd.net", "Meta"),
        ("x.fbcdn-video.example", "Meta"),
        ("myfbcdn-x.example", None),  # a label prefix starts at a label boundary
        ("us04web.zoom.us", "Zoom"),  # the project's row wins over nDPI's
        ("skypedataprdcolneu04.cloudapp.net", "Microsoft"),  # owner beats a hosting suffix
        ("foo.teams.cloudapp.net", "Microsoft Teams"),  # nDPI names the owner under hosting
        ("customer.cloudapp.net", "Azure"),  # only the hosting row: hosting, no owner
    ],
)
def test_pattern_forms_and_tiers(tiers: Database, name: str, org: str | None) -> None:
    m = tiers.lookup_domain(name)
    assert (m.organisation if m else None) == org
    assert tiers.lookup_domain(name) is m  # memoised result is the same


def test_domain_count_counts_both_tiers(tiers: Database) -> None:
    assert tiers.domain_count == 9


def test_ndpi_files_with_notice_load(tmp_path: Path) -> None:
    notice = "# LGPL-3.0 notice line 1\n# line 2\n"
    (tmp_path / "domains.csv").write_text(
        "pattern,match,organisation,category,vendor,sdk_name,source\n", encoding="utf-8"
    )
    (tmp_path / "ip_ranges.csv").write_text(
        "network,organisation,vendor,role,source,category\n", encoding="utf-8"
    )
    (tmp_path / "ndpi_hosts.csv").write_text(
        notice + "pattern,match,organisation,category,vendor,sdk_name,source,hosting,date\n"
        "whatsapp,stem,Meta,online_service,WhatsApp,,nDPI,false,2024-10-21\n",
        encoding="utf-8",
    )
    (tmp_path / "ndpi_ranges.csv").write_text(
        notice + "network,organisation,vendor,role,source,category,hosting,date\n"
        "3.0.0.0/15,AWS,,,nDPI,cdn_cloud,true,2024-10-21\n",
        encoding="utf-8",
    )
    db = load_database(tmp_path)
    m = db.lookup_domain("web.whatsapp.com")
    assert m is not None and (m.vendor, m.date) == ("WhatsApp", "2024-10-21")
    r = db.lookup_ip("3.1.2.3")
    assert r is not None and r.hosting and r.date == "2024-10-21"


_ADDRS = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda v: str(ipaddress.IPv4Address(v))),
    st.integers(0, 2**128 - 1).map(lambda v: str(ipaddress.IPv6Address(v))),
    st.integers(0, 2**32 - 1).map(lambda v: f"::ffff:{ipaddress.IPv4Address(v)}"),
)


@settings(max_examples=300, deadline=None)
@given(_ADDRS)
def test_fast_address_parser_matches_ipaddress(addr: str) -> None:
    """lookup_ip's inet_pton path agrees with the ipaddress reference (IPv4-mapped -> IPv4)."""
    ip = ipaddress.ip_address(addr)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    rows = [_r(f"{ip}/{ip.max_prefixlen}", "exact")]
    db = Database.from_rows("t", "", [], rows)
    found = db.lookup_ip(addr)
    assert found is not None and found.organisation == "exact"


# --- the bundled data: issue 12 rows -----------------------------------------------------


def test_whole_services_are_not_sdks(db: Database) -> None:
    for name in ("www.facebook.com", "www.instagram.com", "www.linkedin.com", "twitter.com"):
        m = db.lookup_domain(name)
        assert m is not None and m.category == "online_service", name
    graph = db.lookup_domain("graph.facebook.com")
    assert graph is not None and graph.category == "social_sdk"


def test_specific_endpoint_beats_hosting_namespace(db: Database) -> None:
    m = db.lookup_domain("mobileanalytics.us-east-1.amazonaws.com")
    assert m is not None and (m.category, m.hosting) == ("analytics", False)
    other = db.lookup_domain("bucket.s3.amazonaws.com")
    assert other is not None and other.hosting


def test_every_bundled_row_has_source_and_date(db: Database) -> None:
    rows = [
        *db._names.exact.values(),
        *db._names.suffix.values(),
        *db._fallback.exact.values(),
        *db._fallback.suffix.values(),
        *db._fallback.stem.values(),
    ]
    for m in rows:
        assert m.source and re.fullmatch(r"\d{4}-\d\d-\d\d", m.date), m
    for addr in ("149.154.167.51", "3.5.140.1", "157.240.1.1", "134.224.1.1"):
        r = db.lookup_ip(addr)
        assert r is not None and r.source and r.date, addr


def test_ndpi_rows_name_their_licence(db: Database) -> None:
    m = db.lookup_domain("www.youtube.com")  # no project row: nDPI's youtube. stem
    assert m is not None and "LGPL-3.0" in m.source and m.date == "2024-10-21"
    notice = resources.files("inspector").joinpath("data/ndpi_ranges.csv").read_text()
    assert notice.startswith("# Derived from nDPI") and "LGPL-3.0" in notice.splitlines()[1]
    assert resources.files("inspector").joinpath("data/NDPI-COPYING.LGPL-3.0").is_file()


# --- AS routes from the IPFire location database (location_ranges.csv, a fallback) ----------


def test_as_routes_answer_only_where_no_other_range_does() -> None:
    cloud = _r("3.0.0.0/15", "AWS (customers)")
    routes = [_r("3.0.0.0/8", "AS route"), _r("51.68.0.0/16", "OVH")]
    db = Database.from_rows("t", "", [], [cloud], fallback_ranges=routes)
    inside = db.lookup_ip("3.1.2.3")
    assert inside is not None and inside.organisation == "AWS (customers)"
    beside = db.lookup_ip("3.200.0.1")  # only the wider AS route covers it
    assert beside is not None and beside.organisation == "AS route"
    ovh = db.lookup_ip("51.68.181.92")
    assert ovh is not None and ovh.organisation == "OVH"
    assert db.lookup_ip("4.2.2.4") is None
    assert (db.range_count, db.fallback_range_count) == (1, 2)


def test_location_ranges_file_is_read_as_fallback(tmp_path: Path) -> None:
    (tmp_path / "domains.csv").write_text(
        "pattern,match,organisation,category,vendor,sdk_name,source\n", encoding="utf-8"
    )
    (tmp_path / "ip_ranges.csv").write_text(
        "network,organisation,vendor,role,source,category\n"
        "51.68.181.0/24,Project row,,,project,online_service\n",
        encoding="utf-8",
    )
    (tmp_path / "location_ranges.csv").write_text(
        "# Derived from the IPFire location database\n"
        "network,organisation,vendor,role,source,category,hosting,date\n"
        "51.68.0.0/16,OVH SAS (OVHcloud),,AS16276 routes,IPFire,cdn_cloud,true,2022-10-29\n",
        encoding="utf-8",
    )
    db = load_database(tmp_path)
    project = db.lookup_ip("51.68.181.92")
    assert project is not None and project.organisation == "Project row"
    r = db.lookup_ip("51.68.1.1")
    assert (
        r is not None
        and r.hosting
        and (r.organisation, r.date)
        == (
            "OVH SAS (OVHcloud)",
            "2022-10-29",
        )
    )


def test_bundled_as_routes_carry_source_licence_and_date(db: Database) -> None:
    text = resources.files("inspector").joinpath("data/location_ranges.csv").read_text()
    head = text.split("\nnetwork,", 1)[0]
    assert head.startswith("# Derived from the IPFire location database")
    assert "CC BY-SA 4.0" in head and "creativecommons.org/licenses/by-sa/4.0" in head
    for addr, org, hosting in (
        ("51.68.181.92", "OVH SAS (OVHcloud)", True),  # TeamSpeak's weblist peer in the corpus
        ("2a02:26f7:e4::1", "Akamai Technologies", True),
        ("38.99.124.1", "Zoom Communications, Inc.", False),  # AS30103, in no vendor list
    ):
        r = db.lookup_ip(addr)
        assert r is not None and (r.organisation, r.hosting) == (org, hosting), addr
        assert r.source.startswith("IPFire location 2022-10-29 (CC BY-SA 4.0): AS"), r.source
        assert r.date == "2022-10-29" and r.vendor == ""
        assert r.category == ("cdn_cloud" if hosting else "online_service")
