"""Roles from categories, protocols and the app of the session."""

from __future__ import annotations

from inspector.assess.roles import decide_role, same_owner
from tests.factories import flow, row


def test_tracker_is_third_party_for_zoom_but_first_party_for_its_owner() -> None:
    fb = flow("C1", category="social_sdk", organisation="Meta Platforms, Inc.", service="tls")
    assert decide_role(fb, "", {}, "Zoom").role == "third-party telemetry"
    assert decide_role(fb, "", {}, "Messenger").role == "first-party telemetry"
    assert same_owner("WhatsApp", "Meta Platforms, Inc.")


def test_media_relay_dns_and_icmp() -> None:
    media = flow("C1", proto="udp")
    assert (
        decide_role(
            media, "Zoom", {"rtp": {"C1": [row("C1", zoom_media="audio", framing="zoom_server")]}}
        ).role
        == "media"
    )
    relay = flow("C2", proto="udp")
    by_uid = {"stun": {"C2": [row("C2", method="Allocate")]}, "rtp": {"C2": [row("C2")]}}
    assert decide_role(relay, "", by_uid).role == "relay"
    assert decide_role(flow("C3", proto="udp", resp_p=53), "", {}).role == "dns"
    assert decide_role(flow("C4", proto="icmp"), "Zoom", {}).role == "other"


def test_cdn_is_not_telemetry() -> None:
    cdn = flow("C1", category="cdn_cloud", organisation="Fastly", service="tls")
    assert decide_role(cdn, "", {}, "Zoom").role == "web/API"


def test_encrypted_dns_is_dns() -> None:
    doq = flow("C1", proto="udp", resp_p=784, service="quic")
    by_uid = {"quic": {"C1": [row("C1", alpn="doq-i00")]}}
    assert decide_role(doq, "", by_uid).role == "dns"
    doh = flow("C2", service="tls", server_name="dns.google")
    assert decide_role(doh, "", {}).reason.startswith("DNS over HTTPS")


def test_stun_only_flows_are_call_setup_not_media() -> None:
    turn = flow("C1", proto="udp", resp_p=3478, service="stun")
    by_uid = {"stun": {"C1": [row("C1", method="allocate")]}}
    got = decide_role(turn, "Microsoft Teams/Skype", by_uid)
    assert got.role == "signalling" and "no media" in got.reason
    relayed = {"stun": {"C1": [row("C1", method="send")]}}
    assert decide_role(turn, "WhatsApp", relayed).role == "relay"
