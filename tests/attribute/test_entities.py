"""inspector.attribute.entities: parent entities, owner vs host, first/third party per flow's app.

The scenarios of issue 12 run against the bundled database; the rule table is also exercised row
by row on hand-made endpoints, so every rule is covered independently of the data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.apps import APPS, UNKNOWN_WEBRTC, app_profile, profile
from inspector.attribute.database import Database, DomainMatch, RangeMatch, bundled_database
from inspector.attribute.entities import (
    ENTITIES,
    PARTY_RULES,
    TRACKING_CATEGORIES,
    Endpoint,
    Party,
    describe_endpoint,
    entity_of,
    party_of,
    party_rules_markdown,
)


@pytest.fixture(scope="module")
def db() -> Database:
    return bundled_database()


def _party(db: Database, app: str, name: str = "", addr: str = "") -> tuple[Party, str]:
    decision = party_of(app, describe_endpoint(db, name, addr))
    return decision.party, decision.rule


# ----------------------------------------------------------------------------- entity model


@pytest.mark.parametrize(
    ("organisation", "entity"),
    [
        ("Meta Platforms, Inc.", "Meta"),
        ("Meta Platforms, Inc. (WhatsApp)", "Meta"),
        ("Google LLC (Alphabet)", "Alphabet"),
        ("Google LLC", "Alphabet"),
        ("Google Cloud (customers)", "Alphabet"),
        ("LinkedIn (Microsoft)", "Microsoft"),
        ("Microsoft Corporation (Skype/Teams)", "Microsoft"),
        ("Zoom Communications, Inc. (formerly Zoom Video Communications)", "Zoom"),
        ("Slack Technologies (Salesforce)", "Salesforce"),
        ("Cisco Systems, Inc. (Webex)", "Cisco"),
        ("Viber Media S.a r.l. (Rakuten)", "Rakuten"),
        ("Twilio Inc. (Segment)", "Twilio"),
        ("Adjust GmbH (AppLovin)", "AppLovin"),
        ("Telegram Messenger Inc", "Telegram"),
        ("Signal Messenger LLC (Signal Foundation)", "Signal"),
    ],
)
def test_entity_of_known_parents(organisation: str, entity: str) -> None:
    found = entity_of(organisation)
    assert found is not None and found.name == entity
    assert found.source


def test_entity_of_unknown_organisation_is_its_own_entity() -> None:
    found = entity_of("Mixpanel, Inc.")
    assert found is not None and found.name == "Mixpanel, Inc."
    assert "no parent known" in found.source
    assert entity_of("") is None
    assert entity_of("Mixpanel, Inc.") != entity_of("Amplitude, Inc.")


def test_every_entity_and_app_has_a_source() -> None:
    names = {e.name for e in ENTITIES}
    for e in ENTITIES:
        assert e.source and e.aliases
    for app in APPS:
        if app.name == UNKNOWN_WEBRTC:
            assert app.entity == ""
            continue
        assert app.entity_source
        assert app.entity in names, app.name
        for pattern, source in app.own_endpoints:
            assert pattern and source


@pytest.mark.parametrize(
    "app",
    [
        "Zoom",
        "Microsoft Teams/Skype",
        "Webex",
        "Google Meet",
        "Jitsi",
        "Slack",
        "Discord",
        "WhatsApp",
        "Signal",
        "FaceTime",
        "Telegram",
        "Messenger",
        "Viber",
    ],
)
def test_every_conferencing_app_has_an_owner(app: str) -> None:
    profile = app_profile(app)
    assert profile is not None and profile.entity


def test_app_profile_accepts_vendor_labels() -> None:
    teams = profile("Microsoft Teams/Skype")
    assert app_profile("Skype") is teams
    assert app_profile("Microsoft Teams") is teams
    assert app_profile("microsoft teams") is teams
    assert app_profile("") is None
    assert app_profile("Netflix") is None


# ----------------------------------------------------------------------------- issue 12 cases


def test_plain_facebook_visit_is_a_site_not_an_sdk(db: Database) -> None:
    ep = describe_endpoint(db, "www.facebook.com", "")
    assert ep.category == "online_service"
    assert ep.category not in TRACKING_CATEGORIES
    assert ep.sdk_name == ""
    assert ep.entity == "Meta"
    # Messenger's push channel and an app's photo CDN are Meta's service, not an SDK
    for name in ("edge-mqtt.facebook.com", "scontent-mxp1-1.cdninstagram.com"):
        assert describe_endpoint(db, name, "").category not in TRACKING_CATEGORIES, name


def test_graph_facebook_first_party_for_meta_apps_third_for_zoom(db: Database) -> None:
    ep = describe_endpoint(db, "graph.facebook.com", "")
    assert ep.category == "social_sdk"
    assert party_of("Messenger", ep).party is Party.FIRST
    assert party_of("WhatsApp", ep).party is Party.FIRST
    assert party_of("Messenger", ep).rule == "own-endpoint"
    zoom = party_of("Zoom", ep)
    assert (zoom.party, zoom.rule) == (Party.THIRD, "other-entity")


@pytest.mark.parametrize(
    "name",
    ["stats.g.doubleclick.net", "www.google-analytics.com", "adservice.google.com"],
)
def test_same_parent_ad_business_is_third_party_in_meet(db: Database, name: str) -> None:
    ep = describe_endpoint(db, name, "")
    assert ep.entity == "Alphabet"
    decision = party_of("Google Meet", ep)
    assert (decision.party, decision.rule) == (Party.THIRD, "same-parent-tracking")
    assert "ad/analytics" in decision.reason


@pytest.mark.parametrize("name", ["px.ads.linkedin.com", "bat.bing.com", "ads1.msads.net"])
def test_linkedin_and_bing_ads_are_third_party_in_teams(db: Database, name: str) -> None:
    ep = describe_endpoint(db, name, "")
    assert ep.entity == "Microsoft"
    assert ep.category == "advertising"
    assert party_of("Microsoft Teams/Skype", ep).party is Party.THIRD


def test_meet_own_service_is_first_party(db: Database) -> None:
    assert _party(db, "Google Meet", "meet.google.com") == (Party.FIRST, "vendor-row")
    assert _party(db, "Google Meet", "www.gstatic.com")[0] is Party.FIRST


def test_aws_hosted_endpoint_is_hosted_on_aws_owner_from_name(db: Database) -> None:
    aws = "3.5.140.1"  # in Amazon's published customer ranges, not in Zoom's
    ep = describe_endpoint(db, "us04web.zoom.us", aws)
    assert ep.owner.startswith("Zoom")
    assert ep.owner_from == "name"
    assert ep.hosted_on == "hosted on Amazon Web Services (customers)"
    assert party_of("Zoom", ep).party is Party.FIRST
    bare = describe_endpoint(db, "", aws)
    assert bare.owner == "" and bare.host.startswith("Amazon Web Services")
    assert party_of("Zoom", bare).party is Party.UNKNOWN
    cdn = describe_endpoint(db, "d111111abcdef8.cloudfront.net", "")
    assert cdn.owner == "" and cdn.hosted_on.startswith("hosted on Amazon")
    # AWS's own analytics service under the hosting namespace: Amazon owns it
    ma = describe_endpoint(db, "mobileanalytics.us-east-1.amazonaws.com", aws)
    assert (ma.owner, ma.category) == ("Amazon Web Services, Inc.", "analytics")
    assert party_of("Zoom", ma).party is Party.THIRD


def test_as_route_of_a_hosting_provider_is_hosted_on_never_owner(db: Database) -> None:
    """An address only the IPFire AS routes cover: OVH hosts it, nobody is its known owner."""
    bare = describe_endpoint(db, "", "51.68.181.92")
    assert (bare.owner, bare.host, bare.owner_from) == ("", "OVH SAS (OVHcloud)", "")
    assert "AS16276" in bare.source and party_of("Zoom", bare).party is Party.UNKNOWN
    named = describe_endpoint(db, "us04web.zoom.us", "51.68.181.92")
    assert named.owner.startswith("Zoom") and named.hosted_on == "hosted on OVH SAS (OVHcloud)"
    # a vendor's own AS names the owner (its entity), never the vendor's product row
    own = describe_endpoint(db, "", "38.99.124.1")
    assert (own.entity, own.vendor, own.owner_from, own.host) == ("Zoom", "", "address", "")
    assert party_of("Zoom", own).party is Party.FIRST


def test_first_party_telemetry_endpoints(db: Database) -> None:
    assert describe_endpoint(db, "log.zoom.us", "").category == "first-party telemetry"
    assert _party(db, "Zoom", "log.zoom.us") == (Party.FIRST, "vendor-row")
    skype = describe_endpoint(db, "skypedataprdcolneu04.cloudapp.net", "")
    assert (skype.owner, skype.category) == ("Microsoft Corporation", "first-party telemetry")
    assert party_of("Microsoft Teams/Skype", skype).party is Party.FIRST
    ai = describe_endpoint(db, "dc.applicationinsights.microsoft.com", "")
    assert party_of("Microsoft Teams/Skype", ai).rule == "own-endpoint"
    assert party_of("Zoom", ai).party is Party.THIRD


@pytest.mark.parametrize(
    ("name", "addr", "app"),
    [
        ("textsecure-service.whispersystems.org", "", "Signal"),
        ("login.microsoftonline.com", "", "Microsoft Teams/Skype"),
        ("substrate.office.com", "", "Microsoft Teams/Skype"),
        ("", "149.154.167.51", "Telegram"),
        ("", "91.108.56.130", "Telegram"),
        ("", "134.224.10.1", "Zoom"),
        ("", "157.240.1.1", "WhatsApp"),
        ("", "179.60.192.3", "Messenger"),
        ("*.cloud.zoom.us", "", "Zoom"),
    ],
)
def test_vendor_servers_are_named(db: Database, name: str, addr: str, app: str) -> None:
    ep = describe_endpoint(db, name, addr)
    profile = app_profile(app)
    assert profile is not None
    assert ep.owner and ep.entity == profile.entity
    assert party_of(app, ep).party is Party.FIRST


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("mapi.apptimize.com", "analytics"),
        ("va.origin.startappservice.com", "advertising"),
        ("www.adskeeper.com", "advertising"),
        ("www.googletagservices.com", "advertising"),
        ("pixel.wp.com", "analytics"),
        ("telemetry.dropbox.com", "analytics"),
        ("app-measurement.com", "analytics"),
        ("api.mixpanel.com", "analytics"),
    ],
)
def test_sdk_endpoints_named(db: Database, name: str, category: str) -> None:
    ep = describe_endpoint(db, name, "")
    assert ep.category == category
    assert ep.source


# ----------------------------------------------------------------------------- rule table


def _ep(
    owner: str = "Org", entity: str = "Org", category: str = "online_service", **kw: str
) -> Endpoint:
    base = dict(
        name="x.example",
        owner=owner,
        entity=entity,
        category=category,
        vendor="",
        sdk_name="",
        host="",
        owner_from="name",
        pattern="x.example",
        source="test",
    )
    base.update(kw)
    return Endpoint(**base)  # type: ignore[arg-type]


RULE_CASES = {
    "no-owner": ("Zoom", _ep(owner="", entity="", host="Amazon Web Services (customers)")),
    "tracking-for-any-app": ("", _ep("Mixpanel", "Mixpanel", "analytics")),
    "no-app": ("", _ep()),
    "vendor-row": ("Zoom", _ep(owner="Zoom", entity="Zoom", vendor="Zoom")),
    "own-endpoint": (
        "Messenger",
        _ep("Meta Platforms, Inc.", "Meta", "social_sdk", name="graph.facebook.com"),
    ),
    "other-entity": ("Zoom", _ep("Mixpanel", "Mixpanel", "analytics")),
    "same-parent-tracking": ("Google Meet", _ep("Google LLC", "Alphabet", "advertising")),
    "same-entity": ("Google Meet", _ep("Google LLC", "Alphabet", "online_service")),
}


def test_every_rule_has_a_case() -> None:
    assert {r.name for r in PARTY_RULES} == set(RULE_CASES)
    assert all(r.doc for r in PARTY_RULES)


@pytest.mark.parametrize("rule", [r.name for r in PARTY_RULES])
def test_rule_decides_its_case(rule: str) -> None:
    app, ep = RULE_CASES[rule]
    decision = party_of(app, ep)
    expected = next(r.party for r in PARTY_RULES if r.name == rule)
    assert (decision.rule, decision.party) == (rule, expected)
    assert decision.reason


def test_no_app_own_endpoint_of_some_app_stays_unknown() -> None:
    """graph.facebook.com with no app: first party for Meta's apps, third for others."""
    ep = _ep("Meta Platforms, Inc.", "Meta", "social_sdk", name="graph.facebook.com")
    assert (party_of("", ep).party, party_of("", ep).rule) == (Party.UNKNOWN, "no-app")


