"""Hosts-file blocklists and plain domain lists.

Accepted lines (``#`` starts a comment anywhere, ``!`` a comment line as in Adblock lists):

* hosts format ``0.0.0.0 ads.example.com [more names]`` (any IPv4/IPv6 address first): each
  name is an **exact** entry, as a hosts file only redirects that very name;
* one domain per line (``example.com``, ``*.example.com``, ``.example.com``): a **suffix** entry
  (the domain and its subdomains), as domain lists are used;
* Adblock-style ``||example.com^``: a suffix entry.

Other lines (URLs, cosmetic filters, garbage) are skipped; loopback names such as ``localhost``
are ignored. A file with no usable entry raises :class:`InputError`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from inspector.attribute.database import UNKNOWN
from inspector.attribute.importers.base import (
    TrackerList,
    clean_domain,
    content_version,
    read_bytes,
)
from inspector.errors import InputError

__all__ = ["IGNORED_NAMES", "load_hosts"]

IGNORED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
        "0.0.0.0",
    }
)


def _is_address(token: str) -> bool:
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return False
    return True


def _usable(token: str) -> str:
    dom = clean_domain(token)
    if not dom or dom in IGNORED_NAMES or _is_address(dom):
        return ""
    return dom


def load_hosts(
    path: str | Path,
    name: str | None = None,
    organisation: str = "",
    category: str = UNKNOWN,
) -> TrackerList:
    """Load a hosts file or domain list; every entry gets ``organisation`` and ``category``."""
    raw = read_bytes(path, "hosts/domain list")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: hosts/domain list is not UTF-8 text ({err.reason})") from None
    if "\x00" in text:
        raise InputError(f"{path}: hosts/domain list is binary, not text")
    entries: dict[str, tuple[str, str]] = {}
    exact: dict[str, tuple[str, str]] = {}
    value = (organisation, category)
    for line in text.splitlines():
        body = line.split("#", 1)[0].strip()
        if not body or body.startswith("!"):
            continue
        tokens = body.split()
        if len(tokens) >= 2 and _is_address(tokens[0]):
            for token in tokens[1:]:
                dom = _usable(token)
                if dom:
                    exact[dom] = value
        elif len(tokens) == 1:
            token = tokens[0]
            if token.startswith("||") and token.endswith("^"):
                token = token[2:-1]
            dom = _usable(token)
            if dom:
                entries[dom] = value
    if not entries and not exact:
        raise InputError(f"{path}: no domains found in hosts/domain list")
    return TrackerList(
        name=name or Path(path).stem,
        version=content_version(raw),
        source_path=str(path),
        entries=dict(sorted(entries.items())),
        exact=dict(sorted(exact.items())),
    )
