"""Issue acceptance on the shared real captures: apps, P2P, and verdicts without E2E claims."""

from __future__ import annotations

from functools import cache

import pytest

import inspector
from tests.conftest import real_dir


@cache
def flows(name: str):  # type: ignore[no-untyped-def]
    return inspector.analyze(real_dir() / "ndpi" / "pcap" / name).flows


def test_zoom_udp_8801_is_proprietary_encrypted_without_e2e_claim() -> None:
    f = flows("zoom.pcap")
    media = f[(f.proto == "udp") & (f.resp_p == 8801)]
    assert len(media) >= 1
    assert set(media.app) == {"Zoom"} and set(media.role) == {"media"}
    assert set(media.encryption_verdict) == {"PROPRIETARY_ENCRYPTED"}
    assert not set(f.encryption_verdict) & {"LIKELY_E2E", "E2E_INDICATED"}
    assert media.encryption_caveat.str.contains("no end-to-end claim").all()


def test_zoom_web_client_is_hop_by_hop_srtp() -> None:
    f = flows("stun_zoom.pcapng")
    media = f[f.role == "media"]
    assert set(media.app) == {"Zoom"}
    assert set(media.encryption_verdict) == {"HOP_BY_HOP_SRTP"}


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
