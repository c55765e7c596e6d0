"""The role of each flow: signalling, media, relay, telemetry, web/API, DNS, other.

An ordered rule table (:data:`ROLE_RULES`): the first row whose predicate holds decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from inspector.assess import content_facts as cf
from inspector.assess.apps import AppDecision
from inspector.assess.context import FlowCtx
from inspector.assess.profiles import AppProfile, profile
from inspector.assess.rules import Facts, Rule, first_match
from inspector.attribute.database import THIRD_PARTY_CATEGORIES
from inspector.attribute.entities import Endpoint, PartyDecision, decide_party
from inspector.attribute.stage import Attribution
from inspector.dissect.dns import doh_resolver, encrypted_dns_label
from inspector.evidence import FlowEvidence
from inspector.schema.rtp import RtpRow
from inspector.vocab import Confidence, Party, Role

__all__ = [
    "ROLE_RULES",
    "TELEMETRY_CATEGORIES",
    "RoleDecision",
    "client_apps",
    "content_delivery_label",
    "decide_role",
    "flow_app",
    "flow_party",
    "party_without_app",
]

#: Third-party categories that collect data about the user or device (the third-party
#: categories minus infrastructure: CDNs and operating-system services).
TELEMETRY_CATEGORIES = frozenset(THIRD_PARTY_CATEGORIES) - {"cdn_cloud", "os_services"}
#: DNS, mDNS, LLMNR, DoT and NetBIOS name service (IANA service names registry).
DNS_PORTS = frozenset({53, 5353, 5355, 853, 137})
_RELAY_METHODS = frozenset({"allocate", "channelbind", "createpermission", "send", "data"})
_CARRIED = frozenset({"send", "data"})
_WEB = frozenset({"tls", "quic", "http"})
#: host-name labels that name a content-delivery host (files, images, media downloads)
_DELIVERY = re.compile(r"cdn\d*|static\d*|assets?|downloads?|dl\d*|(?:dl|cdn)-[a-z0-9-]+")


class RoleDecision:
    __slots__ = ("app", "app_evidence", "facts", "media_kinds", "party", "reason", "role", "rule")

    def __init__(
        self,
        role: Role,
        rule: str,
        facts: Facts,
        media_kinds: str = "",
        party: PartyDecision | None = None,
        app: str = "",
        app_evidence: str = "",
    ) -> None:
        self.role = role
        self.rule = rule
        self.facts = facts
        self.media_kinds = media_kinds
        self.reason = str(facts.get("reason", ""))
        #: the destination's party for the flow's own app (:func:`flow_party`)
        self.party = party or PartyDecision(Party.UNKNOWN, "no-app", "")
        #: the flow's own app (:func:`flow_app`) and its evidence; "" when unknown
        self.app = app
        self.app_evidence = app_evidence


def flow_app(c: FlowCtx) -> tuple[AppProfile | None, str]:
    """The flow's OWN app, for its party, and the evidence for it.

    The app the flow's own evidence decided (a vendor's domain or range, STUN fingerprint,
    signature, Zoom framing: ``c.app``), else the app its client fingerprint names (Meta's mvfst
    QUIC versions, a User-Agent naming an app: ``att.client_app``). Never the session's app: a
    tracker reached during a Zoom session may come from any program on the device.
    """
    if c.app is not None and c.app.entity:
        return c.app, ""  # the evidence is the assessment's app_reason
    found = c.att.client_app
    if found is not None:
        return found.app, found.evidence
    return None, ""


def flow_party(c: FlowCtx) -> PartyDecision:
    """First, third or unknown party of the flow's destination for the flow's own app.

    A flow with no app of its own (:func:`flow_app`) is decided by the table alone when it can
    be (an ad/analytics endpoint no app uses as its own is third party for any app); otherwise
    over every app identified on the same client in the capture: a party holds only when it is
    the same for each of them (rule ``client-apps``), else it stays unknown.
    """
    app, _ = flow_app(c)
    return party_without_app(c.att.owner.endpoint(c.att.name.name), app, c.client_apps)


def party_without_app(
    ep: Endpoint, app: AppProfile | None, candidates: Sequence[AppProfile]
) -> PartyDecision:
    """The party for ``app``, or, with no app, over the ``candidates`` (see :func:`flow_party`)."""
    decision = decide_party(app, ep)
    if app is not None or decision.party != Party.UNKNOWN or decision.rule != "no-app":
        return decision
    each = [decide_party(a, ep) for a in candidates]
    parties = {d.party for d in each}
    if len(parties) != 1 or Party.UNKNOWN in parties:
        return decision
    names = ", ".join(a.name for a in candidates)
    party = each[0].party
    return PartyDecision(
        party,
        "client-apps",
        f"no app evidence on this connection; {party} party for every app identified on this "
        f"client in the capture ({names}): {each[0].reason}",
    )


def client_apps(
    evidence: Sequence[FlowEvidence],
    atts: Mapping[str, Attribution],
    apps: Mapping[str, AppDecision],
) -> dict[tuple[str, str], tuple[AppProfile, ...]]:
    """(file, client) -> the apps (with an owner) that flows' own evidence identified there."""
    out: dict[tuple[str, str], dict[str, AppProfile]] = {}
    for ev in evidence:
        d = apps.get(ev.uid)
        p = profile(d.app) if d is not None else None
        if p is not None and p.entity:
            out.setdefault((ev.conn.file, atts[ev.uid].ends.client_h), {})[p.name] = p
    return {k: tuple(v.values()) for k, v in out.items()}


