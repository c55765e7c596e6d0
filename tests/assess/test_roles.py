"""Roles: one minimal evidence record per row of the role table, decided by that row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from inspector.assess.roles import ROLE_RULES, content_delivery_label, decide_role
from inspector.schema.content import ContentRow
from inspector.schema.dns import DnsRow
from inspector.schema.dtls import DtlsRow
from inspector.schema.rtp import RtpRow
from inspector.schema.signalling import SignallingRow
from inspector.schema.stun import StunRow
from inspector.schema.tls import TlsRow
from inspector.vocab import Role
from tests.factories import attribution, ctx, evidence, flow, make

META = "Meta Platforms, Inc."


def _att_ctx(conn: Any, app: str = "", session_app: str = "", **att: Any) -> Any:
    ev = evidence(conn)
    return ctx(ev, attribution(ev, **att), app=app, session_app=session_app)


def _udp(**kw: Any) -> Any:
    return flow(proto="udp", resp_p=3478, **kw)


def _content(**counts: int) -> ContentRow:
    return make(ContentRow, transport="udp", classified=sum(counts.values()), **counts)  # type: ignore[no-any-return]


#: rule name -> (context builder, expected role)
CASES: dict[str, tuple[Callable[[], Any], Role]] = {
    "icmp": (lambda: ctx(evidence(flow(proto="icmp"))), Role.OTHER),
    "encrypted_dns": (
        lambda: ctx(evidence(flow(resp_p=853, service="tls"), tls=[make(TlsRow, alpn="dot")])),
        Role.DNS,
    ),
    "dns": (
        lambda: ctx(evidence(flow(proto="udp", resp_p=53), dns=[make(DnsRow, query="a")])),
        Role.DNS,
    ),
    "call_signalling": (
        lambda: ctx(
            evidence(
                flow(proto="udp", resp_p=5060),
                signalling=[make(SignallingRow, protocol="sip", cleartext_payload=True)],
            )
        ),
        Role.SIGNALLING,
    ),
    "first_party_tracker": (
        lambda: _att_ctx(
            flow(service="tls"),
            "Microsoft Teams/Skype",
            name="gate.hockeyapp.net",
            organisation="Microsoft Corporation",
            category="crash_reporting",
        ),
        Role.FIRST_PARTY_TELEMETRY,
    ),
    "third_party_tracker": (
        lambda: _att_ctx(
            flow(service="tls"),
            "Zoom",
            name="graph.facebook.com",
            organisation=META,
            category="social_sdk",
        ),
        Role.THIRD_PARTY_TELEMETRY,
    ),
    "vendor_telemetry": (
        lambda: _att_ctx(
            flow(service="tls"), organisation="Zoom", category="first-party telemetry"
        ),
        Role.FIRST_PARTY_TELEMETRY,
    ),
    "dtls_no_srtp": (
        lambda: ctx(evidence(_udp(), dtls=[make(DtlsRow, use_srtp="absent")])),
        Role.OTHER,
    ),
    "dtls_midstream": (
        lambda: ctx(evidence(_udp(), dtls=[make(DtlsRow, encrypted_records=30)])),
        Role.OTHER,
    ),
    "relayed_media": (
        lambda: ctx(
            evidence(
                _udp(), rtp=[make(RtpRow, kind="rtp")], stun=[make(StunRow, method="Allocate")]
            )
        ),
        Role.RELAY,
    ),
    "media": (
        lambda: ctx(evidence(_udp(), dtls=[make(DtlsRow, use_srtp="selected")])),
        Role.MEDIA,
    ),
    "turn_payload": (
        lambda: ctx(evidence(_udp(), stun=[make(StunRow, method="Data")])),
        Role.RELAY,
    ),
    "control_of_app": (
        lambda: ctx(evidence(_udp(), stun=[make(StunRow, method="Binding")]), app="Zoom"),
        Role.SIGNALLING,
    ),
    "control_alone": (
        lambda: ctx(evidence(_udp(), content=[_content(probe=30, keepalive=3)])),
        Role.OTHER,
    ),
    "no_payload": (
        lambda: ctx(evidence(flow(orig_payload_bytes=0, resp_payload_bytes=0)), app="Telegram"),
        Role.OTHER,
    ),
    "cleartext_udp": (
        lambda: ctx(
            evidence(
                flow(proto="udp", resp_h="192.168.1.255", resp_p=17500),
                content=[_content(text=4)],
            )
        ),
        Role.OTHER,
    ),
    "content_delivery": (
        lambda: _att_ctx(
            flow(service="tls"),
            "Viber",
            name="dl-media.viber.com",
            organisation="Viber Media S.a r.l. (Rakuten)",
            category="first-party signalling",
        ),
        Role.WEB_API,
    ),
    "first_party_web": (
        lambda: _att_ctx(flow(service="tls"), organisation="Zoom", category="first-party web"),
        Role.WEB_API,
    ),
    "vendor_service": (lambda: ctx(evidence(flow(service="tls")), app="Zoom"), Role.SIGNALLING),
    "web": (lambda: ctx(evidence(flow(service="tls"))), Role.WEB_API),
    "other": (lambda: ctx(evidence(flow())), Role.OTHER),
}


def test_content_delivery_labels_are_read_below_the_registrable_domain() -> None:
    assert content_delivery_label("media.cdn.viber.com") == "cdn"
    assert content_delivery_label("dl-media.viber.com") == "dl-media"
    assert content_delivery_label("static2.example.org") == "static2"
    assert content_delivery_label("cdn.com") == ""  # the registrable domain itself says nothing
    assert content_delivery_label("cdnjs.example.com") == ""
    assert content_delivery_label("web.wechat.com") == ""


def test_tls_records_without_handshake_are_web_traffic() -> None:
    records = make(ContentRow, transport="tcp", classified=4, tls_record=3, tls_other=1)
    assert decide_role(ctx(evidence(flow(), content=[records]))).role == Role.WEB_API


def test_every_rule_has_a_case() -> None:
    names = [r.name for r in ROLE_RULES]
    assert sorted(CASES) == sorted(names), set(names) ^ set(CASES)


@pytest.mark.parametrize("rule", [r.name for r in ROLE_RULES])
def test_rule_outcome(rule: str) -> None:
    build, role = CASES[rule]
    d = decide_role(build())
    assert (d.rule, d.role) == (rule, role)


def test_session_app_never_decides_the_party() -> None:
    """graph.facebook.com with no app evidence on the flow, in a Messenger session: the session
    does not make it first party; with no app on the client the party stays unknown."""
    d = decide_role(
        _att_ctx(
            flow(service="tls"),
            "",
            "Messenger",
            name="graph.facebook.com",
            organisation=META,
            category="social_sdk",
        )
    )
    assert d.role == Role.WEB_API and d.party.party == "unknown" and d.app == ""


def test_cdn_is_not_telemetry() -> None:
    d = decide_role(
        _att_ctx(flow(service="tls"), "", "Zoom", organisation="Akamai", category="cdn_cloud")
    )
    assert d.role == Role.WEB_API


def test_media_kinds_from_zoom_framing() -> None:
    rtp = [
        make(RtpRow, kind="rtp", framing="zoom_server", zoom_media=k) for k in ("video", "audio")
    ]
    d = decide_role(ctx(evidence(_udp(), rtp=rtp), app="Zoom"))
    assert d.role == Role.MEDIA and d.media_kinds == "audio;video"


def test_unrecognised_udp_to_an_app_server_is_not_media() -> None:
    """Issue 11: an app's address does not make opaque datagrams media (teams.pcap 3478)."""
    d = decide_role(ctx(evidence(_udp(), content=[_content(unrecognised=20, text=11)]), app="Zoom"))
    assert d.role == Role.OTHER


def test_relayed_stun_is_control_but_relayed_payloads_are_relay() -> None:
    stun = [make(StunRow, method="Send", msg_class="indication")]
    ev = evidence(_udp(), stun=stun, content=[_content(stun=6, turn_send_data=3)])
    assert decide_role(ctx(ev)).rule == "control_alone"
    ev = evidence(_udp(), stun=stun, content=[_content(stun=2, turn_channel=1, unrecognised=1)])
    assert decide_role(ctx(ev)).role == Role.RELAY
