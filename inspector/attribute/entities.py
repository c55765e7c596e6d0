"""Who owns an endpoint, who merely hosts it, and whose party it is for the app that reached it.

Three pure pieces, each a table with its sources, over the bundled database
(:mod:`inspector.attribute.database`):

* :func:`entity_of` (organisation -> parent entity): Meta owns Facebook, Instagram, WhatsApp and
  Messenger; Alphabet owns Google, YouTube, Firebase and DoubleClick; Microsoft owns LinkedIn,
  Skype, Bing and GitHub... (:data:`ENTITIES`). An organisation outside the table is its own
  entity.
* :func:`describe_endpoint` (host name + address -> :class:`Endpoint`): the owner comes from the
  name when the database knows it, else from the address; a hosting provider's customer namespace
  or range (AWS, Azure, Google Cloud, Cloudflare, Akamai, Fastly...) only gives ``host``
  ("hosted on X"), never the owner.
* :func:`party_of` (app + endpoint -> :class:`PartyDecision`): first party, third party or
  unknown, decided per flow with the flow's own app by the ordered rules :data:`PARTY_RULES`.

**Same parent, separate ad/analytics business.** A destination is first party when its entity is
the app's entity, with one exception: an advertising, analytics, attribution, crash-reporting,
social-SDK, feature-flag or customer-support endpoint (:data:`TRACKING_CATEGORIES`) is third
party even under the app's own parent, unless the app's vendor uses it as its own telemetry
(:attr:`AppProfile.own_endpoints`, each with its source). Reason: those endpoints belong to a
business line that collects data across unrelated apps and sites (DoubleClick, Google Analytics,
Firebase, LinkedIn and Bing ads); a Meet session reaching doubleclick.net feeds Google's ad
business, not the Meet service, which is what a reader of "third party" needs to know. Where the
parent's own app uses such an endpoint as its product's backend or own telemetry (Meta's apps
calling graph.facebook.com, Microsoft's apps reporting to Application Insights), the vendor's
documentation or the captures say so and the endpoint is listed in :data:`APPS` with that source.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from inspector.apps import APPS, META_MVFST_APP, AppProfile, app_profile, profile_for_vendor
from inspector.attribute.database import (
    THIRD_PARTY_CATEGORIES,
    Database,
    DomainMatch,
    RangeMatch,
    normalise_name,
)
from inspector.vocab import Party

__all__ = [
    "ENTITIES",
    "PARTY_RULES",
    "TRACKING_CATEGORIES",
    "Endpoint",
    "Entity",
    "Party",
    "PartyDecision",
    "PartyRule",
    "decide_party",
    "describe_endpoint",
    "entity_of",
    "party_of",
    "party_rules_markdown",
]


#: Categories of a business that collects data across apps: third party even under the app's
#: own parent unless the app lists the endpoint as its own (see the module docstring).
TRACKING_CATEGORIES = frozenset(THIRD_PARTY_CATEGORIES) - {"cdn_cloud", "os_services"}


@dataclass(frozen=True, slots=True)
class Entity:
    """A parent company and the organisation names (lower-case heads) that belong to it."""

    name: str
    legal_name: str
    aliases: tuple[str, ...]
    source: str


_MS_NEWS = "https://news.microsoft.com"
#: Parent entities, each with the source of its ownership facts.
ENTITIES: tuple[Entity, ...] = (
    Entity(
        "Meta",
        "Meta Platforms, Inc.",
        ("meta platforms", "meta", "facebook", "instagram", "whatsapp", "messenger", "threads"),
        "https://about.meta.com/technologies/ (Meta's technologies: Facebook, Instagram, "
        "Messenger, WhatsApp, Threads)",
    ),
    Entity(
        "Alphabet",
        "Alphabet Inc.",
        ("alphabet", "google", "youtube", "firebase", "doubleclick", "admob", "google cloud"),
        "https://abc.xyz/investor/ (Alphabet 10-K: Google Services incl. YouTube; Google Cloud) ; "
        "DoubleClick acquisition closed 11 Mar 2008 (https://googlepress.blogspot.com/2008/03/"
        "google-closes-acquisition-of-doubleclick_11.html) ; Firebase joined Google in Oct 2014 "
        "(https://firebase.blog/posts/2014/10/firebase-is-joining-google)",
    ),
    Entity(
        "Microsoft",
        "Microsoft Corporation",
        (
            *("microsoft", "linkedin", "skype", "github", "bing", "azure", "microsoft azure"),
            *("hockeyapp", "visual studio app center"),
        ),
        f"LinkedIn: {_MS_NEWS}/2016/12/08/microsoft-completes-acquisition-of-linkedin/ ; "
        f"Skype: {_MS_NEWS}/2011/10/13/microsoft-officially-welcomes-skype/ ; "
        f"GitHub: {_MS_NEWS}/2018/10/26/microsoft-completes-github-acquisition/ ; "
        "Bing, Azure, HockeyApp/App Center: Microsoft products (Microsoft 10-K, "
        "https://www.microsoft.com/en-us/investor)",
    ),
    Entity(
        "Amazon",
        "Amazon.com, Inc.",
        ("amazon", "amazon.com", "amazon web services", "aws"),
        "https://ir.aboutamazon.com/ (Amazon 10-K: AWS segment)",
    ),
    Entity("Apple", "Apple Inc.", ("apple",), "https://investor.apple.com/ (Apple 10-K)"),
    Entity(
        "Cisco",
        "Cisco Systems, Inc.",
        ("cisco", "cisco systems", "webex", "appdynamics", "opendns", "slido"),
        "https://www.cisco.com/c/en/us/about/corporate-strategy-office/acquisitions.html "
        "(Cisco acquisitions: WebEx 2007, OpenDNS 2015, AppDynamics 2017, Slido 2021)",
    ),
    Entity(
        "Zoom",
        "Zoom Communications, Inc.",
        ("zoom", "zoom communications", "zoom video communications"),
        "https://investors.zoom.us/ (Zoom Communications, Inc., formerly Zoom Video "
        "Communications)",
    ),
    Entity(
        "Salesforce",
        "Salesforce, Inc.",
        ("salesforce", "slack", "slack technologies", "heroku"),
        "https://investor.salesforce.com/ (Salesforce completed its acquisition of Slack on "
        "21 Jul 2021; Heroku since 2010)",
    ),
    Entity(
        "8x8",
        "8x8, Inc.",
        ("8x8", "jitsi"),
        "https://investors.8x8.com/ (8x8 acquired Jitsi from Atlassian in Oct 2018; runs "
        "meet.jit.si and JaaS)",
    ),
    Entity("Discord", "Discord Inc.", ("discord",), "https://discord.com/company"),
    Entity(
        "Signal",
        "Signal Messenger LLC",
        ("signal", "signal messenger", "open whisper systems", "whispersystems"),
        "https://signal.org/ (Signal Messenger LLC, part of the Signal Technology Foundation)",
    ),
    Entity(
        "Telegram",
        "Telegram Messenger Inc",
        ("telegram", "telegram messenger"),
        "https://telegram.org/faq (Telegram is run by Telegram FZ-LLC / Telegram Messenger Inc)",
    ),
    Entity(
        "Rakuten",
        "Rakuten Group, Inc.",
        ("rakuten", "viber", "viber media"),
        "https://global.rakuten.com/corp/news/press/2014/0214_01.html (Rakuten acquires Viber, "
        "Feb 2014)",
    ),
    Entity(
        "Tencent",
        "Tencent Holdings Ltd.",
        ("tencent", "wechat", "qq"),
        "https://www.tencent.com/en-us/business.html (Weixin/WeChat, QQ)",
    ),
    Entity(
        "LY Corporation",
        "LY Corporation",
        ("ly corporation", "line"),
        "https://www.lycorp.co.jp/en/ (LINE Yahoo: LY Corporation runs LINE)",
    ),
    Entity("Threema", "Threema GmbH", ("threema",), "https://threema.ch/en/about"),
    Entity(
        "ByteDance",
        "ByteDance Ltd.",
        ("bytedance", "tiktok"),
        "https://www.bytedance.com/en/ (TikTok)",
    ),
    Entity("X Corp.", "X Corp.", ("x corp", "twitter"), "https://about.x.com/"),
    Entity(
        "Alibaba",
        "Alibaba Group Holding Ltd.",
        ("alibaba", "alibaba group", "alibaba cloud", "umeng"),
        "https://www.alibabagroup.com/en-US/ (Alibaba Cloud; Umeng is Alibaba's analytics)",
    ),
    Entity(
        "Twilio",
        "Twilio Inc.",
        ("twilio", "segment"),
        "https://investors.twilio.com/ (Twilio completed its acquisition of Segment, Nov 2020)",
    ),
    Entity(
        "AppLovin",
        "AppLovin Corporation",
        ("applovin", "adjust"),
        "https://investors.applovin.com/ (AppLovin acquired Adjust, 2021)",
    ),
)


@functools.cache
def _alias_index() -> dict[str, Entity]:
    return {alias: e for e in ENTITIES for alias in e.aliases}


_LEGAL = re.compile(
    r"\b(inc|llc|ltd|limited|corp|corporation|gmbh|plc|sa|sas|se|ag|ab|co|company|holdings|"
    r"group|s\.a r\.l|b\.v)\b\.?",
)


def _head(organisation: str) -> str:
    """``"Meta Platforms, Inc. (WhatsApp)"`` -> ``"meta platforms"``."""
    head = organisation.split("(")[0].split(",")[0].lower()
    head = _LEGAL.sub(" ", head)
    return " ".join(head.replace(".", " ").split()) if head.strip() else ""


@functools.lru_cache(maxsize=4096)
def entity_of(organisation: str) -> Entity | None:
    """The parent entity of ``organisation`` (a database ``organisation`` value), or None for "".

    Tried in order: the name before any comma or bracket (legal suffixes dropped), its first word,
    then the bracketed part (``"LinkedIn (Microsoft)"``). An organisation outside :data:`ENTITIES`
    is its own entity, with that fact as its source.
    """
    org = organisation.strip()
    if not org:
        return None
    index = _alias_index()
    head = _head(org)
    inner = org[org.find("(") + 1 : org.rfind(")")] if "(" in org and ")" in org else ""
    for key in (head, head.split(" ")[0] if head else "", _head(inner)):
        if key and key in index:
            return index[key]
    name = org.split("(")[0].strip().rstrip(",") or org
    return Entity(name, name, (head,), "organisation named by the database row (no parent known)")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What the database says about one destination (a host name and/or an address)."""

    name: str
    owner: str  #: organisation that operates it; "" when unknown (hosting alone is not owning)
    entity: str  #: the owner's parent entity (:func:`entity_of`); "" when no owner
    category: str
    vendor: str  #: the app whose own infrastructure the matched row is; "" otherwise
    sdk_name: str
    host: str  #: hosting provider ("" when none is known)
    owner_from: str  #: "name", "address" or ""
    pattern: str  #: the matched pattern or network of the owner row ("" when none)
    source: str  #: sources of the rows used, "domain <pattern>: ..." / "range <net>: ..."
    date: str = ""

    @property
    def hosted_on(self) -> str:
        """``"hosted on Amazon Web Services (customers)"``, or "" when no host is known."""
        return f"hosted on {self.host}" if self.host else ""


