"""Verdicts: one minimal evidence record per rule of the table, each decided by that rule.

``test_every_rule_has_a_case`` enumerates ``VERDICT_RULES`` and fails on a row without a case,
so adding a rule means adding its case here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from inspector.assess.encryption import VERDICT_RULES, assess_flow
from inspector.report.verdict_text import TEXTS, verdict_text
from inspector.schema.content import ContentRow
from inspector.schema.dns import DnsRow
from inspector.schema.dtls import DtlsRow
from inspector.schema.http import HttpRow
from inspector.schema.quic import QuicRow
from inspector.schema.rtp import RtpRow
from inspector.schema.signalling import SignallingRow
from inspector.schema.signatures import SignatureRow
from inspector.schema.stun import StunRow
from inspector.schema.tls import TlsRow
from inspector.vocab import Modifier, Verdict
from tests.factories import attribution, ctx, evidence, flow, make

ZOOM_ORG = "Zoom Communications, Inc."


def _rtp(**kw: Any) -> RtpRow:
    base: dict[str, Any] = dict(kind="rtp", packets=300, frame=7, ssrc="0x1", from_orig=True)
    base.update(kw)
    return make(RtpRow, **base)  # type: ignore[no-any-return]


def _udp(**kw: Any) -> Any:
    base: dict[str, Any] = dict(proto="udp", resp_p=8801)
    base.update(kw)
    return flow(**base)


def _binding(from_orig: bool) -> StunRow:
    return make(StunRow, method="Binding", msg_class="request", from_orig=from_orig, frame=2)  # type: ignore[no-any-return]


def _ecb_rtp() -> RtpRow:
    return _rtp(
        framing="zoom_server",
        zoom_media="video",
        ecb_suspected=True,
        ecb_repeated_blocks=5,
        ecb_block_indices=3,
        ecb_example_block="00" * 16,
        ecb_frames="9;10",
    )


def _content(**counts: Any) -> ContentRow:
    classified = counts.pop("classified", None)
    n = (
        classified
        if classified is not None
        else sum(v for k, v in counts.items() if isinstance(v, int) and not k.startswith("leak"))
    )
    return make(ContentRow, transport="udp", classified=n, **counts)  # type: ignore[no-any-return]


def _sig(name: str, app: str = "Discord", packets: int = 2) -> SignatureRow:
    return make(SignatureRow, signature=name, app=app, packets=packets, frame=3,  # type: ignore[no-any-return]
                detail=f"{name} test signature")  # fmt: skip


def _sip(**kw: Any) -> SignallingRow:
    base: dict[str, Any] = dict(protocol="sip", messages=4, methods="INVITE;200", frame=1,
                                transport="udp", cleartext_payload=True)  # fmt: skip
    base.update(kw)
    return make(SignallingRow, **base)  # type: ignore[no-any-return]


def _vendor(ev: Any, **kw: Any) -> Any:
    return ctx(ev, attribution(ev, organisation=ZOOM_ORG, vendor="Zoom", **kw), app="Zoom")


def _dtls(**kw: Any) -> DtlsRow:
    base: dict[str, Any] = dict(
        frame=5, srtp_profile="SRTP_AES128_CM_HMAC_SHA1_80", use_srtp="selected"
    )
    base.update(kw)
    return make(DtlsRow, **base)  # type: ignore[no-any-return]


#: rule name -> (context builder, expected verdict, a phrase its evidence or caveat must carry)
CASES: dict[str, tuple[Callable[[], Any], Verdict, str]] = {
    "icmp": (lambda: ctx(evidence(flow(proto="icmp"))), Verdict.PLAINTEXT, "ICMP"),
    "cleartext_dns": (
        lambda: ctx(
            evidence(
                flow(proto="udp", resp_p=53, service="dns"), dns=[make(DnsRow, query="zoom.us")]
            )
        ),
        Verdict.PLAINTEXT,
        "asking for zoom.us",
    ),
    "dns_over_tls": (lambda: ctx(evidence(flow(resp_p=853))), Verdict.TRANSPORT_TLS, "port 853"),
    "cleartext_http": (
        lambda: ctx(
            evidence(
                flow(resp_p=80, service="http"),
                http=[make(HttpRow, method="GET", host="a.example", frame=3)],
            )
        ),
        Verdict.PLAINTEXT,
        "frame 3",
    ),
    "cleartext_signalling": (
        lambda: ctx(evidence(_udp(resp_p=5060, service="sip"), signalling=[_sip()])),
        Verdict.PLAINTEXT,
        "SIP call signalling in clear",
    ),
    "sdes_key_in_clear": (
        lambda: ctx(
            evidence(
                _udp(resp_p=5060),
                signalling=[_sip(sdp_crypto=True, sdp_media="audio 4 RTP/SAVP 0")],
            )
        ),
        Verdict.PLAINTEXT,
        "master key for audio 4 RTP/SAVP 0 is readable",
    ),
    "connect_tunnel": (
        lambda: ctx(
            evidence(
                flow(resp_p=3128, service="http;tls"),
                signalling=[
                    _sip(
                        protocol="http_connect",
                        transport="tcp",
                        tls_followed=True,
                        cleartext_payload=False,
                        connect_target="a.example:443",
                    )
                ],
                tls=[make(TlsRow, sni="a.example", server_hello_seen=True, frame=6)],
            )
        ),
        Verdict.TRANSPORT_TLS,
        "CONNECT tunnel to a.example:443",
    ),
    "tls_not_completed": (
        lambda: ctx(
            evidence(flow(service="tls", resp_payload_bytes=0), tls=[make(TlsRow, frame=4)])
        ),
        Verdict.UNKNOWN,
        "server sent no payload",
    ),
    "tls_incomplete": (
        lambda: ctx(evidence(flow(service="tls"), tls=[make(TlsRow, sni="x.example", frame=4)])),
        Verdict.TRANSPORT_TLS,
        "no ServerHello",
    ),
    "tls": (
        lambda: ctx(
            evidence(
                flow(service="quic", proto="udp"),
                quic=[make(QuicRow, version="1", server_hello_seen=True, frame=1)],
            )
        ),
        Verdict.TRANSPORT_TLS,
        "QUIC v1 (RFC 9000, TLS 1.3)",
    ),
    "codec_plaintext": (
        lambda: ctx(
            evidence(
                _udp(),
                rtp=[_rtp(codec_guess="opus", codec_match_fraction=1.0, codec_evidence="TOC ok")],
            )
        ),
        Verdict.PLAINTEXT,
        "opus codec structure",
    ),
    "rtcp_readable": (
        lambda: ctx(
            evidence(
                _udp(),
                rtp=[_rtp(kind="rtcp", packets=5, rtcp_readable_fraction=1.0)],
                content=[_content(rtcp=5)],
            )
        ),
        Verdict.PLAINTEXT,
        "no SRTCP trailer",
    ),
    "null_srtp": (
        lambda: ctx(evidence(_udp(), dtls=[_dtls(null_srtp=True, srtp_profile="SRTP_NULL")])),
        Verdict.PLAINTEXT,
        "NULL SRTP",
    ),
    "perc": (
        lambda: ctx(evidence(_udp(), dtls=[_dtls(srtp_profiles_offered="DOUBLE_AEAD_AES_128")])),
        Verdict.E2E_INDICATED,
        "PERC",
    ),
    "zoom_framing": (
        lambda: _vendor(evidence(_udp(), rtp=[_rtp(framing="zoom_server", zoom_media="audio")])),
        Verdict.PROPRIETARY_ENCRYPTED,
        "no end-to-end claim",
    ),
    "vendor_media_framing": (
        lambda: ctx(
            evidence(
                _udp(resp_p=50004),
                rtp=[_rtp(packets=12)],
                signatures=[_sig("discord_ip_discovery")],
                content=[_content(rtp_undecided=12, unrecognised=2)],
            ),
            app="Discord",
        ),
        Verdict.PROPRIETARY_ENCRYPTED,
        "comes from the vendor's documentation",
    ),
    "srtcp_clear": (
        lambda: ctx(evidence(_udp(), rtp=[_rtp(kind="rtcp", srtcp_e_flag="0", ssrc="0x99")])),
        Verdict.PLAINTEXT,
        "E=0",
    ),
    "dtls_no_srtp": (
        lambda: ctx(evidence(_udp(), dtls=[_dtls(use_srtp="absent", srtp_profile="")])),
        Verdict.TRANSPORT_TLS,
        "not SRTP media",
    ),
    "relay_peer_unidentified": (
        lambda: ctx(
            evidence(
                _udp(resp_p=3478),
                dtls=[_dtls(use_srtp="selected", carried_in="stun_data")],
                stun=[make(StunRow, method="Send", msg_class="indication", xor_peer="10.0.0.9:5")],
            )
        ),
        Verdict.UNKNOWN,
        "TURN peer addresses: 10.0.0.9:5",
    ),
    "dtls_not_completed": (
        lambda: ctx(
            evidence(
                _udp(resp_pkts=1),
                dtls=[_dtls(use_srtp="offered", srtp_profile="", version="")],
            )
        ),
        Verdict.UNKNOWN,
        "sent no ServerHello",
    ),
    "dtls_vendor_server": (
        lambda: _vendor(evidence(_udp(service="stun;dtls"), dtls=[_dtls()])),
        Verdict.HOP_BY_HOP_SRTP,
        "can decrypt the media",
    ),
    "dtls_ice_lite": (
        lambda: ctx(evidence(_udp(), dtls=[_dtls()], stun=[_binding(True)])),
        Verdict.HOP_BY_HOP_SRTP,
        "ICE-lite",
    ),
    "dtls_e2e_app": (
        lambda: ctx(evidence(_udp(), dtls=[_dtls()]), app="Signal", p2p=True),
        Verdict.LIKELY_E2E,
        "vendor's documentation, not from the capture",
    ),
    "dtls_unknown": (
        lambda: ctx(evidence(_udp(), dtls=[_dtls()], stun=[_binding(True), _binding(False)])),
        Verdict.UNKNOWN,
        "comparing security codes",
    ),
    "srtp_e2e_app": (
        lambda: ctx(evidence(_udp(), rtp=[_rtp()]), app="WhatsApp"),
        Verdict.LIKELY_E2E,
        "vendor's documentation, not from the capture",
    ),
    "srtp_vendor_server": (
        lambda: _vendor(evidence(_udp(), rtp=[_rtp()])),
        Verdict.HOP_BY_HOP_SRTP,
        "keys came through signalling",
    ),
    "keys_via_signalling": (
        lambda: ctx(evidence(_udp(), rtp=[_rtp()]), app="Microsoft Teams/Skype"),
        Verdict.UNKNOWN,
        "vendor documentation",
    ),
    "rtp_opaque": (
        lambda: ctx(evidence(_udp(), rtp=[_rtp()])),
        Verdict.UNKNOWN,
        "never proves it",
    ),
    "turn_unparsed": (
        lambda: ctx(evidence(_udp(service="stun"), stun=[make(StunRow, method="Send", frame=9)])),
        Verdict.UNKNOWN,
        "frame 9",
    ),
    "stun_only": (
        lambda: ctx(evidence(_udp(service="stun"), stun=[_binding(True)])),
        Verdict.PLAINTEXT,
        "STUN is never encrypted",
    ),
    "control_only": (
        lambda: ctx(
            evidence(
                _udp(),
                content=[
                    _content(
                        zoom_control=2,
                        probe=40,
                        leak_kinds="ipv4",
                        leak_first_frame=3,
                        leak_examples="ipv4=10.0.0.1",
                    )
                ],
            )
        ),
        Verdict.PLAINTEXT,
        "40 probes",
    ),
    "cleartext_content": (
        lambda: ctx(
            evidence(
                flow(proto="udp", resp_h="255.255.255.255", resp_p=67, orig_p=68),
                content=[_content(dhcp=3)],
            )
        ),
        Verdict.PLAINTEXT,
        "(3 DHCP)",
    ),
    "websocket_text": (
        lambda: ctx(evidence(flow(resp_p=12345), content=[_content(websocket_text=5)])),
        Verdict.PLAINTEXT,
        "5 of them uncompressed UTF-8 text",
    ),
    "websocket_binary": (
        lambda: ctx(evidence(flow(resp_p=12345), content=[_content(websocket=4)])),
        Verdict.UNKNOWN,
        "none of them readable text",
    ),
    "tls_records": (
        lambda: ctx(evidence(flow(), content=[_content(tls_record=8, tls_other=1)])),
        Verdict.TRANSPORT_TLS,
        "9 TLS records both ways",
    ),
    "tls_records_one_way": (
        lambda: ctx(
            evidence(
                _udp(resp_pkts=0, resp_bytes=0, resp_payload_bytes=0),
                dtls=[make(DtlsRow, encrypted_records=30, frame=2)],
            )
        ),
        Verdict.UNKNOWN,
        "30 DTLS records from one side only",
    ),
    "zoom_tcp": (
        lambda: _vendor(evidence(flow(resp_p=8801))),
        Verdict.UNKNOWN,
        "TCP 8801",
    ),
    "zoom_udp": (
        lambda: _vendor(evidence(_udp(), content=[_content(zoom_media=3)])),
        Verdict.PROPRIETARY_ENCRYPTED,
        "UDP 8801",
    ),
    "no_payload": (
        lambda: ctx(evidence(flow(orig_payload_bytes=0, resp_payload_bytes=0))),
        Verdict.UNKNOWN,
        "No payload",
    ),
    "unknown_protocol": (lambda: ctx(evidence(flow())), Verdict.UNKNOWN, "2000 payload bytes"),
}


def test_every_rule_has_a_case_and_wording() -> None:
    names = [r.name for r in VERDICT_RULES]
    assert sorted(CASES) == sorted(names), set(names) ^ set(CASES)
    assert {r.reason for r in VERDICT_RULES} <= set(TEXTS)


@pytest.mark.parametrize("rule", [r.name for r in VERDICT_RULES])
def test_rule_outcome(rule: str) -> None:
    build, verdict, phrase = CASES[rule]
    d = assess_flow(build())
    assert d.rule == rule
    assert d.verdict == verdict
    evidence_text, caveat = verdict_text(d.reason, d.facts)
    assert phrase in evidence_text + " " + caveat


def test_modifiers_follow_the_deciding_rule() -> None:
    weak = make(TlsRow, version="TLS 1.0", weak="TLS<=1.1;RC4", server_hello_seen=True, frame=4)
    d = assess_flow(ctx(evidence(flow(service="tls"), tls=[weak])))
    assert d.modifiers == (Modifier.WEAK_TLS,)
    assert "weak: TLS<=1.1, RC4" in verdict_text(d.reason, d.facts)[0]
    d = assess_flow(_vendor(evidence(_udp(), rtp=[_ecb_rtp()])))
    assert d.modifiers == (Modifier.ECB_SUSPECTED,) and d.verdict == Verdict.PROPRIETARY_ENCRYPTED
    assert "ECB is suspected" in verdict_text(d.reason, d.facts)[1]
    d = assess_flow(ctx(evidence(flow(proto="udp", resp_p=53, service="dns"))))
    assert d.modifiers == (Modifier.CLEARTEXT_DNS,)


def test_short_plaintext_stream_is_not_called_plaintext() -> None:
    """The codec rule needs 10 packets: 9 codec-valid packets fall through to opaque RTP."""
    rtp = _rtp(packets=9, codec_guess="g711", codec_match_fraction=1.0)
    assert assess_flow(ctx(evidence(_udp(), rtp=[rtp]))).rule == "rtp_opaque"
    rtp = _rtp(packets=10, codec_guess="g711", codec_match_fraction=1.0)
    assert assess_flow(ctx(evidence(_udp(), rtp=[rtp]))).rule == "codec_plaintext"


def test_a_plausible_srtp_tag_blocks_the_codec_verdict() -> None:
    rtp = _rtp(codec_guess="g711", codec_match_fraction=1.0, srtp_tag_plausible=True)
    assert assess_flow(ctx(evidence(_udp(), rtp=[rtp]))).verdict != Verdict.PLAINTEXT


def test_the_session_app_never_changes_a_verdict() -> None:
    """Issue 11: NetBIOS or a LAN beacon beside a Zoom call is not Zoom's; nor is UDP to 8801."""
    for ev in (
        evidence(_udp(), content=[_content(unrecognised=1)]),
        evidence(flow(resp_p=443)),
        evidence(_udp(resp_p=137), content=[_content(dns=3)]),
    ):
        alone, during = assess_flow(ctx(ev)), assess_flow(ctx(ev, session_app="Zoom"))
        assert (alone.verdict, alone.rule) == (during.verdict, during.rule)
        assert alone.facts == during.facts
        assert during.verdict != Verdict.PROPRIETARY_ENCRYPTED


