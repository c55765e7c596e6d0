"""nDPI prefixes and host patterns -> the bundled ``ndpi_ranges.csv`` and ``ndpi_hosts.csv``.

Input: ``../shared/reference/ndpi/`` (``prefixes.csv``, ``hosts.csv``, ``COPYING.LGPL-3.0``), facts
extracted from nDPI at commit 3b1286ab (2024-10-21), LGPL-3.0. The outputs are separate data files
that start with the LGPL-3.0 notice (``#`` lines) and name nDPI as the source of every row; the
licence text is copied beside them (``NDPI-COPYING.LGPL-3.0``).

Rules (each a table below, with its reason):

* :data:`PREFIX_SERVICES`: nDPI service -> organisation, vendor (the conferencing/messaging app
  whose own servers these are, when the list is that vendor's), category, hosting. Cloud customer
  ranges (AWS, Azure, Google Cloud, Cloudflare, Alibaba Cloud) are ``hosting``: an address there
  is "hosted on X", X is never the owner of what it serves. iCloud Private Relay egress and Tor
  exit nodes are not bundled: they are where other users' traffic leaves, not servers a client
  contacts for a service.
* A prefix inside (or equal to) a network of the project's own ``vendors.csv`` is dropped: the
  project's sourced row speaks for the whole block. Between nDPI services, an identical network
  keeps the vendor-published list of an app vendor (:data:`PREFERRED`), else the first.
* :data:`HOST_ORGS` / :func:`host_category`: nDPI host service -> organisation and category. nDPI's
  categories describe a service, not whether a connection is telemetry, so almost everything is
  ``online_service``; only Crashlytics, Yandex Metrica, OCSP, connectivity checks, OS update and
  cloud hosting rows get a more specific category. Pattern forms: ``x.`` -> ``stem``, ``x-`` ->
  ``label_prefix``, ``.x`` and plain -> ``suffix``; patterns starting with ``-`` (a match inside
  a label) are not bundled.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

NDPI_DIR = "ndpi"
PREFIXES = "prefixes.csv"
HOSTS = "hosts.csv"
LICENCE = "COPYING.LGPL-3.0"
LICENCE_OUT = "NDPI-COPYING.LGPL-3.0"
NOTICE = (
    "# Derived from nDPI (https://github.com/ntop/nDPI) commit 3b1286ab (2024-10-21),\n"
    "# src/lib/ndpi_content_match.c.inc and its address lists; licensed LGPL-3.0, see\n"
    "# NDPI-COPYING.LGPL-3.0 beside this file. Built by scripts/build_database.py; the rest of\n"
    "# the package keeps its own licence. Every row names its source.\n"
)
RANGE_COLUMNS = (
    "network",
    "organisation",
    "vendor",
    "role",
    "source",
    "category",
    "hosting",
    "date",
)
HOST_COLUMNS = (
    "pattern",
    "match",
    "organisation",
    "category",
    "vendor",
    "sdk_name",
    "source",
    "hosting",
    "date",
)


@dataclass(frozen=True, slots=True)
class PrefixRule:
    organisation: str
    vendor: str = ""
    category: str = "online_service"
    hosting: bool = False


_MS = "Microsoft Corporation"
#: nDPI prefix service -> what an address there says. None: not bundled (reason in the docstring).
PREFIX_SERVICES: dict[str, PrefixRule | None] = {
    "amazon_aws": PrefixRule("Amazon Web Services (customers)", "", "cdn_cloud", True),
    "azure": PrefixRule("Microsoft Azure (customers)", "", "cdn_cloud", True),
    "google_cloud": PrefixRule("Google Cloud (customers)", "", "cdn_cloud", True),
    "cloudflare": PrefixRule("Cloudflare, Inc.", "", "cdn_cloud", True),
    # Alibaba's ASes are Alibaba Cloud's (Aliyun) networks: customers' servers.
    "alibaba": PrefixRule("Alibaba Cloud (Alibaba Group)", "", "cdn_cloud", True),
    "icloud_private_relay": None,
    "tor": None,
    "apple": PrefixRule("Apple Inc."),
    "facebook": PrefixRule("Meta Platforms, Inc."),
    "whatsapp": PrefixRule("Meta Platforms, Inc. (WhatsApp)", "WhatsApp", "first-party signalling"),
    "zoom": PrefixRule("Zoom Communications, Inc.", "Zoom", "first-party signalling"),
    "webex": PrefixRule("Cisco Systems, Inc. (Webex)", "Webex", "first-party signalling"),
    "ms_skype_teams": PrefixRule(
        "Microsoft Corporation (Skype/Teams)", "Microsoft Teams", "first-party signalling"
    ),
    "ms_office365": PrefixRule(f"{_MS} (Microsoft 365)"),
    "ms_outlook": PrefixRule(f"{_MS} (Outlook)"),
    "ms_onedrive": PrefixRule(f"{_MS} (OneDrive)"),
    "google": PrefixRule("Google LLC"),
    "telegram": PrefixRule("Telegram Messenger Inc", "Telegram", "first-party signalling"),
    # nDPI lists AS49544 for Discord voice; to our knowledge (not re-checked) that AS is i3D.net
    # hosting shared with other tenants: it names the owner nDPI gives, but is no app evidence.
    "discord": PrefixRule("Discord Inc."),
    "line": PrefixRule("LY Corporation (LINE)", "LINE", "first-party signalling"),
    "threema": PrefixRule("Threema GmbH", "Threema", "first-party signalling"),
    "tencent": PrefixRule("Tencent Holdings Ltd."),
    "opendns": PrefixRule("Cisco Systems, Inc. (OpenDNS)"),
    "teamviewer": PrefixRule("TeamViewer SE"),
    "goto": PrefixRule("GoTo Group, Inc."),
    "vk": PrefixRule("VK"),
    "yandex": PrefixRule("Yandex"),
    "twitter": PrefixRule("X Corp."),
    "dropbox": PrefixRule("Dropbox, Inc."),
}
#: Identical networks listed by several nDPI services: the app vendor's own list wins.
PREFERRED = ("whatsapp", "zoom", "ms_skype_teams", "webex", "telegram")

#: nDPI host service -> organisation (others keep nDPI's service name as the organisation).
HOST_ORGS: dict[str, str] = {
    **dict.fromkeys(
        ("Facebook", "FacebookMessenger", "FbookReelStory", "Instagram", "Threads"),
        "Meta Platforms, Inc.",
    ),
    **dict.fromkeys(("WhatsApp", "WhatsAppFiles"), "Meta Platforms, Inc. (WhatsApp)"),
    **dict.fromkeys(
        (
            "Google",
            "GoogleServices",
            "GoogleMaps",
            "GoogleDocs",
            "GoogleDrive",
            "GoogleMeet",
            "GoogleChat",
            "GoogleClassroom",
            "GMail",
            "PlayStore",
            "DataSaver",
            "YouTube",
            "YouTubeUpload",
            "Waze",
            "Crashlytics",
        ),
        "Google LLC (Alphabet)",
    ),
    "GoogleCloud": "Google Cloud (customers)",
    **dict.fromkeys(
        (
            "Microsoft",
            "Microsoft365",
            "Teams",
            "Skype_Teams",
            "Outlook",
            "MS_OneDrive",
            "WindowsUpdate",
            "Xbox",
            "Github",
            "LinkedIn",
            "Bing",
        ),
        _MS,
    ),
    "Azure": "Microsoft Azure (customers)",
    **dict.fromkeys(
        ("Apple", "ApplePush", "AppleSiri", "AppleStore", "AppleTVPlus", "AppleiCloud"),
        "Apple Inc.",
    ),
    "AppleiTunes": "Apple Inc.",
    "iCloudPrivateRelay": "Apple Inc.",
    **dict.fromkeys(("Amazon", "AmazonAlexa", "AmazonVideo"), "Amazon.com, Inc."),
    "AmazonAWS": "Amazon Web Services (customers)",
    "Cloudflare": "Cloudflare, Inc.",
    "CloudflareWarp": "Cloudflare, Inc.",
    "Zoom": "Zoom Communications, Inc.",
    "Webex": "Cisco Systems, Inc. (Webex)",
    "OpenDNS": "Cisco Systems, Inc. (OpenDNS)",
    "Slack": "Slack Technologies (Salesforce)",
    "Salesforce": "Salesforce, Inc.",
    "Discord": "Discord Inc.",
    "Telegram": "Telegram Messenger Inc",
    "Signal": "Signal Messenger LLC (Signal Foundation)",
    "Viber": "Viber Media S.a r.l. (Rakuten)",
    "Line": "LY Corporation (LINE)",
    **dict.fromkeys(("WeChat", "QQ", "Tencentvideo"), "Tencent Holdings Ltd."),
    **dict.fromkeys(("TikTok", "Likee"), "ByteDance Ltd."),
    "Twitter": "X Corp.",
    "Snapchat": "Snap Inc.",
    "Pinterest": "Pinterest, Inc.",
    "DropBox": "Dropbox, Inc.",
    "GoTo": "GoTo Group, Inc.",
    "Teamviewer": "TeamViewer SE",
    **dict.fromkeys(
        (
            "Yandex",
            "YandexCloud",
            "YandexDisk",
            "YandexMail",
            "YandexMarket",
            "YandexMetrika",
            "YandexMusic",
        ),
        "Yandex",
    ),
    "VK": "VK",
    "Wikipedia": "Wikimedia Foundation",
    "Mastodon": "Mastodon (federated servers)",
}
#: nDPI host service -> the app whose own servers the pattern names.
HOST_VENDORS: dict[str, str] = {
    "Zoom": "Zoom",
    "Webex": "Webex",
    "Teams": "Microsoft Teams",
    "Skype_Teams": "Microsoft Teams",
    "GoogleMeet": "Google Meet",
    "Slack": "Slack",
    "Discord": "Discord",
    "WhatsApp": "WhatsApp",
    "WhatsAppFiles": "WhatsApp",
    "FacebookMessenger": "Messenger",
    "Signal": "Signal",
    "Telegram": "Telegram",
    "Viber": "Viber",
    "Line": "LINE",
    "WeChat": "WeChat",
}
#: nDPI host services/categories with a more specific category than ``online_service``.
HOST_SERVICE_CATEGORY = {
    "Crashlytics": "crash_reporting",
    "YandexMetrika": "analytics",
    "OCSP": "os_services",
    "WindowsUpdate": "os_services",
}
HOST_CATEGORY = {"connectivity_check": "os_services", "cloud": "cdn_cloud"}
#: Cloud services whose names are customers' (``*.cloudapp.azure.com``): hosting rows.
HOSTING_SERVICES = frozenset({"AmazonAWS", "Azure", "GoogleCloud", "HuaweiCloud", "CacheFly"})
_PATTERN = re.compile(r"[a-z0-9_.-]+")


def read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def host_category(service: str, category: str) -> str:
    """Vocabulary category of an nDPI host row (service first, then nDPI's category)."""
    if service in HOST_SERVICE_CATEGORY:
        return HOST_SERVICE_CATEGORY[service]
    if service in HOST_VENDORS:
        # WhatsAppFiles: the media/file download hosts (mmg.whatsapp.net), not signalling
        return "first-party web" if service.endswith("Files") else "first-party signalling"
    return HOST_CATEGORY.get(category, "online_service")


def host_pattern(raw: str) -> tuple[str, str] | None:
    """``(pattern, match)`` of an nDPI host pattern, or None when it is not bundled."""
    p = raw.strip().lower()
    if not p or p.startswith("-") or not _PATTERN.fullmatch(p):
        return None
    if p.endswith("."):
        return p[:-1], "stem"
    if p.endswith("-"):
        return p, "label_prefix"
    return p.lstrip("."), "suffix"


def build_hosts(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], int]:
    """nDPI host rows -> ``ndpi_hosts.csv`` rows (first of a duplicate pattern wins); skipped."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    skipped = 0
    for r in rows:
        key = host_pattern(r["pattern"])
        if key is None:
            skipped += 1
            continue
        service = r["service"].strip()
        out.setdefault(
            key,
            {
                "pattern": key[0],
                "match": key[1],
                "organisation": HOST_ORGS.get(service, service),
                "category": host_category(service, r["category"].strip()),
                "vendor": HOST_VENDORS.get(service, ""),
                "sdk_name": f"{service} (nDPI service; nDPI category {r['category'].strip()})",
                "source": f"nDPI host_match '{r['pattern'].strip()}' -> {service}: "
                f"{r['source'].strip()}",
                "hosting": "true" if service in HOSTING_SERVICES else "false",
                "date": r["snapshot"].strip(),
            },
        )
    return [out[k] for k in sorted(out)], skipped


def _net(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(value.strip(), strict=False)


def build_prefixes(
    rows: list[dict[str, str]], project_networks: list[str]
) -> tuple[list[dict[str, str]], dict[str, int]]:
    """nDPI prefix rows -> ``ndpi_ranges.csv`` rows, and counts of what was left out and why."""
    project = [_net(n) for n in project_networks]
    counts: dict[str, int] = {}
    chosen: dict[str, tuple[int, dict[str, str]]] = {}
    for r in rows:
        service = r["service"].strip()
        if service not in PREFIX_SERVICES:
            raise ValueError(f"nDPI prefix service {service!r} has no rule in build_ndpi.py")
        rule = PREFIX_SERVICES[service]
        if rule is None:
            counts[f"not bundled: {service}"] = counts.get(f"not bundled: {service}", 0) + 1
            continue
        net = _net(r["prefix"])
        if any(net.version == p.version and net.subnet_of(p) for p in project):  # type: ignore[arg-type]
            counts["inside a vendors.csv network"] = (
                counts.get("inside a vendors.csv network", 0) + 1
            )
            continue
        rank = PREFERRED.index(service) if service in PREFERRED else len(PREFERRED)
        key = str(net)
        if key in chosen:
            counts["duplicate network"] = counts.get("duplicate network", 0) + 1
            if chosen[key][0] <= rank:
                continue
        chosen[key] = (
            rank,
            {
                "network": key,
                "organisation": rule.organisation,
                "vendor": rule.vendor,
                "role": f"nDPI {service}: {r['basis'].strip()}",
                "source": r["source"].strip(),
                "category": rule.category,
                "hosting": "true" if rule.hosting else "false",
                "date": r["snapshot"].strip(),
            },
        )
    order = sorted(chosen, key=lambda k: (_net(k).version, _net(k)))
    return [chosen[k][1] for k in order], counts
