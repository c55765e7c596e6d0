"""The role of each flow: signalling, media, relay, telemetry, web/API, DNS, other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inspector.assess.apps import APP_OWNERS
from inspector.attribute.database import THIRD_PARTY_CATEGORIES
from inspector.dissect.dns import doh_resolver, encrypted_dns_label

__all__ = ["ROLES", "TELEMETRY_CATEGORIES", "RoleDecision", "decide_role", "same_owner"]

ROLES = (
    "signalling",
    "media",
    "relay",
    "first-party telemetry",
    "third-party telemetry",
    "web/API",
    "dns",
    "other",
)
#: Third-party categories that collect data about the user or device (the third-party
#: categories minus infrastructure: CDNs and operating-system services).
TELEMETRY_CATEGORIES = frozenset(THIRD_PARTY_CATEGORIES) - {"cdn_cloud", "os_services"}
DNS_PORTS = frozenset({53, 5353, 5355, 853, 137})


@dataclass(frozen=True, slots=True)
class RoleDecision:
    role: str
    media_kinds: str = ""  #: audio;video;screen_share where the framing tells
    reason: str = ""


def same_owner(app: str, organisation: str) -> bool:
    """True when ``organisation`` operates ``app`` (e.g. Meta for Messenger)."""
    org = organisation.lower()
    return any(o.lower() in org for o in APP_OWNERS.get(app, ()))


def _media_kinds(rtp_rows: list[Any]) -> str:
    kinds: list[str] = []
    for r in rtp_rows:
        k = getattr(r, "zoom_media", "") or ""
        if k in ("audio", "video", "screen_share") and k not in kinds:
            kinds.append(k)
    return ";".join(sorted(kinds))


def encrypted_dns(f: Any, by_uid: Mapping[str, Mapping[str, list[Any]]]) -> str:
    """A description when the flow is encrypted DNS (DoT, DoQ, DoH to a public resolver)."""
    alpns: list[str] = []
    for table in ("tls", "quic"):
        for r in by_uid.get(table, {}).get(f.uid, []):
            alpns += [a for a in (getattr(r, "alpn", "") or "").split(";") if a]
    label = encrypted_dns_label(f.proto, f.orig_p, f.resp_p, alpns)
    if label:
        return {"dot": "DNS over TLS", "doq": "DNS over QUIC"}[label]
    if (
        f.server_name
        and doh_resolver(f.server_name)
        and {"tls", "quic"} & set((f.service or "").split(";"))
    ):
        return f"DNS over HTTPS to the public resolver {f.server_name}"
    return ""


def decide_role(
    f: Any, app: str, by_uid: Mapping[str, Mapping[str, list[Any]]], session_app: str = ""
) -> RoleDecision:
    """The role of flow ``f`` given its own app and its session's app (either may be "")."""
    uid = f.uid
    services = set((f.service or "").split(";"))
    category = f.category or ""
    if f.proto in ("icmp", "icmp6"):
        return RoleDecision("other", reason="ICMP control messages")
    encrypted = encrypted_dns(f, by_uid)
    if encrypted:
        return RoleDecision("dns", reason=encrypted)
    if "dns" in services or (f.resp_p in DNS_PORTS and f.proto in ("udp", "tcp")):
        return RoleDecision("dns", reason="DNS traffic")
    if category in TELEMETRY_CATEGORIES:
        owner_app = app or session_app
        if owner_app and same_owner(owner_app, f.organisation or ""):
            return RoleDecision(
                "first-party telemetry",
                reason=f"{category} service of {f.organisation}, which runs {owner_app}",
            )
        return RoleDecision(
            "third-party telemetry",
            reason=f"{f.organisation or 'unknown organisation'}: {category}",
        )
    if category == "first-party telemetry":
        return RoleDecision("first-party telemetry", reason=f"{f.organisation}: telemetry")
    stun = by_uid.get("stun", {}).get(uid, [])
    rtp = by_uid.get("rtp", {}).get(uid, [])
    if rtp or by_uid.get("dtls", {}).get(uid):
        relayed = any(
            (getattr(s, "method", "") or "").lower()
            in ("allocate", "channelbind", "createpermission", "send", "data")
            for s in stun
        )
        relayed = relayed or any(
            (getattr(r, "framing", "") or "") in ("turn_channel", "stun_data") for r in rtp
        )
        kinds = _media_kinds(rtp)
        if relayed:
            return RoleDecision("relay", kinds, "media through a TURN relay")
        return RoleDecision("media", kinds, "RTP/SRTP or DTLS-SRTP media")
    if stun:
        # no media recognised inside: call set-up, whatever the STUN method
        carried = any((getattr(s, "method", "") or "").lower() in ("send", "data") for s in stun)
        if carried:
            return RoleDecision("relay", reason="TURN Send/Data indications carrying payloads")
        allocate = any((getattr(s, "method", "") or "").lower() == "allocate" for s in stun)
        reason = "TURN allocation, no media seen" if allocate else "STUN connectivity checks"
        return RoleDecision("signalling" if app else "other", reason=reason)
    if f.proto == "udp" and app and "quic" not in services:
        return RoleDecision(
            "media",
            reason=f"UDP exchanged with {app} ({f.resp_h}:{f.resp_p}); "
            "no payload framing recognised",
        )
    if category.startswith("first-party") or (app and services & {"tls", "quic", "http"}):
        return RoleDecision(
            "signalling" if category != "first-party web" else "web/API",
            reason=f"{app or f.organisation} service over "
            f"{'/'.join(sorted(services - {''})) or f.proto}",
        )
    if services & {"tls", "quic", "http"}:
        return RoleDecision("web/API", reason="web or API traffic")
    return RoleDecision("other")
