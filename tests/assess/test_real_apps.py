"""Issue acceptance on the shared real captures: apps, P2P, and verdicts without E2E claims."""

from __future__ import annotations

from functools import cache

import pytest

import inspector
from tests.conftest import real_dir


@cache
def flows(name: str):  # type: ignore[no-untyped-def]
    return inspector.analyze(real_dir() / "ndpi" / "pcap" / name).flows


def test_zoom_udp_8801_is_judged_by_its_content_not_by_the_app() -> None:
    """Issue 11: Zoom's bandwidth probes and hellos are readable control traffic; Zoom's RTCP
    in clear is readable; nothing on UDP 8801 there is called encrypted without Zoom media
    framing, and nothing else of the capture (NetBIOS, Spotify beacons) inherits Zoom's rules."""
    f = flows("zoom.pcap")
    zoom = f[(f.proto == "udp") & (f.resp_p == 8801)]
    assert len(zoom) >= 3 and set(zoom.app) == {"Zoom"}
    assert "PROPRIETARY_ENCRYPTED" not in set(f.encryption_verdict)
    probes = zoom[zoom.encryption_reason == "CONTROL_TRAFFIC"]
    # the probe flow, and the two flows of hellos, 03/04 echoes and 05 0a keepalives
    assert len(probes) == 3 and set(probes.encryption_modifiers) == {"CONTROL_ONLY"}
    assert set(zoom[zoom.encryption_reason == "RTCP_READABLE"].role) == {"media"}
    assert not set(f.encryption_verdict) & {"LIKELY_E2E", "E2E_INDICATED"}
    assert set(f[f.app == ""].encryption_caveat.str.contains("AES-256-GCM")) <= {False}


def test_zoom_web_client_dtls_without_srtp_is_transport_tls() -> None:
    """stun_zoom.pcapng: the ServerHello declines use_srtp, so the DTLS carries no media keys."""
    f = flows("stun_zoom.pcapng")
    dtls = f[f.encryption_reason == "DTLS_NO_SRTP"]
    assert len(dtls) == 2 and set(dtls.app) == {"Zoom"} and set(dtls.role) == {"other"}
    assert set(dtls.encryption_verdict) == {"TRANSPORT_TLS"}


def test_zoom_p2p_is_recognised_without_e2e_claim() -> None:
    f = flows("zoom_p2p.pcapng")
    media = f[f.role == "media"]
    assert set(media.app) == {"Zoom"} and media.peer_to_peer.all()
    assert set(media.encryption_verdict) == {"PROPRIETARY_ENCRYPTED"}


@pytest.mark.parametrize(
    ("name", "app"),
    [
        ("teams.pcap", "Microsoft Teams/Skype"),
        ("signal.pcap", "Signal"),
        ("whatsapp_login_call.pcap", "WhatsApp"),
        ("whatsapp_voice_and_message.pcap", "WhatsApp"),
        ("google_meet.pcapng", "Google Meet"),
        ("discord.pcap", "Discord"),
        ("skype-conference-call.pcap", "Microsoft Teams/Skype"),
    ],
)
def test_app_is_recognised(name: str, app: str) -> None:
    assert app in set(flows(name).app)


def test_discord_voice_servers_named_by_their_own_protocol() -> None:
    f = flows("discord.pcap")
    media = f[f.role == "media"]
    assert len(media) > 10 and set(media.app) == {"Discord"}
    assert media.app_reason.str.contains("IP discovery|voice ping|timing").all()
