"""inspector.attribute.importers: run-time tracker lists, tested on hand-written fixtures only
(the real lists' licences forbid copying them into the repository)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.attribute.importers.base import (
    PRIORITY,
    ListHit,
    TrackerList,
    clean_domain,
    content_version,
    match,
    pick_category,
)
from inspector.attribute.importers.disconnect import load_disconnect
from inspector.attribute.importers.duckduckgo import load_duckduckgo
from inspector.attribute.importers.exodus import (
    load_exodus,
    pathological,
    simple_domain,
    split_alternatives,
)
from inspector.attribute.importers.hosts import load_hosts
from inspector.attribute.importers.xray import load_xray
from inspector.errors import InputError

FIX = Path(__file__).parent / "fixtures"


def _one(lst: TrackerList, name: str) -> ListHit | None:
    hits = match([lst], name)
    assert len(hits) <= 1
    return hits[0] if hits else None


# --- base ---------------------------------------------------------------------------------


def test_clean_domain() -> None:
    assert clean_domain("*.Example.COM.") == "example.com"
    assert clean_domain(".example.com") == "example.com"
    for bad in ("", "a b.com", "http://x.com/", 42, None, "x" * 254, "a..b"):
        assert clean_domain(bad) == ""


def test_pick_category_priority() -> None:
    assert pick_category(["analytics", "social_sdk"]) == "social_sdk"
    assert pick_category(["cdn_cloud", "advertising"]) == "advertising"
    assert pick_category([]) == "unknown"
    assert pick_category(["first-party web"]) == "unknown"
    assert PRIORITY[-1] == "unknown"


def test_content_version_is_content_only(tmp_path: Path) -> None:
    assert content_version(b"abc") == content_version(b"abc")
    assert content_version(b"abc") != content_version(b"abd")
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", content_version(b"abc"))


def test_match_order_and_kinds() -> None:
    a = TrackerList(
        "a",
        "1",
        "a.json",
        entries={
            "example.com": ("Ex", "analytics"),
            "deep.sub.example.com": ("Deep", "advertising"),
        },
        exact={"only.example.org": ("Only", "unknown")},
    )
    b = TrackerList("b", "2", "b.json", entries={"sub.example.com": ("Sub", "cdn_cloud")})
    hits = match([a, b], "X.Deep.Sub.Example.com.")
    assert [(h.list_name, h.version, h.pattern, h.organisation, h.match) for h in hits] == [
        ("a", "1", "deep.sub.example.com", "Deep", "suffix"),
        ("b", "2", "sub.example.com", "Sub", "suffix"),
    ]
    assert match([a], "only.example.org")[0].match == "exact"
    assert match([a], "x.only.example.org") == []
    assert match([a, b], "notexample.com") == []
    assert match([a], "") == []
    assert match([a], "a..example.com") == []
    assert len(a) == 3
    with pytest.raises(TypeError):
        a.entries["new.example"] = ("x", "y")  # type: ignore[index]


# --- Disconnect ---------------------------------------------------------------------------


def test_disconnect_services_only() -> None:
    lst = load_disconnect(FIX / "disconnect_services.json")
    assert lst.name == "disconnect"
    assert lst.version.startswith("sha256:")
    assert lst.source_path.endswith("disconnect_services.json")
    hit = _one(lst, "graph.facebook.com")
    assert hit is not None
    assert (hit.organisation, hit.category, hit.pattern) == ("Meta", "social_sdk", "facebook.com")
    assert lst.entries["adnet.example"] == ("Example Ads Co", "advertising")
    assert lst.entries["ads-cdn.example"] == ("Example Ads Co", "advertising")
    assert lst.entries["eu.metrics.example"] == ("Metrics Inc", "analytics")
    assert lst.entries["static.example"] == ("Static Host", "cdn_cloud")
    assert lst.entries["coin.example"] == ("Miner", "unknown")
    assert "not a domain" not in lst.entries


def test_disconnect_with_entities() -> None:
    lst = load_disconnect(FIX / "disconnect_services.json", FIX / "disconnect_entities.json")
    assert lst.entries["facebook.com"] == ("Meta Platforms", "social_sdk")
    assert lst.entries["instagram.example"] == ("Meta Platforms", "unknown")  # ownership only
    assert lst.entries["metrics-ingest.example"] == ("Metrics Inc", "unknown")
    alone = load_disconnect(FIX / "disconnect_services.json")
    assert lst.version != alone.version


# --- DuckDuckGo ---------------------------------------------------------------------------


def test_ddg_app_tds() -> None:
    lst = load_duckduckgo(FIX / "ddg_app_tds.json")
    assert lst.version == "1700000000000"  # from the file's "version" field
    hit = _one(lst, "graph.facebook.com")
    assert hit is not None and hit.organisation == "Facebook, Inc." and hit.category == "unknown"
    assert _one(lst, "facebook.com") is None  # only the listed host and below
    assert _one(lst, "eu.app.adjust.example") is not None
    assert "ignored.example" in lst.entries  # "default: ignore" is still a known tracker


def test_ddg_web_tds_sections() -> None:
    lst = load_duckduckgo(FIX / "ddg_web_tds.json", name="ddg-web")
    assert lst.name == "ddg-web"
    assert lst.version.startswith("sha256:")  # no version field
    assert lst.entries["tracker.example"] == ("Tracker Example LLC", "advertising")
    assert lst.entries["chat.example"] == ("Chat Co", "customer_support")
    assert lst.entries["odd.example"] == ("Odd Co", "unknown")
    assert lst.entries["owned.example"] == ("Chat Co", "unknown")  # "domains" section
    assert lst.entries["tracker-cdn.example"] == ("Tracker Example LLC", "unknown")  # entities


def test_ddg_tracker_radar_entity() -> None:
    lst = load_duckduckgo(FIX / "ddg_entity.json")
    assert lst.entries == {
        "video-cdn.example": ("Example Video Communications, Inc.", "unknown"),
        "video.example": ("Example Video Communications, Inc.", "unknown"),
    }


def test_ddg_tracker_radar_domain(tmp_path: Path) -> None:
    p = tmp_path / "d.json"
    p.write_text(
        json.dumps({"domain": "px.example", "owner": {"name": "Px"}, "categories": ["Analytics"]})
    )
    assert load_duckduckgo(p).entries == {"px.example": ("Px", "analytics")}


# --- Exodus -------------------------------------------------------------------------------


def test_exodus_simple_signatures_become_suffixes() -> None:
    lst = load_exodus(FIX / "exodus_trackers.json")
    assert lst.entries["facebook.com"] == ("Example Analytics", "analytics")
    assert lst.entries["analytics.example"] == ("Example Analytics", "analytics")
    assert lst.entries["tag-mediation.example.com"] == ("Example Analytics", "analytics")
    assert lst.entries["crashlog.example"] == ("Example Crash", "crash_reporting")
    assert lst.exact == {"crash.example": ("Example Crash", "crash_reporting")}
    hit = _one(lst, "graph.facebook.com")
    assert hit is not None and hit.match == "suffix" and hit.pattern == "facebook.com"
    assert _one(lst, "notfacebook.com") is None  # label boundary, stricter than substring
    assert _one(lst, "x.crash.example") is None  # ^...$ is exact


def test_exodus_complex_signatures_stay_regex() -> None:
    lst = load_exodus(FIX / "exodus_trackers.json")
    assert [r.pattern for r in lst.regexes] == [r"adserver[0-9]*\.example\.net", "keywordonly"]
    hit = _one(lst, "eu.adserver42.example.net")
    assert hit is not None
    assert (hit.match, hit.organisation, hit.category) == ("regex", "Example Ads", "advertising")
    assert _one(lst, "KEYWORDONLY.example") is not None  # case-insensitive search
    assert _one(lst, "keywordonly." + "a" * 250) is None  # regexes skip names > 253 chars


def test_exodus_guards_reject_dangerous_patterns() -> None:
    lst = load_exodus(FIX / "exodus_trackers.json")
    reasons = {r.split(": ", 1)[1].split(" (")[0] for r in lst.rejected}
    assert len(lst.rejected) == 7
    assert reasons == {
        "nested quantifier",
        "backreference",
        "longer than 500 characters",
        "more than 2 unbounded quantifiers",
        "does not compile",
    }
    assert not any("(a+)+" in r.pattern for r in lst.regexes)


@pytest.mark.parametrize(
    ("pattern", "refused"),
    [
        ("(a+)+", True),
        ("(.*)*", True),
        ("(a|aa)+", True),
        ("(a?)+", True),
        ("((a+)?)+", True),
        ("(a{2,})*", True),
        ("(?:x+y)+", True),
        ("(a)\\1", True),
        ("(?P<n>a)(?P=n)", True),
        ("a.*b.*c.*d", True),
        ("a?a?a?a?aaaa", True),  # exponential without any nesting
        ("a{0,30}a{0,30}a{0,30}b", True),  # large bounds count as unbounded
        ("a*a*a?b", False),  # at the limits: 3 variable, 2 unbounded
        ("a{2}b{3}c{4}d{5}", False),  # fixed counts give no choice
        ("x" * 501, True),
        ("(www\\.)?example\\.com", False),
        ("mt[0-9]*\\.google\\.cn", False),
        ("adservice\\.google\\..*", False),
        ("[(+]+\\.com", False),
        ("(?i)foo", False),
        ("\\(a+\\)+", False),
        ("x" * 500, False),
    ],
)
def test_pathological(pattern: str, refused: bool) -> None:
    assert (pathological(pattern) is not None) is refused


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("\\.facebook\\.com", ("facebook.com", "suffix")),
        ("facebook\\.com", ("facebook.com", "suffix")),
        (".*\\.estimote\\.com", ("estimote.com", "suffix")),
        (".chartbeat\\.net", ("chartbeat.net", "suffix")),
        ("event.split.io", ("event.split.io", "suffix")),
        ("kvinit\\-prod\\.api\\.kochava\\.com", ("kvinit-prod.api.kochava.com", "suffix")),
        ("ads\\.example\\.com$", ("ads.example.com", "suffix")),
        ("^ads\\.example\\.com$", ("ads.example.com", "exact")),
        ("^ads\\.example\\.com", None),
        ("fidzup", None),
        ("\\.exacttarget\\.", None),
        ("adservice\\.google\\..*", None),
        ("54\\.243\\.73\\.253:8080/x/", None),
    ],
)
def test_simple_domain(pattern: str, expected: tuple[str, str] | None) -> None:
    assert simple_domain(pattern) == expected


def test_split_alternatives() -> None:
    assert split_alternatives("a|b\\|c|(d|e)|[|]|f||") == ["a", "b\\|c", "(d|e)", "[|]", "f"]


@pytest.mark.filterwarnings("ignore::FutureWarning")
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.*+?|()[]{}\\,0123^$:-", max_size=40))
def test_guarded_regexes_compile_or_are_refused_and_run_fast(pattern: str) -> None:
    for alt in split_alternatives(pattern):
        assert isinstance(simple_domain(alt), (tuple, type(None)))
        if pathological(alt) is not None:
            continue
        try:
            compiled = re.compile(alt, re.IGNORECASE)
        except (re.error, OverflowError, RecursionError):
            continue
        start = time.perf_counter()
        compiled.search("a" * 120 + "!")
        compiled.search(("ab." * 84)[:253])
        assert time.perf_counter() - start < 0.5, alt


# --- hosts and domain lists ----------------------------------------------------------------


def test_hosts_file_entries_are_exact() -> None:
    lst = load_hosts(FIX / "hosts.txt", organisation="Blocklist", category="advertising")
    assert lst.name == "hosts"
    assert set(lst.exact) == {
        "ads.tracker.example",
        "telemetry.app.example",
        "metrics.app.example",
        "tabbed.example",
    }
    assert lst.entries == {}
    hit = _one(lst, "ads.tracker.example")
    assert hit is not None and (hit.organisation, hit.category, hit.match) == (
        "Blocklist",
        "advertising",
        "exact",
    )
    assert _one(lst, "x.ads.tracker.example") is None


def test_plain_domain_list_entries_are_suffixes() -> None:
    lst = load_hosts(FIX / "domains.txt", name="my-list")
    assert set(lst.entries) == {"tracker.example", "wild.example", "dot.example", "adblock.example"}
    hit = _one(lst, "a.b.wild.example")
    assert hit is not None and (hit.list_name, hit.category) == ("my-list", "unknown")


# --- X-Ray --------------------------------------------------------------------------------


def test_xray() -> None:
    lst = load_xray(FIX / "xray.json")
    assert lst.entries["app-measurement.example"] == ("Firebase (Alphabet)", "unknown")
    assert lst.entries["meta.example"] == ("Facebook", "unknown")
    assert lst.entries["telco.example"] == ("Telco", "unknown")
    assert _one(lst, "x.firebase.example") is not None


# --- errors: one line, InputError only -------------------------------------------------------

LOADERS = [load_disconnect, load_duckduckgo, load_exodus, load_hosts, load_xray]


@pytest.mark.parametrize("loader", LOADERS)
def test_missing_file(loader, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        loader(tmp_path / "nope.json")
    assert "\n" not in str(info.value) and "nope.json" in str(info.value)


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"\xff\xfe\x00\x01", b"[]", b"{}", b"42", b'{"trackers": 5}', b"[1, 2]"],
)
def test_invalid_content(loader, content: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    with pytest.raises(InputError) as info:
        loader(p)
    assert "\n" not in str(info.value)


def test_directory_is_not_a_list(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_exodus(tmp_path)


def test_wrong_list_kind_is_refused() -> None:
    with pytest.raises(InputError):
        load_disconnect(FIX / "xray.json")
    with pytest.raises(InputError):
        load_xray(FIX / "disconnect_services.json")
    with pytest.raises(InputError):
        load_exodus(FIX / "xray.json")


def test_deeply_nested_json_is_an_input_error(tmp_path: Path) -> None:
    p = tmp_path / "deep.json"
    p.write_text("[" * 100_000 + "]" * 100_000)
    for loader in (load_xray, load_duckduckgo):
        with pytest.raises(InputError):
            loader(p)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_load_or_input_error(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f"
        p.write_bytes(data)
        for loader in LOADERS:
            try:
                lst = loader(p)
            except InputError:
                continue
            assert isinstance(lst, TrackerList)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_match_never_raises(name: str) -> None:
    lst = load_exodus(FIX / "exodus_trackers.json")
    for hit in match([lst], name):
        assert isinstance(hit, ListHit)


# --- the real lists, read in place (never copied); skipped when the shared folder is absent ---


def test_real_lists_when_present() -> None:
    from tests.conftest import REFERENCE

    lists_dir = REFERENCE / "lists"
    if not (lists_dir / "exodus" / "trackers.json").is_file():
        pytest.skip("shared tracker lists not present (../shared/reference/lists)")
    lists = [
        load_disconnect(
            lists_dir / "disconnect" / "services.json", lists_dir / "disconnect" / "entities.json"
        ),
        load_duckduckgo(lists_dir / "duckduckgo" / "app-android-tds.json"),
        load_exodus(lists_dir / "exodus" / "trackers.json"),
        load_xray(lists_dir / "trackercontrol" / "xray-blacklist.json"),
    ]
    assert lists[1].version == "1688648647512"
    assert lists[2].rejected == ()  # no real Exodus signature trips the guards
    names = {h.list_name for h in match(lists, "graph.facebook.com")}
    assert names == {"disconnect", "duckduckgo", "exodus", "xray"}
    assert {h.list_name for h in match(lists, "app.adjust.com")} >= {"exodus", "duckduckgo"}
    assert match(lists, "app-measurement.com")[0].organisation == "Firebase (Alphabet)"