def encrypted_dns(c: FlowCtx) -> str:
    """A description when the flow is encrypted DNS (DoT, DoQ, DoH to a public resolver)."""
    offered = [r.alpn for r in c.ev.tls] + [r.alpn for r in c.ev.quic]
    alpns = [a for text in offered for a in text.split(";") if a]
    e = c.att.ends
    label = encrypted_dns_label(c.proto, e.client_p, e.server_p, alpns)
    if label:
        return {"dot": "DNS over TLS", "doq": "DNS over QUIC"}[label]
    name = c.att.name.name
    if name and doh_resolver(name) and {"tls", "quic"} & c.ev.services:
        return f"DNS over HTTPS to the public resolver {name}"
    return ""


def _media_kinds(rtp: tuple[RtpRow, ...]) -> str:
    kinds = {r.zoom_media for r in rtp if r.zoom_media in ("audio", "video", "screen_share")}
    return ";".join(sorted(kinds))


def _f(**kw: object) -> Facts:
    return kw


def _icmp(c: FlowCtx) -> Facts | None:
    return _f(reason="ICMP control messages") if c.proto in ("icmp", "icmp6") else None


def _encrypted_dns(c: FlowCtx) -> Facts | None:
    what = encrypted_dns(c)
    return _f(reason=what) if what else None


def _dns(c: FlowCtx) -> Facts | None:
    port = c.proto in ("udp", "tcp") and c.att.ends.server_p in DNS_PORTS
    return _f(reason="DNS traffic") if "dns" in c.ev.services or port else None


def _first_party_tracker(c: FlowCtx) -> Facts | None:
    if c.category not in TELEMETRY_CATEGORIES:
        return None
    party = flow_party(c)
    return _f(reason=party.reason, party=party.rule) if party.party == Party.FIRST else None


def _third_party_tracker(c: FlowCtx) -> Facts | None:
    if c.category not in TELEMETRY_CATEGORIES:
        return None
    party = flow_party(c)
    return _f(reason=party.reason, party=party.rule) if party.party == Party.THIRD else None


def _vendor_telemetry(c: FlowCtx) -> Facts | None:
    return _f(reason="telemetry") if c.category == "first-party telemetry" else None


def _call_signalling(c: FlowCtx) -> Facts | None:
    protocols = sorted({s.protocol for s in c.ev.signalling if s.protocol != "http_connect"})
    return _f(reason=f"{', '.join(protocols)} call signalling") if protocols else None


def _dtls_no_srtp(c: FlowCtx) -> Facts | None:
    if c.ev.dtls and not c.ev.rtp and all(d.use_srtp in ("absent", "declined") for d in c.ev.dtls):
        return _f(reason="DTLS without SRTP keys (use_srtp absent or declined): not media")
    return None


def _dtls_midstream(c: FlowCtx) -> Facts | None:
    if cf.dtls_midstream(c.ev):
        return _f(reason="DTLS records with no handshake in the capture and no RTP: not media")
    return None