def test_zoom_without_framing_is_not_called_encrypted() -> None:
    d = assess_flow(_vendor(evidence(_udp(), content=[_content(unrecognised=20)])))
    assert d.verdict == Verdict.UNKNOWN and d.rule == "unknown_protocol"
    assert "AES-256-GCM" not in " ".join(verdict_text(d.reason, d.facts))


def test_stun_then_media_is_judged_by_the_media() -> None:
    ev = evidence(
        _udp(service="stun;rtp"),
        stun=[_binding(True)],
        rtp=[_rtp(packets=200)],
        content=[_content(stun=4, srtp=200)],
    )
    assert assess_flow(ctx(ev)).rule == "rtp_opaque"


def test_modifiers_for_control_signalling_mixed_content_and_leaks() -> None:
    build = CASES["control_only"][0]
    assert assess_flow(build()).modifiers == (Modifier.CONTROL_ONLY, Modifier.METADATA_LEAK)
    build = CASES["cleartext_signalling"][0]
    assert assess_flow(build()).modifiers == (Modifier.CLEARTEXT_SIGNALLING,)
    ev = evidence(_udp(), rtp=[_rtp()], content=[_content(srtp=300, rtcp=4)])
    assert Modifier.MIXED_CONTENT in assess_flow(ctx(ev)).modifiers


