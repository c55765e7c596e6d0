"""How each flow's content is protected: an ordered table of verdict rules.

The taxonomy is in ``docs/verdicts.md``, whose rule list is generated from :data:`VERDICT_RULES`.
Entropy is never used to claim encryption: a verdict of encryption rests on a visible protocol
(TLS, DTLS, SRTP, vendor framing), and end-to-end is only said where the protocol or the app's
documented design supports it. Each rule returns structured facts; ``report/`` words them.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.assess import content_facts as cf
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
#: ... of at least this many packets of one RTP stream (TAXONOMY.md: >= 10).
CODEC_PACKETS_MIN = 10
#: RTCP compounds that walk exactly in this share of packets are readable reports.
RTCP_READABLE_MIN = 0.9
#: Streams this long make the codec verdict high confidence.
CODEC_PACKETS_HIGH = 200
#: Ports of cleartext DNS, mDNS (RFC 6762) and LLMNR (RFC 4795).
CLEARTEXT_DNS_PORTS = frozenset({53, 5353, 5355})
#: DNS over TLS (RFC 7858).
DOT_PORT = 853
#: Zoom's documented media ports (Zoom's firewall guide: TCP 443, 8801-8802 for media fallback).
ZOOM_TCP_MEDIA_PORTS = frozenset({443, 8801, 8802})
#: Cleartext call signalling protocols of the ``signalling`` table (not HTTP CONNECT).
CALL_SIGNALLING = frozenset({"sip", "h323", "mgcp", "megaco", "iax2", "xmpp", "rtsp", "bfcp"})
#: Vendor media framing signature -> the vendor document that describes its media encryption.
VENDOR_MEDIA_DOCS = {
    "Discord": "Discord developer documentation, Voice Connections (transport encryption modes "
    "aead_aes256_gcm_rtpsize / aead_xchacha20_poly1305_rtpsize, keyed by Discord's voice server "
    "in its session description)",
}
#: DTLS use_srtp states that mean no SRTP keys come out of the handshake.
DTLS_NO_SRTP = frozenset({"absent", "declined"})
#: How a DTLS handshake travelled when it was relayed through TURN.
RELAYED_FRAMINGS = frozenset({"turn_channel", "stun_data", "tcp_turn_channel", "tcp_stun_data"})


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
    parsed = bool(c.ev.content and c.ev.content[0].dns)
    if "dns" not in c.ev.services and not port and not parsed:
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


def _cleartext_signalling(c: FlowCtx) -> Facts | None:
    for s in c.ev.signalling:
        if s.protocol in CALL_SIGNALLING and s.cleartext_payload and not s.tls_followed:
            return _f(protocol=s.protocol, methods=s.methods.replace(";", ", "), frame=s.frame,
                      messages=int(s.messages), sdp_crypto=bool(s.sdp_crypto))  # fmt: skip
    return None


def _sdes_key_in_clear(c: FlowCtx) -> Facts | None:
    for s in c.ev.signalling:
        if s.sdp_crypto and s.cleartext_payload and not s.tls_followed:
            return _f(protocol=s.protocol, frame=s.frame, media=s.sdp_media.replace(";", ", "))
    return None


def _connect_tunnel(c: FlowCtx) -> Facts | None:
    for s in c.ev.signalling:
        if s.protocol == "http_connect" and s.tls_followed:
            name = c.ev.tls[0].sni if c.ev.tls else ""
            return _f(target=s.connect_target, frame=s.frame, sni=name or s.connect_target)
    return None


def _cleartext_http(c: FlowCtx) -> Facts | None:
    http = c.ev.cleartext_http
    if not http:
        return None
    h = http[0]
    return _f(method=h.method, host=h.host or c.att.ends.server_h, frame=h.frame)


def _websocket_text(c: FlowCtx) -> Facts | None:
    ws = cf.websocket_frames(c.ev)
    return _f(server=c.att.ends.server_h, **ws) if ws is not None and ws["text"] else None


def _websocket_binary(c: FlowCtx) -> Facts | None:
    ws = cf.websocket_frames(c.ev)
    return _f(server=c.att.ends.server_h, **ws) if ws is not None else None


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


def _no_server_hello(c: FlowCtx) -> dict[str, object] | None:
    if not (c.ev.tls or c.ev.quic):
        return None
    facts = _tls_facts(c)
    negotiated = facts["proto"] == "TLS" and bool(facts["version"])  # QUIC: the wire version
    return facts if not facts["hello_seen"] and not negotiated else None


def _tls_not_completed(c: FlowCtx) -> Facts | None:
    facts = _no_server_hello(c)
    return facts if facts is not None and _server_payload(c) == 0 else None


def _server_payload(c: FlowCtx) -> int:
    conn = c.ev.conn
    orig, resp = int(conn.orig_payload_bytes), int(conn.resp_payload_bytes)
    return resp if c.att.ends.client_is_orig else orig


def _tls_incomplete(c: FlowCtx) -> Facts | None:
    return _no_server_hello(c)


def _tls(c: FlowCtx) -> Facts | None:
    return _tls_facts(c) if c.ev.tls or c.ev.quic else None


def _records(c: FlowCtx) -> dict[str, object] | None:
    """TLS (content class ``tls_record``) or DTLS records whose handshake is not captured."""
    e = c.att.ends
    tls = cf.tls_records(c.ev)
    if tls is not None:
        proto, n, both = "TLS", tls["records"], bool(tls["both_ways"])
    elif cf.dtls_midstream(c.ev):
        proto, n = "DTLS", sum(d.encrypted_records for d in c.ev.dtls)
        both = e.client_pkts > 0 and e.server_pkts > 0
    else:
        return None
    return {"proto": proto, "records": n, "both_ways": both, "name": c.att.name.name or
            e.server_h, "terminator": c.organisation or "an unidentified operator"}  # fmt: skip


def _records_both_ways(c: FlowCtx) -> Facts | None:
    facts = _records(c)
    return facts if facts is not None and facts["both_ways"] else None


def _records_one_way(c: FlowCtx) -> Facts | None:
    return _records(c)


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
        plain = r.kind == "rtp" and not r.framing.startswith("zoom") and bool(r.codec_guess)
        readable = fraction >= CODEC_MATCH_MIN and int(r.packets) >= CODEC_PACKETS_MIN
        if plain and readable and r.srtp_tag_plausible is not True:
            return _f(codec=r.codec_guess, fraction=float(fraction), packets=int(r.packets),
                      ssrc=r.ssrc, codec_evidence=r.codec_evidence, variant=r.codec_variant,
                      long=int(r.packets) >= CODEC_PACKETS_HIGH)  # fmt: skip
    return None


def _rtcp_readable(c: FlowCtx) -> Facts | None:
    rows = c.ev.rtp
    if not rows or any(r.kind != "rtcp" for r in rows):
        return None
    if any((r.rtcp_readable_fraction or 0.0) < RTCP_READABLE_MIN for r in rows):
        return None
    if c.ev.content and (c.ev.content[0].srtcp or c.ev.content[0].rtcp_undecided):
        return None
    return _f(packets=sum(int(r.packets) for r in rows), ssrc=rows[0].ssrc, frame=rows[0].frame)


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


def _app_caveat(c: FlowCtx) -> str:
    return c.app.key_caveat if c.app is not None else ""


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


def _vendor_media_framing(c: FlowCtx) -> Facts | None:
    sigs = [s for s in c.ev.signatures if s.signature in cf.VENDOR_MEDIA_SIGNATURES]
    opaque = [r for r in c.ev.rtp if r.kind == "rtp" and not r.codec_guess]
    if not sigs or not opaque or c.ev.dtls or sigs[0].app not in VENDOR_MEDIA_DOCS:
        return None
    return _f(app=sigs[0].app, signature=sigs[0].detail, sig_frame=sigs[0].frame,
              packets=sum(int(r.packets) for r in opaque), frame=opaque[0].frame,
              doc=VENDOR_MEDIA_DOCS[sigs[0].app], **_ecb(c.ev.rtp))  # fmt: skip


def _srtcp_clear(c: FlowCtx) -> Facts | None:
    for r in c.ev.rtp:
        if r.kind == "rtcp" and r.srtcp_e_flag == "0":
            return _f(ssrc=r.ssrc)
    return None


def _dtls_no_srtp(c: FlowCtx) -> Facts | None:
    for d in c.ev.dtls:
        if d.use_srtp in DTLS_NO_SRTP and c.att.ends.server_pkts > 0:
            return _f(use_srtp=d.use_srtp, version=d.version or d.version_offered,
                      frame=d.frame, server=c.att.ends.server_h,
                      terminator=c.organisation or "an unidentified operator")  # fmt: skip
    return None


def _relayed(c: FlowCtx) -> bool:
    relayed_dtls = any(d.carried_in in RELAYED_FRAMINGS for d in c.ev.dtls)
    relayed_rtp = any(r.framing in ("turn_channel", "stun_data") for r in c.ev.rtp)
    return relayed_dtls or relayed_rtp or cf.relayed_payload(c.ev)


def _relay_peer_unidentified(c: FlowCtx) -> Facts | None:
    if not _relayed(c):
        return None
    peers = sorted({s.xor_peer for s in c.ev.stun if s.xor_peer})[:3]
    what = "DTLS" if c.ev.dtls else "RTP/RTCP" if c.ev.rtp else "unrecognised payloads"
    return _f(relay=c.att.ends.server_h, organisation=c.organisation, what=what,
              peers=", ".join(peers))  # fmt: skip


def _dtls_answered_no_hello(c: FlowCtx) -> Facts | None:
    if not c.ev.dtls or c.att.ends.server_pkts == 0:
        return None
    if any(d.use_srtp != "offered" or d.handshake_complete for d in c.ev.dtls):
        return None  # "offered": use_srtp in a ClientHello that no ServerHello answered
    d = c.ev.dtls[0]
    return _f(proto="DTLS", name=c.att.name.name or c.att.ends.server_h, frame=d.frame,
              server_pkts=c.att.ends.server_pkts)  # fmt: skip


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
    answered = c.att.ends.server_pkts > 0  # ICE-lite only when the far end sent something
    if c.ev.dtls and not c.p2p and answered and ice_lite_server(c.ev.stun, c.att.ends):
        return _dtls_facts(c)
    return None


def _dtls_e2e_app(c: FlowCtx) -> Facts | None:
    if c.ev.dtls and c.app is not None and c.app.e2e_design:
        return {**_dtls_facts(c), "app": c.app.name, "design": c.app.e2e_design}
    return None


def _dtls_unknown(c: FlowCtx) -> Facts | None:
    return _dtls_facts(c) if c.ev.dtls else None


def _srtp_e2e_app(c: FlowCtx) -> Facts | None:
    if c.ev.rtp and c.app is not None and c.app.e2e_design:
        return _f(app=c.app.name, design=c.app.e2e_design)
    return None


def _rtp_facts(c: FlowCtx) -> dict[str, object]:
    e = c.att.ends
    return {"client": e.client_h, "server": e.server_h, "organisation": c.organisation,
            "app": c.app.name if c.app else "", **_ecb(c.ev.rtp)}  # fmt: skip


def _srtp_vendor(c: FlowCtx) -> Facts | None:
    return _rtp_facts(c) if c.ev.rtp and _vendor_server(c) else None


def _keys_via_signalling(c: FlowCtx) -> Facts | None:
    if c.ev.rtp and c.app is not None and c.app.keys_via_signalling:
        return _rtp_facts(c)
    return None


def _rtp_opaque(c: FlowCtx) -> Facts | None:
    return _rtp_facts(c) if c.ev.rtp else None


def _turn_unparsed(c: FlowCtx) -> Facts | None:
    if c.ev.services != {"stun"} or cf.relayed_stun_only(c.ev):
        return None
    carried = [r for r in c.ev.stun if r.method.lower() in ("send", "data")]
    return _f(frame=carried[0].frame) if carried else None


def _stun(c: FlowCtx) -> Facts | None:
    counts = cf.control_only(c.ev)
    others = ("probes", "hellos", "keepalives", "unexplained")
    if counts is not None and counts["stun"] and not sum(counts[k] for k in others):
        return _f(relayed=cf.relayed_stun_only(c.ev), **counts)
    if not c.ev.content and c.ev.services == {"stun"}:
        return _f(relayed=False, datagrams=len(c.ev.stun), stun=len(c.ev.stun))
    return None


def _control(c: FlowCtx) -> Facts | None:
    counts = cf.control_only(c.ev)
    if counts is None:
        return None
    sigs = [s.detail for s in c.ev.signatures if s.signature in cf.CONTROL_SIGNATURES]
    probe = c.ev.content[0].probe_evidence if c.ev.content else ""
    return _f(signature=sigs[0] if sigs else "", probe_evidence=probe, **counts)


def _cleartext_content(c: FlowCtx) -> Facts | None:
    counts = cf.cleartext_content(c.ev, c.att.ends)
    return _f(**counts) if counts is not None else None


def _is_zoom(c: FlowCtx) -> bool:
    return c.app is not None and c.app.name == "Zoom"


def _zoom_tcp(c: FlowCtx) -> Facts | None:
    port = c.att.ends.server_p
    ok = c.proto == "tcp" and _is_zoom(c) and port in ZOOM_TCP_MEDIA_PORTS
    return _f(port=port) if ok else None


def _zoom_udp(c: FlowCtx) -> Facts | None:
    framed = bool(c.ev.content and c.ev.content[0].zoom_media)
    if _is_zoom(c) and c.proto == "udp" and framed:
        return _f(port=c.att.ends.server_p, app_caveat=_app_caveat(c))
    return None


def _no_payload(c: FlowCtx) -> Facts | None:
    return _f() if c.ev.payload_bytes == 0 else None


def _anything(c: FlowCtx) -> Facts | None:
    prefix = c.ev.content[0].unrecognised_prefix if c.ev.content else ""
    return _f(payload=c.ev.payload_bytes, prefix=prefix)


V, H, M, L = Verdict, Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
#: The verdict table, in order; the first row that applies decides.
VERDICT_RULES: tuple[Rule[FlowCtx, Verdict], ...] = (
    Rule("icmp", _icmp, V.PLAINTEXT, "ICMP", H, "ICMP or ICMPv6 control messages."),
    Rule("cleartext_dns", _cleartext_dns, V.PLAINTEXT, "CLEARTEXT_DNS", H,
         "DNS, mDNS, LLMNR or NBNS messages (content class `dns`), or their ports "
         "(modifier `CLEARTEXT_DNS`)."),
    Rule("dns_over_tls", _dot, V.TRANSPORT_TLS, "DNS_OVER_TLS", M, "TCP to port 853 (RFC 7858)."),
    Rule("sdes_key_in_clear", _sdes_key_in_clear, V.PLAINTEXT, "SDES_KEY_IN_CLEAR", H,
         "SDP with an `a=crypto` line (RFC 4568 SDES) in cleartext signalling: the SRTP master "
         "key itself is readable (modifier `CLEARTEXT_SIGNALLING`)."),
    Rule("cleartext_signalling", _cleartext_signalling, V.PLAINTEXT, "CLEARTEXT_SIGNALLING", H,
         "SIP, H.323, MGCP, Megaco, IAX2, RTSP, XMPP or BFCP read in clear, not upgraded to TLS "
         "(modifier `CLEARTEXT_SIGNALLING`)."),
    Rule("connect_tunnel", _connect_tunnel, V.TRANSPORT_TLS, "CONNECT_TUNNEL_TLS", M,
         "An HTTP CONNECT tunnel whose 2xx answer is followed by TLS inside (modifier "
         "`METADATA_LEAK`: the CONNECT line names the host)."),
    Rule("cleartext_http", _cleartext_http, V.PLAINTEXT, "CLEARTEXT_HTTP", H,
         "An HTTP request read off the wire (not from inside TLS)."),
    Rule("websocket_text", _websocket_text, V.PLAINTEXT, "CLEARTEXT_WEBSOCKET", H,
         "WebSocket frames (RFC 6455) straight on TCP, masked one way and not the other, with "
         "uncompressed UTF-8 text frames: readable (masking hides nothing)."),
    Rule("websocket_binary", _websocket_binary, V.UNKNOWN, "WEBSOCKET_BINARY", L,
         "WebSocket frames straight on TCP with no readable text frame: what the binary "
         "frames carry is not parsed."),
    Rule("tls_not_completed", _tls_not_completed, V.UNKNOWN, "TLS_NOT_COMPLETED", M,
         "A TLS or QUIC ClientHello, no ServerHello, and the server sent no payload byte."),
    Rule("tls_incomplete", _tls_incomplete, V.TRANSPORT_TLS, "TLS_HANDSHAKE_INCOMPLETE", M,
         "A TLS or QUIC ClientHello with no ServerHello seen, the server answering with data."),
    Rule("tls", _tls, V.TRANSPORT_TLS, "TLS_HANDSHAKE", H,
         "A TLS or QUIC handshake; `WEAK_TLS` when the version or suite is weak."),
    Rule("tls_records", _records_both_ways, V.TRANSPORT_TLS, "RECORDS_NO_HANDSHAKE", M,
         "TLS or DTLS records both ways (record headers of RFC 8446 section 5.1 / RFC 9147 "
         "section 4) with no handshake in the capture and no RTP: a session begun before it."),
    Rule("tls_records_one_way", _records_one_way, V.UNKNOWN, "RECORDS_ONE_WAY", L,
         "TLS or DTLS records with no handshake, only one side sending payload: the tail of a "
         "session whose protection is not visible."),
    Rule("codec_plaintext", _codec_plaintext, V.PLAINTEXT, "CODEC_STRUCTURE", M,
         "RTP (not Zoom-framed) whose payloads pass a codec structure test in >= 90 % of >= 10 "
         "packets, with no plausible SRTP tag (high confidence from 200)."),
    Rule("rtcp_readable", _rtcp_readable, V.PLAINTEXT, "RTCP_READABLE", H,
         "Only RTCP on the flow, and its compounds walk exactly as SR/RR reports (RFC 3550 "
         "section 6): no SRTCP trailer."),
    Rule("null_srtp", _null_srtp, V.PLAINTEXT, "NULL_SRTP_PROFILE", H,
         "DTLS-SRTP negotiated a NULL SRTP profile: authenticated, not encrypted."),
    Rule("perc", _perc, V.E2E_INDICATED, "PERC_DOUBLE_PROFILE", M,
         "DTLS offered a double (PERC, RFC 8723) SRTP profile."),
    Rule("zoom_framing", _zoom_framing, V.PROPRIETARY_ENCRYPTED, "ZOOM_FRAMING", M,
         "Zoom media framing around RTP headers whose payloads fail the codec tests."),
    Rule("vendor_media_framing", _vendor_media_framing, V.PROPRIETARY_ENCRYPTED,
         "VENDOR_MEDIA_FRAMING", M,
         "A vendor's voice framing recognised on this flow (Discord IP discovery) around RTP "
         "headers whose payloads fail the codec tests; no DTLS."),
    Rule("srtcp_clear", _srtcp_clear, V.PLAINTEXT, "SRTCP_UNENCRYPTED", H,
         "SRTCP packets with the E flag 0 (RFC 3711 section 3.4)."),
    Rule("dtls_no_srtp", _dtls_no_srtp, V.TRANSPORT_TLS, "DTLS_NO_SRTP", H,
         "DTLS answered by the server with no SRTP profile (use_srtp absent or declined, RFC "
         "5764 section 4.1.1): a DTLS-protected application, not media."),
    Rule("relay_peer_unidentified", _relay_peer_unidentified, V.UNKNOWN,
         "RELAY_PEER_UNIDENTIFIED", M,
         "DTLS, RTP or other non-STUN payloads relayed through TURN: the far end of the "
         "encryption is the peer behind the relay, which the capture does not identify."),
    Rule("dtls_not_completed", _dtls_answered_no_hello, V.UNKNOWN, "TLS_NOT_COMPLETED", M,
         "A DTLS ClientHello whose server answered (e.g. STUN) but sent no ServerHello."),
    Rule("dtls_vendor_server", _dtls_vendor, V.HOP_BY_HOP_SRTP, "DTLS_VENDOR_SERVER", H,
         "DTLS-SRTP with a server of the vendor (database vendor or first-party category)."),
    Rule("dtls_ice_lite", _dtls_ice_lite, V.HOP_BY_HOP_SRTP, "DTLS_ICE_LITE_SERVER", M,
         "DTLS-SRTP with a far end that sent packets and answers ICE checks but sends none "
         "(ICE-lite: a server)."),
    Rule("dtls_e2e_app", _dtls_e2e_app, V.LIKELY_E2E, "DTLS_E2E_APP", M,
         "DTLS-SRTP between two endpoints, for an app (identified from this flow's packets) "
         "documented to key media end to end."),
    Rule("dtls_unknown", _dtls_unknown, V.UNKNOWN, "P2P_DTLS_APP_UNKNOWN", M,
         "DTLS-SRTP between two endpoints of an app with no documented design."),
    Rule("srtp_e2e_app", _srtp_e2e_app, V.LIKELY_E2E, "SRTP_E2E_APP", M,
         "SRTP with no DTLS on the path, for an app (identified from this flow's packets) "
         "documented to key media end to end."),
    Rule("srtp_vendor_server", _srtp_vendor, V.HOP_BY_HOP_SRTP, "SRTP_VENDOR_SERVER", M,
         "RTP with opaque payloads to a vendor server, no DTLS: keys came through signalling."),
    Rule("keys_via_signalling", _keys_via_signalling, V.UNKNOWN, "NO_DTLS_KEYS_VIA_SIGNALLING", M,
         "Opaque RTP of an app documented to send media keys through its signalling (Teams)."),
    Rule("rtp_opaque", _rtp_opaque, V.UNKNOWN, "NO_HANDSHAKE_SEEN", L,
         "RTP with opaque payloads and no key exchange seen."),
    Rule("turn_unparsed", _turn_unparsed, V.UNKNOWN, "RELAYED_PAYLOAD_UNPARSED", L,
         "TURN Send/Data indications whose payloads are not RTP, DTLS or STUN."),
    Rule("stun_only", _stun, V.PLAINTEXT, "STUN_ONLY", H,
         "STUN/TURN connectivity checks only, relayed ones included: STUN is never encrypted "
         "(modifier `CONTROL_ONLY`)."),
    Rule("control_only", _control, V.PLAINTEXT, "CONTROL_TRAFFIC", M,
         "Only control datagrams: STUN, bandwidth probes, repeated keepalives, vendor hellos "
         "(Zoom, Discord); at most 5 % unexplained (modifier `CONTROL_ONLY`)."),
    Rule("cleartext_content", _cleartext_content, V.PLAINTEXT, "CLEARTEXT_CONTENT", H,
         "Every datagram is DHCP (RFC 2131 magic cookie), or readable text broadcast to the "
         "LAN (discovery beacons)."),
    Rule("zoom_tcp", _zoom_tcp, V.UNKNOWN, "TCP_TLS_FALLBACK", L,
         "TCP to Zoom's media ports (Zoom identified from this flow) with no TLS handshake."),
    Rule("zoom_udp", _zoom_udp, V.PROPRIETARY_ENCRYPTED, "NO_RTP_FOUND", L,
         "Zoom media framing (content class `zoom_media`) with no RTP recognised inside."),
    Rule("no_payload", _no_payload, V.UNKNOWN, "NO_PAYLOAD", L, "No payload bytes at all."),
    Rule("unknown_protocol", _anything, V.UNKNOWN, "UNKNOWN_PROTOCOL", L,
         "Payload with no protocol recognised."),
)  # fmt: skip

_TLS_RULES = frozenset({"tls_incomplete", "tls"})
_CONTROL_RULES = frozenset({"stun_only", "control_only"})
_ENCRYPTED_MEDIA_RULES = frozenset(
    {"zoom_framing", "vendor_media_framing", "dtls_vendor_server", "dtls_ice_lite",
     "dtls_e2e_app", "dtls_unknown", "srtp_e2e_app", "srtp_vendor_server",
     "keys_via_signalling", "rtp_opaque", "relay_peer_unidentified"}
)  # fmt: skip
_FIXED = {
    "cleartext_dns": Modifier.CLEARTEXT_DNS,
    "cleartext_signalling": Modifier.CLEARTEXT_SIGNALLING,
    "sdes_key_in_clear": Modifier.CLEARTEXT_SIGNALLING,
    "connect_tunnel": Modifier.METADATA_LEAK,
}


def _modifiers(rule: Rule[FlowCtx, Verdict], c: FlowCtx) -> tuple[Modifier, ...]:
    out: list[Modifier] = []
    if rule.name in _FIXED:
        out.append(_FIXED[rule.name])
    if rule.name in _CONTROL_RULES:
        out.append(Modifier.CONTROL_ONLY)
    if rule.name in _TLS_RULES and c.ev.tls and c.ev.tls[0].weak:
        out.append(Modifier.WEAK_TLS)
    if rule.name in _ENCRYPTED_MEDIA_RULES and any(r.ecb_suspected for r in c.ev.rtp):
        out.append(Modifier.ECB_SUSPECTED)
    if rule.name in _ENCRYPTED_MEDIA_RULES and cf.readable_rtcp_beside_encrypted(c.ev):
        out.append(Modifier.MIXED_CONTENT)
    if cf.leak_kinds(c.ev) and Modifier.METADATA_LEAK not in out:
        out.append(Modifier.METADATA_LEAK)
    return tuple(out)


def _facts(rule: Rule[FlowCtx, Verdict], c: FlowCtx, facts: Facts) -> Facts:
    """The rule's facts plus the content-wide ones every wording may add."""
    leaks = cf.leak_kinds(c.ev)
    if not leaks:
        return facts
    row = c.ev.content[0]
    return {**facts, "leak_kinds": leaks, "leak_frame": row.leak_first_frame,
            "leak_examples": row.leak_examples}  # fmt: skip


def assess_flow(c: FlowCtx) -> VerdictDecision:
    """The verdict for one flow, with the rule that decided and its facts."""
    rule, facts = first_match(VERDICT_RULES, c)
    confidence = rule.confidence
    if rule.name == "codec_plaintext" and facts.get("long"):
        confidence = Confidence.HIGH
    return VerdictDecision(
        rule.outcome, _modifiers(rule, c), confidence, rule.reason, rule.name,
        _facts(rule, c, facts),
    )  # fmt: skip