def _hosting_row(
    by_name: DomainMatch | None, by_addr: RangeMatch | None
) -> DomainMatch | RangeMatch | None:
    """The hosting provider's row (name namespace first, then customer range), if any."""
    if by_name is not None and by_name.hosting:
        return by_name
    if by_addr is not None and by_addr.hosting:
        return by_addr
    return None


def _owner_row(
    by_name: DomainMatch | None, by_addr: RangeMatch | None
) -> tuple[DomainMatch | RangeMatch | None, str]:
    """The row that names the owner (not a hosting row), name first, and where it came from."""
    if by_name is not None and not by_name.hosting:
        return by_name, "name"
    if by_addr is not None and not by_addr.hosting:
        return by_addr, "address"
    return None, ""


def describe_endpoint(db: Database, name: str, addr: str) -> Endpoint:
    """Owner, parent entity, category and host of the destination ``name`` / ``addr``.

    The name decides the owner when the database knows it (a certificate wildcard ``*.`` is
    dropped); otherwise the address does. Hosting rows (name namespaces or customer ranges) only
    fill ``host``. Pure: the same inputs give the same Endpoint.
    """
    clean = normalise_name(name.removeprefix("*.")) if name else ""
    by_name = db.lookup_domain(clean) if clean else None
    by_addr = db.lookup_ip(addr) if addr else None
    hosting = _hosting_row(by_name, by_addr)
    host = hosting.organisation if hosting is not None else ""
    sources = " | ".join(
        f"{'domain' if hit is by_name else 'range'} {hit.pattern}: {hit.source}"
        for hit in (by_name, by_addr)
        if hit is not None
    )
    row, owner_from = _owner_row(by_name, by_addr)
    if row is None:
        category = hosting.category if hosting is not None else "unknown"
        return Endpoint(clean, "", "", category, "", "", host, "", "", sources)
    entity = entity_of(row.organisation)
    return Endpoint(
        name=clean,
        owner=row.organisation,
        entity=entity.name if entity else "",
        category=row.category,
        vendor=row.vendor,
        sdk_name=row.sdk_name if isinstance(row, DomainMatch) else "",
        host=host,
        owner_from=owner_from,
        pattern=row.pattern,
        source=sources,
        date=row.date,
    )


