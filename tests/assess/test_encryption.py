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
from inspector.schema.dns import DnsRow
from inspector.schema.dtls import DtlsRow
from inspector.schema.http import HttpRow
from inspector.schema.quic import QuicRow
from inspector.schema.rtp import RtpRow
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
    return flow(proto="udp", resp_p=8801, **kw)


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


def _vendor(ev: Any, **kw: Any) -> Any:
    return ctx(ev, attribution(ev, organisation=ZOOM_ORG, vendor="Zoom", **kw), app="Zoom")


def _dtls(**kw: Any) -> DtlsRow:
    base: dict[str, Any] = dict(frame=5, srtp_profile="SRTP_AES128_CM_HMAC_SHA1_80")
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
        "QUIC version 1 (TLS 1.3)",
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
    "srtcp_clear": (
        lambda: ctx(evidence(_udp(), rtp=[_rtp(kind="rtcp", srtcp_e_flag="0", ssrc="0x99")])),
        Verdict.PLAINTEXT,
        "E=0",
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
    "zoom_tcp": (
        lambda: _vendor(evidence(flow(resp_p=8801))),
        Verdict.UNKNOWN,
        "TCP 8801",
    ),
    "zoom_udp": (lambda: _vendor(evidence(_udp())), Verdict.PROPRIETARY_ENCRYPTED, "UDP 8801"),
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
    """The codec rule needs 50 packets: 49 codec-valid packets fall through to opaque RTP."""
    rtp = _rtp(packets=49, codec_guess="opus", codec_match_fraction=1.0)
    assert assess_flow(ctx(evidence(_udp(), rtp=[rtp]))).rule == "rtp_opaque"


def test_no_e2e_claim_without_a_documented_app() -> None:
    for app in ("", "Zoom", "Webex", "Jitsi", "unknown WebRTC"):
        d = assess_flow(ctx(evidence(_udp(), dtls=[_dtls()]), app=app, p2p=True))
        assert d.verdict not in (Verdict.LIKELY_E2E, Verdict.E2E_INDICATED), app


def test_ice_lite_reads_the_client_side_not_the_first_packet() -> None:
    """The client answered second (it is the responder): its checks still mark ICE-lite."""
    ev = evidence(_udp(), dtls=[_dtls()], stun=[_binding(False)])
    assert assess_flow(ctx(ev, attribution(ev, client_is_orig=False))).rule == "dtls_ice_lite"
    assert assess_flow(ctx(ev)).rule == "dtls_unknown"
