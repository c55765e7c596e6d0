"""App decisions keep their reason; ports alone never decide."""

from __future__ import annotations

from inspector.assess.apps import app_for_vendor, decide_apps
from tests.factories import flow, row


def test_vendor_names_map_to_apps() -> None:
    assert app_for_vendor("Zoom") == "Zoom"
    assert app_for_vendor("Microsoft Teams / Office") == "Microsoft Teams/Skype"
    assert app_for_vendor("Skype (consumer)") == "Microsoft Teams/Skype"
    assert app_for_vendor("Jitsi Meet (meet.jit.si)") == "Jitsi"
    assert app_for_vendor("") == ""


def test_stun_fingerprint_and_zoom_framing() -> None:
    flows = [
        flow("C1", proto="udp", resp_p=3478),
        flow("C2", proto="udp", orig_p=40000, resp_p=8801),
    ]
    by_uid = {
        "stun": {"C1": [row("C1", 0, 4, vendor_hint="WhatsApp", vendor_attrs="0x4000")]},
        "rtp": {"C2": [row("C2", 0, 9, framing="zoom_server")]},
    }
    got = decide_apps(flows, by_uid, "192.168.1.20")
    assert got["C1"].app == "WhatsApp" and "frame 4" in got["C1"].reason
    assert got["C2"].app == "Zoom" and "framing" in got["C2"].reason


def test_port_8801_alone_is_not_zoom() -> None:
    got = decide_apps([flow("C1", proto="udp", resp_p=8801)], {}, "192.168.1.20")
    assert "C1" not in got


def test_peer_to_peer_media_inherits_the_app_of_the_same_local_port() -> None:
    stun = flow(
        "C1",
        proto="udp",
        orig_p=40000,
        resp_p=3478,
        vendor="Zoom",
        attribution_source="range 170.114.0.0/16: x",
    )
    p2p = flow("C2", proto="udp", orig_p=40000, resp_h="198.51.100.7", resp_p=51000, ts=1010.0)
    got = decide_apps([stun, p2p], {}, "192.168.1.20")
    assert got["C2"].app == "Zoom" and got["C2"].p2p


def test_generic_webrtc() -> None:
    by_uid = {"stun": {"C1": [row("C1", vendor_hint="")]}, "dtls": {"C1": [row("C1")]}}
    assert decide_apps([flow("C1", proto="udp")], by_uid, "")["C1"].app == "unknown WebRTC"
