"""Disconnect tracking-protection lists (``services.json`` and optional ``entities.json``).

``services.json``: ``{"categories": {Category: [{Organisation: {homepage: [domains], flags}}]}}``.
``entities.json``: ``{"entities": {Organisation: {"properties": [...], "resources": [...]}}}``.
Both are CC BY-NC-SA 4.0: load the user's copy at run time, never bundle it.

Disconnect blocks a listed domain and its subdomains, so every entry is a suffix entry.
A domain listed under several categories gets the highest-priority mapped category
(:data:`inspector.attribute.importers.base.PRIORITY`). Domains that only ``entities.json`` knows
(the entity's own sites and resources) are added with category ``unknown``: ownership only.
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

__all__ = ["CATEGORY_MAP", "load_disconnect"]

#: Disconnect category -> vocabulary. Fingerprinting and email-tracking lists are tracking for
#: measurement, so analytics; "Content" is embedded third-party content, served like a CDN.
CATEGORY_MAP = {
    "Advertising": "advertising",
    "Analytics": "analytics",
    "Social": "social_sdk",
    "Disconnect": "social_sdk",  # legacy category of Facebook/Google/Twitter social widgets
    "FingerprintingGeneral": "analytics",
    "FingerprintingInvasive": "analytics",
    "Email": "analytics",
    "EmailAggressive": "analytics",
    "Content": "cdn_cloud",
    "Cryptomining": UNKNOWN,
    "Anti-fraud": UNKNOWN,
    "ConsentManagers": UNKNOWN,
}


def _bad(path: str | Path, why: str) -> InputError:
    return InputError(f"{path}: not a Disconnect list ({why})")


def _services(data: object, path: str | Path) -> dict[str, tuple[str, set[str]]]:
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise _bad(path, 'no "categories" object')
    found: dict[str, tuple[str, set[str]]] = {}
    for category, orgs in data["categories"].items():
        if not isinstance(orgs, list):
            raise _bad(path, f"category {category!r} is not a list")
        mapped = CATEGORY_MAP.get(str(category), UNKNOWN)
        for item in orgs:
            if not isinstance(item, dict):
                raise _bad(path, f"entry of {category!r} is not an object")
            for org, sites in item.items():
                if not isinstance(sites, dict):
                    raise _bad(path, f"organisation {org!r} is not an object")
                for domains in sites.values():
                    if not isinstance(domains, list):
                        continue  # flags such as "performance": "true"
                    for d in domains:
                        dom = clean_domain(d)
                        if dom:
                            prev = found.get(dom)
                            cats = prev[1] if prev else set()
                            cats.add(mapped)
                            found[dom] = (prev[0] if prev else str(org), cats)
    return found


def _entities(data: object, path: str | Path) -> dict[str, str]:
    if not isinstance(data, dict) or not isinstance(data.get("entities"), dict):
        raise _bad(path, 'no "entities" object')
    owners: dict[str, str] = {}
    for org, info in data["entities"].items():
        if not isinstance(info, dict):
            raise _bad(path, f"entity {org!r} is not an object")
        for key in ("properties", "resources"):
            domains = info.get(key, [])
            if not isinstance(domains, list):
                raise _bad(path, f"{key} of {org!r} is not a list")
            for d in domains:
                dom = clean_domain(d)
                if dom:
                    owners.setdefault(dom, str(org))
    return owners


def load_disconnect(
    services_path: str | Path,
    entities_path: str | Path | None = None,
    name: str = "disconnect",
) -> TrackerList:
    """Load ``services.json`` (and ``entities.json`` for owners); :class:`InputError` if invalid."""
    services, raw = read_json(services_path, "Disconnect services.json")
    found = _services(services, services_path)
    blobs = [raw]
    owners: dict[str, str] = {}
    if entities_path is not None:
        entities, raw_e = read_json(entities_path, "Disconnect entities.json")
        owners = _entities(entities, entities_path)
        blobs.append(raw_e)
    if not found:
        raise _bad(services_path, "no domains")
    entries = {d: (owners.get(d, org), pick_category(cats)) for d, (org, cats) in found.items()}
    for dom, org in owners.items():
        entries.setdefault(dom, (org, UNKNOWN))
    return TrackerList(
        name=name,
        version=content_version(*blobs),
        source_path=str(services_path),
        entries=dict(sorted(entries.items())),
    )
