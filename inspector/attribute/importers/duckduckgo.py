"""DuckDuckGo tracker data: the TDS blocklists and Tracker Radar entity/domain files.

Accepted shapes (all CC BY-NC-SA 4.0: load the user's copy, never bundle it):

* TDS, web or app (``tds.json``, ``android-tds.json``): ``trackers`` (``{host: {owner: {name,
  displayName}, default, categories?}}``), ``entities`` (``{name: {domains?: [...], ...}}``),
  ``domains`` (``{domain: entity name}``), and a ``version`` field (kept as the list version).
* A Tracker Radar entity file: ``{name, displayName, properties: [domains], prevalence}``.
* A Tracker Radar domain file: ``{domain, owner: {name}, categories: [...]}``.

DuckDuckGo strips subdomains until a ``trackers`` key matches, so entries are suffix entries.
Tracker categories are mapped to the vocabulary with :data:`CATEGORY_MAP`; domains known only
from ``entities``/``domains``/entity files carry the owner with category ``unknown``.
"""

from __future__ import annotations

from pathlib import Path

from inspector.attribute.database import UNKNOWN
from inspector.attribute.importers.base import (
    TrackerList,
    clean_domain,
    content_version,
    pick_category,
    read_json,
)
from inspector.errors import InputError

__all__ = ["CATEGORY_MAP", "load_duckduckgo"]

#: Tracker Radar category -> vocabulary; unlisted categories are "unknown".
CATEGORY_MAP = {
    "Advertising": "advertising",
    "Ad Motivated Tracking": "advertising",
    "Action Pixels": "advertising",
    "Analytics": "analytics",
    "Audience Measurement": "analytics",
    "Third-Party Analytics Marketing": "analytics",
    "Session Replay": "analytics",
    "Tag Manager": "analytics",
    "Social Network": "social_sdk",
    "Social - Share": "social_sdk",
    "Social - Comment": "social_sdk",
    "Federated Login": "social_sdk",
    "SSO": "social_sdk",
    "Support Chat Widget": "customer_support",
    "CDN": "cdn_cloud",
    "Embedded Content": "cdn_cloud",
    "Online Payment": UNKNOWN,
    "Ad Fraud": UNKNOWN,
    "Badge": UNKNOWN,
    "Consent Management Platform": UNKNOWN,
    "Malware": UNKNOWN,
    "Obscure Ownership": UNKNOWN,
    "Unknown High Risk Behavior": UNKNOWN,
}


def _bad(path: str | Path, why: str) -> InputError:
    return InputError(f"{path}: not DuckDuckGo tracker data ({why})")


def _owner_name(owner: object) -> str:
    if isinstance(owner, dict):
        for key in ("name", "displayName"):
            if isinstance(owner.get(key), str):
                return str(owner[key])
    return ""


def _categories(value: object) -> str:
    if not isinstance(value, list):
        return UNKNOWN
    return pick_category(CATEGORY_MAP.get(c, UNKNOWN) for c in value if isinstance(c, str))


def _tds(data: dict[str, object], path: str | Path) -> dict[str, tuple[str, str]]:
    entries: dict[str, tuple[str, str]] = {}
    trackers = data.get("trackers")
    if not isinstance(trackers, dict):
        raise _bad(path, '"trackers" is not an object')
    for host, info in trackers.items():
        if not isinstance(info, dict):
            raise _bad(path, f"tracker {host!r} is not an object")
        dom = clean_domain(host)
        if dom:
            entries[dom] = (_owner_name(info.get("owner")), _categories(info.get("categories")))
    domains = data.get("domains", {})
    if not isinstance(domains, dict):
        raise _bad(path, '"domains" is not an object')
    for host, owner in domains.items():
        dom = clean_domain(host)
        if dom and isinstance(owner, str):
            entries.setdefault(dom, (owner, UNKNOWN))
    entities = data.get("entities", {})
    if not isinstance(entities, dict):
        raise _bad(path, '"entities" is not an object')
    for owner, info in entities.items():
        listed = info.get("domains", []) if isinstance(info, dict) else []
        for host in listed if isinstance(listed, list) else []:
            dom = clean_domain(host)
            if dom:
                entries.setdefault(dom, (str(owner), UNKNOWN))
    return entries


def load_duckduckgo(path: str | Path, name: str = "duckduckgo") -> TrackerList:
    """Load a TDS or Tracker Radar file; :class:`InputError` (one line) if it is none of them."""
    data, raw = read_json(path, "DuckDuckGo tracker file")
    if not isinstance(data, dict):
        raise _bad(path, "top level is not an object")
    version = content_version(raw)
    if "trackers" in data:
        entries = _tds(data, path)
        if isinstance(data.get("version"), (int, str)) and not isinstance(data["version"], bool):
            version = str(data["version"])
    elif isinstance(data.get("properties"), list) and isinstance(data.get("name"), str):
        owner = str(data["name"])
        entries = {d: (owner, UNKNOWN) for d in map(clean_domain, data["properties"]) if d}
    elif isinstance(data.get("domain"), str) and "owner" in data:
        dom = clean_domain(data["domain"])
        entries = {dom: (_owner_name(data["owner"]), _categories(data.get("categories")))}
        entries.pop("", None)
    else:
        raise _bad(path, 'no "trackers", entity "properties" or "domain"')
    if not entries:
        raise _bad(path, "no domains")
    return TrackerList(
        name=name, version=version, source_path=str(path), entries=dict(sorted(entries.items()))
    )