def test_unknown_webrtc_has_no_party() -> None:
    assert party_of(UNKNOWN_WEBRTC, _ep("Mixpanel", "Mixpanel", "online_service")).rule == "no-app"


def test_no_owner_reason_says_hosted_on() -> None:
    app, ep = RULE_CASES["no-owner"]
    assert "hosted on Amazon Web Services" in party_of(app, ep).reason


def test_vendor_row_of_another_app_is_not_first_party() -> None:
    ep = _ep(
        "Microsoft Corporation", "Microsoft", "first-party telemetry", vendor="Microsoft Teams"
    )
    assert party_of("Zoom", ep).party is Party.THIRD
    assert party_of("Skype", ep).party is Party.FIRST


# ----------------------------------------------------------------------------- hosting rows


def test_hosting_rows_never_own() -> None:
    db = Database.from_rows(
        "t",
        "",
        [
            DomainMatch("cloudfront.net", "suffix", "AWS", "cdn_cloud", "", "", "s1", hosting=True),
            DomainMatch("vendor.example", "suffix", "Vendor", "online_service", "", "", "s2"),
        ],
        [
            RangeMatch("198.51.100.0/24", "Cloud", "", "", "s3", "cdn_cloud", hosting=True),
            RangeMatch("203.0.113.0/24", "Operator", "", "", "s4", "online_service"),
        ],
    )
    ep = describe_endpoint(db, "a.cloudfront.net", "203.0.113.9")
    assert (ep.owner, ep.owner_from, ep.host) == ("Operator", "address", "AWS")
    ep = describe_endpoint(db, "api.vendor.example", "198.51.100.7")
    assert (ep.owner, ep.owner_from, ep.host) == ("Vendor", "name", "Cloud")
    ep = describe_endpoint(db, "", "198.51.100.7")
    assert (ep.owner, ep.host, ep.category) == ("", "Cloud", "cdn_cloud")
    ep = describe_endpoint(db, "nothing.example", "192.0.2.1")
    assert (ep.owner, ep.host, ep.category) == ("", "", "unknown")


def test_docs_embed_the_rule_table() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "attribution-database.md"
    assert party_rules_markdown() in docs.read_text(encoding="utf-8")
