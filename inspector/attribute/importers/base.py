"""A tracker list loaded at run time from a file the user gives, and matching names against it.

Third-party tracker lists (Disconnect, DuckDuckGo, Exodus, X-Ray, hosts files) may not be bundled
(their licences forbid it), so each importer reads a user-supplied file and returns a
:class:`TrackerList`. Its ``version`` comes from the file (DuckDuckGo's ``version`` field) or, when
the file has none, from a hash of its content (``sha256:<16 hex>``; no mtime involved), so a
report can say exactly which list produced a hit.

Matching (:func:`match`): per list, an ``exact`` entry for the whole name, else the most specific
suffix entry (the name itself or a parent at a label boundary), else the first regex signature
that matches (regexes only run on names of at most 253 characters). One hit per list at most.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from inspector.attribute.database import UNKNOWN
from inspector.errors import InputError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NAME",
    "PRIORITY",
    "ListHit",
    "RegexSignature",
    "TrackerList",
    "clean_domain",
    "content_version",
    "match",
    "pick_category",
    "read_bytes",
    "read_json",
]

#: Files larger than this are refused (the real lists are well below 10 MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Longest DNS name (RFC 1035 2.3.4); longer names are never matched against regexes.
MAX_NAME = 253
#: When a list gives several categories for one domain, the first of these wins.
PRIORITY: tuple[str, ...] = (
    "social_sdk",
    "attribution",
    "advertising",
    "analytics",
    "crash_reporting",
    "customer_support",
    "feature_flags",
    "cdn_cloud",
    "os_services",
    UNKNOWN,
)
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")


def _frozen(d: Mapping[str, tuple[str, str]] | None = None) -> Mapping[str, tuple[str, str]]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True, slots=True)
class RegexSignature:
    """A signature kept as a regex (it was not a plain domain); matched with ``search``."""

    pattern: str
    regex: re.Pattern[str]
    organisation: str
    category: str


@dataclass(frozen=True, slots=True)
class TrackerList:
    """One loaded list. ``entries`` match a domain and its subdomains, ``exact`` only the name."""

    name: str
    version: str
    source_path: str
    entries: Mapping[str, tuple[str, str]]  # domain -> (organisation, category)
    exact: Mapping[str, tuple[str, str]] = field(default_factory=_frozen)
    regexes: tuple[RegexSignature, ...] = ()
    rejected: tuple[str, ...] = ()  # "pattern: reason" for signatures refused by the guards

    def __post_init__(self) -> None:
        # Freeze the mappings whatever the caller passed, so a loaded list cannot change.
        object.__setattr__(self, "entries", _frozen(self.entries))
        object.__setattr__(self, "exact", _frozen(self.exact))

    def __len__(self) -> int:
        return len(self.entries) + len(self.exact) + len(self.regexes)


@dataclass(frozen=True, slots=True)
class ListHit:
    """A name found on a list, with the provenance to cite it."""

    list_name: str
    version: str
    pattern: str  # the entry or regex that matched
    organisation: str
    category: str
    match: str  # "exact", "suffix" or "regex"


def clean_domain(value: object) -> str:
    """Normalise a list entry (``*.``/``.`` prefix, case, trailing dot); "" when not a domain
    with at least two labels."""
    if not isinstance(value, str):
        return ""
    d = value.strip().lower()
    if d.startswith("*."):
        d = d[2:]
    d = d.lstrip(".").rstrip(".")
    if not d or len(d) > MAX_NAME or not _DOMAIN.fullmatch(d):
        return ""
    return d


def pick_category(categories: Iterable[str]) -> str:
    """The highest-priority category of several (see :data:`PRIORITY`)."""
    found = set(categories)
    for cat in PRIORITY:
        if cat in found:
            return cat
    return UNKNOWN


def content_version(*blobs: bytes) -> str:
    """A version for files that carry none: ``sha256:`` + 16 hex digits of their content."""
    h = hashlib.sha256()
    for blob in blobs:
        h.update(hashlib.sha256(blob).digest())
    return "sha256:" + h.hexdigest()[:16]


def read_bytes(path: str | Path, what: str) -> bytes:
    """The file's bytes, or :class:`InputError` (one line) when missing, unreadable or huge."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{p}: {what} is too large ({size} bytes)")
        with p.open("rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise InputError(f"{p}: cannot read {what} ({err.strerror or err})") from None


def read_json(path: str | Path, what: str) -> tuple[Any, bytes]:
    """Parsed JSON and the raw bytes, or :class:`InputError` (one line)."""
    raw = read_bytes(path, what)
    try:
        return json.loads(raw.decode("utf-8-sig")), raw
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{path}: {what} is not valid JSON ({detail})") from None


def _normalise_name(name: str) -> str:
    n = name.strip().lower()
    if n.endswith("."):
        n = n[:-1]
    return n


def _lookup(lst: TrackerList, name: str) -> ListHit | None:
    hit = lst.exact.get(name)
    if hit is not None:
        return ListHit(lst.name, lst.version, name, hit[0], hit[1], "exact")
    pos = 0
    while True:
        suffix = name[pos:]
        hit = lst.entries.get(suffix)
        if hit is not None:
            return ListHit(lst.name, lst.version, suffix, hit[0], hit[1], "suffix")
        dot = name.find(".", pos)
        if dot < 0:
            break
        pos = dot + 1
    if len(name) <= MAX_NAME:
        for sig in lst.regexes:
            if sig.regex.search(name):
                org, cat = sig.organisation, sig.category
                return ListHit(lst.name, lst.version, sig.pattern, org, cat, "regex")
    return None


def match(lists: Iterable[TrackerList], name: str) -> list[ListHit]:
    """Hits for ``name`` (case-insensitive, trailing dot ignored), in the order of ``lists``."""
    n = _normalise_name(name)
    if not n or ".." in n:
        return []
    hits = []
    for lst in lists:
        hit = _lookup(lst, n)
        if hit is not None:
            hits.append(hit)
    return hits
