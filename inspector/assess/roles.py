"""The role of each flow: signalling, media, relay, telemetry, web/API, DNS, other.

An ordered rule table (:data:`ROLE_RULES`): the first row whose predicate holds decides.
"""

from __future__ import annotations

from inspector.assess.context import FlowCtx
from inspector.assess.profiles import AppProfile
from inspector.assess.rules import Facts, Rule, first_match
from inspector.attribute.database import THIRD_PARTY_CATEGORIES
from inspector.dissect.dns import doh_resolver, encrypted_dns_label
from inspector.schema.rtp import RtpRow
from inspector.vocab import Confidence, Role

__all__ = ["ROLE_RULES", "TELEMETRY_CATEGORIES", "RoleDecision", "decide_role", "same_owner"]

#: Third-party categories that collect data about the user or device (the third-party
#: categories minus infrastructure: CDNs and operating-system services).
TELEMETRY_CATEGORIES = frozenset(THIRD_PARTY_CATEGORIES) - {"cdn_cloud", "os_services"}
#: DNS, mDNS, LLMNR, DoT and NetBIOS name service (IANA service names registry).
DNS_PORTS = frozenset({53, 5353, 5355, 853, 137})
_RELAY_METHODS = frozenset({"allocate", "channelbind", "createpermission", "send", "data"})
_CARRIED = frozenset({"send", "data"})
_WEB = frozenset({"tls", "quic", "http"})


class RoleDecision:
    __slots__ = ("facts", "media_kinds", "reason", "role", "rule")

    def __init__(self, role: Role, rule: str, facts: Facts, media_kinds: str = "") -> None:
        self.role = role
        self.rule = rule
        self.facts = facts
        self.media_kinds = media_kinds
        self.reason = str(facts.get("reason", ""))


def same_owner(app: AppProfile | None, organisation: str) -> bool:
    """True when ``organisation`` operates ``app`` (e.g. Meta for Messenger)."""
    org = organisation.lower()
    return app is not None and any(o.lower() in org for o in app.owners)


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
    owner = c.app or c.session_app
    if c.category in TELEMETRY_CATEGORIES and same_owner(owner, c.organisation):
        return _f(reason=f"{c.category} service of {c.organisation}, which runs {owner.name}")  # type: ignore[union-attr]
    return None


def _third_party_tracker(c: FlowCtx) -> Facts | None:
    if c.category in TELEMETRY_CATEGORIES:
        return _f(reason=f"{c.organisation or 'unknown organisation'}: {c.category}")
    return None


def _vendor_telemetry(c: FlowCtx) -> Facts | None:
    return _f(reason="telemetry") if c.category == "first-party telemetry" else None


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
    carried = any(s.method.lower() in _CARRIED for s in c.ev.stun)
    return _f(reason="TURN Send/Data indications carrying payloads") if carried else None


def _stun_reason(c: FlowCtx) -> str:
    allocate = any(s.method.lower() == "allocate" for s in c.ev.stun)
    return "TURN allocation, no media seen" if allocate else "STUN connectivity checks"


def _stun_of_app(c: FlowCtx) -> Facts | None:
    return _f(reason=_stun_reason(c)) if c.ev.stun and c.app is not None else None


def _stun_alone(c: FlowCtx) -> Facts | None:
    return _f(reason=_stun_reason(c)) if c.ev.stun else None


def _app_udp(c: FlowCtx) -> Facts | None:
    if c.proto == "udp" and c.app is not None and "quic" not in c.ev.services:
        e = c.att.ends
        return _f(reason=f"UDP exchanged with {c.app.name} ({e.server_h}:{e.server_p})")
    return None


def _first_party_web(c: FlowCtx) -> Facts | None:
    return _f(reason="first-party web") if c.category == "first-party web" else None


def _vendor_service(c: FlowCtx) -> Facts | None:
    if c.category.startswith("first-party") or (c.app is not None and c.ev.services & _WEB):
        return _f(reason="vendor service")
    return None


def _web(c: FlowCtx) -> Facts | None:
    return _f(reason="web or API traffic") if c.ev.services & _WEB else None


def _other(c: FlowCtx) -> Facts | None:
    return _f(reason="")


H, M = Confidence.HIGH, Confidence.MEDIUM
#: The role table, in order; the first row that applies decides.
ROLE_RULES: tuple[Rule[FlowCtx, Role], ...] = (
    Rule("icmp", _icmp, Role.OTHER, "ICMP", H, "ICMP or ICMPv6 control messages."),
    Rule("encrypted_dns", _encrypted_dns, Role.DNS, "ENCRYPTED_DNS", H,
         "DoT or DoQ (port and ALPN), or DoH to a known public resolver."),
    Rule("dns", _dns, Role.DNS, "DNS", H, "A DNS dissector row, or a name-service port."),
    Rule("first_party_tracker", _first_party_tracker, Role.FIRST_PARTY_TELEMETRY, "OWN_TRACKER",
         M, "A telemetry category whose operator runs the flow's (or its session's) app."),
    Rule("third_party_tracker", _third_party_tracker, Role.THIRD_PARTY_TELEMETRY,
         "THIRD_PARTY_TRACKER", M, "A telemetry category of another organisation."),
    Rule("vendor_telemetry", _vendor_telemetry, Role.FIRST_PARTY_TELEMETRY, "VENDOR_TELEMETRY",
         M, "A vendor's own telemetry endpoint."),
    Rule("relayed_media", _relayed_media, Role.RELAY, "TURN_MEDIA", H,
         "RTP or DTLS together with TURN allocation/relay messages or TURN framing."),
    Rule("media", _media, Role.MEDIA, "MEDIA", H, "RTP/RTCP streams or a DTLS handshake."),
    Rule("turn_payload", _turn_payload, Role.RELAY, "TURN_PAYLOAD", M,
         "TURN Send/Data indications with unrecognised payloads."),
    Rule("stun_of_app", _stun_of_app, Role.SIGNALLING, "STUN_CALL_SETUP", M,
         "STUN only, on a flow of an identified app (call set-up)."),
    Rule("stun_alone", _stun_alone, Role.OTHER, "STUN_ONLY", M, "STUN only, no app identified."),
    Rule("app_udp", _app_udp, Role.MEDIA, "APP_UDP", M,
         "UDP (not QUIC) exchanged with an identified app's server."),
    Rule("first_party_web", _first_party_web, Role.WEB_API, "VENDOR_WEB", M,
         "The vendor's web site."),
    Rule("vendor_service", _vendor_service, Role.SIGNALLING, "VENDOR_SERVICE", M,
         "A vendor's service, or TLS/QUIC/HTTP of an identified app."),
    Rule("web", _web, Role.WEB_API, "WEB", M, "TLS, QUIC or HTTP to anyone else."),
    Rule("other", _other, Role.OTHER, "OTHER", M, "Anything else."),
)  # fmt: skip


def decide_role(c: FlowCtx) -> RoleDecision:
    rule, facts = first_match(ROLE_RULES, c)
    kinds = _media_kinds(c.ev.rtp) if rule.outcome.carries_media else ""
    return RoleDecision(rule.outcome, rule.name, facts, kinds)
