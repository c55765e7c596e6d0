"""How each flow's content is protected: an ordered table of verdict rules.

The taxonomy is in ``docs/verdicts.md``, whose rule list is generated from :data:`VERDICT_RULES`.
Entropy is never used to claim encryption: a verdict of encryption rests on a visible protocol
(TLS, DTLS, SRTP, vendor framing), and end-to-end is only said where the protocol or the app's
documented design supports it. Each rule returns structured facts; ``report/`` words them.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.assess.apps import ice_lite_server
from inspector.assess.context import FlowCtx
from inspector.assess.rules import Facts, Rule, first_match
from inspector.schema.dtls import DtlsRow
from inspector.schema.rtp import RtpRow
from inspector.vocab import Confidence, Modifier, Verdict

__all__ = ["VERDICT_RULES", "VerdictDecision", "assess_flow"]

#: DTLS-SRTP profiles of PERC double encryption (RFC 8723 section 5.2; IANA 0x0009, 0x000A).
PERC_PROFILES = ("DOUBLE", "0x0009", "0x000a")
#: A codec structure test must pass in this share of packets (docs/verdicts.md).
CODEC_MATCH_MIN = 0.9
#: ... of at least this many packets of one RTP stream.
CODEC_PACKETS_MIN = 50
#: Streams this long make the codec verdict high confidence.
CODEC_PACKETS_HIGH = 200
#: Ports of cleartext DNS, mDNS (RFC 6762) and LLMNR (RFC 4795).
CLEARTEXT_DNS_PORTS = frozenset({53, 5353, 5355})
#: DNS over TLS (RFC 7858).
DOT_PORT = 853
#: Zoom's documented media ports (Zoom's firewall guide: TCP 443, 8801-8802 for media fallback).
ZOOM_TCP_MEDIA_PORTS = frozenset({443, 8801, 8802})


@dataclass(frozen=True, slots=True)
class VerdictDecision:
    verdict: Verdict
    modifiers: tuple[Modifier, ...]
    confidence: Confidence
    reason: str
    rule: str
    facts: Facts


def _f(**kw: object) -> Facts:
    return kw


def _icmp(c: FlowCtx) -> Facts | None:
    return _f() if c.proto in ("icmp", "icmp6") else None


def _cleartext_dns(c: FlowCtx) -> Facts | None:
    port = c.proto in ("udp", "tcp") and c.att.ends.server_p in CLEARTEXT_DNS_PORTS
    if "dns" not in c.ev.services and not port:
        return None
    names = sorted({r.query for r in c.ev.dns if r.query})[:3]
    e = c.att.ends
    return _f(server=e.server_h, port=e.server_p, names=", ".join(names))


def _dot(c: FlowCtx) -> Facts | None:
    return (
        _f(server=c.att.ends.server_h)
        if c.proto == "tcp" and c.att.ends.server_p == DOT_PORT
        else None
    )


def _cleartext_http(c: FlowCtx) -> Facts | None:
    http = c.ev.cleartext_http
    if not http:
        return None
    h = http[0]
    return _f(method=h.method, host=h.host or c.att.ends.server_h, frame=h.frame)


def _tls_facts(c: FlowCtx) -> dict[str, object]:
    if c.ev.tls:
        t = c.ev.tls[0]
        proto, version, cipher, weak, frame, hello = (
            "TLS",
            t.version,
            t.cipher,
            t.weak,
            t.frame,
            bool(t.server_hello_seen),
        )
    else:
        q = c.ev.quic[0]
        proto, version, cipher, weak, frame, hello = (
            "QUIC",
            q.version,
            q.cipher,
            "",
            q.frame,
            bool(q.server_hello_seen),
        )
    return {
        "proto": proto,
        "version": version,
        "cipher": cipher,
        "weak": weak,
        "name": c.att.name.name or c.att.ends.server_h,
        "terminator": c.organisation or "an unidentified operator",
        "frame": frame,
        "hello_seen": hello,
    }


def _tls_incomplete(c: FlowCtx) -> Facts | None:
    if not (c.ev.tls or c.ev.quic):
        return None
    facts = _tls_facts(c)
    return facts if not facts["hello_seen"] and not facts["version"] else None


def _tls(c: FlowCtx) -> Facts | None:
    return _tls_facts(c) if c.ev.tls or c.ev.quic else None


def _media_rows(c: FlowCtx) -> bool:
    return bool(c.ev.rtp or c.ev.dtls)


def _ecb(rtp: tuple[RtpRow, ...]) -> dict[str, object]:
    for r in rtp:
        if r.ecb_suspected:
            return {
                "ecb_blocks": r.ecb_repeated_blocks,
                "ecb_positions": r.ecb_block_indices,
                "ecb_example": r.ecb_example_block,
                "ecb_frame": r.ecb_frames.split(";")[0],
            }
    return {}


def _codec_plaintext(c: FlowCtx) -> Facts | None:
    for r in c.ev.rtp:
        fraction = r.codec_match_fraction or 0.0
        plain = r.kind == "rtp" and not r.framing.startswith("zoom")
        if plain and fraction >= CODEC_MATCH_MIN and int(r.packets) >= CODEC_PACKETS_MIN:
            return _f(codec=r.codec_guess, fraction=float(fraction), packets=int(r.packets),
                      ssrc=r.ssrc, codec_evidence=r.codec_evidence,
                      long=int(r.packets) >= CODEC_PACKETS_HIGH)  # fmt: skip
    return None


def _dtls_where(c: FlowCtx, test: str) -> DtlsRow | None:
    for d in c.ev.dtls:
        if test == "null" and d.null_srtp:
            return d
        offered = (d.srtp_profiles_offered + d.srtp_profile).lower()
        if test == "perc" and any(p.lower() in offered for p in PERC_PROFILES):
            return d
    return None


def _null_srtp(c: FlowCtx) -> Facts | None:
    if not _media_rows(c) or c.ev.tls or c.ev.quic:
        return None
    d = _dtls_where(c, "null")
    return _f(profile=d.srtp_profile or d.srtp_profiles_offered, frame=d.frame) if d else None


def _perc(c: FlowCtx) -> Facts | None:
    d = _dtls_where(c, "perc")
    return _f(frame=d.frame) if d else None


def _zoom_framing(c: FlowCtx) -> Facts | None:
    zoom = [r for r in c.ev.rtp if r.framing.startswith("zoom")]
    if not zoom:
        return None
    kinds = sorted({r.zoom_media for r in zoom if r.zoom_media})
    p2p = c.p2p or zoom[0].framing == "zoom_p2p"
    return _f(
        kinds=", ".join(kinds) or "media",
        p2p=p2p,
        server=c.att.ends.server_h,
        app_caveat=_app_caveat(c),
        **_ecb(c.ev.rtp),
    )


def _srtcp_clear(c: FlowCtx) -> Facts | None:
    for r in c.ev.rtp:
        if r.kind == "rtcp" and r.srtcp_e_flag == "0":
            return _f(ssrc=r.ssrc)
    return None


def _vendor_server(c: FlowCtx) -> bool:
    return bool(c.att.owner.vendor) or c.category.startswith("first-party")


def _dtls_facts(c: FlowCtx) -> dict[str, object]:
    d = c.ev.dtls[0]
    e = c.att.ends
    return {
        "profile": d.srtp_profile or d.srtp_profiles_offered,
        "frame": d.frame,
        "client": e.client_h,
        "server": e.server_h,
        "organisation": c.organisation,
        **_ecb(c.ev.rtp),
    }


def _dtls_vendor(c: FlowCtx) -> Facts | None:
    return _dtls_facts(c) if c.ev.dtls and _vendor_server(c) and not c.p2p else None


def _dtls_ice_lite(c: FlowCtx) -> Facts | None:
    if c.ev.dtls and not c.p2p and ice_lite_server(c.ev.stun, c.att.ends):
        return _dtls_facts(c)
    return None


def _e2e_app(c: FlowCtx) -> str:
    app = c.app or c.session_app
    return app.e2e_design if app is not None else ""


def _dtls_e2e_app(c: FlowCtx) -> Facts | None:
    if c.ev.dtls and _e2e_app(c):
        return {**_dtls_facts(c), "design": _e2e_app(c)}
    return None


def _dtls_unknown(c: FlowCtx) -> Facts | None:
    return _dtls_facts(c) if c.ev.dtls else None


def _srtp_e2e_app(c: FlowCtx) -> Facts | None:
    app = c.app or c.session_app
    if c.ev.rtp and app is not None and app.e2e_design:
        return _f(app=app.name, design=app.e2e_design)
    return None


def _rtp_facts(c: FlowCtx) -> dict[str, object]:
    app = c.app or c.session_app
    e = c.att.ends
    return {"client": e.client_h, "server": e.server_h, "organisation": c.organisation,
            "app": app.name if app else "", **_ecb(c.ev.rtp)}  # fmt: skip


def _srtp_vendor(c: FlowCtx) -> Facts | None:
    return _rtp_facts(c) if c.ev.rtp and _vendor_server(c) else None


def _keys_via_signalling(c: FlowCtx) -> Facts | None:
    app = c.app or c.session_app
    if c.ev.rtp and app is not None and app.keys_via_signalling:
        return _rtp_facts(c)
    return None


def _rtp_opaque(c: FlowCtx) -> Facts | None:
    return _rtp_facts(c) if c.ev.rtp else None


def _stun_only(c: FlowCtx) -> bool:
    return c.ev.services == {"stun"}


def _turn_unparsed(c: FlowCtx) -> Facts | None:
    if not _stun_only(c):
        return None
    carried = [r for r in c.ev.stun if r.method.lower() in ("send", "data")]
    return _f(frame=carried[0].frame) if carried else None


def _stun(c: FlowCtx) -> Facts | None:
    return _f() if _stun_only(c) else None


def _app_caveat(c: FlowCtx) -> str:
    app = c.app or c.session_app
    return app.key_caveat if app is not None else ""


def _is_zoom(c: FlowCtx) -> bool:
    app = c.app or c.session_app
    return app is not None and app.name == "Zoom"


def _zoom_tcp(c: FlowCtx) -> Facts | None:
    port = c.att.ends.server_p
    ok = c.proto == "tcp" and _is_zoom(c) and port in ZOOM_TCP_MEDIA_PORTS
    return _f(port=port) if ok else None


def _zoom_udp(c: FlowCtx) -> Facts | None:
    if _is_zoom(c) and c.proto == "udp":
        return _f(port=c.att.ends.server_p, app_caveat=_app_caveat(c))
    return None


def _no_payload(c: FlowCtx) -> Facts | None:
    return _f() if c.ev.payload_bytes == 0 else None


def _anything(c: FlowCtx) -> Facts | None:
    return _f(payload=c.ev.payload_bytes)


V, H, M, L = Verdict, Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
#: The verdict table, in order; the first row that applies decides.
VERDICT_RULES: tuple[Rule[FlowCtx, Verdict], ...] = (
    Rule("icmp", _icmp, V.PLAINTEXT, "ICMP", H, "ICMP or ICMPv6 control messages."),
    Rule("cleartext_dns", _cleartext_dns, V.PLAINTEXT, "CLEARTEXT_DNS", H,
         "DNS, mDNS or LLMNR messages, or their ports (modifier `CLEARTEXT_DNS`)."),
    Rule("dns_over_tls", _dot, V.TRANSPORT_TLS, "DNS_OVER_TLS", M, "TCP to port 853 (RFC 7858)."),
    Rule("cleartext_http", _cleartext_http, V.PLAINTEXT, "CLEARTEXT_HTTP", H,
         "An HTTP request read off the wire (not from inside TLS)."),
    Rule("tls_incomplete", _tls_incomplete, V.TRANSPORT_TLS, "TLS_HANDSHAKE_INCOMPLETE", M,
         "A TLS or QUIC ClientHello with no ServerHello seen."),
    Rule("tls", _tls, V.TRANSPORT_TLS, "TLS_HANDSHAKE", H,
         "A TLS or QUIC handshake; `WEAK_TLS` when the version or suite is weak."),
    Rule("codec_plaintext", _codec_plaintext, V.PLAINTEXT, "CODEC_STRUCTURE", M,
         "RTP (not Zoom-framed) whose payloads pass a codec structure test in >= 90 % of >= 50 "
         "packets (high confidence from 200)."),
    Rule("null_srtp", _null_srtp, V.PLAINTEXT, "NULL_SRTP_PROFILE", H,
         "DTLS-SRTP negotiated a NULL SRTP profile: authenticated, not encrypted."),
    Rule("perc", _perc, V.E2E_INDICATED, "PERC_DOUBLE_PROFILE", M,
         "DTLS offered a double (PERC, RFC 8723) SRTP profile."),
    Rule("zoom_framing", _zoom_framing, V.PROPRIETARY_ENCRYPTED, "ZOOM_FRAMING", M,
         "Zoom media framing around RTP headers whose payloads fail the codec tests."),
    Rule("srtcp_clear", _srtcp_clear, V.PLAINTEXT, "SRTCP_UNENCRYPTED", H,
         "SRTCP packets with the E flag 0 (RFC 3711 section 3.4)."),
    Rule("dtls_vendor_server", _dtls_vendor, V.HOP_BY_HOP_SRTP, "DTLS_VENDOR_SERVER", H,
         "DTLS-SRTP with a server of the vendor (database vendor or first-party category)."),
    Rule("dtls_ice_lite", _dtls_ice_lite, V.HOP_BY_HOP_SRTP, "DTLS_ICE_LITE_SERVER", M,
         "DTLS-SRTP with a far end that answers ICE checks but sends none (ICE-lite: a server)."),
    Rule("dtls_e2e_app", _dtls_e2e_app, V.LIKELY_E2E, "DTLS_E2E_APP", M,
         "DTLS-SRTP between two endpoints, for an app documented to key media end to end."),
    Rule("dtls_unknown", _dtls_unknown, V.UNKNOWN, "P2P_DTLS_APP_UNKNOWN", M,
         "DTLS-SRTP between two endpoints of an app with no documented design."),
    Rule("srtp_e2e_app", _srtp_e2e_app, V.LIKELY_E2E, "SRTP_E2E_APP", M,
         "SRTP with no DTLS on the path, for an app documented to key media end to end."),
    Rule("srtp_vendor_server", _srtp_vendor, V.HOP_BY_HOP_SRTP, "SRTP_VENDOR_SERVER", M,
         "RTP with opaque payloads to a vendor server, no DTLS: keys came through signalling."),
    Rule("keys_via_signalling", _keys_via_signalling, V.UNKNOWN, "NO_DTLS_KEYS_VIA_SIGNALLING", M,
         "Opaque RTP of an app documented to send media keys through its signalling (Teams)."),
    Rule("rtp_opaque", _rtp_opaque, V.UNKNOWN, "NO_HANDSHAKE_SEEN", L,
         "RTP with opaque payloads and no key exchange seen."),
    Rule("turn_unparsed", _turn_unparsed, V.UNKNOWN, "RELAYED_PAYLOAD_UNPARSED", L,
         "TURN Send/Data indications whose payloads are not RTP, DTLS or STUN."),
    Rule("stun_only", _stun, V.PLAINTEXT, "STUN_ONLY", H,
         "STUN/TURN connectivity checks only: STUN is never encrypted."),
    Rule("zoom_tcp", _zoom_tcp, V.UNKNOWN, "TCP_TLS_FALLBACK", L,
         "TCP to Zoom's media ports with no TLS handshake seen."),
    Rule("zoom_udp", _zoom_udp, V.PROPRIETARY_ENCRYPTED, "NO_RTP_FOUND", L,
         "UDP to Zoom with no RTP recognised inside its framing."),
    Rule("no_payload", _no_payload, V.UNKNOWN, "NO_PAYLOAD", L, "No payload bytes at all."),
    Rule("unknown_protocol", _anything, V.UNKNOWN, "UNKNOWN_PROTOCOL", L,
         "Payload with no protocol recognised."),
)  # fmt: skip

_TLS_RULES = frozenset({"tls_incomplete", "tls"})
_MEDIA_FIRST = "codec_plaintext"
_MEDIA_LAST = "rtp_opaque"
_MEDIA_RULES = frozenset(
    r.name
    for r in VERDICT_RULES[
        [x.name for x in VERDICT_RULES].index(_MEDIA_FIRST) : [x.name for x in VERDICT_RULES].index(
            _MEDIA_LAST
        )
        + 1
    ]
)


def _modifiers(rule: Rule[FlowCtx, Verdict], c: FlowCtx) -> tuple[Modifier, ...]:
    if rule.name == "cleartext_dns":
        return (Modifier.CLEARTEXT_DNS,)
    if rule.name in _TLS_RULES and c.ev.tls and c.ev.tls[0].weak:
        return (Modifier.WEAK_TLS,)
    if rule.name in _MEDIA_RULES and any(r.ecb_suspected for r in c.ev.rtp):
        return (Modifier.ECB_SUSPECTED,)
    return ()


def assess_flow(c: FlowCtx) -> VerdictDecision:
    """The verdict for one flow, with the rule that decided and its facts."""
    rule, facts = first_match(VERDICT_RULES, c)
    confidence = rule.confidence
    if rule.name == "codec_plaintext" and facts.get("long"):
        confidence = Confidence.HIGH
    return VerdictDecision(
        rule.outcome, _modifiers(rule, c), confidence, rule.reason, rule.name, facts
    )
