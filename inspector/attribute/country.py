"""Registry country of an IP address: the RIR registration country, NOT a geolocation.

The value is the ISO 3166-1 alpha-2 code that a Regional Internet Registry (ARIN, RIPE NCC,
APNIC, LACNIC, AFRINIC) recorded for the organisation holding the address block, taken offline
from the data embedded in the ``iptocc`` package. It says where the holder registered the block,
not where the server is: an anycast or cloud address registered in the US may answer from Europe.
"""

from __future__ import annotations

import functools
import ipaddress
from importlib import metadata

import iptocc

from inspector.attribute.local import parse_addr

__all__ = ["REGISTRY_COUNTRY_DOC", "registry_country", "registry_version"]

#: Column documentation to reuse wherever this value is written to a table.
REGISTRY_COUNTRY_DOC = (
    "ISO 3166-1 alpha-2 country in which a Regional Internet Registry registered the address "
    "block (RIR registration country from the offline iptocc data), NOT a geolocation of the "
    'server; "" for private, reserved or unregistered addresses.'
)


@functools.lru_cache(maxsize=1 << 16)
def registry_country(addr: str) -> str:
    """RIR registration country of ``addr`` (e.g. ``"US"``), "" when private, reserved,
    unregistered or not an address. IPv4-mapped IPv6 is looked up as IPv4."""
    ip = parse_addr(addr)
    if ip is None:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        return ""
    code = iptocc.country_code(str(ip))
    if not isinstance(code, str) or len(code) != 2:
        return ""
    return code.upper()


def registry_version() -> str:
    """Version of the registry data, e.g. ``iptocc 3.3.170`` (refreshed with each release)."""
    try:
        return f"iptocc {metadata.version('iptocc')}"
    except metadata.PackageNotFoundError:
        return "iptocc (unknown version)"
