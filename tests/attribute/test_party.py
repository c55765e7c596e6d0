"""Party per flow, wired through the stages: the flow's own app (its evidence or its client
fingerprint), never the session's; issue 12's scenarios end to end."""

from __future__ import annotations

from typing import Any

import pytest

import inspector
from inspector.apps import META_MVFST_APP, profile
from inspector.assess.context import FlowCtx
from inspector.assess.roles import decide_role
from inspector.attribute.clients import ClientApp, client_app
from inspector.attribute.database import bundled_database
from inspector.attribute.stage import owner_of
from inspector.schema.http import HttpRow
from inspector.schema.quic import QuicRow
from inspector.vocab import Party, Role
from tests.conftest import real_dir
from tests.factories import attribution, evidence, flow, make

META = "Meta Platforms, Inc."


def _ctx(
    name: str,
    organisation: str,
    category: str,
    app: str = "",
    session_app: str = "",
    client_apps: tuple[str, ...] = (),
    fingerprint: ClientApp | None = None,
) -> FlowCtx:
    ev = evidence(flow(service="tls"))
    att = attribution(
        ev, name=name, organisation=organisation, category=category, client_app=fingerprint
    )
    apps = tuple(p for p in (profile(a) for a in client_apps) if p is not None)
    return FlowCtx(ev, att, profile(app), profile(session_app), client_apps=apps)


# ----------------------------------------------------------------------------- fingerprints


def test_mvfst_quic_version_names_a_meta_client() -> None:
    ev = evidence(flow(proto="udp"), quic=[make(QuicRow, version="mvfst-27", frame=3)])
    found = client_app(ev)
    assert found is not None and found.app is META_MVFST_APP and "frame 3" in found.evidence
    plain = evidence(flow(proto="udp"), quic=[make(QuicRow, version="1", frame=3)])
    assert client_app(plain) is None


@pytest.mark.parametrize(
    ("ua", "app"),
    [
        ("WhatsApp/2.23.20.76 A", "WhatsApp"),
        ("Viber/21.4.0 (Android)", "Viber"),
        ("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", ""),
        ("SignalR/1.0 Telegraf/1.2", ""),  # a prefix of an app name is not the app
    ],
)
def test_user_agent_names_an_app_only_by_its_exact_name(ua: str, app: str) -> None:
    ev = evidence(flow(service="http"), http=[make(HttpRow, user_agent=ua, frame=4)])
    found = client_app(ev)
    assert (found.app.name if found else "") == app


# ----------------------------------------------------------------------------- issue 12 cases


def test_graph_facebook_from_a_meta_client_is_first_party() -> None:
    mvfst = ClientApp(META_MVFST_APP, "QUIC version mvfst-27 in frame 1")
    d = decide_role(_ctx("graph.facebook.com", META, "social_sdk", fingerprint=mvfst))
    assert (d.role, d.party.party, d.party.rule) == (
        Role.FIRST_PARTY_TELEMETRY,
        Party.FIRST,
        "own-endpoint",
    )
    assert d.app == META_MVFST_APP.name and "mvfst" in d.app_evidence


def test_graph_facebook_from_zoom_is_third_party() -> None:
    d = decide_role(_ctx("graph.facebook.com", META, "social_sdk", app="Zoom"))
    assert (d.role, d.party.party, d.party.rule) == (
        Role.THIRD_PARTY_TELEMETRY,
        Party.THIRD,
        "other-entity",
    )
    # no app on the flow, Zoom identified on the client: third party for every app seen there
    d = decide_role(
        _ctx("graph.facebook.com", META, "social_sdk", session_app="Zoom", client_apps=("Zoom",))
    )
    assert (d.role, d.party.rule, d.app) == (Role.THIRD_PARTY_TELEMETRY, "client-apps", "")


def test_doubleclick_in_a_meet_session_is_third_party() -> None:
    google = "Google LLC (Alphabet)"
    seen = _ctx(
        "googleads.g.doubleclick.net",
        google,
        "advertising",
        session_app="Google Meet",
        client_apps=("Google Meet",),
    )
    d = decide_role(seen)
    assert (d.role, d.party.rule) == (Role.THIRD_PARTY_TELEMETRY, "tracking-for-any-app")
    own = _ctx("googleads.g.doubleclick.net", google, "advertising", app="Google Meet")
    assert decide_role(own).party.rule == "same-parent-tracking"


def test_client_apps_must_agree() -> None:
    ms = "Microsoft Corporation"
    teams = _ctx(
        "gate.hockeyapp.net", ms, "crash_reporting", client_apps=("Microsoft Teams/Skype",)
    )
    d = decide_role(teams)
    assert (d.role, d.party.party, d.party.rule) == (
        Role.FIRST_PARTY_TELEMETRY,
        Party.FIRST,
        "client-apps",
    )
    both = _ctx(
        "gate.hockeyapp.net",
        ms,
        "crash_reporting",
        client_apps=("Microsoft Teams/Skype", "Telegram"),
    )
    d = decide_role(both)
    assert (d.role, d.party.party) == (Role.WEB_API, Party.UNKNOWN)


def test_session_app_alone_decides_nothing() -> None:
    d = decide_role(_ctx("graph.facebook.com", META, "social_sdk", session_app="Messenger"))
    assert (d.role, d.party.party, d.party.rule) == (Role.WEB_API, Party.UNKNOWN, "no-app")


def test_aws_hosted_endpoint_owner_from_its_name() -> None:
    owner = owner_of(bundled_database(), "us04web.zoom.us", "3.5.140.1")
    assert owner.organisation.startswith("Zoom") and owner.entity == "Zoom"
    assert owner.owner_from == "name"
    assert owner.hosted_on == "hosted on Amazon Web Services (customers)"
    bare = owner_of(bundled_database(), "", "3.5.140.1")
    assert (bare.organisation, bare.entity) == ("", "")
    assert bare.hosted_on.startswith("hosted on Amazon")


# ----------------------------------------------------------------------------- real captures


def _analyze(rel: str) -> Any:
    path = real_dir() / rel
    if not path.is_file():
        pytest.skip(f"{rel} not in the corpus")
    return inspector.analyze(path)


def test_plain_facebook_visit_has_no_sdk_finding() -> None:
    r = _analyze("ndpi/pcap/facebook.pcap")
    f = r.findings
    assert not f.finding.isin(["third_party_telemetry", "first_party_telemetry"]).any()
    www = r.flows[r.flows.server_name == "www.facebook.com"]
    assert len(www) and set(www.entity) == {"Meta"} and set(www.category) == {"online_service"}


def test_mvfst_graph_facebook_is_first_party_on_the_wire() -> None:
    r = _analyze("ndpi/pcap/quic-mvfst-22.pcap")
    f = r.findings
    graph = f[f.destination == "graph.facebook.com"]
    assert set(graph.finding) == {"first_party_telemetry"}
    assert set(graph.app) == {META_MVFST_APP.name}
    flows = r.flows[r.flows.server_name == "graph.facebook.com"]
    assert set(flows.party) == {"first"}
    assert all(p.startswith("own-endpoint: ") for p in flows.party_reason)
