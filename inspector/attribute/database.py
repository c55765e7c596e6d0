"""The bundled attribution database: who operates a host name or an address, and what it is for.

The data lives in ``inspector/data/`` (``domains.csv``, ``ip_ranges.csv``, ``ports.csv`` and
``database.json``), built by ``scripts/build_database.py`` from the sourced reference CSVs; every
row keeps its ``source``. Loading is offline (``importlib.resources``) and the result is immutable.

* :meth:`Database.lookup_domain`: the most specific pattern wins (most labels); at equal length an
  ``exact`` pattern beats a ``suffix`` one. A ``suffix`` pattern ``zoom.us`` matches ``zoom.us``
  itself and every name below it at a label boundary (``us04web.zoom.us``), never ``notzoom.us``.
  Case-insensitive; one trailing dot is ignored.
  Two more pattern forms come from nDPI's host list (``ndpi_hosts.csv``): ``stem`` (nDPI's
  ``google.``: the labels ``google`` followed by at most two more labels, a TLD or ccSLD.TLD, as
  in ``www.google.de``) and ``label_prefix`` (nDPI's ``fbcdn-``: a label that starts with it).
  The project's own rows (``domains.csv``) are consulted first; nDPI's rows only when the
  project has no row, or when the project's row is a hosting provider's customer namespace
  (``amazonaws.com``) and nDPI names the owner of the more specific name.
* :meth:`Database.lookup_ip`: longest prefix wins, IPv4 and IPv6 (IPv4-mapped IPv6 addresses are
  looked up as IPv4). Ranges are flattened once into sorted, disjoint integer intervals, so a
  lookup is one :func:`bisect.bisect_right`. The routes of hosting providers' and vendors' own
  ASes from the IPFire location database (``location_ranges.csv``, CC BY-SA 4.0, built by
  ``scripts/build_location.py``) are a fallback: consulted only for an address that neither the
  project's nor nDPI's ranges cover.
"""

from __future__ import annotations

import csv
import functools
import io
import ipaddress
import json
import re
import socket
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType

from inspector.attribute.local import parse_addr
from inspector.errors import InputError

__all__ = [
    "CATEGORIES",
    "FIRST_PARTY_CATEGORIES",
    "SERVICE_CATEGORIES",
    "THIRD_PARTY_CATEGORIES",
    "UNKNOWN",
    "Database",
    "DomainMatch",
    "PortFact",
    "RangeMatch",
    "bundled_database",
    "load_database",
    "normalise_name",
]

#: The conferencing vendor's own infrastructure (the vendor is in the ``vendor`` column).
FIRST_PARTY_CATEGORIES: tuple[str, ...] = (
    "first-party signalling",
    "first-party media",
    "first-party telemetry",
    "first-party web",
)
#: Someone other than the conferencing vendor (``vendor`` is empty).
THIRD_PARTY_CATEGORIES: tuple[str, ...] = (
    "analytics",
    "advertising",
    "crash_reporting",
    "attribution",
    "social_sdk",
    "customer_support",
    "feature_flags",
    "cdn_cloud",
    "os_services",
)
#: A named organisation's own online service (a web site, an app's backend, its content CDN or
#: push channel): known owner, but neither the conferencing vendor's row nor an SDK/tracker.
#: ``www.facebook.com`` is ``online_service``; ``graph.facebook.com`` is ``social_sdk``.
SERVICE_CATEGORIES: tuple[str, ...] = ("online_service",)
UNKNOWN = "unknown"
#: The closed category vocabulary of every row.
CATEGORIES: tuple[str, ...] = (
    *FIRST_PARTY_CATEGORIES,
    *THIRD_PARTY_CATEGORIES,
    *SERVICE_CATEGORIES,
    UNKNOWN,
)

_DOMAINS = "domains.csv"
_RANGES = "ip_ranges.csv"
_PORTS = "ports.csv"
_META = "database.json"
_NDPI_HOSTS = "ndpi_hosts.csv"
_NDPI_RANGES = "ndpi_ranges.csv"
_LOCATION_RANGES = "location_ranges.csv"
MATCH_KINDS = ("exact", "suffix", "stem", "label_prefix")
_MAX_NAME = 253


