"""App decisions keep their reason; ports alone never decide."""

from __future__ import annotations

from typing import Any

from inspector.assess.apps import decide_apps
from inspector.assess.profiles import APPS, profile_for_stun, profile_for_vendor
from inspector.schema.dtls import DtlsRow
from inspector.schema.rtp import RtpRow
from inspector.schema.stun import StunRow
from tests.factories import attribution, evidence, flow, make


def _decide(*evs: Any, **att: Any) -> Any:
    atts = {ev.uid: attribution(ev, **att.get(ev.uid, {})) for ev in evs}
    return decide_apps(list(evs), atts)


def test_vendor_names_map_to_profiles() -> None:
    def name(v: str) -> str:
        p = profile_for_vendor(v)
        return p.name if p else ""

    assert name("Zoom") == "Zoom"
    assert name("Microsoft Teams / Office") == "Microsoft Teams/Skype"
    assert name("Skype (consumer)") == "Microsoft Teams/Skype"
    assert name("Jitsi Meet (meet.jit.si)") == "Jitsi"
    assert name("") == ""
    assert profile_for_stun("WhatsApp") is not None


def test_profiles_are_unique_and_e2e_designs_cite_a_source() -> None:
    names = [p.name for p in APPS]
    assert len(names) == len(set(names))
    for p in APPS:
        if p.e2e_design:
            assert any(
                w in p.e2e_design
                for w in (
                    "overview",
                    "Overview",
                    "Security",
                    "ringrtc",
                    "documentation",
                    "Help",
                    "whitepaper",
                )
            ), p.name


def test_stun_fingerprint_and_zoom_framing() -> None:
    c1 = evidence(
        flow("C1", proto="udp", resp_p=3478),
        stun=[make(StunRow, "C1", vendor_hint="WhatsApp", vendor_attrs="0x4000", frame=4)],
    )
    c2 = evidence(
        flow("C2", proto="udp", orig_p=40000, resp_p=8801),
        rtp=[make(RtpRow, "C2", framing="zoom_server", frame=9)],
    )
    got = _decide(c1, c2)
    assert got["C1"].app == "WhatsApp" and "frame 4" in got["C1"].reason
    assert got["C2"].app == "Zoom" and "framing" in got["C2"].reason


def test_port_8801_alone_is_not_zoom() -> None:
    assert "C1" not in _decide(evidence(flow("C1", proto="udp", resp_p=8801)))


def test_peer_to_peer_media_inherits_the_app_of_the_same_local_port() -> None:
    stun = evidence(flow("C1", proto="udp", orig_p=40000, resp_p=3478))
    p2p = evidence(
        flow("C2", proto="udp", orig_p=40000, resp_h="198.51.100.7", resp_p=51000, ts=1010.0)
    )
    got = _decide(stun, p2p, C1={"vendor": "Zoom", "organisation": "Zoom"})
    assert got["C2"].app == "Zoom" and got["C2"].p2p


def test_generic_webrtc() -> None:
    ev = evidence(flow("C1", proto="udp"), stun=[make(StunRow, "C1")], dtls=[make(DtlsRow, "C1")])
    assert _decide(ev)["C1"].app == "unknown WebRTC"