def _relayed(c: FlowCtx) -> bool:
    return any(s.method.lower() in _RELAY_METHODS for s in c.ev.stun) or any(
        r.framing in ("turn_channel", "stun_data") for r in c.ev.rtp
    )


def _relayed_media(c: FlowCtx) -> Facts | None:
    has_media = bool(c.ev.rtp or c.ev.dtls)
    return _f(reason="media through a TURN relay") if has_media and _relayed(c) else None


def _media(c: FlowCtx) -> Facts | None:
    return _f(reason="RTP/SRTP or DTLS-SRTP media") if c.ev.rtp or c.ev.dtls else None


def _turn_payload(c: FlowCtx) -> Facts | None:
    if cf.relayed_payload(c.ev):
        return _f(reason="TURN framing carrying payloads other than STUN")
    if c.ev.content or cf.relayed_stun_only(c.ev):
        return None
    carried = any(s.method.lower() in _CARRIED for s in c.ev.stun)
    return _f(reason="TURN Send/Data indications carrying payloads") if carried else None


def _control_reason(c: FlowCtx) -> str:
    if any(s.method.lower() == "allocate" for s in c.ev.stun):
        return "TURN allocation, no media seen"
    return "STUN connectivity checks" if c.ev.stun else "probes, keepalives or hellos"


def _control(c: FlowCtx) -> bool:
    if c.ev.content:
        return cf.control_only(c.ev) is not None
    return bool(c.ev.stun)


def _control_of_app(c: FlowCtx) -> Facts | None:
    return _f(reason=_control_reason(c)) if _control(c) and c.app is not None else None


def _control_alone(c: FlowCtx) -> Facts | None:
    return _f(reason=_control_reason(c)) if _control(c) else None


def _no_payload(c: FlowCtx) -> Facts | None:
    return _f(reason="no payload") if c.ev.payload_bytes == 0 else None


def _cleartext_udp(c: FlowCtx) -> Facts | None:
    if c.proto == "udp" and cf.cleartext_content(c.ev, c.att.ends) is not None:
        return _f(reason="LAN discovery or DHCP datagrams")
    return None


def content_delivery_label(name: str) -> str:
    """The label of a host name that names content delivery (``cdn``, ``cdn2``, ``static``,
    ``assets``, ``download``, ``dl`` or a ``dl-``/``cdn-`` prefix), else ``""``."""
    for label in name.lower().rstrip(".").split(".")[:-2]:
        if _DELIVERY.fullmatch(label):
            return label
    return ""


def _content_delivery(c: FlowCtx) -> Facts | None:
    label = content_delivery_label(c.att.name.name) if c.ev.services & _WEB else ""
    return _f(reason=f"content delivery ({label}.)") if label else None


def _first_party_web(c: FlowCtx) -> Facts | None:
    return _f(reason="first-party web") if c.category == "first-party web" else None


def _vendor_service(c: FlowCtx) -> Facts | None:
    web = bool(c.ev.services & _WEB)
    framed = bool(c.ev.content and c.ev.content[0].zoom_control)  # the vendor's own hellos
    app_channel = c.app is not None and (web or framed or c.proto == "tcp")
    if (c.category.startswith("first-party") and web) or app_channel:
        return _f(reason="vendor service")
    return None


def _web(c: FlowCtx) -> Facts | None:
    quic = bool(c.ev.content and c.ev.content[0].quic)
    midstream = cf.tls_records(c.ev) is not None or cf.websocket_frames(c.ev) is not None
    web = c.ev.services & _WEB or midstream or quic
    return _f(reason="web or API traffic") if web else None


def _other(c: FlowCtx) -> Facts | None:
    return _f(reason="")