@dataclass(frozen=True, slots=True)
class DomainMatch:
    """One ``domains.csv`` row: the pattern that matched and what is known about it."""

    pattern: str
    match: str  # "exact" or "suffix"
    organisation: str
    category: str
    vendor: str
    sdk_name: str
    source: str
    role: str = ""
    source_category: str = ""
    #: True when the pattern is a hosting provider's customer namespace (``*.cloudfront.net``,
    #: ``*.amazonaws.com``): the organisation hosts the name, it does not own what is served.
    hosting: bool = False
    #: Date of the row's source (upstream snapshot or reference-file date), ``YYYY-MM-DD``.
    date: str = ""

    @property
    def is_first_party(self) -> bool:
        """True when the row is a conferencing vendor's own infrastructure."""
        return self.category in FIRST_PARTY_CATEGORIES

    @property
    def is_third_party(self) -> bool:
        """True when the row names a third party (tracker, SDK, CDN/cloud, OS service)."""
        return self.category in THIRD_PARTY_CATEGORIES


@dataclass(frozen=True, slots=True)
class RangeMatch:
    """One ``ip_ranges.csv`` row: the network (CIDR) that matched and what is known about it."""

    network: str
    organisation: str
    vendor: str
    role: str
    source: str
    category: str
    protocol_ports: str = ""
    notes: str = ""
    #: True for a hosting provider's customer range (AWS, Azure, Google Cloud, Cloudflare...):
    #: an address there is "hosted on" the organisation, which is not the service's owner.
    hosting: bool = False
    date: str = ""

    @property
    def pattern(self) -> str:
        """The matched pattern (the CIDR), named like :attr:`DomainMatch.pattern`."""
        return self.network

    @property
    def is_first_party(self) -> bool:
        return self.category in FIRST_PARTY_CATEGORIES

    @property
    def is_third_party(self) -> bool:
        return self.category in THIRD_PARTY_CATEGORIES


@dataclass(frozen=True, slots=True)
class PortFact:
    """One ``ports.csv`` row: a documented port range of a vendor (weak evidence on its own)."""

    vendor: str
    organisation: str
    transport: str  # "tcp" or "udp"
    port_low: int
    port_high: int
    category: str
    shared: bool  # 80/443/3478/5349: used by everyone, says nothing alone
    role: str
    detail: str
    source: str


@dataclass(frozen=True, slots=True)
class _RangeTable:
    """Disjoint intervals ``[starts[i], starts[i+1])`` each owned by ``owners[i]`` (or None)."""

    starts: tuple[int, ...]
    owners: tuple[RangeMatch | None, ...]

    @classmethod
    def build(cls, nets: Iterable[tuple[int, int, RangeMatch]]) -> _RangeTable:
        """Flatten CIDR ranges ``(first, last, match)``; the most specific range owns each point.

        CIDR blocks are either nested or disjoint, so a sweep with a stack of open blocks works:
        sort by start, wider first; an identical block listed twice keeps its first occurrence.
        """
        ordered = sorted(nets, key=lambda n: (n[0], -(n[1] - n[0])))
        starts: list[int] = []
        owners: list[RangeMatch | None] = []

        def emit(pos: int, owner: RangeMatch | None) -> None:
            # A later boundary at the same position replaces the earlier one; an interval with
            # the same owner as its predecessor is merged into it.
            if starts and starts[-1] == pos:
                starts.pop()
                owners.pop()
            if owners and owners[-1] is owner:
                return
            starts.append(pos)
            owners.append(owner)

        stack: list[tuple[int, int, RangeMatch]] = []

        def close_until(limit: int) -> None:
            while stack and stack[-1][1] < limit:
                end = stack.pop()[1]
                emit(end + 1, stack[-1][2] if stack else None)

        for first, last, match in ordered:
            close_until(first)
            if stack and stack[-1][0] == first and stack[-1][1] == last:
                continue
            stack.append((first, last, match))
            emit(first, match)
        close_until(1 << 129)
        return cls(tuple(starts), tuple(owners))

    def find(self, value: int) -> RangeMatch | None:
        i = bisect_right(self.starts, value) - 1
        return self.owners[i] if i >= 0 else None


def _cidr(text: str) -> tuple[int, int, int]:
    """``(version, first, last)`` of a CIDR network (host bits ignored); ValueError if invalid.

    ``socket.inet_pton`` instead of :mod:`ipaddress`: loading thousands of ranges stays fast.
    """
    addr, _, plen = text.strip().partition("/")
    version, bits = (6, 128) if ":" in addr else (4, 32)
    try:
        packed = socket.inet_pton(socket.AF_INET6 if version == 6 else socket.AF_INET, addr)
    except OSError:
        raise ValueError(f"invalid network {text!r}") from None
    prefix = int(plen) if plen else bits
    if not 0 <= prefix <= bits:
        raise ValueError(f"invalid prefix length in {text!r}")
    host = (1 << (bits - prefix)) - 1
    first = int.from_bytes(packed, "big") & ~host
    return version, first, first | host


