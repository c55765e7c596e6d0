"""The app registry: one :class:`AppProfile` per conferencing/messaging app, in one place.

Read by attribution (whose party a destination is: the app's owning entity and the same-parent
endpoints it uses as its own) and by assessment (vendor labels, STUN fingerprints, documented
encryption design). It imports neither stage, so data still flows one way.

Adding an app is one entry here plus its data rows (domains and ranges in ``inspector/data``).
An app's documented encryption design only shapes the wording and caveat of a verdict that the
packets already support; it never turns an unrecognised flow into an encrypted one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

__all__ = [
    "APPS",
    "META_MVFST_APP",
    "UNKNOWN_WEBRTC",
    "AppProfile",
    "app_named",
    "app_profile",
    "meta_mvfst_app",
    "profile",
    "profile_for_stun",
    "profile_for_vendor",
]

UNKNOWN_WEBRTC = "unknown WebRTC"
_MS_NEWS = "https://news.microsoft.com"


@dataclass(frozen=True, slots=True)
class AppProfile:
    name: str
    #: the parent entity that owns the app (``inspector.attribute.entities.ENTITIES`` name);
    #: "" when no owner is known (unknown WebRTC)
    entity: str = ""
    #: the source of the ownership fact
    entity_source: str = ""
    #: database ``vendor`` labels (prefix, lower case) that name the app
    vendors: tuple[str, ...] = ()
    #: substrings of a STUN ``vendor_hint`` that name the app
    stun_hints: tuple[str, ...] = ()
    #: same-parent tracking endpoints the app uses as its own: (suffix pattern, source)
    own_endpoints: tuple[tuple[str, str], ...] = ()
    #: other names of the app (lower case), e.g. "skype", "facebook messenger"
    aliases: tuple[str, ...] = ()
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
_META_GRAPH = (
    "graph.facebook.com",
    "Meta's Graph API is the platform API of Meta's own apps "
    "(https://developers.facebook.com/docs/graph-api/overview); Facebook's apps reach it over "
    "QUIC in nDPI quic-mvfst-22.pcap / quic-mvfst-27.pcapng",
)
_MS_TELEMETRY = tuple(
    (
        p,
        "Microsoft's own telemetry/crash service used by Microsoft's apps for themselves "
        f"(Application Insights, App Center/HockeyApp; {p} seen from Teams in nDPI teams.pcap "
        "where listed)",
    )
    for p in (
        "dc.applicationinsights.microsoft.com",
        "dc.services.visualstudio.com",
        "applicationinsights.azure.com",
        "hockeyapp.net",
        "appcenter.ms",
    )
)

APPS: tuple[AppProfile, ...] = (
    AppProfile(
        "Zoom",
        "Zoom",
        "https://investors.zoom.us/",
        ("zoom",),
        ("zoom",),
        key_caveat=ZOOM_CAVEAT,
    ),
    AppProfile(
        "Microsoft Teams/Skype",
        "Microsoft",
        "https://www.microsoft.com/en-us/microsoft-teams ; Skype: "
        f"{_MS_NEWS}/2011/10/13/microsoft-officially-welcomes-skype/",
        ("microsoft teams", "teams", "skype"),
        ("microsoft", "teams", "skype"),
        _MS_TELEMETRY,
        ("microsoft teams", "teams", "skype"),
        keys_via_signalling=True,
    ),
    AppProfile("Webex", "Cisco", "https://www.webex.com/ (Webex by Cisco)", ("webex",)),
    AppProfile(
        "Google Meet",
        "Alphabet",
        "https://meet.google.com/ (Google LLC)",
        ("google meet", "google"),
        ("google",),
        aliases=("meet",),
        e2e_design="Google Meet Help (calling features from Duo): 1:1 calls in the Meet app are "
        "end-to-end encrypted by default; meetings are not, so this applies only to a direct "
        "call between two devices",
    ),
    AppProfile(
        "Jitsi", "8x8", "https://jitsi.org/ (meet.jit.si and JaaS are run by 8x8)", ("jitsi",)
    ),
    AppProfile(
        "Slack", "Salesforce", "https://slack.com/ (Slack, a Salesforce company)", ("slack",)
    ),
    AppProfile("Discord", "Discord", "https://discord.com/company", ("discord",), ("discord",)),
    AppProfile(
        "WhatsApp",
        "Meta",
        "https://about.meta.com/technologies/whatsapp/",
        ("whatsapp",),
        ("whatsapp",),
        (_META_GRAPH,),
        e2e_design="WhatsApp's encryption overview: the caller sends a random SRTP master secret "
        "inside an end-to-end encrypted Signal-protocol message",
    ),
    AppProfile(
        "Signal",
        "Signal",
        "https://signal.org/",
        ("signal",),
        ("signal",),
        e2e_design="Signal's RingRTC derives SRTP keys from a Diffie-Hellman exchange between "
        "the two phones (signalapp/ringrtc core/signaling.rs)",
    ),
    AppProfile(
        "FaceTime",
        "Apple",
        "https://support.apple.com/facetime",
        ("facetime", "apns"),
        e2e_design="Apple Platform Security: FaceTime keys are exchanged between devices via IDS",
    ),
    AppProfile(
        "Telegram",
        "Telegram",
        "https://telegram.org/faq",
        ("telegram",),
        ("telegram",),
        e2e_design="Telegram API documentation (core.telegram.org/api/end-to-end/voice-calls): "
        "one-to-one calls derive their key from a Diffie-Hellman exchange between the two "
        "clients, checked by comparing emoji",
    ),
    AppProfile(
        "Messenger",
        "Meta",
        "https://about.meta.com/technologies/messenger/",
        ("messenger", "facebook"),
        ("facebook", "messenger"),
        (_META_GRAPH,),
        ("facebook messenger",),
        e2e_design="Meta's Messenger end-to-end encryption whitepaper (December 2023): personal "
        "calls and one-to-one messages are end-to-end encrypted by default",
    ),
    AppProfile(
        "Viber",
        "Rakuten",
        "https://www.viber.com/en/about/ (Rakuten Viber)",
        ("viber",),
        ("viber",),
        e2e_design="Viber Encryption Overview: one-to-one calls are end-to-end encrypted with keys "
        "derived on the two devices",
    ),
    AppProfile("LINE", "LY Corporation", "https://www.lycorp.co.jp/en/", ("line",)),
    AppProfile("Threema", "Threema", "https://threema.ch/en/about", ("threema",)),
    AppProfile(
        "WeChat",
        "Tencent",
        "https://www.tencent.com/en-us/business.html",
        ("wechat", "weixin"),
        aliases=("weixin",),
    ),
    AppProfile(UNKNOWN_WEBRTC),
)
#: The client of a flow offering Meta's mvfst QUIC versions: one of Meta's apps (Facebook,
#: Instagram, Messenger, WhatsApp), which one is not on the wire. Not a conferencing app of its
#: own, so not in :data:`APPS`: it exists only as a flow's client fingerprint.
META_MVFST_APP = AppProfile(
    "Meta app (mvfst QUIC)",
    "Meta",
    "https://github.com/facebook/mvfst (Meta's QUIC implementation, used in Meta's apps)",
    own_endpoints=(_META_GRAPH,),
)
_BY_NAME = {p.name: p for p in APPS}


def meta_mvfst_app() -> AppProfile:
    return META_MVFST_APP


def profile(name: str) -> AppProfile | None:
    """The profile of app ``name`` (or of :data:`META_MVFST_APP`); None for "" or unknown."""
    return _BY_NAME.get(name) or (META_MVFST_APP if name == META_MVFST_APP.name else None)


def profile_for_vendor(vendor: str) -> AppProfile | None:
    """The app a database vendor label ("Microsoft Teams / Office", "Jitsi Meet"...) names."""
    v = vendor.lower()
    if not v:
        return None
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


@functools.cache
def _alias_index() -> dict[str, AppProfile]:
    out: dict[str, AppProfile] = {}
    for app in APPS:
        for key in (app.name, *app.aliases):
            out[key.lower()] = app
    return out


def app_named(name: str) -> AppProfile | None:
    """The profile whose name or alias is exactly ``name`` (case-insensitive), else None."""
    return _alias_index().get(name.strip().lower())


def app_profile(name: str) -> AppProfile | None:
    """The profile of an app name, an alias or a database ``vendor`` label ("Skype")."""
    key = name.strip().lower()
    if not key:
        return None
    index = _alias_index()
    found = index.get(key) or index.get(re.sub(r"\s*\(.*\)$", "", key))
    return found or profile_for_vendor(key)
