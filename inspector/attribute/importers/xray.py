"""TrackerControl's X-Ray domain-owner list (``xray-blacklist.json``).

Shape: a JSON array of ``{"owner_name", "parent", "root_parent", "country", "doms": [domains],
"necessary"?}``. It says who owns a domain (with the corporate parent), not what the domain does,
so every entry has category ``unknown``; the organisation reads ``"Firebase (Alphabet)"`` when a
root parent differs from the owner. Licence unclear (GPLv3 repository): load the user's copy at
run time, never bundle it. Entries are suffix entries (registrable domains).
"""

from __future__ import annotations

from pathlib import Path

from inspector.attribute.database import UNKNOWN
from inspector.attribute.importers.base import TrackerList, clean_domain, content_version, read_json
from inspector.errors import InputError

__all__ = ["load_xray"]


def _organisation(item: dict[str, object]) -> str:
    owner = item.get("owner_name")
    owner_s = owner if isinstance(owner, str) else ""
    root = item.get("root_parent") or item.get("parent")
    if isinstance(root, str) and root and root != owner_s:
        return f"{owner_s} ({root})" if owner_s else root
    return owner_s


def load_xray(path: str | Path, name: str = "xray") -> TrackerList:
    """Load ``xray-blacklist.json``; :class:`InputError` (one line) if it is not one."""
    data, raw = read_json(path, "X-Ray blacklist")
    if not isinstance(data, list):
        raise InputError(f"{path}: not an X-Ray blacklist (top level is not an array)")
    entries: dict[str, tuple[str, str]] = {}
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("doms"), list):
            raise InputError(f'{path}: not an X-Ray blacklist (an entry has no "doms" list)')
        org = _organisation(item)
        for d in item["doms"]:
            dom = clean_domain(d)
            if dom:
                entries.setdefault(dom, (org, UNKNOWN))
    if not entries:
        raise InputError(f"{path}: not an X-Ray blacklist (no domains)")
    return TrackerList(
        name=name,
        version=content_version(raw),
        source_path=str(path),
        entries=dict(sorted(entries.items())),
    )