H, M = Confidence.HIGH, Confidence.MEDIUM
#: The role table, in order; the first row that applies decides.
ROLE_RULES: tuple[Rule[FlowCtx, Role], ...] = (
    Rule("icmp", _icmp, Role.OTHER, "ICMP", H, "ICMP or ICMPv6 control messages."),
    Rule("encrypted_dns", _encrypted_dns, Role.DNS, "ENCRYPTED_DNS", H,
         "DoT or DoQ (port and ALPN), or DoH to a known public resolver."),
    Rule("dns", _dns, Role.DNS, "DNS", H, "A DNS dissector row, or a name-service port."),
    Rule("call_signalling", _call_signalling, Role.SIGNALLING, "CALL_SIGNALLING", H,
         "SIP, H.323, MGCP, Megaco, IAX2, XMPP, RTSP or BFCP messages (the `signalling` table)."),
    Rule("first_party_tracker", _first_party_tracker, Role.FIRST_PARTY_TELEMETRY, "OWN_TRACKER",
         M, "A telemetry category, first party for the flow's own app (PARTY_RULES: the app "
         "uses the endpoint as its own); never decided by the session's app."),
    Rule("third_party_tracker", _third_party_tracker, Role.THIRD_PARTY_TELEMETRY,
         "THIRD_PARTY_TRACKER", M, "A telemetry category, third party for the flow's own app, "
         "or for any app when no app uses the endpoint as its own (PARTY_RULES)."),
    Rule("vendor_telemetry", _vendor_telemetry, Role.FIRST_PARTY_TELEMETRY, "VENDOR_TELEMETRY",
         M, "A vendor's own telemetry endpoint."),
    Rule("dtls_no_srtp", _dtls_no_srtp, Role.OTHER, "DTLS_NO_SRTP", H,
         "DTLS whose use_srtp is absent or declined, no RTP: a DTLS application, not media."),
    Rule("dtls_midstream", _dtls_midstream, Role.OTHER, "DTLS_NO_HANDSHAKE", M,
         "DTLS records with no handshake message in the capture and no RTP: a DTLS "
         "application begun before the capture, not media."),
    Rule("relayed_media", _relayed_media, Role.RELAY, "TURN_MEDIA", H,
         "RTP or DTLS together with TURN allocation/relay messages or TURN framing."),
    Rule("media", _media, Role.MEDIA, "MEDIA", H, "RTP/RTCP streams or a DTLS handshake."),
    Rule("turn_payload", _turn_payload, Role.RELAY, "TURN_PAYLOAD", M,
         "TURN framing (ChannelData, Send/Data) carrying payloads other than STUN."),
    Rule("control_of_app", _control_of_app, Role.SIGNALLING, "CONTROL_CALL_SETUP", M,
         "STUN, probes, keepalives or hellos only, on a flow of an app identified from its own "
         "packets (call set-up)."),
    Rule("control_alone", _control_alone, Role.OTHER, "CONTROL_ONLY", M,
         "STUN, probes, keepalives or hellos only, no app identified."),
    Rule("no_payload", _no_payload, Role.OTHER, "NO_PAYLOAD", M, "No payload byte either way."),
    Rule("cleartext_udp", _cleartext_udp, Role.OTHER, "LAN_DISCOVERY", M,
         "UDP datagrams that are all DHCP or readable text (SSDP, LAN discovery)."),
    Rule("content_delivery", _content_delivery, Role.WEB_API, "CONTENT_DELIVERY", M,
         "TLS/QUIC/HTTP to a host whose name has a content-delivery label (cdn, static, "
         "assets, download, dl, dl-*): files and media downloads, not call signalling."),
    Rule("first_party_web", _first_party_web, Role.WEB_API, "VENDOR_WEB", M,
         "The vendor's web site."),
    Rule("vendor_service", _vendor_service, Role.SIGNALLING, "VENDOR_SERVICE", M,
         "TLS/QUIC/HTTP to a first-party service, or TLS/QUIC/HTTP, a TCP channel or the "
         "vendor's control framing with an app identified from this flow's packets."),
    Rule("web", _web, Role.WEB_API, "WEB", M,
         "TLS, QUIC or HTTP to anyone else, or TLS records / QUIC packets / WebSocket frames "
         "whose handshake is not captured."),
    Rule("other", _other, Role.OTHER, "OTHER", M, "Anything else."),
)  # fmt: skip


def decide_role(c: FlowCtx) -> RoleDecision:
    rule, facts = first_match(ROLE_RULES, c)
    kinds = _media_kinds(c.ev.rtp) if rule.outcome.carries_media else ""
    app, evidence = flow_app(c)
    return RoleDecision(
        rule.outcome, rule.name, facts, kinds, flow_party(c), app.name if app else "", evidence
    )
