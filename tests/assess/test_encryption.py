"""Verdicts: evidence-based, never from entropy, with honest caveats."""

from __future__ import annotations

from inspector.assess.encryption import assess_flow
from tests.factories import flow, row


def test_cleartext_dns_and_http() -> None:
    v = assess_flow(
        flow("C1", proto="udp", resp_p=53, service="dns"),
        "",
        False,
        {"dns": {"C1": [row("C1", query="zoom.us")]}},
    )
    assert v.verdict == "PLAINTEXT" and "CLEARTEXT_DNS" in v.modifiers
    v = assess_flow(
        flow("C2", service="http", resp_p=80),
        "",
        False,
        {"http": {"C2": [row("C2", 0, 3, method="GET", host="a.example")]}},
    )
    assert v.verdict == "PLAINTEXT" and "frame 3" in v.evidence


def test_tls_weak_modifier_and_terminator() -> None:
    f = flow("C1", service="tls", organisation="Zoom Communications, Inc.")
    v = assess_flow(
        f,
        "Zoom",
        False,
        {
            "tls": {
                "C1": [
                    row(
                        "C1",
                        0,
                        4,
                        version="TLS 1.0",
                        cipher="TLS_RSA_WITH_RC4_128_SHA",
                        weak="TLS<=1.1;RC4;static-RSA",
                        server_hello_seen=True,
                    )
                ]
            }
        },
    )
    assert v.verdict == "TRANSPORT_TLS" and v.modifiers == ("WEAK_TLS",)
    assert "Zoom Communications" in v.caveat


def test_zoom_media_is_proprietary_with_no_e2e_claim_and_ecb_flag() -> None:
    rtp = row(
        "C1",
        0,
        7,
        framing="zoom_server",
        zoom_media="audio",
        kind="rtp",
        packets=300,
        codec_match_fraction=0.0,
        ecb_suspected=True,
        ecb_repeated_blocks=12,
        ecb_block_indices=5,
        ecb_example_block="00" * 16,
        ecb_frames="21:43;30:59",
    )
    v = assess_flow(
        flow("C1", proto="udp", resp_p=8801, vendor="Zoom"), "Zoom", False, {"rtp": {"C1": [rtp]}}
    )
    assert v.verdict == "PROPRIETARY_ENCRYPTED" and "ECB_SUSPECTED" in v.modifiers
    assert "no end-to-end claim" in v.caveat


def test_codec_structure_means_plaintext_but_opaque_payload_is_not_e2e() -> None:
    plain = row(
        "C1",
        0,
        2,
        framing="plain",
        kind="rtp",
        packets=300,
        codec_guess="opus",
        codec_match_fraction=0.98,
        ssrc="0x1",
        codec_evidence="",
    )
    assert (
        assess_flow(flow("C1", proto="udp"), "", False, {"rtp": {"C1": [plain]}}).verdict
        == "PLAINTEXT"
    )
    opaque = row(
        "C2",
        0,
        2,
        framing="plain",
        kind="rtp",
        packets=300,
        codec_guess="",
        codec_match_fraction=0.0,
        ssrc="0x1",
    )
    v = assess_flow(
        flow("C2", proto="udp", resp_h="198.51.100.9"), "", False, {"rtp": {"C2": [opaque]}}
    )
    assert v.verdict == "UNKNOWN" and "entropy" in v.caveat


def test_dtls_srtp_to_vendor_is_hop_by_hop_and_null_profile_is_plaintext() -> None:
    d = row(
        "C1",
        0,
        5,
        srtp_profile="SRTP_AES128_CM_HMAC_SHA1_80",
        srtp_profiles_offered="",
        null_srtp=False,
    )
    f = flow("C1", proto="udp", vendor="Zoom", organisation="Zoom", category="first-party media")
    assert assess_flow(f, "Zoom", False, {"dtls": {"C1": [d]}}).verdict == "HOP_BY_HOP_SRTP"
    n = row(
        "C1", 0, 5, srtp_profile="SRTP_NULL_HMAC_SHA1_80", srtp_profiles_offered="", null_srtp=True
    )
    assert assess_flow(f, "Zoom", False, {"dtls": {"C1": [n]}}).verdict == "PLAINTEXT"


def test_p2p_dtls_is_likely_e2e_only_for_apps_designed_so() -> None:
    d = row(
        "C1", 0, 5, srtp_profile="SRTP_AEAD_AES_128_GCM", srtp_profiles_offered="", null_srtp=False
    )
    f = flow("C1", proto="udp", resp_h="198.51.100.9")
    assert assess_flow(f, "Signal", True, {"dtls": {"C1": [d]}}).verdict == "LIKELY_E2E"
    v = assess_flow(f, "unknown WebRTC", True, {"dtls": {"C1": [d]}})
    assert v.verdict == "UNKNOWN" and v.reason == "P2P_DTLS_APP_UNKNOWN"
    zoom = assess_flow(f, "Zoom", True, {"dtls": {"C1": [d]}})
    assert zoom.verdict != "LIKELY_E2E"
