"""Which conferencing application each flow belongs to, and why.

Evidence, strongest first: the server name or address matched a vendor's published domains or
ranges (attribution), a vendor fingerprint in STUN, Zoom's own media framing, the same local
port as an already attributed media/STUN flow (peer-to-peer media set up through the vendor),
and finally generic WebRTC (STUN + DTLS with a WebRTC certificate or ALPN). Ports alone are
never proof; they are only mentioned as a hint in the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APPS",
    "APP_OWNERS",
    "AppDecision",
    "app_for_vendor",
    "decide_apps",
    "ice_both_ways",
    "ice_lite_server",
]

#: The applications the tool names (plus "unknown WebRTC").
APPS = (
    "Zoom",
    "Microsoft Teams/Skype",
    "Webex",
    "Google Meet",
    "Jitsi",
    "Slack",
    "Discord",
    "WhatsApp",
    "Signal",
    "FaceTime",
    "Telegram",
    "Messenger",
    "Viber",
    "unknown WebRTC",
)

#: Organisations whose infrastructure counts as first party for an app.
APP_OWNERS: dict[str, tuple[str, ...]] = {
    "Zoom": ("Zoom",),
    "Microsoft Teams/Skype": ("Microsoft", "Skype"),
    "Webex": ("Cisco", "Webex"),
    "Google Meet": ("Google",),
    "Jitsi": ("8x8", "Jitsi"),
    "Slack": ("Slack", "Salesforce"),
    "Discord": ("Discord",),
    "WhatsApp": ("WhatsApp", "Meta", "Facebook"),
    "Messenger": ("Meta", "Facebook"),
    "Signal": ("Signal",),
    "FaceTime": ("Apple",),
    "Telegram": ("Telegram",),
    "Viber": ("Viber", "Rakuten"),
}

_VENDOR_APP = {
    "zoom": "Zoom",
    "microsoft teams": "Microsoft Teams/Skype",
    "teams": "Microsoft Teams/Skype",
    "skype": "Microsoft Teams/Skype",
    "webex": "Webex",
    "google meet": "Google Meet",
    "google": "Google Meet",
    "jitsi": "Jitsi",
    "slack": "Slack",
    "discord": "Discord",
    "whatsapp": "WhatsApp",
    "signal": "Signal",
    "facetime": "FaceTime",
    "apns": "FaceTime",
    "telegram": "Telegram",
    "messenger": "Messenger",
    "facebook": "Messenger",
    "viber": "Viber",
}

#: STUN ``vendor_hint`` values -> app.
_STUN_APP = {
    "zoom": "Zoom",
    "microsoft": "Microsoft Teams/Skype",
    "teams": "Microsoft Teams/Skype",
    "skype": "Microsoft Teams/Skype",
    "whatsapp": "WhatsApp",
    "google": "Google Meet",
    "signal": "Signal",
    "facebook": "Messenger",
    "messenger": "Messenger",
    "telegram": "Telegram",
    "viber": "Viber",
}

P2P_WINDOW_S = 300.0


@dataclass(frozen=True, slots=True)
class AppDecision:
    app: str
    reason: str
    p2p: bool = False


def app_for_vendor(vendor: str) -> str:
    """Normalise a database vendor label ("Microsoft Teams / Office", "Jitsi Meet"...) to an app."""
    v = vendor.lower()
    for key, app in _VENDOR_APP.items():
        if v.startswith(key):
            return app
    return ""


def _stun_app(hint: str) -> str:
    h = hint.lower()
    for key, app in _STUN_APP.items():
        if key in h:
            return app
    return ""


def decide_apps(
    flows: Sequence[Any], by_uid: Mapping[str, Mapping[str, list[Any]]], client: str
) -> dict[str, AppDecision]:
    """uid -> decision for every flow that has app evidence."""
    out: dict[str, AppDecision] = {}
    for f in flows:
        app = app_for_vendor(f.vendor or "")
        if app:
            out[f.uid] = AppDecision(
                app,
                f"{f.server_name or f.resp_h} belongs to {app} "
                f"({f.attribution_source.split(':')[0]})",
            )
            continue
        for s in by_uid.get("stun", {}).get(f.uid, []):
            app = _stun_app(getattr(s, "vendor_hint", "") or "")
            if app:
                attrs = getattr(s, "vendor_attrs", "") or getattr(s, "realm", "")
                out[f.uid] = AppDecision(
                    app,
                    f"STUN vendor fingerprint {s.vendor_hint}"
                    + (f" ({attrs})" if attrs else "")
                    + f" in frame {s.frame}",
                )
                break
        if f.uid in out:
            continue
        for r in by_uid.get("signatures", {}).get(f.uid, []):
            out[f.uid] = AppDecision(r.app, f"{r.detail}, frame {r.frame}")
            break
        if f.uid in out:
            continue
        for r in by_uid.get("rtp", {}).get(f.uid, []):
            framing = getattr(r, "framing", "") or ""
            if framing.startswith("zoom"):
                out[f.uid] = AppDecision(
                    "Zoom",
                    f"Zoom media framing ({framing}) with valid RTP "
                    f"inside, first in frame {r.frame}",
                    p2p=framing == "zoom_p2p",
                )
                break
    _p2p_by_port(flows, out, client)
    for f in flows:
        if f.uid not in out and _webrtc(f, by_uid):
            both = ice_both_ways(by_uid.get("stun", {}).get(f.uid, []))
            out[f.uid] = AppDecision(
                "unknown WebRTC",
                "STUN and DTLS on one flow (WebRTC), no vendor fingerprint"
                + ("; both ends send ICE checks (peer-to-peer)" if both else ""),
                p2p=both and not f.vendor,
            )
    return out


def _check_senders(stun_rows: Sequence[Any]) -> set[bool]:
    return {
        bool(getattr(r, "from_orig", False))
        for r in stun_rows
        if (getattr(r, "method", "") or "").lower() == "binding"
        and (getattr(r, "msg_class", "") or "").lower() == "request"
    }


def ice_both_ways(stun_rows: Sequence[Any]) -> bool:
    """Both ends sent Binding requests: full ICE on both sides, as between two participants
    (an ICE-lite SFU never sends checks)."""
    return _check_senders(stun_rows) == {True, False}


def ice_lite_server(stun_rows: Sequence[Any]) -> bool:
    """Only the client side sent Binding requests: the far end is ICE-lite, i.e. a media server."""
    return _check_senders(stun_rows) == {True}


def _p2p_by_port(flows: Sequence[Any], out: dict[str, AppDecision], client: str) -> None:
    """UDP flows reusing the local port of an attributed STUN/media flow: the app's P2P media."""
    seen: dict[tuple[str, int], list[tuple[float, float, str, str]]] = {}
    for f in flows:
        d = out.get(f.uid)
        if d is not None and f.proto == "udp":
            seen.setdefault((f.orig_h, f.orig_p), []).append(
                (f.ts, f.ts + f.duration_s, d.app, f.uid)
            )
    for f in flows:
        if f.uid in out or f.proto != "udp" or f.resp_p in (53, 5353, 5355, 853):
            continue
        for start, end, app, uid in seen.get((f.orig_h, f.orig_p), []):
            if start - P2P_WINDOW_S <= f.ts <= end + P2P_WINDOW_S:
                out[f.uid] = AppDecision(
                    app,
                    f"same local port {f.orig_h}:{f.orig_p} as {app} "
                    f"flow {uid} (peer-to-peer media)",
                    p2p=True,
                )
                break


def _webrtc(f: Any, by_uid: Mapping[str, Mapping[str, list[Any]]]) -> bool:
    return bool(by_uid.get("stun", {}).get(f.uid)) and bool(by_uid.get("dtls", {}).get(f.uid))