def test_upgraded_or_tunnelled_signalling_is_not_plaintext() -> None:
    xmpp = _sip(protocol="xmpp", transport="tcp", starttls_offered=True, tls_followed=True,
                cleartext_payload=False)  # fmt: skip
    d = assess_flow(ctx(evidence(flow(resp_p=5222, service="xmpp"), signalling=[xmpp])))
    assert d.verdict != Verdict.PLAINTEXT


def test_printable_bytes_to_one_host_are_not_called_plaintext() -> None:
    ev = evidence(_udp(resp_p=5093), content=[_content(text=14)])
    assert assess_flow(ctx(ev)).verdict == Verdict.UNKNOWN


def test_no_e2e_claim_without_a_documented_app() -> None:
    for app in ("", "Zoom", "Webex", "Jitsi", "unknown WebRTC"):
        d = assess_flow(ctx(evidence(_udp(), dtls=[_dtls()]), app=app, p2p=True))
        assert d.verdict not in (Verdict.LIKELY_E2E, Verdict.E2E_INDICATED), app


def test_ice_lite_reads_the_client_side_not_the_first_packet() -> None:
    """The client answered second (it is the responder): its checks still mark ICE-lite."""
    ev = evidence(_udp(), dtls=[_dtls()], stun=[_binding(False)])
    assert assess_flow(ctx(ev, attribution(ev, client_is_orig=False))).rule == "dtls_ice_lite"
    assert assess_flow(ctx(ev)).rule == "dtls_unknown"


def test_ice_lite_needs_the_far_end_to_have_sent_something() -> None:
    ev = evidence(_udp(resp_pkts=0), dtls=[_dtls()], stun=[_binding(True)])
    assert assess_flow(ctx(ev)).rule == "dtls_unknown"