@dataclass(frozen=True, slots=True)
class PartyDecision:
    party: Party
    rule: str  #: the :data:`PARTY_RULES` row that decided
    reason: str


def _own_endpoint(app: AppProfile, ep: Endpoint) -> str:
    """The source when ``ep`` is one of the app's own same-parent endpoints, else ""."""
    for pattern, source in app.own_endpoints:
        for candidate in (ep.name, ep.pattern):
            if candidate == pattern or candidate.endswith("." + pattern):
                return source
    return ""


@dataclass(frozen=True, slots=True)
class PartyRule:
    """One row of the party decision table: predicate -> outcome, with its documentation."""

    name: str
    applies: Callable[[AppProfile | None, Endpoint], bool]
    party: Party
    doc: str


def _own_by_any(ep: Endpoint) -> bool:
    """True when some app (or Meta's mvfst client) lists ``ep`` among its own endpoints."""
    return any(_own_endpoint(app, ep) for app in (*APPS, META_MVFST_APP))


def _vendor_is_app(app: AppProfile | None, ep: Endpoint) -> bool:
    return app is not None and bool(ep.vendor) and profile_for_vendor(ep.vendor) is app


#: Ordered: the first rule whose predicate holds decides.
PARTY_RULES: tuple[PartyRule, ...] = (
    PartyRule(
        "no-owner",
        lambda app, ep: not ep.owner or not ep.entity,
        Party.UNKNOWN,
        "Nobody is known to own the destination (a hosting provider alone is not an owner: "
        "'hosted on X').",
    ),
    PartyRule(
        "tracking-for-any-app",
        lambda app, ep: app is None and ep.category in TRACKING_CATEGORIES and not _own_by_any(ep),
        Party.THIRD,
        "The flow's own app is not known, but the destination is an advertising/analytics/SDK "
        "endpoint that no app uses as its own: by the rules below it is third party for every "
        "app, its own parent's included.",
    ),
    PartyRule(
        "no-app",
        lambda app, ep: app is None,
        Party.UNKNOWN,
        "The flow's own app is not known (no vendor evidence and no client fingerprint on the "
        "flow; the session's app does not count): no party can be decided.",
    ),
    PartyRule(
        "vendor-row",
        _vendor_is_app,
        Party.FIRST,
        "The matched row is one of the app vendor's own published domains or ranges.",
    ),
    PartyRule(
        "own-endpoint",
        lambda app, ep: app is not None and bool(_own_endpoint(app, ep)),
        Party.FIRST,
        "A same-parent tracking endpoint the app uses as its own (AppProfile.own_endpoints, "
        "each with its source).",
    ),
    PartyRule(
        "other-entity",
        lambda app, ep: app is not None and ep.entity != app.entity,
        Party.THIRD,
        "The destination's parent entity is not the app's.",
    ),
    PartyRule(
        "same-parent-tracking",
        lambda app, ep: ep.category in TRACKING_CATEGORIES,
        Party.THIRD,
        "Same parent, but an advertising/analytics/SDK business that collects across apps "
        "(DoubleClick or Google Analytics in Google Meet).",
    ),
    PartyRule(
        "same-entity",
        lambda app, ep: True,
        Party.FIRST,
        "The destination's parent entity is the app's (Meta's edge-mqtt.facebook.com for "
        "Messenger).",
    ),
)