_MAPPED = 0xFFFF << 32


def _addr(text: str) -> tuple[int, int] | None:
    """``(version, integer)`` of an address (IPv4-mapped IPv6 -> IPv4), or None."""
    try:
        if ":" not in text:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
        value = int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except (OSError, ValueError):
        ip = parse_addr(text)  # brackets, zone ids: the general parser
        if ip is None:
            return None
        if isinstance(ip, ipaddress.IPv6Address):
            value = int(ip)
        else:
            return 4, int(ip)
    if value >> 32 == 0xFFFF:
        return 4, value & 0xFFFFFFFF
    return 6, value


def normalise_name(name: str) -> str:
    """Lower-case, strip blanks and one trailing dot; "" when not a plausible DNS name."""
    n = name.strip().lower()
    if n.endswith("."):
        n = n[:-1]
    if not n or len(n) > _MAX_NAME or ".." in n or n.startswith("."):
        return ""
    return n


@dataclass(frozen=True, slots=True)
class _NameTable:
    """One tier of host-name patterns, indexed by match kind."""

    exact: Mapping[str, DomainMatch]
    suffix: Mapping[str, DomainMatch]
    stem: Mapping[str, DomainMatch]
    label_prefix: tuple[tuple[str, DomainMatch], ...]
    _prefix_re: re.Pattern[str] | None = None
    #: first labels of the stems: a name with none of them at a label start has no stem match
    _stem_heads: frozenset[str] = frozenset()

    @classmethod
    def build(cls, rows: Iterable[DomainMatch]) -> _NameTable:
        """Index rows; the first row of a duplicate (pattern, match) pair wins."""
        tables: dict[str, dict[str, DomainMatch]] = {k: {} for k in MATCH_KINDS}
        for row in rows:
            if row.match not in MATCH_KINDS:
                raise ValueError(f"match must be one of {MATCH_KINDS}, not {row.match!r}")
            key = row.pattern.strip().lower() if row.match == "label_prefix" else ""
            key = key or normalise_name(row.pattern)
            if not key:
                raise ValueError(f"invalid domain pattern {row.pattern!r}")
            tables[row.match].setdefault(key, row)
        prefixes = sorted(tables["label_prefix"].items(), key=lambda kv: -len(kv[0]))
        alternatives = "|".join(re.escape(p) for p, _ in prefixes)
        return cls(
            MappingProxyType(tables["exact"]),
            MappingProxyType(tables["suffix"]),
            MappingProxyType(tables["stem"]),
            tuple(prefixes),
            re.compile(rf"(?:^|\.)({alternatives})") if prefixes else None,
            frozenset(k.split(".")[0] for k in tables["stem"]),
        )

    def __len__(self) -> int:
        return len(self.exact) + len(self.suffix) + len(self.stem) + len(self.label_prefix)

    def find(self, n: str) -> DomainMatch | None:
        """The most specific row for the normalised name ``n``: exact, suffix, stem, prefix."""
        hit = self.exact.get(n)
        if hit is not None:
            return hit
        starts = [0]
        dot = n.find(".")
        while dot >= 0:
            starts.append(dot + 1)
            dot = n.find(".", dot + 1)
        hosted = None  # a hosting namespace row: a stem or prefix row may name the owner
        for pos in starts:
            hit = self.suffix.get(n[pos:])
            if hit is not None:
                if not hit.hosting:
                    return hit
                hosted = hit
                break
        owner = self._pattern_match(n, starts)
        return owner if owner is not None else hosted

    def _pattern_match(self, n: str, starts: list[int]) -> DomainMatch | None:
        heads = self._stem_heads
        labels = n.split(".")
        if len(starts) > 1 and not heads.isdisjoint(labels):
            # the stem plus one or two labels after it (a TLD, or a ccSLD and its TLD)
            for end in starts[-2:] if len(starts) > 2 else starts[-1:]:
                for i, pos in enumerate(starts):
                    if pos >= end - 1:
                        break
                    if labels[i] in heads:
                        hit = self.stem.get(n[pos : end - 1])
                        if hit is not None:
                            return hit
        if self._prefix_re is not None:
            m = self._prefix_re.search(n)
            if m is not None:
                return dict(self.label_prefix)[m.group(1)]
        return None


