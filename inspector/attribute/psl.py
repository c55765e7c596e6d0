"""Registrable domain (eTLD+1) of a host name, from the Public Suffix List shipped offline.

Uses the list bundled in the ``publicsuffixlist`` package (no download at run time). Only the
ICANN section is used by default, so ``d1.cloudfront.net`` groups under ``cloudfront.net`` (its
operator) rather than under the private suffix a customer registered; pass ``private=True`` for
the full list (``d1.cloudfront.net`` is then its own registrable domain).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from importlib import metadata

from publicsuffixlist import PublicSuffixList

__all__ = ["is_ip_literal", "psl_version", "registrable_domain"]

_MAX_NAME = 253
_MAX_LABEL = 63
# Letters, digits, hyphen and underscore (seen in SRV/_dmarc names); non-ASCII letters are IDN.
_LABEL = re.compile(r"[\w-]+")


def is_ip_literal(name: str) -> bool:
    """True for an IPv4 or IPv6 address written as text (brackets and a zone id allowed)."""
    text = name.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith(".") and ":" not in text:
        text = text[:-1]
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _labels(name: str) -> list[str] | None:
    """Lower-cased labels of a syntactically valid host name, or None."""
    n = name.strip().lower()
    if n.endswith("."):
        n = n[:-1]
    if not n or len(n) > _MAX_NAME:
        return None
    labels = n.split(".")
    for label in labels:
        if not label or len(label) > _MAX_LABEL or not _LABEL.fullmatch(label):
            return None
    if labels[-1].isdigit():  # a numeric "TLD" is an address fragment, not a domain (RFC 3696 2)
        return None
    return labels


@functools.cache
def _psl(private: bool) -> PublicSuffixList:
    return PublicSuffixList(only_icann=not private)


@functools.lru_cache(maxsize=65536)
def registrable_domain(name: str, private: bool = False) -> str:
    """``www.example.co.uk`` -> ``example.co.uk``; "" for IP literals, invalid names and bare
    public suffixes (``co.uk``, ``localhost``). Lower-case, without a trailing dot."""
    if is_ip_literal(name):
        return ""
    labels = _labels(name)
    if labels is None:
        return ""
    result = _psl(private).privatesuffix(".".join(labels))
    return result or ""


def psl_version() -> str:
    """Version of the bundled list, e.g. ``publicsuffixlist 1.1.2.20261023`` (date = list date)."""
    try:
        return f"publicsuffixlist {metadata.version('publicsuffixlist')}"
    except metadata.PackageNotFoundError:
        return "publicsuffixlist (unknown version)"