def party_rules_markdown() -> str:
    """The rule table as the Markdown that docs/attribution-database.md embeds."""
    rows = [
        "Ordered rules (`PARTY_RULES`; the first that holds decides; generated from the table):",
        "",
        "| # | rule | party | when |",
        "| ---: | --- | --- | --- |",
    ]
    for i, rule in enumerate(PARTY_RULES, 1):
        rows.append(f"| {i} | `{rule.name}` | {rule.party.value} | {rule.doc} |")
    return "\n".join(rows)


def party_of(app: str, endpoint: Endpoint) -> PartyDecision:
    """First, third or unknown party of ``endpoint`` for the flow's own ``app`` (tool app name or
    a vendor label); never the session's app unless that is the flow's."""
    return decide_party(app_profile(app) if app else None, endpoint)


def decide_party(profile: AppProfile | None, endpoint: Endpoint) -> PartyDecision:
    """:func:`party_of` for an app profile (None: the flow's own app is unknown)."""
    if profile is not None and not profile.entity:
        profile = None  # an app with no known owner (unknown WebRTC): no party
    for rule in PARTY_RULES:
        if rule.applies(profile, endpoint):
            return PartyDecision(rule.party, rule.name, _reason(rule, profile, endpoint))
    raise AssertionError("the last party rule always applies")  # pragma: no cover


def _reason(rule: PartyRule, app: AppProfile | None, ep: Endpoint) -> str:
    who = ep.owner or "unknown owner"
    if ep.host:
        who += f", {ep.hosted_on}"
    if rule.name == "tracking-for-any-app":
        return f"{who}: {ep.category} endpoint, third party whichever app reached it"
    if rule.name == "no-owner":
        hosted = f" ({ep.hosted_on})" if ep.host else ""
        return f"{ep.name or 'destination'}: owner unknown{hosted}"
    if app is None:
        return f"{who}: the flow's own app is unknown"
    if rule.name == "vendor-row":
        return f"{who}: {app.name}'s own infrastructure ({ep.pattern})"
    if rule.name == "own-endpoint":
        what = ep.pattern or ep.name
        return f"{who}: {app.name} uses {what} as its own ({_own_endpoint(app, ep)})"
    if rule.name == "other-entity":
        return f"{who} (parent {ep.entity}) does not own {app.name} (parent {app.entity})"
    if rule.name == "same-parent-tracking":
        return (
            f"{who}: {ep.category} business of {ep.entity}, which also owns {app.name}; "
            "data goes to the parent's ad/analytics business, not the app's service"
        )
    return f"{who}: part of {ep.entity}, which owns {app.name}"