_EMPTY_NAMES = _NameTable.build(())
_EMPTY_RANGES = _RangeTable((), ())


def _split(
    ranges: Iterable[RangeMatch],
) -> tuple[list[tuple[int, int, RangeMatch]], list[tuple[int, int, RangeMatch]]]:
    """``(v4, v6)`` lists of ``(first, last, row)`` for :meth:`_RangeTable.build`."""
    v4: list[tuple[int, int, RangeMatch]] = []
    v6: list[tuple[int, int, RangeMatch]] = []
    for rng in ranges:
        ip_version, lo, hi = _cidr(rng.network)
        (v4 if ip_version == 4 else v6).append((lo, hi, rng))
    return v4, v6


_CACHE_MAX = 1 << 16


@dataclass(frozen=True, slots=True)
class Database:
    """The loaded attribution database (immutable; build with :meth:`from_rows`)."""

    version: str
    built: str
    exact: Mapping[str, DomainMatch]
    suffix: Mapping[str, DomainMatch]
    ports: tuple[PortFact, ...]
    _v4: _RangeTable
    _v6: _RangeTable
    range_count: int
    _names: _NameTable = _EMPTY_NAMES
    _fallback: _NameTable = _EMPTY_NAMES
    _fallback_v4: _RangeTable = _EMPTY_RANGES
    _fallback_v6: _RangeTable = _EMPTY_RANGES
    fallback_range_count: int = 0
    #: memo of lookup_domain (names repeat across flows); cleared when it reaches _CACHE_MAX
    _name_memo: dict[str, DomainMatch | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_rows(
        cls,
        version: str,
        built: str,
        domains: Iterable[DomainMatch],
        ranges: Iterable[RangeMatch],
        ports: Iterable[PortFact] = (),
        fallback_domains: Iterable[DomainMatch] = (),
        fallback_ranges: Iterable[RangeMatch] = (),
    ) -> Database:
        """Index rows; the first row of a duplicate (pattern, match) pair wins.

        ``fallback_domains`` (nDPI's host list) are consulted only when ``domains`` has no row
        for a name, or only a hosting row (see the module docstring). Among ``ranges`` the
        longest prefix wins, and the first of two identical networks; ``fallback_ranges`` (AS
        routes) only for an address no range of ``ranges`` covers.
        """
        names = _NameTable.build(domains)
        v4, v6 = _split(ranges)
        fb4, fb6 = _split(fallback_ranges)
        return cls(
            version=version,
            built=built,
            exact=names.exact,
            suffix=names.suffix,
            ports=tuple(ports),
            _v4=_RangeTable.build(v4),
            _v6=_RangeTable.build(v6),
            range_count=len(v4) + len(v6),
            _names=names,
            _fallback=_NameTable.build(fallback_domains),
            _fallback_v4=_RangeTable.build(fb4),
            _fallback_v6=_RangeTable.build(fb6),
            fallback_range_count=len(fb4) + len(fb6),
        )

    @property
    def domain_count(self) -> int:
        """Number of host-name patterns (project rows and nDPI rows)."""
        return len(self._names) + len(self._fallback)

    def lookup_domain(self, name: str) -> DomainMatch | None:
        """The most specific row matching ``name``, or None (also for invalid names)."""
        memo = self._name_memo
        if name in memo:
            return memo[name]
        if len(memo) >= _CACHE_MAX:
            memo.clear()
        memo[name] = found = self._lookup_domain(name)
        return found

    def _lookup_domain(self, name: str) -> DomainMatch | None:
        n = normalise_name(name)
        if not n:
            return None
        hit = self._names.find(n)
        if hit is not None and not hit.hosting:
            return hit
        other = self._fallback.find(n)
        if other is None or (hit is not None and other.hosting):
            return hit
        if hit is not None and len(other.pattern) <= len(hit.pattern):
            return hit  # nDPI's row is not more specific than the project's hosting row
        return other

    def lookup_ip(self, addr: str) -> RangeMatch | None:
        """The longest-prefix range containing ``addr``, or None (also for invalid strings).

        The fallback ranges (AS routes) answer only when no other range covers ``addr``.
        """
        parsed = _addr(addr)
        if parsed is None:
            return None
        v4 = parsed[0] == 4
        hit = (self._v4 if v4 else self._v6).find(parsed[1])
        if hit is None:
            hit = (self._fallback_v4 if v4 else self._fallback_v6).find(parsed[1])
        return hit

    def lookup_port(self, transport: str, port: int) -> tuple[PortFact, ...]:
        """Every documented port fact covering ``transport``/``port`` (weak evidence)."""
        t = transport.lower()
        return tuple(
            p for p in self.ports if p.transport == t and p.port_low <= port <= p.port_high
        )


def _rows(text: str) -> list[dict[str, str]]:
    """CSV rows; leading ``#`` lines (the licence notice of the nDPI files) are skipped."""
    while text.startswith("#"):
        end = text.find("\n")
        text = text[end + 1 :] if end >= 0 else ""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    return [dict(zip(header, r, strict=False)) for r in reader if r]


def _domain(r: dict[str, str]) -> DomainMatch:
    return DomainMatch(
        pattern=r["pattern"],
        match=r["match"],
        organisation=r["organisation"],
        category=r["category"],
        vendor=r.get("vendor") or "",
        sdk_name=r.get("sdk_name") or "",
        source=r["source"],
        role=r.get("role") or "",
        source_category=r.get("source_category") or "",
        hosting=r.get("hosting") == "true",
        date=r.get("date") or "",
    )


def _range(r: dict[str, str]) -> RangeMatch:
    return RangeMatch(
        network=r["network"],
        organisation=r["organisation"],
        vendor=r.get("vendor") or "",
        role=r.get("role") or "",
        source=r["source"],
        category=r["category"],
        protocol_ports=r.get("protocol_ports") or "",
        notes=r.get("notes") or "",
        hosting=r.get("hosting") == "true",
        date=r.get("date") or "",
    )


def _port(r: dict[str, str]) -> PortFact:
    return PortFact(
        vendor=r["vendor"],
        organisation=r["organisation"],
        transport=r["transport"],
        port_low=int(r["port_low"]),
        port_high=int(r["port_high"]),
        category=r["category"],
        shared=r["shared"] == "true",
        role=r["role"],
        detail=r["detail"],
        source=r["source"],
    )


def _parse(texts: Mapping[str, str | None], where: str) -> Database:
    """Build a :class:`Database` from the file texts; InputError with one line on bad content."""
    try:
        meta = json.loads(texts[_META] or "{}")
        domains = [_domain(r) for r in _rows(texts[_DOMAINS] or "")]
        fallback = [_domain(r) for r in _rows(texts.get(_NDPI_HOSTS) or "")]
        ranges = [_range(r) for r in _rows(texts[_RANGES] or "")]
        ranges += [_range(r) for r in _rows(texts.get(_NDPI_RANGES) or "")]
        ports = [_port(r) for r in _rows(texts[_PORTS] or "")]
        as_routes = [_range(r) for r in _rows(texts.get(_LOCATION_RANGES) or "")]
        categories = [d.category for d in (*domains, *fallback)]
        categories += [r.category for r in (*ranges, *as_routes)]
        for category in categories:
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}")
        return Database.from_rows(
            str(meta.get("version", "")),
            str(meta.get("built", "")),
            domains,
            ranges,
            ports,
            fallback,
            as_routes,
        )
    except (KeyError, ValueError, TypeError, AttributeError, csv.Error) as err:
        raise InputError(f"{where}: invalid attribution database ({err})") from None


def load_database(directory: str | Path | None = None) -> Database:
    """Load the database from ``directory`` (the bundled one when None); never uses the network.

    Missing ``ports.csv``, ``ndpi_hosts.csv``, ``ndpi_ranges.csv`` and ``location_ranges.csv``
    are treated as empty.
    Raises :class:`InputError` on unreadable files.
    """
    texts: dict[str, str | None] = {}
    base: Traversable | Path
    if directory is None:
        base = resources.files("inspector").joinpath("data")
        where = "bundled inspector/data"
    else:
        base = Path(directory)
        where = str(directory)
    for fname in (_DOMAINS, _RANGES, _PORTS, _META, _NDPI_HOSTS, _NDPI_RANGES, _LOCATION_RANGES):
        item = base.joinpath(fname)
        try:
            texts[fname] = item.read_text(encoding="utf-8")
        except FileNotFoundError:
            if fname in (_DOMAINS, _RANGES):
                raise InputError(f"{where}: {fname} is missing") from None
            texts[fname] = None
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"{where}/{fname}: cannot read ({err})") from None
    return _parse(texts, where)


@functools.cache
def bundled_database() -> Database:
    """The bundled database, loaded once per process."""
    return load_database(None)
