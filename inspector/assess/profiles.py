"""One :class:`AppProfile` per conferencing app: everything the tool knows about it, in one place.

Adding an app is one entry here plus its data rows (domains and ranges in ``inspector/data``).
An app's documented encryption design only shapes the wording and caveat of a verdict that the
packets already support; it never turns an unrecognised flow into an encrypted one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPS",
    "UNKNOWN_WEBRTC",
    "AppProfile",
    "profile",
    "profile_for_stun",
    "profile_for_vendor",
]

UNKNOWN_WEBRTC = "unknown WebRTC"


@dataclass(frozen=True, slots=True)
class AppProfile:
    name: str
    #: organisations whose infrastructure counts as first party for the app
    owners: tuple[str, ...]
    #: database ``vendor`` labels (prefix, lower case) that name the app
    vendors: tuple[str, ...] = ()
    #: substrings of a STUN ``vendor_hint`` that name the app
    stun_hints: tuple[str, ...] = ()
    #: documented end-to-end media key design, with its source; "" when none is documented
    e2e_design: str = ""
    #: the vendor's documented caveat about who holds media keys (shapes wording only)
    key_caveat: str = ""
    #: media normally keyed through the vendor's signalling (no DTLS on the media path)
    keys_via_signalling: bool = False


ZOOM_CAVEAT = (
    "Zoom documents AES-256-GCM with a meeting key generated and held by Zoom's servers unless "
    "the meeting uses Zoom's E2EE, which looks the same on the wire: no end-to-end claim can be "
    "made from the network. P2P does not mean end-to-end."
)

APPS: tuple[AppProfile, ...] = (
    AppProfile("Zoom", ("Zoom",), ("zoom",), ("zoom",), key_caveat=ZOOM_CAVEAT),
    AppProfile(
        "Microsoft Teams/Skype",
        ("Microsoft", "Skype"),
        ("microsoft teams", "teams", "skype"),
        ("microsoft", "teams", "skype"),
        keys_via_signalling=True,
    ),
    AppProfile("Webex", ("Cisco", "Webex"), ("webex",)),
    AppProfile(
        "Google Meet",
        ("Google",),
        ("google meet", "google"),
        ("google",),
        e2e_design="Google Meet Help (calling features from Duo): 1:1 calls in the Meet app are "
        "end-to-end encrypted by default; meetings are not, so this applies only to a direct "
        "call between two devices",
    ),
    AppProfile("Jitsi", ("8x8", "Jitsi"), ("jitsi",)),
    AppProfile("Slack", ("Slack", "Salesforce"), ("slack",)),
    AppProfile("Discord", ("Discord",), ("discord",)),
    AppProfile(
        "WhatsApp",
        ("WhatsApp", "Meta", "Facebook"),
        ("whatsapp",),
        ("whatsapp",),
        e2e_design="WhatsApp's encryption overview: the caller sends a random SRTP master secret "
        "inside an end-to-end encrypted Signal-protocol message",
    ),
    AppProfile(
        "Signal",
        ("Signal",),
        ("signal",),
        ("signal",),
        e2e_design="Signal's RingRTC derives SRTP keys from a Diffie-Hellman exchange between "
        "the two phones (signalapp/ringrtc core/signaling.rs)",
    ),
    AppProfile(
        "FaceTime",
        ("Apple",),
        ("facetime", "apns"),
        e2e_design="Apple Platform Security: FaceTime keys are exchanged between devices via IDS",
    ),
    AppProfile("Telegram", ("Telegram",), ("telegram",), ("telegram",)),
    AppProfile(
        "Messenger", ("Meta", "Facebook"), ("messenger", "facebook"), ("facebook", "messenger")
    ),
    AppProfile("Viber", ("Viber", "Rakuten"), ("viber",), ("viber",)),
    AppProfile(UNKNOWN_WEBRTC, ()),
)
_BY_NAME = {p.name: p for p in APPS}


def profile(name: str) -> AppProfile | None:
    """The profile of app ``name``; None for "" or an unknown name."""
    return _BY_NAME.get(name)


def profile_for_vendor(vendor: str) -> AppProfile | None:
    """The app a database vendor label ("Microsoft Teams / Office", "Jitsi Meet"...) names."""
    v = vendor.lower()
    for p in APPS:
        if any(v.startswith(k) for k in p.vendors):
            return p
    return None


def profile_for_stun(hint: str) -> AppProfile | None:
    """The app a STUN vendor fingerprint names."""
    h = hint.lower()
    for p in APPS:
        if any(k in h for k in p.stun_hints):
            return p
    return None
